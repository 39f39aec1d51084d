"""Request plumbing for the JSON API: bounded body reading, decoding against the declared
bodies, who is asking (token, role, address, display name) and the per-caller limits.

Order of checks on every request: a declared Content-Length over the limit is refused first,
then the credential (and its rate), and only then is the body read, counting while it streams
and stopping at the limit. Nothing here knows about items or lists.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import unquote

import msgspec
from pycrdt import Doc
from starlette.requests import Request

from server import schema
from server.auth import Access, token_from
from server.errors import (
    BadRequestError,
    NotFoundError,
    TooLargeError,
    UnauthorizedError,
    UnprocessableError,
)
from server.limits import Limits
from server.rooms import Room
from server.services import Services

T = TypeVar("T")

_AT = re.compile(r" - at `\$\.?([^`]*)`$")


def services_of(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def limits_of(request: Request) -> Limits:
    return services_of(request).limits


def address_of(request: Request) -> str:
    return request.client.host if request.client else "unknown"


# -- bodies --------------------------------------------------------------------------------


def refuse_declared_size(request: Request, limit: int = schema.MAX_BODY) -> None:
    """413 on a Content-Length over the limit, before anything else is done for the request."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.strip().isdigit():
            raise BadRequestError("invalid Content-Length")
        if int(declared) > limit:
            raise TooLargeError(f"request body too large (at most {limit} bytes)")


async def read_body(request: Request, limit: int = schema.MAX_BODY) -> bytes:
    """The body, counted while it streams: reading stops at the limit (413)."""
    refuse_declared_size(request, limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise TooLargeError(f"request body too large (at most {limit} bytes)")
        chunks.append(chunk)
    return b"".join(chunks)


def decode(body: bytes, kind: type[T]) -> T:
    """Decode and validate a JSON body against its declaration (server/bodies.py).

    Malformed JSON is a 400; a body that breaks its declaration is a 422 naming the field.
    An empty body is an empty object.
    """
    if not body.strip():
        body = b"{}"
    try:
        return msgspec.json.decode(body, type=kind, strict=True)
    except msgspec.ValidationError as exc:
        message = str(exc)
        found = _AT.search(message)
        field = found.group(1) if found else ""
        text = _AT.sub("", message)
        if not field and message.startswith("Expected `object`"):
            raise BadRequestError("request body must be a JSON object") from exc
        extra: dict[str, object] = {"field": field} if field else {}
        raise UnprocessableError(f"{field}: {text}" if field else text, extra=extra) from exc
    except msgspec.DecodeError as exc:
        raise BadRequestError("request body is not valid JSON") from exc
    except RecursionError as exc:  # msgspec bounds its own depth: a clear 400, not a 500
        raise BadRequestError("request body is nested too deeply") from exc


async def body_of(request: Request, kind: type[T]) -> T:
    return decode(await read_body(request), kind)


def int_param(raw: str | None, name: str, default: int, low: int, high: int) -> int:
    """A whole number from a query parameter or header: `default` when absent or empty, else
    within [low, high] or a 422."""
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise UnprocessableError(f"{name} must be an integer from {low} to {high}") from exc
    if not low <= value <= high:
        raise UnprocessableError(f"{name} must be an integer from {low} to {high}")
    return value


# -- who is asking -------------------------------------------------------------------------


def list_id_of(request: Request) -> str:
    list_id = str(request.path_params["list_id"]).lower()
    if not schema.valid_list_id(list_id):
        raise NotFoundError("no such list")
    return list_id


def actor_of(request: Request, access: Access) -> str:
    """The display name the client sends in X-Listok-Name (percent-encoded UTF-8), else the
    share link's label, else "" (unnamed: the activity feed says "someone")."""
    name = unquote(request.headers.get("x-listok-name", "")).strip()
    return name[: schema.ACTOR_MAX] if name else access.label[: schema.ACTOR_MAX]


async def resolve(request: Request, token: str | None, list_id: str, need: str) -> Access:
    """The caller's access to the list (UnauthorizedError / ForbiddenError otherwise)."""
    return await services_of(request).tokens.resolve(token, list_id, need)


async def authorize(request: Request, need: str) -> tuple[str, Access]:
    """The credential first, one answer for every failure (no existence oracle), then its rate.

    A declared body over the limit is refused before the token is even looked at.
    """
    refuse_declared_size(request)
    list_id = list_id_of(request)
    token = token_from(request)
    limits_of(request).request(token or address_of(request))
    access = await resolve(request, token, list_id, need)
    record = await asyncio.to_thread(services_of(request).store.get_list, list_id)
    if record is None:  # a valid token of a list deleted meanwhile
        raise UnauthorizedError("invalid token")
    return list_id, access


# -- documents -----------------------------------------------------------------------------


async def room_of(request: Request, list_id: str) -> Room:
    room = await services_of(request).rooms.get(list_id)
    if room is None:
        raise NotFoundError("no such list")
    return room


async def document(request: Request, list_id: str) -> Doc[Any]:
    return await services_of(request).rooms.document(list_id)


async def change(request: Request, room: Room, access: Access, fn: Callable[[Doc[Any]], T]) -> T:
    """Apply fn in one committed document transaction, as the person asking."""
    size = int(request.headers.get("content-length") or 0)
    result: T = await room.change(fn, origin=actor_of(request, access), size_hint=size)
    return result
