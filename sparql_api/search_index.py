'''Ranked full-text search: an SQLite FTS5 index of labels, codes and statements, one per data version.

No extra server: the index is built from the store with Python's own ``sqlite3`` (FTS5, BM25 ranking),
the first time a search needs it after the data changed (``SearchIndexes.current``) or ahead of time
(``SearchIndexes.warm``). About 50,000 documents (a store of about a million triples) take
several seconds to index, so a large index made stale by a write keeps answering while its successor is
built, and builds made ahead of time run in a child process that writes the index to a file, so they take
no time from requests and its pages stay on disk until searches read them. Users' words are always quoted
as FTS5 phrases, so quotes and operators in a query are just text:

>>> fts_query('"a" OR NEAR(')
'"""a""" "OR" "NEAR("'
>>> fts_query("((( ))") is None
True

A code typed exactly (``K19``) ranks first, then an exact label or alternative label (``CILIP``),
then BM25 over three fields weighted code 10, label 5, statement 1.

>>> index = SearchIndex.from_documents(("v", 1), [
...     Document("https://x.org/K19", "https://w3id.org/uk-kim/def#Knowledge", ["K19"], ["Law"],
...              ["Data protection law such as the GDPR."]),
...     Document("https://x.org/K2", "https://w3id.org/uk-kim/def#Knowledge", ["K2"], [], ["Sources of data."])])
>>> found = index.search("gdpr")
>>> found.total, found.hits[0].code, found.hits[0].marked("**", "**")
(1, 'K19', 'Data protection law such as the **GDPR**.')
>>> index.search("K2").hits[0].code
'K2'
'''

from __future__ import annotations

import logging
import os
import re
import sqlite3
import tempfile
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

from kimdata.namespaces import PREFIXES
from sparql_api.lifetime import die_with_parent
from store.embedded import Store

log = logging.getLogger("kimgraph.search")
START, END = "\x02", "\x03"  # match markers inside FTS5 snippets; stripped from indexed text
MAX_WORDS = 32
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
SKOS, DCTERMS, RDFS = PREFIXES["skos"], PREFIXES["dcterms"], PREFIXES["rdfs"]
CEASN = PREFIXES["ceasn"]

# predicate -> the field it fills; labels in the order a display label is chosen from
CODE_PREDICATES = (SKOS + "notation", DCTERMS + "identifier")
LABEL_PREDICATES = (SKOS + "prefLabel", DCTERMS + "title", RDFS + "label", SKOS + "altLabel")
TEXT_PREDICATES = (CEASN + "competencyText", DCTERMS + "description")
FIELDS = {**{p: "code" for p in CODE_PREDICATES}, **{p: "label" for p in LABEL_PREDICATES},
          **{p: "text" for p in TEXT_PREDICATES}}

# Which class names a resource when it has several: ours and the models' main classes first.
TYPE_PREFERENCE = [PREFIXES["kim"] + name for name in (
    "OccupationalStandard", "Occupation", "Duty", "Knowledge", "Skill", "Behaviour", "ExtractionIssue",
    "SourceDocument")] + [PREFIXES["org"] + name for name in (
        "FormalOrganization", "OrganizationalUnit", "OrganizationalCollaboration", "Organization")] + [
    SKOS + "Concept", SKOS + "ConceptScheme"]

# What ``/search?type=`` filters on: the kinds of resource, by class or by the relation that makes a concept a
# discipline or a role of the profession. A resource may be of several kinds.
KIND_CLASSES = {
    PREFIXES["kim"] + "Duty": "duty", PREFIXES["kim"] + "Knowledge": "knowledge", PREFIXES["kim"] + "Skill": "skill",
    PREFIXES["kim"] + "Behaviour": "behaviour", PREFIXES["kim"] + "OccupationalStandard": "standard",
    **{PREFIXES["org"] + name: "organisation" for name in (
        "Organization", "FormalOrganization", "OrganizationalUnit", "OrganizationalCollaboration")},
}
KIND_RELATIONS = {PREFIXES["kim"] + "hasDiscipline": "discipline", PREFIXES["kim"] + "coreRole": "role",
                  PREFIXES["kim"] + "alliedRole": "role"}
