"""The FastAPI application: ``create_app(settings, store)``; nothing is created at import time."""

from __future__ import annotations

import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware

from kimdata.namespaces import Iris
from sparql_api import api_docs
from sparql_api.allow import AllowMiddleware
from sparql_api.direct_routes import DirectRoutes
from sparql_api.editor import mount_static
from sparql_api.error_pages import handle_error_for_people
from sparql_api.errors import KimError
from sparql_api.named_queries import load_queries
from sparql_api.observability import Metrics, ObservabilityMiddleware
from sparql_api.openapi import finish
from sparql_api.routes import (
    collections,
    graph_store,
    health,
    metrics,
    pages,
    publish,
    resources,
    search,
    service,
    sparql,
    standards,
    validate,
)
from sparql_api.routes.queries_api import queries_router
from sparql_api.served_build import PinServices, ServedBuilds
from sparql_api.settings import Settings
from store.embedded import Store
from store.remote import RemoteStore


def create_app(settings: Settings | None = None, store: Store | RemoteStore | None = None) -> FastAPI:
    """The service over ``store`` (or the one at ``settings.store``, opened when the app starts)."""
    settings = settings or Settings()
    instruments = Metrics()
    queries = load_queries()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        builds = ServedBuilds(settings, instruments, queries)
        try:
            app.state.services = await builds.start(store, on_swap=lambda services: setattr(app.state, "services",
                                                                                              services))
            app.state.builds = builds
            yield
        finally:
            app.state.builds = None
            await builds.close()

    app = FastAPI(
        title="KIM Graph",
        summary="SPARQL 1.1 endpoint, Graph Store and linked data for occupational standards in library, "
                "information and knowledge management.",
        description="Every GET route also answers HEAD. Errors are RFC 9457 application/problem+json.",
        lifespan=lifespan,
        docs_url=None,  # served by api_docs, without a CDN or inline script
        redoc_url=None,
    )
    routers = (sparql.router, graph_store.router, service.router, health.router, resources.router,
               collections.router, search.router, queries_router(queries, Iris(settings.base_iri)),
               pages.router, validate.router, standards.router, publish.router, metrics.router, api_docs.router)
    for router in routers:
        app.include_router(router)
    mount_static(app)
    app.openapi = lambda: _openapi_without_head(app)
    for error in (KimError, StarletteHTTPException, RequestValidationError, Exception):
        app.add_exception_handler(error, handle_error_for_people)
    app.add_middleware(DirectRoutes)  # kept /id/ answers and /sparql, by their routes' code, before routing
    app.add_middleware(PinServices)  # each request keeps the build it arrived on (a new build may be taken up)
    app.add_middleware(AllowMiddleware)  # OPTIONS without a CORS preflight: what each URL answers
    app.add_middleware(GZipMiddleware, minimum_size=1000)
    # Any origin may read; no credentials are ever allowed (writes carry their own bearer token).
    app.add_middleware(
        CORSMiddleware,
        allow_origins=["*"],
        allow_credentials=False,
        allow_methods=["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS"],
        allow_headers=["Accept", "Authorization", "Content-Type", "X-Request-ID"],
        expose_headers=["Location", "Retry-After", "WWW-Authenticate", "ETag", "Last-Modified", "Link",
                        "Content-Location", "X-Request-ID"],
        max_age=600,
    )
    # Only the configured host names: no answer is made for (or from) a Host header nobody configured.
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=settings.trusted_hosts(), www_redirect=False)
    # Outermost, so it times and counts everything the app answers, preflights and errors included.
    app.add_middleware(ObservabilityMiddleware, metrics=instruments)
    return app


def _openapi_without_head(app: FastAPI) -> dict:
    """The OpenAPI document with HEAD left out (every GET also answers HEAD, as its description says)
    and with one operation id per operation, where FastAPI gives all methods of a route the same one."""
    if app.openapi_schema is None:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Duplicate Operation ID", category=UserWarning)
            schema = get_openapi(title=app.title, version=app.version, summary=app.summary,
                                 description=app.description, routes=app.routes)
        seen: set[str] = set()
        for operations in schema.get("paths", {}).values():
            operations.pop("head", None)
            for method, operation in operations.items():
                # one route serving several methods (the graph store) shares one generated id
                if operation.get("operationId") in seen:
                    operation["operationId"] = f"{operation['operationId']}_{method}"
                seen.add(operation.get("operationId"))
        app.openapi_schema = finish(schema)
    return app.openapi_schema
