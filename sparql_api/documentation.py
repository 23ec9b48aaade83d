"""Documentation of the ontology and the shapes, for their HTML pages: terms with their labels, comments,
domains, ranges and parents, and the rules the shapes check."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from rdflib import Graph, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS
from rdflib.term import Node

from conformance.reference import _path_text as validate_path_text
from ingest.build import ALIGNMENT, ONTOLOGY
from kimdata.namespaces import KIMSH, PREFIXES, SH
from sparql_api.catalogue import ONTOLOGY_IRI


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
