"""Hostile input against real servers (issue #6): each is refused with a 4xx problem, stores nothing, reaches
no address the caller chose, and leaves the service healthy with its query workers alive.

One table of hostile requests: every RDF payload goes to every endpoint that parses a body (graph store
PUT, POST and multipart POST, /validate); SPARQL queries and updates; named-query parameters; Accept
headers and paths sent as raw bytes; a 100 MB body. tests/test_guards.py covers the time limit, the basic
SERVICE/LOAD refusals and the size limits; this module does not repeat them.
"""

from __future__ import annotations

import json
import select
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit

import httpx
import pytest

from tests.server import AUTH, READ_ENV, TOKEN, copy_store, running_server, worker_pids

GRAPH = "urn:test:hostile"
SEED = (b'<urn:test:hostile:s> <urn:test:hostile:p> "seed" .\n'
        b"<urn:test:hostile:s> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <urn:test:hostile:T> .\n")
STORE_PATH = "/store?graph=" + quote(GRAPH, safe="")
PROBLEM_FIELDS = {"type", "title", "status", "detail"}
FILE_MARKERS = ("root:x:0:0", "/bin/bash", "class Settings", "BaseSettings")
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"


# ------------------------------------------------------------------ fixtures and helpers

@pytest.fixture()
def listener() -> Iterator[socket.socket]:
    """A real socket on 127.0.0.1: the test checks afterwards that the server never connected to it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock


@pytest.fixture()
def listener6() -> Iterator[socket.socket | None]:
    """The same on [::1], or None where the machine has no IPv6 loopback."""
    try:
        sock = socket.socket(socket.AF_INET6)
        sock.bind(("::1", 0))
    except OSError:
        yield None
        return
    with sock:
        sock.listen()
        yield sock


def assert_no_connection(*socks: socket.socket | None) -> None:
    """No connection reached the listeners (the request has been answered, so one would be queued by now)."""
    listening = [sock for sock in socks if sock is not None]
    assert select.select(listening, [], [], 0.1)[0] == []


def fill(text: str, port: int, port6: int) -> str:
    """``text`` with the listeners' ports in place of ``{port}`` and ``{port6}`` (percent-encoded or not)."""
    for name, value in (("port", port), ("port6", port6)):
        text = text.replace("{%s}" % name, str(value)).replace("%%7B%s%%7D" % name, str(value))
    return text


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    """One client for the module (a client per request would cost more than most requests)."""
    with httpx.Client(timeout=30) as client:
        yield client


@pytest.fixture(scope="module")
def seeded(write_server) -> str:
    """The write server with a small graph of our own, which no hostile request may change."""
    response = httpx.put(write_server + STORE_PATH, content=SEED,
                         headers={"Content-Type": "application/n-triples", **AUTH})
    assert response.status_code in (201, 204), response.text
    return write_server


@pytest.fixture(scope="module")
def default_limits_server(built_store_path, tmp_path_factory) -> Iterator[str]:
    """A writable server with the default query length limit (100,000 characters): room for deep nesting."""
    base = tmp_path_factory.mktemp("hostile")
    store = copy_store(built_store_path, base / "store")
    env = {**READ_ENV, "KIM_MAX_QUERY_LENGTH": "100000", "KIM_WRITE_TOKEN": TOKEN}
    with running_server(store, base / "server.log", **env) as url:
        response = httpx.put(url + STORE_PATH, content=SEED, headers={"Content-Type": "application/n-triples", **AUTH})
        assert response.status_code in (201, 204)
        yield url


def snapshot(http: httpx.Client, url: str) -> tuple[int, list[str]]:
    """The store's triple count and our graph's triples, to compare before and after a request."""
    health = http.get(url + "/health")
    assert health.status_code == 200
    graph = http.get(url + STORE_PATH, headers={"Accept": "application/n-triples"})
    lines = sorted(graph.text.splitlines()) if graph.status_code == 200 else [f"status {graph.status_code}"]
    return health.json()["triples"], lines


