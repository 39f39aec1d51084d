"""Aisles: each part of a shop's everyday items, most everyday first, per language
(models/data/everyday.json). Cold start falls back on them where the dish table has little to
say about a list (toothpaste and shampoo, cat food, an item no dish uses): the companions of an
item are the everyday items of the aisle it is in.

- `aisles_of(name)`: the aisles an item is in: those that name it (or the dish table's
  ingredient it stands for: "корм" is cat or dog food), else the main aisle of its category
  (models/categories.py); none for an item the tables do not know.
- `companions(weights, lang)`: the aisle items for a list's items, each item's aisles weighing
  in with that item's weight; an aisle's k-th item counts EVERYDAY_DECAY ** k.
- `everyday(lang)`: the most everyday items of every main aisle, taken in turn (the last
  resort when a list's own aisles have nothing left).
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from models import dishes
from models.categories import categorize
from models.text import Lang, normalize, tokens_key

DATA = Path(__file__).parent / "data" / "everyday.json"

# How much less an aisle's next item counts than the one before it: the list is ordered by how
# everyday an item is, and a gentle decay lets two aisles (or an aisle and the dishes) take
# turns instead of one aisle's first item outranking everything else.
EVERYDAY_DECAY = 0.85
# How much a food aisle's everyday items say about a list that has one of its items, against a
# non-food aisle's (1): toothpaste and shampoo, cat food and litter are bought together, but
# pasta and rice, beer and tea are merely shelved together; what goes with a food or a drink
# is its dish's (or occasion's) business.
FOOD_AISLE_WEIGHT = 0.1
FOOD = frozenset(
    {"produce", "dairy", "bakery", "meat", "fish", "frozen", "pantry", "drinks", "snacks"}
)


@dataclass(frozen=True)
class Entry:
    names: tuple[str, ...]  # what people write for it; the first is shown
    ingredient: str | None  # the dish table's ingredient, when it knows the item

    @property
    def key(self) -> str:
        """One key per item across aisles and the dish table (an ingredient id, else the name)."""
        return self.ingredient or normalize(self.names[0])

    def shown(self, lang: Lang) -> str:
        if self.ingredient is not None:
            return dishes.ingredients()[self.ingredient].name(lang)
        return self.names[0]


@dataclass(frozen=True)
class Aisle:
    id: str
    category: str
    main: bool  # joined through an item's category; otherwise only by naming one of its items
    ru: tuple[Entry, ...]
    en: tuple[Entry, ...]

    def entries(self, lang: Lang) -> tuple[Entry, ...]:
        return self.ru if lang == "ru" else self.en

    @property
    def weight(self) -> float:
        return FOOD_AISLE_WEIGHT if self.category in FOOD else 1.0


def _entry(raw: str | list[str]) -> Entry:
    names = (raw,) if isinstance(raw, str) else tuple(raw)
    found = {dishes.ingredient_of(n) for n in names} - {None}
    return Entry(names, next(iter(found)) if len(found) == 1 else None)


@cache
def aisles() -> tuple[Aisle, ...]:
    raw: dict[str, Any] = json.loads(DATA.read_text(encoding="utf-8"))["aisles"]
    return tuple(
        Aisle(
            key,
            v["category"],
            bool(v.get("main", True)),
            tuple(_entry(e) for e in v["ru"]),
            tuple(_entry(e) for e in v["en"]),
        )
        for key, v in raw.items()
    )


@cache
def _by_name() -> dict[str, frozenset[str]]:
    """normalized name (both word orders, either language) -> the aisles that list it."""
    index: defaultdict[str, set[str]] = defaultdict(set)
    for aisle in aisles():
        for entry in (*aisle.ru, *aisle.en):
            for name in entry.names:
                index[normalize(name)].add(aisle.id)
                index[tokens_key(name)].add(aisle.id)
    return {key: frozenset(found) for key, found in index.items()}


@cache
def _ingredients_by_name() -> dict[str, frozenset[str]]:
    """normalized name (both word orders) -> the ingredients of the entries that list it."""
    index: defaultdict[str, set[str]] = defaultdict(set)
    for aisle in aisles():
        for entry in (*aisle.ru, *aisle.en):
            if entry.ingredient is not None:
                for name in entry.names:
                    index[normalize(name)].add(entry.ingredient)
                    index[tokens_key(name)].add(entry.ingredient)
    return {key: frozenset(found) for key, found in index.items()}


def ingredients_named(name: str) -> frozenset[str]:
    """The dish table's ingredients an item is, by the aisles' names for them ("памперсы" are
    nappies even where the dish table says only "подгузники")."""
    index = _ingredients_by_name()
    return index.get(normalize(name), frozenset()) | index.get(tokens_key(name), frozenset())


@cache
def _by_ingredient() -> dict[str, frozenset[str]]:
    index: defaultdict[str, set[str]] = defaultdict(set)
    for aisle in aisles():
        for entry in (*aisle.ru, *aisle.en):
            if entry.ingredient is not None:
                index[entry.ingredient].add(aisle.id)
    return {key: frozenset(found) for key, found in index.items()}


@cache
def _main_aisles() -> dict[str, tuple[str, ...]]:
    """category slug -> its main aisles."""
    grouped: defaultdict[str, list[str]] = defaultdict(list)
    for aisle in aisles():
        if aisle.main:
            grouped[aisle.category].append(aisle.id)
    return {slug: tuple(found) for slug, found in grouped.items()}


@cache
def _aisle(aisle_id: str) -> Aisle:
    return next(a for a in aisles() if a.id == aisle_id)


@lru_cache(maxsize=4096)
def aisles_of(name: str) -> tuple[str, ...]:
    """The aisles an item is in (see the module's docstring), in the table's order."""
    found = set(_by_name().get(normalize(name), ())) | set(_by_name().get(tokens_key(name), ()))
    by_ingredient = _by_ingredient()
    for key in dishes.read_item(name).senses:
        found |= by_ingredient.get(key, frozenset())
    if not found:
        found = set(_main_aisles().get(categorize(name), ()))
    return tuple(a.id for a in aisles() if a.id in found)


@dataclass(frozen=True)
class Companion:
    entry: Entry
    score: float
    because: str  # the list's item whose aisle weighed most


def companions(
    weights: dict[str, float], lang: Lang, *, food_weight: bool = True
) -> list[Companion]:
    """Aisle items for a list: `weights` maps each list item to how much its aisles count (items
    in no aisle add nothing). An entry scores the sum, over the list's items, of the item's
    weight, shared among its aisles, times the aisle's weight (FOOD_AISLE_WEIGHT for a food
    aisle, unless `food_weight` is off) and EVERYDAY_DECAY ** the entry's rank in the aisle.
    Best first; what is on the list is the caller's to drop."""
    scores: defaultdict[str, float] = defaultdict(float)
    entries: dict[str, Entry] = {}
    because: dict[str, tuple[float, str]] = {}
    for name, weight in weights.items():
        found = aisles_of(name)
        for aisle_id in found:
            aisle = _aisle(aisle_id)
            share = weight / len(found) * (aisle.weight if food_weight else 1.0)
            for rank, entry in enumerate(aisle.entries(lang)):
                part = share * EVERYDAY_DECAY**rank
                scores[entry.key] += part
                entries.setdefault(entry.key, entry)
                if entry.key not in because or part > because[entry.key][0]:
                    because[entry.key] = (part, name)
    ranked = sorted(scores, key=lambda key: (-scores[key], key))
    return [Companion(entries[key], scores[key], because[key][1]) for key in ranked]


@cache
def everyday(lang: Lang, food: bool = True) -> tuple[Entry, ...]:
    """The main aisles' items taken in turn, most everyday first (the first item of each aisle,
    then the second of each...; one entry per item): the food aisles (drinks and snacks too)
    before the others for a food list, after them for a list of other things."""
    main = [a for a in aisles() if a.main]
    out: dict[str, Entry] = {}
    for kind in (food, not food):
        lists = [a.entries(lang) for a in main if (a.category in FOOD) == kind]
        for rank in range(max((len(found) for found in lists), default=0)):
            for found in lists:
                if rank < len(found):
                    out.setdefault(found[rank].key, found[rank])
    return tuple(out.values())


def is_non_food(name: str) -> bool:
    """Whether an item is known not to be food or drink (by its aisles, else its category); an
    item the tables do not know is not."""
    found = aisles_of(name)
    if found:
        return all(_aisle(a).category not in FOOD for a in found)
    return categorize(name) in NON_FOOD


NON_FOOD = frozenset({"household", "personal_care"})
