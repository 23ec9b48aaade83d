"""The service's own queries, with values bound by substitution, run on the query runner (which stops a
query at the time limit): SELECT rows, and the totals and pages of the Hydra collections."""

from __future__ import annotations

import json
from collections.abc import Mapping

from rdflib.term import Node

from sparql_api.hydra import CollectionSpec, Page, member
from sparql_api.workers import QueryAnswer, QueryJob

TOTALS_KEPT = 512  # cached counts per app; cleared wholesale when full (they are cheap to recompute)


async def run_bound(state, sparql: str, substitutions: Mapping[str, Node], *, base_iri: str,
                    results_format: str | None = "json", graph_format: str | None = "jsonld") -> QueryAnswer:
    """Run a query with values bound by substitution on the app's runner, which stops it at the time limit."""
    job = QueryJob(sparql=sparql, base_iri=base_iri, results_format=results_format, graph_format=graph_format,
                   max_rows=state.settings.max_result_rows, version=state.version.value,
                   substitutions=tuple(substitutions.items()))
    return await state.runner.run(job)


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


async def collection_total(state, spec: CollectionSpec, substitutions: Mapping[str, Node], base_iri: str) -> int:
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
    """One page of a collection's members."""
    rows = await select(state, spec.page_query(page.size, page.offset), substitutions, base_iri)
    return [member(row) for row in rows]
