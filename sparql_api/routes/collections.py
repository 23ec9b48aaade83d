"""Paged collections as Hydra collections: standards, their duties and KSBs, organisations, disciplines, roles.

JSON-LD by default (``application/ld+json``, or ``application/json`` for the same document), Turtle and
N-Triples (read from that JSON-LD, so all formats carry the same triples), and an HTML table, by
``Accept`` or the ``format=`` override. ``?page=N&pageSize=M`` pages them; ``Link`` headers repeat the
Hydra view's first/previous/next/last for clients that read headers only.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from rdflib import URIRef
from rdflib.term import Node
from starlette.responses import Response

from kimdata.namespaces import KIM, KSB_CLASSES, Iris
from sparql_api import caching, html, render
from sparql_api import collections as c
from sparql_api.conneg import negotiate
from sparql_api.errors import BadRequest, ResourceNotFound
from sparql_api.routes import base_url

router = APIRouter(tags=["Collections"])

# short name (the format= value) -> media type; the first is the default
COLLECTION_FORMATS: dict[str, str] = {
    "jsonld": "application/ld+json",
    "json": "application/json",
    "turtle": "text/turtle",
    "ntriples": "application/n-triples",
    "html": "text/html",
}
REFERENCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
KSB_TYPES = {"K": "K", "S": "S", "B": "B", "KNOWLEDGE": "K", "SKILL": "S", "BEHAVIOUR": "B"}
ROLE_KINDS = {"core": KIM.coreRole, "allied": KIM.alliedRole}
PAGING = ("page", "pageSize", "format")

PageNumber = Annotated[int, Query(ge=1, le=10_000_000, description="Page number, from 1.", examples=[1])]
PageSize = Annotated[int, Query(ge=1, le=c.MAX_PAGE_SIZE, alias="pageSize",
                                description=f"Members per page, 1 to {c.MAX_PAGE_SIZE}.", examples=[20])]
FormatName = Annotated[Literal["jsonld", "json", "turtle", "ntriples", "html"] | None,
                       Query(alias="format", description="Overrides the Accept header.")]

COLLECTION_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "One page of the collection: a hydra:Collection with its hydra:PartialCollectionView.",
          "content": {media: {} for media in COLLECTION_FORMATS.values()}},
    400: {"description": "A bad page, pageSize or filter value (problem+json)."},
    404: {"description": "No such standard, or a page past the last (problem+json)."},
    406: {"description": "None of the accepted media types is available (problem+json)."},
}


# ------------------------------------------------------------------ helpers shared by the API's routes

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


def choose_format(request: Request, formats: Mapping[str, str], override: str | None) -> str:
    """The short name of the format to answer with: ``format=`` when given, else from ``Accept``."""
    if override is not None:
        if override not in formats:
            raise BadRequest(f"unknown format {override!r}; use one of {', '.join(formats)}")
        return override
    media = negotiate(request.headers.get("accept"), list(formats.values()))
    return next(name for name, value in formats.items() if value == media)


async def cached(request: Request, media_type: str, make: Callable[[], Awaitable[Response]]) -> Response:
    """``await make()`` with ETag, Last-Modified and Cache-Control from the data version, or a 304.

    The async form of ``caching.conditional``: a matching ``If-None-Match`` is answered before any
    query runs. The tag covers the whole URL (filters, page, format) and the media type.
    """
    vary = {"Vary": "Accept"}
    cache_headers = {**caching.validators(request, media_type, str(request.url)), **vary}
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None and caching.etag_matches(if_none_match, cache_headers["ETag"]):
        return caching.not_modified(cache_headers)
    response = await make()
    if not 200 <= response.status_code < 300:
        return response
    if_modified_since = request.headers.get("if-modified-since")
    if if_none_match is None and if_modified_since \
            and caching.not_modified_since(if_modified_since, caching.last_modified(request.app)):
        return caching.not_modified({**cache_headers, **{k: v for k, v in response.headers.items()
                                                         if k.lower() == "link"}})
    response.headers.update(cache_headers)
    return response


def page_url(request: Request, filters: Mapping[str, str], page: int | None, size: int) -> str:
    """This collection's URL with its filters (and a page): what the client addressed, normalised."""
    query = dict(filters)
    if page is not None:
        query["page"] = str(page)
        if size != c.DEFAULT_PAGE_SIZE:
            query["pageSize"] = str(size)
    return str(request.url.replace(query=urlencode(query)))


