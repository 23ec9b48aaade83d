"""Quality views of one standard: its duty x KSB coverage matrix and its conformance report.

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

from fastapi import APIRouter, Path, Request
from rdflib import BNode, Graph, Literal
from rdflib.namespace import DCTERMS, RDF, SKOS
from rdflib.term import Node
from starlette.responses import Response

from conformance.fast import check_store, relabel_blank_nodes
from conformance.reference import Report, to_report
from kimdata.namespaces import SH, Iris
from sparql_api.caching import conditional
from sparql_api.conneg import negotiate
from sparql_api.coverage import (
    KSB_TYPES,
    KSBS_QUERY,
    PROLOGUE,
    Issue,
    check_reference,
    coverage,
    grouped,
    report_json,
    shapes_for,
    stored_issues,
)
from sparql_api.errors import ResourceNotFound
from sparql_api.responses import HTML, PAGES_CSS_PATH, documented, html_page, json_response, rdf_response
from store.embedded import Store
from store.terms import to_rdflib

router = APIRouter(tags=["Standards quality"], default_response_class=Response)

JSON = "application/json"
COVERAGE_OFFERS = [JSON, HTML]
REPORT_OFFERS = [JSON, HTML, "text/turtle", "application/ld+json"]
Reference = Path(description="The standard's reference: ST and four digits.", pattern=r"^ST[0-9]{4}$",
                 examples=["ST1337"])

COVERAGE_EXAMPLE = {
    "standard": "https://w3id.org/uk-kim/id/standard/ST1337", "reference": "ST1337",
    "title": "Library, information and knowledge management professional",
    "duties": [{"code": "D1", "id": "https://w3id.org/uk-kim/id/standard/ST1337/duty/1",
                "statement": "Design search strategies ...", "cellState": "empty",
                "knowledge": [], "skills": [], "behaviours": []},
               {"code": "D2", "id": "https://w3id.org/uk-kim/id/standard/ST1337/duty/2",
                "statement": "Analyse, manipulate and interpret data ...", "cellState": "listed",
                "knowledge": ["K1", "K2", "K3", "K4", "K11", "K16", "K19", "K20", "K25"], "skills": [],
                "behaviours": []}],
    "ksbs": [{"code": "K1", "id": "https://w3id.org/uk-kim/id/standard/ST1337/ksb/K1", "type": "knowledge",
              "statement": "Specialist library, information, and knowledge systems ...", "duties": ["D2", "D3"]}],
    "unmappedDuties": [{"code": "D1", "cellState": "empty"}, {"code": "D15", "cellState": "missing"}],
    "unmappedKsbs": [{"code": "S1", "type": "skill"}, {"code": "B1", "type": "behaviour"}],
}
REPORT_EXAMPLE = {
    "standard": "https://w3id.org/uk-kim/id/standard/ST1337", "reference": "ST1337", "conforms": False,
    "counts": {"Violation": 20, "Warning": 15, "Info": 6},
    "findings": [{"rule": "R06", "severity": "Violation", "focus": "https://w3id.org/uk-kim/id/standard/ST1337/duty/1",
                  "code": "D1", "message": "R06 duty is mapped to no KSB",
                  "shape": "https://w3id.org/uk-kim/shapes#R06-duty-mapped",
                  "path": "(kim:mapsToKnowledge|kim:mapsToSkill|kim:mapsToBehaviour)", "value": None}],
    "extractionIssues": [{"issueCode": "missing-ksb-cell", "severity": "Warning",
                          "affects": "https://w3id.org/uk-kim/id/standard/ST1337/duty/15", "affectedCode": "D15",
                          "description": "Duty 15's row has no KSB cell: the capture lost which KSBs it maps to.",
                          "quote": "Duty 15 Promote innovation ... |",
                          "source": "https://w3id.org/uk-kim/id/source/57c36d939ff65b92"}],
}
REPORT_TURTLE = """@prefix sh: <http://www.w3.org/ns/shacl#> .
[] a sh:ValidationReport ; sh:conforms false ;
  sh:result [ a sh:ValidationResult ; sh:focusNode <https://w3id.org/uk-kim/id/standard/ST1337/duty/1> ;
              sh:resultSeverity sh:Violation ; sh:resultMessage "R06 duty is mapped to no KSB" ;
              sh:sourceShape <https://w3id.org/uk-kim/shapes#R06-duty-mapped> ] ."""


# ------------------------------------------------------------------ findings about one standard

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


def stored_report(store: Store, iris: Iris, reference: str,
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


def fresh_report(request: Request) -> Report:
    """The shapes run over the whole store (source graphs and concept schemes), once per data version."""
    state = request.app.state
    version = state.version.value
    cached = getattr(state, "fresh_validation", None)
    if cached is None or cached[0] != version:
        iris = Iris(state.settings.base_iri)
        sources = str(iris.graph("source/"))
        graphs = [g for g in state.store.named_graphs() if g.startswith(sources)] + [str(iris.graph("concepts"))]
        cached = (version, check_store(state.store, shapes_for(iris.base), graphs=graphs))
        state.fresh_validation = cached
    return cached[1]


@router.api_route(
    "/standards/{reference}/coverage", methods=["GET", "HEAD"],
    summary="Coverage matrix of a standard: which duty maps which knowledge, skill and behaviour",
    description="Duties (rows) against knowledge, skill and behaviour statements (columns, grouped by type). "
                "JSON lists each duty's mapped codes and the state of its KSB cell in the source (`listed`, "
                "`empty`: the standard maps nothing; `missing`: the capture lost the cell), each KSB's duties, "
                "and the unmapped duties and KSBs (rules R06 and R07). Browsers get an HTML table with the gaps "
                "highlighted.",
    responses=documented({JSON: COVERAGE_EXAMPLE, HTML: "<table class=\"matrix\">...</table>"}, errors=(400, 404, 406)),
)
def coverage_matrix(request: Request, reference: str = Reference) -> Response:
    """The duty x KSB matrix of one standard, as JSON or HTML."""
    media = negotiate(request.headers.get("accept"), COVERAGE_OFFERS)
    state = request.app.state

    def answer() -> Response:
        matrix = coverage(state.store, Iris(state.settings.base_iri), reference)
        if media == JSON:
            return json_response(matrix.to_json())
        groups = [(t, matrix.ksbs_of_type(t)) for t in KSB_TYPES if matrix.ksbs_of_type(t)]
        return html_page(request, "coverage.html", title=f"Coverage of {reference}", matrix=matrix, groups=groups,
                         css=PAGES_CSS_PATH)

    return conditional(request, media, answer, reference, str(request.base_url), headers={"Vary": "Accept"})


@router.api_route(
    "/standards/{reference}/conformance", methods=["GET", "HEAD"],
    summary="Conformance report of a standard: its findings, and what the capture of its sources lost",
    description="The findings of the last build's SHACL validation (the stored `graph/validation`; a fresh run of "
                "the shapes over the store when the build stored none) whose focus "
                "is the standard, one of its duties or one of its KSBs, plus the extraction issues recorded "
                "about them, kept apart: a finding is a defect of the standard as captured, an extraction issue "
                "a gap in the captured text. JSON by default, HTML for browsers, and the `sh:ValidationReport` "
                "itself as Turtle or JSON-LD.",
    responses=documented({JSON: REPORT_EXAMPLE, HTML: "<table class=\"findings\">...</table>",
                          "text/turtle": REPORT_TURTLE,
                          "application/ld+json": {"@context": {"sh": "http://www.w3.org/ns/shacl#"},
                                                  "@type": "sh:ValidationReport", "sh:conforms": False}},
                         errors=(400, 404, 406)),
)
def conformance_report(request: Request, reference: str = Reference) -> Response:
    """One standard's stored findings and extraction issues."""
    media = negotiate(request.headers.get("accept"), REPORT_OFFERS)
    state = request.app.state

    def answer() -> Response:
        result = stored_report(state.store, Iris(state.settings.base_iri), reference, lambda: fresh_report(request))
        if media == JSON:
            return json_response(result.to_json())
        if media == HTML:
            return html_page(request, "conformance.html", title=f"Conformance of {reference}", result=result,
                             report=result.report, groups=grouped(result.report.findings), issues=result.issues,
                             css=PAGES_CSS_PATH)
        return rdf_response(relabel_blank_nodes(result.report.graph), media)

    return conditional(request, media, answer, reference, str(request.base_url), headers={"Vary": "Accept"})
