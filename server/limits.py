"""Per-caller limits: token buckets for API rates and socket messages, caps on open event streams
and sockets.

Over a limit is a RateLimitError: HTTP 429 with Retry-After, socket close 4429. Every limit is a
setting; 0 turns it off. Keys are tokens or client addresses; the tables are bounded (stale
entries are dropped).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Final

from server.auth import token_hash, valid_token
from server.errors import RateLimitError
from server.settings import Settings

MAX_KEYS: Final = 100_000


class TokenBucket:
    """`rate` tokens a second, at most `burst` held, full at first; each call takes one.

    One bucket limits one socket's messages (server/sync.py); RateLimiter keeps one per key.
    A rate of 0 or less turns it off.
    """

    __slots__ = ("burst", "rate", "stamp", "tokens")

    def __init__(self, rate: float, burst: float, now: float | None = None) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = burst
        self.stamp = time.monotonic() if now is None else now

    def take(self, now: float | None = None) -> bool:
        """Take a token if one is there (refilled up to `now` first); False when none is."""
        if self.rate <= 0:
            return True
        now = time.monotonic() if now is None else now
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True

    def wait(self) -> float:
        """Seconds until the next token, after a take that found none."""
        return (1 - self.tokens) / self.rate


class RateLimiter:
    """A token bucket per key: `rate` per second, bursts up to `burst`."""

    def __init__(self, rate: float, burst: float, what: str) -> None:
        self.rate = rate
        self.burst = max(burst, 1.0)
        self.what = what
        self._buckets: dict[str, TokenBucket] = {}

    def take(self, key: str, now: float | None = None) -> None:
        if self.rate <= 0:
            return
        now = time.monotonic() if now is None else now
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= MAX_KEYS:
                self._prune(now)
            bucket = self._buckets[key] = TokenBucket(self.rate, self.burst, now)
        if not bucket.take(now):
            raise RateLimitError(f"too many {self.what}", retry_after=bucket.wait())

    def _prune(self, now: float) -> None:
        """Drop the buckets that have been full again for a while (their keys went quiet)."""
        full = self.burst / self.rate
        self._buckets = {k: b for k, b in self._buckets.items() if now - b.stamp < full}
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
