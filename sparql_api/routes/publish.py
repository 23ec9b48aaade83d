"""Publishing: the ontology at its namespace (/def), the shapes (/shapes), the DCAT dataset description
(/dataset) and the JSON-LD dump (/dump.jsonld; TriG and N-Quads are in routes/service.py)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from kimdata.namespaces import OGL_V3
from sparql_api.caching import conditional
from sparql_api.catalogue import DUMPS, OPEN_DUMPS, dataset_graph, source_documents
from sparql_api.conneg import negotiate
from sparql_api.coverage import shapes_for
from sparql_api.documentation import ontology_graphs, ontology_terms, shape_rules
from sparql_api.licensing import mixed_summary
from sparql_api.request_input import base_url
from sparql_api.responses import HTML, PAGES_CSS_PATH, RDF_OFFERS, documented, html_page, rdf_response
from sparql_api.services import ServicesDep

router = APIRouter(tags=["Publishing"], default_response_class=Response)

OFFERS = [*RDF_OFFERS[:1], HTML, *RDF_OFFERS[1:]]  # Turtle for clients that say nothing, HTML for browsers


def _negotiate(request: Request) -> str:
    return negotiate(request.headers.get("accept"), OFFERS)


# ------------------------------------------------------------------ /def

@router.api_route(
    "/def", methods=["GET", "HEAD"], summary="The KIM ontology, at its namespace",
    description="The vocabulary `https://w3id.org/uk-kim/def#` as published in `ontology/kim.ttl`: Turtle (the file "
                "itself, the default), JSON-LD, N-Triples or RDF/XML, and for browsers an HTML page documenting "
                "each class and property with its label, comment, domain, range and super-classes (including the "
                "alignments to SKOS, schema.org, CTDL, ORG, PROV and Web Annotation from `ontology/alignment.ttl`).",
    responses=documented({"text/turtle": "<https://w3id.org/uk-kim/def> a owl:Ontology ; owl:versionInfo \"0.1.0\" .",
                          HTML: "<section class=\"term\" id=\"Duty\">...</section>"}),
)
def ontology(request: Request, services: ServicesDep) -> Response:
    """The ontology in the negotiated format."""
    media = _negotiate(request)

    def answer() -> Response:
        text, graph, _ = ontology_graphs()
        if media == "text/turtle":  # the file itself, byte for byte
            return Response(text, media_type="text/turtle; charset=utf-8", headers={"Vary": "Accept"})
        if media != HTML:
            return rdf_response(graph, media)
        header, classes, properties = ontology_terms()
        return html_page(request, services.settings.base_iri, "ontology.html", title="KIM ontology", ontology=header,
                         classes=classes, properties=properties, css=PAGES_CSS_PATH)

    return conditional(request, services.stamp, media, answer, "def", base_url(request), headers={"Vary": "Accept"})


# ------------------------------------------------------------------ /shapes

@router.api_route(
    "/shapes", methods=["GET", "HEAD"], summary="The conformance rules, as SHACL shapes",
    description="Every shape of `shapes/*.ttl` (one stable IRI `kimsh:{RULE}-{what}` per check, with its severity, "
                "message and the source of the rule in `rdfs:comment`): Turtle by default, JSON-LD, N-Triples or "
                "RDF/XML, and for browsers an HTML table of the rules.",
    responses=documented({"text/turtle": "kimsh:R06-duty-mapped a sh:PropertyShape ; sh:severity sh:Violation ; "
                                         "sh:message \"R06 duty is mapped to no KSB\" .",
                          HTML: "<table id=\"rules\">...</table>"}),
)
def shapes(request: Request, services: ServicesDep) -> Response:
    """The shapes graph in the negotiated format."""
    media = _negotiate(request)
    base_iri = services.settings.base_iri

    def answer() -> Response:
        graph = shapes_for(base_iri)
        if media != HTML:
            return rdf_response(graph, media)
        return html_page(request, base_iri, "shapes.html", title="Conformance shapes", rules=shape_rules(graph),
                         css=PAGES_CSS_PATH)

    return conditional(request, services.stamp, media, answer, "shapes", base_url(request), headers={"Vary": "Accept"})


@router.api_route(
    "/dataset", methods=["GET", "HEAD"], summary="DCAT description of the dataset",
    description="A `dcat:Dataset`: title, description, its mixed rights (`dcterms:rights`), publisher, the source "
                "documents with their own licences, one `dcat:Distribution` per dump (the full dump with its mixed "
                "rights, the open dump of the open-licensed graphs) and per named graph (with its own licence or rights) "
                "(`dcat:downloadURL`, `dcat:mediaType`) and the SPARQL endpoint as a `dcat:DataService` "
                "(`dcat:accessService`). Turtle by default, JSON-LD, N-Triples, RDF/XML, or HTML for browsers.",
    responses=documented({"text/turtle": "<http://127.0.0.1:8000/dataset> a dcat:Dataset ;\n"
                                         "  dcat:distribution <http://127.0.0.1:8000/dataset#dump-trig> .",
                          HTML: "<dl class=\"props\">...</dl>"}),
)
def dataset(request: Request, services: ServicesDep) -> Response:
    """The DCAT description in the negotiated format."""
    media = _negotiate(request)

    def answer() -> Response:
        rights = services.rights.get()
        if media != HTML:
            return rdf_response(dataset_graph(base_url(request), services.store, rights), media)
        root = base_url(request)
        return html_page(request, services.settings.base_iri, "dataset.html", title="Dataset",
                         dumps=[(root + p, t, m) for p, t, m, _ in (*DUMPS, *OPEN_DUMPS)],
                         sources=source_documents(services.store), ogl=str(OGL_V3),
                         rights=mixed_summary(rights), graphs=sorted(rights.values(), key=lambda r: r.graph),
                         css=PAGES_CSS_PATH)

    return conditional(request, services.stamp, media, answer, "dataset", base_url(request), headers={"Vary": "Accept"})


@router.api_route(
    "/dump.jsonld", methods=["GET", "HEAD"], summary="The whole dataset as JSON-LD",
    description="Every named graph, as expanded JSON-LD (one `@graph` per named graph).",
    responses=documented({"application/ld+json": [{"@id": "https://w3id.org/uk-kim/graph/ontology", "@graph": []}]},
                         errors=()),
)
def dump_jsonld(request: Request, services: ServicesDep) -> Response:
    """Every named graph, as JSON-LD."""
    return conditional(request, services.stamp, "application/ld+json",
                       lambda: Response(services.store.dump("jsonld"), media_type="application/ld+json"), "dump")