def settled_workers(url: str) -> set[int]:
    """The server's query worker processes once there are two of them (one may be restarting)."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        found = worker_pids(url)
        if len(found) == 2:
            return found
        time.sleep(0.1)
    return worker_pids(url)


def assert_problem(response: httpx.Response, expected: set[int]) -> dict:
    """A problem+json response with one of the expected statuses and the RFC 9457 members."""
    assert response.status_code in expected, f"{response.status_code}: {response.text[:500]}"
    assert response.headers["content-type"].split(";")[0] == "application/problem+json", response.headers
    problem = response.json()
    assert PROBLEM_FIELDS <= problem.keys(), problem
    assert problem["status"] == response.status_code
    assert not any(marker in response.text for marker in FILE_MARKERS)
    assert "Traceback" not in response.text
    return problem


# ------------------------------------------------------------------ RDF payloads x every endpoint that parses RDF

@dataclass(frozen=True)
class Payload:
    """A hostile request body, with the status each endpoint must answer (``{port}``: the listener's port)."""

    name: str
    content_type: str
    body: bytes
    store: int = 400  # graph store PUT and POST
    validate: int = 400  # POST /validate (it reads Turtle, JSON-LD, standard pages as text or HTML, and feed JSON)


def _nested_json(depth: int, opening: bytes, closing: bytes) -> bytes:
    return (b'{"@context": {"@vocab": "http://example.org/"}, "@id": "http://example.org/s", "p": '
            + opening * depth + b'"x"' + closing * depth + b"}")


def _billion_laughs() -> bytes:
    entities = ['<!ENTITY lol "lol">'] + [f'<!ENTITY lol{i} "{("&lol%s;" % ("" if i == 1 else i - 1)) * 10}">'
                                          for i in range(1, 10)]
    return _rdfxml("\n".join(entities), "&lol9;")


def _rdfxml(dtd: str, value: str, inside: bool = False) -> bytes:
    doctype = f"<!DOCTYPE rdf:RDF [\n{dtd}\n]>\n" if dtd else ""
    return (f'<?xml version="1.0"?>\n{"" if inside else doctype}'
            f'<rdf:RDF xmlns:rdf="{RDF}" xmlns:ex="http://example.org/">{doctype if inside else ""}'
            f'<rdf:Description rdf:about="http://example.org/s"><ex:p>{value}</ex:p></rdf:Description>'
            "</rdf:RDF>").encode()


XML, JSONLD, TTL = "application/rdf+xml", "application/ld+json", "text/turtle"
PAYLOADS = [
    Payload("turtle-malformed", TTL, b"<http://example.org/s> <http://example.org/p> ."),
    Payload("turtle-truncated", TTL, b'@prefix ex: <http://example.org/> .\nex:s ex:p "unfinished'),
    Payload("turtle-invalid-utf8", TTL, b'<http://example.org/s> <http://example.org/p> "caf\xc3\x28" .'),
    Payload("turtle-iri-injection", TTL,
            b'<http://example.org/s> <http://example.org/p> <http://x/> } ; DROP ALL ; #> .'),
    Payload("turtle-huge-literal", TTL, b'<http://example.org/s> <http://example.org/p> "' + b"a" * 250_000 + b'" .',
            store=413, validate=413),
    Payload("trig-other-graph", "application/trig", b"<urn:test:elsewhere> { <urn:s> <urn:p> <urn:o> }",
            validate=415),
    Payload("ntriples-invalid-utf8", "application/n-triples", b'<urn:s> <urn:p> "\xff\xfe" .', validate=415),
    Payload("rdfxml-xxe-file", XML, _rdfxml('<!ENTITY xxe SYSTEM "file:///etc/passwd">', "&xxe;"), validate=415),
    Payload("rdfxml-xxe-http", XML, _rdfxml('<!ENTITY xxe SYSTEM "http://127.0.0.1:{port}/x">', "&xxe;"),
            validate=415),
    Payload("rdfxml-xxe-parameter-entity", XML,
            _rdfxml('<!ENTITY % ext SYSTEM "http://127.0.0.1:{port}/x.dtd"> %ext;', "x"), validate=415),
    Payload("rdfxml-billion-laughs", XML, _billion_laughs(), validate=415),
    Payload("rdfxml-internal-entity", XML, _rdfxml('<!ENTITY a "hello">', "&a;"), validate=415),
    Payload("rdfxml-doctype-inside-root", XML, _rdfxml('<!ENTITY a "hello">', "&a;", inside=True), validate=415),
    Payload("rdfxml-lowercase-doctype", XML, _rdfxml('<!ENTITY a "hello">', "&a;").replace(b"DOCTYPE", b"doctype"),
            validate=415),
    Payload("rdfxml-invalid-utf8", XML, _rdfxml("", "café").replace("é".encode(), b"\xc3\x28"), validate=415),
    Payload("jsonld-remote-context", JSONLD, b'{"@context": "http://127.0.0.1:{port}/ctx", "@id": "http://example.org/s"}'),
    Payload("jsonld-remote-context-ipv6", JSONLD, b'{"@context": "http://[::1]:{port6}/ctx", "@id": "http://e.org/s"}'),
    Payload("jsonld-remote-import", JSONLD,
            b'{"@context": {"@import": "http://localhost:{port}/ctx"}, "@id": "http://example.org/s"}'),
    Payload("jsonld-nested-remote-context", JSONLD,
            b'{"@id": "http://example.org/s", "http://example.org/p": '
            b'{"@context": ["http://2130706433:{port}/ctx"], "@id": "http://example.org/o"}}'),
    Payload("jsonld-file-context", JSONLD, b'{"@context": "file:///etc/passwd", "@id": "http://example.org/s"}'),
    Payload("jsonld-deep-object", JSONLD, _nested_json(10_000, b'{"p": ', b"}")),
    Payload("jsonld-deep-array", JSONLD, _nested_json(10_000, b"[", b"]")),
    Payload("jsonld-invalid-utf8", JSONLD, b'{"@id": "http://example.org/s", "http://example.org/p": "\xff\xfe"}'),
    Payload("jsonld-truncated", JSONLD, b'{"@id": "http://example.org/s", "http://example.org/p": {"@va'),
    Payload("unknown-media-type", "application/x-evil", b"<urn:s> <urn:p> <urn:o> .", store=415, validate=415),
    Payload("html-media-type", "text/html", b"<script>alert(1)</script>", store=415, validate=422),
    Payload("page-invalid-utf8", "text/plain; charset=utf-8", b"Reference: ST0999\nLevel: 4\n\xff\xfe\n", store=415),
    Payload("form-invalid-utf8", "application/x-www-form-urlencoded", b"format=text%2Fturtle&data=%FF%FE%3C",
            store=415),
    Payload("charset-utf16", "text/turtle; charset=utf-16", "<urn:s> <urn:p> <urn:o> .".encode("utf-16"),
            validate=415),
]
ENDPOINTS = {  # name: (method, path, how the body is sent)
    "put-store": ("PUT", STORE_PATH, "direct"),
    "post-store": ("POST", STORE_PATH, "direct"),
    "post-store-multipart": ("POST", STORE_PATH, "multipart"),
    "validate": ("POST", "/validate", "direct"),
}


def _multipart(content_type: str, body: bytes) -> tuple[str, bytes]:
    boundary = "hostile-boundary-7d1f"
    part = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"data\"; filename=\"upload\"\r\n"
            f"Content-Type: {content_type}\r\n\r\n").encode() + body + f"\r\n--{boundary}--\r\n".encode()
    return f"multipart/form-data; boundary={boundary}", part


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
@pytest.mark.parametrize("payload", PAYLOADS, ids=[p.name for p in PAYLOADS])
def test_hostile_payload_is_refused_and_stores_nothing(http, seeded, listener, listener6, payload, endpoint):
    method, path, how = ENDPOINTS[endpoint]
    port6 = listener6.getsockname()[1] if listener6 else 9
    body = fill(payload.body.decode("latin-1"), listener.getsockname()[1], port6).encode("latin-1")
    content_type = payload.content_type
    if how == "multipart":
        content_type, body = _multipart(content_type, body)
    before = snapshot(http, seeded)
    response = http.request(method, seeded + path, content=body, headers={"Content-Type": content_type, **AUTH},
                            timeout=20)  # an entity bomb that expanded would run past this
    assert_problem(response, {payload.validate if endpoint == "validate" else payload.store})
    assert snapshot(http, seeded) == before
    assert_no_connection(listener, listener6)


