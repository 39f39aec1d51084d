"""Persistence for list documents: an append-only update log plus compacted snapshots."""

from store.base import ListRecord, Store, StoreError
from store.sqlite import SQLiteStore
from store.writer import Writer

__all__ = ["ListRecord", "SQLiteStore", "Store", "StoreError", "Writer"]
