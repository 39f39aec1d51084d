"""Fan-out between server processes: what one process commits reaches the others.

A `Fanout` carries committed updates, presence changes and removals, share revocations, list
deletions, typed-event notices and token-cache invalidations between processes that serve the
same lists (docs/decisions/redis-fanout.md). Nothing is published before it is committed: the
room layer publishes from the commit callback, as it broadcasts to its own sockets.

Every committed update carries its list's sequence number from the database (PostgreSQL
numbers each list's updates contiguously, in commit order). A `Subscription` remembers the
highest number it has accounted for; a message that skips numbers, a reconnection (messages
may have been published while the link was down) or a number newer than what a load read
reports a *gap*: the subscriber reads what it lacks from the store (`history(list_id, seq)`)
and applies it. Yjs updates are idempotent, so overlap between catch-up and messages is
harmless. Presence is not caught up: awareness states are renewed every 15 s by the clients.

Two implementations: `LocalFanout` (in-process: the default, and a hub several instances can
share in tests) and `RedisFanout` (Redis pub/sub, one channel per list plus one for all).
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import json
import logging
import secrets
import struct
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

log = logging.getLogger("listok.fanout")


class Origin(enum.Enum):
    """Where a change to a list came from: what hooks use to decide to store, broadcast or skip.

    SOCKET: a peer's sync message; API: an HTTP request; SERVER: the server's own jobs
    (categorising, imports, compaction); REMOTE: another process, delivered by fan-out (already
    committed there: apply and broadcast locally, never store or publish again).
    """

    SOCKET = "socket"
    API = "api"
    SERVER = "server"
    REMOTE = "remote"


class Kind(enum.Enum):
    UPDATE = "update"  # payload: a committed Yjs update; seq: its number in the list
    HEAD = "head"  # seq: the list's newest number (republished after a failed publish)
    PRESENCE = "presence"  # payload: an awareness update
    PRESENCE_REMOVED = "presence_removed"  # payload: an awareness update of null states
    REVOKED = "revoked"  # share_id: close that link's sockets
    DELETED = "deleted"  # the list is gone: close its sockets, unload it
    EVENTS = "events"  # event_id: typed events up to this id are committed (wake SSE)
    TOKENS = "tokens"  # drop cached token lookups (for list_id, or all when it is "")


@dataclass(frozen=True)
class Message:
    kind: Kind
    list_id: str
    seq: int = 0
    payload: bytes = b""
    share_id: str = ""
    event_id: int = 0
    origin: Origin = Origin.SERVER  # the origin at the publishing process
    node: str = ""  # the publishing process (set by the fan-out)


MessageHandler = Callable[[Message], None]
# (list_id, after_seq): read the list's history after after_seq from the store and apply it.
GapHandler = Callable[[str, int], None]

_MAGIC = b"LF1"
_HEADER = struct.Struct(">3sI")


def encode(message: Message) -> bytes:
    header: dict[str, Any] = {
        "k": message.kind.value,
        "l": message.list_id,
        "o": message.origin.value,
        "n": message.node,
    }
    if message.seq:
        header["s"] = message.seq
    if message.share_id:
        header["h"] = message.share_id
    if message.event_id:
        header["e"] = message.event_id
    head = json.dumps(header, separators=(",", ":")).encode()
    return _HEADER.pack(_MAGIC, len(head)) + head + message.payload


def decode(data: bytes) -> Message:
    """Parse a fan-out frame; ValueError when it is not one."""
    if len(data) < _HEADER.size:
        raise ValueError("short fan-out frame")
    magic, size = _HEADER.unpack_from(data)
    if magic != _MAGIC or _HEADER.size + size > len(data):
        raise ValueError("not a fan-out frame")
    header = json.loads(data[_HEADER.size : _HEADER.size + size])
    if not isinstance(header, dict):
        raise ValueError("bad fan-out header")
    return Message(
        kind=Kind(header["k"]),
        list_id=str(header["l"]),
        seq=int(header.get("s", 0)),
        payload=bytes(data[_HEADER.size + size :]),
        share_id=str(header.get("h", "")),
        event_id=int(header.get("e", 0)),
        origin=Origin(header["o"]),
        node=str(header["n"]),
    )


@dataclass(eq=False)
class Subscription:
    """One list's subscription in one process: delivers other processes' messages, finds gaps.

    `seen` is the highest sequence number accounted for. A gap calls `on_gap(list_id, seen)`;
    the subscriber then reads the list's history after `seen` from the store, applies it and
    calls `caught_up(seq)` with the number that read reached. Numbers that arrive meanwhile (or
    before the first `caught_up`, which the subscriber calls with the number its load read) are
    kept and checked then, so nothing committed after a store read can slip between the read
    and the messages.
    """

    list_id: str
    on_message: MessageHandler
    on_gap: GapHandler
    node: str
    seen: int | None = None
    gaps: int = 0
    max_pending: int = 10_000
    # Seconds a skipped number may take to arrive before it is a gap: with two processes
    # writing one list, the other's next number often arrives before our own commit callback
    # has noted ours, and a catch-up (a store read) for that is wasted work under load.
    grace: float = 0.0
    # Set by the subscriber: True while its own commits for this list are in flight (then a
    # skipped number may well be its own, noted once the commit callback runs: wait longer).
    busy: Callable[[], bool] | None = None
    max_grace: float = 2.0
    _waited: float = 0.0
    _pending: set[int] = field(default_factory=set)
    _catching: bool = False
    _stale: bool = False
    _timer: asyncio.TimerHandle | None = None

    def caught_up(self, seq: int) -> None:
        """The subscriber's replica holds everything up to seq (read from the store)."""
        self._cancel_grace()
        self.seen = max(self.seen or 0, seq)
        self._catching = False
        while self.seen + 1 in self._pending:
            self.seen += 1
        self._pending = {n for n in self._pending if n > self.seen}
        if self._stale or self._pending:
            self._stale = False
            self._gap()

    def note(self, seq: int, *, missing: bool = False) -> None:
        """A committed sequence number, ours or another process's: report a skip as a gap.

        missing: the update numbered seq itself was not delivered (a HEAD, published in place
        of an update whose publish had failed): catch up unless it is already accounted for.
        """
        if seq <= 0:
            return
        if missing:
            if self.seen is None or self._catching:
                self._stale = True
            elif seq > self.seen:
                self._gap()
            return
        if self.seen is None or self._catching:
            if len(self._pending) >= self.max_pending:
                self._pending.clear()
                self._stale = True
            self._pending.add(seq)
            return
        if seq == self.seen + 1:
            self.seen = seq
            while self.seen + 1 in self._pending:  # what arrived early during a grace
                self._pending.discard(self.seen + 1)
                self.seen += 1
            if not any(n > self.seen for n in self._pending):
                self._pending.clear()
                self._cancel_grace()
        elif seq > self.seen + 1:
            self._pending.add(seq)
            if self.grace <= 0:
                self._gap()
            elif self._timer is None:
                loop = asyncio.get_running_loop()
                self._timer = loop.call_later(self.grace, self._grace_over)

    def _grace_over(self) -> None:
        self._timer = None
        if self._catching or not any(n > (self.seen or 0) for n in self._pending):
            return
        self._waited += self.grace
        if self.busy is not None and self.busy() and self._waited < self.max_grace:
            loop = asyncio.get_running_loop()
            self._timer = loop.call_later(self.grace, self._grace_over)
            return
        self._gap()

    def _cancel_grace(self) -> None:
        self._waited = 0.0
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def lost_track(self) -> None:
        """Messages may have been lost (the link to the others was down): catch up."""
        if self.seen is None or self._catching:
            self._stale = True  # the load or catch-up in flight may predate the outage
        else:
            self._gap()

    def _gap(self) -> None:
        self._cancel_grace()
        self._catching = True
        self.gaps += 1
        after = self.seen or 0
        log.info("list %s: fan-out gap after %d; catching up from the store", self.list_id, after)
        try:
            self.on_gap(self.list_id, after)
        except Exception:
            log.exception("list %s: catch-up handler failed", self.list_id)

    def deliver(self, message: Message) -> None:
        if message.kind in (Kind.UPDATE, Kind.HEAD) and message.node != self.node:
            self.note(message.seq, missing=message.kind is Kind.HEAD)
        if message.node == self.node or message.kind is Kind.HEAD:
            return  # our own, already delivered locally; a head only reports numbers
        try:
            self.on_message(message)
        except Exception:
            log.exception("list %s: fan-out handler failed", self.list_id)


