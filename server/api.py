"""JSON API handlers: lists, items and share links. Every write goes through the list's document.

Each handler checks the credential first (server/http.py), decodes its declared body
(server/bodies.py), plans with the item logic (server/items.py) or runs a list operation
(server/lists.py), then applies the change in one document transaction and answers once it
is committed: nothing is half-applied, and live WebSocket clients see the change at once.
"""

from __future__ import annotations

import asyncio
import hmac
from typing import Any

from pycrdt import Doc
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from server import bodies, catalog, items, lists, schema
from server.auth import new_token, token_from
from server.errors import (
    ConflictError,
    GatewayTimeoutError,
    ListokError,
    NotFoundError,
    RateLimitError,
    UnauthorizedError,
    UnavailableError,
    UnprocessableError,
)
from server.http import (
    actor_of,
    address_of,
    authorize,
    body_of,
    change,
    document,
    int_param,
    limits_of,
    list_id_of,
    read_body,
    refuse_declared_size,
    resolve,
    room_of,
    services_of,
)
from server.http import decode as decode_body
from store import Share

# -- lists ---------------------------------------------------------------------------------


def _created(list_id: str, title: str, token: str) -> JSONResponse:
    body = {"id": list_id, "title": title, "role": "owner", "token": token}
    return JSONResponse(body, status_code=201)


async def create_list(request: Request) -> JSONResponse:
    refuse_declared_size(request)
    limits_of(request).create(address_of(request))
    data = await body_of(request, bodies.NewList)
    token = data.token if isinstance(data.token, str) else None
    list_id, token = await lists.create_new(services_of(request), data.title, token)
    return _created(list_id, data.title, token)


async def put_list(request: Request) -> JSONResponse:
    """Create a list under an id the client chose (made offline); repeating it is harmless.

    Only the list's owner token gets an answer about an existing id: any other caller, a
    tombstoned (deleted) id, or a token in use elsewhere all get the same 409.
    """
    refuse_declared_size(request)
    list_id = list_id_of(request)
    data = await body_of(request, bodies.NewList)
    services = services_of(request)
    token = data.token if isinstance(data.token, str) else token_from(request)
    if token is None:
        token = new_token()
    else:
        lists.check_chosen_token(token)
    # Only a real creation counts against the address's rate: a device re-sending the PUT of
    # its lists on every start is not creating anything.
    exists = await asyncio.to_thread(services.store.get_list, list_id) is not None
    if not exists:
        limits_of(request).create(address_of(request))
        if await lists.create(services, list_id, data.title, token):
            return _created(list_id, data.title, token)
    try:
        access = await resolve(request, token, list_id, "owner")
    except ListokError as exc:  # a stranger, a weaker role, a deleted id: one answer
        raise ConflictError("cannot create a list under this id with this token") from exc
    doc = await document(request, list_id)
    return JSONResponse({**schema.list_to_json(list_id, doc), "role": access.role})


async def get_list(request: Request) -> JSONResponse:
    list_id, access = await authorize(request, "view")
    doc = await document(request, list_id)
    extras = await catalog.list_extras(request, list_id, doc)  # totals and shop
    return JSONResponse({**schema.list_to_json(list_id, doc), "role": access.role, **extras})


async def patch_list(request: Request) -> JSONResponse:
    list_id, access = await authorize(request, "edit")
    title = (await body_of(request, bodies.ListPatch)).title
    room = await room_of(request, list_id)

    def rename(doc: Doc[Any]) -> None:
        if schema.meta(doc).get("title") != title:
            schema.meta(doc)["title"] = title

    await change(request, room, access, rename)
    return JSONResponse({**schema.list_to_json(list_id, room.doc), "role": access.role})


async def delete_list(request: Request) -> Response:
    list_id, _ = await authorize(request, "owner")
    await lists.delete(services_of(request), list_id)
    return Response(status_code=204)


# -- items ---------------------------------------------------------------------------------


def _fields(entry: bodies.NewItem) -> dict[str, Any]:
    fields = entry.given()
    if isinstance(entry.text, str):
        fields = {**items.parse_text(entry.text), **fields}
    return fields


async def _insert(request: Request, entries: list[bodies.NewItem]) -> list[dict[str, Any]]:
    """Add entries: limits first, then one pass with indexes built once (linear in entries)."""
    list_id, access = await authorize(request, "edit")
    services = services_of(request)
    room = await room_of(request, list_id)
    items.check_room(room.doc, len(entries), services.settings.max_items)
    duplicates = items.Duplicates.of(room.doc)
    orders = items.Orders(room.doc)
    plan: list[items.Step] = []
    for entry in entries:
        fields = _fields(entry)
        orders.check(entry.where())
        dup = duplicates.find(fields["name"]) if entry.duplicate != "add" else None
        if dup is not None and entry.duplicate == "reject":
            raise items.DuplicateError(dup)
        plan.append(items.Step(fields, entry.where(), dup))
    for step in plan:
        if not step.fields.get("category") and step.merge_into is None:
            name, unit = step.fields["name"], step.fields.get("unit")
            step.fields["category"] = await services.suggestions.category_for(list_id, name, unit)
    actor = actor_of(request, access)
    ids = await change(request, room, access, lambda doc: items.add_items(doc, plan, actor))
    listed = schema.items(room.doc)
    return [schema.item_to_json(item_id, listed[item_id]) for item_id in ids]


async def add_item(request: Request) -> JSONResponse:
    refuse_declared_size(request)
    entry = await body_of(request, bodies.NewItem)
    return JSONResponse((await _insert(request, [entry]))[0], status_code=201)


async def add_items(request: Request) -> JSONResponse:
    refuse_declared_size(request)
    data = await body_of(request, bodies.NewItems)
    return JSONResponse({"items": await _insert(request, data.items)}, status_code=201)


