"""Publishing: the ontology at its namespace (/def), the shapes (/shapes), the DCAT dataset description
(/dataset) and the JSON-LD dump (/dump.jsonld; TriG and N-Quads are in routes/service.py)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from fastapi import APIRouter, Request
from rdflib import Graph, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS
from rdflib.term import Node
from starlette.responses import Response

from conformance.reference import _path_text as validate_path_text
from ingest.build import ALIGNMENT, ONTOLOGY
from kimdata.namespaces import KIMSH, OGL_V3, PREFIXES, SH
from sparql_api.caching import conditional
from sparql_api.catalogue import DUMPS, ONTOLOGY_IRI, dataset_graph, source_documents
from sparql_api.conneg import negotiate
from sparql_api.coverage import shapes_for
from sparql_api.responses import HTML, OGL_ATTRIBUTION, PAGES_CSS_PATH, RDF_OFFERS, documented, html_page, rdf_response
from sparql_api.routes import base_url

router = APIRouter(tags=["Publishing"], default_response_class=Response)

OFFERS = [*RDF_OFFERS[:1], HTML, *RDF_OFFERS[1:]]  # Turtle for clients that say nothing, HTML for browsers
def _negotiate(request: Request) -> str:
    return negotiate(request.headers.get("accept"), OFFERS)


def _label(graph: Graph, term: Node) -> str:
    """A term's label, else its prefixed name."""
    label = graph.value(term, RDFS.label)
    return str(label) if label is not None else qname(term)


def qname(term: Node) -> str:
    """``kim:Duty`` for a term in a known namespace, else the IRI.

    >>> qname(URIRef("https://w3id.org/uk-kim/def#Duty")), qname(URIRef("http://example.org/x"))
    ('kim:Duty', 'http://example.org/x')
    """
    text = str(term)
    for prefix, namespace in sorted(PREFIXES.items(), key=lambda item: -len(item[1])):
        if text.startswith(namespace) and re.match(r"^[A-Za-z_][\w.-]*$", text[len(namespace):]):
            return f"{prefix}:{text[len(namespace):]}"
    return text


# ------------------------------------------------------------------ /def

@lru_cache(maxsize=1)
def ontology_graphs() -> tuple[bytes, Graph, Graph]:
    """ontology/kim.ttl as published (its bytes and graph) and ontology/alignment.ttl."""
    text = ONTOLOGY.read_bytes()
    return text, Graph().parse(data=text, format="turtle"), Graph().parse(ALIGNMENT, format="turtle")


@dataclass
class Term:
    """One class or property of the ontology, for the documentation page."""

    iri: str
    name: str
    label: str
    comment: str | None
    kind: str
    parents: list[tuple[str, str]] = field(default_factory=list)  # (iri, prefixed name)
    children: list[tuple[str, str]] = field(default_factory=list)
    domain: list[tuple[str, str]] = field(default_factory=list)
    range: list[tuple[str, str]] = field(default_factory=list)
    inverse: list[tuple[str, str]] = field(default_factory=list)
    used_in: list[tuple[str, str]] = field(default_factory=list)


