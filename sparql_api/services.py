"""What the routes work with, built when the app starts and again for each new build it takes up: the store,
the query runner, the data version and everything kept per data version, in one typed object handed to routes
as a FastAPI dependency.

``open_services`` builds them for one build (``sparql_api.served_build`` keeps those of the build served on
``app.state.services`` and pins each request to the ones it arrived with); a route asks for them by annotation::

    @router.get("/thing")
    def thing(request: Request, services: ServicesDep) -> Response:
        return conditional(request, services.stamp, media, lambda: answer(services.store))

``StoreDep`` and ``SettingsDep`` give one part alone. Dependencies that take only the request add nothing
to the OpenAPI document.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated

import anyio.to_thread
from fastapi import Depends, Request
from rdflib import Graph

from conformance.reference import Report
from kimdata.namespaces import Iris
from sparql_api.answer_cache import AnswerCache
from sparql_api.authorization import writes_enabled
from sparql_api.caching import BodyCache, DataStamp, PerVersion
from sparql_api.fact_graphs import GraphSource, graph_sources
from sparql_api.hydra import CollectionTotals
from sparql_api.licensing import GraphRights, graph_rights
from sparql_api.named_queries import NamedQuery
from sparql_api.observability import Metrics, StoreSize
from sparql_api.prepared import Preparer
from sparql_api.search_index import SearchIndexes
from sparql_api.settings import Settings
from sparql_api.standard_reports import validate_store
from sparql_api.statistics import Stats, compute_stats
from sparql_api.uploads import concepts_graph
from sparql_api.workers import DataVersion, InlineRunner, QueryPool, RemoteRunner
from store.connect import open_store
from store.embedded import Store
from store.remote import RemoteStore

QueryRunner = QueryPool | InlineRunner | RemoteRunner


@dataclass(frozen=True)
class Services:
    """The store and what is built around it, for the app's lifetime."""

    settings: Settings
    iris: Iris
    store: Store | RemoteStore
    version: DataVersion
    """Bumped after every write: what answers, caches and query workers are kept fresh by."""
    runner: QueryRunner
    """Runs queries within the time limit: worker processes, a remote store, or (in memory) a thread."""
    answers: AnswerCache
    """Runs queries on the runner, reusing the answer of an identical query of the same data version."""
    stamp: DataStamp
    """The build and data version, which ETags and Last-Modified are made from."""
    metrics: Metrics
    store_size: StoreSize
    queries: Mapping[str, NamedQuery]
    body_cache: BodyCache
    """Built answers of /id/... by data version."""
    stats: PerVersion[Stats]
    collection_totals: CollectionTotals
    search: SearchIndexes
    concepts: PerVersion[Graph]
    """The concept schemes uploads are validated with."""
    fresh_validation: PerVersion[Report]
    """The shapes run over the whole store, for a store whose build stored no report."""
    rights: PerVersion[dict[str, GraphRights]]
    """The licence or rights of each named graph (sparql_api.licensing)."""
    graph_sources: PerVersion[dict[str, GraphSource]]
    """The source each named graph holds, and whether it is curated (sparql_api.fact_graphs)."""


@asynccontextmanager
async def open_services(settings: Settings, metrics: Metrics, queries: Mapping[str, NamedQuery],
                        store: Store | RemoteStore | None = None) -> AsyncIterator[Services]:
    """The services over ``store`` (or the one the settings name, opened here and closed after), with the
    query runner started and the search index being built."""
    opened = store if store is not None else open_store(settings, read_only=not writes_enabled(settings))
    version = DataVersion()
    iris = Iris(settings.base_iri)
    # Worker processes can be killed when a query overruns; an in-memory store cannot be shared
    # with them, so it is queried in a thread, without a time limit.
    cache_bytes = 0  # answers are kept only where every write goes through this service
    if isinstance(opened, RemoteStore):  # the remote engine works; requests are given up after the limit
        runner: QueryRunner = RemoteRunner(opened, settings.query_timeout, on_timeout=metrics.query_timeouts.inc)
    elif opened.path is not None and settings.workers > 0:
        # the build's own directory, not the link: a worker restarted after a rebuild reads what this one reads
        runner = QueryPool(opened.path.resolve(), settings.workers, settings.query_timeout, version,
                           threads=settings.worker_threads, memory_limit_mb=settings.worker_memory_mb,
                           on_timeout=metrics.query_timeouts.inc)
        await runner.start()
        cache_bytes = int(settings.answer_cache_mb * 1_000_000)
    else:
        runner = InlineRunner(opened)
    stamp = DataStamp(opened.path, version)
    preparer = Preparer(settings, stamp, opened.path.resolve() if opened.path is not None else None)
    version.listeners.append(preparer.written)
    services = Services(
        settings=settings, iris=iris, store=opened, version=version, runner=runner,
        answers=AnswerCache(runner, cache_bytes, on_reuse=metrics.answers_reused.inc), stamp=stamp, metrics=metrics,
        store_size=StoreSize(opened, stamp), queries=queries, body_cache=BodyCache(stamp, prepared=preparer),
        stats=PerVersion(version, lambda: compute_stats(opened, settings.base_iri)),
        collection_totals=CollectionTotals(), search=SearchIndexes(opened, version),
        concepts=PerVersion(version, lambda: concepts_graph(opened, iris)),
        fresh_validation=PerVersion(version, lambda: validate_store(opened, iris)),
        rights=PerVersion(version, lambda: graph_rights(opened, iris, opened.named_graphs())),
        graph_sources=PerVersion(version, lambda: graph_sources(opened, iris)),
    )
    services.search.warm()
    preparer.start()
    try:
        yield services
    finally:
        preparer.close()
        await anyio.to_thread.run_sync(runner.close)
        opened.flush()
        if store is None and isinstance(opened, RemoteStore):
            opened.close()


PINNED = "kimgraph.services"
"""The scope key under which ``sparql_api.served_build`` pins the services a request started with."""


async def provide_services(request: Request) -> Services:
    """The services ``request`` is served with (an async dependency: no thread is taken for it): those of the
    build served when it arrived, kept for it to the end even when a new build is taken up meanwhile."""
    pinned = request.scope.get(PINNED)
    return pinned if pinned is not None else request.app.state.services


ServicesDep = Annotated[Services, Depends(provide_services)]


async def provide_settings(services: ServicesDep) -> Settings:
    return services.settings


async def provide_store(services: ServicesDep) -> Store | RemoteStore:
    return services.store


SettingsDep = Annotated[Settings, Depends(provide_settings)]
StoreDep = Annotated[Store | RemoteStore, Depends(provide_store)]
