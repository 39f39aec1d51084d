"""Persistence for list documents: an append-only update log plus compacted snapshots."""

from store.base import Change, Event, ListRecord, Share, Store, StoreError, TokenInUseError
from store.sqlite import SQLiteStore
from store.writer import Writer

__all__ = [
    "Change",
    "Event",
    "ListRecord",
    "SQLiteStore",
    "Share",
    "Store",
    "StoreError",
    "TokenInUseError",
    "Writer",
]
