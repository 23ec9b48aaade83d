"""The key information a standard or occupation page prints about itself, and its prose sections.

Key information comes as ``Key: value`` lines (or list items), two-cell rows and definition lists
(``Reference | ST0904``), and a few short forms without a colon (``Level 3``); the status also as
the IfATE banner ("This apprenticeship is in development ..."). Prose sections are read under their
headings ("Occupation summary", "Entry requirements", ...) or, on a page captured without headings,
from their place: the paragraphs before the duties are the summary.
"""

from __future__ import annotations

import re

from ingest.model import STATUSES
from ingest.page_blocks import Block
from ingest.page_record import Fact, Record, collapse, ends_a_sentence
from ingest.provenance import Span
from kimdata.namespaces import slugify

KEY_LINE = re.compile(r"^(?P<key>[A-Za-z][A-Za-z ()'/-]{0,60}?)\s*:\s*(?P<value>.*)$")
SHORT_KEY = re.compile(r"^(?P<key>Reference|Level|Version)\s+(?P<value>(?:ST|OCC|FA|AU)[0-9]{4}|[0-9]+(?:\.[0-9]+)?"
                       r"(?:\s*\(.*\))?)$")
KEYS = {
    "reference": ("reference", "reference number", "standard reference", "standard reference number",
                  "ifate reference", "st code", "standard code", "standard number"),
    "occupation": ("occupation code", "occupation reference", "occupational code", "occupation reference number"),
    "level": ("level", "apprenticeship level"),
    "status": ("status", "standard status"),
    "version": ("version", "version number", "standard version"),
    "duration": ("typical duration to gateway", "typical duration", "duration", "typical length"),
    "epa": ("typical epa period", "epa period", "typical end-point assessment period"),
    "route": ("route", "occupational route"),
    "modified": ("date updated", "last updated", "updated"),
    "title": ("title", "standard title", "occupation title", "occupation name"),
    "job_titles": ("typical job titles", "typical job title", "job titles", "typical job titles include"),
    "employers": ("employers involved in creating the standard", "employers involved in creating this standard",
                  "involved employers", "trailblazer employers", "employers involved"),
    "overview": ("overview of the role", "overview"),
}
FIELD_OF_KEY = {key: name for name, keys in KEYS.items() for key in keys}
CODES = re.compile(r"\b(?P<code>(?:ST|FA|AU|OCC)[0-9]{4})\b")
LEVEL_VALUE = re.compile(r"^[0-9]{1,2}\b")
VERSION_VALUE = re.compile(r"^[vV]?(?P<version>[0-9]+(?:\.[0-9]+)*)\b")
MONTHS = re.compile(r"^([0-9]+)\s+months?\b")
TITLE_LEVEL = re.compile(r"^(?P<title>[^:]+?)\s*\([Ll]evel (?P<level>[0-9]{1,2})\)$")
UK_DATE = re.compile(r"^([0-9]{2})/([0-9]{2})/([0-9]{4})$")
BANNER = re.compile(r"^This apprenticeship(?: standard)? (?:is|has been) (?P<status>[a-z ]+?)"
                    r"(?: and is subject to change)?\.?$")
BANNER_BOILERPLATE = ("An apprenticeship is only available for delivery", "If you'd like to get involved")
SECTIONS = {
    "overview": re.compile(r"^overview of the role$", re.IGNORECASE),
    "summary": re.compile(r"^(?:occupation(?:al)? summary|occupation overview|summary)$", re.IGNORECASE),
    "entry_requirements": re.compile(r"^entry requirements?$", re.IGNORECASE),
    "english_and_maths": re.compile(r"^english and maths(?: qualifications)?$", re.IGNORECASE),
    "job_titles": re.compile(r"^typical job titles?$", re.IGNORECASE),
    "employers": re.compile(r"^(?:employers involved in creating the standard|trailblazer employers|"
                            r"involved employers)$", re.IGNORECASE),
}
RECOGNITION = re.compile(r"^This standard aligns with the following professional recognition:\s*(?P<bodies>.*)$")
FOOTER = re.compile(r"^Crown copyright")


