"""`listok serve` on PostgreSQL (LISTOK_DATABASE_URL): the real server, real clients.

Until fan-out is wired into the rooms (docs/deploy.md), each process serves its own sockets;
what is tested here is the store under the real server: it migrates by itself (several
processes at once), keeps everything any client saw across a SIGKILL, and never acknowledges
a write the database did not commit when the database drops its connections.
"""

from __future__ import annotations

import httpx

from tests.support import ServerFactory, ServerGroup, ServerProcess, writes_across_a_cut
from tests.test_crash import test_nothing_seen_is_lost_after_sigkill as sigkill_scenario


async def test_nothing_seen_is_lost_after_sigkill_on_postgres(
    server_factory: ServerFactory, pg_url: str
) -> None:
    server: ServerProcess = server_factory({"LISTOK_DATABASE_URL": pg_url})
    await sigkill_scenario(server)
    assert not (server.data_dir / "listok.db").exists()  # everything went to PostgreSQL


def test_processes_started_together_share_one_database(
    server_group: ServerGroup, pg_url: str
) -> None:
    a, b, c = server_group(3, {"LISTOK_DATABASE_URL": pg_url})  # they migrate at once
    list_id = a.create_list("Shared")
    token = a.tokens[list_id]
    assert b.get_list(list_id, token)["title"] == "Shared"
    added = b.api("POST", "/items", list_id, token, json={"text": "молоко"})
    assert added.status_code == 201, added.text
    # c never had the list open: it loads it from the database, with b's item.
    assert [i["name"] for i in c.get_list(list_id, token)["items"]] == ["молоко"]
    assert httpx.get(f"{c.url}/api/lists/{list_id}").status_code == 401


async def test_a_dropped_database_connection_never_acknowledges_a_lost_write(
    server_factory: ServerFactory, pg_url: str, pg_database: str
) -> None:
    server: ServerProcess = server_factory({"LISTOK_DATABASE_URL": pg_url})
    list_id = server.create_list()
    await writes_across_a_cut(server, list_id, pg_database)
