"""One extractor for standard and occupation pages, plain text or HTML: a page's blocks to a record.

The readers run in turn over the page's blocks, each claiming the blocks it reads, so no block is read
as two things: key information, the occupation card, the duties and their KSB cells, the K/S/B
statements, then the prose. Last, what the page lacks is told apart from what it says: a code mapped
but never stated, a gap in a numbered list, a list that stops mid-statement where the page ends.
"""

from __future__ import annotations

from ingest.page_blocks import Page, read_page
from ingest.page_card import read_card
from ingest.page_duties import read_duties
from ingest.page_fields import FOOTER, FieldReader
from ingest.page_ksbs import read_statements
from ingest.page_record import KSB_LETTERS, KSB_NAMES, Record, ends_a_sentence

EXPECTED = ("an apprenticeship standard or occupation page: duties ('Duty 1 ...'), K/S/B statements ('K1: ...') "
            "or a 'Reference: ST####' line")


def extract(data: str, media: str | None = None) -> Record:
    """Read a page (plain text, or HTML when ``media`` says so or the markup shows it) into a record."""
    return extract_page(read_page(data, media))


def extract_page(page: Page) -> Record:
    """Read a page's blocks into a record of what it states and what it lacks."""
    record = Record(page)
    fields = FieldReader(record)
    fields.read_keys()
    read_card(record)
    before = set(record.claimed)
    read_duties(record)
    read_statements(record)
    content = record.claimed - before
    fields.read_title()
    fields.read_prose(min(content, default=len(page.blocks)))
    check_mapping(record)
    check_numbering(record)
    check_end(record)
    return record


def check_mapping(record: Record) -> None:
    """A code a duty maps to that the page never states: the capture lost its statement (or never had it)."""
    stated = {s.name for s in record.statements}
    reported = set()
    for duty in record.duties:
        for code in duty.codes:
            if code.name not in stated and code.name not in reported:
                reported.add(code.name)
                record.issue("unstated-ksb", code.name,
                             f"Duty {duty.number} maps to {code.name}, but the page states no {KSB_NAMES[code.letter]} "
                             f"{code.name}: its statement is not in the capture.", code.span, about=f"D{duty.number}")


def check_numbering(record: Record) -> None:
    """Gaps in the duty and K/S/B numbering (D4 and D6 but no D5): a line the capture lost."""
    numbers = sorted(d.number for d in record.duties)
    for number in sorted(set(range(1, numbers[-1])) - set(numbers)) if numbers else ():
        after = next(d for d in sorted(record.duties, key=lambda d: d.number) if d.number > number)
        record.issue("missing-duty", f"D{number}", f"The page has no duty {number}, though it numbers duty "
                     f"{after.number}: the capture lost it.", after.line)
    for letter in KSB_LETTERS:
        stated = sorted(s.number for s in record.statements if s.letter == letter)
        for number in sorted(set(range(1, stated[-1])) - set(stated)) if stated else ():
            later = next(s for s in sorted(record.statements, key=lambda s: s.number)
                         if s.letter == letter and s.number > number)
            record.issue("missing-ksb", f"{letter}{number}", f"The page states no {letter}{number}, though it states "
                         f"{later.name}: the capture lost it.", later.span)
    letters = {s.letter for s in record.statements}
    if letters and letters != set(KSB_LETTERS):
        last = record.statements[-1]
        for letter in KSB_LETTERS:
            if letter not in letters:
                record.issue(f"no-{KSB_NAMES[letter]}-statements", f"{letter}-list",
                             f"The page states {', '.join(KSB_NAMES[x] for x in KSB_LETTERS if x in letters)} "
                             f"statements but no {KSB_NAMES[letter]} statements: the capture stops before them or "
                             f"lost them (the last statement read is {last.name}).", last.span)


def check_end(record: Record) -> None:
    """Whether the page stops inside its last item: a statement, duty, cell or paragraph left unfinished.

    An item that does not end as a sentence does is cut when the items before it do end so (or the text
    stops on a space); when they do not either, whether the capture stops there cannot be told, and the
    issue says so.
    """
    blocks = record.page.blocks
    if not blocks or FOOTER.match(blocks[-1].text):
        return
    if len(blocks) - 1 not in record.claimed and (blocks[-1].kind != "line" or len(blocks[-1].text) < 40):
        return  # a short last line read as nothing: no paragraph of the page's to report cut
    last = blocks[-1]

    def inside(span) -> bool:
        return span is not None and last.line.start <= span.start <= last.line.end

    cut_cell = next((d for d in record.duties if d.cell == "listed" and inside(d.cell_span)), None)
    if cut_cell is not None:
        record.issue("truncated-ksb-cell", f"D{cut_cell.number}", f"The page ends in duty {cut_cell.number}'s KSB "
                     f"cell: codes after {cut_cell.codes[-1].name} may be lost.", cut_cell.cell_span,
                     about=f"D{cut_cell.number}")
        return
    cut_row = next((d for d in record.duties if d.cell == "missing" and d.line.end < last.line.start
                    and d.row_end >= last.line.end), None)
    if cut_row is not None:
        record.issue("truncated-duty-row", f"D{cut_row.number}", f"The page ends inside duty {cut_row.number}'s "
                     f"row, at {last.text[-40:]!r}, before its KSB cell.", last.body, about=f"D{cut_row.number}")
        return
    statement = next((s for s in record.statements if inside(s.span)), None)
    duty = next((d for d in record.duties if inside(d.span)), None)
    if statement is not None:
        text, siblings = statement.text, [s.text for s in record.statements if s.letter == statement.letter
                                          and s is not statement]
        code, subject, about, what = "truncated-statement", statement.name, statement.name, statement.name
    elif duty is not None:
        text, siblings = duty.text, [d.text for d in record.duties if d is not duty]
        code, subject, about, what = "truncated-duty", f"D{duty.number}", f"D{duty.number}", f"duty {duty.number}"
    elif record.summary is not None and inside(last.line) and record.summary.span.start <= last.line.start \
            and last.line.end <= record.summary.span.end:
        text, siblings = last.text, record.summary.value.split("\n")[:-1]
        code, subject, about, what = "truncated-text", "summary", "", "the summary"
    else:
        text, siblings = last.text, [b.text for b in _run_before(blocks)]
        code, subject, about, what = "truncated-text", "end", "", "its last paragraph"
    stops_on_space = record.page.text[-1:].isspace() and not record.page.text.endswith("\n")
    if ends_a_sentence(text) and not stops_on_space:
        return
    finished = sum(ends_a_sentence(s) for s in siblings)
    if stops_on_space or not siblings or finished * 2 >= len(siblings):
        record.issue(code, subject, f"The page ends inside {what}, which stops at {text[-40:]!r}: the capture is "
                     "cut short here.", _span_of(record, last, statement, duty), about=about)
    else:
        record.issue("page-end-uncertain", "end", f"The page ends with {what}, which has no closing full stop; "
                     "the items before it have none either, so whether the capture stops here cannot be told.",
                     _span_of(record, last, statement, duty), about=about, severity="info")


def _run_before(blocks):
    """The blocks of the same kind just before the last block: the paragraphs or items it belongs with."""
    kind = blocks[-1].kind
    run = []
    for block in reversed(blocks[:-1]):
        if block.kind != kind:
            break
        run.append(block)
    return run


def _span_of(record: Record, last, statement, duty):
    if statement is not None:
        return statement.span
    if duty is not None:
        return duty.span
    return last.body
