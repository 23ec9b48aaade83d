"""VoID statistics over the dataset (the services keep them once per data version)."""

from __future__ import annotations

from dataclasses import dataclass, field

from kimdata.namespaces import KIM, Iris

EXAMPLE_STANDARD = "ST1337"


@dataclass
class Stats:
    """Counts over the dataset, computed once per data version."""

    triples: int = 0
    entities: int = 0
    objects: int = 0
    graphs: dict[str, int] = field(default_factory=dict)
    classes: dict[str, int] = field(default_factory=dict)
    properties: dict[str, int] = field(default_factory=dict)
    examples: list[str] = field(default_factory=list)


def _count(rows, key: str = "n") -> int:
    return int(rows[0][key]) if rows else 0


def compute_stats(store, base_iri: str) -> Stats:
    """VoID statistics: the default graph of every count is the merge of the named graphs (each triple once)."""
    stats = Stats(triples=store.triple_count())
    stats.entities = _count(store.select("SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s ?p ?o }"))
    stats.objects = _count(store.select("SELECT (COUNT(DISTINCT ?o) AS ?n) WHERE { ?s ?p ?o }"))
    stats.graphs = {g: 0 for g in store.named_graphs()}
    for row in store.select("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"):
        stats.graphs[str(row["g"])] = int(row["n"])
    for row in store.select("SELECT ?c (COUNT(DISTINCT ?x) AS ?n) WHERE { ?x a ?c FILTER(isIRI(?c)) } GROUP BY ?c"):
        stats.classes[str(row["c"])] = int(row["n"])
    for row in store.select("SELECT ?p (COUNT(*) AS ?n) WHERE { ?s ?p ?o } GROUP BY ?p"):
        stats.properties[str(row["p"])] = int(row["n"])
    example = str(Iris(base_iri).standard(EXAMPLE_STANDARD))
    found = store.select(f"SELECT ?s WHERE {{ {{ BIND(<{example}> AS ?s) ?s ?p ?o }} UNION "
                         f"{{ ?s a <{KIM.OccupationalStandard}> }} }} LIMIT 3")
    stats.examples = list(dict.fromkeys(str(row["s"]) for row in found))
    return stats
