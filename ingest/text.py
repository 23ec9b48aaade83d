"""Captured page text as numbered lines with character offsets, and the parse error that names a line."""

from __future__ import annotations

from dataclasses import dataclass

from ingest.provenance import Span


class ParseError(ValueError):
    """A source does not have the layout its parser reads; ``line`` is 1-based."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.message = message
        self.line = line

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message


@dataclass(frozen=True)
class Line:
    """One line of a document: its 1-based number, its offset and its text without the line break."""

    number: int
    start: int
    text: str

    @property
    def stripped(self) -> str:
        return self.text.strip()

    def span(self, start: int = 0, end: int | None = None) -> Span:
        """The span of ``text[start:end]`` in document offsets.

        >>> Line(3, 100, "K1: Sources.").span(4)
        Span(start=104, end=112, text='Sources.')
        """
        end = len(self.text) if end is None else end
        return Span(self.start + start, self.start + end, self.text[start:end])

    def span_of(self, fragment: str) -> Span:
        """The span of the first occurrence of ``fragment`` in this line."""
        at = self.text.index(fragment)
        return self.span(at, at + len(fragment))

    def trimmed_span(self) -> Span:
        """The span of the line without surrounding white space."""
        lead = len(self.text) - len(self.text.lstrip())
        return self.span(lead, len(self.text.rstrip()))


def lines_of(text: str) -> list[Line]:
    """Split a document into lines, keeping offsets into the original text.

    >>> [(l.number, l.start, l.text) for l in lines_of("a\\r\\nbc\\n\\nd")]
    [(1, 0, 'a'), (2, 3, 'bc'), (3, 6, ''), (4, 7, 'd')]
    """
    lines = []
    offset = 0
    for number, raw in enumerate(text.splitlines(keepends=True), start=1):
        body = raw.rstrip("\r\n")
        lines.append(Line(number, offset, body))
        offset += len(raw)
    return lines


def covering_span(document: str, first: Line, last: Line) -> Span:
    """The span from the start of ``first`` to the end of ``last``, quoted from the document."""
    start, end = first.start, last.start + len(last.text)
    return Span(start, end, document[start:end])
