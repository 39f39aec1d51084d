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


def tokenize(text: str) -> list[str]:
    """Split on spaces, peel brackets and trailing commas, split "2kg" / "x4" / "4x"."""
    vocab = vocabulary()
    tokens: list[str] = []
    for chunk in text.split():
        word = chunk.lstrip(_OPENERS).rstrip(_CLOSERS)
        trailing = ""
        if len(word) > 1 and word[-1] in _TRAILING_SEPARATORS:
            word, trailing = word[:-1], word[-1]
        if word:
            tokens.extend(_split_glued(word, vocab))
        if trailing:
            tokens.append(trailing)
    return tokens


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
    value  := number | number word | article | half [article]
    A bare Cyrillic unit ("пачка масла") or count word ("десяток яиц") stands for one.
    """
    vocab = vocabulary()
    n = len(folded)
    if i >= n:
        return None
    first = folded[i]
    if first in vocab.fused:
        fused_qty, fused_unit = vocab.fused[first]
        return Amount(fused_qty, fused_unit, _skip(folded, i + 1, vocab.of))
    value: float
    weak = False  # an article or "half" only counts when a count word or unit follows
    number = parse_number(first)
    if number is not None:
        value, i = number, i + 1
    elif first in vocab.numbers:
        value, i = vocab.numbers[first], i + 1
    elif first in vocab.half:
        value, i, weak = 0.5, i + 1, True
        if i < n and folded[i] in vocab.articles:
            i += 1
    elif first in vocab.articles:
        value, i, weak = 1.0, i + 1, True
    elif first in vocab.counts or (first in vocab.units and is_cyrillic(first)):
        value = 1.0
        after = folded[i + 1] if i + 1 < n else ""
        if after in vocab.bare_unit_blockers:
            return None
    else:
        return None
    unit: str | None = None
    if i < n and folded[i] in vocab.counts:
        value, i, weak = value * vocab.counts[folded[i]], i + 1, False
        unit = "pcs"
    if i < n and folded[i] in vocab.units:
        unit, i, weak = vocab.units[folded[i]], i + 1, False
    if weak and not at_start:
        return None
    if unit is None and i < n and folded[i] in vocab.times:
        i += 1
    return Amount(value, unit or "pcs", _skip(folded, i, vocab.of))


def _skip(folded: list[str], i: int, words: frozenset[str]) -> int:
    return i + 1 if i < len(folded) and folded[i] in words else i


def _trim(tokens: list[str], folded: list[str]) -> list[str]:
    seps = vocabulary().separators
    start, end = 0, len(tokens)
    while start < end and folded[start] in seps:
        start += 1
    while end > start and folded[end - 1] in seps:
        end -= 1
    return tokens[start:end]


def split_entry(text: str) -> tuple[list[str], float | None, str | None, bool]:
    """(name tokens, qty, unit, quantity came first)."""
    tokens = tokenize(text)
    folded = [fold(t) for t in tokens]
    n = len(tokens)
    vocab = vocabulary()
    if n >= 2 and folded[0] in vocab.times and parse_number(folded[1]) is not None:
        name = _trim(tokens[2:], folded[2:])
        if name:
            return name, parse_number(folded[1]), "pcs", True
    head = read_amount(folded, 0, at_start=True)
    if head is not None:
        name = _trim(tokens[head.end :], folded[head.end :])
        if name:
            return name, head.qty, head.unit, True
    for start in range(1, n):
        tail = _read_tail(folded, start)
        if tail is not None:
            name = _trim(tokens[:start], folded[:start])
            if name:
                return name, tail[0], tail[1], False
    return _trim(tokens, folded), None, None, False


def _read_tail(folded: list[str], start: int) -> tuple[float, str] | None:
    vocab = vocabulary()
    n = len(folded)
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


def parse_entry(text: str) -> Parsed:
    """Parse one free-text entry; an entry without a quantity comes back with qty/unit None."""
    name_tokens, qty, unit, quantity_first = split_entry(text)
    raw_name = " ".join(name_tokens) or text.strip()
    name = raw_name
    if quantity_first and any(is_cyrillic(t) for t in name_tokens):
        name = " ".join(nominative(name_tokens))
    return Parsed(name=name, qty=qty, unit=unit, raw_name=raw_name)


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
