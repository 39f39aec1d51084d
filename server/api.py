"""JSON API: lists, items and share links. Every write goes through the list's CRDT document.

Each handler checks the token's role first, validates the whole request, then applies it in
one document transaction and answers once it is committed: nothing is half-applied, and live
WebSocket clients see the change at once.
"""

from __future__ import annotations

import asyncio
import json
import math
import uuid
from collections.abc import Callable
from typing import Any, Final
from urllib.parse import unquote

from pycrdt import Doc, Map
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from server import catalog, schema
from server.auth import (
    SHARE_ROLES,
    Access,
    AuthError,
    new_share_id,
    new_token,
    token_from,
    valid_token,
)
from server.auth import token_hash as hash_token
from server.errors import ApiError, CloseCode
from server.rooms import QuotaError, Room
from server.services import Services
from server.sync import valid_list_id
from store import Share, TokenInUseError

MAX_BODY: Final = 1 << 20
UNIT_MAX: Final = 20
NOTE_MAX: Final = 1000
QTY_MAX: Final = 1_000_000
EDITABLE: Final = ("name", "qty", "unit", "note", "category", "checked", "product")


def services_of(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


async def raw_body(request: Request) -> bytes:
    body = await request.body()
    if len(body) > MAX_BODY:
        raise ApiError(413, "request body too large")
    return body


def json_object(body: bytes) -> dict[str, Any]:
    if not body.strip():
        return {}
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise ApiError(400, "request body is not valid JSON") from exc
    if not isinstance(data, dict):
        raise ApiError(400, "request body must be a JSON object")
    return data


async def json_body(request: Request) -> dict[str, Any]:
    return json_object(await raw_body(request))


def only_keys(data: dict[str, Any], allowed: tuple[str, ...]) -> None:
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise ApiError(422, f"unknown field: {unknown[0]}")


def read_title(data: dict[str, Any]) -> str:
    title = data.get("title", "")
    if not isinstance(title, str):
        raise ApiError(422, "title must be a string")
    title = title.strip()
    if len(title) > schema.TITLE_MAX:
        raise ApiError(422, f"title must be at most {schema.TITLE_MAX} characters")
    return title


def list_id_of(request: Request) -> str:
    list_id = str(request.path_params["list_id"]).lower()
    if not valid_list_id(list_id):
        raise ApiError(404, "no such list")
    return list_id


def actor_of(request: Request, access: Access) -> str:
    """The display name the client sends in X-Listok-Name (percent-encoded UTF-8), else the role."""
    name = unquote(request.headers.get("x-listok-name", "")).strip()
    return name[:80] if name else access.role


async def authorize(request: Request, need: str) -> tuple[str, Access]:
    services = services_of(request)
    list_id = list_id_of(request)
    record = await asyncio.to_thread(services.store.get_list, list_id)
    if record is None:
        raise ApiError(404, "no such list")
    try:
        access = await services.tokens.resolve(token_from(request), list_id, need)
    except AuthError as exc:
        raise ApiError(exc.status, exc.message) from exc
    return list_id, access


async def room_of(request: Request, list_id: str) -> Room:
    room = await services_of(request).rooms.get(list_id)
    if room is None:
        raise ApiError(404, "no such list")
    return room


async def change(
    request: Request, room: Room, access: Access, fn: Callable[[Doc[Any]], Any]
) -> Any:
    try:
        size = int(request.headers.get("content-length") or 0)
        return await room.change(fn, origin=actor_of(request, access), size_hint=size)
    except QuotaError as exc:
        raise ApiError(413, str(exc)) from exc


# -- lists ---------------------------------------------------------------------------------


async def _create(services: Services, list_id: str, title: str, token: str) -> bool:
    created_at = schema.now_ms()
    update = schema.new_list_update(title, created_at)
    owner = Share(new_share_id(), list_id, "owner", "owner", created_at)
    digest = hash_token(token)
    try:
        created: bool = await services.writer.run(
            lambda store: store.create_list(list_id, created_at, update, owner, digest)
        )
    except TokenInUseError as exc:
        raise ApiError(409, "this token is already in use: choose another") from exc
    return created


def read_token(data: dict[str, Any]) -> str:
    token = data.get("token")
    if token is None:
        return new_token()
    if not isinstance(token, str) or not valid_token(token):
        raise ApiError(422, "token must be 32-128 url-safe characters (A-Z a-z 0-9 _ -)")
    return token


async def create_list(request: Request) -> JSONResponse:
    data = await json_body(request)
    only_keys(data, ("title", "token"))
    title = read_title(data)
    token = read_token(data)
    list_id = str(uuid.uuid4())
    await _create(services_of(request), list_id, title, token)
    return JSONResponse(
        {"id": list_id, "title": title, "role": "owner", "token": token}, status_code=201
    )


async def put_list(request: Request) -> JSONResponse:
    """Create a list under an id the client chose (made offline); repeating it is harmless."""
    list_id = list_id_of(request)
    data = await json_body(request)
    only_keys(data, ("title", "token"))
    title = read_title(data)
    token = read_token(data) if "token" in data else token_from(request) or new_token()
    if not valid_token(token):
        raise ApiError(401, "invalid token")
    services = services_of(request)
    if await _create(services, list_id, title, token):
        return JSONResponse(
            {"id": list_id, "title": title, "role": "owner", "token": token}, status_code=201
        )
    try:
        access = await services.tokens.resolve(token, list_id, "view")
    except AuthError as exc:
        raise ApiError(409, "a list with this id exists") from exc
    doc = await load_doc(services, list_id)
    return JSONResponse({**schema.list_to_json(list_id, doc), "role": access.role})


async def load_doc(services: Services, list_id: str) -> Doc[Any]:
    return await services.rooms.document(list_id)


async def get_list(request: Request) -> JSONResponse:
    list_id, access = await authorize(request, "view")
    doc = await load_doc(services_of(request), list_id)
    extras = await catalog.list_extras(request, list_id, doc)
    return JSONResponse({**schema.list_to_json(list_id, doc), "role": access.role, **extras})


async def patch_list(request: Request) -> JSONResponse:
    list_id, access = await authorize(request, "edit")
    data = await json_body(request)
    only_keys(data, ("title",))
    if "title" not in data:
        raise ApiError(422, "title is required")
    title = read_title(data)
    room = await room_of(request, list_id)

    def rename(doc: Doc[Any]) -> None:
        if schema.meta(doc).get("title") != title:
            schema.meta(doc)["title"] = title

    await change(request, room, access, rename)
    return JSONResponse({**schema.list_to_json(list_id, room.doc), "role": access.role})


async def delete_list(request: Request) -> Response:
    list_id, _ = await authorize(request, "owner")
    services = services_of(request)
    await services.writer.run(lambda store: store.delete_list(list_id))
    services.tokens.forget()
    services.suggestions.forget(list_id)
    room = services.rooms.forget(list_id)
    if room is not None:
        for conn in list(room.conns):
            conn.close_soon(CloseCode.NOT_FOUND, "the list was deleted")
    return Response(status_code=204)


# -- items ---------------------------------------------------------------------------------


def _text(data: dict[str, Any], key: str, limit: int, *, nullable: bool) -> str | None:
    value = data[key]
    if value is None and nullable:
        return None
    if not isinstance(value, str):
        raise ApiError(422, f"{key} must be a string" + (" or null" if nullable else ""))
    value = value.strip()
    if len(value) > limit:
        raise ApiError(422, f"{key} must be at most {limit} characters")
    return value


def validate_fields(data: dict[str, Any]) -> dict[str, Any]:
    """Check the editable fields present in data; returns them cleaned."""
    out: dict[str, Any] = {}
    if "name" in data:
        name = _text(data, "name", schema.NAME_MAX, nullable=False)
        if not name:
            raise ApiError(422, "name must not be empty")
        out["name"] = name
    if "qty" in data:
        qty = data["qty"]
        if qty is not None:
            if isinstance(qty, bool) or not isinstance(qty, int | float) or not math.isfinite(qty):
                raise ApiError(422, "qty must be a number or null")
            if not 0 <= qty <= QTY_MAX:
                raise ApiError(422, f"qty must be between 0 and {QTY_MAX}")
        out["qty"] = qty
    if "unit" in data:
        out["unit"] = _text(data, "unit", UNIT_MAX, nullable=True) or None
    if "note" in data:
        out["note"] = _text(data, "note", NOTE_MAX, nullable=False)
    if "category" in data:
        category = data["category"]
        if category not in ("", *schema.CATEGORIES):
            raise ApiError(422, f"category must be one of: {', '.join(schema.CATEGORIES)}")
        out["category"] = category
    if "checked" in data:
        if not isinstance(data["checked"], bool):
            raise ApiError(422, "checked must be true or false")
        out["checked"] = data["checked"]
    if "product" in data:
        out["product"] = catalog.read_product(data["product"])
    return out


def parse_text(text: Any) -> dict[str, Any]:
    if not isinstance(text, str) or not text.strip():
        raise ApiError(422, "text must be a non-empty string")
    from models.parse import parse_entry

    parsed = parse_entry(text.strip()[: schema.NAME_MAX])
    return {"name": parsed.name or text.strip(), "qty": parsed.qty, "unit": parsed.unit}


DUPLICATE_POLICIES: Final = ("reject", "add", "merge")


def new_item_fields(data: dict[str, Any]) -> dict[str, Any]:
    only_keys(
        data, ("text", "name", "qty", "unit", "note", "category", "before", "after", "duplicate")
    )
    if "text" in data:
        if "name" in data:
            raise ApiError(422, "give either text or name, not both")
        parsed = parse_text(data["text"])
        data = {**parsed, **{k: v for k, v in data.items() if k not in ("text", "name")}}
    if "name" not in data:
        raise ApiError(422, "name (or text) is required")
    if data.get("duplicate", "reject") not in DUPLICATE_POLICIES:
        raise ApiError(422, "duplicate must be reject, add or merge")
    return validate_fields(data)


def _position(data: dict[str, Any], doc: Doc[Any], moving: str | None = None) -> str:
    """An order key before or after another item, or at the end."""
    current = [i for i in schema.list_items(doc) if i["id"] != moving]
    before, after = data.get("before"), data.get("after")
    if before is not None and after is not None:
        raise ApiError(422, "give before or after, not both")
    target = before if before is not None else after
    if target is None:
        return schema.order_after(current[-1]["order"] if current else None)
    index = next((n for n, i in enumerate(current) if i["id"] == target), None)
    if index is None:
        raise ApiError(409, f"no item {target!r} to move next to")
    if before is not None:
        lower = current[index - 1]["order"] if index > 0 else None
        return schema.order_between(lower, current[index]["order"])
    upper = current[index + 1]["order"] if index + 1 < len(current) else None
    return schema.order_between(current[index]["order"], upper)


def find_duplicate_item(doc: Doc[Any], name: str) -> dict[str, Any] | None:
    """An unchecked item with the same name up to case, ё/е, inflection and word order."""
    from models.duplicates import find_duplicate

    open_items = [i for i in schema.list_items(doc) if not i["checked"]]
    match = find_duplicate(name, [i["name"] for i in open_items])
    return next((i for i in open_items if i["name"] == match), None) if match else None


def _merged_qty(existing: dict[str, Any], fields: dict[str, Any]) -> float | None:
    """Raising the quantity: add when the units agree, else count one more."""
    old, new = existing["qty"], fields.get("qty")
    if old is not None and new is not None and existing["unit"] == fields.get("unit"):
        return min(float(old) + float(new), QTY_MAX)
    return min(float(old if old is not None else 1) + 1, QTY_MAX)


def _add_items(doc: Doc[Any], plan: list[dict[str, Any]], actor: str) -> list[str]:
    ids = []
    for step in plan:
        fields, where, merge_into = step["fields"], step["where"], step["merge_into"]
        if merge_into is not None:
            item = _item(doc, merge_into["id"])
            item["qty"] = _merged_qty(merge_into, fields)
            item["updated_at"] = schema.now_ms()
            ids.append(merge_into["id"])
            continue
        order = _position(where, doc)
        item_fields = schema.new_item(fields.pop("name"), order=order, created_by=actor, **fields)
        ids.append(schema.add_item(doc, item_fields))
    return ids


async def _insert(request: Request, raw: list[Any]) -> list[dict[str, Any]]:
    list_id, access = await authorize(request, "edit")
    services = services_of(request)
    room = await room_of(request, list_id)
    plan: list[dict[str, Any]] = []
    for entry in raw:
        if not isinstance(entry, dict):
            raise ApiError(422, "each item must be a JSON object")
        fields = new_item_fields(entry)
        policy = entry.get("duplicate", "reject")
        duplicate = find_duplicate_item(room.doc, fields["name"]) if policy != "add" else None
        if duplicate is not None and policy == "reject":
            raise DuplicateError(duplicate)
        if not fields.get("category") and duplicate is None:
            fields["category"] = await services.suggestions.category_for(list_id, fields["name"])
        where = {k: entry[k] for k in ("before", "after") if k in entry}
        plan.append({"fields": fields, "where": where, "merge_into": duplicate})
    limit = services.settings.max_items
    if len(schema.items(room.doc)) + len(plan) > limit:
        raise ApiError(413, f"a list holds at most {limit} items")
    for step in plan:  # check positions before changing anything
        _position(step["where"], room.doc)
    actor = actor_of(request, access)
    ids = await change(request, room, access, lambda doc: _add_items(doc, plan, actor))
    items = schema.items(room.doc)
    return [schema.item_to_json(item_id, items[item_id]) for item_id in ids]


class DuplicateError(ApiError):
    """The item is on the list already; the answer carries it, to offer raising its quantity."""

    def __init__(self, item: dict[str, Any]) -> None:
        super().__init__(409, f"already on the list: {item['name']}")
        self.item = item


async def duplicate_of(request: Request) -> JSONResponse:
    """`GET /api/lists/{id}/duplicate?name=…`: the unchecked item this name would duplicate."""
    list_id, _ = await authorize(request, "view")
    name = request.query_params.get("name", "").strip()
    if not name or len(name) > schema.NAME_MAX:
        raise ApiError(422, f"name must be 1-{schema.NAME_MAX} characters")
    doc = await load_doc(services_of(request), list_id)
    return JSONResponse({"duplicate": find_duplicate_item(doc, name)})


async def suggestions(request: Request) -> JSONResponse:
    """`GET`: items likely missing (history, together, model); `POST {"prompt"}`: a dish's items."""
    list_id, _ = await authorize(request, "view")
    services = services_of(request)
    raw_limit = request.query_params.get("limit", "10")
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= 50:
        raise ApiError(422, "limit must be an integer from 1 to 50")
    limit = int(raw_limit)
    if request.method == "GET":
        result = await services.suggestions.suggest(list_id, limit)
        return JSONResponse(result.to_json())
    data = await json_body(request)
    only_keys(data, ("prompt",))
    prompt = data.get("prompt")
    if not isinstance(prompt, str) or not 1 <= len(prompt.strip()) <= 200:
        raise ApiError(422, "prompt must be a string of 1-200 characters")
    from models.suggest import ModelBusyError, ModelTimeoutError, ModelUnavailableError

    try:
        result = await services.suggestions.for_prompt(list_id, prompt.strip(), limit)
    except ModelUnavailableError as exc:
        raise ApiError(503, f"the local model is not available ({exc})") from exc
    except ModelBusyError as exc:
        raise ApiError(429, "the local model is busy: try again shortly") from exc
    except ModelTimeoutError as exc:
        raise ApiError(504, "the local model did not answer in time") from exc
    return JSONResponse(result.to_json())


async def add_item(request: Request) -> JSONResponse:
    data = await json_body(request)
    return JSONResponse((await _insert(request, [data]))[0], status_code=201)


async def add_items(request: Request) -> JSONResponse:
    data = await json_body(request)
    only_keys(data, ("items",))
    raw = data.get("items")
    if not isinstance(raw, list) or not raw:
        raise ApiError(422, "items must be a non-empty array")
    return JSONResponse({"items": await _insert(request, raw)}, status_code=201)


async def list_items(request: Request) -> JSONResponse:
    list_id, _ = await authorize(request, "view")
    doc = await load_doc(services_of(request), list_id)
    return JSONResponse({"items": schema.list_items(doc)})


def _item(doc: Doc[Any], item_id: str) -> Map[Any]:
    item = schema.items(doc).get(item_id)
    if not isinstance(item, Map):
        raise ApiError(404, "no such item")
    return item


async def get_item(request: Request) -> JSONResponse:
    list_id, _ = await authorize(request, "view")
    doc = await load_doc(services_of(request), list_id)
    item_id = request.path_params["item_id"]
    return JSONResponse(schema.item_to_json(item_id, _item(doc, item_id)))


async def patch_item(request: Request) -> JSONResponse:
    list_id, access = await authorize(request, "edit")
    data = await json_body(request)
    only_keys(data, EDITABLE)
    fields = validate_fields(data)
    room = await room_of(request, list_id)
    item_id = request.path_params["item_id"]
    await catalog.follow_product(request, fields, _item(room.doc, item_id))

    def patch(doc: Doc[Any]) -> None:
        item = _item(doc, item_id)
        now = schema.now_ms()
        changed = False
        for field, value in fields.items():
            if item.get(field) != value:
                item[field] = value
                changed = True
        if "checked" in fields and changed:
            item["checked_at"] = now if fields["checked"] else None
        if changed:
            item["updated_at"] = now

    await change(request, room, access, patch)
    return JSONResponse(schema.item_to_json(item_id, _item(room.doc, item_id)))


async def move_item(request: Request) -> JSONResponse:
    list_id, access = await authorize(request, "edit")
    data = await json_body(request)
    only_keys(data, ("before", "after"))
    if "before" not in data and "after" not in data:
        raise ApiError(422, "give before or after")
    room = await room_of(request, list_id)
    item_id = request.path_params["item_id"]
    _item(room.doc, item_id)
    if item_id in (data.get("before"), data.get("after")):
        raise ApiError(422, "an item cannot move next to itself")
    order = _position(data, room.doc, moving=item_id)

    def move(doc: Doc[Any]) -> None:
        item = _item(doc, item_id)
        item["order"] = order
        item["updated_at"] = schema.now_ms()

    await change(request, room, access, move)
    return JSONResponse(schema.item_to_json(item_id, _item(room.doc, item_id)))


async def delete_item(request: Request) -> Response:
    list_id, access = await authorize(request, "edit")
    room = await room_of(request, list_id)
    item_id = request.path_params["item_id"]
    _item(room.doc, item_id)

    def remove(doc: Doc[Any]) -> None:
        del schema.items(doc)[item_id]

    await change(request, room, access, remove)
    return Response(status_code=204)


# -- share links ---------------------------------------------------------------------------


def share_json(share: Share) -> dict[str, Any]:
    return {
        "id": share.share_id,
        "role": share.role,
        "label": share.label,
        "created_at": share.created_at,
        "revoked_at": share.revoked_at,
    }


async def create_share(request: Request) -> JSONResponse:
    list_id, _ = await authorize(request, "owner")
    data = await json_body(request)
    only_keys(data, ("role", "label"))
    role = data.get("role")
    if role not in SHARE_ROLES:
        raise ApiError(422, "role must be 'edit' or 'view'")
    label = data.get("label", "")
    if not isinstance(label, str) or len(label) > 80:
        raise ApiError(422, "label must be a string of at most 80 characters")
    token = new_token()
    share = Share(new_share_id(), list_id, role, label.strip(), schema.now_ms())
    digest = hash_token(token)
    await services_of(request).writer.run(lambda store: store.add_share(share, digest))
    return JSONResponse(
        {**share_json(share), "token": token, "path": f"/l/{list_id}#token={token}"},
        status_code=201,
    )


async def list_shares(request: Request) -> JSONResponse:
    list_id, _ = await authorize(request, "owner")
    shares = await asyncio.to_thread(services_of(request).store.shares, list_id)
    return JSONResponse({"shares": [share_json(s) for s in shares]})


async def revoke_share(request: Request) -> Response:
    list_id, _ = await authorize(request, "owner")
    share_id = request.path_params["share_id"]
    services = services_of(request)
    revoked = await services.writer.run(
        lambda store: store.revoke_share(list_id, share_id, schema.now_ms())
    )
    if not revoked:
        raise ApiError(404, "no such share link (or it is the owner's, or already revoked)")
    services.tokens.forget()
    room = services.rooms.loaded(list_id)
    if room is not None:
        room.close_share(share_id, CloseCode.UNAUTHORIZED, "this link was revoked")
    return Response(status_code=204)


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"ok": True})


async def metrics(request: Request) -> Response:
    body = services_of(request).metrics.render()
    return Response(body, media_type="text/plain; version=0.0.4; charset=utf-8")
