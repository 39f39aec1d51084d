"""Item logic without a server: positions, duplicates, merged quantities, the bulk plan."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from pycrdt import Doc

from models.duplicates import find_duplicate
from server import items, schema
from server.errors import ConflictError, NotFoundError, TooLargeError, UnprocessableError


def make_doc(names: list[str]) -> Doc[Any]:
    doc: Doc[Any] = Doc()
    last = None
    with doc.transaction():
        for name in names:
            last = schema.order_after(last)
            schema.add_item(doc, schema.new_item(name, order=last))
    return doc


def names_in_order(doc: Doc[Any]) -> list[str]:
    return [i["name"] for i in schema.list_items(doc)]


def test_positions_before_after_and_at_the_end() -> None:
    doc = make_doc(["a", "b", "c"])
    ids = {i["name"]: i["id"] for i in schema.list_items(doc)}
    plan = [
        items.Step({"name": "x"}, {"before": ids["b"]}),
        items.Step({"name": "y"}, {"before": ids["b"]}),  # after x: the order it was asked in
        items.Step({"name": "z"}, {"after": ids["a"]}),  # right after a, before x
        items.Step({"name": "end"}, {}),
    ]
    with doc.transaction():
        items.add_items(doc, plan, "test")
    assert names_in_order(doc) == ["a", "z", "x", "y", "b", "c", "end"]


def test_unknown_anchor_and_self_move_are_refused() -> None:
    doc = make_doc(["a", "b"])
    with pytest.raises(ConflictError):
        items.Orders(doc).check({"before": "nope"})
    first = schema.list_items(doc)[0]["id"]
    with pytest.raises(UnprocessableError):
        items.move_key(doc, first, {"after": first})
    with pytest.raises(NotFoundError):
        items.item_map(doc, "nope")


def test_move_key_places_an_item_between_its_new_neighbours() -> None:
    doc = make_doc(["a", "b", "c"])
    ids = {i["name"]: i["id"] for i in schema.list_items(doc)}
    key = items.move_key(doc, ids["c"], {"before": ids["a"]})
    with doc.transaction():
        items.item_map(doc, ids["c"])["order"] = key
    assert names_in_order(doc) == ["c", "a", "b"]


@pytest.mark.parametrize(
    "name", ["Молока", "молоко топлёное", "eggs", "Хлеб", "nothing like it", "", "топленое молоко"]
)
def test_duplicate_index_answers_like_find_duplicate(name: str) -> None:
    listed = ["молоко", "хлеб белый", "топлёное молоко", "egg", "Хлеб"]
    doc = make_doc(listed)
    found = items.Duplicates.of(doc).find(name)
    expected = find_duplicate(name, names_in_order(doc))
    assert (found["name"] if found else None) == expected


def test_checked_items_are_not_duplicates() -> None:
    doc = make_doc(["milk"])
    item_id = schema.list_items(doc)[0]["id"]
    with doc.transaction():
        items.patch_item(doc, item_id, {"checked": True})
    assert items.item_map(doc, item_id)["checked_at"] is not None
    assert items.Duplicates.of(doc).find("milk") is None


def test_merged_quantity() -> None:
    assert items.merged_qty({"qty": 2, "unit": "l"}, {"qty": 1, "unit": "l"}) == 3
    assert items.merged_qty({"qty": 2, "unit": "l"}, {"qty": 1, "unit": "kg"}) == 3
    assert items.merged_qty({"qty": None, "unit": None}, {}) == 2
    assert items.merged_qty({"qty": schema.QTY_MAX, "unit": None}, {"qty": 5}) == schema.QTY_MAX


def test_item_limit_is_checked_up_front() -> None:
    doc = make_doc(["a", "b"])
    items.check_room(doc, 3, 5)
    with pytest.raises(TooLargeError):
        items.check_room(doc, 4, 5)


def counting(monkeypatch: pytest.MonkeyPatch, module: Any, name: str) -> list[int]:
    calls = [0]
    original: Callable[..., Any] = getattr(module, name)

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, counted)
    return calls


def test_a_large_bulk_into_a_large_list_is_linear(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 9.2: every entry of a bulk used to re-read the whole list (duplicates, position).

    Counted here: items read out of the document and names normalized, for 2,000 entries into
    a 2,000-item list. Linear work is a small multiple of 4,000; the old per-entry scans are
    2,000 x 2,000.
    """
    size = 2000
    doc = make_doc([f"item {n}" for n in range(size)])
    reads = counting(monkeypatch, schema, "item_to_json")
    normalized = counting(monkeypatch, items, "normalize")
    anchor = schema.list_items(doc)[size // 2]["id"]
    reads[0] = 0
    duplicates = items.Duplicates.of(doc)
    orders = items.Orders(doc)
    plan = []
    for n in range(size):
        name = f"new {n}"
        where = {"before": anchor} if n % 2 else {}
        orders.check(where)
        assert duplicates.find(name) is None
        plan.append(items.Step({"name": name}, where))
    with doc.transaction():
        ids = items.add_items(doc, plan, "bulk")
    assert len(ids) == size and len(schema.items(doc)) == 2 * size
    work = reads[0] + normalized[0]
    assert work <= 10 * (2 * size), f"{work} steps for {size} entries into {size} items"
