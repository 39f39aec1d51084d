"""Multi-step operations on whole lists: create one, delete one, revoke a share link.

Each step order is written once here, not inside handlers: the store first (one writer
transaction), then the caches that could still answer for the old state, then the live
connections.
"""

from __future__ import annotations

import itertools
import math
import uuid
from collections import Counter
from typing import Final

from server import schema
from server.auth import new_share_id, new_token, token_hash
from server.errors import CloseCode, ConflictError, NotFoundError, UnprocessableError
from server.services import Services
from store import Share, TokenInUseError

MIN_TOKEN_BITS: Final = 128


def token_bits(token: str) -> float:
    """A conservative estimate of a client-chosen token's entropy, in bits.

    The smallest of: the characters' empirical (Shannon) entropy times the length, the same
    with runs of one character collapsed (catches padding), for the steps between neighbouring
    characters (catches `abcd…` and other sequences), and for the shortest block the token
    repeats (catches `xyz1xyz1…`).
    """
    if not token:
        return 0.0
    period = next(
        (
            p
            for p in range(1, len(token) // 2 + 1)
            if token == (token[:p] * len(token))[: len(token)]
        ),
        len(token),
    )
    steps = [ord(b) - ord(a) for a, b in itertools.pairwise(token)]
    runs = "".join(char for char, _ in itertools.groupby(token))  # `xy000000…` counts as `xy0`
    return min(
        _shannon(token) * len(token),
        _shannon(runs) * len(runs),
        _shannon(steps) * len(steps),
        _shannon(token[:period]) * period,
    )


def _shannon(symbols: str | list[int]) -> float:
    """Bits per symbol, with the Miller-Madow correction for short samples."""
    counts = Counter(symbols)
    total = len(symbols)
    if not total:
        return 0.0
    plain = -sum(n / total * math.log2(n / total) for n in counts.values())
    return plain + (len(counts) - 1) / (2 * total * math.log(2))


def check_chosen_token(token: str) -> None:
    if token_bits(token) < MIN_TOKEN_BITS:
        raise UnprocessableError(
            f"token is too predictable: use at least {MIN_TOKEN_BITS} random bits "
            "(e.g. 32 random bytes, url-safe base64)",
            extra={"field": "token"},
        )


async def create(services: Services, list_id: str, title: str, token: str) -> bool:
    """Create the list with token as its owner's; False when the id is taken or tombstoned.

    A token already in use elsewhere is answered like a taken id: the caller learns nothing
    about other lists.
    """
    created_at = schema.now_ms()
    update = schema.new_list_update(title, created_at)
    owner = Share(new_share_id(), list_id, "owner", "owner", created_at)
    digest = token_hash(token)
    try:
        created: bool = await services.writer.run(
            lambda store: store.create_list(list_id, created_at, update, owner, digest)
        )
    except TokenInUseError:
        return False
    if created:
        services.tokens.forget()  # a lookup of this token failed before may be cached
    return created


async def create_new(services: Services, title: str, token: str | None) -> tuple[str, str]:
    """A list under a fresh id: (id, owner token)."""
    if token is not None:
        check_chosen_token(token)
    token = token or new_token()
    list_id = str(uuid.uuid4())
    if not await create(services, list_id, title, token):
        raise ConflictError("cannot create a list with this token: choose another")
    return list_id, token


async def delete(services: Services, list_id: str) -> bool:
    """Hide a list (restorable for the retention window) and close its sockets everywhere."""
    deleted: bool = await services.writer.run(
        lambda store: store.delete_list(list_id, schema.now_ms())
    )
    services.tokens.forget()
    services.suggestions.forget(list_id)
    services.decoded_lists.forget(list_id)
    room = services.rooms.forget(list_id)
    if room is not None:
        for conn in list(room.conns):
            conn.close_soon(CloseCode.NOT_FOUND, "the list was deleted")
    await services.published_deletion(list_id)  # other processes close and unload it
    return deleted


async def add_share(services: Services, list_id: str, role: str, label: str) -> tuple[Share, str]:
    token = new_token()
    share = Share(new_share_id(), list_id, role, label, schema.now_ms())
    digest = token_hash(token)
    await services.writer.run(lambda store: store.add_share(share, digest))
    return share, token


async def revoke_share(services: Services, list_id: str, share_id: str) -> None:
    revoked = await services.writer.run(
        lambda store: store.revoke_share(list_id, share_id, schema.now_ms())
    )
    if not revoked:
        raise NotFoundError("no such share link (or it is the owner's, or already revoked)")
    services.tokens.forget()
    room = services.rooms.loaded(list_id)
    if room is not None:
        room.close_share(share_id, CloseCode.UNAUTHORIZED, "this link was revoked")
    await services.published_revocation(list_id, share_id)  # and on every other process
