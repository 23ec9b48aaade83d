"""Loader for curated Turtle: hand-written facts about a source, and the project's reference vocabularies.

Curated files use relative IRIs only (``<org/cilip>``) and no ``@base``: they are parsed with the
instance base (``Iris.id``) as publicID, so one setting moves every resource. A curated source
whose document text is vendored cites it with evidence blank nodes::

    <org/cdl> kim:evidence [ oa:exact "an exact substring of the document" ] .

and the loader replaces each blank node by the canonical text span (``Provenance.span``) after
finding the quote in the text. A source without vendored text may carry no evidence blank nodes.
"""

from __future__ import annotations

import re
from pathlib import Path

from rdflib import BNode, Graph, URIRef
from rdflib.namespace import RDF
from rdflib.plugins.parsers.notation3 import BadSyntax

from ingest.manifest import Source, read_text
from ingest.provenance import Provenance, Span
from kimdata.namespaces import DEFAULT_BASE, KIM, OA, Iris

# A base directive would pin the file to one instance base; absolute IRIs under the default base would too.
_BASE_DIRECTIVE = re.compile(r"^\s*(@base\b|BASE\s*<)", re.MULTILINE | re.IGNORECASE)
_DEFAULT_ID = DEFAULT_BASE + "id/"


class CuratedDataError(ValueError):
    """A curated Turtle file is malformed or cites text that its source does not contain."""

    def __init__(self, path: Path, message: str, line: int | None = None):
        super().__init__(f"{path}:{line}: {message}" if line else f"{path}: {message}")
        self.path = path
        self.line = line
        self.message = message


def parse_curated(source: Source, iris: Iris) -> Graph:
    """Parse a curated-turtle source into its graph, with its evidence spans and provenance."""
    if source.kind != "curated-turtle":
        raise CuratedDataError(source.path, f"source {source.id} has kind {source.kind!r}, not 'curated-turtle'")
    graph = _parse(source.read(), source.path, iris)
    provenance = Provenance(graph, source, iris)
    # Derivation first, so that only the file's own resources get it (not the spans and source node added below).
    for subject in set(graph.subjects(RDF.type)):
        if isinstance(subject, URIRef) and str(subject).startswith(iris.id):
            provenance.derived(subject)
    _resolve_evidence(graph, source, provenance)
    provenance.describe_source()
    return graph


def parse_concepts(path: Path, iris: Iris) -> Graph:
    """Parse the project's reference vocabularies (no source, so no provenance)."""
    graph = _parse(read_text(Path(path)), Path(path), iris)
    if any(isinstance(o, BNode) for o in graph.objects(None, KIM.evidence)):
        raise CuratedDataError(path, "reference vocabularies cite no document, so they may carry no kim:evidence")
    return graph


def _parse(text: str, path: Path, iris: Iris) -> Graph:
    """Parse Turtle against the instance base, turning syntax errors into CuratedDataError."""
    match = _BASE_DIRECTIVE.search(text)
    if match:
        line = text.count("\n", 0, match.start()) + 1
        raise CuratedDataError(path, "no base directive allowed; IRIs are relative to the instance base", line)
    if _DEFAULT_ID in text:
        line = text.count("\n", 0, text.index(_DEFAULT_ID)) + 1
        raise CuratedDataError(path, f"use a relative IRI instead of {_DEFAULT_ID}...", line)
    graph = Graph()
    try:
        graph.parse(data=text, format="turtle", publicID=iris.id)
    except BadSyntax as e:
        # BadSyntax.lines counts the newlines before the error, so the 1-based line is one more.
        raise CuratedDataError(path, f"Turtle syntax error: {e._why}", e.lines + 1) from e
    return graph


def _resolve_evidence(graph: Graph, source: Source, provenance: Provenance) -> None:
    """Replace every ``kim:evidence [ oa:exact "..." ]`` by the span of the document where the quote is."""
    pending = [(s, o) for s, o in graph.subject_objects(KIM.evidence) if isinstance(o, BNode)]
    if not pending:
        return
    document = source.read_document()
    if document is None:
        raise CuratedDataError(
            source.path,
            f"source {source.id} has no vendored text to check quotes against, "
            f"so it may carry no kim:evidence blank nodes (found {len(pending)})",
        )
    for subject, node in pending:
        quotes = list(graph.objects(node, OA.exact))
        extra = [p for p in graph.predicates(node) if p != OA.exact]
        if len(quotes) != 1 or extra or not str(quotes[0]):
            raise CuratedDataError(source.path, f"evidence of {subject} must be exactly [ oa:exact \"non-empty quote\" ]")
        quote = str(quotes[0])
        # First occurrence wins: a quote that occurs twice is cited at its first place in the text.
        start = document.find(quote)
        if start < 0:
            raise CuratedDataError(source.path, f"quote not found in {source.text}: {quote!r}")
        graph.remove((subject, KIM.evidence, node))
        graph.remove((node, None, None))
        provenance.evidence(subject, Span(start, start + len(quote), quote))
