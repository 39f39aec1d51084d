"""`listok serve` on PostgreSQL (LISTOK_DATABASE_URL): the real server, real clients.

Until fan-out is wired into the rooms (docs/deploy.md), each process serves its own sockets;
what is tested here is the store under the real server: it migrates by itself (several
processes at once), keeps everything any client saw across a SIGKILL, and never acknowledges
a write the database did not commit when the database drops its connections.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import psycopg
from pycrdt import Doc

from server import schema
from store.postgres import PostgresStore
from store.replay import apply_history
from tests.support import ServerProcess, wait_for
from tests.test_crash import test_nothing_seen_is_lost_after_sigkill as sigkill_scenario


def names_stored(pg_url: str, list_id: str) -> set[str]:
    store = PostgresStore(pg_url, pool_size=1)
    try:
        doc: Doc[Any] = Doc()
        apply_history(doc, store.load(list_id), list_id)
        return {item["name"] for item in schema.list_items(doc)}
    finally:
        store.close()


async def test_nothing_seen_is_lost_after_sigkill_on_postgres(
    server_factory: Callable[..., ServerProcess], pg_url: str
) -> None:
    server = server_factory({"LISTOK_DATABASE_URL": pg_url})
    await sigkill_scenario(server)
    assert not (server.data_dir / "listok.db").exists()  # everything went to PostgreSQL


async def test_processes_started_together_share_one_database(
    server_factory: Callable[..., ServerProcess], pg_url: str, tmp_path: Path
) -> None:
    env = {"LISTOK_DATABASE_URL": pg_url}
    servers = [ServerProcess(tmp_path / f"p{n}", env) for n in range(3)]
    await asyncio.gather(*(asyncio.to_thread(s.start) for s in servers))  # migrate at once
    try:
        a, b, c = servers
        list_id = a.create_list("Shared")
        token = a.tokens[list_id]
        assert b.get_list(list_id, token)["title"] == "Shared"
        added = b.api("POST", "/items", list_id, token, json={"text": "молоко"})
        assert added.status_code == 201, added.text
        # c never had the list open: it loads it from the database, with b's item.
        assert [i["name"] for i in c.get_list(list_id, token)["items"]] == ["молоко"]
        assert httpx.get(f"{c.url}/api/lists/{list_id}").status_code == 401
    finally:
        for server in servers:
            server.stop()


async def test_a_dropped_database_connection_never_acknowledges_a_lost_write(
    server_factory: Callable[..., ServerProcess], pg_url: str, pg_database: str
) -> None:
    server = server_factory({"LISTOK_DATABASE_URL": pg_url})
    list_id = server.create_list()
    acknowledged: list[str] = []

    def add(name: str) -> int:
        response = server.api("POST", "/items", list_id, json={"text": name})
        if response.status_code == 201:
            acknowledged.append(name)
        return response.status_code

    assert add("before") == 201
    database = pg_database.rsplit("/", 1)[-1]
    with psycopg.connect(pg_database, autocommit=True) as admin:
        # What a PostgreSQL restart does to this server: every connection it holds is cut.
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()",
            (database,),
        )
    statuses = [add(name) for name in ("apples", "bread", "cheese", "dates", "eggs")]
    assert all(status in (201, 500, 503) for status in statuses), statuses
    await wait_for(lambda: add("resumed") == 201, what="writes resume")
    assert set(acknowledged) <= names_stored(pg_url, list_id)
