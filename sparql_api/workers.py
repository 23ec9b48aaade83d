"""Query worker processes: each opens the store read-only, runs a few queries at once on threads, and is
killed when one of them overruns its time.

pyoxigraph cannot cancel a running query (oxigraph#1926), so a limit that really stops the work needs
a process that can be killed. A worker runs each query on a thread of its own (pyoxigraph evaluates and
serialises without holding the GIL, so they run in parallel), serialises the whole answer to bytes and
only then sends it back, with the job's number, so a query that times out has sent nothing: the client
gets a 503 problem instead of a 200 followed by half a body. The queries on one worker share its store's
caches, as they would in one process. Read-only stores are snapshots, so every job carries the data
version it expects and a worker reopens the store when its own is older.

Each worker takes ``threads`` queries at a time. A query still running after ``LONG_QUERY`` seconds is
set aside: it no longer counts against its worker's threads, so a few long queries cannot hold every
thread while short ones wait (at most ``size * threads`` queries are set aside at once). When a query
overruns the time limit its worker is killed and replaced; the other queries it was running are sent
again to a worker (up to ``RETRIES`` times), since reads can be repeated. A worker whose long queries left it
holding more than ``memory_limit_mb`` of its own memory over what it held when it started (the allocator's
free lists, the store's block cache) is replaced by a fresh one once it has been idle for ``AT_REST``
seconds, so the pool's memory goes back down after a burst of large queries. A worker that dies of itself is
replaced at once; its queries get a 500, since one of them may be what killed it. Workers are forked from a
forkserver that has already imported this module, so a replacement is ready in tens of milliseconds, not
a second. A query waits up to ``QUEUE_WAIT`` seconds (at least the time limit) for a thread before the
client gets a 503 "Service busy".

Workers start in the background, so the server answers (liveness) before they are ready; a worker
that cannot start is tried again after a back-off (0.1 s, growing to 5 s), and readiness stays
503 while fewer workers than configured are alive.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import multiprocessing
import multiprocessing.forkserver
import os
import re
import signal
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import anyio.to_thread

from sparql_api import allocator, formats
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
AT_REST = 1.0
"""Seconds a worker stays idle after a long query before its memory is looked at (see QueryPool)."""
QUEUE_WAIT = 10.0
RETRIES = 2
"""Times a query is sent again when its worker was killed for another query's sake."""
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


def _worker_main(path: str, version: int, capacity: int, conn) -> None:
    """A worker process: it receives jobs and runs up to ``capacity`` of them at once, each on a thread with a
    stack deep enough for any query within the limits."""
    die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group; the parent stops us
    threading.stack_size(STACK_BYTES)  # this process's threads from now on: the query threads
    _serve_jobs(path, version, capacity, conn)


class _Snapshot:
    """A worker's read-only store, reopened when a job names a newer data version."""

    def __init__(self, path: str, version: int):
        self.path, self.version, self.store = path, version, _open(path)
        self.lock = threading.Lock()

    def of(self, version: int) -> Store:
        with self.lock:
            if version > self.version:
                self.store, self.version = _open(self.path), version
            return self.store

    def reopened(self, stale: Store) -> Store:
        """A fresh snapshot when ``stale``'s files were compacted away under it (another thread may have
        reopened it already)."""
        with self.lock:
            if self.store is stale:
                self.store = _open(self.path)
            return self.store


def _answer(snapshot: _Snapshot, job: QueryJob) -> tuple:
    """A job's outcome: ("ok", QueryAnswer) or ("error", class name, detail)."""
    try:
        store = snapshot.of(job.version)
        try:
            return ("ok", execute(store, job))
        except (RuntimeError, OSError):
            return ("ok", execute(snapshot.reopened(store), job))
    except KimError as e:
        return ("error", type(e).__name__, e.detail)
    except Exception:
        log.exception("query failed unexpectedly")
        return ("error", "KimError", "the query failed unexpectedly")


