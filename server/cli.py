"""`listok serve` and friends: a thin layer over create_app and uvicorn."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import sys
from pathlib import Path
from typing import Any

import uvicorn

from server import remote_cli
from server.app import Listok, create_app
from server.catalog import add_catalog_commands
from server.logs import configure as configure_logging
from server.services import check_scale_out
from server.settings import Settings


def uvicorn_config(settings: Settings, app: object = None, **overrides: object) -> uvicorn.Config:
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
    return uvicorn.Config(app or create_app(settings), **options)  # type: ignore[arg-type]


def listening_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto must say TCP: asyncio sets TCP_NODELAY on accepted sockets only when it does, and
    # with Nagle on, small frames wait for the peer's delayed ACK (tens of ms of fan-out).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    return sock


def create_app_from_env() -> Listok:
    """The app of one worker of `listok serve --workers N`, from the LISTOK_* variables."""
    settings = Settings.from_env()
    configure_logging(settings.log_level, settings.log_format)
    return create_app(settings)


def serve_workers(settings: Settings, workers: int) -> None:
    """N processes on one socket under uvicorn's supervisor (a dead worker is replaced).

    The socket is bound and listening here, then handed to every worker; each builds its app
    from the LISTOK_* variables (set here from the flags), so every worker has the same
    settings. They share lists through PostgreSQL and Redis, which is why both are required.
    """
    if not (settings.database_url and settings.redis_url):
        raise SystemExit(
            "listok: --workers N > 1 needs LISTOK_DATABASE_URL (postgresql://...) and"
            " LISTOK_REDIS_URL: workers share lists through PostgreSQL and Redis"
        )
    from uvicorn.supervisors import Multiprocess

    sock = listening_socket(settings.host, settings.port)
    sock.listen(2048)  # connections wait in the backlog until a worker is up
    host, port = sock.getsockname()[:2]
    os.environ.update(
        {
            "LISTOK_WORKERS": "1",  # what each worker is
            "LISTOK_HOST": settings.host,
            "LISTOK_PORT": str(port),
            "LISTOK_DATA_DIR": str(settings.data_dir),
            "LISTOK_LOG_LEVEL": settings.log_level,
        }
    )
    config = uvicorn_config(
        settings, "server.cli:create_app_from_env", factory=True, workers=workers
    )
    print(f"listok: {workers} workers", flush=True)
    print(f"listok listening on http://{host}:{port}", flush=True)
    Multiprocess(config, sockets=[sock]).run()


def serve(settings: Settings, workers: int = 1) -> None:
    check_scale_out(settings)
    if workers > 1:
        serve_workers(settings, workers)
        return
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

    from server.suggestions import HISTORY_EVENTS, build_record, suggester_from
    from store import open_store
    from store.replay import apply_history

    store = open_store(settings.database_url or settings.db_path, synchronous=settings.synchronous)
    try:
        if store.get_list(list_id) is None:
            where = "the database" if settings.database_url else settings.db_path
            print(f"listok: no list {list_id} in {where}", file=sys.stderr)
            return 1
        suggester = suggester_from(settings)
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
        from models.llm import ModelError

        try:
            if prompt:
                result = await suggester.for_prompt(record, prompt, limit=limit)
            else:
                result = await suggester.suggest(record, limit=limit)
        except ModelError as exc:  # a prompt neither the table nor a model can answer
            print(f"listok: {exc}", file=sys.stderr)
            suggester.stop()
            return 1
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


def add_operator_commands(commands: Any) -> None:
    """backup, restore, check, lists, compact, admin token (server/maintenance.py)."""
    from server import maintenance as m

    def data_dir(args: argparse.Namespace) -> Path:
        return Settings.from_env(data_dir=args.data_dir).data_dir

    def run(fn: Any) -> Any:
        def wrapped(args: argparse.Namespace) -> int:
            try:
                return int(fn(args))
            except m.OperatorError as exc:
                print(f"listok {args.command}: {exc}", file=sys.stderr)
                return 1

        return wrapped

    def do_backup(args: argparse.Namespace) -> int:
        r = m.backup(data_dir(args), args.file, compress=args.compress)
        print(f"backed up {r.lists} list(s) to {r.path} ({m.human(r.bytes)}, {r.seconds:.1f} s)")
        return 0

    def do_restore(args: argparse.Namespace) -> int:
        r = m.restore(args.file, args.data_dir, force=args.force)
        print(f"restored {r.lists} list(s) into {r.path} ({m.human(r.bytes)}, {r.seconds:.1f} s)")
        return 0

    def do_check(args: argparse.Namespace) -> int:
        settings = Settings.from_env(data_dir=args.data_dir)
        if settings.database_url:
            report = m.check_database(settings.database_url)
        else:
            report = m.check(settings.data_dir)
        m.print_check(report)
        return 0 if report.ok else 2

    def do_lists(args: argparse.Namespace) -> int:
        directory = data_dir(args)
        rows = m.list_rows(directory, state=args.state, query=args.search or "")
        m.print_lists(rows, f"Listok lists in {directory}")
        print(f"{len(rows)} list(s)")
        return 0

    def do_compact(args: argparse.Namespace) -> int:
        count, before, after = m.compact_all(data_dir(args))
        print(f"compacted {count} list(s): history {m.human(before)} -> {m.human(after)}")
        return 0

    def do_admin_token(args: argparse.Namespace) -> int:
        from server.admin import make_token, token_file

        directory = data_dir(args)
        token = make_token(directory)
        print(f"admin token (shown once; its SHA-256 is in {token_file(directory)}):")
        print(token)
        return 0

    dir_help = "where listok.db lives (LISTOK_DATA_DIR, ./data)"
    p = commands.add_parser("backup", help="consistent copy of the database, server running or not")
    p.add_argument("file", type=Path)
    p.add_argument("--data-dir", type=Path, help=dir_help)
    p.add_argument("--compress", action="store_true", help="gzip the copy")
    p.set_defaults(func=run(do_backup))
    p = commands.add_parser("restore", help="put a backup into an empty data directory")
    p.add_argument("file", type=Path)
    p.add_argument("--data-dir", type=Path, required=True, help="the directory to restore into")
    p.add_argument("--force", action="store_true", help="replace the database of a non-empty dir")
    p.set_defaults(func=run(do_restore))
    p = commands.add_parser("check", help="integrity check, and every list's history decoded")
    p.add_argument("--data-dir", type=Path, help=dir_help)
    p.set_defaults(func=run(do_check))
    p = commands.add_parser("lists", help="every list with sizes and share links")
    p.add_argument("--data-dir", type=Path, help=dir_help)
    p.add_argument("--state", choices=["live", "deleted", "all"], default="live")
    p.add_argument("--search", help="only lists whose id or title contains this")
    p.set_defaults(func=run(do_lists))
    p = commands.add_parser("compact", help="fold every list's update log into a snapshot")
    p.add_argument("--data-dir", type=Path, help=dir_help)
    p.set_defaults(func=run(do_compact))
    p = commands.add_parser("admin", help="the operator's admin API")
    admin_commands = p.add_subparsers(dest="admin_command", required=True)
    p = admin_commands.add_parser("token", help="make a new admin token (replaces the old one)")
    p.add_argument("--data-dir", type=Path, help=dir_help)
    p.set_defaults(func=run(do_admin_token))


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
    run.add_argument(
        "--workers",
        type=int,
        help="processes on this port, LISTOK_WORKERS (more than 1 needs LISTOK_DATABASE_URL"
        " and LISTOK_REDIS_URL)",
    )
    suggest = commands.add_parser("suggest", help="print suggestions for a list")
    suggest.add_argument("list_id")
    suggest.add_argument(
        "--prompt", help='a dish or occasion, e.g. "борщ на 6" (the dish table, else the model)'
    )
    suggest.add_argument("--limit", type=int, default=10)
    suggest.add_argument("--data-dir", type=Path, help="where listok.db lives (LISTOK_DATA_DIR)")
    add_operator_commands(commands)
    export = commands.add_parser("export", help="print a list as json, text or markdown")
    export.add_argument("list_id")
    export.add_argument("--format", choices=["json", "text", "markdown"], default="text")
    export.add_argument("--data-dir", type=Path, help="where listok.db lives (LISTOK_DATA_DIR)")
    remote_cli.add_commands(commands)
    add_catalog_commands(commands)
    args = parser.parse_args(argv)
    if hasattr(args, "client"):
        sys.exit(remote_cli.run(args))
    if getattr(args, "catalog_command", None) is not None:
        sys.exit(args.catalog_command(args))
    if args.command == "suggest":
        settings = Settings.from_env(data_dir=args.data_dir)
        configure_logging("warning", "text")
        sys.exit(asyncio.run(_suggest(settings, args.list_id.lower(), args.prompt, args.limit)))
    if args.command == "export":
        settings = Settings.from_env(data_dir=args.data_dir)
        sys.exit(_export(settings, args.list_id.lower(), args.format))
    if args.command == "serve":
        settings = Settings.from_env(
            host=args.host,
            port=args.port,
            data_dir=args.data_dir,
            log_level=args.log_level,
            workers=args.workers,
        )
        configure_logging(settings.log_level, settings.log_format)
        serve(settings, max(1, settings.workers))
    operator_command = getattr(args, "func", None)
    if operator_command is not None:
        configure_logging("warning", "text")
        sys.exit(operator_command(args))


if __name__ == "__main__":
    main()
