"""Test support: a real server process, deadline waits, and real clients (pycrdt and Node)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import websockets
from pycrdt import (
    Doc,
    TransactionEvent,
    YMessageType,
    create_sync_message,
    create_update_message,
    handle_sync_message,
)

from server import schema
from store.replay import apply_history

ROOT = Path(__file__).resolve().parent.parent
NODE_DIR = ROOT / "tests" / "node"


async def wait_for(
    predicate: Callable[[], Any | Awaitable[Any]], timeout: float = 10.0, what: str = "condition"
) -> Any:
    """Poll until predicate() is truthy; fail after the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if asyncio.iscoroutine(value) or isinstance(value, Awaitable):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.02)


class ServerProcess:
    """`listok serve` in a subprocess on a port bound to 0, with its own data dir."""

    def __init__(
        self, data_dir: Path, env: dict[str, str] | None = None, args: Sequence[str] = ()
    ) -> None:
        self.data_dir = data_dir
        self.env = env or {}
        self.args = list(args)  # more `listok serve` options, e.g. ["--workers", "2"]
        self.proc: subprocess.Popen[str] | None = None
        self.url = ""
        self.log_path = data_dir / "server.log"
        self.tokens: dict[str, str] = {}  # list id -> owner token

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://") + "/sync"

    def start(self, timeout: float = 20.0) -> ServerProcess:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        # The local model is off unless a test turns it on: loading it in every server is slow.
        env = {**os.environ, "LISTOK_LOG_LEVEL": "info", "LISTOK_MODEL": "off", **self.env}
        log = self.log_path.open("a")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "server.cli",
                "serve",
                "--port",
                "0",
                "--data-dir",
                str(self.data_dir),
                *self.args,
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
        deadline = time.monotonic() + timeout
        assert self.proc.stdout is not None
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            if line.startswith("listok listening on "):
                self.url = line.split()[-1]
                return self
        raise AssertionError(f"server did not start: {self.log()}")

    def log(self) -> str:
        return self.log_path.read_text() if self.log_path.exists() else ""

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> float:
        """Send sig and wait; returns the seconds it took to exit."""
        if self.proc is None or self.proc.poll() is not None:
            return 0.0
        started = time.monotonic()
        self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"server ignored signal {sig} for {timeout}s") from None
        return time.monotonic() - started

    def kill(self) -> None:
        self.stop(signal.SIGKILL)

    def restart(self) -> ServerProcess:
        self.stop()
        return self.start()

    # -- HTTP helpers --------------------------------------------------------------------

    def create_list(self, title: str = "Groceries") -> str:
        response = httpx.post(f"{self.url}/api/lists", json={"title": title})
        assert response.status_code == 201, response.text
        body = response.json()
        self.tokens[body["id"]] = body["token"]
        return str(body["id"])

    def auth(self, list_id: str, token: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token or self.tokens[list_id]}"}

    def get_list(self, list_id: str, token: str | None = None) -> dict[str, Any]:
        response = httpx.get(f"{self.url}/api/lists/{list_id}", headers=self.auth(list_id, token))
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()
        return data

    def api(
        self, method: str, path: str, list_id: str, token: str | None = None, **kwargs: Any
    ) -> httpx.Response:
        """A request to /api/lists/{list_id}{path} with the list's owner token (or token)."""
        headers = {**self.auth(list_id, token), **kwargs.pop("headers", {})}
        return httpx.request(
            method, f"{self.url}/api/lists/{list_id}{path}", headers=headers, **kwargs
        )

    def sync_url(self, list_id: str, token: str | None = None) -> str:
        token = token or self.tokens.get(list_id)
        return f"{self.ws_url}/{list_id}" + (f"?token={token}" if token else "")

    def client(self, list_id: str, token: str | None = None) -> PyClient:
        return PyClient(self.ws_url, list_id, token or self.tokens.get(list_id))


