"""The OpenAPI document, schemathesis against it, metrics, limits and structured logs."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import websockets
from starlette.routing import Route

from server import schema
from server.app import api_routes
from server.openapi import document
from tests.support import ServerFactory, ServerProcess, wait_for


def test_openapi_documents_every_route_and_nothing_else() -> None:
    documented = {
        (path, method.upper()) for path, ops in document()["paths"].items() for method in ops
    }
    served = {
        (route.path, method)
        for route in api_routes()
        if isinstance(route, Route)
        for method in route.methods or ()
        if method != "HEAD"
    }
    assert documented == served


def test_openapi_is_served(live_server: ServerProcess) -> None:
    response = httpx.get(f"{live_server.url}/api/openapi.json")
    assert response.status_code == 200 and response.json()["openapi"].startswith("3.1")


def test_schemathesis_finds_no_server_errors(live_server: ServerProcess, tmp_path: Path) -> None:
    st = shutil.which("st", path=str(Path(sys.executable).parent))
    assert st, "schemathesis is part of the dev dependencies"
    list_id = live_server.create_list()
    live_server.api("POST", "/items", list_id, json={"name": "seed"})
    (tmp_path / "schemathesis.toml").write_text(f'[parameters]\n"path.list_id" = "{list_id}"\n')
    run = subprocess.run(
        [
            st,
            "run",
            f"{live_server.url}/api/openapi.json",
            "-H",
            f"Authorization: Bearer {live_server.tokens[list_id]}",
            "--checks",
            "not_a_server_error",
            "--max-examples",
            "15",
            "--seed",
            "1",
            "--exclude-path-regex",
            "/events$",
            "--request-timeout",
            "10",
            # Without a model this answers a documented 503 by design (tested elsewhere).
            "--exclude-operation-id",
            "suggestForPrompt",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    tail = run.stdout[-3000:]
    assert "ST101" not in run.stdout, tail
    assert run.returncode == 0, tail
    assert "Traceback" not in live_server.log()


def metric(text: str, name: str) -> float:
    match = re.search(rf"^{re.escape(name)} ([0-9.e+-]+)$", text, re.M)
    assert match, f"{name} not in metrics"
    return float(match.group(1))


async def test_metrics(live_server: ServerProcess) -> None:
    list_id = live_server.create_list()
    async with live_server.client(list_id) as client:
        await client.wait_synced()
        schema.add_item(client.doc, schema.new_item("x", order="a0"), "x")
        await wait_for(lambda: live_server.get_list(list_id)["items"])
        text = httpx.get(f"{live_server.url}/metrics").text
        assert metric(text, "listok_connections") == 1
        assert metric(text, "listok_lists_in_memory") == 1
        assert metric(text, "listok_updates_total") >= 1
        assert metric(text, "listok_commit_seconds_count") >= 1
        assert metric(text, "listok_fanout_seconds_count") >= 1
        assert 'listok_events_total{type="item.added"}' in text
    async with websockets.connect(live_server.sync_url(list_id)) as bad:
        await bad.send(b"\x09")
        await asyncio.wait_for(bad.wait_closed(), 5)
    text = httpx.get(f"{live_server.url}/metrics").text
    assert metric(text, 'listok_rejected_messages_total{reason="protocol"}') == 1


async def test_message_rate_limit_closes_4429(server_factory: ServerFactory) -> None:
    server = server_factory({"LISTOK_RATE_LIMIT": "20"})
    list_id = server.create_list()
    async with server.client(list_id) as honest:
        await honest.wait_synced()
        async with websockets.connect(server.sync_url(list_id)) as flood:
            for n in range(200):
                try:
                    await flood.send(b"\x01\x01\x00")  # an empty awareness update: harmless
                except websockets.ConnectionClosed:
                    break
                if n % 50 == 0:
                    await asyncio.sleep(0)
            await asyncio.wait_for(flood.wait_closed(), 5)
            assert flood.close_code == 4429
        assert honest.close_code is None


async def test_list_size_quota_closes_4413_and_answers_413(server_factory: ServerFactory) -> None:
    server = server_factory({"LISTOK_MAX_LIST_BYTES": "3000"})
    list_id = server.create_list()
    async with server.client(list_id) as client:
        await client.wait_synced()
        schema.add_item(client.doc, schema.new_item("n" * 200, note="x" * 900, order="a0"), "a")
        await wait_for(lambda: server.get_list(list_id)["items"])
        schema.add_item(client.doc, schema.new_item("m" * 200, note="y" * 900, order="a1"), "b")
        schema.add_item(client.doc, schema.new_item("o" * 200, note="z" * 900, order="a2"), "c")
        assert await client.wait_closed() == 4413
    assert len(server.get_list(list_id)["items"]) < 3
    big = server.api("POST", "/items", list_id, json={"name": "p", "note": "q" * 1000})
    assert big.status_code == 413 and big.json()["ok"] is False


def test_json_logs(server_factory: ServerFactory) -> None:
    server = server_factory({"LISTOK_LOG_FORMAT": "json"})
    list_id = server.create_list()
    server.get_list(list_id)
    server.stop()
    lines = [json.loads(line) for line in server.log().splitlines() if line.startswith("{")]
    access = [entry for entry in lines if entry["logger"] == "listok.access"]
    assert any(e["path"] == f"/api/lists/{list_id}" and e["status"] == 200 for e in access)
    assert all({"time", "level", "message"} <= set(entry) for entry in lines)
