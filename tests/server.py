"""Real servers for HTTP-level tests: ``kimgraph serve`` in a subprocess on 127.0.0.1 and a free port.

Import the fixtures you need by name in each test module (``from tests.server import read_server``).
The store comes from conftest's ``built_store_path`` (one ``kimgraph build`` per session) and is
copied for each server, so no test writes to another's data.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

import httpx
import pytest
from rdflib import Graph
from rdflib.compare import isomorphic

from store.embedded import Store

ROOT = Path(__file__).resolve().parent.parent
# The W3C SPARQL 1.1 protocol suites (protocol/, graph-store-protocol/, ...): a copy in the repository
# if there is one, else the shared checkout; the manifest-driven tests have no cases without either.
PROTOCOL_DATA = ROOT / "tests" / "data" / "w3c"
KASEI = "http://kasei.us/2009/09/sparql/data/"
TOKEN = "test-token-5e1f"
AUTH = {"Authorization": f"Bearer {TOKEN}"}

# Tight limits so the guards can be tested with small requests; ordinary tests stay well inside them.
READ_ENV = {
    "KIM_QUERY_TIMEOUT": "1",
    "KIM_WORKERS": "2",
    "KIM_MAX_RESULT_ROWS": "10000",
    "KIM_MAX_QUERY_LENGTH": "5000",
    "KIM_MAX_BODY_BYTES": "200000",
}


SERVER_PIDS: dict[str, int] = {}  # base URL -> server process id, to look at its query workers


def worker_pids(url: str) -> set[int]:
    """The query worker processes of a running server (Linux /proc): spawned by the server itself, or
    forked by its forkserver."""
    parent = SERVER_PIDS[url]
    processes = {}  # pid -> (parent pid, command line)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            processes[int(stat.parent.name)] = (int(fields[1]), (stat.parent / "cmdline").read_bytes())
        except (OSError, IndexError, ValueError):
            continue
    forkservers = {pid for pid, (ppid, cmdline) in processes.items()
                   if ppid == parent and b"multiprocessing.forkserver" in cmdline}
    return {pid for pid, (ppid, cmdline) in processes.items()
            if ppid in forkservers or (ppid == parent and b"spawn_main" in cmdline)}


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
    environment = {k: v for k, v in os.environ.items() if not k.startswith("KIM_")}
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
            if httpx.get(url + "/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"the server did not answer /health within {limit} s:\n{log.read_text()}")


# Fixtures imported into several modules are separate fixtures to pytest (one per module), so the
# servers are kept here and shared across modules; the session's cleanup stops them.
_SHARED: dict[str, object] = {}


def _shared(request, key: str, start):
    """The value of ``start()`` (a context manager) for this whole session, created on first use."""
    if key not in _SHARED:
        stack = ExitStack()
        _SHARED[key] = stack.enter_context(start())

        def stop() -> None:
            _SHARED.pop(key, None)
            stack.close()

        request.config.add_cleanup(stop)
    return _SHARED[key]


@pytest.fixture(scope="session")
def protocol_store(request, built_store_path, tmp_path_factory) -> Path:
    """A copy of the built store plus the W3C protocol tests' graphs data1.rdf, data2.rdf, data3.rdf."""

    @contextmanager
    def prepare() -> Iterator[Path]:
        path = copy_store(built_store_path, tmp_path_factory.mktemp("protocol") / "store")
        store = Store.open(path)
        for n in (1, 2, 3):  # the content of the suite's data1.nt .. data3.nt
            triple = (f"<{KASEI}data{n}.rdf> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> "
                      "<http://xmlns.com/foaf/0.1/Document> .\n")
            store.load(triple.encode(), "ntriples", f"{KASEI}data{n}.rdf")
        store.flush()
        del store  # releases the store's lock for the server
        yield path

    return _shared(request, "protocol_store", prepare)


@pytest.fixture(scope="session")
def read_server(request, protocol_store, tmp_path_factory) -> str:
    """A read-only server (no write token) with a 1 s query limit and small request limits."""
    log = tmp_path_factory.getbasetemp() / "read-server.log"
    return _shared(request, "read_server", lambda: running_server(protocol_store, log, **READ_ENV))


@pytest.fixture(scope="session")
def write_server(request, built_store_path, tmp_path_factory) -> str:
    """A server over a private copy of the built store that accepts writes with ``AUTH``.

    Shared by the modules that write: each test writes graphs of its own (urn:test:..., example.org/...).
    """

    @contextmanager
    def start() -> Iterator[str]:
        base = tmp_path_factory.mktemp("writable")
        store = copy_store(built_store_path, base / "store")
        with running_server(store, base / "server.log", KIM_WRITE_TOKEN=TOKEN, **READ_ENV) as url:
            yield url

    return _shared(request, "write_server", start)


@pytest.fixture(scope="session")
def empty_write_server(request, tmp_path_factory) -> str:
    """A writable server over an empty store, for suites that DROP ALL."""
    from store.versions import build_atomically

    @contextmanager
    def start() -> Iterator[str]:
        base = tmp_path_factory.mktemp("empty")
        build_atomically(base / "store", lambda store: None)
        with running_server(base / "store", base / "server.log", KIM_WRITE_TOKEN=TOKEN, **READ_ENV) as url:
            yield url

    return _shared(request, "empty_write_server", start)


# ------------------------------------------------------------------ W3C protocol manifests
# The suites describe each test as HTTP requests (ht: vocabulary) with the expected responses.

HT = "http://www.w3.org/2011/http#"
MF = "http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#"
CNT = "http://www.w3.org/2011/content#"


