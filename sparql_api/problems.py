"""The one handler that writes RFC 9457 ``application/problem+json``: our errors, the framework's HTTP errors
and surprises.

https://www.rfc-editor.org/rfc/rfc9457
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from http import HTTPStatus

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from sparql_api.errors import PROBLEM_JSON, KimError
from store.errors import StoreTimeout, StoreUnavailable

log = logging.getLogger("kimgraph.api")


def problem_response(status: int, title: str, detail: str, instance: str, *,
                     type_: str = "about:blank", headers: Mapping[str, str] | None = None) -> Response:
    """An RFC 9457 problem document."""
    body = {"type": type_, "title": title, "status": status, "detail": detail, "instance": instance}
    return Response(json.dumps(body, ensure_ascii=False).encode(), status_code=status,
                    headers=headers, media_type=PROBLEM_JSON)


async def handle_error(request: Request, exc: Exception) -> Response:
    """The one handler: our errors, framework HTTP errors and surprises all become problem+json."""
    instance = request.url.path
    if isinstance(exc, KimError):
        return problem_response(exc.status, exc.title, exc.detail, instance, type_=exc.type, headers=exc.headers)
    if isinstance(exc, StarletteHTTPException):
        title = HTTPStatus(exc.status_code).phrase
        detail = exc.detail if isinstance(exc.detail, str) and exc.detail != title else ""
        return problem_response(exc.status_code, title, detail, instance, headers=exc.headers)
    if isinstance(exc, (StoreTimeout, StoreUnavailable)):
        return problem_response(503, "Store unavailable", "The SPARQL store behind this service did not answer.",
                                instance, headers={"Retry-After": "5"})
    if isinstance(exc, RequestValidationError):
        detail = "; ".join(f"{'.'.join(map(str, e.get('loc', ())))}: {e.get('msg')}" for e in exc.errors())
        return problem_response(400, "Bad request", detail, instance)
    # A surprise stays a 500: logged here with its traceback, never shown to the client.
    log.error("unexpected error on %s %s", request.method, instance, exc_info=exc)
    return problem_response(500, "Internal error", "The server met an unexpected condition.", instance)
