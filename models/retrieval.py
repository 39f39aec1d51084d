"""The dishes of the built-in table nearest to a prompt or to a list's items (no model).

    nearest_dishes("борщ зелёный на 4")            -> зелёный борщ 1.0, борщ 0.7, ...
    nearest_dishes(items=["свёкла", "капуста"])     -> борщ, щи, винегрет ...
    blend(found, servings, "ru")                    -> their ingredients, by weighted vote

Two signals, both in 0..1:

- *name*: each prompt word against each word of every name of a dish, in either language. Two
  words match fully when their normalized keys agree (pymorphy3 lemmas, English singulars:
  "грибами" = "грибы"); partly on a shared Russian stem ("грибной" / "гриб", 0.6), a typo
  (one edit, two from 8 letters, 0.8; never from a word some dish name has: "toast" is not
  "roast") or a transliteration ("pelmeni" / "пельмени", "borshch" / "борщ", 0.8). Words
  count by how rare they are among dish names (idf: "суп", "salad", "pie" weigh less than
  "борщ"). A name scores the soft F1 of the prompt's words it covers and its own words the
  prompt covers; a dish its best name.
- *ingredients*: prompt words and list items that name an ingredient of the table
  (models.dishes.ingredient_of); a dish scores their weighted cosine with its ingredients
  (basics such as salt and flour count a quarter).

A dish's score is 1 - (1 - name) * (1 - 0.6 * ingredients): the name decides, the ingredients
add to it or stand alone when the name says nothing. With a list's items the ingredient
signal weighs fully (1 instead of 0.6): a list's title ("Дача", "Taco night") names a dish
less often than a prompt does.

The model's prompts carry the nearest dishes as context (models/prompts.py); a prompt the
table does not know by name is answered from them where the model is off or not kept for the
language (models/suggest.py). Constants were set on a development set (the table's own
dishes, each asked with itself taken out: `tests/eval_suggest.py --no-model --leave-one-out`),
never on the held-out prompts. See docs/suggestions.md.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Container, Iterable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache

from models import dishes
from models.dishes import Dish, DishItem, Lang
from models.prompts import Similar
from models.text import fold, is_cyrillic, normalize_word, strip_accents

INGREDIENT_WEIGHT = 0.6
MIN_SCORE = 0.3  # below this a dish is not "near" at all
KEEP_RATIO = 0.6  # blend and show only dishes scoring at least 0.6 of the best one
BASIC_WEIGHT = 0.25

_STOP = frozenset(
    [
        "и",
        "с",
        "со",
        "в",
        "во",
        "по",
        "под",
        "на",
        "из",
        "к",
        "для",
        "a",
        "an",
        "the",
        "and",
        "with",
        "of",
        "in",
        "on",
        "for",
        "to",
    ]
) | frozenset(dishes._FILLER)
_LETTERS = re.compile(r"[^\W\d_]+")
_LATIN = "a b v g d e e zh z i y k l m n o p r s t u f kh ts ch sh shch _ y _ e yu ya"
_TRANSLIT = {
    c: latin.strip("_")
    for c, latin in zip("абвгдеёжзийклмнопрстуфхцчшщъыьэюя", _LATIN.split(), strict=True)
}


@dataclass(frozen=True, slots=True)
class Retrieved:
    dish: Dish
    score: float  # 0..1
    name: float  # the name signal alone
    ingredients: float  # the ingredient signal alone


@dataclass(frozen=True, slots=True)
class _Word:
    key: str  # normalized (lemma, singular)
    surface: str  # folded as written
    latin: str  # transliterated when Cyrillic, else the surface without accents
    cyrillic: bool


def translit(word: str) -> str:
    """A Cyrillic word in Latin letters, the way Russian dish names are spelt in English
    (ь and ъ dropped): "пельмени" -> "pelmeni", "щи" -> "shchi"."""
    return "".join(_TRANSLIT.get(c, c) for c in fold(word))


@cache
def _word(surface: str) -> _Word:
    cyrillic = is_cyrillic(surface)
    latin = translit(surface) if cyrillic else strip_accents(surface)
    return _Word(normalize_word(surface), surface, latin, cyrillic)


def _words(text: str) -> tuple[_Word, ...]:
    return tuple(_word(w) for w in _LETTERS.findall(fold(text)) if w not in _STOP)


def _close(a: str, b: str) -> bool:
    """A typo apart: one edit from 5 letters, two from 8 (the longer word decides)."""
    from models.duplicates import edit_distance

    longest = max(len(a), len(b))
    if min(len(a), len(b)) < 4 or longest < 5:
        return False
    limit = 2 if longest >= 8 else 1
    return edit_distance(a, b, limit) <= limit


def similarity(a: _Word, b: _Word, known: Container[str] = ()) -> float:
    """How far two words name the same thing: 1 the same key, 0.8 a typo or transliteration,
    0.6 a shared Russian stem, else 0. A word in `known` (the words of the dish names) is
    nobody's typo: "toast" is not "roast"."""
    if a.key == b.key:
        return 1.0
    if a.cyrillic != b.cyrillic:
        return 0.8 if _close(a.latin, b.latin) else 0.0
    if a.key not in known and _close(a.surface, b.surface):
        return 0.8
    stem = len(_common_prefix(a.key, b.key))
    if a.cyrillic and stem >= 4 and stem >= min(len(a.key), len(b.key)) - 2:
        return 0.6  # "грибной" / "гриб"; English has its plurals in the key, "bread" / "breakfast"
    return 0.0


