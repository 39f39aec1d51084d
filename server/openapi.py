"""The OpenAPI document of the JSON API, served at /api/openapi.json and kept true by tests.

Only the paths are written here: every body schema is generated from its declaration in
server/bodies.py, so the documented limits are the enforced ones.
"""

from __future__ import annotations

from typing import Any, Final

from server import bodies, schema

_ID = {"type": "string", "format": "uuid"}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema_: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema_}}}


def _errors(*codes: int) -> dict[str, Any]:
    """The error answers of an operation; every one may be rate-limited (429, Retry-After)."""
    return {str(code): {"description": "error", **_json(_ref("Error"))} for code in (*codes, 429)}


LIST_ID: Final = {"name": "list_id", "in": "path", "required": True, "schema": _ID}
ITEM_ID: Final = {"name": "item_id", "in": "path", "required": True, "schema": {"type": "string"}}
SHARE_ID: Final = {"name": "share_id", "in": "path", "required": True, "schema": {"type": "string"}}
NAME_HEADER: Final = {
    "name": "X-Listok-Name",
    "in": "header",
    "required": False,
    "description": "Display name of the person acting (percent-encoded UTF-8), for activity",
    "schema": {"type": "string", "pattern": "^[!-~]*$"},
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
_ITEMS = _ref("Items")

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
            body=_json(_ref("ListPatch")),
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
            body=_json(_ref("NewItems")),
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
            body=_json(_ref("Position")),
            params=_LI,
        )
    },
    "/api/lists/{list_id}/shares": {
        "get": _op(
            "Share links (owner)",
            {
                **_ok(200, _ref("Shares")),
                **_errors(401, 403, 404),
            },
            params=[LIST_ID],
        ),
        "post": _op(
            "Create a share link with role owner, edit or view (owner)",
            {**_ok(201, _ref("Share")), **_errors(400, 401, 403, 404, 422)},
            body=_json(_ref("NewShare")),
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
                **_ok(200, _ref("Activity")),
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
                **_ok(200, _ref("DuplicateAnswer")),
                **_errors(401, 403, 404, 422),
            },
            params=[
                LIST_ID,
                {
                    "name": "name",
                    "in": "query",
                    "required": True,
                    "schema": {"type": "string", "minLength": 1, "maxLength": schema.NAME_MAX},
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
            "Ingredients for a dish or occasion: the dish table, its nearest dishes, the model",
            {**_ok(200, _ref("Suggestions")), **_errors(400, 401, 403, 404, 422, 429, 503, 504)},
            body=_json(_ref("PromptBody")),
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
                        "application/json": {"schema": _ref("Export")},
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
                    "application/json": {"schema": _ref("Export")},
                    "text/plain": {"schema": {"type": "string"}},
                }
            },
            params=_L,
        )
    },
    # The catalog (server/catalog.py, docs/catalog.md); its operator routes are with /api/admin.
    "/api/products": {
        "get": _op(
            "Look products up in the imported catalogs (any list's token), best match first",
            {**_ok(200, _ref("Products")), **_errors(401, 422)},
            params=[
                {
                    "name": "q",
                    "in": "query",
                    "required": True,
                    "schema": {
                        "type": "string",
                        "minLength": 1,
                        "maxLength": schema.PRODUCT_QUERY_MAX,
                    },
                },
                {
                    "name": "limit",
                    "in": "query",
                    "schema": {
                        "type": "integer",
                        "minimum": 1,
                        "maximum": schema.PRODUCT_LIMIT_MAX,
                    },
                },
                {
                    "name": "store",
                    "in": "query",
                    "schema": {"type": "string", "maxLength": schema.STORE_NAME_MAX},
                },
            ],
        )
    },
    "/api/lists/{list_id}/shop": {
        "get": _op(
            "The list's shop and that shop's aisle order (learned from ticks, or set by hand)",
            {**_ok(200, _ref("Shop")), **_errors(401, 403, 404)},
            params=[LIST_ID],
        ),
        "put": _op(
            "Set the list's shop (null: none) and optionally the shop's aisle order (edit)",
            {**_ok(200, _ref("Shop")), **_errors(400, 401, 403, 404, 413, 422)},
            body=_json(_ref("ShopChoice")),
            params=[LIST_ID],
        ),
    },
}


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
            "schemas": bodies.components(),
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "query": {"type": "apiKey", "in": "query", "name": "token"},
            },
        },
        "security": [{"bearer": []}, {"query": []}],
    }
