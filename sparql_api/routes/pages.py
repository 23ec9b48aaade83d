"""The home page, and what the page routers share: negotiated RDF bodies, OpenAPI response docs, the pages' CSS."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping

from fastapi import APIRouter, Request
from rdflib import Graph
from starlette.responses import Response

from ingest.namespaces import KIM, OGL_V3, PREFIXES, Iris
from sparql_api import render
from sparql_api.caching import conditional
from sparql_api.conneg import negotiate
from sparql_api.errors import PROBLEM_BASE, PROBLEM_JSON
from sparql_api.html import render as render_html

router = APIRouter(tags=["Pages"], default_response_class=Response)

OGL_ATTRIBUTION = "Contains public sector information licensed under the Open Government Licence v3.0."
RDF_OFFERS = ["text/turtle", "application/ld+json", "application/n-triples", "application/rdf+xml"]
HTML = "text/html"

# ------------------------------------------------------------------ shared helpers


def rdf_body(graph: Graph, media: str) -> bytes:
    """``graph`` serialised for one of the graph media types (JSON-LD compacted with our prefixes)."""
    fmt = render.format_of(media, "graph").name
    if fmt == "turtle":  # rdflib nests blank nodes, which reads far better than flat N-Triples
        return graph.serialize(format="turtle", encoding="utf-8")
    if fmt == "jsonld":
        used = {p: ns for p, ns in {**render.PREFIX_TABLE, **dict(graph.namespaces())}.items()
                if p and any(str(term).startswith(ns) for triple in graph for term in triple)}
        return graph.serialize(format="json-ld", context=used, auto_compact=True, encoding="utf-8")
    return render.convert_ntriples(graph.serialize(format="nt", encoding="utf-8"), fmt)


def rdf_response(graph: Graph, media: str, headers: Mapping[str, str] | None = None) -> Response:
    """A negotiated RDF answer: the body, its Content-Type and ``Vary: Accept``."""
    return Response(rdf_body(graph, media), media_type=render.content_type(media),
                    headers={"Vary": "Accept", **(headers or {})})


def json_response(data, headers: Mapping[str, str] | None = None, media: str = "application/json") -> Response:
    return Response(json.dumps(data, ensure_ascii=False, indent=1).encode(), media_type=media,
                    headers={"Vary": "Accept", **(headers or {})})


def html_page(request: Request, template: str, **context) -> Response:
    """A page of ours: the template rendered by sparql_api.html (CSP headers) plus ``Vary: Accept``."""
    response = render_html(template, request=request, **context)
    response.headers["Vary"] = "Accept"
    return response


PROBLEMS = {
    400: ("The request is malformed; the detail says where.", "Bad request", None),
    404: ("Nothing is known under this name.", "Resource not found", None),
    406: ("None of the media types in Accept is available here.", "Not acceptable", None),
    413: ("The request body is larger than the configured limit.", "Content too large", "content-too-large"),
    415: ("The request body's Content-Type cannot be read here.", "Unsupported media type", None),
    422: ("The request body holds nothing this route can work on; the detail says what was expected.",
          "Unprocessable content", None),
}


def documented(examples: Mapping[str, object], *, description: str = "The resource, in the negotiated format.",
               errors: Iterable[int] = (406,)) -> dict:
    """OpenAPI ``responses``: one example per media type we answer with, and the problem+json errors."""
    content = {media: {"example": example} for media, example in examples.items()}
    responses: dict = {200: {"description": description, "content": content}}
    for status in errors:
        text, title, slug = PROBLEMS[status]
        problem = {"type": PROBLEM_BASE + slug if slug else "about:blank", "title": title, "status": status,
                   "detail": text, "instance": "/..."}
        responses[status] = {"description": text, "content": {PROBLEM_JSON: {"example": problem}}}
    # Parameter errors are 400 problems too (the app's one handler), never FastAPI's 422.
    responses["4XX"] = {"description": "Any other client error, as an RFC 9457 problem.",
                        "content": {PROBLEM_JSON: {"schema": {"type": "object"}}}}
    return responses


# The pages' own styles: the CSP allows stylesheets from this origin only, never inline styles.
PAGES_CSS = """
.lede { font-size: 1.05rem; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(15rem, 1fr)); gap: .75rem; padding: 0; list-style: none; }
.cards li { border: 1px solid var(--line, #d0d7de); border-radius: .4rem; padding: .6rem .8rem; }
.cards li a { font-weight: 600; }
.cards li p { margin: .25rem 0 0; font-size: .9rem; color: var(--muted, #57606a); }
.counts { display: flex; flex-wrap: wrap; gap: 1.5rem; padding: 0; list-style: none; }
.counts strong { display: block; font-size: 1.3rem; }
.matrix-wrap { overflow: auto; max-height: 85vh; border: 1px solid var(--line, #d0d7de);
  width: calc(100vw - 3rem); position: relative; left: 50%; transform: translateX(-50%); }
table.matrix { width: auto; margin: 0; font-size: .8rem; border-collapse: separate; border-spacing: 0; }
table.matrix th, table.matrix td { padding: .15rem .3rem; text-align: center; border-width: 0 1px 1px 0; }
table.matrix thead th { position: sticky; top: 0; z-index: 2; background: var(--soft, #f6f8fa); }
table.matrix thead tr.codes th { top: 1.6rem; writing-mode: vertical-rl; transform: rotate(180deg); min-height: 2.5rem; }
table.matrix th.duty, table.matrix td.duty { position: sticky; left: 0; z-index: 1; background: #fff; text-align: left; width: 17rem; min-width: 17rem; max-width: 17rem; }
table.matrix td.duty .statement { display: block; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; color: var(--muted, #57606a); }
table.matrix td.map, table.matrix td.gap { min-width: 1.5rem; }
table.matrix thead th.duty { z-index: 3; background: var(--soft, #f6f8fa); }
table.matrix td.map { color: #116329; font-weight: 700; }
table.matrix .type-knowledge { border-top: 3px solid #0b5cad; }
table.matrix .type-skill { border-top: 3px solid #8250df; }
table.matrix .type-behaviour { border-top: 3px solid #bf8700; }
table.matrix .unmapped-ksb { background: #fff1e5; }
table.matrix thead th.unmapped-ksb { background: #ffd8b5; }
table.matrix thead th.unmapped-ksb a { color: #953800; }
table.matrix tr.unmapped-duty td { background: #ffebe9; }
table.matrix tr.unmapped-duty td.duty { background: #ffebe9; }
.state { display: inline-block; padding: 0 .35rem; border-radius: .5rem; font-size: .75rem; font-weight: 600; }
.state-empty { background: #ffd8d3; color: #82071e; }
.state-missing { background: #fff8c5; color: #7d4e00; border: 1px dashed #bf8700; }
.state-listed { background: #dafbe1; color: #116329; }
.legend { display: flex; flex-wrap: wrap; gap: 1rem; padding: 0; list-style: none; font-size: .85rem; }
.swatch { display: inline-block; width: 1rem; height: 1rem; vertical-align: middle; border: 1px solid var(--line, #d0d7de); margin-right: .3rem; }
.swatch.unmapped-duty { background: #ffebe9; }
.swatch.unmapped-ksb { background: #fff1e5; }
.sev { font-weight: 600; }
.sev-Violation { color: #a40e26; }
.sev-Warning { color: #7d4e00; }
.sev-Info { color: #0b5cad; }
tr.group th { text-align: left; background: #eef2f6; }
.verdict { font-weight: 700; padding: .4rem .6rem; border-radius: .3rem; display: inline-block; }
.verdict.ok { background: #dafbe1; color: #116329; }
.verdict.fail { background: #ffebe9; color: #82071e; }
.notes { background: #fff8c5; padding: .5rem .8rem; border-radius: .3rem; }
textarea.upload { width: 100%; min-height: 14rem; font-family: ui-monospace, Menlo, Consolas, monospace; font-size: .85rem; }
form.validate label { display: block; margin: .5rem 0 .2rem; font-weight: 600; }
dl.terms dt { font-weight: 700; margin-top: .8rem; }
dl.terms dd { margin: .2rem 0 .2rem 1rem; }
section.term { border-top: 1px solid var(--line, #d0d7de); padding-top: .4rem; }
section.term h3 { margin-bottom: .1rem; }
"""
PAGES_CSS_PATH = "/pages.css"


@router.api_route(PAGES_CSS_PATH, methods=["GET", "HEAD"], include_in_schema=False)
def pages_css() -> Response:
    """The stylesheet of the home, coverage, conformance, validation and publishing pages."""
    return Response(PAGES_CSS.encode(), media_type="text/css; charset=utf-8",
                    headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"})


# ------------------------------------------------------------------ the home page

_PROLOGUE = "\n".join(f"PREFIX {p}: <{PREFIXES[p]}>" for p in ("kim", "dcterms", "foaf", "rdfs", "skos", "prov"))
STANDARDS_QUERY = _PROLOGUE + """
SELECT ?standard (SAMPLE(?id) AS ?reference) (SAMPLE(?t) AS ?title) (SAMPLE(?l) AS ?level)
WHERE {
  ?standard a kim:OccupationalStandard .
  OPTIONAL { ?standard dcterms:identifier ?id }
  OPTIONAL { ?standard dcterms:title ?t }
  OPTIONAL { ?standard kim:level ?l }
  FILTER NOT EXISTS { ?standard dcterms:isVersionOf ?current }
}
GROUP BY ?standard
ORDER BY ?standard
LIMIT 50
"""
SOURCES_QUERY = _PROLOGUE + """
SELECT ?source (SAMPLE(?t) AS ?title) (SAMPLE(?p) AS ?publisher) (SAMPLE(?pg) AS ?page) (SAMPLE(?lic) AS ?license)
       (SAMPLE(?r) AS ?rights) (SAMPLE(?a) AS ?attribution)
WHERE {
  ?source a kim:SourceDocument .
  OPTIONAL { ?source dcterms:title ?t }
  OPTIONAL { ?source dcterms:publisher ?p }
  OPTIONAL { ?source foaf:page ?pg }
  OPTIONAL { ?source dcterms:license ?lic }
  OPTIONAL { ?source dcterms:rights ?r }
  OPTIONAL { ?source kim:attributionText ?a }
}
GROUP BY ?source
ORDER BY ?title
LIMIT 200
"""

HOME_EXAMPLE_HTML = "<!DOCTYPE html><html lang=\"en\">...<h1>KIM Graph</h1>...</html>"


def _rows(store, query: str) -> list[dict[str, str | None]]:
    """A SELECT's solutions as dicts of strings, every projected variable present (None when unbound)."""
    solutions = store.query(query)
    names = [v.value for v in solutions.variables]
    return [{name: None if row[name] is None else row[name].value for name in names} for row in solutions]


def source_documents(store) -> list[dict[str, str]]:
    """Every source document with its title, publisher, page, licence, rights and attribution."""
    return _rows(store, SOURCES_QUERY)


@router.api_route(
    "/", methods=["GET", "HEAD"], summary="Home page: what the dataset holds and where to go next",
    description="For browsers, an HTML page that explains the dataset (what it holds, its sources and their "
                "licences, with the Open Government Licence attribution) and links to the standards, the GKIM "
                "profession, the query editor, the API docs, the dumps, the ontology, the shapes, the coverage "
                "matrix and the conformance report. Asked for RDF (Turtle, JSON-LD, N-Triples, RDF/XML), it "
                "answers with the DCAT description of the dataset (the same as `/dataset`).",
    responses=documented({HTML: HOME_EXAMPLE_HTML,
                          "text/turtle": "<http://127.0.0.1:8000/dataset> a dcat:Dataset ; dcterms:title \"KIM Graph\"@en ."}),
)
def home(request: Request) -> Response:
    """The home page (HTML), or the dataset's DCAT description for RDF clients."""
    media = negotiate(request.headers.get("accept"), [HTML, *RDF_OFFERS])
    return conditional(request, media, lambda: _home(request, media), "home", str(request.base_url),
                       headers={"Vary": "Accept"})


def _home(request: Request, media: str) -> Response:
    if media != HTML:
        from sparql_api.routes.publish import dataset_graph

        return rdf_response(dataset_graph(request), media)
    from sparql_api.routes.service import stats_for

    state = request.app.state
    iris = Iris(state.settings.base_iri)
    stats = stats_for(request)
    standards = _rows(state.store, STANDARDS_QUERY)
    for row in standards:
        row["reference"] = row["reference"] or row["standard"].rstrip("/").rsplit("/", 1)[-1]
    counts = {
        "triples": stats.triples,
        "graphs": len(stats.graphs),
        "standards": stats.classes.get(str(KIM.OccupationalStandard), 0),
        "duties": stats.classes.get(str(KIM.Duty), 0),
        "ksbs": sum(stats.classes.get(str(KIM[c]), 0) for c in ("Knowledge", "Skill", "Behaviour")),
    }
    return html_page(request, "home.html", title="Home", standards=standards, sources=source_documents(state.store),
                     counts=counts, gkim=str(iris.org("gkim-profession")), ogl=str(OGL_V3),
                     attribution=OGL_ATTRIBUTION, css=PAGES_CSS_PATH)