def _serve_jobs(path: str, version: int, capacity: int, conn) -> None:
    """A worker's loop: receive (id, job), answer (id, outcome) from a thread once the job is done."""
    snapshot = _Snapshot(path, version)
    sending = threading.Lock()  # also around ``running``
    running = [0]  # jobs received and not yet answered

    def run(job_id: int, job: QueryJob) -> None:
        started = time.monotonic()
        outcome = _answer(snapshot, job)
        with sending:
            try:
                conn.send((job_id, outcome))
            except OSError:
                pass  # the parent has gone
            running[0] -= 1
            idle = running[0] == 0
        # A long query may have freed much; handed back once no other query runs, whose allocations would
        # otherwise wait on the trim and fault the pages in again.
        if idle and time.monotonic() - started > LONG_QUERY:
            allocator.hand_back()

    conn.send("ready")
    threads = ThreadPoolExecutor(max_workers=capacity, thread_name_prefix="kimgraph-sparql")
    try:
        while True:
            try:
                message = conn.recv()
            except (EOFError, OSError):
                return  # the parent has gone
            if message is None:
                return
            with sending:
                running[0] += 1
            threads.submit(run, *message)
    finally:
        threads.shutdown(wait=False, cancel_futures=True)


class _Worker:
    """One worker process, our end of its pipe, and the jobs sent to it that it has not answered."""

    def __init__(self, ctx, path: Path, version: int, capacity: int):
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_worker_main, args=(str(path), version, capacity, child),
                                   name="kimgraph-query", daemon=True)
        self.process.start()
        child.close()
        self.calls: dict[int, _Call] = {}
        self.busy = 0  # jobs that count against its threads (not those set aside as long)
        self.ran_long = False  # a job of it has run past LONG_QUERY since its memory was last looked at
        self.started_mb: float | None = None  # its own memory when it joined the pool, the store open
        self.rest_check: asyncio.TimerHandle | None = None  # looks at its memory if it stays idle
        self.serving = False  # in the pool: its pipe is watched and it takes jobs

    def wait_ready(self) -> bool:
        try:
            return self.conn.poll(START_TIMEOUT) and self.conn.recv() == "ready"
        except (EOFError, OSError):
            return False

    def kill(self) -> None:
        self.process.kill()
        self.process.join(5)
        self.conn.close()


