"""The occupation card of an occupational-maps page, as captured: ``Level N - <title>``, the reference
and status lines, the trailblazer employers on one line separated by ``;``, the summary paragraphs,
the employer line again, then the duties, one a line, in published order (D1, D2, ...).
"""

from __future__ import annotations

import re

from ingest.page_duties import duty_start, is_statement, table_header
from ingest.page_fields import key_value, split_names
from ingest.page_record import Duty, Fact, Record, collapse
from ingest.provenance import Span

LEVEL_TITLE = re.compile(r"^Level\s+(?P<level>[0-9]{1,2})\s*[-–—]\s*(?P<title>.*)$")


def read_card(record: Record) -> None:
    """Read the card at the top of an occupation page, if the page starts with one."""
    blocks = record.page.blocks
    if not blocks or blocks[0].kind not in ("line", "heading"):
        return
    first = blocks[0]
    match = LEVEL_TITLE.match(first.text)
    if match is None:
        return
    record.layout("occupation-card")
    record.claimed.add(0)
    body = first.body
    record.level = Fact(match.group("level"), Span(body.start + match.start("level"), body.start + match.end("level"),
                                                   match.group("level")))
    if match.group("title"):
        title = match.group("title")
        record.title = Fact(collapse(title), Span(body.start + match.start("title"), body.start + match.end("title"),
                                                  title))
    else:
        record.issue("missing-title", "title",
                     "The level line has no title after 'Level N -': the capture lost the standard's title.", first.line)
    i = 1
    while i < len(blocks) and key_value(blocks[i]) is not None:
        i += 1
    if i >= len(blocks) or i in record.claimed or blocks[i].kind not in ("line", "item"):
        return
    employer_line = blocks[i]
    repeat = next((j for j in range(i + 1, len(blocks)) if blocks[j].text == employer_line.text), None)
    if repeat is None and ";" not in employer_line.text:
        return
    record.claimed.add(i)
    names = split_names(employer_line.body)
    seen = set()
    for name in names:
        fact = Fact.of(name)
        if fact.value not in seen:
            seen.add(fact.value)
            record.employers.append(fact)
    if not names:
        record.issue("no-employers", "employers", "The employer line lists no employer.", employer_line.line)
    if repeat is None:
        record.issue("no-duty-separator", "duties", "The employer line is not repeated, so the summary cannot be "
                     "told from the duties; both were left unread.", employer_line.line)
        return
    record.claimed.add(repeat)
    summary = [b for b in blocks[i + 1:repeat]]
    if summary:
        text = record.page.text
        start, end = summary[0].line.start, summary[-1].line.end
        record.summary = Fact("\n".join(collapse(b.text) for b in summary), Span(start, end, text[start:end]))
        record.claimed.update(range(i + 1, repeat))
    number = 0
    for j in range(repeat + 1, len(blocks)):
        block = blocks[j]
        if (block.kind not in ("line", "item") or duty_start(block) is not None or is_statement(block)
                or table_header(blocks, j) is not None):
            break
        number += 1
        record.claimed.add(j)
        record.duties.append(Duty(number, collapse(block.text), block.line, block.line))
    if number:
        record.layout("occupation-card-duties")
