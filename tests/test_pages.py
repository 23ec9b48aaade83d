"""The home page over a real server (``pages_server``, which the validation, coverage and publishing tests share)."""

from __future__ import annotations

import httpx
import pytest
from rdflib import Graph, Namespace
from rdflib.namespace import RDF


@pytest.fixture(scope="module")
def client(pages_server):
    with httpx.Client(base_url=pages_server, timeout=30) as http:
        yield http


DCAT = Namespace("http://www.w3.org/ns/dcat#")  # not rdflib's closed namespace: pytest probes module globals
HOME_LINKS = ("/sparql", "/docs", "/dump.trig", "/dump.nq", "/dump.jsonld", "/def", "/shapes", "/dataset",
              "/validate", "/id/org/gkim-profession", "/id/standard/ST1337", "/standards/ST1337/coverage",
              "/standards/ST1337/conformance")


def test_home_page_links_everywhere_a_visitor_goes(client):
    response = client.get("/", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    for link in HOME_LINKS:
        assert f'href="{link}"' in page, link
    assert "Library, information and knowledge management professional" in page


def test_home_page_states_sources_licences_and_the_ogl_attribution(client):
    page = client.get("/", headers={"Accept": "text/html"}).text
    assert "Contains public sector information licensed under the Open Government Licence v3.0." in page
    assert "http://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/" in page
    for publisher in ("Civil Service World", "GOV.UK", "Institute for Apprenticeships"):
        assert publisher in page
    assert "not open-licensed" in page  # the CSW article's rights, stated as they are


def test_home_page_carries_the_strict_csp_and_its_stylesheet_loads(client):
    response = client.get("/", headers={"Accept": "text/html"})
    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert "Accept" in [v.strip() for v in response.headers["vary"].split(",")]
    assert "<style" not in response.text and "<script" not in response.text
    css = client.get("/pages.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")


def test_home_for_rdf_clients_is_the_dcat_description(client):
    response = client.get("/", headers={"Accept": "text/turtle"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/turtle")
    graph = Graph().parse(data=response.text, format="turtle")
    assert (None, RDF.type, DCAT.Dataset) in graph


def test_home_head_and_conditional_get(client):
    head = client.head("/", headers={"Accept": "text/html"})
    assert head.status_code == 200 and head.content == b""
    etag = client.get("/", headers={"Accept": "text/html"}).headers["etag"]
    assert client.get("/", headers={"Accept": "text/html", "If-None-Match": etag}).status_code == 304


def test_home_unacceptable_is_406_problem(client):
    response = client.get("/", headers={"Accept": "image/png"})
    assert response.status_code == 406
    assert response.headers["content-type"] == "application/problem+json"


OWN_ROUTES = {
    ("/", "get"): ("text/html", "text/turtle"),
    ("/validate", "post"): ("text/turtle", "application/json", "text/html"),
    ("/validate", "get"): ("text/html",),
    ("/standards/{reference}/coverage", "get"): ("application/json", "text/html"),
    ("/standards/{reference}/conformance", "get"): ("application/json", "text/html", "text/turtle"),
    ("/def", "get"): ("text/turtle", "text/html"),
    ("/shapes", "get"): ("text/turtle", "text/html"),
    ("/dataset", "get"): ("text/turtle", "text/html"),
    ("/dump.jsonld", "get"): ("application/ld+json",),
}


def test_openapi_documents_every_route_with_media_types_and_examples(client):
    spec = client.get("/openapi.json").json()
    for (path, method), media_types in OWN_ROUTES.items():
        operation = spec["paths"][path][method]
        assert operation["summary"] and operation.get("description"), (path, method)
        content = operation["responses"]["200"]["content"]
        for media in media_types:
            assert "example" in content[media], (path, method, media)
        assert "head" not in spec["paths"][path], path  # HEAD mirrors GET, as the API description says
    assert "HEAD" in spec["info"]["description"]
    body = spec["paths"]["/validate"]["post"]["requestBody"]["content"]
    assert {"text/turtle", "application/ld+json", "text/plain"} <= set(body)
    for status in ("400", "413", "415"):
        assert "application/problem+json" in spec["paths"]["/validate"]["post"]["responses"][status]["content"]
