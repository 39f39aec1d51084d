"""Several `listok serve` processes on one PostgreSQL database and one Redis, real clients.

Stock yjs + y-websocket clients (tests/node) are spread over two or three processes; every
guarantee of one process must hold across them: updates converge, presence crosses, a revoked
link's sockets close on every process within a second, a deleted list closes everywhere, an
event stream on one process sees the others' changes and resumes anywhere. Then the failures:
SIGKILL of one process mid-write, Redis restarted mid-run, PostgreSQL connections cut mid-run.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from server import schema
from tests.conftest import REDIS_TEST_URL
from tests.support import (
    ROOT,
    NodeClient,
    ServerGroup,
    ServerProcess,
    names_stored,
    wait_for,
    writes_across_a_cut,
)
from tests.test_fanout import PrivateRedis, private_redis  # noqa: F401  (fixture)

Cluster = Callable[..., list[ServerProcess]]
NodeClients = Callable[[], Awaitable[NodeClient]]


@pytest.fixture
def shared_env(pg_url: str, redis_prefix: str) -> dict[str, str]:
    """What processes that share lists are given: this test's database schema, Redis prefix."""
    return {
        "LISTOK_DATABASE_URL": pg_url,
        "LISTOK_REDIS_URL": REDIS_TEST_URL,
        "LISTOK_REDIS_PREFIX": redis_prefix,
        "LISTOK_REQUESTS_PER_SECOND": "0",  # the tests call from one address, fast
    }


@pytest.fixture
def cluster(server_group: ServerGroup, shared_env: dict[str, str]) -> Cluster:
    """Start n processes on the shared env (started together)."""

    def make(n: int, redis_url: str = REDIS_TEST_URL, **env: str) -> list[ServerProcess]:
        return server_group(n, {**shared_env, "LISTOK_REDIS_URL": redis_url, **env})

    return make


def shared_list(servers: list[ServerProcess], title: str = "Groceries") -> str:
    """A list made on the first server; every server knows its owner token."""
    list_id = servers[0].create_list(title)
    for server in servers[1:]:
        server.tokens[list_id] = servers[0].tokens[list_id]
    return list_id


async def joined(
    node_clients: NodeClients, server: ServerProcess, list_id: str, **args: Any
) -> NodeClient:
    """A stock client on the list through `server`, synced."""
    client = await node_clients()
    await client.connect(server, list_id, **args)
    await client.wait_synced()
    return client


def item_names(state: dict[str, Any]) -> set[str]:
    return {str(item["name"]) for item in state["items"].values()}


async def names_of(client: NodeClient) -> set[str]:
    return item_names(await client.state())


_orders = ["a0"]


async def add_item(client: NodeClient, name: str) -> None:
    """A stock client adds an item, as the app does (a valid order key after the last one)."""
    _orders.append(schema.order_after(_orders[-1]))
    fields = schema.new_item(name, order=_orders[-1], created_by="test")
    await client.call("add_item", itemId=str(uuid.uuid4()), fields=fields)


async def test_three_processes_converge_with_clients_spread_over_them(
    cluster: Cluster, node_clients: NodeClients
) -> None:
    servers = cluster(3)
    a = servers[0]
    list_id = shared_list(servers, "Shared")
    clients = [await joined(node_clients, server, list_id) for server in servers]
    want: set[str] = set()
    for round_ in range(3):
        for n, client in enumerate(clients):
            name = f"item {round_}-{n}"
            await add_item(client, name)
            want.add(name)
    # An HTTP write on one process reaches the sockets on the others.
    added = servers[1].api("POST", "/items", list_id, json={"text": "молоко"})
    assert added.status_code == 201, added.text
    want.add("молоко")

    async def converged() -> bool:
        return all([await names_of(c) == want for c in clients])

    await wait_for(converged, 20, "every client on every process has every item")
    # The database holds exactly that, and a process reads it back the same.
    assert names_stored(a.env["LISTOK_DATABASE_URL"], list_id) == want
    assert {i["name"] for i in servers[2].get_list(list_id)["items"]} == want


async def test_presence_crosses_processes(cluster: Cluster, node_clients: NodeClients) -> None:
    a, b = cluster(2)
    list_id = shared_list([a, b])
    watcher = await joined(node_clients, b, list_id)
    walker = await joined(node_clients, a, list_id, name="Аня")
    walker_id = (await walker.call("client_id"))["clientId"]

    async def seen_name() -> str | None:
        states = (await watcher.call("awareness"))["states"]
        user = (states.get(str(walker_id)) or {}).get("user") or {}
        return user.get("name")

    await wait_for(lambda: seen_name(), 10, "b's client sees a's client's presence")
    await walker.call("set_awareness", field="user", value={"name": "Аня", "color": "#336699"})
    await walker.call("destroy")  # leaving: a removes the state and tells the others

    async def gone() -> bool:
        return str(walker_id) not in (await watcher.call("awareness"))["states"]

    await wait_for(gone, 10, "the removal crosses to b")


