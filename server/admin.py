"""The operator's side: every list, delete and restore, compaction, the server's state, jobs.

Enabled by `LISTOK_ADMIN_TOKEN` or by a token made with `listok admin token` (only its SHA-256
is kept, in the data dir). Every /api/admin request needs `Authorization: Bearer <admin token>`;
the comparison is constant-time, and no list's token (an owner's included) is ever accepted.
/admin is a static page (English and Russian) over the same API.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response

from server import lists as list_ops
from server import schema
from server.errors import (
    GoneError,
    NotFoundError,
    UnauthorizedError,
    UnprocessableError,
)
from server.http import int_param
from server.jobs import Job
from server.overview import Decoded, DecodedLists, describe
from server.services import Services
from server.settings import Settings
from store import ListSummary

log = logging.getLogger("listok.admin")

TOKEN_FILE: Final = "admin-token.sha256"
PAGE_DIR: Final = Path(__file__).resolve().parent / "admin_page"
PAGE_FILES: Final = {
    "admin.js": "text/javascript",
    "admin.css": "text/css",
    "icon.svg": "image/svg+xml",
}
MAX_PAGE: Final = 200
MAX_QUERY: Final = 200
_NO_STORE: Final = {"Cache-Control": "no-store"}


# -- the admin token -------------------------------------------------------------------------


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


def token_file(data_dir: Path) -> Path:
    return data_dir / TOKEN_FILE


def make_token(data_dir: Path) -> str:
    """A new admin token; only its hash is written (mode 0600), replacing any earlier one."""
    token = secrets.token_urlsafe(32)
    path = token_file(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.touch(mode=0o600)
    tmp.chmod(0o600)  # also when a stale .tmp was left with other permissions
    tmp.write_text(_digest(token) + "\n")
    tmp.replace(path)
    return token


def admin_digests(settings: Settings) -> list[str]:
    """The hashes an admin token may match: the configured token's, the stored one."""
    digests = [_digest(settings.admin_token)] if settings.admin_token else []
    try:
        stored = token_file(settings.data_dir).read_text().strip()
    except OSError:
        stored = ""
    if len(stored) == 64:
        digests.append(stored)
    return digests


def check_admin(request: Request) -> None:
    """401 unless the request carries the admin token (compared in constant time)."""
    settings: Settings = request.app.state.settings
    digests = admin_digests(settings)
    if not digests:
        raise UnauthorizedError(
            "the admin API is off: set LISTOK_ADMIN_TOKEN or run `listok admin token`"
        )
    header = request.headers.get("authorization", "")
    presented = header[7:].strip() if header[:7].lower() == "bearer " else ""
    if not presented:
        raise UnauthorizedError("the admin token is required")
    candidate = _digest(presented)
    # Compare against every digest (no early exit), each in constant time.
    matched = False
    for digest in digests:
        matched |= hmac.compare_digest(candidate, digest)
    if not matched:
        raise UnauthorizedError("invalid admin token")


# -- the table of lists ----------------------------------------------------------------------


def _row(summary: ListSummary, decoded: Decoded, services: Services) -> dict[str, Any]:
    room = services.rooms.loaded(summary.list_id)
    shares = {role: summary.shares.get(role, 0) for role in ("owner", "edit", "view")}
    return {
        "id": summary.list_id,
        "title": decoded.title,
        "items": decoded.items,
        "document_bytes": decoded.document_bytes,
        "history_bytes": summary.snapshot_bytes + summary.log_bytes,
        "updates": summary.updates,
        "created_at": summary.created_at,
        "last_change": summary.last_change,
        "deleted_at": summary.deleted_at,
        "in_memory": room is not None,
        "sockets": len(room.conns) if room is not None else 0,
        "shares": shares,
    }


