"""Room internals that the live tests cannot steer: merging updates that yrs refuses to merge."""

from __future__ import annotations

import json
from pathlib import Path

from pycrdt import Doc

from server import schema
from server.rooms import apply_history, merge

VECTOR = Path(__file__).parent / "vectors" / "merge_panic.json"


def panic_vector() -> list[bytes]:
    """31 updates of three replicas, with the content they synced to each other seen twice.

    pycrdt 0.14's merge_updates panics on them ("comparison function does not correctly
    implement a total order"); found by a fuzz run of tests/test_convergence.py's operations.
    """
    data = json.loads(VECTOR.read_text())
    return [bytes.fromhex(u) for u in data["updates"]]


def test_merge_falls_back_instead_of_panicking() -> None:
    updates = panic_vector()
    merged = merge(updates)
    one_by_one: Doc = Doc()  # type: ignore[type-arg]
    for update in updates:
        one_by_one.apply_update(update)
    if merged is not None:  # a fixed pycrdt may merge them: then the result must be right
        fixed: Doc = Doc()  # type: ignore[type-arg]
        fixed.apply_update(merged)
        assert schema.list_items(fixed) == schema.list_items(one_by_one)


def test_history_that_does_not_merge_still_loads() -> None:
    updates = panic_vector()
    doc: Doc = Doc()  # type: ignore[type-arg]
    apply_history(doc, updates, "list")
    expected: Doc = Doc()  # type: ignore[type-arg]
    for update in updates:
        expected.apply_update(update)
    assert schema.list_items(doc) == schema.list_items(expected)
    assert len(schema.list_items(doc)) > 0