@dataclass
class ProtocolRequest:
    """One request of a protocol test and what its response must be."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes | None
    statuses: list[str]
    boolean: bool | None = None
    result_format: str | None = None
    response_type: str | None = None
    response_body: str | None = None
    location_variable: str | None = None


@dataclass
class ProtocolCase:
    name: str
    label: str
    requests: list[ProtocolRequest] = field(default_factory=list)


def load_manifest_cases(manifest: Path) -> list[ProtocolCase]:
    """The test cases of one W3C protocol manifest, in manifest order."""
    from rdflib import Namespace, URIRef
    from rdflib.collection import Collection

    ht, mf, cnt = Namespace(HT), Namespace(MF), Namespace(CNT)
    graph = Graph().parse(manifest, format="turtle")
    cases = []
    for entries in graph.objects(None, mf.entries):
        for entry in Collection(graph, entries):
            case = ProtocolCase(str(entry).rsplit("#", 1)[-1], str(graph.value(entry, mf.name)))
            action = graph.value(entry, mf.action)
            for request in Collection(graph, graph.value(action, ht.requests)):
                headers = {}
                for header in Collection(graph, graph.value(request, ht.headers) or URIRef(RDF_NIL)):
                    headers[str(graph.value(header, ht.fieldName))] = str(graph.value(header, ht.fieldValue))
                body_node = graph.value(request, ht.body)
                body = None
                if body_node is not None:
                    encoding = str(graph.value(body_node, cnt.characterEncoding) or "UTF-8")
                    body = str(graph.value(body_node, cnt.chars)).encode(encoding)
                response = graph.value(request, ht.resp)
                expected = ProtocolRequest(
                    method=str(graph.value(request, ht.methodName)),
                    path=str(graph.value(request, ht.absolutePath)),
                    headers=headers,
                    body=body,
                    statuses=[str(s).rsplit("#", 1)[-1] for s in graph.objects(response, mf.expectedStatus)],
                )
                boolean = graph.value(response, mf.expectedBoolean)
                expected.boolean = None if boolean is None else boolean.toPython()
                result_format = graph.value(response, mf.expectedFormat)
                expected.result_format = None if result_format is None else str(result_format)
                location = graph.value(response, mf.expectedLocation)
                expected.location_variable = None if location is None else str(location)
                for header in Collection(graph, graph.value(response, ht.headers) or URIRef(RDF_NIL)):
                    if str(graph.value(header, ht.fieldName)).lower() == "content-type":
                        expected.response_type = str(graph.value(header, ht.fieldValue))
                response_body = graph.value(response, ht.body)
                if response_body is not None:
                    expected.response_body = str(graph.value(response_body, cnt.chars))
                case.requests.append(expected)
            cases.append(case)
    return cases


RDF_NIL = "http://www.w3.org/1999/02/22-rdf-syntax-ns#nil"
NAMED_STATUSES = {"OK": 200, "Created": 201, "NoContent": 204, "NotFound": 404}


def status_matches(status: int, expected: list[str]) -> bool:
    """Whether a status is one the manifest allows (hts:StatusCode4xx, hts:Created, ...)."""
    for name in expected:
        if name.startswith("StatusCode") and name.endswith("xx"):
            if status // 100 == int(name[len("StatusCode")]):
                return True
        elif status == NAMED_STATUSES[name]:
            return True
    return False


def rdf_format_of(content_type: str) -> str:
    """The rdflib parser name for a response's media type."""
    media = content_type.split(";")[0].strip()
    return {"text/turtle": "turtle", "application/n-triples": "nt", "application/rdf+xml": "xml",
            "application/ld+json": "json-ld", "application/trig": "trig", "application/n-quads": "nquads",
            "application/xml": "xml", "application/json": "json-ld"}[media]


def parse_boolean(response: httpx.Response) -> bool:
    """The boolean of an ASK result in SPARQL JSON or XML."""
    media = response.headers["content-type"].split(";")[0]
    if "json" in media:
        return response.json()["boolean"]
    root = ElementTree.fromstring(response.content)
    return root.find("{http://www.w3.org/2005/sparql-results#}boolean").text == "true"


def run_protocol_case(client: httpx.Client, case: ProtocolCase, rewrite, headers: dict[str, str]) -> None:
    """Send a case's requests in order and check each response as the manifest says."""
    variables: dict[str, str] = {}
    for step, request in enumerate(case.requests, 1):
        path, body = request.path, request.body
        for name, value in variables.items():
            path = path.replace(name, value)
            body = body.replace(name.encode(), value.encode()) if body else body
        path = rewrite(path)
        response = client.request(request.method, path, headers={**request.headers, **headers}, content=body)
        where = f"{case.name}, request {step} ({request.method} {path})"
        assert status_matches(response.status_code, request.statuses), \
            f"{where}: {response.status_code} {response.text[:400]}"
        if request.location_variable:
            variables[request.location_variable] = response.headers["location"]
        media = response.headers.get("content-type", "").split(";")[0]
        if request.boolean is not None:
            assert parse_boolean(response) is request.boolean, where
        if request.result_format == "boolean":
            parse_boolean(response)
        elif request.result_format == "tabular":
            assert media in ("application/sparql-results+json", "application/sparql-results+xml",
                             "text/csv", "text/tab-separated-values"), where
        elif request.result_format == "RDF":
            Graph().parse(data=response.content, format=rdf_format_of(media))
        if request.response_type:
            assert media == request.response_type.split(";")[0].strip(), where
        if request.response_body is not None and request.method != "HEAD":
            expected = Graph().parse(data=request.response_body, format="turtle")
            got = Graph().parse(data=response.content, format=rdf_format_of(media))
            assert isomorphic(expected, got), f"{where}: got\n{response.text}"
