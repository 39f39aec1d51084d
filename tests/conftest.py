from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from tests.support import NODE_DIR, NodeClient, ServerProcess


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
