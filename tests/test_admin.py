"""The operator's API and page: admin token only, every list, delete/restore, compaction, jobs."""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import websockets

from server import schema
from tests.support import ROOT, ServerProcess, wait_for

ADMIN = "operator-secret-" + "x" * 40


def admin(server: ServerProcess, method: str, path: str, token: str = ADMIN, **kw: Any) -> Any:
    return httpx.request(
        method,
        f"{server.url}/api/admin{path}",
        headers={"Authorization": f"Bearer {token}"} if token else {},
        **kw,
    )


@pytest.fixture
def server(server_factory: Callable[..., ServerProcess]) -> ServerProcess:
    return server_factory({"LISTOK_ADMIN_TOKEN": ADMIN})


def test_only_the_admin_token_opens_the_admin_api(server: ServerProcess) -> None:
    list_id = server.create_list("Mine")
    owner = server.tokens[list_id]
    paths = [
        ("GET", "/lists"),
        ("GET", "/state"),
        ("GET", "/jobs"),
        ("POST", "/compact"),
        ("POST", "/purge"),
        ("DELETE", f"/lists/{list_id}"),
        ("POST", f"/lists/{list_id}/restore"),
        ("POST", f"/lists/{list_id}/compact"),
    ]
    for method, path in paths:
        for token in ("", "wrong", ADMIN + "x", ADMIN[:-1], owner):
            response = admin(server, method, path, token=token)
            assert response.status_code == 401, (method, path, token)
            body = response.json()
            assert body["ok"] is False and body["status"] == 401
        # The token goes in the header only: a query parameter is not enough.
        response = httpx.request(method, f"{server.url}/api/admin{path}?token={ADMIN}")
        assert response.status_code == 401
    # Nothing happened to the list.
    assert server.get_list(list_id)["title"] == "Mine"
    assert admin(server, "GET", "/lists").status_code == 200


def test_admin_is_off_without_a_token(live_server: ServerProcess) -> None:
    live_server.create_list()
    response = httpx.get(
        f"{live_server.url}/api/admin/lists", headers={"Authorization": "Bearer anything"}
    )
    assert response.status_code == 401
    assert "LISTOK_ADMIN_TOKEN" in response.json()["error"]


def test_every_list_with_sizes_shares_and_paging(server: ServerProcess) -> None:
    ids = [server.create_list(f"list {n}") for n in range(7)]
    server.api("POST", "/items/bulk", ids[0], json={"items": [{"name": "tea"}, {"name": "jam"}]})
    server.api("POST", "/shares", ids[0], json={"role": "view", "label": "fridge"})
    server.api("POST", "/shares", ids[0], json={"role": "edit"})
    server.api("POST", "/shares", ids[0], json={"role": "edit"})

    first = admin(server, "GET", "/lists", params={"limit": 3}).json()
    assert first["total"] == 7 and first["offset"] == 0 and len(first["lists"]) == 3
    second = admin(server, "GET", "/lists", params={"limit": 3, "offset": 3}).json()
    last = admin(server, "GET", "/lists", params={"limit": 3, "offset": 6}).json()
    seen = [row["id"] for page in (first, second, last) for row in page["lists"]]
    assert seen == list(reversed(ids))  # newest first, each list exactly once

    (row,) = [r for r in last["lists"] if r["id"] == ids[0]]
    assert row["title"] == "list 0" and row["items"] == 2
    assert row["shares"] == {"owner": 1, "edit": 2, "view": 1}
    assert row["document_bytes"] > 0 and row["history_bytes"] >= row["document_bytes"] // 2
    assert row["deleted_at"] is None and row["last_change"] >= row["created_at"]

    found = admin(server, "GET", "/lists", params={"q": "LIST 3"}).json()
    assert [r["id"] for r in found["lists"]] == [ids[3]] and found["total"] == 1
    by_id = admin(server, "GET", "/lists", params={"q": ids[5][:8]}).json()
    assert [r["id"] for r in by_id["lists"]] == [ids[5]]

    for bad in ({"limit": 0}, {"limit": 1000}, {"offset": -1}, {"limit": "x"}, {"state": "x"}):
        response = admin(server, "GET", "/lists", params=bad)
        assert response.status_code == 422, bad
        assert response.json()["ok"] is False


