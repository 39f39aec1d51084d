"""Recognise an item already on the list: "Молока" matches "молоко", "Eggs" matches "egg"."""

from __future__ import annotations

from collections.abc import Iterable

from models.text import normalize, tokens_key


def find_duplicate(name: str, existing_names: Iterable[str]) -> str | None:
    """The first existing name with the same normalized key, else the first with the same words in
    another order ("молоко топлёное" / "топлёное молоко"), else None. Empty names never match."""
    key = normalize(name)
    if not key:
        return None
    words = tokens_key(name)
    reordered: str | None = None
    for existing in existing_names:
        other = normalize(existing)
        if other == key:
            return existing
        if reordered is None and other and tokens_key(existing) == words:
            reordered = existing
    return reordered
