"""Conformance checking: run the shapes in shapes/ over a graph with pyshacl and list the findings."""

# Rules, severities, messages and sources live in the shapes (one kimsh:{RULE}-{what} shape per check);
# this module only runs pyshacl, the reference engine, and flattens its sh:ValidationReport.

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from rdflib import BNode, Dataset, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.graph import ConjunctiveGraph
from rdflib.namespace import DCTERMS, RDF, SKOS
from rdflib.term import Node

from kimdata.namespaces import DEFAULT_BASE, PREFIXES, SH
from kimdata.paths import SHAPES_DIR

if TYPE_CHECKING:
    from rdflib.plugins.sparql.sparql import Query

SEVERITY_ORDER = ("Violation", "Warning", "Info")
_SEVERITIES = {SH.Violation: "Violation", SH.Warning: "Warning", SH.Info: "Info"}


class ShapesError(ValueError):
    """The shapes graph is not valid SHACL (pyshacl reports it instead of validating)."""


def load_shapes(base: str = DEFAULT_BASE) -> Graph:
    """Parse every shapes/*.ttl into one graph, rebasing instance IRIs (status concepts) onto ``base``."""
    if not base.endswith("/"):
        base += "/"
    shapes = Graph()
    for path in sorted(SHAPES_DIR.glob("*.ttl")):
        shapes.parse(path, format="turtle")
    old, new = DEFAULT_BASE + "id/", base + "id/"
    if old != new:
        rebased = Graph()
        for triple in shapes:
            rebased.add(tuple(_rebase(term, old, new) for term in triple))
        shapes = rebased
    _bind(shapes)
    return shapes


def _rebase(term: Node, old: str, new: str) -> Node:
    """``term`` with the instance-IRI prefix ``old`` replaced by ``new``."""
    if isinstance(term, URIRef) and term.startswith(old):
        return URIRef(new + term[len(old):])
    return term


def _bind(graph: Graph) -> None:
    """Bind the project's prefixes, so reports and paths print as kim:..., sh:..."""
    for prefix, namespace in PREFIXES.items():
        graph.bind(prefix, namespace, override=True)


@dataclass(frozen=True)
class Finding:
    """One validation result, flattened: which rule, how bad, about what."""

    rule: str
    severity: str
    focus: str
    code: str | None
    message: str
    shape: str
    path: str | None
    value: str | None


@dataclass
class Report:
    """The outcome of one check: sorted, de-duplicated findings plus the sh:ValidationReport graph."""

    conforms: bool
    findings: list[Finding]
    graph: Graph

    def counts(self) -> dict[str, int]:
        """Number of findings per severity (all three severities, zero included)."""
        counts = dict.fromkeys(SEVERITY_ORDER, 0)
        for finding in self.findings:
            counts[finding.severity] += 1
        return counts

    def worst(self) -> str | None:
        """The most serious severity among the findings, or None when there are none."""
        present = {f.severity for f in self.findings}
        return next((s for s in SEVERITY_ORDER if s in present), None)

    def to_text(self) -> str:
        """A plain table: severity, rule, code (or focus IRI) and message, one finding a line."""
        rows = [("severity", "rule", "code", "message")]
        rows += [(f.severity, f.rule, f.code or f.focus, f.message) for f in self.findings]
        widths = [max(len(row[i]) for row in rows) for i in range(3)]
        lines = ["  ".join(cell.ljust(w) for cell, w in zip(row[:3], widths, strict=True)) + "  " + row[3]
                 for row in rows]
        summary = ", ".join(f"{n} {s}" for s, n in self.counts().items())
        status = "conforms" if self.conforms else "does not conform"
        return "\n".join([*lines, f"-- {status}: {summary}"]) + "\n"

    def serialize(self, format: str = "turtle") -> str:
        """The sh:ValidationReport graph as Turtle or JSON-LD."""
        if format not in ("turtle", "json-ld"):
            raise ValueError(f"unsupported report format: {format}")
        return self.graph.serialize(format=format)


def check(data: Graph | Dataset, shapes: Graph | None = None) -> Report:
    """Validate ``data`` (a Graph, or the union of a Dataset's graphs) against ``shapes`` with pyshacl."""
    shapes = load_shapes() if shapes is None else shapes
    if (None, SH.rule, None) in shapes:
        # We validate in place (below); rules would write inferred triples into the caller's data.
        raise ShapesError("shapes with sh:rule are not supported: validation must not change the data")
    import pyshacl  # imported on first use: a server that never validates with pyshacl does not load it

    graph = _query_view(data)
    conforms, report_graph, _ = pyshacl.validate(
        graph,
        shacl_graph=shapes,
        inference="none",
        advanced=True,  # SHACL-SPARQL constraints
        allow_warnings=True,  # only Violations make the report non-conforming
        abort_on_first=False,
        meta_shacl=False,
        # Advanced mode otherwise clones the data graph (for sh:rule, refused above): a full copy,
        # and the clone would lose the prepared-query cache of _PreparedQueryGraph.
        inplace=True,
    )
    if not isinstance(report_graph, Graph):
        # pyshacl returns a ValidationFailure, not an exception, for a broken shapes graph.
        raise ShapesError(str(getattr(report_graph, "message", report_graph)))
    _bind(report_graph)
    findings = sorted(set(_findings(report_graph, graph)), key=_sort_key)
    return Report(conforms=bool(conforms), findings=findings, graph=report_graph)


