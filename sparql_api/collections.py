"""Paged collections of the linked-data API as Hydra collections, and running bound queries on the app's runner.

A collection is one SPARQL page query and one count query over the union graph, with the values that
select it (a standard, a KSB class, an organisation type) bound by substitution, never pasted into the
text. Pages are Hydra ``PartialCollectionView`` s (https://www.w3.org/ns/hydra/core):

>>> view_links(page=2, size=10, total=25, url=lambda n: f"/c?page={n}")
{'first': '/c?page=1', 'previous': '/c?page=1', 'next': '/c?page=3', 'last': '/c?page=3'}
>>> view_links(page=1, size=10, total=0, url=lambda n: f"/c?page={n}")
{'first': '/c?page=1', 'last': '/c?page=1'}

Counting at scale: ``totalItems`` comes from a ``COUNT(DISTINCT ...)`` run once per data version and
collection, then kept (``cached_total``); pages use ORDER BY with LIMIT/OFFSET, which sorts the
filtered members only (a standard's 60 KSBs, not the million triples around them).
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from fastapi.concurrency import run_in_threadpool
from rdflib.term import Node

from kimdata.namespaces import KIM, ORG, PREFIXES
from sparql_api import render
from sparql_api.compact import load_context
from sparql_api.errors import BadRequest, KimError
from sparql_api.workers import QueryAnswer, QueryJob
from store.errors import QuerySyntaxError

HYDRA = "http://www.w3.org/ns/hydra/core#"
SKOS = PREFIXES["skos"]
DCTERMS = PREFIXES["dcterms"]
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
TOTALS_KEPT = 512  # cached counts per app; cleared wholesale when full (they are cheap to recompute)

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

# The same, narrowed to one organisation type (a concept of the org-type scheme) bound to ?type.
ORGANISATIONS_OF_TYPE = dataclasses.replace(
    ORGANISATIONS, name="organisations-of-type", title="Organisations of one type",
    where=_ORGANISATION.replace("NARROW", "\n  ?item org:classification ?type ."), bound=("type",),
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
    triples = render.parse_triples(data, "jsonld", base_iri)
    return render.convert_ntriples(render.triples_as_sparql(triples).encode(), fmt)


# ------------------------------------------------------------------ running bound queries

def _job_takes_substitutions() -> bool:
    return any(f.name == "substitutions" for f in dataclasses.fields(QueryJob))


async def run_bound(state, sparql: str, substitutions: Mapping[str, Node], *, base_iri: str,
                    results_format: str | None = "json", graph_format: str | None = "jsonld") -> QueryAnswer:
    """Run a query with values bound by substitution, on the app's runner when it can take them.

    The runner (worker processes) stops a query that overruns the time limit. Until ``QueryJob`` carries
    substitutions, the query runs in a thread of this process instead, without that limit.
    """
    settings = state.settings
    if _job_takes_substitutions():
        job = QueryJob(sparql=sparql, base_iri=base_iri, results_format=results_format,
                       graph_format=graph_format, max_rows=settings.max_result_rows,
                       version=state.version.value, substitutions=tuple(substitutions.items()))
        return await state.runner.run(job)
    return await run_in_threadpool(_execute_bound, state.store, sparql, dict(substitutions),
                                   results_format, graph_format, settings.max_result_rows)


def _execute_bound(store, sparql: str, substitutions: dict[str, Node], results_format: str | None,
                   graph_format: str | None, max_rows: int) -> QueryAnswer:
    try:
        result = store.query(sparql, substitutions=substitutions)
    except QuerySyntaxError as e:  # our own text: a bug, not the client's fault
        raise KimError(f"a built-in query does not parse: {e}") from e
    except ValueError as e:
        raise BadRequest(str(e)) from None
    kind = "graph" if render.is_graph(result) else "results"
    fmt = graph_format if kind == "graph" else results_format
    if fmt is None:
        raise render.not_acceptable(kind)
    return QueryAnswer(fmt, render.serialize_result(result, fmt, max_rows))


def solutions(answer: QueryAnswer) -> list[dict[str, str]]:
    """The rows of a SPARQL JSON results answer as plain strings (unbound variables left out)."""
    document = json.loads(answer.body)
    return [{name: term["value"] for name, term in binding.items()}
            for binding in document.get("results", {}).get("bindings", [])]


async def select(state, sparql: str, substitutions: Mapping[str, Node], base_iri: str) -> list[dict[str, str]]:
    """Run a bound SELECT and return its rows."""
    return solutions(await run_bound(state, sparql, substitutions, base_iri=base_iri, graph_format=None))


def data_version(state) -> tuple[int, int]:
    """What identifies the data a cached answer was computed from: the store object and its write counter."""
    return (id(state.store), state.version.value)


async def cached_total(state, spec: CollectionSpec, substitutions: Mapping[str, Node], base_iri: str) -> int:
    """``totalItems`` of a collection, counted once per data version and kept on the app's state."""
    cache = getattr(state, "collection_totals", None)
    if cache is None or len(cache) > TOTALS_KEPT:
        cache = state.collection_totals = {}
    key = (data_version(state), spec.name, tuple(sorted((k, str(v)) for k, v in substitutions.items())))
    if key not in cache:
        rows = await select(state, spec.count_query(), substitutions, base_iri)
        cache[key] = int(rows[0]["total"]) if rows else 0
    return cache[key]


async def page_members(state, spec: CollectionSpec, substitutions: Mapping[str, Node], page: Page,
                       base_iri: str) -> list[dict]:
    rows = await select(state, spec.page_query(page.size, page.offset), substitutions, base_iri)
    return [member(row) for row in rows]

