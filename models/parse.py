"""Deterministic free-text entry parsing: "2 kg potatoes", "полкило гречки" -> name, qty, unit.

The grammar and the vocabulary (models/data/units.json) are mirrored by client/src/lib/parse.js;
both pass tests/vectors/parse.json. See docs/parsing.md for the grammar and the unit table.
Python additionally puts a Russian name that follows its quantity back in the nominative case
("полкило гречки" -> "гречка"), keeping the grammatical number ("пара лимонов" -> "лимоны").
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from models.text import fold, is_cyrillic, is_proper_name, morph

DATA = Path(__file__).parent / "data" / "units.json"

_NUM = r"[0-9]+/[0-9]+|[0-9]+(?:[.,][0-9]+)?|[½¼¾]"
_NUMBER = re.compile(rf"^(?:{_NUM})$")
_GLUED = re.compile(rf"^({_NUM})([^0-9]+)$")
_TIMES_FIRST = re.compile(rf"^([x×х*])({_NUM})$")
_OPENERS = "([{\"'«“"
_CLOSERS = ")]}\"'»”"
_TRAILING_SEPARATORS = ",;:"
_VULGAR = {"½": 0.5, "¼": 0.25, "¾": 0.75}


@dataclass(frozen=True)
class Parsed:
    name: str
    qty: float | None
    unit: str | None
    raw_name: str


@dataclass(frozen=True)
class Vocabulary:
    units: dict[str, str]
    numbers: dict[str, float]
    articles: frozenset[str]
    half: frozenset[str]
    counts: dict[str, float]
    fused: dict[str, tuple[float, str]]
    times: frozenset[str]
    of: frozenset[str]
    separators: frozenset[str]
    bare_unit_blockers: frozenset[str]
    pair_units: frozenset[str]
    vague: frozenset[str]
    sizes: frozenset[str]
    multipacks: frozenset[str]
    compound: dict[str, str]


@cache
def vocabulary() -> Vocabulary:
    raw: dict[str, Any] = json.loads(DATA.read_text(encoding="utf-8"))
    units = {alias: unit for unit, aliases in raw["units"].items() for alias in aliases}
    return Vocabulary(
        units=units,
        numbers={k: float(v) for k, v in raw["numbers"].items()},
        articles=frozenset(raw["articles"]),
        half=frozenset(raw["half"]),
        counts={k: float(v) for k, v in raw["counts"].items()},
        fused={k: (float(v[0]), str(v[1])) for k, v in raw["fused"].items()},
        times=frozenset(raw["times"]),
        of=frozenset(raw["of"]),
        separators=frozenset(raw["separators"]),
        bare_unit_blockers=frozenset(raw["bare_unit_blockers"]),
        pair_units=frozenset(raw["pair_units"]),
        vague=frozenset(raw["vague"]),
        sizes=frozenset(raw["sizes"]),
        multipacks=frozenset(raw["multipacks"]),
        compound={str(k): str(v) for k, v in raw["compound"].items()},
    )


def parse_number(token: str) -> float | None:
    if token in _VULGAR:
        return _VULGAR[token]
    if not _NUMBER.match(token):
        return None
    if "/" in token:
        top, bottom = token.split("/")
        return float(top) / float(bottom) if float(bottom) else None
    return float(token.replace(",", "."))


@dataclass(frozen=True)
class Token:
    """A word of an entry and where it sits in the text: [start, end) is the word itself,
    [outer_start, outer_end) adds the brackets or quotes glued to it."""

    text: str
    start: int
    end: int
    outer_start: int
    outer_end: int


_CHUNK = re.compile(r"\S+")


def tokenize(text: str) -> list[str]:
    """Split on spaces, peel brackets and trailing commas, split "2kg" / "x4" / "4x"."""
    return [t.text for t in tokenize_spans(text)]


def _unitish(word: str, vocab: Vocabulary) -> bool:
    """A word that may carry an abbreviation's period: a unit, a count word, "2kg", "x4"."""
    folded = fold(word)
    if folded in vocab.units or folded in vocab.counts or folded in vocab.compound:
        return True
    return len(_split_glued(word, vocab)) > 1


