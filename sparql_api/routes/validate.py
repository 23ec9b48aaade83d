"""The validation service: POST a standard (Turtle, JSON-LD or a standard page's text), get its SHACL report.

Nothing is stored. The upload is validated together with the action-verb concepts (the stored
``graph/concepts``), which rules W01 and W04 look verbs up in. JSON-LD ``@context`` references are
resolved here, never fetched: the published context is read from ``ontology/context.jsonld`` and any
other remote context is refused before the JSON-LD processor sees the document.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from urllib.parse import parse_qsl, urljoin

import pyoxigraph as ox
from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from rdflib import BNode, Dataset, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, RDF, RDFS
from starlette.responses import Response

from ingest.fast_validate import check_graph, relabel_blank_nodes
from ingest.manifest import PACKAGE_ROOT, Source
from ingest.namespaces import KIM, SH, SKOS, Iris
from ingest.page_blocks import HTML_MEDIA, TEXT_MEDIA
from ingest.page_extract import EXPECTED, extract
from ingest.page_graph import page_graph
from ingest.validate import Report, ShapesError, check
from sparql_api.conneg import negotiate
from sparql_api.coverage import Issue, graph_issues, grouped, report_json, shapes_for
from sparql_api.errors import BadRequest, InvalidRdf, KimError, UnsupportedMediaType
from sparql_api.html import local_path
from sparql_api.render import refuse_hazards
from sparql_api.routes import media_type, read_body
from sparql_api.routes.pages import HTML, PAGES_CSS_PATH, documented, html_page, json_response, rdf_response
from sparql_api.store import to_rdflib

router = APIRouter(tags=["Validation"], default_response_class=Response)

CONTEXT_FILE = PACKAGE_ROOT / "ontology" / "context.jsonld"
PLACEHOLDER_REFERENCE = "ST0000"
REPORT_OFFERS = ["text/turtle", "application/ld+json", HTML, "application/json"]
# Upload media types and what reads them; the form is the HTML page's own.
UPLOADS = {"text/turtle": "turtle", "application/x-turtle": "turtle", "application/ld+json": "jsonld",
           "text/plain": "page", "text/html": "html", "application/json": "feed",
           "application/x-www-form-urlencoded": "form"}
UPLOAD_NAMES = {"turtle": "Turtle", "jsonld": "JSON-LD", "page": "standard page", "html": "standard page (HTML)",
                "feed": "standards feed (JSON)"}
CODE = re.compile(r"^(ST|OCC)([0-9]{4})$")


class RemoteContextRefused(BadRequest):
    """A JSON-LD upload names a remote @context: fetching it would make this server request a URL of the caller's."""

    title, slug = "Remote JSON-LD context refused", "remote-context-refused"


class UnreadablePage(BadRequest):
    """A page upload that cannot be read as text (not UTF-8)."""

    title, slug = "Unreadable standard page", "unreadable-page"


class NoStandardFound(KimError):
    """The upload holds no occupational standard: there is nothing to validate, so no report says it conforms."""

    status, title, slug = 422, "No occupational standard found", "no-standard-found"


@dataclass
class Outcome:
    """One validation: the report, the extraction issues the upload carried, and notes about how it was read."""

    report: Report
    issues: list[Issue]
    triples: int
    upload_format: str
    notes: list[str] = field(default_factory=list)
    anchors: dict[str, str] = field(default_factory=dict)  # uploaded IRI -> id of its entry in the HTML report
    labels: dict[str, str] = field(default_factory=dict)  # uploaded IRI -> its code or last path segment


# ------------------------------------------------------------------ reading uploads

def parse_turtle(data: bytes, base: str) -> Graph:
    """A Turtle upload as an rdflib Graph; InvalidRdf names the line and column of a syntax error."""
    graph = Graph()
    try:
        for quad in ox.parse(data, ox.RdfFormat.TURTLE, base_iri=base):
            graph.add((to_rdflib(quad.subject), to_rdflib(quad.predicate), to_rdflib(quad.object)))
    except SyntaxError as e:
        raise InvalidRdf(f"the Turtle upload does not parse: {e}") from None
    except ValueError as e:
        raise InvalidRdf(f"the Turtle upload cannot be read: {e}") from None
    return graph


@lru_cache(maxsize=4)
def _published_context(path: Path, mtime: float) -> object:
    """The value of the published context file's ``@context``."""
    return json.loads(path.read_text(encoding="utf-8"))["@context"]


def published_context() -> object | None:
    """The published JSON-LD context (ontology/context.jsonld), or None when the file is not there."""
    try:
        return _published_context(CONTEXT_FILE, CONTEXT_FILE.stat().st_mtime)
    except FileNotFoundError:
        return None


