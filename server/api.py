"""JSON API: lists exist before they sync."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

from pycrdt import Doc
from starlette.requests import Request
from starlette.responses import JSONResponse

from server import schema
from server.errors import ApiError
from server.rooms import _apply_all
from server.services import Services
from server.sync import valid_list_id

MAX_BODY = 1 << 20


def services_of(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


async def json_body(request: Request) -> dict[str, Any]:
    body = await request.body()
    if len(body) > MAX_BODY:
        raise ApiError(413, "request body too large")
    if not body:
        return {}
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise ApiError(400, "request body is not valid JSON") from exc
    if not isinstance(data, dict):
        raise ApiError(400, "request body must be a JSON object")
    return data


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


async def create_list_with_id(services: Services, list_id: str, title: str) -> bool:
    created_at = schema.now_ms()
    update = schema.new_list_update(title, created_at)
    created: bool = await services.writer.run(
        lambda store: store.create_list(list_id, created_at, update)
    )
    return created


async def create_list(request: Request) -> JSONResponse:
    data = await json_body(request)
    title = read_title(data)
    list_id = str(uuid.uuid4())
    await create_list_with_id(services_of(request), list_id, title)
    return JSONResponse({"id": list_id, "title": title}, status_code=201)


async def put_list(request: Request) -> JSONResponse:
    list_id = list_id_of(request)
    data = await json_body(request)
    title = read_title(data)
    created = await create_list_with_id(services_of(request), list_id, title)
    if not created:
        doc = await load_doc(services_of(request), list_id)
        return JSONResponse(schema.list_to_json(list_id, doc), status_code=200)
    return JSONResponse({"id": list_id, "title": title}, status_code=201)


async def load_doc(services: Services, list_id: str) -> Doc[Any]:
    room = services.rooms.loaded(list_id)
    if room is not None:
        return room.doc
    record = await asyncio.to_thread(services.store.get_list, list_id)
    if record is None:
        raise ApiError(404, "no such list")
    doc: Doc[Any] = Doc()
    _apply_all(doc, await asyncio.to_thread(services.store.load, list_id), list_id)
    return doc


async def get_list(request: Request) -> JSONResponse:
    list_id = list_id_of(request)
    doc = await load_doc(services_of(request), list_id)
    return JSONResponse(schema.list_to_json(list_id, doc))


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"ok": True})
