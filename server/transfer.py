"""Export a list as JSON (lossless, re-importable), plain text or Markdown; import it back."""

from __future__ import annotations

import re
import time
from typing import Any, Final

import msgspec
from pycrdt import Doc, Map
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from server import bodies, items, schema
from server.errors import BadRequestError, TooLargeError, UnprocessableError
from server.http import (
    actor_of,
    authorize,
    change,
    decode,
    document,
    read_body,
    room_of,
    services_of,
)

FORMAT: Final = bodies.FORMAT
NOTE_SEPARATOR: Final = " — "
_BULLET = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_CHECKBOX = re.compile(r"^\[( |x|X)\]\s*")
_EXTENSIONS: Final = {"json": "json", "text": "txt", "markdown": "md"}


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
    fmt = request.query_params.get("format", "json")
    if fmt not in _EXTENSIONS:
        raise UnprocessableError("format must be json, text or markdown")
    doc = await document(request, list_id)
    data = schema.list_to_json(list_id, doc)
    # An export is a download, never a page: attachment, and no content sniffing.
    headers = {
        "Content-Disposition": f'attachment; filename="list-{list_id}.{_EXTENSIONS[fmt]}"',
        "X-Content-Type-Options": "nosniff",
    }
    if fmt == "json":
        body = {"format": FORMAT, "exported_at": int(time.time() * 1000), **data}
        return JSONResponse(body, headers=headers)
    if fmt == "text":
        return Response(as_text(data["items"]), media_type="text/plain", headers=headers)
    text = as_markdown(data["title"], data["items"])
    return Response(text, media_type="text/markdown", headers=headers)


def parse_lines(text: str, room: int) -> list[dict[str, Any]]:
    """One item per line; bullets, checkboxes, a leading ✓ and `# headings` are understood.

    Parsing stops with a 413 at the first item past `room` (what the list still holds): a
    huge paste costs no more than the list can take.
    """
    entries: list[dict[str, Any]] = []
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
        if len(entries) >= room:
            raise TooLargeError("the list cannot hold this many more items")
        fields = items.parse_text(line)
        if len(note.strip()) > schema.NOTE_MAX:
            raise UnprocessableError(f"note must be at most {schema.NOTE_MAX} characters")
        fields.update(note=note.strip(), checked=checked)
        entries.append(fields)
    if not entries:
        raise UnprocessableError("no items found in the text")
    return entries


def parse_export(body: bytes, room: int) -> list[dict[str, Any]]:
    """A JSON export's items; the item count is checked before any item is looked at."""
    export = decode(body, bodies.Export)
    if len(export.items) > room:
        raise TooLargeError("the list cannot hold this many more items")
    return [msgspec.structs.asdict(item) for item in export.items]


def _import(doc: Doc[Any], entries: list[dict[str, Any]], actor: str) -> list[str]:
    listed = schema.items(doc)
    existing = schema.list_items(doc)
    last: str | None = existing[-1]["order"] if existing else None
    keep_orders = not existing  # into an empty list, the export's own order keys are kept
    now = schema.now_ms()
    ids = []
    for entry in entries:
        item_id = entry.get("id")
        if not item_id or item_id in listed:
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
        listed[item_id] = Map(fields)
        ids.append(item_id)
    return ids


async def import_list(request: Request) -> JSONResponse:
    """`POST /api/lists/{id}/import`: a JSON export, or text with one item per line."""
    list_id, access = await authorize(request, "edit")
    body = await read_body(request)
    room = await room_of(request, list_id)
    space = services_of(request).settings.max_items - len(schema.items(room.doc))
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json":
        entries = parse_export(body, space)
    else:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadRequestError("text must be UTF-8") from exc
        entries = parse_lines(text, space)
    items.check_room(room.doc, len(entries), services_of(request).settings.max_items)
    actor = actor_of(request, access)
    ids = await change(request, room, access, lambda doc: _import(doc, entries, actor))
    listed = schema.items(room.doc)
    added = [schema.item_to_json(item_id, listed[item_id]) for item_id in ids]
    return JSONResponse({"items": added}, status_code=201)
