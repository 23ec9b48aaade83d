"""The service's own queries, with values bound by substitution, run on the query runner (which stops a
query at the time limit): SELECT rows, and the totals and pages of the Hydra collections."""

from __future__ import annotations

import json
from collections.abc import Mapping

from rdflib.term import Node

from sparql_api.hydra import CollectionSpec, Page, member
from sparql_api.services import Services
from sparql_api.workers import QueryAnswer, QueryJob


async def run_bound(services: Services, sparql: str, substitutions: Mapping[str, Node], *, base_iri: str,
                    results_format: str | None = "json", graph_format: str | None = "jsonld") -> QueryAnswer:
    """Run a query with values bound by substitution on the services' runner, which stops it at the time limit."""
    job = QueryJob(sparql=sparql, base_iri=base_iri, results_format=results_format, graph_format=graph_format,
                   max_rows=services.settings.max_result_rows, version=services.version.value,
                   substitutions=tuple(substitutions.items()))
    return await services.answers.run(job)


def solutions(answer: QueryAnswer) -> list[dict[str, str]]:
    """The rows of a SPARQL JSON results answer as plain strings (unbound variables left out)."""
    document = json.loads(answer.body)
    return [{name: term["value"] for name, term in binding.items()}
            for binding in document.get("results", {}).get("bindings", [])]


async def select(services: Services, sparql: str, substitutions: Mapping[str, Node],
                 base_iri: str) -> list[dict[str, str]]:
    """Run a bound SELECT and return its rows."""
    return solutions(await run_bound(services, sparql, substitutions, base_iri=base_iri, graph_format=None))


async def collection_total(services: Services, spec: CollectionSpec, substitutions: Mapping[str, Node],
                           base_iri: str) -> int:
    """``totalItems`` of a collection, counted once per data version and kept in ``services.collection_totals``."""
    key = (id(services.store), services.version.value, spec.name,
           tuple(sorted((k, str(v)) for k, v in substitutions.items())))
    total = services.collection_totals.get(key)
    if total is None:
        rows = await select(services, spec.count_query(), substitutions, base_iri)
        total = int(rows[0]["total"]) if rows else 0
        services.collection_totals.put(key, total)
    return total


async def page_members(services: Services, spec: CollectionSpec, substitutions: Mapping[str, Node], page: Page,
                       base_iri: str) -> list[dict]:
    """One page of a collection's members."""
    rows = await select(services, spec.page_query(page.size, page.offset), substitutions, base_iri)
    return [member(row) for row in rows]