# The `server_factory` fixture (tests/conftest.py): env overrides and a data-dir name in, a started
# server out.
ServerFactory = Callable[..., ServerProcess]
# The `server_group` fixture: how many, env overrides (and ServerProcess options) in, started
# servers out.
ServerGroup = Callable[..., list[ServerProcess]]


def start_together(servers: Sequence[ServerProcess], timeout: float = 20.0) -> list[ServerProcess]:
    """Start the servers at once, each from its own thread (on one database they migrate it
    together, as processes started by one supervisor do)."""
    with ThreadPoolExecutor(len(servers)) as pool:
        return list(pool.map(lambda server: server.start(timeout), servers))


# -- PostgreSQL under running servers --------------------------------------------------------


def names_stored(database_url: str, list_id: str) -> set[str]:
    """The names of a list's items as PostgreSQL holds them, read by a store of the test's own."""
    from store.postgres import PostgresStore  # psycopg: only where PostgreSQL is used

    store = PostgresStore(database_url, pool_size=1)
    try:
        doc: Doc[Any] = Doc()
        apply_history(doc, store.load(list_id), list_id)
        return {item["name"] for item in schema.list_items(doc)}
    finally:
        store.close()


def cut_connections(pg_database: str) -> None:
    """What a PostgreSQL restart does to the servers on the database: every connection is cut."""
    import psycopg

    database = pg_database.rsplit("/", 1)[-1]
    with psycopg.connect(pg_database, autocommit=True) as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()",
            (database,),
        )


async def writes_across_a_cut(server: ServerProcess, list_id: str, pg_database: str) -> set[str]:
    """Items added over `server`'s API while every database connection is cut: each is
    acknowledged (201) or refused (500, 503), writes resume, and every acknowledged one is
    stored. Returns the names acknowledged."""
    acknowledged: set[str] = set()

    def add(name: str) -> int:
        response = server.api("POST", "/items", list_id, json={"text": name})
        if response.status_code == 201:
            acknowledged.add(name)
        return response.status_code

    assert add("before") == 201
    cut_connections(pg_database)
    statuses = [add(name) for name in ("apples", "bread", "cheese", "dates", "eggs")]
    assert all(status in (201, 500, 503) for status in statuses), statuses
    await wait_for(lambda: add("resumed") == 201, 20, "writes resume")
    stored = names_stored(server.env["LISTOK_DATABASE_URL"], list_id)
    assert acknowledged <= stored, acknowledged - stored
    return acknowledged


class PyClient:
    """A pycrdt document synced over a real WebSocket with pycrdt's own sync functions."""

    def __init__(self, ws_url: str, list_id: str, token: str | None = None) -> None:
        self.url = f"{ws_url}/{list_id}" + (f"?token={token}" if token else "")
        self.doc: Doc[Any] = Doc()
        self.ws: Any = None
        self.synced = asyncio.Event()
        self.frames: list[bytes] = []
        self.close_code: int | None = None
        self._task: asyncio.Task[None] | None = None
        self._sub: Any = None

    async def __aenter__(self) -> PyClient:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def connect(self) -> None:
        self.ws = await websockets.connect(self.url, max_size=None)
        self.synced = asyncio.Event()
        self._sub = self.doc.observe(self._on_change)
        await self.ws.send(create_sync_message(self.doc))
        self._task = asyncio.create_task(self._receive())

    def _on_change(self, event: TransactionEvent) -> None:
        if event.update != b"\x00\x00" and self.ws is not None:
            origin = getattr(event, "origin", None)
            if origin != "remote":
                asyncio.get_running_loop().create_task(
                    self._send(create_update_message(event.update))
                )

    async def _send(self, frame: bytes) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            await self.ws.send(frame)

    async def _receive(self) -> None:
        try:
            async for frame in self.ws:
                self.frames.append(frame)
                if frame[0] == YMessageType.SYNC:
                    with self.doc.transaction(origin="remote"):
                        reply = handle_sync_message(frame[1:], self.doc)
                    if frame[1] == 1:
                        self.synced.set()
                    if reply is not None:
                        await self.ws.send(reply)
        except websockets.ConnectionClosed:
            pass
        finally:
            self.close_code = self.ws.close_code

    async def wait_synced(self, timeout: float = 10.0) -> None:
        await asyncio.wait_for(self.synced.wait(), timeout)

    async def wait_closed(self, timeout: float = 10.0) -> int | None:
        assert self._task is not None
        await asyncio.wait_for(asyncio.shield(self._task), timeout)
        return self.close_code

    async def close(self) -> None:
        if self._sub is not None:
            self.doc.unobserve(self._sub)
            self._sub = None
        if self.ws is not None:
            await self.ws.close()
        if self._task is not None:
            await asyncio.wait_for(self._task, 5)


