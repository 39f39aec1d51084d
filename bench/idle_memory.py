"""What an idle socket costs inside a Listok server: RSS and tracemalloc deltas over N sockets.

    .venv/bin/python bench/idle_memory.py N WS [notrace|lines]

WS is uvicorn's WebSocket implementation: websockets-sansio, websockets or wsproto. Runs the
server in this process (uvicorn on the loop `listok serve` uses), opens N idle sockets (10 per
list, nothing sent) from a child process, then prints kB per connection: RSS, and Python
allocations by file with tracemalloc (`notrace`: RSS without tracemalloc's own overhead;
`lines`: also the top allocation lines). See docs/decisions/uvicorn-websocket-implementation.md.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import subprocess
import sys
import tempfile
import tracemalloc
import urllib.request
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

CLIENT = r"""
import asyncio, sys, json
from websockets.asyncio.client import connect
async def main():
    conns = [await connect(url, ping_interval=None) for url in json.loads(sys.argv[1])]
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
asyncio.run(main())
"""


def rss_kb() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS"):
                return int(line.split()[1])
    return 0


async def hold(urls: list[str]) -> asyncio.subprocess.Process:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        CLIENT,
        json.dumps(urls),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert proc.stdout is not None
    line = await proc.stdout.readline()
    assert line.strip() == b"ready", line
    return proc


async def release(proc: asyncio.subprocess.Process) -> None:
    assert proc.stdin is not None
    proc.stdin.write(b"\n")
    await proc.stdin.drain()
    await proc.wait()


async def main(n: int, trace: bool, lines: bool) -> None:
    import uvicorn

    from server.cli import listening_socket, uvicorn_config
    from server.settings import Settings

    settings = Settings.from_env(data_dir=Path(tempfile.mkdtemp()), port=0)
    sock = listening_socket("127.0.0.1", 0)
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn_config(settings))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        await asyncio.sleep(0.01)
    lists = []
    for _ in range(max(1, n // 10)):
        list_id = str(uuid.uuid4())
        req = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/lists/{list_id}",
            method="PUT",
            data=b"{}",
            headers={"content-type": "application/json"},
        )
        body = await asyncio.to_thread(lambda r=req: json.load(urllib.request.urlopen(r)))
        lists.append((list_id, body["token"]))
    urls = [f"ws://127.0.0.1:{port}/sync/{i}?token={t}" for i, t in lists for _ in range(10)][:n]
    await release(await hold(urls[:20]))  # warm up: lazy imports, caches
    await asyncio.sleep(1.0)
    gc.collect()
    if trace:
        tracemalloc.start(5)
    before = rss_kb()
    snap0 = tracemalloc.take_snapshot() if trace else None
    proc = await hold(urls)
    await asyncio.sleep(2.0)
    gc.collect()
    after = rss_kb()
    print(f"ws={settings.ws} loop={type(asyncio.get_running_loop()).__module__} sockets={n}")
    print(f"RSS: {(after - before) / n:.1f} kB/connection (tracemalloc {'on' if trace else 'off'})")
    if snap0 is not None:
        snap1 = tracemalloc.take_snapshot()
        stats = snap1.compare_to(snap0, "filename")
        total = sum(s.size_diff for s in stats)
        print(f"tracemalloc: {total / n / 1024:.2f} kB/connection of Python allocations")
        for s in stats[:14]:
            where = s.traceback[0].filename.split("site-packages/")[-1]
            print(f"  {s.size_diff / n:8.0f} B/conn {s.count_diff / n:6.1f} blocks  {where}")
        if lines:
            for s in snap1.compare_to(snap0, "lineno")[:25]:
                print(f"  {s.size_diff / n:8.0f} B/conn {s.traceback[0]}")
    await release(proc)
    server.should_exit = True
    await task


if __name__ == "__main__":
    count, ws = int(sys.argv[1]), sys.argv[2]
    mode = sys.argv[3] if len(sys.argv) > 3 else ""
    os.environ.update(
        LISTOK_WS=ws,
        LISTOK_MAX_SOCKETS_PER_ADDRESS="0",
        LISTOK_MAX_SOCKETS_PER_TOKEN="0",
        LISTOK_LIST_CREATIONS_PER_MINUTE="0",
        LISTOK_REQUESTS_PER_SECOND="0",
        LISTOK_MODEL="off",
        LISTOK_LOG_LEVEL="warning",
    )
    from server.cli import uvicorn_config
    from server.settings import Settings

    factory = uvicorn_config(Settings.from_env()).get_loop_factory()
    with asyncio.Runner(loop_factory=factory) as runner:
        runner.run(main(count, mode != "notrace", mode == "lines"))