def tokenize_spans(text: str) -> list[Token]:
    vocab = vocabulary()
    chunks = list(_CHUNK.finditer(text))
    tokens: list[Token] = []
    for index, chunk in enumerate(chunks):
        start, end = chunk.start(), chunk.end()
        core_start = start
        while core_start < end and text[core_start] in _OPENERS:
            core_start += 1
        core_end = end
        trailing = ""
        last = index == len(chunks) - 1
        while core_end > core_start:
            char = text[core_end - 1]
            if char in _CLOSERS or (char in _TRAILING_SEPARATORS and core_end - core_start > 1):
                trailing = trailing or (char if char in _TRAILING_SEPARATORS else "")
                core_end -= 1
            elif char == "." and core_end - core_start > 1:
                stem = text[core_start : core_end - 1]
                if not (last or _unitish(stem.rstrip("."), vocab)):
                    break
                core_end -= 1
            else:
                break
        closers_end = core_end
        while closers_end < end and text[closers_end] in _CLOSERS:
            closers_end += 1
        word = text[core_start:core_end]
        if word:
            pieces = _split_glued(word, vocab)
            offset = core_start
            for number, piece in enumerate(pieces):
                first, final = number == 0, number == len(pieces) - 1
                tokens.append(
                    Token(
                        piece,
                        offset,
                        offset + len(piece),
                        start if first else offset,
                        closers_end if final else offset + len(piece),
                    )
                )
                offset += len(piece)
        if trailing:
            tokens.append(Token(trailing, core_end, core_end + 1, core_end, core_end + 1))
    return _join_compound(tokens, text, vocab)


def _join_compound(tokens: list[Token], text: str, vocab: Vocabulary) -> list[Token]:
    """Two-word units ("fl oz") become one token."""
    out: list[Token] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        second = vocab.compound.get(fold(token.text))
        if second is not None and i + 1 < len(tokens) and fold(tokens[i + 1].text) == second:
            after = tokens[i + 1]
            joined = f"{fold(token.text)} {second}"
            out.append(Token(joined, token.start, after.end, token.outer_start, after.outer_end))
            i += 2
            continue
        out.append(token)
        i += 1
    del text
    return out


def _split_glued(word: str, vocab: Vocabulary) -> list[str]:
    folded = fold(word)
    glued = _GLUED.match(folded)
    if glued and (glued.group(2) in vocab.units or glued.group(2) in vocab.times):
        cut = len(glued.group(1))
        return [word[:cut], word[cut:]]
    if _TIMES_FIRST.match(folded):
        return [word[:1], word[1:]]
    return [word]


@dataclass(frozen=True)
class Amount:
    qty: float
    unit: str
    end: int


def read_amount(folded: list[str], i: int, *, at_start: bool) -> Amount | None:
    """A quantity expression starting at folded[i], or None.

    amount := fused | [value] [count] [unit] [times] [of]
    value  := number [fraction] | number word | article | half [article]
    A bare Cyrillic unit ("пачка масла") or count word ("десяток яиц") stands for one, and so
    does a bare English unit followed by "of" ("bunch of coriander").
    """
    vocab = vocabulary()
    n = len(folded)
    if i >= n:
        return None
    first = folded[i]
    after = folded[i + 1] if i + 1 < n else ""
    if first in vocab.fused:
        fused_qty, fused_unit = vocab.fused[first]
        return Amount(fused_qty, fused_unit, _skip(folded, i + 1, vocab.of))
    value: float
    weak = False  # an article or "half" only counts when a count word or unit follows
    explicit = False  # a number was written ("2 pairs" is a unit, "a pair" is a count)
    number = parse_number(first)
    if number is not None:
        value, i, explicit = number, i + 1, True
        fraction = parse_number(after) if after and ("/" in after or after in _VULGAR) else None
        if fraction is not None and number.is_integer() and fraction < 1:
            value, i = number + fraction, i + 1
    elif first in vocab.numbers:
        value, i, explicit = vocab.numbers[first], i + 1, True
    elif first in vocab.half:
        value, i, weak = 0.5, i + 1, True
        if i < n and folded[i] in vocab.articles:
            i += 1
    elif first in vocab.articles:
        value, i, weak = 1.0, i + 1, True
    elif first in vocab.counts or (first in vocab.units and is_cyrillic(first)):
        value = 1.0
        if after in vocab.bare_unit_blockers:
            return None
    elif first in vocab.units and after in vocab.of:
        value = 1.0
    else:
        return None
    unit: str | None = None
    if i < n and folded[i] in vocab.counts:
        if explicit and folded[i] in vocab.pair_units:
            unit = "pair"
        else:
            value, unit = value * vocab.counts[folded[i]], "pcs"
        i, weak = i + 1, False
    if unit is None and i < n and folded[i] in vocab.units:
        if not at_start and explicit and value > 1 and folded[i] in vocab.multipacks:
            return None  # "coke zero 6 pack": the pack size, part of the name
        unit, i, weak = vocab.units[folded[i]], i + 1, False
    if weak and not at_start:
        return None
    if unit is None and i < n and folded[i] in vocab.times:
        i += 1
    return Amount(value, unit or "pcs", _skip(folded, i, vocab.of))


