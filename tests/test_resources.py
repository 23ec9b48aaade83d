"""Dereferenceable IRIs over HTTP: conneg, the JSON-LD round trip, linked labels, caching, HTML, paths.

``resources_server`` (``kimgraph serve`` on 127.0.0.1) serves a private copy of the built store, to which
one resource with a hostile label has been added.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator

import httpx
import pytest
from pyld import jsonld
from rdflib import Graph
from rdflib.compare import isomorphic, to_isomorphic

from sparql_api.linked_data import describe, rdf_bytes
from store.embedded import Store
from tests.helpers import ID, RESOURCES, ROOT
from tests.server import XSS
from tests.test_observability import requests_counted, samples

CONTEXT = json.loads((ROOT / "ontology" / "context.jsonld").read_text())

FORMATS = {
    "application/ld+json": "json-ld",
    "text/turtle": "turtle",
    "application/n-triples": "nt",
    "application/rdf+xml": "xml",
}


# ------------------------------------------------------------------ fixtures

@pytest.fixture(scope="module")
def client(resources_server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=resources_server, timeout=30) as c:
        yield c


@pytest.fixture(scope="session")
def reader(resources_store, resources_server) -> Store:
    """The same store, read-only, as the test's view of what the server holds."""
    return Store.open(resources_store, read_only=True)


def expected(reader: Store, path: str) -> Graph:
    """The resource's CONSTRUCT, run on the store directly."""
    return Graph().parse(data=rdf_bytes(describe(reader, ID + path), "application/n-triples"), format="nt")


def local_loader(url, options=None):
    """A pyld document loader that serves only our context: the test never touches the network."""
    if not url.endswith("/context.jsonld"):
        raise AssertionError(f"the JSON-LD asked for {url}")
    return {"contextUrl": None, "documentUrl": url, "document": CONTEXT}


def expand_to_graph(document: dict) -> Graph:
    nquads = jsonld.to_rdf(document, {"format": "application/n-quads", "documentLoader": local_loader})
    return Graph().parse(data=nquads, format="nt")


def vary(response) -> set[str]:
    return {v.strip().lower() for v in response.headers.get("vary", "").split(",")}


# ------------------------------------------------------------------ round trip and conneg

