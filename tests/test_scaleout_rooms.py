"""The room side of fan-out in one process: what a room does with another process's changes.

Real pycrdt documents and real rooms; the remote changes are what server/replication.py hands a
room (tests/test_scaleout.py covers the same paths end to end with real processes).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from pycrdt import Doc

from server import rooms as rooms_module
from server import schema
from server.auth import Access
from server.connection import Connection
from server.fanout import Subscription
from server.protocol import MessageType, decode, decode_awareness, encode_awareness_update
from server.rooms import Room
from tests.support import wait_for


class Socket:
    """What a connection sends, decoded; how it was closed."""

    def __init__(self) -> None:
        self.frames: list[bytes] = []
        self.closed: int | None = None

    async def send(self, frame: bytes) -> None:
        self.frames.append(frame)

    async def close(self, code: int, reason: str) -> None:
        self.closed = code

    def presence(self) -> dict[int, str]:
        states: dict[int, str] = {}
        for frame in self.frames:
            message = decode(frame)
            if message.type is MessageType.AWARENESS:
                for client_id, _, state in decode_awareness(message.payload):
                    states[client_id] = state
        return {cid: state for cid, state in states.items() if state != "null"}


def new_room() -> Room:
    doc: Doc[Any] = Doc()
    doc.apply_update(schema.new_list_update("Shared", 1))
    return Room("l1", doc, writer=None)  # type: ignore[arg-type]  # nothing here writes


def connect(room: Room, share_id: str = "owner") -> Socket:
    socket = Socket()
    conn = Connection(socket.send, socket.close, access=Access("l1", "edit", share_id))
    room.join(conn)
    return socket


def state(name: str) -> str:
    return json.dumps({"user": {"name": name, "color": "#336699"}})


async def test_a_remote_update_is_applied_and_relayed_but_not_recorded_or_counted() -> None:
    room = new_room()
    socket = connect(room)
    size = room.size
    other: Doc[Any] = Doc()
    other.apply_update(room.doc.get_update())
    before = other.get_state()
    schema.add_item(other, schema.new_item("молоко", order="a0", created_by="b"), "i1")
    update = other.get_update(before)

    room.apply_remote(update)
    assert [i["name"] for i in schema.list_items(room.doc)] == ["молоко"]
    assert room.recorder.pending == []  # recorded (and committed) by the process that made it
    assert room.size == size
    await wait_for(lambda: any(decode(f).type is MessageType.SYNC for f in socket.frames[1:]))
    room.apply_remote(update)  # a catch-up re-applies what arrived live: harmless
    assert len(schema.list_items(room.doc)) == 1


async def test_remote_presence_is_shown_and_a_dead_process_clients_expire(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    room = new_room()
    first = connect(room)
    room.remote_presence("node-a", encode_awareness_update([(7, 1, state("Аня"))]), False)
    await wait_for(lambda: 7 in first.presence(), what="a local socket sees the remote state")
    joiner = connect(room)
    await wait_for(lambda: 7 in joiner.presence(), what="a joiner's snapshot has it")
    # The remote process says its client left.
    room.remote_presence("node-a", encode_awareness_update([(7, 2, "null")]), True)
    await wait_for(lambda: 7 not in first.presence(), what="the removal is relayed")
    assert 7 not in dict(room.presence.states) or room.presence.states[7][1] == "null"

    # A process killed outright never says so: its clients expire when not renewed.
    room.remote_presence("node-b", encode_awareness_update([(9, 1, state("Борис"))]), False)
    await wait_for(lambda: 9 in first.presence(), what="node-b's client shown")
    monkeypatch.setattr(rooms_module, "REMOTE_PRESENCE_TTL", 0.0)
    late = connect(room)
    await wait_for(lambda: 9 not in first.presence(), what="the stale state is removed")
    assert 9 not in late.presence()


async def test_remote_revocation_closes_only_that_links_sockets() -> None:
    room = new_room()
    calls: list[bool] = []
    room.on_remote_access = lambda _room, deleted: calls.append(deleted)
    doomed = connect(room, share_id="s-doomed")
    kept = connect(room, share_id="s-kept")
    room.remote_revoked({"s-doomed"})
    await wait_for(lambda: doomed.closed == 4401, what="the revoked link's socket closes")
    assert kept.closed is None
    assert calls == [False]  # the token cache of this process is dropped first
    room.remote_deleted()
    await wait_for(lambda: kept.closed == 4404, what="deletion closes every socket")
    assert calls == [False, True]


async def test_a_number_that_arrives_within_the_grace_is_no_gap() -> None:
    gaps: list[int] = []
    sub = Subscription("l1", lambda _m: None, lambda _l, after: gaps.append(after), "me", grace=0.2)
    sub.caught_up(3)
    sub.note(5)  # the other process's; our own 4 is still in our commit callback
    sub.note(4)  # ... and here it is
    sub.note(6)
    await asyncio.sleep(0.3)
    assert gaps == [] and sub.seen == 6
    sub.note(8)  # 7 never comes: a gap, once the grace is over
    assert gaps == []
    await wait_for(lambda: gaps == [6], what="the gap is reported after the grace")
    sub.caught_up(8)
    assert sub.seen == 8


async def test_a_gap_waits_while_own_commits_are_in_flight() -> None:
    gaps: list[int] = []
    in_flight = [True]
    sub = Subscription(
        "l1", lambda _m: None, lambda _l, after: gaps.append(after), "me", grace=0.05
    )
    sub.busy = lambda: in_flight[0]
    sub.caught_up(3)
    sub.note(5)  # 4 is ours, still committing: no gap while we are busy
    await asyncio.sleep(0.3)
    assert gaps == []
    in_flight[0] = False  # our commits settled and 4 never came: it is a gap after all
    await wait_for(lambda: gaps == [3], what="the gap once nothing of ours is in flight")
