"""Health checks, Prometheus metrics and the JSON access log, on real servers."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.server import READ_ENV, SECRET, kill_query_workers, no_new_workers, unique_ask, wait_until_ready

RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
ACCESS_FIELDS = {"time", "method", "route", "path", "status", "duration_ms", "bytes", "client", "request_id"}


def samples(url: str) -> dict[tuple[str, frozenset], float]:
    """Every sample of ``/metrics`` by (name, labels), parsed as Prometheus parses it."""
    response = httpx.get(url + "/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    found = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def requests_counted(found: dict, route: str, method: str = "GET", status: str = "200") -> float:
    labels = frozenset({"route": route, "method": method, "status": status}.items())
    return found.get(("kimgraph_http_requests_total", labels), 0.0)


def access_lines(log: Path, request_id: str, limit: float = 10) -> list[dict]:
    """The access-log entries carrying ``request_id``, waiting briefly for the server to write them."""
    deadline = time.monotonic() + limit
    while True:
        lines = [line for line in log.read_text(errors="replace").splitlines() if request_id in line]
        if lines or time.monotonic() > deadline:
            return [json.loads(line) for line in lines]
        time.sleep(0.05)


# ------------------------------------------------------------------ health

def test_live_reports_version_and_read_only_without_the_store(read_server):
    response = httpx.get(read_server + "/health/live")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "live" and body["read_only"] is True
    assert isinstance(body["version"], int) and body["version"] >= 0
    assert isinstance(body["build"], str) and body["build"]
    assert httpx.head(read_server + "/health/live").status_code == 200


def test_ready_reports_workers_and_the_same_version(read_server):
    live = httpx.get(read_server + "/health/live").json()
    response = httpx.get(read_server + "/health/ready")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready" and body["read_only"] is True
    assert (body["build"], body["version"]) == (live["build"], live["version"])
    assert body["workers"]["configured"] == int(READ_ENV["KIM_WORKERS"])
    assert 1 <= body["workers"]["alive"] <= body["workers"]["configured"]


def test_data_version_changes_after_an_authorised_update(guarded_server):
    url, _ = guarded_server
    before = httpx.get(url + "/health/live").json()
    assert before["read_only"] is False
    update = ("INSERT DATA { GRAPH <urn:test:observability> "
              "{ <urn:test:observability:s> <urn:test:observability:p> 'v' } }")
    response = httpx.post(url + "/sparql", content=update,
                          headers={"Authorization": f"Bearer {SECRET}", "Content-Type": "application/sparql-update"})
    assert response.status_code == 204
    live = httpx.get(url + "/health/live").json()
    ready = httpx.get(url + "/health/ready").json()
    assert live["version"] == ready["version"] == before["version"] + 1
    assert live["build"] == before["build"]
    # the same version the ETags are made from
    etag = httpx.get(url + "/id/standard/ST1337").headers["etag"]
    assert etag.endswith(f'-v{live["version"]}"'), etag


def test_not_ready_without_query_workers_but_still_live(guarded_server):
    url, _ = guarded_server
    with no_new_workers(url):
        kill_query_workers(url)
        deadline = time.monotonic() + 10
        while (response := httpx.get(url + "/health/ready")).status_code == 200 and time.monotonic() < deadline:
            time.sleep(0.05)
        live = httpx.get(url + "/health/live").status_code
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert int(response.headers["retry-after"]) >= 1
    problem = response.json()
    assert problem["status"] == 503 and "worker" in problem["detail"]
    assert live == 200
    wait_until_ready(url)  # dead workers are replaced once they can start


# ------------------------------------------------------------------ metrics

def test_metrics_count_requests_by_route_template_and_status(read_server):
    before = samples(read_server)
    for duty in (1, 2, 3):
        assert httpx.get(f"{read_server}/id/standard/ST1337/duty/{duty}").status_code == 200
    assert httpx.get(f"{read_server}/id/standard/ST1337/duty/999").status_code == 404
    assert httpx.get(f"{read_server}/no/such/route").status_code == 404
    assert httpx.delete(f"{read_server}/health/live").status_code == 405
    preflight = httpx.options(f"{read_server}/sparql", headers={"Origin": "https://elsewhere.example",
                                                                 "Access-Control-Request-Method": "POST"})
    assert preflight.status_code == 200
    asked = unique_ask()
    assert httpx.get(f"{read_server}/sparql", params={"query": asked}).status_code == 200
    assert httpx.post(f"{read_server}/sparql", data={"query": asked}).status_code == 200
    broken = httpx.get(f"{read_server}/sparql", params={"query": "SELECT WHERE"})
    assert broken.status_code == 400 and broken.headers["content-type"] == "application/problem+json"
    assert httpx.put(f"{read_server}/sparql").status_code == 405
    after = samples(read_server)

    def delta(*key: str) -> float:
        return requests_counted(after, *key) - requests_counted(before, *key)

    assert delta("/id/{path}") == 3
    assert delta("/id/{path}", "GET", "404") == 1
    assert delta("(unmatched)", "GET", "404") == 1
    assert delta("/health/live", "DELETE", "405") == 1
    assert delta("(preflight)", "OPTIONS", "200") == 1
    assert (delta("/sparql"), delta("/sparql", "POST"), delta("/sparql", "GET", "400")) == (1, 1, 1)
    assert delta("/sparql", "PUT", "405") == 1
    latency = ("kimgraph_http_request_duration_seconds_count",
               frozenset({"route": "/id/{path}", "method": "GET", "status": "200"}.items()))
    assert after[latency] - before.get(latency, 0.0) == 3
    # label values are templates, never the raw URLs asked for
    routes = {dict(labels).get("route") for name, labels in after if name == "kimgraph_http_requests_total"}
    assert not any("ST1337" in route or "no/such" in route for route in routes), routes


def test_metrics_gauge_the_store_size(read_server):
    triples = httpx.get(read_server + "/health").json()["triples"]
    assert samples(read_server)[("kimgraph_store_triples", frozenset())] == triples > 0


def test_metrics_count_queries_stopped_by_the_time_limit(read_server):
    key = ("kimgraph_query_timeouts_total", frozenset())
    before = samples(read_server)[key]
    response = httpx.get(read_server + "/sparql", params={"query": RUNAWAY}, timeout=30)
    assert response.status_code == 503 and response.json()["title"] == "Query timeout"
    assert samples(read_server)[key] == before + 1
    assert httpx.get(read_server + "/sparql", params={"query": "ASK {}"}).status_code == 200


# ------------------------------------------------------------------ access log

@pytest.fixture(scope="module")
def read_log(read_server, tmp_path_factory) -> Path:
    return tmp_path_factory.getbasetemp() / "read-server.log"


def test_access_log_is_one_json_line_per_request(read_server, read_log):
    request_id = f"obs-{uuid.uuid4().hex}"
    response = httpx.get(read_server + "/id/standard/ST1337/duty/2", params={"token": "query-secret-91"},
                         headers={"X-Request-ID": request_id, "Accept": "text/turtle",
                                  "Accept-Encoding": "identity", "Authorization": "Bearer header-secret-37"})
    assert response.status_code == 200
    assert response.headers["x-request-id"] == request_id
    [entry] = access_lines(read_log, request_id)
    assert set(entry) == ACCESS_FIELDS
    assert entry["method"] == "GET" and entry["status"] == 200
    assert entry["route"] == "/id/{path}"
    assert entry["path"] == "/id/standard/ST1337/duty/2"  # without the query string
    assert entry["bytes"] == len(response.content)
    assert entry["client"] == "127.0.0.1"
    assert isinstance(entry["duration_ms"], float) and entry["duration_ms"] >= 0
    assert entry["time"].endswith("+00:00")
    text = read_log.read_text(errors="replace")
    assert "query-secret-91" not in text and "header-secret-37" not in text


def test_access_log_makes_a_request_id_when_none_is_given(read_server, read_log):
    response = httpx.get(read_server + "/no/such/route")
    request_id = response.headers["x-request-id"]
    assert len(request_id) == 32
    [entry] = access_lines(read_log, request_id)
    assert (entry["route"], entry["status"]) == ("(unmatched)", 404)


def test_unusable_request_id_is_replaced(read_server):
    response = httpx.get(read_server + "/health/live", headers={"X-Request-ID": "x" * 500})
    assert response.headers["x-request-id"] != "x" * 500 and len(response.headers["x-request-id"]) == 32


def test_uvicorn_access_log_is_off(read_server, read_log):
    request_id = f"obs-{uuid.uuid4().hex}"
    httpx.get(read_server + "/health/live", headers={"X-Request-ID": request_id})
    access_lines(read_log, request_id)
    assert '"GET /health/live HTTP/1.1" 200' not in read_log.read_text(errors="replace")
