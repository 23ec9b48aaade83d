"""Guards on a real server: the query time limit, SERVICE and LOAD refused, request and result limits."""

from __future__ import annotations

import socket
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.server import AUTH, worker_pids

# A cartesian product of the store with itself, three times: about 2e11 solutions to count, one row out.
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
SMALL = "ASK { ?s a ?t }"
UPDATE = "application/sparql-update"


@pytest.fixture()
def listener():
    """A real listening socket: the test checks that the server never connects to it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        sock.settimeout(0.2)  # any connection would already be queued: the request has been answered
        yield sock


def assert_no_connection(sock: socket.socket) -> None:
    with pytest.raises(TimeoutError):
        sock.accept()


# ------------------------------------------------------------------ time limit

def _settled_workers(url: str, unlike: set[int] = frozenset(), count: int = 2) -> set[int]:
    """The server's worker processes once there are ``count`` of them and they differ from ``unlike``."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        found = worker_pids(url)
        if len(found) == count and found != unlike:
            return found
        time.sleep(0.1)
    return worker_pids(url)


def test_runaway_query_is_stopped_with_503_while_others_are_served(read_server):
    before = _settled_workers(read_server) if Path("/proc").exists() else set()
    with httpx.Client(base_url=read_server, timeout=30) as runaway, ThreadPoolExecutor(4) as pool:
        started = time.monotonic()
        slow = pool.submit(runaway.get, "/sparql", params={"query": RUNAWAY})
        time.sleep(0.2)

        def small(_):
            with httpx.Client(base_url=read_server, timeout=10) as other:  # its own connection
                t = time.monotonic()
                response = other.get("/sparql", params={"query": SMALL})
                return response.status_code, time.monotonic() - t

        answers = list(pool.map(small, range(6)))
        response = slow.result()
        elapsed = time.monotonic() - started
    # Served by the other worker meanwhile: none waited for the runaway (that would be a 503 too).
    assert all(status == 200 for status, _ in answers), answers
    assert response.status_code == 503
    assert elapsed < 3.0
    assert response.headers["content-type"] == "application/problem+json"
    assert int(response.headers["retry-after"]) >= 1
    problem = response.json()
    assert problem["status"] == 503 and "limit" in problem["detail"]
    # The overrunning worker was killed and replaced; the server still answers.
    if before:
        after = _settled_workers(read_server, unlike=before)
        assert len(after) == 2 and after != before, (before, after)
    for _ in range(4):
        assert httpx.get(read_server + "/sparql", params={"query": SMALL}).json()["boolean"] is True


def test_runaway_select_star_is_stopped_quickly(read_server):
    # Rows stream fast here, so the row limit (422) may trip before the time limit (503): either way
    # the client gets a problem, not a 200 with half a body, well within three times the limit.
    started = time.monotonic()
    response = httpx.get(read_server + "/sparql", params={"query": "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"},
                         timeout=30)
    assert time.monotonic() - started < 3.0
    assert response.status_code in (422, 503)
    assert response.headers["content-type"] == "application/problem+json"


# ------------------------------------------------------------------ no outbound requests

@pytest.mark.parametrize("template", [
    "SELECT * WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}",
    "select * where {{ ?x a ?t OPTIONAL {{ service silent <{url}> {{ ?x ?p ?o }} }} }}",
    "PREFIX ex: <http://example.org/>\nSELECT * WHERE {{ {{ SELECT ?s WHERE {{ Service <{url}> {{ ?s ?p ?o }} }} }} }}",
    "SELECT * WHERE {{ BIND(<{url}> AS ?e) SERVICE ?e {{ ?s ?p ?o }} }}",
])
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_service_is_refused_without_any_connection(read_server, listener, template, method):
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/sparql"
    query = template.format(url=url)
    if method == "GET":
        response = httpx.get(read_server + "/sparql", params={"query": query})
    else:
        response = httpx.post(read_server + "/sparql", data={"query": query})
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert "SERVICE" in response.json()["detail"]
    assert_no_connection(listener)