def inline_contexts(node, allowed: set[str], base: str, local: object | None):
    """``node`` with every reference to the published context replaced by its content.

    Any other context given by URL (``@context`` or ``@import``, at any depth) raises
    RemoteContextRefused: after this, the JSON-LD processor has nothing to fetch.

    >>> inline_contexts({"@context": "/context.jsonld", "a": 1}, {"http://x/context.jsonld"}, "http://x/v", {"a": "http://a/"})
    {'@context': {'a': 'http://a/'}, 'a': 1}
    >>> inline_contexts({"b": [{"@context": ["http://evil/c"]}]}, set(), "http://x/v", None)
    Traceback (most recent call last):
    ...
    sparql_api.routes.validate.RemoteContextRefused: the upload refers to the remote JSON-LD context 'http://evil/c'; this service fetches no URLs: write the context inline or use the published context
    """
    def resolve(reference: str):
        url = urljoin(base, reference)
        if url not in allowed:
            raise RemoteContextRefused(f"the upload refers to the remote JSON-LD context {reference!r}; this service "
                                       "fetches no URLs: write the context inline or use the published context")
        if local is None:
            raise RemoteContextRefused(f"the published context {reference!r} is not available on this service; "
                                       "write the context inline")
        return local

    def context(value):
        if isinstance(value, str):
            return resolve(value)
        if isinstance(value, list):
            return [context(v) for v in value]
        if isinstance(value, dict) and "@import" in value:
            imported = value["@import"]
            if not isinstance(imported, str):
                raise InvalidRdf("@import must be a string")
            resolved = resolve(imported)
            rest = {k: v for k, v in value.items() if k != "@import"}
            merged = dict(resolved) if isinstance(resolved, dict) else {}
            merged.update(rest)
            return merged
        return value

    if isinstance(node, list):
        return [inline_contexts(item, allowed, base, local) for item in node]
    if isinstance(node, dict):
        copy = {}
        for key, value in node.items():
            if key == "@context":
                value = context(value)
            copy[key] = inline_contexts(value, allowed, base, local)
        return copy
    return node


def parse_jsonld(data: bytes, base: str, allowed: set[str]) -> Graph:
    """A JSON-LD upload as one Graph (named graphs merged), with no context fetched from anywhere."""
    refuse_hazards(data, "jsonld")
    try:
        document = json.loads(data)
    except json.JSONDecodeError as e:
        raise InvalidRdf(f"the JSON-LD upload is not JSON: {e.msg} at line {e.lineno} column {e.colno}") from None
    except UnicodeDecodeError as e:
        raise InvalidRdf(f"the JSON-LD upload is not UTF-8 (byte {e.start})") from None
    if not isinstance(document, (dict, list)):
        raise InvalidRdf("a JSON-LD document is a JSON object or array")
    safe = inline_contexts(document, allowed, base, published_context())
    dataset = Dataset()
    try:
        dataset.parse(data=json.dumps(safe), format="json-ld", base=base)
    # rdflib's JSON-LD processor reports malformed documents as any of these (e.g. "@context": 5).
    except (ValueError, TypeError, KeyError, AttributeError, IndexError) as e:
        raise InvalidRdf(f"the JSON-LD upload cannot be read: {e}") from None
    graph = Graph()
    for s, p, o, _ in dataset.quads((None, None, None, None)):
        graph.add((s, p, o))
    try:  # rdflib keeps IRIs and language tags that RDF forbids (control characters, spaces)
        for _ in ox.parse(graph.serialize(format="nt", encoding="utf-8"), ox.RdfFormat.N_TRIPLES):
            pass
    except SyntaxError as e:
        raise InvalidRdf(f"the JSON-LD upload holds a term RDF does not allow: {e}") from None
    return graph


def page_reference(reference: str | None) -> str | None:
    """The occupation code a ``reference`` parameter stands for (ST1337 and OCC1337 both give OCC1337)."""
    if reference is None or reference == "":
        return None
    match = CODE.match(reference.strip())
    if not match:
        raise BadRequest(f"reference must be ST or OCC and four digits, not {reference!r}")
    return f"OCC{match.group(2)}"


