"""The store contract, run against every backend, and the writer's group commit."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pycrdt import Doc, Map

from server import schema
from store import SQLiteStore, Store, Writer

Backend = Callable[..., Store]


def sqlite_backend(tmp_path: Path) -> Backend:
    def make(**options: int) -> Store:
        return SQLiteStore(tmp_path / "listok.db", **options)  # type: ignore[arg-type]

    return make


BACKENDS = {"sqlite": sqlite_backend}


@pytest.fixture(params=sorted(BACKENDS))
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    opened: list[Store] = []

    def make(**options: int) -> Store:
        store = BACKENDS[request.param](tmp_path)(**options)
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()


def doc_from(updates: list[bytes]) -> Doc:
    doc = Doc()
    for update in updates:
        doc.apply_update(update)
    return doc


def edits(count: int) -> tuple[Doc, list[bytes]]:
    doc = Doc()
    updates: list[bytes] = []
    doc.observe(lambda event: updates.append(event.update))
    for n in range(count):
        schema.add_item(doc, schema.new_item(f"item {n}", order=f"a{n:04d}"), f"id{n}")
    return doc, updates


LIST = "5a2b1c3d-0000-4000-8000-000000000001"


def test_create_is_idempotent_and_loadable(backend: Backend) -> None:
    store = backend()
    first = schema.new_list_update("Food", 1)
    assert store.create_list(LIST, 1, first) is True
    assert store.create_list(LIST, 2, schema.new_list_update("Other", 2)) is False
    record = store.get_list(LIST)
    assert record is not None and record.created_at == 1
    assert store.load(LIST) == [first]
    assert store.get_list("5a2b1c3d-0000-4000-8000-000000000002") is None
    assert store.list_ids() == [LIST]


def test_append_keeps_order_and_compaction_folds_the_log(backend: Backend) -> None:
    store = backend(compact_updates=10)
    store.create_list(LIST, 1, schema.new_list_update("Food", 1))
    doc, updates = edits(25)
    for update in updates:
        store.append([(LIST, update)])
        if store.needs_compaction(LIST):
            store.compact(LIST)
    loaded = store.load(LIST)
    assert len(loaded) <= 11  # one snapshot and a short tail, whatever the history
    reloaded = doc_from(loaded)
    assert schema.list_items(reloaded) == schema.list_items(doc)
    assert schema.meta(reloaded)["title"] == "Food"


def test_updates_after_compaction_are_not_lost(backend: Backend) -> None:
    """Regression: a reused rowid after compaction would hide later updates."""
    store = backend(compact_updates=1)
    store.create_list(LIST, 1, schema.new_list_update("Food", 1))
    _doc, updates = edits(3)
    store.append([(LIST, updates[0])])
    store.compact(LIST)
    store.append([(LIST, u) for u in updates[1:]])
    assert len(schema.list_items(doc_from(store.load(LIST)))) == 3


def test_compaction_by_bytes(backend: Backend) -> None:
    store = backend(compact_updates=10_000, compact_bytes=200)
    store.create_list(LIST, 1, schema.new_list_update("Food", 1))
    _, updates = edits(5)
    store.append([(LIST, u) for u in updates])
    assert store.needs_compaction(LIST)
    store.compact(LIST)
    assert not store.needs_compaction(LIST)
    assert len(store.load(LIST)) == 1


def test_delete_list(backend: Backend) -> None:
    store = backend()
    store.create_list(LIST, 1, schema.new_list_update("Food", 1))
    assert store.delete_list(LIST) is True
    assert store.get_list(LIST) is None and store.load(LIST) == []
    assert store.delete_list(LIST) is False


def test_survives_reopen(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "db.sqlite", compact_updates=4)
    store.create_list(LIST, 1, schema.new_list_update("Food", 1))
    doc, updates = edits(9)
    for update in updates:
        store.append([(LIST, update)])
        if store.needs_compaction(LIST):
            store.compact(LIST)
    store.close()
    again = SQLiteStore(tmp_path / "db.sqlite", compact_updates=4)
    assert schema.list_items(doc_from(again.load(LIST))) == schema.list_items(doc)
    again.close()


async def test_writer_group_commits_and_resolves_in_order(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "db.sqlite")
    writer = Writer(store)
    writer.start()
    created = await writer.run(lambda s: s.create_list(LIST, 1, schema.new_list_update("F", 1)))
    assert created is True
    _, updates = edits(200)
    done: list[int] = []
    futures = []
    for n, update in enumerate(updates):
        fut = writer.append(LIST, update)
        fut.add_done_callback(lambda _f, n=n: done.append(n))
        futures.append(fut)
    await asyncio.gather(*futures)
    assert done == list(range(200))
    assert writer.commits < 200  # grouped: fewer transactions than updates
    await writer.stop()
    assert len(schema.list_items(doc_from(store.load(LIST)))) == 200
    store.close()


def test_item_maps_are_nested(tmp_path: Path) -> None:
    doc, _ = edits(1)
    assert isinstance(schema.items(doc)["id0"], Map)
