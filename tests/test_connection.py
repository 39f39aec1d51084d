"""A connection's outgoing side: in order, straight out while the peer reads, bounded when not.

The send function here behaves as uvicorn's does: it returns at once while the transport is
writable and waits on an event while it is paused (a peer that does not read).
"""

from __future__ import annotations

import asyncio

from server.connection import Connection
from tests.support import wait_for


class Transport:
    """The far side of a socket: what was written, and whether writes are paused."""

    def __init__(self) -> None:
        self.written: list[bytes] = []
        self.closed: list[int] = []
        self.writable = asyncio.Event()
        self.writable.set()
        self.fail = False

    async def send(self, frame: bytes) -> None:
        await self.writable.wait()
        if self.fail:
            raise ConnectionResetError("peer gone")
        self.written.append(frame)

    async def close(self, code: int, reason: str) -> None:
        self.closed.append(code)

    def connection(self, max_buffered: int = 32 << 20) -> Connection:
        return Connection(self.send, self.close, max_buffered=max_buffered, label="t")


async def test_frames_go_straight_out_in_order_without_a_task() -> None:
    t = Transport()
    conn = t.connection()
    conn.start()
    for i in range(100):
        conn.send(b"%d" % i)
        assert t.written[-1] == b"%d" % i  # written before send() returned
        assert conn._task is None
    assert t.written == [b"%d" % i for i in range(100)]


async def test_a_paused_peer_gets_its_frames_in_order_once_it_reads() -> None:
    t = Transport()
    conn = t.connection()
    conn.send(b"a")
    t.writable.clear()
    for frame in (b"b", b"c", b"d"):
        conn.send(frame)
    await asyncio.sleep(0.01)
    assert t.written == [b"a"]
    assert conn._task is not None
    t.writable.set()
    await wait_for(lambda: len(t.written) == 4, what="backlog drained")
    assert t.written == [b"a", b"b", b"c", b"d"]
    await wait_for(lambda: conn._task is None, what="the drain task ends")
    conn.send(b"e")  # straight out again
    assert t.written[-1] == b"e"


async def test_a_peer_that_does_not_read_is_closed_with_1013() -> None:
    t = Transport()
    conn = t.connection(max_buffered=1000)
    t.writable.clear()
    for _ in range(20):
        conn.send(b"x" * 100)
    await wait_for(lambda: t.closed == [1013], what="closed as too slow")
    assert conn.closed
    conn.send(b"more")  # dropped: the connection is closing
    t.writable.set()
    await asyncio.sleep(0.01)
    assert t.written == [b"x" * 100]  # only the frame that was already being sent


async def test_stop_cancels_a_waiting_send() -> None:
    t = Transport()
    conn = t.connection()
    t.writable.clear()
    conn.send(b"a")
    conn.send(b"b")
    task = conn._task
    assert task is not None
    conn.stop()
    await asyncio.sleep(0.01)
    assert task.cancelled()
    t.writable.set()
    await asyncio.sleep(0.01)
    assert t.written == []


async def test_a_failed_send_marks_the_connection_closed() -> None:
    t = Transport()
    conn = t.connection()
    t.fail = True
    conn.send(b"a")
    assert conn.closed
    t2 = Transport()
    conn2 = t2.connection()
    t2.writable.clear()
    conn2.send(b"a")
    conn2.send(b"b")
    t2.fail = True
    t2.writable.set()
    await wait_for(lambda: conn2.closed, what="closed after a failed send")
