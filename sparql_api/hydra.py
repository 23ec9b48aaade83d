"""Paged collections of the linked-data API as Hydra collections.

A collection is one SPARQL page query and one count query over the union graph, with the values that
select it (a standard, a KSB class, an organisation type) bound by substitution, never pasted into the
text. Pages are Hydra ``PartialCollectionView`` s (https://www.w3.org/ns/hydra/core):

>>> view_links(page=2, size=10, total=25, url=lambda n: f"/c?page={n}")
{'first': '/c?page=1', 'previous': '/c?page=1', 'next': '/c?page=3', 'last': '/c?page=3'}
>>> view_links(page=1, size=10, total=0, url=lambda n: f"/c?page={n}")
{'first': '/c?page=1', 'last': '/c?page=1'}

Counting at scale: ``totalItems`` comes from a ``COUNT(DISTINCT ...)`` run once per data version and
collection, then kept (``bound_queries.collection_total``); pages use ORDER BY with LIMIT/OFFSET, which sorts the
filtered members only (a standard's 60 KSBs, not the million triples around them).
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from kimdata.namespaces import KIM, ORG, PREFIXES
from sparql_api import formats
from sparql_api.compact import load_context

HYDRA = "http://www.w3.org/ns/hydra/core#"
SKOS = PREFIXES["skos"]
DCTERMS = PREFIXES["dcterms"]
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500

# Class names of the published context (ontology/context.jsonld) for the classes members can have,
# the most specific first: members list their classes in this order.
CLASS_TERMS: dict[str, str] = {
    str(KIM.OccupationalStandard): "OccupationalStandard",
    str(KIM.Duty): "Duty",
    str(KIM.Knowledge): "Knowledge",
    str(KIM.Skill): "Skill",
    str(KIM.Behaviour): "Behaviour",
    str(ORG.FormalOrganization): "FormalOrganization",
    str(ORG.OrganizationalUnit): "OrganizationalUnit",
    str(ORG.OrganizationalCollaboration): "OrganizationalCollaboration",
    str(ORG.Organization): "Organization",
    SKOS + "Concept": "Concept",
}

# Members use the published context's terms (code, reference, label, statement, ...), so a member reads
# like the resource at /id/...; the Hydra keys are compact IRIs, which cannot clash with its terms
# ("member" there is org:member, "Collection" skos:Collection).
HYDRA_CONTEXT: dict = {
    "hydra": HYDRA,
    "hydra:member": {"@container": "@set"},
    "hydra:first": {"@type": "@id"},
    "hydra:previous": {"@type": "@id"},
    "hydra:next": {"@type": "@id"},
    "hydra:last": {"@type": "@id"},
}

_PREFIXES = "\n".join(f"PREFIX {p}: <{PREFIXES[p]}>" for p in ("kim", "skos", "dcterms", "ceasn", "org")) + "\n"
# K before S before B, then by number (K2 before K11): the order the standard prints them in.
KSB_ORDER = '(STRLEN(STRBEFORE("KSB", SUBSTR(?code, 1, 1)))) ?ordinal ?code ?item'
ORG_CLASSES = "org:Organization org:FormalOrganization org:OrganizationalUnit org:OrganizationalCollaboration"
# Which class names a member when it has several: the most specific first.
TYPE_PREFERENCE = list(CLASS_TERMS)


@dataclass(frozen=True)
class CollectionSpec:
    """One kind of collection: its page and count queries, and what each row says about a member.

    ``where`` selects ``?item`` (with any bound variables); ``fields`` are the SELECT aggregates that
    describe it; ``order`` sorts the page. Bound variables must be projected (pyoxigraph 0.5.13), so
    they are grouped on as well.
    """

    name: str
    title: str
    where: str
    fields: str
    order: str
    bound: tuple[str, ...] = ()

    def page_query(self, size: int, offset: int) -> str:
        keys = " ".join(f"?{v}" for v in self.bound)
        return (f"{_PREFIXES}SELECT {keys} ?item {self.fields}\nWHERE {{\n{self.where}\n}}\n"
                f"GROUP BY {keys} ?item\nORDER BY {self.order}\nLIMIT {int(size)} OFFSET {int(offset)}")

    def count_query(self) -> str:
        keys = " ".join(f"?{v}" for v in self.bound)
        group = f"\nGROUP BY {keys}" if keys else ""
        return f"{_PREFIXES}SELECT {keys} (COUNT(DISTINCT ?item) AS ?total)\nWHERE {{\n{self.where}\n}}{group}"


_TYPES = '(GROUP_CONCAT(DISTINCT STR(?class); separator=" ") AS ?types)'
_LABEL = ('OPTIONAL { ?item skos:prefLabel ?prefLabel FILTER(LANGMATCHES(LANG(?prefLabel), "en")) }')

STANDARDS = CollectionSpec(
    "standards", "Occupational standards",
    where=f"""  ?item a kim:OccupationalStandard ; a ?class .
  OPTIONAL {{ ?item dcterms:identifier ?identifier }}
  OPTIONAL {{ ?item skos:notation ?notation }}
  {_LABEL}
  OPTIONAL {{ ?item kim:level ?lvl }}""",
    fields=("(SAMPLE(?identifier) AS ?reference) (SAMPLE(?notation) AS ?code) (SAMPLE(?prefLabel) AS ?label) "
            f"(SAMPLE(?lvl) AS ?level) {_TYPES}"),
    order="?reference ?label ?item",
)

DUTIES = CollectionSpec(
    "duties", "Duties of a standard",
    where="""  ?standard kim:hasDuty ?item .
  ?item a ?class .
  OPTIONAL { ?item skos:notation ?notation }
  OPTIONAL { ?item kim:ordinal ?ord }
  OPTIONAL { ?item dcterms:description ?desc FILTER(LANGMATCHES(LANG(?desc), "en")) }""",
    fields=f"(SAMPLE(?notation) AS ?code) (MIN(?ord) AS ?ordinal) (SAMPLE(?desc) AS ?description) {_TYPES}",
    order="?ordinal ?code ?item",
    bound=("standard",),
)

KSBS = CollectionSpec(
    "ksbs", "Knowledge, skills and behaviours of a standard",
    where="""  ?standard kim:hasKSB ?item .
  ?item a ?ksbClass .
  FILTER(?ksbClass IN (kim:Knowledge, kim:Skill, kim:Behaviour))
  ?item a ?class .
  OPTIONAL { ?item skos:notation ?notation }
  OPTIONAL { ?item kim:ordinal ?ord }
  OPTIONAL { ?item ceasn:competencyText ?text FILTER(LANGMATCHES(LANG(?text), "en")) }""",
    fields=f"(SAMPLE(?notation) AS ?code) (MIN(?ord) AS ?ordinal) (SAMPLE(?text) AS ?statement) {_TYPES}",
    order=KSB_ORDER,
    bound=("standard",),
)

# The same, narrowed to one of kim:Knowledge, kim:Skill, kim:Behaviour bound to ?ksbClass.
KSBS_OF_TYPE = dataclasses.replace(KSBS, name="ksbs-of-type", bound=("standard", "ksbClass"))

_ORGANISATION = f"""  VALUES ?orgClass {{ {ORG_CLASSES} }}
  ?item a ?orgClass .
  ?item a ?class .NARROW
  OPTIONAL {{ ?item org:classification ?orgType }}
  {_LABEL}"""

ORGANISATIONS = CollectionSpec(
    "organisations", "Organisations",
    where=_ORGANISATION.replace("NARROW", ""),
    fields=("(SAMPLE(?prefLabel) AS ?label) "
            '(GROUP_CONCAT(DISTINCT STR(?orgType); separator=" ") AS ?classification) ' + _TYPES),
    order="?label ?item",
)

# The same, narrowed to one organisation type (a concept of the org-type scheme) bound to ?type, or a
# narrower one (type=network also finds the online communities, practitioners groups and the rest).
ORGANISATIONS_OF_TYPE = dataclasses.replace(
    ORGANISATIONS, name="organisations-of-type", title="Organisations of one type",
    where=_ORGANISATION.replace("NARROW", "\n  ?item org:classification/skos:broader* ?type ."), bound=("type",),
)

DISCIPLINES = CollectionSpec(
    "disciplines", "Disciplines of the profession",
    where=f"""  ?profession kim:hasDiscipline ?item .
  ?item a ?class .
  {_LABEL}""",
    fields=f"(SAMPLE(?prefLabel) AS ?label) (SAMPLE(?profession) AS ?disciplineOf) {_TYPES}",
    order="?label ?item",
)

ROLES = CollectionSpec(
    "roles", "Roles of the profession",
    where=f"""  ?profession ?relation ?item .
  FILTER(?relation IN (kim:coreRole, kim:alliedRole))
  BIND(IF(?relation = kim:coreRole, "core", "allied") AS ?kind)
  ?item a ?class .
  {_LABEL}""",
    fields=("(SAMPLE(?prefLabel) AS ?label) (SAMPLE(?profession) AS ?roleOf) (MIN(?kind) AS ?roleKind) "
            + _TYPES),
    order="(?roleKind != \"core\") ?label ?item",
)

# The same, narrowed to core or allied roles by binding ?relation.
ROLES_OF_KIND = dataclasses.replace(ROLES, name="roles-of-kind", title="Roles of the profession of one kind",
                                    bound=("relation",))

EXISTS_STANDARD = _PREFIXES + "SELECT ?standard WHERE { ?standard a kim:OccupationalStandard } LIMIT 1"
EXISTS_ORG_TYPE = _PREFIXES + "SELECT ?type WHERE { ?type a skos:Concept } LIMIT 1"


def _integer(value: str) -> int | str:
    return int(value) if value.lstrip("-").isdigit() else value


def member(row: Mapping[str, str]) -> dict:
    """One row of a page query as a compact JSON-LD member in the published context's terms."""
    found: dict = {"id": row["item"]}
    types = row.get("types", "").split()
    found["type"] = [CLASS_TERMS.get(t, t) for t in sorted(types, key=_type_rank)]
    for key in ("code", "reference", "label", "statement", "description"):
        if row.get(key):
            found[key] = row[key]
    for key in ("ordinal", "level"):
        if row.get(key):
            found[key] = _integer(row[key])
    if "classification" in row:
        found["classification"] = sorted(row["classification"].split())
    if row.get("disciplineOf"):
        found["disciplineOf"] = [row["disciplineOf"]]
    if row.get("roleOf"):
        found["coreRoleOf" if row.get("roleKind") == "core" else "alliedRoleOf"] = [row["roleOf"]]
    return found


