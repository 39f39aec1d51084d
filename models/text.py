"""Name normalization for comparing item names in Russian and English.

`normalize()` builds a comparison key: case folded, ё -> е, punctuation dropped, Russian words
reduced to their dictionary form with pymorphy3, English plurals folded by a small rule set.
The pymorphy3 analyzer is created lazily, once per process.
"""

from __future__ import annotations

import json
import re
import threading
import unicodedata
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, Literal

Lang = Literal["en", "ru"]

_CYRILLIC = re.compile(r"[а-яё]", re.IGNORECASE)
_LATIN = re.compile(r"[a-z]", re.IGNORECASE)
_WORD = re.compile(r"[^\W_]+(?:[.,]\d+)?%?")
_SPACED_PERCENT = re.compile(r"(\d)\s+%")
_PROPER_NAME_TAGS = frozenset({"Surn", "Name", "Patr", "Geox", "Orgn", "Trad"})

_morph: Any = None
_morph_lock = threading.Lock()


def morph() -> Any:
    """The shared pymorphy3 MorphAnalyzer (created on first use)."""
    global _morph
    if _morph is None:
        with _morph_lock:
            if _morph is None:
                import pymorphy3

                _morph = pymorphy3.MorphAnalyzer()
    return _morph


def is_cyrillic(word: str) -> bool:
    return _CYRILLIC.search(word) is not None


def detect_lang(text: str) -> Lang | None:
    """'ru' when the text has any Cyrillic letter, 'en' when it has Latin letters only, else None.

    Russian lists often carry brand names in Latin ("сыр Gouda"); English ones never Cyrillic.
    """
    if _CYRILLIC.search(text):
        return "ru"
    return "en" if _LATIN.search(text) else None


def fold(text: str) -> str:
    """Case-fold and write ё as е (the cheap part of normalization, shared with the parser)."""
    return text.casefold().replace("ё", "е")


def is_proper_name(parse: Any) -> bool:
    return bool(_PROPER_NAME_TAGS & parse.tag.grammemes)


@lru_cache(maxsize=8192)
def lemma_ru(word: str) -> str:
    """Dictionary form of a Russian word; proper-name readings (surnames...) are skipped."""
    parses = morph().parse(word)
    common = [p for p in parses if not is_proper_name(p)] or parses
    if not common:
        return word
    best = common[0]
    if best.tag.POS == "PRTF":  # a participle's normal form is its verb: keep the participle
        inflected = best.inflect({"masc", "sing", "nomn"})
        if inflected is not None:
            return fold(str(inflected.word))
    return fold(str(best.normal_form))


_EN_IRREGULAR = {
    "leaves": "leaf",
    "loaves": "loaf",
    "halves": "half",
    "knives": "knife",
    "shelves": "shelf",
    "calves": "calf",
    "mice": "mouse",
    "teeth": "tooth",
    "feet": "foot",
    "geese": "goose",
    "children": "child",
}
_EN_IE_WORDS = frozenset(
    {
        "cookies",
        "brownies",
        "smoothies",
        "veggies",
        "pies",
        "ties",
        "hoodies",
        "beanies",
        "pasties",
        "movies",
        "calories",
        "goodies",
        "selfies",
        "zombies",
        "rookies",
    }
)
_EN_OES_KEEP = frozenset({"shoes", "toes", "hoes", "canoes", "oboes"})
_EN_NOT_PLURAL_ENDINGS = ("ss", "us", "is")
_EN_NOT_PLURAL = frozenset(
    {
        "molasses",
        "news",
        "series",
        "species",
        "lens",
        "schnapps",
        "grits",
        "jeans",
        "pants",
        "shorts",
        "scissors",
        "tongs",
        "pliers",
        "tweezers",
        "swimtrunks",
        "headphones",
    }
)


def singular_en(word: str) -> str:
    """Fold a regular English plural to its singular (a small, documented rule set)."""
    w = word
    if len(w) <= 3 or not w.endswith("s") or w.endswith(_EN_NOT_PLURAL_ENDINGS):
        return w
    if w in _EN_NOT_PLURAL:
        return w
    if w in _EN_IRREGULAR:
        return _EN_IRREGULAR[w]
    if w in _EN_IE_WORDS:
        return w[:-1]
    if w.endswith("ies"):
        return w[:-3] + "y"
    if w.endswith("oes") and w not in _EN_OES_KEEP:
        return w[:-2]
    if w.endswith(("ches", "shes", "xes", "sses", "zzes")):
        return w[:-2]
    return w[:-1]


@cache
def variants() -> dict[str, str]:
    """Spelling variants (chilli -> chili, yoghurt -> yogurt): models/data/variants.json."""
    path = Path(__file__).parent / "data" / "variants.json"
    found: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))["variants"]
    return found


def strip_accents(word: str) -> str:
    """Latin letters without their accents: jalapeño -> jalapeno (never applied to Cyrillic,
    where й and ё are letters of their own)."""
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def normalize_word(word: str) -> str:
    w = fold(word)
    if is_cyrillic(w):
        w = lemma_ru(w)
    elif _LATIN.search(w):
        w = strip_accents(w)
        if w.isalpha():
            w = singular_en(w)
    return variants().get(w, w)


@lru_cache(maxsize=8192)
def normalize(name: str, lang: Lang | None = None) -> str:
    """A key for comparing item names: "Молока" -> "молоко", "Eggs" -> "egg".

    Words are kept in order; punctuation, hyphens and repeated spaces are dropped. The script of
    each word decides how it is folded, so `lang` is accepted for symmetry and ignored.
    """
    del lang
    words = _WORD.findall(_SPACED_PERCENT.sub(r"\1%", fold(name)))
    return " ".join(normalize_word(w) for w in words)


def tokens_key(name: str) -> str:
    """normalize() with the words sorted: "молоко топлёное" == "топлёное молоко"."""
    return " ".join(sorted(normalize(name).split()))
