"""Answers of SPARQL queries kept for the data version, and one run for the same query asked at once.

A query over the same data, with the same dataset and the same result format, gives the same bytes,
so an answer is kept (least recently used first out, within a byte budget that counts the query's text and
the Python objects of each entry, not only the answer's bytes) until the data version moves on: the next
identical query is answered without a worker. While a query runs, an identical one waits for the same run
instead of taking a second worker. Only answers are kept; an error (a timeout, a
syntax error) is not, so the next request runs the query again.

The runner still decides everything a run does: the time limit, the workers, the snapshot a job's data
version names. Used only where every write goes through this service (an embedded store on disk): a
remote store can change behind it.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Protocol

from sparql_api.workers import QueryAnswer, QueryJob

ENTRY_BYTES = 512
"""Memory an entry takes beside its query text and answer bytes (the job, the answer, the dict's node):
measured with tracemalloc at about 420 bytes, for short and long texts alike. Without it, a stream of
distinct small queries (ASK, with a comment of their own) held several times the budget."""


def cost(job: QueryJob, answer: QueryAnswer) -> int:
    """The memory one kept answer takes, as the budget counts it.

    >>> cost(QueryJob("ASK {}", "http://e/"), QueryAnswer("json", b'{"boolean": true}'))
    535
    """
    return len(answer.body) + len(job.sparql) + ENTRY_BYTES


class Runner(Protocol):
    def run(self, job: QueryJob) -> Awaitable[QueryAnswer]: ...


class AnswerCache:
    """``run(job)``: the kept answer of an identical job of the same data version, else the runner's.

    Used from the event loop only (it holds no lock).
    """

    def __init__(self, runner: Runner, max_bytes: int, max_answer: int = 1_000_000,
                 on_reuse: Callable[[], None] | None = None):
        self.runner, self.max_bytes, self.max_answer = runner, max_bytes, min(max_answer, max_bytes)
        self.on_reuse = on_reuse  # called for each answer given without a run of its own
        self._kept: OrderedDict[QueryJob, QueryAnswer] = OrderedDict()
        self._running: dict[QueryJob, asyncio.Future[QueryAnswer]] = {}
        self._bytes = 0
        self._version = 0

    async def run(self, job: QueryJob) -> QueryAnswer:
        if self.max_bytes <= 0:
            return await self.runner.run(job)
        if job.version > self._version:  # a write: nothing kept can be reused
            self._kept.clear()
            self._bytes = 0
            self._version = job.version
        kept = self._kept.get(job)
        if kept is not None:
            self._kept.move_to_end(job)
            self._reused()
            return kept
        running = self._running.get(job)
        if running is not None:
            self._reused()
        else:
            # A task of its own: a client that goes away does not stop the run the others wait for.
            running = self._running[job] = asyncio.ensure_future(self._answer(job))
            running.add_done_callback(_retrieve)
        return await asyncio.shield(running)

    async def _answer(self, job: QueryJob) -> QueryAnswer:
        try:
            answer = await self.runner.run(job)
        finally:
            del self._running[job]
        self._keep(job, answer)
        return answer

    def _keep(self, job: QueryJob, answer: QueryAnswer) -> None:
        if job.version != self._version or len(answer.body) > self.max_answer or job in self._kept:
            return
        self._kept[job] = answer
        self._bytes += cost(job, answer)
        while self._bytes > self.max_bytes:
            self._bytes -= cost(*self._kept.popitem(last=False))

    def _reused(self) -> None:
        if self.on_reuse is not None:
            self.on_reuse()

    @property
    def size(self) -> tuple[int, int]:
        """(answers kept, the memory they take as the budget counts it)."""
        return len(self._kept), self._bytes


def _retrieve(task: asyncio.Future) -> None:
    """Take a run's error off the task, so that a run every client gave up on is not reported as unhandled."""
    if not task.cancelled():
        task.exception()
