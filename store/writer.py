"""One writer thread per store: group commits, then tell the event loop what is durable.

Updates submitted while a transaction is being committed are committed together in the next
one (group commit), so throughput grows with load while each update still waits for at most
about two commits. Compaction runs on the same thread, after the commit that crossed the limit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from store.base import Change, Store

log = logging.getLogger("listok.store")

T = TypeVar("T")

_STOP = object()


class Writer:
    def __init__(self, store: Store, *, window: float = 0.0) -> None:
        self.store = store
        # Group commit under load: when the previous commit ended less than `window` seconds
        # ago, wait until `window` after it for more changes. A lone change commits at once;
        # what queues during a commit always joins the next one.
        self.window = window
        self._last_commit_end = 0.0
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="listok-writer", daemon=True)
        self._loop: asyncio.AbstractEventLoop | None = None
        self.commits = 0
        self.on_commit: Callable[[int, float], None] | None = None
        # Called on the event loop with a list id whose log should be folded; the caller then
        # queues `install_snapshot` (see Rooms). Without it, compaction replays the log here.
        self.on_compaction_due: Callable[[str], None] | None = None
        self._compaction_pending: set[str] = set()

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._thread.start()

    def append(self, change: Change) -> asyncio.Future[int | None]:
        """Queue a change; the future resolves once it is committed.

        Its result is the change's sequence number in its list where the store numbers them
        (PostgreSQL: what fan-out publishes), else None (SQLite).
        """
        assert self._loop is not None, "Writer.start() first"
        fut: asyncio.Future[int | None] = self._loop.create_future()
        self._queue.put((change, fut))
        return fut

    def run(self, fn: Callable[[Store], T]) -> asyncio.Future[T]:
        """Run a write job on the writer thread, in order with the queued updates."""
        assert self._loop is not None, "Writer.start() first"
        fut: asyncio.Future[T] = self._loop.create_future()
        self._queue.put((fn, fut))
        return fut

    async def stop(self) -> None:
        """Commit everything queued, then stop the thread."""
        if not self._thread.is_alive():
            return
        self._queue.put(_STOP)
        await asyncio.to_thread(self._thread.join)

    def _run(self) -> None:
        stopping = False
        while not stopping:
            batch = [self._queue.get()]
            deadline = self._last_commit_end + self.window
            while batch[-1] is not _STOP:
                remaining = deadline - time.monotonic()
                try:
                    if remaining > 0:
                        batch.append(self._queue.get(timeout=remaining))
                    else:
                        batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            if batch[-1] is _STOP:
                batch.pop()
                stopping = True
            self._process(batch)
            self._last_commit_end = time.monotonic()

    def _process(self, batch: list[Any]) -> None:
        updates: list[tuple[Change, asyncio.Future[int | None]]] = []
        for entry in batch:
            if isinstance(entry[0], Change):
                updates.append(entry)
                continue
            self._commit(updates)
            updates = []
            fn, fut = entry
            try:
                self._resolve([(fut, fn(self.store), None)])
            except Exception as exc:
                self._resolve([(fut, None, exc)])
        self._commit(updates)

    def _commit(self, updates: list[tuple[Change, asyncio.Future[int | None]]]) -> None:
        if not updates:
            return
        started = time.perf_counter()
        error: Exception | None = None
        seqs: Sequence[int] | None = None
        try:
            seqs = self.store.append([change for change, _ in updates])
        except Exception as exc:
            log.exception("commit of %d updates failed", len(updates))
            error = exc
        elapsed = time.perf_counter() - started
        self.commits += 1
        self._resolve(
            [
                (fut, seqs[i] if seqs and error is None else None, error)
                for i, (_, fut) in enumerate(updates)
            ]
        )
        if self.on_commit is not None:
            self.on_commit(len(updates), elapsed)
        if error is None:
            for list_id in dict.fromkeys(change.list_id for change, _ in updates):
                self._maybe_compact(list_id)

    def _maybe_compact(self, list_id: str) -> None:
        try:
            if list_id in self._compaction_pending or not self.store.needs_compaction(list_id):
                return
            if self.on_compaction_due is None or self._loop is None:
                self.store.compact(list_id)
                return
            self._compaction_pending.add(list_id)
            self._loop.call_soon_threadsafe(self.on_compaction_due, list_id)
        except Exception:
            log.exception("compaction of list %s failed; the update log is intact", list_id)

    def install_snapshot(self, list_id: str, state: bytes) -> asyncio.Future[None]:
        """Queue a snapshot made from a document that holds everything queued before it."""

        def install(store: Store) -> None:
            self._compaction_pending.discard(list_id)
            store.install_snapshot(list_id, state)

        return self.run(install)

    def compaction_skipped(self, list_id: str) -> asyncio.Future[None]:
        """The list is not in memory: fold its log by replaying it, on the writer thread."""

        def replay(store: Store) -> None:
            self._compaction_pending.discard(list_id)
            store.compact(list_id)

        return self.run(replay)

    def _resolve(self, results: list[tuple[asyncio.Future[Any], Any, Exception | None]]) -> None:
        assert self._loop is not None
        if not results:
            return
        with contextlib.suppress(RuntimeError):  # a closed loop: nobody is waiting any more
            self._loop.call_soon_threadsafe(_settle, results)


def _settle(results: list[tuple[asyncio.Future[Any], Any, Exception | None]]) -> None:
    for fut, value, error in results:
        if fut.done():
            continue
        if error is not None:
            fut.set_exception(error)
        else:
            fut.set_result(value)
