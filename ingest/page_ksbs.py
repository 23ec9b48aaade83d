"""Knowledge, skill and behaviour statements, in each layout they are published or copied in.

``K1: statement``, ``K1 statement``, ``• K1: ...`` bullets and table cells (``K1 | statement``) carry
their code; the items of a numbered list under a Knowledge / Skills / Behaviours heading take the
heading's letter and the item's number, the order IfATE numbers them in. A statement keeps the page's
words (white space normalised); the "Back to Duty" link the IfATE page prints after each is not part
of it.
"""

from __future__ import annotations

import re

from ingest.page_blocks import Block
from ingest.page_duties import is_codes
from ingest.page_record import Record, Statement, collapse
from ingest.provenance import Span

STATEMENT = re.compile(r"^(?P<letter>[KSB])(?P<number>[0-9]{1,3})(?![0-9])\s*[:.\-–—)]?\s+(?P<text>\S.*)$")
BARE_CODE = re.compile(r"^(?P<letter>[KSB])(?P<number>[0-9]{1,3})$")
NAVIGATION = re.compile(r"\s*\bBack to (?:[Dd]uty|top)\s*$")
KSB_HEADING = re.compile(r"^(?P<word>knowledge|skills?|behaviou?rs?)(?:\s*\([KSB]\))?\s*:?$", re.IGNORECASE)
HEADING_LETTER = {"k": "K", "s": "S", "b": "B"}


def without_navigation(span: Span) -> Span:
    """The span less a trailing "Back to Duty" link.

    >>> without_navigation(Span(0, 24, "Archives law. Back to Duty")).text
    'Archives law.'
    """
    match = NAVIGATION.search(span.text)
    if match is None or match.start() == 0:
        return span
    return Span(span.start, span.start + match.start(), span.text[:match.start()])


def heading_letter(block: Block) -> str | None:
    """The KSB letter a "Knowledge", "Skills" or "Behaviours" heading (or heading-like line) introduces."""
    if block.kind not in ("heading", "line", "row") or len(block.text) > 40:
        return None
    text = block.cells[0].text if block.kind == "row" and len(block.cells) == 1 else block.text
    match = KSB_HEADING.match(text)
    return HEADING_LETTER[match.group("word")[0].lower()] if match else None


def coded_statements(block: Block) -> list[tuple[str, int, Span]]:
    """The coded statements a block prints: ``K1: ...`` in its text or in any cell, or ``K1 | ...``."""
    if block.kind == "row":
        cells = [c for c in block.cells if c.text]
        if len(cells) >= 2 and (code := BARE_CODE.match(cells[0].text)) and not is_codes(cells[1].text):
            return [(code.group("letter"), int(code.group("number")), cells[1])]
        spans = cells
    else:
        spans = [block.body]
    found = []
    for span in spans:
        match = STATEMENT.match(span.text)
        if match and not is_codes(span.text):
            text = Span(span.start + match.start("text"), span.start + match.end("text"), match.group("text"))
            found.append((match.group("letter"), int(match.group("number")), text))
    return found


class StatementReader:
    """Reads every KSB statement of a page into the record."""

    def __init__(self, record: Record):
        self.record = record
        self.blocks = record.page.blocks

    def read(self) -> None:
        letter = None  # the letter of the Knowledge / Skills / Behaviours section being read
        uncoded: list[tuple[int, Block]] = []
        position = 0
        for i, block in enumerate(self.blocks):
            if i in self.record.claimed:
                continue
            found = coded_statements(block)
            if found:
                self.record.claimed.add(i)
                for code_letter, number, text in found:
                    self._add(code_letter, number, text)
                self.record.layout("ksb-coded")
                continue
            heading = heading_letter(block)
            if heading is not None:
                self._report_uncoded(letter, uncoded)
                letter, uncoded, position = heading, [], 0
                self.record.claimed.add(i)
                continue
            if letter is None:
                continue
            if block.kind == "item" and block.ordinal is not None:
                position += 1
                self.record.claimed.add(i)
                self._add(letter, block.ordinal, block.body)
                self.record.layout("ksb-numbered-list")
            elif block.kind == "item":
                uncoded.append((i, block))
            elif block.kind == "heading":
                self._report_uncoded(letter, uncoded)
                letter, uncoded = None, []
        self._report_uncoded(letter, uncoded)

    def _add(self, letter: str, number: int, span: Span) -> None:
        span = without_navigation(span)
        statement = Statement(letter, number, collapse(span.text), span)
        known = self.record.statement(letter, number)
        if known is None:
            self.record.add_statement(statement)
        elif known.text != statement.text:
            self.record.issue("conflicting-statement", statement.name,
                              f"{statement.name} is printed twice with different statements; the first was kept.",
                              span, about=statement.name, severity="info")

    def _report_uncoded(self, letter: str | None, items: list[tuple[int, Block]]) -> None:
        """Bullets with no code and no number under a KSB heading: listed, but their codes cannot be told."""
        if letter is None or not items:
            return
        first = items[0][1]
        self.record.claimed.update(i for i, _ in items)
        self.record.issue("uncoded-statements", f"{letter}-list",
                          f"{len(items)} statements under the {letter} heading carry no code and no number, so "
                          "their codes cannot be told; they were not read.", first.line)


def read_statements(record: Record) -> None:
    """Add the page's K, S and B statements to the record."""
    StatementReader(record).read()
