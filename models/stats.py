"""Statistics suggestions, always on.

- `history`: bought on this list before and due again by its usual interval between purchases.
- `together`: often on other lists that have what this list has. An item counts for this
  only once it appears on at least `min_lists` *established* lists other than the one asking,
  so no list ever learns another list's rare items. A list is established once it is
  `min_age_days` old, has been shopped on `min_trips` separate trips and has `min_people`
  people (docs/decisions/together-privacy.md): throwaway lists made to lift a rare item over the
  threshold do not count.

The engine keeps a small co-occurrence index over all lists, updated one list at a time
(`update`/`remove`, O(k^2) for a list of k names); a query walks only the rows of the names
on the asking list. Not thread-safe: call it from one thread (the event loop).
"""

from __future__ import annotations

import heapq
import statistics
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from operator import itemgetter

from models.history import Entry, Lang, ListRecord, Normalize, Suggestion, default_normalize

DAY_MS = 86_400_000
TRIP_GAP_MS = 12 * 3_600_000  # purchases closer than this are one shopping trip


@dataclass(frozen=True, slots=True)
class _Indexed:
    lang: Lang
    keys: frozenset[str]
    forms: dict[str, str]  # key -> the surface form this list uses


class StatsEngine:
    def __init__(
        self,
        *,
        normalize: Normalize | None = None,
        min_lists: int = 3,
        max_keys_per_list: int = 80,
        due_ratio: float = 0.8,
        row_limit: int = 150,
        max_results: int = 30,
        min_age_days: float = 7.0,
        min_trips: int = 2,
        min_people: int = 1,
    ) -> None:
        self._normalize = normalize or default_normalize()
        self.min_lists = min_lists
        self.max_keys_per_list = max_keys_per_list
        self.due_ratio = due_ratio
        self.row_limit = row_limit
        self.max_results = max_results
        self.min_age_days = min_age_days
        self.min_trips = min_trips
        self.min_people = min_people
        self._lists: dict[str, _Indexed] = {}
        self._count: Counter[str] = Counter()
        self._cooc: defaultdict[str, Counter[str]] = defaultdict(Counter)
        self._forms: defaultdict[str, Counter[str]] = defaultdict(Counter)
        self._top: dict[str, list[tuple[str, int]]] = {}

    # -- index --------------------------------------------------------------------------

    @classmethod
    def from_records(cls, records: Iterable[ListRecord], **kwargs: object) -> StatsEngine:
        engine = cls(**kwargs)  # type: ignore[arg-type]
        for record in records:
            engine.update(record)
        return engine

    def __len__(self) -> int:
        return len(self._lists)

    def key(self, name: str, lang: str | None) -> str:
        return self._normalize(name, lang)

    def established(self, record: ListRecord, now_ms: int | None = None) -> bool:
        """Old enough, shopped on enough trips, by enough people to count for `together`."""
        now = int(time.time() * 1000) if now_ms is None else now_ms
        if record.people < self.min_people:
            return False
        times = [e.added_at for e in record.entries] + [
            e.checked_at for e in record.entries if e.checked_at is not None
        ]
        if not times or now - min(times) < self.min_age_days * DAY_MS:
            return self.min_age_days <= 0 and self.min_trips <= 0
        bought = [e.checked_at for e in record.entries if e.checked_at is not None]
        return len(_trips(bought)) >= self.min_trips

    def update(self, record: ListRecord, now_ms: int | None = None) -> None:
        """Add or replace a list's contribution (its most recent distinct names); a list that is
        not established yet contributes nothing."""
        self.remove(record.list_id)
        if not self.established(record, now_ms):
            return
        forms: dict[str, str] = {}
        for entry in sorted(record.entries, key=_last_seen, reverse=True):
            k = self.key(entry.name, record.lang)
            if k and k not in forms:
                forms[k] = entry.name.strip()
                if len(forms) >= self.max_keys_per_list:
                    break
        keys = frozenset(forms)
        for k in keys:
            self._top.pop(k, None)
        self._lists[record.list_id] = _Indexed(record.lang, keys, forms)
        for k in keys:
            self._count[k] += 1
            self._forms[k][forms[k]] += 1
            row = self._cooc[k]
            for other in keys:
                if other != k:
                    row[other] += 1

    def remove(self, list_id: str) -> None:
        old = self._lists.pop(list_id, None)
        if old is None:
            return
        for k in old.keys:
            self._top.pop(k, None)
            _decrement(self._count, k)
            _decrement(self._forms[k], old.forms[k])
            if not self._forms[k]:
                del self._forms[k]
            row = self._cooc[k]
            for other in old.keys:
                if other != k:
                    _decrement(row, other)
            if not row:
                del self._cooc[k]

    # -- queries ------------------------------------------------------------------------

    def suggest(
        self,
        record: ListRecord,
        *,
        now_ms: int | None = None,
        limit: int = 10,
        sources: Sequence[str] = ("history", "together"),
    ) -> list[Suggestion]:
        now = int(time.time() * 1000) if now_ms is None else now_ms
        on_list = {self.key(n, record.lang) for n in record.open_names()}
        best: dict[str, Suggestion] = {}
        found: list[tuple[str, Suggestion]] = []
        if "history" in sources:
            found += self._history(record, on_list, now)
        if "together" in sources:
            found += self._together(record, on_list)
        for k, s in found:
            if k and k not in on_list and (k not in best or s.score > best[k].score):
                best[k] = s
        ranked = sorted(best.values(), key=lambda s: (-s.score, s.name))
        return ranked[: max(limit, 0)]

    def on_list_keys(self, record: ListRecord) -> set[str]:
        return {self.key(n, record.lang) for n in record.open_names()}

    def _history(
        self, record: ListRecord, on_list: set[str], now: int
    ) -> list[tuple[str, Suggestion]]:
        bought: defaultdict[str, list[Entry]] = defaultdict(list)
        for entry in record.entries:
            if entry.checked_at is not None:
                bought[self.key(entry.name, record.lang)].append(entry)
        out: list[tuple[str, Suggestion]] = []
        for k, entries in bought.items():
            if k in on_list:
                continue
            entries.sort(key=lambda e: e.checked_at or 0)
            trips = _trips([e.checked_at or 0 for e in entries])
            if len(trips) < 2:
                continue
            usual = statistics.median(b - a for a, b in pairwise(trips))
            elapsed = now - trips[-1]
            ratio = elapsed / max(usual, DAY_MS / 2)
            if ratio < self.due_ratio:
                continue
            confidence = (len(trips) - 1) / len(trips)
            # history is this list's own evidence: it ranks above `together` (< 0.5)
            score = 0.5 + 0.5 * _due_curve(ratio) * confidence
            latest = entries[-1]
            revive = latest.item_id if latest.present and latest.item_id else None
            reason = _history_reason(record.lang, usual, elapsed)
            days: dict[str, object] = {"every_days": _days(usual), "last_days": _days(elapsed)}
            found = Suggestion(latest.name.strip(), "history", reason, score, revive, days)
            out.append((k, found))
        return out

    def _together(self, record: ListRecord, on_list: set[str]) -> list[tuple[str, Suggestion]]:
        context = on_list or self._recent_keys(record, 10)
        mine = self._lists.get(record.list_id)
        own = mine.keys if mine is not None else frozenset()
        count = self._count
        miss: dict[str, float] = {}
        for s in context:
            n_s = count.get(s, 0) - (s in own)
            if n_s <= 0:
                continue
            s_own = s in own
            for c, n in self._row_top(s):
                both = n - (s_own and c in own)
                if both > 0 and c not in on_list:
                    miss[c] = miss.get(c, 1.0) * (1.0 - both / (n_s + 1))
        allowed = (c for c in miss if count[c] - (c in own) >= self.min_lists)
        best = heapq.nlargest(self.max_results, allowed, key=lambda c: (-miss[c], c))
        forms = self._context_forms(record)
        out: list[tuple[str, Suggestion]] = []
        for c in best:
            because = self._strongest(c, context, own)
            names = [forms.get(s, s) for s in because]
            reason = _together_reason(record.lang, names)
            name = forms.get(c) or self._display(c, mine)
            score = 0.5 * (1.0 - miss[c])
            extra: dict[str, object] = {"with": names}
            out.append((c, Suggestion(name, "together", reason, score, None, extra)))
        return out

    def _row_top(self, key: str) -> list[tuple[str, int]]:
        """The row's most frequent co-occurrences (cached until a list with `key` changes)."""
        top = self._top.get(key)
        if top is None:
            row = self._cooc.get(key)
            top = heapq.nlargest(self.row_limit, row.items(), key=itemgetter(1)) if row else []
            self._top[key] = top
        return top

    def _strongest(self, c: str, context: set[str], own: frozenset[str]) -> list[str]:
        scored = []
        for s in context:
            row = self._cooc.get(s)
            n = (row.get(c, 0) if row is not None else 0) - (s in own and c in own)
            n_s = self._count.get(s, 0) - (s in own)
            if n > 0 and n_s > 0:
                scored.append((n / (n_s + 1), s))
        return [s for _, s in sorted(scored, reverse=True)[:2]]

    def _recent_keys(self, record: ListRecord, n: int) -> set[str]:
        keys: list[str] = []
        for entry in sorted(record.entries, key=_last_seen, reverse=True):
            k = self.key(entry.name, record.lang)
            if k not in keys:
                keys.append(k)
            if len(keys) >= n:
                break
        return set(keys)

    def _context_forms(self, record: ListRecord) -> dict[str, str]:
        return {self.key(e.name, record.lang): e.name.strip() for e in record.entries}

    def _display(self, key: str, mine: _Indexed | None) -> str:
        if mine is not None and key in mine.forms:
            return mine.forms[key]
        forms = self._forms.get(key)
        if not forms:
            return key
        return max(forms.items(), key=lambda kv: (kv[1], kv[0] == kv[0].lower()))[0]