async def test_revocation_closes_sockets_on_another_process_within_a_second(
    cluster: Cluster, node_clients: NodeClients
) -> None:
    a, b = cluster(2)
    list_id = a.create_list()
    created = a.api("POST", "/shares", list_id, json={"role": "edit"})
    assert created.status_code == 201, created.text
    link = created.json()
    doomed = await joined(node_clients, b, list_id, token=link["token"])
    # b has looked the link up (and cached it) before it is revoked on a.
    assert b.api("GET", "", list_id, token=link["token"]).status_code == 200

    async def closed_4401() -> bool:
        closes = (await doomed.call("closes"))["closes"]
        return any(close["code"] == 4401 for close in closes)

    started = time.monotonic()
    assert a.api("DELETE", f"/shares/{link['id']}", list_id).status_code == 204
    await wait_for(closed_4401, 5, "the socket on b closes with 4401")
    assert time.monotonic() - started < 1.0
    # b's token cache was dropped too: the link is refused there at once.
    assert b.api("GET", "", list_id, token=link["token"]).status_code == 401


async def test_deletion_crosses_processes(cluster: Cluster, node_clients: NodeClients) -> None:
    a, b = cluster(2)
    list_id = shared_list([a, b])
    client = await joined(node_clients, b, list_id)
    assert b.get_list(list_id)["title"] == "Groceries"
    assert a.api("DELETE", "", list_id).status_code == 204

    async def closed_4404() -> bool:
        closes = (await client.call("closes"))["closes"]
        return any(close["code"] == 4404 for close in closes)

    await wait_for(closed_4404, 5, "the socket on b closes with 4404")
    assert b.api("GET", "", list_id).status_code in (401, 404)


async def read_events(
    response: httpx.Response, want: int, timeout: float = 10
) -> list[dict[str, Any]]:
    """Parse SSE events from a streaming response until `want` real events arrived."""
    events: list[dict[str, Any]] = []
    current: dict[str, Any] = {}

    async def read() -> None:
        async for line in response.aiter_lines():
            if line == "":
                if "data" in current:
                    events.append(dict(current))
                    if len(events) >= want:
                        return
                current.clear()
            elif line.startswith("id: "):
                current["id"] = int(line[4:])
            elif line.startswith("event: "):
                current["event"] = line[7:]
            elif line.startswith("data: "):
                current["data"] = json.loads(line[6:])

    await asyncio.wait_for(read(), timeout)
    return events


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=httpx.Timeout(10, read=20)) as client:
        yield client


async def test_events_on_one_process_see_the_others_and_resume_anywhere(
    cluster: Cluster, http: httpx.AsyncClient
) -> None:
    a, b = cluster(2)
    list_id = shared_list([a, b])
    headers = a.auth(list_id)
    url_b = f"{b.url}/api/lists/{list_id}/events"
    async with http.stream("GET", url_b, headers=headers) as stream:
        assert stream.status_code == 200
        assert a.api("POST", "/items", list_id, json={"text": "хлеб"}).status_code == 201
        first = await read_events(stream, 1)
    assert first[0]["event"] == "item.added" and first[0]["data"]["name"] == "хлеб"
    # Two more changes while nobody listens; then resume on a (the other process) from b's id.
    for name in ("сыр", "чай"):
        assert b.api("POST", "/items", list_id, json={"text": name}).status_code == 201
    url_a = f"{a.url}/api/lists/{list_id}/events"
    resume = {**headers, "Last-Event-ID": str(first[0]["id"])}
    async with http.stream("GET", url_a, headers=resume) as stream:
        rest = await read_events(stream, 2)
    assert [e["data"]["name"] for e in rest] == ["сыр", "чай"]
    assert all(e["id"] > first[0]["id"] for e in rest)


async def test_sigkill_of_one_process_mid_write_loses_nothing_any_client_saw(
    cluster: Cluster, node_clients: NodeClients
) -> None:
    a, b = cluster(2)
    list_id = shared_list([a, b])
    writer = await joined(node_clients, a, list_id)
    watcher = await joined(node_clients, b, list_id)
    neighbour = await joined(node_clients, a, list_id)  # a second client on a, the doomed process
    for n in range(40):
        await add_item(writer, f"w{n}")
        if n == 25:
            await wait_for(lambda: names_of(watcher), 10, "b's client has seen a's items")
    a.kill()  # SIGKILL: the writes a was committing die with it
    # What any client was sent by a server (on a, or relayed to b) was committed first.
    seen_b = await names_of(watcher)
    seen_a = await names_of(neighbour)
    assert seen_b, "b's client saw nothing of a's writes"
    stored = names_stored(a.env["LISTOK_DATABASE_URL"], list_id)
    assert seen_b <= stored, seen_b - stored
    assert seen_a <= stored, seen_a - stored
    # b carries on: a new client on it sees what was stored, and writes still land.
    late = await joined(node_clients, b, list_id)
    await add_item(watcher, "after")
    await wait_for(
        lambda: _has(late, stored | {"after"}), 10, "b serves the stored list and new writes"
    )


