"""The professional bodies and networks a source ties to a GKIM discipline (``kim:concernsDiscipline``), each
with the source document that states it, for the discipline's page."""

from __future__ import annotations

from dataclasses import dataclass

from rdflib import URIRef

from kimdata.namespaces import PREFIXES, Iris
from sparql_api.fact_graphs import GraphSource
from store.protocol import KnowledgeStore

# The discipline (bound as ?iri) if it is one, and each body or network that concerns it, in the graph stating it.
BODIES_QUERY = "\n".join(f"PREFIX {p}: <{PREFIXES[p]}>" for p in ("kim", "skos", "org")) + """
SELECT ?iri ?scheme ?body ?name ?kind ?g WHERE {
  ?iri skos:inScheme ?scheme .
  OPTIONAL {
    GRAPH ?g { ?body kim:concernsDiscipline ?iri }
    OPTIONAL { ?body skos:prefLabel ?name }
    OPTIONAL { ?body org:classification ?type . ?type skos:prefLabel ?kind }
  }
}
"""


@dataclass
class Body:
    """A professional body or network, its kinds (org types), and the sources that tie it to the discipline."""

    iri: str
    name: str
    kinds: list[str]
    sources: list[GraphSource]


def bodies_of_discipline(store: KnowledgeStore, iris: Iris, iri: str,
                         sources: dict[str, GraphSource]) -> list[Body] | None:
    """The bodies and networks of the discipline ``iri`` by name; None when ``iri`` is no GKIM discipline."""
    rows = store.select(BODIES_QUERY, substitutions={"iri": URIRef(iri),
                                                     "scheme": iris.concept("gkim-discipline")})
    if not rows:
        return None
    found: dict[str, Body] = {}
    for row in rows:
        if row.get("body") is None:
            continue
        body = str(row["body"])
        entry = found.setdefault(body, Body(body, str(row.get("name") or body), [], []))
        kind = str(row["kind"]) if row.get("kind") is not None else None
        if kind and kind not in entry.kinds:
            entry.kinds.append(kind)
        source = sources.get(str(row["g"]))
        if source is not None and source not in entry.sources:
            entry.sources.append(source)
    for entry in found.values():
        entry.kinds.sort()
    return sorted(found.values(), key=lambda b: (b.name.casefold(), b.iri))
