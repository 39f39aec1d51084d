"""Recognise an item already on the list: "Молока" matches "молоко", "Eggs" matches "egg", and
a typo matches the word it misspells ("молако" / "молоко", "avacado" / "avocado").

The rules, in order (client/src/lib/duplicates.js implements the same ones; both pass
tests/vectors/duplicates.json):

1. the same normalized key (models.text.normalize: case, ё, morphology, plurals, variants);
2. the same words in another order ("молоко топлёное" / "топлёное молоко");
3. a typo: the same number of words, each pair equal or *typo-close*. Two words are typo-close
   when exactly one of them is a known vocabulary word (models.forms.known_words), the other is
   at least 5 letters long and within one edit (a transposition counts as one; two edits from 8
   letters) of one of the known word's forms. Two known words are never typos of each other:
   that is the guard that keeps сыр/сырок, сливки/сливы, peas/pears apart, and cream / ice
   cream differ by a word. Nor is a Russian dictionary word a typo (бетон is not батон): Python
   asks pymorphy3, the browser a generated list of the dictionary words one edit from the
   vocabulary (models.forms.near_words).
"""

from __future__ import annotations

from collections.abc import Iterable

from models.forms import forms_of, is_dictionary_word, known_lemma, known_words
from models.text import normalize, tokens_key

MIN_TYPO_LENGTH = 5
LONG_WORD = 8


def find_duplicate(name: str, existing_names: Iterable[str]) -> str | None:
    """The first existing name with the same normalized key, else the first with the same words in
    another order, else the first that differs by typos only, else None. Empty names never
    match."""
    key = normalize(name)
    if not key:
        return None
    words = tokens_key(name)
    reordered: str | None = None
    typo: str | None = None
    for existing in existing_names:
        other = normalize(existing)
        if other == key:
            return existing
        if reordered is None and other and tokens_key(existing) == words:
            reordered = existing
        if typo is None and reordered is None and other and typo_match(name, existing):
            typo = existing
    return reordered or typo


def _words(name: str) -> list[str]:
    return [known_lemma(w) for w in normalize_surface(name)]


def normalize_surface(name: str) -> list[str]:
    """The folded words of a name as normalize() splits them, before morphology."""
    from models.text import _SPACED_PERCENT, _WORD, fold, is_cyrillic, strip_accents

    words = _WORD.findall(_SPACED_PERCENT.sub(r"\1%", fold(name)))
    return [w if is_cyrillic(w) else strip_accents(w) for w in words]


def typo_match(a: str, b: str) -> bool:
    left, right = _words(a), _words(b)
    if len(left) != len(right) or not left:
        return False
    typos = 0
    for x, y in zip(left, right, strict=True):
        if x == y:
            continue
        if not typo_close(x, y):
            return False
        typos += 1
    return typos > 0


def typo_close(x: str, y: str) -> bool:
    known = known_words()
    if (x in known) == (y in known):
        return False
    typed, right = (y, x) if x in known else (x, y)
    if len(typed) < MIN_TYPO_LENGTH or is_dictionary_word(typed):
        return False
    limit = 2 if len(typed) >= LONG_WORD else 1
    return any(edit_distance(typed, form, limit) <= limit for form in forms_of(right))


def edit_distance(a: str, b: str, limit: int) -> int:
    """Optimal string alignment distance (a transposition is one edit); limit + 1 when over."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[len(b)]
