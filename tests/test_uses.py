"""A link's last use: written at most once an interval per share, batched, off the loop."""

from __future__ import annotations

from pathlib import Path

from server.uses import ShareUses
from store import Share, SQLiteStore, Writer
from tests.support import wait_for
from tests.test_store import LIST, create


class Clock:
    def __init__(self) -> None:
        self.seconds = 1000.0
        self.ms = 5_000

    def tick(self, seconds: float) -> None:
        self.seconds += seconds
        self.ms += int(seconds * 1000)


async def test_uses_are_written_once_an_interval_per_share(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "db.sqlite")
    create(store)
    store.add_share(Share("e1", LIST, "edit", "Boris", 2), "hash-e1")
    store.add_share(Share("v1", LIST, "view", "", 3), "hash-v1")
    writer = Writer(store)
    writer.start()
    clock = Clock()
    uses = ShareUses(writer, interval=60, clock=lambda: clock.seconds, now_ms=lambda: clock.ms)

    def last_used() -> list[int | None]:
        return [s.last_used_at for s in store.shares(LIST)]

    uses.record("e1")
    await wait_for(lambda: last_used() == [None, 5_000, None], what="the first use written")
    for _ in range(1000):  # a busy link: nothing more is queued within the interval
        clock.tick(0.05)
        uses.record("e1")
    uses.record("v1")  # queued after every e1 use above: once it shows, they would have too
    await wait_for(lambda: last_used()[2] is not None, what="the other link's use written")
    assert last_used() == [None, 5_000, 55_000]

    clock.tick(11)  # past the interval since e1 was written: written again
    uses.record("e1")
    uses.record("owner-1")
    await wait_for(lambda: last_used() == [66_000, 66_000, 55_000], what="the next uses")
    uses.stop()
    await writer.stop()
    store.close()


async def test_pending_uses_are_written_on_stop(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "db.sqlite")
    create(store)
    writer = Writer(store)
    writer.start()
    clock = Clock()
    uses = ShareUses(writer, clock=lambda: clock.seconds, now_ms=lambda: clock.ms)
    uses.record("owner-1")  # in flight
    store.add_share(Share("e1", LIST, "edit", "", 2), "hash-e1")
    uses.record("e1")  # pending behind it
    uses.stop()
    await writer.stop()
    assert [s.last_used_at for s in store.shares(LIST)] == [5_000, 5_000]
    store.close()
