"""Handler-level checks in this process: the app over the built store through FastAPI's TestClient
(``app_client``), no server. Content negotiation, 4xx problems and their shape, for /id/, /sparql and
the collections; what needs a real server (clients, limits, workers, the W3C suites) stays in the
real-server modules beside these.
"""

from __future__ import annotations

import html

import pytest
from rdflib import Graph
from rdflib.compare import isomorphic

from tests.helpers import RESOURCES, expand_compacted, rdf_format_of

ST1337 = "https://w3id.org/uk-kim/id/standard/ST1337"
SELECT = "SELECT ?s ?p ?o WHERE { ?s ?p ?o } ORDER BY ?s ?p ?o LIMIT 5"
CONSTRUCT = f"CONSTRUCT {{ <{ST1337}> ?p ?o }} WHERE {{ <{ST1337}> ?p ?o }}"


def vary(response) -> set[str]:
    return {v.strip().lower() for v in response.headers.get("vary", "").split(",")}


# ------------------------------------------------------------------ linked data: /id/...

@pytest.mark.parametrize("accept, media", [
    (None, "application/ld+json"),
    ("*/*", "application/ld+json"),
    ("application/json", "application/json"),
    ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "text/html"),
    ("text/turtle;q=0.5, application/n-triples", "application/n-triples"),
    ("application/rdf+xml", "application/rdf+xml"),
    ("text/*", "text/html"),
])
def test_accept_header_picks_the_format(app_client, accept, media):
    headers = {"Accept": accept} if accept is not None else {}
    response = app_client.get("/id/" + RESOURCES["duty"], headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == media
    assert "accept" in vary(response)


@pytest.mark.parametrize("name, media", [
    ("ttl", "text/turtle"), ("turtle", "text/turtle"), ("nt", "application/n-triples"),
    ("rdf", "application/rdf+xml"), ("jsonld", "application/ld+json"), ("html", "text/html"),
    ("text/turtle", "text/turtle"),
])
def test_format_parameter_overrides_accept(app_client, name, media):
    response = app_client.get(f"/id/{RESOURCES['knowledge']}", params={"format": name},
                          headers={"Accept": "application/ld+json"})
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == media


def test_unknown_format_name_is_400(app_client):
    response = app_client.get(f"/id/{RESOURCES['duty']}", params={"format": "pdf"})
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("accept", ["image/png", "application/sparql-results+json", "text/html;q=0, */*;q=0"])
def test_unacceptable_is_406_problem(app_client, accept):
    response = app_client.get(f"/id/{RESOURCES['duty']}", headers={"Accept": accept})
    assert response.status_code == 406
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 406
    assert "accept" in vary(response)


def test_negotiation_comes_before_the_lookup(app_client):
    response = app_client.get("/id/standard/ST0000", headers={"Accept": "image/png"})
    assert response.status_code == 406  # not 404: nothing was looked up


@pytest.mark.parametrize("path", ["standard/ST0000", "standard/ST1337/duty/99", "org/no-such-org", "x",
                                  "standard/ST1337%0A"])
def test_unknown_iri_is_404_problem(app_client, path):
    response = app_client.get(f"/id/{path}", headers={"Accept": "text/turtle"})
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["title"] == "Resource not found"


# ------------------------------------------------------------------ SPARQL: content negotiation

@pytest.mark.parametrize(("accept", "expected"), [
    ("text/csv;q=0.5, application/sparql-results+xml;q=0.9", "application/sparql-results+xml"),
    ("*/*", "application/sparql-results+json"),
    ("text/*", "text/csv; charset=utf-8"),
    ("application/json", "application/json"),
    ("text/html;q=1, text/tab-separated-values;q=0.2", "text/tab-separated-values; charset=utf-8"),
    ("nonsense;;;", "application/sparql-results+json"),
])
def test_select_accept_header_is_negotiated(app_client, accept, expected):
    response = app_client.get("/sparql", params={"query": SELECT}, headers={"Accept": accept})
    assert response.status_code == 200
    assert response.headers["content-type"] == expected
    assert "Accept" in response.headers["vary"]


def test_unacceptable_is_406_problem_before_running(app_client):
    response = app_client.get("/sparql", params={"query": SELECT}, headers={"Accept": "image/png"})
    assert response.status_code == 406
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 406


def test_construct_cannot_be_sent_as_sparql_results(app_client):
    response = app_client.get("/sparql", params={"query": CONSTRUCT}, headers={"Accept": "text/csv"})
    assert response.status_code == 406


@pytest.mark.parametrize(("fmt", "media"), [("json", "application/sparql-results+json"),
                                            ("xml", "application/sparql-results+xml"),
                                            ("csv", "text/csv"), ("tsv", "text/tab-separated-values")])
def test_format_parameter_overrides_accept_for_results(app_client, fmt, media):
    response = app_client.get("/sparql", params={"query": SELECT, "format": fmt}, headers={"Accept": "text/turtle"})
    assert response.headers["content-type"].split(";")[0] == media


@pytest.mark.parametrize(("fmt", "media"), [("turtle", "text/turtle"), ("ntriples", "application/n-triples"),
                                            ("rdfxml", "application/rdf+xml"), ("jsonld", "application/ld+json"),
                                            ("trig", "application/trig"), ("nquads", "application/n-quads")])
def test_format_parameter_overrides_accept_for_graphs(app_client, fmt, media):
    response = app_client.get("/sparql", params={"query": CONSTRUCT, "format": fmt}, headers={"Accept": "text/csv"})
    assert response.headers["content-type"].split(";")[0] == media
    assert len(Graph().parse(data=response.content, format=rdf_format_of(media))) > 5


def test_unknown_format_parameter_is_400(app_client):
    assert app_client.get("/sparql", params={"query": SELECT, "format": "yaml"}).status_code == 400


# ------------------------------------------------------------------ SPARQL: errors

def test_syntax_error_is_400_problem_naming_the_position(app_client):
    response = app_client.get("/sparql", params={"query": "SELECT * WHERE {\n  ?s ?p \n}"})
    assert response.status_code == 400
    problem = response.json()
    assert response.headers["content-type"] == "application/problem+json"
    assert set(problem) == {"type", "title", "status", "detail", "instance"}
    assert "line 3, column" in problem["detail"]
    assert problem["instance"] == "/sparql"


@pytest.mark.parametrize(("query", "detail"), [
    ("SELECT * WHERE { ?s foo:bar ?o }",
     "line 1, column 21: undefined prefix foo (declare it with PREFIX foo: <...>)"),
    ("PREFIX kim: <https://w3id.org/uk-kim/def#>\nSELECT * WHERE {\n  ?s a kim:Duty .\n",
     "line 2, column 16: the { opened here is not closed"),
    ("SELECT * WHERE { ?s <http://example.org/a b> ?o }", "line 1, column 21: invalid IRI <http://example.org/a b>"),
    ('ASK {\n ?s ?p "unclosed }', "line 2, column 8: string not closed"),
    ("SELCT * WHERE { ?s ?p ?o }", "line 1, column 1: unknown keyword SELCT: a query starts with SELECT, ASK, "
                                   "CONSTRUCT or DESCRIBE"),
])
def test_syntax_error_is_one_short_located_line(app_client, query, detail):
    response = app_client.get("/sparql", params={"query": query})
    assert response.status_code == 400
    assert response.json()["detail"] == detail


def test_query_and_update_together_is_400(app_client):
    response = app_client.post("/sparql", data={"query": "ASK {}", "update": "CLEAR ALL"})
    assert response.status_code == 400


def test_unsupported_content_type_is_415(app_client):
    response = app_client.post("/sparql", content="ASK {}", headers={"Content-Type": "text/plain"})
    assert response.status_code == 415
    assert response.headers["content-type"] == "application/problem+json"


def test_unknown_route_is_404_problem(app_client):
    response = app_client.get("/no/such/thing")
    assert response.status_code == 404 and response.json()["status"] == 404


@pytest.mark.parametrize("path, allow", [("/sparql", "GET, HEAD, POST, OPTIONS"),
                                         ("/store", "GET, HEAD, POST, PUT, DELETE, OPTIONS"),
                                         ("/id/standard/ST1337", "GET, HEAD, OPTIONS")])
def test_options_names_every_method_of_the_url(app_client, path, allow):
    response = app_client.options(path)
    assert response.status_code == 200 and response.headers["allow"] == allow


def test_options_on_an_unknown_url_is_404_problem(app_client):
    response = app_client.options("/no/such/thing")
    assert response.status_code == 404 and response.json()["status"] == 404


def test_method_not_allowed_is_405_problem(app_client):
    response = app_client.put("/sparql", content="ASK {}")
    assert response.status_code == 405 and response.json()["title"] == "Method Not Allowed"


# ------------------------------------------------------------------ collections: errors

@pytest.mark.parametrize("params", [{"page": "0"}, {"page": "x"}, {"pageSize": "0"}, {"pageSize": "501"},
                                    {"pageSize": "-1"}, {"type": "Q"}, {"colour": "blue"},
                                    {"format": "yaml"}])
def test_bad_parameters_are_400_problems(app_client, params):
    response = app_client.get("/standards/ST1337/ksbs", params=params)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 400


def test_repeated_parameter_is_400(app_client):
    assert app_client.get("/standards?page=1&page=2").status_code == 400


def test_unknown_organisation_type_is_400(app_client):
    response = app_client.get("/organisations", params={"type": "secret-society"})
    assert response.status_code == 400 and "secret-society" in response.json()["detail"]


@pytest.mark.parametrize("path", ["/standards/ST9999/duties", "/standards/ST9999/ksbs",
                                  "/standards/ST1337/duties?page=2", "/standards/%22%7D%20DROP/ksbs",
                                  # a line break after a name that would do is no name ($ in a pattern would take it)
                                  "/standards/ST1337%0A/ksbs", "/standards/ST1337%0A/duties"])
def test_missing_standard_or_page_is_404(app_client, path):
    response = app_client.get(path)
    assert response.status_code == 404 and response.headers["content-type"] == "application/problem+json"


def test_unacceptable_media_type_is_406(app_client):
    response = app_client.get("/disciplines", headers={"Accept": "image/png"})
    assert response.status_code == 406 and response.headers["content-type"] == "application/problem+json"


# ------------------------------------------------------------------ errors for people and for programs

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def test_a_browser_gets_an_html_404_that_says_where_to_go(app_client):
    response = app_client.get("/standards/ST1337", headers={"Accept": BROWSER})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert '<a href="/id/standard/ST1337">' in response.text
    assert "Nothing is served at /standards/ST1337" in response.text
    assert '<a href="/search?q=ST1337">' in response.text


def test_a_program_gets_problem_json_with_the_same_hint(app_client):
    for accept in (None, "*/*", "application/json"):
        response = app_client.get("/standards/ST1337", headers={"Accept": accept} if accept else {})
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert problem["detail"] == ("Nothing is served at /standards/ST1337. "
                                     "Did you mean /id/standard/ST1337 (the standard ST1337)?")


@pytest.mark.parametrize(("method", "path"), [("GET", "/no/such/page"), ("POST", "/health"),
                                              ("GET", "/id/standard/ST9999")])
def test_no_problem_has_an_empty_detail(app_client, method, path):
    problem = app_client.request(method, path).json()
    assert problem["detail"].strip() and f"Did you mean {path} " not in problem["detail"]
    page = app_client.request(method, path, headers={"Accept": BROWSER})
    assert page.headers["content-type"].startswith("text/html")
    assert problem["detail"] in html.unescape(page.text)


# ------------------------------------------------------------------ SPARQL: compacted JSON-LD

COMPACTED = 'application/ld+json;profile="http://www.w3.org/ns/json-ld#compacted"'


@pytest.mark.parametrize("query", ["DESCRIBE <https://w3id.org/uk-kim/id/standard/ST1337/duty/2>",
                                   "CONSTRUCT WHERE { ?d a <https://w3id.org/uk-kim/def#Duty> ; "
                                   "<http://www.w3.org/2004/02/skos/core#notation> ?code }"])
def test_construct_and_describe_give_compacted_jsonld_when_asked(app_client, query):
    response = app_client.get("/sparql", params={"query": query}, headers={"Accept": COMPACTED})
    assert response.status_code == 200
    assert response.headers["content-type"] == ('application/ld+json; '
                                                'profile="http://www.w3.org/ns/json-ld#compacted"')
    document = response.json()
    assert document["@context"] == "http://testserver/context.jsonld"
    assert "id" in document or all("id" in node for node in document["@graph"])
    nt = app_client.get("/sparql", params={"query": query}, headers={"Accept": "application/n-triples"})
    assert isomorphic(expand_compacted(document), Graph().parse(data=nt.text, format="nt"))
    expanded = app_client.get("/sparql", params={"query": query}, headers={"Accept": "application/ld+json"})
    assert expanded.headers["content-type"].startswith("application/ld+json") and "@context" not in expanded.text
