"""Built-in knowledge: the dish table (models/data/dishes.json) and what is derived from it.

- `find_dish("борщ на 6")` -> (the dish, 6 servings); `dish_items(dish, 6, "ru")` -> its
  ingredients in the list's language with quantities scaled from the table's `serves`.
- `pairings(names, lang)`: items that go with what a list already has: which dishes the list
  most likely stands for ("свёкла, капуста" -> борщ, щи...), each weighed by how much of the list
  it explains, how specific it is and how everyday it is where the list's language is spoken,
  and their other ingredients voted on; `explained(names, weights)`: how much of each item
  those dishes account for. Both feed the cold start (models/coldstart.py), which answers in
  `together` when a server has little history.
- `meaning(name)`: the ingredients an item stands for; a generic word ("мясо", "cheese",
  models/data/generic.json) stands for all of its kinds.
- `translate(name, lang)`: the bilingual ingredient table maps a name to the other language.

No model and no network: the table answers at once. See docs/suggestions.md.
"""

from __future__ import annotations

import json
import math
import re
from collections import defaultdict
from dataclasses import dataclass
from functools import cache, cached_property, lru_cache
from pathlib import Path
from typing import Any, Literal

from models.text import detect_lang, fold, normalize, tokens_key

DATA = Path(__file__).parent / "data" / "dishes.json"
GENERIC = Path(__file__).parent / "data" / "generic.json"
Lang = Literal["ru", "en"]

_COUNTED = frozenset({"pcs", "pack", "can", "jar", "bottle", "loaf", "head", "bunch", "box", "bag"})
_COUNTED |= frozenset({"roll", "pair"})
_SERVINGS = re.compile(
    r"(?:\b(?:на|for|x|serves|serving|feeds)\s*)?(\d{1,3})\s*"
    r"(?:человек[а]?|чел\.?|персон[ы]?|порци[йия]|гостей|people|persons|servings|guests|pax)?",
    re.IGNORECASE,
)
_FILLER = frozenset(
    [
        "на",
        "для",
        "к",
        "из",
        "с",
        "for",
        "to",
        "a",
        "an",
        "the",
        "of",
        "recipe",
        "рецепт",
        "ингредиенты",
        "ingredients",
        "make",
        "cook",
        "приготовить",
        "готовлю",
        "сделать",
        "хочу",
        "i",
        "want",
        "dinner",
        "ужин",
        "обед",
        "lunch",
        "человек",
        "чел",
        "персон",
        "порций",
        "people",
        "persons",
        "servings",
        "guests",
        "гостей",
    ]
)
_NUMBER_WORDS = {
    "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "eight": 8, "ten": 10, "twelve": 12,
    "двоих": 2, "двух": 2, "троих": 3, "трёх": 3, "трех": 3, "четверых": 4, "четырёх": 4,
    "четырех": 4, "пятерых": 5, "пяти": 5, "шестерых": 6, "шести": 6, "восьми": 8, "десяти": 10,
}  # fmt: skip


@dataclass(frozen=True)
class Ingredient:
    id: str
    ru: tuple[str, ...]
    en: tuple[str, ...]
    basic: bool  # salt, oil, flour...: suggested by pairings only with a low weight

    def name(self, lang: Lang) -> str:
        return self.ru[0] if lang == "ru" else self.en[0]


@dataclass(frozen=True)
class Dish:
    id: str
    kind: str  # "dish" or "set" (an occasion: cleaning, a baby, a cheese board)
    ru: tuple[str, ...]
    en: tuple[str, ...]
    serves: int
    items: tuple[tuple[str, float | None, str | None], ...]
    often: tuple[int, int] = (1, 1)  # how everyday it is where (ru, en) is spoken: 0..3
    # what it is eaten with when bought ready (пельмени: сметана, кетчуп...), main first; empty
    # for a dish that is only ever cooked from its ingredients
    serve: tuple[str, ...] = ()

    def name(self, lang: Lang) -> str:
        return self.ru[0] if lang == "ru" else self.en[0]

    def commonness(self, lang: Lang) -> int:
        return self.often[0] if lang == "ru" else self.often[1]

    @cached_property
    def ingredient_ids(self) -> frozenset[str]:
        return frozenset(i for i, _, _ in self.items)

    @cached_property
    def shares(self) -> dict[str, float]:
        """ingredient id -> the chance that a starter list for this dish names it: the table
        lists ingredients main first, and the k-th is named in proportion to 1/k."""
        return _shares(self.items)


