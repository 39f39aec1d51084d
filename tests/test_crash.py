"""SIGKILL while clients write: whatever any client saw from another is in the reloaded list."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time

from server import schema
from tests.support import PyClient, ServerFactory, ServerProcess, wait_for


async def test_nothing_seen_is_lost_after_sigkill(live_server: ServerProcess) -> None:
    list_id = live_server.create_list()
    clients = [live_server.client(list_id) for _ in range(3)]
    for client in clients:
        await client.connect()
        await client.wait_synced()
    stop = asyncio.Event()

    async def write(n: int, client: PyClient) -> None:
        for k in range(10_000):
            if stop.is_set():
                return
            schema.add_item(client.doc, schema.new_item(f"c{n}-{k}", order="a0"), f"c{n}-{k}")
            await asyncio.sleep(0.003)

    writers = [asyncio.create_task(write(n, c)) for n, c in enumerate(clients)]

    def seen_from_others() -> set[str]:
        seen: set[str] = set()
        for n, client in enumerate(clients):
            # pycrdt annotates Map.__iter__ as returning Iterable[str]; it returns an iterator.
            items = schema.items(client.doc)
            seen |= {i for i in items if not i.startswith(f"c{n}-")}  # type: ignore[attr-defined]
        return seen

    # Kill as soon as the line is crossed (checked after every received message, not every
    # 20 ms): a slow poll leaves the writer time to commit what was seen, which would hide a
    # broadcast that ran ahead of its commit (LISTOK_DURABLE_BROADCAST=0 must fail here).
    deadline = time.monotonic() + 30
    while len(seen_from_others()) <= 150:
        assert time.monotonic() < deadline, "timed out waiting for traffic flowing"
        await asyncio.sleep(0)
    live_server.kill()
    stop.set()
    await asyncio.gather(*writers)
    for client in clients:
        with contextlib.suppress(Exception):
            await client.wait_closed(5)
    seen = seen_from_others()
    live_server.start()
    stored = {item["id"] for item in live_server.get_list(list_id)["items"]}
    missing = seen - stored
    assert not missing, f"{len(missing)} of {len(seen)} seen items lost, e.g. {sorted(missing)[:5]}"
    assert len(seen) > 150
    for client in clients:
        await client.close()


async def test_compaction_from_memory_keeps_everything(server_factory: ServerFactory) -> None:
    server: ServerProcess = server_factory({"LISTOK_COMPACT_UPDATES": "5"})
    list_id = server.create_list()
    async with server.client(list_id) as a, server.client(list_id) as b:
        await a.wait_synced()
        await b.wait_synced()
        for n in range(40):
            client = a if n % 2 else b
            schema.add_item(client.doc, schema.new_item(f"i{n}", order=f"a{n:02d}"), f"i{n}")
            await asyncio.sleep(0.002)
        await wait_for(lambda: len(server.get_list(list_id)["items"]) == 40)
        # The server also files each new item in a category: wait for those changes to land.
        await wait_for(lambda: all(i["category"] for i in server.get_list(list_id)["items"]))

    def stored() -> tuple[int, int]:
        db = sqlite3.connect(server.data_dir / "listok.db")
        try:
            tail = db.execute(
                "SELECT count(*) FROM updates WHERE list_id = ?", (list_id,)
            ).fetchone()[0]
            return tail, db.execute("SELECT count(*) FROM snapshots").fetchone()[0]
        finally:
            db.close()

    # Compaction runs after the commits that cross the limit: once writing stops, the log
    # holds one snapshot and at most a limit's worth of updates.
    await wait_for(lambda: stored()[0] <= 5 and stored()[1] == 1, what=f"log folded {stored()}")
    server.kill()
    server.start()
    assert sorted(i["name"] for i in server.get_list(list_id)["items"]) == sorted(
        f"i{n}" for n in range(40)
    )
