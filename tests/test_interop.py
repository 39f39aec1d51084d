"""The stock npm `yjs` + `y-websocket` client against a live Listok server."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
import websockets

from server import schema
from tests.support import NodeClient, ServerProcess, wait_for

pytestmark = pytest.mark.node

Factory = Callable[[], Any]


def fields(name: str, order: str = "a0") -> dict[str, Any]:
    return schema.new_item(name, order=order, created_by="test")


async def names(client: NodeClient) -> set[str]:
    state = await client.state()
    return {item["name"] for item in state["items"].values()}


async def test_initial_sync_and_edits_both_ways(
    live_server: ServerProcess, node_clients: Factory
) -> None:
    list_id = live_server.create_list("Interop")
    node: NodeClient = await node_clients()
    await node.connect(live_server, list_id)
    await node.wait_synced()
    assert (await node.state())["meta"]["title"] == "Interop"

    async with live_server.client(list_id) as py:
        await py.wait_synced()
        await node.call("add_item", itemId="n1", fields=fields("молоко"))
        await wait_for(lambda: "n1" in schema.items(py.doc), what="python sees node's item")
        schema.add_item(py.doc, fields("хлеб", "a1"), "p1")

        async def node_has_bread() -> bool:
            return "хлеб" in await names(node)

        await wait_for(node_has_bread, what="node sees python's item")
        await node.call("set_field", itemId="p1", field="checked", value=True)
        await wait_for(lambda: schema.items(py.doc)["p1"]["checked"] is True)
        await node.call("text_insert", name="notes", index=0, text="привет")
        await wait_for(lambda: str(py.doc.get("notes", type=__import__("pycrdt").Text)) == "привет")
    got = live_server.get_list(list_id)
    assert [i["name"] for i in got["items"]] == ["молоко", "хлеб"]


async def test_offline_edits_merge_on_reconnect(
    live_server: ServerProcess, node_clients: Factory
) -> None:
    list_id = live_server.create_list()
    a: NodeClient = await node_clients()
    b: NodeClient = await node_clients()
    for c in (a, b):
        await c.connect(live_server, list_id)
        await c.wait_synced()
    await a.call("add_item", itemId="x", fields=fields("eggs"))

    async def b_has_eggs() -> bool:
        return "eggs" in await names(b)

    await wait_for(b_has_eggs)
    await a.call("disconnect")
    await a.call("add_item", itemId="offline", fields=fields("made offline", "a1"))
    await a.call("set_field", itemId="x", field="qty", value=10)
    await b.call("add_item", itemId="online", fields=fields("made online", "a2"))
    await b.call("set_field", itemId="x", field="note", value="brown")
    await wait_for(lambda: len(live_server.get_list(list_id)["items"]) == 2)
    await a.call("reconnect")

    async def converged() -> bool:
        sa, sb = (await a.state())["items"], (await b.state())["items"]
        return sa == sb and len(sa) == 3 and sa["x"]["qty"] == 10 and sa["x"]["note"] == "brown"

    await wait_for(converged, what="both replicas converge")
    stored = {i["id"]: i for i in live_server.get_list(list_id)["items"]}
    assert set(stored) == {"x", "offline", "online"}
    assert stored["x"]["qty"] == 10 and stored["x"]["note"] == "brown"


async def test_late_joiner_and_restart(live_server: ServerProcess, node_clients: Factory) -> None:
    list_id = live_server.create_list()
    a: NodeClient = await node_clients()
    await a.connect(live_server, list_id)
    await a.wait_synced()
    for n in range(30):
        await a.call("add_item", itemId=f"i{n}", fields=fields(f"item {n}", f"a{n:02d}"))
    await wait_for(lambda: len(live_server.get_list(list_id)["items"]) == 30)
    await a.stop()
    live_server.restart()
    late: NodeClient = await node_clients()
    await late.connect(live_server, list_id)
    await late.wait_synced()
    assert len((await late.state())["items"]) == 30


async def test_presence_reaches_joiners_and_leaves_on_drop(
    live_server: ServerProcess, node_clients: Factory
) -> None:
    list_id = live_server.create_list()
    first: NodeClient = await node_clients()
    await first.connect(live_server, list_id, name="Аня")
    await first.wait_synced()
    first_id = (await first.call("client_id"))["clientId"]
    joiner: NodeClient = await node_clients()
    await joiner.connect(live_server, list_id, name="Боря")
    await joiner.wait_synced()

    async def joiner_sees_first() -> bool:
        states = (await joiner.call("awareness"))["states"]
        name: str | None = states.get(str(first_id), {}).get("user", {}).get("name")
        return name == "Аня"

    # The joiner must see existing presence promptly, without waiting for a periodic renewal.
    await wait_for(joiner_sees_first, timeout=3, what="existing presence sent to the joiner")

    async def first_sees_joiner() -> bool:
        states = (await first.call("awareness"))["states"]
        return any(s.get("user", {}).get("name") == "Боря" for s in states.values())

    await wait_for(first_sees_joiner, timeout=3)
    await first.kill()  # abrupt: no awareness removal from the client itself

    async def first_gone() -> bool:
        return str(first_id) not in (await joiner.call("awareness"))["states"]

    await wait_for(first_gone, timeout=5, what="dropped peer's presence removed")


async def test_simultaneous_first_joins_all_sync(
    live_server: ServerProcess, node_clients: Factory
) -> None:
    list_ids = [live_server.create_list(f"L{n}") for n in range(3)]
    live_server.restart()  # nothing is loaded: every list is opened by four clients at once
    clients: list[tuple[str, NodeClient]] = []
    for list_id in list_ids:
        for _ in range(4):
            clients.append((list_id, await node_clients()))
    await asyncio.gather(*(c.connect(live_server, list_id) for list_id, c in clients))
    await asyncio.gather(*(c.wait_synced(10) for _, c in clients))
    for n, (_, c) in enumerate(clients):
        await c.call("add_item", itemId=f"c{n}", fields=fields(f"from {n}"))
    for list_id in list_ids:
        expected = {f"c{n}" for n, (lid, _) in enumerate(clients) if lid == list_id}

        async def all_have(list_id: str = list_id, expected: set[str] = expected) -> bool:
            states = [await c.state() for lid, c in clients if lid == list_id]
            return all(set(s["items"]) == expected for s in states)

        await wait_for(all_have, what=f"all four clients of {list_id} converge")


async def test_garbage_is_not_relayed(live_server: ServerProcess, node_clients: Factory) -> None:
    list_id = live_server.create_list()
    node: NodeClient = await node_clients()
    await node.connect(live_server, list_id)
    await node.wait_synced()
    async with live_server.client(list_id) as watcher:
        await watcher.wait_synced()
        seen = len(watcher.frames)
        async with websockets.connect(live_server.sync_url(list_id)) as bad:
            await bad.send(b"\x01\x0a\x01\x05\x01\x06{bad}")
            await asyncio.wait_for(bad.wait_closed(), 5)
            assert bad.close_code == 4400
        await node.call("add_item", itemId="ok", fields=fields("after garbage"))
        await wait_for(lambda: "ok" in schema.items(watcher.doc))
        relayed = watcher.frames[seen:]
        assert all(b"bad" not in frame for frame in relayed)
    assert (await node.call("synced"))["connected"]
