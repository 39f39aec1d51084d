"""Aisle categories and the curated item -> category table (models/data/categories.json).

Lookup goes through models.text.normalize(), so "сливочного масла" finds "сливочное масло" and
"Tomatoes" finds "tomato". A name that is not in the table is tried piece by piece (see
docs/parsing.md); what still matches nothing is "other".
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from models.text import Lang, is_cyrillic, morph, normalize

DATA = Path(__file__).parent / "data" / "categories.json"
BRANDS = Path(__file__).parent / "data" / "brands.json"

SLUGS: tuple[str, ...] = (
    "produce",
    "dairy",
    "bakery",
    "meat",
    "fish",
    "frozen",
    "pantry",
    "drinks",
    "snacks",
    "household",
    "personal_care",
    "other",
)
OTHER = "other"

# A word anywhere in the name decides the category (after the table's exact match).
_MARKERS = {
    "frozen": "frozen",
    "замороженный": "frozen",
    "мороженый": "frozen",
    "canned": "pantry",
    "tinned": "pantry",
    "консервированный": "pantry",
}
# Canned goods are pantry whatever is in the can ("3 cans of tomatoes", "tuna 4 tins"); drinks,
# household and the rest keep their own aisle (a can of beer, a jar of face cream).
_CANNED_UNITS = frozenset({"can", "jar"})
_CANNED_FROM = frozenset({"produce", "meat", "fish", "dairy", "frozen"})
# Words after which the rest of a name only qualifies it ("губки для посуды", "food for cats").
_QUALIFIERS = frozenset(
    {"для", "с", "со", "без", "в", "из", "на", "от", "по", "for", "with", "without", "in", "from"}
)
# In English "X of Y" names Y ("bag of ice", "jar of pickles").
_OF = frozenset({"of"})


@dataclass(frozen=True)
class Category:
    slug: str
    en: str
    ru: str

    def title(self, lang: Lang | None) -> str:
        return self.ru if lang == "ru" else self.en


@cache
def _raw() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DATA.read_text(encoding="utf-8"))
    return data


@cache
def categories() -> dict[str, Category]:
    names = _raw()["categories"]
    return {slug: Category(slug, names[slug]["en"], names[slug]["ru"]) for slug in SLUGS}


def display_name(slug: str, lang: Lang | None) -> str:
    return categories()[slug].title(lang)


@cache
def table() -> dict[str, str]:
    """normalized item name -> slug (the first category listing a name wins; tests forbid
    clashes)."""
    result: dict[str, str] = {}
    for slug, langs in _raw()["items"].items():
        for names in langs.values():
            for name in names:
                result.setdefault(normalize(name), slug)
    return result


@cache
def table_by_words() -> dict[str, str]:
    """The table keyed by sorted words, so "масло подсолнечное" finds "подсолнечное масло"."""
    result: dict[str, str] = {}
    for key, slug in table().items():
        result.setdefault(" ".join(sorted(key.split())), slug)
    return result


def conflicts() -> list[tuple[str, list[str]]]:
    """Normalized names that the table puts in more than one category."""
    seen: dict[str, set[str]] = {}
    for slug, langs in _raw()["items"].items():
        for names in langs.values():
            for name in names:
                seen.setdefault(normalize(name), set()).add(slug)
    return sorted((key, sorted(slugs)) for key, slugs in seen.items() if len(slugs) > 1)


@cache
def brands() -> dict[str, str]:
    """normalized brand name -> slug (models/data/brands.json)."""
    raw: dict[str, Any] = json.loads(BRANDS.read_text(encoding="utf-8"))
    result: dict[str, str] = {}
    for slug, langs in raw["brands"].items():
        for names in langs.values():
            for name in names:
                key = normalize(name)
                if key:
                    result.setdefault(key, slug)
    return result


@lru_cache(maxsize=4096)
def categorize(name: str, unit: str | None = None) -> str:
    """The category slug for an item name (and its unit, when parsed); "other" when nothing
    matches. A can or a jar of produce, meat, fish, dairy or frozen food is pantry."""
    slug = _categorize(name)
    if unit in _CANNED_UNITS and slug in _CANNED_FROM:
        return "pantry"
    return slug


def _categorize(name: str) -> str:
    key = normalize(name)
    known = table()
    if key in known:
        return known[key]
    words = key.split()
    for word in words:
        if word in _MARKERS:
            return _MARKERS[word]
    reordered = table_by_words().get(" ".join(sorted(words)))
    if reordered is not None:
        return reordered
    known_brands = brands()
    for phrase in _subphrases_plain(words):
        if phrase in known_brands:
            return known_brands[phrase]
    for phrase in _candidates(words):
        if phrase in known:
            return known[phrase]
    return OTHER


def _candidates(words: list[str]) -> list[str]:
    """Sub-phrases to try, most telling first: the head part of the name, then the rest."""
    head = _head(words)
    ordered = _subphrases(head) + _subphrases(words)
    return list(dict.fromkeys(ordered))


def _subphrases_plain(words: list[str]) -> list[str]:
    """Contiguous sub-phrases, longest first, leftmost first (for brands)."""
    n = len(words)
    return [" ".join(words[i : i + size]) for size in range(n, 0, -1) for i in range(n - size + 1)]


def _head(words: list[str]) -> list[str]:
    for index, word in enumerate(words):
        if word in _OF and 0 < index < len(words) - 1:
            return words[index + 1 :]
        if word in _QUALIFIERS and index > 0:
            return words[:index]
    return words


def _subphrases(words: list[str]) -> list[str]:
    """Contiguous sub-phrases, longest first; English prefers the rightmost (the head noun is
    last), Russian prefers phrases with a noun, then the leftmost."""
    found: list[str] = []
    n = len(words)
    for size in range(n, 0, -1):
        spans = [words[i : i + size] for i in range(n - size + 1)]
        if any(is_cyrillic(w) for w in words):
            spans.sort(key=lambda span: not any(_is_noun(w) for w in span))
        else:
            spans.reverse()
        found.extend(" ".join(span) for span in spans)
    return found


@lru_cache(maxsize=4096)
def _is_noun(word: str) -> bool:
    if not is_cyrillic(word):
        return False
    parses = morph().parse(word)
    return bool(parses) and parses[0].tag.POS == "NOUN"
