"""Reads during a large write (issue #13): while a 50,000-triple PUT runs, small reads keep being answered,
and they see the last committed data (the graph whole or not at all, never part of it)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import httpx
import pytest

from tests.server import AUTH, TOKEN, copy_store, running_server

GRAPH = "urn:test:large-write"
TRIPLES = 50_000
COUNT = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{GRAPH}> {{ ?s ?p ?o }} }}"


def _payload(triples: int) -> bytes:
    return "".join(f"<urn:test:large-write:r{i // 5}> <urn:test:large-write:p{i % 5}> \"value {i}\" .\n"
                   for i in range(triples)).encode()


@pytest.fixture(scope="module")
def large_write_server(built_store_path, tmp_path_factory) -> Iterator[str]:
    """A writable server with the default body limit (10 MB)."""
    base = tmp_path_factory.mktemp("large-write")
    store = copy_store(built_store_path, base / "store")
    with running_server(store, base / "server.log", KIM_WRITE_TOKEN=TOKEN, KIM_WORKERS="2") as url:
        yield url


@pytest.mark.slow
def test_small_reads_are_answered_from_committed_data_during_a_large_put(large_write_server):
    url = large_write_server
    body = _payload(TRIPLES)
    outcome: dict = {}

    def put() -> None:
        outcome["status"] = httpx.put(url + "/store", params={"graph": GRAPH}, content=body, timeout=300,
                                      headers={"Content-Type": "application/n-triples", **AUTH}).status_code

    writer = threading.Thread(target=put)
    writer.start()
    counts, statuses, during = [], [], 0
    with httpx.Client(timeout=60) as client:
        while writer.is_alive():
            query = client.get(url + "/sparql", params={"query": COUNT},
                               headers={"Accept": "application/sparql-results+json"})
            resource = client.get(url + "/id/standard/ST1337", headers={"Accept": "application/ld+json"})
            statuses += [query.status_code, resource.status_code]
            if query.status_code == 200:
                counts.append(int(query.json()["results"]["bindings"][0]["n"]["value"]))
            during += writer.is_alive()  # answered while the PUT was still running
    writer.join()
    assert outcome["status"] == 201
    assert during >= 1, "no read was answered while the PUT ran"
    assert set(statuses) == {200}
    assert set(counts) <= {0, TRIPLES}  # the graph before the write (none) or after it, never part of it
    final = httpx.get(url + "/sparql", params={"query": COUNT}, headers={"Accept": "application/sparql-results+json"})
    assert int(final.json()["results"]["bindings"][0]["n"]["value"]) == TRIPLES
