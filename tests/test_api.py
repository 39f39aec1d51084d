from __future__ import annotations

import uuid

import httpx

from tests.support import ServerProcess


def test_healthz(live_server: ServerProcess) -> None:
    response = httpx.get(f"{live_server.url}/healthz")
    assert response.status_code == 200
    assert response.json() == {"ok": True}


def test_create_and_read_list(live_server: ServerProcess) -> None:
    response = httpx.post(f"{live_server.url}/api/lists", json={"title": "Дача"})
    assert response.status_code == 201
    body = response.json()
    assert body["title"] == "Дача"
    assert uuid.UUID(body["id"]).version == 4
    got = live_server.get_list(body["id"])
    assert got["id"] == body["id"]
    assert got["title"] == "Дача"
    assert got["items"] == []
    assert isinstance(got["created_at"], int)


def test_put_list_is_idempotent(live_server: ServerProcess) -> None:
    list_id = str(uuid.uuid4())
    first = httpx.put(f"{live_server.url}/api/lists/{list_id}", json={"title": "Offline"})
    assert first.status_code == 201
    again = httpx.put(f"{live_server.url}/api/lists/{list_id}", json={"title": "Other"})
    assert again.status_code == 200
    assert again.json()["title"] == "Offline"
    assert live_server.get_list(list_id)["title"] == "Offline"


def test_errors_are_json(live_server: ServerProcess) -> None:
    for path in ("/api/lists/not-a-uuid", f"/api/lists/{uuid.uuid4()}"):
        response = httpx.get(live_server.url + path)
        assert response.status_code == 404
        assert response.json() == {"ok": False, "error": "no such list", "status": 404}
    bad = httpx.post(f"{live_server.url}/api/lists", content=b"{nope")
    assert bad.status_code == 400 and bad.json()["ok"] is False
    wrong = httpx.post(f"{live_server.url}/api/lists", json={"title": 5})
    assert wrong.status_code == 422
    long_title = httpx.post(f"{live_server.url}/api/lists", json={"title": "x" * 201})
    assert long_title.status_code == 422
    not_object = httpx.put(f"{live_server.url}/api/lists/{uuid.uuid4()}", json=[1])
    assert not_object.status_code == 400