class Fanout:
    """The interface the room layer uses; `LocalFanout` and `RedisFanout` implement it."""

    def __init__(self, node: str | None = None) -> None:
        self.node = node or secrets.token_hex(6)
        self._subs: dict[str, list[Subscription]] = {}
        # Called for TOKENS messages from any process, and with None after a reconnection
        # (every token lookup may be stale: drop the cache).
        self.on_tokens: Callable[[str | None], None] | None = None
        self.published = 0
        self.received = 0
        self._outgoing: asyncio.Queue[Message] | None = None
        # What the sender takes from the posted queue at once (one Redis round trip under load).
        self.post_batch = 128
        self.gap_grace = 0.05  # see Subscription.grace
        self._closed = False
        self._sender: asyncio.Task[None] | None = None

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        await self._stop_sender()

    async def subscribe(
        self, list_id: str, on_message: MessageHandler, on_gap: GapHandler
    ) -> Subscription:
        sub = Subscription(list_id, on_message, on_gap, self.node, grace=self.gap_grace)
        first = list_id not in self._subs
        self._subs.setdefault(list_id, []).append(sub)
        if first:
            await self._listen(list_id)
        return sub

    async def unsubscribe(self, sub: Subscription) -> None:
        subs = self._subs.get(sub.list_id, [])
        if sub in subs:
            subs.remove(sub)
        if not subs and self._subs.pop(sub.list_id, None) is not None:
            await self._unlisten(sub.list_id)

    def subscriptions(self, list_id: str) -> list[Subscription]:
        return list(self._subs.get(list_id, ()))

    async def publish(self, message: Message) -> None:
        """Send a committed change to the other processes (never raises: see the outbox)."""
        await self._send(self._stamp(message))

    def post(self, message: Message) -> None:
        """`publish` from synchronous code (a commit callback): queued, sent in order.

        One task sends what is posted, in posting order, so a list's updates leave in the
        order they were committed (out of order they would only cost a catch-up).
        """
        if self._closed:
            return  # shutting down: a socket leaving after the fan-out stopped
        message = self._stamp(message)
        if self._outgoing is None:
            self._outgoing = asyncio.Queue()
            self._sender = asyncio.get_running_loop().create_task(
                self._send_posted(self._outgoing), name="listok-fanout-sender"
            )
        self._outgoing.put_nowait(message)

    def _stamp(self, message: Message) -> Message:
        message = replace(message, node=self.node)
        if message.kind in (Kind.UPDATE, Kind.HEAD):
            for sub in self._subs.get(message.list_id, ()):
                sub.note(message.seq)
        self.published += 1
        return message

    async def _send_posted(self, queue: asyncio.Queue[Message]) -> None:
        while True:
            batch = [await queue.get()]
            while len(batch) < self.post_batch and not queue.empty():
                batch.append(queue.get_nowait())
            try:
                await self._send_many(batch)
            except Exception:
                log.exception("fan-out: sending %d posted messages failed", len(batch))
            finally:
                for _ in batch:
                    queue.task_done()

    async def _send_many(self, messages: list[Message]) -> None:
        """Send in order; an implementation may send them in one round trip."""
        for message in messages:
            await self._send(message)

    async def _stop_sender(self, timeout: float = 1.0) -> None:
        """Send what is still posted (bounded), then stop the sender."""
        self._closed = True
        if self._outgoing is not None and self._sender is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._outgoing.join(), timeout)
            self._sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sender
        self._outgoing = self._sender = None

    # Convenience forms, one per kind of change.
    async def publish_update(
        self, list_id: str, update: bytes, seq: int, origin: Origin = Origin.SOCKET
    ) -> None:
        await self.publish(Message(Kind.UPDATE, list_id, seq=seq, payload=update, origin=origin))

    async def publish_presence(self, list_id: str, awareness: bytes, *, removed: bool) -> None:
        kind = Kind.PRESENCE_REMOVED if removed else Kind.PRESENCE
        await self.publish(Message(kind, list_id, payload=awareness, origin=Origin.SOCKET))

    async def publish_revoked(self, list_id: str, share_id: str) -> None:
        await self.publish(Message(Kind.REVOKED, list_id, share_id=share_id, origin=Origin.API))
        await self.publish(Message(Kind.TOKENS, list_id, origin=Origin.API))

    async def publish_deleted(self, list_id: str) -> None:
        await self.publish(Message(Kind.DELETED, list_id, origin=Origin.API))
        await self.publish(Message(Kind.TOKENS, list_id, origin=Origin.API))

    async def publish_events(self, list_id: str, event_id: int, origin: Origin) -> None:
        await self.publish(Message(Kind.EVENTS, list_id, event_id=event_id, origin=origin))

    async def publish_tokens(self, list_id: str = "") -> None:
        await self.publish(Message(Kind.TOKENS, list_id, origin=Origin.API))

    # -- for implementations ---------------------------------------------------------------

    def _dispatch(self, message: Message) -> None:
        self.received += 1
        if message.kind is Kind.TOKENS:
            if message.node != self.node and self.on_tokens is not None:
                self.on_tokens(message.list_id)
            return
        for sub in self.subscriptions(message.list_id):
            sub.deliver(message)

    def _lost_track(self) -> None:
        """After a reconnection: every subscribed list catches up, token caches are dropped."""
        if self.on_tokens is not None:
            self.on_tokens(None)
        for subs in list(self._subs.values()):
            for sub in subs:
                sub.lost_track()

    async def _listen(self, list_id: str) -> None:
        return None

    async def _unlisten(self, list_id: str) -> None:
        return None

    async def _send(self, message: Message) -> None:
        raise NotImplementedError


