"""The catalog through a running server: CLI imports beside it, lookup, links, totals, aisles."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import msgspec

from server import bodies
from tests.support import ROOT, ServerProcess, wait_for

FIXTURES = Path(__file__).parent / "fixtures" / "catalog"
ADMIN = "admin-token-for-tests-0123456789abcdef"

# Imports and admin calls can take seconds on a loaded 2-core machine: httpx's 5 s default is
# too short for a behaviour test.
http = httpx.Client(timeout=60)


def listok(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LISTOK_MODEL": "off", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "server.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def products(server: ServerProcess, token: str | None, **params: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return http.get(f"{server.url}/api/products", params=params, headers=headers)


def test_cli_imports_while_the_server_runs_and_lookup_needs_a_list_token(
    live_server: ServerProcess,
) -> None:
    list_id = live_server.create_list()
    token = live_server.tokens[list_id]
    data = str(live_server.data_dir)
    done = listok(
        "catalog", "import", str(FIXTURES / "kaspi.xml"), "--store", "Magnum", "--data-dir", data
    )
    assert done.returncode == 0, done.stderr
    assert "Magnum: 300 offers" in done.stdout
    done = listok(
        "catalog",
        "import",
        str(FIXTURES / "prices_cp1251.csv"),
        "--store",
        "Small",
        "--currency",
        "kzt",
        "--data-dir",
        data,
    )
    assert done.returncode == 0, done.stderr

    response = products(live_server, token, q="молоко", limit=3)
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert len(items) == 3 and items[0]["name"].startswith("Молоко")
    assert {"name", "brand", "price", "currency", "store", "sku", "unit", "available"} <= set(
        items[0]
    )
    small = products(live_server, token, q="молоко", store="Small").json()["items"]
    assert small and {i["store"] for i in small} == {"Small"} and small[0]["currency"] == "KZT"

    assert products(live_server, None, q="молоко").status_code == 401
    assert products(live_server, "x" * 40, q="молоко").status_code == 401
    assert products(live_server, token, q="").status_code == 422
    assert products(live_server, token, q="молоко", limit=0).status_code == 422

    listed = listok("catalog", "list", "--data-dir", data)
    assert "Magnum\tkaspi\t300 offers" in listed.stdout
    refused = listok("catalog", "import", str(FIXTURES / "xxe.xml"), "--data-dir", data)
    assert refused.returncode == 1 and "DTD" in refused.stderr
    assert listok("catalog", "remove", "Small", "--data-dir", data).returncode == 0
    assert products(live_server, token, q="молоко", store="Small").json()["items"] == []


def test_admin_api_is_off_without_a_token_and_imports_with_one(
    server_factory: Callable[..., ServerProcess],
) -> None:
    off = server_factory(name="off")
    refused = http.get(f"{off.url}/api/admin/catalog")
    assert refused.status_code == 401 and "admin API is off" in refused.json()["error"]

    server = server_factory({"LISTOK_ADMIN_TOKEN": ADMIN}, name="on")
    url = f"{server.url}/api/admin/catalog"
    admin = {"Authorization": f"Bearer {ADMIN}"}
    assert http.get(url).status_code == 401
    assert http.get(url, headers={"Authorization": "Bearer nope"}).status_code == 401
    body = (FIXTURES / "shop.yml").read_bytes()
    response = http.post(url, content=body, headers=admin, params={"store": "Market"})
    assert response.status_code == 201, response.text
    assert response.json()["offers"] == 60
    broken = http.post(
        url,
        content=(FIXTURES / "broken.xml").read_bytes(),
        headers=admin,
        params={"store": "Market"},
    )
    assert broken.status_code == 422 and "line 6" in broken.json()["error"]
    stores = http.get(url, headers=admin).json()["stores"]
    assert [(s["store"], s["offers"], s["format"]) for s in stores] == [("Market", 60, "yml")]
    msgspec.json.decode(http.get(url, headers=admin).content, type=bodies.CatalogStores)
    # /admin shows both imports as jobs, and the catalog section of the state shows them too.
    state = http.get(f"{server.url}/api/admin/state", headers=admin).json()
    imports = state["catalog"]["imports"]
    assert [(j["kind"], j["state"]) for j in imports] == [
        ("catalog import", "failed"),
        ("catalog import", "done"),
    ]
    failed, done = imports
    assert "line 6" in failed["error"]
    assert done["detail"] == "Market" and done["done"] == done["total"] == len(body)
    assert [j["id"] for j in state["jobs"] if j["kind"] == "catalog import"] == [
        failed["id"],
        done["id"],
    ]
    assert [s["store"] for s in state["catalog"]["stores"]] == ["Market"]
    # The one admin token: a token made by `listok admin token` works here as well.
    made = listok("admin", "token", "--data-dir", str(server.data_dir))
    assert made.returncode == 0, made.stderr
    second = made.stdout.strip().split()[-1]
    listed = http.get(url, headers={"Authorization": f"Bearer {second}"})
    assert listed.status_code == 200, listed.text
    assert http.delete(f"{url}/Market", headers=admin).status_code == 204
    assert http.delete(f"{url}/Market", headers=admin).status_code == 404


def test_item_product_link_and_list_totals(live_server: ServerProcess) -> None:
    data = str(live_server.data_dir)
    assert (
        listok(
            "catalog",
            "import",
            str(FIXTURES / "kaspi.xml"),
            "--store",
            "Magnum",
            "--data-dir",
            data,
        ).returncode
        == 0
    )
    assert (
        listok(
            "catalog",
            "import",
            str(FIXTURES / "prices_utf8.csv"),
            "--store",
            "Small",
            "--currency",
            "KZT",
            "--data-dir",
            data,
        ).returncode
        == 0
    )
    list_id = live_server.create_list()
    token = live_server.tokens[list_id]
    added = live_server.api(
        "POST",
        "/items/bulk",
        list_id,
        json={
            "items": [
                {"name": "молоко", "qty": 2},
                {"name": "хлеб белый"},
                {"name": "гвозди"},
                {"name": "сыр"},
            ]
        },
    ).json()["items"]
    milk, bread, nails, cheese = (i["id"] for i in added)
    offer = products(live_server, token, q="сыр российский", store="Magnum").json()["items"][0]
    link = {k: offer[k] for k in ("store", "sku", "name", "price", "currency")}
    patched = live_server.api("PATCH", f"/items/{cheese}", list_id, json={"product": link})
    assert patched.status_code == 200, patched.text
    assert patched.json()["product"] == link
    assert (
        live_server.api(
            "PATCH", f"/items/{cheese}", list_id, json={"product": {"store": "x"}}
        ).status_code
        == 422
    )
    assert (
        live_server.api(
            "PATCH", f"/items/{cheese}", list_id, json={"product": {**link, "price": -1}}
        ).status_code
        == 422
    )
    assert (
        live_server.api("PATCH", f"/items/{cheese}", list_id, json={"product": 5}).status_code
        == 422
    )

    body = live_server.get_list(list_id)
    assert body["items"][3]["product"] == link
    # The answers are the declared ones (server/bodies.py, published in /api/openapi.json).
    answer = live_server.api("GET", "", list_id).content
    declared = msgspec.json.decode(answer, type=bodies.List, strict=True)
    assert isinstance(declared.totals, bodies.Totals) and declared.shop is None
    found = products(live_server, token, q="молоко")
    assert msgspec.json.decode(found.content, type=bodies.Products, strict=True).items
    totals = body["totals"]
    by_store = {s["store"]: s for s in totals["stores"]}
    magnum = by_store["Magnum"]
    assert magnum["priced"] == 3 and magnum["unpriced"] == 1  # no nails in a grocery list
    best_milk = products(live_server, token, q="молоко", store="Magnum").json()["items"][0]
    best_bread = products(live_server, token, q="хлеб белый", store="Magnum").json()["items"][0]
    expected = 2 * best_milk["price"] + best_bread["price"] + offer["price"]
    assert magnum["total"] == round(expected, 2)
    assert magnum["catalog_date"] == "2026-11-20 08:00" and magnum["stale"] is False
    assert totals["cheapest"] in by_store
    assert totals["items"] == 4

    # A ticked item no longer counts.
    live_server.api("PATCH", f"/items/{milk}", list_id, json={"checked": True})
    again = {s["store"]: s for s in live_server.get_list(list_id)["totals"]["stores"]}
    assert again["Magnum"]["total"] == round(expected - 2 * best_milk["price"], 2)
    # An item the table could not file takes the linked product's category.
    assert live_server.api("GET", f"/items/{nails}", list_id).json()["category"] == "other"
    linked = live_server.api("PATCH", f"/items/{nails}", list_id, json={"product": link})
    assert linked.json()["category"] == "dairy"
    # Unlinking works too.
    assert (
        live_server.api("PATCH", f"/items/{cheese}", list_id, json={"product": None}).json()[
            "product"
        ]
        is None
    )
    del bread


def test_shop_aisle_order_is_learned_from_ticks_and_set_by_hand(live_server: ServerProcess) -> None:
    first = live_server.create_list("week 1")
    second = live_server.create_list("week 2")
    assert live_server.api("GET", "/shop", first).json() == {
        "shop": None,
        "order": [],
        "learned": [],
        "manual": None,
    }
    for list_id in (first, second):
        response = live_server.api("PUT", "/shop", list_id, json={"shop": "Magnum"})
        assert response.status_code == 200, response.text
    names = [("bread", "bakery"), ("milk", "dairy"), ("apples", "produce"), ("ice cream", "frozen")]
    added = live_server.api(
        "POST", "/items/bulk", first, json={"items": [{"name": n, "category": c} for n, c in names]}
    ).json()["items"]
    ids = {i["name"]: i["id"] for i in added}
    # Walking through the shop: produce first, then bakery, dairy, frozen.
    for name in ("apples", "bread", "milk", "ice cream"):
        assert (
            live_server.api(
                "PATCH", f"/items/{ids[name]}", first, json={"checked": True}
            ).status_code
            == 200
        )
    answer = live_server.api("GET", "/shop", first)
    msgspec.json.decode(answer.content, type=bodies.Shop, strict=True)
    shop = answer.json()
    assert shop["learned"] == ["produce", "bakery", "dairy", "frozen"]
    # Shared by every list on that shop.
    assert live_server.api("GET", "/shop", second).json()["order"] == shop["learned"]
    # Set by hand: the manual order comes first, learned categories it lacks follow.
    manual = live_server.api(
        "PUT", "/shop", second, json={"shop": "Magnum", "order": ["dairy", "produce"]}
    )
    assert manual.json()["order"] == ["dairy", "produce", "bakery", "frozen"]
    assert live_server.api("GET", "/shop", first).json()["manual"] == ["dairy", "produce"]
    bad = live_server.api("PUT", "/shop", first, json={"shop": "Magnum", "order": "dairy"})
    assert bad.status_code == 422 and bad.json()["field"] == "order"
    shopless = live_server.api("PUT", "/shop", first, json={"order": ["dairy"]})
    assert shopless.status_code == 422 and "give the shop" in shopless.json()["error"]
    control = live_server.api("PUT", "/shop", first, json={"shop": "Mag\u0000num"})
    assert control.status_code == 422
    unknown = live_server.api("PUT", "/shop", first, json={"shop": "Magnum", "order": ["aisle 9"]})
    assert unknown.status_code == 422
    # Another shop has its own order.
    other = live_server.api("PUT", "/shop", second, json={"shop": "Small"})
    assert other.json() == {"shop": "Small", "order": [], "learned": [], "manual": None}
    view = live_server.api("POST", "/shares", first, json={"role": "view"}).json()["token"]
    assert (
        live_server.api("PUT", "/shop", first, token=view, json={"shop": None}).status_code == 403
    )
    assert live_server.api("PUT", "/shop", first, json={"shop": None}).json()["shop"] is None


def test_totals_work_is_bounded_per_request(server_factory: Callable[..., ServerProcess]) -> None:
    server = server_factory({"LISTOK_CATALOG_TOTALS_MAX_LOOKUPS": "4"})
    data = str(server.data_dir)
    for name, store in (("kaspi.xml", "A"), ("shop.yml", "B")):
        done = listok(
            "catalog", "import", str(FIXTURES / name), "--store", store, "--data-dir", data
        )
        assert done.returncode == 0, done.stderr
    list_id = server.create_list()
    names = ["молоко", "хлеб", "сыр", "кефир", "гречка"]
    server.api("POST", "/items/bulk", list_id, json={"items": [{"name": n} for n in names]})
    totals = server.get_list(list_id)["totals"]
    assert totals["partial"] is True and totals["items"] == 5
    # 4 lookups over 2 stores: the first 2 unchecked items are priced in each.
    assert [s["priced"] + s["unpriced"] for s in totals["stores"]] == [2, 2]


def test_an_import_runs_beside_list_writes_and_lookups(
    live_server: ServerProcess, tmp_path: Path
) -> None:
    sys.path.insert(0, str(FIXTURES))
    from generate import kaspi_feed

    data = str(live_server.data_dir)
    assert (
        listok(
            "catalog", "import", str(FIXTURES / "kaspi.xml"), "--store", "M", "--data-dir", data
        ).returncode
        == 0
    )
    big = kaspi_feed(tmp_path / "big.xml", 20_000, seed=4)
    list_id = live_server.create_list()
    token = live_server.tokens[list_id]
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "server.cli",
            "catalog",
            "import",
            str(big),
            "--store",
            "M",
            "--data-dir",
            data,
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "LISTOK_MODEL": "off"},
    )
    writes = 0
    try:
        while proc.poll() is None:
            added = live_server.api(
                "POST", "/items", list_id, json={"name": f"item {writes}", "duplicate": "add"}
            )
            assert added.status_code == 201, added.text
            found = products(live_server, token, q="молоко", store="M")
            assert found.status_code == 200 and found.json()["items"]
            writes += 1
    finally:
        out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert "M: 20000 offers" in out
    assert writes >= 3  # the writes really ran while the import did
    assert len(live_server.get_list(list_id)["items"]) == writes


def test_with_lists_in_postgresql_the_catalog_is_a_sqlite_file_in_the_data_dir(
    server_factory: Callable[..., ServerProcess], pg_url: str
) -> None:
    """The catalog is SQLite-only (FTS5): beside PostgreSQL lists it lives in catalog.db."""
    server = server_factory({"LISTOK_DATABASE_URL": pg_url})
    data = str(server.data_dir)
    done = listok(
        "catalog",
        "import",
        str(FIXTURES / "kaspi.xml"),
        "--store",
        "Magnum",
        "--data-dir",
        data,
        env={"LISTOK_DATABASE_URL": pg_url},
    )
    assert done.returncode == 0, done.stderr
    list_id = server.create_list()
    token = server.tokens[list_id]
    found = products(server, token, q="молоко", limit=1).json()["items"]
    assert found and found[0]["store"] == "Magnum"
    server.api("POST", "/items", list_id, json={"name": "молоко"})
    totals = server.get_list(list_id)["totals"]
    assert [(s["store"], s["priced"]) for s in totals["stores"]] == [("Magnum", 1)]
    assert (server.data_dir / "catalog.db").exists()
    assert not (server.data_dir / "listok.db").exists()  # the lists are in PostgreSQL


async def test_an_admin_upload_shows_its_progress_as_a_job(
    server_factory: Callable[..., ServerProcess], tmp_path: Path
) -> None:
    sys.path.insert(0, str(FIXTURES))
    from generate import kaspi_feed

    server = server_factory({"LISTOK_ADMIN_TOKEN": ADMIN})
    admin = {"Authorization": f"Bearer {ADMIN}"}
    feed = kaspi_feed(tmp_path / "big.xml", 20_000, seed=5).read_bytes()
    async with httpx.AsyncClient(base_url=server.url, headers=admin, timeout=300) as client:
        upload = asyncio.create_task(
            client.post("/api/admin/catalog", content=feed, params={"store": "Big"})
        )

        async def part_done() -> dict[str, Any] | None:
            jobs = (await client.get("/api/admin/jobs")).json()["jobs"]
            return next((j for j in jobs if j["state"] == "running" and j["done"]), None)

        running = await wait_for(part_done, timeout=120, what="a running import with progress")
        assert running["kind"] == "catalog import" and running["total"] == len(feed)
        assert 0 < running["done"] < running["total"]
        second = await client.post("/api/admin/catalog", content=b"name,price\nx,1\n")
        assert second.status_code == 409  # one import at a time
        response = await upload
    assert response.status_code == 201, response.text
    assert response.json()["offers"] == 20_000
    jobs = http.get(f"{server.url}/api/admin/jobs", headers=admin).json()["jobs"]
    assert [(j["state"], j["done"] == j["total"]) for j in jobs] == [("done", True)]
