"""Awareness states of a room's clients, and which connection speaks for each.

Every link holder may be hostile, so presence is bounded and bound to its sender:
- a client id belongs to the connection that first claimed it; no other connection can
  overwrite or remove its state (presence spoofing);
- a connection speaks for at most `max_clients` ids, each state at most `max_state_bytes`
  (presence poisoning), and a colour must be `#rrggbb` (it ends up in a style attribute);
- a joiner's snapshot is split into frames of at most `FRAME_BYTES` and capped at
  `SNAPSHOT_BYTES`, so presence can never stop an honest peer from joining.
"""

from __future__ import annotations

import re
from typing import Any, Final

from server.connection import Connection
from server.protocol import (
    AwarenessEntry,
    encode_awareness,
    encode_awareness_update,
    parse_state,
)

FRAME_BYTES: Final = 64 * 1024
SNAPSHOT_BYTES: Final = 1 << 20  # far below a connection's send buffer (32 MiB)
_COLOUR: Final = re.compile(r"^#[0-9a-fA-F]{6}$")


def acceptable(state: dict[str, Any] | None) -> bool:
    """A state the room will pass on: a `user.color`, when present, is `#rrggbb`."""
    if state is None:
        return True
    user = state.get("user")
    if user is None:
        return True
    if not isinstance(user, dict):
        return False
    color = user.get("color")
    return color is None or (isinstance(color, str) and bool(_COLOUR.match(color)))


class Presence:
    def __init__(self, *, max_clients: int = 8, max_state_bytes: int = 4096) -> None:
        self.max_clients = max_clients
        self.max_state_bytes = max_state_bytes
        self.states: dict[int, tuple[int, str]] = {}
        self.owners: dict[int, Connection] = {}
        self.refused = 0  # entries refused since start: spoofed, over a bound, bad colour

    def apply(self, conn: Connection, entries: list[AwarenessEntry]) -> list[AwarenessEntry]:
        """Take the entries newer than what the room has; the sender speaks for their clients."""
        accepted: list[AwarenessEntry] = []
        for client_id, clock, text in entries:
            if not self._may_speak(conn, client_id, text):
                self.refused += 1
                continue
            current = self.states.get(client_id)
            if current is not None:
                if clock < current[0]:
                    continue
                if clock == current[0] and (current[1] == "null" or text.strip() != "null"):
                    continue  # an echo of what the room has: only a removal may repeat a clock
            state = parse_state(text)
            if not acceptable(state):
                self.refused += 1
                continue
            text = "null" if state is None else text
            self.states[client_id] = (clock, text)
            self.owners[client_id] = conn
            conn.client_ids.add(client_id)
            accepted.append((client_id, clock, text))
            user = state.get("user") if state is not None else None
            name = user.get("name") if isinstance(user, dict) else None
            if isinstance(name, str) and name.strip():
                conn.name = name.strip()[:80]
        return accepted

    def _may_speak(self, conn: Connection, client_id: int, text: str) -> bool:
        owner = self.owners.get(client_id)
        if owner is not None and owner is not conn:
            return False  # someone else's client id
        if owner is None and len(conn.client_ids) >= self.max_clients:
            return False
        return len(text.encode("utf-8")) <= self.max_state_bytes

    def snapshot(self) -> list[AwarenessEntry]:
        return [
            (cid, clock, state) for cid, (clock, state) in self.states.items() if state != "null"
        ]

    def snapshot_frames(self) -> list[bytes]:
        """The snapshot as awareness frames of at most FRAME_BYTES each (one state may be alone)."""
        frames: list[bytes] = []
        batch: list[AwarenessEntry] = []
        size = total = 0
        for entry in self.snapshot():
            cost = len(entry[2].encode("utf-8")) + 20
            total += cost
            if total > SNAPSHOT_BYTES:
                break  # the rest reaches the joiner with their next change
            if batch and size + cost > FRAME_BYTES:
                frames.append(encode_awareness(encode_awareness_update(batch)))
                batch, size = [], 0
            batch.append(entry)
            size += cost
        if batch:
            frames.append(encode_awareness(encode_awareness_update(batch)))
        return frames

    def remove(self, conn: Connection) -> list[AwarenessEntry]:
        removed: list[AwarenessEntry] = []
        for client_id in conn.client_ids:
            self.owners.pop(client_id, None)
            current = self.states.pop(client_id, None)
            if current is not None and current[1] != "null":
                removed.append((client_id, current[0] + 1, "null"))
        conn.client_ids.clear()
        return removed
