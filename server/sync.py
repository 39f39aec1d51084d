"""The WebSocket endpoint: check the list, hand the socket to its room, close on bad input."""

from __future__ import annotations

import logging
import uuid

from starlette.websockets import WebSocket

from server.errors import CloseCode
from server.protocol import ProtocolError
from server.rooms import Connection, ReadOnlyError
from server.services import Services

log = logging.getLogger("listok.sync")


def valid_list_id(list_id: str) -> bool:
    try:
        return str(uuid.UUID(list_id)) == list_id.lower()
    except ValueError:
        return False


async def sync_endpoint(websocket: WebSocket) -> None:
    services: Services = websocket.app.state.services
    list_id = websocket.path_params["list_id"].lower()
    await websocket.accept()
    if not valid_list_id(list_id):
        await websocket.close(CloseCode.NOT_FOUND, "no such list")
        return
    room = await services.rooms.get(list_id)
    if room is None:
        await websocket.close(CloseCode.NOT_FOUND, "no such list")
        return

    async def send(frame: bytes) -> None:
        await websocket.send({"type": "websocket.send", "bytes": frame})

    async def close(code: int, reason: str) -> None:
        await websocket.close(code, reason)

    client = websocket.client
    conn = Connection(send, close, label=f"{client.host}:{client.port}" if client else "?")
    services.metrics.connections += 1
    room.join(conn)
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                break
            data = message.get("bytes")
            if data is None:
                raise ProtocolError("text frames are not part of the protocol")
            room.receive(conn, data)
    except ReadOnlyError as exc:
        services.metrics.rejected("read_only")
        log.info("list %s: %s: %s", list_id, conn.label, exc)
        await conn.close(CloseCode.READ_ONLY, str(exc))
    except ProtocolError as exc:
        services.metrics.rejected("protocol")
        log.info("list %s: closing %s: %s", list_id, conn.label, exc)
        await conn.close(CloseCode.PROTOCOL_ERROR, str(exc)[:120])
    finally:
        services.metrics.connections -= 1
        room.leave(conn)
