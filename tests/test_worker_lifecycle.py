"""Query workers over their life (issue #13): a worker that cannot start is tried again with back-off,
readiness is 503 while fewer workers than configured are alive, and no worker outlives a server killed
with SIGKILL."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from sparql_api import workers
from sparql_api.errors import QueryTimeout
from sparql_api.workers import DataVersion, QueryJob, QueryPool
from tests.server import ROOT, SERVER_PIDS, TOKEN, copy_store, free_port, no_new_workers, unique_ask, worker_pids


class _Started:
    """Stands for a worker that did start."""


def test_a_worker_that_cannot_start_is_tried_again_until_it_starts(monkeypatch, tmp_path):
    monkeypatch.setattr(workers, "RESTART_DELAYS", (0.01, 0.02))
    attempts = []

    def spawn():
        attempts.append(time.monotonic())
        if len(attempts) < 4:
            raise RuntimeError("a query worker could not open the store")
        return _Started()

    async def restart_one():
        pool = QueryPool(tmp_path, 1, 1.0, DataVersion())
        pool._loop = asyncio.get_running_loop()
        joined: asyncio.Queue = asyncio.Queue()
        monkeypatch.setattr(pool, "_spawn", spawn)
        monkeypatch.setattr(pool, "_join", joined.put_nowait)
        pool._replace(None)
        return await asyncio.wait_for(joined.get(), 10)

    started = asyncio.run(restart_one())
    assert isinstance(started, _Started)
    assert len(attempts) == 4
    gaps = [later - earlier for earlier, later in zip(attempts, attempts[1:], strict=False)]
    assert gaps[0] >= 0.01 and gaps[1] >= 0.02 and gaps[2] >= 0.02


def test_a_closed_pool_stops_trying(monkeypatch, tmp_path):
    monkeypatch.setattr(workers, "RESTART_DELAYS", (0.01,))
    attempts = []

    async def restart_then_close():
        pool = QueryPool(tmp_path, 1, 1.0, DataVersion())
        pool._loop = asyncio.get_running_loop()

        def spawn():
            attempts.append(1)
            if len(attempts) == 3:
                pool._closed = True
            raise RuntimeError("cannot start")

        monkeypatch.setattr(pool, "_spawn", spawn)
        pool._replace(None)
        await asyncio.sleep(0.5)

    asyncio.run(restart_then_close())
    assert len(attempts) == 3


LONG_QUERY = "SELECT (COUNT(*) AS ?n) WHERE { { SELECT ?a WHERE { ?a a ?c } LIMIT 2000 } ?d a ?f }"
"""About 0.8 s on the project's store."""
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
ASK = "ASK { ?s ?p ?o }"


def _job(sparql: str) -> QueryJob:
    return QueryJob(sparql=sparql, base_iri="http://example.org/")


def _count(answer) -> int:
    return int(json.loads(answer.body)["results"]["bindings"][0]["n"]["value"])


def test_a_long_query_does_not_hold_back_short_ones_on_its_worker(monkeypatch, built_store_path):
    monkeypatch.setattr(workers, "LONG_QUERY", 0.05)  # set aside however fast the machine

    async def beside_a_long_query() -> tuple[list[bool], bool, int, int]:
        pool = QueryPool(built_store_path, 1, 60.0, DataVersion(), threads=1)
        await pool.start()
        assert await pool.started()
        try:
            long = asyncio.ensure_future(pool.run(_job(LONG_QUERY)))
            await asyncio.sleep(0.2)
            answers = [json.loads((await pool.run(_job(ASK))).body)["boolean"] for _ in range(3)]
            ran_beside = not long.done()  # the one thread was the long query's: the short ones ran beside it
            processes = pool.alive()
            return answers, ran_beside, _count(await long), processes
        finally:
            pool.close()

    answers, ran_beside, count, processes = asyncio.run(beside_a_long_query())
    assert answers == [True, True, True]
    assert ran_beside
    assert count > 2000
    assert processes == 1  # threads, not processes


def test_queries_beside_one_that_overran_are_answered_by_the_replacement(built_store_path):
    stopped = []

    async def overrun() -> tuple[type, int, int, set[int], set[int]]:
        pool = QueryPool(built_store_path, 1, 3.0, DataVersion(), threads=2, on_timeout=lambda: stopped.append(1))
        await pool.start()
        assert await pool.started()
        try:
            before = {worker.process.pid for worker in pool._all}
            runaway = asyncio.ensure_future(pool.run(_job(RUNAWAY)))
            await asyncio.sleep(2.5)
            beside = asyncio.ensure_future(pool.run(_job(LONG_QUERY)))  # still running when the runaway is stopped
            outcome = await asyncio.gather(runaway, return_exceptions=True)
            count = _count(await beside)
            await asyncio.to_thread(_until, lambda: pool.alive() == 1)
            return type(outcome[0]), count, pool.alive(), before, {worker.process.pid for worker in pool._all}
        finally:
            pool.close()

    error, count, alive, before, after = asyncio.run(overrun())
    assert error is QueryTimeout
    assert stopped == [1]
    assert count > 2000  # sent again, whole, to the worker that replaced the killed one
    assert alive == 1 and before.isdisjoint(after)



