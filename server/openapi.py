"""The OpenAPI document of the JSON API, served at /api/openapi.json and kept true by tests."""

from __future__ import annotations

from typing import Any, Final

from server import schema
from server.api import NOTE_MAX, QTY_MAX, UNIT_MAX
from server.catalog import extend_openapi
from server.events import EVENT_TYPES

_ID = {"type": "string", "format": "uuid"}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema_: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema_}}}


def _errors(*codes: int) -> dict[str, Any]:
    return {str(code): {"description": "error", **_json(_ref("Error"))} for code in codes}


LIST_ID: Final = {"name": "list_id", "in": "path", "required": True, "schema": _ID}
ITEM_ID: Final = {"name": "item_id", "in": "path", "required": True, "schema": {"type": "string"}}
SHARE_ID: Final = {"name": "share_id", "in": "path", "required": True, "schema": {"type": "string"}}
NAME_HEADER: Final = {
    "name": "X-Listok-Name",
    "in": "header",
    "required": False,
    "description": "Display name of the person acting (percent-encoded UTF-8), for activity",
    "schema": {"type": "string"},
}

_FIELDS: Final[dict[str, Any]] = {
    "name": {"type": "string", "minLength": 1, "maxLength": schema.NAME_MAX},
    "qty": {"type": ["number", "null"], "minimum": 0, "maximum": QTY_MAX},
    "unit": {"type": ["string", "null"], "maxLength": UNIT_MAX},
    "note": {"type": "string", "maxLength": NOTE_MAX},
    "category": {"type": "string", "enum": ["", *schema.CATEGORIES]},
}
_POSITION: Final = {"before": {"type": "string"}, "after": {"type": "string"}}

SCHEMAS: Final[dict[str, Any]] = {
    "Error": {
        "type": "object",
        "required": ["ok", "error", "status"],
        "properties": {
            "ok": {"const": False},
            "error": {"type": "string"},
            "status": {"type": "integer"},
        },
    },
    "Item": {
        "type": "object",
        "required": ["id", *schema.ITEM_FIELDS],
        "properties": {
            "id": {"type": "string"},
            **_FIELDS,
            "checked": {"type": "boolean"},
            "checked_at": {"type": ["integer", "null"]},
            "order": {"type": "string"},
            "created_at": {"type": ["integer", "null"]},
            "updated_at": {"type": ["integer", "null"]},
            "created_by": {"type": "string"},
        },
    },
    "List": {
        "type": "object",
        "required": ["id", "title", "items"],
        "properties": {
            "id": _ID,
            "title": {"type": "string"},
            "created_at": {"type": ["integer", "null"]},
            "role": {"type": "string", "enum": ["owner", "edit", "view"]},
            "items": {"type": "array", "items": _ref("Item")},
        },
    },
    "NewList": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "title": {"type": "string", "maxLength": schema.TITLE_MAX},
            "token": {"type": "string", "pattern": "^[A-Za-z0-9_-]{32,128}$"},
        },
    },
    "CreatedList": {
        "type": "object",
        "required": ["id", "title", "role", "token"],
        "properties": {
            "id": _ID,
            "title": {"type": "string"},
            "role": {"const": "owner"},
            "token": {"type": "string"},
        },
    },
    "NewItem": {
        "type": "object",
        "additionalProperties": False,
        "description": "Either name (with optional fields) or text, parsed into name, qty, unit",
        "properties": {
            "text": {"type": "string", "minLength": 1},
            **_FIELDS,
            **_POSITION,
            "duplicate": {
                "enum": ["reject", "add", "merge"],
                "description": "when the name is on the list already: 409 (default), add "
                "anyway, or raise the existing item's quantity",
            },
        },
    },
    "ItemPatch": {
        "type": "object",
        "additionalProperties": False,
        "properties": {**_FIELDS, "checked": {"type": "boolean"}},
    },
    "Share": {
        "type": "object",
        "required": ["id", "role", "label", "created_at"],
        "properties": {
            "id": {"type": "string"},
            "role": {"type": "string", "enum": ["owner", "edit", "view"]},
            "label": {"type": "string"},
            "created_at": {"type": "integer"},
            "revoked_at": {"type": ["integer", "null"]},
            "token": {"type": "string", "description": "only when the link is created"},
            "path": {"type": "string"},
        },
    },
    "Suggestions": {
        "type": "object",
        "required": ["suggestions", "model"],
        "properties": {
            "model": {
                "type": "string",
                "description": "used, cached, or why not: absent, loading, failed, busy, timeout",
            },
            "suggestions": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["name", "source", "reason"],
                    "properties": {
                        "name": {"type": "string"},
                        "source": {"enum": ["history", "together", "model"]},
                        "reason": {"type": "string"},
                        "score": {"type": "number"},
                    },
                },
            },
        },
    },
    "Event": {
        "type": "object",
        "required": ["id", "type", "actor", "at"],
        "properties": {
            "id": {"type": "integer"},
            "type": {"type": "string", "enum": list(EVENT_TYPES)},
            "actor": {"type": "string"},
            "at": {"type": "integer"},
            "item_id": {"type": "string"},
            "name": {"type": "string"},
            "summary": {"type": "string"},
        },
    },
}


