"""Page files named on the command line: their source entries, and the graphs extracted from them.

A file named on the command line has no manifest entry: its source id is its checksum's prefix, as a
feed document's is, so the same file always gives the same IRIs. JSON files are feed documents (read
by ingest.feed); anything else is a standard or occupation page, text or HTML.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from rdflib import Dataset, Graph

from ingest.feed import FeedError, parse_feed
from ingest.manifest import Source
from ingest.page_extract import EXPECTED, extract
from ingest.page_graph import media_of, page_graph
from kimdata.namespaces import PREFIXES, Iris


@dataclass(frozen=True)
class PageFileError(Exception):
    """A file that cannot be read, or holds no standard or occupation; ``message`` says what was expected."""

    path: Path
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def is_feed_file(path: Path) -> bool:
    """Whether a file is a feed document: named .json, or starting (after white space) with ``{`` or ``[``."""
    if path.suffix.lower() == ".json":
        return True
    with open(path, "rb") as handle:
        head = handle.read(256).lstrip()
    return head[:1] in (b"{", b"[")


def feeds_and_pages(files: list[Path]) -> tuple[list[Path], list[Source]]:
    """Files named on the command line, apart: feed documents (to stream), and pages as sources (to extract)."""
    feeds, pages = [], []
    for path in map(Path, files):
        if not path.is_file():
            raise PageFileError(path, "no such file")
        if is_feed_file(path):
            feeds.append(path)
        else:
            pages.append(page_source(path, read_page_file(path)[0]))
    return feeds, pages


def page_source(path: Path, data: bytes) -> Source:
    """The source entry of a page file given on the command line."""
    sha256 = hashlib.sha256(data).hexdigest()
    return Source(id=sha256[:16], kind="standard-page", path=Path(path).resolve(), sha256=sha256,
                  title=f"Standard or occupation page: {Path(path).name}")


def read_page_file(path: Path) -> tuple[bytes, str]:
    """A page file's bytes and its text; PageFileError when it is missing or not UTF-8."""
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise PageFileError(Path(path), f"cannot be read ({e.strerror or e})") from None
    try:
        return data, data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise PageFileError(Path(path), f"not UTF-8 text (byte {e.start}); expected {EXPECTED}") from None


def extract_file(path: Path, iris: Iris) -> tuple[Source, Graph]:
    """The source entry and extracted graph of one file (a page, or a feed document)."""
    path = Path(path)
    if path.is_file() and is_feed_file(path):
        data = path.read_bytes()
        source = Source(id=hashlib.sha256(data).hexdigest()[:16], kind="feed-json", path=path.resolve(),
                        title=f"Apprenticeship standards feed (JSON): {path.name}")
        try:
            return source, parse_feed(source, iris)
        except FeedError as e:
            raise PageFileError(path, f"{e}; expected an IfATE / Skills England standards feed document") from None
    data, text = read_page_file(path)
    source = page_source(path, data)
    record = extract(text, media_of(path, text))
    if not record.recognised():
        raise PageFileError(path, f"no standard or occupation found: expected {EXPECTED}")
    return source, page_graph(record, source, iris)


def extract_dataset(paths: list[Path], iris: Iris) -> Dataset:
    """One named graph per file, as the build would load it; PageFileError at the first unreadable file."""
    dataset = Dataset()
    for prefix, namespace in PREFIXES.items():
        dataset.bind(prefix, namespace)
    for path in paths:
        source, graph = extract_file(path, iris)
        named = dataset.graph(iris.source_graph(source.id))
        for triple in graph:
            named.add(triple)
    return dataset


RDFLIB_FORMATS = {"turtle": "turtle", "trig": "trig", "nquads": "nquads", "jsonld": "json-ld"}


def serialize_dataset(dataset: Dataset, fmt: str) -> bytes:
    """The dataset in ``fmt``; Turtle has no graph names, so it carries the union of the graphs."""
    if fmt != "turtle":
        return dataset.serialize(format=RDFLIB_FORMATS[fmt], encoding="utf-8")
    union = Graph()
    for prefix, namespace in dataset.namespaces():
        union.bind(prefix, namespace)
    for s, p, o, _ in dataset.quads((None, None, None, None)):
        union.add((s, p, o))
    return union.serialize(format="turtle", encoding="utf-8")
