"""Share links with roles: view is read-only, revocation is immediate, tokens stay secret."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import websockets

from server import schema
from tests.support import NodeClient, ServerProcess, wait_for


def share(server: ServerProcess, list_id: str, role: str) -> dict[str, Any]:
    response = server.api("POST", "/shares", list_id, json={"role": role, "label": role})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    assert body["role"] == role and len(body["token"]) >= 43
    assert body["path"] == f"/l/{list_id}#token={body['token']}"
    return body


def test_roles_over_http(live_server: ServerProcess) -> None:
    list_id = live_server.create_list()
    item = live_server.api("POST", "/items", list_id, json={"name": "tea"}).json()
    edit, view = share(live_server, list_id, "edit"), share(live_server, list_id, "view")
    api = live_server.api

    assert api("GET", "", list_id, token=view["token"]).json()["role"] == "view"
    assert api("GET", "/export", list_id, token=view["token"]).status_code == 200
    for method, path, body in [
        ("POST", "/items", {"name": "x"}),
        ("PATCH", f"/items/{item['id']}", {"checked": True}),
        ("DELETE", f"/items/{item['id']}", None),
        ("PATCH", "", {"title": "mine"}),
        ("POST", "/import", None),
    ]:
        response = api(method, path, list_id, token=view["token"], json=body)
        assert response.status_code == 403, (method, path)
        assert response.json()["error"] == "this link is view-only"
    assert live_server.get_list(list_id)["items"][0]["checked"] is False

    assert (
        api("POST", "/items", list_id, token=edit["token"], json={"name": "x"}).status_code == 201
    )
    assert (
        api("POST", "/shares", list_id, token=edit["token"], json={"role": "edit"}).status_code
        == 403
    )
    assert api("GET", "/shares", list_id, token=edit["token"]).status_code == 403
    assert api("DELETE", "", list_id, token=edit["token"]).status_code == 403

    listed = api("GET", "/shares", list_id).json()["shares"]
    assert [s["role"] for s in listed] == ["owner", "edit", "view"]
    assert all("token" not in s for s in listed)
    bad_role = api("POST", "/shares", list_id, json={"role": "admin"})
    assert bad_role.status_code == 422


def test_owner_links_give_a_second_owner_device_and_can_be_revoked(
    live_server: ServerProcess,
) -> None:
    """An owner link (a household's second phone) may share and revoke; it can be revoked
    itself, but the list's first owner token never can."""
    list_id = live_server.create_list()
    api = live_server.api
    second = api("POST", "/shares", list_id, json={"role": "owner", "label": "Boris"}).json()
    assert second["role"] == "owner"
    assert api("GET", "/shares", list_id, token=second["token"]).status_code == 200
    view = api("POST", "/shares", list_id, token=second["token"], json={"role": "view"}).json()
    shares = api("GET", "/shares", list_id).json()["shares"]
    first = shares[0]
    assert [s["role"] for s in shares] == ["owner", "owner", "view"]
    assert (
        api("DELETE", f"/shares/{first['id']}", list_id, token=second["token"]).status_code == 404
    )
    assert api("DELETE", f"/shares/{view['id']}", list_id, token=second["token"]).status_code == 204
    assert api("DELETE", f"/shares/{second['id']}", list_id).status_code == 204
    assert api("GET", "/shares", list_id, token=second["token"]).status_code == 401


async def test_view_socket_cannot_change_the_list(
    live_server: ServerProcess, node_clients: Callable[[], Any]
) -> None:
    list_id = live_server.create_list()
    live_server.api("POST", "/items", list_id, json={"name": "salt"})
    view = share(live_server, list_id, "view")
    viewer: NodeClient = await node_clients()
    await viewer.connect(live_server, list_id, token=view["token"])
    await viewer.wait_synced()
    state = await viewer.state()
    (salt_id,) = state["items"]
    await viewer.call("add_item", itemId="sneaky", fields=schema.new_item("sneaky", order="b"))
    await viewer.call("set_field", itemId=salt_id, field="checked", value=True)

    async with live_server.client(list_id) as owner:
        await owner.wait_synced()
        # The viewer still receives live changes...
        live_server.api("POST", "/items", list_id, json={"name": "pepper"})

        async def viewer_sees_pepper() -> bool:
            items = (await viewer.state())["items"].values()
            return "pepper" in {i["name"] for i in items}

        await wait_for(viewer_sees_pepper, what="the viewer still gets updates")
        # ...but nothing it did reached the list or the other clients.
        names = {i["name"]: i for i in live_server.get_list(list_id)["items"]}
        assert set(names) == {"salt", "pepper"} and names["salt"]["checked"] is False
        assert "sneaky" not in schema.items(owner.doc)
    # And it was told, with an auth message (type 2, permission denied).
    raw = await websockets.connect(live_server.sync_url(list_id, view["token"]))
    update = schema.new_list_update("hijacked", 1)
    await raw.send(b"\x00\x02" + bytes([len(update)]) + update)

    async def denied() -> bool:
        frame = await asyncio.wait_for(raw.recv(), 5)
        return isinstance(frame, bytes) and frame[:2] == b"\x02\x00" and b"read-only" in frame

    await wait_for(denied, what="permission-denied message")
    await raw.close()
    assert live_server.get_list(list_id)["title"] == "Groceries"


async def test_revoking_a_link_closes_its_sockets_at_once(live_server: ServerProcess) -> None:
    list_id = live_server.create_list()
    edit = share(live_server, list_id, "edit")
    keep = share(live_server, list_id, "view")
    async with (
        live_server.client(list_id, edit["token"]) as doomed,
        live_server.client(list_id, keep["token"]) as kept,
    ):
        await doomed.wait_synced()
        await kept.wait_synced()
        started = time.monotonic()
        response = live_server.api("DELETE", f"/shares/{edit['id']}", list_id)
        assert response.status_code == 204
        code = await doomed.wait_closed(timeout=2)
        assert code == 4401 and time.monotonic() - started < 1.0
        assert kept.close_code is None
    assert live_server.api("GET", "", list_id, token=edit["token"]).status_code == 401
    async with websockets.connect(live_server.sync_url(list_id, edit["token"])) as ws:
        await asyncio.wait_for(ws.wait_closed(), 5)
        assert ws.close_code == 4401
    again = live_server.api("DELETE", f"/shares/{edit['id']}", list_id)
    assert again.status_code == 404


@pytest.mark.parametrize("token", [None, "short", "x" * 43])
async def test_sockets_need_a_valid_token(live_server: ServerProcess, token: str | None) -> None:
    list_id = live_server.create_list()
    url = f"{live_server.ws_url}/{list_id}" + (f"?token={token}" if token else "")
    async with websockets.connect(url) as ws:
        await asyncio.wait_for(ws.wait_closed(), 5)
        assert ws.close_code == 4401


async def test_tokens_never_reach_the_logs(live_server: ServerProcess) -> None:
    list_id = live_server.create_list()
    token = live_server.tokens[list_id]
    view = share(live_server, list_id, "view")
    httpx.get(f"{live_server.url}/api/lists/{list_id}?token={token}")
    httpx.get(f"{live_server.url}/api/lists/{list_id}?token=bad&token={view['token']}")
    async with live_server.client(list_id) as client:
        await client.wait_synced()
    live_server.stop()
    log = live_server.log()
    assert f"/api/lists/{list_id}" in log  # the access log is there...
    assert token not in log and view["token"] not in log  # ...without the tokens
    assert "token=REDACTED" in log


async def test_the_shares_say_when_each_link_was_last_used(live_server: ServerProcess) -> None:
    list_id = live_server.create_list()
    over_http, over_socket = (
        share(live_server, list_id, "edit"),
        share(live_server, list_id, "view"),
    )
    unused, later = share(live_server, list_id, "view"), share(live_server, list_id, "edit")

    def last_used() -> dict[str, int | None]:
        listed = live_server.api("GET", "/shares", list_id).json()["shares"]
        return {s["id"]: s["last_used_at"] for s in listed}

    assert all(last_used()[s["id"]] is None for s in (over_http, over_socket, unused, later))
    documented = httpx.get(f"{live_server.url}/api/openapi.json").json()["components"]["schemas"]
    assert "last_used_at" in documented["Share"]["properties"]
    before = schema.now_ms()
    assert live_server.api("GET", "", list_id, token=over_http["token"]).status_code == 200
    async with live_server.client(list_id, over_socket["token"]) as client:
        await client.wait_synced()
    await wait_for(
        lambda: None not in (last_used()[over_http["id"]], last_used()[over_socket["id"]]),
        what="the uses over HTTP and over the socket recorded",
    )
    used = last_used()
    assert before <= used[over_http["id"]] <= schema.now_ms()  # type: ignore[operator]
    assert before <= used[over_socket["id"]] <= schema.now_ms()  # type: ignore[operator]
    assert used[unused["id"]] is None

    # Throttled: a use within the minute is not written. The writes go in order through one
    # writer, so once a later link's first use shows, a write of the second use would too.
    assert live_server.api("GET", "/items", list_id, token=over_http["token"]).status_code == 200
    assert live_server.api("GET", "", list_id, token=later["token"]).status_code == 200
    await wait_for(lambda: last_used()[later["id"]] is not None, what="the later use recorded")
    assert last_used()[over_http["id"]] == used[over_http["id"]]
    assert last_used()[unused["id"]] is None
