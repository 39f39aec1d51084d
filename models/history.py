"""What the suggestion engines read: lists, their items and when they were added and bought.

The server builds these from the documents in the store (and, for items since deleted,
from the update log); the engines never touch the store themselves.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Final, Literal

Lang = Literal["ru", "en"]
Normalize = Callable[[str, str | None], str]


@dataclass(frozen=True, slots=True)
class Entry:
    """One occurrence of an item on a list.

    `checked_at` is when it was bought (None: not bought). `present` is False for an item
    deleted from the document since (known from history). An item that is present and
    not checked is *on the list*: the engines never suggest its name.
    """

    name: str
    added_at: int
    checked_at: int | None = None
    present: bool = True
    item_id: str = ""

    @property
    def open(self) -> bool:
        return self.present and self.checked_at is None


@dataclass(frozen=True, slots=True)
class ListRecord:
    list_id: str
    lang: Lang
    entries: Sequence[Entry] = ()
    title: str = ""
    people: int = 1  # distinct people who added or bought items (for `together`'s threshold)

    def open_names(self) -> list[str]:
        return [e.name for e in self.entries if e.open]

    @classmethod
    def from_items(
        cls,
        list_id: str,
        title: str,
        items: Iterable[Mapping[str, Any]],
        lang: Lang | None = None,
    ) -> ListRecord:
        """From item dicts as in the list document / `GET /api/lists/{id}` (schema fields)."""
        entries = [
            Entry(
                name=str(item.get("name") or ""),
                added_at=int(item.get("created_at") or 0),
                checked_at=(
                    int(item.get("checked_at") or item.get("updated_at") or 0)
                    if item.get("checked")
                    else None
                ),
                item_id=str(item.get("id") or ""),
            )
            for item in items
            if item.get("name")
        ]
        found = lang or list_lang([title, *(e.name for e in entries)])
        return cls(list_id, found, entries, title)


def list_lang(texts: Iterable[str], default: Lang = "en") -> Lang:
    """'ru' when Cyrillic letters are at least as many as Latin ones, 'en' when fewer."""
    cyrillic = latin = 0
    for text in texts:
        cyrillic += len(_CYRILLIC.findall(text))
        latin += len(_LATIN.findall(text))
    if cyrillic == latin == 0:
        return default
    return "ru" if cyrillic >= latin else "en"


_CYRILLIC = re.compile(r"[а-яё]", re.IGNORECASE)
_LATIN = re.compile(r"[a-z]", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Suggestion:
    name: str
    source: Literal["history", "together", "model", "dish"]
    reason: str
    score: float
    # Set when the suggestion is a checked item still in the document: accepting it means
    # unchecking that item rather than adding a new one.
    item_id: str | None = None
    extra: dict[str, object] = field(default_factory=dict, compare=False)

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "name": self.name,
            "source": self.source,
            "reason": self.reason,
            "score": round(self.score, 4),
        }
        if self.item_id:
            out["item_id"] = self.item_id
        for key in REASON_FIELDS:
            if self.extra.get(key) is not None:
                out[key] = self.extra[key]
        return out


# What a suggestion may carry beside its `reason` text, for an app to word the reason in its
# own language: `with` (together: the list's names it usually goes with), `every_days` and
# `last_days` (history: the usual interval, days since the last purchase), `dish` (the dish
# the table pairs it with, or the dish asked for), `occasion` (the table's set it comes from:
# breakfast, cleaning), `servings`, and `qty` / `unit` (dish).
REASON_FIELDS: Final = (
    "qty",
    "unit",
    "with",
    "every_days",
    "last_days",
    "dish",
    "occasion",
    "servings",
)


_SPACES = re.compile(r"\s+")
_PUNCT = re.compile(r"[^\w\s-]")


@lru_cache(maxsize=65536)
def basic_normalize(name: str, lang: str | None = None) -> str:
    """Case, ё/е, punctuation and spaces only; `models.text.normalize` adds morphology."""
    text = unicodedata.normalize("NFKC", name).casefold().replace("ё", "е")
    text = _PUNCT.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


def default_normalize() -> Normalize:
    """`models.text.normalize` (morphology-aware) when available, else `basic_normalize`."""
    try:
        from models.text import normalize
    except ImportError:  # pragma: no cover - models.text is part of the project
        return basic_normalize
    return lru_cache(maxsize=65536)(normalize)
