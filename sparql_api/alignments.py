"""The alignments shown on a resource page: a duty's or KSB's disciplines, nearest statements of the other
standards and ESCO skills; a standard's ESCO occupations; the duties and KSBs a discipline serves.

They come from the SSSOM mapping sets of curated/alignments (one graph per method run), each with its score,
rank and method. Only the best candidates of each method are shown, with the SKOS relation where the confidence
reached the threshold chosen on the judged set.
"""

from __future__ import annotations

from dataclasses import dataclass

from rdflib import URIRef

from store.protocol import KnowledgeStore

ESCO_ATTRIBUTION = ("ESCO links: the ESCO classification of the European Commission, licensed CC BY 4.0; "
                    "ESCO text shown is the text that was matched (its labels and description joined).")
METHOD_NAMES = {
    "https://w3id.org/semapv/vocab/LexicalMatching": "BM25 (lexical)",
    "https://w3id.org/semapv/vocab/SemanticSimilarityThresholdMatching": "all-MiniLM-L6-v2 (semantic)",
}
HEADINGS = {
    "discipline": "GKIM disciplines",
    "ksb": "Nearest statements in other standards",
    "esco-skill": "ESCO skills",
    "esco-occupation": "ESCO occupations",
    "serves": "Duties and KSBs aligned to this discipline",
}
_RANK_SHOWN = {"discipline": 2, "ksb": 3, "esco-skill": 3, "esco-occupation": 3}

_QUERY = """
PREFIX sssom: <https://w3id.org/sssom/>
PREFIX kim: <https://w3id.org/uk-kim/def#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX ceasn: <https://purl.org/ctdlasn/terms/>
PREFIX dcterms: <http://purl.org/dc/terms/>
SELECT ?this ?direction ?target ?other ?label ?text ?rank ?confidence ?relation ?method WHERE {
  {
    ?m sssom:subject_id ?this ; sssom:object_id ?other ; kim:candidateRank ?rank .
    BIND("out" AS ?direction)
    OPTIONAL { ?m sssom:object_label ?mlabel }
  } UNION {
    ?m sssom:object_id ?this ; sssom:subject_id ?other ; kim:alignmentTarget "discipline" ;
       sssom:predicate_id ?rel0 ; kim:candidateRank ?rank .
    FILTER(?rel0 != <http://www.w3.org/2000/01/rdf-schema#seeAlso>)
    BIND("in" AS ?direction)
    OPTIONAL { ?m sssom:subject_label ?mlabel }
  }
  ?m a sssom:Mapping ; kim:alignmentTarget ?target ; sssom:confidence ?confidence ;
     sssom:predicate_id ?relation ; sssom:mapping_justification ?method .
  OPTIONAL { ?other skos:prefLabel ?pref }
  OPTIONAL { ?other ceasn:competencyText|dcterms:description|kim:matchText ?text }
  BIND(COALESCE(?mlabel, ?pref, "") AS ?label)  # the mapping set's label names the standard too ("ST0664 K4")
}
ORDER BY ?target ?method ?rank
"""


@dataclass
class Alignment:
    other: str
    label: str
    text: str
    rank: int
    confidence: float
    relation: str  # the SKOS relation's local name, or "candidate"
    method: str


@dataclass
class AlignmentGroup:
    key: str
    heading: str
    rows: list[Alignment]


def alignments(store: KnowledgeStore, iri: str) -> list[AlignmentGroup]:
    """The alignment groups of a resource, empty when it has none."""
    groups: dict[str, list[Alignment]] = {}
    seen = set()
    for row in store.select(_QUERY, substitutions={"this": URIRef(iri)}):
        target = str(row["target"])
        key = "serves" if str(row["direction"]) == "in" else target
        rank = int(row["rank"])
        if key != "serves" and rank > _RANK_SHOWN.get(target, 3):
            continue
        method = METHOD_NAMES.get(str(row["method"]), str(row["method"]))
        other = str(row["other"])
        if (key, other, method) in seen:
            continue
        seen.add((key, other, method))
        relation = str(row["relation"]).rsplit("#", 1)[-1]
        label = str(row.get("label") or "")
        text = " ".join(str(row.get("text") or "").split())
        if other.startswith("http://data.europa.eu/esco/"):  # no ESCO label is stored: the IRI and the matched text
            label = f"ESCO {target.removeprefix('esco-')} {other.rsplit('/', 1)[-1][:8]}"
            text = f"matched text: {text}" if text else ""
        groups.setdefault(key, []).append(Alignment(
            other, label, text, rank,
            float(row["confidence"]), "candidate" if relation == "seeAlso" else relation, method))
    if "serves" in groups:
        groups["serves"].sort(key=lambda a: (-a.confidence, a.label))
    order = ["discipline", "ksb", "esco-skill", "esco-occupation", "serves"]
    return [AlignmentGroup(k, HEADINGS[k], groups[k]) for k in order if k in groups]
