"""The Graph Store HTTP Protocol at /store against a real server: the W3C cases, formats, auth, errors."""

from __future__ import annotations

import httpx
import pytest
from rdflib import Graph
from rdflib.compare import isomorphic

from tests.helpers import rdf_format_of
from tests.server import AUTH
from tests.w3c_protocol import PROTOCOL_DATA, load_manifest_cases, run_protocol_case

GSP = PROTOCOL_DATA / "graph-store-protocol"
CASES = [case for name in ("manifest-indirect.ttl", "manifest-direct.ttl") if (GSP / name).exists()
         for case in load_manifest_cases(GSP / name)]
ONTOLOGY_GRAPH = "https://w3id.org/uk-kim/graph/ontology"
TURTLE = {"Content-Type": "text/turtle; charset=utf-8"}
DATA = """@prefix ex: <http://example.org/> .
ex:alice a ex:Person ; ex:name "Alice" ; ex:knows [ ex:name "Bob" ] ."""


@pytest.fixture(scope="module")
def writer(write_server):
    with httpx.Client(base_url=write_server, timeout=10) as http:
        yield http


def _gsp_path(path: str) -> str:
    return "/store" + path[len("/gsp"):]


@pytest.fixture(scope="module")
def empty_writer(empty_write_server):
    """The W3C cases expect a store that holds only what they write: ?default is then their own graph."""
    with httpx.Client(base_url=empty_write_server, timeout=10) as http:
        yield http


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_w3c_graph_store_case(empty_writer, case):
    # every graph goes: ?default, the merge, would otherwise hold what earlier cases wrote
    assert empty_writer.post("/sparql", data={"update": "DROP ALL"}, headers=AUTH).status_code == 204
    run_protocol_case(empty_writer, case, _gsp_path, AUTH)


def test_default_graph_is_the_one_sparql_queries(writer):
    """?default is the merge of the named graphs, as /sparql's default graph: each triple once."""
    graph = Graph().parse(data=writer.get("/store?default", headers={"Accept": "application/n-triples"}).text,
                          format="nt")
    counted = writer.get("/sparql", params={"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"},
                         headers={"Accept": "application/sparql-results+json"}).json()
    assert len(graph) == int(counted["results"]["bindings"][0]["n"]["value"]) > 5000


def test_triples_put_to_the_default_graph_join_the_merge_in_their_own_graph(writer):
    writer.post("/store?default", content=DATA, headers={**TURTLE, **AUTH}).raise_for_status()
    rows = writer.get("/sparql", params={"query": "SELECT ?g WHERE { GRAPH ?g { ?s <http://example.org/name> "
                                                  '"Alice" } }'},
                      headers={"Accept": "application/sparql-results+json"}).json()["results"]["bindings"]
    assert [r["g"]["value"] for r in rows] == ["urn:x-kimgraph:graph:default"]
    assert writer.delete("/store?default", headers=AUTH).status_code == 204
    asked = writer.get("/sparql", params={"query": 'ASK { ?s <http://example.org/name> "Alice" }'},
                       headers={"Accept": "application/sparql-results+json"}).json()
    assert asked["boolean"] is False


# ------------------------------------------------------------------ reading

@pytest.mark.parametrize("accept", ["text/turtle", "application/n-triples", "application/rdf+xml",
                                    "application/ld+json", "application/trig", "application/n-quads"])
def test_get_named_graph_in_every_format(read_server, accept):
    params = {"graph": ONTOLOGY_GRAPH}
    reference = Graph().parse(data=httpx.get(read_server + "/store", params=params,
                                             headers={"Accept": "application/n-triples"}).text, format="nt")
    response = httpx.get(read_server + "/store", params=params, headers={"Accept": accept})
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == accept
    assert len(reference) > 100
    assert isomorphic(Graph().parse(data=response.content, format=rdf_format_of(accept)), reference)


def test_get_missing_graph_is_404_problem(read_server):
    response = httpx.get(read_server + "/store", params={"graph": "http://example.org/missing"})
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    head = httpx.head(read_server + "/store", params={"graph": "http://example.org/missing"})
    assert head.status_code == 404


def test_graph_and_default_together_is_400(read_server):
    assert httpx.get(read_server + "/store?default&graph=http://example.org/g").status_code == 400


@pytest.mark.parametrize("query", ["default=-58800", "", "graph=http://example.org/g&other=1",
                                   "graph=http://example.org/a%zz"],
                         ids=["default-with-a-value", "neither", "unknown-parameter", "bad-percent-encoding"])
def test_a_graph_not_named_exactly_is_400_problem(read_server, query):
    response = httpx.get(f"{read_server}/store?{query}")
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"


def test_a_direct_graph_url_with_a_character_an_iri_cannot_hold_is_400(writer):
    response = writer.put("/store/a%7Cb", content=DATA, headers={**TURTLE, **AUTH})
    assert response.status_code == 400


def test_relative_graph_iri_is_400(read_server):
    assert httpx.get(read_server + "/store", params={"graph": "relative/g"}).status_code == 400


def test_get_unacceptable_is_406(read_server):
    response = httpx.get(read_server + "/store", params={"graph": ONTOLOGY_GRAPH}, headers={"Accept": "text/csv"})
    assert response.status_code == 406


# ------------------------------------------------------------------ authorisation

