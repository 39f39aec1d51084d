"""The local model engine, on a tiny random-weight GGUF written here (shape, never content).

Needs llama-cpp-python (the `[llm]` extra) and `gguf`; skips cleanly without them. The
`model` test runs the real default model when it is installed.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from models import prompts
from models.history import Entry, Lang, ListRecord, basic_normalize
from models.llm import (
    Generation,
    ModelBusyError,
    ModelConfig,
    ModelEngine,
    ModelPromptTooLongError,
    ModelTimeoutError,
    ModelUnavailableError,
    State,
    _Job,
)
from models.stats import StatsEngine
from models.suggest import Suggester

DEADLINE_S = 60.0


def record(lang: Lang, *names: str, title: str = "") -> ListRecord:
    return ListRecord("t", lang, [Entry(n, 0) for n in names], title)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("llama_cpp")
    pytest.importorskip("gguf")
    from tests.gguf_tiny import write_tiny_gguf

    return write_tiny_gguf(tmp_path_factory.mktemp("gguf") / "tiny.gguf")


@pytest.fixture
def engine(tiny_model: Path) -> Iterator[ModelEngine]:
    eng = ModelEngine(ModelConfig(path=tiny_model, probe=False, max_queue=2, n_threads=1))
    eng.start()
    assert eng.wait_ready(DEADLINE_S), eng.error
    yield eng
    eng.stop()


# -- the strict answer parser (no model needed) ---------------------------------------------


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        ("tomato sauce, onions, garlic, parmesan\n", "en", ["tomato sauce", "onions", "garlic"]),
        ("Items: 1. basil; 2) olive oil, 200 g cheese", "en", ["basil", "olive oil", "cheese"]),
        ("сметана, огурцы (свежие), Курица, овощи, овощи", "ru", ["Сметана", "Огурцы", "Курица"]),
        ("milk, молоко, x, pasta, a very long item name made of far too many words", "en", []),
        ("свекла, beets, лук", "ru", ["Лук"]),  # свекла is on the list; beets is Latin
        ("", "en", []),
        ("Vegetables, bread, овощи", "en", ["bread"]),  # category words are not items
    ],
)
def test_parse_items_keeps_short_new_names_in_the_lists_alphabet(
    text: str, lang: Lang, expected: list[str]
) -> None:
    exclude = {"pasta", "milk", "свекла"}
    assert prompts.parse_items(text, lang, exclude, basic_normalize, 3) == expected


def test_prompts_share_one_prefix_across_languages_and_kinds() -> None:
    a = prompts.missing_items("ru", "Дача", ["уголь"], 5)
    b = prompts.dish_items("en", "tacos", [], 8)
    assert a[:3] == b[:3]
    assert "Russian" in a[-1]["content"] and "уголь" in a[-1]["content"]
    assert "English" in b[-1]["content"] and "tacos" in b[-1]["content"]


def test_grounded_prompts_show_the_nearest_dishes_and_keep_the_prefix() -> None:
    from models.retrieval import context, nearest_dishes

    similar = context(nearest_dishes("борщ зелёный на 4"), "ru")
    assert [name for name, _ in similar] == ["зелёный борщ", "борщ"]
    dish = prompts.dish_items("ru", "борщ зелёный на 4", ["хлеб"], 8, similar)
    asked = dish[-1]["content"]
    assert "- зелёный борщ: картофель, яйца" in asked and "- борщ: свёкла, капуста" in asked
    assert "Adapt them" in asked and "хлеб" in asked
    free = prompts.dish_items("ru", "борщ зелёный на 4", ["хлеб"], 8)
    assert dish[:3] == free[:3] and "Recipes we know" not in free[-1]["content"]
    assert "Recipes we know" in dish[-3]["content"]  # the worked example of an adaptation
    listed = prompts.missing_items("ru", "Обед", ["свёкла"], 5, similar)
    assert listed[:5] == dish[:5] and "- борщ: свёкла" in listed[-1]["content"]


def test_grammar_is_minimal_gbnf() -> None:
    g = prompts.grammar("ru", 4)
    assert g.startswith("root ::= item") and "{0,3}" in g and "а-я" in g


# -- the engine on the tiny model -------------------------------------------------------------


async def test_loads_and_generates_within_max_tokens(engine: ModelEngine) -> None:
    assert engine.state is State.READY and engine.load_seconds is not None
    out = await engine.generate(prompts.missing_items("ru", "", ["молоко"], 5), max_tokens=12)
    assert isinstance(out.text, str) and 0 <= out.tokens <= 12 and not out.stopped_early


async def test_a_prompt_over_the_context_window_is_shortened_or_refused(tiny_model: Path) -> None:
    eng = ModelEngine(ModelConfig(path=tiny_model, probe=False, n_threads=1, n_ctx=1024))
    eng.start()
    try:
        assert eng.wait_ready(DEADLINE_S), eng.error
        long = prompts.missing_items("en", "", ["an item with a long name"] * 60, 3)
        short = prompts.missing_items("en", "", ["pasta"], 3)
        with pytest.raises(ModelPromptTooLongError):  # a ModelError, not llama's ValueError
            await eng.generate(long, max_tokens=4)
        out = await eng.generate(long, max_tokens=4, shorter=[long, short])
        assert out.shortened == 2 and out.tokens <= 4
        assert (await eng.generate(short, max_tokens=4)).shortened == 0
    finally:
        eng.stop()


def test_the_model_thread_runs_niced(engine: ModelEngine) -> None:
    """Generation must not take the CPU from the sync: its thread runs at nice 10."""
    assert engine._thread is not None and engine._thread.native_id is not None
    nice = os.getpriority(os.PRIO_PROCESS, engine._thread.native_id)
    assert nice == min(os.getpriority(os.PRIO_PROCESS, 0) + 10, 19)


async def test_model_suggestions_have_the_right_shape(engine: ModelEngine) -> None:
    rec = record("ru", "Молоко", "хлеб", title="Продукты")
    for found in (
        await engine.missing_items(rec, 4),
        await engine.dish_items(rec, "борщ на 6", 8),
    ):
        assert len(found) <= 8
        for s in found:
            assert s.source == "model" and s.reason and 0 < s.score < 1
            assert basic_normalize(s.name) not in {"молоко", "хлеб"}


async def test_grammar_constrained_generation_runs(tiny_model: Path) -> None:
    eng = ModelEngine(ModelConfig(path=tiny_model, probe=False, use_grammar=True, n_threads=1))
    eng.start()
    try:
        assert eng.wait_ready(DEADLINE_S)
        found = await eng.missing_items(record("en", "pasta"), 3)
        assert len(found) <= 3
        out = await eng.generate(
            prompts.missing_items("en", "", ["pasta"], 3), grammar=prompts.grammar("en", 3)
        )
        assert all(c.isalpha() or c in ", \n" for c in out.text)
    finally:
        eng.stop()


async def hold_the_model(engine: ModelEngine, release: threading.Event) -> asyncio.Future[bool]:
    """Occupy the model thread until `release` is set; return once the job is running."""
    running = threading.Event()

    def hold(job: object) -> bool:
        running.set()
        return release.wait(DEADLINE_S)

    blocker = asyncio.ensure_future(engine.submit(hold))
    assert await asyncio.to_thread(running.wait, DEADLINE_S)
    return blocker


async def test_full_queue_rejects_at_once(engine: ModelEngine) -> None:
    release = threading.Event()
    blocker = await hold_the_model(engine, release)
    waiting = asyncio.ensure_future(engine.generate(prompts.missing_items("en", "", [], 3)))
    await asyncio.sleep(0)  # let it reach the queue: now 2 pending (max_queue=2)
    started = time.monotonic()
    with pytest.raises(ModelBusyError):
        await engine.generate(prompts.missing_items("en", "", [], 3))
    assert time.monotonic() - started < 1.0
    release.set()
    assert await blocker is True
    assert isinstance((await waiting).text, str)
    # the queue drained: requests are accepted again
    assert isinstance((await engine.generate(prompts.missing_items("en", "", [], 3))).text, str)


async def test_deadline_covers_the_wait_in_the_queue(engine: ModelEngine) -> None:
    release = threading.Event()
    blocker = await hold_the_model(engine, release)
    ran = threading.Event()
    with pytest.raises(ModelTimeoutError):
        await engine.submit(lambda job: ran.set(), timeout=0.2)
    release.set()
    await blocker
    deadline = time.monotonic() + DEADLINE_S
    while engine.pending and time.monotonic() < deadline:  # the worker skips the expired job
        await asyncio.sleep(0.01)
    await engine.submit(lambda job: None)  # runs after the timed-out job was dequeued
    assert not ran.is_set(), "a job past its deadline must be skipped"


async def test_a_timed_out_generation_stops_and_the_engine_goes_on(engine: ModelEngine) -> None:
    seen: list[bool] = []

    def slow(job: _Job) -> None:
        deadline = time.monotonic() + DEADLINE_S
        while time.monotonic() < deadline and not job.expired():
            time.sleep(0.01)
        seen.append(job.expired())

    with pytest.raises(ModelTimeoutError):
        await engine.submit(slow, timeout=0.1)
    out = await engine.generate(prompts.missing_items("en", "", [], 3), max_tokens=4)
    assert seen == [True] and out.tokens <= 4


async def test_generation_never_blocks_the_event_loop(engine: ModelEngine) -> None:
    gaps: list[float] = []
    stop = asyncio.Event()

    async def ticker() -> None:
        last = time.monotonic()
        while not stop.is_set():
            await asyncio.sleep(0.005)
            now = time.monotonic()
            gaps.append(now - last)
            last = now

    task = asyncio.ensure_future(ticker())
    await engine.submit(lambda job: time.sleep(0.5))  # holds the model thread 0.5 s
    for _ in range(3):
        await engine.generate(prompts.missing_items("ru", "", ["хлеб"], 5), max_tokens=32)
    stop.set()
    await task
    assert len(gaps) > 20 and max(gaps) < 0.25


async def test_stop_fails_queued_requests_fast(tiny_model: Path) -> None:
    eng = ModelEngine(ModelConfig(path=tiny_model, probe=False, n_threads=1))
    eng.start()
    assert eng.wait_ready(DEADLINE_S)
    release = threading.Event()
    blocker = await hold_the_model(eng, release)
    queued = asyncio.ensure_future(eng.generate(prompts.missing_items("en", "", [], 3)))
    await asyncio.sleep(0)
    stopping = asyncio.ensure_future(asyncio.to_thread(eng.stop, DEADLINE_S))
    deadline = time.monotonic() + DEADLINE_S
    while not eng.stopping and time.monotonic() < deadline:
        await asyncio.sleep(0.005)
    release.set()
    await stopping
    assert await blocker is True
    with pytest.raises(ModelUnavailableError):
        await queued
    assert eng.state is State.STOPPED
    with pytest.raises(ModelUnavailableError):
        await eng.generate(prompts.missing_items("en", "", [], 3))


# -- fallback -------------------------------------------------------------------------------


def warnings_from_model(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "listok.model" and r.levelno >= logging.WARNING
    ]


@pytest.mark.parametrize("probe", [False, True])
def test_missing_model_falls_back_with_one_log_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, probe: bool
) -> None:
    pytest.importorskip("llama_cpp")
    eng = ModelEngine(ModelConfig(path=tmp_path / "nope.gguf", probe=probe))
    with caplog.at_level(logging.INFO, logger="listok.model"):
        eng.start()
        assert not eng.wait_ready(DEADLINE_S)
        eng.stop()
    assert eng.state is State.STOPPED and eng.error and "not a file" in eng.error
    assert len(warnings_from_model(caplog)) == 1


@pytest.mark.parametrize("probe", [False, True])
def test_corrupt_model_falls_back_with_one_log_line(
    tiny_model: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture, probe: bool
) -> None:
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(tiny_model.read_bytes()[: tiny_model.stat().st_size // 3])
    eng = ModelEngine(ModelConfig(path=broken, probe=probe))
    with caplog.at_level(logging.INFO, logger="listok.model"):
        eng.start()
        assert not eng.wait_ready(DEADLINE_S)
    assert eng.state is State.FAILED and eng.error
    (line,) = warnings_from_model(caplog)
    assert "falling back to statistics" in line and "\n" not in line
    eng.stop()


async def test_suggester_falls_back_to_statistics(tmp_path: Path) -> None:
    stats = StatsEngine.from_records(
        (ListRecord(f"l{i}", "en", [Entry("chips", 0), Entry("salsa", 0)]) for i in range(3)),
        min_age_days=0,
        min_trips=0,
    )
    model = ModelEngine(ModelConfig(path=tmp_path / "nope.gguf", probe=False))
    suggester = Suggester(stats, model)
    suggester.start()
    await model.wait_ready_async(DEADLINE_S)
    result = await suggester.suggest(record("en", "chips"), limit=5)
    assert result.suggestions[0].name == "salsa"  # statistics first, then the dish table
    assert result.model == "failed"
    assert result.to_json()["suggestions"] == [s.to_json() for s in result.suggestions]
    with pytest.raises(ModelUnavailableError):
        await suggester.for_prompt(record("en", "chips"), "something unheard of")
    from_table = await suggester.for_prompt(record("en", "chips"), "nachos")
    assert from_table.model == "table" and from_table.suggestions
    assert suggester.status()["model"] == "failed"
    suggester.stop()


async def test_suggester_without_any_model_uses_statistics() -> None:
    suggester = Suggester(model=ModelEngine(ModelConfig(path=None)))
    suggester.start()
    result = await suggester.suggest(record("en", "zzz"), limit=5)
    # A fresh list of an unknown word: the built-in everyday fill answers, never the model.
    assert result.model == "absent" and len(result.suggestions) == 5
    assert all(s.source != "model" for s in result.suggestions)
    suggester.stop()


async def test_suggester_merges_model_and_caches(tiny_model: Path) -> None:
    model = ModelEngine(ModelConfig(path=tiny_model, probe=True, n_threads=1))
    suggester = Suggester(model=model)
    suggester.start()
    assert await model.wait_ready_async(DEADLINE_S), model.error
    off = await suggester.suggest(record("en", "zzyzx", title="Dinner"), limit=5)
    assert off.model == "off" and not suggester._jobs  # not used for lists by default
    suggester.model_list_langs = frozenset({"en"})
    full = await suggester.suggest(record("en", "pasta", title="Dinner"), limit=5)
    assert full.model == "skipped" and len(full.suggestions) == 5  # the table filled it
    rec = record("en", "zzyzx", title="Dinner")  # nothing the table knows: room for the model
    first = await suggester.suggest(rec, limit=5)
    assert first.model == "pending" and len(first.suggestions) <= 5  # never waits for it
    await suggester.settle()
    again = await suggester.suggest(rec, limit=5)
    assert again.model == "cached" and len(again.suggestions) <= 5
    dish = await suggester.for_prompt(rec, "something unheard of for 4")
    assert dish.model == "used" and all(s.source == "model" for s in dish.suggestions)
    suggester.stop()


async def test_the_model_is_shown_the_nearest_dishes(tiny_model: Path) -> None:
    """A prompt the table does not know by name reaches the model with its nearest dishes;
    where the model path is off for the language, the nearest dishes answer alone."""
    model = ModelEngine(ModelConfig(path=tiny_model, probe=False, n_threads=1))
    seen: list[list[prompts.Message]] = []
    generate = model.generate

    async def spy(messages: list[prompts.Message], **kwargs: Any) -> Generation:
        seen.append(messages)
        return await generate(messages, **kwargs)

    model.generate = spy  # type: ignore[method-assign]
    suggester = Suggester(model=model)
    suggester.start()
    assert await model.wait_ready_async(DEADLINE_S), model.error
    rec = record("en", "rice")
    suggester.model_prompt_langs = frozenset({"en"})
    used = await suggester.for_prompt(rec, "salmon salad for 4", limit=20)
    assert used.model == "used"
    sources = [s.source for s in used.suggestions]  # the model's answer, then the dishes' rest
    assert "dish" in sources and sources == sorted(sources, key=lambda s: s != "model")
    asked = seen[-1][-1]["content"]
    assert "- baked salmon: salmon, " in asked and "Adapt them" in asked
    suggester.model_prompt_langs = frozenset({"ru"})
    nearest = await suggester.for_prompt(rec, "salmon salad for 6")
    assert nearest.model == "nearest" and nearest.suggestions[0].name == "salmon"
    assert len(seen) == 1  # the model was not asked
    suggester.stop()


# -- the real default model (opt-in: installed by `make model`) ------------------------------


@pytest.mark.model
async def test_real_model_suggests_in_the_lists_language() -> None:
    pytest.importorskip("llama_cpp")
    from models.model_package import resolve_model_path

    path = resolve_model_path()
    if path is None:
        pytest.skip("no model installed (make model) and LISTOK_MODEL not set")
    # A generous deadline: this checks what the model says, not how fast (CI shares 2 cores).
    eng = ModelEngine(ModelConfig(path=path, timeout_s=180))
    eng.start()
    try:
        assert eng.wait_ready(300), eng.error
        en = await eng.missing_items(record("en", "tortillas", "ground beef", title="Taco night"))
        ru = await eng.dish_items(record("ru", "свекла"), "борщ на 6")
        assert en and all(s.name.isascii() for s in en)
        assert ru and all(not s.name.isascii() for s in ru)
        assert "свекла" not in {basic_normalize(s.name) for s in ru}
    finally:
        eng.stop()
