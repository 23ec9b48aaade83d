"""Kept SPARQL answers: reused for the same data version only, never an error, one run for identical
queries asked at once. On real servers, and on the cache itself over a runner that counts its runs."""

from __future__ import annotations

import asyncio
import gc
import tracemalloc
import uuid

import httpx
import pytest

from sparql_api.answer_cache import AnswerCache, cost
from sparql_api.errors import QueryTimeout
from sparql_api.workers import QueryAnswer, QueryJob
from tests.server import AUTH
from tests.test_observability import samples

REUSED = ("kimgraph_query_answers_reused_total", frozenset())
TIMEOUTS = ("kimgraph_query_timeouts_total", frozenset())
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
JSON = {"Accept": "application/sparql-results+json"}


def values_in(url: str, query: str) -> list[str]:
    response = httpx.post(url + "/sparql", data={"query": query}, headers=JSON, timeout=30)
    assert response.status_code == 200, response.text
    return sorted(row["o"]["value"] for row in response.json()["results"]["bindings"])


# ------------------------------------------------------------------ real servers

def test_an_identical_query_is_answered_again_without_a_run(read_server):
    query = f"SELECT ?duty WHERE {{ ?duty a <https://w3id.org/uk-kim/def#Duty> }} # {uuid.uuid4()}"
    before = samples(read_server)[REUSED]
    first = httpx.post(read_server + "/sparql", data={"query": query}, headers=JSON)
    assert samples(read_server)[REUSED] == before
    second = httpx.post(read_server + "/sparql", data={"query": query}, headers=JSON)
    assert samples(read_server)[REUSED] == before + 1
    assert first.status_code == second.status_code == 200
    assert first.content == second.content and len(first.json()["results"]["bindings"]) >= 15
    # another result format is another answer: run, not reused
    xml = httpx.post(read_server + "/sparql", data={"query": query},
                     headers={"Accept": "application/sparql-results+xml"})
    assert xml.status_code == 200 and xml.headers["content-type"].startswith("application/sparql-results+xml")
    assert samples(read_server)[REUSED] == before + 1


def test_the_next_identical_query_sees_every_write(write_server):
    graph = f"urn:test:kept-answers:{uuid.uuid4()}"
    query = f"SELECT ?o WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"
    assert values_in(write_server, query) == []
    assert values_in(write_server, query) == []  # kept
    store = write_server + "/store"
    turtle = {**AUTH, "Content-Type": "text/turtle"}
    assert httpx.put(store, params={"graph": graph}, content=b"<urn:s> <urn:p> 'one' .",
                     headers=turtle).status_code == 201
    assert values_in(write_server, query) == ["one"]
    assert httpx.post(store, params={"graph": graph}, content=b"<urn:s> <urn:p> 'two' .",
                      headers=turtle).status_code == 204
    assert values_in(write_server, query) == ["one", "two"]
    update = f"DELETE DATA {{ GRAPH <{graph}> {{ <urn:s> <urn:p> 'one' }} }}"
    assert httpx.post(write_server + "/sparql", data={"update": update}, headers=AUTH).status_code == 204
    assert values_in(write_server, query) == ["two"]
    assert httpx.delete(store, params={"graph": graph}, headers=AUTH).status_code == 204
    assert values_in(write_server, query) == []


def test_a_query_stopped_by_the_time_limit_is_run_again(read_server):
    query = f"{RUNAWAY} # {uuid.uuid4()}"
    before = samples(read_server)
    for _ in range(2):
        response = httpx.get(read_server + "/sparql", params={"query": query}, timeout=30)
        assert response.status_code == 503 and response.json()["title"] == "Query timeout"
    after = samples(read_server)
    assert after[TIMEOUTS] == before[TIMEOUTS] + 2
    assert after[REUSED] == before[REUSED]


# ------------------------------------------------------------------ the cache over a counting runner

class CountingRunner:
    """Answers each job after ``delay`` seconds with its text and a run number; or raises ``error``."""

    def __init__(self, delay: float = 0.05, error: Exception | None = None):
        self.delay, self.error, self.runs = delay, error, 0

    async def run(self, job: QueryJob) -> QueryAnswer:
        self.runs += 1
        run = self.runs
        await asyncio.sleep(self.delay)
        if self.error is not None:
            raise self.error
        return QueryAnswer("json", f"{job.sparql} v{job.version} run {run}".encode())


def job(text: str = "ASK {}", version: int = 0) -> QueryJob:
    return QueryJob(sparql=text, base_iri="http://example.org/sparql", version=version)


