"""Payloads nested far too deep (issue #13): refused with a 400 problem before any parser sees them.

Turtle nested 100,000 ``[`` or ``(`` deep and RDF/XML nested 50,000 elements deep used to be accepted after
tens of seconds to minutes of parsing, during which readers were starved. Each goes, over real HTTP, to every
endpoint that parses an upload, against a server with the default body limit (10 MB), so the depth check,
not the size limit, refuses it; the store must be unchanged and the workers still there.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import quote

import httpx
import pytest

from tests.server import AUTH, TOKEN, copy_store, running_server

GRAPH = "urn:test:deep"
STORE_PATH = "/store?graph=" + quote(GRAPH, safe="")
SEED = b'<urn:test:deep:s> <urn:test:deep:p> "seed" .\n'
NESTING_PROBLEM = "https://w3id.org/uk-kim/problems#rdf-nesting-too-deep"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
TTL, XML = "text/turtle", "application/rdf+xml"


def _turtle_blank_nodes(depth: int) -> bytes:
    return b"@prefix : <urn:test:deep:> .\n:s :p " + b"[ :p " * depth + b":o" + b" ]" * depth + b" .\n"


def _turtle_collections(depth: int) -> bytes:
    return b"@prefix : <urn:test:deep:> .\n:s :p " + b"(" * depth + b":o" + b")" * depth + b" .\n"


def _rdfxml(depth: int) -> bytes:
    """RDF/XML whose elements nest ``depth`` levels: rdf:RDF, then node and property elements in turn."""
    pairs = depth // 2
    return (f'<rdf:RDF xmlns:rdf="{RDF}" xmlns:ex="urn:test:deep:">'.encode()
            + b'<rdf:Description rdf:about="urn:test:deep:s"><ex:p>' + b"<rdf:Description><ex:p>" * (pairs - 1)
            + b"deep" + b"</ex:p></rdf:Description>" * pairs + b"</rdf:RDF>")


@dataclass(frozen=True)
class Deep:
    name: str
    content_type: str
    body: bytes
    validate: int = 400  # /validate reads Turtle but not RDF/XML (415)


DEEP = [
    Deep("turtle-blank-nodes-100000", TTL, _turtle_blank_nodes(100_000)),
    Deep("turtle-collections-100000", TTL, _turtle_collections(100_000)),
    Deep("trig-blank-nodes-100000", "application/trig",
         b"<urn:test:deep:g> { <urn:test:deep:s> <urn:test:deep:p> " + b"[ <urn:test:deep:p> " * 100_000
         + b"<urn:test:deep:o>" + b" ]" * 100_000 + b" . }", validate=415),
    Deep("ntriples-triple-terms-100000", "application/n-triples",
         b"<urn:test:deep:s> <urn:test:deep:p> " + b"<<( <urn:test:deep:s> <urn:test:deep:p> " * 100_000
         + b"<urn:test:deep:o>" + b" )>>" * 100_000 + b" .\n", validate=415),
    Deep("rdfxml-elements-50000", XML, _rdfxml(50_000), validate=415),
]
ENDPOINTS = {  # name: (method, path)
    "put-store": ("PUT", STORE_PATH),
    "post-store": ("POST", STORE_PATH),
    "post-store-multipart": ("POST", STORE_PATH),
    "validate": ("POST", "/validate"),
}


@pytest.fixture(scope="module")
def deep_server(built_store_path, tmp_path_factory) -> Iterator[str]:
    """A writable server with the default body limit, holding a small graph of our own."""
    base = tmp_path_factory.mktemp("deep")
    store = copy_store(built_store_path, base / "store")
    env = {"KIM_WRITE_TOKEN": TOKEN, "KIM_WORKERS": "2", "KIM_QUERY_TIMEOUT": "5"}
    with running_server(store, base / "server.log", **env) as url:
        response = httpx.put(url + STORE_PATH, content=SEED, headers={"Content-Type": "application/n-triples", **AUTH})
        assert response.status_code in (201, 204), response.text
        yield url


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=120) as client:
        yield client


def snapshot(http: httpx.Client, url: str) -> tuple[int, list[str]]:
    """The store's triple count and our graph's triples."""
    triples = http.get(url + "/health").json()["triples"]
    graph = http.get(url + STORE_PATH, headers={"Accept": "application/n-triples"})
    assert graph.status_code == 200
    return triples, sorted(graph.text.splitlines())


def _multipart(content_type: str, body: bytes) -> tuple[str, bytes]:
    boundary = "deep-boundary-41c7"
    part = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"data\"; filename=\"upload\"\r\n"
            f"Content-Type: {content_type}\r\n\r\n").encode() + body + f"\r\n--{boundary}--\r\n".encode()
    return f"multipart/form-data; boundary={boundary}", part


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
@pytest.mark.parametrize("payload", DEEP, ids=[p.name for p in DEEP])
def test_deep_payload_is_refused_with_a_problem_and_stores_nothing(http, deep_server, payload, endpoint):
    method, path = ENDPOINTS[endpoint]
    content_type, body = payload.content_type, payload.body
    if endpoint.endswith("multipart"):
        content_type, body = _multipart(content_type, body)
    before = snapshot(http, deep_server)
    response = http.request(method, deep_server + path, content=body, headers={"Content-Type": content_type, **AUTH})
    expected = payload.validate if endpoint == "validate" else 400
    assert response.status_code == expected, response.text[:300]
    assert response.headers["content-type"].startswith("application/problem+json")
    if expected == 400:
        problem = response.json()
        assert problem["type"] == NESTING_PROBLEM, problem
        assert "100 levels" in problem["detail"]
    assert snapshot(http, deep_server) == before
    assert http.get(deep_server + "/sparql", params={"query": "ASK { ?s ?p ?o }"}).json()["boolean"] is True


def test_deep_feed_json_to_validate_is_refused(http, deep_server):
    # the feed reader's cost grows with the square of the depth: 100,000 levels ran for minutes
    body = b'{"referenceNumber": "ST0999", "duties": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    response = http.post(deep_server + "/validate", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400, response.text[:300]
    assert response.json()["type"] == NESTING_PROBLEM


@pytest.mark.parametrize("payload", [
    Deep("turtle-blank-nodes-60", TTL, _turtle_blank_nodes(60)),
    Deep("turtle-collections-60", TTL, _turtle_collections(60)),
    Deep("rdfxml-elements-99", XML, _rdfxml(99)),
], ids=lambda p: p.name)
def test_nesting_within_the_limit_is_stored(http, deep_server, payload):
    graph = "urn:test:deep:within"
    response = http.put(deep_server + "/store", params={"graph": graph}, content=payload.body,
                        headers={"Content-Type": payload.content_type, **AUTH})
    assert response.status_code in (201, 204), response.text[:300]
    stored = http.get(deep_server + "/store", params={"graph": graph}, headers={"Accept": "application/n-triples"})
    assert stored.status_code == 200 and stored.text.count("\n") >= 30
