"""The OpenAPI document's shared parts: RFC 9457 problem responses, media-type content, and the final pass.

Every error the service answers is ``application/problem+json`` written by the one handler in
sparql_api/errors.py, so every 4xx and 5xx response of the document says so, with one schema.
https://spec.openapis.org/oas/v3.1.0#responses-object
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sparql_api.errors import PROBLEM_JSON

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "An RFC 9457 problem document.",
    "type": "object",
    "required": ["type", "title", "status", "detail", "instance"],
    "properties": {
        "type": {"type": "string", "description": "about:blank, or the problem type's IRI"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "instance": {"type": "string", "description": "the path of the request"},
    },
}

ERRORS: dict[int, str] = {
    400: "A malformed request, or a missing, unknown or bad parameter; the detail says which.",
    401: "A write without a valid bearer token; WWW-Authenticate says how to send one.",
    403: "A write to a read-only service (no write token is configured).",
    404: "Nothing is known under this name.",
    406: "None of the media types in Accept is available here.",
    413: "The request body (or the query or update in it) is larger than the configured limit.",
    414: "The query in the URL is longer than the configured limit.",
    415: "The request body's Content-Type cannot be read here.",
    422: "The result has more rows or triples than the configured limit.",
    503: "The query ran over the time limit, or the service is busy; Retry-After says when to try again.",
}


def problems(*statuses: int, **descriptions: str) -> dict[int | str, dict]:
    """OpenAPI ``responses`` entries for error statuses, each an RFC 9457 problem document.

    ``descriptions`` replace the general text of a status, keyed ``s404=...``.

    >>> sorted(problems(404, 406, s404="No such graph."))
    [404, 406]
    >>> problems(404, s404="No such graph.")[404]["description"]
    'No such graph.'
    """
    return {status: {"description": descriptions.get(f"s{status}", ERRORS[status]),
                     "content": {PROBLEM_JSON: {"schema": PROBLEM_SCHEMA}}}
            for status in statuses}


def content(media_types: Iterable[str], schema: dict[str, Any] | None = None) -> dict[str, dict]:
    """An OpenAPI ``content`` map: each media type, with ``schema`` when one is given."""
    return {media: ({"schema": schema} if schema is not None else {}) for media in media_types}


def finish(document: dict[str, Any]) -> dict[str, Any]:
    """Make every error response of ``document`` what the one handler writes, in place.

    FastAPI documents a 422 ``HTTPValidationError`` for every operation with parameters; the handler
    answers those errors with a 400 problem instead. Every other 4xx and 5xx response gets the
    problem+json content and schema (keeping an example already given).
    """
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.get("responses", {})
            generated = responses.get("422", {}).get("content", {}).get("application/json", {})
            if "HTTPValidationError" in str(generated.get("schema", "")):
                del responses["422"]
                responses.setdefault("400", problems(400)[400])
            for status, response in responses.items():
                if str(status)[0] in "45":
                    example = response.get("content", {}).get(PROBLEM_JSON, {}).get("example")
                    response["content"] = {PROBLEM_JSON: {"schema": PROBLEM_SCHEMA}}
                    if example is not None:
                        response["content"][PROBLEM_JSON]["example"] = example
    schemas = document.get("components", {}).get("schemas", {})
    if "HTTPValidationError" not in str(document.get("paths", {})):
        for name in ("HTTPValidationError", "ValidationError"):
            schemas.pop(name, None)
    if "components" in document and not schemas:
        document["components"].pop("schemas", None)
        if not document["components"]:
            del document["components"]
    return document
