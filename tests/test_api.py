"""Lists and items over JSON, against a live server."""

from __future__ import annotations

import secrets
import uuid

import httpx
import pytest

from server import schema
from tests.support import ServerFactory, ServerProcess, wait_for


def test_healthz(live_server: ServerProcess) -> None:
    response = httpx.get(f"{live_server.url}/healthz")
    assert response.status_code == 200
    assert response.json() == {"ok": True}


def test_create_and_read_list(live_server: ServerProcess) -> None:
    response = httpx.post(f"{live_server.url}/api/lists", json={"title": "Дача"})
    assert response.status_code == 201
    body = response.json()
    assert body["title"] == "Дача" and body["role"] == "owner"
    assert uuid.UUID(body["id"]).version == 4
    assert len(body["token"]) >= 43  # 256 random bits, url-safe base64
    got = live_server.get_list(body["id"], token=body["token"])
    assert (got["id"], got["title"], got["items"], got["role"]) == (body["id"], "Дача", [], "owner")
    assert isinstance(got["created_at"], int)
    query = httpx.get(f"{live_server.url}/api/lists/{body['id']}?token={body['token']}")
    assert query.status_code == 200


def test_put_list_is_idempotent_with_its_token(live_server: ServerProcess) -> None:
    list_id = str(uuid.uuid4())
    token = secrets.token_urlsafe(32)
    first = httpx.put(
        f"{live_server.url}/api/lists/{list_id}", json={"title": "Offline", "token": token}
    )
    assert first.status_code == 201 and first.json()["token"] == token
    again = httpx.put(
        f"{live_server.url}/api/lists/{list_id}", json={"title": "Other", "token": token}
    )
    assert again.status_code == 200
    assert again.json()["title"] == "Offline"
    stranger = httpx.put(f"{live_server.url}/api/lists/{list_id}", json={"title": "Mine"})
    assert stranger.status_code == 409
    assert live_server.get_list(list_id, token=token)["title"] == "Offline"


def test_tokens_are_required_and_checked(live_server: ServerProcess) -> None:
    list_id = live_server.create_list()
    other = live_server.create_list()
    url = f"{live_server.url}/api/lists/{list_id}"
    assert httpx.get(url).status_code == 401
    assert httpx.get(url, headers={"Authorization": "Bearer nope"}).status_code == 401
    wrong = httpx.get(url, headers=live_server.auth(other))
    assert wrong.status_code == 401 and wrong.json()["ok"] is False


def test_errors_are_json(live_server: ServerProcess) -> None:
    list_id = live_server.create_list()
    response = httpx.get(
        live_server.url + "/api/lists/not-a-uuid", headers=live_server.auth(list_id)
    )
    assert response.status_code == 404
    assert response.json() == {"ok": False, "error": "no such list", "status": 404}
    # Another list's token on an unknown id: the credential is checked first (no oracle).
    response = httpx.get(
        f"{live_server.url}/api/lists/{uuid.uuid4()}", headers=live_server.auth(list_id)
    )
    assert response.json() == {"ok": False, "error": "invalid token", "status": 401}
    bad = httpx.post(f"{live_server.url}/api/lists", content=b"{nope")
    assert bad.status_code == 400 and bad.json()["ok"] is False
    assert httpx.post(f"{live_server.url}/api/lists", json={"title": 5}).status_code == 422
    assert httpx.post(f"{live_server.url}/api/lists", json={"title": "x" * 201}).status_code == 422
    assert httpx.post(f"{live_server.url}/api/lists", json={"color": "red"}).status_code == 422
    assert httpx.put(f"{live_server.url}/api/lists/{uuid.uuid4()}", json=[1]).status_code == 400
    big = httpx.post(f"{live_server.url}/api/lists", content=b" " * (1 << 20 + 1))
    assert big.status_code == 413
    assert httpx.get(f"{live_server.url}/nowhere/at/all").status_code == 404


