"""The SQLite plumbing both SQLite stores share (store/sqlite_conn.py), on real files."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from store import SQLiteStore, StoreError
from store.catalog import CatalogStore
from store.sqlite_conn import SQLiteFile
from tests.test_store import LIST, create


@pytest.fixture(params=["lists", "catalog"])
def opened(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SQLiteFile]:
    path = tmp_path / "listok.db"
    store = SQLiteStore(path) if request.param == "lists" else CatalogStore(path)
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
