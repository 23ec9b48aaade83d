"""The embedded Oxigraph store: a SPARQL 1.1 dataset in a directory on this machine."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph
from rdflib.term import Node

from store.errors import QuerySyntaxError, StoreError, StoreLocked, StoreNotWritable, StoreUnusable
from store.terms import RDF_FORMATS, solution_rows, to_oxigraph, to_rdflib


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
        return solution_rows(self.query(sparql, **kwargs))

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