async def list_items(request: Request) -> JSONResponse:
    list_id, _ = await authorize(request, "view")
    doc = await document(request, list_id)
    return JSONResponse({"items": schema.list_items(doc)})


async def get_item(request: Request) -> JSONResponse:
    list_id, _ = await authorize(request, "view")
    doc = await document(request, list_id)
    item_id = request.path_params["item_id"]
    return JSONResponse(schema.item_to_json(item_id, items.item_map(doc, item_id)))


async def patch_item(request: Request) -> JSONResponse:
    list_id, access = await authorize(request, "edit")
    fields = (await body_of(request, bodies.ItemPatch)).given()
    room = await room_of(request, list_id)
    item_id = request.path_params["item_id"]
    # A product linked to an item the table could not file gives it the product's category.
    await catalog.follow_product(request, fields, items.item_map(room.doc, item_id))
    await change(request, room, access, lambda doc: items.patch_item(doc, item_id, fields))
    return JSONResponse(schema.item_to_json(item_id, items.item_map(room.doc, item_id)))


async def move_item(request: Request) -> JSONResponse:
    list_id, access = await authorize(request, "edit")
    data = await body_of(request, bodies.Position)
    where = {k: v for k in ("before", "after") if isinstance(v := getattr(data, k), str)}
    if not where:
        raise UnprocessableError("give before or after")
    room = await room_of(request, list_id)
    item_id = request.path_params["item_id"]
    order = items.move_key(room.doc, item_id, where)

    def move(doc: Doc[Any]) -> None:
        item = items.item_map(doc, item_id)
        item["order"] = order
        item["updated_at"] = schema.now_ms()

    await change(request, room, access, move)
    return JSONResponse(schema.item_to_json(item_id, items.item_map(room.doc, item_id)))


async def delete_item(request: Request) -> Response:
    list_id, access = await authorize(request, "edit")
    room = await room_of(request, list_id)
    item_id = request.path_params["item_id"]
    items.item_map(room.doc, item_id)

    def remove(doc: Doc[Any]) -> None:
        del schema.items(doc)[item_id]

    await change(request, room, access, remove)
    return Response(status_code=204)


async def duplicate_of(request: Request) -> JSONResponse:
    """`GET /api/lists/{id}/duplicate?name=…`: the unchecked item this name would duplicate."""
    list_id, _ = await authorize(request, "view")
    name = request.query_params.get("name", "").strip()
    if not name or len(name) > schema.NAME_MAX:
        raise UnprocessableError(f"name must be 1-{schema.NAME_MAX} characters")
    doc = await document(request, list_id)
    return JSONResponse({"duplicate": items.Duplicates.of(doc).find(name)})


async def suggestions(request: Request) -> JSONResponse:
    """`GET`: items likely missing (history, together, model); `POST {"prompt"}`: a dish's items."""
    list_id, _ = await authorize(request, "view")
    services = services_of(request)
    limit = int_param(request.query_params.get("limit"), "limit", 10, 1, 50)
    if request.method == "GET":
        result = await services.suggestions.suggest(list_id, limit)
        return JSONResponse(result.to_json())
    prompt = decode_body(await read_body(request), bodies.PromptBody).prompt
    from models.suggest import (
        ModelBusyError,
        ModelPromptTooLongError,
        ModelTimeoutError,
        ModelUnavailableError,
    )

    try:
        result = await services.suggestions.for_prompt(list_id, prompt, limit)
    except ModelPromptTooLongError as exc:
        raise UnprocessableError("the list and prompt are too long for the local model") from exc
    except ModelUnavailableError as exc:
        raise UnavailableError(f"the local model is not available ({exc})") from exc
    except ModelBusyError as exc:
        raise RateLimitError("the local model is busy: try again shortly") from exc
    except ModelTimeoutError as exc:
        raise GatewayTimeoutError("the local model did not answer in time") from exc
    return JSONResponse(result.to_json())


# -- share links ---------------------------------------------------------------------------


def share_json(share: Share) -> dict[str, Any]:
    return {
        "id": share.share_id,
        "role": share.role,
        "label": share.label,
        "created_at": share.created_at,
        "revoked_at": share.revoked_at,
        "last_used_at": share.last_used_at,
    }


async def create_share(request: Request) -> JSONResponse:
    list_id, _ = await authorize(request, "owner")
    data = await body_of(request, bodies.NewShare)
    share, token = await lists.add_share(services_of(request), list_id, data.role, data.label)
    path = f"/l/{list_id}#token={token}"
    return JSONResponse({**share_json(share), "token": token, "path": path}, status_code=201)


async def list_shares(request: Request) -> JSONResponse:
    list_id, _ = await authorize(request, "owner")
    shares = await asyncio.to_thread(services_of(request).store.shares, list_id)
    return JSONResponse({"shares": [share_json(s) for s in shares]})


async def revoke_share(request: Request) -> Response:
    list_id, _ = await authorize(request, "owner")
    await lists.revoke_share(services_of(request), list_id, request.path_params["share_id"])
    return Response(status_code=204)


# -- operations ----------------------------------------------------------------------------


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"ok": True})


async def metrics(request: Request) -> Response:
    """Prometheus metrics; LISTOK_METRICS: public, token (LISTOK_METRICS_TOKEN) or off."""
    settings = services_of(request).settings
    if settings.metrics == "off":
        raise NotFoundError("not found")
    if settings.metrics != "public":
        given = token_from(request) or ""
        expected = settings.metrics_token
        if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
            raise UnauthorizedError("metrics need LISTOK_METRICS_TOKEN as the bearer token")
    body = services_of(request).metrics.render()
    return Response(body, media_type="text/plain; version=0.0.4; charset=utf-8")
