"""Duties and their KSB codes, in each layout the duty table is published or copied in.

* a table (HTML or pipe): ``Duty 1 <text> | K1 K2 S1 B1``, with or without a criteria column;
* the same table with each row split over lines, as captured from the IfATE page:
  ``Duty 1 <text> |`` then ``K1 K2 S1 |`` (``|`` alone for an empty cell);
* the table flattened to one cell per line under ``DUTY`` / ``CRITERIA FOR MEASURING PERFORMANCE`` /
  ``KSBS`` header lines;
* ``Duty 3 <text>`` with its codes at the end of the line or on the next line;
* ``Duty N: <text>`` lists, and numbered items under a "Duties" heading (no KSB column).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ingest.page_blocks import Block
from ingest.page_record import Code, Duty, Record, collapse
from ingest.provenance import Span

DUTY_START = re.compile(r"^Duty\s*(?P<number>[0-9]{1,3})(?![0-9])\s*[:.\-–—)]?\s*(?P<text>.*)$", re.IGNORECASE)
CODE = re.compile(r"^([KSB])([0-9]{1,3})$")
TOKEN = re.compile(r"[^\s,;/]+")
TRAILING_CODES = re.compile(r"^(?P<text>.*?\S)\s+(?P<codes>[KSB][0-9]{1,3}(?:[\s,;/]+[KSB][0-9]{1,3})*)[\s,;/.]*$")
DUTIES_HEADING = re.compile(r"^(?:occupation(?:al)? )?duties:?$", re.IGNORECASE)
COLON_STATEMENT = re.compile(r"^[KSB][0-9]{1,3}\s*:")
STATEMENT_START = re.compile(r"^[KSB][0-9]{1,3}(?![0-9])\s*[:.\-–—)]?\s+\S")

DUTY_LABELS = {"duty", "duties", "duty number"}
KSB_LABELS = {"ksbs", "ksb", "ksbs mapped", "mapped ksbs", "knowledge, skills and behaviours",
              "knowledge skills and behaviours", "knowledge, skills and behaviours (ksbs)"}


def column_role(label: str) -> str | None:
    """What a duty-table header cell names: "duty", "criteria", "ksb" or None.

    >>> column_role("CRITERIA FOR MEASURING PERFORMANCE"), column_role("KSBs"), column_role("Level")
    ('criteria', 'ksb', None)
    """
    text = collapse(label).lower().rstrip(":")
    if text in DUTY_LABELS:
        return "duty"
    if text in KSB_LABELS:
        return "ksb"
    if "criteria" in text and len(text) < 60:
        return "criteria"
    return None


def tokens(span: Span) -> list[Span]:
    """The tokens of a KSB cell (separated by spaces, commas, semicolons or slashes), each with its span."""
    return [Span(span.start + m.start(), span.start + m.end(), m.group()) for m in TOKEN.finditer(span.text)]


def is_codes(text: str) -> bool:
    """Whether a text is nothing but K, S and B codes.

    >>> is_codes("K1 K2, S10 B1"), is_codes("K1: Archival description."), is_codes("")
    (True, False, False)
    """
    found = TOKEN.findall(text)
    return bool(found) and all(CODE.match(t.rstrip(".")) for t in found)


def is_statement(block: Block) -> bool:
    """Whether a block states a KSB (``K1: ...``) rather than listing codes."""
    text = block.cells[0].text if block.kind == "row" and block.cells else block.text
    return STATEMENT_START.match(text) is not None and not is_codes(text)


@dataclass(frozen=True)
class Header:
    roles: tuple[str, ...]
    size: int  # blocks it takes
    flattened: bool


def table_header(blocks: list[Block], i: int) -> Header | None:
    """The duty table's header at block ``i``: a row of labels, or label lines one under another."""
    block = blocks[i]
    if block.kind == "row":
        found = [column_role(c.text) for c in block.cells if c.text]
        roles = tuple(role for role in found if role is not None)
        if roles and roles[0] == "duty" and "ksb" in roles and len(roles) == len(found):
            rule = i + 1 < len(blocks) and blocks[i + 1].kind == "rule"
            return Header(roles, 2 if rule else 1, False)
        return None
    if block.kind not in ("line", "heading") or column_role(block.text) != "duty":
        return None
    labels = ["duty"]
    j = i + 1
    while j < len(blocks) and blocks[j].kind in ("line", "heading"):
        role = column_role(blocks[j].text)
        if role is None or role == "duty":
            break
        labels.append(role)
        j += 1
    return Header(tuple(labels), j - i, True) if len(labels) > 1 else None