# ------------------------------------------------------------------ the collection response

async def respond(request: Request, spec: c.CollectionSpec, bound: Mapping[str, Node], filters: Mapping[str, str],
                  page: int, size: int, fmt: str | None, title: str,
                  check: Callable[[], Awaitable[None]] | None = None) -> Response:
    """Count, fetch one page, and write it in the negotiated format (or 304 when the client's copy is current).

    ``check`` (that the standard or organisation type exists) runs only when a body is needed.
    """
    name = choose_format(request, COLLECTION_FORMATS, fmt)  # 406 before any query
    return await cached(request, COLLECTION_FORMATS[name],
                        lambda: _page(request, spec, bound, filters, page, size, name, title, check))


async def _page(request: Request, spec: c.CollectionSpec, bound: Mapping[str, Node], filters: Mapping[str, str],
                page: int, size: int, name: str, title: str, check: Callable[[], Awaitable[None]] | None) -> Response:
    if check is not None:
        await check()
    state, base = request.app.state, base_url(request)
    total = await c.cached_total(state, spec, bound, base)
    last = c.last_page(total, size)
    if page > last:
        raise ResourceNotFound(f"page {page} does not exist: this collection has {total} members, "
                               f"{last} page(s) of {size}")
    members = await c.page_members(state, spec, bound, c.Page(page, size), base)
    document = c.hydra_page(page_url(request, filters, None, size), title, members, total, c.Page(page, size),
                            lambda n: page_url(request, filters, n, size), context_url=base + "context.jsonld")
    view = document["hydra:view"]
    links = ", ".join(f'<{view["hydra:" + rel]}>; rel="{rel}"' for rel in ("first", "previous", "next", "last")
                      if "hydra:" + rel in view)
    headers = {"Link": links}
    if name in ("jsonld", "json"):
        body = json.dumps(document, ensure_ascii=False).encode()
        return Response(body, media_type=COLLECTION_FORMATS[name], headers=headers)
    if name == "html":
        return html.render("collection.html", request=request, title=title, members=members, total=total,
                           view={rel.removeprefix("hydra:"): url for rel, url in view.items()},
                           page=page, size=size, last=last, headers=headers)
    body = c.jsonld_as(document, name, base)
    return Response(body, media_type=render.content_type(COLLECTION_FORMATS[name]), headers=headers)


def standard_iri(request: Request, reference: str) -> URIRef:
    if not REFERENCE.match(reference):
        raise ResourceNotFound(f"{reference!r} is not a standard reference such as ST1337")
    return Iris(request.app.state.settings.base_iri).standard(reference)


async def require_standard(request: Request, standard: URIRef, reference: str) -> None:
    rows = await c.select(request.app.state, c.EXISTS_STANDARD, {"standard": standard}, base_url(request))
    if not rows:
        raise ResourceNotFound(f"there is no standard {reference}")


# ------------------------------------------------------------------ routes

@router.get("/standards", summary="The occupational standards, paged", responses=COLLECTION_RESPONSES)
async def standards(request: Request, page: PageNumber = 1, page_size: PageSize = c.DEFAULT_PAGE_SIZE,
                    fmt: FormatName = None) -> Response:
    """Every occupational standard with its reference (``code``), title (``label``) and level, by reference."""
    check_params(request, PAGING)
    return await respond(request, c.STANDARDS, {}, {}, page, page_size, fmt, "Occupational standards")


@router.get("/standards/{reference}/duties", summary="The duties of a standard, paged",
            responses=COLLECTION_RESPONSES)
async def duties(request: Request, reference: str, page: PageNumber = 1,
                 page_size: PageSize = c.DEFAULT_PAGE_SIZE, fmt: FormatName = None) -> Response:
    """The duties of one standard (``ST1337``) in the standard's order, with code and statement."""
    check_params(request, PAGING)
    standard = standard_iri(request, reference)
    return await respond(request, c.DUTIES, {"standard": standard}, {}, page, page_size, fmt,
                         f"Duties of {reference}", check=lambda: require_standard(request, standard, reference))


@router.get("/standards/{reference}/ksbs", summary="The knowledge, skills and behaviours of a standard, paged",
            responses=COLLECTION_RESPONSES)