async def list_rows(
    services: Services, *, state: str, query: str, offset: int, limit: int
) -> dict[str, Any]:
    """One page of the admin table, newest list first, optionally filtered by id or title."""
    store = services.store
    decoded_lists: DecodedLists = services.decoded_lists

    def ids() -> list[str]:
        live = store.list_ids() if state in ("live", "all") else []
        deleted = [d.list_id for d in store.deleted_lists()] if state in ("deleted", "all") else []
        return list(reversed(live)) + deleted if state != "deleted" else deleted

    candidates = await asyncio.to_thread(ids)

    async def decoded(summary: ListSummary) -> Decoded:
        room = services.rooms.loaded(summary.list_id)
        if room is not None:
            return describe(room.doc)
        return await asyncio.to_thread(decoded_lists.decoded, summary)

    needle = query.strip().lower()
    if needle:
        summaries = await asyncio.to_thread(store.summaries, candidates)
        matching: list[tuple[ListSummary, Decoded]] = []
        for summary in summaries:
            info = await decoded(summary)
            if needle in summary.list_id or needle in info.title.lower():
                matching.append((summary, info))
        total = len(matching)
        page = matching[offset : offset + limit]
    else:
        total = len(candidates)
        summaries = await asyncio.to_thread(store.summaries, candidates[offset : offset + limit])
        page = [(summary, await decoded(summary)) for summary in summaries]
    return {
        "lists": [_row(summary, info, services) for summary, info in page],
        "total": total,
        "offset": offset,
        "limit": limit,
    }


def _histogram_quantile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _gauge(gauge: Any) -> float:
    for metric in gauge.collect():
        for sample in metric.samples:
            return float(sample.value)
    return 0.0


def server_state(services: Services) -> dict[str, Any]:
    latencies = list(services.commit_latencies)
    state: dict[str, Any] = {
        "connections": int(_gauge(services.metrics.connections)),
        "lists_in_memory": int(_gauge(services.metrics.lists_loaded)),
        "commits": services.writer.commits,
        "commit_ms": {
            "recent": len(latencies),
            "p50": _ms(_histogram_quantile(latencies, 0.5)),
            "p99": _ms(_histogram_quantile(latencies, 0.99)),
            "max": _ms(max(latencies) if latencies else None),
        },
        "model": services.suggestions.suggester.status(),
        "deleted_retention_days": services.settings.deleted_retention_days,
        "uptime_s": round(time.monotonic() - services.started_monotonic, 1),
        "jobs": services.jobs.to_json(),
    }
    # The catalog: imported shops, and its imports (also among the jobs, kind "catalog import").
    from server.catalog import admin_status  # server.catalog imports this module

    state["catalog"] = admin_status(services)
    return state


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 3)


# -- actions ---------------------------------------------------------------------------------


async def soft_delete(services: Services, list_id: str) -> bool:
    """Hide a list now (restorable for the retention window) and close its sockets."""
    deleted = await list_ops.delete(services, list_id)
    if deleted:
        log.info("admin: list %s deleted (restorable for the retention window)", list_id)
    return deleted


async def restore(services: Services, list_id: str) -> bool:
    """Bring a deleted list back if it is still within the retention window."""
    deleted = await asyncio.to_thread(services.store.deleted_lists)
    tombstone = next((d for d in deleted if d.list_id == list_id), None)
    if tombstone is None:
        return False
    window_ms = services.settings.deleted_retention_days * 86_400_000
    if schema.now_ms() - tombstone.deleted_at >= window_ms:
        raise GoneError("this list was deleted before the retention window; it is being purged")
    restored: bool = await services.writer.run(lambda store: store.restore_list(list_id))
    services.tokens.forget()  # its tokens may be cached as unknown
    services.decoded_lists.forget(list_id)
    if restored:
        services.suggestions.stale.add(list_id)  # back in the suggestion statistics
        log.info("admin: list %s restored", list_id)
    return restored


