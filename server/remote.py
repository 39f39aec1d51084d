"""A Python client of a running Listok server, over the y-websocket protocol.

It is pycrdt's `Provider` on pycrdt-websocket's `HttpxWebsocket` channel (httpx-ws underneath):
the protocol the browser speaks, so a script, a cron job or a home-automation hook edits a list
as one more collaborator. `listok add|show|watch` (server/cli.py) are thin wrappers over it.

"Saved" means committed: when the block that changed the list ends, the provider flushes its
updates, then the client sends a sync step 1 and waits for the server's step 2, which the server
holds until everything received before it is committed (docs/decisions/commit-before-broadcast.md).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import httpx
from httpx_ws import WebSocketDisconnect, WebSocketUpgradeError, aconnect_ws
from pycrdt import Doc, Provider, YMessageType, YSyncMessageType, create_sync_message
from pycrdt.websocket.websocket import HttpxWebsocket

from models.parse import parse_entry
from server import schema

_STEP2 = bytes((YMessageType.SYNC, YSyncMessageType.SYNC_STEP2))
_CLOSE_REASONS = {4401: "this token gives no access to that list", 4404: "no such list"}


class RemoteError(Exception):
    """The server refused the connection, closed it, or did not answer in time."""


def sync_url(base: str, list_id: str, token: str) -> str:
    """ws(s)://host[/prefix]/sync/{list_id}?token=... from the server's http(s) address."""
    parts = urlsplit(base if "://" in base else f"http://{base}")
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    path = parts.path.rstrip("/") + f"/sync/{quote(list_id, safe='')}"
    return urlunsplit((scheme, parts.netloc, path, f"token={quote(token, safe='')}", ""))


class Channel(HttpxWebsocket):
    """pycrdt-websocket's channel, remembering why the server closed it."""

    closed: RemoteError | None = None
    ended: asyncio.Event

    def __init__(self, websocket: Any, path: str) -> None:
        super().__init__(websocket, path)
        self.ended = asyncio.Event()

    async def recv(self) -> bytes:
        try:
            return await super().recv()
        except WebSocketDisconnect as exc:
            reason = _CLOSE_REASONS.get(exc.code) or exc.reason or "connection closed"
            self.closed = RemoteError(f"the server closed the connection: {reason} ({exc.code})")
            self.ended.set()
            raise


class RemoteList:
    """One list on a server, kept in sync in the background while its block is open."""

    def __init__(self, doc: Doc[Any]) -> None:
        self.doc = doc

    def items(self) -> list[dict[str, Any]]:
        return schema.list_items(self.doc)

    def title(self) -> str:
        title = schema.meta(self.doc).get("title")
        return title if isinstance(title, str) else ""

    def add(self, text: str, *, actor: str = "") -> str:
        """Add an entry as typed ("2 kg potatoes"); the server files it in a category."""
        entry = text.strip()[: schema.NAME_MAX]
        if not entry:
            raise ValueError("an item needs a name")
        parsed = parse_entry(entry)
        last = max((i["order"] for i in self.items()), default=None)
        fields = schema.new_item(
            parsed.name or entry,
            order=schema.order_after(last or None),
            qty=parsed.qty,
            unit=parsed.unit,
            created_by=actor,
        )
        with self.doc.transaction(origin="remote-client"):
            return schema.add_item(self.doc, fields)


async def _until(channel: Channel, event: Any, timeout: float, what: str) -> None:
    """Wait for an anyio/asyncio event, failing early when the server closes the socket."""
    waiter = asyncio.ensure_future(event.wait())
    ended = asyncio.ensure_future(channel.ended.wait())
    try:
        await asyncio.wait({waiter, ended}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiter.cancel()
        ended.cancel()
    if channel.closed is not None:
        raise channel.closed
    if not event.is_set():
        raise RemoteError(f"no {what} from the server within {timeout:g} s")


async def _confirm_saved(channel: Channel, doc: Doc[Any], timeout: float) -> None:
    await channel.send(create_sync_message(doc))
    async with asyncio.timeout(timeout):
        while (await channel.recv())[:2] != _STEP2:
            pass


def _leaf(group: BaseExceptionGroup[Any]) -> BaseException:
    """The first real error inside (nested) task-group exception groups."""
    first = group.exceptions[0]
    return _leaf(first) if isinstance(first, BaseExceptionGroup) else first


def _explain(exc: Exception, channel: Channel | None, url: str) -> Exception:
    """A RemoteError saying why, for the failures a user can act on; else the error itself."""
    if channel is not None and channel.closed is not None:
        return channel.closed  # whatever else broke, the server's close code says why
    leaf = _leaf(exc) if isinstance(exc, BaseExceptionGroup) else exc
    if isinstance(leaf, RemoteError):
        return leaf
    if isinstance(leaf, WebSocketUpgradeError):
        return RemoteError(f"{url}: HTTP {leaf.response.status_code}")
    if isinstance(leaf, httpx.TransportError | OSError):
        return RemoteError(f"cannot reach {url}: {leaf}")
    return exc


@asynccontextmanager
async def open_list(
    base_url: str, list_id: str, token: str, *, timeout: float = 10.0
) -> AsyncIterator[RemoteList]:
    """Connect, sync the list down, keep it in sync until the block ends, then confirm saved."""
    url = sync_url(base_url, list_id, token)
    channel: Channel | None = None
    try:
        async with aconnect_ws(url, keepalive_ping_interval_seconds=None) as ws:  # type: ignore[var-annotated]
            channel = Channel(ws, f"/sync/{list_id}")
            doc: Doc[Any] = Doc()
            remote = RemoteList(doc)
            async with Provider(doc, channel) as provider:
                await _until(channel, provider.synced, timeout, "initial sync")
                yield remote
            try:
                await _confirm_saved(channel, doc, timeout)
            except TimeoutError:
                raise RemoteError(f"no confirmation within {timeout:g} s") from None
    except Exception as exc:
        explained = _explain(exc, channel, url.split("?")[0])
        if explained is exc:
            raise
        raise explained from None