class LocalHub:
    """The in-process bus: LocalFanouts made with the same hub exchange messages."""

    def __init__(self) -> None:
        self.members: list[LocalFanout] = []


class LocalFanout(Fanout):
    """In-process fan-out: the default for one process (nothing leaves it)."""

    def __init__(self, hub: LocalHub | None = None, node: str | None = None) -> None:
        super().__init__(node)
        self.hub = hub or LocalHub()
        self.hub.members.append(self)

    async def stop(self) -> None:
        await self._stop_sender()
        if self in self.hub.members:
            self.hub.members.remove(self)

    async def _send(self, message: Message) -> None:
        loop = asyncio.get_running_loop()
        for member in self.hub.members:
            if member is not self:
                loop.call_soon(member._dispatch, message)


class RedisFanout(Fanout):
    """Redis pub/sub: a channel per list (subscribed while the list is loaded) and one for all.

    One connection subscribes, another publishes. When the subscriber's link breaks it is
    rebuilt with exponential backoff (0.1 s doubling to `max_backoff`), every channel is
    subscribed again, and every list reports a gap (messages may have been published while it
    was down). A publish that fails is kept (a bounded outbox; an update becomes a HEAD with
    its number, which makes the others catch up from the store) and retried with backoff.
    """

    def __init__(
        self,
        url: str,
        *,
        prefix: str = "listok:",
        node: str | None = None,
        min_backoff: float = 0.1,
        max_backoff: float = 5.0,
        outbox_limit: int = 10_000,
    ) -> None:
        super().__init__(node)
        self.url = url
        self.prefix = prefix
        self.min_backoff = min_backoff
        self.max_backoff = max_backoff
        self.outbox_limit = outbox_limit
        self.connected = asyncio.Event()
        self.reconnects = 0
        self._all = f"{prefix}all"
        self._pub: Any = None
        self._pubsub: Any = None
        self._sub_client: Any = None
        self._reader: asyncio.Task[None] | None = None
        self._flusher: asyncio.Task[None] | None = None
        self._confirmed: dict[str, asyncio.Event] = {}
        self._outbox: OrderedDict[tuple[str, str, str], Message] = OrderedDict()
        self._stopping = False

    def channel(self, list_id: str) -> str:
        return f"{self.prefix}list:{list_id}"

    def _client(self, role: str) -> Any:
        import redis.asyncio as aioredis
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        # No silent retries: a broken link must surface here, where it is followed by a
        # catch-up (redis-py would otherwise reconnect and resubscribe without telling us).
        return aioredis.Redis.from_url(
            self.url,
            retry=Retry(NoBackoff(), 0),
            client_name=f"{self.prefix}{role}:{self.node}",
            socket_connect_timeout=2,
            socket_keepalive=True,
            health_check_interval=10,
            # No CLIENT SETINFO at connect: Redis before 7.2 answers it with an error, which
            # redis-py swallows in its handshake but which was once seen surfacing in a
            # pipelined publish under load (a publish kept for retry, then a catch-up).
            driver_info=None,
        )

    async def start(self) -> None:
        """Connect; when Redis is down, keep trying in the background (the server runs)."""
        self._pub = self._client("pub")
        try:
            await self._connect()
        except Exception as exc:
            await self._close_subscriber()
            log.warning("fan-out: Redis at %s unreachable (%s); will keep trying", self.url, exc)
        self._reader = asyncio.create_task(self._read(), name="listok-fanout-reader")

    async def stop(self) -> None:
        await self._stop_sender()
        self._stopping = True
        for task in (self._reader, self._flusher):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        await self._close_subscriber()
        if self._pub is not None:
            with contextlib.suppress(Exception):
                await self._pub.aclose()

    async def _connect(self) -> None:
        """A fresh subscriber connection listening on every channel we need."""
        self._sub_client = self._client("sub")
        self._pubsub = self._sub_client.pubsub()
        channels = [self._all, *(self.channel(list_id) for list_id in self._subs)]
        await self._pubsub.subscribe(*channels)
        # Wait for the confirmation of the first: from then on nothing published is missed.
        deadline = asyncio.get_running_loop().time() + 5
        confirmed = 0
        while confirmed < len(channels):
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise TimeoutError("Redis did not confirm the subscriptions")
            message = await self._pubsub.get_message(timeout=remaining)
            if message is None:
                continue
            if message["type"] == "subscribe":
                confirmed += 1
            else:
                self._on_raw(message)
        self.connected.set()

    async def _close_subscriber(self) -> None:
        self.connected.clear()
        if self._pubsub is not None:
            with contextlib.suppress(Exception):
                await self._pubsub.aclose()
        if self._sub_client is not None:
            with contextlib.suppress(Exception):
                await self._sub_client.aclose()
        self._pubsub = self._sub_client = None

    async def _read(self) -> None:
        while not self._stopping:
            if self._pubsub is None:
                await self._reconnect()
                continue
            try:
                message = await self._pubsub.get_message(timeout=1.0)
                if message is not None:
                    self._on_raw(message)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("fan-out: lost the Redis subscription (%s); reconnecting", exc)
                await self._reconnect()

    async def _reconnect(self) -> None:
        await self._close_subscriber()
        delay = self.min_backoff
        while not self._stopping:
            await asyncio.sleep(delay)
            try:
                await self._connect()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                await self._close_subscriber()
                log.warning("fan-out: Redis unreachable (%s); retrying in %.1fs", exc, delay)
                delay = min(delay * 2, self.max_backoff)
                continue
            self.reconnects += 1
            log.info("fan-out: reconnected to Redis; catching up every loaded list")
            self._lost_track()
            self._schedule_flush()
            return

    def _on_raw(self, raw: dict[str, Any]) -> None:
        kind = raw.get("type")
        if kind == "subscribe":
            channel = raw["channel"].decode() if isinstance(raw["channel"], bytes) else ""
            event = self._confirmed.get(channel)
            if event is not None:
                event.set()
            return
        if kind != "message":
            return
        try:
            message = decode(raw["data"])
        except (ValueError, KeyError, TypeError) as exc:
            log.error("fan-out: dropped a malformed message: %s", exc)
            return
        self._dispatch(message)

    async def _listen(self, list_id: str) -> None:
        if self._pubsub is None or not self.connected.is_set():
            return  # _connect subscribes it with the others, then reports a gap
        channel = self.channel(list_id)
        confirmed = self._confirmed[channel] = asyncio.Event()
        try:
            await self._pubsub.subscribe(channel)
            await asyncio.wait_for(confirmed.wait(), 5)
        except Exception as exc:  # the reader notices the broken link and catches up
            log.warning("fan-out: subscribing to %s failed: %s", channel, exc)
        finally:
            self._confirmed.pop(channel, None)

    async def _unlisten(self, list_id: str) -> None:
        if self._pubsub is None:
            return
        with contextlib.suppress(Exception):
            await self._pubsub.unsubscribe(self.channel(list_id))

    async def _send(self, message: Message) -> None:
        channel = self._all if message.kind is Kind.TOKENS else self.channel(message.list_id)
        try:
            await self._pub.publish(channel, encode(message))
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("fan-out: publish failed (%s); kept for retry", exc)
            self._keep(message)
            self._schedule_flush()

    async def _send_many(self, messages: list[Message]) -> None:
        if len(messages) == 1:
            await self._send(messages[0])
            return
        pipe = self._pub.pipeline(transaction=False)
        for message in messages:
            channel = self._all if message.kind is Kind.TOKENS else self.channel(message.list_id)
            pipe.publish(channel, encode(message))
        try:
            await pipe.execute()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("fan-out: publishing %d failed (%s); kept for retry", len(messages), exc)
            for message in messages:
                self._keep(message)
            self._schedule_flush()

    def _keep(self, message: Message) -> None:
        if message.kind in (Kind.PRESENCE, Kind.PRESENCE_REMOVED):
            return  # renewed by the clients every 15 s; never worth keeping
        if message.kind is Kind.UPDATE:  # the store has it: the number is enough
            message = replace(message, kind=Kind.HEAD, payload=b"")
        key = (message.kind.value, message.list_id, message.share_id)
        previous = self._outbox.pop(key, None)
        if previous is not None and previous.seq > message.seq:
            message = replace(message, seq=previous.seq)
        self._outbox[key] = message
        while len(self._outbox) > self.outbox_limit:
            self._outbox.popitem(last=False)

    def _schedule_flush(self) -> None:
        if self._outbox and (self._flusher is None or self._flusher.done()):
            self._flusher = asyncio.create_task(self._flush(), name="listok-fanout-flush")

    async def _flush(self) -> None:
        delay = self.min_backoff
        while self._outbox and not self._stopping:
            key, message = next(iter(self._outbox.items()))
            channel = self._all if message.kind is Kind.TOKENS else self.channel(message.list_id)
            try:
                await self._pub.publish(channel, encode(message))
            except asyncio.CancelledError:
                raise
            except Exception:
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.max_backoff)
                continue
            if self._outbox.get(key) is message:
                del self._outbox[key]
            delay = self.min_backoff

    @property
    def pending(self) -> int:
        """Messages waiting for Redis to come back."""
        return len(self._outbox)


def open_fanout(redis_url: str, *, prefix: str = "listok:") -> Fanout:
    """RedisFanout when a URL is given, else the in-process default."""
    if redis_url:
        return RedisFanout(redis_url, prefix=prefix)
    return LocalFanout()
