"""Property-based tests (Hypothesis) of the page extractor: pages generated in each layout, as text or HTML, with
random counts, code lists, statements and white space, whole or cut at a random point.

A whole page gives back exactly what was generated (its duties, their codes, its statements, its reference and
title) and no issue but its empty cells. A cut page gives back exactly the items before the cut, the item the cut
falls in as far as it goes, nothing else, and an issue naming that item.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.page_extract import extract

PROPERTIES = settings(max_examples=50, deadline=None, derandomize=True, database=None,
                      suppress_health_check=[HealthCheck.too_slow])

FIRST_WORDS = ["Records", "Archive", "Data", "Manage", "Users", "Catalogue", "Legal", "Quality", "Review", "Digital",
               "Preserve", "Access", "Café", "Organisation’s", "Co-ordinate"]
WORDS = ["records", "archive", "data", "manage", "users", "catalogue", "legal", "quality", "review", "systems",
         "information", "digital", "preserve", "access", "standards", "café", "organisation’s", "and", "of", "the",
         "with", "for", "in", "to", "across", "&", "(ISO", "15489)", "co-ordinate", "<metadata>"]
TEXT_DUTY_LAYOUTS = ("split-rows", "pipe", "flattened", "next-line", "same-line", "duty-list")
HTML_DUTY_LAYOUTS = ("html-table", "html-flattened", "html-next-line", "html-duty-list")
TEXT_KSB_LAYOUTS = ("colon", "space", "bullet", "numbered")
HTML_KSB_LAYOUTS = ("html-li", "html-ol")
EMPTY_CELLS = ("split-rows", "pipe", "html-table")
CODE_CELLS = ("split-rows", "pipe", "flattened", "next-line", "same-line", "html-table", "html-flattened",
              "html-next-line")


@dataclass
class Spec:
    """What a generated page states."""

    reference: str | None
    title: str | None
    duties: list[tuple[int, str, list[str]]]  # number, statement, codes in its cell ([] for an empty cell)
    ksbs: list[tuple[str, str]]  # code, statement; K first, then S, then B
    criteria: list[str]
    duty_layout: str
    ksb_layout: str
    spaces: list[str] = field(default_factory=list)


@st.composite
def sentences(draw, end: str = ".") -> str:
    words = [draw(st.sampled_from(FIRST_WORDS))] + draw(st.lists(st.sampled_from(WORDS), min_size=1, max_size=9))
    return " ".join(words) + end


@st.composite
def specs(draw, as_html: bool) -> Spec:
    counts = {"K": draw(st.integers(1, 5)), "S": draw(st.integers(1, 5)), "B": draw(st.integers(1, 3))}
    ksbs = [(f"{letter}{n}", draw(sentences())) for letter in "KSB" for n in range(1, counts[letter] + 1)]
    codes = [code for code, _ in ksbs]
    duty_layout = draw(st.sampled_from(HTML_DUTY_LAYOUTS if as_html else TEXT_DUTY_LAYOUTS))
    number = draw(st.integers(1, 5))
    cells = []
    for _ in range(number):
        empty = duty_layout in EMPTY_CELLS and draw(st.integers(0, 5)) == 0
        cells.append([] if empty else draw(st.lists(st.sampled_from(codes), min_size=1, max_size=6, unique=True)))
    if duty_layout in CODE_CELLS:  # every code mapped by some duty, as in a published standard
        listed = [i for i, cell in enumerate(cells) if cell] or [0]
        for code in codes:
            if not any(code in cell for cell in cells):
                cells[draw(st.sampled_from(listed))].append(code)
    else:
        cells = [[] for _ in cells]
    duties = [(n, draw(sentences()), cell) for n, cell in enumerate(cells, start=1)]
    criteria = [draw(sentences()) for _ in duties]
    reference = draw(st.one_of(st.none(), st.integers(1, 9999).map(lambda n: f"ST{n:04d}")))
    title = draw(st.one_of(st.none(), st.sampled_from(["Records officer", "Archive assistant", "Data steward"])))
    ksb_layout = draw(st.sampled_from(HTML_KSB_LAYOUTS if as_html else TEXT_KSB_LAYOUTS))
    spaces = draw(st.lists(st.sampled_from([" ", "  ", "\t", " \u00a0", "   "]), min_size=8, max_size=8))
    return Spec(reference, title, duties, ksbs, criteria, duty_layout, ksb_layout, spaces)


class Writer:
    """Builds a page, remembering where each duty's and statement's text sits in it."""

    def __init__(self, spec: Spec, as_html: bool):
        self.spec, self.as_html = spec, as_html
        self.parts: list[str] = []
        self.length = 0
        self.places: dict[str, tuple[int, int]] = {}
        self.turn = 0

    def space(self) -> str:
        self.turn += 1
        return self.spec.spaces[self.turn % len(self.spec.spaces)]

    def add(self, text: str) -> None:
        self.parts.append(text)
        self.length += len(text)

    def item(self, key: str, text: str) -> None:
        """An item's statement, its inner spaces varied; escaped in HTML."""
        words = text.split(" ")
        written = words[0] + "".join(self.space() + w for w in words[1:])
        written = html.escape(written, quote=False) if self.as_html else written
        self.places[key] = (self.length, self.length + len(written))
        self.add(written)

    def text(self) -> str:
        return "".join(self.parts)


