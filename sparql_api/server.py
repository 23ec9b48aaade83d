"""``kimgraph serve``: build the store when there is none, then serve it with uvicorn."""

from __future__ import annotations

import logging
from pathlib import Path

import uvicorn

from sparql_api.settings import Settings

log = logging.getLogger("kimgraph.server")


def serve(settings: Settings) -> int:
    """Serve the store at ``settings.store`` on ``settings.host:settings.port``; the exit status."""
    from sparql_api.app import create_app
    from sparql_api.cli import main as kimgraph

    if not settings.store_url and not Path(settings.store).exists():
        print(f"kimgraph serve: no store at {settings.store}; building it first")
        status = kimgraph(["build", "--store", str(settings.store)])
        if status:
            return status
    config = uvicorn.Config(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        proxy_headers=True,
        timeout_graceful_shutdown=5,
        log_level="info",
    )
    server = uvicorn.Server(config)
    server.run()
    return 0 if server.started else 1
