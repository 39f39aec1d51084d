"""One error family for HTTP, one JSON error shape, and the named WebSocket close codes."""

from __future__ import annotations

import logging
from enum import IntEnum

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

log = logging.getLogger("listok.http")


class CloseCode(IntEnum):
    """WebSocket close codes the server uses; the client treats 44xx as final."""

    GOING_AWAY = 1001  # server shutting down: reconnect later
    TOO_BIG = 1009  # a frame over max_message_bytes
    TRY_AGAIN_LATER = 1013  # the client did not read its messages fast enough
    PROTOCOL_ERROR = 4400  # not a valid y-websocket message, or an invalid update
    UNAUTHORIZED = 4401  # no token, an unknown one, or a share link that was revoked
    NOT_FOUND = 4404  # no such list (or it was deleted)
    QUOTA = 4413  # the change would take the list over its size quota
    RATE_LIMIT = 4429  # more messages per second than allowed


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def error_response(status: int, message: str) -> JSONResponse:
    return JSONResponse({"ok": False, "error": message, "status": status}, status_code=status)


async def api_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    item = getattr(exc, "item", None)
    if item is not None:  # a duplicate: the answer names the item already on the list
        body = {"ok": False, "error": exc.message, "status": exc.status, "duplicate": item}
        return JSONResponse(body, status_code=exc.status)
    return error_response(exc.status, exc.message)


async def http_exception_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return error_response(exc.status_code, str(exc.detail))


async def server_error_handler(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_response(500, "internal server error")