def duty_start(block: Block) -> tuple[int, Span, tuple[Span, ...]] | None:
    """A block that begins a duty: its number, the span of its statement and the cells after it."""
    if block.kind == "row":
        if not block.cells:
            return None
        first, rest = block.cells[0], block.cells[1:]
    else:
        first, rest = block.body, ()
    match = DUTY_START.match(first.text)
    if match is None:
        return None
    text = Span(first.start + match.start("text"), first.start + match.end("text"), match.group("text"))
    if not text.text and rest:  # "Duty 1" | statement | ...
        text, rest = rest[0], rest[1:]
    return int(match.group("number")), text, rest


class DutyReader:
    """Reads every duty of a page into the record, tracking the table header it sits under."""

    def __init__(self, record: Record):
        self.record = record
        self.blocks = record.page.blocks
        self.header: Header | None = None
        self.has_ksb_column = False

    def read(self) -> None:
        i = 0
        while i < len(self.blocks):
            if i in self.record.claimed:
                i += 1
                continue
            header = table_header(self.blocks, i)
            if header is not None:
                self.header = header
                self.has_ksb_column = self.has_ksb_column or "ksb" in header.roles
                self.record.claimed.update(range(i, i + header.size))
                self.record.layout("duty-table-flattened" if header.flattened else "duty-table")
                i += header.size
                continue
            start = duty_start(self.blocks[i])
            if start is not None:
                i = self._duty(i, *start)
                continue
            if self.blocks[i].kind in ("heading", "line") and DUTIES_HEADING.match(self.blocks[i].text):
                i = self._numbered_items(i)
                continue
            i += 1
        self._missing_cells()

    def _duty(self, i: int, number: int, text: Span, rest: tuple[Span, ...]) -> int:
        """Read the duty that starts at block ``i``; returns the index of the block after it."""
        block = self.blocks[i]
        self.record.claimed.add(i)
        cell: Span | None = None
        cell_line: Span | None = None
        positional = False
        after = i + 1
        if block.kind == "row" and rest:
            last: Span | None = rest[-1]
            header = self.header
            positional = header is not None and not header.flattened and header.roles[-1] == "ksb"
            if header is not None and positional and len(block.cells) < len(header.roles):
                last = None  # the row stops before its KSB column
            if last is not None and (positional or not last.text or is_codes(last.text)):
                cell, cell_line = last, last
        elif block.kind != "row" and (trailing := TRAILING_CODES.match(text.text)):
            codes_at = text.start + trailing.start("codes")
            cell = Span(codes_at, codes_at + len(trailing.group("codes")), trailing.group("codes"))
            cell_line = cell
            text = Span(text.start, text.start + len(trailing.group("text")), trailing.group("text"))
            self.record.layout("duty-codes-same-line")
        else:
            cell, cell_line, after = self._cell_below(i)
        if block.kind == "row" and not rest and cell is None and self.header is None:
            self.record.layout("duty-list")
        duty = Duty(number, collapse(text.text), text, block.line, row_end=self.blocks[after - 1].line.end)
        if cell is not None and cell_line is not None:  # both found or neither
            self._read_cell(duty, cell, cell_line, positional)
        self._add(duty)
        return after

    def _cell_below(self, i: int) -> tuple[Span | None, Span | None, int]:
        """The KSB cell printed under a duty (split rows, flattened tables, codes on the next line)."""
        block = self.blocks[i]
        header = self.header
        flattened = header is not None and header.flattened
        limit = len(header.roles) - 1 if header is not None and flattened else 1
        j = i + 1
        while j < len(self.blocks) and j - i <= limit:
            below = self.blocks[j]
            if (j in self.record.claimed or below.kind in ("heading", "rule") or duty_start(below) is not None
                    or table_header(self.blocks, j) is not None):
                break
            if (below.kind == "row" and block.kind == "row" and len(below.cells) == 1 and self.header is not None
                    and not COLON_STATEMENT.match(below.cells[0].text)):
                self.record.claimed.add(j)
                self.record.layout("duty-table-split-rows")
                return below.cells[0], below.line, j + 1
            if is_statement(below):
                break
            if below.kind == "row" and not any(c.text for c in below.cells):
                self.record.claimed.add(j)
                return Span(below.line.start, below.line.start, ""), below.line, j + 1
            if is_codes(below.text):
                return self._codes_lines(j, flattened)
            if not flattened:
                break
            self.record.claimed.add(j)  # a criteria cell: read past, not kept
            j += 1
        if block.kind != "row" and self.header is None:
            self.record.layout("duty-list")
        return None, None, j

    def _codes_lines(self, j: int, flattened: bool) -> tuple[Span, Span, int]:
        """A KSB cell of one or more lines of codes (a K line, an S line, a B line); the cell spans them all."""
        first = j
        while j < len(self.blocks) and j not in self.record.claimed and self.blocks[j].kind != "row" \
                and is_codes(self.blocks[j].text):
            self.record.claimed.add(j)
            j += 1
        if not flattened:
            self.record.layout("duty-codes-next-line")
        text = self.record.page.text
        start, end = self.blocks[first].body.start, self.blocks[j - 1].body.end
        return Span(start, end, text[start:end]), Span(start, end, text[start:end]), j

    def _read_cell(self, duty: Duty, cell: Span, line: Span, positional: bool) -> None:
        """The codes a duty's KSB cell lists; a token that is not a code is an issue, never a guess."""
        duty.cell_span = line
        unreadable = []
        for token in tokens(cell):
            match = CODE.match(token.text.rstrip("."))
            if match is None:
                unreadable.append(token)
                continue
            code = Code(match.group(1), int(match.group(2)), Span(token.start, token.start + len(match.group()),
                                                                    match.group()))
            if all(c.name != code.name for c in duty.codes):
                duty.codes.append(code)
        for k, token in enumerate(unreadable, start=1):
            self.record.issue("unreadable-ksb-code", f"D{duty.number}-{k}",
                              f"Duty {duty.number}'s KSB cell holds {token.text!r}, which is not a K, S or B code; "
                              "it was not read.", token, about=f"D{duty.number}")
        duty.cell = "listed" if duty.codes else "empty"
        if duty.cell == "empty" and not unreadable:
            self.record.issue("empty-ksb-cell", f"D{duty.number}",
                              f"Duty {duty.number}'s KSB cell is empty in the captured page.", duty.line,
                              about=f"D{duty.number}")
        self.has_ksb_column = True

    def _numbered_items(self, i: int) -> int:
        """Duties as the numbered items under a "Duties" heading."""
        self.record.claimed.add(i)
        j = i + 1
        position = 0
        while j < len(self.blocks) and self.blocks[j].kind == "item" and j not in self.record.claimed:
            item = self.blocks[j]
            if duty_start(item) is not None or is_statement(item):
                break
            position += 1
            number = item.ordinal or position
            self.record.claimed.add(j)
            self._add(Duty(number, collapse(item.text), item.body, item.line))
            j += 1
        if position:
            self.record.layout("duty-numbered-items")
        return j

    def _add(self, duty: Duty) -> None:
        """Keep a duty once: a repeat with the same statement adds its cell; a different one is an issue."""
        known = self.record.duty(duty.number)
        if known is None:
            self.record.add_duty(duty)
        elif known.text != duty.text:
            self.record.issue("conflicting-duty", f"D{duty.number}",
                              f"Duty {duty.number} is printed twice with different statements; the first was kept.",
                              duty.span, about=f"D{duty.number}", severity="info")
        elif known.cell is None and duty.cell is not None:
            known.cell, known.cell_span, known.codes = duty.cell, duty.cell_span, duty.codes

    def _missing_cells(self) -> None:
        """In a layout with a KSB column, a duty printed without its cell lost it in the capture."""
        if not self.has_ksb_column:
            return
        for duty in self.record.duties:
            if duty.cell is None:
                duty.cell = "missing"
                self.record.issue("missing-ksb-cell", f"D{duty.number}",
                                  f"Duty {duty.number}'s row has no KSB cell: the capture lost which KSBs it maps to.",
                                  duty.line, about=f"D{duty.number}")


def read_duties(record: Record) -> None:
    """Add the page's duties, with their KSB cells, to the record."""
    DutyReader(record).read()
