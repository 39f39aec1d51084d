"""Typed change events over SSE, and the activity feed, whatever the source of the change."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx

from server import schema
from tests.support import NodeClient, ServerProcess, wait_for


class EventStream:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.ids: list[int] = []


@asynccontextmanager
async def event_stream(
    server: ServerProcess, list_id: str, last_id: int | None = None, after: int | None = None
) -> AsyncIterator[EventStream]:
    headers = server.auth(list_id)
    if last_id is not None:
        headers["Last-Event-ID"] = str(last_id)
    params = {"after": str(after)} if after is not None else {}
    stream = EventStream()
    url = f"{server.url}/api/lists/{list_id}/events"
    async with (
        httpx.AsyncClient(timeout=None) as http,
        http.stream("GET", url, headers=headers, params=params) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")

        async def read() -> None:
            event: dict[str, str] = {}
            async for line in response.aiter_lines():
                if line == "":
                    if "data" in event:
                        data = json.loads(event["data"])
                        assert data["type"] == event["event"]
                        assert data["id"] == int(event["id"])
                        stream.events.append(data)
                        stream.ids.append(int(event["id"]))
                    event = {}
                elif not line.startswith(":"):
                    key, _, value = line.partition(": ")
                    event[key] = value

        reader = asyncio.create_task(read())
        await asyncio.sleep(0)
        try:
            yield stream
        finally:
            reader.cancel()


def types(stream: EventStream) -> list[str]:
    """The event types people caused (the server filing items in aisles is checked apart)."""
    return [e["type"] for e in people(stream)]


def people(stream: EventStream) -> list[dict[str, Any]]:
    return [e for e in stream.events if e["actor"] != "listok"]


async def test_socket_changes_become_typed_events(
    live_server: ServerProcess, node_clients: Callable[[], Any]
) -> None:
    list_id = live_server.create_list()
    node: NodeClient = await node_clients()
    await node.connect(live_server, list_id, name="Аня")
    await node.wait_synced()
    async with event_stream(live_server, list_id) as stream:
        await node.call("add_item", itemId="m", fields=schema.new_item("молоко", order="a0"))

        async def filed_by_the_server() -> bool:
            category: str | None = (await node.state())["items"]["m"]["category"]
            return category == "dairy"

        await wait_for(filed_by_the_server, what="the server fills in the category")
        await node.call("set_field", itemId="m", field="qty", value=2)
        await node.call("set_field", itemId="m", field="checked", value=True)
        await node.call("set_meta", key="title", value="Дача")
        await node.call("delete_item", itemId="m")
        expected = ["item.added", "item.updated", "item.checked", "list.updated", "item.removed"]
        await wait_for(lambda: types(stream) == expected, what=f"events {expected}")
    added, updated, checked, renamed, removed = people(stream)
    # The item came without a category, so the server filed it (dairy) in a change of its own.
    filed = [e for e in stream.events if e["actor"] == "listok"]
    assert [(e["type"], e["changes"]) for e in filed] == [("item.updated", {"category": "dairy"})]
    assert all(e["actor"] == "Аня" for e in people(stream))
    assert added["item"]["name"] == "молоко" and added["item_id"] == "m"
    assert updated["changes"] == {"qty": 2} and updated["name"] == "молоко"
    assert checked["checked"] is True
    assert renamed["changes"] == {"title": "Дача"}
    assert removed == {**removed, "item_id": "m", "name": "молоко"}
    assert stream.ids == sorted(stream.ids)


async def test_api_changes_and_resume_with_last_event_id(live_server: ServerProcess) -> None:
    list_id = live_server.create_list()
    api = live_server.api
    async with event_stream(live_server, list_id) as stream:
        item = api(
            "POST", "/items", list_id, json={"name": "bread"}, headers={"X-Listok-Name": "Bob"}
        ).json()
        api("PATCH", f"/items/{item['id']}", list_id, json={"checked": True})
        await wait_for(lambda: types(stream) == ["item.added", "item.checked"])
    assert [e["actor"] for e in stream.events] == ["Bob", ""]  # the owner token, unnamed
    last = stream.ids[-1]
    # While nobody listens, two more changes happen.
    api("POST", "/items", list_id, json={"name": "jam"})
    api("PATCH", "", list_id, json={"title": "Weekend"})
    async with event_stream(live_server, list_id, last_id=last) as resumed:
        await wait_for(lambda: types(resumed) == ["item.added", "list.updated"])
        api("DELETE", f"/items/{item['id']}", list_id)
        await wait_for(lambda: types(resumed)[-1:] == ["item.removed"])
    assert resumed.ids[0] > last and people(resumed)[0]["name"] == "jam"
    async with event_stream(live_server, list_id, after=0) as replay:
        await wait_for(lambda: len(replay.events) == 5)


async def test_offline_edits_make_events_when_they_merge(
    live_server: ServerProcess, node_clients: Callable[[], Any]
) -> None:
    list_id = live_server.create_list()
    node: NodeClient = await node_clients()
    await node.connect(live_server, list_id, name="Оля")
    await node.wait_synced()
    await node.call("disconnect")
    await node.call("add_item", itemId="o", fields=schema.new_item("гречка", order="a0"))
    async with event_stream(live_server, list_id) as stream:
        await node.call("reconnect")
        await wait_for(lambda: types(stream) == ["item.added"], what="event after the merge")
    assert people(stream)[0]["name"] == "гречка"


async def test_activity_feed(live_server: ServerProcess) -> None:
    list_id = live_server.create_list()
    api = live_server.api
    name = {"X-Listok-Name": "%D0%90%D0%BD%D1%8F"}  # Аня
    item = api("POST", "/items", list_id, json={"name": "молоко"}, headers=name).json()
    api("PATCH", f"/items/{item['id']}", list_id, json={"checked": True}, headers=name)
    ru = api("GET", "/activity?lang=ru", list_id).json()["activity"]
    assert [a["summary"] for a in ru] == ["Аня купил(а) молоко", "Аня добавил(а) молоко"]
    en = api("GET", "/activity", list_id, headers={"Accept-Language": "en-GB"}).json()
    assert en["activity"][1]["summary"] == "Аня added молоко"
    assert en["activity"][0]["at"] >= en["activity"][1]["at"]
    assert api("GET", "/activity?limit=0", list_id).status_code == 422
    assert api("GET", "/activity?lang=de", list_id).status_code == 422


async def test_unnamed_people_are_someone_or_their_links_label(
    live_server: ServerProcess, node_clients: Callable[[], Any]
) -> None:
    """Issue 11 item 6: an unnamed person's changes never show their role ("edit")."""
    list_id = live_server.create_list()
    api = live_server.api
    plain = api("POST", "/shares", list_id, json={"role": "edit"}).json()["token"]
    labelled = api("POST", "/shares", list_id, json={"role": "edit", "label": "Бабушка"}).json()
    for token, item_id, name in [(plain, "m", "молоко"), (labelled["token"], "b", "хлеб")]:
        node: NodeClient = await node_clients()
        await node.connect(live_server, list_id, token=token)  # no presence name
        await node.wait_synced()
        await node.call("add_item", itemId=item_id, fields=schema.new_item(name, order=item_id))
        await node.call("set_field", itemId=item_id, field="checked", value=True)

    def feed(lang: str) -> list[str]:
        entries = api("GET", f"/activity?lang={lang}", list_id).json()["activity"]
        return [e["summary"] for e in reversed(entries)]

    await wait_for(lambda: len(feed("en")) == 4, what="four entries in the feed")
    assert feed("en") == [
        "Someone added молоко",
        "Someone checked молоко",
        "Бабушка added хлеб",
        "Бабушка checked хлеб",
    ]
    assert feed("ru") == [
        "Кто-то добавил молоко",
        "Кто-то купил молоко",
        "Бабушка добавил(а) хлеб",
        "Бабушка купил(а) хлеб",
    ]
    entries = api("GET", "/activity", list_id).json()["activity"]
    assert {e["actor"] for e in entries} == {"", "Бабушка"}
    # Through the HTTP API too: the owner token (its built-in label is a role word) is unnamed.
    api("PATCH", "", list_id, json={"title": "Дача"})
    await wait_for(lambda: feed("ru")[-1] == "Кто-то переименовал список в «Дача»")
    assert not any(word in s.split() for s in feed("en") for word in ("edit", "owner", "view"))


def test_old_events_with_a_role_for_actor_read_someone() -> None:
    """Events recorded before names and labels were used carry the role: not shown as a person."""
    from server.events import summary

    old = {"type": "item.checked", "actor": "edit", "checked": True, "name": "milk"}
    assert summary(old, "en") == "Someone checked milk"
    assert summary({**old, "checked": False, "actor": "owner"}, "ru") == "Кто-то вернул milk"
    assert summary({**old, "actor": "Editha"}, "en") == "Editha checked milk"
