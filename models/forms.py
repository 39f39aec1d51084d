"""The word-form table: what the browser needs to read Russian names without pymorphy3.

The vocabulary is every word of the curated item table (models/data/categories.json), the
brands (models/data/brands.json), the dish table's ingredient names (models/data/dishes.json),
the parser's words (models/data/units.json) and the extra grocery words in
models/data/grocery_words.txt. For each Russian word the
nominative, genitive and accusative forms of its noun/adjective readings are listed, and for
each form what models.text and models.parse compute with pymorphy3:

- `lemma`: models.text.lemma_ru (the comparison key, for duplicates and categories);
- `noun`: the nominative of a genitive noun, with its gender and number (parse.nominative);
- `adj`: the nominative of a genitive adjective agreeing with a noun of each number/gender.

`python -m models.forms` writes client/src/lib/data/text-tables.json (this table plus the
item/brand/variant tables that client/src/lib/categories.js and duplicates.js read); the client
build runs it when Python is there (client/build.mjs), and the file is committed so that a build
without Python still works. Python itself uses `known_words()` / `forms_of()` for the typo rule in
models/duplicates.py, so both sides decide typos from the same vocabulary.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from models.text import fold, is_cyrillic, is_proper_name, lemma_ru, morph, normalize, variants

DATA = Path(__file__).parent / "data"
OUT = (
    Path(__file__).resolve().parent.parent / "client" / "src" / "lib" / "data" / "text-tables.json"
)
_CASES = frozenset({"nomn", "gent", "accs"})
_POS = frozenset({"NOUN", "ADJF", "PRTF"})
_SPLIT = re.compile(r"[^\w-]+")
_COMBOS = (("plur", None), ("sing", None), ("sing", "masc"), ("sing", "femn"), ("sing", "neut"))


def _names() -> list[str]:
    names: list[str] = []
    items = json.loads((DATA / "categories.json").read_text(encoding="utf-8"))["items"]
    brands = json.loads((DATA / "brands.json").read_text(encoding="utf-8"))["brands"]
    for table in (items, brands):
        for langs in table.values():
            for listed in langs.values():
                names.extend(listed)
    dishes = DATA / "dishes.json"
    if dishes.exists():
        for ingredient in json.loads(dishes.read_text(encoding="utf-8"))["ingredients"].values():
            names.extend(ingredient["ru"])
            names.extend(ingredient["en"])
    units = json.loads((DATA / "units.json").read_text(encoding="utf-8"))
    names.extend(alias for aliases in units["units"].values() for alias in aliases)
    for key in ("numbers", "counts", "fused"):
        names.extend(units[key])
    names.extend(units["vague"] + units["sizes"] + units["bare_unit_blockers"])
    extra = (DATA / "grocery_words.txt").read_text(encoding="utf-8").splitlines()
    names.extend(line for line in extra if line and not line.startswith("#"))
    return names


@cache
def vocabulary_words() -> tuple[str, ...]:
    """Every folded word of the vocabulary, both scripts."""
    words: set[str] = set()
    for name in _names():
        for word in _SPLIT.split(fold(name)):
            if word and word.replace("-", "").isalpha():
                words.add(word)
    return tuple(sorted(words))


@cache
def russian_forms() -> tuple[str, ...]:
    """Folded nominative/genitive/accusative forms of the Russian vocabulary words."""
    analyzer = morph()
    forms: set[str] = set()
    for word in vocabulary_words():
        if not is_cyrillic(word):
            continue
        forms.add(word)
        seen: set[tuple[str, str]] = set()
        for parse in analyzer.parse(word):
            lexeme_key = (str(parse.normal_form), str(parse.tag.POS))
            if parse.tag.POS not in _POS or lexeme_key in seen or is_proper_name(parse):
                continue
            seen.add(lexeme_key)
            for form in parse.lexeme:
                if form.tag.case in _CASES:
                    forms.add(fold(str(form.word)))
    return tuple(sorted(forms))


@cache
def known_words() -> frozenset[str]:
    """Normalized words of the vocabulary: a word here is spelled right (the typo rule)."""
    known = {normalize(word) for word in vocabulary_words()}
    return frozenset(w for w in known if w and " " not in w)


@cache
def _lexeme_forms(lemma: str) -> tuple[str, ...]:
    """Folded nominative/genitive/accusative forms of the noun/adjective readings of a word."""
    forms: set[str] = {lemma}
    seen: set[tuple[str, str]] = set()
    for parse in morph().parse(lemma):
        lexeme_key = (str(parse.normal_form), str(parse.tag.POS))
        if parse.tag.POS not in _POS or lexeme_key in seen or is_proper_name(parse):
            continue
        seen.add(lexeme_key)
        forms.update(fold(str(f.word)) for f in parse.lexeme if f.tag.case in _CASES)
    return tuple(sorted(forms))


def forms_of(word: str) -> tuple[str, ...]:
    """The surface forms of a normalized word (itself included) for the typo rule. Python asks
    pymorphy3 on demand; the browser has the same forms in its table."""
    return _lexeme_forms(word) if is_cyrillic(word) else (word,)


def known_lemma(word: str) -> str:
    """A folded word's key when the vocabulary knows the word, else the word itself.

    The typo rule uses this instead of normalize() so that Python and the browser (which has
    only the vocabulary's table) treat words outside the vocabulary the same way.
    """
    w = fold(word)
    if is_cyrillic(w):
        lemma = lemma_ru(w)
        return lemma if lemma in known_words() else w
    return normalize(w)


@cache
def _russian_set() -> frozenset[str]:
    return frozenset(russian_forms())


_RU_LETTERS = "абвгдежзийклмнопрстуфхцчшщъыьэюя"


def _edits(word: str) -> set[str]:
    found: set[str] = set()
    for i in range(len(word) + 1):
        for c in _RU_LETTERS:
            found.add(word[:i] + c + word[i:])
            if i < len(word):
                found.add(word[:i] + c + word[i + 1 :])
        if i < len(word):
            found.add(word[:i] + word[i + 1 :])
        if i < len(word) - 1:
            found.add(word[:i] + word[i + 1] + word[i] + word[i + 2 :])
    return found


def near_words() -> list[str]:
    """Dictionary words one edit from a Russian vocabulary word (бетон next to батон): real
    words, never typos. Python asks pymorphy3 directly (is_dictionary_word); the browser gets
    this list. Build time only: about 15 s."""
    analyzer = morph()
    forms = _russian_set()
    lemmas = {w for w in known_words() if is_cyrillic(w) and len(w) >= 4}
    near: set[str] = set()
    for lemma in lemmas:
        for candidate in _edits(lemma):
            fresh = len(candidate) >= 5 and candidate not in forms and candidate not in near
            if fresh and analyzer.word_is_known(candidate):
                near.add(candidate)
    return sorted(near)


def is_dictionary_word(word: str) -> bool:
    """A Russian word pymorphy3 knows from its dictionary (not guessed)."""
    return bool(is_cyrillic(word)) and bool(morph().word_is_known(word))


def _entry(form: str) -> dict[str, Any]:
    """What parse.nominative and text.lemma_ru compute for one folded form. Inflected words are
    stored as pymorphy3 spells them (with ё); the browser applies parse._case_like itself."""
    from models.parse import _agreeing, _gent

    entry: dict[str, Any] = {}
    lemma = lemma_ru(form)
    if lemma != form:
        entry["l"] = lemma
    nouns = _gent(form, {"NOUN"})
    if nouns:
        noun = nouns[0]
        inflected = noun.inflect({"nomn"})
        word = str(inflected.word) if inflected else None
        entry["n"] = [word, noun.tag.gender, noun.tag.number or "sing"]
    if _gent(form, {"ADJF", "PRTF"}):
        adjectives: dict[str, str] = {}
        for number, gender in _COMBOS:
            adjective = _agreeing(form, number, gender)
            if adjective is None:
                continue
            grammemes = {"nomn", "plur"} if number == "plur" else {"nomn"}
            inflected = adjective.inflect(grammemes)
            if inflected is not None:
                adjectives[f"{number}:{gender or ''}"] = str(inflected.word)
        entry["a"] = adjectives
    return entry


def browser_table(*, near: bool = True) -> dict[str, Any]:
    """Everything client/src/lib needs to parse, normalize, categorize and match offline
    (`near=False` skips the slow near-word list: it follows from `known` and `forms`)."""
    from models.categories import (
        _MARKERS,
        _OF,
        _QUALIFIERS,
        _is_noun,
        brands,
        table,
        table_by_words,
    )

    forms = {form: _entry(form) for form in russian_forms()}
    keys = set(table()) | set(brands())
    nouns = sorted({w for key in keys for w in key.split() if is_cyrillic(w) and _is_noun(w)})
    return {
        "about": "Generated by `python -m models.forms` from models/data; do not edit.",
        "forms": forms,
        "known": sorted(known_words()),
        "near": near_words() if near else [],
        "variants": variants(),
        "items": table(),
        "items_by_words": table_by_words(),
        "brands": brands(),
        "nouns": nouns,
        "markers": _MARKERS,
        "qualifiers": sorted(_QUALIFIERS),
        "of": sorted(_OF),
    }


def write(path: Path = OUT) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(browser_table(), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    path.write_text(text + "\n", encoding="utf-8")
    return len(text.encode())


if __name__ == "__main__":
    size = write()
    print(f"wrote {OUT} ({size / 1024:.0f} KiB)")
