"""SPARQL updates under their own time limit, KIM_UPDATE_TIMEOUT (issue #13): an update that runs past it is
stopped in a process of its own and answered 503 problem+json, and the store is unchanged; the server keeps
answering meanwhile and after."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.server import AUTH, READ_ENV, TOKEN, copy_store, running_server

GRAPH = "urn:test:update-timeout"
UPDATE = {"Content-Type": "application/sparql-update", **AUTH}
# every triple times every triple times every triple: far past any limit
CROSS_PRODUCT = (f"INSERT {{ GRAPH <{GRAPH}> {{ ?a ?b ?c }} }} "
                 "WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i FILTER(?c != ?i) }")


@pytest.fixture(scope="module")
def update_server(built_store_path, tmp_path_factory) -> Iterator[str]:
    base = tmp_path_factory.mktemp("update-timeout")
    store = copy_store(built_store_path, base / "store")
    with running_server(store, base / "server.log", KIM_WRITE_TOKEN=TOKEN, KIM_UPDATE_TIMEOUT="1",
                        **READ_ENV) as url:
        yield url


def _state(url: str) -> tuple[int, str]:
    triples = httpx.get(url + "/health").json()["triples"]
    graph = httpx.get(url + "/store", params={"graph": GRAPH}, headers={"Accept": "application/n-triples"})
    return triples, graph.text if graph.status_code == 200 else str(graph.status_code)


def test_an_update_past_the_limit_is_503_and_changes_nothing(update_server):
    before = _state(update_server)
    response = httpx.post(update_server + "/sparql", content=CROSS_PRODUCT, headers=UPDATE, timeout=60)
    assert response.status_code == 503, response.text[:300]
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["type"].endswith("#update-timeout")
    assert int(response.headers["retry-after"]) >= 1
    assert _state(update_server) == before
    assert httpx.get(update_server + "/sparql", params={"query": "ASK { ?s ?p ?o }"}).json()["boolean"] is True


def test_an_update_within_the_limit_is_applied(update_server):
    text = (f"INSERT {{ GRAPH <{GRAPH}> {{ ?s <urn:test:p> 'seen' }} }} "
            "WHERE { ?s a <https://w3id.org/uk-kim/def#OccupationalStandard> }")
    response = httpx.post(update_server + "/sparql", content=text, headers=UPDATE, timeout=60)
    assert response.status_code == 204, response.text[:300]
    count = httpx.get(update_server + "/sparql", headers={"Accept": "application/sparql-results+json"},
                      params={"query": f"SELECT (COUNT(*) AS ?n) {{ GRAPH <{GRAPH}> {{ ?s ?p ?o }} }}"})
    assert int(count.json()["results"]["bindings"][0]["n"]["value"]) >= 1


def test_an_invalid_update_with_a_where_clause_is_still_400(update_server):
    response = httpx.post(update_server + "/sparql", content="DELETE { ?s ?p } WHERE { ?s ?p ?o }", headers=UPDATE)
    assert response.status_code == 400
    assert response.json()["type"].endswith("#invalid-sparql")
