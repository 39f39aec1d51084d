"""When each credential (an owner token or a share link) was last used, written sparingly.

Every accepted token counts: a socket opening, sending and closing, an HTTP call, an event
stream and its periodic re-check (docs/decisions/share-last-use.md). Recording a use is a
dict look-up on the event loop; a share is written at most once per `interval` per process,
and the uses that arrive meanwhile go to the store together in one writer job (one
transaction), never one write per request. The stored time can thus be up to `interval` old,
which "used 5 min ago" can afford. Processes sharing a PostgreSQL database each throttle on
their own; the store keeps the latest time whatever order their writes land in.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Final

from store import Store, Writer

log = logging.getLogger("listok")

# How many shares' last write times are remembered; past it the ones older than the interval
# are dropped (they would be written on their next use anyway).
REMEMBERED: Final = 10_000


class ShareUses:
    def __init__(
        self,
        writer: Writer,
        *,
        interval: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        now_ms: Callable[[], int] = lambda: int(time.time() * 1000),
    ) -> None:
        self.writer = writer
        self.interval = interval
        self._clock = clock
        self._now_ms = now_ms
        self._written: dict[str, float] = {}  # share id -> when its use was last queued
        self._pending: dict[str, int] = {}  # share id -> ms, not yet handed to the writer
        self._in_flight = False
        self._stopped = False

    def record(self, share_id: str) -> None:
        """A credential was just accepted. Cheap; never waits for the store."""
        now = self._clock()
        last = self._written.get(share_id)
        if last is not None and now - last < self.interval:
            return
        self._written[share_id] = now
        self._pending[share_id] = self._now_ms()
        if len(self._written) > REMEMBERED:
            self._forget_old(now)
        if not self._in_flight and not self._stopped:
            self._flush()

    def _forget_old(self, now: float) -> None:
        self._written = {k: t for k, t in self._written.items() if now - t < self.interval}
        if len(self._written) > REMEMBERED:  # a flood of distinct shares within one interval
            self._written.clear()

    def _flush(self) -> None:
        """Hand what is pending to the writer; what arrives meanwhile waits for its commit."""
        self._in_flight = True
        self._write().add_done_callback(self._written_back)

    def _write(self) -> asyncio.Future[None]:
        batch, self._pending = self._pending, {}

        def write(store: Store) -> None:
            store.record_uses(batch)

        fut = self.writer.run(write)
        fut.add_done_callback(_log_failure)
        return fut

    def _written_back(self, _fut: asyncio.Future[None]) -> None:
        self._in_flight = False
        if self._pending and not self._stopped:
            self._flush()

    def stop(self) -> None:
        """Before the writer stops: queue what is pending (its stop commits everything queued)."""
        self._stopped = True
        if self._pending:
            self._write()


def _log_failure(fut: asyncio.Future[None]) -> None:
    if not fut.cancelled() and fut.exception() is not None:
        # Not worth a retry: the share's next use after the interval writes again.
        log.warning("could not record when share links were used: %s", fut.exception())