@dataclass(eq=False)
class _Call:
    """A job sent to a worker: the future its answer goes to, and its timers."""

    answer: asyncio.Future
    sent: float = 0.0  # the event loop's time
    timers: tuple = ()
    long: bool = False  # set aside: no longer counted against its worker's threads


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
    """A few worker processes of a few query threads each; ``run`` answers within ``timeout`` seconds or
    raises QueryTimeout."""

    def __init__(self, path: Path, size: int, timeout: float, version: DataVersion, *, threads: int = 2,
                 memory_limit_mb: float = 0, on_timeout: Callable[[], None] | None = None):
        self.path, self.size, self.timeout, self.version = Path(path), max(size, 1), timeout, version
        self.threads = max(threads, 1)
        self.memory_limit_mb = memory_limit_mb  # 0: never replaced for its memory
        self.on_timeout = on_timeout  # called once for each query stopped by the time limit
        self._ctx = worker_context()
        self.long_after = min(LONG_QUERY, timeout / 2)
        self.queue_wait = max(QUEUE_WAIT, timeout)
        self.max_aside = self.size * self.threads  # bounds the threads (and CPU) that overrunning queries take
        self._aside = 0
        self._lock = threading.Lock()  # around _all and _closed, which other threads read
        self._all: set[_Worker] = set()
        self._serving: list[_Worker] = []
        self._waiting: deque[asyncio.Future[_Worker]] = deque()
        self._ids = itertools.count()
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

    async def run(self, job: QueryJob) -> QueryAnswer:
        """Run ``job`` on a free thread of a worker; QueryTimeout (503) when it takes longer than the limit."""
        queue_deadline = self._loop.time() + self.queue_wait
        for _ in range(RETRIES + 1):
            outcome = await self._exchange(await self._acquire(queue_deadline), job)
            if outcome[0] != "again":
                break
        else:
            raise ServiceBusy("the query was stopped with other queries that overran their time; try again shortly",
                              retry_after=_retry_after(self.timeout))
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
        with self._lock:
            workers = list(self._all)
        return sum(worker.process.is_alive() for worker in workers)

    # -- on the event loop from here on

    async def _acquire(self, deadline: float) -> _Worker:
        """A worker with a thread free, counted busy for the caller; the longest waiting caller goes first."""
        if not self._waiting:
            free = [worker for worker in self._serving if worker.busy < self.threads]
            if free:
                worker = min(free, key=lambda w: w.busy)
                worker.busy += 1
                return worker
        waiter = self._loop.create_future()
        self._waiting.append(waiter)
        try:
            return await asyncio.wait_for(waiter, max(deadline - self._loop.time(), 0))
        except TimeoutError:
            raise ServiceBusy(f"every query worker stayed busy for {self.queue_wait:g} s; try again shortly",
                              retry_after=_retry_after(self.timeout)) from None
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():  # handed a thread just as the request went away
                self._release(waiter.result())
            raise

    def _release(self, worker: _Worker) -> None:
        """A thread of ``worker`` is free: hand it to the longest waiting caller, or count it free."""
        if not worker.serving:
            return
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_result(worker)
                return
        worker.busy -= 1

    async def _exchange(self, worker: _Worker, job: QueryJob) -> tuple:
        """Send a job and wait for its outcome: ("ok", answer), ("error", ...), ("timeout",), ("died",), or
        ("again",) when its worker was stopped for another job's sake.

        The bookkeeping is the pool's, not the caller's: when the request goes away, its job still holds its
        thread until it ends, and is still stopped if it overruns.
        """
        if not worker.serving:  # lost after it was handed to this caller, before the caller resumed
            return ("again",)
        if worker.rest_check is not None:  # busy again: not at rest
            worker.rest_check.cancel()
            worker.rest_check = None
        job_id = next(self._ids)
        call = worker.calls[job_id] = _Call(self._loop.create_future(), self._loop.time())
        try:
            worker.conn.send((job_id, job))
        except OSError:  # it has died, and not of this job, which it never received
            del worker.calls[job_id]
            self._lost(worker)
            return ("again",)
        else:
            call.timers = (self._loop.call_later(self.long_after, self._went_long, worker, job_id),
                           self._loop.call_later(self.timeout, self._overran, worker, job_id))
        return await call.answer

    def _received(self, worker: _Worker) -> None:
        """The worker's pipe is readable: hand over each answer it has sent (each is sent whole)."""
        try:
            while worker.serving and worker.conn.poll(0):
                job_id, outcome = worker.conn.recv()
                self._finish(worker, job_id, outcome)
        except (EOFError, OSError):
            if worker.serving:
                log.warning("a query worker stopped unexpectedly")
                self._lost(worker)

    def _finish(self, worker: _Worker, job_id: int, outcome: tuple) -> None:
        call = worker.calls.pop(job_id, None)
        if call is None:
            return
        for timer in call.timers:
            timer.cancel()
        if call.long:
            self._aside -= 1
        else:
            self._release(worker)
        if not call.answer.done():  # not given up by its request
            call.answer.set_result(outcome)
        if self._loop.time() - call.sent >= self.long_after:
            worker.ran_long = True
        if worker.ran_long and worker.serving and not worker.calls:  # idle after a long query
            worker.rest_check = self._loop.call_later(AT_REST, self._rested, worker)

    def _rested(self, worker: _Worker) -> None:
        """``AT_REST`` seconds idle after a long query: replaced if it holds more memory than the limit."""
        worker.rest_check = None
        if worker.serving and not worker.calls:
            worker.ran_long = False
            if self._grown(worker):
                self._retire(worker)

    def _grown(self, worker: _Worker) -> bool:
        if not self.memory_limit_mb:
            return False
        held, started = own_memory_mb(worker.process.pid), worker.started_mb
        return held is not None and started is not None and held - started > self.memory_limit_mb

    def _retire(self, worker: _Worker) -> None:
        """An idle worker that has grown too large leaves the pool; a fresh one takes its place, and it is
        stopped once that one has started, so the pool never counts fewer live workers meanwhile."""
        log.info("replacing an idle query worker that holds %.0f MB (%.0f MB when it started)",
                 own_memory_mb(worker.process.pid) or 0, worker.started_mb or 0)
        worker.serving = False
        self._serving.remove(worker)
        self._loop.remove_reader(worker.conn.fileno())
        self._replace(None, retired=worker)

    def _went_long(self, worker: _Worker, job_id: int) -> None:
        """A job still running after ``long_after`` seconds: its thread no longer counts against its worker's,
        so that a few long queries cannot hold every thread while short ones wait."""
        call = worker.calls.get(job_id)
        if call is None or self._aside >= self.max_aside:
            return
        call.long = True
        self._aside += 1
        self._release(worker)

    def _overran(self, worker: _Worker, job_id: int) -> None:
        """A job past the time limit: its worker is killed (the only way to stop a query) and replaced."""
        if job_id in worker.calls:
            self._lost(worker, overran=job_id)

    def _lost(self, worker: _Worker, overran: int | None = None) -> None:
        """Take a worker out of the pool, kill and replace it. Killed for its job ``overran``: that job gets
        ("timeout",) and the others ("again",), to be sent to another worker. Dead of itself: its jobs get
        ("died",), since one of them may be what killed it."""
        if not worker.serving:
            return
        worker.serving = False
        self._serving.remove(worker)
        self._loop.remove_reader(worker.conn.fileno())
        for job_id in list(worker.calls):
            outcome = ("died",) if overran is None else ("timeout",) if job_id == overran else ("again",)
            self._finish(worker, job_id, outcome)
        self._replace(worker)

    def _join(self, worker: _Worker) -> None:
        """A started worker joins the pool: its pipe is watched and its threads go to the waiting callers."""
        with self._lock:
            closed = self._closed
        if closed:
            self._replace(worker, respawn=False)
            return
        fd = worker.conn.fileno()
        self._loop.add_reader(fd, self._received, worker)
        os.set_blocking(fd, True)  # uvloop makes a watched descriptor non-blocking; recv reads whole messages
        worker.serving = True
        worker.started_mb = own_memory_mb(worker.process.pid)
        self._serving.append(worker)
        worker.busy = self.threads
        for _ in range(self.threads):
            self._release(worker)

    # -- from any thread

    def _spawn(self) -> _Worker:
        worker = _Worker(self._ctx, self.path, self.version.value, self.threads + self.max_aside)
        if not worker.wait_ready():
            worker.kill()
            raise RuntimeError(f"a query worker could not open the store at {self.path}")
        with self._lock:
            if not self._closed:
                self._all.add(worker)
                return worker
        worker.kill()  # the pool closed while this worker started
        raise RuntimeError("the query pool is closed")

    def _replace(self, dead: _Worker | None, respawn: bool = True, *, retired: _Worker | None = None) -> None:
        """Kill ``dead`` (if any) and start another worker (if ``respawn``) in the background, so the
        caller can answer at once. ``retired``, a worker already out of the pool, is killed after its
        replacement has started."""
        if dead is not None:
            with self._lock:
                self._all.discard(dead)

        retiring = [retired] if retired is not None else []

        def stop_retired() -> None:
            while retiring:
                worker = retiring.pop()
                with self._lock:
                    self._all.discard(worker)
                worker.kill()

        def restart() -> None:
            if dead is not None:
                dead.kill()
            attempt = 0
            while not self._closed and respawn:
                try:
                    worker = self._spawn()
                except Exception as e:
                    stop_retired()  # readiness then says that the pool is short
                    delay = RESTART_DELAYS[min(attempt, len(RESTART_DELAYS) - 1)]
                    attempt += 1
                    log.warning("could not start a query worker (attempt %d), trying again in %g s: %s",
                                attempt, delay, e)
                    time.sleep(delay)
                    continue
                try:
                    self._loop.call_soon_threadsafe(self._join, worker)
                except RuntimeError:  # the event loop has closed
                    worker.kill()
                break
            stop_retired()

        threading.Thread(target=restart, name="kimgraph-restart", daemon=True).start()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            workers = list(self._all)
            self._all.clear()
        for worker in workers:
            try:
                worker.conn.send(None)
            except OSError:
                pass
        for worker in workers:
            worker.process.join(2)
            if worker.process.is_alive():
                worker.kill()


def own_memory_mb(pid: int) -> float | None:
    """The anonymous memory a process has resident (heap and stacks, not the files it maps), in MB; None where
    the system does not say.

    >>> own_memory_mb(os.getpid()) > 0
    True
    """
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("RssAnon:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


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
