"""Typed change events, derived from the document itself whatever the source of the change.

`item.added`, `item.updated` (with the changed fields), `item.checked`, `item.removed` and
`list.updated` are recorded while an update is applied, then committed with that update, so
an event exists exactly when its change is durable.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Final, cast

from pycrdt import Doc, Map

from server import schema
from store import Event

EVENT_TYPES: Final = ("item.added", "item.updated", "item.checked", "item.removed", "list.updated")
# Fields that change as a side effect of another change: they never make an event on their own.
_QUIET_FIELDS: Final = frozenset({"updated_at", "checked_at"})


def _value(value: Any) -> Any:
    if isinstance(value, Map):
        return value.to_py()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


class EventRecorder:
    """Watches one document and turns each transaction into typed events."""

    def __init__(self, doc: Doc[Any], actor_of: Callable[[Any], str]) -> None:
        self.doc = doc
        self.actor_of = actor_of
        self.pending: list[Event] = []
        # Item names, to name removed items (whose content is gone once deleted). Built before
        # the first change, not on load: opening a big list and answering its first sync
        # should not pay for it.
        self.names: dict[str, str] = {}
        self.ready = False
        self._subs = [
            # pycrdt passes the transaction as a second argument when the callback takes one.
            schema.items(doc).observe_deep(cast(Any, self._on_items)),
            schema.meta(doc).observe_deep(cast(Any, self._on_meta)),
        ]

    def prepare(self) -> None:
        """Index item names; call before applying a change."""
        if self.ready:
            return
        self.names = {
            item_id: str(item.get("name", "")) if isinstance(item, Map) else ""
            for item_id, item in schema.items(self.doc).items()
        }
        self.ready = True

    def take(self) -> tuple[Event, ...]:
        events = tuple(self.pending)
        self.pending.clear()
        return events

    def _emit(self, kind: str, actor: str, data: dict[str, Any]) -> None:
        self.pending.append(
            Event(kind, actor, json.dumps(data, ensure_ascii=False), schema.now_ms())
        )

    def _on_items(self, events: list[Any], txn: Any) -> None:
        actor = self.actor_of(txn.origin)
        for event in events:
            path = list(event.path)
            if not path:
                self._on_item_set(event.keys, actor)
            elif len(path) == 1:
                self._on_fields(str(path[0]), event.keys, actor)

    def _on_item_set(self, keys: dict[str, Any], actor: str) -> None:
        for item_id, change in keys.items():
            action = change.get("action")
            if action == "delete":
                name = self.names.pop(item_id, "")
                self._emit("item.removed", actor, {"item_id": item_id, "name": name})
                continue
            value = change.get("newValue")
            item = schema.item_to_json(item_id, value) if isinstance(value, Map) else None
            if item is None:
                continue
            name = str(item["name"])
            self.names[item_id] = name
            self._emit("item.added", actor, {"item_id": item_id, "name": name, "item": item})

    def _on_fields(self, item_id: str, keys: dict[str, Any], actor: str) -> None:
        changes = {
            field: _value(change.get("newValue")) if change.get("action") != "delete" else None
            for field, change in keys.items()
        }
        new_name = changes.get("name")
        if isinstance(new_name, str):
            self.names[item_id] = new_name
        name = self.names.get(item_id, "")
        if "checked" in changes:
            self._emit(
                "item.checked",
                actor,
                {"item_id": item_id, "name": name, "checked": bool(changes.pop("checked"))},
            )
        loud = {k: v for k, v in changes.items() if k not in _QUIET_FIELDS}
        if loud:
            self._emit("item.updated", actor, {"item_id": item_id, "name": name, "changes": loud})

    def _on_meta(self, events: list[Any], txn: Any) -> None:
        actor = self.actor_of(txn.origin)
        changes: dict[str, Any] = {}
        for event in events:
            for key, change in event.keys.items():
                changes[key] = _value(change.get("newValue"))
        if changes:
            self._emit("list.updated", actor, {"changes": changes})


def event_json(event: Event) -> dict[str, Any]:
    return {
        "id": event.event_id,
        "type": event.type,
        "actor": event.actor,
        "at": event.created_at,
        **json.loads(event.data),
    }


_SUMMARY: Final = {
    "en": {
        "item.added": "{actor} added {name}",
        "item.removed": "{actor} removed {name}",
        "item.checked": "{actor} checked {name}",
        "item.unchecked": "{actor} unchecked {name}",
        "item.updated": "{actor} changed {name}",
        "list.updated": "{actor} renamed the list to {title}",
        "list.changed": "{actor} changed the list",
    },
    "ru": {
        "item.added": "{actor} добавил(а) {name}",
        "item.removed": "{actor} удалил(а) {name}",
        "item.checked": "{actor} купил(а) {name}",
        "item.unchecked": "{actor} вернул(а) {name}",
        "item.updated": "{actor} изменил(а) {name}",
        "list.updated": "{actor} переименовал(а) список в «{title}»",
        "list.changed": "{actor} изменил(а) список",
    },
}
# Someone unnamed (no name, no link label): "Кто-то" takes the masculine form, not "(а)".
_SOMEONE: Final = {
    "en": {kind: text.replace("{actor}", "Someone") for kind, text in _SUMMARY["en"].items()},
    "ru": {
        "item.added": "Кто-то добавил {name}",
        "item.removed": "Кто-то удалил {name}",
        "item.checked": "Кто-то купил {name}",
        "item.unchecked": "Кто-то вернул {name}",
        "item.updated": "Кто-то изменил {name}",
        "list.updated": "Кто-то переименовал список в «{title}»",
        "list.changed": "Кто-то изменил список",
    },
}
# Before names and labels were used, an unnamed person's events carried their role: those
# old events read "someone" too (a role word is never shown as a person).
_UNNAMED: Final = frozenset({"", "owner", "edit", "view"})


def summary(event: dict[str, Any], lang: str) -> str:
    actor = str(event.get("actor") or "")
    table = _SOMEONE if actor in _UNNAMED else _SUMMARY
    texts = table.get(lang, table["en"])
    kind = event["type"]
    if kind == "item.checked" and not event.get("checked"):
        kind = "item.unchecked"
    title = (event.get("changes") or {}).get("title")
    if kind == "list.updated" and not isinstance(title, str):
        kind = "list.changed"
    return texts[kind].format(actor=actor, name=event.get("name", ""), title=title)