def to_report(conforms: bool, report_graph: Graph, data: Graph) -> Report:
    """A Report from a sh:ValidationReport graph; ``data`` holds the focus nodes' codes (the fast engine's entry)."""
    _bind(report_graph)
    findings = sorted(set(_findings(report_graph, data)), key=_sort_key)
    return Report(conforms=conforms, findings=findings, graph=report_graph)


class _PreparedQueryGraph(Graph):
    """A Graph that parses each SPARQL text once: pyshacl sends the same text for every focus node."""

    def query(self, query_object, processor="sparql", result="sparql", initNs=None, initBindings=None,  # noqa: N803
              use_store_provided=True, **kwargs):
        """Graph.query, with query strings parsed once per process (rdflib's parser takes ~0.1 s a query)."""
        if isinstance(query_object, str):
            namespaces = tuple(sorted((initNs or dict(self.namespaces())).items()))
            query_object = _prepare(query_object, namespaces)
        return super().query(query_object, processor, result, initNs, initBindings, use_store_provided, **kwargs)


@lru_cache(maxsize=512)
def _prepare(text: str, namespaces: tuple) -> Query:
    # A prepared query is evaluated with fresh bindings each time, so one parse serves every graph.
    from rdflib.plugins.sparql import prepareQuery  # rdflib's SPARQL parser, loaded with pyshacl's first use

    return prepareQuery(text, initNs=dict(namespaces))


def _query_view(data: Graph | Dataset) -> Graph:
    """A _PreparedQueryGraph over ``data``: the same store for a Graph, a union copy for a Dataset."""
    if not isinstance(data, ConjunctiveGraph):  # Dataset subclasses ConjunctiveGraph in rdflib 7
        # A view over the caller's store, not a copy: nothing is written (no sh:rule, see check()).
        return _PreparedQueryGraph(store=data.store, identifier=data.identifier,
                                   namespace_manager=data.namespace_manager)
    # pyshacl would validate each named graph of a Dataset on its own; shapes must see across them.
    union = _PreparedQueryGraph()
    for s, p, o, _ in data.quads((None, None, None, None)):
        union.add((s, p, o))
    _bind(union)
    return union


def _findings(report: Graph, data: Graph):
    """One Finding per sh:ValidationResult of ``report``."""
    for result in report.subjects(RDF.type, SH.ValidationResult):
        focus = report.value(result, SH.focusNode)
        shape = report.value(result, SH.sourceShape)
        messages = sorted(str(m) for m in report.objects(result, SH.resultMessage))
        message = messages[0] if messages else ""
        path = report.value(result, SH.resultPath)
        value = report.value(result, SH.value)
        yield Finding(
            rule=_rule(shape, message),
            # SHACL's default severity is sh:Violation; a custom severity is treated as one too.
            severity=_SEVERITIES.get(report.value(result, SH.resultSeverity), "Violation"),
            focus=str(focus),
            code=_code(data, focus),
            message=message,
            shape=str(shape),
            path=None if path is None else _path_text(report, path),
            value=None if value is None else str(value),
        )


def _rule(shape: Node | None, message: str) -> str:
    """kimsh:R06-duty-mapped -> "R06"; a blank-node shape falls back to the message's first token."""
    if isinstance(shape, URIRef):
        local = re.split(r"[#/]", str(shape))[-1]
        return local.split("-", 1)[0]
    return message.split(maxsplit=1)[0] if message else ""


def _code(data: Graph, focus: Node | None) -> str | None:
    """The focus node's code (skos:notation, else dcterms:identifier) as the data states it."""
    if focus is None:
        return None
    # Sorted so a node with two codes (itself a finding) always shows the same one.
    for prop in (SKOS.notation, DCTERMS.identifier):
        codes = sorted(str(c) for c in data.objects(focus, prop))
        if codes:
            return codes[0]
    return None


def _path_text(graph: Graph, path: Node) -> str:
    """A SHACL property path as SPARQL property-path text, e.g. ``^kim:mapsToSkill``."""
    if isinstance(path, URIRef):
        return graph.namespace_manager.normalizeUri(path)
    if isinstance(path, Literal):
        return str(path)
    for key, template in ((SH.inversePath, "^{}"), (SH.zeroOrMorePath, "{}*"),
                          (SH.oneOrMorePath, "{}+"), (SH.zeroOrOnePath, "{}?")):
        inner = graph.value(path, key)
        if inner is not None:
            return template.format(_path_text(graph, inner))
    alternatives = graph.value(path, SH.alternativePath)
    if alternatives is not None:
        return "(" + "|".join(_path_text(graph, p) for p in Collection(graph, alternatives)) + ")"
    if isinstance(path, BNode) and graph.value(path, RDF.first) is not None:
        return "/".join(_path_text(graph, p) for p in Collection(graph, path))
    return str(path)


def _natural(text: str | None) -> tuple:
    """Natural-order key: K2 before K10."""
    return tuple((part, int(num) if num else -1) for part, num in re.findall(r"(\D*)(\d*)", text or "") if part or num)


def _sort_key(f: Finding) -> tuple:
    """Severity, then rule, then code in natural order; the rest only to make ties deterministic."""
    return (SEVERITY_ORDER.index(f.severity), _natural(f.rule), _natural(f.code or f.focus),
            f.focus, f.shape, f.message, f.path or "", f.value or "")
