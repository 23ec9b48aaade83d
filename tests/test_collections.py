"""Hydra collections against a real server: paging, totals, links, filters, formats and errors."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from pyld import jsonld
from rdflib import Graph
from rdflib.compare import isomorphic

from kimdata.paths import CONTEXT_PATH

HYDRA = "http://www.w3.org/ns/hydra/core#"
ID = "https://w3id.org/uk-kim/id/"
STANDARDS = ("ST0118", "ST0611", "ST0628", "ST0664", "ST0795", "ST0904", "ST1337")  # ST1337 and the KIM family
KSB_COUNTS = {"K": 27, "S": 27, "B": 6}


@pytest.fixture(scope="module")
def http(api_server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=api_server, timeout=20) as client:
        yield client


def members(body: dict) -> list[dict]:
    return body["hydra:member"]


def codes(body: dict) -> list[str]:
    return [m.get("code") or m.get("reference") for m in members(body)]


def follow(http: httpx.Client, url: str) -> list[dict]:
    """Every member of a collection, following hydra:next from ``url``."""
    found, seen = [], set()
    while url:
        assert url not in seen, "the next links loop"
        seen.add(url)
        body = http.get(url).json()
        found += members(body)
        url = body["hydra:view"].get("hydra:next")
    return found


def test_standards_is_a_hydra_collection(http):
    response = http.get("/standards")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/ld+json")
    assert "accept" in response.headers["vary"].lower()
    body = response.json()
    assert body["type"] == ["hydra:Collection"] and body["hydra:totalItems"] == len(STANDARDS)
    assert body["hydra:view"]["type"] == ["hydra:PartialCollectionView"]
    assert sorted(member["id"] for member in members(body)) == sorted(ID + f"standard/{s}" for s in STANDARDS)
    standard = next(member for member in members(body) if member["id"] == ID + "standard/ST1337")
    assert standard["reference"] == "ST1337"
    assert standard["type"] == ["OccupationalStandard"] and standard["level"] == 7


@pytest.mark.parametrize("letter", sorted(KSB_COUNTS))
def test_ksbs_filtered_by_type(http, letter):
    body = http.get("/standards/ST1337/ksbs", params={"type": letter, "pageSize": 100}).json()
    assert body["hydra:totalItems"] == KSB_COUNTS[letter] == len(members(body))
    assert codes(body) == [f"{letter}{n}" for n in range(1, KSB_COUNTS[letter] + 1)]  # K2 before K11


def test_all_ksbs_come_k_then_s_then_b(http):
    body = http.get("/standards/ST1337/ksbs", params={"pageSize": 500}).json()
    assert body["hydra:totalItems"] == 60
    expected = [f"{letter}{n}" for letter in "KSB" for n in range(1, KSB_COUNTS[letter] + 1)]
    assert codes(body) == expected


def test_first_middle_and_last_pages(http):
    url = "/standards/ST1337/ksbs"
    pages = [http.get(url, params={"type": "K", "pageSize": 10, "page": n}).json() for n in (1, 2, 3)]
    views = [page["hydra:view"] for page in pages]
    assert [page["hydra:totalItems"] for page in pages] == [27, 27, 27]
    assert [len(members(page)) for page in pages] == [10, 10, 7]
    assert "hydra:previous" not in views[0] and "hydra:next" not in views[2]
    for number, view in enumerate(views, 1):
        assert view["id"].endswith(f"page={number}&pageSize=10")
        assert view["hydra:first"].endswith("type=K&page=1&pageSize=10")
        assert view["hydra:last"].endswith("type=K&page=3&pageSize=10")
    assert views[0]["hydra:next"] == views[1]["id"] and views[1]["hydra:next"] == views[2]["id"]
    assert views[2]["hydra:previous"] == views[1]["id"] and views[1]["hydra:previous"] == views[0]["id"]
    assert sum((codes(page) for page in pages), []) == [f"K{n}" for n in range(1, 28)]
    assert pages[0]["id"].endswith("/standards/ST1337/ksbs?type=K")


def test_next_links_visit_every_duty_once_in_order(http, api_server):
    found = follow(http, api_server + "/standards/ST1337/duties?pageSize=4")
    assert [m["code"] for m in found] == [f"D{n}" for n in range(1, 16)]
    assert all(m["type"] == ["Duty"] and m["description"] for m in found if m["code"] != "D15")


def test_link_header_repeats_the_view(http):
    response = http.get("/standards/ST1337/duties", params={"pageSize": 5, "page": 2})
    link = response.headers["link"]
    for rel, page in (("first", 1), ("previous", 1), ("next", 3), ("last", 3)):
        assert f'page={page}&pageSize=5>; rel="{rel}"' in link


def test_organisations_of_type_professional_body(http):
    body = http.get("/organisations", params={"type": "professional-body"}).json()
    found = {m["id"].removeprefix(ID + "org/") for m in members(body)}
    assert {"cilip", "irms", "ara", "bcs"} <= found
    assert body["hydra:totalItems"] == len(found)
    assert all(ID + "scheme/org-type/professional-body" in m["classification"] for m in members(body))
    assert body["id"].endswith("/organisations?type=professional-body")


def test_organisations_of_type_network_are_every_network_and_community(http):
    body = http.get("/organisations", params={"type": "network", "pageSize": 100}).json()
    found = {m["id"].removeprefix(ID + "org/") for m in members(body)}
    assert body["hydra:totalItems"] == len(found) == 13
    assert {"adro", "cdl", "nglis", "knowledge-mavericks", "government-information-group", "gkim-leaders-network",
            "o365-knowledge-and-information-management-user-group", "knowledge-hub-adro-group"} <= found
    assert "cilip" not in found


def test_openapi_lists_the_organisation_types(http, built_store):
    parameters = http.get("/openapi.json").json()["paths"]["/organisations"]["get"]["parameters"]
    schema = next(p for p in parameters if p["name"] == "type")["schema"]
    enum = next(branch["enum"] for branch in schema["anyOf"] if branch.get("type") == "string")
    rows = built_store.query("SELECT ?c WHERE { ?c <http://www.w3.org/2004/02/skos/core#inScheme> "
                             f"<{ID}scheme/org-type> }}")
    assert sorted(enum) == sorted(row[0].value.rsplit("/", 1)[1] for row in rows)
    for slug in enum:
        assert http.get("/organisations", params={"type": slug}).status_code == 200


def test_organisations_are_sorted_by_name(http):
    labels = [m.get("label", "") for m in members(http.get("/organisations", params={"pageSize": 500}).json())]
    assert len(labels) > 30 and labels == sorted(labels)


def test_disciplines_and_roles(http):
    assert http.get("/disciplines").json()["hydra:totalItems"] == 6
    roles = http.get("/roles").json()
    assert roles["hydra:totalItems"] == 10
    assert http.get("/roles", params={"kind": "core"}).json()["hydra:totalItems"] == 6
    allied = http.get("/roles", params={"kind": "allied"}).json()
    assert {m["label"] for m in members(allied)} == {"Archivist", "Data scientist", "Historian",
                                                     "Information risk manager"}
    assert all(m["alliedRoleOf"] == [ID + "org/gkim-profession"] for m in members(allied))


def _loader(url, options=None):
    """pyld's document loader: the published context from its file, nothing from the network."""
    assert url.endswith("/context.jsonld"), url
    return {"contextUrl": None, "documentUrl": url,
            "document": json.loads(CONTEXT_PATH.read_text(encoding="utf-8"))}


