"""create_app(settings) -> Starlette: the only wiring module (routes, lifespan, static files)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles

from server import api
from server.errors import (
    ApiError,
    api_error_handler,
    http_exception_handler,
    server_error_handler,
)
from server.services import Services
from server.settings import Settings
from server.sync import sync_endpoint

log = logging.getLogger("listok")


def create_app(settings: Settings | None = None) -> Starlette:
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

    routes: list[BaseRoute] = [
        Route("/healthz", api.healthz, methods=["GET"]),
        Route("/api/lists", api.create_list, methods=["POST"]),
        Route("/api/lists/{list_id}", api.get_list, methods=["GET"]),
        Route("/api/lists/{list_id}", api.put_list, methods=["PUT"]),
        WebSocketRoute("/sync/{list_id}", sync_endpoint),
    ]
    if (settings.client_dir / "index.html").is_file():
        routes.append(Mount("/", app=StaticFiles(directory=settings.client_dir, html=True)))
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={
            ApiError: api_error_handler,
            HTTPException: http_exception_handler,
            Exception: server_error_handler,
        },
    )
    app.state.settings = settings
    return app