def _common_prefix(a: str, b: str) -> str:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return a[:n]


# -- the index over the table (rebuilt when the table is: both are cached) -------------------


@dataclass(frozen=True, slots=True, eq=False)
class _Index:
    names: tuple[tuple[Dish, tuple[tuple[_Word, ...], ...]], ...]
    idf: dict[str, float]
    max_idf: float
    by_ingredient: dict[str, tuple[int, ...]]  # ingredient -> positions in `names`
    by_word: dict[_Word, tuple[int, ...]]  # every word of every name -> positions in `names`

    def row(self, word: _Word) -> dict[_Word, float]:
        """The name words `word` is similar to (cached: a prompt's words recur)."""
        return _row(word, self)


@lru_cache(maxsize=4096)
def _row(word: _Word, index: _Index) -> dict[_Word, float]:
    found = ((other, similarity(word, other, index.idf)) for other in index.by_word)
    return {other: sim for other, sim in found if sim}


@cache
def _index(table: tuple[Dish, ...]) -> _Index:
    names: list[tuple[Dish, tuple[tuple[_Word, ...], ...]]] = []
    df: Counter[str] = Counter()
    by_ingredient: defaultdict[str, list[int]] = defaultdict(list)
    by_word: defaultdict[_Word, set[int]] = defaultdict(set)
    for position, dish in enumerate(table):
        words = tuple(w for w in (_words(n) for n in (*dish.ru, *dish.en)) if w)
        names.append((dish, words))
        df.update({w.key for name in words for w in name})
        for name in words:
            for word in name:
                by_word[word].add(position)
        for key in dish.ingredient_ids:
            by_ingredient[key].append(position)
    n = max(len(table), 1)
    idf = {key: math.log(1 + n / count) for key, count in df.items()}
    return _Index(
        tuple(names),
        idf,
        math.log(1 + n),
        {key: tuple(found) for key, found in by_ingredient.items()},
        {word: tuple(sorted(found)) for word, found in by_word.items()},
    )


def _weight(word: _Word, index: _Index) -> float:
    return index.idf.get(word.key, index.max_idf)


def _name_score(asked: tuple[_Word, ...], name: tuple[_Word, ...], index: _Index) -> float:
    """The soft F1 of the asked words covered by the name and the name's words covered."""
    best_for_name = [0.0] * len(name)
    covered = total = 0.0
    for word in asked:
        best = 0.0
        row = index.row(word)
        for i, other in enumerate(name):
            sim = row.get(other, 0.0)
            best = max(best, sim)
            best_for_name[i] = max(best_for_name[i], sim)
        covered += best * _weight(word, index)
        total += _weight(word, index)
    if covered == 0:
        return 0.0
    recall = covered / total
    name_total = sum(_weight(w, index) for w in name)
    precision = sum(b * _weight(w, index) for b, w in zip(best_for_name, name, strict=True))
    precision /= name_total
    return 2 * recall * precision / (recall + precision) if precision else 0.0


def _ingredient_weight(key: str) -> float:
    return BASIC_WEIGHT if dishes.ingredients()[key].basic else 1.0


def _ingredient_score(have: frozenset[str], dish: Dish) -> float:
    """Weighted cosine of the asked ingredients and the dish's."""
    shared = sum(_ingredient_weight(k) for k in have & dish.ingredient_ids)
    if not shared:
        return 0.0
    mine = sum(_ingredient_weight(k) for k in have)
    theirs = sum(_ingredient_weight(k) for k in dish.ingredient_ids)
    return shared / math.sqrt(mine * theirs)