def _shares(items: tuple[tuple[str, float | None, str | None], ...]) -> dict[str, float]:
    order = list(dict.fromkeys(key for key, _, _ in items))
    weights = [1 / (rank + 1) for rank in range(len(order))]
    total = sum(weights)
    return {key: weight / total for key, weight in zip(order, weights, strict=True)}


@dataclass(frozen=True)
class DishItem:
    name: str
    qty: float | None
    unit: str | None
    ingredient: str


@cache
def _raw() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DATA.read_text(encoding="utf-8"))
    return data


@cache
def ingredients() -> dict[str, Ingredient]:
    basics = set(_raw()["basics"])
    return {
        key: Ingredient(key, tuple(v["ru"]), tuple(v["en"]), key in basics)
        for key, v in _raw()["ingredients"].items()
    }


@cache
def dishes() -> tuple[Dish, ...]:
    return tuple(
        Dish(
            d["id"],
            d["kind"],
            tuple(d["ru"]),
            tuple(d["en"]),
            int(d["serves"]),
            tuple((i, q, u) for i, q, u in d["items"]),
            (int(d["often"]["ru"]), int(d["often"]["en"])),
            tuple(d.get("serve", ())),
        )
        for d in _raw()["dishes"]
    )


@cache
def _ingredient_index() -> dict[str, str]:
    """normalized name (either language) -> ingredient id; the first listing wins."""
    index: dict[str, str] = {}
    for ingredient in ingredients().values():
        for name in (*ingredient.ru, *ingredient.en):
            index.setdefault(normalize(name), ingredient.id)
            index.setdefault(tokens_key(name), ingredient.id)
    return index


def ingredient_of(name: str) -> str | None:
    """The ingredient id a list item's name stands for, else None."""
    index = _ingredient_index()
    return index.get(normalize(name)) or index.get(tokens_key(name))


def translate(name: str, lang: Lang) -> str | None:
    """The ingredient's (else the generic word's: "мясо" -> "meat") name in `lang` when the
    tables know the name, else None."""
    key = ingredient_of(name)
    if key is not None:
        return ingredients()[key].name(lang)
    found = _generic_index().get(normalize(name))
    return found[lang][0] if found is not None and found[lang] else None


# -- generic words ------------------------------------------------------------------------


@dataclass(frozen=True)
class Generic:
    id: str
    ru: tuple[str, ...]
    en: tuple[str, ...]
    members: frozenset[str]  # ingredient ids
    own: frozenset[str]  # the members named by the word itself ("сыр" is the ingredient сыр)
    covers: bool  # a product word ("сыр") hides its kinds; a category ("овощи") does not

    def __getitem__(self, lang: Lang) -> tuple[str, ...]:
        return self.ru if lang == "ru" else self.en


@cache
def generics() -> tuple[Generic, ...]:
    raw: dict[str, Any] = json.loads(GENERIC.read_text(encoding="utf-8"))["generic"]
    table = ingredients()
    out: list[Generic] = []
    for key, v in raw.items():
        words = {normalize(n) for n in (*v["ru"], *v["en"])}
        own = frozenset(
            m for m in v["members"] if words & {normalize(n) for n in (*table[m].ru, *table[m].en)}
        )
        members = frozenset(v["members"])
        covers = bool(v.get("covers", True))
        out.append(Generic(key, tuple(v["ru"]), tuple(v["en"]), members, own, covers))
    return tuple(out)


@cache
def _generic_index() -> dict[str, Generic]:
    """normalized generic word (either language) -> its entry."""
    index: dict[str, Generic] = {}
    for entry in generics():
        for name in (*entry.ru, *entry.en):
            index.setdefault(normalize(name), entry)
    return index


@dataclass(frozen=True)
class Reading:
    """What a list item's name stands for."""

    senses: frozenset[str]  # the ingredient ids it can be
    covers: frozenset[str]  # the ingredients the item already provides (never suggested)