async def _has(client: NodeClient, names: set[str]) -> bool:
    return names <= await names_of(client)


async def test_redis_restarted_mid_run_processes_reconnect_and_converge(
    cluster: Cluster,
    node_clients: NodeClients,
    private_redis: PrivateRedis,  # noqa: F811
) -> None:
    a, b = cluster(2, redis_url=private_redis.url)
    list_id = shared_list([a, b])
    on_a = await joined(node_clients, a, list_id)
    on_b = await joined(node_clients, b, list_id)
    await add_item(on_a, "milk")
    await wait_for(lambda: _has(on_b, {"milk"}), 10, "live before the restart")

    private_redis.stop()
    # Both sides keep committing while Redis is away; the updates cannot cross yet.
    await add_item(on_a, "bread")
    await add_item(on_b, "eggs")
    assert b.api("POST", "/items", list_id, json={"text": "tea"}).status_code == 201
    private_redis.start()
    await private_redis.ready()
    want = {"milk", "bread", "eggs", "tea"}
    await wait_for(lambda: _has(on_a, want), 30, "a's client catches up after the restart")
    await wait_for(lambda: _has(on_b, want), 30, "b's client catches up after the restart")
    await add_item(on_b, "jam")
    await wait_for(lambda: _has(on_a, want | {"jam"}), 10, "live again after the restart")
    assert names_stored(a.env["LISTOK_DATABASE_URL"], list_id) == want | {"jam"}


async def test_postgres_connections_cut_mid_run_writes_fail_cleanly_and_resume(
    cluster: Cluster, node_clients: NodeClients, pg_database: str
) -> None:
    a, b = cluster(2)
    list_id = shared_list([a, b])
    watcher = await joined(node_clients, b, list_id)
    # What a PostgreSQL restart does to both processes: every connection is cut.
    acknowledged = await writes_across_a_cut(a, list_id, pg_database)
    # Every acknowledged write reached the client on the other process too.
    await wait_for(lambda: _has(watcher, acknowledged), 20, "b's client converges")
    assert await names_of(watcher) <= names_stored(a.env["LISTOK_DATABASE_URL"], list_id)


def test_redis_without_a_database_url_is_refused_with_a_reason(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "server.cli", "serve", "--port", "0", "--data-dir", str(tmp_path)],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "LISTOK_REDIS_URL": REDIS_TEST_URL, "LISTOK_MODEL": "off"},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode != 0
    assert "LISTOK_DATABASE_URL" in result.stderr


async def test_serve_workers_runs_n_processes_that_share_every_list(
    server_group: ServerGroup, shared_env: dict[str, str], node_clients: NodeClients
) -> None:
    """`listok serve --workers 2`: one supervisor, two worker processes on one port."""
    (server,) = server_group(1, shared_env, args=["--workers", "2"], timeout=30)
    await wait_for(lambda: _healthy(server.url), 30, "a worker answers")
    # Workers spawn a multiprocessing resource tracker too: count the ones that serve.
    await wait_for(lambda: len(_workers(server)) == 2, 30, "two workers")
    list_id = server.create_list()
    # The kernel spreads the connections over the workers.
    clients = [await joined(node_clients, server, list_id) for _ in range(4)]
    for n, client in enumerate(clients):
        await add_item(client, f"from client {n}")
    want = {f"from client {n}" for n in range(4)}

    async def converged() -> bool:
        return all([await _has(c, want) for c in clients])

    await wait_for(converged, 20, "every client, whichever worker it is on, has every item")
    # A worker killed outright is replaced; its clients reconnect and carry on.
    victim = _workers(server)[0]
    os.kill(victim, signal.SIGKILL)
    await wait_for(
        lambda: victim not in _workers(server) and len(_workers(server)) == 2,
        30,
        "the supervisor replaces the killed worker",
    )
    await add_item(clients[0], "after the kill")

    async def all_after() -> bool:
        return all([await _has(c, want | {"after the kill"}) for c in clients])

    await wait_for(all_after, 30, "clients converge after a worker died")
    server.stop()
    assert server.proc is not None and server.proc.returncode == 0


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _workers(server: ServerProcess) -> list[int]:
    """The supervisor's children that run a Listok worker (not multiprocessing's tracker)."""
    assert server.proc is not None
    children = Path(f"/proc/{server.proc.pid}/task/{server.proc.pid}/children")
    pids = []
    for pid in map(int, children.read_text().split()):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except FileNotFoundError:
            continue
        if b"resource_tracker" not in cmdline:
            pids.append(pid)
    return pids


def test_workers_without_the_shared_services_are_refused(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "server.cli", "serve", "--port", "0", "--workers", "2"],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "LISTOK_DATA_DIR": str(tmp_path), "LISTOK_MODEL": "off"},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode != 0
    assert "--workers" in result.stderr and "LISTOK_REDIS_URL" in result.stderr
