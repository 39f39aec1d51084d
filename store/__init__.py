"""Persistence for list documents: an append-only update log plus compacted snapshots."""

from __future__ import annotations

from pathlib import Path

from store.base import (
    Change,
    DeletedList,
    Event,
    ListRecord,
    ListSummary,
    Share,
    Store,
    StoreError,
    StoreUnavailableError,
    TokenInUseError,
)
from store.sqlite import SQLiteStore
from store.writer import Writer

__all__ = [
    "Change",
    "DeletedList",
    "Event",
    "ListRecord",
    "ListSummary",
    "SQLiteStore",
    "Share",
    "Store",
    "StoreError",
    "StoreUnavailableError",
    "TokenInUseError",
    "Writer",
    "open_store",
]


def open_store(
    target: str | Path,
    *,
    synchronous: str = "FULL",
    compact_updates: int = 500,
    compact_bytes: int = 1 << 20,
    pool_size: int = 8,
) -> Store:
    """The store at `target`: a `postgresql://` URL, else the path of a SQLite file.

    Options a backend has no use for are ignored (synchronous is SQLite's, pool_size
    PostgreSQL's).
    """
    if isinstance(target, str) and target.startswith(("postgresql://", "postgres://")):
        from store.postgres import PostgresStore  # psycopg is imported only when used

        return PostgresStore(
            target,
            compact_updates=compact_updates,
            compact_bytes=compact_bytes,
            pool_size=pool_size,
        )
    return SQLiteStore(
        Path(target),
        synchronous=synchronous,
        compact_updates=compact_updates,
        compact_bytes=compact_bytes,
    )
