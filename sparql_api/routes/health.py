"""Health checks: ``/health`` (the store's size), ``/health/live`` (the process) and ``/health/ready`` (can serve).

Liveness touches nothing but the process, so an orchestrator restarts only a process that cannot answer
at all; readiness asks the store a query and looks at the query workers, so a load balancer holds
traffic back from a replica that could not serve it. Both report the data version the ETags are made
from: the store's build and the number of writes this process has applied since it opened it.
"""

from __future__ import annotations

import logging

import anyio.to_thread
from fastapi import APIRouter, Request

from sparql_api.caching import build_id, data_version
from sparql_api.errors import NotReady
from sparql_api.openapi import problems
from sparql_api.authorization import read_only_reason
from sparql_api.workers import QueryPool

router = APIRouter(tags=["Operations"])
log = logging.getLogger("kimgraph.health")


@router.api_route("/health", methods=["GET", "HEAD"], summary="Liveness, with the number of triples in the store")
def health(request: Request) -> dict:
    """``{"status": "ok", "triples": N, "read_only": bool}`` while the store answers, with ``read_only_reason``
    when the service is read-only."""
    reason = read_only_reason(request.app.state.settings, request.app.state.store)
    triples = request.app.state.metrics.store_size.triples()  # counted once per data version
    return {"status": "ok", "triples": triples, "read_only": reason is not None,
            **({"read_only_reason": reason} if reason else {})}


def _version(request: Request) -> dict:
    app = request.app
    return {"build": build_id(app), "version": data_version(app),
            "read_only": read_only_reason(app.state.settings, app.state.store) is not None}


@router.api_route("/health/live", methods=["GET", "HEAD"], summary="Liveness: the process answers")
def live(request: Request) -> dict:
    """``{"status": "live", "build": ..., "version": N, "read_only": bool}``, without asking the store."""
    return {"status": "live", **_version(request)}


@router.api_route("/health/ready", methods=["GET", "HEAD"],
                  summary="Readiness: the store answers a query and the query workers are alive",
                  responses=problems(503, s503="Not ready: the store does not answer, or no query worker is "
                                                "alive; Retry-After says when to ask again."))
async def ready(request: Request) -> dict:
    """``{"status": "ready", ..., "workers": {"alive": n, "configured": m}}``; 503 problem+json when not ready."""
    state = request.app.state
    try:
        await anyio.to_thread.run_sync(_ask, state.store)
    except Exception as e:
        log.warning("not ready: the store does not answer queries: %s", e)
        raise NotReady("the store does not answer queries") from None
    workers = {"alive": 0, "configured": 0}
    if isinstance(state.runner, QueryPool):
        workers = {"alive": state.runner.alive(), "configured": state.runner.size}
        if workers["alive"] == 0:
            raise NotReady("no query worker is alive")
    return {"status": "ready", **_version(request), "workers": workers}


def _ask(store) -> None:
    store.query("ASK {}")
