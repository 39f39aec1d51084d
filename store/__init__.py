"""Persistence for list documents: an append-only update log plus compacted snapshots."""

from store.base import (
    Change,
    DeletedList,
    Event,
    ListRecord,
    ListSummary,
    Share,
    Store,
    StoreError,
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
    "TokenInUseError",
    "Writer",
]