@lru_cache(maxsize=4096)
def read_item(name: str) -> Reading:
    """A generic word stands for all its kinds ("мясо": beef, pork, lamb...) and, for a product
    word, provides them all ("сыр": твёрдый сыр, пармезан...); a category ("овощи") provides
    only its own ingredient, if any, so морковь can still be suggested. Any other name stands
    for the one ingredient it names, or nothing."""
    found = _generic_index().get(normalize(name))
    if found is not None:
        return Reading(found.members, found.members if found.covers else found.own)
    key = ingredient_of(name)
    one = frozenset([key] if key else [])
    return Reading(one, one)


def meaning(name: str) -> frozenset[str]:
    """The ingredient ids an item's name stands for (all kinds of a generic word)."""
    return read_item(name).senses


# -- the dish prompt ----------------------------------------------------------------------


def servings_of(prompt: str) -> tuple[int | None, str]:
    """(servings asked for, the prompt without them): "борщ на 6" -> (6, "борщ")."""
    match = None
    for found in _SERVINGS.finditer(prompt):
        match = found
    if match is not None and 0 < int(match.group(1)) <= 100:
        rest = (prompt[: match.start()] + " " + prompt[match.end() :]).strip()
        return int(match.group(1)), rest
    for word in fold(prompt).split():
        if word in _NUMBER_WORDS:
            return _NUMBER_WORDS[word], prompt
    return None, prompt


@cache
def _dish_names() -> list[tuple[str, frozenset[str], Dish, Lang, str]]:
    out: list[tuple[str, frozenset[str], Dish, Lang, str]] = []
    for dish in dishes():
        for lang, names in (("ru", dish.ru), ("en", dish.en)):
            for name in names:
                key = normalize(name)
                entry = (key, frozenset(key.split()), dish, lang, _surface(name))
                out.append(entry)  # type: ignore[arg-type]
    return out


def _surface(text: str) -> str:
    """Folded words without filler, before morphology (a typo confuses pymorphy3)."""
    return " ".join(w for w in re.findall(r"[^\W\d_]+", fold(text)) if w not in _FILLER)


# Words that say a dish is bought made: "frozen pizza" is the pizza on the serve list.
_READY_WORDS = frozenset(
    [
        "frozen",
        "ready",
        "chilled",
        "store",
        "bought",
        "shop",
        "замороженные",
        "замороженная",
        "замороженный",
        "готовые",
        "готовая",
        "готовый",
        "магазинные",
    ]
)


@cache
def _ready_index() -> dict[str, Dish]:
    """normalized dish name (either language) -> the dish, for dishes sold ready (with `serve`)."""
    index: dict[str, Dish] = {}
    for dish in dishes():
        if dish.serve:
            for name in (*dish.ru, *dish.en):
                index.setdefault(normalize(name), dish)
                index.setdefault(tokens_key(name), dish)
    return index


def ready_dish(name: str) -> Dish | None:
    """The dish a list *item* names when it is a product sold ready ("пельмени", "pizza",
    "hot dogs"): the person buys it made, so what goes with it is what it is served with
    (`Dish.serve`), not its raw ingredients. None for any other name."""
    index = _ready_index()
    found = index.get(normalize(name)) or index.get(tokens_key(name))
    if found is None:  # "frozen pizza", "замороженные пельмени": the same product
        words = [w for w in fold(name).split() if w not in _READY_WORDS]
        if words and len(words) < len(fold(name).split()):
            rest = " ".join(words)
            found = index.get(normalize(rest)) or index.get(tokens_key(rest))
    return found


