"""``GET /id/...`` answered from the kept answers before routing: a read and a copy.

An answer of ``/id/`` that was built before or prepared ahead (sparql_api.prepared) is all bytes; what is
left to do per request is content negotiation, the validators (304s included) and the headers. Routing and
FastAPI's request handling (dependencies, parameter validation, exception layers) cost several times that,
so this middleware answers such a request itself, with the route's own code
(``sparql_api.routes.resources.kept_resource``): the same status, headers and body. Anything else -- a query
string (``?format=``), an answer not kept yet, a path or Accept header the route would refuse -- goes on to
the route. It sits inside the CORS, compression and build-pinning middlewares, so those apply as before.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from sparql_api.routes.resources import ID_PREFIX, kept_resource, router
from sparql_api.services import PINNED

_ROUTE = next(route for route in router.routes if getattr(route, "path", "").startswith(ID_PREFIX))


class KeptResources:
    """Answers ``GET`` and ``HEAD`` of ``/id/...`` without a query string when the answer is kept."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        services = scope.get(PINNED)
        if (services is not None and scope["type"] == "http" and scope["method"] in ("GET", "HEAD")
                and scope["path"].startswith(ID_PREFIX) and not scope["query_string"] and not scope.get("root_path")):
            response = kept_resource(Request(scope, receive), services)
            if response is not None:
                scope["route"] = _ROUTE  # for the access log and the metrics, as when the route answers
                services.metrics.resources_kept.inc()
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
