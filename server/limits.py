"""Per-caller limits: token buckets for API rates, caps on open event streams and sockets.

Over a limit is a RateLimitError: HTTP 429 with Retry-After. Every limit is a setting; 0 turns
it off. Keys are tokens or client addresses; the tables are bounded (stale entries are dropped).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Final

from server.auth import token_hash, valid_token
from server.errors import RateLimitError
from server.settings import Settings

MAX_KEYS: Final = 100_000


class RateLimiter:
    """A token bucket per key: `rate` per second, bursts up to `burst`."""

    def __init__(self, rate: float, burst: float, what: str) -> None:
        self.rate = rate
        self.burst = max(burst, 1.0)
        self.what = what
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, at)

    def take(self, key: str, now: float | None = None) -> None:
        if self.rate <= 0:
            return
        now = time.monotonic() if now is None else now
        tokens, at = self._buckets.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - at) * self.rate)
        if tokens < 1:
            self._buckets[key] = (tokens, now)
            raise RateLimitError(f"too many {self.what}", retry_after=(1 - tokens) / self.rate)
        if len(self._buckets) >= MAX_KEYS and key not in self._buckets:
            self._prune(now)
        self._buckets[key] = (tokens - 1, now)

    def _prune(self, now: float) -> None:
        full = self.burst / self.rate
        self._buckets = {k: v for k, v in self._buckets.items() if now - v[1] < full}
        if len(self._buckets) >= MAX_KEYS:
            self._buckets.clear()


class Caps:
    """How many of something each key holds open at once (event streams per token, address)."""

    def __init__(self, limit: int, what: str) -> None:
        self.limit = limit
        self.what = what
        self.open: dict[str, int] = {}

    def check(self, key: str) -> None:
        if self.limit > 0 and self.open.get(key, 0) >= self.limit:
            raise RateLimitError(f"more than {self.limit} open {self.what}", retry_after=5)

    def add(self, key: str) -> None:
        self.open[key] = self.open.get(key, 0) + 1

    def remove(self, key: str) -> None:
        left = self.open.get(key, 0) - 1
        if left > 0:
            self.open[key] = left
        else:
            self.open.pop(key, None)


class Limits:
    def __init__(self, settings: Settings) -> None:
        per_minute = settings.list_creations_per_minute
        self.creations = RateLimiter(per_minute / 60, per_minute, "new lists from this address")
        rate = settings.requests_per_second
        self.requests = RateLimiter(rate, rate * settings.request_burst, "requests")
        self.streams_per_token = Caps(settings.max_streams_per_token, "event streams")
        self.streams_per_address = Caps(settings.max_streams_per_address, "event streams")
        self.sockets_per_token = Caps(settings.max_sockets_per_token, "sockets for this link")
        self.sockets_per_address = Caps(settings.max_sockets_per_address, "sockets from here")

    def create(self, address: str) -> None:
        self.creations.take(address)

    def request(self, key: str) -> None:
        self.requests.take(key)

    def open_stream(self, token: str, address: str) -> Callable[[], None]:
        """Take one event-stream slot of the token and of the address; returns its release
        (idempotent: call it from the stream's end and from the response's, whichever runs)."""
        return _take_both(self.streams_per_token, token, self.streams_per_address, address)

    def open_socket(self, token: str, address: str) -> Callable[[], None]:
        """Take one socket slot of the token and of the address (over a cap: close 4429)."""
        key = token_hash(token) if valid_token(token) else token  # no raw token held
        return _take_both(self.sockets_per_token, key, self.sockets_per_address, address)


def _take_both(first: Caps, first_key: str, second: Caps, second_key: str) -> Callable[[], None]:
    first.check(first_key)
    second.check(second_key)
    first.add(first_key)
    second.add(second_key)
    released = False

    def release() -> None:
        nonlocal released
        if not released:
            released = True
            first.remove(first_key)
            second.remove(second_key)

    return release
