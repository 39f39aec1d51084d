"""Tokens and roles: who may read, write or manage a list.

A token is 32 random bytes, url-safe base64 (256 bits); only its SHA-256 is stored. Every
HTTP call and every socket names one, as `Authorization: Bearer <token>` or `?token=<token>`
(what y-websocket's `params` option sends). Roles: `owner` (everything, shares, delete),
`edit` (read and change the list), `view` (read only).
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final
from urllib.parse import parse_qs

from starlette.requests import HTTPConnection
from starlette.types import Scope

from server.errors import ForbiddenError, UnauthorizedError
from store import Share, Store

ROLES: Final = ("owner", "edit", "view")
_RANK: Final = {"view": 0, "edit": 1, "owner": 2}
_TOKEN_RE: Final = re.compile(r"^[A-Za-z0-9_-]{32,128}$")


@dataclass(frozen=True)
class Access:
    list_id: str
    role: str
    share_id: str
    # The link's label as people gave it ("Grandma", "fridge"): who acts when unnamed. The
    # owner token's built-in label "owner" is a role word, not a person: it is left out.
    label: str = ""

    def allows(self, role: str) -> bool:
        return _RANK[self.role] >= _RANK[role]


def new_token() -> str:
    return secrets.token_urlsafe(32)


def new_share_id() -> str:
    return secrets.token_urlsafe(9)


def valid_token(token: str) -> bool:
    return bool(_TOKEN_RE.match(token))


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def token_from_scope(scope: Scope) -> str | None:
    """`Authorization: Bearer …`, else the `token` query parameter."""
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            header = value.decode("latin-1")
            if header.lower().startswith("bearer "):
                return header[7:].strip() or None
    for token in parse_qs(scope.get("query_string", b"").decode("latin-1")).get("token", ()):
        return token or None
    return None


def token_from(conn: HTTPConnection) -> str | None:
    return token_from_scope(conn.scope)


class Tokens:
    """Resolves tokens to access, with a small cache that revocation clears.

    Only tokens that were found are cached: a token tried before its list existed works once
    the list is created with it. `generation` grows with every `forget()` (a revoked link, a
    deleted list); a lookup that overlapped one is not trusted and is made again, so a lookup
    that started before a revocation can never bring the revoked share back.
    """

    LOOKUP_ATTEMPTS: Final = 5

    def __init__(self, store: Store) -> None:
        self.store = store
        self._cache: dict[str, Share] = {}
        self.generation = 0
        # Told the share id of every credential accepted (server/uses.py: its last use).
        self.on_use: Callable[[str], None] | None = None

    async def resolve(self, token: str | None, list_id: str, need: str) -> Access:
        if not token:
            raise UnauthorizedError("a token is required")
        if not valid_token(token):
            raise UnauthorizedError("invalid token")
        digest = token_hash(token)
        share = self._cache.get(digest)
        if share is None:
            share = await self._lookup(digest)
        if share is None or share.list_id != list_id:
            raise UnauthorizedError("invalid token")
        label = "" if share.label in ROLES else share.label
        access = Access(list_id, share.role, share.share_id, label)
        if not access.allows(need):
            raise ForbiddenError(
                f"this link is {share.role}-only"
                if share.role == "view"
                else f"needs the {need} role",
            )
        if self.on_use is not None:
            self.on_use(share.share_id)
        return access

    async def _lookup(self, digest: str) -> Share | None:
        for _ in range(self.LOOKUP_ATTEMPTS):
            generation = self.generation
            share = await asyncio.to_thread(self.store.find_token, digest)
            if generation != self.generation:
                continue  # a revocation ran meanwhile: what was read may be stale
            if share is not None:
                if len(self._cache) > 10_000:
                    self._cache.clear()
                self._cache[digest] = share
            return share
        return None  # revoked again and again while we looked: refuse rather than guess

    def forget(self) -> None:
        self.generation += 1
        self._cache.clear()
