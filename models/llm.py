"""The local GGUF model engine (optional: needs the `[llm]` extra, llama-cpp-python).

One `Llama` instance, used only by one worker thread: loading and every generation run
there, never on the event loop. Requests wait in a bounded queue (full: `ModelBusyError`
at once); each has a deadline covering its wait and its generation, and a request past
its deadline is skipped or stopped at the next token. Any failure to load leaves the
engine `failed` with one log line; callers then use the statistics alone.

Before loading in-process, a subprocess loads the model and decodes a token (`probe`): a
llama.cpp built for another CPU dies there with SIGILL instead of taking the server down.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import enum
import importlib
import logging
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from models import prompts
from models.history import Lang, ListRecord, Normalize, Suggestion, default_normalize

log = logging.getLogger("listok.model")
T = TypeVar("T")


class ModelError(Exception):
    pass


class ModelUnavailableError(ModelError):
    """No model, or it is still loading, or it failed to load."""


class ModelBusyError(ModelError):
    """The request queue is full."""


class ModelTimeoutError(ModelError, TimeoutError):
    """The request did not finish before its deadline."""


class ModelPromptTooLongError(ModelError):
    """The prompt and its answer do not fit the model's context window (`n_ctx`)."""


class State(enum.Enum):
    ABSENT = "absent"
    LOADING = "loading"
    READY = "ready"
    FAILED = "failed"
    STOPPED = "stopped"


@dataclass(frozen=True, slots=True)
class ModelConfig:
    path: Path | None
    n_ctx: int = 1024
    n_threads: int = field(default_factory=lambda: default_threads())
    max_queue: int = 4
    timeout_s: float = 20.0
    max_tokens: int = 40
    max_items: int = 6
    probe: bool = True
    probe_timeout_s: float = 180.0
    use_grammar: bool = False
    # False avoids llama.cpp's repacked weight buffers (the AMX path that crashes builds
    # made with -march=native here); True is faster on a portable AVX2 build.
    repack: bool = True
    # The model thread's nice value: the sync keeps the CPU (docs/decisions/model-thread-niced.md).
    nice: int = 10


def _lower_priority(nice: int) -> None:
    """Let the sync win the CPU: this thread (and llama.cpp's threads it starts) run niced.

    Linux applies setpriority to one thread when given its native id; elsewhere it is a no-op.
    """
    if nice and hasattr(os, "setpriority"):
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), nice)
        except OSError as exc:
            log.info("model thread keeps normal priority: %s", exc)


def default_threads() -> int:
    """Leave one core to the event loop (sync fan-out), use up to 4 for the model."""
    return max(1, min((os.cpu_count() or 2) - 1, 4))


@dataclass(slots=True)
class _Job:
    fn: Callable[[_Job], Any]
    future: concurrent.futures.Future[Any]
    deadline: float
    cancelled: threading.Event = field(default_factory=threading.Event)

    def expired(self) -> bool:
        return self.cancelled.is_set() or time.monotonic() > self.deadline


@dataclass(slots=True)
class Generation:
    text: str
    tokens: int
    seconds: float
    stopped_early: bool  # past the deadline
    truncated: bool = False  # hit max_tokens: the last item may be cut
    shortened: int = 0  # which of the shorter prompts answered (0: the one asked)


_STOP = object()