async def ksbs(request: Request, reference: str,
               type: Annotated[str | None, Query(description="K, S or B (or knowledge, skill, behaviour): "
                                                             "only that kind.", examples=["K"])] = None,
               page: PageNumber = 1, page_size: PageSize = c.DEFAULT_PAGE_SIZE,
               fmt: FormatName = None) -> Response:
    """K, then S, then B, each by number (K2 before K11), with code and statement."""
    check_params(request, ("type", *PAGING))
    standard = standard_iri(request, reference)
    bound: dict[str, Node] = {"standard": standard}
    filters: dict[str, str] = {}
    spec = c.KSBS
    if type is not None:
        letter = KSB_TYPES.get(type.strip().upper())
        if letter is None:
            raise BadRequest(f"type must be K, S or B, not {type!r}")
        bound["ksbClass"], filters["type"], spec = KSB_CLASSES[letter], letter, c.KSBS_OF_TYPE
    kinds = {"K": "Knowledge", "S": "Skills", "B": "Behaviours"}
    what = kinds[filters["type"]] if filters else "Knowledge, skills and behaviours"
    return await respond(request, spec, bound, filters, page, page_size, fmt, f"{what} of {reference}",
                         check=lambda: require_standard(request, standard, reference))


@router.get("/organisations", summary="Organisations, optionally of one type, paged", responses=COLLECTION_RESPONSES)
async def organisations(request: Request,
                        type: Annotated[str | None, Query(description="An organisation type: a concept of the "
                                                                      "org-type scheme by its slug.",
                                                          examples=["professional-body"])] = None,
                        page: PageNumber = 1, page_size: PageSize = c.DEFAULT_PAGE_SIZE,
                        fmt: FormatName = None) -> Response:
    """Professional bodies, employers, networks and the rest, by name, each with its types (``classification``)."""
    check_params(request, ("type", *PAGING))
    if type is None:
        return await respond(request, c.ORGANISATIONS, {}, {}, page, page_size, fmt, "Organisations")
    if not SLUG.match(type):
        raise BadRequest(f"type must be an organisation type slug such as professional-body, not {type!r}")
    concept = Iris(request.app.state.settings.base_iri).concept("org-type", type)

    async def known_type() -> None:
        if not await c.select(request.app.state, c.EXISTS_ORG_TYPE, {"type": concept}, base_url(request)):
            raise BadRequest(f"there is no organisation type {type!r} (a concept of the org-type scheme, "
                             "such as professional-body or employer)")

    return await respond(request, c.ORGANISATIONS_OF_TYPE, {"type": concept}, {"type": type}, page, page_size,
                         fmt, f"Organisations of type {type}", check=known_type)


@router.get("/disciplines", summary="The disciplines of the profession, paged", responses=COLLECTION_RESPONSES)
async def disciplines(request: Request, page: PageNumber = 1, page_size: PageSize = c.DEFAULT_PAGE_SIZE,
                      fmt: FormatName = None) -> Response:
    """The disciplines a profession declares (GKIM: six), by name, with the profession (``disciplineOf``)."""
    check_params(request, PAGING)
    return await respond(request, c.DISCIPLINES, {}, {}, page, page_size, fmt, "Disciplines")


@router.get("/roles", summary="The core and allied roles of the profession, paged", responses=COLLECTION_RESPONSES)
async def roles(request: Request,
                kind: Annotated[Literal["core", "allied"] | None,
                                Query(description="Only core or only allied roles.", examples=["core"])] = None,
                page: PageNumber = 1, page_size: PageSize = c.DEFAULT_PAGE_SIZE,
                fmt: FormatName = None) -> Response:
    """Core roles, then allied roles, by name, with the profession (``coreRoleOf`` or ``alliedRoleOf``)."""
    check_params(request, ("kind", *PAGING))
    if kind is None:
        return await respond(request, c.ROLES, {}, {}, page, page_size, fmt, "Roles")
    return await respond(request, c.ROLES_OF_KIND, {"relation": ROLE_KINDS[kind]}, {"kind": kind}, page,
                         page_size, fmt, f"{kind.capitalize()} roles")


# HEAD wherever GET is, kept out of the OpenAPI document (one operation per path and method there).
for _route in list(router.routes):
    router.add_api_route(_route.path, _route.endpoint, methods=["HEAD"], include_in_schema=False,
                         name=f"{_route.name}_head")
