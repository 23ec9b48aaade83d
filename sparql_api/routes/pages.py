"""The home page and the stylesheet of the pages."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from kimdata.namespaces import KIM, OGL_V3, PREFIXES
from sparql_api.caching import conditional
from sparql_api.catalogue import dataset_graph, select_strings, source_documents
from sparql_api.conneg import negotiate
from sparql_api.request_input import base_url
from sparql_api.responses import (
    HTML,
    OGL_ATTRIBUTION,
    PAGES_CSS,
    PAGES_CSS_PATH,
    RDF_OFFERS,
    documented,
    html_page,
    rdf_response,
)
from sparql_api.services import Services, ServicesDep

router = APIRouter(tags=["Pages"], default_response_class=Response)


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
HOME_EXAMPLE_HTML = "<!DOCTYPE html><html lang=\"en\">...<h1>KIM Graph</h1>...</html>"


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
def home(request: Request, services: ServicesDep) -> Response:
    """The home page (HTML), or the dataset's DCAT description for RDF clients."""
    media = negotiate(request.headers.get("accept"), [HTML, *RDF_OFFERS])
    return conditional(request, services.stamp, media, lambda: _home(request, services, media), "home",
                       base_url(request), headers={"Vary": "Accept"})


def _home(request: Request, services: Services, media: str) -> Response:
    if media != HTML:
        return rdf_response(dataset_graph(base_url(request), services.store, services.rights.get()), media)
    stats = services.stats.get()
    standards = select_strings(services.store, STANDARDS_QUERY)
    for row in standards:
        row["reference"] = row["reference"] or row["standard"].rstrip("/").rsplit("/", 1)[-1]
    counts = {
        "triples": stats.triples,
        "graphs": len(stats.graphs),
        "standards": stats.classes.get(str(KIM.OccupationalStandard), 0),
        "duties": stats.classes.get(str(KIM.Duty), 0),
        "ksbs": sum(stats.classes.get(str(KIM[c]), 0) for c in ("Knowledge", "Skill", "Behaviour")),
    }
    return html_page(request, services.settings.base_iri, "home.html", title="Home", standards=standards,
                     sources=source_documents(services.store), counts=counts,
                     gkim=str(services.iris.org("gkim-profession")), ogl=str(OGL_V3), attribution=OGL_ATTRIBUTION,
                     css=PAGES_CSS_PATH)
