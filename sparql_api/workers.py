"""Query worker processes: each opens the store read-only and is killed when a query overruns its time.

pyoxigraph cannot cancel a running query (oxigraph#1926), so a limit that really stops the work needs
a process that can be killed. Each worker runs one query at a time, serialises the whole answer to
bytes and only then sends it back, so a query that times out has sent nothing: the client gets a 503
problem instead of a 200 followed by half a body. Read-only stores are snapshots, so every job carries
the data version it expects and a worker reopens the store when its own is older.

A query still running after ``LONG_QUERY`` seconds is set aside: its worker leaves the pool's count
and a new worker takes its place, so a few runaway queries cannot hold every worker while short
queries wait. When that query ends, its worker (whose caches are warm) rejoins the pool and the next
worker to finish a query is retired instead, so there are never more than three times the pool's
size; the workers above its size that are still idle ``SURPLUS_IDLE`` seconds later are retired too.
Workers are forked from a forkserver that has already imported this module, so a replacement is ready
in tens of milliseconds, not a second. A query waits up to ``QUEUE_WAIT``
seconds (at least the time limit) for a worker before the client gets a 503 "Service busy".

Workers start in the background, so the server answers (liveness) before they are ready; a worker
that cannot start is tried again after a back-off (0.1 s, growing to 5 s), and readiness stays
503 while fewer workers than configured are alive.
"""

from __future__ import annotations

import asyncio
import json
import logging
import multiprocessing
import multiprocessing.forkserver
import os
import re
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import anyio.to_thread

from sparql_api import formats
from sparql_api.compact import compact_ntriples
from sparql_api.errors import ERRORS_BY_NAME, BadRequest, InvalidQuery, KimError, QueryTimeout, ServiceBusy
from sparql_api.lifetime import die_with_parent
from store.embedded import Store
from store.errors import QuerySyntaxError, StoreError, StoreTimeout, StoreUnavailable
from store.terms import is_graph

log = logging.getLogger("kimgraph.workers")
START_TIMEOUT = 60.0
STACK_BYTES = 256 * 1024 * 1024
"""Stack of the threads that run SPARQL: Oxigraph parses and evaluates recursively, and a chain of a few
thousand OPTIONAL or MINUS (well within the query length limit) overflows a default 8 MiB stack, which
kills the process. The memory is reserved, not used, until a query goes that deep."""
_STACK_SIZE_LOCK = threading.Lock()
LONG_QUERY = 0.25  # seconds after which a running query is set aside (see the module docstring)
QUEUE_WAIT = 10.0
SURPLUS_IDLE = 2.0
"""Seconds after a set-aside worker rejoins the pool until the idle workers above the pool's size are retired."""
RESTART_DELAYS = (0.1, 0.2, 0.5, 1.0, 2.0, 5.0)
"""Seconds between attempts to start a worker that could not start (the last repeats until one starts)."""


@dataclass(frozen=True)
class QueryJob:
    """One query with its dataset, the formats negotiated for each result kind, and the data version."""

    sparql: str
    base_iri: str
    union_default: bool = True
    default_graphs: tuple[str, ...] | None = None
    named_graphs: tuple[str, ...] | None = None
    results_format: str | None = "json"
    graph_format: str | None = "turtle"
    max_rows: int = 100_000
    version: int = 0
    substitutions: tuple = ()  # ((variable, rdflib term), ...) bound by value, never pasted into text
    jsonld_context: str | None = None
    """The context URL to compact a JSON-LD graph result with; None: the expanded form."""


@dataclass(frozen=True)
class QueryAnswer:
    """A serialised result: the format's short name and the bytes to send."""

    format: str
    body: bytes


_POSITION = re.compile(r"error at (\d+):(\d+)|^line (\d+), column (\d+)")


def execute(store: Store, job: QueryJob) -> QueryAnswer:
    """Run one query and serialise its whole result; KimError for anything the client got wrong."""
    # Relative IRIs resolve against the endpoint (the base "MAY be the service endpoint", as the W3C
    # protocol suite's update_base_uri case puts it); the extra line is taken off error positions again.
    text = f"BASE <{job.base_iri}>\n{job.sparql}"
    try:
        result = store.query(text, union_default=job.union_default, default_graphs=job.default_graphs,
                             named_graphs=job.named_graphs, substitutions=dict(job.substitutions) or None)
    except QuerySyntaxError as e:
        raise InvalidQuery(shift_position(str(e))) from None
    except ValueError as e:
        raise BadRequest(str(e)) from None
    kind = "graph" if is_graph(result) else "results"
    fmt = job.graph_format if kind == "graph" else job.results_format
    if fmt is None:
        raise formats.not_acceptable(kind)
    if kind == "graph" and fmt == "jsonld" and job.jsonld_context:
        nt = formats.serialize_result(result, "ntriples", job.max_rows)
        document = compact_ntriples(nt, context_url=job.jsonld_context)
        return QueryAnswer(fmt, json.dumps(document, ensure_ascii=False).encode())
    return QueryAnswer(fmt, formats.serialize_result(result, fmt, job.max_rows))