@pytest.mark.parametrize("limit_mb", [0.01, 0.0])
def test_an_idle_worker_grown_past_the_memory_limit_is_replaced_after_its_long_query(
        monkeypatch, built_store_path, limit_mb):
    monkeypatch.setattr(workers, "LONG_QUERY", 0.05)

    def serving(pool: QueryPool) -> set[int]:
        return {worker.process.pid for worker in pool._serving}

    async def after_a_long_query() -> tuple[int, set[int], set[int], set[int], bool]:
        pool = QueryPool(built_store_path, 1, 60.0, DataVersion(), threads=2, memory_limit_mb=limit_mb)
        await pool.start()
        assert await pool.started()
        try:
            before = serving(pool)
            await pool.run(_job(ASK))  # a short query: its worker is not looked at
            assert serving(pool) == before
            count = _count(await pool.run(_job(LONG_QUERY)))
            alive = set()  # sampled until another worker serves (at most 3 s)
            deadline = time.monotonic() + 3
            while serving(pool) in (set(), before) and time.monotonic() < deadline:
                alive.add(pool.alive())
                await asyncio.sleep(0.01)
            answered = json.loads((await pool.run(_job(ASK))).body)["boolean"]
            return count, before, serving(pool), alive, answered
        finally:
            pool.close()

    count, before, after, alive, answered = asyncio.run(after_a_long_query())
    assert count > 2000 and answered
    if limit_mb:  # the long query has grown the worker (its caches at least): replaced once idle
        assert len(after) == 1 and before.isdisjoint(after)
        assert alive and 0 not in alive  # the old one was stopped only after its replacement had started
    else:  # no limit: the same worker goes on
        assert after == before

def _until(condition, seconds: float = 20.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)
    return condition()


def test_ready_is_503_while_fewer_workers_than_configured_are_alive(guarded_server):
    url, _ = guarded_server
    before = worker_pids(url)
    with no_new_workers(url):
        os.kill(sorted(before)[0], signal.SIGKILL)  # one of two
        deadline = time.monotonic() + 10
        while (response := httpx.get(url + "/health/ready")).status_code == 200 and time.monotonic() < deadline:
            time.sleep(0.05)
        answered = httpx.get(url + "/sparql", params={"query": unique_ask()}).status_code  # by the other
    assert response.status_code == 503
    assert "1 of 2 query workers" in response.json()["detail"]
    assert answered == 200
    deadline = time.monotonic() + 60  # the dead worker is replaced once one can start
    while httpx.get(url + "/health/ready").status_code != 200 and time.monotonic() < deadline:
        time.sleep(0.2)
    ready = httpx.get(url + "/health/ready")
    assert ready.status_code == 200 and ready.json()["workers"] == {"alive": 2, "configured": 2}
    assert worker_pids(url) != before


def _gone(pid: int) -> bool:
    """No such process, or only its zombie (a container's init may be slow to reap it)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")


def _command(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()[:160]
    except OSError:
        return ""


def _children(pid: int) -> set[int]:
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            continue
    return found


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_no_worker_outlives_a_server_killed_with_sigkill(built_store_path, tmp_path):
    store = copy_store(built_store_path, tmp_path / "store")
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("KIM_")}
    environment.update(KIM_WORKERS="2", KIM_WRITE_TOKEN=TOKEN)
    url = f"http://127.0.0.1:{port}"
    with open(tmp_path / "server.log", "wb") as log:
        server = subprocess.Popen([sys.executable, "-m", "kimgraph.cli", "serve", "--store", str(store),
                                   "--host", "127.0.0.1", "--port", str(port)],
                                  cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT)
    SERVER_PIDS[url] = server.pid
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if httpx.get(url + "/health/ready", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        # the search index built (by a child process of its own), so that child has come and gone
        assert httpx.get(url + "/search", params={"q": "duty"}, timeout=60).status_code == 200
        # a query still running in one worker when the server dies
        runaway = subprocess.Popen([sys.executable, "-c", "import httpx, sys; httpx.get(sys.argv[1], timeout=30, "
                                    "params={'query': 'SELECT * { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }'})",
                                    url + "/sparql"], stderr=subprocess.DEVNULL)
        time.sleep(0.5)
        workers_before = worker_pids(url)
        others = _children(server.pid)  # the forkserver and the resource tracker among them
        assert len(workers_before) >= 2
        os.kill(server.pid, signal.SIGKILL)
        server.wait(10)
        killed = time.monotonic()
        left = workers_before | others
        while time.monotonic() - killed < 3 and not all(_gone(pid) for pid in left):
            time.sleep(0.05)
        survivors = {pid: _command(pid) for pid in left if not _gone(pid)}
        assert survivors == {}, f"alive {time.monotonic() - killed:.1f} s after the server was killed"
        runaway.kill()
        runaway.wait()
    finally:
        SERVER_PIDS.pop(url, None)
        if server.poll() is None:
            server.kill()
            server.wait()


def test_a_worker_runs_on_pyoxigraph_alone_without_the_web_framework_or_rdflib():
    """What the forkserver preloads, and what a worker imports while it answers queries of every kind, leave
    out FastAPI, Starlette, pydantic and rdflib: each worker's memory holds the engine and little else."""
    code = (
        "import sys\n"
        "import sparql_api.workers\n"
        "from sparql_api.workers import QueryJob, execute\n"
        "from store.embedded import Store\n"
        "store = Store.in_memory()\n"
        "store.load(b'<http://e/s> <http://e/p> \"o\"@en .', 'ntriples', 'http://e/g')\n"
        "answers = [execute(store, QueryJob(q, 'http://e/', results_format=r, graph_format=g, jsonld_context=c))\n"
        "           for q, r, g, c in [('SELECT * { ?s ?p ?o }', 'json', None, None),\n"
        "                              ('ASK { ?s ?p ?o }', 'xml', None, None),\n"
        "                              ('CONSTRUCT WHERE { ?s ?p ?o }', None, 'turtle', None),\n"
        "                              ('CONSTRUCT WHERE { ?s ?p ?o }', None, 'jsonld', 'http://e/context.jsonld')]]\n"
        "assert all(b'http://e/s' in a.body or a.body.startswith(b'<?xml') for a in answers), answers\n"
        "print(sorted(m for m in ('fastapi', 'starlette', 'pydantic', 'rdflib') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
