"""GET /metrics: the app's Prometheus metrics in the text exposition format.

https://prometheus.io/docs/instrumenting/exposition_formats/
"""

from __future__ import annotations

from fastapi import APIRouter
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.responses import Response

from sparql_api.services import ServicesDep

router = APIRouter(tags=["Operations"])


@router.api_route("/metrics", methods=["GET", "HEAD"], response_class=Response,
                  summary="Prometheus metrics: requests and latency by route, query timeouts, store size",
                  responses={200: {"description": "The Prometheus text exposition format",
                                   "content": {"text/plain": {"schema": {"type": "string"}}}}})
def metrics(services: ServicesDep) -> Response:
    """Requests and their latency by route template, method and status; queries stopped by the time
    limit; the store's size in triples (counted once per data version)."""
    body = generate_latest(services.metrics.registry)
    return Response(body, media_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"})
