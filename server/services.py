"""The long-lived parts of a running server, built and torn down by the app's lifespan."""

from __future__ import annotations

import logging

from models.suggest import Suggester
from server.auth import Tokens
from server.metrics import Metrics
from server.rooms import Rooms
from server.settings import Settings
from server.suggestions import Suggestions
from store import SQLiteStore, Writer
from store.catalog import CatalogStore

log = logging.getLogger("listok")


class Services:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.metrics = Metrics()
        self.store = SQLiteStore(
            settings.db_path,
            synchronous=settings.synchronous,
            compact_updates=settings.compact_updates,
            compact_bytes=settings.compact_bytes,
        )
        self.catalog = CatalogStore(settings.db_path, synchronous=settings.synchronous)
        self.writer = Writer(self.store, window=settings.commit_window_ms / 1000)
        self.writer.on_commit = self._on_commit
        self.tokens = Tokens(self.store)
        self.rooms = Rooms(
            self.store,
            self.writer,
            idle_unload=settings.idle_unload_seconds,
            durable=settings.durable_broadcast,
            metrics=self.metrics,
            max_bytes=settings.max_list_bytes,
        )
        self.writer.on_compaction_due = self.rooms.compact
        self.suggestions = Suggestions(self.store, self.rooms, Suggester.from_env())
        self.rooms.on_events = self.suggestions.changed

    def _on_commit(self, count: int, seconds: float) -> None:
        # Called on the writer thread; prometheus_client's metrics are thread-safe.
        self.metrics.commits.inc()
        self.metrics.commit_seconds.observe(seconds)

    async def start(self) -> None:
        self.writer.start()
        self.suggestions.start()
        if not self.settings.durable_broadcast:
            log.warning("durable_broadcast is off: updates are broadcast before their commit")

    async def stop(self) -> None:
        await self.rooms.close()
        await self.suggestions.stop()
        await self.writer.stop()
        self.store.close()
        self.catalog.close()