class NodeClient:
    """A stock `yjs` + `y-websocket` WebsocketProvider in a Node process (tests/node/client.mjs)."""

    def __init__(self) -> None:
        self.proc: asyncio.subprocess.Process | None = None
        self._next = 0

    async def start(self) -> NodeClient:
        self.proc = await asyncio.create_subprocess_exec(
            "node",
            str(NODE_DIR / "client.mjs"),
            cwd=NODE_DIR,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        ready = await self._read_reply()
        assert ready.get("ready"), ready
        return self

    async def _read_reply(self) -> dict[str, Any]:
        assert self.proc is not None and self.proc.stdout is not None
        line = await asyncio.wait_for(self.proc.stdout.readline(), 15)
        if not line:
            raise AssertionError("node client exited")
        reply: dict[str, Any] = json.loads(line)
        return reply

    async def call(self, op: str, **args: Any) -> dict[str, Any]:
        assert self.proc is not None and self.proc.stdin is not None
        self._next += 1
        self.proc.stdin.write((json.dumps({"id": self._next, "op": op, **args}) + "\n").encode())
        await self.proc.stdin.drain()
        reply = await self._read_reply()
        assert reply["id"] == self._next and reply["ok"], reply
        return reply

    async def connect(
        self, server: ServerProcess, list_id: str, token: str | None = None, **args: Any
    ) -> None:
        token = token or server.tokens[list_id]
        await self.call(
            "connect", url=server.ws_url, listId=list_id, params={"token": token}, **args
        )

    async def wait_synced(self, timeout: float = 10.0) -> None:
        async def synced() -> bool:
            return bool((await self.call("synced"))["synced"])

        await wait_for(synced, timeout, "node client synced")

    async def state(self) -> dict[str, Any]:
        return await self.call("state")

    async def stop(self) -> None:
        if self.proc is None or self.proc.returncode is not None:
            return
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        try:
            await asyncio.wait_for(self.proc.wait(), 5)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()

    async def kill(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()


def new_list_id() -> str:
    return str(uuid.uuid4())


# -- shopping history through the real API ---------------------------------------------------

DAY_MS = 86_400_000


def import_history(
    server: ServerProcess,
    list_id: str,
    bought: list[tuple[str, int]],
    token: str | None = None,
) -> None:
    """Imports (`POST .../import`, a JSON export) items bought `days ago` as ticked items,
    the way a household moving its lists to Listok brings its history along."""
    now = int(time.time() * 1000)
    items = [
        {
            "name": name,
            "checked": True,
            "created_at": now - days * DAY_MS - 3_600_000,
            "checked_at": now - days * DAY_MS,
        }
        for name, days in bought
    ]
    body = {"format": "listok.list/v1", "items": items}
    response = server.api("POST", "/import", list_id, token, json=body)
    assert response.status_code == 201, response.text


def seed_households(server: ServerProcess, names: list[str], lists: int = 3) -> None:
    """`lists` other established lists (three weeks old, shopped on two trips) that all had
    `names`: enough for `together` to pair them (its three-list rule)."""
    for n in range(lists):
        list_id = server.create_list(f"household {n}")
        import_history(server, list_id, [(name, 20) for name in names])
        import_history(server, list_id, [(name, 10) for name in names])
