"""The SQLite plumbing both SQLite stores share (store/sqlite_conn.py), on real files."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from store import SQLiteStore, StoreError
from store.catalog import CatalogStore
from store.sqlite_conn import SQLiteFile
from tests.test_store import LIST, create

STORES: dict[str, type[SQLiteStore] | type[CatalogStore]] = {
    "lists": SQLiteStore,
    "catalog": CatalogStore,
}


@pytest.fixture(params=sorted(STORES))
def opened(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SQLiteFile]:
    store = STORES[request.param](tmp_path / "listok.db")
    yield store
    store.close()


def write_something(store: SQLiteFile) -> None:
    """A write through the store's own API."""
    if isinstance(store, SQLiteStore):
        assert create(store) is True
        assert store.list_ids() == [LIST]
    else:
        assert isinstance(store, CatalogStore)
        store.set_list_shop(LIST, "Lenta")
        assert store.list_shop(LIST) == "Lenta"


def test_a_failing_commit_is_rolled_back_and_the_connection_goes_on(opened: SQLiteFile) -> None:
    with opened._transaction() as conn:
        conn.execute("CREATE TEMP TABLE parent (id INTEGER PRIMARY KEY)")
        conn.execute("CREATE TEMP TABLE child (parent INTEGER NOT NULL REFERENCES parent(id))")
    # A deferred foreign key is checked at COMMIT: the COMMIT itself fails, for real.
    failing = pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY")
    with failing, opened._transaction() as conn:
        conn.execute("PRAGMA defer_foreign_keys = ON")
        conn.execute("INSERT INTO child (parent) VALUES (1)")
    # Rolled back, not left open: the next transaction starts (before, BEGIN failed with
    # "cannot start a transaction within a transaction"), and the orphan row is gone.
    write_something(opened)
    with opened._transaction() as conn:
        assert conn.execute("SELECT count(*) FROM child").fetchone() == (0,)


def test_a_bad_synchronous_mode_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="synchronous must be one of"):
        CatalogStore(tmp_path / "catalog.db", synchronous="SOMETIMES")


@pytest.mark.parametrize("kind", sorted(STORES))
def test_openers_of_a_new_file_at_once_all_open_it(tmp_path: Path, kind: str) -> None:
    """`listok serve --workers N` on a new data dir: N processes open, switch to WAL and migrate
    one new file at once. Each opener succeeds and each migration is applied once (before, the
    losers failed: "database is locked", "table catalog_stores already exists")."""
    store_type = STORES[kind]
    openers = 6
    for attempt in range(5):
        path = tmp_path / f"{attempt}.db"
        together = threading.Barrier(openers)

        def open_and_close(path: Path = path, together: threading.Barrier = together) -> None:
            together.wait()
            store_type(path).close()

        with ThreadPoolExecutor(openers) as pool:
            for opening in [pool.submit(open_and_close) for _ in range(openers)]:
                opening.result()
        db = sqlite3.connect(path)
        try:
            applied = db.execute("SELECT name FROM _sqlite_migrations").fetchall()
            assert len(applied) == len(set(applied)) > 0
        finally:
            db.close()
