"""One facade for the server: statistics always, the local model when it is ready.

    suggester = Suggester.from_env()       # LISTOK_MODEL, else the default model package
    suggester.start()                      # model loads in its own thread; returns at once
    suggester.update(record)               # whenever a list changes (feeds `together`)
    result = await suggester.suggest(record, limit=10)
    result = await suggester.for_prompt(record, "борщ на 6")
    suggester.stop()

`suggest` never fails because of the model: when it is absent, loading, busy or slow, the
result holds the statistics alone and says why in `model`. `for_prompt` needs the model
and raises `ModelUnavailableError` / `ModelBusyError` / `ModelTimeoutError` otherwise
(the server maps them to 503 / 429 / 504).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from models.history import ListRecord, Normalize, Suggestion, default_normalize
from models.llm import (
    ModelBusyError,
    ModelConfig,
    ModelEngine,
    ModelError,
    ModelTimeoutError,
    ModelUnavailableError,
    State,
)
from models.stats import StatsEngine

log = logging.getLogger("listok.suggest")

__all__ = [
    "ModelBusyError",
    "ModelTimeoutError",
    "ModelUnavailableError",
    "SuggestResult",
    "Suggester",
]


@dataclass(frozen=True, slots=True)
class SuggestResult:
    suggestions: list[Suggestion]
    model: str  # "used", "cached", or why not: "absent", "loading", "failed", "busy", "timeout"
    seconds: float

    def to_json(self) -> dict[str, object]:
        return {
            "suggestions": [s.to_json() for s in self.suggestions],
            "model": self.model,
        }


class Suggester:
    def __init__(
        self,
        stats: StatsEngine | None = None,
        model: ModelEngine | None = None,
        *,
        normalize: Normalize | None = None,
        model_timeout_s: float = 8.0,
        cache_size: int = 256,
    ) -> None:
        self.normalize = normalize or default_normalize()
        self.stats = stats or StatsEngine(normalize=self.normalize)
        self.model = model
        self.model_timeout_s = model_timeout_s
        self._cache: OrderedDict[tuple[object, ...], list[Suggestion]] = OrderedDict()
        self._cache_size = cache_size

    @classmethod
    def from_env(cls, model_path: Path | None = None, model_timeout_s: float = 8.0) -> Suggester:
        """Model from `model_path`, else `LISTOK_MODEL`, else the default model package."""
        from models.model_package import resolve_model_path

        normalize = default_normalize()
        config = ModelConfig.from_env(model_path)
        model = ModelEngine(config, normalize=normalize, resolve=resolve_model_path)
        return cls(model=model, normalize=normalize, model_timeout_s=model_timeout_s)

    # -- lifecycle ----------------------------------------------------------------------

    def start(self) -> None:
        if self.model is not None:
            self.model.start()

    def stop(self) -> None:
        if self.model is not None:
            self.model.stop()

    def status(self) -> dict[str, object]:
        if self.model is None:
            return {"model": State.ABSENT.value}
        out: dict[str, object] = {"model": self.model.state.value}
        if self.model.path is not None:
            out["path"] = str(self.model.path)
        if self.model.error:
            out["error"] = self.model.error
        return out

    # -- the statistics index -----------------------------------------------------------

    def update(self, record: ListRecord) -> None:
        self.stats.update(record)

    def remove(self, list_id: str) -> None:
        self.stats.remove(list_id)

    # -- queries ------------------------------------------------------------------------

    async def suggest(
        self,
        record: ListRecord,
        *,
        limit: int = 10,
        use_model: bool = True,
        now_ms: int | None = None,
    ) -> SuggestResult:
        started = time.perf_counter()
        found = self.stats.suggest(record, now_ms=now_ms, limit=limit)
        model_state, extra = await self._model_missing(record, limit) if use_model else ("off", [])
        names = {self.normalize(s.name, record.lang) for s in found}
        for s in extra:
            key = self.normalize(s.name, record.lang)
            if key not in names:
                names.add(key)
                found.append(s)
        found.sort(key=lambda s: -s.score)
        return SuggestResult(found[:limit], model_state, time.perf_counter() - started)

    async def for_prompt(self, record: ListRecord, prompt: str, *, limit: int = 8) -> SuggestResult:
        if self.model is None:
            raise ModelUnavailableError(State.ABSENT.value)
        started = time.perf_counter()
        key = ("dish", record.lang, prompt.strip().casefold(), self._on_list(record))
        cached = self._cache_get(key)
        if cached is not None:
            return SuggestResult(cached[:limit], "cached", time.perf_counter() - started)
        found = await self.model.dish_items(record, prompt, limit)
        self._cache_put(key, found)
        return SuggestResult(found, "used", time.perf_counter() - started)

    async def _model_missing(self, record: ListRecord, limit: int) -> tuple[str, list[Suggestion]]:
        model = self.model
        if model is None:
            return State.ABSENT.value, []
        if model.state is not State.READY:
            return model.state.value, []
        key = ("missing", record.lang, record.title, self._on_list(record))
        cached = self._cache_get(key)
        if cached is not None:
            return "cached", cached
        try:
            found = await model.missing_items(record, min(limit, 6), timeout=self.model_timeout_s)
        except ModelBusyError:
            return "busy", []
        except ModelTimeoutError:
            return "timeout", []
        except ModelError as exc:
            return f"error: {exc}", []
        except asyncio.CancelledError:
            raise
        except Exception:  # a bug in generation must not break statistics suggestions
            log.exception("model suggestion failed")
            return "error", []
        self._cache_put(key, found)
        return "used", found

    def _on_list(self, record: ListRecord) -> frozenset[str]:
        return frozenset(self.normalize(n, record.lang) for n in record.open_names())

    def _cache_get(self, key: tuple[object, ...]) -> list[Suggestion] | None:
        found = self._cache.get(key)
        if found is not None:
            self._cache.move_to_end(key)
        return found

    def _cache_put(self, key: tuple[object, ...], value: list[Suggestion]) -> None:
        self._cache[key] = value
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
