"""`listok backup` of a server under write load, restore, check, lists and compact."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from server import schema
from tests.support import ROOT, PyClient, ServerFactory, ServerProcess, wait_for


def listok(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "server.cli", *map(str, args)],
        cwd=ROOT,
        env={**os.environ, "LISTOK_MODEL": "off"},
        capture_output=True,
        text=True,
        timeout=120,
    )


async def run_listok(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(listok, *args)


def item_ids(client: PyClient) -> set[str]:
    return set(schema.items(client.doc).keys())


async def write_items(client: PyClient, prefix: str, stop: asyncio.Event) -> int:
    """Add items one after another until told to stop; returns how many were added."""
    count = 0
    while not stop.is_set():
        schema.add_item(client.doc, schema.new_item(f"{prefix} {count}", order=f"a{count:06d}"))
        count += 1
        await asyncio.sleep(0.005)  # pacing: a steady stream, not a wait for a condition
    return count


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gzip"])
async def test_backup_under_write_load_restores_every_acknowledged_item(
    server_factory: Callable[..., ServerProcess], tmp_path: Path, compress: bool
) -> None:
    server = server_factory()
    ids = [server.create_list(f"list {n}") for n in range(3)]
    writers = [server.client(list_id) for list_id in ids]
    # An observer per list: the server broadcasts an update only after it is committed, so
    # what an observer has seen is what was acknowledged.
    observers = [server.client(list_id) for list_id in ids]
    for client in writers + observers:
        await client.connect()
        await client.wait_synced()
    stop = asyncio.Event()
    tasks = [asyncio.create_task(write_items(c, f"w{n}", stop)) for n, c in enumerate(writers)]
    try:
        await wait_for(
            lambda: all(len(item_ids(o)) >= 30 for o in observers), 30, "items acknowledged"
        )
        acknowledged = [item_ids(o) for o in observers]
        backup_file = tmp_path / ("backup.db.gz" if compress else "backup.db")
        args: list[str | Path] = ["backup", backup_file, "--data-dir", server.data_dir]
        result = await run_listok(*args, *(["--compress"] if compress else []))
        after_backup = [item_ids(o) for o in observers]
    finally:
        stop.set()
        counts = await asyncio.gather(*tasks)
    for client in writers + observers:
        await client.close()
    assert result.returncode == 0, result.stderr
    assert "backed up 3 list(s)" in result.stdout
    # The writers kept writing while the backup ran (the backup did not stop the server).
    assert all(len(a) > len(b) for a, b in zip(after_backup, acknowledged, strict=True)), counts
    with backup_file.open("rb") as raw:
        assert raw.read(2) == b"\x1f\x8b" if compress else raw.read(16) == b"SQLite format 3\x00"

    restored_dir = tmp_path / "restored"
    result = await run_listok("restore", backup_file, "--data-dir", restored_dir)
    assert result.returncode == 0, result.stderr
    assert (await run_listok("check", "--data-dir", restored_dir)).returncode == 0

    restored = server_factory(name="restored")
    for list_id, seen in zip(ids, acknowledged, strict=True):
        token = server.tokens[list_id]
        body = restored.get_list(list_id, token=token)
        have = {item["id"] for item in body["items"]}
        missing = seen - have
        assert not missing, f"{len(missing)} acknowledged item(s) lost from {list_id}"
        async with restored.client(list_id, token=token) as client:
            await client.wait_synced()
            assert item_ids(client) == have


def test_restore_refuses_a_non_empty_directory(live_server: ServerProcess, tmp_path: Path) -> None:
    list_id = live_server.create_list("Keep")
    backup_file = tmp_path / "b.db"
    assert listok("backup", backup_file, "--data-dir", live_server.data_dir).returncode == 0

    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine")
    refused = listok("restore", backup_file, "--data-dir", busy)
    assert refused.returncode != 0 and "not empty" in refused.stderr
    assert not (busy / "listok.db").exists() and (busy / "notes.txt").read_text() == "mine"
    forced = listok("restore", backup_file, "--data-dir", busy, "--force")
    assert forced.returncode == 0, forced.stderr
    assert (busy / "notes.txt").exists()

    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 100)
    bad = listok("restore", junk, "--data-dir", tmp_path / "empty")
    assert bad.returncode != 0 and "neither" in bad.stderr
    assert not (tmp_path / "empty" / "listok.db").exists()
    # A compressed backup cut short (a full disk, an interrupted upload) is refused too.
    packed = tmp_path / "b.db.gz"
    assert (
        listok("backup", packed, "--compress", "--data-dir", live_server.data_dir).returncode == 0
    )
    cut = tmp_path / "cut.db.gz"
    cut.write_bytes(packed.read_bytes()[: packed.stat().st_size // 2])
    bad = listok("restore", cut, "--data-dir", tmp_path / "empty2")
    assert bad.returncode == 1 and "could not be read" in bad.stderr, bad.stderr
    assert not (tmp_path / "empty2" / "listok.db").exists()
    assert list_id in listok("lists", "--data-dir", busy).stdout


def _filled_store(server: ServerProcess, lists: int = 40) -> list[str]:
    ids = []
    for n in range(lists):
        list_id = server.create_list(f"list {n}")
        server.api(
            "POST",
            "/items/bulk",
            list_id,
            json={"items": [{"name": f"thing {n} {k}", "note": "x" * 200} for k in range(8)]},
        )
        ids.append(list_id)
    server.stop()
    # Fold the WAL into the file, so that damage to the file is damage to the data.
    with contextlib.closing(sqlite3.connect(server.data_dir / "listok.db")) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return ids


def test_check_passes_a_healthy_store_and_fails_a_damaged_file(live_server: ServerProcess) -> None:
    _filled_store(live_server)
    healthy = listok("check", "--data-dir", live_server.data_dir)
    assert healthy.returncode == 0, healthy.stdout + healthy.stderr
    assert "integrity_check: ok" in healthy.stdout and "lists checked: 40" in healthy.stdout
    assert "result: ok" in healthy.stdout

    db = live_server.data_dir / "listok.db"
    assert not Path(f"{db}-wal").exists() or Path(f"{db}-wal").stat().st_size == 0
    size = db.stat().st_size
    assert size > 64 * 1024
    with db.open("r+b") as f:
        f.seek(size // 2)
        f.write(b"\x55" * 8192)  # two pages of garbage in the middle of the file
    damaged = listok("check", "--data-dir", live_server.data_dir)
    assert damaged.returncode != 0
    assert "result: ok" not in damaged.stdout
    assert "integrity" in damaged.stdout or "cannot be read" in damaged.stdout, damaged.stdout


def test_check_fails_a_list_whose_history_does_not_decode(live_server: ServerProcess) -> None:
    ids = _filled_store(live_server, lists=3)
    db = live_server.data_dir / "listok.db"
    with contextlib.closing(sqlite3.connect(db)) as conn, conn:
        (row_id, _data) = conn.execute(
            "SELECT id, data FROM updates WHERE list_id = ? ORDER BY id DESC LIMIT 1", (ids[1],)
        ).fetchone()
        conn.execute("UPDATE updates SET data = ? WHERE id = ?", (b"\xff" * 3, row_id))
    report = listok("check", "--data-dir", live_server.data_dir)
    assert report.returncode != 0
    assert "integrity_check: ok" in report.stdout  # the file is fine; the list is not
    assert f"list {ids[1]}: update {row_id} does not decode" in report.stdout
    assert ids[0] not in report.stdout and ids[2] not in report.stdout


def test_lists_and_compact_on_the_terminal(live_server: ServerProcess) -> None:
    ids = [live_server.create_list(f"Shop {n}") for n in range(3)]
    for n in range(4):
        live_server.api("POST", "/items", ids[0], json={"name": f"item {n}"})
    live_server.api("POST", "/shares", ids[0], json={"role": "view"})
    live_server.api("DELETE", "", ids[2])

    table = listok("lists", "--data-dir", live_server.data_dir)
    assert table.returncode == 0, table.stderr
    assert ids[0] in table.stdout and "Shop 0" in table.stdout and "1/0/1" in table.stdout
    assert ids[2] not in table.stdout and "2 list(s)" in table.stdout
    deleted = listok("lists", "--state", "deleted", "--data-dir", live_server.data_dir)
    assert ids[2] in deleted.stdout and "1 list(s)" in deleted.stdout
    search = listok("lists", "--search", "shop 1", "--data-dir", live_server.data_dir)
    assert ids[1] in search.stdout and ids[0] not in search.stdout

    # While the server runs: the log folds, the list reads the same.
    compacted = listok("compact", "--data-dir", live_server.data_dir)
    assert compacted.returncode == 0, compacted.stderr
    assert "compacted 2 list(s)" in compacted.stdout
    names = [i["name"] for i in live_server.get_list(ids[0])["items"]]
    assert names == [f"item {n}" for n in range(4)]
    live_server.api("POST", "/items", ids[0], json={"name": "after"})
    live_server.restart()
    assert len(live_server.get_list(ids[0])["items"]) == 5


def test_backup_without_a_database_says_so(tmp_path: Path) -> None:
    result = listok("backup", tmp_path / "b.db", "--data-dir", tmp_path / "nothing")
    assert result.returncode == 1 and "no database" in result.stderr


def test_check_on_postgresql(server_factory: ServerFactory, pg_url: str) -> None:
    """`listok check` with LISTOK_DATABASE_URL decodes every list stored in PostgreSQL."""
    import psycopg

    server = server_factory({"LISTOK_DATABASE_URL": pg_url})
    ids = _filled_store(server, lists=3)
    env = {**os.environ, "LISTOK_MODEL": "off", "LISTOK_DATABASE_URL": pg_url}

    def check() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "server.cli", "check"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip

    healthy = check()
    assert healthy.returncode == 0, healthy.stdout + healthy.stderr
    assert "lists checked: 3" in healthy.stdout and "result: ok" in healthy.stdout
    assert "password" not in healthy.stdout
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(
            "UPDATE updates SET data = %s WHERE list_id = %s"
            " AND seq = (SELECT max(seq) FROM updates WHERE list_id = %s)",
            (b"\xff" * 3, ids[1], ids[1]),
        )
    damaged = check()
    assert damaged.returncode == 2
    assert f"list {ids[1]}: update" in damaged.stdout and "does not decode" in damaged.stdout
    assert ids[0] not in damaged.stdout and ids[2] not in damaged.stdout