def prompt_ingredients(prompt: str) -> frozenset[str]:
    """The ingredients a prompt names: "гречка с грибами" -> buckwheat, mushrooms."""
    words = _LETTERS.findall(fold(prompt))
    found: set[str] = set()
    for i, word in enumerate(words):
        pair = dishes.ingredient_of(" ".join(words[i : i + 2])) if i + 1 < len(words) else None
        single = dishes.ingredient_of(word) if word not in _STOP else None
        found.update(k for k in (pair, single) if k)
    return frozenset(found)


def nearest_dishes(
    prompt: str = "",
    items: Iterable[str] = (),
    *,
    k: int = 3,
    min_score: float = MIN_SCORE,
) -> list[Retrieved]:
    """The `k` dishes nearest to a prompt and/or a list's items, best first, each scoring at
    least `min_score`. Servings ("на 4", "for 6") are not part of the name."""
    _, rest = dishes.servings_of(prompt) if prompt.strip() else (None, "")
    asked = _words(rest)
    items = list(items)
    have = prompt_ingredients(rest) | {
        found for found in (dishes.ingredient_of(n) for n in items) if found
    }
    if not asked and not have:
        return []
    table = dishes.dishes()
    index = _index(table)
    # Only the dishes with a word like one asked or an ingredient asked can score above 0.
    candidates = {p for key in have for p in index.by_ingredient.get(key, ())}
    for word in asked:
        candidates.update(p for other in index.row(word) for p in index.by_word[other])
    out: list[Retrieved] = []
    for position in candidates:
        dish, names = index.names[position]
        name = max((_name_score(asked, n, index) for n in names), default=0.0) if asked else 0.0
        ingredients = _ingredient_score(have, dish) if have else 0.0
        weight = 1.0 if items else INGREDIENT_WEIGHT  # a list's items: as strong as a name
        score = 1 - (1 - name) * (1 - weight * ingredients)
        if score >= min_score:
            out.append(Retrieved(dish, score, name, ingredients))
    out.sort(key=lambda r: (-r.score, r.dish.id))
    return out[:k]


def _kept(found: Sequence[Retrieved]) -> list[Retrieved]:
    return [r for r in found if r.score >= KEEP_RATIO * found[0].score] if found else []


@dataclass(frozen=True, slots=True)
class Blended:
    item: DishItem
    score: float  # the sum of the scores of the retrieved dishes that use it, 0..1 scaled
    dishes: tuple[str, ...]  # the names (in the asked language) of those dishes


def blend(
    found: Sequence[Retrieved], servings: int | None, lang: Lang, limit: int = 20
) -> list[Blended]:
    """The retrieved dishes' ingredients by weighted vote: what the near dishes agree on first,
    then the nearest dish's own, in its order. Dishes under KEEP_RATIO of the best are left out;
    quantities come from the best dish using the ingredient, scaled to `servings` (its own
    when None)."""
    if not found:
        return []
    kept = _kept(found)
    votes: defaultdict[str, float] = defaultdict(float)
    first: dict[str, tuple[int, int]] = {}  # ingredient -> (dish rank, position in the dish)
    source: dict[str, DishItem] = {}
    users: defaultdict[str, list[str]] = defaultdict(list)
    for rank, retrieved in enumerate(kept):
        dish = retrieved.dish
        items = dishes.dish_items(dish, servings or dish.serves, lang)
        for position, item in enumerate(items):
            votes[item.ingredient] += retrieved.score * (
                0.5 if dishes.ingredients()[item.ingredient].basic else 1.0
            )
            users[item.ingredient].append(dish.name(lang))
            if item.ingredient not in first:
                first[item.ingredient] = (rank, position)
                source[item.ingredient] = item
    ranked = sorted(votes, key=lambda key: (-round(votes[key], 6), first[key]))[:limit]
    top = votes[ranked[0]]
    return [
        Blended(source[key], votes[key] / top, tuple(dict.fromkeys(users[key]))) for key in ranked
    ]


def context(found: Sequence[Retrieved], lang: Lang, per_dish: int = 12) -> list[Similar]:
    """The retrieved dishes as the model's prompts show them: a name and its ingredients, in
    the list's language, basics last and at most `per_dish` of them (dishes under KEEP_RATIO
    of the best left out, as in `blend`)."""
    table = dishes.ingredients()
    out: list[Similar] = []
    for retrieved in _kept(found):
        keys = [key for key, _, _ in retrieved.dish.items]
        keys.sort(key=lambda key: table[key].basic)  # stable: the table's order otherwise
        out.append((retrieved.dish.name(lang), [table[key].name(lang) for key in keys[:per_dish]]))
    return out
