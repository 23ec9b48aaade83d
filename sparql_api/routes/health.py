"""Health checks: ``/health`` (the store's size), ``/health/live`` (the process) and ``/health/ready`` (can serve).

Liveness touches nothing but the process, so an orchestrator restarts only a process that cannot answer
at all; readiness asks the store a query and looks at the query workers, so a load balancer holds
traffic back from a replica that could not serve it. Both report the data version the ETags are made
from: the store's build and the number of writes this process has applied since it opened it.
"""

from __future__ import annotations

import logging

import anyio.to_thread
from fastapi import APIRouter

from sparql_api.authorization import read_only_reason
from sparql_api.errors import NotReady
from sparql_api.openapi import problems
from sparql_api.services import Services, ServicesDep
from sparql_api.workers import QueryPool

router = APIRouter(tags=["Operations"])
log = logging.getLogger("kimgraph.health")


@router.api_route("/health", methods=["GET", "HEAD"], summary="Liveness, with the number of triples in the store")
def health(services: ServicesDep) -> dict:
    """``{"status": "ok", "triples": N, "read_only": bool}`` while the store answers, with ``read_only_reason``
    when the service is read-only."""
    reason = read_only_reason(services.settings, services.store)
    triples = services.store_size.triples()  # counted once per data version
    return {"status": "ok", "triples": triples, "read_only": reason is not None,
            **({"read_only_reason": reason} if reason else {})}


def _version(services: Services) -> dict:
    return {"build": services.stamp.build, "version": services.stamp.data_version,
            "read_only": read_only_reason(services.settings, services.store) is not None}


@router.api_route("/health/live", methods=["GET", "HEAD"], summary="Liveness: the process answers")
def live(services: ServicesDep) -> dict:
    """``{"status": "live", "build": ..., "version": N, "read_only": bool}``, without asking the store."""
    return {"status": "live", **_version(services)}


@router.api_route("/health/ready", methods=["GET", "HEAD"],
                  summary="Readiness: the store answers a query and the query workers are alive",
                  responses=problems(503, s503="Not ready: the store does not answer, or fewer query workers "
                                                "than configured are alive; Retry-After says when to ask again."))
async def ready(services: ServicesDep) -> dict:
    """``{"status": "ready", ..., "workers": {"alive": n, "configured": m}, "answers": {"state": ...}}``
    (``answers``: the prepared answers of /id/, "ready" with their number, "preparing", "missing" or "off");
    503 problem+json when not ready."""
    try:
        await anyio.to_thread.run_sync(_ask, services.store)
    except Exception as e:
        log.warning("not ready: the store does not answer queries: %s", e)
        raise NotReady("the store does not answer queries") from None
    workers = {"alive": 0, "configured": 0}
    if isinstance(services.runner, QueryPool):
        workers = {"alive": services.runner.alive(), "configured": services.runner.size}
        if workers["alive"] < workers["configured"]:
            raise NotReady("no query worker is alive" if workers["alive"] == 0 else
                           f"{workers['alive']} of {workers['configured']} query workers are alive; "
                           "the others are being started")
    answers = services.body_cache.prepared.state() if services.body_cache.prepared is not None else {"state": "off"}
    return {"status": "ready", **_version(services), "workers": workers, "answers": answers}


def _ask(store) -> None:
    store.query("ASK {}")