def write_page(spec: Spec, as_html: bool) -> Writer:
    w = Writer(spec, as_html)
    line = (lambda t: w.add(f"<p>{t}</p>\n")) if as_html else (lambda t: w.add(t + "\n"))
    if as_html:
        w.add("<html><body>\n")
    if spec.title:
        w.add(f"<h1>{spec.title}</h1>\n" if as_html else spec.title + "\n")
    if spec.reference:
        line(f"Reference: {spec.reference}")
    _duties(w, spec, line)
    _ksbs(w, spec, line)
    if as_html:
        w.add("</body></html>\n")
    return w


def _duties(w: Writer, spec: Spec, line) -> None:
    layout = spec.duty_layout
    if layout in ("split-rows", "pipe"):
        w.add("Duty | KSBs |\n---|---|\n" if layout == "split-rows" else "| Duty | KSBs |\n|---|---|\n")
    elif layout == "html-table":
        w.add("<table><tr><th>Duty</th><th>KSBs</th></tr>\n")
    elif layout in ("flattened", "html-flattened"):
        for label in ("DUTY", "CRITERIA FOR MEASURING PERFORMANCE", "KSBS"):
            line(label)
    for (number, text, codes), criteria in zip(spec.duties, spec.criteria, strict=True):
        cell = " ".join(codes)
        if layout == "split-rows":
            w.add(f"Duty {number} "), w.item(f"D{number}", text), w.add(" |\n"), w.add(f"{cell} |\n" if cell else "|\n")
        elif layout == "pipe":
            w.add(f"| Duty {number}{w.space()}"), w.item(f"D{number}", text), w.add(f" | {cell} |\n")
        elif layout == "html-table":
            w.add(f"<tr><td>Duty {number} "), w.item(f"D{number}", text), w.add(f"</td><td>{cell}</td></tr>\n")
        elif layout in ("flattened", "html-flattened"):
            open_, close = ("<p>", "</p>\n") if w.as_html else ("", "\n\n")
            w.add(f"{open_}Duty {number} "), w.item(f"D{number}", text), w.add(close)
            line(criteria)
            for letter in "KSB":
                part = " ".join(c for c in codes if c[0] == letter)
                if part:
                    line(part)
        elif layout in ("next-line", "html-next-line"):
            open_, close = ("<p>", "</p>\n") if w.as_html else ("", "\n")
            w.add(f"{open_}Duty {number}{w.space()}"), w.item(f"D{number}", text), w.add(close)
            line(", ".join(codes))
        elif layout == "same-line":
            w.add(f"Duty {number} "), w.item(f"D{number}", text), w.add(f" {cell}\n")
        else:  # duty-list, html-duty-list
            open_, close = ("<p>", "</p>\n") if w.as_html else ("", "\n")
            w.add(f"{open_}Duty {number}: "), w.item(f"D{number}", text), w.add(close)
    if layout == "html-table":
        w.add("</table>\n")


def _ksbs(w: Writer, spec: Spec, line) -> None:
    layout = spec.ksb_layout
    headings = {"K": "Knowledge", "S": "Skills", "B": "Behaviours"}
    for letter in "KSB":
        items = [(code, text) for code, text in spec.ksbs if code[0] == letter]
        if layout in ("numbered", "html-ol"):
            w.add(f"<h2>{headings[letter]}</h2>\n<ol>\n" if w.as_html else f"{headings[letter]}\n")
        elif layout == "html-li":
            w.add("<ul>\n")
        for code, text in items:
            if layout == "colon":
                w.add(f"{code}: "), w.item(code, text), w.add("\nBack to Duty\n")
            elif layout == "space":
                w.add(f"{code}{w.space()}"), w.item(code, text), w.add("\n\n")
            elif layout == "bullet":
                w.add(f"  • {code}: "), w.item(code, text), w.add("\n")
            elif layout == "numbered":
                w.add(f"{code[1:]}. "), w.item(code, text), w.add("\n")
            elif layout == "html-li":
                w.add(f"<li>{code}: "), w.item(code, text), w.add(' <a href="#d">Back to Duty</a></li>\n')
            else:  # html-ol
                w.add("<li>"), w.item(code, text), w.add("</li>\n")
        if layout == "html-ol":
            w.add("</ol>\n")
        elif layout == "html-li":
            w.add("</ul>\n")


