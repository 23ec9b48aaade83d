"""Parser for the captured text of an IfATE / Skills England apprenticeship standard page.

The layout, as captured (tables flattened to lines):

* an optional status banner ("This apprenticeship is in development ...") and its boilerplate;
* optional key-information lines ("Status: ...", "Reference: ST0000", "Level: 7",
  "Typical duration to gateway: 36 months", "Typical EPA period: 5 months", "Route: ...");
* the occupation summary paragraphs, then the entry-requirements paragraph;
* the duty table: a ``Duty | KSBs |`` header, a ``---|---|`` rule, then for each duty a row
  ``Duty N <statement> |`` followed by its KSB cell ``K1 K2 S3 |`` (``|`` alone when empty);
* the KSB statements ``K1: ...``, each followed by a ``Back to Duty`` navigation line;
* the English and maths paragraph, the professional-recognition section and the licence footer.

What the capture lost (an empty cell, a row with no cell, an empty section) becomes an extraction
issue; nothing is filled in.
"""

from __future__ import annotations

import re

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, XSD

from ingest.manifest import Source
from ingest.model import STATUSES, StandardWriter, reference_from_occupation
from ingest.provenance import Provenance, Span
from ingest.text import Line, ParseError, covering_span, lines_of
from kimdata.namespaces import KIM, Iris, slugify

TABLE_HEADER = re.compile(r"^Duty\s*\|\s*KSBs\s*\|?\s*$")
TABLE_RULE = re.compile(r"^-+\s*\|\s*-+\s*\|?\s*$")
DUTY_ROW = re.compile(r"^\s*Duty ([0-9]+)\s+(.*?)\s*\|\s*$")
KSB_CELL = re.compile(r"^\s*([^|]*)\|\s*$")
CODE = re.compile(r"^([KSB])([0-9]+)$")
KSB_STATEMENT = re.compile(r"^\s*([KSB])([0-9]+):\s+(.*?)\s*$")
NAVIGATION = re.compile(r"^Back to [Dd]uty\s*$")
STATUS_BANNER = re.compile(r"^This apprenticeship is (?P<status>[a-z ]+?)(?: and is subject to change)?\.?\s*$")
BANNER_BOILERPLATE = ("An apprenticeship is only available for delivery", "If you'd like to get involved")
KEY_INFORMATION = re.compile(
    r"^\s*(?:[0-9]+\.\s*)?(?P<key>Status|Reference|Level|Typical duration to gateway|Typical EPA period|Route|Date updated):\s*(?P<value>.*?)\s*$"
)
MONTHS = re.compile(r"^([0-9]+)\s+months?$")
UK_DATE = re.compile(r"^([0-9]{2})/([0-9]{2})/([0-9]{4})$")
PROFESSIONAL_RECOGNITION = re.compile(r"^\s*This standard aligns with the following professional recognition:\s*(.*?)\s*$")
FOOTER = re.compile(r"^Crown copyright")


def status_slug(text: str) -> str | None:
    """The standard-status concept for a status as printed, or None if it is not one of the five.

    >>> status_slug("In development"), status_slug("approved for delivery"), status_slug("Draft")
    ('in-development', 'approved-for-delivery', None)
    """
    slug = slugify(text)
    return slug if slug in STATUSES else None


def parse_standard_page(text: str, source: Source, iris: Iris) -> Graph:
    """Read one captured standard page into a graph of that page's facts and their provenance."""
    graph = Graph()
    prov = Provenance(graph, source, iris)
    prov.describe_source()
    lines = [line for line in lines_of(text) if line.stripped]
    header = next((i for i, line in enumerate(lines) if TABLE_HEADER.match(line.stripped)), None)
    if header is None:
        raise ParseError("no duty table: expected a line 'Duty | KSBs |'")
    preamble, rest = lines[:header], lines[header + 1 :]
    if rest and TABLE_RULE.match(rest[0].stripped):
        rest = rest[1:]

    info = _key_information(preamble)
    writer = StandardWriter(graph, prov, iris, _reference(info, source))
    if "Reference" in info:
        writer.identifier(info["Reference"][1])
    _write_preamble(writer, prov, text, preamble, info)
    duties, after_table = _read_duty_table(writer, prov, rest)
    statements, tail = _read_ksb_statements(writer, after_table)
    if not statements:
        last = (after_table or rest or lines)[-1]
        raise ParseError("no knowledge, skill or behaviour statements after the duty table (truncated?)", last.number)
    for duty, codes in duties:
        for letter, number in codes:
            writer.mapping(duty, letter, number)
    _write_tail(writer, prov, tail)
    return graph


