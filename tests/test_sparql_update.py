"""SPARQL 1.1 Update over the protocol: authorisation, atomicity, protocol datasets, real clients."""

from __future__ import annotations

import httpx
import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.plugins.stores.sparqlstore import SPARQLUpdateStore
from SPARQLWrapper import JSON, POST, SPARQLWrapper

from tests.server import AUTH, TOKEN
from tests.w3c_protocol import PROTOCOL_DATA, load_manifest_cases, run_protocol_case

MANIFEST = PROTOCOL_DATA / "protocol" / "manifest.ttl"
UPDATE_CASES = [c for c in load_manifest_cases(MANIFEST) if "update" in c.name] if MANIFEST.exists() else []
UPDATE = "application/sparql-update"
INSERT = 'INSERT DATA { GRAPH <urn:test:g> { <urn:test:s> <urn:test:p> "inserted" } }'


@pytest.fixture(scope="module")
def writer(write_server):
    with httpx.Client(base_url=write_server, timeout=10) as http:
        yield http


def ask(client: httpx.Client, query: str) -> bool:
    response = client.get("/sparql", params={"query": query}, headers={"Accept": "application/sparql-results+json"})
    assert response.status_code == 200, response.text
    return response.json()["boolean"]


# ------------------------------------------------------------------ the W3C suite

@pytest.mark.parametrize("case", UPDATE_CASES, ids=[c.name for c in UPDATE_CASES])
def test_w3c_protocol_update_case(empty_write_server, case):
    with httpx.Client(base_url=empty_write_server, timeout=10) as client:
        run_protocol_case(client, case, lambda path: path.replace("/sparql/", "/sparql", 1), AUTH)


# ------------------------------------------------------------------ authorisation

def test_update_without_configured_token_is_403(read_server):
    response = httpx.post(read_server + "/sparql", content=INSERT, headers={"Content-Type": UPDATE, **AUTH})
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("authorization", [None, "Bearer wrong-token", "Basic dXNlcjpwYXNz", "Bearer"])
def test_update_with_missing_or_wrong_token_is_401(writer, authorization):
    headers = {"Content-Type": UPDATE} | ({"Authorization": authorization} if authorization else {})
    response = writer.post("/sparql", content=INSERT, headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert not ask(writer, "ASK { GRAPH <urn:test:g> { ?s ?p ?o } }")


def test_update_with_token_is_applied_and_visible_to_queries(writer):
    response = writer.post("/sparql", content=INSERT.replace("urn:test:g", "urn:test:visible"),
                           headers={"Content-Type": UPDATE, **AUTH})
    assert response.status_code == 204
    assert ask(writer, 'ASK { GRAPH <urn:test:visible> { <urn:test:s> <urn:test:p> "inserted" } }')
    assert ask(writer, 'ASK { <urn:test:s> <urn:test:p> "inserted" }')  # the union default graph too


def test_update_by_form_post(writer):
    response = writer.post("/sparql", data={"update": INSERT.replace("urn:test:g", "urn:test:form")}, headers=AUTH)
    assert response.status_code == 204
    assert ask(writer, "ASK { GRAPH <urn:test:form> { ?s ?p ?o } }")


# ------------------------------------------------------------------ atomicity and errors

def test_failed_update_changes_nothing(writer):
    before = writer.get("/health").json()["triples"]
    update = INSERT.replace("urn:test:g", "urn:test:atomic") + " ; DROP GRAPH <urn:test:does-not-exist>"
    response = writer.post("/sparql", content=update, headers={"Content-Type": UPDATE, **AUTH})
    assert response.status_code == 400
    assert not ask(writer, "ASK { GRAPH <urn:test:atomic> { ?s ?p ?o } }")
    assert writer.get("/health").json()["triples"] == before


def test_update_syntax_error_is_400_with_position(writer):
    response = writer.post("/sparql", content="INSERT DATA {\n <urn:a> <urn:b> }",
                           headers={"Content-Type": UPDATE, **AUTH})
    assert response.status_code == 400
    assert "line 2, column" in response.json()["detail"]


def test_using_graph_uri_with_with_clause_is_400(writer):
    update = "WITH <urn:test:g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }"
    response = writer.post("/sparql", params={"using-graph-uri": "urn:test:g"}, content=update,
                           headers={"Content-Type": UPDATE, **AUTH})
    assert response.status_code == 400


def test_using_graph_uri_sets_the_where_dataset(writer):
    writer.post("/sparql", headers={"Content-Type": UPDATE, **AUTH}, content="""INSERT DATA {
        GRAPH <urn:test:u1> { <urn:test:a> a <urn:test:T> } GRAPH <urn:test:u2> { <urn:test:b> a <urn:test:T> } }""")
    update = "INSERT { GRAPH <urn:test:out> { ?x a <urn:test:Seen> } } WHERE { ?x a <urn:test:T> }"
    response = writer.post("/sparql", params={"using-graph-uri": "urn:test:u1"}, content=update,
                           headers={"Content-Type": UPDATE, **AUTH})
    assert response.status_code == 204
    assert ask(writer, "ASK { GRAPH <urn:test:out> { <urn:test:a> a <urn:test:Seen> } }")
    assert not ask(writer, "ASK { GRAPH <urn:test:out> { <urn:test:b> a <urn:test:Seen> } }")


REFUSED = 'INSERT DATA { GRAPH <urn:test:refused> { <urn:test:s> <urn:test:p> "refused" } }'


@pytest.mark.parametrize("form", [{"update": REFUSED, "format": "json"},
                                  {"update": REFUSED, "named-graph-uri": "http://example.org/g"},
                                  {"query": "ASK {}", "using-graph-uri": "http://example.org/g"}],
                         ids=["update-with-format", "update-with-named-graph-uri", "query-with-using-graph-uri"])
def test_a_parameter_of_the_other_operation_is_400_and_nothing_is_applied(writer, form):
    response = writer.post("/sparql", data=form, headers=AUTH)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert not ask(writer, REFUSED.replace("INSERT DATA", "ASK"))


def test_update_by_get_is_400(writer):
    assert writer.get("/sparql", params={"update": "CLEAR ALL"}, headers=AUTH).status_code == 400


# ------------------------------------------------------------------ real clients

def test_sparqlwrapper_update_with_bearer_token(write_server):
    sparql = SPARQLWrapper(write_server + "/sparql", updateEndpoint=write_server + "/sparql")
    sparql.addCustomHttpHeader("Authorization", f"Bearer {TOKEN}")
    sparql.setMethod(POST)
    sparql.setQuery('INSERT DATA { GRAPH <urn:test:wrapper> { <urn:test:w> <urn:test:p> "by SPARQLWrapper" } }')
    assert sparql.query().response.status == 204
    sparql.setMethod("GET")
    sparql.setQuery("ASK { GRAPH <urn:test:wrapper> { ?s ?p ?o } }")
    sparql.setReturnFormat(JSON)
    assert sparql.query().convert()["boolean"] is True


def test_rdflib_sparqlupdatestore_adds_and_removes(write_server):
    store = SPARQLUpdateStore(write_server + "/sparql", write_server + "/sparql", headers=dict(AUTH),
                              autocommit=True)
    triple = (URIRef("urn:test:rdflib"), URIRef("urn:test:p"), Literal("by rdflib"))
    graph = URIRef("urn:test:rdflib-graph")
    target = Graph(store=store, identifier=graph)
    target.add(triple)
    assert triple in target
    target.remove(triple)
    assert triple not in target
