"""Responses the pages and the publishing routes share: RDF, JSON and HTML bodies, OpenAPI response
documentation, and the pages' stylesheet."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping

from fastapi import Request
from rdflib import Graph
from starlette.responses import Response

from sparql_api import formats
from sparql_api.errors import PROBLEM_BASE, PROBLEM_JSON
from sparql_api.html import render_page

OGL_ATTRIBUTION = "Contains public sector information licensed under the Open Government Licence v3.0."
RDF_OFFERS = ["text/turtle", "application/ld+json", "application/n-triples", "application/rdf+xml"]
HTML = "text/html"

def rdf_body(graph: Graph, media: str) -> bytes:
    """``graph`` serialised for one of the graph media types (JSON-LD compacted with our prefixes)."""
    fmt = formats.format_of(media, "graph").name
    if fmt == "turtle":  # rdflib nests blank nodes, which reads far better than flat N-Triples
        return graph.serialize(format="turtle", encoding="utf-8")
    if fmt == "jsonld":
        used = {p: ns for p, ns in {**formats.PREFIX_TABLE, **dict(graph.namespaces())}.items()
                if p and any(str(term).startswith(ns) for triple in graph for term in triple)}
        return graph.serialize(format="json-ld", context=used, auto_compact=True, encoding="utf-8")
    return formats.convert_ntriples(graph.serialize(format="nt", encoding="utf-8"), fmt)


def rdf_response(graph: Graph, media: str, headers: Mapping[str, str] | None = None) -> Response:
    """A negotiated RDF answer: the body, its Content-Type and ``Vary: Accept``."""
    return Response(rdf_body(graph, media), media_type=formats.content_type(media),
                    headers={"Vary": "Accept", **(headers or {})})


def json_response(data, headers: Mapping[str, str] | None = None, media: str = "application/json") -> Response:
    return Response(json.dumps(data, ensure_ascii=False, indent=1).encode(), media_type=media,
                    headers={"Vary": "Accept", **(headers or {})})


def html_page(request: Request, base_iri: str, template: str, **context) -> Response:
    """A page of ours: the template rendered by sparql_api.html (CSP headers) plus ``Vary: Accept``."""
    response = render_page(template, request=request, base_iri=base_iri, **context)
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
table.matrix tr.group-heading th { position: sticky; left: 0; text-align: left; background: #eef2f6; font-size: .9rem; }
nav.grouping a[aria-current] { font-weight: 700; text-decoration: none; color: inherit; }
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
