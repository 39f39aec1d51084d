"""Versioned schema migrations, each applied in a transaction with its record."""

from __future__ import annotations

from sqlite_utils import Database, Migrations

migrations = Migrations("listok")


@migrations()
def m001_lists_updates_snapshots(db: Database) -> None:
    # AUTOINCREMENT matters: compaction deletes the log's newest rows, and a reused rowid would
    # fall at or below a snapshot's last_update_id and be skipped on load.
    db.execute("CREATE TABLE lists (id TEXT PRIMARY KEY, created_at INTEGER NOT NULL)")
    db.execute(
        "CREATE TABLE updates (id INTEGER PRIMARY KEY AUTOINCREMENT,"
        " list_id TEXT NOT NULL REFERENCES lists(id), data BLOB NOT NULL,"
        " created_at INTEGER NOT NULL)"
    )
    db.execute("CREATE INDEX idx_updates_list_id_id ON updates (list_id, id)")
    db.execute(
        "CREATE TABLE snapshots (list_id TEXT PRIMARY KEY REFERENCES lists(id),"
        " state BLOB NOT NULL, last_update_id INTEGER NOT NULL, created_at INTEGER NOT NULL)"
    )