KINDS = ("duty", "knowledge", "skill", "behaviour", "standard", "organisation", "discipline", "role")
RELATED = "SELECT ?item ?relation WHERE { VALUES ?relation { %s } ?profession ?relation ?item . FILTER(isIRI(?item)) }" \
    % " ".join(f"<{p}>" for p in KIND_RELATIONS)

# No DISTINCT: the union graph repeats a triple stated by two sources, and dropping the repeats here is
# cheaper than asking the store to (about half the time at a million triples).
EXTRACT = """
SELECT ?s ?p ?o WHERE {
  VALUES ?p { %s }
  ?s ?p ?o .
  FILTER(isIRI(?s) && isLiteral(?o))
}""" % " ".join(f"<{p}>" for p in FIELDS)
# Every typed IRI, kept only for indexed subjects: four times faster than joining the types to EXTRACT.
TYPES = "SELECT ?s ?type WHERE { ?s a ?type . FILTER(isIRI(?s) && isIRI(?type)) }"

SCHEMA = (
    """CREATE VIRTUAL TABLE docs USING fts5(
      code, label, body, iri UNINDEXED, type UNINDEXED, display UNINDEXED,
      tokenize = "porter unicode61 remove_diacritics 2")""",
    # FTS5 sorts by its rank column fastest; bm25 weights code 10, label 5, statement 1
    "INSERT INTO docs(docs, rank) VALUES ('rank', 'bm25(10.0, 5.0, 1.0)')",
    # every code (kind 0) and label (kind 1) of a document, case-folded, to find exact matches by key
    "CREATE TABLE exact (key TEXT NOT NULL, kind INTEGER NOT NULL, doc INTEGER NOT NULL)",
    # the kinds of each document (KINDS), for the type filter
    "CREATE TABLE kinds (what TEXT NOT NULL, doc INTEGER NOT NULL)",
)
EXACT_INDEX = "CREATE INDEX exact_key ON exact (key, kind, doc)"
KINDS_INDEX = "CREATE INDEX kinds_what ON kinds (what, doc)"
COLUMNS = ("rowid, iri, type, code, display, highlight(docs, 1, :start, :end), "
           "snippet(docs, 2, :start, :end, '…', 24), rank")
OF_KIND = " AND {column} IN (SELECT doc FROM kinds WHERE what = :kind)"
COUNT = "SELECT count(*) FROM docs WHERE docs MATCH :expression{only}"
EXACT = "SELECT doc FROM exact WHERE key = :key{only} GROUP BY doc ORDER BY MIN(kind), doc LIMIT :most"
# the page of ranked matches, without the exact ones (they come first, from EXACT)
RANKED = f"""SELECT {COLUMNS} FROM docs
WHERE docs MATCH :expression AND rowid NOT IN (SELECT doc FROM exact WHERE key = :key){{only}}
ORDER BY rank LIMIT :limit OFFSET :offset"""
MAX_EXACT = 10_000  # exact matches ranked first; more than this (a code in 10,000 standards) rank as the rest


def fts_query(text: str) -> str | None:
    """The user's words as FTS5 phrases, all required; None when no word has a letter or digit."""
    # control characters would end or corrupt the expression (NUL ends it), so they separate words
    words = [w for w in CONTROL.sub(" ", text).split() if re.search(r"\w", w)][:MAX_WORDS]
    if not words:
        return None
    return " ".join('"' + w.replace('"', '""') + '"' for w in words)


def exact_key(text: str) -> str:
    """How a code, label or query is compared for an exact match: case-folded, spaces collapsed.

    >>> exact_key("  Records   MANAGEMENT ")
    'records management'
    """
    return " ".join(text.casefold().split())


def _clean(text: str) -> str:
    return text.replace(START, "").replace(END, "")


def compact(iri: str) -> str:
    """An IRI as a prefixed name when one of our prefixes fits.

    >>> compact("https://w3id.org/uk-kim/def#Knowledge")
    'kim:Knowledge'
    """
    for prefix, namespace in PREFIXES.items():
        if iri.startswith(namespace) and len(iri) > len(namespace):
            return f"{prefix}:{iri[len(namespace):]}"
    return iri


