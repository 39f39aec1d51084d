"""The Python client (pycrdt Provider over pycrdt-websocket's channel) beside the Node one.

Two independent implementations of the y-websocket protocol, the stock npm `yjs` + `y-websocket`
client and pycrdt's, edit one list on a live server; `listok add|show|watch` run as a user would.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Callable
from typing import Any

import pytest

from server import schema
from server.remote import RemoteError, open_list
from server.remote_cli import changes
from tests.support import ROOT, NodeClient, ServerProcess, wait_for

pytestmark = pytest.mark.node


async def listok(*args: str, token: str | None = None) -> tuple[int, str, str]:
    env = {**os.environ, "LISTOK_TOKEN": token} if token else dict(os.environ)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "server.cli", *args, cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def node_names(node: NodeClient) -> list[str]:
    state = await node.state()
    return sorted(item["name"] for item in state["items"].values())


async def test_python_and_node_clients_edit_one_list(
    live_server: ServerProcess, node_clients: Callable[[], Any]
) -> None:
    list_id = live_server.create_list("Дача")
    token = live_server.tokens[list_id]
    node: NodeClient = await node_clients()
    await node.connect(live_server, list_id)
    await node.wait_synced()
    await node.call("add_item", itemId="n1", fields=schema.new_item("молоко", order="a0"))

    async with open_list(live_server.url, list_id, token) as remote:
        await wait_for(lambda: any(i["name"] == "молоко" for i in remote.items()), what="down")
        assert remote.title() == "Дача"
        remote.add("2 кг картошки", actor="script")
    # Leaving the block waited for the server's commit: the API (and so the store) has it.
    item = next(i for i in live_server.get_list(list_id)["items"] if i["name"] == "картошка")
    assert (item["qty"], item["unit"], item["created_by"]) == (2, "kg", "script")

    async def node_sees_potatoes() -> bool:
        return "картошка" in await node_names(node)

    await wait_for(node_sees_potatoes, what="node sees the python client's item")


async def test_cli_add_show_watch(
    live_server: ServerProcess, node_clients: Callable[[], Any]
) -> None:
    list_id = live_server.create_list("Weekend")
    token = live_server.tokens[list_id]
    common = ["--url", live_server.url]

    code, out, err = await listok("add", *common, list_id, "milk 1 l", "десяток яиц", token=token)
    assert code == 0, err
    assert out.splitlines() == ["+ milk 1 l", "+ яйца 10 pcs"]

    code, out, err = await listok("show", *common, "--json", list_id, token=token)
    assert code == 0, err
    shown = json.loads(out)
    assert shown["title"] == "Weekend"
    assert [i["name"] for i in shown["items"]] == ["milk", "яйца"]

    watch = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "server.cli", "watch", *common, "--json", "--seconds", "30",
        list_id, cwd=ROOT, env={**os.environ, "LISTOK_TOKEN": token},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert watch.stdout is not None
        header = await asyncio.wait_for(watch.stdout.readline(), 30)
        assert header.decode().startswith("# watching Weekend (2 items)")
        node: NodeClient = await node_clients()
        await node.connect(live_server, list_id)
        await node.wait_synced()
        await node.call("add_item", itemId="n2", fields=schema.new_item("хлеб", order="b0"))
        line = json.loads(await asyncio.wait_for(watch.stdout.readline(), 30))
        assert (line["type"], line["item"]["name"]) == ("added", "хлеб")
        await node.call("set_field", itemId="n2", field="checked", value=True)
        line = json.loads(await asyncio.wait_for(watch.stdout.readline(), 30))
        assert (line["type"], line["item"]["name"]) == ("checked", "хлеб")
    finally:
        if watch.returncode is None:
            watch.kill()
        await watch.wait()


async def test_cli_errors_are_one_line(live_server: ServerProcess) -> None:
    list_id = live_server.create_list()
    common = ["--url", live_server.url]
    code, _, err = await listok("show", *common, list_id, token="x" * 43)
    assert code == 1
    assert err.strip() == (
        "listok: the server closed the connection: this token gives no access to that list (4401)"
    )
    code, _, err = await listok("show", *common, list_id)
    assert (code, err.strip()) == (2, "listok: a token is required (--token or LISTOK_TOKEN)")
    code, _, err = await listok("show", "--url", "http://127.0.0.1:9", list_id, token="t" * 43)
    assert code == 1 and err.startswith("listok: cannot reach ws://127.0.0.1:9/sync/"), err
    with pytest.raises(RemoteError):
        async with open_list(live_server.url, list_id, "y" * 43):
            pass


def test_changes_names_what_happened() -> None:
    def item(name: str, checked: bool = False, qty: float | None = None) -> dict[str, Any]:
        return {"id": name, "name": name, "qty": qty, "unit": None, "note": "", "checked": checked}

    before = {"a": item("a"), "b": item("b"), "c": item("c")}
    after = {"a": item("a", checked=True), "c": item("c", qty=2), "d": item("d")}
    assert sorted((kind, i["name"]) for kind, i in changes(before, after)) == [
        ("added", "d"), ("changed", "c"), ("checked", "a"), ("removed", "b"),
    ]  # fmt: skip


async def test_the_server_files_a_socket_add_by_name_and_unit(live_server: ServerProcess) -> None:
    list_id = live_server.create_list()
    async with open_list(live_server.url, list_id, live_server.tokens[list_id]) as remote:
        remote.add("3 cans of tomatoes")

    def filed() -> str:
        return str(live_server.get_list(list_id)["items"][0]["category"])

    await wait_for(lambda: filed() != "", what="the server files the item")
    assert filed() == "pantry"  # a can of produce is pantry, not produce