def shift_position(message: str, limit: int = 400) -> str:
    """A syntax error as the client's text has it: line and column without our BASE line, kept short.

    >>> shift_position('line 2, column 7: undefined prefix ex (declare it with PREFIX ex: <...>)')
    'line 1, column 7: undefined prefix ex (declare it with PREFIX ex: <...>)'
    >>> shift_position('error at 2:7: expected WHERE')  # a remote store's own message
    'line 1, column 7: expected WHERE'
    """
    def shifted(m: re.Match) -> str:
        line, column = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
        return f"line {max(int(line) - 1, 1)}, column {column}"

    message = _POSITION.sub(shifted, message, count=1)
    return message if len(message) <= limit else message[:limit].rstrip() + " ..."


def _open(path: str, attempts: int = 20) -> Store:
    """Open the store read-only, retrying: the writer compacting files at that moment can foil one try."""
    for attempt in range(attempts):
        try:
            return Store.open(Path(path), read_only=True)
        except (StoreError, RuntimeError, OSError):
            if attempt == attempts - 1:
                raise
            time.sleep(0.05)
    raise AssertionError("unreachable")


def _run(store: Store, path: str, job: QueryJob) -> tuple[Store, QueryAnswer]:
    """Execute a job; when the snapshot's files were compacted away under it, reopen and try once more."""
    try:
        return store, execute(store, job)
    except (RuntimeError, OSError):
        store = _open(path)
        return store, execute(store, job)


def call_with_stack(function, *args):
    """``function(*args)`` on a thread of its own with a STACK_BYTES stack: its result, or its exception.

    >>> call_with_stack(sum, [1, 2])
    3
    """
    outcome: dict = {}

    def target() -> None:
        try:
            outcome["value"] = function(*args)
        except BaseException as e:
            outcome["error"] = e

    with _STACK_SIZE_LOCK:  # the size applies to every thread started meanwhile, so it is set back at once
        previous = threading.stack_size(STACK_BYTES)
        try:
            thread = threading.Thread(target=target, name="kimgraph-sparql", daemon=True)
            thread.start()
        finally:
            threading.stack_size(previous)
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def _worker_main(path: str, version: int, conn) -> None:
    """A worker process: its loop runs on a thread with a stack deep enough for any query within the limits."""
    die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group; the parent stops us
    call_with_stack(_serve, path, version, conn)


def _serve(path: str, version: int, conn) -> None:
    """A worker's loop: receive a job, answer ("ok", QueryAnswer) or ("error", class name, detail)."""
    store = _open(path)
    conn.send("ready")
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return  # the parent has gone
        if job is None:
            return
        try:
            if job.version != version:
                store, version = _open(path), job.version
            store, answer = _run(store, path, job)
            conn.send(("ok", answer))
        except KimError as e:
            conn.send(("error", type(e).__name__, e.detail))
        except Exception:
            log.exception("query failed unexpectedly")
            conn.send(("error", "KimError", "the query failed unexpectedly"))


class _Worker:
    """One worker process and our end of its pipe."""

    def __init__(self, ctx, path: Path, version: int):
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_worker_main, args=(str(path), version, child),
                                   name="kimgraph-query", daemon=True)
        self.process.start()
        child.close()

    def wait_ready(self) -> bool:
        try:
            return self.conn.poll(START_TIMEOUT) and self.conn.recv() == "ready"
        except (EOFError, OSError):
            return False

    def kill(self) -> None:
        self.process.kill()
        self.process.join(5)
        self.conn.close()


class DataVersion:
    """A counter bumped after every write, so readers know when their snapshot is stale."""

    def __init__(self) -> None:
        self.value = 0
        self.lock = threading.Lock()  # held around a write and its bump
        self.listeners: list[Callable[[], None]] = []  # told after every bump (the prepared answers go stale)

    def bump(self) -> int:
        self.value += 1
        for listener in self.listeners:
            listener()
        return self.value