def served_with(names: list[str], lang: Lang) -> list[Pairing]:
    """What the ready dishes a list names are eaten with, best first: each dish's `serve` list
    main first (the k-th counts 1/(k+1)), summed over the dishes; scores 0..1 by the best.
    What the list has is never offered."""
    have: set[str] = set()
    for name in names:
        have |= read_item(name).covers
    table = ingredients()
    scores: defaultdict[str, float] = defaultdict(float)
    because: dict[str, Dish] = {}
    for name in names:
        dish = ready_dish(name)
        if dish is None:
            continue
        for rank, key in enumerate(k for k in dish.serve if k not in have):
            scores[key] += 1 / (rank + 1)
            because.setdefault(key, dish)
    if not scores:
        return []
    top = max(scores.values())
    ranked = sorted(scores, key=lambda k: -scores[k])
    return [
        Pairing(table[k].name(lang), scores[k] / top, because[k].name(lang), k, because[k].kind)
        for k in ranked
    ]


def find_dish(prompt: str) -> tuple[Dish, int] | None:
    """The dish a prompt asks for and the servings (the dish's own when not given)."""
    servings, rest = servings_of(prompt)
    words = [w for w in normalize(rest).split() if w not in _FILLER and not w.isdigit()]
    if not words:
        return None
    key = " ".join(words)
    asked = frozenset(words)
    lang = detect_lang(rest)
    surface = _surface(rest)
    best: tuple[float, Dish] | None = None
    for name_key, name_words, dish, name_lang, name_surface in _dish_names():
        if name_key == key:
            score = 3.0
        elif name_words <= asked:
            score = 2.0 + len(name_words) / (len(asked) + 1)
        elif asked <= name_words:
            score = 1.0 + len(asked) / (len(name_words) + 1)
        else:
            score = _typo_score(surface, name_surface)
        if score > 0 and name_lang == lang:
            score += 0.01  # "caesar salad" on an English list: the English recipe
        if score > 0 and (best is None or score > best[0]):
            best = (score, dish)
    if best is None:
        return None
    return best[1], servings or best[1].serves


def _typo_score(asked: str, name_key: str) -> float:
    """A misspelt dish name ("борщь", "lazagne"): one edit, two from 8 letters."""
    from models.duplicates import edit_distance

    if min(len(asked), len(name_key)) < 4 or max(len(asked), len(name_key)) < 5:
        return 0.0
    limit = 2 if len(name_key) >= 8 else 1
    return 0.5 if edit_distance(asked, name_key, limit) <= limit else 0.0


def scale(qty: float | None, unit: str | None, factor: float) -> float | None:
    """A table quantity for `factor` times the servings, rounded to what a shop sells."""
    if qty is None:
        return None
    value = qty * factor
    if unit in _COUNTED:
        return float(max(1, math.ceil(value - 0.2)))
    if unit in ("g", "ml"):
        return float(max(50, math.floor(value / 50 + 0.5) * 50))
    return max(0.1, math.floor(value * 10 + 0.5) / 10)


def dish_items(dish: Dish, servings: int, lang: Lang) -> list[DishItem]:
    factor = servings / dish.serves
    table = ingredients()
    out: list[DishItem] = []
    for key, qty, unit in dish.items:
        value = scale(qty, unit, factor)
        out.append(DishItem(table[key].name(lang), value, unit if value is not None else None, key))
    return out


def prompt_lang(prompt: str, default: Lang) -> Lang:
    found = detect_lang(prompt)
    return found if found is not None else default


# -- pairings -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Pairing:
    name: str
    score: float  # 0..1
    because: str  # the dish's name in the list's language
    ingredient: str
    kind: str = "dish"  # the kind of `because`: "dish", or "set" (an occasion: breakfast, cleaning)


# How much more often an everyday dish is cooked than a rarer one where the list's language is
# spoken (the dish's `often`: 3 everyday, 2 common, 1 occasional, 0 rarely cooked there).
OFTEN_WEIGHT = (0.1, 0.25, 0.5, 1.0)
# The chance that an item on a list is not part of the dish the list is for (a stray staple).
STRAY = 0.25
BASIC_WEIGHT = 0.25  # salt, oil, flour...: on hand in most kitchens
NEGLIGIBLE = 1e-3  # dishes this much less likely than the best one do not vote


@cache
def _dishes_by_ingredient() -> dict[str, tuple[Dish, ...]]:
    grouped: defaultdict[str, list[Dish]] = defaultdict(list)
    for dish in dishes():
        for key in dish.ingredient_ids:
            grouped[key].append(dish)
    return {key: tuple(found) for key, found in grouped.items()}


