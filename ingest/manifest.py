"""The source manifest: which documents the graph is built from, and what is known about each."""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path

from kimdata.paths import DEFAULT_MANIFEST

KINDS = ("standard-page", "occupation-page", "curated-turtle", "feed-json")


class ManifestError(ValueError):
    """The manifest is unreadable or names something that is not there."""


@dataclass(frozen=True)
class Source:
    """One entry of the manifest; paths are resolved against the manifest's folder."""

    id: str
    kind: str
    path: Path
    title: str | None = None
    publisher: str | None = None
    url: str | None = None
    licence: str | None = None
    rights: str | None = None
    attribution: str | None = None
    issued: str | None = None
    sha256: str | None = None
    text: Path | None = None
    occupation: str | None = None
    retrieved: str | None = None  # the date the page was captured
    note: str | None = None  # what the capture holds and where it stops, for the reader of the manifest

    def read(self) -> str:
        """The file the parser reads, decoded as UTF-8."""
        return read_text(self.path)

    def read_document(self) -> str | None:
        """The vendored document text that quotes are checked against, if any."""
        if self.text is not None:
            return read_text(self.text)
        if self.kind not in ("curated-turtle", "feed-json"):  # JSON is cited by pointer, not by quote
            return self.read()
        return None


def read_text(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8")
    except FileNotFoundError as e:
        raise ManifestError(f"{path}: no such file") from e
    except UnicodeDecodeError as e:
        raise ManifestError(f"{path}: not UTF-8 text (byte {e.start})") from e


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_manifest(path: Path = DEFAULT_MANIFEST) -> list[Source]:
    """Read the manifest and return its sources, in order."""
    try:
        data = tomllib.loads(read_text(path))
    except tomllib.TOMLDecodeError as e:
        raise ManifestError(f"{path}: {e}") from e
    known = {f.name for f in fields(Source)}
    sources = []
    for n, entry in enumerate(data.get("source", []), start=1):
        unknown = set(entry) - known
        if unknown:
            raise ManifestError(f"{path}: source {n} has unknown keys {sorted(unknown)}")
        if entry.get("kind") not in KINDS:
            raise ManifestError(f"{path}: source {n} has kind {entry.get('kind')!r}, expected one of {KINDS}")
        for key in ("id", "path"):
            if not entry.get(key):
                raise ManifestError(f"{path}: source {n} has no {key}")
        entry = dict(entry)
        entry["path"] = (path.parent / entry["path"]).resolve()
        if entry.get("text"):
            entry["text"] = (path.parent / entry["text"]).resolve()
        sources.append(Source(**entry))
    ids = [s.id for s in sources]
    if len(ids) != len(set(ids)):
        raise ManifestError(f"{path}: duplicate source ids")
    return sources
