"""What every store offers the layers above it, embedded or remote."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Protocol, runtime_checkable

from rdflib import Graph
from rdflib.term import Node


class StoreSettings(Protocol):
    """What opening a store reads from the settings (``sparql_api.settings.Settings`` has it all)."""

    store: Path
    store_url: str | None
    store_update_url: str | None
    store_gsp_url: str | None
    store_union_param: str


@runtime_checkable
class KnowledgeStore(Protocol):
    """A SPARQL 1.1 dataset: queried, read graph by graph, written by updates and bulk loads."""

    path: Path | None
    read_only: bool
    read_only_reason: str | None

    def query(self, sparql: str, *, union_default: bool = True, default_graphs: Iterable[str] | None = None,
              named_graphs: Iterable[str] | None = None, substitutions: Mapping[str, Node] | None = None):
        """Run a SPARQL query; answers are pyoxigraph's QuerySolutions, QueryBoolean or QueryTriples."""

    def select(self, sparql: str, **kwargs) -> list[dict[str, Node]]:
        """Run a SELECT query; its solutions as dicts of rdflib terms."""

    def named_graphs(self) -> list[str]:
        """The IRIs of the named graphs, sorted."""

    def graph(self, graph_iri: str) -> Graph:
        """One named graph as an rdflib Graph."""

    def dump(self, fmt: str, graph_iri: str | None = None, prefixes: Mapping[str, str] | None = None) -> bytes:
        """The dataset, or one graph, serialised (``prefixes`` for the formats that abbreviate IRIs)."""

    def __len__(self) -> int:
        """The number of quads."""

    def triple_count(self) -> int:
        """The number of distinct triples of the default graph."""

    def update(self, sparql: str, written: frozenset[str] | None = None) -> None:
        """Run a SPARQL Update as one transaction; ``written``: the named graphs it writes, when the caller
        knows them and it writes nothing to the default graph."""

    def load(self, data: bytes, fmt: str, graph_iri: str) -> None:
        """Load serialised triples into one named graph."""

    def add_graph(self, graph_iri: str, graph: Graph) -> None:
        """Add an rdflib Graph's triples to one named graph."""

    def flush(self) -> None:
        """Make what was written durable."""
