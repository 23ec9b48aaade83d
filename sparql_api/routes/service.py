"""What the service and its data are: the SPARQL Service Description, VoID, and whole-dataset dumps.

https://www.w3.org/TR/sparql11-service-description/ and https://www.w3.org/TR/void/
"""

from __future__ import annotations

import inspect

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, RDF, RDFS, VOID, XSD
from starlette.responses import Response

from kimdata.namespaces import KIM, OGL_V3
from sparql_api import formats
from sparql_api.conneg import negotiate
from sparql_api.openapi import content, problems
from sparql_api.routes import base_url, writes_enabled
from sparql_api.statistics import stats_for

router = APIRouter(tags=["Service"])

SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
FORMATS = Namespace("http://www.w3.org/ns/formats/")
ENTAILMENT_SIMPLE = URIRef("http://www.w3.org/ns/entailment/Simple")


def _urls(request: Request) -> tuple[URIRef, URIRef]:
    root = base_url(request)
    return URIRef(root + "sparql"), URIRef(root + ".well-known/void#dataset")


def _new_graph() -> Graph:
    graph = Graph(bind_namespaces="none")
    for prefix in ("sd", "void", "dcterms", "rdfs", "xsd", "formats", "kim"):
        graph.bind(prefix, formats.PREFIX_TABLE[prefix])
    return graph


def service_description(request: Request) -> Graph:
    """sd:Service for /sparql: languages, result formats, features and the default dataset's graphs."""
    stats = stats_for(request)
    endpoint, dataset = _urls(request)
    writable = writes_enabled(request.app.state.settings)
    graph = _new_graph()
    service = URIRef(endpoint + "#service")
    graph.add((service, RDF.type, SD.Service))
    graph.add((service, SD.endpoint, endpoint))
    graph.add((service, DCTERMS.title, Literal("KIM Graph SPARQL endpoint")))
    graph.add((service, SD.supportedLanguage, SD.SPARQL11Query))
    if writable:
        graph.add((service, SD.supportedLanguage, SD.SPARQL11Update))
        for name in formats.PAYLOAD_FORMATS:
            graph.add((service, SD.inputFormat, URIRef(formats.BY_NAME[name].iri)))
    for fmt in formats.FORMATS:
        graph.add((service, SD.resultFormat, URIRef(fmt.iri)))
    graph.add((service, SD.feature, SD.UnionDefaultGraph))
    graph.add((service, SD.defaultEntailmentRegime, ENTAILMENT_SIMPLE))
    graph.add((service, RDFS.seeAlso, URIRef(base_url(request) + ".well-known/void")))
    graph.add((service, SD.defaultDataset, dataset))
    graph.add((dataset, RDF.type, SD.Dataset))
    default = BNode()
    graph.add((dataset, SD.defaultGraph, default))
    graph.add((default, RDF.type, SD.Graph))
    graph.add((default, VOID.triples, Literal(stats.triples, datatype=XSD.integer)))
    for name, count in sorted(stats.graphs.items()):
        named, described = BNode(), BNode()
        graph.add((dataset, SD.namedGraph, named))
        graph.add((named, RDF.type, SD.NamedGraph))
        graph.add((named, SD.name, URIRef(name)))
        graph.add((named, SD.graph, described))
        graph.add((described, RDF.type, SD.Graph))
        graph.add((described, VOID.triples, Literal(count, datatype=XSD.integer)))
    return graph


