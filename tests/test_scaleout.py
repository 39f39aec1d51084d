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
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from server import schema
from tests.conftest import REDIS_TEST_URL
from tests.support import ROOT, NodeClient, ServerProcess, wait_for
from tests.test_fanout import PrivateRedis, private_redis  # noqa: F401  (fixture)
from tests.test_postgres_server import names_stored

Cluster = Callable[..., list[ServerProcess]]


@pytest.fixture
def cluster(tmp_path: Path, pg_url: str, redis_prefix: str) -> Iterator[Cluster]:
    """Start n processes on this test's database schema and Redis prefix (started together)."""
    started: list[ServerProcess] = []

    def make(n: int, redis_url: str = REDIS_TEST_URL, **env: str) -> list[ServerProcess]:
        base = {
            "LISTOK_DATABASE_URL": pg_url,
            "LISTOK_REDIS_URL": redis_url,
            "LISTOK_REDIS_PREFIX": redis_prefix,
            "LISTOK_REQUESTS_PER_SECOND": "0",  # the tests call from one address, fast
            **env,
        }
        servers = [ServerProcess(tmp_path / f"p{len(started) + i}", base) for i in range(n)]
        started.extend(servers)
        for server in servers:
            server.start()
        return servers

    yield make
    for server in started:
        if server.proc is not None and server.proc.poll() is None:
            server.stop()


def share_all(servers: list[ServerProcess], list_id: str, token: str) -> None:
    for server in servers:
        server.tokens[list_id] = token


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
    cluster: Cluster, node_clients: Callable[[], Any]
) -> None:
    servers = cluster(3)
    a = servers[0]
    list_id = a.create_list("Shared")
    share_all(servers, list_id, a.tokens[list_id])
    clients: list[NodeClient] = [await node_clients() for _ in servers]
    for client, server in zip(clients, servers, strict=True):
        await client.connect(server, list_id)
    for client in clients:
        await client.wait_synced()
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


async def test_presence_crosses_processes(
    cluster: Cluster, node_clients: Callable[[], Any]
) -> None:
    a, b = cluster(2)
    list_id = a.create_list()
    share_all([b], list_id, a.tokens[list_id])
    watcher: NodeClient = await node_clients()
    await watcher.connect(b, list_id)
    await watcher.wait_synced()
    walker: NodeClient = await node_clients()
    await walker.connect(a, list_id, name="Аня")
    await walker.wait_synced()
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
    cluster: Cluster, node_clients: Callable[[], Any]
) -> None:
    a, b = cluster(2)
    list_id = a.create_list()
    created = a.api("POST", "/shares", list_id, json={"role": "edit"})
    assert created.status_code == 201, created.text
    link = created.json()
    doomed: NodeClient = await node_clients()
    await doomed.connect(b, list_id, token=link["token"])
    await doomed.wait_synced()
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


async def test_deletion_crosses_processes(
    cluster: Cluster, node_clients: Callable[[], Any]
) -> None:
    a, b = cluster(2)
    list_id = a.create_list()
    share_all([b], list_id, a.tokens[list_id])
    client: NodeClient = await node_clients()
    await client.connect(b, list_id)
    await client.wait_synced()
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
    list_id = a.create_list()
    share_all([b], list_id, a.tokens[list_id])
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
    cluster: Cluster, node_clients: Callable[[], Any]
) -> None:
    a, b = cluster(2)
    list_id = a.create_list()
    share_all([b], list_id, a.tokens[list_id])
    writer: NodeClient = await node_clients()
    await writer.connect(a, list_id)
    await writer.wait_synced()
    watcher: NodeClient = await node_clients()
    await watcher.connect(b, list_id)
    await watcher.wait_synced()
    neighbour: NodeClient = await node_clients()  # a second client on a, the doomed process
    await neighbour.connect(a, list_id)
    await neighbour.wait_synced()
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
    late: NodeClient = await node_clients()
    await late.connect(b, list_id)
    await late.wait_synced()
    await add_item(watcher, "after")
    await wait_for(
        lambda: _has(late, stored | {"after"}), 10, "b serves the stored list and new writes"
    )


async def _has(client: NodeClient, names: set[str]) -> bool:
    return names <= await names_of(client)


