"""What the operator sees of a stored list: its title, item count and encoded size.

A loaded list is described from its room's document; any other is decoded from its stored
history (a fresh document, on a worker thread) and cached until the list changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pycrdt import Doc

from server import schema
from store import ListSummary, Store
from store.replay import apply_history


@dataclass(frozen=True)
class Decoded:
    title: str
    items: int
    document_bytes: int


def decode(updates: list[bytes], list_id: str) -> Decoded:
    """Title, item count and encoded size of a stored history (a fresh document, any thread)."""
    doc: Doc[Any] = Doc()
    apply_history(doc, updates, list_id)
    return describe(doc)


def describe(doc: Doc[Any]) -> Decoded:
    title = schema.meta(doc).get("title")
    return Decoded(
        title if isinstance(title, str) else "",
        len(schema.items(doc)),
        len(doc.get_update()),
    )


class DecodedLists:
    """Decoded titles and sizes of stored lists, cached until the list changes."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._cache: dict[str, tuple[tuple[int, int, int], Decoded]] = {}

    def decoded(self, summary: ListSummary) -> Decoded:
        """Runs on a worker thread: the document is made, read and dropped there."""
        key = (summary.last_change, summary.updates, summary.snapshot_bytes)
        cached = self._cache.get(summary.list_id)
        if cached is not None and cached[0] == key:
            return cached[1]
        updates = self.store.load(summary.list_id, include_deleted=True)
        result = decode(updates, summary.list_id)
        if len(self._cache) > 100_000:
            self._cache.clear()
        self._cache[summary.list_id] = (key, result)
        return result

    def forget(self, list_id: str) -> None:
        self._cache.pop(list_id, None)