def parse_page(data: bytes | str, iris: Iris, reference: str | None, notes: list[str],
               media: str = TEXT_MEDIA) -> Graph:
    """A standard or occupation page (text or HTML) read by the build's extractor, under a throwaway source."""
    try:
        text = data if isinstance(data, str) else data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise UnreadablePage(f"the page is not UTF-8 text (byte {e.start})") from None
    record = extract(text, media)
    if not record.recognised():
        raise NoStandardFound(f"no occupational standard found in the uploaded page: expected {EXPECTED}")
    occupation = page_reference(reference)
    source = Source(id="upload", kind="standard-page", path=Path("upload.txt"), title="Uploaded standard page",
                    occupation=occupation or f"OCC{PLACEHOLDER_REFERENCE[2:]}")
    printed = record.reference is not None or record.occupation is not None
    graph = page_graph(record, source, iris)
    if occupation is None and not printed:
        notes.append(f"The page prints no ST reference and no reference parameter was given: it was read as "
                     f"{PLACEHOLDER_REFERENCE}, a placeholder, so its IRIs are under "
                     f"{iris.standard(PLACEHOLDER_REFERENCE)} and rule R02 reports the missing reference. "
                     "Send ?reference=ST#### to use the real one.")
    elif occupation is not None and not printed:
        notes.append(f"The page prints no ST reference: it was read as ST{occupation[3:]}, from the reference "
                     "parameter (no reference is asserted, so rule R02 still reports it missing).")
    return graph


def parse_feed_upload(data: bytes, iris: Iris) -> Graph:
    """An IfATE / Skills England feed document, read as ``kimgraph build FILE.json`` reads it."""
    import tempfile

    from ingest.feed import FeedError, parse_feed

    with tempfile.TemporaryDirectory(prefix="kimgraph-upload-") as folder:
        path = Path(folder) / "upload.json"
        path.write_bytes(data)
        source = Source(id="upload", kind="feed-json", path=path, title="Uploaded standards feed")
        try:
            return parse_feed(source, iris)
        except FeedError as e:
            raise InvalidRdf(f"the feed upload cannot be read: {e}") from None


# ------------------------------------------------------------------ validating

def concepts_graph(request: Request) -> Graph:
    """The concept schemes (action verbs among them) of the current data version, or the curated file's."""
    state = request.app.state
    version = state.version.value
    cached = getattr(state, "validation_concepts", None)
    if cached is None or cached[0] != version:
        iris = Iris(state.settings.base_iri)
        graph = state.store.graph(str(iris.graph("concepts")))
        if not len(graph):  # an empty or partial store: the curated schemes the build would load
            from ingest.build import CONCEPTS
            from ingest.curated import parse_concepts

            graph = parse_concepts(CONCEPTS, iris)
        cached = (version, graph)
        state.validation_concepts = cached
    return cached[1]


def run_shapes(data: Graph, shapes: Graph) -> Report:
    """The fast engine's report; pyshacl's for data the fast engine cannot take (the findings are the same)."""
    try:
        return check_graph(data, shapes)
    except ShapesError:
        raise
    except ValueError:  # literals the store would rewrite (xsd:int, ...): pyshacl sees them as written
        return check(data, shapes)


def validate_upload(data: bytes | str, kind: str, *, iris: Iris, concepts: Graph, base: str, allowed: set[str],
                    reference: str | None = None) -> Outcome:
    """Read one upload, validate it with the concept schemes and collect its extraction issues."""
    notes: list[str] = []
    raw = data.encode() if isinstance(data, str) else data
    if kind == "turtle":
        graph = parse_turtle(raw, base)
    elif kind == "jsonld":
        graph = parse_jsonld(raw, base, allowed)
    elif kind == "feed":
        graph = parse_feed_upload(raw, iris)
    else:
        graph = parse_page(data, iris, reference, notes, HTML_MEDIA if kind == "html" else TEXT_MEDIA)
    if (None, RDF.type, KIM.OccupationalStandard) not in graph:
        raise NoStandardFound(f"no occupational standard found in the {UPLOAD_NAMES[kind]} upload: expected a "
                              "kim:OccupationalStandard (or a page or feed entry of one) to validate")
    triples = len(graph)
    issues = graph_issues(graph)
    union = Graph()
    union += graph
    union += concepts
    report = run_shapes(union, shapes_for(iris.base))
    anchors, labels = report_anchors(graph, report)
    return Outcome(report, issues, triples, UPLOAD_NAMES[kind], notes, anchors, labels)