@dataclass
class Document:
    """What the index holds about one resource."""

    iri: str
    type: str | None = None
    codes: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    kinds: tuple[str, ...] = ()
    """Which of KINDS the resource is."""


@dataclass(frozen=True)
class Hit:
    """One search result: the resource, what it is, and the text that matched with markers around matches."""

    iri: str
    type: str | None
    code: str | None
    label: str | None
    snippet: str  # with START/END around each match
    field: str  # where the snippet is from: "statement", "label" or "code"
    exact: bool
    score: float

    def text(self) -> str:
        """The snippet as plain text."""
        return _clean(self.snippet)

    def matches(self) -> list[tuple[int, int]]:
        """Where the matches are in ``text()``: (start, end) character offsets, end excluded.

        >>> Hit("x", None, None, None, "a \x02GDPR\x03 b \x02law\x03", "statement", False, 1.0).matches()
        [(2, 6), (9, 12)]
        """
        spans, position, start = [], 0, 0
        for part in re.split(f"([{START}{END}])", self.snippet):
            if part == START:
                start = position
            elif part == END:
                spans.append((start, position))
            else:
                position += len(part)
        return spans

    def segments(self) -> list[tuple[str, bool]]:
        """The snippet as (text, is_match) pieces, for HTML to escape and mark."""
        pieces, matched = [], False
        for part in re.split(f"([{START}{END}])", self.snippet):
            if part == START:
                matched = True
            elif part == END:
                matched = False
            elif part:
                pieces.append((part, matched))
        return pieces

    def marked(self, start: str, end: str) -> str:
        """The snippet with ``start`` and ``end`` around each match."""
        return self.snippet.replace(START, start).replace(END, end)


@dataclass(frozen=True)
class Results:
    total: int
    hits: list[Hit]


class SearchIndex:
    """An FTS5 index of one data version; ``search`` may be called from any thread."""

    def __init__(self, key, connection: sqlite3.Connection, size: int):
        self.key, self.size = key, size
        self._connection = connection
        self._lock = threading.Lock()

    @classmethod
    def from_documents(cls, key, documents: Iterable[Document]) -> SearchIndex:
        connection = sqlite3.connect(":memory:", check_same_thread=False)
        for statement in SCHEMA:
            connection.execute(statement)
        size, rows, exact = 0, [], []
        kinds: list[tuple[str, int]] = []
        for doc in documents:
            size += 1
            row, keys = _row(size, doc)
            rows.append(row)
            exact.extend(keys)
            kinds.extend((what, size) for what in doc.kinds)
            if len(rows) >= 5000:
                _insert(connection, rows, exact, kinds)
        _insert(connection, rows, exact, kinds)
        connection.execute(EXACT_INDEX)
        connection.execute(KINDS_INDEX)
        connection.execute("INSERT INTO docs(docs) VALUES ('optimize')")
        connection.commit()
        return cls(key, connection, size)

    @classmethod
    def from_store(cls, key, store) -> SearchIndex:
        return cls.from_documents(key, documents(store))

    @classmethod
    def in_another_process(cls, key, store) -> SearchIndex:
        """The index of an on-disk store, built by a child process that opens it read-only, and kept on disk.

        Reading a million triples into Python holds the interpreter lock for seconds; in a child process
        that time is not taken from the requests this one serves. The child writes the index to a file
        beside the store; this process opens it and removes its name at once, so its pages are read from
        disk as searches need them instead of being held in this process's memory (about 45 MB for a
        million triples), and no file outlives the server. Other stores are indexed here, in memory.
        """
        path = getattr(store, "path", None)
        if path is None:
            return cls.from_store(key, store)
        # The child dies with this process (this thread waits for it), so a killed server leaves none behind.
        with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn"), initializer=die_with_parent) as pool:
            # the build's own directory: the store's path may be a link that a new build moves on
            file, size = pool.submit(index_file, str(Path(path).resolve())).result()
        try:
            connection = sqlite3.connect(f"file:{file}?mode=ro&immutable=1", uri=True, check_same_thread=False)
            connection.execute("SELECT count(*) FROM sqlite_master").fetchone()  # open before the name goes
        finally:
            Path(file).unlink(missing_ok=True)
        return cls(key, connection, size)

    def search(self, text: str, limit: int = 20, offset: int = 0, kind: str | None = None) -> Results:
        """The resources matching every word of ``text``: exact codes, then exact labels, then by BM25; only
        those of ``kind`` (one of KINDS) when it is given."""
        expression = fts_query(text)
        if expression is None:
            return Results(0, [])
        key = exact_key(text)
        with self._lock:
            try:
                return self._search(expression, key, limit, offset, kind)
            except sqlite3.OperationalError as e:  # fts_query should make this impossible; never a 500
                log.warning("search expression %r was refused: %s", expression, e)
                return Results(0, [])

    def _search(self, expression: str, key: str, limit: int, offset: int, kind: str | None) -> Results:
        run = self._connection.execute
        params = {"expression": expression, "key": key, "kind": kind, "start": START, "end": END,
                  "most": MAX_EXACT}

        def only(column: str) -> str:
            return OF_KIND.format(column=column) if kind is not None else ""

        total = run(COUNT.format(only=only("rowid")), params).fetchone()[0]
        if total <= offset:
            return Results(total, [])
        exact = [doc for (doc,) in run(EXACT.format(only=only("doc")), params)]
        first = exact[offset:offset + limit]
        rows = []
        if first:  # each exact match with its snippet, in the exact order
            marks = ", ".join(str(int(doc)) for doc in first)
            found = {row[0]: row for row in run(f"SELECT {COLUMNS} FROM docs WHERE docs MATCH :expression AND "
                                                 f"rowid IN ({marks})", params)}
            rows = [found[doc] for doc in first if doc in found]
        if len(first) < limit:
            page = {**params, "limit": limit - len(first), "offset": max(0, offset - len(exact))}
            rows += run(RANKED.format(only=only("rowid")), page).fetchall()
        return Results(total, [_hit(row, row[0] in first) for row in rows])

    def close(self) -> None:
        self._connection.close()


