"""PostgreSQL backend: the same update log and snapshots, shared by any number of processes.

psycopg 3 with a connection pool; updates and snapshots travel as binary bytea. The rules that
make several processes safe on one database:

- An append takes each list's row lock (`UPDATE lists SET seq = seq + n`, lists in sorted
  order so two batches never deadlock) before it inserts anything, so per list the update
  sequence numbers are contiguous and in commit order, and so are the event ids (one global
  identity sequence): an SSE reader resuming from an event id never skips a later commit.
- A snapshot is built inside the transaction that deletes the log rows it replaces, from
  exactly those rows (plus, for `install_snapshot`, the caller's state, which only adds
  content). Appends committed meanwhile get higher numbers and stay in the log, so a snapshot
  never drops an update it does not contain. A transaction-scoped advisory lock per list lets
  one process fold a list at a time; another that finds it taken skips (the fold is happening).
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import errors
from psycopg_pool import ConnectionPool

from store.base import (
    Change,
    DeletedList,
    Event,
    ListRecord,
    ListSummary,
    Share,
    StoreError,
    StoreUnavailableError,
    TokenInUseError,
)
from store.postgres_migrations import migrate
from store.replay import replay

log = logging.getLogger("listok.store")

URL_SCHEMES = ("postgresql://", "postgres://")


@dataclass
class _Tail:
    count: int
    size: int


def _now_ms() -> int:
    return int(time.time() * 1000)


def _event(row: tuple[int, str, str, str, str, int]) -> Event:
    event_id, list_id, kind, actor, data, created_at = row
    return Event(kind, actor, data, created_at, event_id=event_id, list_id=list_id)


def fold_lock_key(list_id: str) -> int:
    """The advisory lock key under which one process at a time folds this list (a bigint)."""
    digest = hashlib.blake2b(f"listok-fold:{list_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def is_postgres_url(target: object) -> bool:
    return isinstance(target, str) and target.startswith(URL_SCHEMES)


class PostgresStore:
    """All lists in one PostgreSQL database; safe to share between processes."""

    def __init__(
        self,
        url: str,
        *,
        compact_updates: int = 500,
        compact_bytes: int = 1 << 20,
        events_kept: int = 5000,
        pool_size: int = 8,
        connect_timeout: float = 10.0,
    ) -> None:
        self.url = url
        self.compact_updates = compact_updates
        self.compact_bytes = compact_bytes
        self.events_kept = events_kept
        self._tails: dict[str, _Tail] = {}
        self._pool: ConnectionPool[psycopg.Connection[Any]] = ConnectionPool(
            url,
            min_size=1,
            max_size=max(1, pool_size),
            timeout=connect_timeout,
            name="listok",
            open=False,
            # A connection the server dropped (a PostgreSQL restart) is replaced when it is
            # handed out, for one empty round trip, instead of failing the next request.
            check=ConnectionPool.check_connection,
        )
        try:
            # One direct connection first: a database that is not there fails at once, with
            # its own reason, instead of after the pool's retries.
            with psycopg.connect(url, connect_timeout=max(1, int(connect_timeout))) as conn:
                applied = migrate(conn)
            self._pool.open(wait=True, timeout=connect_timeout)
        except (psycopg.OperationalError, TimeoutError) as exc:
            self._pool.close()
            raise StoreUnavailableError(f"cannot open the PostgreSQL store: {exc}") from exc
        except BaseException:
            self._pool.close()
            raise
        if applied:
            log.info("PostgreSQL schema: %d migration(s) applied", applied)

    @contextmanager
    def _transaction(self, *, read_only: bool = False) -> Iterator[psycopg.Connection[Any]]:
        """One transaction on a pooled connection: committed on exit, rolled back on error."""
        try:
            with self._pool.connection() as conn:
                if read_only:
                    conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                yield conn
        except (errors.UniqueViolation, StoreError):
            raise
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
            raise StoreUnavailableError(f"database unavailable: {exc}") from exc
        except TimeoutError as exc:  # psycopg_pool.PoolTimeout
            raise StoreUnavailableError(f"database unavailable: {exc}") from exc

    # -- lists -----------------------------------------------------------------------------

    def create_list(
        self, list_id: str, created_at: int, initial_update: bytes, owner: Share, token_hash: str
    ) -> bool:
        with self._transaction() as conn:
            # A tombstoned (deleted or purged) id counts as existing: it is never re-created.
            inserted = conn.execute(
                "INSERT INTO lists (id, created_at, seq, tail_updates, tail_bytes)"
                " VALUES (%s, %s, 1, 1, %s) ON CONFLICT (id) DO NOTHING",
                (list_id, created_at, len(initial_update)),
            ).rowcount
            if not inserted:
                return False
            conn.execute(
                "INSERT INTO updates (list_id, seq, data, created_at) VALUES (%s, 1, %s, %s)",
                (list_id, initial_update, _now_ms()),
            )
            self._insert_share(conn, owner, token_hash)
        self._tails[list_id] = _Tail(1, len(initial_update))
        return True

    def get_list(self, list_id: str) -> ListRecord | None:
        with self._transaction() as conn:
            row = conn.execute(
                "SELECT id, created_at FROM lists WHERE id = %s AND deleted_at IS NULL",
                (list_id,),
            ).fetchone()
        return ListRecord(row[0], row[1]) if row else None

    def list_ids(self) -> list[str]:
        with self._transaction() as conn:
            rows = conn.execute(
                "SELECT id FROM lists WHERE deleted_at IS NULL ORDER BY created_at, id"
            ).fetchall()
        return [r[0] for r in rows]

    # -- the log ---------------------------------------------------------------------------

    def load(self, list_id: str, *, include_deleted: bool = False) -> list[bytes]:
        return self.history(list_id, include_deleted=include_deleted)[0]

    def history(
        self, list_id: str, after_seq: int = 0, *, include_deleted: bool = False
    ) -> tuple[list[bytes], int]:
        """What a replica at `after_seq` lacks, and the list's sequence number it brings it to.

        The updates with a higher sequence number; or, when a snapshot has already folded some
        of those, the snapshot and its tail (re-applying what a replica has is harmless).
        `after_seq=0` is the whole history, as `load`. A deleted list has none: ([], 0),
        unless include_deleted (the operator's tools).
        """
        with self._transaction(read_only=True) as conn:
            row = conn.execute(
                "SELECT seq FROM lists WHERE id = %s AND (deleted_at IS NULL OR %s)",
                (list_id, include_deleted),
            ).fetchone()
            if row is None:
                return [], 0
            seq = int(row[0])
            cur = conn.cursor(binary=True)
            snap = cur.execute(
                "SELECT state, last_seq FROM snapshots WHERE list_id = %s", (list_id,)
            ).fetchone()
            head: list[bytes] = []
            start = after_seq
            if snap is not None and snap[1] > after_seq:
                head, start = [bytes(snap[0])], int(snap[1])
            rows = cur.execute(
                "SELECT data FROM updates WHERE list_id = %s AND seq > %s ORDER BY seq",
                (list_id, start),
            ).fetchall()
        return head + [bytes(r[0]) for r in rows], seq

    def list_seq(self, list_id: str) -> int:
        """The list's current sequence number: how many updates it has committed (0: none)."""
        with self._transaction() as conn:
            row = conn.execute("SELECT seq FROM lists WHERE id = %s", (list_id,)).fetchone()
        return int(row[0]) if row else 0

    def append(self, batch: Sequence[Change]) -> list[int]:
        if not batch:
            return []
        now = _now_ms()
        per_list: dict[str, list[int]] = {}
        for index, change in enumerate(batch):
            per_list.setdefault(change.list_id, []).append(index)
        seqs = [0] * len(batch)
        tails: dict[str, _Tail] = {}
        with self._transaction() as conn:
            for list_id in sorted(per_list):  # one lock order for every process: no deadlock
                indexes = per_list[list_id]
                size = sum(len(batch[i].update) for i in indexes)
                row = conn.execute(
                    "UPDATE lists SET seq = seq + %s, tail_updates = tail_updates + %s,"
                    " tail_bytes = tail_bytes + %s WHERE id = %s"
                    " RETURNING seq, tail_updates, tail_bytes",
                    (len(indexes), len(indexes), size, list_id),
                ).fetchone()
                if row is None:
                    raise StoreError(f"no list {list_id}")
                last, count, tail_bytes = (int(v) for v in row)
                for offset, index in enumerate(indexes):
                    seqs[index] = last - len(indexes) + 1 + offset
                tails[list_id] = _Tail(count, tail_bytes)
            with conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO updates (list_id, seq, data, created_at) VALUES (%s, %s, %s, %s)",
                    [(c.list_id, seqs[i], c.update, now) for i, c in enumerate(batch)],
                )
                events = [
                    (c.list_id, e.type, e.actor, e.data, e.created_at)
                    for c in batch
                    for e in c.events
                ]
                if events:
                    cur.executemany(
                        "INSERT INTO events (list_id, type, actor, data, created_at)"
                        " VALUES (%s, %s, %s, %s, %s)",
                        events,
                    )
        self._tails.update(tails)
        return seqs

    # -- events ----------------------------------------------------------------------------

    def events_after(self, list_id: str, after_id: int, limit: int) -> list[Event]:
        with self._transaction() as conn:
            rows = conn.execute(
                "SELECT id, list_id, type, actor, data, created_at FROM events"
                " WHERE list_id = %s AND id > %s ORDER BY id LIMIT %s",
                (list_id, after_id, limit),
            ).fetchall()
        return [_event(row) for row in rows]

    def recent_events(self, list_id: str, limit: int) -> list[Event]:
        with self._transaction() as conn:
            rows = conn.execute(
                "SELECT id, list_id, type, actor, data, created_at FROM events"
                " WHERE list_id = %s ORDER BY id DESC LIMIT %s",
                (list_id, limit),
            ).fetchall()
        return [_event(row) for row in rows]

    # -- shares and tokens -----------------------------------------------------------------

    @staticmethod
    def _insert_share(conn: psycopg.Connection[Any], share: Share, token_hash: str) -> None:
        try:
            with conn.transaction():  # a savepoint: a taken token fails only this statement
                conn.execute(
                    "INSERT INTO shares (id, list_id, token_hash, role, label, created_at)"
                    " VALUES (%s, %s, %s, %s, %s, %s)",
                    (
                        share.share_id,
                        share.list_id,
                        token_hash,
                        share.role,
                        share.label,
                        share.created_at,
                    ),
                )
        except errors.UniqueViolation as exc:
            if exc.diag.constraint_name == "shares_token_hash_key":
                raise TokenInUseError("token already in use") from exc
            raise StoreError(f"share {share.share_id} exists") from exc

    def add_share(self, share: Share, token_hash: str) -> None:
        with self._transaction() as conn:
            self._insert_share(conn, share, token_hash)

    def shares(self, list_id: str) -> list[Share]:
        with self._transaction() as conn:
            rows = conn.execute(
                "SELECT id, list_id, role, label, created_at, revoked_at, last_used_at FROM shares"
                " WHERE list_id = %s ORDER BY created_at, id",
                (list_id,),
            ).fetchall()
        return [Share(*row) for row in rows]

    def revoke_share(self, list_id: str, share_id: str, at: int) -> bool:
        with self._transaction() as conn:
            changed = conn.execute(
                "UPDATE shares SET revoked_at = %s WHERE id = %s AND list_id = %s"
                " AND revoked_at IS NULL AND id != (SELECT id FROM shares WHERE list_id = %s"
                " AND role = 'owner' ORDER BY created_at, id LIMIT 1)",
                (at, share_id, list_id, list_id),
            ).rowcount
        return changed > 0

    def find_token(self, token_hash: str) -> Share | None:
        with self._transaction() as conn:
            row = conn.execute(
                "SELECT s.id, s.list_id, s.role, s.label, s.created_at, s.revoked_at,"
                " s.last_used_at FROM shares s JOIN lists l ON l.id = s.list_id"
                " WHERE s.token_hash = %s AND s.revoked_at IS NULL AND l.deleted_at IS NULL",
                (token_hash,),
            ).fetchone()
        return Share(*row) if row else None

    def record_uses(self, uses: Mapping[str, int]) -> None:
        if not uses:
            return
        with self._transaction() as conn, conn.cursor() as cur:
            # GREATEST ignores NULL: a first use is stored, a later one only moves it forward.
            cur.executemany(
                "UPDATE shares SET last_used_at = GREATEST(last_used_at, %s) WHERE id = %s",
                [(at, share_id) for share_id, at in sorted(uses.items())],
            )

    # -- compaction ------------------------------------------------------------------------

    def _tail(self, list_id: str) -> _Tail:
        tail = self._tails.get(list_id)
        if tail is None:
            with self._transaction() as conn:
                row = conn.execute(
                    "SELECT tail_updates, tail_bytes FROM lists WHERE id = %s", (list_id,)
                ).fetchone()
            tail = _Tail(int(row[0]), int(row[1])) if row else _Tail(0, 0)
            self._tails[list_id] = tail
        return tail

    def needs_compaction(self, list_id: str) -> bool:
        # The counts are the database's (returned by every append, from any process).
        tail = self._tail(list_id)
        return tail.count > self.compact_updates or tail.size > self.compact_bytes

    def compact(self, list_id: str) -> None:
        self._fold(list_id, None)

    def install_snapshot(self, list_id: str, state: bytes) -> None:
        # With several processes the caller's document may lack an update another process has
        # just committed, so the state is folded with the log rows it replaces (cheap: the
        # tail is short), never trusted to contain them.
        self._fold(list_id, state)

    def _fold(self, list_id: str, state: bytes | None) -> bool:
        """Replace the snapshot and the log up to its newest row by one snapshot, atomically."""
        with self._transaction() as conn:
            locked = conn.execute(
                "SELECT pg_try_advisory_xact_lock(%s)", (fold_lock_key(list_id),)
            ).fetchone()
            if not locked or not locked[0]:
                log.debug("list %s: another process is folding it", list_id)
                return False
            cur = conn.cursor(binary=True)
            snap = cur.execute(
                "SELECT state, last_seq FROM snapshots WHERE list_id = %s", (list_id,)
            ).fetchone()
            after = int(snap[1]) if snap else 0
            rows = cur.execute(
                "SELECT seq, data FROM updates WHERE list_id = %s AND seq > %s ORDER BY seq",
                (list_id, after),
            ).fetchall()
            if not rows:
                return False
            last = int(rows[-1][0])
            head = [state] if state is not None else ([bytes(snap[0])] if snap else [])
            folded = replay(head + [bytes(r[1]) for r in rows], list_id)
            conn.execute(
                "INSERT INTO snapshots (list_id, state, last_seq, created_at)"
                " VALUES (%s, %s, %s, %s) ON CONFLICT (list_id) DO UPDATE SET"
                " state = excluded.state, last_seq = excluded.last_seq,"
                " created_at = excluded.created_at",
                (list_id, folded, last, _now_ms()),
            )
            conn.execute("DELETE FROM updates WHERE list_id = %s AND seq <= %s", (list_id, last))
            # What the log still holds: rows appended since this transaction read it.
            tail = conn.execute(
                "UPDATE lists SET tail_updates = seq - %s,"
                " tail_bytes = (SELECT coalesce(sum(length(data)), 0) FROM updates"
                " WHERE list_id = %s) WHERE id = %s RETURNING tail_updates, tail_bytes",
                (last, list_id, list_id),
            ).fetchone()
            conn.execute(
                "DELETE FROM events WHERE list_id = %s AND id <= (SELECT id FROM events"
                " WHERE list_id = %s ORDER BY id DESC OFFSET %s LIMIT 1)",
                (list_id, list_id, self.events_kept),
            )
        if tail is not None:
            self._tails[list_id] = _Tail(int(tail[0]), int(tail[1]))
        return True

    # -- soft delete -----------------------------------------------------------------------

    def delete_list(self, list_id: str, at: int | None = None) -> bool:
        with self._transaction() as conn:
            hidden = conn.execute(
                "UPDATE lists SET deleted_at = %s WHERE id = %s AND deleted_at IS NULL",
                (_now_ms() if at is None else at, list_id),
            ).rowcount
        self._tails.pop(list_id, None)
        return hidden > 0

    def restore_list(self, list_id: str) -> bool:
        with self._transaction() as conn:
            restored = conn.execute(
                "UPDATE lists SET deleted_at = NULL WHERE id = %s"
                " AND deleted_at IS NOT NULL AND purged_at IS NULL",
                (list_id,),
            ).rowcount
        self._tails.pop(list_id, None)
        return restored > 0

    def deleted_lists(self) -> list[DeletedList]:
        with self._transaction() as conn:
            rows = conn.execute(
                "SELECT id, created_at, deleted_at FROM lists"
                " WHERE deleted_at IS NOT NULL AND purged_at IS NULL"
                " ORDER BY deleted_at DESC, id"
            ).fetchall()
        return [DeletedList(*row) for row in rows]

    def purge_deleted(self, before_ms: int) -> int:
        with self._transaction() as conn:
            ids = [
                row[0]
                for row in conn.execute(
                    "SELECT id FROM lists WHERE deleted_at IS NOT NULL AND deleted_at < %s"
                    " AND purged_at IS NULL FOR UPDATE",
                    (before_ms,),
                ).fetchall()
            ]
            if ids:
                for table in ("updates", "snapshots", "events", "shares"):
                    conn.execute(f"DELETE FROM {table} WHERE list_id = ANY(%s)".encode(), (ids,))
                conn.execute(
                    "UPDATE lists SET purged_at = %s, tail_updates = 0, tail_bytes = 0"
                    " WHERE id = ANY(%s)",
                    (_now_ms(), ids),
                )
        for list_id in ids:
            self._tails.pop(list_id, None)
        return len(ids)

    def summaries(self, list_ids: Sequence[str]) -> list[ListSummary]:
        """Sizes and dates of these lists (live or deleted, not purged), in the order given."""
        found: dict[str, ListSummary] = {}
        with self._transaction(read_only=True) as conn:
            for list_id in list_ids:
                row = conn.execute(
                    "SELECT l.id, l.created_at, l.deleted_at,"
                    " (SELECT length(state) FROM snapshots WHERE list_id = l.id),"
                    " (SELECT created_at FROM snapshots WHERE list_id = l.id),"
                    " (SELECT count(*) FROM updates WHERE list_id = l.id),"
                    " (SELECT coalesce(sum(length(data)), 0) FROM updates WHERE list_id = l.id),"
                    " (SELECT max(created_at) FROM updates WHERE list_id = l.id)"
                    " FROM lists l WHERE l.id = %s AND l.purged_at IS NULL",
                    (list_id,),
                ).fetchone()
                if row is None:
                    continue
                lid, created, deleted, snap_bytes, snap_at, updates, log_bytes, last = row
                roles = {
                    role: int(count)
                    for role, count in conn.execute(
                        "SELECT role, count(*) FROM shares WHERE list_id = %s"
                        " AND revoked_at IS NULL GROUP BY role",
                        (lid,),
                    ).fetchall()
                }
                found[lid] = ListSummary(
                    list_id=lid,
                    created_at=created,
                    deleted_at=deleted,
                    snapshot_bytes=int(snap_bytes or 0),
                    log_bytes=int(log_bytes),
                    updates=int(updates),
                    last_change=max(x for x in (created, snap_at, last) if x is not None),
                    shares=roles,
                )
        return [found[i] for i in list_ids if i in found]

    def close(self) -> None:
        self._pool.close()
