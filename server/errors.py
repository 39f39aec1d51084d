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
    RATE_LIMIT = 4429  # more messages per second than allowed, or over a connection cap
    FORBIDDEN = 4403  # the token's role does not allow this
    INTERNAL_ERROR = 1011  # the server could not commit: reconnect later


class ListokError(Exception):
    """The one error family: each error carries its HTTP status and its WebSocket close code.

    HTTP handlers render any ListokError as `{"ok": false, "error": ..., "status": ...}`; the
    socket endpoint closes with `close_code`. Subclass per kind; pass `headers` (e.g.
    Retry-After) or `extra` (more JSON fields, e.g. the duplicate item) where a kind needs them.
    """

    status: int = 500
    close_code: int = 1011
    default_message: str = "internal server error"

    def __init__(
        self,
        message: str | None = None,
        *,
        headers: dict[str, str] | None = None,
        extra: dict[str, object] | None = None,
    ) -> None:
        self.message = message or self.default_message
        super().__init__(self.message)
        self.headers = headers or {}
        self.extra = extra or {}


class BadRequestError(ListokError):
    status, close_code, default_message = 400, CloseCode.PROTOCOL_ERROR, "bad request"


class UnauthorizedError(ListokError):
    status, close_code, default_message = 401, CloseCode.UNAUTHORIZED, "invalid token"


class ForbiddenError(ListokError):
    status, close_code, default_message = 403, CloseCode.FORBIDDEN, "forbidden"


class NotFoundError(ListokError):
    status, close_code, default_message = 404, CloseCode.NOT_FOUND, "not found"


class ConflictError(ListokError):
    status, close_code, default_message = 409, CloseCode.PROTOCOL_ERROR, "conflict"


class GoneError(ListokError):
    status, close_code, default_message = 410, CloseCode.NOT_FOUND, "gone"


class TooLargeError(ListokError):
    status, close_code, default_message = 413, CloseCode.QUOTA, "too large"


class UnprocessableError(ListokError):
    status, close_code, default_message = 422, CloseCode.PROTOCOL_ERROR, "invalid request"


class RateLimitError(ListokError):
    """Over a rate or a cap: HTTP 429 with Retry-After, socket close 4429."""

    status, close_code, default_message = 429, CloseCode.RATE_LIMIT, "too many requests"

    def __init__(self, message: str | None = None, *, retry_after: float = 1.0) -> None:
        seconds = max(1, round(retry_after))
        super().__init__(message, headers={"Retry-After": str(seconds)})
        self.retry_after = retry_after


class GatewayTimeoutError(ListokError):
    """Something the answer waits for (the local model) did not answer in time."""

    status, close_code, default_message = 504, CloseCode.INTERNAL_ERROR, "timed out"


class UnavailableError(ListokError):
    """A write that could not be committed (disk full, database locked or read-only)."""

    status, close_code, default_message = 503, CloseCode.INTERNAL_ERROR, "temporarily unavailable"


def error_response(status: int, message: str) -> JSONResponse:
    return JSONResponse({"ok": False, "error": message, "status": status}, status_code=status)


async def api_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ListokError)
    body: dict[str, object] = {"ok": False, "error": exc.message, "status": exc.status}
    body.update(exc.extra)
    return JSONResponse(body, status_code=exc.status, headers=exc.headers)


async def http_exception_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return error_response(exc.status_code, str(exc.detail))


async def server_error_handler(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_response(500, "internal server error")
