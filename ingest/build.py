"""The build: parse every source into its own named graph, add the vocabulary graphs, validate."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from rdflib import Graph, URIRef

from conformance.reference import load_shapes
from ingest.curated import CuratedDataError, parse_concepts, parse_curated
from ingest.feed import parse_feed
from ingest.manifest import ManifestError, Source, sha256_of
from ingest.occupation_page import parse_occupation_page
from ingest.standard_page import parse_standard_page
from ingest.text import ParseError
from kimdata.namespaces import Iris
from kimdata.paths import CURATED_DIR, ONTOLOGY_DIR

ONTOLOGY = ONTOLOGY_DIR / "kim.ttl"
ALIGNMENT = ONTOLOGY_DIR / "alignment.ttl"
CONCEPTS = CURATED_DIR / "concepts.ttl"
# Mapping sets computed by `kimgraph align` (SSSOM, one file per method run): each in a graph of its own,
# never mixed with what the sources state.
ALIGNMENTS_DIR = CURATED_DIR / "alignments"

PAGE_PARSERS: dict[str, Callable[[str, Source, Iris], Graph]] = {
    "standard-page": parse_standard_page,
    "occupation-page": parse_occupation_page,
}


class SourceError(ValueError):
    """A source cannot be read; the message names the file (and line where known)."""


@dataclass(frozen=True)
class NamedGraph:
    """One graph of the dataset: its IRI, its triples and whether it holds source facts."""

    iri: URIRef
    graph: Graph
    is_data: bool


def parse_source(source: Source, iris: Iris) -> Graph:
    """Parse one source with the parser its kind names; errors name the file and line."""
    try:
        if source.kind == "curated-turtle":
            return parse_curated(source, iris)
        if source.kind == "feed-json":
            return parse_feed(source, iris)  # checks the sha256 itself, while reading
        text = source.read()
        if source.sha256 and sha256_of(source.path) != source.sha256:
            raise SourceError(f"{source.path}: checksum differs from the manifest's sha256")
        return PAGE_PARSERS[source.kind](text, source, iris)
    except ParseError as e:
        where = f"{source.path}:{e.line}" if e.line else str(source.path)
        raise SourceError(f"{where}: {e.message}") from e
    except (ManifestError, CuratedDataError) as e:
        raise SourceError(str(e)) from e
    except ValueError as e:
        if isinstance(e, SourceError):
            raise
        raise SourceError(f"{source.path}: {e}") from e


def vocabulary_graphs(iris: Iris) -> list[NamedGraph]:
    """The ontology, its alignments, the shapes and the reference concept schemes."""
    def turtle(path: Path) -> Graph:
        return Graph().parse(path, format="turtle")

    return [
        NamedGraph(iris.graph("ontology"), turtle(ONTOLOGY), False),
        NamedGraph(iris.graph("alignment"), _rebase(turtle(ALIGNMENT), iris), False),
        NamedGraph(iris.graph("shapes"), load_shapes(iris.base), False),
        NamedGraph(iris.graph("concepts"), parse_concepts(CONCEPTS, iris), False),
    ] + mapping_set_graphs(iris)


def mapping_set_graphs(iris: Iris) -> list[NamedGraph]:
    """The committed alignment mapping sets, each in its named graph ``graph/mapping-set/{name}``."""
    return [NamedGraph(iris.graph(f"mapping-set/{path.name.removesuffix('.ttl')}"), parse_concepts(path, iris), False)
            for path in sorted(ALIGNMENTS_DIR.glob("*.ttl"))]


def _rebase(graph: Graph, iris: Iris) -> Graph:
    """Move IRIs written under the default instance base to the configured one."""
    default = Iris()
    if iris.id == default.id:
        return graph
    def move(term):
        if isinstance(term, URIRef) and str(term).startswith(default.id):
            return URIRef(iris.id + str(term)[len(default.id):])
        return term
    rebased = Graph()
    for s, p, o in graph:
        rebased.add((move(s), p, move(o)))
    return rebased


def source_graphs(sources: Iterable[Source], iris: Iris) -> list[NamedGraph]:
    return [NamedGraph(iris.source_graph(s.id), parse_source(s, iris), True) for s in sources]


def union(graphs: Iterable[NamedGraph]) -> Graph:
    """All triples of the given graphs in one rdflib Graph."""
    merged = Graph()
    for named in graphs:
        merged += named.graph
    return merged


def validation_input(graphs: list[NamedGraph]) -> Graph:
    """What the shapes run over: the data graphs plus the concept schemes (the action-verb list)."""
    return union(g for g in graphs if g.is_data or g.iri.endswith("/graph/concepts"))