# ------------------------------------------------------------------ SPARQL queries and updates

@dataclass(frozen=True)
class HostileRequest:
    """One hostile HTTP request and the statuses it may get (``{port}``: the listener's port)."""

    name: str
    method: str
    path: str
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    expected: frozenset[int] = frozenset({400})
    write: bool = False  # sent to the write server with the token, and the store compared


def query_get(name: str, query: str, **kw) -> HostileRequest:
    return HostileRequest(name + "-get", "GET", "/sparql?query=" + quote(query, safe=""), **kw)


def query_post(name: str, query: str, **kw) -> HostileRequest:
    return HostileRequest(name + "-post", "POST", "/sparql", query.encode(),
                   {"Content-Type": "application/sparql-query"}, **kw)


def update(name: str, text: str | bytes, **kw) -> HostileRequest:
    body = text.encode() if isinstance(text, str) else text
    return HostileRequest(name, "POST", "/sparql", body, {"Content-Type": "application/sparql-update", **AUTH},
                          write=True, **kw)


def both(name: str, query: str, **kw) -> list[HostileRequest]:
    return [query_get(name, query, **kw), query_post(name, query, **kw)]


TARGETS = {  # where SERVICE and LOAD must never reach; loopback ones point at the test's listeners
    "loopback": "http://127.0.0.1:{port}/sparql",
    "localhost": "http://localhost:{port}/sparql",
    "ipv6-loopback": "http://[::1]:{port6}/sparql",
    "decimal-ip": "http://2130706433:{port}/sparql",
    "hex-ip": "http://0x7f000001:{port}/sparql",
    "short-ip": "http://127.1:{port}/sparql",
    "mapped-ipv6": "http://[::ffff:127.0.0.1]:{port}/sparql",
    "private": "http://10.0.0.1/sparql",
    "link-local-metadata": "http://169.254.169.254/latest/meta-data/",
    "file": "file:///etc/passwd",
}
LOOP = TARGETS["loopback"]
CARTESIAN = "SELECT * { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
SPARQL_CASES: list[HostileRequest] = [
    # nesting that would overflow Oxigraph's recursive parser (the length limit here is 5,000 characters)
    *both("nested-groups", "SELECT * WHERE " + "{" * 2400 + "}" * 2400),
    *both("nested-parentheses", "ASK { FILTER(" + "(" * 2400 + "1" + ")" * 2400 + ") }"),
    *both("nested-blank-nodes", "ASK { ?s ?p " + "[ <urn:p> " * 350 + "?o" + " ]" * 350 + " }"),
    *both("nested-collections", "ASK { ?s ?p " + "( " * 100 + "?o" + " )" * 100 + " }"),
    *both("nested-subselects", "SELECT * WHERE " + "{ SELECT * WHERE " * 250 + "{ ?s ?p ?o }" + " }" * 250),
    *both("nested-optional", "ASK { ?s ?p ?o " + "OPTIONAL { ?s ?p ?o " * 180 + "}" * 180 + " }"),
    *both("unclosed-long-string", 'ASK { ?s ?p """' + '\\"' * 2400 + " }"),
    *both("name-run", "ASK { ?s ?p ?o } " + "a." * 2400),
    *both("invalid-syntax", "SELECT * WHERE { ?s ?p }"),
    query_post("cartesian-product", CARTESIAN, expected=frozenset({422, 503})),
    HostileRequest("cartesian-product-form", "POST", "/sparql", b"query=" + quote(CARTESIAN).encode(),
            {"Content-Type": "application/x-www-form-urlencoded"}, expected=frozenset({422, 503})),
    # invalid UTF-8: in the query string, a direct body, a form body, a protocol parameter
    HostileRequest("invalid-utf8-get", "GET", "/sparql?query=ASK%20%7B%20%3Fs%20%3Fp%20%22%FF%FE%22%20%7D"),
    HostileRequest("invalid-utf8-post", "POST", "/sparql", b'ASK { ?s ?p "\xff\xfe" }',
            {"Content-Type": "application/sparql-query"}),
    HostileRequest("invalid-utf8-form", "POST", "/sparql", b"query=ASK%20%7B%20%3Fs%20%3Fp%20%22%FF%22%20%7D",
            {"Content-Type": "application/x-www-form-urlencoded"}),
    HostileRequest("invalid-utf8-graph-parameter", "GET",
                   "/sparql?query=ASK%7B%7D&default-graph-uri=http%3A%2F%2Fx%2F%FF"),
    HostileRequest("invalid-utf8-store-graph", "GET", "/store?graph=http%3A%2F%2Fx%2F%C0%AF"),
    HostileRequest("latin1-charset-post", "POST", "/sparql", "ASK { ?s ?p \"café\" }".encode("latin-1"),
            {"Content-Type": "application/sparql-query; charset=iso-8859-1"}, expected=frozenset({415})),
    HostileRequest("update-by-get", "GET", "/sparql?update=" + quote("LOAD <http://127.0.0.1:{port}/x>", safe="{}")),
    HostileRequest("query-and-update", "POST", "/sparql", b"query=ASK%7B%7D&update=CLEAR%20ALL",
            {"Content-Type": "application/x-www-form-urlencoded"}),
    # SERVICE to every kind of forbidden address, and spelt in every way
    *[query_get(f"service-{name}", f"SELECT * WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}")
      for name, url in TARGETS.items()],
    *both("service-mixed-case", f"SELECT * WHERE {{ SeRvIcE <{LOOP}> {{ ?s ?p ?o }} }}"),
    *both("service-prefixed-name", f"PREFIX r: <{LOOP[:-6]}>\nSELECT * WHERE {{ SERVICE r:sparql {{ ?s ?p ?o }} }}"),
    *both("service-silent-in-subselect",
          f"ASK {{ {{ SELECT ?s WHERE {{ SERVICE SILENT <{LOOP}> {{ ?s ?p ?o }} }} }} }}"),
    *both("service-in-exists",
          f"ASK {{ ?s ?p ?o FILTER EXISTS {{ SERVICE <{TARGETS['decimal-ip']}> {{ ?s ?p ?o }} }} }}"),
    *both("service-variable-from-values",
          f"SELECT * WHERE {{ VALUES ?e {{ <{TARGETS['localhost']}> }} SERVICE ?e {{ ?s ?p ?o }} }}"),
    *both("service-relative-iri", "BASE <http://127.0.0.1:{port}/>\nSELECT * WHERE { SERVICE <sparql> { ?s ?p ?o } }"),
    # LOAD and SERVICE inside updates
    *[update(f"load-{name}", f"LOAD <{url}> INTO GRAPH <{GRAPH}>") for name, url in TARGETS.items()],
    update("load-mixed-case-silent", f"lOaD sIlEnT <{LOOP}>"),
    update("load-prefixed-name", f"PREFIX r: <{LOOP[:-6]}>\nLOAD r:sparql INTO GRAPH <{GRAPH}>"),
    update("load-after-insert", f"INSERT DATA {{ GRAPH <{GRAPH}> {{ <urn:a> <urn:b> <urn:c> }} }} ;\n"
                                f"LOAD <{TARGETS['ipv6-loopback']}>"),
    update("service-in-update-subselect",
           f"INSERT {{ GRAPH <{GRAPH}> {{ ?s ?p ?o }} }} WHERE {{ {{ SELECT * WHERE {{ SERVICE <{TARGETS['short-ip']}> "
           "{ ?s ?p ?o } } } }"),
    # updates that would crash or inject
    update("update-nested-groups", f"INSERT {{ GRAPH <{GRAPH}> {{ <urn:a> <urn:b> <urn:c> }} }} WHERE "
                                   + "{" * 2000 + "}" * 2000),
    update("update-nested-parentheses", f"INSERT {{ GRAPH <{GRAPH}> {{ <urn:a> <urn:b> ?x }} }} WHERE {{ BIND("
                                        + "(" * 2000 + "1" + ")" * 2000 + " AS ?x) }"),
    update("update-invalid-utf8", f"INSERT DATA {{ GRAPH <{GRAPH}> {{ <urn:a> <urn:b> \"".encode()
           + b"\xff\xfe\" } }"),
    update("update-unclosed-string", f'INSERT DATA {{ GRAPH <{GRAPH}> {{ <urn:a> <urn:b> """' + '\\"' * 2000),
    update("update-truncated", f"DELETE WHERE {{ GRAPH <{GRAPH}> {{ ?s ?p"),
    HostileRequest("update-form-invalid-utf8", "POST", "/sparql",
            b"update=CLEAR%20GRAPH%20%3Curn%3Atest%3Ahostile%FF%3E",
            {"Content-Type": "application/x-www-form-urlencoded", **AUTH}, write=True),
    HostileRequest("update-using-graph-injection", "POST",
            "/sparql?using-graph-uri=" + quote("http://x/> } ; DROP ALL ; #", safe=""),
            f"DELETE {{ GRAPH <{GRAPH}> {{ ?s ?p ?o }} }} WHERE {{ ?s ?p ?o }}".encode(),
            {"Content-Type": "application/sparql-update", **AUTH}, write=True),
    HostileRequest("store-graph-injection", "PUT", "/store?graph=" + quote("urn:x> } ; DROP ALL ; #", safe=""),
            b"<urn:s> <urn:p> <urn:o> .", {"Content-Type": "application/n-triples", **AUTH}, write=True),
]


