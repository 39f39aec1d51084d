"""Typed change events as Server-Sent Events, and the activity feed built from the same events."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, StreamingResponse

from server.auth import token_from
from server.errors import ListokError, UnprocessableError
from server.events import event_json, summary
from server.http import address_of, authorize, int_param, limits_of, resolve, services_of
from server.suggestions import CATEGORIZER

KEEPALIVE_SECONDS = 15.0
PAGE = 500


async def events(request: Request) -> StreamingResponse:
    """`GET /api/lists/{id}/events`: new events as they are committed.

    With `Last-Event-ID` (what EventSource sends on reconnect) or `?after=N`, events after N
    that history still holds come first; `?after=0` replays all of it.
    """
    list_id, _ = await authorize(request, "view")
    services = services_of(request)
    raw_after = request.headers.get("last-event-id") or request.query_params.get("after")
    after = int_param(raw_after, "after", -1, 0, 2**62)
    if after < 0:
        latest = await asyncio.to_thread(services.store.recent_events, list_id, 1)
        after = latest[0].event_id if latest else 0
    token = token_from(request) or ""
    limits, address = limits_of(request), address_of(request)
    release = limits.open_stream(token, address)  # over a cap: 429 before anything is held

    async def stream() -> AsyncIterator[str]:
        last = after
        try:
            async with services.rooms.hold(list_id) as room:
                with room.watch() as waiter:
                    yield "retry: 2000\n\n"
                    while True:
                        waiter.clear()
                        batch = await asyncio.to_thread(
                            services.store.events_after, list_id, last, PAGE
                        )
                        for event in batch:
                            last = event.event_id
                            data = json.dumps(event_json(event), ensure_ascii=False)
                            yield f"id: {last}\nevent: {event.type}\ndata: {data}\n\n"
                        if len(batch) == PAGE:
                            continue
                        try:
                            await asyncio.wait_for(waiter.wait(), KEEPALIVE_SECONDS)
                        except TimeoutError:
                            yield ": keep-alive\n\n"
                        try:  # a revoked link or a deleted list ends the stream
                            await resolve(request, token, list_id, "view")
                        except ListokError:
                            return
        finally:
            release()

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        background=BackgroundTask(release),
    )


def language(request: Request) -> str:
    lang = request.query_params.get("lang")
    if lang is None:
        accept = request.headers.get("accept-language", "").lower()
        lang = "ru" if accept.startswith("ru") else "en"
    if lang not in ("en", "ru"):
        raise UnprocessableError("lang must be 'en' or 'ru'")
    return lang


async def activity(request: Request) -> JSONResponse:
    """`GET /api/lists/{id}/activity`: who did what and when, newest first."""
    list_id, _ = await authorize(request, "view")
    limit = int_param(request.query_params.get("limit"), "limit", 50, 1, 500)
    lang = language(request)
    recent = await asyncio.to_thread(services_of(request).store.recent_events, list_id, limit)
    entries: list[dict[str, Any]] = []
    for event in recent:
        if event.actor == CATEGORIZER:  # aisles the server filled in: not news for people
            continue
        entry = event_json(event)
        entry.pop("item", None)
        entry["summary"] = summary(entry, lang)
        entries.append(entry)
    return JSONResponse({"activity": entries})
