"""OPTIONS on any URL a route serves: 200 with the methods it answers in ``Allow``.

https://www.rfc-editor.org/rfc/rfc9110#name-options -- a CORS preflight (with ``Origin`` and
``Access-Control-Request-Method``) is answered by the CORS middleware before it gets here. A middleware
rather than a route: a catch-all OPTIONS route would make every other method on an unknown URL a 405.
"""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Match, Mount
from starlette.types import ASGIApp, Receive, Scope, Send

METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH")


def allowed_methods(scope: Scope) -> list[str]:
    """Every method some route of the app answers at this request's path, OPTIONS included; none when no
    route serves the path."""
    routes = scope["app"].router.routes
    methods = [method for method in METHODS
               if any(route.matches({**scope, "method": method})[0] is Match.FULL
                      and (method in ("GET", "HEAD") or not isinstance(route, Mount))  # static files: read only
                      for route in routes)]
    return [*methods, "OPTIONS"] if methods else []


class AllowMiddleware:
    """Answers OPTIONS with ``Allow``; any other request, and OPTIONS on a URL no route serves (404), go on."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "OPTIONS" and "app" in scope:
            methods = allowed_methods(scope)
            if methods:
                await Response(headers={"Allow": ", ".join(methods)})(scope, receive, send)
                return
        await self.app(scope, receive, send)