def ontology_terms() -> tuple[dict, list[Term], list[Term]]:
    """The ontology header, its classes and its properties with labels, comments, domains, ranges and parents."""
    _, ontology, alignment = ontology_graphs()
    both = ontology + alignment

    def refs(nodes) -> list[tuple[str, str]]:
        return sorted(((str(n), qname(n)) for n in set(nodes) if isinstance(n, URIRef)), key=lambda r: r[1])

    header = {
        "iri": str(ONTOLOGY_IRI),
        "title": str(ontology.value(ONTOLOGY_IRI, DCTERMS.title) or ontology.value(ONTOLOGY_IRI, RDFS.label) or ""),
        "comment": str(ontology.value(ONTOLOGY_IRI, RDFS.comment) or ""),
        "version": str(ontology.value(ONTOLOGY_IRI, OWL.versionInfo) or ""),
        "version_iri": str(ontology.value(ONTOLOGY_IRI, OWL.versionIRI) or ""),
        "license": str(ontology.value(ONTOLOGY_IRI, DCTERMS.license) or ""),
    }
    kinds = {OWL.Class: "Class", RDFS.Class: "Class", OWL.ObjectProperty: "Object property",
             OWL.DatatypeProperty: "Datatype property", OWL.AnnotationProperty: "Annotation property",
             RDF.Property: "Property"}
    classes: list[Term] = []
    properties: list[Term] = []
    for kind_iri, kind in kinds.items():
        for subject in ontology.subjects(RDF.type, kind_iri):
            if not isinstance(subject, URIRef) or any(t.iri == str(subject) for t in classes + properties):
                continue
            is_class = kind == "Class"
            parent = RDFS.subClassOf if is_class else RDFS.subPropertyOf
            comment = ontology.value(subject, RDFS.comment)
            term = Term(str(subject), qname(subject), _label(ontology, subject),
                        None if comment is None else str(comment), kind,
                        parents=refs(both.objects(subject, parent)), children=refs(both.subjects(parent, subject)))
            if is_class:
                term.used_in = refs([p for p in ontology.subjects(RDFS.domain, subject)]
                                    + [p for p in ontology.subjects(RDFS.range, subject)])
                classes.append(term)
            else:
                term.domain = refs(ontology.objects(subject, RDFS.domain))
                term.range = refs(ontology.objects(subject, RDFS.range))
                term.inverse = refs(list(ontology.objects(subject, OWL.inverseOf))
                                    + list(ontology.subjects(OWL.inverseOf, subject)))
                properties.append(term)
    return header, sorted(classes, key=lambda t: t.name), sorted(properties, key=lambda t: t.name)


@router.api_route(
    "/def", methods=["GET", "HEAD"], summary="The KIM ontology, at its namespace",
    description="The vocabulary `https://w3id.org/uk-kim/def#` as published in `ontology/kim.ttl`: Turtle (the file "
                "itself, the default), JSON-LD, N-Triples or RDF/XML, and for browsers an HTML page documenting "
                "each class and property with its label, comment, domain, range and super-classes (including the "
                "alignments to SKOS, schema.org, CTDL, ORG, PROV and Web Annotation from `ontology/alignment.ttl`).",
    responses=documented({"text/turtle": "<https://w3id.org/uk-kim/def> a owl:Ontology ; owl:versionInfo \"0.1.0\" .",
                          HTML: "<section class=\"term\" id=\"Duty\">...</section>"}),
)
def ontology(request: Request) -> Response:
    """The ontology in the negotiated format."""
    media = _negotiate(request)

    def answer() -> Response:
        text, graph, _ = ontology_graphs()
        if media == "text/turtle":  # the file itself, byte for byte
            return Response(text, media_type="text/turtle; charset=utf-8", headers={"Vary": "Accept"})
        if media != HTML:
            return rdf_response(graph, media)
        header, classes, properties = ontology_terms()
        return html_page(request, "ontology.html", title="KIM ontology", ontology=header, classes=classes,
                         properties=properties, css=PAGES_CSS_PATH)

    return conditional(request, media, answer, "def", str(request.base_url), headers={"Vary": "Accept"})


# ------------------------------------------------------------------ /shapes

@dataclass
class Rule:
    """One shape as the rules page lists it."""

    iri: str
    anchor: str
    rule: str
    severity: str
    messages: list[str]
    targets: list[str]
    path: str | None
    comment: str | None
    see_also: list[str]


def _path_text(graph: Graph, path: Node | None) -> str | None:
    """A shape's path in the notation the reports use (``^kim:mapsToSkill``, ``(a|b)``)."""
    return None if path is None else validate_path_text(graph, path)