def status_slug(text: str) -> str | None:
    """The standard-status concept for a status as printed, or None if it is not one of the five.

    >>> status_slug("In development"), status_slug("Approved for delivery (v1.1)"), status_slug("Draft")
    ('in-development', 'approved-for-delivery', None)
    """
    slug = slugify(text)
    return next((s for s in STATUSES if slug == s or slug.startswith(s + "-")), None)


def _heading_like(text: str) -> bool:
    """A short line that is not a sentence: a heading whose markup was lost ("Details of standard")."""
    return len(text) < 60 and "," not in text and not ends_a_sentence(text)


def key_value(block: Block) -> tuple[str, str, Span, Span] | None:
    """A key-information block: (field, key as printed, value span, whole-block span)."""
    if block.kind == "row":
        cells = [c for c in block.cells if c.text]
        if len(cells) == 2 and (name := FIELD_OF_KEY.get(cells[0].text.rstrip(":").strip().lower())):
            return name, cells[0].text.rstrip(":").strip(), cells[1], block.line
        return None
    if block.kind not in ("line", "item", "heading"):
        return None
    body = block.body
    match = KEY_LINE.match(body.text)
    if match and (name := FIELD_OF_KEY.get(match.group("key").strip().lower())):
        value = Span(body.start + match.start("value"), body.start + match.end("value"), match.group("value"))
        return name, match.group("key").strip(), _rstrip(value), block.line
    match = SHORT_KEY.match(body.text) if len(body.text) <= 40 else None
    if match:
        value = Span(body.start + match.start("value"), body.start + match.end("value"), match.group("value"))
        return FIELD_OF_KEY[match.group("key").lower()], match.group("key"), _rstrip(value), block.line
    return None


def _rstrip(span: Span) -> Span:
    text = span.text.rstrip()
    return Span(span.start, span.start + len(text), text)


def _part(span: Span, start: int, end: int) -> Span:
    """``span.text[start:end]`` as a span, without surrounding white space."""
    piece = span.text[start:end]
    lead = len(piece) - len(piece.lstrip())
    text = piece.strip()
    return Span(span.start + start + lead, span.start + start + lead + len(text), text)


def split_names(span: Span, separators: str = ";") -> list[Span]:
    """The names in a list printed on one line: split on ``;`` when there is one, else on ``separators``."""
    chars = ";" if ";" in span.text else separators
    names, start = [], 0
    for i, ch in enumerate(span.text + chars[0]):
        if ch in chars:
            part = _part(span, start, i)
            if part.text:
                names.append(part)
            start = i + 1
    return names


