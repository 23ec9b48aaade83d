"""Faults: kill -9 of a build and of the server in the middle of a write, and stores unusable at start-up.

Every process here is real: ``kimgraph build`` and ``kimgraph serve`` subprocesses killed with SIGKILL,
restarted on the same store, and a second process holding a store open for writing (RocksDB's LOCK).
"""

from __future__ import annotations

import io
import os
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stdout
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
from rdflib import URIRef

from kimdata.namespaces import DEFAULT_BASE
from kimgraph.cli import main as kimgraph_main
from store.connect import open_for_service
from store.embedded import Store
from store.errors import StoreLocked
from store.versions import VersionHold, build_atomically
from tests.helpers import ROOT
from tests.server import AUTH, SERVER_PIDS, TOKEN, copy_store, running_server

KIMGRAPH = [sys.executable, "-m", "kimgraph.cli"]
CORPUS = [sys.executable, str(ROOT / "bench" / "corpus.py")]
BIG = "urn:test:faults:big"
OLD, NEW = "urn:test:faults:old", "urn:test:faults:new"
OLD_TRIPLES, NEW_TRIPLES = 60_000, 50_000
# Server CPU time spent on a request before the kill: past parsing, inside the one Oxigraph transaction,
# which takes a few seconds of CPU for these sizes (the test fails if the answer comes first).
CPU_BEFORE_KILL = 0.5
# Queries run in the server process: no worker processes, which cost seconds of start-up each.
WRITE_ENV = {"KIM_WRITE_TOKEN": TOKEN, "KIM_WORKERS": "0", "KIM_QUERY_TIMEOUT": "30", "KIM_UPDATE_TIMEOUT": "300",
             "KIM_MAX_BODY_BYTES": str(20_000_000)}
HOLDER = """
import sys
import pyoxigraph
store = pyoxigraph.Store(sys.argv[1])
print("ready", flush=True)
sys.stdin.read()
"""


def clean_env(**env: str) -> dict[str, str]:
    """This process's environment without KIM_* settings, plus ``env``."""
    return {**{k: v for k, v in os.environ.items() if not k.startswith("KIM_")}, **env}


def kimgraph(*args: str, timeout: float = 120, **env: str) -> subprocess.CompletedProcess:
    """``kimgraph ARGS`` in a subprocess with the KIM_* settings ``env``; its output captured."""
    return subprocess.run([*KIMGRAPH, *args], cwd=ROOT, env=clean_env(**env), capture_output=True, text=True,
                          timeout=timeout)


def linked_store(built: Path, base: Path) -> Path:
    """A copy of a built store laid out as ``kimgraph build`` makes it: a link into ``store.versions``."""
    version = copy_store(built, base / "store.versions" / "20000101T000000-00000000")
    link = base / "store"
    link.symlink_to(os.path.relpath(version, base))
    return link


def quads(path: Path) -> set:
    """Every quad of the store at ``path``."""
    store = Store.open(path, read_only=True)
    return set(ox.parse(store.dump("nquads"), ox.RdfFormat.N_QUADS))


def validation(path: Path) -> tuple[int, str]:
    """``kimgraph validate``, run in this process: its exit status and report."""
    report = io.StringIO()
    with redirect_stdout(report):
        status = kimgraph_main(["validate", "--store", str(path)])
    return status, report.getvalue()


@pytest.fixture(scope="module")
def baseline(built_store_path) -> tuple[set, tuple[int, str]]:
    """The built store's quads and its validation (exit status 1: the captured standard breaks rules)."""
    report = validation(built_store_path)
    assert report[0] == 1 and "R06" in report[1]
    return quads(built_store_path), report


@contextmanager
def held_open(path: Path) -> Iterator[subprocess.Popen]:
    """Another process holding the store at ``path`` open for writing until the block ends."""
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(path)], cwd=ROOT, env=clean_env(),
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        yield holder
    finally:
        holder.stdin.close()
        try:
            holder.wait(15)
        except subprocess.TimeoutExpired:
            holder.kill()
            holder.wait()


