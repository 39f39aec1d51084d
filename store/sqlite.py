"""SQLite backend: WAL, an append log of Yjs updates, and snapshots folded by compaction."""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from store.base import (
    Change,
    DeletedList,
    Event,
    ListRecord,
    ListSummary,
    Share,
    TokenInUseError,
)
from store.migrations import migrations
from store.replay import replay
from store.sqlite_conn import SQLiteFile

log = logging.getLogger("listok.store")


@dataclass
class _Tail:
    count: int
    size: int


def _event(row: tuple[int, str, str, str, str, int]) -> Event:
    event_id, list_id, kind, actor, data, created_at = row
    return Event(kind, actor, data, created_at, event_id=event_id, list_id=list_id)


def _now_ms() -> int:
    return int(time.time() * 1000)


class SQLiteStore(SQLiteFile):
    """One database file for all lists; all writes go through one connection (one thread)."""

    def __init__(
        self,
        path: Path,
        *,
        synchronous: str = "FULL",
        compact_updates: int = 500,
        compact_bytes: int = 1 << 20,
        events_kept: int = 5000,
    ) -> None:
        super().__init__(path, synchronous=synchronous, timeout=10)
        self.compact_updates = compact_updates
        self.compact_bytes = compact_bytes
        self.events_kept = events_kept
        self._tails: dict[str, _Tail] = {}
        self._migrate(migrations)

    def create_list(
        self, list_id: str, created_at: int, initial_update: bytes, owner: Share, token_hash: str
    ) -> bool:
        with self._transaction() as conn:
            # A tombstoned (deleted or purged) id counts as existing: it is never re-created.
            exists = conn.execute("SELECT 1 FROM lists WHERE id = ?", (list_id,)).fetchone()
            if exists:
                return False
            conn.execute("INSERT INTO lists (id, created_at) VALUES (?, ?)", (list_id, created_at))
            conn.execute(
                "INSERT INTO updates (list_id, data, created_at) VALUES (?, ?, ?)",
                (list_id, initial_update, _now_ms()),
            )
            self._insert_share(conn, owner, token_hash)
        self._tails[list_id] = _Tail(1, len(initial_update))
        return True

    def get_list(self, list_id: str) -> ListRecord | None:
        row = (
            self._reader()
            .execute(
                "SELECT id, created_at FROM lists WHERE id = ? AND deleted_at IS NULL", (list_id,)
            )
            .fetchone()
        )
        return ListRecord(row[0], row[1]) if row else None

    def list_ids(self) -> list[str]:
        rows = (
            self._reader()
            .execute("SELECT id FROM lists WHERE deleted_at IS NULL ORDER BY created_at, id")
            .fetchall()
        )
        return [r[0] for r in rows]

    def load(self, list_id: str, *, include_deleted: bool = False) -> list[bytes]:
        conn = self._reader()
        conn.execute("BEGIN")
        try:
            live = conn.execute(
                "SELECT 1 FROM lists WHERE id = ? AND (deleted_at IS NULL OR ?)",
                (list_id, include_deleted),
            ).fetchone()
            if not live:
                return []
            snapshot, rows = self._history(conn, list_id)
        finally:
            conn.execute("COMMIT")
        head = [snapshot] if snapshot is not None else []
        return head + [data for _, data in rows]

    @staticmethod
    def _history(
        conn: sqlite3.Connection, list_id: str
    ) -> tuple[bytes | None, list[tuple[int, bytes]]]:
        """The list's snapshot (if any) and the (id, update) rows after it, oldest first."""
        snap = conn.execute(
            "SELECT state, last_update_id FROM snapshots WHERE list_id = ?", (list_id,)
        ).fetchone()
        rows = conn.execute(
            "SELECT id, data FROM updates WHERE list_id = ? AND id > ? ORDER BY id",
            (list_id, snap[1] if snap else 0),
        ).fetchall()
        return (bytes(snap[0]) if snap else None), [(r[0], bytes(r[1])) for r in rows]

    def append(self, batch: Sequence[Change]) -> None:
        if not batch:
            return
        now = _now_ms()
        events = [
            (change.list_id, e.type, e.actor, e.data, e.created_at)
            for change in batch
            for e in change.events
        ]
        with self._transaction() as conn:
            conn.executemany(
                "INSERT INTO updates (list_id, data, created_at) VALUES (?, ?, ?)",
                [(change.list_id, change.update, now) for change in batch],
            )
            if events:
                conn.executemany(
                    "INSERT INTO events (list_id, type, actor, data, created_at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    events,
                )
        for change in batch:
            tail = self._tail(change.list_id)
            tail.count += 1
            tail.size += len(change.update)

    def events_after(self, list_id: str, after_id: int, limit: int) -> list[Event]:
        rows = (
            self._reader()
            .execute(
                "SELECT id, list_id, type, actor, data, created_at FROM events"
                " WHERE list_id = ? AND id > ? ORDER BY id LIMIT ?",
                (list_id, after_id, limit),
            )
            .fetchall()
        )
        return [_event(row) for row in rows]

    def recent_events(self, list_id: str, limit: int) -> list[Event]:
        rows = (
            self._reader()
            .execute(
                "SELECT id, list_id, type, actor, data, created_at FROM events"
                " WHERE list_id = ? ORDER BY id DESC LIMIT ?",
                (list_id, limit),
            )
            .fetchall()
        )
        return [_event(row) for row in rows]

    @staticmethod
    def _insert_share(conn: sqlite3.Connection, share: Share, token_hash: str) -> None:
        taken = conn.execute("SELECT 1 FROM shares WHERE token_hash = ?", (token_hash,))
        if taken.fetchone():
            raise TokenInUseError("token already in use")
        conn.execute(
            "INSERT INTO shares (id, list_id, token_hash, role, label, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (share.share_id, share.list_id, token_hash, share.role, share.label, share.created_at),
        )

    def add_share(self, share: Share, token_hash: str) -> None:
        with self._transaction() as conn:
            self._insert_share(conn, share, token_hash)

    def shares(self, list_id: str) -> list[Share]:
        rows = (
            self._reader()
            .execute(
                "SELECT id, list_id, role, label, created_at, revoked_at, last_used_at FROM shares"
                " WHERE list_id = ? ORDER BY created_at, id",
                (list_id,),
            )
            .fetchall()
        )
        return [Share(*row) for row in rows]

    def revoke_share(self, list_id: str, share_id: str, at: int) -> bool:
        with self._transaction() as conn:
            changed = conn.execute(
                "UPDATE shares SET revoked_at = ? WHERE id = ? AND list_id = ?"
                " AND revoked_at IS NULL AND id != (SELECT id FROM shares WHERE list_id = ?"
                " AND role = 'owner' ORDER BY created_at, id LIMIT 1)",
                (at, share_id, list_id, list_id),
            ).rowcount
        return changed > 0

    def find_token(self, token_hash: str) -> Share | None:
        row = (
            self._reader()
            .execute(
                "SELECT s.id, s.list_id, s.role, s.label, s.created_at, s.revoked_at,"
                " s.last_used_at FROM shares s JOIN lists l ON l.id = s.list_id"
                " WHERE s.token_hash = ? AND s.revoked_at IS NULL AND l.deleted_at IS NULL",
                (token_hash,),
            )
            .fetchone()
        )
        return Share(*row) if row else None

    def record_uses(self, uses: Mapping[str, int]) -> None:
        if not uses:
            return
        with self._transaction() as conn:
            conn.executemany(
                "UPDATE shares SET last_used_at = ? WHERE id = ?"
                " AND (last_used_at IS NULL OR last_used_at < ?)",
                [(at, share_id, at) for share_id, at in uses.items()],
            )

    def _tail(self, list_id: str) -> _Tail:
        tail = self._tails.get(list_id)
        if tail is None:
            snap = self._write.execute(
                "SELECT last_update_id FROM snapshots WHERE list_id = ?", (list_id,)
            ).fetchone()
            count, size = self._write.execute(
                "SELECT count(*), coalesce(sum(length(data)), 0) FROM updates"
                " WHERE list_id = ? AND id > ?",
                (list_id, snap[0] if snap else 0),
            ).fetchone()
            tail = self._tails[list_id] = _Tail(count, size)
        return tail

    def needs_compaction(self, list_id: str) -> bool:
        tail = self._tail(list_id)
        return tail.count > self.compact_updates or tail.size > self.compact_bytes

    def compact(self, list_id: str) -> None:
        with self._transaction() as conn:
            snapshot, rows = self._history(conn, list_id)
            if not rows:
                return
            head = [snapshot] if snapshot is not None else []
            state = replay(head + [data for _, data in rows], list_id)
            self._install(conn, list_id, state, rows[-1][0])
        self._tails[list_id] = _Tail(0, 0)

    def install_snapshot(self, list_id: str, state: bytes) -> None:
        with self._transaction() as conn:
            row = conn.execute(
                "SELECT max(id) FROM updates WHERE list_id = ?", (list_id,)
            ).fetchone()
            if row[0] is None:
                return
            self._install(conn, list_id, state, row[0])
        self._tails[list_id] = _Tail(0, 0)

    def _install(self, conn: sqlite3.Connection, list_id: str, state: bytes, last: int) -> None:
        conn.execute(
            "INSERT INTO snapshots (list_id, state, last_update_id, created_at)"
            " VALUES (?, ?, ?, ?) ON CONFLICT(list_id) DO UPDATE SET"
            " state = excluded.state, last_update_id = excluded.last_update_id,"
            " created_at = excluded.created_at",
            (list_id, state, last, _now_ms()),
        )
        conn.execute("DELETE FROM updates WHERE list_id = ? AND id <= ?", (list_id, last))
        conn.execute(
            "DELETE FROM events WHERE list_id = ? AND id <= (SELECT id FROM events"
            " WHERE list_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?)",
            (list_id, list_id, self.events_kept),
        )

    def delete_list(self, list_id: str, at: int | None = None) -> bool:
        with self._transaction() as conn:
            hidden = conn.execute(
                "UPDATE lists SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL",
                (_now_ms() if at is None else at, list_id),
            ).rowcount
        self._tails.pop(list_id, None)
        return hidden > 0

    def restore_list(self, list_id: str) -> bool:
        with self._transaction() as conn:
            restored = conn.execute(
                "UPDATE lists SET deleted_at = NULL WHERE id = ?"
                " AND deleted_at IS NOT NULL AND purged_at IS NULL",
                (list_id,),
            ).rowcount
        self._tails.pop(list_id, None)
        return restored > 0

    def deleted_lists(self) -> list[DeletedList]:
        rows = (
            self._reader()
            .execute(
                "SELECT id, created_at, deleted_at FROM lists"
                " WHERE deleted_at IS NOT NULL AND purged_at IS NULL"
                " ORDER BY deleted_at DESC, id"
            )
            .fetchall()
        )
        return [DeletedList(*row) for row in rows]

    def purge_deleted(self, before_ms: int) -> int:
        with self._transaction() as conn:
            ids = [
                row[0]
                for row in conn.execute(
                    "SELECT id FROM lists WHERE deleted_at IS NOT NULL AND deleted_at < ?"
                    " AND purged_at IS NULL",
                    (before_ms,),
                )
            ]
            now = _now_ms()
            for list_id in ids:
                for table in ("updates", "snapshots", "events", "shares"):
                    conn.execute(f"DELETE FROM {table} WHERE list_id = ?", (list_id,))
                conn.execute("UPDATE lists SET purged_at = ? WHERE id = ?", (now, list_id))
        for list_id in ids:
            self._tails.pop(list_id, None)
        return len(ids)

    def summaries(self, list_ids: Sequence[str]) -> list[ListSummary]:
        """Sizes and dates of these lists (live or deleted, not purged), in the order given."""
        conn = self._reader()
        found: dict[str, ListSummary] = {}
        conn.execute("BEGIN")
        try:
            for list_id in list_ids:
                row = conn.execute(
                    "SELECT l.id, l.created_at, l.deleted_at,"
                    " (SELECT length(state) FROM snapshots WHERE list_id = l.id),"
                    " (SELECT created_at FROM snapshots WHERE list_id = l.id),"
                    " (SELECT count(*) FROM updates WHERE list_id = l.id),"
                    " (SELECT coalesce(sum(length(data)), 0) FROM updates WHERE list_id = l.id),"
                    " (SELECT max(created_at) FROM updates WHERE list_id = l.id)"
                    " FROM lists l WHERE l.id = ? AND l.purged_at IS NULL",
                    (list_id,),
                ).fetchone()
                if row is None:
                    continue
                lid, created, deleted, snap_bytes, snap_at, updates, log_bytes, last = row
                roles: dict[str, int] = {}
                for role, count in conn.execute(
                    "SELECT role, count(*) FROM shares WHERE list_id = ? AND revoked_at IS NULL"
                    " GROUP BY role",
                    (lid,),
                ):
                    roles[role] = count
                found[lid] = ListSummary(
                    list_id=lid,
                    created_at=created,
                    deleted_at=deleted,
                    snapshot_bytes=snap_bytes or 0,
                    log_bytes=log_bytes,
                    updates=updates,
                    last_change=max(x for x in (created, snap_at, last) if x is not None),
                    shares=roles,
                )
        finally:
            conn.execute("COMMIT")
        return [found[i] for i in list_ids if i in found]