class QueryPool:
    """A few worker processes; ``run`` answers within ``timeout`` seconds or raises QueryTimeout."""

    def __init__(self, path: Path, size: int, timeout: float, version: DataVersion, *,
                 on_timeout: Callable[[], None] | None = None):
        self.path, self.size, self.timeout, self.version = Path(path), max(size, 1), timeout, version
        self.on_timeout = on_timeout  # called once for each query stopped by the time limit
        self._ctx = worker_context()
        self.long_after = min(LONG_QUERY, timeout / 2)
        self.queue_wait = max(QUEUE_WAIT, timeout)
        self.max_aside = 2 * self.size  # bounds the processes (and CPU) that overrunning queries can take
        self._aside = 0
        self._surplus = 0  # workers above the pool's size, retired as they finish their queries
        self._lock = threading.Lock()
        self._idle: asyncio.Queue[_Worker] = asyncio.Queue()
        self._all: set[_Worker] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False

    async def start(self) -> None:
        """Start the workers in the background: the server answers at once (liveness), queries wait for the
        first worker ready, and readiness waits for all of them."""
        self._loop = asyncio.get_running_loop()
        if self._ctx.get_start_method() == "forkserver":  # from this thread, which lives as long as the server
            multiprocessing.forkserver.ensure_running()
        for _ in range(self.size):
            self._replace(None)

    def _spawn(self) -> _Worker:
        worker = _Worker(self._ctx, self.path, self.version.value)
        if not worker.wait_ready():
            worker.kill()
            raise RuntimeError(f"a query worker could not open the store at {self.path}")
        with self._lock:
            if not self._closed:
                self._all.add(worker)
                return worker
        worker.kill()  # the pool closed while this worker started
        raise RuntimeError("the query pool is closed")

    def _replace(self, dead: _Worker | None, respawn: bool = True) -> None:
        """Kill ``dead`` (if any) and start another worker (if ``respawn``) in the background, so the
        caller can answer at once."""
        if dead is not None:
            self._all.discard(dead)

        def restart() -> None:
            if dead is not None:
                dead.kill()
            attempt = 0
            while not self._closed and respawn:
                try:
                    worker = self._spawn()
                except Exception as e:
                    delay = RESTART_DELAYS[min(attempt, len(RESTART_DELAYS) - 1)]
                    attempt += 1
                    log.warning("could not start a query worker (attempt %d), trying again in %g s: %s",
                                attempt, delay, e)
                    time.sleep(delay)
                    continue
                if self._closed:
                    self._all.discard(worker)
                    worker.kill()
                    return
                self._loop.call_soon_threadsafe(self._idle.put_nowait, worker)
                return

        threading.Thread(target=restart, name="kimgraph-restart", daemon=True).start()

    async def run(self, job: QueryJob) -> QueryAnswer:
        """Run ``job`` on an idle worker; QueryTimeout (503) when it takes longer than the limit."""
        try:
            worker = await asyncio.wait_for(self._idle.get(), timeout=self.queue_wait)
        except TimeoutError:
            raise ServiceBusy(f"every query worker stayed busy for {self.queue_wait:g} s; try again shortly",
                              retry_after=_retry_after(self.timeout)) from None
        outcome = await self._exchange(worker, job)
        if outcome[0] == "ok":
            return outcome[1]
        if outcome[0] == "timeout":
            if self.on_timeout is not None:
                self.on_timeout()
            raise QueryTimeout(f"the query ran longer than the {self.timeout:g} s limit and was stopped; "
                               "narrow it or add a LIMIT", retry_after=_retry_after(self.timeout))
        if outcome[0] == "died":
            raise KimError("the query worker stopped unexpectedly")
        error = ERRORS_BY_NAME.get(outcome[1], KimError)
        if error is KimError:
            raise KimError("the query failed unexpectedly")
        raise error(outcome[2])

    async def started(self, limit: float = START_TIMEOUT) -> bool:
        """Wait until every configured worker is alive (at most ``limit`` seconds); whether they are."""
        deadline = time.monotonic() + limit
        while self.alive() < self.size and time.monotonic() < deadline and not self._closed:
            await asyncio.sleep(0.05)
        return self.alive() >= self.size

    def alive(self) -> int:
        """How many worker processes are running (one being restarted after a timeout is not counted)."""
        return sum(worker.process.is_alive() for worker in list(self._all))

    async def _exchange(self, worker: _Worker, job: QueryJob) -> tuple:
        """Send a job and wait for its answer on the event loop (the pipe is watched, no thread waits on it).

        A worker whose wait is abandoned (the request was cancelled) is stopped, so that it cannot answer
        the next request with this one's result.
        """
        aside = False
        try:
            worker.conn.send(job)
            if not await _readable(worker.conn, self.long_after):
                aside = self._set_aside()
                if not await _readable(worker.conn, self.timeout - self.long_after):
                    self._end(worker, aside)
                    return ("timeout",)
            outcome = worker.conn.recv()  # the worker sends each answer whole, once it is ready
        except (EOFError, OSError):
            self._end(worker, aside)
            return ("died",)
        except BaseException:
            self._end(worker, aside)
            raise
        self._return(worker, aside)
        return outcome

    def _return(self, worker: _Worker, aside: bool) -> None:
        """Put a worker that answered back in the pool, or retire one when the pool is above its size.

        A worker set aside has a replacement already; it comes back anyway (its store's caches are warm,
        a new worker's are cold) and the next worker to finish a query is retired in its place.
        """
        with self._lock:
            if aside:
                self._aside -= 1
                self._surplus += 1
                retire = False
            else:
                retire = self._surplus > 0
                if retire:
                    self._surplus -= 1
        if retire:
            self._replace(worker, respawn=False)
        else:
            self._loop.call_soon_threadsafe(self._idle.put_nowait, worker)
            if aside:
                self._loop.call_soon_threadsafe(self._loop.call_later, SURPLUS_IDLE, self._trim)

    def _trim(self) -> None:
        """Retire idle workers above the pool's size, so that after a burst of long queries the pool is back
        to its size (and its memory) without waiting for more queries to finish."""
        while True:
            with self._lock:
                if self._closed or self._surplus <= 0 or self._idle.empty():
                    return
                self._surplus -= 1
                worker = self._idle.get_nowait()
            self._replace(worker, respawn=False)

    def _set_aside(self) -> bool:
        """Take a long-running query's worker out of the pool's count and start another in its place."""
        with self._lock:
            if self._aside >= self.max_aside:
                return False
            self._aside += 1
            if self._surplus > 0:  # a worker above the pool's size is there to take its place
                self._surplus -= 1
                return True
        self._replace(None)
        return True

    def _end(self, worker: _Worker, aside: bool) -> None:
        """Stop a worker that timed out, died or was set aside; replace it unless that was done already."""
        if aside:
            with self._lock:
                self._aside -= 1
        self._replace(worker, respawn=not aside)

    def close(self) -> None:
        with self._lock:
            self._closed = True
        for worker in list(self._all):
            try:
                worker.conn.send(None)
            except OSError:
                pass
        for worker in list(self._all):
            worker.process.join(2)
            if worker.process.is_alive():
                worker.kill()
        self._all.clear()


