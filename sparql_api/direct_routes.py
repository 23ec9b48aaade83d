"""The busiest requests answered by their routes' own code before routing: ``GET /id/...`` from the kept
answers, and the SPARQL protocol at ``/sparql``.

Routing and FastAPI's request handling (dependencies, parameter validation, exception layers) cost several
times what is left to do for an ``/id/`` answer that was built before or prepared ahead (sparql_api.prepared),
and a large share of a small SPARQL lookup. Both routes take the request and the services, nothing FastAPI
resolves, so this middleware calls them directly:

- ``GET``/``HEAD /id/...`` without a query string, when its answer is kept:
  ``sparql_api.routes.resources.kept_resource`` gives the route's status, headers (304s included) and body.
  Anything else -- ``?format=``, an answer not kept yet, a path or Accept header the route refuses -- goes on
  to the route.
- ``GET``/``HEAD``/``POST /sparql``: the route's handlers, and our errors turned into problem+json by the
  app's own handler, as the exception layer would; a surprise goes up to the server-error layer as before.

It sits inside the access log, the Host check, CORS, compression and build pinning, so those apply as before,
and it names the route in the scope, so the metrics and the access log count the request under it.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from sparql_api.error_pages import handle_error_for_people
from sparql_api.errors import KimError
from sparql_api.routes import resources, sparql
from sparql_api.services import PINNED

SPARQL_PATH = "/sparql"
_ID_ROUTE = next(r for r in resources.router.routes if getattr(r, "path", "").startswith(resources.ID_PREFIX))
_SPARQL_ROUTES = {method: route for route in sparql.router.routes if getattr(route, "path", "") == SPARQL_PATH
                  for method in getattr(route, "methods", ())}


class DirectRoutes:
    """Answers kept ``/id/`` answers and ``/sparql`` requests without routing (see the module docstring)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        services = scope.get(PINNED)
        if services is not None and scope["type"] == "http" and not scope.get("root_path"):
            path, method = scope["path"], scope["method"]
            if path == SPARQL_PATH and method in _SPARQL_ROUTES:
                await self._sparql(scope, receive, send, services)
                return
            if method in ("GET", "HEAD") and path.startswith(resources.ID_PREFIX) and not scope["query_string"]:
                response = resources.kept_resource(Request(scope, receive), services)
                if response is not None:
                    scope["route"] = _ID_ROUTE
                    services.metrics.resources_kept.inc()
                    await response(scope, receive, send)
                    return
        await self.app(scope, receive, send)

    @staticmethod
    async def _sparql(scope: Scope, receive: Receive, send: Send, services) -> None:
        method = scope["method"]
        scope["route"] = _SPARQL_ROUTES[method]
        request = Request(scope, receive)
        handler = sparql.sparql_post if method == "POST" else sparql.sparql_get
        try:
            response = await handler(request, services)
        except (KimError, HTTPException) as e:
            response = await handle_error_for_people(request, e)
        await response(scope, receive, send)