def _decrement(counter: Counter[str], key: str) -> None:
    counter[key] -= 1
    if counter[key] <= 0:
        del counter[key]


def _last_seen(entry: Entry) -> int:
    return max(entry.added_at, entry.checked_at or 0)


def _trips(times: list[int]) -> list[int]:
    trips: list[int] = []
    for t in sorted(times):
        if not trips or t - trips[-1] >= TRIP_GAP_MS:
            trips.append(t)
    return trips


def _due_curve(ratio: float) -> float:
    """0.6 when just due, 1.0 from 1.2x the usual interval, fading after 3x (maybe dropped)."""
    if ratio < 1.2:
        return 0.6 + 0.4 * max(0.0, ratio - 0.8) / 0.4
    if ratio <= 3.0:
        return 1.0
    return max(0.2, 1.0 / (ratio - 2.0))


def _days(ms: float) -> int:
    return max(1, round(ms / DAY_MS))


def _history_reason(lang: Lang, usual: float, elapsed: int) -> str:
    if lang == "ru":
        return f"обычно раз в {_days(usual)} дн., последний раз {_days(elapsed)} дн. назад"
    return f"usually every {_days(usual)} days, last bought {_days(elapsed)} days ago"


def _together_reason(lang: Lang, because: list[str]) -> str:
    joined = ", ".join(because)
    if lang == "ru":
        return f"часто берут вместе с: {joined}"
    return f"often bought with {joined}"
