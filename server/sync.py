"""The WebSocket endpoint: check the list and the token, hand the socket to its room.

Bad input closes only its own connection, with a named code (server/errors.py) and one log line.
"""

from __future__ import annotations

import logging
import time
import uuid

from starlette.websockets import WebSocket

from server.auth import AuthError, token_from
from server.errors import CloseCode
from server.protocol import ProtocolError
from server.rooms import Connection, QuotaError
from server.services import Services

log = logging.getLogger("listok.sync")


def valid_list_id(list_id: str) -> bool:
    try:
        return str(uuid.UUID(list_id)) == list_id.lower()
    except ValueError:
        return False


class RateLimitError(ProtocolError):
    """More messages per second than the connection is allowed."""


class TokenBucket:
    def __init__(self, rate: float, burst: float) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = burst
        self.stamp = time.monotonic()

    def take(self) -> bool:
        if self.rate <= 0:
            return True
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


async def sync_endpoint(websocket: WebSocket) -> None:
    services: Services = websocket.app.state.services
    settings = services.settings
    list_id = websocket.path_params["list_id"].lower()
    await websocket.accept()
    if not valid_list_id(list_id):
        await websocket.close(CloseCode.NOT_FOUND, "no such list")
        return
    room = await services.rooms.get(list_id)
    if room is None:
        await websocket.close(CloseCode.NOT_FOUND, "no such list")
        return
    try:
        access = await services.tokens.resolve(token_from(websocket), list_id, "view")
    except AuthError as exc:
        services.metrics.rejected.labels("unauthorized").inc()
        await websocket.close(CloseCode.UNAUTHORIZED, exc.message)
        return

    async def send(frame: bytes) -> None:
        await websocket.send({"type": "websocket.send", "bytes": frame})

    async def close(code: int, reason: str) -> None:
        await websocket.close(code, reason)

    client = websocket.client
    label = f"{client.host}:{client.port}" if client else "?"
    conn = Connection(send, close, access=access, label=label)
    bucket = TokenBucket(settings.rate_limit, settings.rate_limit * 2)
    services.metrics.connections.inc()
    room.join(conn)
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                break
            data = message.get("bytes")
            if data is None:
                raise ProtocolError("text frames are not part of the protocol")
            if not bucket.take():
                raise RateLimitError(f"more than {settings.rate_limit:g} messages per second")
            room.receive(conn, data)
    except ProtocolError as exc:
        code, reason = _close_for(exc)
        services.metrics.rejected.labels(reason).inc()
        log.info("list %s: closing %s (%d): %s", list_id, label, code, exc)
        await conn.close(code, str(exc)[:120])
    finally:
        services.metrics.connections.dec()
        room.leave(conn)


def _close_for(exc: ProtocolError) -> tuple[int, str]:
    if isinstance(exc, QuotaError):
        return CloseCode.QUOTA, "quota"
    if isinstance(exc, RateLimitError):
        return CloseCode.RATE_LIMIT, "rate_limit"
    return CloseCode.PROTOCOL_ERROR, "protocol"