def test_identical_queries_at_once_share_one_run():
    async def scenario() -> tuple[list[bytes], int]:
        runner = CountingRunner()
        cache = AnswerCache(runner, max_bytes=10_000)
        answers = await asyncio.gather(*(cache.run(job()) for _ in range(5)), cache.run(job("ASK { ?s ?p ?o }")))
        return [answer.body for answer in answers], runner.runs

    bodies, runs = asyncio.run(scenario())
    assert runs == 2
    assert bodies[:5] == [b"ASK {} v0 run 1"] * 5 and bodies[5] == b"ASK { ?s ?p ?o } v0 run 2"


def test_a_newer_data_version_runs_again_and_an_older_answer_is_not_kept():
    async def scenario() -> list[bytes]:
        cache = AnswerCache(CountingRunner(), max_bytes=10_000)
        bodies = [(await cache.run(job(version=v))).body for v in (0, 0, 1, 1)]
        bodies.append((await cache.run(job(version=0))).body)  # a request that began before the write
        bodies.append((await cache.run(job(version=1))).body)
        return bodies

    assert asyncio.run(scenario()) == [b"ASK {} v0 run 1", b"ASK {} v0 run 1", b"ASK {} v1 run 2",
                                       b"ASK {} v1 run 2", b"ASK {} v0 run 3", b"ASK {} v1 run 2"]


def test_an_error_is_given_to_every_waiter_and_not_kept():
    async def scenario() -> tuple[list, int]:
        runner = CountingRunner(error=QueryTimeout("the query ran longer than the limit"))
        cache = AnswerCache(runner, max_bytes=10_000)
        first = await asyncio.gather(cache.run(job()), cache.run(job()), return_exceptions=True)
        second = await asyncio.gather(cache.run(job()), return_exceptions=True)
        return first + second, runner.runs

    outcomes, runs = asyncio.run(scenario())
    assert runs == 2 and all(isinstance(outcome, QueryTimeout) for outcome in outcomes)


def test_a_client_that_goes_away_does_not_stop_the_run_others_wait_for():
    async def scenario() -> tuple[bytes, int]:
        runner = CountingRunner(delay=0.2)
        cache = AnswerCache(runner, max_bytes=10_000)
        leaver = asyncio.ensure_future(cache.run(job()))
        stayer = asyncio.ensure_future(cache.run(job()))
        await asyncio.sleep(0.05)
        leaver.cancel()
        answer = await stayer
        with pytest.raises(asyncio.CancelledError):
            await leaver
        return answer.body, runner.runs

    assert asyncio.run(scenario()) == (b"ASK {} v0 run 1", 1)


def test_the_least_recently_used_answers_leave_first_within_the_budget():
    entry = cost(job("Q1"), QueryAnswer("json", b"Q1 v0 run 1"))  # 11 bytes of answer, 2 of text, and the objects

    async def scenario() -> tuple[int, tuple[int, int]]:
        runner = CountingRunner(delay=0)
        cache = AnswerCache(runner, max_bytes=3 * entry + 10)  # room for three answers
        for text in ("Q1", "Q2", "Q3", "Q1", "Q4"):  # Q4 pushes out Q2, the least recently used
            await cache.run(job(text))
        runs_before = runner.runs
        for text in ("Q1", "Q3", "Q4"):
            await cache.run(job(text))
        assert runner.runs == runs_before
        await cache.run(job("Q2"))
        return runner.runs - runs_before, cache.size

    ran, (kept, kept_bytes) = asyncio.run(scenario())
    assert ran == 1 and kept == 3 and kept_bytes == 3 * entry


def test_the_budget_bounds_the_memory_many_small_answers_really_take():
    """Distinct small queries (an ASK with a comment of its own each time): the entries' objects count, not
    only the answers' bytes, which alone let such a stream hold many times the budget."""
    budget = 200_000

    async def scenario() -> tuple[int, int]:
        cache = AnswerCache(CountingRunner(delay=0), max_bytes=budget)
        gc.collect()
        tracemalloc.start()
        try:
            for i in range(5_000):
                await cache.run(job(f"ASK {{ ?s ?p ?o }} # request {i}"))
            gc.collect()
            return tracemalloc.get_traced_memory()[0], cache.size[0]
        finally:
            tracemalloc.stop()

    held, kept = asyncio.run(scenario())
    assert 100 < kept < 5_000
    assert held < 1.25 * budget, f"{kept} answers kept in {held:,} bytes for a budget of {budget:,}"


def test_no_budget_keeps_nothing():
    async def scenario() -> int:
        runner = CountingRunner(delay=0)
        cache = AnswerCache(runner, max_bytes=0)
        for _ in range(3):
            await cache.run(job())
        return runner.runs

    assert asyncio.run(scenario()) == 3
