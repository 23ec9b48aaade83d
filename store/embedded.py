"""The embedded Oxigraph store: a SPARQL 1.1 dataset in a directory on this machine.

Its default graph is the RDF merge of its named graphs, kept so by every write (see ``store.merge``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyoxigraph as ox

from store.errors import DatasetTooLarge, QuerySyntaxError, StoreError, StoreLocked, StoreNotWritable, StoreUnusable
from store.merge import client_syntax_error, maintained, rewritten
from store.sparql_errors import explain_syntax_error
from store.sparql_text import dataset_clauses, sparql_iri
from store.terms import RDF_FORMATS, serialized, solution_rows, to_oxigraph, to_rdflib

if TYPE_CHECKING:
    from rdflib import Graph
    from rdflib.term import Node

_FROM = re.compile(r"\bfrom\b", re.IGNORECASE)
"""A FROM keyword may be in the text (``prov:wasDerivedFrom`` is not one): only then is the text tokenised."""
MAX_MERGED_TRIPLES = 500_000
"""The most triples a query's several default graphs may hold together: they are merged per query."""


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
        """Run a SPARQL query; the default graph is the merge of the named graphs unless graphs are given.

        The stored default graph is that merge, so ``union_default`` changes nothing here (a remote store
        may need it). Several default graphs, given here or in the query's FROM clauses, are Oxigraph's
        default graph as they are when no triple is in two of them; otherwise they are merged into a
        temporary store first, since Oxigraph would repeat a triple each of them holds, and DatasetTooLarge
        when they hold more than MAX_MERGED_TRIPLES.
        """
        if default_graphs is None and _FROM.search(sparql):  # the query's own dataset applies
            clauses = dataset_clauses(sparql)
            if clauses is not None and len(clauses.default) > 1:
                default_graphs, named_graphs = clauses.default, clauses.named
        target, kwargs = self._store, dict[str, Any]()
        if default_graphs is not None and len(set(default_graphs)) > 1 and not self._disjoint(default_graphs):
            target = self._merged(default_graphs, named_graphs or ())
            kwargs["default_graph"] = ox.DefaultGraph()
            kwargs["named_graphs"] = [ox.NamedNode(g) for g in dict.fromkeys(named_graphs or ())]
        else:
            if default_graphs is not None:
                kwargs["default_graph"] = [ox.NamedNode(g) for g in dict.fromkeys(default_graphs)]
            if named_graphs is not None:
                kwargs["named_graphs"] = [ox.NamedNode(g) for g in named_graphs]
        if substitutions:
            kwargs["substitutions"] = {ox.Variable(k): to_oxigraph(v) for k, v in substitutions.items()}
        try:
            return target.query(sparql, **kwargs)
        except SyntaxError as e:
            raise QuerySyntaxError(explain_syntax_error(sparql, str(e))) from e

    def _disjoint(self, graphs: Iterable[str]) -> bool:
        """Whether no triple is in two of ``graphs``: then their merge is their union, which Oxigraph queries
        as it is. Each pair is checked from the smaller graph's side, so a small graph beside a large one
        costs a lookup per triple of the small one."""
        by_size = sorted(dict.fromkeys(graphs), key=lambda g: self._size_of([g]))
        return not any(
            self._store.query(f"ASK {{ GRAPH {sparql_iri(small)} {{ ?s ?p ?o }} "
                              f"GRAPH {sparql_iri(large)} {{ ?s ?p ?o }} }}")
            for i, small in enumerate(by_size) for large in by_size[i + 1:])

    def _merged(self, default_graphs: Iterable[str], named_graphs: Iterable[str]) -> ox.Store:
        """A temporary in-memory store: the merge of ``default_graphs`` as its default graph, and ``named_graphs``."""
        wanted = [*dict.fromkeys(default_graphs), *dict.fromkeys(named_graphs)]
        size = self._size_of(wanted)
        if size > MAX_MERGED_TRIPLES:
            raise DatasetTooLarge(f"the {len(wanted)} graphs of the query's dataset hold {size:,} triples; at most "
                                  f"{MAX_MERGED_TRIPLES:,} can be merged for one query: name one default graph, or "
                                  "query the default graph, which is the merge of every graph")
        merged = ox.Store()
        for graph in dict.fromkeys(default_graphs):
            merged.extend(ox.Quad(q.subject, q.predicate, q.object)
                          for q in self._store.quads_for_pattern(None, None, None, ox.NamedNode(graph)))
        for graph in dict.fromkeys(named_graphs):
            merged.extend(self._store.quads_for_pattern(None, None, None, ox.NamedNode(graph)))
        return merged  # its default graph is the merge of default_graphs only

    def _size_of(self, graphs: list[str]) -> int:
        total = 0
        for graph in graphs:
            query = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH {sparql_iri(graph)} {{ ?s ?p ?o }} }}"
            total += int(next(iter(self._store.query(query)))["n"].value)  # type: ignore[arg-type]
        return total

    def select(self, sparql: str, **kwargs) -> list[dict[str, Node]]:
        """Run a SELECT query and return its solutions as dicts of rdflib terms."""
        return solution_rows(self.query(sparql, **kwargs))

    def named_graphs(self) -> list[str]:
        return sorted(g.value for g in self._store.named_graphs() if isinstance(g, ox.NamedNode))

    def triple_count(self) -> int:
        """The number of distinct triples: the size of the default graph, the merge of the named graphs."""
        return int(next(iter(self._store.query("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")))["n"].value)  # type: ignore[arg-type]

    def graph(self, graph_iri: str) -> Graph:
        """One named graph as an rdflib Graph."""
        from rdflib import Graph

        graph = Graph()
        for quad in self._store.quads_for_pattern(None, None, None, ox.NamedNode(graph_iri)):
            graph.add((to_rdflib(quad.subject), to_rdflib(quad.predicate), to_rdflib(quad.object)))
        return graph

    def dump(self, fmt: str, graph_iri: str | None = None, prefixes: Mapping[str, str] | None = None) -> bytes:
        """Serialise the named graphs (not the default graph, which is derived from them), one graph, or
        for a triple-only format the default graph: the merge, each triple once. ``prefixes`` abbreviate
        IRIs in the formats that can (Turtle, TriG, RDF/XML)."""
        rdf_format = RDF_FORMATS[fmt]
        table = dict(prefixes) if prefixes and fmt in ("turtle", "trig", "rdfxml") else None
        if graph_iri is not None:
            return serialized(self._store.dump(format=rdf_format, from_graph=ox.NamedNode(graph_iri), prefixes=table))
        if rdf_format.supports_datasets:
            named = (q for q in self._store.quads_for_pattern(None, None, None, None)
                     if not isinstance(q.graph_name, ox.DefaultGraph))
            return serialized(ox.serialize(named, format=rdf_format, prefixes=table))
        return serialized(self._store.dump(format=rdf_format, from_graph=ox.DefaultGraph(), prefixes=table))

    def __len__(self) -> int:
        """The number of quads in the named graphs and the default graph (their merge) together."""
        return len(self._store)

    # ------------------------------------------------------------------ writing

    def _writable(self) -> None:
        if self.read_only:
            raise StoreError("the store is open read-only")

    def update(self, sparql: str, written: frozenset[str] | None = None) -> None:
        """Run a SPARQL Update and the upkeep of the merged default graph, as one transaction.

        What the update writes to the default graph goes to the named graph ``OWN_DEFAULT``. ``written``: the
        named graphs the update writes, when the caller knows them and it writes nothing to the default graph.
        """
        self._writable()
        try:
            self._store.update(maintained(rewritten(sparql, written)))
        except SyntaxError as e:
            raise QuerySyntaxError(client_syntax_error(sparql, str(e))) from e

    def load(self, data: bytes, fmt: str, graph_iri: str) -> None:
        """Bulk-load serialised triples into one named graph and into the default graph, their merge.

        N-Triples without blank nodes is bulk-loaded twice: cheaper than copying the graph with SPARQL
        afterwards (measured: 1.5x and 2.7x the time of one load). Anything else is parsed once, so that
        both copies share its blank nodes (the bulk loader names them afresh on each call).
        """
        self._writable()
        graph, rdf_format = ox.NamedNode(graph_iri), RDF_FORMATS[fmt]
        if rdf_format in (ox.RdfFormat.N_TRIPLES, ox.RdfFormat.N_QUADS) and b"_:" not in data:
            for target in (graph, ox.DefaultGraph()):
                self._store.bulk_load(data, format=rdf_format, to_graph=target)
            return
        triples = [(q.subject, q.predicate, q.object) for q in ox.parse(data, rdf_format, rename_blank_nodes=True)]
        self._store.bulk_extend(ox.Quad(*triple, target) for triple in triples
                                for target in (graph, ox.DefaultGraph()))

    def add_graph(self, graph_iri: str, graph: Graph) -> None:
        """Add an rdflib Graph's triples to one named graph."""
        self.load(graph.serialize(format="nt", encoding="utf-8"), "ntriples", graph_iri)

    def flush(self) -> None:
        if not self.read_only:
            self._store.flush()

    def optimize(self) -> None:
        """Compact the database (after a build), so that opening it later starts no compaction that could
        remove files under a reader opening it at the same moment."""
        if not self.read_only:
            self._store.optimize()

    def checkpoint(self, target: Path) -> None:
        """A consistent copy of the store in the new directory ``target``, which opens as a store of its own;
        on the same file system its table files are hard links, so it costs little whatever the size."""
        self._store.backup(str(target))


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