def test_jsonld_turtle_and_ntriples_say_the_same_triples(http):
    url, params = "/standards/ST1337/ksbs", {"type": "S", "pageSize": 5, "page": 2}
    document = http.get(url, params=params).json()
    nquads = jsonld.to_rdf(document, {"documentLoader": _loader, "format": "application/n-quads"})
    from_jsonld = Graph().parse(data=nquads, format="nt")
    turtle = http.get(url, params=params, headers={"Accept": "text/turtle"})
    assert turtle.headers["content-type"].startswith("text/turtle")
    from_turtle = Graph().parse(data=turtle.text, format="turtle")
    ntriples = http.get(url, params={**params, "format": "ntriples"})
    assert ntriples.headers["content-type"].startswith("application/n-triples")
    assert isomorphic(from_jsonld, from_turtle)
    assert isomorphic(from_turtle, Graph().parse(data=ntriples.text, format="nt"))
    assert len(from_turtle) > 20


def test_html_table_with_pager(http):
    response = http.get("/standards/ST1337/ksbs", params={"type": "K", "pageSize": 10, "page": 2},
                        headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert "Content-Security-Policy" in response.headers
    page = response.text
    assert 'href="/id/standard/ST1337/ksb/K11"' in page and ">K20<" in page and ">K21<" not in page
    assert 'rel="prev"' in page and 'rel="next"' in page


def test_etag_and_304(http):
    first = http.get("/standards/ST1337/ksbs", params={"type": "K"})
    tag = first.headers["etag"]
    assert first.headers["last-modified"] and first.headers["cache-control"]
    again = http.get("/standards/ST1337/ksbs", params={"type": "K"}, headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == tag
    assert "accept" in again.headers["vary"].lower()
    for other in ({"type": "S"}, {"type": "K", "page": "1"}):
        assert http.get("/standards/ST1337/ksbs", params=other).headers["etag"] != tag
    turtle = http.get("/standards/ST1337/ksbs", params={"type": "K"},
                      headers={"Accept": "text/turtle", "If-None-Match": tag})
    assert turtle.status_code == 200 and turtle.headers["etag"] != tag
    since = http.get("/standards", headers={"If-Modified-Since": first.headers["last-modified"]})
    assert since.status_code == 304


def test_head_answers_like_get_without_a_body(http):
    get = http.get("/standards/ST1337/duties")
    head = http.head("/standards/ST1337/duties")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-type"] == get.headers["content-type"]


def test_openapi_describes_the_collections(http):
    paths = http.get("/openapi.json").json()["paths"]
    for path in ("/standards", "/standards/{reference}/duties", "/standards/{reference}/ksbs", "/organisations",
                 "/disciplines", "/roles"):
        names = {p["name"] for p in paths[path]["get"]["parameters"]}
        assert {"page", "pageSize", "format"} <= names
