"""A request's input, read safely: its body within a limit, its Content-Type, its query parameters as
strict UTF-8, and the guards that refuse a bad value before any work is done."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl

from fastapi import Request
from fastapi.concurrency import run_in_threadpool

from sparql_api.errors import BadRequest, FederationRefused, InvalidQuery, PayloadTooLarge
from store.sparql_text import NestingTooDeep, RemoteAccessRefused, Token, refuse_deep_nesting, refuse_remote, tokens

# Absolute IRIs as RFC 3986 writes them in ASCII (anything else percent-encoded), which every RDF store
# takes as it stands: the patterns the OpenAPI document declares and the checks the routes make.
_PCT = "%[0-9A-Fa-f]{2}"
_PCHAR = rf"(?:[A-Za-z0-9._~!$&'()*+,;=:@-]|{_PCT})"
_USER = rf"(?:(?:[A-Za-z0-9._~!$&'()*+,;=:-]|{_PCT})*@)?"
_HOST = rf"(?:[A-Za-z0-9._~!$&'()*+,;=-]|{_PCT})"
_TAIL = rf"(?:\?(?:{_PCHAR}|[/?])*)?(?:#(?:{_PCHAR}|[/?])*)?"
IRI_PATTERN = (rf"^[A-Za-z][A-Za-z0-9+.-]*:(?://{_USER}{_HOST}*(?::[0-9]*)?(?:/{_PCHAR}*)*"
               rf"|/?(?:{_PCHAR}+(?:/{_PCHAR}*)*)?){_TAIL}$")
HTTP_IRI_PATTERN = rf"^[Hh][Tt][Tt][Pp][Ss]?://{_USER}{_HOST}+(?::[0-9]*)?(?:/{_PCHAR}*)*{_TAIL}$"
_IRI = re.compile(IRI_PATTERN)
HTTP_IRI = re.compile(HTTP_IRI_PATTERN)
LONG_TEXT = 4_000  # characters from which a SPARQL text is read in a thread


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
    if not _IRI.fullmatch(value):
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


def check_params(request: Request, allowed: tuple[str, ...]) -> None:
    """400 for a parameter the route does not take, or one given twice: typos fail loudly."""
    seen: set[str] = set()
    for name, _ in request.query_params.multi_items():
        if name not in allowed:
            takes = ", ".join(allowed) or "no parameters"
            raise BadRequest(f"unknown parameter {name!r}; this resource takes {takes}")
        if name in seen:
            raise BadRequest(f"give the {name} parameter at most once")
        seen.add(name)


def base_url(request: Request) -> str:
    """This service's public root URL (``KIM_PUBLIC_URL``), ending with a slash; never taken from the request."""
    return request.app.state.services.settings.public_root


def public_url(request: Request, query: str | None = None) -> str:
    """The URL of this request's path at the public address, with ``query`` (the request's own when None)."""
    root = request.scope.get("root_path", "")
    path = request.url.path
    if root and path.startswith(root):
        path = path[len(root):]
    query = request.url.query if query is None else query
    return base_url(request) + path.lstrip("/") + ("?" + query if query else "")


async def read_tokens(text: str) -> list[Token]:
    """``tokens(text)``, in a thread for a long text (up to a second for the longest accepted), so
    the event loop keeps serving meanwhile."""
    return tokens(text) if len(text) < LONG_TEXT else await run_in_threadpool(tokens, text)


def check_text(found: list[Token]) -> None:
    """Refuse SERVICE and LOAD (FederationRefused) and brackets nested too deep (InvalidQuery)."""
    try:
        refuse_remote(found)
        refuse_deep_nesting(found)
    except RemoteAccessRefused as e:
        raise FederationRefused(str(e)) from None
    except NestingTooDeep as e:
        raise InvalidQuery(str(e)) from None
