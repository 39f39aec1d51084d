from __future__ import annotations

import asyncio
import contextlib

import websockets
from pycrdt import Map, Text

from server import schema
from tests.support import PyClient, ServerFactory, ServerProcess, new_list_id, wait_for


def item_names(client: PyClient) -> set[str]:
    return {item["name"] for item in schema.list_items(client.doc)}


async def test_two_clients_see_each_other(live_server: ServerProcess) -> None:
    list_id = live_server.create_list("Weekly")
    async with (
        live_server.client(list_id) as a,
        live_server.client(list_id) as b,
    ):
        await a.wait_synced()
        await b.wait_synced()
        assert schema.meta(a.doc)["title"] == "Weekly"
        schema.add_item(a.doc, schema.new_item("milk", order="a0"), "item-a")
        await wait_for(lambda: item_names(b) == {"milk"}, what="b sees milk")
        schema.items(b.doc)["item-a"]["checked"] = True
        await wait_for(
            lambda: schema.items(a.doc)["item-a"]["checked"] is True, what="a sees check"
        )
        b.doc.get("notes", type=Text).insert(0, "hello")
        await wait_for(lambda: str(a.doc.get("notes", type=Text)) == "hello")
    got = live_server.get_list(list_id)
    assert [(i["name"], i["checked"]) for i in got["items"]] == [("milk", True)]


async def test_concurrent_field_edits_both_survive(live_server: ServerProcess) -> None:
    list_id = live_server.create_list()
    async with (
        live_server.client(list_id) as a,
        live_server.client(list_id) as b,
    ):
        await a.wait_synced()
        await b.wait_synced()
        schema.add_item(a.doc, schema.new_item("eggs", order="a0"), "eggs")
        await wait_for(lambda: "eggs" in schema.items(b.doc))
        await a.ws.close()
        await a.wait_closed()
        schema.items(a.doc)["eggs"]["qty"] = 12
        schema.items(b.doc)["eggs"]["note"] = "free range"
        await asyncio.sleep(0)
    async with live_server.client(list_id) as c:
        c.doc.apply_update(a.doc.get_update())
        await c.wait_synced()
    got = live_server.get_list(list_id)["items"][0]
    assert got["qty"] == 12 and got["note"] == "free range"


async def close_of(url: str) -> tuple[int | None, str | None]:
    async with websockets.connect(url) as ws:
        with contextlib.suppress(websockets.ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 5)
        await asyncio.wait_for(ws.wait_closed(), 5)
        return ws.close_code, ws.close_reason


async def test_no_existence_oracle_unknown_list_and_bad_token_close_alike(
    live_server: ServerProcess,
) -> None:
    """Issue 9.11: the credential is checked first; an unknown list tells nothing more.

    Before, an unknown or malformed list id closed 4404 and a bad token 4401: anyone could
    probe which list ids exist without any token.
    """
    list_id = live_server.create_list()
    token = live_server.tokens[list_id]
    wrong = "w" * 10 + token[10:]
    closes = {
        "unknown list, a real token": await close_of(live_server.sync_url(new_list_id(), token)),
        "malformed list id": await close_of(live_server.sync_url("not-a-uuid", token)),
        "unknown list, no token": await close_of(f"{live_server.ws_url}/{new_list_id()}"),
        "real list, no token": await close_of(f"{live_server.ws_url}/{list_id}"),
        "real list, wrong token": await close_of(live_server.sync_url(list_id, wrong)),
        "unknown list, wrong token": await close_of(live_server.sync_url(new_list_id(), wrong)),
    }
    codes = {label: code for label, (code, _) in closes.items()}
    assert set(codes.values()) == {4401}, codes
    reasons = {reason for label, (_, reason) in closes.items() if "no token" not in label}
    assert len(reasons) == 1, closes


BAD_FRAMES = {
    "garbage": b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01",
    "unknown type": b"\x09\x00",
    "truncated sync": b"\x00\x02\x20abc",
    "invalid update": b"\x00\x02\x05\x01\x02\x03\x04\x05",
    "unknown sync type": b"\x00\x07\x00",
    "bad awareness json": b"\x01\x06\x01\x01\x01\x02{x",
    "trailing bytes": b"\x03\x00",
    "empty": b"",
}


async def test_bad_frames_close_only_their_connection(live_server: ServerProcess) -> None:
    list_id = live_server.create_list()
    async with live_server.client(list_id) as honest:
        await honest.wait_synced()
        schema.add_item(
            honest.doc, schema.new_item("bread", order="a0", category="bakery"), "bread"
        )
        await wait_for(lambda: live_server.get_list(list_id)["items"], what="bread stored")
        before = live_server.get_list(list_id)
        frames_before = len(honest.frames)
        frames: list[tuple[str, bytes | str]] = [*BAD_FRAMES.items(), ("text", "hello")]
        for label, frame in frames:
            async with websockets.connect(live_server.sync_url(list_id)) as ws:
                await ws.send(frame)
                await asyncio.wait_for(ws.wait_closed(), 5)
                assert ws.close_code == 4400, label
        # The honest client is still connected, was sent nothing, and the list is unchanged.
        schema.add_item(
            honest.doc, schema.new_item("butter", order="a1", category="dairy"), "butter"
        )
        await wait_for(lambda: len(live_server.get_list(list_id)["items"]) == 2)
        assert len(honest.frames) == frames_before
        assert live_server.get_list(list_id)["items"][0] == before["items"][0]
    log = live_server.log()
    assert "Traceback" not in log
    assert log.count("closing") >= len(BAD_FRAMES)


async def test_oversized_frame_closes_1009(server_factory: ServerFactory) -> None:
    server = server_factory({"LISTOK_MAX_MESSAGE_BYTES": "4096"})
    list_id = server.create_list()
    async with websockets.connect(server.sync_url(list_id), max_size=None) as ws:
        await ws.send(b"\x00\x02" + b"\x80\x40" + b"x" * 8192)
        await asyncio.wait_for(ws.wait_closed(), 5)
        assert ws.close_code == 1009


async def test_late_joiner_gets_full_state(live_server: ServerProcess) -> None:
    list_id = live_server.create_list()
    async with live_server.client(list_id) as a:
        await a.wait_synced()
        for n in range(20):
            schema.add_item(a.doc, schema.new_item(f"item {n}", order=f"a{n:02d}"), f"id{n}")
        await wait_for(lambda: len(live_server.get_list(list_id)["items"]) == 20)
    async with live_server.client(list_id) as late:
        await late.wait_synced()
        assert len(schema.list_items(late.doc)) == 20
        assert isinstance(schema.items(late.doc)["id3"], Map)
