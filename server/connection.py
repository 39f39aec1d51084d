"""One socket's outgoing side: an ordered, bounded buffer drained by one task."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable

from server.auth import Access

log = logging.getLogger("listok.rooms")

SendFn = Callable[[bytes], Awaitable[None]]
CloseFn = Callable[[int, str], Awaitable[None]]


class Connection:
    """Frames queued by the room are sent in order; a peer that does not read is closed (1013)."""

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
        self._out: deque[bytes] = deque()
        self._buffered = 0
        self._max_buffered = max_buffered
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.closed = False

    def start(self) -> None:
        self._task = asyncio.create_task(self._pump(), name=f"listok-send-{self.label}")

    def send(self, frame: bytes) -> None:
        if self.closed:
            return
        self._out.append(frame)
        self._buffered += len(frame)
        if self._buffered > self._max_buffered:
            log.warning("connection %s is not reading; closing it (1013)", self.label)
            self.close_soon(1013, "receiver too slow")
            return
        self._wake.set()

    async def _pump(self) -> None:
        try:
            while True:
                if not self._out:
                    self._wake.clear()
                    await self._wake.wait()
                    continue
                frame = self._out.popleft()
                self._buffered -= len(frame)
                await self._send(frame)
        except asyncio.CancelledError:
            raise
        except Exception:  # the peer is gone; the receive side notices and cleans up
            self.closed = True

    def close_soon(self, code: int, reason: str) -> None:
        if self.closed:
            return
        self.closed = True
        self._out.clear()
        asyncio.get_running_loop().create_task(self._close_quietly(code, reason))

    async def close(self, code: int, reason: str) -> None:
        if self.closed:
            return
        self.closed = True
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
        """Who this connection speaks for: the name its presence shows, else its role."""
        return self.name or (self.access.role if self.access else "someone")
