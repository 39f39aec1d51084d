"""Rooms: one loaded list document, its connections, presence, and the durable fan-out.

Every incoming update is decoded and applied once, queued for commit, and broadcast only after
the store has committed it. Updates released by one commit are merged into one message, encoded
once for all receivers. A sync reply is computed when asked and released once everything it
reflects is committed, so no peer ever sees state that a crash could lose. A commit that fails
drops the room (its sockets close with 1011; see docs/decisions/commit-before-broadcast.md).

Connections live in server/connection.py, presence in server/presence.py. With several
processes (LISTOK_REDIS_URL) a room also publishes what it committed and applies what the others
committed (server/fanout.py, server/replication.py; docs/decisions/redis-fanout.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from pycrdt import Doc, TransactionEvent, get_state

from server.connection import Connection
from server.errors import CloseCode, NotFoundError, TooLargeError, UnavailableError
from server.events import EventRecorder
from server.fanout import Fanout, Kind, Message, Origin
from server.metrics import Metrics
from server.presence import Presence
from server.protocol import (
    AwarenessEntry,
    MessageType,
    ProtocolError,
    SyncType,
    decode,
    decode_awareness,
    encode_auth_denied,
    encode_awareness,
    encode_awareness_update,
    encode_sync,
    read_var_uint,
)
from server.replication import Follower
from store import Change, Event, Store, Writer
from store.replay import apply_history, merge

log = logging.getLogger("listok.rooms")

EMPTY_UPDATE = b"\x00\x00"
# A remote client's presence not renewed for this long is dropped (clients renew every 15 s).
REMOTE_PRESENCE_TTL = 45.0
T = TypeVar("T")

__all__ = ["Connection", "Presence", "QuotaError", "Room", "Rooms", "apply_history", "merge"]


class QuotaError(TooLargeError):
    """A change would take the list over its size quota (HTTP 413, close 4413)."""


Listener = Callable[["Room", tuple[Event, ...], bool], None]


@dataclass
class _Pending:
    seq: int
    received: float = 0.0
    update: bytes | None = None  # a document update to broadcast
    sender: Connection | None = None
    reply_to: Connection | None = None  # a sync reply to one connection
    frame: bytes = b""


def actor_of(origin: Any) -> str:
    if isinstance(origin, Connection):
        return origin.actor
    # A string is a person as the API names them; "" is someone unnamed (not the server).
    return origin if isinstance(origin, str) else "server"


class Room:
    def __init__(
        self,
        list_id: str,
        doc: Doc[Any],
        writer: Writer,
        *,
        durable: bool = True,
        metrics: Metrics | None = None,
        max_bytes: int = 0,
        size: int = 0,
        presence: Presence | None = None,
        listeners: list[Listener] | None = None,
        fanout: Fanout | None = None,
    ) -> None:
        self.list_id = list_id
        self.doc = doc
        self.writer = writer
        self.durable = durable
        self.metrics = metrics or Metrics()
        self.max_bytes = max_bytes
        # Bytes the list's stored history takes (snapshot + update log); a compaction resets it
        # to the snapshot's size, so the quota follows the document, not the traffic.
        self.size = size
        self.recorder = EventRecorder(doc, actor_of)
        self._event_waiters: set[asyncio.Event] = set()
        self.holders = 0  # event streams keeping the room loaded (Rooms.hold)
        self.conns: set[Connection] = set()
        self.presence = presence or Presence()
        self._seq = 0
        self._committed = 0
        self._outbox: deque[_Pending] = deque()
        self._flush_scheduled = False
        # Set once a commit failed: the document holds changes the store does not; the room is
        # dropped (Rooms reloads from the store), its sockets are closed with 1011.
        self.failed = False
        self.on_empty: Callable[[Room], None] | None = None
        self.on_failed: Callable[[Room], None] | None = None
        self.listeners: list[Listener] = listeners if listeners is not None else []
        # Several processes: what this room commits is published, what others commit arrives
        # through the follower (None with one process: nothing of this runs).
        self.fanout = fanout
        self.follower: Follower | None = None
        # Remote clients' presence: (node, client id) -> (pseudo-connection, last renewed).
        self._remote_peers: dict[tuple[str, int], tuple[Connection, float]] = {}
        self._relay: list[bytes] = []  # remote updates applied, to broadcast at the next tick
        # Called after a remote revocation or deletion: drop cached token lookups here too.
        self.on_remote_access: Callable[[Room, bool], None] | None = None

    def add_listener(self, listener: Listener) -> None:
        """Called with (room, events, by_peer) once events are committed; every one is called."""
        self.listeners.append(listener)

    @contextlib.contextmanager
    def watch(self) -> Iterator[asyncio.Event]:
        """An event set each time committed events arrive (for an event stream to wait on)."""
        waiter = asyncio.Event()
        self._event_waiters.add(waiter)
        try:
            yield waiter
        finally:
            self._event_waiters.discard(waiter)

    @property
    def idle(self) -> bool:
        """Nothing applied in memory is waiting to be committed or sent."""
        return self._committed == self._seq and not self._outbox

    # -- connections ---------------------------------------------------------------------

    def join(self, conn: Connection) -> None:
        self._expire_remote_presence()
        self.conns.add(conn)
        conn.start()
        conn.send(encode_sync(SyncType.STEP1, self.doc.get_state()))
        for frame in self.presence.snapshot_frames():
            conn.send(frame)

    def leave(self, conn: Connection) -> None:
        if conn not in self.conns:
            return
        self.conns.discard(conn)
        conn.stop()
        removed = self.presence.remove(conn)
        if removed:
            update = encode_awareness_update(removed)
            self._broadcast(encode_awareness(update), exclude=None)
            self._publish(Message(Kind.PRESENCE_REMOVED, self.list_id, payload=update))
        if not self.conns and self.on_empty is not None and not self.failed:
            self.on_empty(self)

    def close_share(self, share_id: str, code: int, reason: str) -> int:
        """Close every connection that came in with this share link."""
        closing = [c for c in self.conns if c.access is not None and c.access.share_id == share_id]
        for conn in closing:
            conn.close_soon(code, reason)
        return len(closing)

    # -- incoming ------------------------------------------------------------------------

    def receive(self, conn: Connection, frame: bytes) -> None:
        message = decode(frame)
        if message.type is MessageType.SYNC:
            if message.sync_type is SyncType.STEP1:
                self._reply_step2(conn, message.payload)
            elif conn.read_only:
                step2 = message.sync_type is SyncType.STEP2
                self._refuse_update(conn, message.payload, step2=step2)
            else:
                self._receive_update(conn, message.payload)
        elif message.type is MessageType.AWARENESS:
            self._receive_awareness(conn, message.payload)
        elif message.type is MessageType.QUERY_AWARENESS:
            for frame in self.presence.snapshot_frames():
                conn.send(frame)
        # AUTH messages are server -> client only; a client's is ignored.

    def _refuse_update(self, conn: Connection, update: bytes, *, step2: bool) -> None:
        """A view-only peer's change is dropped, and the peer is told with an auth message.

        A step 2 (the reply to our step 1) is refused only if it inserts something the list does
        not have: a viewer's step 2 usually carries nothing new (its delete set is always
        resent). The check compares the update's state vector with the document's, so it costs
        O(size of the message + clients), never O(document): the document is not touched.
        """
        if update == EMPTY_UPDATE:
            return
        if step2 and not self._inserts_new(update):
            return
        self.metrics.rejected.labels("read_only").inc()
        conn.send(encode_auth_denied("read-only: this link can view the list but not change it"))

    def _inserts_new(self, update: bytes) -> bool:
        try:
            theirs = read_state_vector(get_state(update))
        except ValueError as exc:
            raise ProtocolError("invalid update") from exc
        except BaseException as exc:  # a Rust panic in yrs on a malformed update
            if type(exc).__name__ != "PanicException":
                raise
            raise ProtocolError("invalid update") from exc
        ours = read_state_vector(self.doc.get_state())
        return any(clock > ours.get(client, 0) for client, clock in theirs.items())

    def _reply_step2(self, conn: Connection, state_vector: bytes) -> None:
        try:
            update = self.doc.get_update(state_vector)
        except ValueError as exc:
            raise ProtocolError("invalid state vector") from exc
        frame = encode_sync(SyncType.STEP2, update)
        if self._committed == self._seq:
            conn.send(frame)
        else:
            self._outbox.append(_Pending(self._seq, reply_to=conn, frame=frame))

    def _receive_update(self, conn: Connection, update: bytes) -> None:
        if update == EMPTY_UPDATE:
            return
        received = time.perf_counter()
        self._check_quota(len(update))
        self.recorder.prepare()
        try:
            with self.doc.transaction(origin=conn):
                self.doc.apply_update(update)
        except ValueError as exc:
            self.recorder.take()
            raise ProtocolError("invalid update") from exc
        except BaseException as exc:  # a Rust panic in yrs: the update is the peer's problem
            if type(exc).__name__ != "PanicException":
                raise
            self.recorder.take()
            log.error(
                "list %s: pycrdt panicked applying an update from %s", self.list_id, conn.label
            )
            raise ProtocolError("update could not be applied") from exc
        self._queue_update(update, conn, received)

    def _check_quota(self, extra: int) -> None:
        if self.max_bytes and self.size + extra > self.max_bytes:
            raise QuotaError(f"the list is over its size quota of {self.max_bytes} bytes")

    def _queue_update(
        self,
        update: bytes,
        sender: Connection | None,
        received: float,
        origin: Origin = Origin.SOCKET,
    ) -> asyncio.Future[int | None]:
        self._seq += 1
        seq = self._seq
        self.size += len(update)
        events = self.recorder.take()
        fut = self.writer.append(Change(self.list_id, update, events))
        self._outbox.append(_Pending(seq, received, update=update, sender=sender))
        if self.fanout is not None:  # first: other processes hear of it in commit order
            fut.add_done_callback(lambda f: self._publish_update(update, origin, f))
        if events:
            by_peer = sender is not None
            fut.add_done_callback(
                lambda f: None if _failed(f) else self._events_committed(events, by_peer)
            )
        if self.durable:
            fut.add_done_callback(lambda f: self._committed_up_to(seq, f))
        else:
            self._committed_up_to(seq, None)
        return fut

    def _publish_update(
        self, update: bytes, origin: Origin, fut: asyncio.Future[int | None]
    ) -> None:
        """A committed update goes to the other processes (never one that did not commit).

        Even from a room that failed since: what committed is in the store, and the others
        would otherwise learn of it only at their next gap.
        """
        if _failed(fut):
            return
        seq = fut.result() or 0
        self._publish(Message(Kind.UPDATE, self.list_id, seq=seq, payload=update, origin=origin))

    def _publish(self, message: Message) -> None:
        if self.fanout is not None:
            self.fanout.post(message)

    def _events_committed(self, events: tuple[Event, ...], by_peer: bool) -> None:
        """by_peer: the change came from a socket (not from the server's own API or jobs)."""
        for event in events:
            self.metrics.events.labels(event.type).inc()
        origin = Origin.SOCKET if by_peer else Origin.API
        self._publish(Message(Kind.EVENTS, self.list_id, event_id=0, origin=origin))
        self._wake_event_streams()
        for listener in list(self.listeners):
            try:
                listener(self, events, by_peer)
            except Exception:
                log.exception("list %s: an event listener failed", self.list_id)

    def _wake_event_streams(self) -> None:
        for waiter in self._event_waiters:
            waiter.set()

    def _committed_up_to(self, seq: int, fut: asyncio.Future[int | None] | None) -> None:
        if self.failed:
            return
        if fut is not None and _failed(fut):
            log.error(
                "list %s: update %d was not committed: %s", self.list_id, seq, fut.exception()
            )
            self.fail()
            return
        if seq > self._committed:
            self._committed = seq
        if not self._flush_scheduled:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        updates: list[bytes] = []
        senders: set[Connection | None] = set()
        now = time.perf_counter()
        while self._outbox and self._outbox[0].seq <= self._committed:
            entry = self._outbox.popleft()
            if entry.update is not None:
                updates.append(entry.update)
                senders.add(entry.sender)
                self.metrics.fanout_seconds.observe(now - entry.received)
            elif entry.reply_to is not None:
                entry.reply_to.send(entry.frame)
        if not updates:
            return
        self.metrics.updates.inc(len(updates))
        exclude = next(iter(senders)) if len(senders) == 1 else None
        merged = merge(updates)
        for update in [merged] if merged is not None else updates:
            self._broadcast(encode_sync(SyncType.UPDATE, update), exclude=exclude)

    def fail(self) -> None:
        """A commit failed: nothing uncommitted is ever sent; every socket closes with 1011.

        The clients keep their changes and send them again when they reconnect, to a room
        loaded afresh from the store (what it holds is what committed).
        """
        if self.failed:
            return
        self.failed = True
        self._outbox.clear()
        for conn in list(self.conns):
            conn.close_soon(CloseCode.INTERNAL_ERROR, "could not save; reconnect later")
        if self.on_failed is not None:
            self.on_failed(self)

    def _receive_awareness(self, conn: Connection, payload: bytes) -> None:
        refused = self.presence.refused
        accepted = self.presence.apply(conn, decode_awareness(payload))
        if self.presence.refused > refused:
            self.metrics.rejected.labels("presence").inc(self.presence.refused - refused)
        if not accepted:
            return
        update = encode_awareness_update(accepted)
        self._broadcast(encode_awareness(update), exclude=conn)
        self._publish(Message(Kind.PRESENCE, self.list_id, payload=update))

    def _broadcast(self, frame: bytes, *, exclude: Connection | None) -> None:
        for conn in self.conns:
            if conn is not exclude:
                conn.send(frame)

    # -- changes made on other processes (server/replication.py RemoteTarget) ---------------

    def apply_remote(self, update: bytes) -> None:
        """Another process committed this update: apply it and pass it to local sockets.

        Never stored, recorded as events or published again (the other process did that).
        """
        if self.failed:
            return
        try:
            with self.doc.transaction(origin=Origin.REMOTE):
                self.doc.apply_update(update)
        except ValueError:
            log.error("list %s: a remote update could not be applied; skipped", self.list_id)
            return
        finally:
            # Events of a remote change were recorded where it was made; the recorder keeps
            # only its name index current.
            self.recorder.take()
        # Not added to self.size: the quota of a list is counted by the processes that write to
        # it, and only a process's own compaction resets its count; counting traffic it merely
        # relays would refuse a writer here long after the list was folded elsewhere.
        # Relayed once per loop tick: what arrived together leaves as one merged frame.
        if not self._relay:
            asyncio.get_running_loop().call_soon(self._flush_relay)
        self._relay.append(update)

    def _flush_relay(self) -> None:
        updates, self._relay = self._relay, []
        if not updates or self.failed:
            return
        merged = merge(updates)
        for update in [merged] if merged is not None else updates:
            self._broadcast(encode_sync(SyncType.UPDATE, update), exclude=None)

    def remote_presence(self, node: str, awareness: bytes, removed: bool) -> None:
        """Awareness states of another process's clients, shown to local sockets.

        Each remote client id is held by a pseudo-connection of its own (the publishing
        process enforced the per-socket bounds); a null state releases it.
        """
        try:
            entries = decode_awareness(awareness)
        except ProtocolError:
            log.error("list %s: malformed remote presence from %s", self.list_id, node)
            return
        accepted = self._expire_remote_presence(broadcast=False)
        now = time.monotonic()
        for entry in entries:
            key = (node, entry[0])
            held = self._remote_peers.get(key)
            if held is None:
                if entry[2].strip() == "null":
                    continue  # nothing of that client is shown here
                held = (Connection(_no_send, _no_close, label=node), now)
            peer = held[0]
            self._remote_peers[key] = (peer, now)
            accepted += self.presence.apply(peer, [entry])
            if removed or entry[2].strip() == "null":
                self.presence.remove(peer)
                del self._remote_peers[key]
        if accepted:
            self._broadcast(encode_awareness(encode_awareness_update(accepted)), exclude=None)

    def _expire_remote_presence(self, *, broadcast: bool = True) -> list[AwarenessEntry]:
        """Drop remote clients not renewed for REMOTE_PRESENCE_TTL (their process may be dead).

        Clients renew their state every 15 s, so a live one is never dropped; a process killed
        outright never sends its clients' removals, and without this they would be shown to
        every joiner here for as long as the list stays loaded.
        """
        if not self._remote_peers:
            return []
        stale = time.monotonic() - REMOTE_PRESENCE_TTL
        gone: list[AwarenessEntry] = []
        for key, (peer, renewed) in list(self._remote_peers.items()):
            if renewed < stale:
                gone += self.presence.remove(peer)
                del self._remote_peers[key]
        if gone and broadcast:
            self._broadcast(encode_awareness(encode_awareness_update(gone)), exclude=None)
        return gone

    def remote_revoked(self, share_ids: set[str]) -> None:
        if self.on_remote_access is not None:
            self.on_remote_access(self, False)
        for share_id in share_ids:
            self.close_share(share_id, CloseCode.UNAUTHORIZED, "this link was revoked")
        self._wake_event_streams()  # an event stream re-checks its link

    def remote_deleted(self) -> None:
        if self.on_remote_access is not None:
            self.on_remote_access(self, True)
        for conn in list(self.conns):
            conn.close_soon(CloseCode.NOT_FOUND, "the list was deleted")
        self._wake_event_streams()

    def remote_events(self) -> None:
        self._wake_event_streams()  # event streams here re-read the store

    # -- server-side changes ---------------------------------------------------------------

    async def change(
        self,
        fn: Callable[[Doc[Any]], T],
        origin: str = "server",
        size_hint: int = 0,
        source: Origin = Origin.API,
    ) -> T:
        """Run fn in one transaction on the document; return once the change is committed.

        The quota is checked before the change, with size_hint standing in for its size
        (a request's body size: a change is never bigger than the request that asked for it
        by more than its field names).

        Raises UnavailableError (HTTP 503) when the change could not be committed: then nothing
        of it was broadcast, and the room is reloaded from the store on next use.
        """
        if self.failed:
            raise UnavailableError("the list could not be saved; try again")
        self._check_quota(size_hint)
        self.recorder.prepare()
        received = time.perf_counter()
        captured: list[bytes] = []

        def capture(event: TransactionEvent) -> None:
            captured.append(event.update)

        subscription = self.doc.observe(capture)
        try:
            with self.doc.transaction(origin=origin):
                result = fn(self.doc)
        finally:
            self.doc.unobserve(subscription)
        updates = [u for u in captured if u != EMPTY_UPDATE]
        if not updates:
            self.recorder.take()
            return result
        merged = merge(updates)
        queued = [
            self._queue_update(u, None, received, source) for u in ([merged] if merged else updates)
        ]
        try:
            await asyncio.gather(*queued)
        except Exception as exc:
            raise UnavailableError("the change could not be saved; try again") from exc
        return result


class Rooms:
    """The registry of loaded lists: load once (however many join at once), unload when idle."""

    def __init__(
        self,
        store: Store,
        writer: Writer,
        *,
        idle_unload: float,
        durable: bool,
        metrics: Metrics | None = None,
        max_bytes: int = 0,
        presence_clients: int = 8,
        presence_state_bytes: int = 4096,
        fanout: Fanout | None = None,
    ) -> None:
        self.store = store
        self.writer = writer
        self.idle_unload = idle_unload
        self.durable = durable
        self.metrics = metrics or Metrics()
        self.max_bytes = max_bytes
        self._rooms: dict[str, Room] = {}
        self._loading: dict[str, asyncio.Task[Room | None]] = {}
        self._unload_timers: dict[str, asyncio.TimerHandle] = {}
        self._closing: set[asyncio.Task[None]] = set()
        self.presence_clients = presence_clients
        self.presence_state_bytes = presence_state_bytes
        self._listeners: list[Listener] = []  # shared by every room
        # Several processes (LISTOK_REDIS_URL): rooms load through a Follower and publish.
        self.fanout = fanout
        # Called with (list_id, deleted) when another process revoked a share or deleted it.
        self.on_remote_access: Callable[[str, bool], None] | None = None

    def add_listener(self, listener: Listener) -> None:
        """Every listener is called with (room, events, by_peer) once events are committed."""
        self._listeners.append(listener)

    @contextlib.asynccontextmanager
    async def hold(self, list_id: str) -> AsyncIterator[Room]:
        """Keep a list loaded while an event stream reads it; NotFoundError if there is none."""
        room = await self.get(list_id)
        if room is None:
            raise NotFoundError("no such list")
        room.holders += 1
        self._cancel_unload(list_id)
        try:
            yield room
        finally:
            self.release(room)

    def loaded(self, list_id: str) -> Room | None:
        return self._rooms.get(list_id)

    async def document(self, list_id: str) -> Doc[Any]:
        """The list's document to read: the loaded one, else a fresh copy from the store."""
        room = self._rooms.get(list_id)
        if room is not None:
            return room.doc
        doc: Doc[Any] = Doc()
        apply_history(doc, await asyncio.to_thread(self.store.load, list_id), list_id)
        return doc

    async def get(self, list_id: str) -> Room | None:
        room = self._rooms.get(list_id)
        if room is None:
            task = self._loading.get(list_id)
            if task is None:
                task = asyncio.create_task(self._load(list_id), name=f"listok-load-{list_id}")
                self._loading[list_id] = task
            room = await asyncio.shield(task)
            if room is None:
                return None
        self._cancel_unload(list_id)
        if not room.conns and not room.holders:
            self._schedule_unload(room)
        return room

    def compact(self, list_id: str) -> None:
        """The writer asks for a list's log to be folded: snapshot the in-memory document.

        Safe because every update is applied to the document before it is queued for commit,
        so the snapshot holds everything the writer has committed or will commit before it.
        """
        room = self._rooms.get(list_id)
        if room is None:
            self.writer.compaction_skipped(list_id)
            return
        state = room.doc.get_update()
        room.size = len(state)  # the quota counts the snapshot plus what comes after it
        fut = self.writer.install_snapshot(list_id, state)
        fut.add_done_callback(_log_failure(list_id))

    def release(self, room: Room) -> None:
        """A holder let go of the room: unload it later if nobody else holds it."""
        room.holders -= 1
        if not room.conns and not room.holders:
            self._schedule_unload(room)

    def _build(self, list_id: str, updates: list[bytes]) -> Room:
        doc: Doc[Any] = Doc()
        apply_history(doc, updates, list_id)
        room = Room(
            list_id,
            doc,
            self.writer,
            durable=self.durable,
            metrics=self.metrics,
            max_bytes=self.max_bytes,
            size=sum(len(u) for u in updates),
            presence=Presence(
                max_clients=self.presence_clients, max_state_bytes=self.presence_state_bytes
            ),
            listeners=self._listeners,
            fanout=self.fanout,
        )
        room.on_empty = self._schedule_unload
        room.on_failed = self._failed
        room.on_remote_access = self._remote_access
        return room

    async def _load(self, list_id: str) -> Room | None:
        try:
            if self.fanout is not None:
                # Subscribe before reading the store, catch up on gaps (server/replication.py).
                follower = Follower(list_id, self.store, self.fanout)
                target = await follower.open(lambda updates: self._build(list_id, updates))
                if target is None:
                    return None
                assert isinstance(target, Room)
                room = target
                room.follower = follower
            else:
                record = await asyncio.to_thread(self.store.get_list, list_id)
                if record is None:
                    return None
                updates = await asyncio.to_thread(self.store.load, list_id)
                room = self._build(list_id, updates)
            self._rooms[list_id] = room
            self.metrics.lists_loaded.set(len(self._rooms))
            return room
        finally:
            self._loading.pop(list_id, None)

    def _schedule_unload(self, room: Room) -> None:
        self._cancel_unload(room.list_id)
        loop = asyncio.get_running_loop()
        self._unload_timers[room.list_id] = loop.call_later(
            self.idle_unload, self._maybe_unload, room.list_id
        )

    def _cancel_unload(self, list_id: str) -> None:
        timer = self._unload_timers.pop(list_id, None)
        if timer is not None:
            timer.cancel()

    def _maybe_unload(self, list_id: str) -> None:
        self._unload_timers.pop(list_id, None)
        room = self._rooms.get(list_id)
        if room is None or room.conns or room.holders:
            return
        if not room.idle:
            self._schedule_unload(room)
            return
        del self._rooms[list_id]
        self._unfollow(room)
        self.metrics.lists_loaded.set(len(self._rooms))
        log.debug("list %s unloaded", list_id)

    def _unfollow(self, room: Room) -> None:
        follower, room.follower = room.follower, None
        if follower is not None:
            task = asyncio.get_running_loop().create_task(follower.close())
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)

    def _remote_access(self, room: Room, deleted: bool) -> None:
        if self.on_remote_access is not None:
            self.on_remote_access(room.list_id, deleted)
        if deleted and self._rooms.get(room.list_id) is room:
            self.forget(room.list_id)

    def _failed(self, room: Room) -> None:
        if self._rooms.get(room.list_id) is room:
            self.forget(room.list_id)

    def forget(self, list_id: str) -> Room | None:
        """Drop a list from memory now (after it was deleted)."""
        self._cancel_unload(list_id)
        room = self._rooms.pop(list_id, None)
        if room is not None:
            self._unfollow(room)
        self.metrics.lists_loaded.set(len(self._rooms))
        return room

    async def close(self, code: int = 1001, reason: str = "server shutting down") -> None:
        for timer in self._unload_timers.values():
            timer.cancel()
        self._unload_timers.clear()
        conns = [conn for room in self._rooms.values() for conn in room.conns]
        await asyncio.gather(*(conn.drain(1.0) for conn in conns))
        await asyncio.gather(*(conn.close(code, reason) for conn in conns))
        followers = [room.follower for room in self._rooms.values() if room.follower is not None]
        await asyncio.gather(*(follower.close() for follower in followers))


def _failed(fut: asyncio.Future[Any]) -> bool:
    return fut.cancelled() or fut.exception() is not None


def read_state_vector(data: bytes) -> dict[int, int]:
    """A lib0-encoded state vector: varUint count, then (client, clock) pairs."""
    try:
        count, pos = read_var_uint(data, 0)
        clocks: dict[int, int] = {}
        for _ in range(count):
            client, pos = read_var_uint(data, pos)
            clocks[client], pos = read_var_uint(data, pos)
    except ProtocolError as exc:
        raise ValueError("invalid state vector") from exc
    return clocks


def _log_failure(list_id: str) -> Callable[[asyncio.Future[None]], None]:
    def check(fut: asyncio.Future[None]) -> None:
        if not fut.cancelled() and fut.exception() is not None:
            log.error(
                "list %s: snapshot failed; the update log is intact: %s", list_id, fut.exception()
            )

    return check


async def _no_send(frame: bytes) -> None:
    """A remote client's pseudo-connection sends nothing: its own process serves it."""


async def _no_close(code: int, reason: str) -> None:
    return None
