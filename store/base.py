"""The store interface: what the server needs from any persistence backend."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


class StoreError(Exception):
    """A storage operation failed."""


@dataclass(frozen=True)
class ListRecord:
    list_id: str
    created_at: int


class Store(Protocol):
    """A list store. Methods are synchronous and may block; the server calls them off the loop.

    Writes (`create_list`, `append`, `compact`, `delete_list`) are only ever called from one thread
    at a time (see `store.writer.Writer`); reads may come from any thread.
    """

    def create_list(self, list_id: str, created_at: int, initial_update: bytes) -> bool:
        """Create a list with its first update; False (and no change) when it exists already."""
        ...

    def get_list(self, list_id: str) -> ListRecord | None: ...

    def list_ids(self) -> list[str]: ...

    def load(self, list_id: str) -> list[bytes]:
        """The list's snapshot (if any) followed by the updates after it, oldest first."""
        ...

    def append(self, batch: Sequence[tuple[str, bytes]]) -> None:
        """Commit (list_id, update) pairs in one transaction, in order."""
        ...

    def needs_compaction(self, list_id: str) -> bool: ...

    def compact(self, list_id: str) -> None:
        """Fold the snapshot and the update tail into one new snapshot, atomically."""
        ...

    def delete_list(self, list_id: str) -> bool: ...

    def close(self) -> None: ...