async def _readable(conn, seconds: float) -> bool:
    """Whether ``conn`` has something to read within ``seconds``, waiting on the event loop."""
    if conn.poll(0):
        return True
    loop = asyncio.get_running_loop()
    ready = loop.create_future()
    fd = conn.fileno()
    loop.add_reader(fd, lambda: ready.done() or ready.set_result(True))
    try:
        await asyncio.wait_for(ready, max(seconds, 0))
        return True
    except TimeoutError:
        return False
    finally:
        loop.remove_reader(fd)
        os.set_blocking(fd, True)  # uvloop makes a watched descriptor non-blocking; recv reads whole messages


def worker_context():
    """Forked from a single-threaded forkserver that has imported this module; never from the server,
    which runs threads. Spawn (a fresh interpreter each time) where there is no forkserver."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload([__name__, "sparql_api.forkserver_guard"])
    return ctx



class InlineRunner:
    """Runs queries in a thread of this process: for in-memory stores, which workers cannot open.

    There is no time limit here (a thread cannot be stopped); servers use QueryPool.
    """

    def __init__(self, store: Store):
        self.store = store

    async def run(self, job: QueryJob) -> QueryAnswer:
        return await anyio.to_thread.run_sync(call_with_stack, execute, self.store, job)

    def close(self) -> None:
        pass


class RemoteRunner:
    """Sends queries to a remote SPARQL store from a thread, giving the request up after ``timeout`` seconds.

    Giving up closes the connection and answers 503 at once, but only the remote engine's own limit
    (``oxigraph serve --timeout-s``, Fuseki's ``arq:queryTimeout``, GraphDB's ``query-timeout``) really
    stops the work there: set it to about the same number of seconds.
    """

    def __init__(self, store, timeout: float, *, on_timeout: Callable[[], None] | None = None):
        self.store, self.timeout, self.on_timeout = store, timeout, on_timeout

    async def run(self, job: QueryJob) -> QueryAnswer:
        try:
            return await anyio.to_thread.run_sync(execute, self.store.with_timeout(self.timeout), job)
        except StoreTimeout:
            if self.on_timeout is not None:
                self.on_timeout()
            raise QueryTimeout(f"the query ran longer than the {self.timeout:g} s limit and was stopped; "
                               "narrow it or add a LIMIT", retry_after=_retry_after(self.timeout)) from None
        except StoreUnavailable as e:
            log.error("remote store unavailable: %s", e)
            raise ServiceBusy("the SPARQL store behind this service is unavailable; try again shortly",
                              retry_after=_retry_after(self.timeout)) from None

    def close(self) -> None:
        pass


def _retry_after(timeout: float) -> int:
    return max(1, round(timeout))
