"""The streaming build behind ``kimgraph build FILE...``: feed documents into a new store in bounded memory.

Each feed document is read twice: a light first pass finds the latest version of each standard and
the document's checksum; the second writes each standard's triples as N-Triples (ingest.ntriples)
and hands them to the store in batches. Oxigraph's bulk load releases the GIL, so a loader thread
loads one batch while the main thread writes the next (and another thread writes the vocabulary
graphs); a bounded queue keeps memory flat whatever the input size. Validation runs afterwards
inside the store (conformance.fast), never over an rdflib graph.
"""

from __future__ import annotations

import queue
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from tqdm import tqdm

from conformance.fast import check_store
from conformance.reference import load_shapes
from ingest.build import ALIGNMENT, ALIGNMENTS_DIR, CONCEPTS, ONTOLOGY, SourceError, source_graphs, vocabulary_graphs
from ingest.feed import FeedWriter, latest_versions
from ingest.feed_reader import FeedError, read_feed, scan_versions
from ingest.manifest import Source
from ingest.ntriples import NTriplesSink
from kimdata.namespaces import DEFAULT_BASE, Iris
from kimdata.paths import SHAPES_DIR
from store.embedded import Store
from store.errors import StoreError
from store.versions import build_atomically

if TYPE_CHECKING:
    from conformance.reference import Report

# Each on-disk bulk load writes and ingests its own SST files (~15 ms even for one triple) and later
# compactions merge them: at 1M triples 100k-line batches cost ~1-2 s less CPU than 50k ones, and hold
# the build to ~300 MB (200k: ~420 MB, for ~0.5 s less). One batch waits while one loads.
BATCH_TRIPLES = 100_000
QUEUE_DEPTH = 1
LONG_INPUT = 4 << 20  # bytes: below this a build takes about a second and needs no progress bar


@dataclass
class StreamBuild:
    """What a streaming build did: the store version, triples written per source graph, timings, findings."""

    target: Path | None = None
    written: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    report: Report | None = None
    note: str | None = None

    @property
    def triples(self) -> int:
        return sum(self.written.values())


class Progress:
    """Standards done out of the document's total, as a tqdm bar."""

    def __init__(self, out):
        self.out = out
        self._bar = None

    def start(self, name: str, total: int) -> None:
        self._bar = tqdm(total=total, desc=name, unit=" standards", file=self.out, mininterval=0.5)

    def advance(self) -> None:
        self._bar.update(1)

    def finish(self) -> None:
        self._bar.close()
        self._bar = None


def feed_source(path: Path, sha256: str) -> Source:
    """The source entry for a feed document named on the command line: its id is its checksum's prefix."""
    return Source(id=sha256[:16], kind="feed-json", path=Path(path).resolve(), sha256=sha256,
                  title=f"Apprenticeship standards feed (JSON): {Path(path).name}")


def feed_batches(path: Path, iris: Iris, source: Source | None = None, batch_triples: int = BATCH_TRIPLES,
                 progress: Progress | None = None) -> tuple[Source, Iterator[bytes]]:
    """The document's source entry, and its triples as N-Triples batches of about ``batch_triples`` lines."""
    try:
        entries, sha256 = scan_versions(path)
    except FeedError as e:
        raise SourceError(f"{path}: {e}") from None
    if source is None:
        source = feed_source(path, sha256)
    elif source.sha256 and source.sha256 != sha256:
        raise SourceError(f"{path}: checksum differs from the manifest's sha256")

    def batches() -> Iterator[bytes]:
        sink = NTriplesSink()
        writer = FeedWriter(sink, source, iris, latest_versions(entries))
        writer.describe_source(sha256)
        if progress is not None:
            progress.start(Path(path).name, len(entries))
        try:
            for index, pointer, data in read_feed(path):
                writer.write(index, pointer, data)
                if progress is not None:
                    progress.advance()
                if len(sink) >= batch_triples:
                    yield sink.take()
        except FeedError as e:
            raise SourceError(f"{path}: {e}") from None
        finally:
            if progress is not None:
                progress.finish()
        yield sink.take()

    return source, batches()


class _Loader:
    """Bulk-loads batches into one named graph on a thread of its own, at most QUEUE_DEPTH batches behind."""

    def __init__(self, store: Store, graph_iri: str):
        self.store, self.graph_iri = store, graph_iri
        self.error: BaseException | None = None
        self._queue: queue.Queue = queue.Queue(maxsize=QUEUE_DEPTH)
        self._thread = threading.Thread(target=self._run, name="kimgraph-loader", daemon=True)

    def __enter__(self) -> _Loader:
        self._thread.start()
        return self

    def _run(self) -> None:
        while (batch := self._queue.get()) is not None:
            if self.error is None:  # after a failure keep draining, so the writer never blocks
                try:
                    self.store.load(batch, "ntriples", self.graph_iri)
                except BaseException as e:  # re-raised in the writing thread
                    self.error = e

    def put(self, batch: bytes) -> None:
        if self.error is not None:
            raise StoreError(f"loading into {self.graph_iri} failed: {self.error}") from self.error
        if batch:
            self._queue.put(batch)

    def __exit__(self, *exc) -> None:
        self._queue.put(None)
        self._thread.join()
        if self.error is not None and exc[0] is None:
            raise StoreError(f"loading into {self.graph_iri} failed: {self.error}") from self.error


def stream_feed(store: Store, path: Path, iris: Iris, source: Source | None = None,
                batch_triples: int = BATCH_TRIPLES, progress: Progress | None = None) -> tuple[str, int]:
    """Write one feed document into its own named graph; returns the graph IRI and the triples written."""
    source, batches = feed_batches(path, iris, source, batch_triples, progress)
    graph_iri = str(iris.source_graph(source.id))
    if graph_iri in store.named_graphs():
        raise SourceError(f"{path}: the same document (source {source.id}) is given twice")
    written = 0
    with _Loader(store, graph_iri) as loader:
        for batch in batches:
            written += batch.count(b"\n")
            loader.put(batch)
    return graph_iri, written


