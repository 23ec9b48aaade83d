"""Provenance of parsed facts: source documents, ingest activities, text spans and extraction issues.

Every entity a parser reads from a document gets ``prov:wasDerivedFrom`` the document, and every
statement read from its text gets a ``kim:evidence`` span: a Web Annotation specific resource with a
position selector (character offsets, end exclusive) and a quote selector (the exact text). JSON has
no text spans worth quoting: an entity read from a JSON document cites the place it was read from as
a fragment selector holding an RFC 6901 JSON Pointer (``/0/duties/3``).

The graph written to is any *sink* with rdflib's ``add((s, p, o))``; a sink that also has
``literal(value, lang=None, datatype=None)`` makes the literals (the N-Triples sink does, for speed).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from rdflib import Graph, Literal, URIRef

from ingest.manifest import Source
from kimdata.namespaces import DCTERMS, FOAF, KIM, OA, PROV, RDF, RDFS, SH, XSD, Iris

PARSER_VERSION = "kimgraph-ingest 0.1.0"
JSON_POINTER = URIRef("https://www.rfc-editor.org/rfc/rfc6901")

SEVERITIES = {"violation": SH.Violation, "warning": SH.Warning, "info": SH.Info}


@dataclass(frozen=True)
class Span:
    """A stretch of a document's text: ``text == document[start:end]``."""

    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Pointer:
    """A place in a JSON document, as an RFC 6901 JSON Pointer ("" is the whole document)."""

    path: str


Locator = Span | Pointer


def literal_maker(graph):
    """The literal constructor for a sink: its own ``literal`` if it has one, else rdflib's ``Literal``."""
    return getattr(graph, "literal", Literal)


class Provenance:
    """Writes the provenance of one source document into that document's graph."""

    def __init__(self, graph: Graph, source: Source, iris: Iris):
        self.graph = graph
        self.source = source
        self.iris = iris
        self.document = iris.source(source.id)
        self.literal = literal_maker(graph)

    def describe_source(self, sha256: str | None = None) -> None:
        """The source document node: kind, title, publisher, address, licence, checksum, and the ingest activity."""
        g, doc, s = self.graph, self.document, self.source
        g.add((doc, RDF.type, KIM.SourceDocument))
        g.add((doc, RDF.type, FOAF.Document))
        g.add((doc, DCTERMS.identifier, Literal(s.id)))
        g.add((doc, KIM.sourceKind, Literal(s.kind)))
        if s.title:
            g.add((doc, DCTERMS.title, Literal(s.title, lang="en")))
            g.add((doc, RDFS.label, Literal(s.title, lang="en")))
        if s.publisher:
            g.add((doc, DCTERMS.publisher, Literal(s.publisher, lang="en")))
        if s.url:
            g.add((doc, PROV.hadPrimarySource, URIRef(s.url)))
            g.add((doc, FOAF.page, URIRef(s.url)))
        if s.issued:
            g.add((doc, DCTERMS.issued, Literal(s.issued, datatype=XSD.date)))
        if s.licence:
            g.add((doc, DCTERMS.license, URIRef(s.licence)))
        if s.rights:
            g.add((doc, DCTERMS.rights, Literal(s.rights, lang="en")))
        if s.attribution:
            g.add((doc, KIM.attributionText, Literal(s.attribution, lang="en")))
        checksum = sha256 or s.sha256
        if checksum:
            g.add((doc, KIM.sha256, Literal(checksum, datatype=XSD.hexBinary)))
        activity = self.iris.activity(s.id)
        g.add((activity, RDF.type, KIM.IngestActivity))
        g.add((activity, RDF.type, PROV.Activity))
        g.add((activity, RDFS.label, Literal(f"Ingest of source {s.id} ({s.kind})", lang="en")))
        g.add((activity, PROV.used, doc))
        g.add((activity, KIM.parserVersion, Literal(PARSER_VERSION)))
        g.add((activity, PROV.endedAtTime, Literal(datetime.now(UTC).replace(microsecond=0))))

    def derived(self, entity: URIRef) -> None:
        """Record that ``entity`` is described by this source."""
        self.graph.add((entity, PROV.wasDerivedFrom, self.document))

    def span(self, span: Span) -> URIRef:
        """The IRI of a text span of this document, written with its selectors."""
        g = self.graph
        node = self.iris.span(self.source.id, span.start, span.end)
        position = URIRef(f"{node}#position")
        quote = URIRef(f"{node}#quote")
        g.add((node, RDF.type, KIM.TextSpan))
        g.add((node, OA.hasSource, self.document))
        g.add((node, OA.hasSelector, position))
        g.add((node, OA.hasSelector, quote))
        g.add((position, RDF.type, OA.TextPositionSelector))
        g.add((position, OA.start, Literal(span.start)))
        g.add((position, OA.end, Literal(span.end)))
        g.add((quote, RDF.type, OA.TextQuoteSelector))
        g.add((quote, OA.exact, Literal(span.text)))
        return node

    def pointer(self, pointer: Pointer) -> URIRef:
        """The IRI of a part of this (JSON) document, written with its JSON Pointer selector."""
        add = self.graph.add
        node = self.iris.pointer(self.source.id, pointer.path)
        selector = URIRef(f"{node}#selector")
        add((node, RDF.type, OA.SpecificResource))
        add((node, OA.hasSource, self.document))
        add((node, OA.hasSelector, selector))
        add((selector, RDF.type, OA.FragmentSelector))
        add((selector, DCTERMS.conformsTo, JSON_POINTER))
        add((selector, RDF.value, self.literal(pointer.path)))
        return node

    def locate(self, where: Locator) -> URIRef:
        """The evidence node for a text span or a JSON pointer."""
        return self.span(where) if isinstance(where, Span) else self.pointer(where)

    def evidence(self, entity: URIRef, span: Locator) -> URIRef:
        """Derive ``entity`` from this source and cite ``span`` as its evidence."""
        self.derived(entity)
        node = self.locate(span)
        self.graph.add((entity, KIM.evidence, node))
        return node

    def issue(
        self,
        code: str,
        subject: str,
        affects: URIRef,
        message: str,
        severity: str = "warning",
        span: Locator | None = None,
    ) -> URIRef:
        """Record an extraction issue: something the source should say but the capture lost."""
        g = self.graph
        node = self.iris.issue(self.source.id, code, subject)
        g.add((node, RDF.type, KIM.ExtractionIssue))
        g.add((node, KIM.issueCode, Literal(code)))
        g.add((node, KIM.affects, affects))
        g.add((node, RDFS.label, Literal(f"{code}: {subject}", lang="en")))
        g.add((node, DCTERMS.description, Literal(message, lang="en")))
        g.add((node, KIM.severity, SEVERITIES[severity]))
        self.derived(node)
        if span is not None:
            g.add((node, KIM.evidence, self.locate(span)))
        return node