@pytest.mark.parametrize("case", SPARQL_CASES, ids=[c.name for c in SPARQL_CASES])
def test_hostile_sparql_is_refused(http, read_server, seeded, listener, listener6, case):
    url = seeded if case.write else read_server
    port6 = listener6.getsockname()[1] if listener6 else 9
    path = fill(case.path, listener.getsockname()[1], port6)
    body = None if case.body is None else fill(case.body.decode("latin-1"), listener.getsockname()[1],
                                               port6).encode("latin-1")
    workers = settled_workers(url)
    before = snapshot(http, seeded)
    response = http.request(case.method, url + path, content=body, headers=case.headers, timeout=20)
    assert_problem(response, set(case.expected))
    assert snapshot(http, seeded) == before
    assert_no_connection(listener, listener6)
    if 503 not in case.expected:  # no worker died: each of them still answers, and none was replaced
        assert settled_workers(url) == workers
    for _ in range(2):
        assert http.get(url + "/sparql", params={"query": "ASK { ?s ?p ?o }"}).json()["boolean"] is True


# ------------------------------------------------------------------ the default length limit: 100,000 characters

DEEP = [
    query_post("nested-groups-5000", "SELECT * WHERE " + "{" * 5000 + "}" * 5000),
    query_post("nested-parentheses-5000", "ASK { FILTER(" + "(" * 5000 + "1" + ")" * 5000 + ") }"),
    query_get("nested-groups-5000", "ASK " + "{" * 5000 + "}" * 5000),
    # each of these used to hold the server's event loop for minutes while the SERVICE check read it
    query_post("unclosed-long-string-49000", 'ASK { ?s ?p """' + '\\"' * 49_000 + " }"),
    query_post("name-run-49000", "ASK { ?s ?p ?o } " + "a." * 49_000),
    update("update-nested-groups-5000", f"INSERT {{ GRAPH <{GRAPH}> {{ <urn:a> <urn:b> <urn:c> }} }} WHERE "
                                        + "{" * 5000 + "}" * 5000),
]


