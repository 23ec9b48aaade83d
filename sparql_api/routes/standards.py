"""Quality views of one standard: its duty x KSB coverage matrix and its conformance report
(sparql_api.coverage and sparql_api.standard_reports build them)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request
from starlette.responses import Response

from conformance.fast import relabel_blank_nodes
from sparql_api.caching import conditional
from sparql_api.conneg import negotiate
from sparql_api.coverage import KSB_TYPES, coverage, grouped
from sparql_api.coverage_groups import GROUPINGS, group_by_discipline
from sparql_api.request_input import base_url, check_params
from sparql_api.responses import HTML, PAGES_CSS_PATH, documented, html_page, json_response, rdf_response
from sparql_api.services import ServicesDep
from sparql_api.standard_reports import stored_report

router = APIRouter(tags=["Standards quality"], default_response_class=Response)

JSON = "application/json"
COVERAGE_OFFERS = [JSON, HTML]
REPORT_OFFERS = [JSON, HTML, "text/turtle", "application/ld+json"]
Reference = Path(description="The standard's reference: ST and four digits.", pattern=r"^ST[0-9]{4}$",
                 examples=["ST1337"])


def _group_enum(schema: dict) -> None:
    """List the groupings as an enum (pydantic writes a single-value Literal as ``const`` only)."""
    for branch in schema.get("anyOf", [schema]):
        if branch.get("type") == "string":
            branch["enum"] = list(GROUPINGS)


Group = Annotated[Literal[GROUPINGS] | None, Query(  # type: ignore[valid-type]
    description="`discipline`: also group the duties and KSBs under the GKIM disciplines the alignment mapping "
                "sets relate them to (a SKOS relation, not a candidate below the threshold), each row under every "
                "discipline it is aligned to and a group `not aligned` for the rest.",
    examples=["discipline"], json_schema_extra=_group_enum)]

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
GROUPED_EXAMPLE = {
    **COVERAGE_EXAMPLE,
    "grouping": {"by": "discipline", "rule": "a SKOS relation (confidence at or above the threshold chosen on the "
                                             "judged set) from a GKIM discipline alignment of any mapping set; ...",
                 "mappingSets": ["https://w3id.org/uk-kim/id/mapping-set/lexical-bm25",
                                 "https://w3id.org/uk-kim/id/mapping-set/semantic-minilm"]},
    "groups": [{"discipline": "https://w3id.org/uk-kim/id/scheme/gkim-discipline/records-management",
                "name": "Records Management", "count": 2, "duties": [],
                "ksbs": [{"code": "K9", "id": "https://w3id.org/uk-kim/id/standard/ST1337/ksb/K9",
                          "alignedBy": [{"method": "all-MiniLM-L6-v2 (semantic)",
                                         "mappingSet": "https://w3id.org/uk-kim/id/mapping-set/semantic-minilm",
                                         "relation": "relatedMatch", "confidence": 0.5095}]}]},
               {"discipline": None, "name": "not aligned", "count": 1, "duties": [{"code": "D15", "id": "...",
                                                                                   "alignedBy": []}], "ksbs": []}],
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


@router.api_route(
    "/standards/{reference}/coverage", methods=["GET", "HEAD"],
    summary="Coverage matrix of a standard: which duty maps which knowledge, skill and behaviour",
    description="Duties (rows) against knowledge, skill and behaviour statements (columns, grouped by type). "
                "JSON lists each duty's mapped codes and the state of its KSB cell in the source (`listed`, "
                "`empty`: the standard maps nothing; `missing`: the capture lost the cell), each KSB's duties, "
                "and the unmapped duties and KSBs (rules R06 and R07). Browsers get an HTML table with the gaps "
                "highlighted. With `group=discipline`, JSON adds `groups`: the duties and KSBs under each GKIM "
                "discipline the alignment mapping sets relate them to, with the method, mapping set and confidence "
                "of each alignment, and a group `not aligned`; the HTML table's rows are grouped the same way.",
    responses=documented({JSON: GROUPED_EXAMPLE, HTML: "<table class=\"matrix\">...</table>"}, errors=(400, 404, 406)),
)
def coverage_matrix(request: Request, services: ServicesDep, reference: str = Reference,
                    group: Group = None) -> Response:
    """The duty x KSB matrix of one standard, as JSON or HTML, its rows optionally grouped by discipline."""
    check_params(request, ("group",))
    media = negotiate(request.headers.get("accept"), COVERAGE_OFFERS)

    def answer() -> Response:
        matrix = coverage(services.store, services.iris, reference)
        by_discipline = group_by_discipline(services.store, services.iris, matrix) if group else None
        if media == JSON:
            return json_response({**matrix.to_json(), **(by_discipline.to_json() if by_discipline else {})})
        groups = [(t, matrix.ksbs_of_type(t)) for t in KSB_TYPES if matrix.ksbs_of_type(t)]
        return html_page(request, services.settings.base_iri, "coverage.html", title=f"Coverage of {reference}",
                         matrix=matrix, groups=groups, grouping=by_discipline, css=PAGES_CSS_PATH)

    return conditional(request, services.stamp, media, answer, reference, group or "", base_url(request),
                       headers={"Vary": "Accept"})


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
def conformance_report(request: Request, services: ServicesDep, reference: str = Reference) -> Response:
    """One standard's stored findings and extraction issues."""
    media = negotiate(request.headers.get("accept"), REPORT_OFFERS)

    def answer() -> Response:
        result = stored_report(services.store, services.iris, reference, services.fresh_validation.get)
        if media == JSON:
            return json_response(result.to_json())
        if media == HTML:
            return html_page(request, services.settings.base_iri, "conformance.html",
                             title=f"Conformance of {reference}", result=result, report=result.report,
                             groups=grouped(result.report.findings), issues=result.issues, css=PAGES_CSS_PATH)
        return rdf_response(relabel_blank_nodes(result.report.graph), media)

    return conditional(request, services.stamp, media, answer, reference, base_url(request), headers={"Vary": "Accept"})