# ------------------------------------------------------------------ kill -9 of a build


@pytest.fixture(scope="module")
def killed_build(built_store_path, tmp_path_factory) -> tuple[Path, list[str]]:
    """A store (a copy of the built one) whose next build, of a 20-standard feed, was killed half-way;
    the base directory and the names of the versions the killed build left."""
    base = tmp_path_factory.mktemp("killed-build")
    store = linked_store(built_store_path, base / "store-dir")
    feed = base / "feed.json"
    subprocess.run([*CORPUS, "--standards", "20", "--out", str(feed)], check=True, capture_output=True)
    versions = base / "store-dir" / "store.versions"
    before = {p.name for p in versions.iterdir()}
    build = subprocess.Popen([*KIMGRAPH, "build", "--store", str(store), str(feed), "--quiet"], cwd=ROOT,
                             env=clean_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not ({p.name for p in versions.iterdir()} - before) and time.monotonic() < deadline:
            assert build.poll() is None, "the build ended before writing a version"
            time.sleep(0.02)
        time.sleep(1.0)  # into the bulk loads of the feed
        assert build.poll() is None, "the build finished before it could be killed; use a larger feed"
        os.kill(build.pid, signal.SIGKILL)
    finally:
        build.kill()
        build.wait()
    assert build.returncode == -signal.SIGKILL
    return base / "store-dir", sorted({p.name for p in versions.iterdir()} - before)


@pytest.fixture
def after_killed_build(killed_build, tmp_path) -> tuple[Path, list[str]]:
    """A private copy of the killed build's store directory (link, versions and leftovers)."""
    base, leftovers = killed_build
    shutil.copytree(base, tmp_path / "copy", symlinks=True)
    return tmp_path / "copy" / "store", leftovers


@pytest.mark.slow
def test_killed_build_leaves_the_previous_store_whole(after_killed_build, baseline):
    store, leftovers = after_killed_build
    assert leftovers, "the killed build left no partial version: it was not killed half-way"
    assert store.resolve().name == "20000101T000000-00000000"
    expected_quads, expected_report = baseline
    assert quads(store) == expected_quads
    assert validation(store) == expected_report


@pytest.mark.slow
def test_build_after_a_killed_build_removes_its_leftovers(after_killed_build, tmp_path):
    store, leftovers = after_killed_build
    feed = tmp_path / "small.json"
    subprocess.run([*CORPUS, "--standards", "1", "--out", str(feed)], check=True, capture_output=True)
    assert kimgraph_main(["build", "--store", str(store), str(feed), "--quiet", "--no-validate"]) == 0
    versions = {p.name for p in store.with_name("store.versions").iterdir()}
    assert not versions & set(leftovers)
    assert versions == {"20000101T000000-00000000", store.resolve().name}  # the new one and the previous
    assert len(Store.open(store, read_only=True)) > 0


def test_build_keeps_a_version_another_process_is_writing(built_store_path, tmp_path):
    store = linked_store(built_store_path, tmp_path)
    other = copy_store(built_store_path, tmp_path / "store.versions" / "20000101T000001-11111111")
    feed = tmp_path / "small.json"
    subprocess.run([*CORPUS, "--standards", "1", "--out", str(feed)], check=True, capture_output=True)
    with held_open(other):
        assert kimgraph_main(["build", "--store", str(store), str(feed), "--quiet", "--no-validate"]) == 0
        assert other.is_dir() and (other / "CURRENT").exists()
    assert (tmp_path / "store.versions" / "20000101T000000-00000000").is_dir()  # the previous version


def test_build_keeps_a_version_a_server_still_reads(tmp_path):
    link = tmp_path / "store"
    first = build_atomically(link, lambda store: None)
    hold = VersionHold(first)  # what a server keeps on the build it has open
    try:
        build_atomically(link, lambda store: None)
        build_atomically(link, lambda store: None)  # the first is neither current nor previous any more
        assert first.is_dir() and (first / "CURRENT").exists()
    finally:
        hold.release()
    build_atomically(link, lambda store: None)
    assert not first.exists()


# ------------------------------------------------------------------ a rebuild while serving

def _hammer(url: str, stop: threading.Event, outcomes: list) -> None:
    """Requests of several kinds in a loop until ``stop``: each outcome (status, or the transport error)."""
    requests = [
        ("/sparql", {"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"}, "application/sparql-results+json"),
        ("/id/standard/ST1337", {}, "application/ld+json"),
        ("/search", {"q": "records"}, "application/json"),
        ("/standards/ST1337/duties", {}, "application/ld+json"),
        ("/health/ready", {}, "application/json"),
    ]
    with httpx.Client(base_url=url, timeout=30) as client:
        while not stop.is_set():
            for path, params, accept in requests:
                try:
                    outcomes.append((path, client.get(path, params=params, headers={"Accept": accept}).status_code))
                except httpx.TransportError as e:
                    outcomes.append((path, repr(e)))


@pytest.mark.slow
def test_a_rebuild_while_serving_is_taken_up_without_a_failed_request(built_store_path, tmp_path):
    link = linked_store(built_store_path, tmp_path)
    old = link.resolve()
    env = {"KIM_WORKERS": "2", "KIM_WRITE_TOKEN": TOKEN, "KIM_QUERY_TIMEOUT": "30"}
    with running_server(link, tmp_path / "server.log", **env) as url:
        assert httpx.get(url + "/health/ready").json()["build"] == old.name
        stop, outcomes = threading.Event(), []
        clients = [threading.Thread(target=_hammer, args=(url, stop, outcomes)) for _ in range(3)]
        for client in clients:
            client.start()
        try:
            built = kimgraph("build", "--store", str(link), "--quiet")
            assert built.returncode == 0, built.stderr
            new = link.resolve()
            assert new != old
            deadline = time.monotonic() + 30
            while httpx.get(url + "/health/ready").json()["build"] != new.name:
                assert time.monotonic() < deadline, "the new build was not served within 30 s"
                time.sleep(0.2)
            time.sleep(1)  # requests keep flowing on the new build
        finally:
            stop.set()
            for client in clients:
                client.join(60)
        failures = [outcome for outcome in outcomes if outcome[1] != 200]
        assert not failures, failures[:10]
        assert len(outcomes) > 50
        ready = httpx.get(url + "/health/ready").json()
        assert ready["build"] == new.name and ready["read_only"] is False  # the new build is written to
        assert ready["workers"]["alive"] == 2
        graph = DEFAULT_BASE + "graph/after-rebuild"
        put = httpx.put(url + "/store", params={"graph": graph}, headers={**AUTH, "Content-Type": "text/turtle"},
                        content=b"<urn:x:a> <urn:x:b> <urn:x:c> .")
        assert put.status_code in (201, 204)
        asked = httpx.get(url + "/sparql", params={"query": f"ASK {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"},
                          headers={"Accept": "application/sparql-results+json"})
        assert asked.json()["boolean"] is True
    assert old.is_dir()  # kept: the previous version


MARKER_GRAPH = "urn:test:rebuild:marker"
# Ten to twenty seconds of work (a cross product of the KSB statements and every rdf:type statement, about
# 8 million rows), then whether the build it ran on has the marker graph.
IN_FLIGHT = f"""SELECT ?n ?marked WHERE {{
  {{ SELECT (COUNT(*) AS ?n) WHERE {{ VALUES ?class {{ <https://w3id.org/uk-kim/def#Knowledge>
                                                     <https://w3id.org/uk-kim/def#Skill> }}
                                      ?a a ?class . ?a ?b ?c . ?d a ?f . FILTER(?c != ?f) }} }}
  OPTIONAL {{ GRAPH <{MARKER_GRAPH}> {{ ?marked ?p ?o }} }}
}}"""


def copy_with_marker(source: Path):
    """A build's fill: every named graph of the store at ``source``, and one graph more (MARKER_GRAPH)."""
    def fill(store: Store) -> None:
        old = Store.open(source, read_only=True)
        for graph in old.named_graphs():
            store.load(old.dump("ntriples", graph), "ntriples", graph)
        store.load(b"<urn:test:rebuild:s> <urn:test:rebuild:p> <urn:test:rebuild:o> .\n", "ntriples", MARKER_GRAPH)
    return fill


@pytest.mark.slow
def test_a_request_in_flight_during_a_rebuild_finishes_on_the_old_build(built_store_path, tmp_path):
    link = linked_store(built_store_path, tmp_path)
    old = link.resolve()
    env = {"KIM_WORKERS": "2", "KIM_QUERY_TIMEOUT": "120"}
    with running_server(link, tmp_path / "server.log", **env) as url:
        answer: dict = {}

        def in_flight() -> None:
            response = httpx.get(url + "/sparql", params={"query": IN_FLIGHT}, timeout=150,
                                 headers={"Accept": "application/sparql-results+json"})
            answer.update(status=response.status_code, body=response.json(), ended=time.monotonic())

        query = threading.Thread(target=in_flight)
        query.start()
        time.sleep(0.5)  # the query is running on the old build
        new = build_atomically(link, copy_with_marker(old))
        deadline = time.monotonic() + 30
        while httpx.get(url + "/health/ready").json()["build"] != new.name:
            assert time.monotonic() < deadline, "the new build was not served within 30 s"
            time.sleep(0.1)
        swapped = time.monotonic()
        marked = httpx.get(url + "/sparql", params={"query": f"ASK {{ GRAPH <{MARKER_GRAPH}> {{ ?s ?p ?o }} }}"},
                           headers={"Accept": "application/sparql-results+json"})
        assert marked.json()["boolean"] is True  # new requests get the new build
        query.join(150)
        assert answer["status"] == 200
        assert answer["ended"] > swapped, "the query ended before the swap; it tests nothing"
        row = answer["body"]["results"]["bindings"][0]
        assert int(row["n"]["value"]) > 0 and "marked" not in row  # it finished on the old build
        assert old.is_dir()


# ------------------------------------------------------------------ kill -9 of the server mid-write


def ntriples(count: int, predicate: str) -> bytes:
    return "".join(f'<urn:test:faults:s{i}> <{predicate}> "value {i}" .\n' for i in range(count)).encode()


@pytest.fixture(scope="module")
def big_store_template(built_store_path, tmp_path_factory) -> Path:
    """A copy of the built store plus graph BIG holding OLD_TRIPLES triples with predicate OLD."""
    path = copy_store(built_store_path, tmp_path_factory.mktemp("big") / "store")
    store = Store.open(path)
    store.load(ntriples(OLD_TRIPLES, OLD), "ntriples", BIG)
    store.flush()
    del store  # releases the LOCK for the servers
    return path


@pytest.fixture
def big_store(big_store_template, tmp_path) -> Path:
    """A private copy of ``big_store_template``."""
    return copy_store(big_store_template, tmp_path / "store")


def cpu_seconds(pid: int) -> float:
    """User and system CPU time a process has used (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def kill_during(url: str, send: Callable[[], httpx.Response]) -> None:
    """Send a write on a thread and kill -9 the server once it has spent CPU_BEFORE_KILL seconds on it."""
    pid = SERVER_PIDS[url]
    outcome: dict[str, object] = {}

    def request() -> None:
        try:
            outcome["response"] = send()
        except httpx.TransportError as e:
            outcome["error"] = e

    start = cpu_seconds(pid)
    thread = threading.Thread(target=request)
    thread.start()
    deadline = time.monotonic() + 60
    while cpu_seconds(pid) - start < CPU_BEFORE_KILL and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(pid, signal.SIGKILL)
    thread.join(30)
    assert "error" in outcome, f"the write was answered before the kill: {outcome.get('response')}"


def counts(url: str) -> tuple[int, int]:
    """The number of OLD and of NEW triples in graph BIG, asked of a running server."""
    query = (f"SELECT (SUM(IF(?p = <{OLD}>, 1, 0)) AS ?old) (SUM(IF(?p = <{NEW}>, 1, 0)) AS ?new) "
             f"WHERE {{ GRAPH <{BIG}> {{ ?s ?p ?o }} }}")
    response = httpx.get(url + "/sparql", params={"query": query},
                         headers={"Accept": "application/sparql-results+json"}, timeout=60)
    assert response.status_code == 200, response.text
    row = response.json()["results"]["bindings"][0]
    return int(row.get("old", {"value": 0})["value"]), int(row.get("new", {"value": 0})["value"])


@pytest.mark.slow
def test_server_killed_during_an_update_keeps_the_old_or_the_new_graph(big_store, tmp_path, baseline):
    update = (f"DELETE {{ GRAPH <{BIG}> {{ ?s <{OLD}> ?o }} }} INSERT {{ GRAPH <{BIG}> {{ ?s <{NEW}> ?o }} }} "
              f"WHERE {{ GRAPH <{BIG}> {{ ?s <{OLD}> ?o }} }}")
    with running_server(big_store, tmp_path / "killed.log", **WRITE_ENV) as url:
        kill_during(url, lambda: httpx.post(url + "/sparql", content=update, timeout=120,
                                            headers={**AUTH, "Content-Type": "application/sparql-update"}))
    with running_server(big_store, tmp_path / "restarted.log", **WRITE_ENV) as url:
        assert counts(url) in {(OLD_TRIPLES, 0), (0, OLD_TRIPLES)}
    assert validation(big_store) == baseline[1]


@pytest.mark.slow
def test_server_killed_during_a_graph_put_keeps_the_old_or_the_new_graph(big_store, tmp_path, baseline):
    body = ntriples(NEW_TRIPLES, NEW)
    with running_server(big_store, tmp_path / "killed.log", **WRITE_ENV) as url:
        kill_during(url, lambda: httpx.put(url + "/store", params={"graph": BIG}, content=body, timeout=120,
                                           headers={**AUTH, "Content-Type": "application/n-triples"}))
    with running_server(big_store, tmp_path / "restarted.log", **WRITE_ENV) as url:
        assert counts(url) in {(OLD_TRIPLES, 0), (0, NEW_TRIPLES)}
    assert validation(big_store) == baseline[1]


def test_an_update_of_several_operations_is_one_transaction(tmp_path):
    """A graph PUT is DROP, CREATE and INSERT DATA in one update: when a later operation fails, the
    earlier ones are undone too."""
    store = Store(ox.Store(str(tmp_path / "store")), tmp_path / "store")
    store.load(ntriples(3, OLD), "ntriples", BIG)
    with pytest.raises(RuntimeError):
        store.update(f"DROP SILENT GRAPH <{BIG}> ; CREATE SILENT GRAPH <{BIG}> ; "
                     f"INSERT DATA {{ GRAPH <{BIG}> {{ {ntriples(2, NEW).decode()} }} }} ; DROP GRAPH <urn:missing>")
    assert set(store.graph(BIG).predicates()) == {URIRef(OLD)} and len(store.graph(BIG)) == 3


# ------------------------------------------------------------------ stores unusable at start-up


def assert_one_clear_line(result: subprocess.CompletedProcess, command: str, *words: str) -> None:
    """Exit status 2, no traceback, and one line on standard error naming what is wrong and where."""
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"kimgraph {command}: error: "), result.stderr
    for word in words:
        assert word in lines[0]


@pytest.mark.parametrize("command", ["serve", "build"])
def test_a_store_that_cannot_be_created_fails_clearly(tmp_path, command):
    (tmp_path / "a-file").write_text("not a directory\n")
    store = tmp_path / "a-file" / "store"
    result = kimgraph(command, "--store", str(store), "--port", "9", timeout=60) if command == "serve" \
        else kimgraph(command, "--store", str(store), timeout=60)
    assert_one_clear_line(result, command, f"cannot create the store at {store}", "Not a directory",
                          "choose a --store")
    assert not (tmp_path / "a-file").is_dir()


@pytest.mark.slow
def test_serve_a_directory_that_is_no_store_fails_clearly(tmp_path):
    (tmp_path / "empty").mkdir()
    result = kimgraph("serve", "--store", str(tmp_path / "empty"), "--port", "9", timeout=60)
    assert_one_clear_line(result, "serve", f"{tmp_path / 'empty'} is not an Oxigraph store", "kimgraph build")


@pytest.mark.slow
def test_serve_a_locked_store_requiring_writes_fails_clearly(built_store_path, tmp_path):
    store = copy_store(built_store_path, tmp_path / "store")
    with held_open(store):
        result = kimgraph("serve", "--store", str(store), "--port", "9", "--require-writable", timeout=60,
                          KIM_WRITE_TOKEN=TOKEN)
    assert_one_clear_line(result, "serve", f"the store at {store} is locked by another process",
                          "stop that process")


@pytest.mark.slow
def test_locked_store_is_served_read_only_and_refuses_writes(built_store_path, tmp_path):
    store = copy_store(built_store_path, tmp_path / "store")
    log = tmp_path / "server.log"
    with held_open(store), running_server(store, log, **WRITE_ENV) as url:
        health = httpx.get(url + "/health").json()
        assert health["read_only"] is True and "locked by another process" in health["read_only_reason"]
        assert httpx.get(url + "/health/live").json()["read_only"] is True
        put = httpx.put(url + "/store", params={"graph": "urn:test:faults:g"}, content=b"<urn:a> <urn:b> <urn:c> .",
                        headers={**AUTH, "Content-Type": "application/n-triples"})
        update = httpx.post(url + "/sparql", content="INSERT DATA { <urn:a> <urn:b> <urn:c> }",
                            headers={**AUTH, "Content-Type": "application/sparql-update"})
        for response in (put, update):
            assert response.status_code == 503
            assert response.headers["content-type"] == "application/problem+json"
            problem = response.json()
            assert problem["title"] == "Store read-only" and "locked by another process" in problem["detail"]
        assert httpx.post(url + "/sparql", content="INSERT DATA { <urn:a> <urn:b> <urn:c> }",
                          headers={"Content-Type": "application/sparql-update"}).status_code == 401
        ask = httpx.get(url + "/sparql", params={"query": "ASK { ?s ?p ?o }"},
                        headers={"Accept": "application/sparql-results+json"})
        assert ask.status_code == 200 and ask.json()["boolean"] is True
    assert "warning: the store at" in log.read_text() and "serving it read-only" in log.read_text()


def test_open_for_service_reports_a_lock_held_by_another_process(built_store_path, tmp_path):
    store = copy_store(built_store_path, tmp_path / "store")
    with held_open(store):
        with pytest.raises(StoreLocked):
            open_for_service(store, writable=True, require_writable=True)
        opened = open_for_service(store, writable=True)
        assert opened.read_only and "locked" in opened.read_only_reason and len(opened) > 0
    assert open_for_service(store, writable=True).read_only_reason is None


@pytest.mark.skipif(os.geteuid() == 0, reason="running as root: chmod does not stop root from writing, so a "
                                              "chmod-ed store is still writable (the locked-store tests cover "
                                              "the read-only start)")
def test_read_only_directory_is_served_read_only_or_refused(built_store_path, tmp_path):
    store = copy_store(built_store_path, tmp_path / "store")
    for path in [store, *store.rglob("*")]:
        path.chmod(path.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    try:
        result = kimgraph("serve", "--store", str(store), "--port", "9", "--require-writable", timeout=60,
                          KIM_WRITE_TOKEN=TOKEN)
        assert_one_clear_line(result, "serve", f"the store at {store}", "not writable")
        with running_server(store, tmp_path / "server.log", **WRITE_ENV) as url:
            health = httpx.get(url + "/health").json()
            assert health["read_only"] is True and "not writable" in health["read_only_reason"]
    finally:
        for path in [store, *store.rglob("*")]:
            path.chmod(path.stat().st_mode | stat.S_IWUSR)