@pytest.mark.parametrize("case", DEEP, ids=[c.name for c in DEEP])
def test_deep_nesting_within_the_default_length_limit_is_refused(http, default_limits_server, case):
    workers = settled_workers(default_limits_server)
    before = snapshot(http, default_limits_server)
    response = http.request(case.method, default_limits_server + case.path, content=case.body, headers=case.headers)
    assert "nests" in assert_problem(response, {400})["detail"] or case.name.startswith(("unclosed", "name"))
    assert snapshot(http, default_limits_server) == before
    assert settled_workers(default_limits_server) == workers


@pytest.mark.parametrize("case", [
    query_post("optional-chain", "ASK { " + "OPTIONAL{}" * 9000 + " }", expected=frozenset({200})),
    update("update-optional-chain", f"DELETE {{ GRAPH <{GRAPH}> {{ <urn:a> <urn:b> <urn:c> }} }} WHERE {{ "
                                    + "OPTIONAL{}" * 9000 + " }", expected=frozenset({204})),
], ids=lambda c: c.name)
def test_long_flat_chains_are_answered_without_overflowing_a_stack(http, default_limits_server, case):
    # 9,000 OPTIONALs in a row are valid SPARQL; Oxigraph recursed once per OPTIONAL and overflowed an
    # 8 MiB stack, killing the worker (query) or the whole server (update).
    workers = settled_workers(default_limits_server)
    before = snapshot(http, default_limits_server)
    response = http.request(case.method, default_limits_server + case.path, content=case.body, headers=case.headers)
    assert response.status_code in case.expected, response.text[:300]
    assert snapshot(http, default_limits_server) == before
    assert settled_workers(default_limits_server) == workers


