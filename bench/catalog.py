"""Catalog benchmark: import a generated feed, then time product lookups in-process and over HTTP.

    .venv/bin/python bench/catalog.py [--offers 100000] [--big-mb 200] [--rounds 30]

The feed is made up at run time (tests/fixtures/catalog/generate.py) and never committed. Peak
RSS is the import command's own (a child process, read from wait4). --big-mb also imports a
feed of about that size, to show memory stays bounded. Figures go into docs/catalog.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "fixtures" / "catalog"))

from generate import kaspi_feed  # noqa: E402

from server.catalog import search  # noqa: E402
from store.catalog import CatalogStore  # noqa: E402
from tests.support import ServerProcess  # noqa: E402

TARGET_P50_MS = 10.0  # issue 12: p50 under 10 ms on a 100,000-offer catalog

# What people type into the add box, letter by letter, and whole names.
QUERIES = [
    "мо",
    "мол",
    "моло",
    "молок",
    "молоко",
    "молоко 3,2",
    "хл",
    "хлеб",
    "хлеб белый",
    "сыр",
    "сыр российский",
    "яйца",
    "гречка",
    "кефир",
    "пельмени",
    "бананы",
    "филе куриное",
    "малоко",
    "пелмени",
    "шоколад молочный",
    "туалетная бумага",
    "масло сливочное",
    "apples",
    "milk",
    "tomatoes",
    "несуществующее",
]


def import_command(feed: Path, data: Path, store: str) -> tuple[float, int, str]:
    """Seconds, peak RSS in KiB and the summary line of `listok catalog import`."""
    started = time.monotonic()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "server.cli",
            "catalog",
            "import",
            str(feed),
            "--store",
            store,
            "--data-dir",
            str(data),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "LISTOK_MODEL": "off"},
    )
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.monotonic() - started
    out = proc.stdout.read().decode() if proc.stdout else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"import failed: {out}")
    return seconds, usage.ru_maxrss, out.strip()


def percentiles(samples: list[float]) -> tuple[float, float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return statistics.median(ordered), p95, ordered[-1]


def in_process(db: Path, rounds: int) -> tuple[list[float], list[float]]:
    """Wall and CPU milliseconds per lookup (CPU time is what the load of others can't inflate)."""
    catalog = CatalogStore(db)
    for q in QUERIES:  # warm the page cache and pymorphy3
        search(catalog, q, limit=10)
    wall, cpu = [], []
    for _ in range(rounds):
        for q in QUERIES:
            started, used = time.perf_counter(), time.process_time()
            search(catalog, q, limit=10)
            wall.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - used) * 1000)
    catalog.close()
    return wall, cpu


def over_http(data: Path, rounds: int) -> list[float]:
    server = ServerProcess(data).start()
    try:
        list_id = server.create_list("bench")
        headers = server.auth(list_id)
        samples = []
        with httpx.Client(base_url=server.url, headers=headers) as client:
            for q in QUERIES:
                client.get("/api/products", params={"q": q, "limit": 10})
            for _ in range(rounds):
                for q in QUERIES:
                    started = time.perf_counter()
                    response = client.get("/api/products", params={"q": q, "limit": 10})
                    samples.append((time.perf_counter() - started) * 1000)
                    assert response.status_code == 200, response.text
        return samples
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--offers", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--big-mb", type=int, default=0, help="also import a feed this big")
    parser.add_argument(
        "--lookups-only", type=Path, help="time lookups on DIR/listok.db (no generation, import)"
    )
    args = parser.parse_args()
    if args.lookups_only:
        print("| step | figure |\n| --- | --- |")
        lookups(args.lookups_only, args.rounds)
        return
    with tempfile.TemporaryDirectory(prefix="listok-bench-catalog-") as tmp:
        work = Path(tmp)
        feed = kaspi_feed(work / "feed.xml", args.offers)
        size = feed.stat().st_size / 2**20
        data = work / "data"
        seconds, rss, line = import_command(feed, data, "Bench")
        print(f"# Catalog benchmark ({args.offers} offers, {size:.1f} MiB Kaspi XML)\n")
        print("| step | figure |\n| --- | --- |")
        print(f"| import | {seconds:.1f} s, peak RSS {rss / 1024:.0f} MiB ({line}) |")
        repriced = kaspi_feed(work / "feed2.xml", args.offers - args.offers // 20, seed=99)
        seconds2, rss2, line2 = import_command(repriced, data, "Bench")
        print(
            f"| re-import, repriced, 5% gone | {seconds2:.1f} s, peak RSS {rss2 / 1024:.0f} MiB "
            f"({line2}) |"
        )
        lookups(data, args.rounds)
        if args.big_mb:
            big_import(work, feed.stat().st_size / args.offers, args.big_mb)


def lookups(data: Path, rounds: int) -> None:
    wall, cpu = in_process(data / "listok.db", rounds)
    local, local_cpu = percentiles(wall), percentiles(cpu)
    http = percentiles(over_http(data, rounds))
    n = len(QUERIES) * rounds
    for label, (p50, p95, top) in (
        (f"lookup in-process, {n} queries, wall", local),
        ("the same, CPU time of the lookup", local_cpu),
        (f"GET /api/products over HTTP, {n} requests", http),
    ):
        print(f"| {label} | p50 {p50:.2f} ms, p95 {p95:.2f} ms, max {top:.1f} ms |")
    verdict = "met" if http[0] < TARGET_P50_MS else "NOT met"
    print(f"\nTarget: p50 of GET /api/products under {TARGET_P50_MS:g} ms: {verdict}.")
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"\nLoad average after the lookups: {load} on {os.cpu_count()} CPUs.")


def big_import(work: Path, per_offer: float, megabytes: int) -> None:
    big = kaspi_feed(work / "big.xml", int(megabytes * 2**20 / per_offer), seed=5)
    size = big.stat().st_size / 2**20
    seconds, rss, line = import_command(big, work / "big-data", "Big")
    print(f"| import {size:.0f} MiB | {seconds:.0f} s, peak RSS {rss / 1024:.0f} MiB ({line}) |")


if __name__ == "__main__":
    main()
