"""THE list document schema: root names, item fields and the helpers every part uses.

A list is one Yjs document with two roots:
- ``meta``: Y.Map with ``title`` (string) and ``created_at`` (ms since epoch);
- ``items``: Y.Map from item id to a nested Y.Map, one entry per field, so that two people
  editing different fields of one item both keep their change.

The browser mirrors this in ``client/src/lib/schema.js``; docs/schema.md documents it.
"""

from __future__ import annotations

import secrets
import time
import uuid
from typing import Any, Final

from fractional_indexing import generate_key_between
from pycrdt import Doc, Map

from models.categories import SLUGS

META: Final = "meta"
ITEMS: Final = "items"

# The aisle categories are defined once, with the curated item table, in models/categories.py.
CATEGORIES: Final = SLUGS

# Every limit of a request body, in one place: server/bodies.py declares the bodies with them,
# /api/openapi.json publishes them, and tests/test_limits.py drives each one against a server.
NAME_MAX: Final = 200
TITLE_MAX: Final = 200
UNIT_MAX: Final = 20
NOTE_MAX: Final = 1000
QTY_MAX: Final = 1_000_000
LABEL_MAX: Final = 80  # a share link's label
PROMPT_MAX: Final = 200  # a dish or occasion for suggestions
ACTOR_MAX: Final = 80  # the X-Listok-Name display name
IMPORT_TEXT_MAX: Final = 200  # id, order and created_by of an imported item
TOKEN_PATTERN: Final = r"^[A-Za-z0-9_-]{32,128}$"
# The catalog (docs/catalog.md): an item's `product` link and a list's shop.
STORE_NAME_MAX: Final = 60  # a shop's name, as imported or picked
SKU_MAX: Final = 100
PRODUCT_NAME_MAX: Final = 300
CURRENCY_MAX: Final = 8
PRICE_MAX: Final = 1_000_000_000_000  # tenge, roubles, euros: any real price is far below
AISLE_ORDER_MAX: Final = 100  # categories in a shop's hand-set aisle order
PRODUCT_QUERY_MAX: Final = 100  # GET /api/products?q=
PRODUCT_LIMIT_MAX: Final = 50  # GET /api/products?limit=
MAX_BODY: Final = 1 << 20  # bytes of any request body
ITEM_FIELDS: Final = (
    "name",
    "qty",
    "unit",
    "note",
    "category",
    "checked",
    "checked_at",
    "order",
    "created_at",
    "updated_at",
    "created_by",
    "product",  # the catalog offer picked for it: {store, sku, name, price, currency, ...}
)

_ID_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_-"


def valid_list_id(list_id: str) -> bool:
    """A list id is a UUID in its canonical lower-case form."""
    try:
        return str(uuid.UUID(list_id)) == list_id.lower()
    except ValueError:
        return False


def now_ms() -> int:
    return int(time.time() * 1000)


def new_item_id() -> str:
    """16 url-safe random characters (96 bits)."""
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(16))


def meta(doc: Doc[Any]) -> Map[Any]:
    root: Map[Any] = doc.get(META, type=Map)
    return root


def items(doc: Doc[Any]) -> Map[Any]:
    root: Map[Any] = doc.get(ITEMS, type=Map)
    return root


def new_list_update(title: str, created_at: int) -> bytes:
    """The first update of a list: its meta written by the server."""
    doc: Doc[Any] = Doc()
    m = meta(doc)
    with doc.transaction(origin="server"):
        m["title"] = title
        m["created_at"] = created_at
    items(doc)
    return doc.get_update()


def order_after(last: str | None) -> str:
    return str(generate_key_between(last, None))


def order_between(before: str | None, after: str | None) -> str:
    return str(generate_key_between(before, after))


def new_item(
    name: str,
    *,
    order: str,
    qty: float | None = None,
    unit: str | None = None,
    note: str = "",
    category: str = "",
    created_by: str = "",
    at: int | None = None,
) -> dict[str, Any]:
    stamp = now_ms() if at is None else at
    return {
        "name": name,
        "qty": qty,
        "unit": unit,
        "note": note,
        "category": category,
        "checked": False,
        "checked_at": None,
        "order": order,
        "created_at": stamp,
        "updated_at": stamp,
        "created_by": created_by,
    }


def add_item(doc: Doc[Any], fields: dict[str, Any], item_id: str | None = None) -> str:
    item_id = item_id or new_item_id()
    items(doc)[item_id] = Map(fields)
    return item_id


def _plain(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def item_to_json(item_id: str, item: Any) -> dict[str, Any]:
    data: dict[str, Any] = (item.to_py() if isinstance(item, Map) else dict(item or {})) or {}
    out: dict[str, Any] = {"id": item_id}
    for field in ITEM_FIELDS:
        out[field] = _plain(data.get(field))
    out["name"] = out["name"] if isinstance(out["name"], str) else ""
    out["order"] = out["order"] if isinstance(out["order"], str) else ""
    out["checked"] = bool(out["checked"])
    for text_field in ("note", "category", "created_by"):
        if not isinstance(out[text_field], str):
            out[text_field] = ""
    out["product"] = out["product"] if isinstance(out["product"], dict) else None
    return out


def sort_key(item: dict[str, Any]) -> tuple[str, str]:
    return (item["order"], item["id"])


def list_items(doc: Doc[Any]) -> list[dict[str, Any]]:
    out = [item_to_json(item_id, item) for item_id, item in items(doc).items()]
    out.sort(key=sort_key)
    return out


def list_to_json(list_id: str, doc: Doc[Any]) -> dict[str, Any]:
    m = meta(doc)
    title = m.get("title")
    return {
        "id": list_id,
        "title": title if isinstance(title, str) else "",
        "created_at": _plain(m.get("created_at")),
        "items": list_items(doc),
    }
