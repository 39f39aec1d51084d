"""What only the PostgreSQL store has to promise: several processes on one database.

The shared contract runs in tests/test_store.py on both backends; here: migrations racing,
appends from two pools (two processes' worth) to one list, folding that never drops another
process's update, catch-up reads, soft delete, and a database that is not there.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from pycrdt import Doc

from server import schema
from store import (
    Change,
    DeletedList,
    Share,
    StoreError,
    StoreUnavailableError,
    TokenInUseError,
    open_store,
)
from store.postgres import PostgresStore, fold_lock_key
from store.postgres_migrations import MIGRATIONS, applied_versions, migrate
from store.replay import apply_history

LIST = "5a2b1c3d-0000-4000-8000-0000000000a1"


def create(store: PostgresStore, list_id: str = LIST, at: int = 1) -> bool:
    owner = Share(f"owner-{list_id}", list_id, "owner", "owner", at)
    update = schema.new_list_update("Food", at)
    return store.create_list(list_id, at, update, owner, f"hash-{list_id}")


def item_updates(names: list[str]) -> list[bytes]:
    doc: Doc[Any] = Doc()
    updates: list[bytes] = []
    doc.observe(lambda event: updates.append(event.update))
    for name in names:
        schema.add_item(doc, schema.new_item(name, order=f"a{name}"), f"id-{name}")
    return updates


def names_in(store: PostgresStore, list_id: str = LIST) -> list[str]:
    doc: Doc[Any] = Doc()
    apply_history(doc, store.load(list_id), list_id)
    return sorted(item["name"] for item in schema.list_items(doc))


@pytest.fixture
def two(pg_url: str) -> Iterator[tuple[PostgresStore, PostgresStore]]:
    """Two stores with pools of their own on one database: two processes' worth."""
    first, second = PostgresStore(pg_url), PostgresStore(pg_url)
    yield first, second
    first.close()
    second.close()


def test_processes_starting_at_once_migrate_once(pg_url: str) -> None:
    script = "import sys; from store.postgres import PostgresStore; PostgresStore(sys.argv[1])"
    procs = [
        subprocess.Popen([sys.executable, "-c", script, pg_url], stderr=subprocess.PIPE)
        for _ in range(4)
    ]
    errors = [proc.communicate(timeout=60)[1].decode() for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0, 0, 0], errors
    with psycopg.connect(pg_url) as conn:
        assert applied_versions(conn) == [m.version for m in MIGRATIONS]
        assert migrate(conn) == 0  # nothing left to do


def test_a_failing_migration_changes_nothing(pg_url: str) -> None:
    from store.postgres_migrations import Migration

    broken = (*MIGRATIONS, Migration(99, "broken", ("CREATE TABLE half (x INT)", "NONSENSE")))
    with psycopg.connect(pg_url) as conn:
        with pytest.raises(psycopg.errors.SyntaxError):
            migrate(conn, broken)
        conn.rollback()
        assert conn.execute("SELECT to_regclass('half')").fetchone() == (None,)
        # The good migrations were in the same transaction: none is recorded half-applied.
        assert conn.execute("SELECT to_regclass('schema_migrations')").fetchone() == (None,)


def test_a_database_from_before_last_use_is_upgraded(pg_url: str) -> None:
    with psycopg.connect(pg_url) as conn:
        migrate(conn, tuple(m for m in MIGRATIONS if m.name != "share_last_used"))
        conn.execute("INSERT INTO lists (id, created_at) VALUES (%s, 1)", (LIST,))
        conn.execute(
            "INSERT INTO shares (id, list_id, token_hash, role, label, created_at)"
            " VALUES ('v1', %s, 'hash-view', 'view', 'fridge', 2)",
            (LIST,),
        )
    store = PostgresStore(pg_url)
    try:
        assert store.shares(LIST) == [Share("v1", LIST, "view", "fridge", 2)]
        store.record_uses({"v1": 9})
        assert store.shares(LIST)[0].last_used_at == 9
    finally:
        store.close()