def _op(
    summary: str,
    responses: dict[str, Any],
    *,
    body: dict[str, Any] | None = None,
    params: list[dict[str, Any]] | None = None,
    public: bool = False,
    op_id: str | None = None,
) -> dict[str, Any]:
    op: dict[str, Any] = {"summary": summary, "responses": responses}
    if op_id:
        op["operationId"] = op_id
    if params:
        op["parameters"] = params
    if body is not None:
        op["requestBody"] = {"required": True, **body}
    if public:
        op["security"] = []
    return op


def _ok(status: int, schema_: dict[str, Any] | None, description: str = "ok") -> dict[str, Any]:
    out: dict[str, Any] = {"description": description}
    if schema_ is not None:
        out.update(_json(schema_))
    return {str(status): out}


_L = [LIST_ID, NAME_HEADER]
_LIMIT = {
    "name": "limit",
    "in": "query",
    "schema": {"type": "integer", "minimum": 1, "maximum": 50},
}
_LI = [LIST_ID, ITEM_ID, NAME_HEADER]
_ITEMS = {"type": "object", "properties": {"items": {"type": "array", "items": _ref("Item")}}}

PATHS: Final[dict[str, Any]] = {
    "/healthz": {"get": _op("Liveness", _ok(200, {"type": "object"}), public=True)},
    "/metrics": {"get": _op("Prometheus metrics", _ok(200, None), public=True)},
    "/api/openapi.json": {"get": _op("This document", _ok(200, {"type": "object"}), public=True)},
    "/api/lists": {
        "post": _op(
            "Create a list; the answer holds the owner's token",
            {**_ok(201, _ref("CreatedList")), **_errors(400, 413, 422)},
            body=_json(_ref("NewList")),
            public=True,
        )
    },
    "/api/lists/{list_id}": {
        "get": _op(
            "Read a list", {**_ok(200, _ref("List")), **_errors(401, 403, 404)}, params=[LIST_ID]
        ),
        "put": _op(
            "Create a list under a client-chosen id (idempotent with the same token)",
            {
                **_ok(201, _ref("CreatedList")),
                **_ok(200, _ref("List")),
                **_errors(400, 401, 404, 409, 413, 422),
            },
            body=_json(_ref("NewList")),
            params=[LIST_ID],
            public=True,
        ),
        "patch": _op(
            "Rename a list (edit)",
            {**_ok(200, _ref("List")), **_errors(400, 401, 403, 404, 413, 422)},
            body=_json(
                {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["title"],
                    "properties": {"title": {"type": "string", "maxLength": 200}},
                }
            ),
            params=_L,
        ),
        "delete": _op(
            "Delete a list (owner)", {**_ok(204, None), **_errors(401, 403, 404)}, params=[LIST_ID]
        ),
    },
    "/api/lists/{list_id}/items": {
        "get": _op(
            "Items in order", {**_ok(200, _ITEMS), **_errors(401, 403, 404)}, params=[LIST_ID]
        ),
        "post": _op(
            "Add an item (edit)",
            {**_ok(201, _ref("Item")), **_errors(400, 401, 403, 404, 409, 413, 422)},
            body=_json(_ref("NewItem")),
            params=_L,
        ),
    },
    "/api/lists/{list_id}/items/bulk": {
        "post": _op(
            "Add several items at once, all or none (edit)",
            {**_ok(201, _ITEMS), **_errors(400, 401, 403, 404, 409, 413, 422)},
            body=_json(
                {
                    "type": "object",
                    "required": ["items"],
                    "additionalProperties": False,
                    "properties": {
                        "items": {"type": "array", "minItems": 1, "items": _ref("NewItem")}
                    },
                }
            ),
            params=_L,
        )
    },
    "/api/lists/{list_id}/items/{item_id}": {
        "get": _op(
            "Read an item",
            {**_ok(200, _ref("Item")), **_errors(401, 403, 404)},
            params=[LIST_ID, ITEM_ID],
        ),
        "patch": _op(
            "Change fields of an item; checked sets checked_at (edit)",
            {**_ok(200, _ref("Item")), **_errors(400, 401, 403, 404, 413, 422)},
            body=_json(_ref("ItemPatch")),
            params=_LI,
        ),
        "delete": _op(
            "Delete an item (edit)", {**_ok(204, None), **_errors(401, 403, 404, 413)}, params=_LI
        ),
    },
    "/api/lists/{list_id}/items/{item_id}/move": {
        "post": _op(
            "Move an item before or after another (edit)",
            {**_ok(200, _ref("Item")), **_errors(400, 401, 403, 404, 409, 413, 422)},
            body=_json({"type": "object", "additionalProperties": False, "properties": _POSITION}),
            params=_LI,
        )
    },
    "/api/lists/{list_id}/shares": {
        "get": _op(
            "Share links (owner)",
            {
                **_ok(
                    200,
                    {
                        "type": "object",
                        "properties": {"shares": {"type": "array", "items": _ref("Share")}},
                    },
                ),
                **_errors(401, 403, 404),
            },
            params=[LIST_ID],
        ),
        "post": _op(
            "Create a share link with role edit or view (owner)",
            {**_ok(201, _ref("Share")), **_errors(400, 401, 403, 404, 422)},
            body=_json(
                {
                    "type": "object",
                    "required": ["role"],
                    "additionalProperties": False,
                    "properties": {
                        "role": {"enum": ["edit", "view"]},
                        "label": {"type": "string", "maxLength": 80},
                    },
                }
            ),
            params=[LIST_ID],
        ),
    },
    "/api/lists/{list_id}/shares/{share_id}": {
        "delete": _op(
            "Revoke a share link; its sockets close within a second (owner)",
            {**_ok(204, None), **_errors(401, 403, 404)},
            params=[LIST_ID, SHARE_ID],
        )
    },
    "/api/lists/{list_id}/events": {
        "get": _op(
            "Typed change events as Server-Sent Events (Last-Event-ID resumes)",
            {
                "200": {
                    "description": "text/event-stream",
                    "content": {"text/event-stream": {"schema": {"type": "string"}}},
                },
                **_errors(401, 403, 404, 422),
            },
            params=[
                LIST_ID,
                {"name": "after", "in": "query", "schema": {"type": "integer", "minimum": 0}},
            ],
        )
    },
    "/api/lists/{list_id}/activity": {
        "get": _op(
            "Who did what and when, newest first",
            {
                **_ok(
                    200,
                    {
                        "type": "object",
                        "properties": {"activity": {"type": "array", "items": _ref("Event")}},
                    },
                ),
                **_errors(401, 403, 404, 422),
            },
            params=[
                LIST_ID,
                {
                    "name": "limit",
                    "in": "query",
                    "schema": {"type": "integer", "minimum": 1, "maximum": 500},
                },
                {"name": "lang", "in": "query", "schema": {"enum": ["en", "ru"]}},
            ],
        )
    },
    "/api/lists/{list_id}/duplicate": {
        "get": _op(
            "The unchecked item a name would duplicate (case, ё/е, inflection, word order)",
            {
                **_ok(
                    200,
                    {
                        "type": "object",
                        "properties": {"duplicate": {"oneOf": [_ref("Item"), {"type": "null"}]}},
                    },
                ),
                **_errors(401, 403, 404, 422),
            },
            params=[
                LIST_ID,
                {
                    "name": "name",
                    "in": "query",
                    "required": True,
                    "schema": {"type": "string", "minLength": 1, "maxLength": 200},
                },
            ],
        )
    },
    "/api/lists/{list_id}/suggestions": {
        "get": _op(
            "Items likely missing: history, together, and the local model when loaded",
            {**_ok(200, _ref("Suggestions")), **_errors(401, 403, 404, 422)},
            params=[LIST_ID, _LIMIT],
        ),
        "post": _op(
            "Ingredients for a dish or occasion, from the local model",
            {**_ok(200, _ref("Suggestions")), **_errors(400, 401, 403, 404, 422, 429, 503, 504)},
            body=_json(
                {
                    "type": "object",
                    "required": ["prompt"],
                    "additionalProperties": False,
                    "properties": {"prompt": {"type": "string", "minLength": 1, "maxLength": 200}},
                }
            ),
            params=[LIST_ID, _LIMIT],
            op_id="suggestForPrompt",
        ),
    },
    "/api/lists/{list_id}/export": {
        "get": _op(
            "Export as JSON (lossless), text or Markdown",
            {
                "200": {
                    "description": "the list",
                    "content": {
                        "application/json": {"schema": {"type": "object"}},
                        "text/plain": {"schema": {"type": "string"}},
                        "text/markdown": {"schema": {"type": "string"}},
                    },
                },
                **_errors(401, 403, 404, 422),
            },
            params=[
                LIST_ID,
                {"name": "format", "in": "query", "schema": {"enum": ["json", "text", "markdown"]}},
            ],
        )
    },
    "/api/lists/{list_id}/import": {
        "post": _op(
            "Import a JSON export, or text with one item per line (edit)",
            {**_ok(201, _ITEMS), **_errors(400, 401, 403, 404, 413, 422)},
            body={
                "content": {
                    "application/json": {"schema": {"type": "object"}},
                    "text/plain": {"schema": {"type": "string"}},
                }
            },
            params=_L,
        )
    },
}


# The catalog documents its own routes and fields (server/catalog.py).
extend_openapi(PATHS, SCHEMAS, _op, _ok, _errors, LIST_ID)


def document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Listok",
            "version": "0.1.0",
            "description": "Shared shopping lists. Sync: ws://HOST/sync/{list_id}?token=... "
            "(y-websocket protocol).",
        },
        "paths": PATHS,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "query": {"type": "apiKey", "in": "query", "name": "token"},
            },
        },
        "security": [{"bearer": []}, {"query": []}],
    }
