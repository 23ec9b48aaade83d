"""Which named graph states each fact of a resource, and which of those graphs are curated.

A resource is described by triples from the merged default graph (sparql_api.linked_data); each of them
is stated by one or more named graphs, one per source. ``with_graphs`` finds them with one query (the
triples as ``VALUES``, in chunks), so ``/id/...`` can answer TriG and N-Quads, where every fact keeps its
graph, and the HTML and Turtle answers can mark the facts that come from curated sources: the hand-written
files in ``curated/`` (``kim:sourceKind "curated-turtle"``, each citing the document it was read from) and
the project's reference concept schemes (``curated/concepts.ttl``, the ``graph/concepts`` graph).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pyoxigraph as ox

from kimdata.namespaces import PREFIXES, Iris

CURATED_KIND = "curated-turtle"
CHUNK = 200  # triples per VALUES block

_PROLOGUE = "\n".join(f"PREFIX {p}: <{PREFIXES[p]}>" for p in ("kim", "dcterms", "foaf"))
GRAPH_SOURCES_QUERY = _PROLOGUE + """
SELECT ?g ?doc (SAMPLE(?k) AS ?kind) (SAMPLE(?t) AS ?title) (SAMPLE(?pg) AS ?page)
WHERE {
  GRAPH ?g { ?doc a kim:SourceDocument }
  FILTER(STRAFTER(STR(?g), "/graph/source/") = STRAFTER(STR(?doc), "/id/source/"))
  OPTIONAL { GRAPH ?g { ?doc kim:sourceKind ?k } }
  OPTIONAL { GRAPH ?g { ?doc dcterms:title ?t } }
  OPTIONAL { GRAPH ?g { ?doc foaf:page ?pg } }
}
GROUP BY ?g ?doc
"""


@dataclass(frozen=True)
class GraphSource:
    """A named graph and the source it holds: the document, its kind, title and page."""

    graph: str
    document: str | None
    kind: str | None
    title: str
    page: str | None = None

    @property
    def curated(self) -> bool:
        return self.kind == CURATED_KIND or self.kind == "reference-concepts"


def graph_sources(store, iris: Iris) -> dict[str, GraphSource]:
    """The source of every source graph, and the reference concept schemes, by graph IRI."""
    found: dict[str, GraphSource] = {}
    for row in store.query(GRAPH_SOURCES_QUERY):
        value = {k: (row[k].value if row[k] is not None else None) for k in ("doc", "kind", "title", "page")}
        graph = str(row["g"].value)
        found[graph] = GraphSource(graph, value["doc"], value["kind"], value["title"] or graph, value["page"])
    concepts = str(iris.graph("concepts"))
    found[concepts] = GraphSource(concepts, None, "reference-concepts",
                                  "KIM Graph reference concept schemes (curated/concepts.ttl)")
    return found


def with_graphs(store, triples: Iterable[ox.Triple]) -> list[tuple[ox.Triple, list[str]]]:
    """Each triple with the named graphs that state it, in IRI order.

    A triple with a blank node cannot be looked up by value and is given no graph.
    """
    ordered = list(triples)
    graphs: dict[ox.Triple, list[str]] = {t: [] for t in ordered}
    named = [t for t in ordered if not any(isinstance(x, ox.BlankNode) for x in (t.subject, t.predicate, t.object))]
    for start in range(0, len(named), CHUNK):
        rows = " ".join(f"({t.subject} {t.predicate} {t.object})" for t in named[start:start + CHUNK])
        query = f"SELECT ?s ?p ?o ?g WHERE {{ VALUES (?s ?p ?o) {{ {rows} }} GRAPH ?g {{ ?s ?p ?o }} }}"
        for row in store.query(query):
            triple = ox.Triple(row["s"], row["p"], row["o"])
            if triple in graphs:
                graphs[triple].append(row["g"].value)
    return [(t, sorted(set(graphs[t]))) for t in ordered]


def quads(stated: list[tuple[ox.Triple, list[str]]]) -> list[ox.Quad]:
    """One quad per graph that states a triple (the default graph for a triple no graph is known for)."""
    out = []
    for triple, graphs in stated:
        names: list[ox.NamedNode | ox.DefaultGraph] = [ox.NamedNode(g) for g in graphs] or [ox.DefaultGraph()]
        for name in names:
            out.append(ox.Quad(triple.subject, triple.predicate, triple.object, name))
    return sorted(out, key=lambda q: (str(q.graph_name), str(q.subject), str(q.predicate), str(q.object)))


@dataclass(frozen=True)
class CuratedFact:
    """A fact about the resource that a curated graph states, the curated sources that state it, and whether
    a parsed source states it too."""

    triple: ox.Triple
    sources: tuple[GraphSource, ...]
    also_parsed: bool


def curated_facts(iri: str, stated: list[tuple[ox.Triple, list[str]]],
                  sources: dict[str, GraphSource]) -> list[CuratedFact]:
    """The resource's own facts (``<iri> ?p ?o``) that come from a curated graph, by predicate and value."""
    facts = []
    for triple, graphs in stated:
        if not isinstance(triple.subject, ox.NamedNode) or triple.subject.value != iri:
            continue
        curated = tuple(sources[g] for g in graphs if g in sources and sources[g].curated)
        if curated:
            facts.append(CuratedFact(triple, curated, any(g not in sources or not sources[g].curated
                                                          for g in graphs)))
    return sorted(facts, key=lambda f: (str(f.triple.predicate), str(f.triple.object)))


def turtle_note(facts: list[CuratedFact]) -> bytes:
    """A Turtle comment block marking the curated facts and citing their sources; it adds no triple.

    >>> fact = CuratedFact(ox.Triple(ox.NamedNode("http://x/a"), ox.NamedNode("http://x/p"), ox.Literal("v")),
    ...                    (GraphSource("http://x/g", "http://x/d", CURATED_KIND, "A page", "http://x/page"),), False)
    >>> print(turtle_note([fact]).decode())
    <BLANKLINE>
    # Facts from curated sources (each in its own named graph: ask for TriG or N-Quads to see every fact's graph)
    # <http://x/a> <http://x/p> "v" .
    #     curated in <http://x/g> from "A page" <http://x/page>
    <BLANKLINE>
    """
    if not facts:
        return b""
    lines = ["", "# Facts from curated sources (each in its own named graph: ask for TriG or N-Quads to see "
                 "every fact's graph)"]
    for fact in facts:
        t = fact.triple
        lines.append(f"# {t.subject} {t.predicate} {t.object} .")
        for source in fact.sources:
            cited = f' from "{" ".join(source.title.split())}"' + (f" <{source.page}>" if source.page else "")
            lines.append(f"#     curated in <{source.graph}>{cited}")
        if fact.also_parsed:
            lines.append("#     also stated by a parsed source")
    return ("\n".join(lines) + "\n").encode()
