"""The occupation card of an occupational-maps page.

Two captures of it are known. The older starts ``Level N - <title>`` (the title may be lost, leaving
``Level 7 -``), then the overview, reference and status lines, the trailblazer employers on one line
(``;`` or ``,`` between names, no label), the summary paragraphs and, where the capture goes on, the
employer line again followed by the duties, one a line, in published order (D1, D2, ...). The newer
prints the map's legend, a ``home <route>`` breadcrumb, the title twice and the route above
``Level N - <kind> Occupation``, then the overview and labelled lines read as key information.
"""

from __future__ import annotations

import re

from ingest.page_blocks import Block
from ingest.page_duties import duty_start, is_statement, table_header
from ingest.page_fields import key_value, split_names
from ingest.page_record import Duty, Fact, Record, collapse, ends_a_sentence
from ingest.provenance import Span

LEVEL_TITLE = re.compile(r"^Level\s+(?P<level>[0-9]{1,2})\s*[-–—]\s*(?P<title>.*)$")
OCCUPATION_KIND = re.compile(r"^(?:[A-Z][a-z]+ ){1,3}Occupation$")  # "Technical Occupation", not a title
BREADCRUMB = re.compile(r"^home (?P<route>.+)$")
SEARCH = 60  # blocks from the top where the card's level line may be


def is_names_list(text: str) -> bool:
    """Whether a line is a list of names: short ones between ``;`` (two or more) or commas (three or more).

    >>> is_names_list("British Library, Tate, Historic England"), is_names_list("Using judgement, care and tact.")
    (True, False)
    """
    separator, least = (";", 2) if ";" in text else (",", 3)
    parts = [p.strip() for p in text.split(separator)]
    return (len(parts) >= least and not text.rstrip().endswith(".")
            and all(p and len(p.split()) <= 10 for p in parts))


def read_card(record: Record) -> None:
    """Read the occupation card of a page, if it has one."""
    blocks = record.page.blocks
    at, match = next(((i, m) for i, b in enumerate(blocks[:SEARCH]) if i not in record.claimed
                      and b.kind in ("line", "heading") and (m := LEVEL_TITLE.match(b.text))), (None, None))
    if at is None or match is None:
        return
    record.layout("occupation-card")
    record.claimed.add(at)
    block = blocks[at]
    body = block.body
    record.level = Fact(match.group("level"), Span(body.start + match.start("level"), body.start + match.end("level"),
                                                   match.group("level")))
    title = match.group("title")
    if title and not OCCUPATION_KIND.match(title):
        record.title = Fact(collapse(title), Span(body.start + match.start("title"), body.start + match.end("title"),
                                                  title))
    elif not title:
        record.issue("missing-title", "title",
                     "The level line has no title after 'Level N -': the capture lost the standard's title.", block.line)
    _title_above(record, at)
    after = _overview(record, at + 1)
    _employers_and_summary(record, after)


def _title_above(record: Record, at: int) -> None:
    """The newer card: the route line above the level line (named by the breadcrumb), the title twice above it."""
    blocks = record.page.blocks
    routes = {m.group("route") for b in blocks[:at] if (m := BREADCRUMB.match(b.text))}
    k = at - 1
    if k >= 0 and blocks[k].text in routes and k not in record.claimed:
        record.route = record.route or Fact.of(blocks[k].body)
        record.claimed.add(k)
        k -= 1
    if record.title is None and k >= 1 and blocks[k].text == blocks[k - 1].text and k - 1 not in record.claimed:
        record.title = Fact.of(blocks[k - 1].body)
        record.claimed.update((k - 1, k))


def _overview(record: Record, i: int) -> int:
    """The one-sentence overview printed under the level line; returns the block after it."""
    blocks = record.page.blocks
    if i < len(blocks) and i not in record.claimed and blocks[i].kind == "line" and key_value(blocks[i]) is None \
            and ends_a_sentence(blocks[i].text) and not is_names_list(blocks[i].text) and len(blocks[i].text) < 300:
        record.overview = record.overview or Fact.of(blocks[i].body)
        record.claimed.add(i)
        return i + 1
    return i


def _employers_and_summary(record: Record, i: int) -> None:
    """The unlabelled employer line, then the summary, then (after the employer line again) the duties."""
    blocks = record.page.blocks
    while i < len(blocks) and (i in record.claimed or key_value(blocks[i]) is not None
                               or blocks[i].text.endswith(":")):
        i += 1
    if i >= len(blocks) or blocks[i].kind not in ("line", "item") or not is_names_list(blocks[i].text):
        return
    employer_line = blocks[i]
    record.claimed.add(i)
    seen = set()
    names = split_names(employer_line.body, ",")
    for name in names:
        fact = Fact.of(name)
        if fact.value not in seen:
            seen.add(fact.value)
            record.employers.append(fact)
    repeat = next((j for j in range(i + 1, len(blocks)) if blocks[j].text == employer_line.text), None)
    end = repeat if repeat is not None else _prose_end(record, i + 1)
    summary = blocks[i + 1:end]
    if summary and record.summary is None:
        text = record.page.text
        start, stop = summary[0].line.start, summary[-1].line.end
        record.summary = Fact("\n".join(collapse(b.text) for b in summary), Span(start, stop, text[start:stop]))
        record.claimed.update(range(i + 1, end))
    if repeat is not None:
        record.claimed.add(repeat)
        _bare_duties(record, repeat + 1)


def _prose_end(record: Record, i: int) -> int:
    """The first block from ``i`` that is not a paragraph of prose."""
    blocks = record.page.blocks
    while i < len(blocks) and i not in record.claimed and blocks[i].kind == "line" and not _is_content(blocks, i):
        i += 1
    return i


def _is_content(blocks: list[Block], i: int) -> bool:
    return duty_start(blocks[i]) is not None or is_statement(blocks[i]) or table_header(blocks, i) is not None


def _bare_duties(record: Record, i: int) -> None:
    """Duties one a line after the repeated employer line, numbered in the order printed."""
    blocks = record.page.blocks
    number = 0
    for j in range(i, len(blocks)):
        if blocks[j].kind not in ("line", "item") or _is_content(blocks, j):
            break
        number += 1
        record.claimed.add(j)
        record.add_duty(Duty(number, collapse(blocks[j].text), blocks[j].line, blocks[j].line))
    if number:
        record.layout("occupation-card-duties")
