"""create_app(settings) -> Starlette: the only wiring module (routes, lifespan, static files)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Final

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server import admin, api, catalog, feed, openapi, transfer
from server.errors import (
    ListokError,
    api_error_handler,
    http_exception_handler,
    server_error_handler,
)
from server.logs import AccessLog
from server.services import Services
from server.settings import Settings
from server.sync import sync_app

log = logging.getLogger("listok")

# The browser app loads only its own scripts, styles, workers and sockets; nothing may frame it.
CSP: Final = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        # The app sets a few style attributes (presence colours as `--c:#rrggbb`, checked on
        # both sides since issue 9.16); no <style> elements, no inline scripts.
        "style-src-attr 'unsafe-inline'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "worker-src 'self'",
        "manifest-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
SECURITY_HEADERS: Final = (
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
)


class SecurityHeaders:
    """Adds the security headers to every HTTP answer (ASGI middleware)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(n, v) for n, v in SECURITY_HEADERS if n not in present]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, with_headers)


L = "/api/lists/{list_id}"


async def openapi_json(request: Request) -> JSONResponse:
    return JSONResponse(openapi.document())


def api_routes() -> list[BaseRoute]:
    return [
        Route("/healthz", api.healthz, methods=["GET"]),
        Route("/metrics", api.metrics, methods=["GET"]),
        Route("/api/openapi.json", openapi_json, methods=["GET"]),
        Route("/api/lists", api.create_list, methods=["POST"]),
        Route(L, api.get_list, methods=["GET"]),
        Route(L, api.put_list, methods=["PUT"]),
        Route(L, api.patch_list, methods=["PATCH"]),
        Route(L, api.delete_list, methods=["DELETE"]),
        Route(L + "/items", api.list_items, methods=["GET"]),
        Route(L + "/items", api.add_item, methods=["POST"]),
        Route(L + "/items/bulk", api.add_items, methods=["POST"]),
        Route(L + "/items/{item_id}", api.get_item, methods=["GET"]),
        Route(L + "/items/{item_id}", api.patch_item, methods=["PATCH"]),
        Route(L + "/items/{item_id}", api.delete_item, methods=["DELETE"]),
        Route(L + "/items/{item_id}/move", api.move_item, methods=["POST"]),
        Route(L + "/shares", api.list_shares, methods=["GET"]),
        Route(L + "/shares", api.create_share, methods=["POST"]),
        Route(L + "/shares/{share_id}", api.revoke_share, methods=["DELETE"]),
        Route(L + "/events", feed.events, methods=["GET"]),
        Route(L + "/activity", feed.activity, methods=["GET"]),
        Route(L + "/duplicate", api.duplicate_of, methods=["GET"]),
        Route(L + "/suggestions", api.suggestions, methods=["GET", "POST"]),
        Route(L + "/export", transfer.export_list, methods=["GET"]),
        Route(L + "/import", transfer.import_list, methods=["POST"]),
        # catalog: product lookup, the list's shop and aisle order
        Route("/api/products", catalog.products, methods=["GET"]),
        Route(L + "/shop", catalog.get_shop, methods=["GET"]),
        Route(L + "/shop", catalog.put_shop, methods=["PUT"]),
    ]


def admin_routes() -> list[BaseRoute]:
    """The operator's API and page (server/admin.py): every route checks the admin token."""
    a = "/api/admin"
    return [
        Route(a + "/lists", admin.lists, methods=["GET"]),
        Route(a + "/lists/{list_id}", admin.delete_list, methods=["DELETE"]),
        Route(a + "/lists/{list_id}/restore", admin.restore_list, methods=["POST"]),
        Route(a + "/lists/{list_id}/compact", admin.compact_list, methods=["POST"]),
        Route(a + "/compact", admin.compact_all, methods=["POST"]),
        Route(a + "/purge", admin.purge, methods=["POST"]),
        Route(a + "/state", admin.state, methods=["GET"]),
        Route(a + "/jobs", admin.jobs, methods=["GET"]),
        # catalog (server/catalog.py): the operator's price-list imports
        Route(a + "/catalog", catalog.admin_list, methods=["GET"]),
        Route(a + "/catalog", catalog.admin_import, methods=["POST"]),
        Route(a + "/catalog/{store}", catalog.admin_remove, methods=["DELETE"]),
        Route("/admin", admin.page, methods=["GET"]),
        Route("/admin/{name}", admin.page_file, methods=["GET"]),
    ]


def client_routes(settings: Settings) -> list[BaseRoute]:
    """The browser app: static files, and index.html for the app's own paths (/l/{id}, ...)."""
    index = settings.client_dir / "index.html"
    if not index.is_file():
        return []

    async def app_shell(request: Request) -> Response:
        return FileResponse(index, headers={"Cache-Control": "no-cache"})

    return [
        Route("/", app_shell, methods=["GET"]),
        Route("/l/{rest:path}", app_shell, methods=["GET"]),
        Mount("/", app=StaticFiles(directory=settings.client_dir, html=True)),
    ]


class Listok:
    """The ASGI app: sync sockets go straight to their handler, everything else to Starlette."""

    def __init__(self, http: Starlette) -> None:
        self.http = http
        self.state = http.state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and scope["path"].startswith("/sync/"):
            await sync_app(scope, receive, send, self.http.state.services)
        else:
            await self.http(scope, receive, send)


def create_app(settings: Settings | None = None) -> Listok:
    settings = settings or Settings.from_env()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        services = Services(settings)
        app.state.services = services
        await services.start()
        try:
            yield
        finally:
            await services.stop()

    app = Starlette(
        routes=[*api_routes(), *admin_routes(), *client_routes(settings)],
        lifespan=lifespan,
        middleware=[Middleware(AccessLog), Middleware(SecurityHeaders)],
        exception_handlers={
            ListokError: api_error_handler,
            HTTPException: http_exception_handler,
            Exception: server_error_handler,
        },
    )
    app.state.settings = settings
    return Listok(app)
