"""The VoID description as a page for people: the dataset's figures, its named-graph subsets with whatever
each states (licence, rights, triples), and the class and property partitions, read from the VoID graph
itself so the page shows exactly what the RDF says."""

from __future__ import annotations

from dataclasses import dataclass, field

from rdflib import RDF, Graph, Literal, URIRef
from rdflib.namespace import VOID
from rdflib.term import Node

_PARTITIONS = (VOID.classPartition, VOID.propertyPartition)


@dataclass
class Described:
    """One void:Dataset: its IRI and its statements as (property, value, is_link) rows."""

    iri: str
    rows: list[tuple[str, str, bool]] = field(default_factory=list)
    triples: int | None = None


def _curie(graph: Graph, term: Node) -> str:
    try:
        return graph.namespace_manager.normalizeUri(term) if isinstance(term, URIRef) else str(term)
    except Exception:
        return str(term)


def _describe(graph: Graph, node: Node, skip: tuple[URIRef, ...]) -> Described:
    described = Described(str(node))
    for predicate, value in sorted(graph.predicate_objects(node), key=lambda pair: (str(pair[0]), str(pair[1]))):
        if predicate in skip or predicate == RDF.type or not isinstance(value, (URIRef, Literal)):
            continue
        if predicate == VOID.triples and isinstance(value, Literal):
            described.triples = int(value)
        described.rows.append((_curie(graph, predicate), str(value), isinstance(value, URIRef)))
    return described


def void_view(graph: Graph) -> dict:
    """What ``void.html`` shows: the top dataset(s), their subsets and the partitions, largest first."""
    subsets = set(graph.objects(None, VOID.subset))
    tops = [node for node in graph.subjects(RDF.type, VOID.Dataset) if node not in subsets]
    datasets = [_describe(graph, node, (VOID.subset, *_PARTITIONS)) for node in sorted(tops, key=str)]
    described_subsets = [_describe(graph, node, ()) for node in sorted(subsets, key=str)]
    classes, properties = [], []
    for top in tops:
        for part in graph.objects(top, VOID.classPartition):
            classes.append((_curie(graph, graph.value(part, VOID["class"])), int(graph.value(part, VOID.entities) or 0)))
        for part in graph.objects(top, VOID.propertyPartition):
            properties.append((_curie(graph, graph.value(part, VOID.property)), int(graph.value(part, VOID.triples) or 0)))
    return {"datasets": datasets, "subsets": described_subsets,
            "classes": sorted(classes, key=lambda c: (-c[1], c[0])),
            "properties": sorted(properties, key=lambda p: (-p[1], p[0]))}
