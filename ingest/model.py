"""Writes an occupational standard into an rdflib graph with the KIM vocabulary: the one place that
knows which triples a standard, a duty, a KSB, a mapping and an employer become, whatever the parser.

The graph may be any sink with ``add((s, p, o))`` (see ingest.provenance); the feed's streaming
build writes through an N-Triples sink and never builds an rdflib graph."""

from __future__ import annotations

import re

from rdflib import Graph, Literal, URIRef

from ingest.provenance import Locator, Provenance
from kimdata.namespaces import (
    CEASN,
    DCTERMS,
    KIM,
    KSB_CLASSES,
    KSB_MAPPING,
    KSB_TYPE_SLUGS,
    ORG,
    RDF,
    SKOS,
    XSD,
    Iris,
    slugify,
)

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


# Labels are derived from what the same source states, into the same graph, by these three rules (README,
# "Labels"): they restate the source's own words and numbering, and add no fact.

def label_of_duty(number: int, statement: str) -> str:
    """A duty's label: its number and its text as the source prints them.

    >>> label_of_duty(3, "Manage the organisation's records.")
    "Duty 3: Manage the organisation's records."
    """
    return f"Duty {number}: {statement}"


def label_of_ksb(letter: str, number: int, statement: str) -> str:
    """A KSB's label: its code and its statement as the source prints them.

    >>> label_of_ksb("K", 1, "The principles of information governance.")
    'K1: The principles of information governance.'
    """
    return f"{letter}{number}: {statement}"


def label_of_standard(title: str) -> str:
    """A standard's label: its title as a source prints it (a standard with no title has no label).

    >>> label_of_standard("Library, information and knowledge management professional")
    'Library, information and knowledge management professional'
    """
    return title


