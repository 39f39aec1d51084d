"""The WebSocket endpoint: check the token, then the list, hand the socket to its room.

Bad input closes only its own connection, with a named code (server/errors.py) and one log line.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from starlette.types import Receive, Scope, Send

from server.auth import Access, token_from_scope
from server.connection import CloseFn, Connection
from server.errors import CloseCode, ListokError, RateLimitError, UnauthorizedError
from server.limits import TokenBucket
from server.logs import access_log
from server.protocol import ProtocolError
from server.rooms import Room
from server.services import Services

log = logging.getLogger("listok.sync")


async def sync_app(scope: Scope, receive: Receive, send: Send, services: Services) -> None:
    """`ws://HOST/sync/{list_id}` as a bare ASGI app.

    No framework layer sits between a socket and its room: each outgoing frame is one call to
    the server's `send`, and a connection costs only what it needs (see docs/decisions).
    """
    settings = services.settings
    list_id = scope["path"].removeprefix("/sync/").lower()
    message = await receive()
    if message["type"] != "websocket.connect":
        return
    await send({"type": "websocket.accept"})
    release_handshake(send)
    started = time.monotonic()
    code = await _session(scope, receive, send, services, list_id, settings.rate_limit)
    client = scope.get("client") or ("-", 0)
    access_log.info(
        "%s WS /sync/%s %s %.1fs",
        client[0],
        list_id,
        code,
        time.monotonic() - started,
        extra={"fields": {"method": "WS", "path": f"/sync/{list_id}", "status": code}},
    )


def release_handshake(send: Send) -> None:
    """Let uvicorn's websockets-sansio protocol drop the handshake once the socket is open.

    It keeps the upgrade request and its response (headers twice over: about 4.5 kB) for the
    socket's whole life, though it reads them only until the accept is sent (uvicorn 0.54,
    websockets_sansio_impl.py: `request` in handle_connect, `response` in the accept branch of
    send). Only that class, only once the handshake is complete; any other server is left alone
    (docs/decisions/uvicorn-websocket-implementation.md).
    """
    protocol: Any = getattr(send, "__self__", None)
    if type(protocol).__name__ != "WebSocketsSansIOProtocol":
        return
    if getattr(protocol, "handshake_complete", False) and hasattr(protocol, "response"):
        protocol.request = None
        protocol.response = None


_REASONS: dict[int, str] = {
    CloseCode.PROTOCOL_ERROR: "protocol",
    CloseCode.QUOTA: "quota",
    CloseCode.UNAUTHORIZED: "unauthorized",
    CloseCode.FORBIDDEN: "unauthorized",
    CloseCode.RATE_LIMIT: "rate_limit",
}


async def _session(
    scope: Scope, receive: Receive, send: Send, services: Services, list_id: str, rate: float
) -> int | str:
    async def close(code: int, reason: str) -> None:
        await send({"type": "websocket.close", "code": code, "reason": reason})

    client = scope.get("client")
    token = token_from_scope(scope)
    # Nothing reads the request headers after this; the scope lives as long as the socket
    # (about 1.2 kB per idle connection, docs/decisions/uvicorn-websocket-implementation.md).
    scope["headers"] = []
    try:
        # The credential first: an unknown list and a bad token get the same answer (4401).
        access = await services.tokens.resolve(token, list_id, "view")
        release = services.limits.open_socket(token or "", client[0] if client else "?")
        try:
            room = await _room(services, list_id, token)
            return await _run(scope, receive, send, services, room, access, rate, close)
        finally:
            release()
    except ListokError as exc:  # before joining: a bad credential, or over a socket cap
        services.metrics.rejected.labels(_REASONS.get(exc.close_code, "error")).inc()
        await close(exc.close_code, exc.message)
        return exc.close_code


async def _room(services: Services, list_id: str, token: str | None) -> Room:
    """The list's room, for a token still valid once it is loaded (no revocation in between)."""
    while True:
        generation = services.tokens.generation
        room = await services.rooms.get(list_id)
        if room is None:
            raise UnauthorizedError("invalid token")
        if generation == services.tokens.generation:
            return room
        await services.tokens.resolve(token, list_id, "view")


async def _run(
    scope: Scope,
    receive: Receive,
    send: Send,
    services: Services,
    room: Room,
    access: Access,
    rate: float,
    close: CloseFn,
) -> int:
    async def send_frame(frame: bytes) -> None:
        await send({"type": "websocket.send", "bytes": frame})

    client = scope.get("client")
    label = f"{client[0]}:{client[1]}" if client else "?"
    conn = Connection(send_frame, close, access=access, label=label)
    bucket = TokenBucket(rate, rate * 2)
    uses = services.uses
    services.metrics.connections.inc()
    room.join(conn)
    try:
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                return int(message.get("code", 1005))
            data = message.get("bytes")
            if data is None:
                raise ProtocolError("text frames are not part of the protocol")
            if not bucket.take():
                raise RateLimitError(f"more than {rate:g} messages per second")
            room.receive(conn, data)
            uses.record(access.share_id)  # an open session stays "in use" (a dict look-up)
    except ListokError as exc:
        code = exc.close_code
        services.metrics.rejected.labels(_REASONS.get(code, "error")).inc()
        log.info("list %s: closing %s (%d): %s", room.list_id, label, code, exc)
        await conn.close(code, exc.message[:120])
        return code
    finally:
        services.metrics.connections.dec()
        room.leave(conn)
        uses.record(access.share_id)  # a session's end is a use too