@pytest.mark.parametrize("kind", sorted(RESOURCES))
def test_jsonld_round_trips_to_the_construct(client, reader, kind):
    path = RESOURCES[kind]
    response = client.get(f"/id/{path}", headers={"Accept": "application/ld+json"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/ld+json")
    document = response.json()
    assert document["id"] == ID + path
    assert document["@context"].endswith("/context.jsonld")
    got, want = expand_to_graph(document), expected(reader, path)
    assert len(want) > 0
    assert isomorphic(got, want), (
        f"missing {sorted(to_isomorphic(want) - to_isomorphic(got))[:5]}\n"
        f"extra {sorted(to_isomorphic(got) - to_isomorphic(want))[:5]}")


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # rdflib's parser uses ConjunctiveGraph
@pytest.mark.parametrize("kind", ["knowledge", "profession", "span"])
def test_rdflib_reads_the_jsonld_to_the_same_triples(client, reader, resources_server, kind):
    """rdflib's JSON-LD parser (which fetches the context from this server) agrees with pyld."""
    path = RESOURCES[kind]
    response = client.get(f"/id/{path}")
    got = Graph().parse(data=response.text, format="json-ld", base=f"{resources_server}/id/{path}")
    assert isomorphic(got, expected(reader, path))


@pytest.mark.parametrize("media", sorted(FORMATS))
@pytest.mark.parametrize("kind", ["standard", "duty", "knowledge", "organisation", "span", "source"])
def test_every_rdf_format_says_the_same(client, reader, kind, media):
    path = RESOURCES[kind]
    response = client.get(f"/id/{path}", headers={"Accept": media})
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == media
    assert "accept" in vary(response)
    assert response.headers["content-location"].endswith(f"/id/{path}?format=" + {
        "application/ld+json": "jsonld", "text/turtle": "turtle",
        "application/n-triples": "ntriples", "application/rdf+xml": "rdfxml"}[media])
    if media == "application/ld+json":
        got = expand_to_graph(response.json())
    else:
        got = Graph().parse(data=response.content, format=FORMATS[media])
    assert isomorphic(got, expected(reader, path))


KEPT = ("kimgraph_resource_answers_kept_total", frozenset())


def _as_seen(response: httpx.Response) -> tuple:
    """What a client can tell of an answer: status, headers (but the date and request id) and body."""
    headers = sorted((k, v) for k, v in response.headers.multi_items() if k not in ("date", "x-request-id"))
    return response.status_code, headers, response.content


@pytest.mark.parametrize("headers", [
    {"Accept": "application/ld+json"},
    {"Accept": "text/turtle", "Accept-Encoding": "gzip"},
    {"Accept": "application/json", "Origin": "https://example.org"},
], ids=["jsonld", "turtle-gzip", "json-cors"])
def test_a_kept_answer_is_served_before_routing_exactly_as_the_route_serves_it(resources_server, headers):
    path = "/id/standard/ST1337/duty/4"
    with httpx.Client(base_url=resources_server, timeout=30) as plain:  # no Accept-Encoding of its own
        plain.headers.pop("accept-encoding", None)
        plain.get(path, headers=headers)  # built and kept, unless it was prepared
        before = samples(resources_server)[KEPT]
        kept = plain.get(path, headers=headers)
        routed = plain.get(path + "?format=", headers=headers)  # a query string: always the route
        assert samples(resources_server)[KEPT] == before + 1
        assert kept.status_code == 200 and kept.content
        assert _as_seen(kept) == _as_seen(routed)
        if "Origin" in headers:
            assert kept.headers["access-control-allow-origin"] == "*"
        if "Accept-Encoding" in headers:
            assert kept.headers["content-encoding"] == "gzip"
        for conditional in ({"If-None-Match": kept.headers["etag"]},
                            {"If-Modified-Since": kept.headers["last-modified"]}):
            kept_304 = plain.get(path, headers={**headers, **conditional})
            assert kept_304.status_code == 304
            assert _as_seen(kept_304) == _as_seen(plain.get(path + "?format=", headers={**headers, **conditional}))
        head = plain.head(path, headers=headers)
        assert head.status_code == 200 and not head.content
        assert _as_seen(head)[1] == _as_seen(kept)[1]
    assert requests_counted(samples(resources_server), "/id/{path}", "HEAD") >= 1  # counted under its route


@pytest.mark.parametrize("path, accept, status", [
    ("/id/standard/ST1337/duty/4", "image/png", 406),
    ("/id/standard/ST1337/duty/999", "application/ld+json", 404),
    ("/id/standard/ST1337/duty/4%0A", "application/ld+json", 404),
])
def test_what_the_route_refuses_is_never_answered_before_routing(client, resources_server, path, accept, status):
    before = samples(resources_server)[KEPT]
    response = client.get(path, headers={"Accept": accept})
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    assert samples(resources_server)[KEPT] == before


def test_construct_holds_own_triples_and_hash_children(reader):
    span = ID + RESOURCES["span"]
    own = reader.select("SELECT ?p ?o ?iri WHERE { ?iri ?p ?o }", substitutions={"iri": _ref(span)})
    graph = expected(reader, RESOURCES["span"])
    assert len(own) >= 3 and all((_ref(span), row["p"], row["o"]) in graph for row in own)
    children = {str(s) for s in graph.subjects() if str(s).startswith(span + "#")}
    assert children == {span + "#quote", span + "#position"}


def _ref(iri: str):
    from rdflib import URIRef
    return URIRef(iri)


EDGE_CASES = f"""
@prefix kim: <https://w3id.org/uk-kim/def#> . @prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> . @prefix dcterms: <http://purl.org/dc/terms/> .
@prefix ex: <http://example.org/> .
<{ID}x/root> a kim:Knowledge , kim:Skill , ex:Thing ;
    skos:prefLabel "Root"@en , "Gwraidd"@cy , "no language" ;
    skos:notation "X1"^^ex:code ;
    kim:level "007"^^xsd:integer , 8 ;
    kim:share 0.70 ; kim:declaresProfessionalRecognition true ; dcterms:modified "2024-07-30"^^xsd:date ;
    ex:unknown "plain" , <{ID}x/other> ;
    ex:blank [ ex:inner "in a blank node" ] ;
    kim:evidence <{ID}x/root#part> .
<{ID}x/root#part> ex:back <{ID}x/root> ; kim:evidence <{ID}x/root> .
<{ID}x/other> skos:prefLabel "Other"@en ; ex:cycle <{ID}x/root> .
<{ID}x/duty> kim:mapsToKnowledge <{ID}x/root> ; kim:mapsToSkill <{ID}x/root> ; skos:notation "D9" .
<{ID}x/untyped> kim:mapsToKnowledge <{ID}x/lonely> .
"""


@pytest.mark.parametrize("root", ["x/root", "x/lonely", "x/other"])
def test_compactor_round_trips_awkward_triples(root):
    """Values no term fits, clashing type-scoped terms, blank nodes, cycles: still the same triples."""
    import pyoxigraph as ox

    from sparql_api.compact import compact
    triples = list(ox.parse(EDGE_CASES.encode(), ox.RdfFormat.TURTLE))
    iri = ID + root
    # the resource's triples as the query would give them: own, hash children, reverse links
    wanted = [t for t in triples if str(t.subject).strip("<>").split("#")[0] == iri
              or (isinstance(t.subject, ox.BlankNode) and iri.endswith("root"))
              or (str(t.object).strip("<>") == iri and "mapsTo" in str(t.predicate))]
    document = compact(wanted, iri, "https://example.org/context.jsonld")
    got = expand_to_graph(document)
    want = Graph().parse(data=ox.serialize(wanted, format=ox.RdfFormat.N_TRIPLES), format="nt")
    assert isomorphic(got, want), json.dumps(document, indent=1)


# ------------------------------------------------------------------ shapes and linked labels

def test_duty_links_ksbs_by_type_with_codes_and_statements(client):
    duty = client.get("/id/" + RESOURCES["duty"]).json()
    assert duty["type"] == ["Duty"] and duty["code"] == "D2"
    assert duty["description"].startswith("Analyse, manipulate")
    codes = [k["code"] for k in duty["mappedKnowledge"]]
    assert codes == ["K1", "K2", "K3", "K4", "K11", "K16", "K19", "K20", "K25"]
    assert all(k["statement"] for k in duty["mappedKnowledge"])
    assert duty["dutyOf"]["title"]
    assert duty["evidence"][0]["selectors"][0]["exact"]


def test_ksb_lists_the_duties_that_need_it(client):
    ksb = client.get("/id/" + RESOURCES["knowledge"]).json()
    assert ksb["type"] == ["Knowledge"] and ksb["code"] == "K19"
    assert ksb["ksbType"]["label"] == "Knowledge"
    assert [d["code"] for d in ksb["neededBy"]][:2] == ["D2", "D3"]
    assert all(d["description"] for d in ksb["neededBy"])
    skill = client.get("/id/" + RESOURCES["skill"]).json()
    assert skill["type"] == ["Skill"] and all(d["code"].startswith("D") for d in skill.get("neededBy", []))


def test_standard_lists_duties_and_ksbs_with_labels(client):
    standard = client.get("/id/" + RESOURCES["standard"]).json()
    assert standard["reference"] == "ST1337" and standard["level"] == 7
    assert standard["title"] == "Library, information and knowledge management professional"
    assert len(standard["duties"]) == 15 and all(d["code"] and d["description"] for d in standard["duties"])
    assert len(standard["ksbs"]) == 60 and all(k["code"] and k["statement"] for k in standard["ksbs"])
    assert standard["occupation"]["code"] == "OCC1337"
    assert all(e["label"] for e in standard["employers"])


def test_organisation_shows_parent_and_subgroups(client):
    cilip = client.get("/id/" + RESOURCES["organisation"]).json()
    assert "CILIP" in cilip["altLabel"]
    assert cilip["classification"][0]["id"].endswith("org-type/professional-body")
    sub = {o["id"].rsplit("/", 1)[-1] for o in cilip["subOrganizations"]}
    assert {"government-information-group", "xss-test"} <= sub
    assert all("label" in o for o in cilip["subOrganizations"])
    unit = client.get("/id/" + RESOURCES["unit"]).json()
    assert unit["unitOf"][0]["label"].startswith("Chartered Institute")
    assert unit["memberships"][0]["label"].startswith("Rebecca Dorsett")


def test_source_document_has_licence_and_checksum(client):
    source = client.get("/id/" + RESOURCES["source"]).json()
    assert source["type"] == ["Document", "SourceDocument"]
    assert len(source["sha256"]) == 64
    assert source["license"]["id"].endswith("open-government-licence/version/3/")
    assert source["attribution"].startswith("Contains public sector information")
    assert source["publisher"]


def test_span_and_issue_shapes(client):
    span = client.get("/id/" + RESOURCES["span"]).json()
    assert span["type"] == ["TextSpan"]
    selectors = {s["id"].rsplit("#", 1)[-1]: s for s in span["selectors"]}
    assert selectors["position"]["start"] == 8893 and selectors["position"]["end"] == 9014
    assert selectors["quote"]["exact"].startswith("Analyse")
    assert span["evidenceFor"][0]["code"] == "D2"
    issue = client.get("/id/" + RESOURCES["issue"]).json()
    assert issue["type"] == ["ExtractionIssue"] and issue["issueCode"] == "empty-status"
    assert issue["affects"][0]["id"] == ID + "standard/ST1337"


# ------------------------------------------------------------------ HTML

def test_html_page_escapes_markup_in_labels(client):
    response = client.get("/id/org/xss-test", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert XSS not in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text
    csp = response.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert "<script" not in response.text
    parent = client.get("/id/org/cilip", headers={"Accept": "text/html"})
    assert XSS not in parent.text and "&lt;script&gt;" in parent.text


def test_html_page_links_locally_and_shows_quotes_and_licence(client):
    page = client.get("/id/" + RESOURCES["duty"], headers={"Accept": "text/html"}).text
    assert 'href="/id/standard/ST1337/ksb/K19"' in page
    assert 'href="/static/kim.css"' in page
    assert "<blockquote" in page and "Analyse, manipulate and interpret data" in page
    assert "Open Government Licence v3.0" in page


def test_stylesheet_is_served(client):
    response = client.get("/static/kim.css")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/css")


# ------------------------------------------------------------------ hostile paths

@pytest.mark.parametrize("raw", [
    "/id/../../etc/passwd",
    "/id/%2e%2e/%2e%2e/etc/passwd",
    "/id/..%2f..%2fetc%2fpasswd",
    "/id/standard/..%2F..%2F..%2Fetc%2Fpasswd",
    "/id/standard/ST1337/%2e%2e/%2e%2e/%2e%2e/pyproject.toml",
    "/id/%00",
    "/id/a%0d%0aSet-Cookie:%20x=1",
    "/id/%3Cscript%3E",
    "/id/standard//ST1337",
    "/id/" + "a" * 3000,
    "/id/standard/ST1337%22%3E%3C",
    "/id/%ff%fe",
])
def test_hostile_paths_are_404_or_400_and_read_no_file(resources_server, raw):
    host, port = resources_server.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    connection.request("GET", raw, headers={"Accept": "application/ld+json"})
    response = connection.getresponse()
    body = response.read().decode("utf-8", "replace")
    connection.close()
    assert response.status in (400, 404, 414), (raw, response.status, body)
    assert "root:" not in body and "[project]" not in body and "Set-Cookie" not in dict(response.getheaders())


# ------------------------------------------------------------------ each fact's graph; curated facts marked

KEY_INFORMATION = "https://w3id.org/uk-kim/graph/source/2671f4ff48c7fd80"  # curated: the public page's key facts
STANDARD_PAGE = "https://w3id.org/uk-kim/graph/source/57c36d939ff65b92"  # parsed: the captured standard page


def stated_in(reader: Store, path: str) -> set:
    """Every (s, p, o, graph) of the resource's triples, from the store's named graphs directly (rdflib terms)."""
    from rdflib import Dataset
    lines = []
    for t in describe(reader, ID + path):
        for row in reader.select(f"SELECT ?g WHERE {{ GRAPH ?g {{ {t.subject} {t.predicate} {t.object} }} }}"):
            lines.append(f"{t.subject} {t.predicate} {t.object} <{row['g']}> .\n")
    return set(Dataset().parse(data="".join(lines), format="nquads").quads())


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # rdflib's quad parsers use ConjunctiveGraph
@pytest.mark.parametrize(("media", "name", "fmt"), [("application/trig", "trig", "trig"),
                                                    ("application/n-quads", "nquads", "nquads")])
@pytest.mark.parametrize("kind", ["standard", "duty", "organisation"])
def test_trig_and_nquads_give_each_fact_in_every_graph_that_states_it(client, reader, kind, media, name, fmt):
    from rdflib import Dataset
    path = RESOURCES[kind]
    want = stated_in(reader, path)
    assert {q[:3] for q in want} == set(expected(reader, path))  # every triple is in some graph
    for response in (client.get(f"/id/{path}", headers={"Accept": media}), client.get(f"/id/{path}?format={name}")):
        assert response.status_code == 200
        assert response.headers["content-type"].split(";")[0] == media
        assert response.headers["content-location"].endswith(f"?format={name}")
        assert set(Dataset().parse(data=response.content, format=fmt).quads()) == want


def test_the_alternate_links_offer_trig_and_nquads(client):
    links = client.get("/id/" + RESOURCES["duty"]).headers["link"]
    assert 'type="application/trig"' in links and 'type="application/n-quads"' in links


def test_the_standard_shows_its_curated_facts_apart_and_cites_them(client):
    page = client.get("/id/" + RESOURCES["standard"], headers={"Accept": "text/html"}).text
    assert '<section id="curated">' in page
    curated = page.split('<section id="curated">')[1].split("</section>")[0]
    # the route and the typical duration come only from the curated key information, cited to its source
    assert "Business and administration" in curated and "P3Y" in curated
    assert "/id/source/2671f4ff48c7fd80" in curated
    assert "https://www.instituteforapprenticeships.org/apprenticeship-standards/" in curated
    assert '<dt id="route">Route <span class="badge curated"' in page
    # parsed facts carry no mark: the duties are read from the captured pages
    assert '<dt id="duties">Duties <span class="badge curated"' not in page


def test_a_parsed_duty_page_marks_nothing_as_curated(client):
    page = client.get("/id/" + RESOURCES["duty"], headers={"Accept": "text/html"}).text
    assert '<section id="curated">' not in page and 'class="badge curated"' not in page


def test_turtle_marks_the_curated_facts_in_comments_and_says_the_same_triples(client, reader):
    response = client.get("/id/" + RESOURCES["standard"], headers={"Accept": "text/turtle"})
    text = response.text
    note = text.split("# Facts from curated sources")[1]
    assert f"curated in <{KEY_INFORMATION}>" in note
    assert "<https://w3id.org/uk-kim/def#route>" in note
    assert STANDARD_PAGE not in note  # a parsed source is never cited as curated
    assert isomorphic(Graph().parse(data=text, format="turtle"), expected(reader, RESOURCES["standard"]))
    duty = client.get("/id/" + RESOURCES["duty"], headers={"Accept": "text/turtle"}).text
    assert "# Facts from curated sources" not in duty


def test_the_trailblazer_group_has_no_label_that_no_source_states(client):
    response = client.get("/id/" + RESOURCES["collaboration"], headers={"Accept": "text/turtle"})
    assert response.status_code == 200
    assert "Trailblazer group for" not in response.text
