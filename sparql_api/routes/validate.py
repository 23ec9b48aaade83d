"""The validation service: POST a standard (Turtle, JSON-LD, a page as text or HTML, or the feed), get its SHACL report.

Nothing is stored; sparql_api.uploads reads and validates the upload.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from starlette.responses import Response

from sparql_api.conneg import negotiate
from sparql_api.coverage import grouped, report_json
from sparql_api.errors import BadRequest, UnsupportedMediaType
from sparql_api.html import local_path
from sparql_api.request_input import base_url, media_type, public_url, read_body
from sparql_api.responses import HTML, PAGES_CSS_PATH, documented, html_page, json_response, rdf_response
from sparql_api.services import ServicesDep, SettingsDep
from sparql_api.uploads import UPLOADS, Outcome, report_graph, validate_upload

router = APIRouter(tags=["Validation"], default_response_class=Response)

REPORT_OFFERS = ["text/turtle", "application/ld+json", HTML, "application/json"]


# ------------------------------------------------------------------ the routes

TURTLE_EXAMPLE = """@prefix kim: <https://w3id.org/uk-kim/def#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
<https://w3id.org/uk-kim/id/standard/ST0998> a kim:OccupationalStandard ;
    dcterms:identifier "ST0998" ; dcterms:title "Records assistant"@en ;
    kim:hasDuty <https://w3id.org/uk-kim/id/standard/ST0998/duty/1> .