async def test_redis_restarted_mid_run_processes_reconnect_and_converge(
    cluster: Cluster,
    node_clients: Callable[[], Any],
    private_redis: PrivateRedis,  # noqa: F811
) -> None:
    a, b = cluster(2, redis_url=private_redis.url)
    list_id = a.create_list()
    share_all([b], list_id, a.tokens[list_id])
    on_a: NodeClient = await node_clients()
    on_b: NodeClient = await node_clients()
    await on_a.connect(a, list_id)
    await on_b.connect(b, list_id)
    await on_a.wait_synced()
    await on_b.wait_synced()
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
    cluster: Cluster, node_clients: Callable[[], Any], pg_database: str
) -> None:
    a, b = cluster(2)
    list_id = a.create_list()
    share_all([b], list_id, a.tokens[list_id])
    watcher: NodeClient = await node_clients()
    await watcher.connect(b, list_id)
    await watcher.wait_synced()
    acknowledged: list[str] = []

    def add(name: str) -> int:
        response = a.api("POST", "/items", list_id, json={"text": name})
        if response.status_code == 201:
            acknowledged.append(name)
        return response.status_code

    assert add("before") == 201
    database = pg_database.rsplit("/", 1)[-1]
    with psycopg.connect(pg_database, autocommit=True) as admin:
        # What a PostgreSQL restart does to both processes: every connection is cut.
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()",
            (database,),
        )
    statuses = [add(name) for name in ("apples", "bread", "cheese", "dates", "eggs")]
    assert all(status in (201, 500, 503) for status in statuses), statuses
    await wait_for(lambda: add("resumed") == 201, 20, "writes resume")
    stored = names_stored(a.env["LISTOK_DATABASE_URL"], list_id)
    assert set(acknowledged) <= stored, set(acknowledged) - stored
    # Every acknowledged write reached the client on the other process too.
    await wait_for(lambda: _has(watcher, set(acknowledged)), 20, "b's client converges")
    assert await names_of(watcher) <= stored


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


class WorkersProcess(ServerProcess):
    """`listok serve --workers N`: one supervisor, N worker processes on one port."""

    def __init__(self, data_dir: Path, env: dict[str, str], workers: int) -> None:
        super().__init__(data_dir, env)
        self.workers = workers

    def start(self, timeout: float = 30.0) -> WorkersProcess:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "LISTOK_LOG_LEVEL": "info", "LISTOK_MODEL": "off", **self.env}
        command = [sys.executable, "-m", "server.cli", "serve", "--port", "0"]
        command += ["--data-dir", str(self.data_dir), "--workers", str(self.workers)]
        self.proc = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=self.log_path.open("a"),
            text=True,
        )
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            if line.startswith("listok listening on "):
                self.url = line.split()[-1]
                return self
        raise AssertionError(f"listok serve --workers did not start: {self.log()}")

    def children(self) -> list[int]:
        assert self.proc is not None
        path = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        return [int(pid) for pid in path.read_text().split()]


async def test_serve_workers_runs_n_processes_that_share_every_list(
    tmp_path: Path, pg_url: str, redis_prefix: str, node_clients: Callable[[], Any]
) -> None:
    env = {
        "LISTOK_DATABASE_URL": pg_url,
        "LISTOK_REDIS_URL": REDIS_TEST_URL,
        "LISTOK_REDIS_PREFIX": redis_prefix,
        "LISTOK_REQUESTS_PER_SECOND": "0",
    }
    server = WorkersProcess(tmp_path / "w", env, workers=2)
    server.start()
    try:
        await wait_for(lambda: _healthy(server.url), 30, "a worker answers")
        # Workers spawn a multiprocessing resource tracker too: count the ones that serve.
        await wait_for(lambda: len(_workers(server)) == 2, 30, "two workers")
        list_id = server.create_list()
        clients: list[NodeClient] = [await node_clients() for _ in range(4)]
        for client in clients:  # the kernel spreads the connections over the workers
            await client.connect(server, list_id)
        for client in clients:
            await client.wait_synced()
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
    finally:
        server.stop()
    assert server.proc is not None and server.proc.returncode == 0


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _workers(server: WorkersProcess) -> list[int]:
    """The supervisor's children that run a Listok worker (not multiprocessing's tracker)."""
    pids = []
    for pid in server.children():
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