def load_vocabulary(store: Store, iris: Iris) -> list[str]:
    """The ontology, alignment, shapes, concept and mapping-set graphs, written in one transaction; returns their
    IRIs."""
    # Staged in memory and inserted at once: each on-disk bulk load costs ~15 ms even for one triple.
    staging = Store.in_memory()
    if iris.base != DEFAULT_BASE:  # instance IRIs need rebasing: the rdflib route does it
        for named in vocabulary_graphs(iris):
            staging.add_graph(str(named.iri), named.graph)
    else:

        files = {"ontology": [ONTOLOGY], "alignment": [ALIGNMENT], "shapes": sorted(SHAPES_DIR.glob("*.ttl"))}
        for name, paths in files.items():
            for path in paths:
                staging.load(path.read_bytes(), "turtle", str(iris.graph(name)))
        # The concept file's IRIs are relative to the instance base (ingest.curated parses it the same way).
        staging.load(b"@base <%s> .\n" % iris.id.encode() + CONCEPTS.read_bytes(), "turtle", str(iris.graph("concepts")))
        for path in sorted(ALIGNMENTS_DIR.glob("*.ttl")):  # the alignment mapping sets, parsed the same way
            staging.load(b"@base <%s> .\n" % iris.id.encode() + path.read_bytes(), "turtle",
                         str(iris.graph(f"mapping-set/{path.name.removesuffix('.ttl')}")))
    names = staging.named_graphs()
    body = " ".join(f"GRAPH <{name}> {{ {staging.dump('ntriples', name).decode()} }}" for name in names)
    store.update(f"INSERT DATA {{ {body} }}")
    return names


def validate(store: Store, iris: Iris, data_graphs: list[str]):
    """Check the data graphs (with the concept schemes) inside the store with the fast engine."""
    return check_store(store, load_shapes(iris.base), data_graphs + [str(iris.graph("concepts"))])


def build_stream(store_path: Path, files: Iterable[Path], iris: Iris, sources: Iterable[Source] = (),
                 batch_triples: int = BATCH_TRIPLES, progress: bool | None = None, check: bool = True,
                 out=None) -> StreamBuild:
    """Build a new store version from feed files (and manifest sources) and swap it in atomically."""
    out = out or sys.stderr
    files = [Path(f) for f in files]
    for path in files:
        if not path.is_file():
            raise SourceError(f"{path}: no such file")
    sources = list(sources)
    feeds = [(path, None) for path in files] + [(s.path, s) for s in sources if s.kind == "feed-json"]
    small = [s for s in sources if s.kind != "feed-json"]
    if progress is None:  # automatic: on a terminal, for long inputs
        progress = out.isatty() and sum(Path(p).stat().st_size for p, _ in feeds if Path(p).is_file()) > LONG_INPUT
    bar = Progress(out) if progress else None
    result = StreamBuild()

    def fill(store: Store) -> None:
        # The vocabulary goes in on a thread of its own, beside the feeds: Oxigraph releases the GIL.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="kimgraph-vocabulary") as pool:
            vocabulary = pool.submit(load_vocabulary, store, iris)
            clock = time.perf_counter()
            for named in source_graphs(small, iris):
                store.add_graph(str(named.iri), named.graph)
                result.written[str(named.iri)] = len(named.graph)
            result.seconds["pages"] = time.perf_counter() - clock
            clock = time.perf_counter()
            for path, source in feeds:
                graph_iri, written = stream_feed(store, path, iris, source, batch_triples, bar)
                result.written[graph_iri] = written
            result.seconds["feeds"] = time.perf_counter() - clock
            vocabulary.result()
        clock = time.perf_counter()
        result.report = validate(store, iris, list(result.written)) if check else None
        if result.report is None:
            result.note = ("validation skipped: " + ("the in-store engine (conformance.fast) is not installed"
                                                     if check else "--no-validate"))
        else:
            store.add_graph(str(iris.graph("validation")), result.report.graph)
        result.seconds["validation"] = time.perf_counter() - clock

    result.target = build_atomically(store_path, fill)
    return result


def describe(store: Store, result: StreamBuild, seconds: float) -> str:
    """A short account of a streaming build: size, extraction issues by kind, findings, time and rate."""
    issues = store.select("""
        PREFIX kim: <https://w3id.org/uk-kim/def#>
        SELECT ?code (COUNT(?i) AS ?n) WHERE { ?i a kim:ExtractionIssue ; kim:issueCode ?code }
        GROUP BY ?code ORDER BY ?code
    """)
    standards = store.select("""
        PREFIX kim: <https://w3id.org/uk-kim/def#>
        SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a kim:OccupationalStandard }
    """)[0]["n"]
    findings = "" if result.report is None else "conformance: " + ", ".join(
        f"{n} {severity}" for severity, n in result.report.counts().items())
    lines = [
        f"store: {store.triple_count()} triples in {len(store.named_graphs())} named graphs; {standards} standards",
        f"written: {result.triples} triples from {len(result.written)} sources",
        "extraction issues: " + (", ".join(f"{row['n']} {row['code']}" for row in issues) or "none"),
        result.note or findings,
        f"built {result.target} in {seconds:.2f} s ("
        + ", ".join(f"{phase} {s:.2f} s" for phase, s in result.seconds.items())
        + f"); {result.triples / max(result.seconds.get('feeds', 0), 1e-9):,.0f} feed triples/s",
    ]
    return "\n".join(lines)
