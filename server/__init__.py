"""Listok server: Starlette app, y-websocket sync endpoint, JSON API."""

from server.app import create_app
from server.settings import Settings

__all__ = ["Settings", "create_app"]