<https://w3id.org/uk-kim/id/standard/ST0998/duty/1> a kim:Duty ; skos:notation "D1" ; kim:ordinal 1 ;
    kim:dutyOf <https://w3id.org/uk-kim/id/standard/ST0998> ;
    dcterms:description "Manage the records of the organisation."@en ."""
PAGE_EXAMPLE = """Reference: ST0999
Level: 4
Duty | KSBs |
---|---|
Duty 1 Catalogue new accessions to the archive's standards. |
K1 S1 B1 |
K1: Archival description standards.
S1: Catalogue records using the collection management system.
B1: Takes care with original documents."""
HTML_PAGE_EXAMPLE = ("<h1>Archive assistant</h1><p>Reference: ST0999</p><table><tr><th>Duty</th><th>KSBs</th></tr>"
                     "<tr><td>Duty 1 Catalogue new accessions to the archive's standards.</td><td>K1 S1</td></tr>"
                     "</table><h2>Knowledge</h2><ul><li>K1: Archival description standards.</li></ul>"
                     "<h2>Skills</h2><ul><li>S1: Catalogue records using the collection management system.</li></ul>")
FEED_EXAMPLE = {"referenceNumber": "ST0999", "title": "Archive assistant", "level": 4, "version": "1.0",
                "knowledges": [{"knowledgeId": "6f1c1f0e-0000-4000-8000-000000000001",
                                "detail": "Archival description standards."}],
                "duties": [{"dutyID": "6f1c1f0e-0000-4000-8000-0000000000d1",
                            "dutyDetail": "Catalogue new accessions to the archive's standards.",
                            "mappedKnowledge": ["6f1c1f0e-0000-4000-8000-000000000001"]}]}
JSONLD_EXAMPLE = {"@context": "/context.jsonld", "id": "https://w3id.org/uk-kim/id/standard/ST0998",
                  "type": "OccupationalStandard", "reference": "ST0998", "title": "Records assistant"}
REPORT_TURTLE = """@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix kimsh: <https://w3id.org/uk-kim/shapes#> .
[] a sh:ValidationReport ; sh:conforms false ;
  sh:result [ a sh:ValidationResult ; sh:focusNode <https://w3id.org/uk-kim/id/standard/ST0998/duty/1> ;
    sh:resultSeverity sh:Violation ; sh:resultMessage "R06 duty is mapped to no KSB" ;
    sh:sourceShape kimsh:R06-duty-mapped ] ."""
REPORT_JSONLD = {"@context": {"sh": "http://www.w3.org/ns/shacl#"}, "@type": "sh:ValidationReport",
                 "sh:conforms": False, "sh:result": [{"@type": "sh:ValidationResult",
                                                      "sh:resultMessage": "R06 duty is mapped to no KSB"}]}
REPORT_JSON = {"conforms": False, "counts": {"Violation": 1, "Warning": 0, "Info": 0}, "triples": 12,
               "format": "Turtle", "notes": [],
               "findings": [{"rule": "R06", "severity": "Violation",
                             "focus": "https://w3id.org/uk-kim/id/standard/ST0998/duty/1", "code": "D1",
                             "message": "R06 duty is mapped to no KSB",
                             "shape": "https://w3id.org/uk-kim/shapes#R06-duty-mapped",
                             "path": "(kim:mapsToKnowledge|kim:mapsToSkill|kim:mapsToBehaviour)", "value": None}],
               "extractionIssues": []}


def allowed_contexts(request: Request, base_iri: str) -> set[str]:
    """The URLs that name the published context: under the base IRI and on this service."""
    root = base_url(request)
    return {base_iri + "context.jsonld", root + "context.jsonld"}


def respond(outcome: Outcome, media: str, request: Request, base_iri: str, text: str | None = None,
            reference: str | None = None) -> Response:
    headers = {"Cache-Control": "no-store"}
    if media == "application/json":
        return json_response(report_json(outcome.report, outcome.issues, triples=outcome.triples,
                                         format=outcome.upload_format, notes=outcome.notes), headers)
    if media == HTML:
        root = request.scope.get("root_path", "").rstrip("/")

        def path(iri) -> str:  # an uploaded resource: its entry in this report; anything else: its page here
            iri = str(iri)
            return "#" + outcome.anchors[iri] if iri in outcome.anchors else local_path(iri, base_iri, root)

        response = html_page(request, base_iri, "validation.html", title="Validation report", report=outcome.report,
                             path=path, anchors=outcome.anchors, labels=outcome.labels,
                             groups=grouped(outcome.report.findings), issues=outcome.issues, notes=outcome.notes,
                             triples=outcome.triples, upload_format=outcome.upload_format, text=text,
                             reference=reference, css=PAGES_CSS_PATH, endpoint=base_url(request) + "validate")
        response.headers.update(headers)
        return response
    return rdf_response(report_graph(outcome), media, headers)


@router.api_route(
    "/validate", methods=["GET", "HEAD"], summary="The validation form",
    description="An HTML page with a form to paste a standard (Turtle, JSON-LD, a standard or occupation page as "
                "text or HTML, or the standards feed) and validate it; programs POST to the same URL.",
    responses=documented({HTML: "<form class=\"validate\" method=\"post\" action=\"/validate\">...</form>"}),
)
def validation_form(request: Request, settings: SettingsDep) -> Response:
    """The upload form."""
    negotiate(request.headers.get("accept"), [HTML])
    return html_page(request, settings.base_iri, "validation.html", title="Validate a standard", report=None,
                     groups=[], issues=[], notes=[], anchors={}, labels={}, triples=0, upload_format=None, text=None,
                     reference=None, css=PAGES_CSS_PATH, endpoint=base_url(request) + "validate")


@router.post(
    "/validate", summary="Validate a standard against the conformance shapes (nothing is stored)",
    description="Send one standard as `text/turtle`, `application/ld+json`, `text/plain` or `text/html` (a standard "
                "or occupation page, in any layout the build's extractor reads), or `application/json` (the IfATE / "
                "Skills England standards feed, as `kimgraph build FILE.json` reads it). It is validated with the "
                "shapes of `/shapes` and the "
                "action-verb concepts, and the `sh:ValidationReport` comes back as Turtle or JSON-LD, or as plain "
                "JSON or an HTML page, by `Accept` (Turtle by default). Extraction issues found while reading a "
                "page are listed apart from the findings (as `kim:ExtractionIssue` in RDF). The answer is 200 "
                "whether or not the standard conforms: see `sh:conforms`.\n\n"
                "A page that prints no ST reference is read under `reference` (ST#### or OCC####) if given, else "
                "under the placeholder ST0000, and the report says so. JSON-LD may use the published context "
                "(`/context.jsonld`) or an inline one; any other remote context is refused with 400, and this "
                "service never fetches it. A malformed upload is 400 naming the line, an unknown Content-Type "
                "415, a body over the size limit 413, and an upload in which no occupational standard is found 422 "
                "(there is nothing to validate, so no report says it conforms). In the HTML report, the duties and "
                "KSBs of the upload link to their entries in the report itself: nothing sent is stored.",
    responses=documented({"text/turtle": REPORT_TURTLE, "application/ld+json": REPORT_JSONLD,
                          "application/json": REPORT_JSON,
                          HTML: "<p id=\"verdict\" class=\"verdict fail\">Does not conform: ...</p>"},
                         description="The validation report, in the negotiated format.",
                         errors=(400, 406, 413, 415, 422)),
    openapi_extra={"requestBody": {"required": True, "content": {
        "text/turtle": {"schema": {"type": "string"}, "example": TURTLE_EXAMPLE},
        "application/ld+json": {"schema": {"type": "object"}, "example": JSONLD_EXAMPLE},
        "text/plain": {"schema": {"type": "string"}, "example": PAGE_EXAMPLE},
        "text/html": {"schema": {"type": "string"}, "example": HTML_PAGE_EXAMPLE},
        "application/json": {"schema": {"type": ["object", "array"]}, "example": FEED_EXAMPLE},
    }}},
)
async def validate(
    request: Request,
    services: ServicesDep,
    reference: str | None = Query(None, description="For a standard page that prints no reference: the standard's "
                                                    "ST#### (or its occupation's OCC####) to read it under.",
                                  examples=["ST1337"]),
) -> Response:
    """Validate the uploaded standard and answer with its report."""
    settings = services.settings
    media = negotiate(request.headers.get("accept"), REPORT_OFFERS)
    content_type, params = media_type(request.headers.get("content-type"))
    kind = UPLOADS.get(content_type)
    if kind is None:
        accepted = ", ".join(t for t in UPLOADS if t not in ("application/x-turtle", "application/x-www-form-urlencoded"))
        raise UnsupportedMediaType(f"cannot validate {content_type or 'a body without Content-Type'}; send {accepted}")
    charset = params.get("charset", "utf-8")
    if charset.replace("-", "").replace("_", "") not in ("utf8", "usascii", "ascii"):
        raise UnsupportedMediaType(f"uploads are read as UTF-8, not {charset}")
    body = await read_body(request, settings.max_body_bytes)
    text = None
    if kind == "form":
        try:
            fields = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True, errors="strict"))
        except (UnicodeDecodeError, ValueError):
            raise BadRequest("the form body is not valid UTF-8 URL-encoded text") from None
        form_type, _ = media_type(fields.get("format", "text/turtle"))
        kind = UPLOADS.get(form_type)
        if kind in (None, "form"):
            raise UnsupportedMediaType(f"cannot validate {form_type}; choose Turtle, JSON-LD, a page or the feed")
        text = fields.get("data", "")
        body = text.encode("utf-8")
        reference = fields.get("reference") or reference
    if not body.strip():
        raise BadRequest("the request body is empty: send the standard to validate")
    concepts = await run_in_threadpool(services.concepts.get)
    base = public_url(request, urlencode([(k, v) for k, v in request.query_params.multi_items() if k != "reference"]))
    allowed = allowed_contexts(request, settings.base_iri)
    outcome = await run_in_threadpool(
        lambda: validate_upload(body, kind, iris=services.iris, concepts=concepts, base=base, allowed=allowed,
                                reference=reference))
    return respond(outcome, media, request, settings.base_iri, text=text, reference=reference)