async def test_open_sockets_are_counted(server: ServerProcess) -> None:
    list_id = server.create_list("Live")
    async with server.client(list_id) as one, server.client(list_id) as two:
        await one.wait_synced()
        await two.wait_synced()
        rows = admin(server, "GET", "/lists").json()["lists"]
        assert rows[0]["id"] == list_id and rows[0]["sockets"] == 2 and rows[0]["in_memory"]
        state = admin(server, "GET", "/state").json()
        assert state["connections"] == 2 and state["lists_in_memory"] >= 1
        assert state["model"]["model"] in ("off", "absent")  # LISTOK_MODEL=off in tests
        assert state["commits"] >= 1 and state["commit_ms"]["p50"] is not None


async def test_delete_then_restore_brings_the_list_back_with_its_shares(
    server: ServerProcess,
) -> None:
    list_id = server.create_list("Party")
    keep = server.create_list("Other")
    server.api("POST", "/items", list_id, json={"name": "cake"})
    view = server.api("POST", "/shares", list_id, json={"role": "view"}).json()
    owner = server.tokens[list_id]

    async with server.client(list_id) as client:
        await client.wait_synced()
        assert admin(server, "DELETE", f"/lists/{list_id}").status_code == 200
        assert await client.wait_closed() == 4404

    # Gone for everyone: its owner and its share link, the API and the socket.
    assert server.api("GET", "", list_id).status_code == 401
    assert server.api("GET", "", list_id, token=view["token"]).status_code == 401
    async with websockets.connect(server.sync_url(list_id)) as ws:
        with pytest.raises(websockets.ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 10)
        assert ws.close_code == 4401  # a new socket: same answer as a bad token
    # A deleted id is not re-created, by its old owner or view token or a fresh one.
    for token in (owner, view["token"], secrets.token_urlsafe(32)):
        response = httpx.put(
            f"{server.url}/api/lists/{list_id}",
            json={"title": "taken over", "token": token},
        )
        assert response.status_code == 409, (token, response.text)
    live = admin(server, "GET", "/lists").json()
    assert [r["id"] for r in live["lists"]] == [keep]
    deleted = admin(server, "GET", "/lists", params={"state": "deleted"}).json()
    assert [r["id"] for r in deleted["lists"]] == [list_id]
    assert deleted["lists"][0]["title"] == "Party" and deleted["lists"][0]["deleted_at"]
    assert admin(server, "DELETE", f"/lists/{list_id}").status_code == 404

    assert admin(server, "POST", f"/lists/{list_id}/restore").status_code == 200
    assert admin(server, "POST", f"/lists/{list_id}/restore").status_code == 404
    restored = server.get_list(list_id)
    assert restored["title"] == "Party" and [i["name"] for i in restored["items"]] == ["cake"]
    assert server.get_list(list_id, token=view["token"])["role"] == "view"
    shares = server.api("GET", "/shares", list_id).json()["shares"]
    assert sorted(s["role"] for s in shares) == ["owner", "view"]
    async with server.client(list_id, token=view["token"]) as client:
        await client.wait_synced()
        assert [i["name"] for i in schema.list_items(client.doc)] == ["cake"]

    # Its owner deletes it (soft as well); the operator can bring it back again.
    assert server.api("DELETE", "", list_id).status_code == 204
    assert server.api("GET", "", list_id).status_code == 401
    assert admin(server, "POST", f"/lists/{list_id}/restore").status_code == 200
    assert server.get_list(list_id)["items"][0]["name"] == "cake"