# ------------------------------------------------------------------ named queries: every parameter

HOSTILE_VALUES = [
    'K1" } ; DROP ALL ; #',
    "<http://x> } UNION { ?s ?p ?o }",
    "http://x/> } ; DROP ALL ; #",
    "?s",
    "A" * 20_000,
    "\x01\x02\x1b[31m\x7f",
    "\x00",
    "K1\r\nX-Injected: 1",
    "99999999999999999999",
    "1e309",
]


@pytest.mark.parametrize("value", HOSTILE_VALUES, ids=lambda v: repr(v[:20]))
def test_hostile_named_query_parameters_match_nothing_and_change_nothing(http, seeded, value):
    listing = http.get(seeded + "/queries", headers={"Accept": "application/json"}).json()["queries"]
    assert listing
    before = snapshot(http, seeded)
    tried = 0
    for query in listing:
        examples = {p["name"]: str(p["example"]) for p in query["parameters"]}
        for name in [*examples, "format"]:
            params = {**examples, name: value}
            response = http.get(query["url"], params=params, headers={"Accept": "application/sparql-results+json"})
            tried += 1
            where = f"{query['name']}?{name}={value[:40]!r}"
            assert response.status_code in (200, 400, 404), f"{where}: {response.status_code} {response.text[:300]}"
            assert "x-injected" not in response.headers
            if response.status_code == 200:
                assert response.json()["results"]["bindings"] == [], where
            else:
                assert_problem(response, {400, 404})
    assert tried > len(listing)
    assert snapshot(http, seeded) == before


