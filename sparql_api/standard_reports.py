"""The conformance report of one standard: its findings and its extraction issues.

A standard's findings are read from the build's stored report (``{base}graph/validation``), restricted
to the standard's focus nodes (itself, its duties, its KSBs) with one CONSTRUCT; a store without a
stored report gets a fresh run of the shapes (conformance.fast), once per data version. A
substituted ``?standard`` is not in scope inside a group that does not match it (a lone
``BIND(?standard AS ?focus)`` would leave ``?focus`` unbound and match every result), hence the type
pattern before each BIND.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rdflib import BNode, Graph, Literal
from rdflib.namespace import DCTERMS, RDF, SKOS
from rdflib.term import Node

from conformance.fast import check_store
from conformance.reference import Report, to_report
from kimdata.namespaces import SH, Iris
from sparql_api.coverage import KSBS_QUERY, PROLOGUE, Issue, check_reference, report_json, shapes_for, stored_issues
from sparql_api.errors import ResourceNotFound
from store.protocol import KnowledgeStore
from store.terms import to_rdflib

# The stored results whose focus node is the standard, one of its duties or one of its KSBs, each with
# the blank nodes it points to (paths, copied SPARQL constraints), plus the codes of the focus nodes.
FINDINGS_QUERY = PROLOGUE + """
CONSTRUCT { ?node ?p ?o . ?focus skos:notation ?notation . ?focus dcterms:identifier ?identifier }
WHERE {
  { ?standard a kim:OccupationalStandard BIND(?standard AS ?focus) }
  UNION { ?standard kim:hasDuty ?focus } UNION { ?standard kim:hasKSB ?focus }
  GRAPH ?validation {
    ?result sh:focusNode ?focus .
    ?result (<urn:kimgraph:none>|!<urn:kimgraph:none>)* ?node .
    FILTER(?node = ?result || isBlank(?node))
    ?node ?p ?o .
  }
  OPTIONAL { ?focus skos:notation ?notation }
  OPTIONAL { ?focus dcterms:identifier ?identifier }
}
"""
# The standard and its duties and KSBs: the focus nodes its findings are about.
FOCUS_QUERY = PROLOGUE + """
SELECT DISTINCT ?standard ?focus
WHERE {
  { ?standard a kim:OccupationalStandard BIND(?standard AS ?focus) }
  UNION { ?standard kim:hasDuty ?focus } UNION { ?standard kim:hasKSB ?focus }
}
"""


@dataclass
class StandardReport:
    """A standard's conformance: its findings (a Report over its focus nodes) and its extraction issues.

    ``origin`` says where the findings come from: the build's stored report, or a fresh run of the
    shapes over the store when the build stored none.
    """

    standard: str
    reference: str
    report: Report
    issues: list[Issue]
    origin: str = "graph/validation"

    def to_json(self) -> dict:
        return report_json(self.report, self.issues, standard=self.standard, reference=self.reference,
                           findingsFrom=self.origin)


def stored_report(store: KnowledgeStore, iris: Iris, reference: str,
                  fresh: Callable[[], Report] | None = None) -> StandardReport:
    """The findings about one standard of the last build's validation (``{base}graph/validation``).

    When the store holds no validation graph, ``fresh()`` (a report over the whole store) is restricted
    to the standard's focus nodes instead.
    """
    standard = iris.standard(check_reference(reference))
    if not store.select(KSBS_QUERY + "LIMIT 1", substitutions={"standard": standard}):
        raise ResourceNotFound(f"no standard {reference} in this dataset")
    issues = stored_issues(store, iris, reference)
    validation = iris.graph("validation")
    if fresh is not None and str(validation) not in store.named_graphs():
        focus = {str(row["focus"]) for row in store.select(FOCUS_QUERY, substitutions={"standard": standard})}
        return StandardReport(str(standard), reference, restrict(fresh(), focus), issues, "fresh validation")
    triples = store.query(FINDINGS_QUERY, substitutions={"standard": standard, "validation": validation})
    report_graph, codes = Graph(), Graph()
    for triple in triples:
        s, p, o = to_rdflib(triple.subject), to_rdflib(triple.predicate), to_rdflib(triple.object)
        (codes if p in (SKOS.notation, DCTERMS.identifier) and not isinstance(s, BNode) else report_graph).add((s, p, o))
    results = set(report_graph.subjects(SH.focusNode, None))
    _add_header(report_graph, results)
    conforms = report_graph.value(next(report_graph.subjects(RDF.type, SH.ValidationReport)), SH.conforms).toPython()
    return StandardReport(str(standard), reference, to_report(conforms, report_graph, codes), issues)


def _add_header(graph: Graph, results: set[Node]) -> None:
    """The sh:ValidationReport node over ``results``; only sh:Violation (or a custom severity) breaks conformance."""
    conforms = not any(graph.value(r, SH.resultSeverity) not in (SH.Warning, SH.Info) for r in results)
    node = BNode()
    graph.add((node, RDF.type, SH.ValidationReport))
    graph.add((node, SH.conforms, Literal(conforms)))
    for result in results:
        graph.add((node, SH.result, result))


def restrict(report: Report, focus: set[str]) -> Report:
    """The part of ``report`` about the focus nodes ``focus``: their results, with the blank nodes they use."""
    source = report.graph
    graph = Graph(namespace_manager=source.namespace_manager)
    results = {r for r, f in source.subject_objects(SH.focusNode) if str(f) in focus}
    stack, seen = list(results), set()
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        for p, o in source.predicate_objects(node):
            graph.add((node, p, o))
            if isinstance(o, BNode):
                stack.append(o)
    _add_header(graph, results)
    conforms = graph.value(next(graph.subjects(RDF.type, SH.ValidationReport)), SH.conforms).toPython()
    return Report(conforms, [f for f in report.findings if f.focus in focus], graph)


def validate_store(store: KnowledgeStore, iris: Iris) -> Report:
    """The shapes run over the whole store: its source graphs and the concept schemes."""
    sources = str(iris.graph("source/"))
    graphs = [g for g in store.named_graphs() if g.startswith(sources)] + [str(iris.graph("concepts"))]
    return check_store(store, shapes_for(iris.base), graphs=graphs)
