"""The long-lived parts of a running server, built and torn down by the app's lifespan."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field

from server.rooms import Rooms
from server.settings import Settings
from store import SQLiteStore, Writer

log = logging.getLogger("listok")


@dataclass
class Metrics:
    connections: int = 0
    rejected_by_reason: Counter[str] = field(default_factory=Counter)

    def rejected(self, reason: str) -> None:
        self.rejected_by_reason[reason] += 1


class Services:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store = SQLiteStore(
            settings.db_path,
            synchronous=settings.synchronous,
            compact_updates=settings.compact_updates,
            compact_bytes=settings.compact_bytes,
        )
        self.writer = Writer(self.store)
        self.rooms = Rooms(
            self.store,
            self.writer,
            idle_unload=settings.idle_unload_seconds,
            durable=settings.durable_broadcast,
        )
        self.metrics = Metrics()

    async def start(self) -> None:
        self.writer.start()
        if not self.settings.durable_broadcast:
            log.warning("durable_broadcast is off: updates are broadcast before their commit")

    async def stop(self) -> None:
        await self.rooms.close()
        await self.writer.stop()
        self.store.close()
