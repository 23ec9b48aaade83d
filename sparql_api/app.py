"""The FastAPI application: ``create_app(settings, store)``; nothing is created at import time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware

from sparql_api.editor import mount_static
from sparql_api.errors import KimError, handle_error
from sparql_api.routes import graph_store, health, service, sparql, writes_enabled
from sparql_api.settings import Settings
from sparql_api.store import Store
from sparql_api.workers import DataVersion, InlineRunner, QueryPool


def create_app(settings: Settings | None = None, store: Store | None = None) -> FastAPI:
    """The service over ``store`` (or the one at ``settings.store``, opened when the app starts)."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        opened = store or Store.open(settings.store, read_only=not writes_enabled(settings))
        app.state.store = opened
        app.state.version = DataVersion()
        app.state.stats = None
        # Worker processes can be killed when a query overruns; an in-memory store cannot be shared
        # with them, so it is queried in a thread, without a time limit.
        if opened.path is not None and settings.workers > 0:
            runner = QueryPool(opened.path, settings.workers, settings.query_timeout, app.state.version)
            await runner.start()
        else:
            runner = InlineRunner(opened)
        app.state.runner = runner
        try:
            yield
        finally:
            await anyio.to_thread.run_sync(runner.close)
            opened.flush()

    app = FastAPI(
        title="KIM Graph",
        summary="SPARQL 1.1 endpoint, Graph Store and linked data for occupational standards in library, "
                "information and knowledge management.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    for router in (sparql.router, graph_store.router, service.router, health.router):
        app.include_router(router)
    mount_static(app)
    for error in (KimError, StarletteHTTPException, RequestValidationError, Exception):
        app.add_exception_handler(error, handle_error)
    app.add_middleware(GZipMiddleware, minimum_size=1000)
    # Any origin may read; no credentials are ever allowed (writes carry their own bearer token).
    app.add_middleware(
        CORSMiddleware,
        allow_origins=["*"],
        allow_credentials=False,
        allow_methods=["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS"],
        allow_headers=["Accept", "Authorization", "Content-Type"],
        expose_headers=["Location", "Retry-After", "WWW-Authenticate"],
        max_age=600,
    )
    return app
