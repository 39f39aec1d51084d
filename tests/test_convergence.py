"""Property test: random item operations on several replicas converge and round-trip the store."""

from __future__ import annotations

import random
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pycrdt import Doc, Map

from server import schema
from store import Change, SQLiteStore
from tests.test_store import create

LIST = "5a2b1c3d-0000-4000-8000-00000000000a"
ITEM_IDS = [f"item{n}" for n in range(4)]

op = st.one_of(
    st.tuples(st.just("add"), st.sampled_from(ITEM_IDS), st.text(min_size=1, max_size=8)),
    st.tuples(st.just("check"), st.sampled_from(ITEM_IDS), st.booleans()),
    st.tuples(st.just("qty"), st.sampled_from(ITEM_IDS), st.integers(0, 99)),
    st.tuples(st.just("rename"), st.sampled_from(ITEM_IDS), st.text(min_size=1, max_size=8)),
    st.tuples(st.just("delete"), st.sampled_from(ITEM_IDS), st.none()),
)
step = st.tuples(st.integers(0, 2), op, st.booleans())  # replica, operation, sync afterwards


def apply(doc: Doc[Any], operation: tuple[str, str, object]) -> None:
    kind, item_id, value = operation
    items = schema.items(doc)
    if kind == "add":
        items[item_id] = Map(schema.new_item(str(value), order="a0", at=1))
    elif kind == "delete":
        if item_id in items:
            del items[item_id]
    elif item_id in items:
        field = {"check": "checked", "qty": "qty", "rename": "name"}[kind]
        items[item_id][field] = value


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    steps=st.lists(step, max_size=40),
    compact_every=st.integers(1, 10),
    seed=st.integers(0, 2**32),
)
def test_replicas_converge_and_round_trip(
    steps: list[tuple[int, tuple[str, str, object], bool]], compact_every: int, seed: int
) -> None:
    replicas: list[Doc[Any]] = [Doc() for _ in range(3)]
    logs: list[list[bytes]] = [[] for _ in replicas]
    for n, doc in enumerate(replicas):
        doc.observe(lambda event, n=n: logs[n].append(event.update))
    for replica, operation, sync in steps:
        apply(replicas[replica], operation)
        if sync:
            other = (replica + 1) % 3
            replicas[other].apply_update(replicas[replica].get_update(replicas[other].get_state()))
    everything = [u for log in logs for u in log]
    # Every replica gets every log, each in its own order (as a sync connection delivers it),
    # the logs interleaved at random, content already seen included. (Delivering updates in
    # reverse order as well left ~4% of random cases unconverged in pycrdt 0.14: yrs, upstream.)
    rng = random.Random(seed)
    for doc in replicas:
        queues = [list(log) for log in logs]
        while any(queues):
            doc.apply_update(rng.choice([q for q in queues if q]).pop(0))
    expected = schema.list_items(replicas[0])
    assert all(schema.list_items(doc) == expected for doc in replicas[1:])

    with tempfile.TemporaryDirectory() as tmp:
        store = SQLiteStore(Path(tmp) / "db.sqlite", compact_updates=compact_every)
        create(store, LIST)
        for update in everything:
            store.append([Change(LIST, update)])
            if store.needs_compaction(LIST):
                store.compact(LIST)
        loaded: Doc[Any] = Doc()
        for update in store.load(LIST):
            loaded.apply_update(update)
        store.close()
    assert schema.list_items(loaded) == expected
