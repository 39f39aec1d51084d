"""One facade for the server: statistics always, the local model when it is ready.

    suggester = Suggester.from_env()       # LISTOK_MODEL, else the default model package
    suggester.start()                      # model loads in its own thread; returns at once
    suggester.update(record)               # whenever a list changes (feeds `together`)
    result = await suggester.suggest(record, limit=10)
    result = await suggester.for_prompt(record, "борщ на 6")
    suggester.stop()

`suggest` never waits for the model: statistics and, when `together` has little to say, the
cold start (models/coldstart.py: the dish table's vote, the aisles' everyday items) answer at
once, in the list's language. When the model is used for lists in that language
(MODEL_LIST_LANGS: by default nowhere) and could still rank in the answer, its additions are
generated in the background (shown the table's dishes nearest to the list, models/retrieval.py)
and cached; `model` says "pending" until then and the next call picks them up ("cached"). The
model's names are normalised like typed ones and kept only when the vocabulary knows them.
`for_prompt` answers a dish the table knows without the model ("борщ на 6", quantities scaled);
a dish it does not know by name from its nearest dishes, adapted by the model in the languages
where that measured better (MODEL_PROMPT_LANGS); a prompt nothing is near needs the model and
raises `ModelUnavailableError` / `ModelBusyError` / `ModelTimeoutError` /
`ModelPromptTooLongError` otherwise (the server maps them to 503 / 429 / 504 / 422).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from models import coldstart, dishes, retrieval
from models.history import Lang, ListRecord, Normalize, Suggestion, default_normalize
from models.llm import (
    ModelBusyError,
    ModelConfig,
    ModelEngine,
    ModelError,
    ModelPromptTooLongError,
    ModelTimeoutError,
    ModelUnavailableError,
    State,
)
from models.stats import StatsEngine

log = logging.getLogger("listok.suggest")

__all__ = [
    "ModelBusyError",
    "ModelPromptTooLongError",
    "ModelTimeoutError",
    "ModelUnavailableError",
    "SuggestResult",
    "Suggester",
]


@dataclass(frozen=True, slots=True)
class SuggestResult:
    suggestions: list[Suggestion]
    # "used", "cached", "pending" (being generated: ask again), "table" (the dish table
    # answered), "nearest" (the table's nearest dishes answered), or why not: "absent",
    # "loading", "failed", "busy", "timeout", "too_long", "off" (not used for this language's
    # lists), "skipped" (no room left for it)
    model: str
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
        # (not `stats or ...`: an empty engine is falsy, it has a length)
        self.stats = stats if stats is not None else StatsEngine(normalize=self.normalize)
        self.model = model
        self.model_timeout_s = model_timeout_s
        self._cache: OrderedDict[tuple[object, ...], list[Suggestion]] = OrderedDict()
        self._cache_size = cache_size
        self._jobs: dict[tuple[object, ...], asyncio.Task[None]] = {}
        # `together` below this many results is "thin": the dish table's pairings fill in.
        self.thin_together = 8
        # The languages where the model adapts the nearest dishes to a dish prompt (else they
        # answer alone), and where it adds to a list's suggestions (docs/suggestions.md).
        self.model_prompt_langs = MODEL_PROMPT_LANGS
        self.model_list_langs = MODEL_LIST_LANGS

    @classmethod
    def create(
        cls,
        config: ModelConfig,
        *,
        model: str = "",
        together: Mapping[str, Any] | None = None,
        model_timeout_s: float = 8.0,
        prompt_langs: frozenset[Lang] | None = None,
        list_langs: frozenset[Lang] | None = None,
    ) -> Suggester:
        """Statistics, and the model: `model` a GGUF path, "none"/"off", or "" for the default
        model package (resolved in the model's own thread, so start-up never waits for it).
        `prompt_langs` / `list_langs`: where the model is used (None: the measured defaults)."""
        from models.model_package import resolve_model_path

        normalize = default_normalize()
        stats = StatsEngine(normalize=normalize, **dict(together or {}))
        engine = ModelEngine(
            config, normalize=normalize, resolve=lambda: resolve_model_path(model or None)
        )
        made = cls(stats, engine, normalize=normalize, model_timeout_s=model_timeout_s)
        if prompt_langs is not None:
            made.model_prompt_langs = prompt_langs
        if list_langs is not None:
            made.model_list_langs = list_langs
        return made

    # -- lifecycle ----------------------------------------------------------------------

    def start(self) -> None:
        if self.model is not None:
            self.model.start()

    def stop(self) -> None:
        for job in self._jobs.values():
            job.cancel()
        self._jobs.clear()
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
        """Statistics, then the table's cold-start picks when `together` is thin and what the
        model added earlier for this list (never waited for), the better scored of the two first
        where they name the same item."""
        started = time.perf_counter()
        found = in_language(self.stats.suggest(record, now_ms=now_ms, limit=limit), record.lang)
        names = {self.normalize(s.name, record.lang) for s in found}
        names |= {self.normalize(n, record.lang) for n in record.open_names()}
        table: list[Suggestion] = []
        if sum(s.source == "together" for s in found) < self.thin_together:
            table = table_pairings(record, limit)
        room = limit - model_outranked_by(found + table)
        model_state, extra = self._model_missing(record, limit, room) if use_model else ("off", [])
        # The table beat the model on the held-out dishes in both languages (docs/suggestions.md):
        # the model's additions rank below the table's pairings and fill in where it has none,
        # but above the table's padding (models/coldstart.py: the list's aisles, everyday items);
        # it is not even asked when what outranks it fills the answer (room <= 0).
        extra = [replace(s, score=MODEL_WEIGHT * s.score) for s in extra]
        for s in sorted(table + extra, key=lambda s: -s.score):
            key = self.normalize(s.name, record.lang)
            if key not in names:
                names.add(key)
                found.append(s)
        found.sort(key=lambda s: -s.score)
        return SuggestResult(found[:limit], model_state, time.perf_counter() - started)

    async def for_prompt(self, record: ListRecord, prompt: str, *, limit: int = 8) -> SuggestResult:
        """The table's dish when it knows the name; else the model adapting the nearest dishes
        where it beat them (`model_prompt_langs`; their other items follow its answer), else
        the nearest dishes alone; the model alone when nothing is near. A model that cannot
        answer leaves the nearest dishes."""
        started = time.perf_counter()
        table = dish_suggestions(record, prompt, self.normalize)
        if table is not None:
            return SuggestResult(table[:limit], "table", time.perf_counter() - started)
        lang = dishes.prompt_lang(prompt, record.lang)
        near = retrieval.nearest_dishes(prompt, k=RETRIEVE_K)
        nearest = nearest_suggestions(record, prompt, near, self.normalize) or None
        if self.model is None or (nearest is not None and lang not in self.model_prompt_langs):
            if nearest is None:
                raise ModelUnavailableError(State.ABSENT.value)
            return SuggestResult(nearest[:limit], "nearest", time.perf_counter() - started)
        asked = replace(record, lang=lang)
        key = ("dish", lang, prompt.strip().casefold(), self._on_list(asked))
        cached = self._cache_get(key)
        if cached is not None:
            return SuggestResult(cached[:limit], "cached", time.perf_counter() - started)
        similar = retrieval.context(near, lang)
        try:
            answer = await self.model.dish_items(asked, prompt, limit, similar=similar)
        except ModelError as exc:
            if nearest is None:
                raise
            why = exc.args[0] if isinstance(exc, ModelUnavailableError) else _why(exc)
            return SuggestResult(nearest[:limit], str(why), time.perf_counter() - started)
        found = grounded(answer, lang)
        named = {self.normalize(s.name, lang) for s in found}
        found += [s for s in nearest or [] if self.normalize(s.name, lang) not in named]
        self._cache_put(key, found)
        return SuggestResult(found[:limit], "used", time.perf_counter() - started)

    def _model_missing(
        self, record: ListRecord, limit: int, room: int
    ) -> tuple[str, list[Suggestion]]:
        """The model's additions for this list if ready; else start them in the background,
        unless it is not used for lists in this language ("off") or the answer has no `room`
        for them ("skipped")."""
        model = self.model
        if model is None:
            return State.ABSENT.value, []
        if model.state is not State.READY:
            return model.state.value, []
        if record.lang not in self.model_list_langs:
            return "off", []
        key = ("missing", record.lang, record.title, self._on_list(record))
        cached = self._cache_get(key)
        if cached is not None:
            return "cached", cached
        if room <= 0:
            return "skipped", []
        if key not in self._jobs:
            job = asyncio.get_running_loop().create_task(self._generate_missing(key, record, limit))
            self._jobs[key] = job
            job.add_done_callback(lambda _: self._jobs.pop(key, None))
        return "pending", []

    async def _generate_missing(
        self, key: tuple[object, ...], record: ListRecord, limit: int
    ) -> None:
        model = self.model
        if model is None:
            return
        names = record.open_names() or [e.name for e in record.entries][-10:]
        near = retrieval.nearest_dishes(record.title, names, k=RETRIEVE_K)
        similar = retrieval.context(near, record.lang)
        try:
            found = await model.missing_items(
                record, min(limit, 6), timeout=self.model_timeout_s, similar=similar
            )
        except ModelError as exc:
            log.info("model suggestion for %s: %s", record.list_id, exc)
            return
        except asyncio.CancelledError:
            raise
        except Exception:  # a bug in generation must not break statistics suggestions
            log.exception("model suggestion failed")
            return
        self._cache_put(key, grounded(found, record.lang))

    async def settle(self) -> None:
        """Wait for the background model jobs (tests and evaluations)."""
        while self._jobs:
            await asyncio.gather(*list(self._jobs.values()), return_exceptions=True)

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


MODEL_WEIGHT = 0.1
# The model's prompts show this many of the table's nearest dishes (models/retrieval.py).
RETRIEVE_K = 3
# Where the model, shown the nearest dishes, answers a dish the table does not know by name:
# only where it beat those dishes alone on the held-out prompts with their own dish taken out
# of the table (docs/suggestions.md "Grounding"; docs/decisions/model-adapts-in-english-only.md).
# English: 63.5% mean recall against 59.2%. Russian: no better (45.2% both; the model's
# adaptations added nothing the dishes did not have) and 7-13 s slower, so the nearest dishes
# answer alone. Either way the model alone answers a prompt nothing is near.
MODEL_PROMPT_LANGS: frozenset[Lang] = frozenset({"en"})
# Where the model adds to a list's suggestions (GET, in the background, when its additions could
# still rank). Nowhere: on two held-out cold-start sets they never beat the table's answer
# (acceptable items in the top 8, RU 89 -> 85 and 80 -> 74, EN 90 -> 90 and 73 -> 71: above
# the table's padding they push acceptable items out). docs/suggestions.md "Grounding".
MODEL_LIST_LANGS: frozenset[Lang] = frozenset()


def _why(exc: ModelError) -> str:
    if isinstance(exc, ModelBusyError):
        return "busy"
    return "timeout" if isinstance(exc, ModelTimeoutError) else "too_long"


def model_outranked_by(found: list[Suggestion]) -> int:
    """How many of `found` a model addition cannot outrank (its best: 0.45 x MODEL_WEIGHT)."""
    return sum(s.score > 0.45 * MODEL_WEIGHT for s in found)


def in_language(found: list[Suggestion], lang: Lang) -> list[Suggestion]:
    """Suggestions named in the list's language: a name in the other script is translated
    through the bilingual ingredient table, or dropped when the table does not know it."""
    from models.text import detect_lang

    out: list[Suggestion] = []
    for s in found:
        if detect_lang(s.name) in (lang, None):
            out.append(s)
            continue
        translated = dishes.translate(s.name, lang)
        if translated is not None:
            out.append(replace(s, name=translated))
    return out


def table_pairings(record: ListRecord, limit: int) -> list[Suggestion]:
    """Cold start for what the list has (or had lately): the dish table's vote, the aisles'
    everyday companions, everyday items last (models/coldstart.py), scored below the
    statistics' `together` (0.3 at most)."""
    names = record.open_names() or [e.name for e in record.entries][-10:]
    return [
        Suggestion(p.name, "together", reason, 0.3 * p.score, None, facts)
        for p in coldstart.starter(names, record.lang, limit)
        for reason, facts in [starter_reason(p, record.lang)]
    ]


def starter_reason(pick: coldstart.Pick, lang: Lang) -> tuple[str, dict[str, object]]:
    """Why a cold-start pick is suggested, in the list's language, and the facts behind it (for
    an app to word it in its own: `dish`, `occasion`, or `with` for an aisle's companion)."""
    ru = lang == "ru"
    if pick.source == "dish" and pick.kind == "set":  # an occasion (breakfast, cleaning)
        reason = f"из набора «{pick.because}»" if ru else f"for {pick.because}"
        return reason, {"occasion": pick.because}
    if pick.source == "dish":
        reason = f"к блюду «{pick.because}»" if ru else f"goes with {pick.because}"
        return reason, {"dish": pick.because}
    if pick.source == "aisle":
        reason = (
            f"часто берут вместе с: {pick.because}" if ru else f"often bought with {pick.because}"
        )
        return reason, {"with": [pick.because]}
    return ("часто покупают" if ru else "often bought"), {}


def dish_suggestions(
    record: ListRecord, prompt: str, normalize: Normalize
) -> list[Suggestion] | None:
    """The dish table's answer to a prompt ("борщ на 6"), without what the list already has;
    None when the table does not know the dish."""
    found = dishes.find_dish(prompt)
    if found is None:
        return None
    dish, servings = found
    lang = dishes.prompt_lang(prompt, record.lang)  # "борщ на 6" is answered in Russian
    on_list = {normalize(n, lang) for n in record.open_names()}
    on_list_ids = {dishes.ingredient_of(n) for n in record.open_names()} - {None}
    name = dish.name(lang)
    reason = f"для «{name}» на {servings}" if lang == "ru" else f"for {name}, serves {servings}"
    out: list[Suggestion] = []
    items = dishes.dish_items(dish, servings, lang)
    for index, item in enumerate(items):
        if item.ingredient in on_list_ids or normalize(item.name, lang) in on_list:
            continue
        extra: dict[str, object] = {
            "qty": item.qty,
            "unit": item.unit,
            "dish": name,
            "servings": servings,
        }
        out.append(
            Suggestion(item.name, "dish", reason, 1.0 - index / (len(items) + 1), None, extra)
        )
    return out


def nearest_suggestions(
    record: ListRecord, prompt: str, near: list[retrieval.Retrieved], normalize: Normalize
) -> list[Suggestion]:
    """A prompt the table does not know by name answered from its nearest dishes
    ("суп щавелевый" -> зелёный борщ's ingredients), in the prompt's language, without what
    the list already has; [] when no dish is near."""
    servings, _ = dishes.servings_of(prompt)
    lang = dishes.prompt_lang(prompt, record.lang)
    on_list = {normalize(n, lang) for n in record.open_names()}
    on_list_ids = {dishes.ingredient_of(n) for n in record.open_names()} - {None}
    out: list[Suggestion] = []
    for found in retrieval.blend(near, servings, lang):
        item = found.item
        if item.ingredient in on_list_ids or normalize(item.name, lang) in on_list:
            continue
        names = ", ".join(f"«{n}»" if lang == "ru" else n for n in found.dishes[:2])
        reason = f"как в {names}" if lang == "ru" else f"as in {names}"
        extra: dict[str, object] = {
            "qty": item.qty,
            "unit": item.unit,
            "dish": found.dishes[0],
            "servings": servings,
        }
        out.append(Suggestion(item.name, "dish", reason, found.score, None, extra))
    return out


def grounded(found: list[Suggestion], lang: Lang) -> list[Suggestion]:
    """The model's names normalised like typed ones ("Помидоры" -> "помидоры", quantities
    parsed off) and kept only when the vocabulary knows them (the item table, brands, the
    dish table's ingredients)."""
    from models.categories import OTHER, categorize
    from models.parse import parse_entry

    out: list[Suggestion] = []
    for s in found:
        name = parse_entry(s.name).name.strip()
        if name[:1].isupper() and not name.isupper() and name[1:2].islower():
            name = name[:1].lower() + name[1:]
        if not name or (categorize(name) == OTHER and dishes.ingredient_of(name) is None):
            continue
        out.extend(in_language([replace(s, name=name)], lang))
    return out
