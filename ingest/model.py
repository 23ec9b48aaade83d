"""Writes an occupational standard into an rdflib graph with the KIM vocabulary: the one place that
knows which triples a standard, a duty, a KSB, a mapping and an employer become, whatever the parser."""

from __future__ import annotations

import re

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, RDF, SKOS, XSD

from ingest.namespaces import (
    CEASN,
    KIM,
    KSB_CLASSES,
    KSB_MAPPING,
    KSB_TYPE_SLUGS,
    ORG,
    Iris,
    slugify,
)
from ingest.provenance import Provenance, Span

STATUSES = ("proposal-in-development", "in-development", "approved-for-delivery", "retired", "withdrawn")
CELL_STATES = ("listed", "empty", "missing")
OCCUPATION_CODE = re.compile(r"^OCC(\d{4})$")
STANDARD_REFERENCE = re.compile(r"^ST\d{4}$")


def reference_from_occupation(code: str) -> str:
    """The ST reference with the digits of an OCC code.

    >>> reference_from_occupation("OCC1337")
    'ST1337'
    """
    match = OCCUPATION_CODE.match(code)
    if not match:
        raise ValueError(f"not an occupation code: {code!r}")
    return f"ST{match.group(1)}"


class StandardWriter:
    """Adds the facts one source states about one standard, each with its evidence."""

    def __init__(self, graph: Graph, provenance: Provenance, iris: Iris, reference: str):
        self.graph = graph
        self.prov = provenance
        self.iris = iris
        self.reference = reference
        self.standard = iris.standard(reference)
        graph.add((self.standard, RDF.type, KIM.OccupationalStandard))
        provenance.derived(self.standard)

    def _evidence(self, node: URIRef, span: Span | None) -> None:
        if span is not None:
            self.prov.evidence(node, span)
        else:
            self.prov.derived(node)

    def text(self, prop: URIRef, text: str, span: Span | None) -> None:
        """A verbatim English statement about the standard."""
        self.graph.add((self.standard, prop, Literal(text, lang="en")))
        self._evidence(self.standard, span)

    def value(self, prop: URIRef, value: Literal | URIRef, span: Span | None) -> None:
        self.graph.add((self.standard, prop, value))
        self._evidence(self.standard, span)

    def identifier(self, span: Span | None) -> None:
        """The standard's reference as the source prints it."""
        self.value(DCTERMS.identifier, Literal(self.reference), span)

    def level(self, level: int, span: Span | None) -> None:
        self.value(KIM.level, Literal(level, datatype=XSD.integer), span)

    def status(self, slug: str, span: Span | None) -> None:
        self.value(KIM.status, self.iris.concept("standard-status", slug), span)

    def occupation(self, code: str, span: Span | None) -> URIRef:
        occupation = self.iris.occupation(code)
        g = self.graph
        g.add((occupation, RDF.type, KIM.Occupation))
        g.add((occupation, SKOS.notation, Literal(code)))
        g.add((occupation, KIM.hasStandard, self.standard))
        g.add((self.standard, KIM.occupation, occupation))
        self._evidence(occupation, span)
        return occupation

    def duty(self, number: int, statement: str, span: Span | None) -> URIRef:
        duty = self.iris.duty(self.reference, number)
        g = self.graph
        g.add((duty, RDF.type, KIM.Duty))
        g.add((duty, SKOS.notation, Literal(f"D{number}")))
        g.add((duty, KIM.ordinal, Literal(number, datatype=XSD.integer)))
        g.add((duty, DCTERMS.description, Literal(statement, lang="en")))
        g.add((duty, KIM.dutyOf, self.standard))
        g.add((self.standard, KIM.hasDuty, duty))
        self._evidence(duty, span)
        return duty

    def ksb(self, letter: str, number: int, statement: str, span: Span | None) -> URIRef:
        ksb = self.iris.ksb(self.reference, letter, number)
        g = self.graph
        g.add((ksb, RDF.type, KSB_CLASSES[letter]))
        g.add((ksb, SKOS.notation, Literal(f"{letter}{number}")))
        g.add((ksb, KIM.ordinal, Literal(number, datatype=XSD.integer)))
        g.add((ksb, CEASN.competencyText, Literal(statement, lang="en")))
        g.add((ksb, CEASN.isPartOf, self.standard))
        g.add((ksb, KIM.ksbType, self.iris.concept("ksb-type", KSB_TYPE_SLUGS[letter])))
        g.add((self.standard, KIM.hasKSB, ksb))
        self._evidence(ksb, span)
        return ksb

    def mapping(self, duty: URIRef, letter: str, number: int) -> None:
        """The duty's row lists this KSB code."""
        self.graph.add((duty, KSB_MAPPING[letter], self.iris.ksb(self.reference, letter, number)))

    def cell_state(self, duty: URIRef, state: str, span: Span | None) -> None:
        self.graph.add((duty, KIM.ksbCellState, self.iris.concept("ksb-cell-state", state)))
        if span is not None:
            self.graph.add((duty, KIM.evidence, self.prov.span(span)))

    def organisation(self, name: str, org_type: str, span: Span | None) -> URIRef:
        org = self.iris.org(slugify(name))
        g = self.graph
        g.add((org, RDF.type, ORG.Organization))
        g.add((org, SKOS.prefLabel, Literal(name, lang="en")))
        g.add((org, ORG.classification, self.iris.concept("org-type", org_type)))
        self._evidence(org, span)
        return org

    def employer(self, name: str, span: Span | None) -> URIRef:
        """A trailblazer employer: a member of the standard's trailblazer group."""
        employer = self.organisation(name, "employer", span)
        group = self.iris.org(f"trailblazer-{self.reference.lower()}")
        g = self.graph
        g.add((group, RDF.type, ORG.OrganizationalCollaboration))
        g.add((group, SKOS.prefLabel, Literal(f"Trailblazer group for {self.reference}", lang="en")))
        g.add((group, ORG.hasMember, employer))
        g.add((employer, ORG.memberOf, group))
        g.add((self.standard, KIM.developedBy, group))
        g.add((self.standard, KIM.involvedEmployer, employer))
        self.prov.derived(group)
        return employer
