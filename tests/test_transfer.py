"""Export and import: JSON is lossless; text and Markdown are one item per line."""

from __future__ import annotations

from typing import Any

from tests.support import ServerProcess


def fill(server: ServerProcess, list_id: str) -> None:
    items = [
        {"name": "молоко", "qty": 2, "unit": "l", "note": "3.2%", "category": "dairy"},
        {"name": "eggs", "qty": 10, "unit": "pcs"},
        {"name": "хлеб"},
    ]
    response = server.api("POST", "/items/bulk", list_id, json={"items": items})
    assert response.status_code == 201
    eggs = response.json()["items"][1]
    server.api("PATCH", f"/items/{eggs['id']}", list_id, json={"checked": True})


def test_json_export_round_trips(live_server: ServerProcess) -> None:
    source = live_server.create_list("Дача")
    fill(live_server, source)
    exported = live_server.api("GET", "/export", source).json()
    assert exported["format"] == "listok.list/v1" and exported["title"] == "Дача"
    target = live_server.create_list("copy")
    response = live_server.api("POST", "/import", target, json=exported)
    assert response.status_code == 201 and len(response.json()["items"]) == 3
    again = live_server.api("GET", "/export", target).json()
    assert again["items"] == exported["items"]  # ids, order keys, checks, times: all kept
    # Importing the same export into a list that has the items adds copies with new ids.
    live_server.api("POST", "/import", target, json=exported)
    twice = live_server.get_list(target)["items"]
    assert len(twice) == 6 and len({i["id"] for i in twice}) == 6


def test_text_and_markdown_round_trip(live_server: ServerProcess) -> None:
    source = live_server.create_list("Week")
    fill(live_server, source)
    text = live_server.api("GET", "/export?format=text", source)
    assert text.headers["content-type"].startswith("text/plain")
    assert text.text.splitlines() == ["молоко 2 l — 3.2%", "✓ eggs 10 pcs", "хлеб"]
    markdown = live_server.api("GET", "/export?format=markdown", source).text
    assert markdown.splitlines()[0] == "# Week"
    assert "- [x] eggs 10 pcs" in markdown.splitlines()
    for body in (text.text, markdown):
        target = live_server.create_list()
        response = live_server.api(
            "POST", "/import", target, content=body.encode(), headers={"Content-Type": "text/plain"}
        )
        assert response.status_code == 201, response.text
        got = [
            (i["name"], i["qty"], i["unit"], i["note"], i["checked"])
            for i in live_server.get_list(target)["items"]
        ]
        assert got == [
            ("молоко", 2, "l", "3.2%", False),
            ("eggs", 10, "pcs", "", True),
            ("хлеб", None, None, "", False),
        ]


def test_pasted_text_is_parsed(live_server: ServerProcess) -> None:
    list_id = live_server.create_list()
    pasted = "полкило гречки\n\n* десяток яиц\n1. сыр 300 г\n- [ ] 1.5 l Coke\n"
    response = live_server.api("POST", "/import", list_id, content=pasted.encode("utf-8"))
    assert response.status_code == 201
    got = [(i["name"], i["qty"], i["unit"]) for i in response.json()["items"]]
    assert got == [
        ("гречка", 0.5, "kg"),
        ("яйца", 10, "pcs"),
        ("сыр", 300, "g"),
        ("Coke", 1.5, "l"),
    ]


def test_bad_imports_change_nothing(live_server: ServerProcess) -> None:
    list_id = live_server.create_list()
    cases: list[tuple[dict[str, Any], int]] = [
        ({"content": b"{broken", "headers": {"Content-Type": "application/json"}}, 400),
        ({"json": {"format": "other", "items": []}}, 422),
        ({"json": {"format": "listok.list/v1", "items": [{"name": ""}]}}, 422),
        ({"json": {"format": "listok.list/v1", "items": [{"name": "a", "qty": "x"}]}}, 422),
        ({"content": b"\n\n# only a heading\n"}, 422),
        ({"content": b"\xff\xfe"}, 400),
    ]
    for kwargs, status in cases:
        response = live_server.api("POST", "/import", list_id, **kwargs)
        assert response.status_code == status, (kwargs, response.text)
    assert live_server.get_list(list_id)["items"] == []
    assert live_server.api("GET", "/export?format=pdf", list_id).status_code == 422