def report_anchors(graph: Graph, report: Report) -> tuple[dict[str, str], dict[str, str]]:
    """An anchor in the HTML report for each uploaded resource a finding or issue names: the upload's IRIs have
    no /id/ page on this service (nothing is stored), so the report links to its own entry for each."""
    named = {f.focus for f in report.findings} | {str(o) for o in graph.objects(None, KIM.affects)}
    anchors, labels = {}, {}
    for iri in sorted(i for i in named if (URIRef(i), None, None) in graph):
        code = graph.value(URIRef(iri), SKOS.notation) or graph.value(URIRef(iri), DCTERMS.identifier)
        label = str(code) if code is not None else iri.rstrip("/").rsplit("/", 1)[-1]
        anchor = "upload-" + re.sub(r"[^A-Za-z0-9_-]+", "-", label).strip("-")
        taken = set(anchors.values())
        anchors[iri] = anchor if anchor not in taken else next(f"{anchor}-{n}" for n in range(2, len(named) + 2)
                                                               if f"{anchor}-{n}" not in taken)
        labels[iri] = label
    return anchors, labels


def report_graph(outcome: Outcome) -> Graph:
    """The sh:ValidationReport, plus the extraction issues (kim:ExtractionIssue, not results) and the notes."""
    graph = relabel_blank_nodes(outcome.report.graph)
    report = next(graph.subjects(RDF.type, SH.ValidationReport), None)
    if report is None:
        report = BNode()
        graph.add((report, RDF.type, SH.ValidationReport))
    for note in outcome.notes:
        graph.add((report, RDFS.comment, Literal(note, lang="en")))
    for issue in outcome.issues:
        node = BNode() if issue.iri is None else URIRef(issue.iri)
        graph.add((node, RDF.type, KIM.ExtractionIssue))
        graph.add((node, KIM.issueCode, Literal(issue.code)))
        graph.add((node, KIM.severity, SH[issue.severity]))
        if issue.affects:
            graph.add((node, KIM.affects, URIRef(issue.affects)))
        if issue.description:
            graph.add((node, DCTERMS.description, Literal(issue.description, lang="en")))
    return graph


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


def allowed_contexts(request: Request) -> set[str]:
    """The URLs that name the published context: under the base IRI and on this service."""
    root = str(request.base_url)
    return {request.app.state.settings.base_iri + "context.jsonld", root + "context.jsonld"}


def respond(outcome: Outcome, media: str, request: Request, text: str | None = None,
            reference: str | None = None) -> Response:
    headers = {"Cache-Control": "no-store"}
    if media == "application/json":
        return json_response(report_json(outcome.report, outcome.issues, triples=outcome.triples,
                                         format=outcome.upload_format, notes=outcome.notes), headers)
    if media == HTML:
        base, root = request.app.state.settings.base_iri, request.scope.get("root_path", "").rstrip("/")

        def path(iri) -> str:  # an uploaded resource: its entry in this report; anything else: its page here
            iri = str(iri)
            return "#" + outcome.anchors[iri] if iri in outcome.anchors else local_path(iri, base, root)

        response = html_page(request, "validation.html", title="Validation report", report=outcome.report,
                             path=path, anchors=outcome.anchors, labels=outcome.labels,
                             groups=grouped(outcome.report.findings), issues=outcome.issues, notes=outcome.notes,
                             triples=outcome.triples, upload_format=outcome.upload_format, text=text,
                             reference=reference, css=PAGES_CSS_PATH, endpoint=str(request.base_url) + "validate")
        response.headers.update(headers)
        return response
    return rdf_response(report_graph(outcome), media, headers)


@router.api_route(
    "/validate", methods=["GET", "HEAD"], summary="The validation form",
    description="An HTML page with a form to paste a standard (Turtle, JSON-LD or a standard page's text) and "
                "validate it; programs POST to the same URL.",
    responses=documented({HTML: "<form class=\"validate\" method=\"post\" action=\"/validate\">...</form>"}),
)
def validation_form(request: Request) -> Response:
    """The upload form."""
    negotiate(request.headers.get("accept"), [HTML])
    return html_page(request, "validation.html", title="Validate a standard", report=None, groups=[], issues=[],
                     notes=[], anchors={}, labels={}, triples=0, upload_format=None, text=None, reference=None, css=PAGES_CSS_PATH,
                     endpoint=str(request.base_url) + "validate")


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
    reference: str | None = Query(None, description="For a standard page that prints no reference: the standard's "
                                                    "ST#### (or its occupation's OCC####) to read it under.",
                                  examples=["ST1337"]),
) -> Response:
    """Validate the uploaded standard and answer with its report."""
    settings = request.app.state.settings
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
    iris = Iris(settings.base_iri)
    concepts = await run_in_threadpool(concepts_graph, request)
    outcome = await run_in_threadpool(
        lambda: validate_upload(body, kind, iris=iris, concepts=concepts, base=str(request.url.remove_query_params(
            "reference")), allowed=allowed_contexts(request), reference=reference))
    return respond(outcome, media, request, text=text, reference=reference)