def _type_rank(iri: str) -> tuple[int, str]:
    return (TYPE_PREFERENCE.index(iri) if iri in TYPE_PREFERENCE else len(TYPE_PREFERENCE), iri)


# ------------------------------------------------------------------ paging

@dataclass(frozen=True)
class Page:
    """Which page of a collection: 1-based number and size."""

    number: int = 1
    size: int = DEFAULT_PAGE_SIZE

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size


def last_page(total: int, size: int) -> int:
    """The number of the last page (1 for an empty collection)."""
    return max(1, math.ceil(total / size))


def view_links(page: int, size: int, total: int, url: Callable[[int], str]) -> dict[str, str]:
    """first, previous, next and last page URLs of a view (previous/next only where they exist)."""
    last = last_page(total, size)
    links = {"first": url(1)}
    if page > 1:
        links["previous"] = url(min(page - 1, last))
    if page < last:
        links["next"] = url(page + 1)
    links["last"] = url(last)
    return links


def hydra_page(collection_id: str, title: str, members: list[dict], total: int, page: Page,
               url: Callable[[int], str], context_url: str) -> dict:
    """One page of a collection as compact JSON-LD: a hydra:Collection with its hydra:PartialCollectionView."""
    links = view_links(page.number, page.size, total, url)
    view = {"id": url(page.number), "type": ["hydra:PartialCollectionView"],
            **{f"hydra:{rel}": link for rel, link in links.items()}}
    return {"@context": [context_url, HYDRA_CONTEXT], "id": collection_id, "type": ["hydra:Collection"],
            "hydra:title": title, "hydra:totalItems": total, "hydra:view": view, "hydra:member": members}


def jsonld_as(document: dict, fmt: str, base_iri: str) -> bytes:
    """A page in another RDF format, read by a JSON-LD processor (so every format says the same triples).

    The published context is read from its file rather than fetched from its URL.
    """
    local = dict(document)
    local["@context"] = [load_context().document["@context"], *document["@context"][1:]]
    data = json.dumps(local, ensure_ascii=False).encode()
    triples = formats.parse_triples(data, "jsonld", base_iri)
    return formats.convert_ntriples(formats.triples_as_sparql(triples).encode(), fmt)


class CollectionTotals:
    """``totalItems`` of the collections by data version, spec and bound values; emptied when it holds too many
    (they are cheap to count again)."""

    def __init__(self, most: int = 512) -> None:
        self.most = most
        self._totals: dict[tuple, int] = {}

    def get(self, key: tuple) -> int | None:
        return self._totals.get(key)

    def put(self, key: tuple, total: int) -> None:
        if len(self._totals) > self.most:
            self._totals.clear()
        self._totals[key] = total
