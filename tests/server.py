"""Real servers for HTTP-level tests: ``kimgraph serve`` in a subprocess on 127.0.0.1 and a free port.

A pytest plugin (``pytest_plugins`` in tests/conftest.py): test modules ask for the servers below by
naming them as arguments, and import only plain helpers from here (``running_server``, ``AUTH``, ...).
Each server is a session fixture, started on first use and stopped when the session ends. The store
comes from conftest's ``built_store_path`` (one ``kimgraph build`` per session) and is copied for
each writable server, so no test writes to another's data.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from kimdata.namespaces import DEFAULT_BASE
from store.embedded import Store
from store.versions import build_atomically
from tests.helpers import ID, ROOT
from tests.w3c_protocol import KASEI

TOKEN = "test-token-5e1f"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
SECRET = "exposure-secret-4d71c0"  # the write token of ``guarded_server``, which must never reach its log

# Tight limits so the guards can be tested with small requests; ordinary tests stay well inside them.
READ_ENV = {
    "KIM_QUERY_TIMEOUT": "1",
    "KIM_WORKERS": "2",
    "KIM_MAX_RESULT_ROWS": "10000",
    "KIM_MAX_QUERY_LENGTH": "5000",
    "KIM_MAX_BODY_BYTES": "200000",
}
# Tight body limit so 413 can be tested with a small upload; no worker processes (the store is only read).
PAGES_ENV = {"KIM_WORKERS": "0", "KIM_MAX_BODY_BYTES": "1000000", "KIM_QUERY_TIMEOUT": "5"}

# The resource that ``resources_store`` adds to the built store: an organisation whose label is markup.
RESOURCES_GRAPH = DEFAULT_BASE + "graph/test-resources"
XSS = "<script>alert(1)</script>"

SERVER_PIDS: dict[str, int] = {}  # base URL -> server process id, to look at its query workers


# ------------------------------------------------------------------ helpers

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def copy_store(source: Path, target: Path) -> Path:
    """A private copy of a built store (the link's target directory)."""
    shutil.copytree(Path(source).resolve(), target)
    return target


@contextmanager
def running_server(store: Path, log: Path, **env: str) -> Iterator[str]:
    """``kimgraph serve`` on a free port until the block ends; yields its base URL (no trailing slash)."""
    port = free_port()
    # the address the tests use is the public one, so the URLs the server writes are the ones they follow
    environment = {k: v for k, v in os.environ.items() if not k.startswith("KIM_")}
    environment["KIM_PUBLIC_URL"] = f"http://127.0.0.1:{port}/"
    environment["KIM_PREPARE"] = "0"  # answers are prepared ahead only where a test asks for it (test_prepared)
    environment.update(env)
    with open(log, "wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "kimgraph.cli", "serve", "--store", str(store),
             "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT, env=environment, stdout=output, stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    SERVER_PIDS[url] = process.pid
    try:
        _wait_until_healthy(url, process, log)
        yield url
    finally:
        SERVER_PIDS.pop(url, None)
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_healthy(url: str, process: subprocess.Popen, log: Path, limit: float = 90) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(url + "/health/ready", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"the server was not ready within {limit} s:\n{log.read_text()}")


def _processes() -> dict[int, tuple[int, bytes]]:
    """Every process (Linux /proc): pid -> (parent pid, command line)."""
    processes = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            processes[int(stat.parent.name)] = (int(fields[1]), (stat.parent / "cmdline").read_bytes())
        except (OSError, IndexError, ValueError):
            continue
    return processes


def _forkservers(url: str, processes: dict[int, tuple[int, bytes]]) -> set[int]:
    parent = SERVER_PIDS[url]
    return {pid for pid, (ppid, cmdline) in processes.items()
            if ppid == parent and b"multiprocessing.forkserver" in cmdline}


def worker_pids(url: str) -> set[int]:
    """The query worker processes of a running server (Linux /proc): forked by its forkserver, or, where
    there is none, spawned by the server itself (not to be mixed up with the search index's builder,
    which the server spawns too)."""
    processes = _processes()
    forkservers = _forkservers(url, processes)
    if forkservers:
        return {pid for pid, (ppid, _) in processes.items() if ppid in forkservers}
    return {pid for pid, (ppid, cmdline) in processes.items()
            if ppid == SERVER_PIDS[url] and b"spawn_main" in cmdline}


def kill_query_workers(url: str) -> None:
    """SIGKILL every query worker of a running server."""
    pids = worker_pids(url)
    assert pids, "the server has no query worker processes"
    for pid in pids:
        os.kill(pid, signal.SIGKILL)


@contextmanager
def no_new_workers(url: str) -> Iterator[None]:
    """Inside, a running server cannot start a query worker: its forkserver is stopped (SIGSTOP), so workers
    killed meanwhile stay dead until the block ends."""
    forkservers = _forkservers(url, _processes())
    assert forkservers, "the server has no forkserver"
    for pid in forkservers:
        os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for pid in forkservers:
            os.kill(pid, signal.SIGCONT)


def unique_ask() -> str:
    """An ``ASK {}`` whose text no query sent before has: no kept answer, so it reaches a query worker."""
    return f"ASK {{}} # {uuid.uuid4()}"


def wait_until_ready(url: str, limit: float = 60) -> None:
    """Send queries until dead workers are replaced and ``/health/ready`` answers 200."""
    deadline = time.monotonic() + limit
    while httpx.get(url + "/health/ready").status_code != 200 and time.monotonic() < deadline:
        httpx.get(url + "/sparql", params={"query": unique_ask()})
        time.sleep(0.2)
    assert httpx.get(url + "/health/ready").status_code == 200


# ------------------------------------------------------------------ stores

@pytest.fixture(scope="session")
def protocol_store(built_store_path, tmp_path_factory) -> Path:
    """A copy of the built store plus the W3C protocol tests' graphs data1.rdf, data2.rdf, data3.rdf."""
    path = copy_store(built_store_path, tmp_path_factory.mktemp("protocol") / "store")
    store = Store.open(path)
    for n in (1, 2, 3):  # the content of the suite's data1.nt .. data3.nt
        triple = (f"<{KASEI}data{n}.rdf> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> "
                  "<http://xmlns.com/foaf/0.1/Document> .\n")
        store.load(triple.encode(), "ntriples", f"{KASEI}data{n}.rdf")
    store.flush()
    del store  # releases the store's lock for the server
    return path


@pytest.fixture(scope="session")
def resources_store(built_store_path, tmp_path_factory) -> Path:
    """A private copy of the built store plus a resource whose label is markup (``XSS``)."""
    path = copy_store(built_store_path, tmp_path_factory.mktemp("resources") / "store")
    store = Store.open(path)
    triples = (f'<{ID}org/xss-test> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> '
               f'<http://www.w3.org/ns/org#Organization> .\n'
               f'<{ID}org/xss-test> <http://www.w3.org/2004/02/skos/core#prefLabel> "{XSS}"@en .\n'
               f'<{ID}org/xss-test> <http://www.w3.org/ns/org#subOrganizationOf> <{ID}org/cilip> .\n')
    store.load(triples.encode(), "ntriples", RESOURCES_GRAPH)
    store.flush()
    del store
    return path


# ------------------------------------------------------------------ servers

@pytest.fixture(scope="session")
def read_server(protocol_store, tmp_path_factory) -> Iterator[str]:
    """A read-only server (no write token) with a 1 s query limit and small request limits."""
    log = tmp_path_factory.getbasetemp() / "read-server.log"
    with running_server(protocol_store, log, **READ_ENV) as url:
        yield url


@pytest.fixture(scope="session")
def write_server(built_store_path, tmp_path_factory) -> Iterator[str]:
    """A server over a private copy of the built store that accepts writes with ``AUTH``.

    Shared by the modules that write: each test writes graphs of its own (urn:test:..., example.org/...).
    """
    base = tmp_path_factory.mktemp("writable")
    store = copy_store(built_store_path, base / "store")
    with running_server(store, base / "server.log", KIM_WRITE_TOKEN=TOKEN, **READ_ENV) as url:
        yield url


@pytest.fixture(scope="session")
def empty_write_server(tmp_path_factory) -> Iterator[str]:
    """A writable server over an empty store, for suites that DROP ALL."""
    base = tmp_path_factory.mktemp("empty")
    build_atomically(base / "store", lambda store: None)
    with running_server(base / "store", base / "server.log", KIM_WRITE_TOKEN=TOKEN, **READ_ENV) as url:
        yield url


@pytest.fixture(scope="session")
def guarded_server(built_store_path, tmp_path_factory) -> Iterator[tuple[str, Path]]:
    """A writable server like ``write_server``, with the token ``SECRET`` and a log file of its own:
    (base URL, log). For the tests that read a writable server's log or kill its query workers."""
    base = tmp_path_factory.mktemp("guarded")
    store = copy_store(built_store_path, base / "store")
    log = base / "server.log"
    with running_server(store, log, KIM_WRITE_TOKEN=SECRET, **READ_ENV) as url:
        yield url, log


@pytest.fixture(scope="session")
def api_server(built_store_path, tmp_path_factory) -> Iterator[str]:
    """A read-only server over a copy of the built store: collections, search and named queries."""
    base = tmp_path_factory.mktemp("api")
    store = copy_store(built_store_path, base / "store")
    with running_server(store, base / "server.log", **READ_ENV) as url:
        yield url


@pytest.fixture(scope="session")
def pages_server(built_store_path, tmp_path_factory) -> Iterator[str]:
    """A read-only server over the built store itself, without query workers (``PAGES_ENV``): the HTML
    pages, validation, coverage and publishing."""
    log = tmp_path_factory.mktemp("pages") / "server.log"
    with running_server(built_store_path, log, **PAGES_ENV) as url:
        yield url


@pytest.fixture(scope="session")
def resources_server(resources_store, tmp_path_factory) -> Iterator[str]:
    """A writable server over ``resources_store`` without query workers: linked data and caching."""
    log = tmp_path_factory.getbasetemp() / "resources-server.log"
    with running_server(resources_store, log, KIM_WORKERS="0", KIM_WRITE_TOKEN=TOKEN) as url:
        yield url
