"""Export a list as JSON (lossless, re-importable), plain text or Markdown; import it back."""

from __future__ import annotations

import re
import time
from typing import Any, Final

from pycrdt import Doc, Map
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from server import schema
from server.api import (
    EDITABLE,
    actor_of,
    authorize,
    change,
    json_object,
    load_doc,
    parse_text,
    raw_body,
    room_of,
    services_of,
    validate_fields,
)
from server.errors import ApiError

FORMAT: Final = "listok.list/v1"
NOTE_SEPARATOR: Final = " — "
_BULLET = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_CHECKBOX = re.compile(r"^\[( |x|X)\]\s*")


def _qty(value: Any) -> str:
    if value is None:
        return ""
    number = float(value)
    return str(int(number)) if number.is_integer() else f"{number:g}"


def item_line(item: dict[str, Any]) -> str:
    amount = " ".join(part for part in (_qty(item["qty"]), item["unit"] or "") if part)
    line = f"{item['name']} {amount}".strip()
    return f"{line}{NOTE_SEPARATOR}{item['note']}" if item["note"] else line


def as_text(items: list[dict[str, Any]]) -> str:
    """One item per line, nothing else, so that pasting it back imports exactly the items."""
    return "".join(("✓ " if item["checked"] else "") + item_line(item) + "\n" for item in items)


def as_markdown(title: str, items: list[dict[str, Any]]) -> str:
    lines = [f"- [{'x' if item['checked'] else ' '}] {item_line(item)}" for item in items]
    return "\n".join([f"# {title or 'Shopping list'}", "", *lines]) + "\n"


async def export_list(request: Request) -> Response:
    list_id, _ = await authorize(request, "view")
    doc = await load_doc(services_of(request), list_id)
    data = schema.list_to_json(list_id, doc)
    fmt = request.query_params.get("format", "json")
    if fmt == "json":
        body = {"format": FORMAT, "exported_at": int(time.time() * 1000), **data}
        return JSONResponse(body)
    if fmt == "text":
        return Response(as_text(data["items"]), media_type="text/plain")
    if fmt == "markdown":
        return Response(as_markdown(data["title"], data["items"]), media_type="text/markdown")
    raise ApiError(422, "format must be json, text or markdown")


def parse_lines(text: str) -> list[dict[str, Any]]:
    """One item per line; bullets, checkboxes, a leading ✓ and `# headings` are understood."""
    entries = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        line = _BULLET.sub("", line)
        checked = False
        box = _CHECKBOX.match(line)
        if box:
            checked = box.group(1).lower() == "x"
            line = line[box.end() :]
        elif line.startswith("✓"):
            checked = True
            line = line[1:].strip()
        note = ""
        if NOTE_SEPARATOR in line:
            line, note = line.rsplit(NOTE_SEPARATOR, 1)
        if not line.strip():
            continue
        fields = parse_text(line)
        fields.update(note=note.strip(), checked=checked)
        entries.append(validate_fields(fields))
    if not entries:
        raise ApiError(422, "no items found in the text")
    return entries


def parse_export(data: dict[str, Any]) -> list[dict[str, Any]]:
    if data.get("format") != FORMAT:
        raise ApiError(422, f"format must be {FORMAT!r}")
    raw = data.get("items")
    if not isinstance(raw, list):
        raise ApiError(422, "items must be an array")
    entries = []
    for item in raw:
        if not isinstance(item, dict):
            raise ApiError(422, "each item must be a JSON object")
        fields = validate_fields({k: item[k] for k in EDITABLE if k in item})
        if "name" not in fields:
            raise ApiError(422, "each item needs a name")
        for key in ("id", "order", "created_by"):
            value = item.get(key)
            if value is not None and not isinstance(value, str):
                raise ApiError(422, f"{key} must be a string")
            if isinstance(value, str):
                fields[key] = value[:200]
        for key in ("checked_at", "created_at", "updated_at"):
            value = item.get(key)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int | float)
            ):
                raise ApiError(422, f"{key} must be a number or null")
            fields[key] = value
        entries.append(fields)
    return entries


def _import(doc: Doc[Any], entries: list[dict[str, Any]], actor: str) -> list[str]:
    items = schema.items(doc)
    existing = schema.list_items(doc)
    last: str | None = existing[-1]["order"] if existing else None
    keep_orders = not existing  # into an empty list, the export's own order keys are kept
    now = schema.now_ms()
    ids = []
    for entry in entries:
        item_id = entry.get("id")
        if not item_id or item_id in items:
            item_id = schema.new_item_id()
        order = entry.get("order") if keep_orders else None
        if order:
            last = max(last or order, order)
        else:
            order = last = schema.order_after(last)
        created_at = entry.get("created_at") or now
        fields = schema.new_item(
            entry["name"],
            order=order,
            qty=entry.get("qty"),
            unit=entry.get("unit"),
            note=entry.get("note", ""),
            category=entry.get("category", ""),
            created_by=entry.get("created_by") or actor,
            at=created_at,
        )
        fields["checked"] = entry.get("checked", False)
        fields["checked_at"] = entry.get("checked_at") or (now if fields["checked"] else None)
        fields["updated_at"] = entry.get("updated_at") or created_at
        items[item_id] = Map(fields)
        ids.append(item_id)
    return ids


async def import_list(request: Request) -> JSONResponse:
    """`POST /api/lists/{id}/import`: a JSON export, or text with one item per line."""
    list_id, access = await authorize(request, "edit")
    body = await raw_body(request)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json":
        entries = parse_export(json_object(body))
    else:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ApiError(400, "text must be UTF-8") from exc
        entries = parse_lines(text)
    room = await room_of(request, list_id)
    limit = services_of(request).settings.max_items
    if len(schema.items(room.doc)) + len(entries) > limit:
        raise ApiError(413, f"a list holds at most {limit} items")
    actor = actor_of(request, access)
    ids = await change(request, room, access, lambda doc: _import(doc, entries, actor))
    items = schema.items(room.doc)
    added = [schema.item_to_json(item_id, items[item_id]) for item_id in ids]
    return JSONResponse({"items": added}, status_code=201)
