"""Hostile link holders and failing disks against a real server (issue 9, socket side)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets

from server import schema
from server.protocol import (
    decode_awareness,
    encode_awareness,
    encode_awareness_update,
    read_var_bytes,
)
from tests.support import PyClient, ServerProcess, wait_for


async def open_socket(url: str) -> Any:
    ws = await websockets.connect(url, max_size=None)
    await asyncio.wait_for(ws.recv(), 5)  # the server's sync step 1: accepted and joined
    return ws


async def closed_with(ws: Any) -> int | None:
    with contextlib.suppress(websockets.ConnectionClosed):
        while True:
            await asyncio.wait_for(ws.recv(), 5)
    code: int | None = ws.close_code
    return code


def view_token(server: ServerProcess, list_id: str) -> str:
    response = server.api("POST", "/shares", list_id, json={"role": "view", "label": "x"})
    assert response.status_code == 201, response.text
    token: str = response.json()["token"]
    return token


async def test_sockets_are_capped_per_token_and_per_address(server_factory) -> None:  # type: ignore[no-untyped-def]
    """Issue 9.6: 150 sockets on one view token were all accepted. Over a cap: 4429."""
    server = server_factory(
        {"LISTOK_MAX_SOCKETS_PER_TOKEN": "3", "LISTOK_MAX_SOCKETS_PER_ADDRESS": "5"}
    )
    list_id = server.create_list()
    fridge = view_token(server, list_id)
    url = server.sync_url(list_id, fridge)
    held = [await open_socket(url) for _ in range(3)]
    over = await websockets.connect(url)
    assert await closed_with(over) == 4429
    await held.pop().close()
    await wait_for(lambda: True)
    held.append(await wait_for(lambda: _try_open(url), what="a freed slot is usable"))
    held += [await open_socket(server.sync_url(list_id)) for _ in range(2)]  # owner: 5 in all
    other = await websockets.connect(server.sync_url(list_id, view_token(server, list_id)))
    assert await closed_with(other) == 4429  # a fresh token, but the address is full
    for ws in held:
        await ws.close()


async def _try_open(url: str) -> Any:
    ws = await websockets.connect(url, max_size=None)
    try:
        await asyncio.wait_for(ws.recv(), 5)
    except websockets.ConnectionClosed:
        return None
    return ws


async def test_quota_follows_the_document_not_the_traffic(server_factory) -> None:  # type: ignore[no-untyped-def]
    """Issue 9.8: after churn an empty list answered 413 to its owner until it unloaded."""
    server = server_factory(
        {
            "LISTOK_MAX_LIST_BYTES": "60000",
            "LISTOK_COMPACT_BYTES": "8000",
            "LISTOK_COMPACT_UPDATES": "40",
        }
    )
    list_id = server.create_list()
    async with server.client(list_id) as churn:
        await churn.wait_synced()
        for round_ in range(25):  # 25 x 4 KB added and deleted: 100 KB of traffic
            name = f"churn {round_}"
            item_id = schema.add_item(churn.doc, schema.new_item(name, order="a0", note="n" * 4000))
            await wait_for(lambda n=name: names(server, list_id) == [n], what=f"{name} added")
            del schema.items(churn.doc)[item_id]
            await wait_for(lambda: names(server, list_id) == [], what=f"{name} removed")
        schema.add_item(churn.doc, schema.new_item("done", order="a1"))
        await wait_for(lambda: names(server, list_id) == ["done"], what="the churn committed")
        assert churn.close_code is None, churn.close_code
    response = server.api("POST", "/items", list_id, json={"name": "milk"})
    assert response.status_code == 201, response.text


def names(server: ServerProcess, list_id: str) -> list[str]:
    return [i["name"] for i in server.get_list(list_id)["items"]]


async def test_a_spelled_out_token_parameter_is_redacted_in_logs(
    live_server: ServerProcess,
) -> None:
    """Issue 9.14: `?tok%65n=` authenticates (the query is decoded) but was logged in clear."""
    list_id = live_server.create_list()
    token = live_server.tokens[list_id]
    ws = await open_socket(f"{live_server.ws_url}/{list_id}?tok%65n={token}")
    await ws.close()
    response = httpx.get(f"{live_server.url}/api/lists/{list_id}?%74oken={token}")
    assert response.status_code == 200
    await wait_for(lambda: "WS /sync/" in live_server.log(), what="the access log line")
    assert token not in live_server.log()


# -- commit failure (issue 9.12) ---------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 3 MB tmpfs the test can fill (we run as root in CI and on the dev machine)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)])
    if done.returncode != 0:
        pytest.fail("mounting a tmpfs needs root (tests run as root here)")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(path: Path) -> None:
    with contextlib.suppress(OSError), path.open("wb", buffering=0) as out:
        while True:
            out.write(b"\0" * 65536)


async def test_a_failed_commit_is_never_acknowledged_nor_broadcast(
    small_disk: Path, tmp_path: Path
) -> None:
    server = ServerProcess(small_disk / "data")
    server.log_path = tmp_path / "server.log"  # the log must not share the full disk
    server.start()
    try:
        await _disk_full_scenario(server, small_disk)
    finally:
        server.stop()


async def _disk_full_scenario(server: ServerProcess, disk: Path) -> None:
    list_id = server.create_list()
    acknowledged: set[str] = set()
    refused: set[str] = set()
    statuses: list[int] = []
    note = "n" * 900
    counter = iter(range(1_000_000))

    async def writer(http: httpx.AsyncClient, until: Any) -> None:
        while not until():
            name = f"item {next(counter)}"
            response = await http.post(
                f"{server.url}/api/lists/{list_id}/items",
                json={"name": name, "note": note},
                headers=server.auth(list_id),
            )
            statuses.append(response.status_code)
            if response.status_code == 201:
                acknowledged.add(name)
            else:
                assert response.status_code == 503, response.text
                assert response.json()["ok"] is False
                refused.add(name)

    watcher = PyClient(server.ws_url, list_id, server.tokens[list_id])
    await watcher.connect()
    await watcher.wait_synced()
    async with httpx.AsyncClient(timeout=30) as http:
        await asyncio.gather(*(writer(http, lambda: len(acknowledged) >= 20) for _ in range(4)))
        await asyncio.to_thread(fill, disk / "filler")
        await asyncio.wait_for(
            asyncio.gather(*(writer(http, lambda: len(refused) >= 3) for _ in range(4))), 60
        )
        # The watcher was told (1011) and never shown what did not commit.
        assert await watcher.wait_closed() == 1011
        watched = {i["name"] for i in schema.list_items(watcher.doc)}
        assert not watched & refused, watched & refused
        # Reads are still served, and show only what committed.
        listed = {i["name"] for i in server.get_list(list_id)["items"]}
        assert not listed & refused
        assert acknowledged <= listed
        # Room again: writes succeed by themselves, no restart.
        (disk / "filler").unlink()
        refused_before = len(refused)
        ok_before = len(acknowledged)
        await asyncio.wait_for(writer(http, lambda: len(acknowledged) >= ok_before + 5), 60)
        assert len(refused) - refused_before < 50
    server.kill()  # a crash after recovery: everything acknowledged is on disk
    server.start()
    listed = {i["name"] for i in server.get_list(list_id)["items"]}
    assert acknowledged <= listed, acknowledged - listed
    assert not listed & refused


async def test_presence_poisoning_cannot_lock_a_list(live_server: ServerProcess) -> None:
    """Issue 9.4: a view socket stored any number of awareness entries of any size; each
    joiner was then sent one snapshot over its 32 MB send buffer and closed with 1013."""
    list_id = live_server.create_list()
    fridge = view_token(live_server, list_id)
    observer = live_server.client(list_id)
    await observer.connect()
    await observer.wait_synced()
    hostile = await open_socket(live_server.sync_url(list_id, fridge))
    big = json.dumps({"pad": "p" * 1_900_000})
    for client_id in range(20):  # 20 states of 1.9 MB: 38 MB of presence
        await hostile.send(encode_awareness(encode_awareness_update([(client_id, 1, big)])))
    many = [(1000 + n, 1, '{"user":{"name":"bot"}}') for n in range(2000)]
    await hostile.send(encode_awareness(encode_awareness_update(many[:7])))
    await hostile.send(encode_awareness(encode_awareness_update(many[7:])))
    await hostile.send(awareness_of(1000, '{"user":{"name":"last"}}', clock=2))

    def seen_last() -> bool:  # the observer saw the last frame: the ones before it were handled
        return any(
            "last" in text
            for f in observer.frames
            if f[0] == 1
            for _, _, text in decode_awareness(read_payload(f))
        )

    await wait_for(lambda: seen_last() or observer.close_code is not None, 30, "flood handled")
    async with live_server.client(list_id) as honest:
        await honest.wait_synced()
        schema.add_item(honest.doc, schema.new_item("bread", order="a0"), "bread")
        await wait_for(lambda: live_server.get_list(list_id)["items"], what="bread stored")
        assert honest.close_code is None
        entries = [e for f in honest.frames if f[0] == 1 for e in decode_awareness(read_payload(f))]
        assert 0 < len(entries) <= 8
    await hostile.close()
    await observer.close()


def awareness_of(client_id: int, state: str, clock: int = 1) -> bytes:
    return encode_awareness(encode_awareness_update([(client_id, clock, state)]))


def read_payload(frame: bytes) -> bytes:
    payload, _ = read_var_bytes(frame, 1)
    return payload