def extracted(text: str, as_html: bool):
    record = extract(text, "text/html" if as_html else "text/plain")
    # the graph keeps no order
    duties = {d.number: (d.text, sorted(c.name for c in d.codes), d.cell) for d in record.duties}
    statements = {s.name: s.text for s in record.statements}
    return record, duties, statements


def check_whole(spec: Spec, as_html: bool) -> None:
    text = write_page(spec, as_html).text()
    record, duties, statements = extracted(text, as_html)
    cells = spec.duty_layout in CODE_CELLS
    assert duties == {n: (t, sorted(codes), ("listed" if codes else "empty") if cells else None)
                      for n, t, codes in spec.duties}
    assert statements == dict(spec.ksbs)
    assert (record.reference.value if record.reference else None) == spec.reference
    if spec.title and spec.reference:  # a title is read from a heading, or from the line above the reference
        assert record.title is not None and record.title.value == spec.title
    expected_issues = {("empty-ksb-cell", f"D{n}") for n, _, codes in spec.duties if not codes and cells}
    if spec.reference and not spec.title:  # key information with no title: the page lacks one
        expected_issues.add(("missing-title", "title"))
    assert {(i.code, i.subject) for i in record.issues if i.code != "page-end-uncertain"} == expected_issues


@PROPERTIES
@given(specs(as_html=False))
def test_a_whole_text_page_gives_exactly_what_it_states(spec):
    check_whole(spec, as_html=False)


@PROPERTIES
@given(specs(as_html=True))
def test_a_whole_html_page_gives_exactly_what_it_states(spec):
    check_whole(spec, as_html=True)


@st.composite
def cut_pages(draw, as_html: bool) -> tuple[Spec, Writer, str, int]:
    """A page and a point strictly inside one item's statement (at a space in HTML, never inside markup)."""
    spec = draw(specs(as_html))
    writer = write_page(spec, as_html)
    text = writer.text()
    key = draw(st.sampled_from(sorted(writer.places)))
    start, end = writer.places[key]
    if as_html:
        points = [i for i in range(start + 1, end - 1) if text[i] == " "]
        at = draw(st.sampled_from(points)) if points else end - 1
    else:
        at = draw(st.integers(start + 1, end - 1))
    return spec, writer, key, at


def check_cut(spec: Spec, writer: Writer, key: str, at: int, as_html: bool) -> None:
    text = writer.text()[:at]
    record, duties, statements = extracted(text, as_html)
    generated_duties = {f"D{n}": (t, codes) for n, t, codes in spec.duties}
    generated = dict(spec.ksbs)
    for name, (_start, end) in writer.places.items():
        whole = end <= at
        got = duties.get(int(name[1:]), (None,))[0] if name.startswith("D") else statements.get(name)
        original = generated_duties[name][0] if name.startswith("D") else generated[name]
        if whole:
            assert got == original, name
        elif name == key:
            assert got is not None and original.startswith(got) and got != original, (name, got)
        else:
            assert got is None, name
    for number, (_, codes, _) in duties.items():  # nothing invented: each code read is in the generated cell
        assert set(codes) <= set(generated_duties[f"D{number}"][1])
    named = {i.subject for i in record.issues if i.code.startswith("truncated")} | \
        {i.about for i in record.issues if i.code.startswith("truncated")}
    assert key in named, [(i.code, i.subject) for i in record.issues]


@PROPERTIES
@given(cut_pages(as_html=False))
def test_a_text_page_cut_inside_an_item_keeps_what_came_before_and_reports_the_cut(case):
    check_cut(*case, as_html=False)


@PROPERTIES
@given(cut_pages(as_html=True))
def test_an_html_page_cut_inside_an_item_keeps_what_came_before_and_reports_the_cut(case):
    check_cut(*case, as_html=True)


@PROPERTIES
@given(specs(as_html=False), st.data())
def test_a_page_cut_between_statements_reports_what_it_lost(spec, data):
    """Every code is mapped, so a statement lost whole is a code mapped but never stated."""
    if spec.duty_layout not in CODE_CELLS:
        spec.duty_layout = "split-rows"
        spec.duties = [(n, t, [code for code, _ in spec.ksbs]) for n, t, _ in spec.duties]
    writer = write_page(spec, as_html=False)
    keys = [code for code, _ in spec.ksbs]
    lost = data.draw(st.integers(1, len(keys)))  # the statements from keys[-lost] on are lost
    start = writer.places[keys[-lost]][0]
    text = writer.text()
    at = text.rindex("\n", 0, start) + 1 if "\n" in text[:start] else start
    record = extract(text[:at])
    unstated = {i.subject for i in record.issues if i.code == "unstated-ksb"}
    assert set(keys[-lost:]) <= unstated
    assert {s.name for s in record.statements} == set(keys[:-lost])
