"""The long-lived parts of a running server, built and torn down by the app's lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque

from server.auth import Tokens
from server.fanout import Fanout, open_fanout
from server.jobs import Jobs
from server.limits import Limits
from server.metrics import Metrics
from server.overview import DecodedLists
from server.rooms import Rooms
from server.settings import Settings
from server.suggestions import Suggestions, suggester_from
from server.uses import ShareUses
from store import Writer, open_store
from store.catalog import CatalogStore

log = logging.getLogger("listok")


class ConfigError(SystemExit):
    """Settings that cannot work together; the message says which and why."""


def check_scale_out(settings: Settings) -> None:
    if settings.redis_url and not settings.database_url.startswith(
        ("postgresql://", "postgres://")
    ):
        raise ConfigError(
            "listok: LISTOK_REDIS_URL needs LISTOK_DATABASE_URL=postgresql://...: processes that"
            " share lists must share one database (a SQLite file belongs to one process)"
        )


class Services:
    def __init__(self, settings: Settings) -> None:
        check_scale_out(settings)
        self.settings = settings
        self.metrics = Metrics()
        self.store = open_store(
            settings.database_url or settings.db_path,
            synchronous=settings.synchronous,
            compact_updates=settings.compact_updates,
            compact_bytes=settings.compact_bytes,
            pool_size=settings.database_pool_size,
        )
        self.catalog = CatalogStore(settings.catalog_path, synchronous=settings.synchronous)
        self.writer = Writer(self.store, window=settings.commit_window_ms / 1000)
        self.writer.on_commit = self._on_commit
        self.tokens = Tokens(self.store)
        self.uses = ShareUses(self.writer)  # each link's last use, for the share dialog
        self.tokens.on_use = self.uses.record
        # Fan-out between processes (docs/decisions/redis-fanout.md): only with a Redis URL;
        # one process alone has nothing to tell anyone, and its rooms skip it entirely.
        self.fanout: Fanout = open_fanout(settings.redis_url, prefix=settings.redis_prefix)
        self.fanout.on_tokens = self._tokens_changed
        self.rooms = Rooms(
            self.store,
            self.writer,
            idle_unload=settings.idle_unload_seconds,
            durable=settings.durable_broadcast,
            metrics=self.metrics,
            max_bytes=settings.max_list_bytes,
            presence_clients=settings.max_presence_clients,
            presence_state_bytes=settings.max_presence_state_bytes,
            fanout=self.fanout if settings.redis_url else None,
        )
        self.rooms.on_remote_access = self._remote_access
        self.writer.on_compaction_due = self.rooms.compact
        self.suggestions = Suggestions(self.store, self.rooms, suggester_from(settings))
        self.rooms.add_listener(self.suggestions.changed)
        self.limits = Limits(settings)
        self._purge_task: asyncio.Task[None] | None = None
        # The operator's view (server/admin.py): long jobs, decoded list titles, recent commits.
        self.jobs = Jobs()
        self.decoded_lists = DecodedLists(self.store)
        self.commit_latencies: deque[float] = deque(maxlen=1000)
        self.started_monotonic = time.monotonic()

    def _on_commit(self, count: int, seconds: float) -> None:
        # Called on the writer thread; prometheus_client's metrics are thread-safe.
        self.metrics.commits.inc()
        self.metrics.commit_seconds.observe(seconds)
        self.commit_latencies.append(seconds)

    def _tokens_changed(self, list_id: str | None) -> None:
        """Another process revoked or deleted something (or we lost track): re-read tokens."""
        self.tokens.forget()

    def _remote_access(self, list_id: str, deleted: bool) -> None:
        self.tokens.forget()
        if deleted:
            self.suggestions.forget(list_id)
            self.decoded_lists.forget(list_id)

    async def published_revocation(self, list_id: str, share_id: str) -> None:
        """After a share was revoked here (committed): other processes close its sockets."""
        await self.fanout.publish_revoked(list_id, share_id)

    async def published_deletion(self, list_id: str) -> None:
        """After a list was deleted here (committed): other processes close and unload it."""
        await self.fanout.publish_deleted(list_id)

    async def start(self) -> None:
        self.writer.start()
        await self.fanout.start()
        self.suggestions.start()
        self._purge_task = asyncio.create_task(self._purge_loop(), name="listok-purge")
        if 0 < len(self.settings.admin_token) < 24:
            log.warning("LISTOK_ADMIN_TOKEN is short: use `listok admin token` or 32+ random chars")
        if not self.settings.durable_broadcast:
            log.warning("durable_broadcast is off: updates are broadcast before their commit")

    async def purge_deleted(self) -> int:
        """Drop the data of lists deleted longer ago than the retention window."""
        before = int((time.time() - self.settings.deleted_retention_days * 86400) * 1000)
        purged: int = await self.writer.run(lambda store: store.purge_deleted(before))
        if purged:
            log.info("purged %d list(s) deleted before the retention window", purged)
        return purged

    async def _purge_loop(self) -> None:
        while True:
            try:
                await self.purge_deleted()
            except Exception:
                log.exception("purging deleted lists failed; will retry")
            await asyncio.sleep(self.settings.purge_interval_seconds)

    async def stop(self) -> None:
        if self._purge_task is not None:
            self._purge_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._purge_task
        await self.jobs.stop()
        await self.rooms.close()
        await self.fanout.stop()
        await self.suggestions.stop()
        self.uses.stop()
        await self.writer.stop()
        self.store.close()
        self.catalog.close()