def _insert(connection: sqlite3.Connection, rows: list[tuple], exact: list[tuple], kinds: list[tuple]) -> None:
    connection.executemany("INSERT INTO docs(rowid, code, label, body, iri, type, display) "
                           "VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    connection.executemany("INSERT INTO exact (key, kind, doc) VALUES (?, ?, ?)", exact)
    connection.executemany("INSERT INTO kinds (what, doc) VALUES (?, ?)", kinds)
    rows.clear()
    exact.clear()
    kinds.clear()


def _row(rowid: int, doc: Document) -> tuple[tuple, list[tuple]]:
    """The FTS row of a document, and its exact-match keys."""
    labels = list(dict.fromkeys(_clean(v) for v in doc.labels))
    texts = list(dict.fromkeys(_clean(v) for v in doc.texts))
    codes = list(dict.fromkeys(_clean(v) for v in doc.codes))
    keys = {(exact_key(v), 1, rowid) for v in labels} | {(exact_key(v), 0, rowid) for v in codes}
    row = (rowid, " ".join(codes), " \u00b7 ".join(labels), "\n".join(texts), doc.iri, doc.type,
           labels[0] if labels else None)
    return row, sorted(keys)


def _hit(row, exact: bool) -> Hit:
    _, iri, type_, code, display, label_marked, body_snippet, rank = row
    if START in (body_snippet or ""):
        snippet, where = body_snippet, "statement"
    elif START in (label_marked or ""):
        snippet, where = label_marked, "label"
    else:  # matched on the code alone: show the start of the statement (or the label)
        snippet = body_snippet or display or ""
        where = "code"
    return Hit(iri, type_, code.split()[0] if code else None, display, snippet, where, exact, round(-rank, 4))


def index_file(path: str) -> tuple[str, int]:
    """Index the store at ``path`` into a new file beside it (else in the temporary directory): the file's
    name and its number of documents (run in a child)."""
    index = SearchIndex.from_store(None, Store.open(Path(path), read_only=True))
    version = Path(path)
    try:
        handle, file = tempfile.mkstemp(prefix=version.name + ".search-", suffix=".sqlite", dir=version.parent)
    except OSError:
        handle, file = tempfile.mkstemp(prefix="kimgraph-search-", suffix=".sqlite")
    os.close(handle)
    try:
        index._connection.execute("VACUUM INTO ?", (file,))
    except BaseException:
        Path(file).unlink(missing_ok=True)
        raise
    return file, index.size


def documents(store) -> Iterator[Document]:
    """Every IRI with a label, code or statement, from the union of the store's graphs."""
    found: dict[str, tuple[list[str], list[tuple[int, str]], list[str]]] = {}
    label_rank = {p: n for n, p in enumerate(LABEL_PREDICATES)}
    for row in store.query(EXTRACT):
        subject, predicate, value = row[0].value, row[1].value, row[2].value
        fields = found.get(subject)
        if fields is None:
            fields = found[subject] = ([], [], [])
        kind = FIELDS[predicate]
        if kind == "code":
            fields[0].append(value)
        elif kind == "label":
            fields[1].append((label_rank[predicate], value))
        else:
            fields[2].append(value)
    types: dict[str, list[str]] = {}
    for row in store.query(TYPES):
        subject = row[0].value
        if subject in found:
            types.setdefault(subject, []).append(row[1].value)
    related: dict[str, set[str]] = {}
    for row in store.query(RELATED):
        if row[0].value in found:
            related.setdefault(row[0].value, set()).add(KIND_RELATIONS[row[1].value])
    preference = {iri: n for n, iri in enumerate(TYPE_PREFERENCE)}
    for subject, (codes, labels, texts) in found.items():
        candidates = types.get(subject)
        chosen = min(candidates, key=lambda t: (preference.get(t, len(preference)), t)) if candidates else None
        kinds = {KIND_CLASSES[t] for t in candidates or () if t in KIND_CLASSES} | related.get(subject, set())
        # labels in preference order: prefLabel, title, rdfs:label, altLabel
        yield Document(subject, compact(chosen) if chosen else None, codes,
                       [value for _, value in sorted(labels)], texts, tuple(sorted(kinds)))


# ------------------------------------------------------------------ one index per data version

SYNC_REBUILD_DOCS = 20_000  # indexes up to this size rebuild in the request (~0.1 s per 1,000 documents)


class SearchIndexes:
    """The index of the data now served: one at a time, built again when the data version moves on.

    A large index (over SYNC_REBUILD_DOCS documents) that a write made stale keeps answering while its
    successor is built in the background; its ``key`` says which version it reflects.
    """

    def __init__(self, store, version) -> None:
        self.store, self.version = store, version
        self.index: SearchIndex | None = None
        self.lock = threading.Lock()  # one build at a time
        self.building = None  # the version key a background build is making

    def version_key(self) -> tuple[int, int]:
        """The data an index is built from: the store object and its write counter."""
        return (id(self.store), self.version.value)

    def current(self) -> SearchIndex:
        """The index to search now: the current data version's, built in the caller's thread when needed."""
        key = self.version_key()
        index = self.index
        if index is not None and index.key == key:
            return index
        if index is not None and index.size > SYNC_REBUILD_DOCS:
            self._build_in_background(key)
            return index
        return self._build(key)

    def warm(self) -> threading.Thread:
        """Build the current index in a background thread, so that the first search does not wait for it.

        Call it when the app starts (and, optionally, after a write); searches meanwhile wait for it.
        """
        def build() -> None:
            try:
                self._build(self.version_key(), apart=True)
            except Exception:
                log.exception("building the search index failed")

        thread = threading.Thread(target=build, name="kimgraph-search-index", daemon=True)
        thread.start()
        return thread

    def _build(self, key, apart: bool = False) -> SearchIndex:
        """The index of ``key``, built unless current; ``apart``: in a child process (for background builds)."""
        with self.lock:
            index = self.index
            if index is None or index.key != key:
                make = SearchIndex.in_another_process if apart else SearchIndex.from_store
                index = self.index = make(key, self.store)
            return index

    def _build_in_background(self, key) -> None:
        with self.lock:
            if self.building == key:
                return
            self.building = key

        def build() -> None:
            try:
                self._build(key, apart=True)
            except Exception:
                log.exception("building the search index failed")
            finally:
                self.building = None

        threading.Thread(target=build, name="kimgraph-search-index", daemon=True).start()
