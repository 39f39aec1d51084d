"""The store contract, run against every backend, and the writer's group commit."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pycrdt import Doc, Map
from sqlite_utils import Database

from server import schema
from store import Change, DeletedList, Event, Share, SQLiteStore, Store, Writer
from store.migrations import migrations

Backend = Callable[..., Store]


def doc_from(updates: list[bytes]) -> Doc[Any]:
    doc: Doc[Any] = Doc()
    for update in updates:
        doc.apply_update(update)
    return doc


def edits(count: int) -> tuple[Doc[Any], list[bytes]]:
    doc: Doc[Any] = Doc()
    updates: list[bytes] = []
    doc.observe(lambda event: updates.append(event.update))
    for n in range(count):
        schema.add_item(doc, schema.new_item(f"item {n}", order=f"a{n:04d}"), f"id{n}")
    return doc, updates


LIST = "5a2b1c3d-0000-4000-8000-000000000001"


def create(store: Store, list_id: str = LIST, title: str = "Food", at: int = 1) -> bool:
    owner = Share(f"owner-{at}", list_id, "owner", "owner", at)
    return store.create_list(list_id, at, schema.new_list_update(title, at), owner, f"hash-{at}")


def changes(updates: list[bytes], list_id: str = LIST) -> list[Change]:
    return [Change(list_id, u) for u in updates]


def test_create_is_idempotent_and_loadable(backend: Backend) -> None:
    store = backend()
    assert create(store) is True
    assert create(store, title="Other", at=2) is False
    record = store.get_list(LIST)
    assert record is not None and record.created_at == 1
    assert len(store.load(LIST)) == 1
    assert schema.meta(doc_from(store.load(LIST)))["title"] == "Food"
    assert store.find_token("hash-1") == Share("owner-1", LIST, "owner", "owner", 1)
    assert store.find_token("hash-2") is None
    assert store.get_list("5a2b1c3d-0000-4000-8000-000000000002") is None
    assert store.list_ids() == [LIST]


def test_append_keeps_order_and_compaction_folds_the_log(backend: Backend) -> None:
    store = backend(compact_updates=10)
    create(store)
    doc, updates = edits(25)
    for update in updates:
        store.append(changes([update]))
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
    create(store)
    _doc, updates = edits(3)
    store.append(changes(updates[:1]))
    store.compact(LIST)
    store.append(changes(updates[1:]))
    assert len(schema.list_items(doc_from(store.load(LIST)))) == 3


def test_compaction_by_bytes(backend: Backend) -> None:
    store = backend(compact_updates=10_000, compact_bytes=200)
    create(store)
    _, updates = edits(5)
    store.append(changes(updates))
    assert store.needs_compaction(LIST)
    store.compact(LIST)
    assert not store.needs_compaction(LIST)
    assert len(store.load(LIST)) == 1


def test_delete_list(backend: Backend) -> None:
    store = backend()
    create(store)
    assert store.delete_list(LIST) is True
    assert store.get_list(LIST) is None and store.load(LIST) == []
    assert store.delete_list(LIST) is False


def test_soft_delete_hides_everything_but_keeps_the_data(backend: Backend) -> None:
    store = backend()
    create(store)
    other = "5a2b1c3d-0000-4000-8000-000000000002"
    create(store, other, at=2)
    _doc, updates = edits(3)
    store.append(changes(updates))
    store.add_share(Share("edit-1", LIST, "edit", "kitchen", 5), "hash-edit")
    before = store.load(LIST)

    assert store.delete_list(LIST, 1000) is True
    assert store.get_list(LIST) is None and store.load(LIST) == []
    assert store.load(LIST, include_deleted=True) == before  # kept, for the operator's tools
    assert store.find_token("hash-1") is None and store.find_token("hash-edit") is None
    assert store.list_ids() == [other]
    assert store.deleted_lists() == [DeletedList(LIST, 1, 1000)]
    assert store.delete_list(LIST, 2000) is False  # already deleted: the window keeps its start
    assert store.deleted_lists()[0].deleted_at == 1000

    assert store.restore_list(LIST) is True
    assert store.restore_list(LIST) is False
    assert store.load(LIST) == before
    assert store.find_token("hash-edit") == Share("edit-1", LIST, "edit", "kitchen", 5)
    assert store.list_ids() == [LIST, other] and store.deleted_lists() == []


def test_a_deleted_id_is_never_created_again(backend: Backend) -> None:
    store = backend()
    create(store)
    store.delete_list(LIST, 10)
    # Not by its old owner token, nor a new one, nor after the purge.
    assert create(store, at=1) is False
    assert create(store, at=3) is False
    assert store.purge_deleted(11) == 1
    assert create(store, at=4) is False
    assert store.get_list(LIST) is None and store.load(LIST) == []
    assert store.restore_list(LIST) is False


def test_purge_drops_only_lists_past_the_window(backend: Backend) -> None:
    store = backend()
    old, recent = LIST, "5a2b1c3d-0000-4000-8000-000000000002"
    create(store, old, at=1)
    create(store, recent, at=2)
    _doc, updates = edits(2)
    store.append(changes(updates, old))
    store.delete_list(old, 100)
    store.delete_list(recent, 500)
    assert store.purge_deleted(100) == 0  # strictly before
    assert store.purge_deleted(101) == 1
    assert store.purge_deleted(101) == 0
    assert [d.list_id for d in store.deleted_lists()] == [recent]
    assert store.summaries([old]) == []  # its data is gone
    assert store.restore_list(old) is False
    assert store.restore_list(recent) is True
    assert store.get_list(recent) is not None


def test_summaries(backend: Backend) -> None:
    store = backend()
    create(store, at=7)
    _doc, updates = edits(4)
    store.append(changes(updates))
    store.add_share(Share("v1", LIST, "view", "fridge", 8), "hash-v1")
    store.add_share(Share("v2", LIST, "view", "", 9), "hash-v2")
    store.revoke_share(LIST, "v2", 10)
    (summary,) = store.summaries([LIST, "5a2b1c3d-0000-4000-8000-00000000000f"])
    assert summary.list_id == LIST and summary.created_at == 7 and summary.deleted_at is None
    assert summary.updates == 5 and summary.snapshot_bytes == 0
    assert summary.log_bytes == sum(len(u) for u in store.load(LIST))
    assert summary.shares == {"owner": 1, "view": 1}
    assert summary.last_change >= 7
    store.compact(LIST)
    (summary,) = store.summaries([LIST])
    assert summary.updates == 0 and summary.log_bytes == 0
    assert summary.snapshot_bytes == len(store.load(LIST)[0])
    store.delete_list(LIST, 99)
    assert store.summaries([LIST])[0].deleted_at == 99


def test_survives_reopen(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "db.sqlite", compact_updates=4)
    create(store)
    doc, updates = edits(9)
    for update in updates:
        store.append(changes([update]))
        if store.needs_compaction(LIST):
            store.compact(LIST)
    store.close()
    again = SQLiteStore(tmp_path / "db.sqlite", compact_updates=4)
    assert schema.list_items(doc_from(again.load(LIST))) == schema.list_items(doc)
    again.close()


def test_a_database_from_before_last_use_is_upgraded(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    old = Database(path)
    migrations.apply(old, stop_before="m004_share_last_used")
    old.execute("INSERT INTO lists (id, created_at) VALUES (?, 1)", [LIST])
    old.execute(
        "INSERT INTO shares (id, list_id, token_hash, role, label, created_at)"
        " VALUES ('v1', ?, 'hash-view', 'view', 'fridge', 2)",
        [LIST],
    )
    old.close()
    store = SQLiteStore(path)
    assert store.shares(LIST) == [Share("v1", LIST, "view", "fridge", 2)]
    store.record_uses({"v1": 9})
    assert store.shares(LIST)[0].last_used_at == 9
    store.close()


async def test_writer_group_commits_and_resolves_in_order(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "db.sqlite")
    writer = Writer(store)
    writer.start()
    created = await writer.run(create)
    assert created is True
    _, updates = edits(200)
    done: list[int] = []

    def record(n: int) -> Callable[[asyncio.Future[int | None]], None]:
        return lambda _fut: done.append(n)

    futures = []
    for n, update in enumerate(updates):
        fut = writer.append(Change(LIST, update))
        fut.add_done_callback(record(n))
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


def test_shares_and_revocation(backend: Backend) -> None:
    store = backend()
    create(store)
    view = Share("v1", LIST, "view", "fridge door", 5)
    store.add_share(view, "hash-view")
    assert store.find_token("hash-view") == view
    assert [s.role for s in store.shares(LIST)] == ["owner", "view"]
    assert store.revoke_share(LIST, "v1", 9) is True
    assert store.revoke_share(LIST, "v1", 9) is False
    assert store.revoke_share(LIST, "owner-1", 9) is False  # the owner's token is not a link
    assert store.find_token("hash-view") is None
    assert store.shares(LIST)[1].revoked_at == 9


def test_an_owner_link_for_another_device_can_be_revoked(backend: Backend) -> None:
    """Only the list's first owner token (the creator's) is not a link; an owner link made later
    for a second device is, on every store."""
    store = backend()
    create(store)
    tablet = Share("o2", LIST, "owner", "tablet", 7)
    store.add_share(tablet, "hash-tablet")
    assert store.revoke_share(LIST, "owner-1", 9) is False
    assert store.revoke_share(LIST, "o2", 9) is True
    assert store.find_token("hash-tablet") is None


def test_last_use_is_recorded_and_only_moves_forward(backend: Backend) -> None:
    store = backend()
    create(store)
    store.add_share(Share("e1", LIST, "edit", "Boris", 5), "hash-edit")
    store.add_share(Share("v1", LIST, "view", "", 6), "hash-view")
    assert [s.last_used_at for s in store.shares(LIST)] == [None, None, None]

    store.record_uses({"e1": 100, "owner-1": 50, "no-such-share": 7})
    store.record_uses({"e1": 80})  # an older use (another process, late): ignored
    store.record_uses({})
    assert [s.last_used_at for s in store.shares(LIST)] == [50, 100, None]
    assert store.find_token("hash-edit") == Share("e1", LIST, "edit", "Boris", 5, None, 100)

    store.record_uses({"e1": 120, "v1": 110})
    assert [s.last_used_at for s in store.shares(LIST)] == [50, 120, 110]
    assert store.revoke_share(LIST, "e1", 130)
    assert store.shares(LIST)[1].last_used_at == 120  # kept after revocation
    reopened = backend()
    assert [s.last_used_at for s in reopened.shares(LIST)] == [50, 120, 110]


def test_events_commit_with_their_update_and_are_pruned(backend: Backend) -> None:
    store = backend(events_kept=4)
    create(store)
    _, updates = edits(6)
    for n, update in enumerate(updates):
        event = Event("item.added", "Аня", f'{{"n": {n}}}', 100 + n)
        store.append([Change(LIST, update, (event,))])
    assert len(store.events_after(LIST, 0, 100)) == 6
    store.compact(LIST)
    newest = store.recent_events(LIST, 2)
    assert [e.data for e in newest] == ['{"n": 5}', '{"n": 4}']
    kept = store.events_after(LIST, 0, 100)
    assert [e.event_id for e in kept] == sorted(e.event_id for e in kept)
    assert len(kept) == 4  # compaction prunes the oldest beyond events_kept
    after = store.events_after(LIST, kept[-2].event_id, 100)
    assert [e.data for e in after] == ['{"n": 5}']
    assert after[0].actor == "Аня" and after[0].list_id == LIST


def test_install_snapshot_replaces_the_whole_log(backend: Backend) -> None:
    store = backend(compact_updates=3)
    create(store)
    _, updates = edits(5)
    store.append(changes(updates))
    assert store.needs_compaction(LIST)
    whole: Doc[Any] = Doc()
    for update in store.load(LIST):
        whole.apply_update(update)
    store.install_snapshot(LIST, whole.get_update())
    assert len(store.load(LIST)) == 1 and not store.needs_compaction(LIST)
    _, more = edits(7)
    store.append(changes(more[5:]))
    loaded = doc_from(store.load(LIST))
    assert len(store.load(LIST)) == 3
    assert len(schema.list_items(loaded)) == 7


async def test_commit_window_groups_a_stream_of_changes(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "db.sqlite")
    writer = Writer(store, window=0.05)
    writer.start()
    await writer.run(create)
    _, updates = edits(20)
    first = writer.commits
    futures = []
    for update in updates:  # a change every millisecond or so: a busy list
        futures.append(writer.append(Change(LIST, update)))
        await asyncio.sleep(0.001)
    await asyncio.gather(*futures)
    assert writer.commits - first < 10  # without the window, most would commit alone
    await writer.stop()
    assert len(schema.list_items(doc_from(store.load(LIST)))) == 20
    store.close()
