"""The licence or rights of each named graph, and the open part of the dataset.

Every source is a named graph of its own, and each source document states its own licence
(``dcterms:license``) and rights (``dcterms:rights``), from ``sources/manifest.toml`` or a curated
source's metadata. The vocabulary graphs (ontology, alignment, shapes, concept schemes) are the
project's own work under the MIT licence; the validation report quotes the standards it checks, so it
is open only while no finding is about something stated by a source that is not open. A graph written
through the SPARQL Update or Graph Store interface states no licence and is not open.

Nothing here states an open licence over a graph whose source does not: a graph is open only when its
licence is one of ``OPEN_LICENCES``. The open dump (``/dump-open.trig``, ``/dump-open.nq``) holds the
open graphs only; the full dump states the mix.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from rdflib import URIRef

from kimdata.namespaces import OGL_V3, PREFIXES, Iris

MIT = URIRef("https://opensource.org/licenses/MIT")
CC_BY_4 = URIRef("https://creativecommons.org/licenses/by/4.0/")
OPEN_LICENCES: dict[str, str] = {
    str(OGL_V3): "Open Government Licence v3.0",
    str(MIT): "MIT licence",
    str(CC_BY_4): "Creative Commons Attribution 4.0",
}
VOCABULARY_GRAPHS = ("ontology", "alignment", "shapes", "concepts")
VOCABULARY_RIGHTS = "KIM Graph's own vocabulary, shapes and reference concept schemes, under the MIT licence."
ESCO_RIGHTS = ("Computed alignments to the ESCO classification: links to ESCO concepts and the ESCO text they were "
               "matched on, from ESCO, European Commission, licensed CC BY 4.0 "
               "(https://esco.ec.europa.eu/en/about-esco/data-science-and-esco/esco-licence).")
VALIDATION_RIGHTS = ("The conformance report made by KIM Graph over the open-licensed standards; it quotes them, "
                     "under their licence, the Open Government Licence v3.0.")
VALIDATION_NOT_OPEN = ("The conformance report made by KIM Graph; it is about facts of a source that is not "
                       "open-licensed, so no open licence is stated.")
UNSTATED_RIGHTS = "Written through the SPARQL Update or Graph Store interface; no licence is stated."

_PROLOGUE = "\n".join(f"PREFIX {p}: <{PREFIXES[p]}>" for p in ("kim", "dcterms"))
SOURCE_RIGHTS_QUERY = _PROLOGUE + """
SELECT ?g (SAMPLE(?t) AS ?title) (SAMPLE(?lic) AS ?license) (SAMPLE(?r) AS ?rights) (SAMPLE(?a) AS ?attribution)
WHERE {
  GRAPH ?g { ?doc a kim:SourceDocument }
  FILTER(STRAFTER(STR(?g), "/graph/source/") = STRAFTER(STR(?doc), "/id/source/"))
  OPTIONAL { GRAPH ?g { ?doc dcterms:title ?t } }
  OPTIONAL { GRAPH ?g { ?doc dcterms:license ?lic } }
  OPTIONAL { GRAPH ?g { ?doc dcterms:rights ?r } }
  OPTIONAL { GRAPH ?g { ?doc kim:attributionText ?a } }
}
GROUP BY ?g
"""
# A finding of the report about a node that only graphs outside ``VALUES ?open`` state.
CLOSED_FINDING_QUERY = """
PREFIX sh: <http://www.w3.org/ns/shacl#>
ASK {
  GRAPH ?report { ?result sh:focusNode ?node }
  GRAPH ?closed { ?node ?p ?o }
  FILTER(?closed != ?report && ?closed NOT IN (%s))
}
"""


@dataclass(frozen=True)
class GraphRights:
    """What may be done with one named graph: its licence (an IRI, or None) and a rights statement."""

    graph: str
    title: str
    license: str | None
    rights: str
    attribution: str | None = None

    @property
    def open(self) -> bool:
        """Whether the graph is under an open licence (``OPEN_LICENCES``)."""
        return self.license in OPEN_LICENCES

    @property
    def licence_name(self) -> str | None:
        return None if self.license is None else OPEN_LICENCES.get(self.license, self.license)


def graph_rights(store, iris: Iris, graphs: Iterable[str]) -> dict[str, GraphRights]:
    """The rights of each of ``graphs`` (the store's named graphs), by graph IRI."""
    names = sorted(graphs)
    found: dict[str, GraphRights] = {}
    for row in store.query(SOURCE_RIGHTS_QUERY):
        graph = row["g"].value
        value = {k: (row[k].value if row[k] is not None else None)
                 for k in ("title", "license", "rights", "attribution")}
        rights = value["rights"] or ("Licensed under " + OPEN_LICENCES[value["license"]] + "."
                                     if value["license"] in OPEN_LICENCES else "No licence is stated by the source.")
        found[graph] = GraphRights(graph, value["title"] or graph, value["license"], rights, value["attribution"])
    for name in VOCABULARY_GRAPHS:
        graph = str(iris.graph(name))
        found[graph] = GraphRights(graph, f"KIM Graph {name}", str(MIT), VOCABULARY_RIGHTS)
    for name in names:  # alignments (curated/alignments): links to ESCO and its matched text, CC BY 4.0
        if name.startswith(str(iris.graph("mapping-set/"))):
            found[name] = GraphRights(name, f"KIM Graph alignments ({name.rsplit('/', 1)[1]})", str(CC_BY_4), ESCO_RIGHTS)
    validation = str(iris.graph("validation"))
    if validation in names:
        opened = [g for g, r in found.items() if r.open]
        closed = bool(store.query(CLOSED_FINDING_QUERY % ", ".join(f"<{g}>" for g in opened) if opened else
                                  CLOSED_FINDING_QUERY.replace(" && ?closed NOT IN (%s)", "")))
        found[validation] = (GraphRights(validation, "KIM Graph conformance report", None, VALIDATION_NOT_OPEN)
                             if closed else
                             GraphRights(validation, "KIM Graph conformance report", str(OGL_V3), VALIDATION_RIGHTS))
    return {name: found.get(name) or GraphRights(name, name, None, UNSTATED_RIGHTS) for name in names}


def open_graphs(rights: dict[str, GraphRights]) -> list[str]:
    """The graphs under an open licence, in IRI order."""
    return sorted(g for g, r in rights.items() if r.open)


def open_summary(rights: dict[str, GraphRights]) -> str:
    """What the open dump holds: the open graphs and their licences.

    >>> open_summary({"g": GraphRights("g", "Page", str(OGL_V3), "Crown copyright")})
    'Only the open-licensed named graphs, each under its own licence: Open Government Licence v3.0 (Page).'
    """
    by_licence: dict[str, list[str]] = {}
    for r in sorted(rights.values(), key=lambda r: r.graph):
        if r.open and r.licence_name:
            by_licence.setdefault(r.licence_name, []).append(r.title)
    parts = "; ".join(f"{name} ({', '.join(titles)})" for name, titles in sorted(by_licence.items()))
    return f"Only the open-licensed named graphs, each under its own licence: {parts}."


def mixed_summary(rights: dict[str, GraphRights]) -> str:
    """The rights of the whole dataset: open graphs by licence, and every graph that is not open.

    >>> print(mixed_summary({"a": GraphRights("a", "Page", str(OGL_V3), "Crown copyright"),
    ...                      "b": GraphRights("b", "Article", None, "All rights reserved.")}))
    Mixed rights: each named graph states its own licence or rights. Open: Open Government Licence v3.0 (Page). Not open-licensed: Article (All rights reserved.). Facts from sources that are not open-licensed are cited to them; their text is not republished.
    """
    closed = [r for r in sorted(rights.values(), key=lambda r: r.graph) if not r.open]
    text = "Mixed rights: each named graph states its own licence or rights. " + \
        open_summary(rights).replace("Only the open-licensed named graphs, each under its own licence: ", "Open: ")
    if closed:
        text += " Not open-licensed: " + "; ".join(f"{r.title} ({r.rights})" for r in closed) + "."
        text += " Facts from sources that are not open-licensed are cited to them; their text is not republished."
    return text


def open_dump(store, graphs: Iterable[str], fmt: str) -> bytes:
    """The named ``graphs`` as N-Quads (``fmt`` "nquads") or TriG ("trig"), graph by graph."""
    chunks: list[bytes] = []
    for graph in graphs:
        lines = [line for line in store.dump("ntriples", graph).split(b"\n") if line.strip()]
        name = f"<{graph}>".encode()
        if fmt == "nquads":
            chunks.extend(line.rstrip()[:-1].rstrip() + b" " + name + b" .\n" for line in lines)
        else:
            chunks.append(name + b" {\n" + b"".join(b"  " + line + b"\n" for line in lines) + b"}\n")
    return b"".join(chunks)
