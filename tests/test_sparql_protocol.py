"""SPARQL 1.1 Protocol queries against a real server, with real clients (httpx, SPARQLWrapper, rdflib)."""

from __future__ import annotations

import csv
import io
import json
from xml.etree import ElementTree

import httpx
import pytest
from rdflib import Graph, URIRef
from rdflib.compare import isomorphic
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from SPARQLWrapper import CSV, JSON, N3, TSV, TURTLE, XML, SPARQLWrapper

from tests.helpers import rdf_format_of
from tests.w3c_protocol import KASEI, PROTOCOL_DATA, load_manifest_cases, parse_boolean, run_protocol_case

ST1337 = "https://w3id.org/uk-kim/id/standard/ST1337"
# one resource's triples, ordered: cheap enough for the test servers' 1 s limit on a loaded machine
SELECT = ("SELECT ?s ?p ?o WHERE { VALUES ?s { <https://w3id.org/uk-kim/id/standard/ST1337> } ?s ?p ?o } "
          "ORDER BY ?s ?p ?o LIMIT 5")
ASK_STANDARD = f"ASK {{ <{ST1337}> ?p ?o }}"
CONSTRUCT = f"CONSTRUCT {{ <{ST1337}> ?p ?o }} WHERE {{ <{ST1337}> ?p ?o }}"
RESULTS_NS = "{http://www.w3.org/2005/sparql-results#}"
MANIFEST = PROTOCOL_DATA / "protocol" / "manifest.ttl"
QUERY_CASES = [c for c in load_manifest_cases(MANIFEST) if "update" not in c.name] if MANIFEST.exists() else []


@pytest.fixture(scope="module")
def client(read_server):
    with httpx.Client(base_url=read_server, timeout=10) as http:
        yield http


# ------------------------------------------------------------------ the W3C suite

@pytest.mark.parametrize("case", QUERY_CASES, ids=[c.name for c in QUERY_CASES])
def test_w3c_protocol_query_case(client, case):
    run_protocol_case(client, case, lambda path: path.replace("/sparql/", "/sparql", 1), {})


# ------------------------------------------------------------------ methods

def test_get_select_answers_json_by_default(client):
    response = client.get("/sparql", params={"query": SELECT}, headers={"Accept": ""})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/sparql-results+json"
    assert len(response.json()["results"]["bindings"]) == 5


def test_post_form_and_post_direct_and_get_agree(client):
    by_get = client.get("/sparql", params={"query": SELECT}).json()
    by_form = client.post("/sparql", data={"query": SELECT}).json()
    by_direct = client.post("/sparql", content=SELECT, headers={"Content-Type": "application/sparql-query"}).json()
    assert by_get == by_form == by_direct


def test_head_has_headers_and_no_body(client):
    response = client.head("/sparql", params={"query": ASK_STANDARD})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/sparql-results+json"
    assert response.content == b""


def test_form_body_is_decoded_exactly_once(client):
    # httpx percent-encodes '%' as %25; decoding twice would turn 100%41 into 100A.
    response = client.post("/sparql", data={"query": 'SELECT ("100%41" AS ?x) {}'}, headers={"Accept": "text/csv"})
    assert response.text.splitlines() == ["x", "100%41"]


def test_query_string_is_decoded_exactly_once(client):
    response = client.get("/sparql?query=SELECT%20(%22100%2541%22%20AS%20%3Fx)%20%7B%7D",
                          headers={"Accept": "text/csv"})
    assert response.text.splitlines() == ["x", "100%41"]


# ------------------------------------------------------------------ every result format

def test_select_as_json(client):
    body = client.get("/sparql", params={"query": SELECT},
                      headers={"Accept": "application/sparql-results+json"}).json()
    assert body["head"]["vars"] == ["s", "p", "o"]


def test_select_as_xml(client):
    response = client.get("/sparql", params={"query": SELECT}, headers={"Accept": "application/sparql-results+xml"})
    root = ElementTree.fromstring(response.content)
    assert len(root.findall(f"{RESULTS_NS}results/{RESULTS_NS}result")) == 5


def test_select_as_csv(client):
    response = client.get("/sparql", params={"query": SELECT}, headers={"Accept": "text/csv"})
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == ["s", "p", "o"] and len(rows) == 6


def test_select_as_tsv(client):
    response = client.get("/sparql", params={"query": SELECT}, headers={"Accept": "text/tab-separated-values"})
    assert response.headers["content-type"] == "text/tab-separated-values; charset=utf-8"
    lines = response.text.splitlines()
    assert lines[0] == "?s\t?p\t?o" and len(lines) == 6
    assert all(line.count("\t") == 2 for line in lines)


@pytest.mark.parametrize("accept", ["application/sparql-results+json", "application/sparql-results+xml"])
def test_ask_answers_true_and_false(client, accept):
    yes = client.get("/sparql", params={"query": ASK_STANDARD}, headers={"Accept": accept})
    no = client.get("/sparql", params={"query": "ASK { <urn:nothing> ?p ?o }"}, headers={"Accept": accept})
    assert parse_boolean(yes) is True and parse_boolean(no) is False


@pytest.mark.parametrize("accept", ["text/turtle", "application/n-triples", "application/rdf+xml",
                                    "application/ld+json", "application/trig", "application/n-quads"])
