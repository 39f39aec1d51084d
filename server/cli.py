"""`listok serve` and friends: a thin layer over create_app and uvicorn."""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import sys
from pathlib import Path
from typing import Any

import uvicorn

from server import remote_cli
from server.app import create_app
from server.logs import configure as configure_logging
from server.settings import Settings


def uvicorn_config(settings: Settings, **overrides: object) -> uvicorn.Config:
    """The uvicorn settings Listok needs: liveness pings, frame limit, quick graceful exit."""
    half = settings.liveness_timeout / 2
    options: dict[str, object] = {
        "host": settings.host,
        "port": settings.port,
        "ws_max_size": settings.max_message_bytes,
        "ws_ping_interval": half,
        "ws_ping_timeout": half,
        "ws": settings.ws,
        "ws_per_message_deflate": False,
        "timeout_graceful_shutdown": 3,
        "log_level": settings.log_level,
        "log_config": None,  # our own handlers (server/logs.py); uvicorn's access log is off
        "access_log": False,
        "lifespan": "on",
        "loop": settings.loop,
    }
    options.update(overrides)
    return uvicorn.Config(create_app(settings), **options)  # type: ignore[arg-type]


def listening_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto must say TCP: asyncio sets TCP_NODELAY on accepted sockets only when it does, and
    # with Nagle on, small frames wait for the peer's delayed ACK (tens of ms of fan-out).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    return sock


def serve(settings: Settings) -> None:
    sock = listening_socket(settings.host, settings.port)
    host, port = sock.getsockname()[:2]
    config = uvicorn_config(settings)
    server = uvicorn.Server(config)

    async def main() -> None:
        task = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started and not task.done():
            await asyncio.sleep(0.01)
        if server.started:
            print(f"listok listening on http://{host}:{port}", flush=True)
        await task

    # uvicorn.run would pick the loop; serving our own socket, we do (uvloop: ~1/3 less CPU per
    # delivered update than asyncio's selector loop, docs/decisions/uvloop-event-loop.md).
    with asyncio.Runner(loop_factory=config.get_loop_factory()) as runner:
        runner.run(main())


async def _suggest(settings: Settings, list_id: str, prompt: str | None, limit: int) -> int:
    """Suggestions for one list, read straight from the data dir (the server may be running)."""
    from pycrdt import Doc

    from models.suggest import Suggester
    from server.suggestions import HISTORY_EVENTS, build_record
    from store import open_store
    from store.replay import apply_history

    store = open_store(settings.database_url or settings.db_path, synchronous=settings.synchronous)
    try:
        if store.get_list(list_id) is None:
            where = "the database" if settings.database_url else settings.db_path
            print(f"listok: no list {list_id} in {where}", file=sys.stderr)
            return 1
        suggester = Suggester.from_env()
        suggester.start()
        records = {}
        for other in store.list_ids():
            doc: Doc[Any] = Doc()
            apply_history(doc, store.load(other), other)
            records[other] = build_record(other, doc, store.events_after(other, 0, HISTORY_EVENTS))
            suggester.update(records[other])
        if suggester.model is not None:
            await asyncio.to_thread(suggester.model.wait_ready, 120)
        record = records[list_id]
        if prompt:
            result = await suggester.for_prompt(record, prompt, limit=limit)
        else:
            result = await suggester.suggest(record, limit=limit)
        print(f"# {record.title or list_id} ({record.lang}); model: {result.model}")
        for s in result.suggestions:
            print(f"{s.name}\t{s.source}\t{s.reason}")
        suggester.stop()
        return 0
    finally:
        store.close()


def _export(settings: Settings, list_id: str, fmt: str) -> int:
    from pycrdt import Doc

    from server import schema
    from server.transfer import FORMAT, as_markdown, as_text
    from store import open_store
    from store.replay import apply_history

    store = open_store(settings.database_url or settings.db_path, synchronous=settings.synchronous)
    try:
        if store.get_list(list_id) is None:
            where = "the database" if settings.database_url else settings.db_path
            print(f"listok: no list {list_id} in {where}", file=sys.stderr)
            return 1
        doc: Doc[Any] = Doc()
        apply_history(doc, store.load(list_id), list_id)
        data = schema.list_to_json(list_id, doc)
        if fmt == "json":
            print(json.dumps({"format": FORMAT, **data}, ensure_ascii=False, indent=2))
        elif fmt == "markdown":
            print(as_markdown(data["title"], data["items"]), end="")
        else:
            print(as_text(data["items"]), end="")
        return 0
    finally:
        store.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="listok", description="Listok shared shopping lists")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("serve", help="start the server")
    run.add_argument("--host", help="address to bind (LISTOK_HOST, default 127.0.0.1)")
    run.add_argument("--port", type=int, help="port, 0 for any free one (LISTOK_PORT, 8000)")
    run.add_argument(
        "--data-dir", type=Path, help="where listok.db lives (LISTOK_DATA_DIR, ./data)"
    )
    run.add_argument("--log-level", help="debug, info, warning (LISTOK_LOG_LEVEL)")
    suggest = commands.add_parser("suggest", help="print suggestions for a list")
    suggest.add_argument("list_id")
    suggest.add_argument("--prompt", help='a dish or occasion, e.g. "борщ на 6" (needs the model)')
    suggest.add_argument("--limit", type=int, default=10)
    suggest.add_argument("--data-dir", type=Path, help="where listok.db lives (LISTOK_DATA_DIR)")
    export = commands.add_parser("export", help="print a list as json, text or markdown")
    export.add_argument("list_id")
    export.add_argument("--format", choices=["json", "text", "markdown"], default="text")
    export.add_argument("--data-dir", type=Path, help="where listok.db lives (LISTOK_DATA_DIR)")
    remote_cli.add_commands(commands)
    args = parser.parse_args(argv)
    if hasattr(args, "client"):
        sys.exit(remote_cli.run(args))
    if args.command == "suggest":
        settings = Settings.from_env(data_dir=args.data_dir)
        configure_logging("warning", "text")
        sys.exit(asyncio.run(_suggest(settings, args.list_id.lower(), args.prompt, args.limit)))
    if args.command == "export":
        settings = Settings.from_env(data_dir=args.data_dir)
        sys.exit(_export(settings, args.list_id.lower(), args.format))
    if args.command == "serve":
        settings = Settings.from_env(
            host=args.host, port=args.port, data_dir=args.data_dir, log_level=args.log_level
        )
        configure_logging(settings.log_level, settings.log_format)
        serve(settings)


if __name__ == "__main__":
    main()
