"""A SQLite file as the stores open it: one shared write connection, a read connection per thread.

Both SQLite stores (store/sqlite.py, store/catalog.py) inherit this plumbing. All connections are
in autocommit mode, so every transaction is explicit: writes run one at a time in `BEGIN
IMMEDIATE` on the write connection, under a lock; reads on the calling thread's own connection
see the last commit (WAL) and never wait for a writer.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlite_utils import Database, Migrations

from store.base import StoreError

SYNCHRONOUS_MODES = ("OFF", "NORMAL", "FULL", "EXTRA")


class SQLiteFile:
    def __init__(self, path: Path, *, synchronous: str, timeout: float) -> None:
        if synchronous.upper() not in SYNCHRONOUS_MODES:
            raise StoreError(f"synchronous must be one of {SYNCHRONOUS_MODES}")
        self.path = path
        self.synchronous = synchronous.upper()
        self.timeout = timeout
        path.parent.mkdir(parents=True, exist_ok=True)
        self._write = self._connect(check_same_thread=False)
        self._write_lock = threading.Lock()
        self._local = threading.local()
        self._enable_wal()

    def _connect(self, *, check_same_thread: bool = True) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path,
            isolation_level=None,
            check_same_thread=check_same_thread,
            timeout=self.timeout,
        )
        conn.execute(f"PRAGMA synchronous={self.synchronous}")
        conn.execute("PRAGMA foreign_keys=ON")
        return conn

    def _enable_wal(self) -> None:
        """Switch the file to WAL (once: it stays so). The switch needs the file to itself, and
        SQLite refuses it at once ("database is locked", no busy wait) while another opener holds
        it: retried until the timeout."""
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                Database(self._write).enable_wal()
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.01)

    def _migrate(self, migrations: Migrations) -> None:
        """Apply the pending migrations in one write transaction: processes that open a new file
        at once (`listok serve --workers N`) wait for each other, and each migration runs once."""
        with self._transaction() as conn:
            migrations.apply(Database(conn))

    def _reader(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
        return conn

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: committed on exit, rolled back on an error, the COMMIT's own
        included (SQLITE_BUSY, a deferred foreign key, a full disk leave it open otherwise, and
        every later BEGIN on this connection would fail)."""
        with self._write_lock:
            conn = self._write
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:  # some errors (a full disk) already rolled it back
                    conn.execute("ROLLBACK")
                raise

    def close(self) -> None:
        with self._write_lock:
            self._write.close()
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
