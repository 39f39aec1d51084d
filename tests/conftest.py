from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from store import SQLiteStore, Store
from tests.support import NODE_DIR, NodeClient, ServerGroup, ServerProcess, start_together

# The real services the scale-out tests use (.ci/run starts them when they are down).
POSTGRES_ADMIN_URL = os.environ.get(
    "LISTOK_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS_TEST_URL = os.environ.get("LISTOK_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def service_missing(what: str, error: Exception) -> None:
    """Under CI a missing service fails the test; on a laptop it skips, saying why."""
    message = f"{what} is not reachable: {error}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message} (CI must run these tests: .ci/run starts the service)")
    pytest.skip(f"{message}; start it to run this test (see .ci/run)")


@pytest.fixture
def server_factory(tmp_path: Path) -> Iterator[Callable[..., ServerProcess]]:
    started: list[ServerProcess] = []

    def make(env: dict[str, str] | None = None, name: str = "data") -> ServerProcess:
        server = ServerProcess(tmp_path / name, env).start()
        started.append(server)
        return server

    yield make
    for server in started:
        if server.proc is not None and server.proc.poll() is None:
            server.stop()


@pytest.fixture
def server_group(tmp_path: Path) -> Iterator[ServerGroup]:
    """n servers (data dirs p0, p1, ...) on one env, started together; stopped at the end."""
    started: list[ServerProcess] = []

    def make(
        n: int, env: dict[str, str], *, args: Sequence[str] = (), timeout: float = 20.0
    ) -> list[ServerProcess]:
        servers = [ServerProcess(tmp_path / f"p{len(started) + i}", env, args) for i in range(n)]
        started.extend(servers)
        return start_together(servers, timeout)

    yield make
    for server in started:
        server.stop()


@pytest.fixture
def live_server(server_factory: Callable[..., ServerProcess]) -> ServerProcess:
    return server_factory()


@pytest.fixture
async def node_clients() -> AsyncIterator[Callable[[], object]]:
    if shutil.which("node") is None or not (NODE_DIR / "node_modules" / "yjs").is_dir():
        pytest.fail("Node.js and tests/node/node_modules are required (run `make test`)")
    clients: list[NodeClient] = []

    async def make() -> NodeClient:
        client = await NodeClient().start()
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.stop()


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A database of this test run's own, created here and dropped at the end."""
    import psycopg

    try:
        admin = psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        service_missing(f"PostgreSQL at {POSTGRES_ADMIN_URL}", exc)
        raise
    name = f"listok_test_{os.getpid()}_{secrets.token_hex(4)}"
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"'.encode())
        base, _, _ = POSTGRES_ADMIN_URL.rpartition("/")
        try:
            yield f"{base}/{name}"
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'.encode())


@pytest.fixture
def pg_url(pg_database: str) -> str:
    """A fresh, empty schema in the run's database, as a URL a store or a server can open."""
    import psycopg

    schema = f"t_{secrets.token_hex(6)}"
    with psycopg.connect(pg_database, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"'.encode())
    return f"{pg_database}?options={quote(f'-csearch_path={schema}')}"


def sqlite_backend(tmp_path: Path) -> Callable[..., Store]:
    def make(**options: Any) -> Store:
        return SQLiteStore(tmp_path / "listok.db", **options)

    return make


def postgres_backend(request: pytest.FixtureRequest) -> Callable[..., Store]:
    from store.postgres import PostgresStore

    url: str = request.getfixturevalue("pg_url")

    def make(**options: int) -> Store:
        return PostgresStore(url, **options)

    return make


BACKENDS = ["sqlite", "postgres"]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[..., Store]]:
    """Opens stores of one backend on one database (every call: the same data, reopened)."""
    factory = sqlite_backend(tmp_path) if request.param == "sqlite" else postgres_backend(request)
    opened: list[Store] = []

    def make(**options: int) -> Store:
        store = factory(**options)
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()


@pytest.fixture
def store(backend: Callable[..., Store]) -> Store:
    """One open store of each backend, with the default options."""
    return backend()


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A key and channel prefix of this test's own on the shared Redis."""
    import redis

    client = redis.Redis.from_url(REDIS_TEST_URL, socket_connect_timeout=3)
    try:
        client.ping()
    except redis.RedisError as exc:
        client.close()
        service_missing(f"Redis at {REDIS_TEST_URL}", exc)
        raise
    prefix = f"listok-test-{secrets.token_hex(6)}:"
    yield prefix
    for key in client.scan_iter(match=f"{prefix}*"):
        client.delete(key)
    client.close()
