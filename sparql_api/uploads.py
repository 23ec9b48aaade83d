"""Validating an upload: a standard as Turtle, JSON-LD, a standard or occupation page (text or HTML) or a feed
document, read without storing it or fetching anything, checked with the shapes and the action-verb concepts, and its report as RDF.

The upload is validated together with the concept schemes (the stored ``graph/concepts``), which rules
W01 and W04 look verbs up in. JSON-LD ``@context`` references are resolved here, never fetched: the
published context is read from ``ontology/context.jsonld`` and any other remote context is refused
before the JSON-LD processor sees the document.
"""

from __future__ import annotations

import json
import re
import tempfile
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from urllib.parse import urljoin

import pyoxigraph as ox
from rdflib import BNode, Dataset, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, RDF, RDFS

from conformance.fast import check_graph, relabel_blank_nodes
from conformance.reference import Report, ShapesError, check
from ingest.build import CONCEPTS
from ingest.curated import parse_concepts
from ingest.feed import FeedError, parse_feed
from ingest.manifest import Source
from ingest.page_blocks import HTML_MEDIA, TEXT_MEDIA
from ingest.page_extract import EXPECTED, extract
from ingest.page_graph import page_graph
from kimdata.namespaces import KIM, SH, SKOS, Iris
from kimdata.paths import CONTEXT_PATH
from sparql_api.coverage import Issue, graph_issues, shapes_for
from sparql_api.errors import BadRequest, InvalidRdf, KimError
from sparql_api.formats import refuse_hazards
from store.protocol import KnowledgeStore
from store.terms import to_rdflib

PLACEHOLDER_REFERENCE = "ST0000"
# Upload media types and what reads them; the form is the HTML page's own.
UPLOADS = {"text/turtle": "turtle", "application/x-turtle": "turtle", "application/ld+json": "jsonld",
           "text/plain": "page", "text/html": "html", "application/json": "feed",
           "application/x-www-form-urlencoded": "form"}
UPLOAD_NAMES = {"turtle": "Turtle", "jsonld": "JSON-LD", "page": "standard page", "html": "standard page (HTML)",
                "feed": "standards feed (JSON)"}
CODE = re.compile(r"^(ST|OCC)([0-9]{4})\Z")


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
    refuse_hazards(data, "turtle")
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
        return _published_context(CONTEXT_PATH, CONTEXT_PATH.stat().st_mtime)
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
    sparql_api.uploads.RemoteContextRefused: the upload refers to the remote JSON-LD context 'http://evil/c'; this service fetches no URLs: write the context inline or use the published context
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
    refuse_hazards(data, "json")  # the streaming reader's cost grows with the square of the depth
    with tempfile.TemporaryDirectory(prefix="kimgraph-upload-") as folder:
        path = Path(folder) / "upload.json"
        path.write_bytes(data)
        source = Source(id="upload", kind="feed-json", path=path, title="Uploaded standards feed")
        try:
            return parse_feed(source, iris)
        except FeedError as e:
            raise InvalidRdf(f"the feed upload cannot be read: {e}") from None


# ------------------------------------------------------------------ validating

def concepts_graph(store: KnowledgeStore, iris: Iris) -> Graph:
    """The concept schemes (action verbs among them) in the store, or the curated file's when it has none."""
    graph = store.graph(str(iris.graph("concepts")))
    if not len(graph):  # an empty or partial store: the curated schemes the build would load
        graph = parse_concepts(CONCEPTS, iris)
    return graph


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
    anchors: dict[str, str] = {}
    labels: dict[str, str] = {}
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
