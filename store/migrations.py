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


@migrations()
def m002_shares_and_events(db: Database) -> None:
    # Share links: only a SHA-256 of each token is stored.
    db.execute(
        "CREATE TABLE shares (id TEXT PRIMARY KEY, list_id TEXT NOT NULL REFERENCES lists(id),"
        " token_hash TEXT NOT NULL UNIQUE, role TEXT NOT NULL, label TEXT NOT NULL DEFAULT '',"
        " created_at INTEGER NOT NULL, revoked_at INTEGER)"
    )
    db.execute("CREATE INDEX idx_shares_list_id ON shares (list_id)")
    # Typed change events, committed in the same transaction as the update that caused them.
    db.execute(
        "CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT,"
        " list_id TEXT NOT NULL REFERENCES lists(id), type TEXT NOT NULL,"
        " actor TEXT NOT NULL, data TEXT NOT NULL, created_at INTEGER NOT NULL)"
    )
    db.execute("CREATE INDEX idx_events_list_id_id ON events (list_id, id)")


@migrations()
def m003_soft_delete(db: Database) -> None:
    # A deleted list keeps its row as a tombstone: deleted_at hides it (data and shares kept for
    # the retention window); purged_at marks its data dropped. The row itself is never removed,
    # so the id can never be created again, by its old tokens or anyone else.
    db.execute("ALTER TABLE lists ADD COLUMN deleted_at INTEGER")
    db.execute("ALTER TABLE lists ADD COLUMN purged_at INTEGER")
    db.execute("CREATE INDEX idx_lists_deleted_at ON lists (deleted_at)")


@migrations()
def m004_share_last_used(db: Database) -> None:
    # When a credential was last used (ms), for the share dialog; NULL until its first use.
    # Written at most about once a minute per share (server/uses.py), never per request.
    db.execute("ALTER TABLE shares ADD COLUMN last_used_at INTEGER")
