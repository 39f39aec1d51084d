"""What to suggest for a list with no history and no model: the dish table's vote, the aisles'
everyday companions where the dishes explain little, and, to fill up, the aisles of everything
on the list and the shop's everyday items.

    picks = starter(["зубная паста", "шампунь"], "ru", limit=8)

0. *Served with*: an item that names a dish sold ready ("пельмени", "pizza", "hot dogs") is
   bought made, so what it is eaten with (the dish table's `serve`: сметана, кетчуп...) comes
   first, not its raw ingredients; such an item counts as explained in 1. and 2.
1. *Dishes* (models/dishes.py `pairings`): what the dishes (and occasions) the list is likely
   for need. Their scores are scaled by the list's *coverage*: the mean, over the list's items,
   of the chance that the list's dish uses the item (`dishes.explained`). A list the table
   explains ("свёкла, капуста") keeps its dish votes whole; one half explained has them halved.
2. *Aisles* (models/aisles.py `companions`), in the same ranking: each list item's aisles weigh
   in with what the dishes leave of it, `1 - explained`, divided by the list's length (a food
   aisle less: aisles.FOOD_AISLE_WEIGHT). So an item no dish uses (toothpaste, cat litter, a
   drink the table lacks) is answered by its aisle's everyday items. An item that both name
   adds both scores.
3. *Fill*, ranked below everything above, only when it has fewer than `limit` items: the aisles
   of every item on the list, then the shop's everyday items (`aisles.everyday`), so the answer
   has `limit` items whenever the vocabulary has them.

Nothing the list has, and no duplicate of it (models.duplicates), is ever picked; nor are two
names of one item.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from models import aisles, dishes
from models.duplicates import find_duplicate
from models.text import Lang, normalize, tokens_key

# How many dish votes to weigh before the cut (some may be merged with aisle items or dropped).
DISH_POOL = 30
# The fill ranks below every vote and aisle item above (those score > 1e-3 in practice: a vote
# under NEGLIGIBLE of the best dish is not cast), the list's own aisles above everyday items.
FILL_SCORE = 1e-4
EVERYDAY_SCORE = 1e-5
# A list item that names a dish sold ready ("пельмени", "pizza": dishes.ready_dish) is bought
# made: what it is served with (dishes.served_with) ranks first, in (SERVED_REST, 1], and
# everything else is scaled into [0, SERVED_REST].
SERVED_REST = 0.5


@dataclass(frozen=True)
class Pick:
    name: str
    score: float  # 0..1
    source: Literal["dish", "aisle", "everyday"]
    because: str  # the dish's name (source "dish"), the list's item ("aisle"), else ""
    kind: str = "dish"  # for source "dish": "dish", or "set" for an occasion


def starter(names: list[str], lang: Lang, limit: int) -> list[Pick]:
    """Up to `limit` picks for a list of `names`, best first (see the module's docstring)."""
    names = [n for n in names if normalize(n)]
    if not names or limit <= 0:
        return []
    weights = dishes.dish_weights(names, lang)
    ready = [dishes.ready_dish(n) is not None for n in names]
    explained = [
        1.0 if r else e for r, e in zip(ready, dishes.explained(names, weights), strict=True)
    ]
    coverage = sum(explained) / len(names)
    picks: dict[str, Pick] = {}
    on_list = _OnList(names)
    served = [p for p in dishes.served_with(names, lang) if p.ingredient not in on_list.covered]
    rest = SERVED_REST if served else 1.0
    ranked = dishes.pairings(names, lang, max(limit, DISH_POOL), weights)
    for rank, p in enumerate(q for q in ranked if q.ingredient not in on_list.covered):
        score = rest * coverage * p.score * aisles.EVERYDAY_DECAY**rank
        picks[p.ingredient] = Pick(p.name, score, "dish", p.because, p.kind)
    for rank, p in enumerate(served):
        score = rest + (1 - rest) * p.score * aisles.EVERYDAY_DECAY**rank
        picks[p.ingredient] = Pick(p.name, score, "dish", p.because, p.kind)
    left = {n: (1.0 - e) / len(names) for n, e in zip(names, explained, strict=True) if e < 1}
    for c in aisles.companions(left, lang):
        key = c.entry.key
        found = picks.get(key)
        if found is not None and found.score >= c.score:
            picks[key] = Pick(found.name, found.score + c.score, "dish", found.because, found.kind)
        elif found is not None:
            picks[key] = Pick(found.name, found.score + c.score, "aisle", c.because)
        elif c.score > 0 and not on_list.has(c.entry):
            picks[key] = Pick(c.entry.shown(lang), c.score, "aisle", c.because)
    out = _distinct(sorted(picks.values(), key=lambda p: -p.score), names, limit)
    if len(out) < limit:
        every = {n: 1 / len(names) for n in names}
        food = 2 * sum(aisles.is_non_food(n) for n in names) < len(names)
        fill = [
            Pick(c.entry.shown(lang), FILL_SCORE * c.score, "aisle", c.because)
            for c in aisles.companions(every, lang, food_weight=False)
            if c.entry.key not in picks and not on_list.has(c.entry)
        ]
        fill += [
            Pick(e.shown(lang), EVERYDAY_SCORE * aisles.EVERYDAY_DECAY**rank, "everyday", "")
            for rank, e in enumerate(aisles.everyday(lang, food))
            if e.key not in picks and not on_list.has(e)
        ]
        out += _distinct(fill, names + [p.name for p in out], limit - len(out))
    return out


def _distinct(ranked: list[Pick], names: list[str], limit: int) -> list[Pick]:
    """The first `limit` picks that duplicate neither the list (models.duplicates, typos
    included: the list was typed) nor each other (the same words: picks come from the tables)."""
    out: list[Pick] = []
    taken: set[str] = set()
    for pick in ranked:
        keys = {normalize(pick.name), tokens_key(pick.name)}
        if not keys & taken and find_duplicate(pick.name, names) is None:
            out.append(pick)
            taken |= keys
            if len(out) == limit:
                break
    return out


class _OnList:
    """Whether an aisle entry is on the list: one of its names, or an ingredient an item on
    the list provides ("сыр" provides твёрдый сыр, "корм для кошек" is кошачий корм, "памперсы"
    are подгузники)."""

    def __init__(self, names: list[str]) -> None:
        self.keys = {normalize(n) for n in names} | {tokens_key(n) for n in names}
        self.covered: set[str] = set()
        for name in names:
            self.covered |= dishes.read_item(name).covers | aisles.ingredients_named(name)

    def has(self, entry: aisles.Entry) -> bool:
        if entry.ingredient is not None and entry.ingredient in self.covered:
            return True
        return any(normalize(n) in self.keys or tokens_key(n) in self.keys for n in entry.names)
