"""Fan-out between processes (server/fanout.py) against the real Redis and PostgreSQL.

Each "process" here is a fan-out instance with its own replica of a list, applying what the
others publish and catching up from the real PostgreSQL store when it finds a gap: the room
layer's wiring in miniature (docs/deploy.md).
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from pycrdt import Doc

from server import schema
from server.fanout import (
    Fanout,
    Kind,
    LocalFanout,
    LocalHub,
    Message,
    Origin,
    RedisFanout,
    Subscription,
    decode,
    encode,
)
from server.replication import Follower
from store import Change, Share
from store.postgres import PostgresStore
from store.replay import apply_history
from tests.conftest import REDIS_TEST_URL, service_missing
from tests.support import wait_for

LIST = "5a2b1c3d-0000-4000-8000-0000000000f1"


# -- frames and the gap logic -------------------------------------------------------------


def test_frames_round_trip_and_garbage_is_refused() -> None:
    message = Message(
        Kind.UPDATE, LIST, seq=7, payload=b"\x01\x00\xff", origin=Origin.API, node="n1"
    )
    assert decode(encode(message)) == message
    revoked = Message(Kind.REVOKED, LIST, share_id="s-1", node="n2")
    assert decode(encode(revoked)) == revoked
    for garbage in (b"", b"LF1", b"XXX\x00\x00\x00\x02{}", b"LF1\x00\x00\x00\x09{}"):
        with pytest.raises(ValueError):
            decode(garbage)


def gaps_of(sub_factory: Callable[..., Subscription]) -> tuple[Subscription, list[int]]:
    reported: list[int] = []
    sub = sub_factory(lambda _list_id, after: reported.append(after))
    return sub, reported


def make_sub(on_gap: Callable[[str, int], None]) -> Subscription:
    return Subscription(LIST, lambda _m: None, on_gap, node="me")


def test_a_skipped_number_is_a_gap_and_catch_up_closes_it() -> None:
    sub, reported = gaps_of(make_sub)
    sub.caught_up(3)  # the load read the list at 3
    sub.note(4)
    sub.note(4)  # a duplicate is nothing
    assert reported == [] and sub.seen == 4
    sub.note(6)  # 5 was lost
    assert reported == [4]
    sub.note(7)  # arrives while catching up: kept, checked when the catch-up ends
    sub.caught_up(6)  # the store read reached 6
    assert sub.seen == 7 and reported == [4]
    sub.note(8)
    assert reported == [4] and sub.seen == 8


def test_a_message_newer_than_the_load_is_caught_up() -> None:
    sub, reported = gaps_of(make_sub)
    sub.note(5)  # committed and delivered while the load was reading
    sub.note(6)
    sub.caught_up(4)  # the load read 4: 5 and 6 came as messages, nothing is missing
    assert reported == [] and sub.seen == 6
    other, reported = gaps_of(make_sub)
    other.note(7)
    other.caught_up(4)  # 5 and 6 were neither in the load nor delivered
    assert reported == [4]


def test_a_head_means_its_update_itself_was_not_delivered() -> None:
    sub, reported = gaps_of(make_sub)
    sub.caught_up(3)
    sub.deliver(Message(Kind.HEAD, LIST, seq=4, node="other"))  # seen + 1, yet missing
    assert reported == [3]
    sub.caught_up(4)
    sub.deliver(Message(Kind.HEAD, LIST, seq=4, node="other"))  # already caught up
    assert reported == [3]


def test_a_lost_link_catches_up_even_during_a_load() -> None:
    sub, reported = gaps_of(make_sub)
    sub.lost_track()  # before the first load finished: the load may predate the outage
    assert reported == []
    sub.caught_up(2)
    assert reported == [2]
    sub.caught_up(2)
    sub.lost_track()
    assert reported == [2, 2]


async def test_local_fanout_connects_instances_on_one_hub() -> None:
    hub = LocalHub()
    a, b = LocalFanout(hub, node="a"), LocalFanout(hub, node="b")
    got_a: list[Message] = []
    got_b: list[Message] = []
    await a.subscribe(LIST, got_a.append, lambda *_: None)
    sub_b = await b.subscribe(LIST, got_b.append, lambda *_: None)
    sub_b.caught_up(0)
    await a.publish_update(LIST, b"u1", 1, Origin.API)
    await wait_for(lambda: got_b, what="b receives a's update")
    assert got_b[0].payload == b"u1" and got_b[0].node == "a" and got_b[0].origin is Origin.API
    assert got_a == []  # a's own message is not handed back to it
    assert sub_b.seen == 1


# -- Redis: two processes ------------------------------------------------------------------


def subscribed_count(client: redis.Redis, channel: str) -> int:
    counts = dict(client.pubsub_numsub(channel))
    return int(counts.get(channel.encode(), 0))


@pytest.fixture
async def pair(redis_prefix: str) -> AsyncIterator[tuple[RedisFanout, RedisFanout]]:
    a = RedisFanout(REDIS_TEST_URL, prefix=redis_prefix, node="a", min_backoff=0.05)
    b = RedisFanout(REDIS_TEST_URL, prefix=redis_prefix, node="b", min_backoff=0.05)
    await a.start()
    await b.start()
    yield a, b
    await a.stop()
    await b.stop()


async def test_two_processes_exchange_every_kind_of_change(
    pair: tuple[RedisFanout, RedisFanout],
) -> None:
    a, b = pair
    got_a: list[Message] = []
    got_b: list[Message] = []
    tokens_b: list[str | None] = []
    b.on_tokens = tokens_b.append
    (await a.subscribe(LIST, got_a.append, lambda *_: None)).caught_up(0)
    sub_b = await b.subscribe(LIST, got_b.append, lambda *_: None)
    sub_b.caught_up(0)
    await a.publish_update(LIST, b"update-1", 1, Origin.SOCKET)
    await a.publish_presence(LIST, b"awareness", removed=False)
    await a.publish_presence(LIST, b"gone", removed=True)
    await a.publish_events(LIST, 42, Origin.API)
    await a.publish_revoked(LIST, "share-9")
    await a.publish_deleted(LIST)
    await wait_for(lambda: len(got_b) == 6, what="six messages on b")
    assert [m.kind for m in got_b] == [
        Kind.UPDATE,
        Kind.PRESENCE,
        Kind.PRESENCE_REMOVED,
        Kind.EVENTS,
        Kind.REVOKED,
        Kind.DELETED,
    ]
    assert got_b[0].payload == b"update-1" and got_b[0].seq == 1
    assert got_b[1].payload == b"awareness" and got_b[2].payload == b"gone"
    assert got_b[3].event_id == 42 and got_b[4].share_id == "share-9"
    assert all(m.node == "a" for m in got_b)
    # Token invalidations go to every process, whether or not it has the list open.
    await wait_for(lambda: tokens_b == [LIST, LIST], what="token invalidations on b")
    assert got_a == [] and sub_b.gaps == 0


async def test_a_process_hears_only_the_lists_it_has_open(
    pair: tuple[RedisFanout, RedisFanout], redis_prefix: str
) -> None:
    a, b = pair
    got: list[Message] = []
    sub = await b.subscribe(LIST, got.append, lambda *_: None)
    client = redis.Redis.from_url(REDIS_TEST_URL)
    try:
        assert subscribed_count(client, b.channel(LIST)) == 1
        await b.unsubscribe(sub)
        await wait_for(lambda: subscribed_count(client, b.channel(LIST)) == 0, what="unsubscribed")
    finally:
        client.close()
    await a.publish_update(LIST, b"x", 1)
    await a.publish_tokens()  # a message b does hear: once it is in, the update was not
    done: list[str | None] = []
    b.on_tokens = done.append
    await a.publish_tokens()
    await wait_for(lambda: done, what="b hears the global channel")
    assert got == []


# -- Redis + PostgreSQL: replicas that converge --------------------------------------------


class Replica:
    """A process's copy of the list (what a room is to server/replication.py's Follower)."""

    def __init__(self, fanout: Fanout, store: PostgresStore) -> None:
        self.fanout = fanout
        self.store = store
        self.doc: Doc[Any] = Doc()
        self.follower = Follower(LIST, store, fanout, retry_min=0.05)
        self.revoked: set[str] = set()
        self.deleted = False
        self.presence: list[tuple[str, bytes, bool]] = []

    async def open(self) -> None:
        def build(updates: list[bytes]) -> Replica:
            apply_history(self.doc, updates, LIST)
            return self

        assert await self.follower.open(build) is self

    @property
    def sub(self) -> Subscription | None:
        return self.follower.sub

    @property
    def catch_ups(self) -> int:
        return self.follower.catch_ups

    # RemoteTarget
    def apply_remote(self, update: bytes) -> None:
        with self.doc.transaction(origin=Origin.REMOTE):
            self.doc.apply_update(update)

    def remote_presence(self, node: str, awareness: bytes, removed: bool) -> None:
        self.presence.append((node, awareness, removed))

    def remote_revoked(self, share_ids: set[str]) -> None:
        self.revoked |= share_ids

    def remote_deleted(self) -> None:
        self.deleted = True

    def remote_events(self) -> None:
        pass

    async def write(self, name: str, *, publish: bool = True) -> None:
        """Change the list here, commit it, then (unless told not to) publish it."""
        captured: list[bytes] = []
        subscription = self.doc.observe(lambda event: captured.append(event.update))
        schema.add_item(self.doc, schema.new_item(name, order=f"a{name}"), f"id-{name}")
        self.doc.unobserve(subscription)
        (seq,) = await asyncio.to_thread(self.store.append, [Change(LIST, captured[0])])
        if publish:
            await self.fanout.publish_update(LIST, captured[0], seq, Origin.SOCKET)

    def names(self) -> list[str]:
        return sorted(item["name"] for item in schema.list_items(self.doc))


@pytest.fixture
def pg_store(pg_url: str) -> Iterator[PostgresStore]:
    store = PostgresStore(pg_url)
    owner = Share("owner", LIST, "owner", "owner", 1)
    store.create_list(LIST, 1, schema.new_list_update("Food", 1), owner, "hash-owner")
    yield store
    store.close()


async def test_a_lost_message_is_found_by_its_number_and_caught_up(
    pair: tuple[RedisFanout, RedisFanout], pg_store: PostgresStore
) -> None:
    a, b = pair
    ra, rb = Replica(a, pg_store), Replica(b, pg_store)
    await ra.open()
    await rb.open()
    await ra.write("milk")
    await wait_for(lambda: rb.names() == ["milk"], what="b applies a's update")
    await ra.write("bread", publish=False)  # committed, its message lost
    await ra.write("eggs")
    await wait_for(lambda: rb.names() == ["bread", "eggs", "milk"], what="b catches up")
    # The catch-up counts once it has also re-read the shares (after applying the updates).
    await wait_for(lambda: rb.catch_ups == 1, what="the catch-up completes")
    assert rb.sub is not None and rb.sub.gaps == 1


async def test_a_killed_subscriber_link_reconnects_and_catches_up(
    pair: tuple[RedisFanout, RedisFanout], pg_store: PostgresStore, redis_prefix: str
) -> None:
    a, b = pair
    b.min_backoff = 0.5  # a window in which a's next write is surely missed
    ra, rb = Replica(a, pg_store), Replica(b, pg_store)
    await ra.open()
    await rb.open()
    tokens_b: list[str | None] = []
    b.on_tokens = tokens_b.append
    await kill_subscriber(b, redis_prefix)
    await ra.write("milk")  # published while b is not listening
    await wait_for(lambda: b.reconnects == 1, what="b reconnects")
    await wait_for(lambda: rb.names() == ["milk"], what="b catches up from the store")
    assert None in tokens_b  # token caches are dropped after a lost link
    await ra.write("tea")
    await wait_for(lambda: rb.names() == ["milk", "tea"], what="live again")
    assert rb.sub is not None and rb.sub.gaps == 1


async def test_a_revocation_and_a_deletion_missed_while_away_are_found(
    pair: tuple[RedisFanout, RedisFanout], pg_store: PostgresStore, redis_prefix: str
) -> None:
    a, b = pair
    b.min_backoff = 0.5
    ra, rb = Replica(a, pg_store), Replica(b, pg_store)
    await ra.open()
    await rb.open()
    pg_store.add_share(Share("fridge", LIST, "view", "", 2), "hash-fridge")
    await kill_subscriber(b, redis_prefix)
    assert pg_store.revoke_share(LIST, "fridge", 3)
    await a.publish_revoked(LIST, "fridge")  # b is not listening
    await wait_for(lambda: b.reconnects == 1, what="b reconnects")
    await wait_for(lambda: "fridge" in rb.revoked, what="b finds the revocation")
    assert not rb.deleted
    await kill_subscriber(b, redis_prefix)
    assert pg_store.delete_list(LIST, 4)
    await a.publish_deleted(LIST)
    await wait_for(lambda: rb.deleted, what="b finds the deletion")


async def kill_subscriber(fanout: RedisFanout, prefix: str) -> None:
    """Cut one fan-out's subscriber link from the Redis side (only our own connection)."""
    client = redis.Redis.from_url(REDIS_TEST_URL)
    try:
        name = f"{prefix}sub:{fanout.node}"
        ids = [c["id"] for c in client.client_list() if c.get("name") == name]
        assert len(ids) == 1, f"{fanout.node}'s subscriber connection"
        client.client_kill_filter(_id=ids[0])
    finally:
        client.close()
    await wait_for(lambda: not fanout.connected.is_set(), what="the lost link is noticed")