class StandardWriter:
    """Adds the facts one source states about one standard, each with its evidence."""

    def __init__(self, graph: Graph, provenance: Provenance, iris: Iris, reference: str, version: str | None = None):
        """``version`` names an older version, written under /v{version} as a version of the unversioned standard."""
        self.graph = graph
        self.prov = provenance
        self.iris = iris
        self.reference = reference
        self.version = version
        self.literal = provenance.literal
        self.standard = iris.standard(reference, version)
        self._ksbs: dict[tuple[str, int], URIRef] = {}
        self._concepts: dict[tuple[str, str], URIRef] = {}
        graph.add((self.standard, RDF.type, KIM.OccupationalStandard))
        provenance.derived(self.standard)
        if version:
            graph.add((self.standard, DCTERMS.isVersionOf, iris.standard(reference)))

    def _evidence(self, node: URIRef, span: Locator | None) -> None:
        if span is not None:
            self.prov.evidence(node, span)
        elif node is not self.standard:  # the standard was derived on creation
            self.prov.derived(node)

    def _concept(self, scheme: str, slug: str) -> URIRef:
        key = (scheme, slug)
        if key not in self._concepts:
            self._concepts[key] = self.iris.concept(scheme, slug)
        return self._concepts[key]

    def _ksb(self, letter: str, number: int) -> URIRef:
        key = (letter, number)
        if key not in self._ksbs:
            self._ksbs[key] = self.iris.ksb(self.reference, letter, number, self.version)
        return self._ksbs[key]

    def text(self, prop: URIRef, text: str, span: Locator | None) -> None:
        """A verbatim English statement about the standard; its title is its label too (``label_of_standard``)."""
        self.graph.add((self.standard, prop, self.literal(text, lang="en")))
        if prop == DCTERMS.title:
            self.graph.add((self.standard, SKOS.prefLabel, self.literal(label_of_standard(text), lang="en")))
        self._evidence(self.standard, span)

    def value(self, prop: URIRef, value: Literal | URIRef, span: Locator | None) -> None:
        self.graph.add((self.standard, prop, value))
        self._evidence(self.standard, span)

    def identifier(self, span: Locator | None) -> None:
        """The standard's reference as the source prints it."""
        self.value(DCTERMS.identifier, self.literal(self.reference), span)

    def level(self, level: int, span: Locator | None) -> None:
        self.value(KIM.level, self.literal(level, datatype=XSD.integer), span)

    def status(self, slug: str, span: Locator | None) -> None:
        self.value(KIM.status, self._concept("standard-status", slug), span)

    def approval(self, step: str, span: Locator | None) -> None:
        """An approval step the standard has passed, a concept of the approval-step scheme."""
        self.value(KIM.approvalGiven, self._concept("approval-step", step), span)

    def months(self, prop: URIRef, months_prop: URIRef, months: int, span: Locator | None) -> None:
        """A period given in whole months: an xsd:duration and the month count as published."""
        self.value(prop, self.literal(f"P{months}M", datatype=XSD.duration), span)
        self.value(months_prop, self.literal(months, datatype=XSD.integer), span)

    def route(self, name: str, span: Locator | None) -> URIRef:
        """The standard's occupational route, a concept of the route scheme labelled as the source names it."""
        route = self._concept("route", slugify(name))
        g = self.graph
        g.add((route, RDF.type, SKOS.Concept))
        g.add((route, SKOS.inScheme, self.iris.concept("route")))
        g.add((route, SKOS.prefLabel, self.literal(name, lang="en")))
        self.prov.derived(route)
        self.value(KIM.route, route, span)
        return route

    def occupation(self, code: str, span: Locator | None) -> URIRef:
        occupation = self.iris.occupation(code)
        g = self.graph
        g.add((occupation, RDF.type, KIM.Occupation))
        g.add((occupation, SKOS.notation, self.literal(code)))
        g.add((occupation, KIM.hasStandard, self.standard))
        g.add((self.standard, KIM.occupation, occupation))
        self._evidence(occupation, span)
        return occupation

    def duty(self, number: int, statement: str, span: Locator | None, identifier: str | None = None) -> URIRef:
        """Duty D{number}; ``identifier`` is the source's own id for it (an IfATE GUID)."""
        duty = self.iris.duty(self.reference, number, self.version)
        g, literal = self.graph, self.literal
        g.add((duty, RDF.type, KIM.Duty))
        g.add((duty, SKOS.notation, literal(f"D{number}")))
        g.add((duty, KIM.ordinal, literal(number, datatype=XSD.integer)))
        g.add((duty, DCTERMS.description, literal(statement, lang="en")))
        g.add((duty, SKOS.prefLabel, literal(label_of_duty(number, statement), lang="en")))
        g.add((duty, KIM.dutyOf, self.standard))
        g.add((self.standard, KIM.hasDuty, duty))
        if identifier:
            g.add((duty, DCTERMS.identifier, literal(identifier)))
        self._evidence(duty, span)
        return duty

    def ksb(self, letter: str, number: int, statement: str, span: Locator | None, identifier: str | None = None) -> URIRef:
        """KSB {letter}{number}; ``identifier`` is the source's own id for it (an IfATE GUID)."""
        ksb = self._ksb(letter, number)
        g, literal = self.graph, self.literal
        g.add((ksb, RDF.type, KSB_CLASSES[letter]))
        g.add((ksb, SKOS.notation, literal(f"{letter}{number}")))
        g.add((ksb, KIM.ordinal, literal(number, datatype=XSD.integer)))
        g.add((ksb, CEASN.competencyText, literal(statement, lang="en")))
        g.add((ksb, SKOS.prefLabel, literal(label_of_ksb(letter, number, statement), lang="en")))
        g.add((ksb, CEASN.isPartOf, self.standard))
        g.add((ksb, KIM.ksbType, self._concept("ksb-type", KSB_TYPE_SLUGS[letter])))
        g.add((self.standard, KIM.hasKSB, ksb))
        if identifier:
            g.add((ksb, DCTERMS.identifier, literal(identifier)))
        self._evidence(ksb, span)
        return ksb

    def mapping(self, duty: URIRef, letter: str, number: int) -> None:
        """The duty's row lists this KSB code."""
        self.graph.add((duty, KSB_MAPPING[letter], self._ksb(letter, number)))

    def cell_state(self, duty: URIRef, state: str, span: Locator | None) -> None:
        self.graph.add((duty, KIM.ksbCellState, self._concept("ksb-cell-state", state)))
        if span is not None:
            self.graph.add((duty, KIM.evidence, self.prov.locate(span)))

    def organisation(self, name: str, org_type: str, span: Locator | None) -> URIRef:
        org = self.iris.org(slugify(name))
        g = self.graph
        g.add((org, RDF.type, ORG.Organization))
        g.add((org, SKOS.prefLabel, self.literal(name, lang="en")))
        g.add((org, ORG.classification, self._concept("org-type", org_type)))
        self._evidence(org, span)
        return org

    def employer(self, name: str, span: Locator | None) -> URIRef:
        """A trailblazer employer: a member of the standard's trailblazer group."""
        employer = self.organisation(name, "employer", span)
        group = self.iris.org(f"trailblazer-{self.reference.lower()}")
        g = self.graph
        g.add((group, RDF.type, ORG.OrganizationalCollaboration))
        g.add((group, ORG.hasMember, employer))
        g.add((employer, ORG.memberOf, group))
        g.add((self.standard, KIM.developedBy, group))
        g.add((self.standard, KIM.involvedEmployer, employer))
        self.prov.derived(group)
        return employer