def test_item_lifecycle(live_server: ServerProcess) -> None:
    list_id = live_server.create_list()
    api = live_server.api
    milk = api("POST", "/items", list_id, json={"name": "молоко", "qty": 2, "unit": "l"}).json()
    assert milk["name"] == "молоко" and milk["qty"] == 2 and milk["unit"] == "l"
    assert milk["checked"] is False and milk["created_by"] == ""  # unnamed
    bread = api(
        "POST",
        "/items",
        list_id,
        json={"name": "bread"},
        headers={"X-Listok-Name": "%D0%90%D0%BD%D1%8F"},
    ).json()
    assert bread["created_by"] == "Аня"
    first = api("POST", "/items", list_id, json={"name": "eggs", "before": milk["id"]}).json()
    names = [i["name"] for i in api("GET", "/items", list_id).json()["items"]]
    assert names == ["eggs", "молоко", "bread"]

    checked = api("PATCH", f"/items/{milk['id']}", list_id, json={"checked": True, "note": "3.2%"})
    assert checked.status_code == 200
    assert checked.json()["checked"] is True and isinstance(checked.json()["checked_at"], int)
    assert checked.json()["note"] == "3.2%"
    unchecked = api("PATCH", f"/items/{milk['id']}", list_id, json={"checked": False}).json()
    assert unchecked["checked_at"] is None

    moved = api("POST", f"/items/{first['id']}/move", list_id, json={"after": bread["id"]})
    assert moved.status_code == 200
    names = [i["name"] for i in api("GET", "/items", list_id).json()["items"]]
    assert names == ["молоко", "bread", "eggs"]

    assert api("DELETE", f"/items/{bread['id']}", list_id).status_code == 204
    assert api("GET", f"/items/{bread['id']}", list_id).status_code == 404
    assert api("GET", f"/items/{milk['id']}", list_id).json()["note"] == "3.2%"


def test_free_text_is_parsed(live_server: ServerProcess) -> None:
    list_id = live_server.create_list()
    item = live_server.api("POST", "/items", list_id, json={"text": "молоко 2 л"}).json()
    assert (item["name"], item["qty"], item["unit"]) == ("молоко", 2, "l")
    item = live_server.api("POST", "/items", list_id, json={"text": "2 kg potatoes"}).json()
    assert (item["name"], item["qty"], item["unit"]) == ("potatoes", 2, "kg")


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({}, 422),
        ({"name": ""}, 422),
        ({"name": "x" * 201}, 422),
        ({"name": "a", "qty": "two"}, 422),
        ({"name": "a", "qty": -1}, 422),
        ({"name": "a", "qty": True}, 422),
        ({"name": "a", "category": "toys"}, 422),
        ({"name": "a", "colour": "red"}, 422),
        ({"name": "a", "text": "b"}, 422),
        ({"name": "a", "before": "missing"}, 409),
    ],
)
def test_item_validation(live_server: ServerProcess, body: dict[str, object], status: int) -> None:
    list_id = live_server.create_list()
    response = live_server.api("POST", "/items", list_id, json=body)
    assert response.status_code == status, response.text
    assert response.json()["ok"] is False
    assert live_server.get_list(list_id)["items"] == []


def test_bulk_add_is_all_or_nothing(live_server: ServerProcess) -> None:
    list_id = live_server.create_list()
    bad = live_server.api(
        "POST", "/items/bulk", list_id, json={"items": [{"name": "ok"}, {"name": ""}]}
    )
    assert bad.status_code == 422
    assert live_server.get_list(list_id)["items"] == []
    good = live_server.api(
        "POST", "/items/bulk", list_id, json={"items": [{"name": "a"}, {"text": "3 банки тушёнки"}]}
    )
    assert good.status_code == 201
    assert [i["name"] for i in live_server.get_list(list_id)["items"]] == ["a", "тушёнка"]


def test_item_quota(server_factory: ServerFactory) -> None:
    server = server_factory({"LISTOK_MAX_ITEMS": "3"})
    list_id = server.create_list()
    ok = server.api("POST", "/items/bulk", list_id, json={"items": [{"name": "a"}, {"name": "b"}]})
    assert ok.status_code == 201
    over = server.api(
        "POST", "/items/bulk", list_id, json={"items": [{"name": "c"}, {"name": "d"}]}
    )
    assert over.status_code == 413
    assert len(server.get_list(list_id)["items"]) == 2


def test_rename_and_delete_list(live_server: ServerProcess) -> None:
    list_id = live_server.create_list("Old")
    renamed = live_server.api("PATCH", "", list_id, json={"title": "New"})
    assert renamed.status_code == 200 and renamed.json()["title"] == "New"
    assert live_server.api("DELETE", "", list_id).status_code == 204
    # Its tokens find nothing now: the same answer as any unknown token.
    assert live_server.api("GET", "", list_id).status_code == 401


async def test_api_write_reaches_a_live_client(live_server: ServerProcess) -> None:
    list_id = live_server.create_list()
    async with live_server.client(list_id) as client:
        await client.wait_synced()
        live_server.api("POST", "/items", list_id, json={"name": "cheese"})
        await wait_for(lambda: [i["name"] for i in schema.list_items(client.doc)] == ["cheese"])
