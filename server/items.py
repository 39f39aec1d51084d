"""Item logic of the API, without HTTP: positions, duplicates, merged quantities, the bulk plan.

Work is linear in the request: a bulk add builds its indexes of the list once (names for
duplicates, sorted order keys for positions) and then costs O(log n) per entry.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pycrdt import Doc, Map

from models.text import normalize, tokens_key
from server import schema
from server.errors import ConflictError, NotFoundError, TooLargeError, UnprocessableError


class DuplicateError(ConflictError):
    """The item is on the list already; the answer carries it, to offer raising its quantity."""

    def __init__(self, item: dict[str, Any]) -> None:
        super().__init__(f"already on the list: {item['name']}", extra={"duplicate": item})
        self.item = item


def item_map(doc: Doc[Any], item_id: str) -> Map[Any]:
    item = schema.items(doc).get(item_id)
    if not isinstance(item, Map):
        raise NotFoundError("no such item")
    return item


def check_room(doc: Doc[Any], adding: int, limit: int) -> None:
    """413 when `adding` more items would take the list over its limit: checked first."""
    if len(schema.items(doc)) + adding > limit:
        raise TooLargeError(f"a list holds at most {limit} items")


class Duplicates:
    """Open (unchecked) items indexed once by normalized name and by word set.

    Same answer as models.duplicates.find_duplicate over the items in list order: the first
    with the same normalized name, else the first with the same words in another order.
    """

    def __init__(self, open_items: Iterable[dict[str, Any]]) -> None:
        self.by_key: dict[str, dict[str, Any]] = {}
        self.by_words: dict[Any, dict[str, Any]] = {}
        for item in open_items:
            key = normalize(item["name"])
            if not key:
                continue
            self.by_key.setdefault(key, item)
            self.by_words.setdefault(tokens_key(item["name"]), item)

    @classmethod
    def of(cls, doc: Doc[Any]) -> Duplicates:
        return cls(i for i in schema.list_items(doc) if not i["checked"])

    def find(self, name: str) -> dict[str, Any] | None:
        key = normalize(name)
        if not key:
            return None
        return self.by_key.get(key) or self.by_words.get(tokens_key(name))


class Orders:
    """The list's order keys, sorted once: a place before/after an item or at the end."""

    def __init__(self, doc: Doc[Any], moving: str | None = None) -> None:
        listed = [i for i in schema.list_items(doc) if i["id"] != moving]
        self.of_id = {i["id"]: i["order"] for i in listed}
        self.keys = sorted(self.of_id.values())

    def check(self, where: dict[str, str]) -> None:
        target = where.get("before", where.get("after"))
        if target is not None and target not in self.of_id:
            raise ConflictError(f"no item {target!r} to move next to")

    def place(self, where: dict[str, str]) -> str:
        """A new order key for where, taken: the next place asked for sees it."""
        self.check(where)
        if "before" in where:
            anchor = self.of_id[where["before"]]
            at = bisect.bisect_left(self.keys, anchor)
            key = schema.order_between(self.keys[at - 1] if at > 0 else None, anchor)
        elif "after" in where:
            anchor = self.of_id[where["after"]]
            at = bisect.bisect_right(self.keys, anchor)
            upper = self.keys[at] if at < len(self.keys) else None
            key = schema.order_between(anchor, upper)
        else:
            key = schema.order_after(self.keys[-1] if self.keys else None)
        bisect.insort(self.keys, key)
        return key


def merged_qty(existing: dict[str, Any], fields: dict[str, Any]) -> float | None:
    """Raising the quantity: add when the units agree, else count one more."""
    old, new = existing["qty"], fields.get("qty")
    if old is not None and new is not None and existing["unit"] == fields.get("unit"):
        return min(float(old) + float(new), schema.QTY_MAX)
    return min(float(old if old is not None else 1) + 1, schema.QTY_MAX)


@dataclass
class Step:
    """One entry of an add: new fields at a place, or a merge into an item already listed."""

    fields: dict[str, Any]
    where: dict[str, str]
    merge_into: dict[str, Any] | None = None


def add_items(doc: Doc[Any], plan: list[Step], actor: str) -> list[str]:
    """Apply a checked plan inside one transaction; the ids, in plan order."""
    orders = Orders(doc)
    ids = []
    for step in plan:
        if step.merge_into is not None:
            item = item_map(doc, step.merge_into["id"])
            item["qty"] = merged_qty(step.merge_into, step.fields)
            item["updated_at"] = schema.now_ms()
            ids.append(step.merge_into["id"])
            continue
        fields = dict(step.fields)
        order = orders.place(step.where)
        ids.append(
            schema.add_item(
                doc, schema.new_item(fields.pop("name"), order=order, created_by=actor, **fields)
            )
        )
    return ids


def patch_item(doc: Doc[Any], item_id: str, fields: dict[str, Any]) -> None:
    item = item_map(doc, item_id)
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


def move_key(doc: Doc[Any], item_id: str, where: dict[str, str]) -> str:
    item_map(doc, item_id)
    if item_id in where.values():
        raise UnprocessableError("an item cannot move next to itself")
    return Orders(doc, moving=item_id).place(where)


def parse_text(text: str) -> dict[str, Any]:
    """`молоко 2 л` -> name, qty and unit."""
    from models.parse import parse_entry

    text = text.strip()
    parsed = parse_entry(text[: schema.NAME_MAX])
    return {
        "name": (parsed.name or text)[: schema.NAME_MAX],
        "qty": parsed.qty,
        "unit": parsed.unit,
    }
