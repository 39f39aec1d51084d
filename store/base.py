"""The store interface: what the server needs from any persistence backend."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol


class StoreError(Exception):
    """A storage operation failed."""


class TokenInUseError(StoreError):
    """Another credential already has this token."""


class StoreUnavailableError(StoreError):
    """The database could not be reached; nothing was committed (HTTP 503, retry later)."""


@dataclass(frozen=True)
class ListRecord:
    list_id: str
    created_at: int


@dataclass(frozen=True)
class DeletedList:
    """A soft-deleted list, restorable until its retention window ends and it is purged."""

    list_id: str
    created_at: int
    deleted_at: int


@dataclass(frozen=True)
class ListSummary:
    """What an operator sees of a list without decoding it: sizes, dates, share counts."""

    list_id: str
    created_at: int
    deleted_at: int | None
    snapshot_bytes: int
    log_bytes: int  # the update log after (and not yet folded into) the snapshot
    updates: int
    last_change: int
    shares: dict[str, int]  # unrevoked credentials by role


@dataclass(frozen=True)
class Share:
    """A credential for one list: the owner's token or a share link, with its role."""

    share_id: str
    list_id: str
    role: str  # "owner", "edit" or "view"
    label: str
    created_at: int
    revoked_at: int | None = None
    last_used_at: int | None = None  # ms; recorded at most once a minute (server/uses.py)


@dataclass(frozen=True)
class Event:
    """A typed change event; `event_id` is assigned by the store when it is committed."""

    type: str
    actor: str
    data: str  # JSON object
    created_at: int
    event_id: int = 0
    list_id: str = ""


@dataclass(frozen=True)
class Change:
    """One committed unit: a Yjs update and the events it caused."""

    list_id: str
    update: bytes
    events: tuple[Event, ...] = ()


class Store(Protocol):
    """A list store. Methods are synchronous and may block; the server calls them off the loop.

    Writes (`create_list`, `append`, `compact`, `delete_list`, `record_uses`, ...) are only ever
    called from one thread at a time (see `store.writer.Writer`); reads may come from any thread.
    """

    def create_list(
        self, list_id: str, created_at: int, initial_update: bytes, owner: Share, token_hash: str
    ) -> bool:
        """Create a list with its first update and owner credential; False when it exists."""
        ...

    def get_list(self, list_id: str) -> ListRecord | None: ...

    def list_ids(self) -> list[str]: ...

    def load(self, list_id: str, *, include_deleted: bool = False) -> list[bytes]:
        """The list's snapshot (if any) followed by the updates after it, oldest first.

        A deleted list loads as [] unless include_deleted (operator tools: check, admin)."""
        ...

    def append(self, batch: Sequence[Change]) -> Sequence[int] | None:
        """Commit changes (updates with their events) in one transaction, in order.

        A backend shared by several processes (PostgreSQL) returns each change's sequence
        number in its list (contiguous per list, in commit order): what fan-out publishes so
        other processes notice a missed message. SQLite (one process) returns None.
        """
        ...

    def events_after(self, list_id: str, after_id: int, limit: int) -> list[Event]:
        """Committed events with id > after_id, oldest first."""
        ...

    def recent_events(self, list_id: str, limit: int) -> list[Event]:
        """The newest events, newest first."""
        ...

    def add_share(self, share: Share, token_hash: str) -> None: ...

    def shares(self, list_id: str) -> list[Share]: ...

    def revoke_share(self, list_id: str, share_id: str, at: int) -> bool: ...

    def find_token(self, token_hash: str) -> Share | None:
        """The unrevoked credential with this token hash, if any."""
        ...

    def record_uses(self, uses: Mapping[str, int]) -> None:
        """Note when credentials were last used (share id -> ms), in one transaction.

        A time earlier than the one stored is ignored, so writes from several processes in any
        order never move a last use back; unknown ids are skipped.
        """
        ...

    def needs_compaction(self, list_id: str) -> bool: ...

    def compact(self, list_id: str) -> None:
        """Fold the snapshot and the update tail into one new snapshot, atomically."""
        ...

    def install_snapshot(self, list_id: str, state: bytes) -> None:
        """Make state the list's snapshot and drop the whole update log it replaces.

        The caller guarantees that state contains every update committed for the list so far
        (the server encodes its in-memory document, which applies each update before queueing
        it): far cheaper than replaying the log, which `compact` does.
        """
        ...

    def delete_list(self, list_id: str, at: int | None = None) -> bool:
        """Soft delete: hide the list (get_list, load, list_ids, find_token see nothing) but
        keep its data, shares and a tombstone; False when there is no live list with this id.
        `at` (ms, default now) starts its retention window."""
        ...

    def restore_list(self, list_id: str) -> bool:
        """Bring back a deleted, not yet purged list with its data and shares."""
        ...

    def deleted_lists(self) -> list[DeletedList]:
        """Deleted lists still restorable (not purged), most recently deleted first."""
        ...

    def purge_deleted(self, before_ms: int) -> int:
        """Drop the data and shares of lists deleted before before_ms; keep their tombstones
        (the id is never re-created). Returns how many lists were purged."""
        ...

    def summaries(self, list_ids: Sequence[str]) -> list[ListSummary]:
        """Sizes and dates of these lists (live or deleted, not purged), in the order given."""
        ...

    def close(self) -> None: ...