def shape_rules(shapes: Graph) -> list[Rule]:
    """Every shape with an IRI under kimsh:, its rule id, severity, message(s), targets, path and source comment."""
    rules = []
    target_props = (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf)
    for shape in set(shapes.subjects(RDF.type, SH.NodeShape)) | set(shapes.subjects(RDF.type, SH.PropertyShape)):
        if not isinstance(shape, URIRef) or not str(shape).startswith(str(KIMSH)):
            continue
        local = str(shape)[len(str(KIMSH)):]
        severity = shapes.value(shape, SH.severity)
        messages = sorted({str(m) for m in shapes.objects(shape, SH.message)}
                          | {str(m) for c in shapes.objects(shape, SH.sparql) for m in shapes.objects(c, SH.message)})
        targets = sorted(f"{qname(p).split(':')[1]} {qname(o)}" for p in target_props for o in shapes.objects(shape, p))
        comment = shapes.value(shape, RDFS.comment)
        rules.append(Rule(str(shape), local, local.split("-", 1)[0],
                          qname(severity).split(":")[-1] if severity is not None else "Violation", messages, targets,
                          _path_text(shapes, shapes.value(shape, SH.path)),
                          None if comment is None else str(comment),
                          sorted(str(s) for s in shapes.objects(shape, RDFS.seeAlso))))
    order = {"R": 0, "W": 1}
    return sorted(rules, key=lambda r: (order.get(r.rule[:1], 2), r.rule, r.anchor))


@router.api_route(
    "/shapes", methods=["GET", "HEAD"], summary="The conformance rules, as SHACL shapes",
    description="Every shape of `shapes/*.ttl` (one stable IRI `kimsh:{RULE}-{what}` per check, with its severity, "
                "message and the source of the rule in `rdfs:comment`): Turtle by default, JSON-LD, N-Triples or "
                "RDF/XML, and for browsers an HTML table of the rules.",
    responses=documented({"text/turtle": "kimsh:R06-duty-mapped a sh:PropertyShape ; sh:severity sh:Violation ; "
                                         "sh:message \"R06 duty is mapped to no KSB\" .",
                          HTML: "<table id=\"rules\">...</table>"}),
)
def shapes(request: Request) -> Response:
    """The shapes graph in the negotiated format."""
    media = _negotiate(request)

    def answer() -> Response:
        graph = shapes_for(request.app.state.settings.base_iri)
        if media != HTML:
            return rdf_response(graph, media)
        return html_page(request, "shapes.html", title="Conformance shapes", rules=shape_rules(graph),
                         css=PAGES_CSS_PATH)

    return conditional(request, media, answer, "shapes", str(request.base_url), headers={"Vary": "Accept"})


@router.api_route(
    "/dataset", methods=["GET", "HEAD"], summary="DCAT description of the dataset",
    description="A `dcat:Dataset`: title, description, licence (Open Government Licence v3.0) with its attribution, "
                "publisher, the source documents with their own licences, one `dcat:Distribution` per dump "
                "(`dcat:downloadURL`, `dcat:mediaType`) and the SPARQL endpoint as a `dcat:DataService` "
                "(`dcat:accessService`). Turtle by default, JSON-LD, N-Triples, RDF/XML, or HTML for browsers.",
    responses=documented({"text/turtle": "<http://127.0.0.1:8000/dataset> a dcat:Dataset ;\n"
                                         "  dcat:distribution <http://127.0.0.1:8000/dataset#dump-trig> .",
                          HTML: "<dl class=\"props\">...</dl>"}),
)
def dataset(request: Request) -> Response:
    """The DCAT description in the negotiated format."""
    media = _negotiate(request)

    def answer() -> Response:
        if media != HTML:
            return rdf_response(dataset_graph(base_url(request), request.app.state.store), media)
        root = base_url(request)
        return html_page(request, "dataset.html", title="Dataset", dumps=[(root + p, t, m) for p, t, m, _ in DUMPS],
                         sources=source_documents(request.app.state.store), ogl=str(OGL_V3),
                         attribution=OGL_ATTRIBUTION, css=PAGES_CSS_PATH)

    return conditional(request, media, answer, "dataset", str(request.base_url), headers={"Vary": "Accept"})


@router.api_route(
    "/dump.jsonld", methods=["GET", "HEAD"], summary="The whole dataset as JSON-LD",
    description="Every named graph, as expanded JSON-LD (one `@graph` per named graph).",
    responses=documented({"application/ld+json": [{"@id": "https://w3id.org/uk-kim/graph/ontology", "@graph": []}]},
                         errors=()),
)
def dump_jsonld(request: Request) -> Response:
    """Every named graph, as JSON-LD."""
    return conditional(request, "application/ld+json",
                       lambda: Response(request.app.state.store.dump("jsonld"), media_type="application/ld+json"),
                       "dump")

