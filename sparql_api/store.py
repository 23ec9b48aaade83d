"""The embedded Oxigraph store: the only module that imports pyoxigraph.

A store path such as ``var/store`` is a symbolic link to one build in ``var/store.versions/``. A
build writes a new version beside the current one and swaps the link with one atomic rename, so a
build that fails or is killed half-way leaves the previous store untouched.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.term import Node

if TYPE_CHECKING:
    from sparql_api.remote_store import RemoteStore
    from sparql_api.settings import Settings

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"

RDF_FORMATS: dict[str, ox.RdfFormat] = {
    "turtle": ox.RdfFormat.TURTLE,
    "ntriples": ox.RdfFormat.N_TRIPLES,
    "nquads": ox.RdfFormat.N_QUADS,
    "trig": ox.RdfFormat.TRIG,
    "rdfxml": ox.RdfFormat.RDF_XML,
    "jsonld": ox.RdfFormat.JSON_LD,
}
RESULT_FORMATS: dict[str, ox.QueryResultsFormat] = {
    "json": ox.QueryResultsFormat.JSON,
    "xml": ox.QueryResultsFormat.XML,
    "csv": ox.QueryResultsFormat.CSV,
    "tsv": ox.QueryResultsFormat.TSV,
}


class StoreError(Exception):
    """The store cannot be opened or written: missing, locked, unreadable or read-only."""


class StoreUnusable(StoreError):
    """The store cannot be used as asked: ``problem`` says what is wrong and where, ``remedy`` what to do."""

    def __init__(self, problem: str, remedy: str):
        super().__init__(f"{problem}; {remedy}")
        self.problem = problem
        self.remedy = remedy


class StoreLocked(StoreUnusable):
    """Another process has the store open for writing (it holds the RocksDB ``LOCK`` file)."""


class StoreNotWritable(StoreUnusable):
    """The store's directory, or the place for a new one, cannot be written by this process."""


class QuerySyntaxError(ValueError):
    """The SPARQL text does not parse; the message says where."""