# -- a Redis of the test's own, restarted mid-run ------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class PrivateRedis:
    """redis-server on a free port, owned by this test (the shared one is never restarted)."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        assert binary is not None
        self.proc = subprocess.Popen(
            [
                *(binary, "--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no", "--dir", str(self.workdir)),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    async def ready(self) -> None:
        def ping() -> bool:
            client = redis.Redis(port=self.port, socket_connect_timeout=0.5)
            try:
                return bool(client.ping())
            except redis.RedisError:
                return False
            finally:
                client.close()

        await wait_for(ping, what="private redis-server answers")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


@pytest.fixture
async def private_redis(tmp_path: Path) -> AsyncIterator[PrivateRedis]:
    if shutil.which("redis-server") is None:
        service_missing("redis-server (the binary)", FileNotFoundError("redis-server"))
    server = PrivateRedis(tmp_path)
    server.start()
    await server.ready()
    yield server
    server.stop()


async def test_redis_restarted_mid_run_every_replica_converges(
    private_redis: PrivateRedis, pg_store: PostgresStore
) -> None:
    a = RedisFanout(private_redis.url, prefix="t:", node="a", min_backoff=0.05, max_backoff=0.2)
    b = RedisFanout(private_redis.url, prefix="t:", node="b", min_backoff=0.05, max_backoff=0.2)
    await a.start()
    await b.start()
    try:
        ra, rb = Replica(a, pg_store), Replica(b, pg_store)
        await ra.open()
        await rb.open()
        await ra.write("milk")
        await wait_for(lambda: rb.names() == ["milk"], what="b applies a's update")

        private_redis.stop()
        await wait_for(lambda: not b.connected.is_set(), what="b notices Redis is gone")
        await ra.write("bread")  # committed; its publish fails and is kept
        await rb.write("eggs")  # the same on b's side
        await wait_for(lambda: a.pending >= 1 and b.pending >= 1, what="publishes kept")

        private_redis.start()
        await private_redis.ready()
        await wait_for(lambda: a.connected.is_set() and b.connected.is_set(), what="reconnect")
        want = ["bread", "eggs", "milk"]
        await wait_for(lambda: ra.names() == want and rb.names() == want, what="convergence")
        await wait_for(lambda: a.pending == 0 and b.pending == 0, what="outboxes flushed")
        await ra.write("tea")
        await wait_for(lambda: rb.names() == [*want, "tea"], what="live after the restart")
    finally:
        await a.stop()
        await b.stop()


async def test_posted_messages_leave_in_order(pair: tuple[RedisFanout, RedisFanout]) -> None:
    a, b = pair
    got: list[int] = []
    sub = await b.subscribe(LIST, lambda m: got.append(m.seq), lambda *_: None)
    sub.caught_up(0)
    for seq in range(1, 201):  # what commit callbacks do: post, never await
        a.post(Message(Kind.UPDATE, LIST, seq=seq, payload=b"u", origin=Origin.SOCKET))
    await wait_for(lambda: len(got) == 200, what="200 updates on b")
    assert got == list(range(1, 201)) and sub.gaps == 0