def test_construct_in_every_rdf_format_is_the_same_graph(client, accept):
    reference = Graph().parse(data=client.get("/sparql", params={"query": CONSTRUCT},
                                              headers={"Accept": "application/n-triples"}).text, format="nt")
    response = client.get("/sparql", params={"query": CONSTRUCT}, headers={"Accept": accept})
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == accept
    graph = Graph().parse(data=response.content, format=rdf_format_of(accept))
    assert len(reference) > 5 and isomorphic(graph, reference)


def test_describe_answers_turtle_by_default(client):
    response = client.get("/sparql", params={"query": f"DESCRIBE <{ST1337}>"}, headers={"Accept": "*/*"})
    assert response.headers["content-type"] == "text/turtle; charset=utf-8"
    assert (URIRef(ST1337), None, None) in Graph().parse(data=response.text, format="turtle")


# ------------------------------------------------------------------ datasets

def test_default_graph_is_the_union_of_named_graphs(client):
    query = f"ASK {{ <{KASEI}data1.rdf> a ?t . <{ST1337}> ?p ?o }}"
    assert client.get("/sparql", params={"query": query}).json()["boolean"] is True


def test_default_graph_uri_replaces_the_dataset(client):
    params = {"query": f"ASK {{ <{ST1337}> ?p ?o }}", "default-graph-uri": f"{KASEI}data1.rdf"}
    assert client.get("/sparql", params=params).json()["boolean"] is False


def test_query_from_clause_is_honoured(client):
    query = f"SELECT ?x FROM <{KASEI}data2.rdf> WHERE {{ ?x a ?t }}"
    bindings = client.get("/sparql", params={"query": query}).json()["results"]["bindings"]
    assert [b["x"]["value"] for b in bindings] == [f"{KASEI}data2.rdf"]


def test_named_graph_uri_limits_graph_patterns(client):
    params = [("query", "SELECT ?g WHERE { GRAPH ?g { ?x a ?t } }"), ("named-graph-uri", f"{KASEI}data3.rdf")]
    bindings = client.get("/sparql", params=params).json()["results"]["bindings"]
    assert [b["g"]["value"] for b in bindings] == [f"{KASEI}data3.rdf"]


def test_bad_graph_iri_is_400(client):
    params = {"query": "ASK {}", "default-graph-uri": "not an iri"}
    assert client.get("/sparql", params=params).status_code == 400


# ------------------------------------------------------------------ HTTP behaviour

def test_cors_allows_any_origin_without_credentials(client):
    response = client.get("/sparql", params={"query": "ASK {}"}, headers={"Origin": "https://example.org"})
    assert response.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in response.headers


def test_cors_preflight_is_answered(client):
    response = client.options("/sparql", headers={"Origin": "https://example.org",
                                                  "Access-Control-Request-Method": "POST",
                                                  "Access-Control-Request-Headers": "content-type"})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    assert "POST" in response.headers["access-control-allow-methods"]
    assert "access-control-allow-credentials" not in response.headers


def test_large_bodies_are_gzipped(client):
    response = client.get("/sparql", params={"query": "SELECT * { ?s ?p ?o } LIMIT 500"},
                          headers={"Accept-Encoding": "gzip"})
    assert response.headers["content-encoding"] == "gzip"
    assert len(response.json()["results"]["bindings"]) == 500


# ------------------------------------------------------------------ real clients

@pytest.mark.parametrize("method", ["GET", "POST"])
def test_sparqlwrapper_select_json_xml_csv_tsv(read_server, method):
    sparql = SPARQLWrapper(read_server + "/sparql")
    sparql.setMethod(method)
    sparql.setQuery(SELECT)
    sparql.setReturnFormat(JSON)
    assert len(sparql.query().convert()["results"]["bindings"]) == 5
    sparql.setReturnFormat(XML)
    assert len(sparql.query().convert().getElementsByTagName("result")) == 5
    sparql.setReturnFormat(CSV)
    assert len(list(csv.reader(io.StringIO(sparql.query().convert().decode())))) == 6
    sparql.setReturnFormat(TSV)
    assert len(sparql.query().convert().decode().splitlines()) == 6


def test_sparqlwrapper_ask_and_construct(read_server):
    sparql = SPARQLWrapper(read_server + "/sparql")
    sparql.setQuery(ASK_STANDARD)
    sparql.setReturnFormat(JSON)
    assert sparql.query().convert()["boolean"] is True
    sparql.setQuery(CONSTRUCT)
    sparql.setReturnFormat(XML)  # RDF/XML, parsed by SPARQLWrapper into an rdflib Graph
    graph = sparql.query().convert()
    assert (URIRef(ST1337), None, None) in graph
    for fmt in (TURTLE, N3):
        sparql.setReturnFormat(fmt)
        assert isomorphic(Graph().parse(data=sparql.query().convert(), format="turtle"), graph)


@pytest.mark.parametrize("method", ["GET", "POST", "POST_FORM"])
def test_rdflib_sparqlstore_queries(read_server, method):
    as_json = SPARQLStore(read_server + "/sparql", returnFormat="json", method=method)
    assert len(list(as_json.query(SELECT))) == 5
    assert as_json.query(ASK_STANDARD).askAnswer is True
    as_xml = SPARQLStore(read_server + "/sparql", method=method)  # XML results, RDF/XML graphs
    assert len(list(as_xml.query(SELECT))) == 5
    assert (URIRef(ST1337), None, None) in as_xml.query(CONSTRUCT).graph


def test_sparql_json_parses_as_json(client):
    assert json.loads(client.get("/sparql", params={"query": "SELECT (1 AS ?one) {}"}).content)["results"]
