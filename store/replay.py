"""Replaying a list's stored history: the one merge/apply used by rooms, the CLI and compaction.

`merge` is pycrdt's merge_updates made safe; `apply_history` applies a snapshot and an update
tail to a document, one by one when they do not merge, skipping (and logging) an update that
cannot be applied so one bad row never hides the rest of a list; `replay` builds the folded
state that a snapshot stores.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from pycrdt import Doc, merge_updates

log = logging.getLogger("listok.store")


def merge(updates: Sequence[bytes]) -> bytes | None:
    """pycrdt.merge_updates, or None where it fails.

    yrs (pycrdt 0.14) panics on some sets of overlapping updates, e.g. the same content received
    twice (tests/vectors/merge_panic.json); pyo3 raises that as PanicException, a BaseException.
    Callers then fall back to the updates one by one.
    """
    if len(updates) == 1:
        return updates[0]
    try:
        return merge_updates(*updates)
    except Exception:
        return None
    except BaseException as exc:
        if type(exc).__name__ != "PanicException":
            raise
        return None


def apply_history(doc: Doc[Any], updates: Sequence[bytes], list_id: str) -> list[int]:
    """Apply a list's stored history; an update that cannot be applied is logged and skipped.

    Returns the indexes of the skipped updates (empty when everything applied).
    """
    if not updates:
        return []
    merged = merge(updates)
    if merged is not None:
        try:
            doc.apply_update(merged)
            return []
        except ValueError:
            pass
    if len(updates) > 1:
        log.warning("list %s: stored history does not merge; applying updates one by one", list_id)
    skipped: list[int] = []
    for index, update in enumerate(updates):
        try:
            doc.apply_update(update)
        except ValueError:
            log.error("list %s: stored update #%d cannot be applied; skipped", list_id, index)
            skipped.append(index)
    return skipped


def replay(updates: Sequence[bytes], list_id: str) -> bytes:
    """The whole state of a list whose history (snapshot first, then its tail) is `updates`."""
    doc: Doc[Any] = Doc()
    apply_history(doc, updates, list_id)
    return doc.get_update()