@pytest.mark.parametrize("method", ["PUT", "POST", "DELETE"])
def test_writes_without_configured_token_are_403(read_server, method):
    response = httpx.request(method, read_server + "/store", params={"graph": ONTOLOGY_GRAPH},
                             content=DATA, headers={**TURTLE, **AUTH})
    assert response.status_code == 403


@pytest.mark.parametrize("method", ["PUT", "POST", "DELETE"])
def test_writes_with_wrong_token_are_401(writer, method):
    response = writer.request(method, "/store", params={"graph": ONTOLOGY_GRAPH}, content=DATA,
                              headers={**TURTLE, "Authorization": "Bearer nope"})
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]
    assert writer.get("/store", params={"graph": ONTOLOGY_GRAPH}).status_code == 200


# ------------------------------------------------------------------ writing

def test_put_creates_then_replaces(writer):
    params = {"graph": "http://example.org/put"}
    assert writer.put("/store", params=params, content=DATA, headers={**TURTLE, **AUTH}).status_code == 201
    replacement = '<http://example.org/x> <http://example.org/p> "only" .'
    assert writer.put("/store", params=params, content=replacement,
                      headers={"Content-Type": "application/n-triples", **AUTH}).status_code == 204
    got = Graph().parse(data=writer.get("/store", params=params).text, format="turtle")
    assert isomorphic(got, Graph().parse(data=replacement, format="nt"))


def test_post_merges_into_existing_graph(writer):
    params = {"graph": "http://example.org/post"}
    assert writer.post("/store", params=params, content=DATA, headers={**TURTLE, **AUTH}).status_code == 201
    extra = '<http://example.org/alice> <http://example.org/age> "42" .'
    assert writer.post("/store", params=params, content=extra,
                       headers={"Content-Type": "application/n-triples", **AUTH}).status_code == 204
    assert len(Graph().parse(data=writer.get("/store", params=params).text, format="turtle")) == 5


def test_post_to_the_store_creates_a_graph_with_a_location(writer):
    response = writer.post("/store", content=DATA, headers={**TURTLE, **AUTH})
    assert response.status_code == 201
    location = response.headers["location"]
    direct = httpx.get(location, headers={"Accept": "text/turtle"})
    indirect = writer.get("/store", params={"graph": location})
    assert direct.status_code == indirect.status_code == 200
    assert isomorphic(Graph().parse(data=direct.text, format="turtle"), Graph().parse(data=DATA, format="turtle"))


def test_json_ld_payload_is_read(writer):
    payload = '{"@id": "http://example.org/j", "http://example.org/p": [{"@value": "json"}]}'
    params = {"graph": "http://example.org/jsonld"}
    assert writer.put("/store", params=params, content=payload,
                      headers={"Content-Type": "application/ld+json", **AUTH}).status_code == 201
    assert '"json"' in writer.get("/store", params=params, headers={"Accept": "application/n-triples"}).text


def test_bad_rdf_is_400_and_changes_nothing(writer):
    params = {"graph": "http://example.org/keep"}
    writer.put("/store", params=params, content=DATA, headers={**TURTLE, **AUTH})
    response = writer.put("/store", params=params, content=DATA + "\n ex:broken ex:triple", headers={**TURTLE, **AUTH})
    assert response.status_code == 400
    assert "line" in response.json()["detail"]
    got = Graph().parse(data=writer.get("/store", params=params).text, format="turtle")
    assert isomorphic(got, Graph().parse(data=DATA, format="turtle"))


@pytest.mark.parametrize("body", [b"5", b'"a string"', b"null"], ids=["number", "string", "null"])
def test_json_ld_that_is_no_object_or_array_is_400_and_changes_nothing(writer, body):
    params = {"graph": "http://example.org/keep-json-ld"}
    writer.put("/store", params=params, content=DATA, headers={**TURTLE, **AUTH})
    for method in ("PUT", "POST"):
        response = writer.request(method, "/store", params=params, content=body,
                                  headers={"Content-Type": "application/ld+json", **AUTH})
        assert response.status_code == 400, response.text
        assert response.headers["content-type"] == "application/problem+json"
    got = Graph().parse(data=writer.get("/store", params=params).text, format="turtle")
    assert isomorphic(got, Graph().parse(data=DATA, format="turtle"))


def test_unknown_content_type_is_415(writer):
    response = writer.put("/store", params={"graph": "http://example.org/x"}, content="a,b",
                          headers={"Content-Type": "text/csv", **AUTH})
    assert response.status_code == 415


def test_named_graphs_in_a_payload_are_refused(writer):
    response = writer.put("/store", params={"graph": "http://example.org/x"},
                          content="<http://e/s> <http://e/p> <http://e/o> <http://e/g> .",
                          headers={"Content-Type": "application/n-quads", **AUTH})
    assert response.status_code == 400


def test_delete_then_get_is_404(writer):
    params = {"graph": "http://example.org/gone"}
    writer.put("/store", params=params, content=DATA, headers={**TURTLE, **AUTH})
    assert writer.delete("/store", params=params, headers=AUTH).status_code == 204
    assert writer.get("/store", params=params).status_code == 404
    assert writer.delete("/store", params=params, headers=AUTH).status_code == 404


def test_graph_store_writes_are_visible_to_sparql(writer):
    writer.put("/store", params={"graph": "http://example.org/seen"}, content=DATA, headers={**TURTLE, **AUTH})
    query = 'ASK { GRAPH <http://example.org/seen> { <http://example.org/alice> <http://example.org/name> "Alice" } }'
    assert writer.get("/sparql", params={"query": query}).json()["boolean"] is True