@cache
def _dishes_by_id() -> dict[str, Dish]:
    return {dish.id: dish for dish in dishes()}


def dish_weights(names: list[str], lang: Lang) -> dict[str, float]:
    """How likely each dish is to be what a list is for (dish id -> probability, summing to 1
    over the dishes that share an ingredient with the list).

    A naive Bayes over the table: a dish's prior is how everyday it is where `lang` is spoken
    (OFTEN_WEIGHT); each known item on the list is either one of the dish's ingredients, main
    ones more likely (`Dish.shares`; a generic word can be any of its kinds), or a stray item
    (STRAY, spread over the whole vocabulary). So a dish gains from explaining more of the list
    (coverage) and from the list naming its main ingredients (specificity), and the prior
    decides where the evidence is thin.
    """
    senses = [s for s in (read_item(n).senses for n in names) if s]
    if not senses:
        return {}
    by_ingredient = _dishes_by_ingredient()
    candidates: dict[str, Dish] = {}
    for found in senses:
        for key in found:
            for dish in by_ingredient.get(key, ()):
                candidates[dish.id] = dish
    if not candidates:  # items the table knows, but no dish uses (tofu, сгущёнка)
        return {}
    vocabulary = len(ingredients())
    weights: dict[str, float] = {}
    for dish in candidates.values():
        shares = dish.shares
        log_p = math.log(OFTEN_WEIGHT[dish.commonness(lang)])
        for found in senses:
            explained = sum(shares.get(key, 0.0) for key in found)
            log_p += math.log((1 - STRAY) * explained + STRAY * len(found) / vocabulary)
        weights[dish.id] = log_p
    top = max(weights.values())
    exp = {key: math.exp(value - top) for key, value in weights.items()}
    total = sum(exp.values())
    return {key: value / total for key, value in exp.items()}


def explained(names: list[str], weights: dict[str, float]) -> list[float]:
    """For each list item, the chance that the dish the list is for uses it: the summed
    probability (`weights`, from dish_weights) of the dishes with one of its senses among their
    ingredients; 0 for an item the table does not know."""
    by_id = _dishes_by_id()
    out: list[float] = []
    for name in names:
        senses = read_item(name).senses
        out.append(
            min(1.0, sum(w for d, w in weights.items() if senses & by_id[d].ingredient_ids))
            if senses
            else 0.0
        )
    return out


def pairings(
    names: list[str], lang: Lang, limit: int = 10, weights: dict[str, float] | None = None
) -> list[Pairing]:
    """What goes with the items on a list: the other ingredients of the dishes the list is
    likely for, each scored by the summed probability of the dishes it is in (a vote; basics
    such as salt, oil, flour count a quarter). What the list has, by name or through a generic
    word ("сыр" covers твёрдый сыр, пармезан...), is never offered. Scores are scaled to 0..1
    by the best one. `weights`: dish_weights(names, lang), when the caller has them already.
    """
    if weights is None:
        weights = dish_weights(names, lang)
    if not weights:
        return []
    have: set[str] = set()
    for name in names:
        have |= read_item(name).covers
    by_id = _dishes_by_id()
    table = ingredients()
    scores: defaultdict[str, float] = defaultdict(float)
    best_dish: dict[str, tuple[float, str]] = {}
    floor = max(weights.values()) * NEGLIGIBLE
    for dish_id, weight in weights.items():
        if weight < floor:
            continue
        for key in by_id[dish_id].shares.keys() - have:
            scores[key] += weight * (BASIC_WEIGHT if table[key].basic else 1.0)
            if key not in best_dish or weight > best_dish[key][0]:
                best_dish[key] = (weight, dish_id)
    if not scores:
        return []
    top = max(scores.values())
    # equal votes (the items of one dish): its main ingredients first, as the table lists them
    ranked = sorted(scores, key=lambda k: (-scores[k], -by_id[best_dish[k][1]].shares[k], k))
    out: list[Pairing] = []
    for k in ranked[:limit]:
        dish = by_id[best_dish[k][1]]
        out.append(Pairing(table[k].name(lang), scores[k] / top, dish.name(lang), k, dish.kind))
    return out
