"""RDF terms and formats shared by the stores: rdflib terms to pyoxigraph's and back, format names.

rdflib is imported by the conversions that need it, not here: the query workers run on pyoxigraph's terms alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyoxigraph as ox

if TYPE_CHECKING:
    from rdflib.term import Node

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"

RDF_FORMATS: dict[str, ox.RdfFormat] = {
    "turtle": ox.RdfFormat.TURTLE,
    "ntriples": ox.RdfFormat.N_TRIPLES,
    "nquads": ox.RdfFormat.N_QUADS,
    "trig": ox.RdfFormat.TRIG,
    "rdfxml": ox.RdfFormat.RDF_XML,
    "jsonld": ox.RdfFormat.JSON_LD,
}
RESULT_FORMATS: dict[str, ox.QueryResultsFormat] = {
    "json": ox.QueryResultsFormat.JSON,
    "xml": ox.QueryResultsFormat.XML,
    "csv": ox.QueryResultsFormat.CSV,
    "tsv": ox.QueryResultsFormat.TSV,
}


def serialized(data: bytes | None) -> bytes:
    """What a pyoxigraph ``serialize()`` given no output returns: the bytes (None only when it wrote to an output).

    >>> serialized(ox.serialize([], format=ox.RdfFormat.N_TRIPLES))
    b''
    """
    if data is None:
        raise TypeError("serialize() wrote to an output, so it returned no bytes")
    return data


def to_oxigraph(term: Node) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    """An rdflib term as a pyoxigraph term."""
    from rdflib import BNode, Literal, URIRef

    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    if isinstance(term, Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        if term.datatype:
            return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
        return ox.Literal(str(term))
    raise TypeError(f"cannot convert {term!r}")


def to_rdflib(term) -> Node | None:
    """A pyoxigraph term as an rdflib term (None for the default graph)."""
    from rdflib import BNode, Literal, URIRef

    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return Literal(term.value, lang=term.language)
        if term.datatype.value == XSD_STRING:
            return Literal(term.value)  # RDF 1.1: a simple literal is an xsd:string
        return Literal(term.value, datatype=URIRef(term.datatype.value))
    if isinstance(term, ox.DefaultGraph) or term is None:
        return None
    raise TypeError(f"cannot convert {term!r}")


def is_graph(result) -> bool:
    """Whether a query result is triples (CONSTRUCT, DESCRIBE) rather than solutions or a boolean."""
    return isinstance(result, ox.QueryTriples)


def solution_rows(solutions) -> list[dict[str, Node]]:
    """A SELECT's solutions as dicts of rdflib terms, unbound variables left out."""
    names = [v.value for v in solutions.variables]
    return [{name: to_rdflib(row[name]) for name in names if row[name] is not None} for row in solutions]