async def test_owner_delete_is_soft_and_purged_after_the_window(
    server_factory: Callable[..., ServerProcess],
) -> None:
    # A window of 2.6 s, and the server's own purge task every 0.2 s.
    env = {
        "LISTOK_ADMIN_TOKEN": ADMIN,
        "LISTOK_DELETED_RETENTION_DAYS": "0.00003",
        "LISTOK_PURGE_INTERVAL_SECONDS": "0.2",
    }
    server = server_factory(env)
    list_id = server.create_list("Short-lived")
    assert server.api("DELETE", "", list_id).status_code == 204
    deleted = admin(server, "GET", "/lists", params={"state": "deleted"}).json()
    assert [r["id"] for r in deleted["lists"]] == [list_id]

    def purged() -> bool:
        return admin(server, "GET", "/lists", params={"state": "all"}).json()["total"] == 0

    await wait_for(purged, 15, "the deleted list purged by the server")
    assert admin(server, "POST", "/purge").json() == {"ok": True, "purged": 0}
    assert admin(server, "POST", f"/lists/{list_id}/restore").status_code == 404
    put = httpx.put(f"{server.url}/api/lists/{list_id}", json={"token": server.tokens[list_id]})
    assert put.status_code == 409
    assert "purged 1 list(s)" in server.log()


def test_no_restore_past_the_window(server_factory: Callable[..., ServerProcess]) -> None:
    env = {
        "LISTOK_ADMIN_TOKEN": ADMIN,
        "LISTOK_DELETED_RETENTION_DAYS": "0",  # every deleted list is past its window
        "LISTOK_PURGE_INTERVAL_SECONDS": "3600",  # the purge runs at start only: not on this one
    }
    server = server_factory(env)
    list_id = server.create_list("Too late")
    assert server.api("DELETE", "", list_id).status_code == 204
    response = admin(server, "POST", f"/lists/{list_id}/restore")
    assert response.status_code == 410 and response.json()["ok"] is False
    assert server.api("GET", "", list_id).status_code == 401


async def test_compaction_on_demand_and_as_a_job(server: ServerProcess) -> None:
    ids = [server.create_list(f"c{n}") for n in range(3)]
    for list_id in ids:
        for n in range(5):
            server.api("POST", "/items", list_id, json={"name": f"item {n}"})
    before = {r["id"]: r for r in admin(server, "GET", "/lists").json()["lists"]}
    assert all(before[i]["updates"] >= 6 for i in ids)

    response = admin(server, "POST", f"/lists/{ids[0]}/compact")
    assert response.status_code == 200
    row = {r["id"]: r for r in admin(server, "GET", "/lists").json()["lists"]}[ids[0]]
    assert row["updates"] == 0 and row["items"] == 5

    job = admin(server, "POST", "/compact").json()["job"]
    assert job["kind"] == "compact" and job["total"] == 3

    def finished() -> dict[str, Any] | None:
        jobs = admin(server, "GET", "/jobs").json()["jobs"]
        mine = [j for j in jobs if j["id"] == job["id"]]
        return mine[0] if mine and mine[0]["state"] != "running" else None

    done = await wait_for(finished, 20, "the compaction job")
    assert done["state"] == "done" and done["done"] == 3
    rows = admin(server, "GET", "/lists").json()["lists"]
    assert all(r["updates"] == 0 and r["items"] == 5 for r in rows)
    assert [i["name"] for i in server.get_list(ids[2])["items"]] == [f"item {n}" for n in range(5)]