# ------------------------------------------------------------------ raw requests: Accept headers and paths

def raw_request(url: str, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send bytes as they are (no client normalises them) and read the whole response."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(request)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(lines[0].split()[1]), headers, body


def raw_get(url: str, path: bytes, extra: bytes = b"") -> tuple[int, dict[str, str], bytes]:
    return raw_request(url, b"GET " + path + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" + extra + b"\r\n")


RESOURCE = b"/id/standard/ST1337"
ASK = b"/sparql?query=ASK%7B%7D"


@pytest.mark.parametrize("path, accept, expected", [
    # a second header line: the server sees two headers and must not reflect the second
    (RESOURCE, b"text/turtle\r\nX-Injected: 1", {200}),
    (ASK, b"text/turtle\r\nX-Injected: 1", {406}),
    # bare CR, bare LF and NUL inside the value: refused by the HTTP parser before the application
    (RESOURCE, b"text/turtle\rX-Injected: 1", {400}),
    (RESOURCE, b"text/turtle\nX-Injected: 1", {400}),
    (RESOURCE, b"text/turtle\x00X-Injected: 1", {400}),
    (RESOURCE, b"*/*;q=abc", {200}),
    (ASK, b"text/csv;q=abc, */*;q=1.5", {200}),
    (ASK, b"\xff\xfe/\xff", {200}),
    (ASK, b"a/b;" * 20_000, {406}),
    (ASK, b", ".join(b"application/x-t%d" % i for i in range(10_000)), {406}),
    (RESOURCE, b"text/" + b"x" * 60_000, {406}),
    (RESOURCE, b";;;,,,;q=;=;", {200}),
], ids=["crlf-resource", "crlf-ask", "bare-cr", "bare-lf", "nul", "bad-q", "q-out-of-range", "not-utf8",
        "20000-parameters", "10000-media-types", "60kb-type", "punctuation"])
def test_hostile_accept_header_gets_a_sane_answer(http, read_server, path, accept, expected):
    status, headers, body = raw_get(read_server, path, b"Accept: " + accept + b"\r\n")
    assert status in expected, body[:300]
    assert "x-injected" not in headers
    assert b"X-Injected" not in body
    if status == 406:
        problem = json.loads(body)
        assert headers["content-type"] == "application/problem+json" and problem["status"] == 406
        assert len(body) < 2000  # the client's header is not echoed back whole
    if status == 200:
        assert headers["content-type"].split(";")[0] in ("application/ld+json", "text/turtle",
                                                         "application/sparql-results+json", "text/csv")
    assert http.get(read_server + "/health").status_code == 200


TRAVERSALS = [
    b"/id/../../etc/passwd",
    b"/id/%2e%2e/%2e%2e/etc/passwd",
    b"/id/..%2f..%2fetc%2fpasswd",
    b"/id/%00",
    b"/id/standard/%FF%FE",
    b"/static/../sparql_api/settings.py",
    b"/static/%2e%2e/sparql_api/settings.py",
    b"/static/kim.css/../../sparql_api/settings.py",
    b"/static/yasgui/../../settings.py",
    b"/static/yasgui/%2e%2e/%2e%2e/settings.py",
    b"/static/yasgui/..%2f..%2fsettings.py",
    b"/static/yasgui/%2e%2e%2f%2e%2e%2f%2e%2e%2fsparql_api%2fsettings.py",
    b"/static/yasgui/..%5c..%5csettings.py",
    b"/static/yasgui/%c0%ae%c0%ae/settings.py",
    b"/static/yasgui/....//....//settings.py",
    b"/static/yasgui//etc/passwd",
    b"/static/yasgui/%2fetc%2fpasswd",
    b"/static/yasgui/%00",
    b"/static/yasgui/README.md%00.js",
    b"/../../etc/passwd",
    b"/queries/..%2f..%2fetc%2fpasswd",
]


@pytest.mark.parametrize("path", TRAVERSALS, ids=lambda p: p.decode())
def test_path_traversal_finds_no_file(read_server, path):
    status, headers, body = raw_get(read_server, path)
    assert status in (400, 404), body[:300]
    assert headers["content-type"] == "application/problem+json"
    assert PROBLEM_FIELDS <= json.loads(body).keys()
    assert not any(marker.encode() in body for marker in FILE_MARKERS)
    assert raw_get(read_server, b"/static/yasgui/kim-editor.js")[0] == 200  # the mount itself still serves


# ------------------------------------------------------------------ a 100 MB body

HUNDRED_MB = 100 * 1024 * 1024
BIG_TARGETS = [
    ("PUT", STORE_PATH, "text/turtle", True),
    ("POST", STORE_PATH, "application/n-triples", True),
    ("POST", "/validate", "text/turtle", False),
    ("POST", "/sparql", "application/sparql-query", False),
    ("POST", "/sparql", "application/sparql-update", True),
]


def hundred_megabytes(chunk: int = 64 * 1024) -> Iterator[bytes]:
    """100 MB of Turtle comment, a chunk at a time (never held in memory at once)."""
    for _ in range(HUNDRED_MB // chunk):
        yield b"#" * chunk


def send_until_answered(url: str, head: bytes, chunks: Iterator[bytes], chunked: bool) -> tuple[int, int, bytes]:
    """Send a request head and body chunks until the server answers; (bytes of body sent, status, response)."""
    parts = urlsplit(url)
    sent = 0
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(head)
        for chunk in chunks:
            if select.select([sock], [], [], 0)[0]:
                break  # the answer is there: the server stopped reading
            try:
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk)
            except OSError:
                break  # the server closed the connection after answering
            sent += len(chunk)
        received = b""
        while b"\r\n\r\n" not in received or len(received.partition(b"\r\n\r\n")[2]) < _length(received):
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
    return sent, int(received.split(None, 2)[1]), received


def _length(received: bytes) -> int:
    for line in received.partition(b"\r\n\r\n")[0].split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 0


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
@pytest.mark.parametrize("method, path, content_type, write", BIG_TARGETS,
                         ids=[f"{m}-{p.split('?')[0].strip('/')}-{t.split('/')[1]}" for m, p, t, _ in BIG_TARGETS])
def test_hundred_megabyte_body_is_refused_early(http, seeded, method, path, content_type, write, chunked):
    before = snapshot(http, seeded)
    framing = b"Transfer-Encoding: chunked\r\n" if chunked else b"Content-Length: %d\r\n" % HUNDRED_MB
    head = (f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\n"
            + (f"Authorization: Bearer {TOKEN}\r\n" if write else "")).encode() + framing + b"\r\n"
    sent, status, response = send_until_answered(seeded, head, hundred_megabytes(), chunked)
    assert status == 413, response[:300]
    head_text, _, body = response.partition(b"\r\n\r\n")
    assert b"content-type: application/problem+json" in head_text.lower()
    assert json.loads(body)["status"] == 413
    # Refused after the limit (200 kB here) plus what the sockets buffer, never after reading it all.
    assert sent < HUNDRED_MB // 5
    assert snapshot(http, seeded) == before