async def compact_one(services: Services, list_id: str) -> None:
    """Fold a list's update log into one snapshot now."""
    room = services.rooms.loaded(list_id)
    if room is not None:
        await services.writer.install_snapshot(list_id, room.doc.get_update())
    else:
        await services.writer.run(lambda store: store.compact(list_id))


def start_compaction(services: Services, list_ids: list[str]) -> Job:
    running = services.jobs.running("compact")
    if running is not None:
        return running
    job = services.jobs.start("compact", len(list_ids))

    async def work(job: Job) -> None:
        for list_id in list_ids:
            await compact_one(services, list_id)
            job.step()

    services.jobs.run(job, work)
    log.info("admin: compaction of %d list(s) started (job %d)", len(list_ids), job.id)
    return job


# -- HTTP handlers ---------------------------------------------------------------------------


def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def _json(body: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers=_NO_STORE)


async def lists(request: Request) -> JSONResponse:
    check_admin(request)
    state = request.query_params.get("state", "live")
    if state not in ("live", "deleted", "all"):
        raise UnprocessableError("state must be live, deleted or all")
    query = request.query_params.get("q", "")
    if len(query) > MAX_QUERY:
        raise UnprocessableError(f"q must be at most {MAX_QUERY} characters")
    offset = int_param(request.query_params.get("offset"), "offset", 0, 0, 1 << 31)
    limit = int_param(request.query_params.get("limit"), "limit", 50, 1, MAX_PAGE)
    page = await list_rows(_services(request), state=state, query=query, offset=offset, limit=limit)
    return _json(page)


def _list_id(request: Request) -> str:
    list_id = str(request.path_params["list_id"]).lower()
    if not schema.valid_list_id(list_id):
        raise NotFoundError("no such list")
    return list_id


async def delete_list(request: Request) -> JSONResponse:
    check_admin(request)
    list_id = _list_id(request)
    if not await soft_delete(_services(request), list_id):
        raise NotFoundError("no such list")
    days = _services(request).settings.deleted_retention_days
    return _json({"ok": True, "id": list_id, "restorable_days": days})


async def restore_list(request: Request) -> JSONResponse:
    check_admin(request)
    list_id = _list_id(request)
    if not await restore(_services(request), list_id):
        raise NotFoundError("no deleted list with this id (or it was purged)")
    return _json({"ok": True, "id": list_id})


async def compact_list(request: Request) -> JSONResponse:
    check_admin(request)
    services = _services(request)
    list_id = _list_id(request)
    if await asyncio.to_thread(services.store.get_list, list_id) is None:
        raise NotFoundError("no such list")
    await compact_one(services, list_id)
    (summary,) = await asyncio.to_thread(services.store.summaries, [list_id])
    return _json({"ok": True, "id": list_id, "history_bytes": summary.snapshot_bytes})


async def compact_all(request: Request) -> JSONResponse:
    check_admin(request)
    services = _services(request)
    ids = await asyncio.to_thread(services.store.list_ids)
    job = start_compaction(services, ids)
    return _json({"ok": True, "job": asdict(job)}, status=202)


async def state(request: Request) -> JSONResponse:
    check_admin(request)
    return _json(server_state(_services(request)))


async def jobs(request: Request) -> JSONResponse:
    check_admin(request)
    return _json({"jobs": _services(request).jobs.to_json()})


async def purge(request: Request) -> JSONResponse:
    """Purge lists past the retention window now (the server also does it periodically)."""
    check_admin(request)
    purged = await _services(request).purge_deleted()
    return _json({"ok": True, "purged": purged})


async def page(request: Request) -> Response:
    """The admin page shell; it asks for the token and talks to /api/admin with it."""
    return FileResponse(PAGE_DIR / "index.html", headers=_NO_STORE)


async def page_file(request: Request) -> Response:
    name = str(request.path_params["name"])
    if name not in PAGE_FILES:
        raise NotFoundError("not found")
    return FileResponse(PAGE_DIR / name, media_type=PAGE_FILES[name], headers=_NO_STORE)