def test_admin_token_made_by_the_cli_is_stored_hashed(
    server_factory: Callable[..., ServerProcess], tmp_path: Any
) -> None:
    data = tmp_path / "data"
    made = subprocess.run(
        [sys.executable, "-m", "server.cli", "admin", "token", "--data-dir", str(data)],
        cwd=ROOT,
        env={**os.environ, "LISTOK_MODEL": "off"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip().splitlines()[-1]
    stored = (data / "admin-token.sha256").read_text()
    assert token not in stored and len(stored.strip()) == 64
    assert (data / "admin-token.sha256").stat().st_mode & 0o077 == 0
    server = server_factory(name="data")
    assert admin(server, "GET", "/lists", token=token).status_code == 200
    assert admin(server, "GET", "/lists", token=token[:-1]).status_code == 401


CSP = "default-src 'self'; script-src 'self'; style-src 'self'; frame-ancestors 'none'"


@pytest.mark.browser
def test_admin_page_in_chromium(server: ServerProcess, tmp_path: Any) -> None:
    """The page under a strict CSP (no inline script or style), in both languages."""
    from playwright.sync_api import expect, sync_playwright

    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS

    keep = server.create_list("Weekly shop")
    server.api("POST", "/items/bulk", keep, json={"items": [{"name": "milk"}, {"name": "tea"}]})
    server.api("POST", "/shares", keep, json={"role": "view"})
    doomed = server.create_list("Birthday <b>party</b>")
    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-US")
        page = context.new_page()
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda exc: problems.append(str(exc)))

        def with_csp(route: Any) -> None:
            response = route.fetch()
            headers = {**response.headers, "content-security-policy": CSP}
            route.fulfill(response=response, headers=headers)

        page.route("**/admin*", with_csp)
        page.goto(server.url + "/admin")
        page.get_by_label("Admin token").fill("wrong-token")
        page.get_by_role("button", name="Sign in").click()
        expect(page.locator("#error")).to_have_text("That token was not accepted.")
        # The browser logs the refused request itself; anything else is a problem.
        refused = "the server responded with a status of 401"
        assert [m for m in problems if refused in m], problems
        problems[:] = [m for m in problems if refused not in m]

        page.get_by_label("Admin token").fill(ADMIN)
        page.get_by_role("button", name="Sign in").click()
        rows = page.locator("#lists tbody tr")
        expect(rows).to_have_count(2)
        expect(page.locator("#login")).to_be_hidden()
        # A title is text, never markup.
        expect(rows.first.locator("td").first).to_have_text("Birthday <b>party</b>")
        row = page.locator(f'tr[data-id="{keep}"]')
        expect(row.locator("td").nth(2)).to_have_text("2")
        expect(row.locator("td").nth(7)).to_have_text("owner 1, view 1")
        expect(page.locator("#state")).to_contain_text("Connections")
        page.screenshot(path=str(tmp_path / "admin-en.png"), full_page=True)

        page.once("dialog", lambda dialog: dialog.accept())
        page.locator(f'tr[data-id="{doomed}"]').get_by_role("button", name="Delete").click()
        expect(rows).to_have_count(1)
        assert server.api("GET", "", doomed).status_code == 401

        page.locator("#which").select_option("deleted")
        expect(rows).to_have_count(1)
        page.get_by_role("button", name="Restore").click()
        expect(page.locator("#empty")).to_be_visible()
        assert server.get_list(doomed)["title"] == "Birthday <b>party</b>"

        page.locator("#which").select_option("live")
        expect(rows).to_have_count(2)
        history = page.locator(f'tr[data-id="{keep}"] td').nth(4)
        before = history.inner_text()
        page.get_by_role("button", name="Compact all lists").click()
        expect(page.locator("#jobs tbody tr").first).to_contain_text("done")
        expect(history).not_to_have_text(before)  # the table follows the finished job

        page.get_by_role("button", name="Русский").click()
        expect(page.locator("h1")).to_have_text("Листок: администрирование")
        expect(page.get_by_role("button", name="Сжать все списки")).to_be_visible()
        expect(rows).to_have_count(2)
        expect(page.locator("html")).to_have_attribute("lang", "ru")
        page.screenshot(path=str(tmp_path / "admin-ru.png"), full_page=True)
        context.close()
        browser.close()
    assert not problems, problems
