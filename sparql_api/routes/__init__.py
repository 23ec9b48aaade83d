"""The HTTP routers, and the helpers they share: authorisation, bodies, parameters, IRIs."""

from __future__ import annotations

import hmac
import re
from urllib.parse import parse_qsl

from fastapi import Request

from sparql_api.errors import BadRequest, Forbidden, PayloadTooLarge, StoreReadOnly, Unauthorized

_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^<>\"{}|^`\\\x00-\x20]*$")


def writes_enabled(settings) -> bool:
    """Whether a write token is configured (an empty one counts as none)."""
    return settings.write_token is not None and bool(settings.write_token.get_secret_value())


def read_only_reason(state) -> str | None:
    """Why the service refuses writes (no write token, or a store it could open only read-only), else None."""
    if not writes_enabled(state.settings):
        return "no write token is configured"
    return getattr(getattr(state, "store", None), "read_only_reason", None)


def require_writer(request: Request) -> None:
    """Let a write through only with the configured bearer token (RFC 6750); read-only without one,
    and 503 when the store could be opened only read-only."""
    settings = request.app.state.settings
    if not writes_enabled(settings):
        raise Forbidden("this service is read-only: no write token is configured")
    token = settings.write_token
    scheme, _, credentials = request.headers.get("authorization", "").strip().partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        raise Unauthorized("writing needs an 'Authorization: Bearer <token>' header")
    if not hmac.compare_digest(credentials.strip().encode(), token.get_secret_value().encode()):
        raise Unauthorized("the bearer token is not valid", invalid=True)
    reason = read_only_reason(request.app.state)
    if reason:
        raise StoreReadOnly(f"the store is open read-only: {reason}; writes are refused until the service "
                            "is restarted on a writable store")


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 as soon as it passes ``limit`` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"the request body is {declared} bytes; the most accepted is {limit}")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"the request body is larger than {limit} bytes, the most accepted")
        chunks.append(chunk)
    return b"".join(chunks)


def media_type(header: str | None) -> tuple[str, dict[str, str]]:
    """A Content-Type header as its lower-cased type and its parameters.

    >>> media_type('application/sparql-query; charset="UTF-8"')
    ('application/sparql-query', {'charset': 'utf-8'})
    """
    base, *params = (header or "").split(";")
    parsed = {}
    for param in params:
        name, _, value = param.partition("=")
        parsed[name.strip().lower()] = value.strip().strip('"').lower()
    return base.strip().lower(), parsed


def absolute_iri(value: str, parameter: str) -> str:
    """An IRI from a request parameter, checked to be absolute and safe to write as ``<iri>``.

    >>> absolute_iri("http://example.org/g1", "graph")
    'http://example.org/g1'
    >>> absolute_iri("http://x/> } ; DROP ALL ; #", "graph")
    Traceback (most recent call last):
    ...
    sparql_api.errors.BadRequest: graph must be an absolute IRI, not 'http://x/> } ; DROP ALL ; #'
    """
    if not _IRI.match(value):
        raise BadRequest(f"{parameter} must be an absolute IRI, not {value!r}")
    return value


def query_items(request: Request) -> list[tuple[str, str]]:
    """The URL's query parameters in order; 400 when a percent-encoded value is not UTF-8.

    (Starlette's own ``query_params`` would put U+FFFD in its place and carry on.)
    """
    try:
        return parse_qsl(request.scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True,
                         encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        raise BadRequest("a query parameter is not valid UTF-8 once percent-decoded") from None


def values(params: list[tuple[str, str]], name: str) -> list[str]:
    """Every value of a (repeatable) parameter, in order."""
    return [value for key, value in params if key == name]


def single(params: list[tuple[str, str]], name: str) -> str | None:
    """The one value of an optional parameter; 400 when it is repeated."""
    found = values(params, name)
    if len(found) > 1:
        raise BadRequest(f"give the {name} parameter at most once")
    return found[0] if found else None


def base_url(request: Request) -> str:
    """This service's root URL as the client addressed it, ending with a slash."""
    return str(request.base_url)
