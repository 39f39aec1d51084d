"""Logging: plain or JSON lines, and an access log that never shows a token."""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from typing import Any
from urllib.parse import unquote_plus

from starlette.types import ASGIApp, Message, Receive, Scope, Send

access_log = logging.getLogger("listok.access")
_QUERY_PARAM = re.compile(r"(^|[?&;])([^=&;?\s\"']*)=([^&;\s\"']*)")
_BEARER = re.compile(r"([Bb]earer\s+)[A-Za-z0-9_%-]+")


def _is_token_key(key: str) -> bool:
    """`token`, however it is spelled on the wire (`tok%65n`, `%74oken`...): decode first."""
    return unquote_plus(unquote_plus(key)).strip().lower() == "token"


def _redact_param(match: re.Match[str]) -> str:
    if not _is_token_key(match.group(2)):
        return match.group(0)
    return f"{match.group(1)}{match.group(2)}=REDACTED"


def redact_query(query: str) -> str:
    """A query string with the value of every parameter that decodes to `token` redacted."""
    return _QUERY_PARAM.sub(_redact_param, query)


def redact(text: str) -> str:
    """Any text (a log line): query parameters decoding to `token` and bearer tokens."""
    return _BEARER.sub(r"\1REDACTED", _QUERY_PARAM.sub(_redact_param, text))


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