def _key_information(preamble: list[Line]) -> dict[str, tuple[str, Span]]:
    """Key-information lines by key: the printed value and its span (the whole line when empty)."""
    info = {}
    for line in preamble:
        match = KEY_INFORMATION.match(line.text)
        if match:
            value = match.group("value")
            span = line.span(match.start("value"), match.end("value")) if value else line.trimmed_span()
            info[match.group("key")] = (value, span)
    return info


def _reference(info: dict, source: Source) -> str:
    printed = info.get("Reference", ("", None))[0]
    if re.fullmatch(r"ST[0-9]{4}", printed):
        return printed
    if re.fullmatch(r"OCC[0-9]{4}", printed):
        return reference_from_occupation(printed)
    if source.occupation:
        return reference_from_occupation(source.occupation)
    raise ParseError("the page prints no ST reference and the manifest names no occupation for it")


def _write_preamble(writer: StandardWriter, prov: Provenance, text: str, preamble: list[Line], info: dict) -> None:
    summary: list[Line] = []
    in_banner = False
    for line in preamble:
        content = line.stripped
        banner = STATUS_BANNER.match(content)
        if banner:
            in_banner = True
            slug = status_slug(banner.group("status"))
            if slug:
                writer.status(slug, line.trimmed_span())
            continue
        if in_banner and content.startswith(BANNER_BOILERPLATE):
            continue
        in_banner = False
        if KEY_INFORMATION.match(content):
            continue
        if "entry requirements" in content.lower():
            writer.text(KIM.entryRequirements, content, line.trimmed_span())
            continue
        summary.append(line)
    if summary:
        span = covering_span(text, summary[0], summary[-1])
        writer.text(DCTERMS.abstract, "\n".join(line.text for line in summary), span)
    _write_key_information(writer, prov, info)


def _write_key_information(writer: StandardWriter, prov: Provenance, info: dict) -> None:
    standard = writer.standard
    if "Status" in info:
        value, span = info["Status"]
        slug = status_slug(value) if value else None
        if slug:
            writer.status(slug, span)
        else:
            code = "unknown-status" if value else "empty-status"
            prov.issue(code, "status", standard, f"The status line reads {value!r}, which is not an IfATE status.", span=span)
    if "Level" in info:
        value, span = info["Level"]
        if value.isascii() and value.isdigit():
            writer.level(int(value), span)
        else:
            prov.issue("unreadable-level", "level", standard, f"The level line reads {value!r}.", span=span)
    for key, prop, months_prop in (
        ("Typical duration to gateway", KIM.typicalDuration, KIM.typicalDurationMonths),
        ("Typical EPA period", KIM.epaPeriod, KIM.epaPeriodMonths),
    ):
        if key in info:
            value, span = info[key]
            months = MONTHS.match(value)
            if months:
                writer.value(prop, Literal(f"P{months.group(1)}M", datatype=XSD.duration), span)
                writer.value(months_prop, Literal(int(months.group(1)), datatype=XSD.integer), span)
            else:
                prov.issue("unreadable-duration", slugify(key), standard, f"{key} reads {value!r}.", span=span)
    if "Route" in info and info["Route"][0]:
        value, span = info["Route"]
        writer.value(KIM.route, writer.iris.concept("route", slugify(value)), span)
    if "Date updated" in info:
        value, span = info["Date updated"]
        date = UK_DATE.match(value)
        if date:
            day, month, year = date.groups()
            writer.value(DCTERMS.modified, Literal(f"{year}-{month}-{day}", datatype=XSD.date), span)


