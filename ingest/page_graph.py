"""A page's record as the graph of one source: its facts in the KIM vocabulary, each with its evidence span,
its extraction issues, and the source document's provenance."""

from __future__ import annotations

from rdflib import Graph, Literal, URIRef

from ingest.manifest import Source
from ingest.model import StandardWriter, reference_from_occupation
from ingest.page_blocks import HTML_MEDIA
from ingest.page_extract import EXPECTED, extract
from ingest.page_record import Record
from ingest.provenance import Provenance
from ingest.text import ParseError
from kimdata.namespaces import DCTERMS, KIM, RDFS, SKOS, XSD, Iris

PERIODS = {"duration": (KIM.typicalDuration, KIM.typicalDurationMonths), "epa": (KIM.epaPeriod, KIM.epaPeriodMonths)}
TEXTS = (("title", DCTERMS.title), ("overview", KIM.overviewOfRole), ("summary", DCTERMS.abstract),
         ("entry_requirements", KIM.entryRequirements), ("english_and_maths", KIM.englishAndMaths))
HTML_POSITIONS = ("Text positions and quotes refer to the page's text content: tags removed, character references "
                  "decoded, white space collapsed, one line per block and table cells joined by ' | ' "
                  "(Web Annotation text selectors, https://www.w3.org/TR/annotation-model/#text-position-selector).")


def placeholder_reference(source: Source) -> str:
    """The reference a page that prints none (and is given none) is written under: unique to its source."""
    return f"unreferenced-{source.id}"


def reference_of(record: Record, source: Source) -> tuple[str, str]:
    """The reference the page's standard is written under, and how it was found: "printed", "occupation",
    "given" (the manifest's occupation) or "placeholder"."""
    if record.reference is not None:
        return record.reference.value, "printed"
    if record.occupation is not None:
        return reference_from_occupation(record.occupation.value), "occupation"
    if source.occupation:
        return reference_from_occupation(source.occupation), "given"
    return placeholder_reference(source), "placeholder"


def page_graph(record: Record, source: Source, iris: Iris) -> Graph:
    """The graph of one page: what its record states, with evidence, issues and the source's provenance."""
    graph = Graph()
    prov = Provenance(graph, source, iris)
    prov.describe_source()
    if record.page.media == HTML_MEDIA:
        graph.add((prov.document, DCTERMS["format"], Literal(HTML_MEDIA)))
        graph.add((prov.document, RDFS.comment, Literal(HTML_POSITIONS, lang="en")))
    reference, found = reference_of(record, source)
    writer = StandardWriter(graph, prov, iris, reference)
    _identity(writer, record, found)
    _facts(writer, record)
    duties = {}
    for duty in record.duties:
        node = writer.duty(duty.number, duty.text, duty.span)
        duties[f"D{duty.number}"] = node
        if duty.cell is not None:
            writer.cell_state(node, duty.cell, duty.cell_span if duty.cell != "missing" else None)
    ksbs = {}
    for statement in record.statements:
        ksbs[statement.name] = writer.ksb(statement.letter, statement.number, statement.text, statement.span)
    for duty in record.duties:
        for code in duty.codes:
            writer.mapping(duties[f"D{duty.number}"], code.letter, code.number)
    if found == "placeholder":
        prov.issue("missing-reference", "reference", writer.standard,
                   f"The page prints no ST or OCC reference and none was given for it; it is written under "
                   f"{reference}, a name for this source alone.", span=record.page.blocks[0].line
                   if record.page.blocks else None)
    for issue in record.issues:
        affects = duties.get(issue.about) or ksbs.get(issue.about) or _ksb_node(writer, issue.about)
        prov.issue(issue.code, issue.subject, affects, issue.message, severity=issue.severity, span=issue.span)
    return graph


def _ksb_node(writer: StandardWriter, about: str) -> URIRef:
    """What an issue about ``about`` affects: the KSB of that code, or else the standard."""
    if about[:1] in ("K", "S", "B") and about[1:].isdigit():
        return writer.iris.ksb(writer.reference, about[0], int(about[1:]))
    return writer.standard


def _identity(writer: StandardWriter, record: Record, found: str) -> None:
    """The references the page prints: the standard's identifier, and its occupation."""
    if found == "printed" and record.reference is not None:
        writer.identifier(record.reference.span)
    if record.occupation is not None:
        writer.occupation(record.occupation.value, record.occupation.span)
        if found == "occupation":
            writer.graph.add((writer.standard, SKOS.editorialNote, Literal(
                f"The source prints no ST reference; this standard's IRI takes the digits of occupation "
                f"{record.occupation.value}.", lang="en")))


def _facts(writer: StandardWriter, record: Record) -> None:
    """Key information, prose, job titles, employers and professional recognition."""
    for slug, span in record.statuses:
        writer.status(slug, span)
    if record.level is not None:
        writer.level(int(record.level.value), record.level.span)
    if record.version is not None:
        writer.value(KIM.version, writer.literal(record.version.value), record.version.span)
    for name, prop in TEXTS:
        fact = getattr(record, name)
        if fact is not None:
            writer.text(prop, fact.value, fact.span)
    for name, (prop, months_prop) in PERIODS.items():
        if name in record.periods:
            months, span = record.periods[name]
            writer.months(prop, months_prop, months, span)
    if record.route is not None:
        writer.route(record.route.value, record.route.span)
    if record.modified is not None:
        writer.value(DCTERMS.modified, Literal(record.modified.value, datatype=XSD.date), record.modified.span)
    for title in record.job_titles:
        writer.text(KIM.typicalJobTitle, title.value, title.span)
    seen = set()
    for employer in record.employers:
        if employer.value not in seen:
            seen.add(employer.value)
            writer.employer(employer.value, employer.span)
    if record.recognition is not None:
        writer.value(KIM.declaresProfessionalRecognition, Literal(True), record.recognition)
        for body in record.recognition_bodies:
            writer.value(KIM.professionalRecognition, writer.organisation(body.value, "professional-body", body.span),
                         body.span)


def media_of(path, data: str) -> str | None:
    """The media type a page file is read as: HTML by its name (.html, .htm), else as its content shows."""
    suffix = str(path).lower().rsplit(".", 1)[-1] if path is not None else ""
    return HTML_MEDIA if suffix in ("html", "htm", "xhtml") else None


def extract_graph(data: str, source: Source, iris: Iris, media: str | None = None) -> Graph:
    """The graph of a standard or occupation page; ParseError when nothing of one is in it."""
    record = extract(data, media or media_of(source.path, data))
    if not record.recognised():
        if not source.occupation:
            raise ParseError(f"no standard or occupation found: expected {EXPECTED}")
        # The manifest names the standard the page belongs to: the page is a source of it that says nothing readable.
        record.issue("nothing-read", "page", "No duties, K/S/B statements or key information could be read from this "
                     "page: the capture holds only prose that no layout places.", record.page.blocks[0].line
                     if record.page.blocks else None)
    return page_graph(record, source, iris)