class ModelEngine:
    def __init__(
        self,
        config: ModelConfig,
        *,
        normalize: Normalize | None = None,
        resolve: Callable[[], Path | None] | None = None,
    ) -> None:
        """`resolve` finds the model file in the model thread when `config.path` is None
        (assembling the default model package can take seconds)."""
        self.config = config
        self.path = config.path
        self._resolve = resolve
        self.state = State.ABSENT
        self.error: str | None = None
        self.load_seconds: float | None = None
        self._normalize = normalize or default_normalize()
        self._llama: Any = None
        self._jobs: queue.Queue[_Job | object] = queue.Queue()
        self._pending = 0
        self._pending_lock = threading.Lock()
        self._llama_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._stopping = threading.Event()

    # -- lifecycle ----------------------------------------------------------------------

    @property
    def available(self) -> bool:
        return self.state is State.READY

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def start(self) -> None:
        """Start the worker thread and load the model in it (returns at once)."""
        if self._thread is not None:
            return
        if self.config.path is None and self._resolve is None:
            self._absent()
            return
        self.state = State.LOADING
        self._thread = threading.Thread(target=self._run, name="listok-model", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._stopping.set()  # queued jobs fail fast, a running generation stops at its next token
        self._jobs.put(_STOP)
        thread.join(timeout)
        self.state = State.STOPPED

    @property
    def pending(self) -> int:
        """Requests queued or running (a request past its deadline counts until dequeued)."""
        with self._pending_lock:
            return self._pending

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Block until loading ended (ready or not); True when the model is usable."""
        self._ready.wait(timeout)
        return self.available

    async def wait_ready_async(self, timeout: float | None = None) -> bool:
        return await asyncio.to_thread(self.wait_ready, timeout)

    def _run(self) -> None:
        _lower_priority(self.config.nice)
        self._load()
        while True:
            job = self._jobs.get()
            if job is _STOP:
                break
            assert isinstance(job, _Job)
            try:
                if self._stopping.is_set():
                    raise ModelUnavailableError("model stopping")
                if job.expired():
                    raise ModelTimeoutError("deadline passed while queued")
                result = job.fn(job)
            except BaseException as exc:  # handed to the caller, never kills the worker
                if not job.future.done():
                    job.future.set_exception(exc)
            else:
                if not job.future.done():
                    job.future.set_result(result)
            finally:
                with self._pending_lock:
                    self._pending -= 1
        with self._llama_lock:
            llama, self._llama = self._llama, None
        if llama is not None:
            llama.close()

    def _absent(self) -> None:
        self.state = State.ABSENT
        log.info("model: none installed or configured; suggestions use statistics only")
        self._ready.set()

    def _load(self) -> None:
        started = time.monotonic()
        try:
            path = self.config.path or (self._resolve() if self._resolve else None)
            if path is None:
                self._absent()
                return
            self.path = path
            if not path.is_file():
                raise ModelError(f"{path} is not a file")
            size_mb = path.stat().st_size / 1e6
            log.info("model: loading %s (%.0f MB)", path, size_mb)
            if self.config.probe:
                _probe(path, self.config)
            self._llama = _load_llama(path, self.config, _progress_logger())
        except Exception as exc:
            self.state = State.FAILED
            self.error = f"{type(exc).__name__}: {exc}"
            log.warning(
                "model: unavailable, falling back to statistics (%s)", _one_line(self.error)
            )
        else:
            self.load_seconds = time.monotonic() - started
            self.state = State.READY
            log.info("model: ready in %.1f s", self.load_seconds)
        finally:
            self._ready.set()

    # -- requests -----------------------------------------------------------------------

    async def submit(self, fn: Callable[[_Job], T], timeout: float | None = None) -> T:
        """Run `fn(job)` on the model thread; raises ModelBusyError / ModelTimeoutError."""
        if self.state is not State.READY or self._stopping.is_set():
            raise ModelUnavailableError(self.state.value)
        limit = self.config.timeout_s if timeout is None else timeout
        with self._pending_lock:
            if self._pending >= self.config.max_queue:
                raise ModelBusyError(f"{self._pending} model requests pending")
            self._pending += 1
        job = _Job(fn, concurrent.futures.Future(), time.monotonic() + limit)
        self._jobs.put(job)
        try:
            result: T = await asyncio.wait_for(asyncio.wrap_future(job.future), limit)
            return result
        except TimeoutError:
            job.cancelled.set()
            raise ModelTimeoutError(f"no answer within {limit:.1f} s") from None
        except asyncio.CancelledError:
            job.cancelled.set()
            raise

    async def generate(
        self,
        messages: list[prompts.Message],
        *,
        grammar: str | None = None,
        max_tokens: int | None = None,
        timeout: float | None = None,
        shorter: Sequence[list[prompts.Message]] = (),
    ) -> Generation:
        """Generate an answer to `messages`, or to the first of `shorter` that fits the context
        window when they do not (ModelPromptTooLongError when none does)."""
        n = self.config.max_tokens if max_tokens is None else max_tokens
        candidates = [messages, *shorter]
        return await self.submit(lambda job: self._generate(job, candidates, n, grammar), timeout)

    def _generate(
        self,
        job: _Job,
        candidates: list[list[prompts.Message]],
        max_tokens: int,
        grammar: str | None,
    ) -> Generation:
        with self._llama_lock:
            llama = self._llama
            if llama is None:
                raise ModelUnavailableError("model closed")
            shortened, messages = _fitting(llama, candidates, max_tokens)
            kwargs: dict[str, Any] = {}
            if grammar is not None:
                grammars: Any = importlib.import_module("llama_cpp.llama_grammar")
                kwargs["grammar"] = grammars.LlamaGrammar.from_string(grammar, verbose=False)
            started = time.monotonic()
            parts: list[str] = []
            tokens = 0
            early = truncated = False
            stream = llama.create_chat_completion(
                messages,
                temperature=0.0,
                max_tokens=max_tokens,
                stop=prompts.STOP,
                stream=True,
                seed=0,
                **kwargs,
            )
            try:
                for chunk in _too_long_as_error(stream):
                    choice = chunk["choices"][0]
                    delta = choice["delta"].get("content")
                    if delta:
                        parts.append(delta)
                        tokens += 1
                    truncated = truncated or choice.get("finish_reason") == "length"
                    if job.expired() or self._stopping.is_set():
                        early = True
                        break
            finally:
                stream.close()
            seconds = time.monotonic() - started
            text = "".join(parts)
            return Generation(text, tokens, seconds, early, truncated or early, shortened)

    # -- suggestions --------------------------------------------------------------------

    async def missing_items(
        self,
        record: ListRecord,
        limit: int = 5,
        *,
        timeout: float | None = None,
        similar: Sequence[prompts.Similar] = (),
    ) -> list[Suggestion]:
        """What the list lacks; `similar`: the table's dishes nearest to its items, shown to
        the model as context (models.retrieval.context)."""
        n = min(limit, self.config.max_items)
        names = record.open_names()
        messages = [
            prompts.missing_items(record.lang, record.title, names, n, similar[:shown])
            for shown in range(len(similar), -1, -1)
        ]
        reason = _reason_missing(record.lang)
        return await self._suggest(record, messages, n, reason, timeout=timeout)

    async def dish_items(
        self,
        record: ListRecord,
        prompt: str,
        limit: int = 8,
        *,
        timeout: float | None = None,
        similar: Sequence[prompts.Similar] = (),
    ) -> list[Suggestion]:
        """What to buy for a prompt; `similar`: the table's dishes nearest to it, which the
        model is asked to adapt."""
        n = min(limit, max(self.config.max_items, 8))
        names = record.open_names()
        messages = [
            prompts.dish_items(record.lang, prompt, names, n, similar[:shown])
            for shown in range(len(similar), -1, -1)
        ]
        exclude = {self._key(prompt, record.lang)}
        reason = _reason_dish(record.lang, prompt)
        return await self._suggest(
            record, messages, n, reason, exclude=exclude, max_tokens=64, timeout=timeout
        )

    async def _suggest(
        self,
        record: ListRecord,
        messages: list[list[prompts.Message]],
        n: int,
        reason: str,
        *,
        exclude: set[str] | None = None,
        max_tokens: int | None = None,
        timeout: float | None = None,
    ) -> list[Suggestion]:
        """Ask with the first of `messages` (the most context first) that fits the context."""
        grammar = prompts.grammar(record.lang, n) if self.config.use_grammar else None
        result = await self.generate(
            messages[0],
            grammar=grammar,
            max_tokens=max_tokens,
            timeout=timeout,
            shorter=messages[1:],
        )
        text = result.text.rsplit(",", 1)[0] if result.truncated else result.text
        on_list = {self._key(name, record.lang) for name in record.open_names()}
        names = prompts.parse_items(text, record.lang, on_list | (exclude or set()), self._key, n)
        return [Suggestion(name, "model", reason, 0.45 - 0.01 * i) for i, name in enumerate(names)]

    def _key(self, name: str, lang: str | None) -> str:
        return self._normalize(name, lang)


def _fitting(
    llama: Any, candidates: list[list[prompts.Message]], max_tokens: int
) -> tuple[int, list[prompts.Message]]:
    """The first candidate whose tokens (plus a margin for the chat template's role markers)
    and answer fit the context window."""
    room = int(llama.n_ctx()) - max_tokens
    for index, messages in enumerate(candidates):
        text = "".join(m["content"] for m in messages).encode()
        tokens = len(llama.tokenize(text, add_bos=False, special=False))
        if tokens + 8 * len(messages) + 16 <= room:
            if index:
                log.info("model: prompt shortened (%d of %d) to fit n_ctx", index, len(candidates))
            return index, messages
    raise ModelPromptTooLongError(f"the prompt does not fit the context window ({room} tokens)")


def _too_long_as_error(stream: Any) -> Iterator[Any]:
    """llama-cpp-python's ValueError for a prompt over the context window, as a ModelError."""
    try:
        yield from stream
    except ValueError as exc:
        if "context window" in str(exc):
            raise ModelPromptTooLongError(str(exc)) from None
        raise


def _reason_missing(lang: Lang) -> str:
    return "подсказка модели" if lang == "ru" else "suggested by the model"


def _reason_dish(lang: Lang, prompt: str) -> str:
    short = prompt.strip()[:40]
    return f"для «{short}»" if lang == "ru" else f"for “{short}”"


def _one_line(text: str) -> str:
    return " ".join(text.split())[:300]


def _progress_logger() -> Callable[[float], None]:
    last = [-1]

    def report(fraction: float) -> None:
        quarter = int(fraction * 4)
        if quarter != last[0]:
            last[0] = quarter
            log.info("model: loading %d%%", quarter * 25)

    return report


class _NoSuppress:
    def __init__(self, disable: bool = True) -> None:
        pass

    def __enter__(self) -> _NoSuppress:
        return self

    def __exit__(self, *_: object) -> None:
        return None


def _load_llama(path: Path, config: ModelConfig, progress: Callable[[float], None]) -> Any:
    """Build the Llama object, passing progress and repack settings to the model params.

    `Llama()` does not expose them, so its default-params factory is wrapped while it runs
    (only the model thread constructs a Llama).
    """
    import llama_cpp

    lib: Any = importlib.import_module("llama_cpp.llama_cpp")
    base = lib.llama_model_default_params

    def on_progress(fraction: float, _user_data: Any) -> bool:
        progress(fraction)
        return True

    callback = lib.llama_progress_callback(on_progress)

    def params() -> Any:
        p = base()
        p.progress_callback = callback
        if not config.repack and hasattr(p, "use_extra_bufts"):
            p.use_extra_bufts = False
        return p

    # With verbose=False, llama-cpp-python silences loading by pointing the process's file
    # descriptors 1 and 2 (and sys.stdout/stderr) at /dev/null: in a server that swallows
    # every other thread's output meanwhile. llama.cpp's own log goes through its logger.
    quiet: list[Any] = [
        importlib.import_module(m) for m in ("llama_cpp.llama", "llama_cpp._internals")
    ]
    saved = [m.suppress_stdout_stderr for m in quiet]
    lib.llama_model_default_params = params
    for m in quiet:
        m.suppress_stdout_stderr = _NoSuppress
    try:
        llama = llama_cpp.Llama(
            model_path=str(path),
            n_ctx=config.n_ctx,
            n_threads=config.n_threads,
            n_threads_batch=config.n_threads,
            n_batch=256,
            verbose=False,
        )
    finally:
        lib.llama_model_default_params = base
        for m, original in zip(quiet, saved, strict=True):
            m.suppress_stdout_stderr = original
    llama._listok_progress_callback = callback  # type: ignore[attr-defined,unused-ignore]
    return llama


_PROBE_CODE = """
import sys
from pathlib import Path
from models.llm import ModelConfig, _load_llama
llama = _load_llama(Path(sys.argv[1]), ModelConfig(path=None, n_ctx=256, n_threads=1,
                    repack=sys.argv[2] == "1"), lambda f: None)
llama.create_completion("ok", max_tokens=1, temperature=0.0)
"""


def _probe(path: Path, config: ModelConfig) -> None:
    """Load and decode once in a subprocess: a crash there (SIGILL...) is only reported."""
    root = Path(__file__).resolve().parent.parent
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")])
    )
    cmd = [sys.executable, "-c", _PROBE_CODE, str(path), "1" if config.repack else "0"]
    try:
        done = subprocess.run(
            cmd, env=env, capture_output=True, text=True, timeout=config.probe_timeout_s
        )
    except subprocess.TimeoutExpired:
        raise ModelError(f"probe did not finish in {config.probe_timeout_s:.0f} s") from None
    if done.returncode == 0:
        return
    if done.returncode < 0:
        name = signal.Signals(-done.returncode).name
        hint = ""
        if name == "SIGILL":
            hint = (
                "; llama-cpp-python was built for another CPU: rebuild it (see docs/suggestions.md)"
            )
        raise ModelError(f"probe process died with {name}{hint}")
    tail = done.stderr.strip().splitlines()[-1:] or ["no output"]
    raise ModelError(f"probe failed: {tail[0]}")
