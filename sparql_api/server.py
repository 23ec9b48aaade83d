"""``kimgraph serve``: check that the store opens, then serve it with uvicorn."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import uvicorn

from sparql_api.app import create_app
from sparql_api.authorization import writes_enabled
from sparql_api.observability import configure_access_log
from sparql_api.settings import Settings
from store.connect import open_for_service
from store.errors import StoreError

log = logging.getLogger("kimgraph.server")

EXIT_STORE_UNUSABLE = 2


def serve(settings: Settings, require_writable: bool = False) -> int:
    """Serve the store at ``settings.store`` on ``settings.host:settings.port``; the exit status.

    The store is opened before the server starts, so a store that is unreadable or not a store, or (with
    ``require_writable``) locked or not writable, ends the command with one line on standard error.
    Without ``require_writable`` such a store is served read-only, with a warning.
    """
    store = None
    if not settings.store_url:
        try:
            store = open_for_service(Path(settings.store), writes_enabled(settings), require_writable)
        except StoreError as e:
            print(f"kimgraph serve: error: {e}", file=sys.stderr)
            return EXIT_STORE_UNUSABLE
        if store.read_only_reason:
            print(f"kimgraph serve: warning: {store.read_only_reason}; serving it read-only: "
                  "writes answer 503 until the service is restarted on a writable store", file=sys.stderr, flush=True)
    config = uvicorn.Config(
        create_app(settings, store),
        host=settings.host,
        port=settings.port,
        proxy_headers=True,
        timeout_graceful_shutdown=5,
        log_level="info",
        access_log=False,  # the app writes its own, as JSON lines on "kimgraph.access"
    )
    configure_access_log()
    server = uvicorn.Server(config)
    server.run()
    return 0 if server.started else 1