def to_oxigraph(term: Node) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    """An rdflib term as a pyoxigraph term."""
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    if isinstance(term, Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        if term.datatype:
            return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
        return ox.Literal(str(term))
    raise TypeError(f"cannot convert {term!r}")


def to_rdflib(term) -> Node | None:
    """A pyoxigraph term as an rdflib term (None for the default graph)."""
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return Literal(term.value, lang=term.language)
        if term.datatype.value == XSD_STRING:
            return Literal(term.value)  # RDF 1.1: a simple literal is an xsd:string
        return Literal(term.value, datatype=URIRef(term.datatype.value))
    if isinstance(term, ox.DefaultGraph) or term is None:
        return None
    raise TypeError(f"cannot convert {term!r}")


class Store:
    """A SPARQL 1.1 dataset held by an embedded Oxigraph store."""

    def __init__(self, store: ox.Store, path: Path | None = None, read_only: bool = False):
        self._store = store
        self.path = path
        self.read_only = read_only
        self.read_only_reason: str | None = None  # set by open_for_service when writing was wanted but refused

    @classmethod
    def in_memory(cls) -> Store:
        return cls(ox.Store())

    @classmethod
    def open(cls, path: Path, read_only: bool = False) -> Store:
        """Open an existing store; ``read_only`` lets other processes read while one writes."""
        path = Path(path)
        if not path.exists():
            raise StoreError(f"no store at {path}: run 'kimgraph build' first")
        directory = path.resolve()
        if not directory.is_dir():
            raise StoreUnusable(f"the store path {path} is not a directory",
                                "point --store or KIM_STORE at a store built by 'kimgraph build'")
        if not os.access(directory, os.R_OK | os.X_OK):
            raise StoreUnusable(f"the store at {path} ({directory}) is not readable by this user",
                                "give this user read access to it")
        if not read_only and not os.access(directory, os.W_OK):
            raise StoreNotWritable(f"the store at {path} ({directory}) is not writable by this user",
                                   "give this user write access to it, or serve it without KIM_WRITE_TOKEN")
        try:
            store = ox.Store.read_only(str(path)) if read_only else ox.Store(str(path))
        except (OSError, RuntimeError) as e:
            raise _open_error(path, directory, e) from e
        return cls(store, path, read_only)

    # ------------------------------------------------------------------ reading

    def query(
        self,
        sparql: str,
        *,
        union_default: bool = True,
        default_graphs: Iterable[str] | None = None,
        named_graphs: Iterable[str] | None = None,
        substitutions: Mapping[str, Node] | None = None,
    ):
        """Run a SPARQL query; the default graph is the union of the named graphs unless graphs are given."""
        kwargs: dict = {}
        if default_graphs is not None:
            kwargs["default_graph"] = [ox.NamedNode(g) for g in default_graphs]
        elif union_default:
            kwargs["use_default_graph_as_union"] = True
        if named_graphs is not None:
            kwargs["named_graphs"] = [ox.NamedNode(g) for g in named_graphs]
        if substitutions:
            kwargs["substitutions"] = {ox.Variable(k): to_oxigraph(v) for k, v in substitutions.items()}
        try:
            return self._store.query(sparql, **kwargs)
        except SyntaxError as e:
            raise QuerySyntaxError(str(e)) from e

    def select(self, sparql: str, **kwargs) -> list[dict[str, Node]]:
        """Run a SELECT query and return its solutions as dicts of rdflib terms."""
        solutions = self.query(sparql, **kwargs)
        names = [v.value for v in solutions.variables]
        return [
            {name: to_rdflib(row[name]) for name in names if row[name] is not None}
            for row in solutions
        ]

    def named_graphs(self) -> list[str]:
        return sorted(g.value for g in self._store.named_graphs() if isinstance(g, ox.NamedNode))

    def graph(self, graph_iri: str) -> Graph:
        """One named graph as an rdflib Graph."""
        graph = Graph()
        for quad in self._store.quads_for_pattern(None, None, None, ox.NamedNode(graph_iri)):
            graph.add((to_rdflib(quad.subject), to_rdflib(quad.predicate), to_rdflib(quad.object)))
        return graph

    def dump(self, fmt: str, graph_iri: str | None = None) -> bytes:
        """Serialise the whole dataset (or one graph, or the union for triple-only formats)."""
        rdf_format = RDF_FORMATS[fmt]
        if graph_iri is not None:
            return self._store.dump(format=rdf_format, from_graph=ox.NamedNode(graph_iri))
        if rdf_format.supports_datasets:
            return self._store.dump(format=rdf_format)
        union = ox.Store()
        union.extend(ox.Quad(q.subject, q.predicate, q.object) for q in self._store)
        return union.dump(format=rdf_format, from_graph=ox.DefaultGraph())

    def __len__(self) -> int:
        return len(self._store)

    # ------------------------------------------------------------------ writing

    def _writable(self) -> None:
        if self.read_only:
            raise StoreError("the store is open read-only")

    def update(self, sparql: str) -> None:
        """Run a SPARQL Update; Oxigraph applies it as one transaction."""
        self._writable()
        try:
            self._store.update(sparql)
        except SyntaxError as e:
            raise QuerySyntaxError(str(e)) from e

    def load(self, data: bytes, fmt: str, graph_iri: str) -> None:
        """Bulk-load serialised triples into one named graph."""
        self._writable()
        self._store.bulk_load(data, format=RDF_FORMATS[fmt], to_graph=ox.NamedNode(graph_iri))

    def add_graph(self, graph_iri: str, graph: Graph) -> None:
        """Add an rdflib Graph's triples to one named graph."""
        self.load(graph.serialize(format="nt", encoding="utf-8"), "ntriples", graph_iri)

    def flush(self) -> None:
        if not self.read_only:
            self._store.flush()


def _open_error(path: Path, directory: Path, error: Exception) -> StoreError:
    """What RocksDB's refusal to open a store means, as one line saying what to do."""
    text = " ".join(str(error).split())
    if "lock file" in text.lower():
        return StoreLocked(f"the store at {path} is locked by another process that has it open for writing "
                           f"({directory / 'LOCK'})",
                           "stop that process (another 'kimgraph serve'?) or serve without KIM_WRITE_TOKEN")
    if isinstance(error, PermissionError) or "permission denied" in text.lower() or "read-only file" in text.lower():
        return StoreNotWritable(f"the store at {path} ({directory}) cannot be written: {text}",
                                "give this user write access to it, or serve it without KIM_WRITE_TOKEN")
    if not (directory / "CURRENT").exists():
        return StoreUnusable(f"{path} is not an Oxigraph store (no CURRENT file in {directory})",
                             "point --store or KIM_STORE at a store built by 'kimgraph build'")
    return StoreUnusable(f"cannot open the store at {path}: {text}",
                         "check the directory, or rebuild it with 'kimgraph build'")


def open_for_service(path: Path, writable: bool, require_writable: bool = False) -> Store:
    """The embedded store a server uses: read-write when ``writable`` and possible, otherwise read-only.

    When writes are wanted but the store is locked by another writer or cannot be written, it is opened
    read-only with the reason in ``read_only_reason`` (a snapshot: another writer's later changes are not
    seen), or, with ``require_writable``, the StoreLocked or StoreNotWritable error is raised.
    """
    if not writable:
        return Store.open(path, read_only=True)
    try:
        return Store.open(path)
    except (StoreLocked, StoreNotWritable) as e:
        if require_writable:
            raise
        store = Store.open(path, read_only=True)
        store.read_only_reason = e.problem
        return store


def open_store(settings: Settings, read_only: bool = False, path: Path | None = None) -> Store | RemoteStore:
    """The store the settings name: the remote SPARQL store at ``store_url`` when one is set, else the
    embedded store at ``path`` (default ``settings.store``)."""
    if settings.store_url:
        from sparql_api.remote_store import RemoteStore

        return RemoteStore.from_settings(settings, read_only=read_only)
    return Store.open(settings.store if path is None else path, read_only=read_only)


def versions_dir(path: Path) -> Path:
    return path.with_name(path.name + ".versions")


def prepare_versions(path: Path) -> Path:
    """The directory new versions of the store at ``path`` go in, created; StoreError when no build can go there."""
    path = Path(path)
    if path.exists() and not path.is_symlink():
        raise StoreUnusable(f"{path} is a plain directory, not a store built by kimgraph", "move it away first")
    versions = versions_dir(path)
    remedy = "choose a --store (KIM_STORE) path in a directory this user can write"
    try:
        versions.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise StoreNotWritable(f"cannot create the store at {path}: {e.strerror} ({e.filename or versions})",
                               remedy) from e
    if not os.access(versions, os.W_OK | os.X_OK) or not os.access(path.parent, os.W_OK | os.X_OK):
        raise StoreNotWritable(f"cannot create the store at {path}: {versions} or {path.parent} is not writable",
                               remedy)
    return versions


def build_atomically(path: Path, fill: Callable[[Store], None]) -> Path:
    """Write a new store version with ``fill`` and make ``path`` point at it in one atomic step."""
    path = Path(path)
    versions = prepare_versions(path)
    previous = path.resolve() if path.is_symlink() else None
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
    target = versions / f"{stamp}-{uuid.uuid4().hex[:8]}"
    try:
        store = Store(ox.Store(str(target)), target)
        fill(store)
        store.flush()
        del store
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)
        raise
    link = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.link")
    os.symlink(os.path.relpath(target, path.parent), link)
    os.replace(link, path)
    _remove_old_versions(versions, keep={target, previous})
    return target


def _remove_old_versions(versions: Path, keep: set[Path | None]) -> None:
    """Drop versions older than the current and previous ones (left behind by earlier or killed builds),
    except one another process still has open for writing, such as a build running beside this one."""
    for child in versions.iterdir():
        if child not in keep and child.is_dir() and not _locked_by_a_writer(child):
            shutil.rmtree(child, ignore_errors=True)


def _locked_by_a_writer(version: Path) -> bool:
    """Whether a process holds the version's RocksDB LOCK (an fcntl lock, released when its holder dies)."""
    try:
        with open(version / "LOCK", "r+b") as lock:
            try:
                fcntl.lockf(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                return True
            fcntl.lockf(lock, fcntl.LOCK_UN)
    except OSError:  # no LOCK file: a build killed before RocksDB made one
        return False
    return False

