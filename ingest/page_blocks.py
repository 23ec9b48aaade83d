"""A page as blocks: its lines, headings, list items and table rows, each with its span in the page's text.

Plain text is read line by line: a line with ``|`` at either end (or `` | `` inside) is a table row,
``#`` starts a heading, a bullet or ``1.`` starts a list item. HTML is read with lxml's parser into
the same blocks, and its text is the page's text content, one block a line, whitespace collapsed and
table cells joined by `` | ``: the text a Web Annotation position selector counts characters of
(https://www.w3.org/TR/annotation-model/#text-position-selector: tags removed, character references
decoded, whitespace normalised). Either way ``text[span.start:span.end] == span.text`` for every span.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ingest.provenance import Span

HTML_MEDIA = "text/html"
TEXT_MEDIA = "text/plain"

MARKER = re.compile(r"^(?:[•·▪◦‣●○■□–—*+-]|\(?(?P<ordinal>[0-9]{1,3})[.)])\s+")
HEADING_MARK = re.compile(r"^#{1,6}\s+")
RULE_CELL = re.compile(r"^:?-{2,}:?$")
HTML_SIGN = re.compile(r"<(?:!doctype\s+html|html|body|table|tr|td|th|div|p|h[1-6]|ul|ol|li|dl|dt|dd|section|article|main|br)\b",
                       re.IGNORECASE)


@dataclass(frozen=True)
class Block:
    """One block of a page: ``line`` is all of it, ``body`` its content (a list item's without the marker)."""

    kind: str  # "line", "heading", "item", "row" or "rule"
    number: int  # 1-based line of the page's text
    line: Span
    body: Span
    cells: tuple[Span, ...] = ()
    ordinal: int | None = None  # a numbered list item's number ("3." in text, the position in an HTML <ol>)
    depth: int | None = None  # a heading's level: 1 for <h1> or "#"

    @property
    def text(self) -> str:
        return self.body.text


@dataclass
class Page:
    """A page read into blocks; ``text`` is what every span's offsets count characters of."""

    text: str
    media: str
    blocks: list[Block] = field(default_factory=list)


def looks_like_html(data: str) -> bool:
    """Whether a document is HTML rather than plain text, by the markup near its start.

    >>> looks_like_html("<!DOCTYPE html><title>x</title>"), looks_like_html("Duty 1 Plan. | K1 |")
    (True, False)
    """
    return HTML_SIGN.search(data[:4096]) is not None


def read_page(data: str, media: str | None = None) -> Page:
    """Blocks of a page given as plain text or HTML (``media`` decides; without it, the markup does)."""
    if media is None:
        media = HTML_MEDIA if looks_like_html(data) else TEXT_MEDIA
    return blocks_of_html(data) if media == HTML_MEDIA else blocks_of_text(data)


# ------------------------------------------------------------------ plain text

def _trimmed(text: str, start: int, offset: int = 0, end: int | None = None) -> Span:
    """The span of ``text[offset:end]`` without surrounding white space, at document offset ``start``."""
    end = len(text) if end is None else end
    piece = text[offset:end]
    lead = len(piece) - len(piece.lstrip())
    body = piece.strip()
    return Span(start + offset + lead, start + offset + lead + len(body), body)


def _cells(text: str, start: int) -> tuple[Span, ...]:
    """The cells of a pipe-table line; the pipes at either end are edges, not cells.

    >>> [c.text for c in _cells("| Duty 1 Plan. | K1 K2 |", 0)], [c.text for c in _cells("|", 0)]
    (['Duty 1 Plan.', 'K1 K2'], [''])
    """
    bounds = [-1] + [i for i, ch in enumerate(text) if ch == "|"] + [len(text)]
    parts = [(bounds[i] + 1, bounds[i + 1]) for i in range(len(bounds) - 1)]
    if text.rstrip().endswith("|"):
        parts = parts[:-1]
    if len(parts) > 1 and text.lstrip().startswith("|"):
        parts = parts[1:]
    return tuple(_trimmed(text, start, a, b) for a, b in parts)


def _is_row(text: str) -> bool:
    return text.startswith("|") or text.endswith("|") or " | " in text


def text_block(number: int, start: int, raw: str) -> Block | None:
    """The block of one line of plain text at offset ``start``; None for a blank line."""
    line = _trimmed(raw, start)
    if not line.text:
        return None
    if _is_row(line.text):
        cells = _cells(raw, start)
        kind = "rule" if cells and all(RULE_CELL.match(c.text) for c in cells) else "row"
        return Block(kind, number, line, line, cells)
    heading = HEADING_MARK.match(line.text)
    if heading:
        depth = len(heading.group().strip())
        return Block("heading", number, line, _trimmed(line.text, line.start, heading.end()), depth=depth)
    marker = MARKER.match(line.text)
    if marker and len(line.text) > marker.end():
        ordinal = int(marker.group("ordinal")) if marker.group("ordinal") else None
        return Block("item", number, line, _trimmed(line.text, line.start, marker.end()), ordinal=ordinal)
    return Block("line", number, line, line)


def blocks_of_text(text: str) -> Page:
    """A plain-text page: one block per non-blank line, offsets into ``text`` itself."""
    page = Page(text, TEXT_MEDIA)
    offset = 0
    for number, raw in enumerate(text.splitlines(keepends=True), start=1):
        block = text_block(number, offset, raw.rstrip("\r\n"))
        if block is not None:
            page.blocks.append(block)
        offset += len(raw)
    return page


# ------------------------------------------------------------------ HTML

SKIPPED = {"script", "style", "noscript", "template", "head", "svg", "iframe", "select", "button", "object"}
HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
BLOCKS = {"p", "div", "section", "article", "main", "header", "footer", "aside", "nav", "table", "thead",
          "tbody", "tfoot", "ul", "ol", "dl", "blockquote", "pre", "figure", "figcaption", "caption", "address",
          "form", "fieldset", "details", "summary", "hr", "body", "html", "legend", "center"}


def collapse(text: str) -> str:
    """White space collapsed to single spaces, none at either end.

    >>> collapse("  K1:\\n  Archival\\xa0description ")
    'K1: Archival description'
    """
    return " ".join(text.split())


class _Renderer:
    """Walks an lxml tree, writing the text content one block a line and keeping each block's spans."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.length = 0
        self.blocks: list[Block] = []
        self.inline: list[str] = []

    def _emit(self, kind: str, pieces: list[str], ordinal: int | None = None, depth: int | None = None) -> None:
        if kind == "row":
            cells = [collapse(p) for p in pieces]
            if not any(cells):
                return
            line_text = " | ".join(cells)
        else:
            line_text = collapse(" ".join(pieces))
            if not line_text:
                return
        start = self.length
        spans = []
        if kind == "row":
            at = start
            for cell in cells:
                spans.append(Span(at, at + len(cell), cell))
                at += len(cell) + 3
        line = Span(start, start + len(line_text), line_text)
        self.blocks.append(Block(kind, len(self.lines) + 1, line, line, tuple(spans), ordinal, depth))
        self.lines.append(line_text)
        self.length += len(line_text) + 1

    def flush(self) -> None:
        if self.inline:
            pieces, self.inline = self.inline, []
            self._emit("line", pieces)

    def text_of(self, element) -> str:
        """An element's text content, skipping what is never shown; a ``<br>`` or a block's end is a space."""
        pieces: list[str] = []

        def visit(el):
            tag = el.tag if isinstance(el.tag, str) else ""
            if tag in SKIPPED:
                return
            if tag == "br":
                pieces.append(" ")
            elif el.text and isinstance(el.tag, str):
                pieces.append(el.text)
            for child in el:
                visit(child)
                if child.tail:
                    pieces.append(child.tail)
            if tag in BLOCKS or tag in HEADINGS or tag in ("li", "td", "th", "tr", "dt", "dd"):
                pieces.append(" ")

        visit(element)
        return "".join(pieces)

    def walk(self, el, ordinal: int | None = None) -> None:
        tag = el.tag.lower() if isinstance(el.tag, str) else ""
        if not tag or tag in SKIPPED:  # comments and processing instructions have no text content
            return
        if tag in HEADINGS:
            self.flush()
            self._emit("heading", [self.text_of(el)], depth=int(tag[1]))
        elif tag == "tr":
            self.flush()
            self._emit("row", [self.text_of(cell) for cell in el if isinstance(cell.tag, str)
                               and cell.tag.lower() in ("td", "th")])
        elif tag == "dl":
            self.flush()
            self._definitions(el)
        elif tag == "li":
            self._item(el, ordinal)
        elif tag == "br":
            self.flush()
        else:
            block = tag in BLOCKS
            if block:
                self.flush()
            if el.text:
                self.inline.append(el.text)
            start = int(el.get("start", "1")) if tag == "ol" and (el.get("start") or "").isdigit() else 1
            position = start
            for child in el:
                is_item = isinstance(child.tag, str) and child.tag.lower() == "li"
                self.walk(child, position if tag == "ol" and is_item else None)
                if is_item:
                    position += 1
                if child.tail:
                    self.inline.append(child.tail)
            if block:
                self.flush()

    def _item(self, el, ordinal: int | None) -> None:
        """A list item: its own text is one item block; nested lists follow as blocks of their own."""
        self.flush()
        pieces = [el.text or ""]
        nested = []
        for child in el:
            child_tag = child.tag.lower() if isinstance(child.tag, str) else ""
            if child_tag in ("ul", "ol", "table", "dl") and self._has_blocks(child):
                nested.append(child)
                continue
            if nested:  # text after a nested list: a line of its own
                nested.append(child)
                continue
            pieces.append(self.text_of(child))
            if child.tail:
                pieces.append(child.tail)
        text = collapse(" ".join(pieces))
        if text:
            start = self.length
            line = Span(start, start + len(text), text)
            self.blocks.append(Block("item", len(self.lines) + 1, line, line, (), ordinal))
            self.lines.append(text)
            self.length += len(text) + 1
        for child in nested:
            self.walk(child)
            if child.tail:
                self.inline.append(child.tail)
        self.flush()

    @staticmethod
    def _has_blocks(el) -> bool:
        return any(isinstance(d.tag, str) and d.tag.lower() in ("li", "tr", "dt") for d in el.iter())

    def _definitions(self, dl) -> None:
        """A definition list: each term with its definitions as one row (``Level | 3``)."""
        term = None
        for child in dl:
            tag = child.tag.lower() if isinstance(child.tag, str) else ""
            if tag == "dt":
                if term is not None:
                    self._emit("row", [term])
                term = self.text_of(child)
            elif tag == "dd":
                self._emit("row", [term, self.text_of(child)] if term is not None else [self.text_of(child)])
                term = None
            elif tag:
                self.walk(child)
        if term is not None:
            self._emit("row", [term])


def blocks_of_html(data: str) -> Page:
    """An HTML page (a document or a fragment) read with lxml into blocks over its text content."""
    import lxml.html
    from lxml.etree import ParserError

    renderer = _Renderer()
    try:
        root = lxml.html.document_fromstring(data)
    except (ParserError, ValueError):  # nothing but white space or comments: no blocks
        return Page("", HTML_MEDIA)
    renderer.walk(root)
    renderer.flush()
    return Page("\n".join(renderer.lines) + ("\n" if renderer.lines else ""), HTML_MEDIA, renderer.blocks)