def _skip(folded: list[str], i: int, words: frozenset[str]) -> int:
    return i + 1 if i < len(folded) and folded[i] in words else i


def _trim(folded: list[str], start: int, end: int) -> tuple[int, int]:
    seps = vocabulary().separators
    while start < end and folded[start] in seps:
        start += 1
    while end > start and folded[end - 1] in seps:
        end -= 1
    return start, end


@dataclass(frozen=True)
class Split:
    start: int  # the name is tokens[start:end]
    end: int
    qty: float | None
    unit: str | None
    quantity_first: bool


def split_tokens(folded: list[str]) -> Split:
    """Where the name is among the folded tokens, and the amount around it."""
    n = len(folded)
    vocab = vocabulary()
    if n >= 2 and folded[0] in vocab.times and parse_number(folded[1]) is not None:
        start, end = _trim(folded, 2, n)
        if start < end:
            return Split(start, end, parse_number(folded[1]), "pcs", True)
    vague = 1 if folded and folded[0] in vocab.vague else 0
    if n >= 2 and folded[0] in vocab.articles and folded[1] in vocab.vague:
        vague = 2
    if vague:
        start, end = _trim(folded, vague, n)
        if start < end:
            return Split(start, end, None, None, True)
    head = read_amount(folded, 0, at_start=True)
    if head is not None:
        start, end = _trim(folded, head.end, n)
        if start < end:
            return Split(start, end, head.qty, head.unit, True)
    for at in range(1, n):
        tail = _read_tail(folded, at)
        if tail is not None:
            start, end = _trim(folded, 0, at)
            if start < end:
                return Split(start, end, tail[0], tail[1], False)
    start, end = _trim(folded, 0, n)
    return Split(start, end, None, None, False)


def split_entry(text: str) -> tuple[list[str], float | None, str | None, bool]:
    """(name tokens, qty, unit, quantity came first)."""
    tokens = tokenize(text)
    found = split_tokens([fold(t) for t in tokens])
    return tokens[found.start : found.end], found.qty, found.unit, found.quantity_first


def _read_tail(folded: list[str], start: int) -> tuple[float, str] | None:
    vocab = vocabulary()
    n = len(folded)
    if folded[start - 1] in vocab.sizes:
        return None  # "подгузники размер 4": a size, not a count
    if folded[start] in vocab.times and start + 2 == n:
        number = parse_number(folded[start + 1])
        return (number, "pcs") if number is not None else None
    amount = read_amount(folded, start, at_start=False)
    if amount is None or amount.end != n:
        return None
    bare_number = parse_number(folded[start])
    if bare_number is not None and amount.end - start == 1 and not bare_number.is_integer():
        return None
    return amount.qty, amount.unit


_PAIRS = {"(": ")", "[": "]", "{": "}", "«": "»", "“": "”"}


