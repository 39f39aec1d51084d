"""Versioned PostgreSQL migrations and their runner (docs/decisions/postgres-migrations.md).

Every process runs `migrate` when it opens the store. Pending migrations are applied in one
transaction together with their rows in `schema_migrations`, under a transaction-scoped advisory
lock: two processes starting at once queue on the lock, and the second finds nothing to do.
PostgreSQL's DDL is transactional, so a failing migration leaves the schema as it was.

Append new migrations at the end with the next version; never edit one that has shipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg

# pg_advisory_xact_lock takes a bigint: a fixed key for "the Listok schema" (ASCII "listokdb").
MIGRATION_LOCK = 0x6C6973746F6B6462


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    statements: tuple[str, ...]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "lists_updates_snapshots",
        (
            # seq: how many updates the list has ever had. An append takes the list's row lock to
            # bump it, so per list the numbers are contiguous and in commit order: what fan-out
            # subscribers use to notice a missed message, and what a snapshot records it covers.
            # tail_updates/tail_bytes: the log after the snapshot, for needs_compaction.
            # deleted_at/purged_at: the soft-delete tombstone (the row is never removed).
            "CREATE TABLE lists (id TEXT PRIMARY KEY, created_at BIGINT NOT NULL,"
            " seq BIGINT NOT NULL DEFAULT 0, tail_updates BIGINT NOT NULL DEFAULT 0,"
            " tail_bytes BIGINT NOT NULL DEFAULT 0, deleted_at BIGINT, purged_at BIGINT)",
            "CREATE INDEX idx_lists_deleted_at ON lists (deleted_at)",
            "CREATE TABLE updates (list_id TEXT NOT NULL REFERENCES lists(id),"
            " seq BIGINT NOT NULL, data BYTEA NOT NULL, created_at BIGINT NOT NULL,"
            " PRIMARY KEY (list_id, seq))",
            "CREATE TABLE snapshots (list_id TEXT PRIMARY KEY REFERENCES lists(id),"
            " state BYTEA NOT NULL, last_seq BIGINT NOT NULL, created_at BIGINT NOT NULL)",
        ),
    ),
    Migration(
        2,
        "shares_and_events",
        (
            "CREATE TABLE shares (id TEXT PRIMARY KEY, list_id TEXT NOT NULL REFERENCES lists(id),"
            " token_hash TEXT NOT NULL UNIQUE, role TEXT NOT NULL, label TEXT NOT NULL DEFAULT '',"
            " created_at BIGINT NOT NULL, revoked_at BIGINT)",
            "CREATE INDEX idx_shares_list_id ON shares (list_id)",
            # Event ids come from one sequence; an append takes the list's row lock before it
            # inserts events, so per list the ids are also in commit order (SSE resume by id).
            "CREATE TABLE events (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
            " list_id TEXT NOT NULL REFERENCES lists(id), type TEXT NOT NULL,"
            " actor TEXT NOT NULL, data TEXT NOT NULL, created_at BIGINT NOT NULL)",
            "CREATE INDEX idx_events_list_id_id ON events (list_id, id)",
        ),
    ),
    Migration(
        3,
        "share_last_used",
        (
            # When a credential was last used (ms), for the share dialog; NULL until its first
            # use. Each process writes it at most about once a minute per share (server/uses.py).
            "ALTER TABLE shares ADD COLUMN last_used_at BIGINT",
        ),
    ),
)


def migrate(conn: psycopg.Connection[Any], migrations: tuple[Migration, ...] = MIGRATIONS) -> int:
    """Apply the pending migrations in one transaction; returns how many were applied."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY,"
            " name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
        )
        done = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
        applied = 0
        for migration in migrations:
            if migration.version in done:
                continue
            for statement in migration.statements:
                conn.execute(statement.encode())
            conn.execute(
                "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
                (migration.version, migration.name),
            )
            applied += 1
    return applied


def applied_versions(conn: psycopg.Connection[Any]) -> list[int]:
    rows = conn.execute("SELECT version FROM schema_migrations ORDER BY version").fetchall()
    return [row[0] for row in rows]
