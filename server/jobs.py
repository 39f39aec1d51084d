"""Long-running jobs the admin page shows with their progress (compaction, purges, imports)."""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Final

from server import schema

log = logging.getLogger("listok.jobs")

JOBS_KEPT: Final = 20


@dataclass
class Job:
    id: int
    kind: str
    total: int
    done: int = 0
    state: str = "running"  # running, done, failed
    started_at: int = field(default_factory=schema.now_ms)
    finished_at: int | None = None
    error: str = ""
    detail: str = ""

    def step(self, count: int = 1) -> None:
        self.done += count

    def finish(self, error: str = "") -> None:
        self.state = "failed" if error else "done"
        self.error = error
        self.finished_at = schema.now_ms()


class Jobs:
    """Jobs of the running server, the last JOBS_KEPT finished ones with them.

    Other parts of the server report their own long work here: `job = services.jobs.start(kind,
    total)`, `job.step()`, `job.finish(error="")`.
    """

    def __init__(self) -> None:
        self._ids = itertools.count(1)
        self._jobs: list[Job] = []
        self._tasks: set[asyncio.Task[None]] = set()

    def start(self, kind: str, total: int, detail: str = "") -> Job:
        job = Job(next(self._ids), kind, total, detail=detail)
        self._jobs.append(job)
        finished = [j for j in self._jobs if j.state != "running"]
        for old in finished[: max(0, len(self._jobs) - JOBS_KEPT)]:
            self._jobs.remove(old)
        return job

    def run(self, job: Job, work: Callable[[Job], Awaitable[None]]) -> None:
        """Run work(job) in the background; its failure is recorded on the job."""

        async def runner() -> None:
            try:
                await work(job)
            except Exception as exc:
                log.exception("job %s (%s) failed", job.id, job.kind)
                job.finish(str(exc) or type(exc).__name__)
            else:
                job.finish()

        task = asyncio.create_task(runner(), name=f"listok-job-{job.id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def running(self, kind: str) -> Job | None:
        return next((j for j in self._jobs if j.kind == kind and j.state == "running"), None)

    def to_json(self) -> list[dict[str, Any]]:
        return [asdict(job) for job in reversed(self._jobs)]

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
