"""Parser for the captured text of an occupational-maps occupation page.

The layout, as captured:

* ``Level N - <title>`` (the title may be lost, leaving ``Level 7 -``);
* ``Reference: OCC0000`` (or an ST reference);
* ``Status: <status>`` (possibly empty);
* the trailblazer employers on one line, separated by ``; ``;
* the occupation summary paragraphs, ended by a repeat of the employer line;
* the duties, one statement per line, in published order (D1, D2, ...).
"""

from __future__ import annotations

import re

from rdflib import Graph, Literal
from rdflib.namespace import DCTERMS, SKOS

from ingest.manifest import Source
from ingest.model import StandardWriter, reference_from_occupation
from ingest.provenance import Provenance, Span
from ingest.standard_page import status_slug
from ingest.text import Line, ParseError, covering_span, lines_of
from kimdata.namespaces import Iris

LEVEL = re.compile(r"^\s*Level (\d+)\s*-\s*(.*?)\s*$")
REFERENCE = re.compile(r"^\s*Reference:\s*(\S*)\s*$")
STATUS = re.compile(r"^\s*Status:\s*(.*?)\s*$")
EMPLOYER_SEPARATOR = "; "


def parse_occupation_page(text: str, source: Source, iris: Iris) -> Graph:
    """Read one captured occupation page into a graph of that page's facts and their provenance."""
    graph = Graph()
    prov = Provenance(graph, source, iris)
    prov.describe_source()
    lines = [line for line in lines_of(text) if line.stripped]
    if len(lines) < 4:
        raise ParseError("too short for an occupation page: expected level, reference, status and employers lines",
                         lines[-1].number if lines else None)
    level_line, reference_line, status_line, employer_line = lines[:4]
    level = _match(LEVEL, level_line, "a 'Level N - title' line")
    reference = _match(REFERENCE, reference_line, "a 'Reference: OCC0000' line")
    status = _match(STATUS, status_line, "a 'Status:' line")

    code = reference.group(1)
    if re.fullmatch(r"OCC\d{4}", code):
        writer = StandardWriter(graph, prov, iris, reference_from_occupation(code))
        writer.occupation(code, reference_line.span(reference.start(1), reference.end(1)))
        graph.add((writer.standard, SKOS.editorialNote, Literal(
            f"The source prints no ST reference; this standard's IRI takes the digits of occupation {code}.",
            lang="en")))
    elif re.fullmatch(r"ST\d{4}", code):
        writer = StandardWriter(graph, prov, iris, code)
        writer.identifier(reference_line.span(reference.start(1), reference.end(1)))
    else:
        raise ParseError(f"reference {code!r} is neither an OCC nor an ST code", reference_line.number)

    _write_header(writer, prov, level_line, level, status_line, status)
    employers = _write_employers(writer, employer_line)
    body = lines[4:]
    repeat = next((i for i, line in enumerate(body) if line.stripped == employer_line.stripped), None)
    if repeat is None:
        prov.issue(
            "no-duty-separator", "duties", writer.standard,
            "The employer line is not repeated, so the summary cannot be told from the duties; both were left unread.",
            span=employer_line.trimmed_span(),
        )
        return graph
    summary, duties = body[:repeat], body[repeat + 1 :]
    if summary:
        writer.text(DCTERMS.abstract, "\n".join(line.text for line in summary),
                    covering_span(text, summary[0], summary[-1]))
    for number, line in enumerate(duties, start=1):
        writer.duty(number, line.stripped, line.trimmed_span())
    if not employers:
        prov.issue("no-employers", "employers", writer.standard, "The employer line lists no employer.",
                   span=employer_line.trimmed_span())
    return graph


def _match(pattern: re.Pattern, line: Line, expected: str) -> re.Match:
    match = pattern.match(line.text)
    if match is None:
        raise ParseError(f"expected {expected}, found {line.stripped[:60]!r}", line.number)
    return match


def _write_header(writer: StandardWriter, prov: Provenance, level_line: Line, level: re.Match,
                  status_line: Line, status: re.Match) -> None:
    standard = writer.standard
    writer.level(int(level.group(1)), level_line.span(level.start(1), level.end(1)))
    title = level.group(2)
    if title:
        writer.text(DCTERMS.title, title, level_line.span(level.start(2), level.end(2)))
    else:
        prov.issue("missing-title", "title", standard,
                   "The level line has no title after 'Level N -': the capture lost the standard's title.",
                   span=level_line.trimmed_span())
    value = status.group(1)
    slug = status_slug(value) if value else None
    if slug:
        writer.status(slug, status_line.span(status.start(1), status.end(1)))
    else:
        prov.issue("empty-status" if not value else "unknown-status", "status", standard,
                   "The status line is empty in the captured page." if not value
                   else f"The status line reads {value!r}, which is not an IfATE status.",
                   span=status_line.trimmed_span())


def _write_employers(writer: StandardWriter, line: Line) -> list:
    """Each employer on the line, once, with the span of its name."""
    employers = []
    seen = set()
    offset = 0
    for name in line.text.split(EMPLOYER_SEPARATOR):
        start = offset + (len(name) - len(name.lstrip()))
        offset += len(name) + len(EMPLOYER_SEPARATOR)
        name = name.strip()
        if name and name not in seen:
            seen.add(name)
            employers.append(writer.employer(name, Span(line.start + start, line.start + start + len(name), name)))
    return employers
