"""`listok serve` and friends: a thin layer over create_app and uvicorn."""

from __future__ import annotations

import argparse
import asyncio
import socket
from pathlib import Path

import uvicorn

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
        "ws_per_message_deflate": False,
        "timeout_graceful_shutdown": 3,
        "log_level": settings.log_level,
        "log_config": None,  # our own handlers (server/logs.py); uvicorn's access log is off
        "access_log": False,
        "lifespan": "on",
    }
    options.update(overrides)
    return uvicorn.Config(create_app(settings), **options)  # type: ignore[arg-type]


def serve(settings: Settings) -> None:
    sock = socket.socket(socket.AF_INET6 if ":" in settings.host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((settings.host, settings.port))
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

    asyncio.run(main())


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
    args = parser.parse_args(argv)
    if args.command == "serve":
        settings = Settings.from_env(
            host=args.host, port=args.port, data_dir=args.data_dir, log_level=args.log_level
        )
        configure_logging(settings.log_level, settings.log_format)
        serve(settings)


if __name__ == "__main__":
    main()
