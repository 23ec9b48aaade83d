"""What the service and its data are, as RDF: the SPARQL Service Description and the VoID description.

https://www.w3.org/TR/sparql11-service-description/ and https://www.w3.org/TR/void/
"""

from __future__ import annotations

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, RDF, RDFS, VOID, XSD
from starlette.responses import Response

from kimdata.namespaces import KIM
from sparql_api import formats
from sparql_api.conneg import negotiate
from sparql_api.licensing import GraphRights, mixed_summary, open_graphs, open_summary
from sparql_api.statistics import Stats

SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
FORMATS = Namespace("http://www.w3.org/ns/formats/")
ENTAILMENT_SIMPLE = URIRef("http://www.w3.org/ns/entailment/Simple")


def _urls(root: str) -> tuple[URIRef, URIRef]:
    return URIRef(root + "sparql"), URIRef(root + ".well-known/void#dataset")


def _new_graph() -> Graph:
    graph = Graph(bind_namespaces="none")
    for prefix in ("sd", "void", "dcterms", "rdfs", "xsd", "formats", "kim"):
        graph.bind(prefix, formats.PREFIX_TABLE[prefix])
    return graph


def service_description(root: str, stats: Stats, writable: bool) -> Graph:
    """sd:Service for ``{root}sparql``: languages, result formats, features and the default dataset's graphs."""
    endpoint, dataset = _urls(root)
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
    graph.add((service, RDFS.seeAlso, URIRef(root + ".well-known/void")))
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


def void_description(root: str, stats: Stats, base_iri: str, rights: dict[str, GraphRights]) -> Graph:
    """void:Dataset with its statistics, partitions, per-graph subsets (each with its own licence or rights),
    endpoint and dumps, and the open part (the open-licensed graphs) with its own dumps."""
    endpoint, dataset = _urls(root)
    graph = _new_graph()

    def integer(value: int) -> Literal:
        return Literal(value, datatype=XSD.integer)

    graph.add((dataset, RDF.type, VOID.Dataset))
    graph.add((dataset, DCTERMS.title, Literal("KIM Graph")))
    graph.add((dataset, DCTERMS.description, Literal(
        "Occupational standards for library, information and knowledge management, as linked data.")))
    graph.add((dataset, DCTERMS.rights, Literal(mixed_summary(rights), lang="en")))
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
        if "/graph/mapping-set/" in name:  # alignments (curated/alignments) that link to ESCO concepts
            graph.add((subset, DCTERMS.source, URIRef("https://esco.ec.europa.eu/")))
        described = rights.get(name)
        if described is not None:
            _state_rights(graph, subset, described)
    open_part = URIRef(root + ".well-known/void#open")
    graph.add((dataset, VOID.subset, open_part))
    graph.add((open_part, RDF.type, VOID.Dataset))
    graph.add((open_part, DCTERMS.title, Literal("KIM Graph, open-licensed part", lang="en")))
    graph.add((open_part, DCTERMS.rights, Literal(open_summary(rights), lang="en")))
    graph.add((open_part, VOID.dataDump, URIRef(root + "dump-open.trig")))
    graph.add((open_part, VOID.dataDump, URIRef(root + "dump-open.nq")))
    for name in open_graphs(rights):
        graph.add((open_part, VOID.subset, URIRef(name)))
    return graph


def _state_rights(graph: Graph, node: URIRef, rights: GraphRights) -> None:
    """A graph's own licence (when it has one) and rights statement."""
    graph.add((node, DCTERMS.title, Literal(rights.title, lang="en")))
    if rights.license:
        graph.add((node, DCTERMS.license, URIRef(rights.license)))
    graph.add((node, DCTERMS.rights, Literal(rights.rights, lang="en")))
    if rights.attribution:
        graph.add((node, KIM.attributionText, Literal(rights.attribution, lang="en")))


def description_response(graph: Graph, accept: str | None) -> Response:
    """``graph`` in the RDF format ``accept`` prefers (406 when none fits), with ``Vary: Accept``."""
    media = negotiate(accept, formats.GRAPH_OFFERS)
    fmt = formats.format_of(media, "graph").name
    if fmt == "turtle":  # rdflib nests blank nodes, which reads far better for these small graphs
        body = graph.serialize(format="turtle", encoding="utf-8")
    else:
        body = formats.convert_ntriples(graph.serialize(format="nt", encoding="utf-8"), fmt)
    return Response(body, media_type=formats.content_type(media), headers={"Vary": "Accept"})