def _balanced(name: str) -> str:
    """Drop a bracket or quote the amount took its partner from: "(2 kg potatoes)"."""
    changed = True
    while changed and name:
        changed = False
        for opener, closer in _PAIRS.items():
            if name.endswith(closer) and name.count(closer) > name.count(opener):
                name, changed = name[:-1].rstrip(), True
            if name.startswith(opener) and name.count(opener) > name.count(closer):
                name, changed = name[1:].lstrip(), True
        for quote in "\"'":
            if name.count(quote) % 2 and (name.startswith(quote) or name.endswith(quote)):
                name = name[1:] if name.startswith(quote) else name[:-1]
                changed = True
    return name


def _slice(text: str, tokens: list[Token], words: list[str]) -> str:
    """The name as typed between its first and last token (punctuation, quotes and brackets
    kept), with each token's word replaced by `words`."""
    first, last = tokens[0], tokens[-1]
    out: list[str] = []
    at = first.outer_start
    for token, word in zip(tokens, words, strict=True):
        out.append(text[at : token.start])
        out.append(word)
        at = token.end
    out.append(text[at : last.outer_end])
    return _balanced("".join(out).strip())


def parse_entry(text: str) -> Parsed:
    """Parse one free-text entry; an entry without a quantity comes back with qty/unit None."""
    tokens = tokenize_spans(text)
    found = split_tokens([fold(t.text) for t in tokens])
    name_tokens = tokens[found.start : found.end]
    if not name_tokens:
        stripped = text.strip()
        return Parsed(stripped, found.qty, found.unit, stripped)
    words = [t.text for t in name_tokens]
    raw_name = _slice(text, name_tokens, words)
    name = raw_name
    if found.quantity_first and any(is_cyrillic(w) for w in words):
        name = _slice(text, name_tokens, nominative(words))
    return Parsed(name=name, qty=found.qty, unit=found.unit, raw_name=raw_name)


def _case_like(word: str, original: str) -> str:
    if "ё" not in original.lower():
        word = word.replace("ё", "е")
    return word[:1].upper() + word[1:] if original[:1].isupper() else word


def _gent(word: str, pos: set[str]) -> list[Any]:
    return [
        p
        for p in morph().parse(word.lower())
        if p.tag.POS in pos and "gent" in p.tag.grammemes and not is_proper_name(p)
    ]


_ADJ = {"ADJF", "PRTF"}


def nominative(words: list[str]) -> list[str]:
    """Put a genitive noun phrase after a quantity back in the nominative, keeping number.

    Leading adjectives, the first noun and adjectives right after it are changed; the rest
    ("воды без газа", "сыра пармезан") is kept as typed.
    """
    noun_at = -1
    for index, word in enumerate(words):
        if not is_cyrillic(word):
            break
        next_is_noun = index + 1 < len(words) and bool(_gent(words[index + 1], {"NOUN"}))
        if _gent(word, {"NOUN"}) and not (next_is_noun and _gent(word, _ADJ)):
            noun_at = index
            break
        if not _gent(word, _ADJ):
            break
    if noun_at < 0:
        return words
    noun = _gent(words[noun_at], {"NOUN"})[0]
    out = list(words)
    out[noun_at] = _inflect(noun, {"nomn"}, words[noun_at])
    number = noun.tag.number or "sing"
    gender = noun.tag.gender
    for index in range(noun_at):
        out[index] = _adjective_nominative(words[index], number, gender)
    for index in range(noun_at + 1, len(words)):
        changed = _adjective_nominative(words[index], number, gender)
        if changed == words[index]:
            break
        out[index] = changed
    return out


def _adjective_nominative(word: str, number: str, gender: str | None) -> str:
    adjective = _agreeing(word, number, gender)
    if adjective is None:
        return word
    return _inflect(adjective, {"nomn", "plur"} if number == "plur" else {"nomn"}, word)


def _agreeing(word: str, number: str, gender: str | None) -> Any:
    for p in _gent(word, _ADJ):
        if number == "plur" and p.tag.number == "plur":
            return p
        if number == "sing" and p.tag.number == "sing" and (gender in (None, p.tag.gender)):
            return p
    return None


def _inflect(parse: Any, grammemes: set[str], original: str) -> str:
    inflected = parse.inflect(grammemes)
    return _case_like(str(inflected.word), original) if inflected else original