class FieldReader:
    """Reads key information and prose sections into the record."""

    def __init__(self, record: Record):
        self.record = record
        self.blocks = record.page.blocks
        self.header: list[Span] = []  # the key-information blocks, for issues about what they lack

    # -------------------------------------------------------------- key information

    def read_keys(self) -> None:
        in_banner = False
        for i, block in enumerate(self.blocks):
            if i in self.record.claimed:
                continue
            banner = BANNER.match(block.text) if block.kind in ("line", "heading") else None
            if banner:
                in_banner = True
                slug = status_slug(banner.group("status"))
                if slug:
                    self.record.statuses.append((slug, block.line))
                self.record.claimed.add(i)
                continue
            if in_banner and block.text.startswith(BANNER_BOILERPLATE):
                self.record.claimed.add(i)
                continue
            in_banner = False
            found = key_value(block)
            if found is None:
                continue
            self.record.claimed.add(i)
            name, key, value, whole = found
            if name in ("job_titles", "employers") and not value.text:  # the list on the line below its label
                below = i + 1
                if below < len(self.blocks) and self.blocks[below].kind == "line" and key_value(self.blocks[below]) is None:
                    self.record.claimed.add(below)
                    value = self.blocks[below].body
            self._key(i, name, key, value, whole)

    def _key(self, i: int, name: str, key: str, value: Span, whole: Span) -> None:
        r = self.record
        if name not in ("job_titles", "employers", "overview", "title"):
            self.header.append(whole)
        if name in ("reference", "occupation"):
            codes = list(CODES.finditer(value.text))
            for code in codes:
                fact = Fact(code.group("code"), _part(value, code.start(), code.end()))
                if fact.value.startswith("OCC"):
                    r.occupation = r.occupation or fact
                else:
                    r.reference = r.reference or fact
            if not codes:
                r.issue("unreadable-reference", "reference", f"The reference line reads {value.text!r}, which is "
                        "neither an ST nor an OCC code.", value if value.text else whole)
        elif name == "level":
            level = LEVEL_VALUE.match(value.text)
            if level:
                r.level = r.level or Fact(level.group(), _part(value, 0, level.end()))
            else:
                r.issue("unreadable-level", "level", f"The level line reads {value.text!r}.", value if value.text else whole)
        elif name == "status":
            slug = status_slug(value.text) if value.text else None
            if slug:
                r.statuses.append((slug, value))
            elif not value.text:
                r.issue("empty-status", "status", "The status line is empty in the captured page.", whole)
            else:
                r.issue("unknown-status", "status", f"The status line reads {value.text!r}, which is not an IfATE "
                        "status.", value)
        elif name == "version":
            version = VERSION_VALUE.match(value.text)
            if version:
                r.version = r.version or Fact(version.group("version"), _part(value, version.start("version"),
                                                                               version.end("version")))
            else:
                r.issue("unreadable-version", "version", f"The version line reads {value.text!r}.",
                        value if value.text else whole)
        elif name in ("duration", "epa"):
            months = MONTHS.match(value.text)
            if months:
                r.periods.setdefault(name, (int(months.group(1)), value))
            else:
                r.issue("unreadable-duration", slugify(key), f"{key} reads {value.text!r}.",
                        value if value.text else whole)
        elif name == "modified":
            date = UK_DATE.match(value.text)
            if date:
                day, month, year = date.groups()
                r.modified = r.modified or Fact(f"{year}-{month}-{day}", value)
        elif name == "job_titles":
            r.job_titles.extend(Fact.of(s) for s in split_names(value, ",;|"))
        elif name == "employers":
            r.employers.extend(Fact.of(s) for s in split_names(value, ",;"))
        elif value.text and getattr(r, name) is None:  # title, route, overview: the first printed stands
            setattr(r, name, Fact.of(value))

    # -------------------------------------------------------------- title

    def read_title(self) -> None:
        """The title: from key information, else the page's first top heading, else the line above its reference."""
        r = self.record
        for i, block in enumerate(self.blocks[:20]):
            match = TITLE_LEVEL.match(block.text) if r.title is None and i not in r.claimed else None
            if match and block.kind in ("line", "heading"):
                body = block.body
                r.title = Fact(collapse(match.group("title")), _part(body, 0, match.end("title")))
                r.level = r.level or Fact(match.group("level"), _part(body, match.start("level"), match.end("level")))
                r.claimed.add(i)
        if r.title is None:
            for i, block in enumerate(self.blocks):
                if block.kind == "heading" and block.depth == 1 and i not in r.claimed:
                    r.title = Fact.of(block.body)
                    r.claimed.add(i)
                    break
        if r.title is None and self.header:
            first = next(i for i, b in enumerate(self.blocks) if b.line == self.header[0])
            above = self.blocks[first - 1] if first > 0 else None
            if (above is not None and first - 1 not in r.claimed and above.kind in ("line", "heading")
                    and len(above.text) <= 120 and not above.text.endswith((".", ":")) and ":" not in above.text):
                r.title = Fact.of(above.body)
                r.claimed.add(first - 1)
        if r.title is None and self.header and "occupation-card" not in r.layouts:
            r.issue("missing-title", "title", "The page prints no title for the standard.", self.header[0])

    # -------------------------------------------------------------- prose

    def read_prose(self, first_content: int) -> None:
        """Summary, entry requirements, English and maths, professional recognition; ``first_content`` is
        the first block read as a duty or statement: what a page without headings says before it is its summary."""
        self._sections()
        self._recognition()
        for i, block in enumerate(self.blocks):
            if i in self.record.claimed or block.kind not in ("line", "item"):
                continue
            lowered = block.text.lower()
            if i < first_content and "entry requirements" in lowered and self.record.entry_requirements is None:
                self.record.entry_requirements = Fact.of(block.line)
                self.record.claimed.add(i)
            elif first_content < i and "english and maths" in lowered and self.record.english_and_maths is None:
                self.record.english_and_maths = Fact.of(block.line)
                self.record.claimed.add(i)
        headed = any(b.kind == "heading" for b in self.blocks)
        if self.record.summary is None and not headed and self.record.duties and first_content < len(self.blocks):
            summary = [i for i in range(first_content) if i not in self.record.claimed
                       and self.blocks[i].kind == "line"]
            if summary:
                self.record.summary = self._joined([self.blocks[i] for i in summary])
                self.record.claimed.update(summary)

    def _joined(self, blocks: list[Block]) -> Fact:
        """Paragraphs as one value, one paragraph a line, with the span from the first to the last."""
        text = self.record.page.text
        start, end = blocks[0].line.start, blocks[-1].line.end
        return Fact("\n".join(collapse(b.text) for b in blocks), Span(start, end, text[start:end]))

    def _sections(self) -> None:
        r = self.record
        for i, block in enumerate(self.blocks):
            if block.kind != "heading" and not (block.kind == "line" and len(block.text) < 60):
                continue
            name = next((n for n, pattern in SECTIONS.items() if pattern.match(block.text.rstrip(":"))), None)
            if name is None:
                continue
            body: list[int] = []
            j = i + 1
            while (j < len(self.blocks) and self.blocks[j].kind in ("line", "item") and j not in r.claimed
                   and not (body and (name == "overview" or (self.blocks[j].kind == "line" and j + 1 < len(self.blocks)
                                                             and _heading_like(self.blocks[j].text))))):
                body.append(j)
                j += 1
            if not body:
                continue
            r.claimed.add(i)
            r.claimed.update(body)
            blocks = [self.blocks[j] for j in body]
            if name in ("job_titles", "employers"):
                separators = ",;|" if name == "job_titles" else ",;"
                names = [n for b in blocks for n in (split_names(b.body, separators) if len(blocks) == 1
                                                     else [b.body])]
                getattr(r, name).extend(Fact.of(n) for n in names)
            elif getattr(r, name) is None:
                setattr(r, name, self._joined(blocks) if name != "overview" else Fact.of(blocks[0].body))

    def _recognition(self) -> None:
        """The professional-recognition line and the bodies it names (on it, or on the lines after it)."""
        r = self.record
        for i, block in enumerate(self.blocks):
            match = RECOGNITION.match(block.text) if i not in r.claimed else None
            if match is None:
                continue
            r.claimed.add(i)
            r.recognition = block.line
            if match.group("bodies"):
                r.recognition_bodies.append(Fact.of(_part(block.body, match.start("bodies"), match.end("bodies"))))
            j = i + 1
            while (j < len(self.blocks) and j not in r.claimed and self.blocks[j].kind in ("line", "item")
                   and not FOOTER.match(self.blocks[j].text)):
                r.recognition_bodies.append(Fact.of(self.blocks[j].line))
                r.claimed.add(j)
                j += 1
            if not r.recognition_bodies:
                r.issue("empty-professional-recognition", "professional-recognition",
                        "The professional-recognition section names no body in the captured page.", block.line)
            return
