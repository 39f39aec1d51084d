"""Logging: plain or JSON lines, and an access log that never shows a token."""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

access_log = logging.getLogger("listok.access")
_TOKEN_IN_QUERY = re.compile(r"(^|&)(token)=[^&]*")
_TOKEN_ANYWHERE = re.compile(r"([?&]token=)[^&\s\"']*|([Bb]earer\s+)[A-Za-z0-9_-]+")


def redact_query(query: str) -> str:
    return _TOKEN_IN_QUERY.sub(r"\1\2=REDACTED", query)


def redact(text: str) -> str:
    return _TOKEN_ANYWHERE.sub(lambda m: (m.group(1) or m.group(2)) + "REDACTED", text)


class RedactTokens(logging.Filter):
    """Every record, ours or a library's (uvicorn logs WebSocket request lines), loses tokens."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        extra = getattr(record, "fields", None)
        if isinstance(extra, dict):
            entry.update(extra)
        if record.exc_info:
            entry["traceback"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure(level: str, fmt: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactTokens())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())


class AccessLog:
    """One line per HTTP request and per WebSocket session; the `token` parameter is redacted."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status: int | str = "-"

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "websocket.close":
                status = message.get("code", 1000)
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            query = redact_query(scope.get("query_string", b"").decode("latin-1"))
            path = scope["path"] + (f"?{query}" if query else "")
            method = scope.get("method", "WS")
            elapsed = (time.perf_counter() - started) * 1000
            client = scope.get("client") or ("-", 0)
            access_log.info(
                "%s %s %s %s %.1fms",
                client[0],
                method,
                path,
                status,
                elapsed,
                extra={
                    "fields": {
                        "method": method,
                        "path": path,
                        "status": status,
                        "ms": round(elapsed, 1),
                    }
                },
            )
