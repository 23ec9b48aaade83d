"""What a standard or occupation page states, as read: each fact with the span it was read from.

A record holds only what the page prints; what the page should print but does not (a cell the
capture lost, a list that stops mid-statement, a code mapped but never stated) is an ``Issue``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ingest.page_blocks import Page
from ingest.provenance import Span

KSB_LETTERS = ("K", "S", "B")
KSB_NAMES = {"K": "knowledge", "S": "skill", "B": "behaviour"}


def collapse(text: str) -> str:
    """A printed value with its white space normalised: the one change made to what the page says."""
    return " ".join(text.split())


@dataclass(frozen=True)
class Fact:
    """A value as printed (white space normalised) and where it is printed."""

    value: str
    span: Span

    @classmethod
    def of(cls, span: Span) -> Fact:
        return cls(collapse(span.text), span)


@dataclass(frozen=True)
class Code:
    """A K, S or B code as printed in a duty's KSB cell."""

    letter: str
    number: int
    span: Span

    @property
    def name(self) -> str:
        return f"{self.letter}{self.number}"


@dataclass
class Duty:
    """Duty N: its statement, and its KSB cell when the page's layout has one.

    ``cell`` is "listed", "empty" or "missing" in a layout with a KSB column, None in one without.
    """

    number: int
    text: str
    span: Span
    line: Span
    cell: str | None = None
    cell_span: Span | None = None
    codes: list[Code] = field(default_factory=list)
    row_end: int = 0  # where the last block read as part of the duty's row ends


@dataclass(frozen=True)
class Statement:
    """A knowledge, skill or behaviour statement with its code (K12)."""

    letter: str
    number: int
    text: str
    span: Span

    @property
    def name(self) -> str:
        return f"{self.letter}{self.number}"


@dataclass(frozen=True)
class Issue:
    """Something the page should state but does not, or states in a way that cannot be read.

    ``about`` names what it affects: "" for the standard, "D3" for a duty, "K12" for a KSB.
    """

    code: str
    subject: str
    message: str
    span: Span | None
    about: str = ""
    severity: str = "warning"


@dataclass
class Record:
    """Everything read from one page."""

    page: Page
    reference: Fact | None = None  # ST####, as printed
    occupation: Fact | None = None  # OCC####, as printed
    title: Fact | None = None
    level: Fact | None = None
    version: Fact | None = None
    statuses: list[tuple[str, Span]] = field(default_factory=list)  # (status slug, span)
    periods: dict[str, tuple[int, Span]] = field(default_factory=dict)  # "duration" / "epa": months
    route: Fact | None = None
    modified: Fact | None = None  # ISO date
    overview: Fact | None = None
    summary: Fact | None = None
    entry_requirements: Fact | None = None
    english_and_maths: Fact | None = None
    job_titles: list[Fact] = field(default_factory=list)
    employers: list[Fact] = field(default_factory=list)
    recognition: Span | None = None  # the line declaring professional recognition
    recognition_bodies: list[Fact] = field(default_factory=list)
    duties: list[Duty] = field(default_factory=list)
    statements: list[Statement] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    layouts: list[str] = field(default_factory=list)  # names of the layouts recognised, in order found
    claimed: set[int] = field(default_factory=set)  # indices of the blocks read as something
    # Look-ups by key, so a page of thousands of lines is read in linear time.
    _duties: dict[int, Duty] = field(default_factory=dict, repr=False)
    _statements: dict[str, Statement] = field(default_factory=dict, repr=False)
    _issue_keys: set[tuple[str, str]] = field(default_factory=set, repr=False)

    def recognised(self) -> bool:
        """Whether anything of a standard or an occupation was found."""
        return bool(self.duties or self.statements or self.reference or self.occupation or self.level
                    or self.version or self.overview or self.summary or self.job_titles or self.employers
                    or "occupation-card" in self.layouts or any(i.code == "uncoded-statements" for i in self.issues))

    def layout(self, name: str) -> None:
        if name not in self.layouts:
            self.layouts.append(name)

    def issue(self, code: str, subject: str, message: str, span: Span | None, about: str = "",
              severity: str = "warning") -> None:
        """Record an issue once: the first of the same code about the same subject stands."""
        if (code, subject) not in self._issue_keys:
            self._issue_keys.add((code, subject))
            self.issues.append(Issue(code, subject, message, span, about, severity))

    def add_duty(self, duty: Duty) -> None:
        self.duties.append(duty)
        self._duties[duty.number] = duty

    def add_statement(self, statement: Statement) -> None:
        self.statements.append(statement)
        self._statements[statement.name] = statement

    def duty(self, number: int) -> Duty | None:
        return self._duties.get(number)

    def statement(self, letter: str, number: int) -> Statement | None:
        return self._statements.get(f"{letter}{number}")


# A full stop (or ! ? :), maybe inside a closing bracket or quote; "e.g." and "i.e." end no sentence.
SENTENCE_END = re.compile(r"(?<!\be\.g)(?<!\bi\.e)[.!?:][)\]\"'”’]*$")


def ends_a_sentence(text: str) -> bool:
    """Whether a statement ends as a finished sentence does.

    >>> ends_a_sentence("Records law."), ends_a_sentence("Records law and"), ends_a_sentence("as in ISO 15489)")
    (True, False, False)
    >>> ends_a_sentence("(see the Act.)"), ends_a_sentence("for example, e.g.")
    (True, False)
    """
    return SENTENCE_END.search(text.rstrip()) is not None