def _read_duty_table(writer: StandardWriter, prov: Provenance, rows: list[Line]):
    """Duties with the codes their cells list; returns them and the lines after the table."""
    duties: list[tuple[URIRef, list[tuple[str, int]]]] = []
    i = 0
    while i < len(rows) and (row := DUTY_ROW.match(rows[i].text)):
        line = rows[i]
        number, statement = int(row.group(1)), row.group(2)
        duty = writer.duty(number, statement, line.span(row.start(2), row.end(2)))
        cell_line = rows[i + 1] if i + 1 < len(rows) else None
        next_is_row = cell_line is not None and DUTY_ROW.match(cell_line.text)
        cell = KSB_CELL.match(cell_line.text) if cell_line and not next_is_row else None
        if cell is None:
            writer.cell_state(duty, "missing", None)
            prov.issue(
                "missing-ksb-cell", f"D{number}", duty,
                f"Duty {number}'s row has no KSB cell: the capture lost which KSBs it maps to.",
                span=line.trimmed_span(),
            )
            duties.append((duty, []))
            i += 1
            continue
        codes = []
        for token in cell.group(1).split():
            code = CODE.match(token)
            if code is None:
                raise ParseError(f"duty {number}: {token!r} is not a K, S or B code", cell_line.number)
            pair = (code.group(1), int(code.group(2)))
            if pair not in codes:
                codes.append(pair)
        if codes:
            writer.cell_state(duty, "listed", cell_line.trimmed_span())
        else:
            writer.cell_state(duty, "empty", cell_line.trimmed_span())
            prov.issue(
                "empty-ksb-cell", f"D{number}", duty,
                f"Duty {number}'s KSB cell is empty in the captured page.",
                span=line.trimmed_span(),
            )
        duties.append((duty, codes))
        i += 2
    if not duties:
        raise ParseError("the duty table has no 'Duty N ... |' rows", rows[0].number if rows else None)
    return duties, rows[i:]


def _read_ksb_statements(writer: StandardWriter, lines: list[Line]):
    statements = []
    i = 0
    while i < len(lines):
        match = KSB_STATEMENT.match(lines[i].text)
        if match:
            letter, number, statement = match.group(1), int(match.group(2)), match.group(3)
            statements.append(writer.ksb(letter, number, statement, lines[i].span(match.start(3), match.end(3))))
        elif not NAVIGATION.match(lines[i].stripped):
            break
        i += 1
    return statements, lines[i:]


def _write_tail(writer: StandardWriter, prov: Provenance, lines: list[Line]) -> None:
    standard = writer.standard
    recognition_line = None
    bodies = []
    for line in lines:
        content = line.stripped
        if FOOTER.match(content):
            break
        heading = PROFESSIONAL_RECOGNITION.match(line.text)
        if heading:
            recognition_line = line
            writer.value(KIM.declaresProfessionalRecognition, Literal(True), line.trimmed_span())
            if heading.group(1):
                bodies.append((heading.group(1), line.span(heading.start(1), heading.end(1))))
        elif recognition_line is not None:
            bodies.append((content, line.trimmed_span()))
        elif "english and maths" in content.lower():
            writer.text(KIM.englishAndMaths, content, line.trimmed_span())
        else:
            prov.issue(
                "unrecognised-line", f"line-{line.number}", standard,
                f"Line {line.number} fits no part of the standard page layout and was not read.",
                severity="info", span=line.trimmed_span(),
            )
    for name, span in bodies:
        body = writer.organisation(name, "professional-body", span)
        writer.value(KIM.professionalRecognition, body, span)
    if recognition_line is not None and not bodies:
        prov.issue(
            "empty-professional-recognition", "professional-recognition", standard,
            "The professional-recognition section names no body in the captured page.",
            span=recognition_line.trimmed_span(),
        )
