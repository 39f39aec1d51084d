"""Keeping one loaded list in step with the other processes: the room side of fan-out.

A `Follower` is what a room needs from fan-out, kept out of the room so that its order of
steps is written (and tested) once:

1. subscribe to the list's channel *before* reading the store;
2. read the history and the list's sequence number in one snapshot, build the room from it;
3. apply what arrived meanwhile, then tell the subscription where the load left off, so a
   message committed after the read and lost before the room existed is reported as a gap;
4. on every gap: read what is missing from the store (`history(list_id, after)`), apply it,
   re-check the list's shares (a revocation published while the link was down is otherwise
   lost) and whether the list still exists.

Remote updates are applied by the target with `Origin.REMOTE`: already committed elsewhere,
so they are broadcast to local sockets but never stored, recorded as events or published
again. Catch-up reads go to the store off the event loop; one runs at a time per list, and a
failing one is retried with backoff while the list stays loaded.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Protocol

from server.fanout import Fanout, Kind, Message, Subscription
from store.base import Store
from store.replay import merge

log = logging.getLogger("listok.fanout")


class RemoteTarget(Protocol):
    """What a loaded list (a room) does with changes made on other processes."""

    def apply_remote(self, update: bytes) -> None:
        """Apply a committed update with Origin.REMOTE and broadcast it to local sockets."""
        ...

    def remote_presence(self, node: str, awareness: bytes, removed: bool) -> None: ...

    def remote_revoked(self, share_ids: set[str]) -> None:
        """Close local sockets that came in with these (revoked) share links."""
        ...

    def remote_deleted(self) -> None:
        """The list was deleted elsewhere: close local sockets, unload."""
        ...

    def remote_events(self) -> None:
        """Typed events were committed elsewhere: wake local event streams."""
        ...


def history(store: Store, list_id: str, after: int = 0) -> tuple[list[bytes], int]:
    """`store.history` where the backend numbers updates (PostgreSQL); else the whole load."""
    read: Callable[[str, int], tuple[list[bytes], int]] | None = getattr(store, "history", None)
    if read is not None:
        return read(list_id, after)
    return store.load(list_id), 0


class Follower:
    """One list's link to the other processes, for as long as the list is loaded here."""

    def __init__(
        self,
        list_id: str,
        store: Store,
        fanout: Fanout,
        *,
        retry_min: float = 0.2,
        retry_max: float = 5.0,
        max_early: int = 10_000,
    ) -> None:
        self.list_id = list_id
        self.store = store
        self.fanout = fanout
        self.retry_min = retry_min
        self.retry_max = retry_max
        self.max_early = max_early
        self.target: RemoteTarget | None = None
        self.sub: Subscription | None = None
        self.catch_ups = 0
        self._early: list[Message] = []
        self._overflowed = False
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    async def open(self, build: Callable[[list[bytes]], RemoteTarget]) -> RemoteTarget | None:
        """Subscribe, load, `build` the room from the history; None when there is no list."""
        self.sub = await self.fanout.subscribe(self.list_id, self._on_message, self._on_gap)
        try:
            updates, seq = await asyncio.to_thread(history, self.store, self.list_id)
            if not updates and await asyncio.to_thread(self.store.get_list, self.list_id) is None:
                await self.close()
                return None
            self.target = build(updates)
            # A room says whether its own commits are in flight (`idle`; see Subscription.busy).
            target = self.target
            self.sub.busy = lambda: not getattr(target, "idle", True)
        except BaseException:
            await self.close()
            raise
        early, self._early = self._early, []
        for message in early:
            self._handle(message)
        if self._overflowed:
            self.sub.lost_track()
        self.sub.caught_up(seq)
        return self.target

    async def close(self) -> None:
        self._closed = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        if self.sub is not None:
            await self.fanout.unsubscribe(self.sub)
            self.sub = None

    # -- from the fan-out --------------------------------------------------------------------

    def _on_message(self, message: Message) -> None:
        if self.target is None:
            if len(self._early) < self.max_early:
                self._early.append(message)
            else:
                self._overflowed = True
            return
        self._handle(message)

    def _handle(self, message: Message) -> None:
        target = self.target
        assert target is not None
        if message.kind is Kind.UPDATE:
            target.apply_remote(message.payload)
        elif message.kind in (Kind.PRESENCE, Kind.PRESENCE_REMOVED):
            removed = message.kind is Kind.PRESENCE_REMOVED
            target.remote_presence(message.node, message.payload, removed)
        elif message.kind is Kind.REVOKED:
            target.remote_revoked({message.share_id})
        elif message.kind is Kind.DELETED:
            target.remote_deleted()
        elif message.kind is Kind.EVENTS:
            target.remote_events()

    def _on_gap(self, list_id: str, after: int) -> None:
        if self._closed:
            return
        if self._task is not None and not self._task.done():
            log.error("list %s: a gap reported during a catch-up", list_id)  # Subscription bug
            return
        self._task = asyncio.get_running_loop().create_task(
            self._catch_up(after), name=f"listok-catch-up-{list_id}"
        )

    async def _catch_up(self, after: int) -> None:
        delay = self.retry_min
        while not self._closed:
            try:
                seq = await self._catch_up_once(after)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("list %s: catch-up failed (%s); retrying", self.list_id, exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.retry_max)
                continue
            self.catch_ups += 1
            if seq is not None and self.sub is not None:
                self._task = None
                self.sub.caught_up(seq)
            return

    async def _catch_up_once(self, after: int) -> int | None:
        updates, seq = await asyncio.to_thread(history, self.store, self.list_id, after)
        target = self.target
        if target is None or self._closed:
            return None
        if not updates and await asyncio.to_thread(self.store.get_list, self.list_id) is None:
            target.remote_deleted()
            return None
        merged = merge(updates) if updates else None
        for update in [merged] if merged is not None else updates:
            target.apply_remote(update)
        shares = await asyncio.to_thread(self.store.shares, self.list_id)
        revoked = {share.share_id for share in shares if share.revoked_at is not None}
        if revoked:
            target.remote_revoked(revoked)
        return seq