def test_last_use_from_two_processes_keeps_the_latest(
    two: tuple[PostgresStore, PostgresStore],
) -> None:
    first, second = two
    create(first)
    first.add_share(Share("e1", LIST, "edit", "", 2), "hash-e1")
    first.add_share(Share("e2", LIST, "edit", "", 3), "hash-e2")
    # Two processes flushing the same shares at once, in opposite key order, with stale times.
    errors: list[BaseException] = []

    def flush(store: PostgresStore, base: int, keys: tuple[str, ...]) -> None:
        try:
            for n in range(50):
                store.record_uses({key: base + n for key in keys})
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [
        threading.Thread(target=flush, args=(first, 1000, ("e1", "e2"))),
        threading.Thread(target=flush, args=(second, 500, ("e2", "e1"))),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert [s.last_used_at for s in second.shares(LIST)] == [None, 1049, 1049]


def test_open_store_picks_the_backend(pg_url: str, tmp_path: Any) -> None:
    store = open_store(pg_url, compact_updates=7)
    assert isinstance(store, PostgresStore) and store.compact_updates == 7
    store.close()
    sqlite = open_store(tmp_path / "listok.db")
    assert type(sqlite).__name__ == "SQLiteStore"
    sqlite.close()


def test_appends_from_two_processes_get_contiguous_numbers(
    two: tuple[PostgresStore, PostgresStore],
) -> None:
    first, second = two
    assert create(first)
    updates = item_updates([f"n{i:03d}" for i in range(80)])
    seqs: list[int] = []
    lock = threading.Lock()

    def write(store: PostgresStore, part: list[bytes]) -> None:
        for update in part:
            got = store.append([Change(LIST, update)])
            with lock:
                seqs.extend(got)

    threads = [
        threading.Thread(target=write, args=(first, updates[0::2])),
        threading.Thread(target=write, args=(second, updates[1::2])),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(seqs) == list(range(2, 82))  # 1 is the list's first update
    assert first.list_seq(LIST) == 81
    assert len(names_in(second)) == 80


def test_a_batch_numbers_each_list_on_its_own(two: tuple[PostgresStore, PostgresStore]) -> None:
    first, _ = two
    other = "5a2b1c3d-0000-4000-8000-0000000000a2"
    create(first)
    create(first, other)
    a, b, c = item_updates(["a", "b", "c"])
    assert first.append([Change(LIST, a), Change(other, b), Change(LIST, c)]) == [2, 2, 3]
    with pytest.raises(StoreError):
        first.append([Change("no-such-list", a)])
    assert first.list_seq(LIST) == 3  # the failed batch committed nothing


def test_history_after_a_number_is_what_a_replica_lacks(
    two: tuple[PostgresStore, PostgresStore],
) -> None:
    first, second = two
    create(first)
    updates = item_updates(["a", "b", "c", "d"])
    first.append([Change(LIST, u) for u in updates[:2]])  # seq 2, 3
    tail, seq = second.history(LIST, 2)
    assert seq == 3 and tail == [updates[1]]
    assert second.history(LIST, 3) == ([], 3)
    first.compact(LIST)  # the snapshot now folds 1..3
    first.append([Change(LIST, u) for u in updates[2:]])  # seq 4, 5
    tail, seq = second.history(LIST, 2)  # 3 is only in the snapshot: snapshot and tail
    assert seq == 5 and len(tail) == 3
    tail, seq = second.history(LIST, 4)
    assert seq == 5 and tail == [updates[3]]
    assert second.history("5a2b1c3d-0000-4000-8000-0000000000ff") == ([], 0)


def test_a_stale_snapshot_never_drops_another_process_update(
    two: tuple[PostgresStore, PostgresStore],
) -> None:
    first, second = two
    create(first)
    milk, bread = item_updates(["milk", "bread"])
    first.append([Change(LIST, milk)])
    # Process one's document: everything it has seen so far.
    stale: Doc[Any] = Doc()
    apply_history(stale, first.load(LIST), LIST)
    second.append([Change(LIST, bread)])  # process two commits; one has not heard yet
    first.install_snapshot(LIST, stale.get_update())
    assert names_in(first) == ["bread", "milk"]
    assert len(first.load(LIST)) == 1  # folded, and nothing lost
    assert not first.needs_compaction(LIST)


def test_one_process_folds_a_list_at_a_time(
    two: tuple[PostgresStore, PostgresStore], pg_url: str
) -> None:
    first, second = two
    create(first)
    first.append([Change(LIST, u) for u in item_updates(["a", "b"])])
    with psycopg.connect(pg_url, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (fold_lock_key(LIST),))
        second.compact(LIST)  # another process is folding it: skip, log untouched
        assert len(second.load(LIST)) == 3
        holder.execute("SELECT pg_advisory_unlock(%s)", (fold_lock_key(LIST),))
    second.compact(LIST)
    assert len(second.load(LIST)) == 1 and names_in(second) == ["a", "b"]


def test_folding_while_two_processes_write_loses_nothing(
    two: tuple[PostgresStore, PostgresStore],
) -> None:
    first, second = two
    first.compact_updates = second.compact_updates = 3
    create(first)
    names = [f"n{i:03d}" for i in range(60)]
    updates = item_updates(names)
    stop = threading.Event()

    def fold(store: PostgresStore) -> None:
        while not stop.is_set():
            if store.needs_compaction(LIST):
                store.compact(LIST)
            time.sleep(0.001)

    def write(store: PostgresStore, part: list[bytes]) -> None:
        for update in part:
            store.append([Change(LIST, update)])

    folders = [threading.Thread(target=fold, args=(s,)) for s in two]
    writers = [
        threading.Thread(target=write, args=(first, updates[0::2])),
        threading.Thread(target=write, args=(second, updates[1::2])),
    ]
    for thread in folders + writers:
        thread.start()
    for thread in writers:
        thread.join()
    stop.set()
    for thread in folders:
        thread.join()
    assert names_in(first) == names
    assert len(first.load(LIST)) < 61  # folding did happen


def test_tokens_and_shares(two: tuple[PostgresStore, PostgresStore]) -> None:
    first, second = two
    create(first)
    with pytest.raises(TokenInUseError):
        second.add_share(Share("v1", LIST, "view", "", 2), f"hash-{LIST}")
    other = "5a2b1c3d-0000-4000-8000-0000000000a3"
    owner = Share("o2", other, "owner", "owner", 3)
    with pytest.raises(TokenInUseError):  # the whole creation rolls back
        second.create_list(other, 3, schema.new_list_update("x", 3), owner, f"hash-{LIST}")
    assert second.get_list(other) is None and second.list_seq(other) == 0


def test_soft_delete_keeps_a_tombstone(two: tuple[PostgresStore, PostgresStore]) -> None:
    first, second = two
    create(first)
    first.append([Change(LIST, u) for u in item_updates(["milk"])])
    before = first.load(LIST)
    assert first.delete_list(LIST, 1000) is True
    assert second.get_list(LIST) is None and second.load(LIST) == []
    assert second.find_token(f"hash-{LIST}") is None and second.list_ids() == []
    assert second.deleted_lists() == [DeletedList(LIST, 1, 1000)]
    assert second.load(LIST, include_deleted=True) == before  # kept, for the operator's tools
    assert create(second) is False  # a deleted id is never created again
    assert second.restore_list(LIST) is True and second.load(LIST) == before
    assert first.delete_list(LIST, 2000) is True
    assert first.purge_deleted(2001) == 1 and first.purge_deleted(2001) == 0
    assert first.restore_list(LIST) is False and create(first) is False
    assert first.summaries([LIST]) == []


def test_summaries(two: tuple[PostgresStore, PostgresStore]) -> None:
    first, _ = two
    create(first, at=7)
    first.append([Change(LIST, u) for u in item_updates(["a", "b"])])
    (summary,) = first.summaries([LIST, "5a2b1c3d-0000-4000-8000-00000000000f"])
    assert summary.updates == 3 and summary.snapshot_bytes == 0
    assert summary.shares == {"owner": 1} and summary.deleted_at is None
    first.compact(LIST)
    (summary,) = first.summaries([LIST])
    assert summary.updates == 0 and summary.snapshot_bytes == len(first.load(LIST)[0])


def test_a_database_that_is_not_there_is_a_clear_error() -> None:
    with socket_closed_port() as port:
        started = time.monotonic()
        with pytest.raises(StoreUnavailableError, match="cannot open the PostgreSQL store"):
            PostgresStore(f"postgresql://postgres@127.0.0.1:{port}/x", connect_timeout=2)
        assert time.monotonic() - started < 30


class socket_closed_port:
    """A port nothing listens on (bound, never listening, for the test's duration)."""

    def __enter__(self) -> int:
        import socket

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        port: int = self.sock.getsockname()[1]
        return port

    def __exit__(self, *exc: object) -> None:
        self.sock.close()
