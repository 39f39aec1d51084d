"""`listok suggest`, `listok export`, and a list leaving memory after its grace period."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import httpx

from server import schema
from tests.support import ROOT, ServerFactory, ServerProcess, wait_for


def listok(*args: str) -> subprocess.CompletedProcess[str]:
    # Fresh lists count for `together` here (by default only established lists do:
    # docs/decisions/together-privacy.md).
    env = {
        **os.environ,
        "LISTOK_MODEL": "off",
        "LISTOK_TOGETHER_MIN_AGE_DAYS": "0",
        "LISTOK_TOGETHER_MIN_TRIPS": "0",
    }
    return subprocess.run(
        [sys.executable, "-m", "server.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_suggest_and_export_from_the_command_line(live_server: ServerProcess) -> None:
    for n in range(3):
        other = live_server.create_list(f"week {n}")
        live_server.api(
            "POST",
            "/items/bulk",
            other,
            json={"items": [{"name": "tea"}, {"name": "lemon"}, {"name": "honey"}]},
        )
    list_id = live_server.create_list("Cold")
    live_server.api(
        "POST", "/items/bulk", list_id, json={"items": [{"name": "tea"}, {"name": "lemon"}]}
    )
    data_dir = str(live_server.data_dir)
    run = listok("suggest", list_id, "--data-dir", data_dir)  # while the server runs
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0] == "# Cold (en); model: absent"
    assert lines[1].split("\t")[:2] == ["honey", "together"]
    exported = listok("export", list_id, "--data-dir", data_dir, "--format", "markdown")
    assert exported.stdout.splitlines() == ["# Cold", "", "- [ ] tea", "- [ ] lemon"]
    missing = listok("suggest", "5a2b1c3d-0000-4000-8000-000000000009", "--data-dir", data_dir)
    assert missing.returncode == 1 and "no list" in missing.stderr
    # A prompt the dish table knows is answered without a model; one nothing is near, and no
    # model, is a one-line error, not a traceback.
    dish = listok("suggest", list_id, "--prompt", "pancakes for 4", "--data-dir", data_dir)
    assert dish.returncode == 0 and "\tdish\t" in dish.stdout, dish.stderr
    unknown = listok("suggest", list_id, "--prompt", "qwxzv", "--data-dir", data_dir)
    assert unknown.returncode == 1 and unknown.stderr.startswith("listok: "), unknown.stderr
    assert "Traceback" not in unknown.stderr


def lists_in_memory(server: ServerProcess) -> float:
    text = httpx.get(f"{server.url}/metrics").text
    match = re.search(r"^listok_lists_in_memory (\S+)$", text, re.M)
    assert match
    return float(match.group(1))


async def test_idle_list_leaves_memory_after_grace_and_comes_back_intact(
    server_factory: ServerFactory,
) -> None:
    server: ServerProcess = server_factory({"LISTOK_IDLE_UNLOAD_SECONDS": "0.5"})
    list_id = server.create_list()
    async with server.client(list_id) as client:
        await client.wait_synced()
        schema.add_item(client.doc, schema.new_item("rice", order="a0"), "rice")
        await wait_for(lambda: server.get_list(list_id)["items"])
        assert lists_in_memory(server) == 1
    await wait_for(lambda: lists_in_memory(server) == 0, what="the idle list unloaded")
    async with server.client(list_id) as again:
        await again.wait_synced()
        assert [i["name"] for i in schema.list_items(again.doc)] == ["rice"]
        assert lists_in_memory(server) == 1
