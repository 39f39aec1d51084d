"""Feeds the suggestion engines (models/) from lists and their history, and remembers categories.

A list's record holds what is on it now (from its document) and what was bought before (from
its `item.checked` events, which outlive deleted items). Records of lists that changed are
rebuilt lazily, before the next query; all lists are indexed once, by the first query or in the
background some seconds after start (never while the server answers its first requests).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

from pycrdt import Doc, Map

from models.categories import categorize
from models.history import Entry, Lang, ListRecord, list_lang
from models.llm import ModelConfig, default_threads
from models.suggest import Suggester, SuggestResult
from server import schema
from server.rooms import Room, Rooms
from server.settings import Settings
from store import Event, Store

log = logging.getLogger("listok.suggest")

HISTORY_EVENTS = 5000
PAGE = 1000  # events read at a time when catching the remembered categories up
CATEGORIZER = "listok"  # the actor of categories the server fills in (not a person's choice)
INDEX_DELAY_SECONDS = 10.0


def build_record(list_id: str, doc: Doc[Any], events: list[Any]) -> ListRecord:
    data = schema.list_to_json(list_id, doc)
    entries: list[Entry] = []
    added_at: dict[str, int] = {}
    checked_events: set[tuple[str, int]] = set()
    people: set[str] = set()
    for event in events:
        body = json.loads(event.data)
        if event.type in ("item.added", "item.checked") and event.actor != CATEGORIZER:
            people.add(event.actor)
        item_id = str(body.get("item_id", ""))
        if event.type == "item.added":
            added_at[item_id] = event.created_at
        elif event.type == "item.checked" and body.get("checked") and body.get("name"):
            checked_events.add((item_id, event.created_at))
            entries.append(
                Entry(
                    name=str(body["name"]),
                    added_at=added_at.get(item_id, event.created_at),
                    checked_at=event.created_at,
                    present=False,
                    item_id=item_id,
                )
            )
    bought = {item_id for item_id, _ in checked_events}
    for item in data["items"]:
        if not item["name"] or (item["checked"] and item["id"] in bought):
            continue
        checked_at = (item["checked_at"] or item["updated_at"] or 0) if item["checked"] else None
        entries.append(
            Entry(item["name"], int(item["created_at"] or 0), checked_at, True, item["id"])
        )
    lang = list_lang([data["title"], *(e.name for e in entries)])
    return ListRecord(list_id, lang, entries, data["title"], max(1, len(people)))


def suggester_from(settings: Settings) -> Suggester:
    """The suggestion engines as the settings say (statistics always; the model unless off)."""
    config = ModelConfig(
        path=None,
        n_threads=settings.model_threads or default_threads(),
        timeout_s=settings.model_timeout,
        max_queue=settings.model_queue,
        probe=settings.model_probe,
        repack=settings.model_repack,
        nice=settings.model_nice,
    )
    together = {
        "min_age_days": settings.together_min_age_days,
        "min_trips": settings.together_min_trips,
        "min_people": settings.together_min_people,
    }
    return Suggester.create(
        config,
        model=settings.model,
        together=together,
        prompt_langs=model_langs(settings.model_prompt_langs, "model_prompt_langs"),
        list_langs=model_langs(settings.model_list_langs, "model_list_langs"),
    )


def model_langs(raw: str, name: str) -> frozenset[Lang] | None:
    """ "ru,en" -> {"ru", "en"}; "none" -> {}; "" -> None (the measured default)."""
    words = {w.strip().lower() for w in raw.split(",") if w.strip()}
    if not words:
        return None
    if words == {"none"}:
        return frozenset()
    if not words <= {"ru", "en"}:
        raise SystemExit(f"LISTOK_{name.upper()}: {raw!r} is not 'none' or a list of ru, en")
    langs: tuple[Lang, ...] = ("ru", "en")
    return frozenset(lang for lang in langs if lang in words)


def warm_up() -> None:
    from models.dishes import pairings
    from models.duplicates import find_duplicate

    find_duplicate("молоко", ["молако"])
    pairings(["milk"], "en")


class RememberedCategories:
    """normalized name -> the category a person last set for it on one list.

    Kept up to date by reading only the events committed since it last looked: filing a new
    item costs the events since the previous one, never the list's whole history (a list that
    grew by 100 items a second re-read 5,000 events per item and ran the server out of memory).
    """

    def __init__(self, normalize: Any) -> None:
        self.normalize = normalize
        self.last_event_id = 0
        self.names: dict[str, str] = {}  # item id -> its latest name
        self.chosen: dict[str, str] = {}

    def feed(self, events: list[Any]) -> None:
        for event in events:
            self.last_event_id = max(self.last_event_id, event.event_id)
            body = json.loads(event.data)
            item_id = str(body.get("item_id", ""))
            if event.type == "item.added":
                self.names[item_id] = str(body.get("name", ""))
            elif event.type == "item.removed":
                self.names.pop(item_id, None)
            elif event.type == "item.updated" and event.actor != CATEGORIZER:
                changes = body.get("changes") or {}
                name = str(changes.get("name") or body.get("name") or self.names.get(item_id, ""))
                self.names[item_id] = name
                category = changes.get("category")
                if isinstance(category, str) and category in schema.CATEGORIES and name:
                    self.chosen[self.normalize(name, None)] = category


def remembered_categories(events: list[Any], normalize: Any) -> dict[str, str]:
    """normalized name -> the category a person last set for it, from these events."""
    remembered = RememberedCategories(normalize)
    remembered.feed(events)
    return remembered.chosen


class Suggestions:
    def __init__(self, store: Store, rooms: Rooms, suggester: Suggester) -> None:
        self.store = store
        self.rooms = rooms
        self.suggester = suggester
        self.stale: set[str] = set()
        self._categories: dict[str, RememberedCategories] = {}
        self._categories_stale: set[str] = set()
        self._index_task: asyncio.Task[None] | None = None
        self._index_timer: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def start(self) -> None:
        self.suggester.start()
        loop = asyncio.get_running_loop()
        self._index_timer = loop.call_later(INDEX_DELAY_SECONDS, self._index)
        # The vocabulary behind duplicates and the dish table (about a second) loads now, in a
        # thread, rather than inside the first request that needs it.
        warm = loop.create_task(asyncio.to_thread(warm_up), name="listok-text-warm-up")
        self._tasks.add(warm)
        warm.add_done_callback(self._tasks.discard)

    def _index(self) -> asyncio.Task[None]:
        if self._index_task is None:
            self._index_task = asyncio.create_task(self._index_all(), name="listok-index")
        return self._index_task

    async def stop(self) -> None:
        if self._index_timer is not None:
            self._index_timer.cancel()
        if self._index_task is not None:
            self._index_task.cancel()
        # A generation in progress must not hold up shutdown (SIGTERM exits within 5 s).
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.to_thread(self.suggester.stop), 2.5)

    def changed(self, room: Room, events: tuple[Event, ...], by_peer: bool) -> None:
        """Events were committed: refresh the list's record later; file new items in aisles.

        Only items that came over a socket are filed: the API fills categories itself, and an
        import keeps the ones it was given (an export round-trips unchanged).
        """
        self.stale.add(room.list_id)
        self._categories_stale.add(room.list_id)
        uncategorized = [
            (body["item_id"], body["name"], (body.get("item") or {}).get("unit"))
            for body in (json.loads(e.data) for e in events if e.type == "item.added")
            if not (body.get("item") or {}).get("category") and body.get("name")
        ]
        if uncategorized and by_peer:
            task = asyncio.get_running_loop().create_task(self._categorize(room, uncategorized))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _categorize(self, room: Room, items: list[tuple[str, str, Any]]) -> None:
        """Items added without a category (a browser, offline) get one from the server.

        What a person chose for that name on this list wins, then the curated table. An item
        whose category was set meanwhile, or that is gone, is left alone.
        """
        chosen = {
            item_id: await self.category_for(
                room.list_id, name, unit if isinstance(unit, str) else None
            )
            for item_id, name, unit in items
        }

        def file(doc: Doc[Any]) -> None:
            current = schema.items(doc)
            for item_id, category in chosen.items():
                item = current.get(item_id)
                if isinstance(item, Map) and not item.get("category") and category:
                    item["category"] = category

        try:
            await room.change(file, origin=CATEGORIZER)
        except Exception:
            log.exception("list %s: filing new items in categories failed", room.list_id)

    def forget(self, list_id: str) -> None:
        self.stale.discard(list_id)
        self._categories.pop(list_id, None)
        self._categories_stale.discard(list_id)
        self.suggester.remove(list_id)

    async def _index_all(self) -> None:
        list_ids = await asyncio.to_thread(self.store.list_ids)
        for list_id in list_ids:
            try:
                self.suggester.update(await self.record(list_id))
            except Exception:
                log.exception("indexing list %s for suggestions failed", list_id)
        log.info("suggestions: %d lists indexed", len(list_ids))

    async def _events(self, list_id: str) -> list[Any]:
        return await asyncio.to_thread(self.store.events_after, list_id, 0, HISTORY_EVENTS)

    async def record(self, list_id: str) -> ListRecord:
        doc = await self.rooms.document(list_id)
        return build_record(list_id, doc, await self._events(list_id))

    async def _refresh(self) -> None:
        while self.stale:
            list_id = self.stale.pop()
            if await asyncio.to_thread(self.store.get_list, list_id) is None:
                self.suggester.remove(list_id)
                continue
            self.suggester.update(await self.record(list_id))

    async def suggest(self, list_id: str, limit: int) -> SuggestResult:
        await asyncio.shield(self._index())
        await self._refresh()
        record = await self.record(list_id)
        self.suggester.update(record)
        return await self.suggester.suggest(record, limit=limit)

    async def for_prompt(self, list_id: str, prompt: str, limit: int) -> SuggestResult:
        return await self.suggester.for_prompt(await self.record(list_id), prompt, limit=limit)

    async def category_for(self, list_id: str, name: str, unit: str | None = None) -> str:
        """What a person chose for this name on this list before, else the curated table's."""
        remembered = self._categories.get(list_id)
        if remembered is None:
            remembered = self._categories[list_id] = RememberedCategories(self.suggester.normalize)
            self._categories_stale.add(list_id)
        while list_id in self._categories_stale:
            self._categories_stale.discard(list_id)
            after = remembered.last_event_id
            while True:  # only what was committed since the last look, a page at a time
                page = await asyncio.to_thread(self.store.events_after, list_id, after, PAGE)
                remembered.feed(page)
                if len(page) < PAGE:
                    break
                after = remembered.last_event_id
        normalized = self.suggester.normalize(name, None)
        return remembered.chosen.get(normalized) or categorize(name, unit)
