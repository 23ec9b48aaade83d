"""The rows of a coverage matrix grouped by the GKIM disciplines the alignment mapping sets link them to.

A duty or KSB belongs to a discipline's group when a mapping set of ``curated/alignments`` (loaded as
``graph/mapping-set/{name}``) maps it to that discipline with a SKOS relation, that is, with a confidence that
reached the threshold chosen on the judged set; candidates below it (``rdfs:seeAlso``) do not count, as on the
discipline pages. A row aligned to two disciplines is in both groups; a row aligned to none is in the group
"not aligned". One query reads the alignments of every duty and KSB of the standard.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kimdata.namespaces import Iris
from sparql_api.alignments import METHOD_NAMES
from sparql_api.coverage import PROLOGUE, Coverage, DutyRow, KsbColumn, check_reference, solutions
from store.protocol import KnowledgeStore

GROUPINGS = ("discipline",)
NOT_ALIGNED = "not aligned"
RULE = ("a SKOS relation (confidence at or above the threshold chosen on the judged set) from a GKIM discipline "
        "alignment of any mapping set; candidates below it (rdfs:seeAlso) are left out")

# Every SKOS-related discipline mapping of the standard's duties and KSBs, with its method and mapping set.
DISCIPLINES_QUERY = PROLOGUE + """
PREFIX sssom: <https://w3id.org/sssom/>
SELECT DISTINCT ?standard ?item ?discipline ?name ?relation ?method ?mappingSet ?confidence
WHERE {
  { ?standard kim:hasDuty ?item } UNION { ?standard kim:hasKSB ?item }
  ?mapping sssom:subject_id ?item ; kim:alignmentTarget "discipline" ; sssom:predicate_id ?relation ;
           sssom:object_id ?discipline ; sssom:mapping_justification ?method ; sssom:mapping_set ?mappingSet ;
           sssom:confidence ?confidence .
  FILTER(?relation != rdfs:seeAlso)
  OPTIONAL { ?discipline skos:prefLabel ?name }
}
"""


@dataclass(frozen=True)
class Support:
    """One mapping that puts a row in a discipline's group: its method, mapping set, relation and confidence."""

    method: str
    mapping_set: str
    relation: str
    confidence: float

    def to_json(self) -> dict:
        return {"method": self.method, "mappingSet": self.mapping_set, "relation": self.relation,
                "confidence": self.confidence}


@dataclass
class DisciplineGroup:
    """The duties and KSBs aligned to one discipline (``discipline`` None: to none), in the matrix's order."""

    discipline: str | None
    name: str
    duties: list[DutyRow] = field(default_factory=list)
    ksbs: list[KsbColumn] = field(default_factory=list)
    support: dict[str, list[Support]] = field(default_factory=dict)  # row IRI -> the mappings that place it here

    @property
    def count(self) -> int:
        return len(self.duties) + len(self.ksbs)

    @property
    def slug(self) -> str:
        return self.discipline.rstrip("/").rsplit("/", 1)[-1] if self.discipline else "not-aligned"

    def to_json(self) -> dict:
        def member(row: DutyRow | KsbColumn) -> dict:
            return {"code": row.code, "id": row.iri,
                    "alignedBy": [s.to_json() for s in self.support.get(row.iri, [])]}

        return {"discipline": self.discipline, "name": self.name, "count": self.count,
                "duties": [member(d) for d in self.duties], "ksbs": [member(k) for k in self.ksbs]}


@dataclass
class Grouping:
    """A coverage matrix's rows grouped by discipline, and the mapping sets the groups were read from."""

    by: str
    groups: list[DisciplineGroup]
    mapping_sets: list[str]

    def to_json(self) -> dict:
        return {"grouping": {"by": self.by, "rule": RULE, "mappingSets": self.mapping_sets},
                "groups": [g.to_json() for g in self.groups]}


def _local_name(iri: str) -> str:
    return iri.rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1]


def group_by_discipline(store: KnowledgeStore, iris: Iris, matrix: Coverage) -> Grouping:
    """The duties and KSBs of ``matrix`` under each discipline they are aligned to, then those aligned to none."""
    standard = iris.standard(check_reference(matrix.reference))
    names: dict[str, str] = {}
    support: dict[str, dict[str, list[Support]]] = {}  # discipline -> row IRI -> mappings
    mapping_sets: set[str] = set()
    for row in solutions(store, DISCIPLINES_QUERY, standard=standard):
        discipline, item = str(row["discipline"]), str(row["item"])
        label = row.get("name") or _local_name(discipline)
        names[discipline] = min(names.get(discipline, label), label)  # one stable name where two are stated
        mapping_sets.add(str(row["mappingSet"]))
        found = Support(METHOD_NAMES.get(str(row["method"]), str(row["method"])), str(row["mappingSet"]),
                        _local_name(str(row["relation"])), float(row["confidence"]))
        rows = support.setdefault(discipline, {}).setdefault(item, [])
        if found not in rows:
            rows.append(found)
    groups = []
    for discipline in sorted(support, key=lambda d: (names[d].casefold(), d)):
        members = support[discipline]
        for supports in members.values():
            supports.sort(key=lambda s: (-s.confidence, s.method))
        groups.append(DisciplineGroup(discipline, names[discipline],
                                      [d for d in matrix.duties if d.iri in members],
                                      [k for k in matrix.ksbs if k.iri in members], members))
    aligned = {item for members in support.values() for item in members}
    groups.append(DisciplineGroup(None, NOT_ALIGNED, [d for d in matrix.duties if d.iri not in aligned],
                                  [k for k in matrix.ksbs if k.iri not in aligned]))
    return Grouping("discipline", groups, sorted(mapping_sets))