def void_description(request: Request) -> Graph:
    """void:Dataset with its statistics, partitions, per-graph subsets, endpoint and dumps."""
    stats = stats_for(request)
    endpoint, dataset = _urls(request)
    root = base_url(request)
    base_iri = request.app.state.settings.base_iri
    graph = _new_graph()

    def integer(value: int) -> Literal:
        return Literal(value, datatype=XSD.integer)

    graph.add((dataset, RDF.type, VOID.Dataset))
    graph.add((dataset, DCTERMS.title, Literal("KIM Graph")))
    graph.add((dataset, DCTERMS.description, Literal(
        "Occupational standards for library, information and knowledge management, as linked data.")))
    graph.add((dataset, DCTERMS.license, OGL_V3))
    graph.add((dataset, VOID.sparqlEndpoint, endpoint))
    graph.add((dataset, VOID.dataDump, URIRef(root + "dump.trig")))
    graph.add((dataset, VOID.dataDump, URIRef(root + "dump.nq")))
    graph.add((dataset, VOID.uriSpace, Literal(base_iri + "id/")))
    graph.add((dataset, VOID.vocabulary, URIRef(str(KIM))))
    graph.add((dataset, VOID.triples, integer(stats.triples)))
    graph.add((dataset, VOID.entities, integer(stats.entities)))
    graph.add((dataset, VOID.distinctSubjects, integer(stats.entities)))
    graph.add((dataset, VOID.distinctObjects, integer(stats.objects)))
    graph.add((dataset, VOID.classes, integer(len(stats.classes))))
    graph.add((dataset, VOID.properties, integer(len(stats.properties))))
    for example in stats.examples:
        graph.add((dataset, VOID.exampleResource, URIRef(example)))
    for cls, count in sorted(stats.classes.items()):
        partition = BNode()
        graph.add((dataset, VOID.classPartition, partition))
        graph.add((partition, VOID["class"], URIRef(cls)))
        graph.add((partition, VOID.entities, integer(count)))
    for prop, count in sorted(stats.properties.items()):
        partition = BNode()
        graph.add((dataset, VOID.propertyPartition, partition))
        graph.add((partition, VOID.property, URIRef(prop)))
        graph.add((partition, VOID.triples, integer(count)))
    for name, count in sorted(stats.graphs.items()):
        subset = URIRef(name)
        graph.add((dataset, VOID.subset, subset))
        graph.add((subset, RDF.type, VOID.Dataset))
        graph.add((subset, VOID.triples, integer(count)))
    return graph


def _rdf_response(graph: Graph, accept: str | None) -> Response:
    media = negotiate(accept, formats.GRAPH_OFFERS)
    fmt = formats.format_of(media, "graph").name
    if fmt == "turtle":  # rdflib nests blank nodes, which reads far better for these small graphs
        body = graph.serialize(format="turtle", encoding="utf-8")
    else:
        body = formats.convert_ntriples(graph.serialize(format="nt", encoding="utf-8"), fmt)
    return Response(body, media_type=formats.content_type(media), headers={"Vary": "Accept"})


async def description_or_editor(request: Request) -> Response:
    """GET /sparql without a query: the query editor for browsers, the service description for the rest."""
    accept = request.headers.get("accept")
    chosen = negotiate(accept, formats.GRAPH_OFFERS + ["text/html"])
    if chosen == "text/html":
        from sparql_api.editor import editor_response  # imported here: the editor imports the routes' helpers

        answer = await run_in_threadpool(editor_response, request)
        return await answer if inspect.isawaitable(answer) else answer
    return await run_in_threadpool(lambda: _rdf_response(service_description(request), accept))


@router.api_route("/.well-known/void", methods=["GET", "HEAD"], summary="VoID description of the dataset",
                  response_class=Response,
                  responses={200: {"description": "The void:Dataset, in the negotiated RDF format.",
                                   "content": content(formats.GRAPH_OFFERS)}, **problems(406)})
def void(request: Request) -> Response:
    """The dataset's VoID description, in the RDF format the client accepts."""
    return _rdf_response(void_description(request), request.headers.get("accept"))


@router.api_route("/dump.trig", methods=["GET", "HEAD"], summary="The whole dataset as TriG",
                  response_class=Response,
                  responses={200: {"description": "Every named graph.", "content": content(["application/trig"])}})
def dump_trig(request: Request) -> Response:
    """Every named graph, as TriG."""
    return Response(request.app.state.store.dump("trig"), media_type="application/trig")


@router.api_route("/dump.nq", methods=["GET", "HEAD"], summary="The whole dataset as N-Quads",
                  response_class=Response,
                  responses={200: {"description": "Every named graph.", "content": content(["application/n-quads"])}})
def dump_nquads(request: Request) -> Response:
    """Every named graph, as N-Quads."""
    return Response(request.app.state.store.dump("nquads"), media_type="application/n-quads")
