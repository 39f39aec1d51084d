"""One socket's outgoing side: frames in order, a bounded backlog, no task while idle.

A frame is handed to the server's `send` at once when nothing is queued before it: the ASGI
send coroutine is stepped in place, and with uvicorn it finishes without suspending unless the
transport is paused (the peer is not reading). Only then is a task started, to finish that send
and drain the backlog behind it; the task ends when the backlog is empty. An idle connection
holds no task, no event and no queue, and a delivery costs no task wake-up
(docs/decisions/send-without-a-task.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from server.auth import Access

log = logging.getLogger("listok.rooms")

SendFn = Callable[[bytes], Coroutine[Any, Any, None]]
CloseFn = Callable[[int, str], Awaitable[None]]


class Connection:
    """Frames queued by the room are sent in order; a peer that does not read is closed (1013)."""

    __slots__ = (
        "_buffered",
        "_close",
        "_max_buffered",
        "_out",
        "_send",
        "_task",
        "access",
        "client_ids",
        "closed",
        "label",
        "name",
        "read_only",
    )

    def __init__(
        self,
        send: SendFn,
        close: CloseFn,
        *,
        access: Access | None = None,
        max_buffered: int = 32 << 20,
        label: str = "",
    ) -> None:
        self._send = send
        self._close = close
        self.access = access
        self.read_only = access is not None and not access.allows("edit")
        self.label = label
        self.name = ""
        self.client_ids: set[int] = set()
        # The backlog: None while frames go straight out (the common case).
        self._out: deque[bytes] | None = None
        self._buffered = 0
        self._max_buffered = max_buffered
        self._task: asyncio.Task[None] | None = None
        self.closed = False

    def start(self) -> None:
        """Nothing to start: a task exists only while a send is suspended (kept for callers)."""

    def send(self, frame: bytes) -> None:
        if self.closed:
            return
        if self._out is None:
            self._send_now(frame)
            return
        self._out.append(frame)
        self._buffered += len(frame)
        if self._buffered > self._max_buffered:
            log.warning("connection %s is not reading; closing it (1013)", self.label)
            self.close_soon(1013, "receiver too slow")

    def _send_now(self, frame: bytes) -> None:
        """Step the send coroutine; if it waits (a paused transport), a task finishes it."""
        coro = self._send(frame)
        try:
            waiting = coro.send(None)
        except StopIteration:
            return
        except Exception:  # the peer is gone; the receive side notices and cleans up
            self.closed = True
            return
        self._out = deque()
        self._task = asyncio.get_running_loop().create_task(
            self._resume(coro, waiting), name=f"listok-send-{self.label}"
        )

    async def _resume(self, coro: Coroutine[Any, Any, None], waiting: Any) -> None:
        """Finish a send suspended on `waiting` (an asyncio future), then drain the backlog."""
        try:
            while True:
                if waiting is None:  # a bare yield (sleep(0)): just step again
                    await asyncio.sleep(0)
                else:
                    # An asyncio future the send yielded: take it over as a task would
                    # (clear its blocking flag), wait here; the send reads the outcome itself.
                    waiting._asyncio_future_blocking = False
                    with contextlib.suppress(Exception):
                        await waiting
                try:
                    waiting = coro.send(None)
                except StopIteration:
                    break
            out = self._out
            while out and not self.closed:
                frame = out.popleft()
                self._buffered -= len(frame)
                await self._send(frame)
        except asyncio.CancelledError:
            raise
        except Exception:  # the peer is gone; the receive side notices and cleans up
            self.closed = True
        finally:
            coro.close()
            self._task = None
            self._out = None
            self._buffered = 0

    def close_soon(self, code: int, reason: str) -> None:
        if self.closed:
            return
        self.closed = True
        if self._out is not None:
            self._out.clear()
        asyncio.get_running_loop().create_task(self._close_quietly(code, reason))

    async def close(self, code: int, reason: str) -> None:
        if self.closed:
            return
        self.closed = True
        if self._out is not None:
            self._out.clear()
        await self._close_quietly(code, reason)

    async def _close_quietly(self, code: int, reason: str) -> None:
        with contextlib.suppress(Exception):
            await self._close(code, reason)

    async def drain(self, timeout: float) -> None:
        """Wait (bounded) until everything queued has been handed to the transport."""
        deadline = asyncio.get_running_loop().time() + timeout
        while self._out and not self.closed and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.005)

    def stop(self) -> None:
        self.closed = True
        if self._task is not None:
            self._task.cancel()

    @property
    def actor(self) -> str:
        """Who this connection speaks for: the name its presence shows, else its link's label,
        else "" (an unnamed person: the activity feed says "someone" in the reader's language)."""
        return self.name or (self.access.label if self.access else "")