def test_the_word_service_elsewhere_is_allowed(read_server):
    query = ('PREFIX ex: <http://example.org/SERVICE#>\nSELECT ?service WHERE { '
             '?service ex:SERVICE "SERVICE" . ?service <urn:LOAD> """LOAD\nSERVICE""" } # SERVICE <http://x/>')
    response = httpx.get(read_server + "/sparql", params={"query": query})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("template", ["LOAD <{url}>", "load silent <{url}> into graph <urn:test:loaded>",
                                      "CLEAR SILENT GRAPH <urn:x> ;\n LOAD <{url}>"])
def test_load_is_refused_without_any_connection(write_server, listener, template):
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/data.ttl"
    response = httpx.post(write_server + "/sparql", content=template.format(url=url),
                          headers={"Content-Type": UPDATE, **AUTH})
    assert response.status_code == 400
    assert "LOAD" in response.json()["detail"]
    assert_no_connection(listener)


def test_service_inside_an_update_is_refused(write_server, listener):
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/sparql"
    update = f"INSERT {{ GRAPH <urn:test:fed> {{ ?s ?p ?o }} }} WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}"
    response = httpx.post(write_server + "/sparql", content=update, headers={"Content-Type": UPDATE, **AUTH})
    assert response.status_code == 400
    assert_no_connection(listener)


# ------------------------------------------------------------------ size limits (KIM_MAX_* in tests/server.py)

def test_too_long_query_by_get_is_414(read_server):
    query = "ASK {}" + " " * 5000
    response = httpx.get(read_server + "/sparql", params={"query": query})
    assert response.status_code == 414
    assert response.headers["content-type"] == "application/problem+json"


def test_too_long_query_by_post_is_413(read_server):
    query = "ASK {}" + "#" * 6000
    response = httpx.post(read_server + "/sparql", content=query, headers={"Content-Type": "application/sparql-query"})
    assert response.status_code == 413


def test_too_big_body_is_413(read_server):
    body = b"query=" + b"%20" * 100_000
    response = httpx.post(read_server + "/sparql", content=body,
                          headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 413
    assert response.json()["status"] == 413


def test_too_big_chunked_body_is_413(read_server):
    def chunks():
        for _ in range(30):
            yield b"#" * 10_000

    response = httpx.post(read_server + "/sparql", content=chunks(),
                          headers={"Content-Type": "application/sparql-query"})
    assert response.status_code == 413


def test_too_many_rows_is_a_clear_error(read_server):
    query = "SELECT * WHERE { ?a a ?t . ?b a ?u } LIMIT 20000"
    response = httpx.get(read_server + "/sparql", params={"query": query})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert "10000" in response.json()["detail"]
    assert httpx.get(read_server + "/sparql", params={"query": query.replace("20000", "9000")}).status_code == 200


def test_too_many_triples_is_a_clear_error(read_server):
    query = "CONSTRUCT { ?a <urn:test:pair> ?b } WHERE { ?a a ?t . ?b a ?u } LIMIT 20000"
    response = httpx.get(read_server + "/sparql", params={"query": query}, headers={"Accept": "text/turtle"})
    assert response.status_code == 422


def test_unexpected_errors_do_not_leak_details(read_server):
    response = httpx.get(read_server + "/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 1"},
                         headers={"Accept": "application/sparql-results+json"})
    assert response.status_code == 200
    for bad in ("/store?graph=http://e/%00", "/sparql?query=%FF%FE"):
        response = httpx.get(read_server + bad)
        assert response.status_code < 500
        assert "Traceback" not in response.text and "/work/" not in response.text


def test_unexpected_exception_is_a_bare_500_problem():
    import asyncio
    import json

    from starlette.requests import Request

    from sparql_api.problems import handle_error

    request = Request({"type": "http", "method": "GET", "path": "/sparql", "headers": [], "query_string": b""})
    response = asyncio.run(handle_error(request, RuntimeError("secret at /work/main/sparql_api/x.py line 3")))
    body = json.loads(response.body)
    assert response.status_code == 500 and response.media_type == "application/problem+json"
    assert body == {"type": "about:blank", "title": "Internal error", "status": 500,
                    "detail": "The server met an unexpected condition.", "instance": "/sparql"}
