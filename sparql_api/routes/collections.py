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
from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from rdflib import URIRef
from rdflib.term import Node
from starlette.responses import Response

from kimdata.namespaces import KIM, KSB_CLASSES
from sparql_api import bound_queries, formats, html, hydra
from sparql_api.caching import cached_by_url
from sparql_api.conneg import choose_format
from sparql_api.errors import BadRequest, ResourceNotFound
from sparql_api.request_input import base_url, check_params, public_url
from sparql_api.services import Services, ServicesDep

router = APIRouter(tags=["Collections"])

# short name (the format= value) -> media type; the first is the default
COLLECTION_FORMATS: dict[str, str] = {
    "jsonld": "application/ld+json",
    "json": "application/json",
    "turtle": "text/turtle",
    "ntriples": "application/n-triples",
    "html": "text/html",
}
REFERENCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}\Z")
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*\Z")
# the values of ?type=, exactly: a letter or a word, in lower, upper or title case
KSB_TYPES = {spelling: word[0].upper() for word in ("knowledge", "skill", "behaviour")
             for spelling in (word[0].upper(), word[0], word, word.upper(), word.title())}
KsbType = Literal[tuple(KSB_TYPES)]  # type: ignore[valid-type]
ROLE_KINDS = {"core": KIM.coreRole, "allied": KIM.alliedRole}
PAGING = ("page", "pageSize", "format")

PageNumber = Annotated[int, Query(ge=1, le=10_000_000, description="Page number, from 1.", examples=[1])]
PageSize = Annotated[int, Query(ge=1, le=hydra.MAX_PAGE_SIZE, alias="pageSize",
                                description=f"Members per page, 1 to {hydra.MAX_PAGE_SIZE}.", examples=[20])]
FormatName = Annotated[Literal["jsonld", "json", "turtle", "ntriples", "html"] | None,
                       Query(alias="format", description="Overrides the Accept header.")]

COLLECTION_RESPONSES = {
    200: {"description": "One page of the collection: a hydra:Collection with its hydra:PartialCollectionView.",
          "content": {media: {} for media in COLLECTION_FORMATS.values()}},
    400: {"description": "A bad page, pageSize or filter value (problem+json)."},
    404: {"description": "No such standard, or a page past the last (problem+json)."},
    406: {"description": "None of the accepted media types is available (problem+json)."},
}


# ------------------------------------------------------------------ the collection response

def page_url(request: Request, filters: Mapping[str, str], page: int | None, size: int) -> str:
    """This collection's URL with its filters (and a page): what the client addressed, normalised."""
    query = dict(filters)
    if page is not None:
        query["page"] = str(page)
        if size != hydra.DEFAULT_PAGE_SIZE:
            query["pageSize"] = str(size)
    return public_url(request, urlencode(query))


async def respond(request: Request, services: Services, spec: hydra.CollectionSpec, bound: Mapping[str, Node],
                  filters: Mapping[str, str], page: int, size: int, fmt: str | None, title: str,
                  check: Callable[[], Awaitable[None]] | None = None) -> Response:
    """Count, fetch one page, and write it in the negotiated format (or 304 when the client's copy is current).

    ``check`` (that the standard or organisation type exists) runs only when a body is needed.
    """
    name = choose_format(request.headers.get("accept"), COLLECTION_FORMATS, fmt)  # 406 before any query
    return await cached_by_url(request, services.stamp, COLLECTION_FORMATS[name],
                               lambda: _page(request, services, spec, bound, filters, page, size, name, title, check))


async def _page(request: Request, services: Services, spec: hydra.CollectionSpec, bound: Mapping[str, Node],
                filters: Mapping[str, str], page: int, size: int, name: str, title: str,
                check: Callable[[], Awaitable[None]] | None) -> Response:
    if check is not None:
        await check()
    base = base_url(request)
    total = await bound_queries.collection_total(services, spec, bound, base)
    last = hydra.last_page(total, size)
    if page > last:
        raise ResourceNotFound(f"page {page} does not exist: this collection has {total} members, "
                               f"{last} page(s) of {size}")
    members = await bound_queries.page_members(services, spec, bound, hydra.Page(page, size), base)
    document = hydra.hydra_page(page_url(request, filters, None, size), title, members, total, hydra.Page(page, size),
                                lambda n: page_url(request, filters, n, size), context_url=base + "context.jsonld")
    view = document["hydra:view"]
    links = ", ".join(f'<{view["hydra:" + rel]}>; rel="{rel}"' for rel in ("first", "previous", "next", "last")
                      if "hydra:" + rel in view)
    headers = {"Link": links}
    if name in ("jsonld", "json"):
        body = json.dumps(document, ensure_ascii=False).encode()
        return Response(body, media_type=COLLECTION_FORMATS[name], headers=headers)
    if name == "html":
        return html.render_page("collection.html", request=request, base_iri=services.settings.base_iri, title=title,
                                members=members, total=total,
                                view={rel.removeprefix("hydra:"): url for rel, url in view.items()},
                                page=page, size=size, last=last, headers=headers)
    body = hydra.jsonld_as(document, name, base)
    return Response(body, media_type=formats.content_type(COLLECTION_FORMATS[name]), headers=headers)


def standard_iri(services: Services, reference: str) -> URIRef:
    if not REFERENCE.match(reference):
        raise ResourceNotFound(f"{reference!r} is not a standard reference such as ST1337")
    return services.iris.standard(reference)


async def require_standard(request: Request, services: Services, standard: URIRef, reference: str) -> None:
    rows = await bound_queries.select(services, hydra.EXISTS_STANDARD, {"standard": standard}, base_url(request))
    if not rows:
        raise ResourceNotFound(f"there is no standard {reference}")


# ------------------------------------------------------------------ routes

@router.get("/standards", summary="The occupational standards, paged", responses=COLLECTION_RESPONSES)
async def standards(request: Request, services: ServicesDep, page: PageNumber = 1,
                    page_size: PageSize = hydra.DEFAULT_PAGE_SIZE, fmt: FormatName = None) -> Response:
    """Every occupational standard with its reference (``code``), title (``label``) and level, by reference."""
    check_params(request, PAGING)
    return await respond(request, services, hydra.STANDARDS, {}, {}, page, page_size, fmt, "Occupational standards")


@router.get("/standards/{reference}/duties", summary="The duties of a standard, paged",
            responses=COLLECTION_RESPONSES)
async def duties(request: Request, services: ServicesDep, reference: str, page: PageNumber = 1,
                 page_size: PageSize = hydra.DEFAULT_PAGE_SIZE, fmt: FormatName = None) -> Response:
    """The duties of one standard (``ST1337``) in the standard's order, with code and statement."""
    check_params(request, PAGING)
    standard = standard_iri(services, reference)
    return await respond(request, services, hydra.DUTIES, {"standard": standard}, {}, page, page_size, fmt,
                         f"Duties of {reference}",
                         check=lambda: require_standard(request, services, standard, reference))


@router.get("/standards/{reference}/ksbs", summary="The knowledge, skills and behaviours of a standard, paged",
            responses=COLLECTION_RESPONSES)
async def ksbs(request: Request, services: ServicesDep, reference: str,
               type: Annotated[KsbType | None, Query(description="K, S or B (or knowledge, skill, behaviour): "
                                                                 "only that kind.", examples=["K"])] = None,
               page: PageNumber = 1, page_size: PageSize = hydra.DEFAULT_PAGE_SIZE,
               fmt: FormatName = None) -> Response:
    """K, then S, then B, each by number (K2 before K11), with code and statement."""
    check_params(request, ("type", *PAGING))
    standard = standard_iri(services, reference)
    bound: dict[str, Node] = {"standard": standard}
    filters: dict[str, str] = {}
    spec = hydra.KSBS
    if type is not None:
        letter = KSB_TYPES.get(type)
        if letter is None:
            raise BadRequest(f"type must be K, S or B, not {type!r}")
        bound["ksbClass"], filters["type"], spec = KSB_CLASSES[letter], letter, hydra.KSBS_OF_TYPE
    kinds = {"K": "Knowledge", "S": "Skills", "B": "Behaviours"}
    what = kinds[filters["type"]] if filters else "Knowledge, skills and behaviours"
    return await respond(request, services, spec, bound, filters, page, page_size, fmt, f"{what} of {reference}",
                         check=lambda: require_standard(request, services, standard, reference))


ORG_TYPES = ("professional-body", "network", "special-interest-group", "community-of-practice", "online-community",
             "practitioners-group", "user-group", "committee", "civil-service-profession", "government-department",
             "employer", "standards-body")
"""The concepts of the org-type scheme (curated/concepts.ttl), listed in the OpenAPI document."""


def _org_type_enum(schema: dict) -> None:
    """The allowed values on the parameter's string schema (the schema of ``str | None`` is an ``anyOf``)."""
    for branch in schema.get("anyOf", [schema]):
        if branch.get("type") == "string":
            branch["enum"] = list(ORG_TYPES)


@router.get("/organisations", summary="Organisations, optionally of one type, paged", responses=COLLECTION_RESPONSES)
async def organisations(request: Request, services: ServicesDep,
                        type: Annotated[str | None, Query(description="An organisation type: a concept of the "
                                                                      "org-type scheme by its slug; a type also "
                                                                      "finds its narrower types (`network`: every "
                                                                      "network and community).",
                                                          examples=["professional-body"],
                                                          json_schema_extra=_org_type_enum)] = None,
                        page: PageNumber = 1, page_size: PageSize = hydra.DEFAULT_PAGE_SIZE,
                        fmt: FormatName = None) -> Response:
    """Professional bodies, employers, networks and the rest, by name, each with its types (``classification``)."""
    check_params(request, ("type", *PAGING))
    if type is None:
        return await respond(request, services, hydra.ORGANISATIONS, {}, {}, page, page_size, fmt, "Organisations")
    if not SLUG.match(type):
        raise BadRequest(f"type must be an organisation type slug such as professional-body, not {type!r}")
    concept = services.iris.concept("org-type", type)

    async def known_type() -> None:
        if not await bound_queries.select(services, hydra.EXISTS_ORG_TYPE, {"type": concept}, base_url(request)):
            raise BadRequest(f"there is no organisation type {type!r} (a concept of the org-type scheme, "
                             "such as professional-body or employer)")

    return await respond(request, services, hydra.ORGANISATIONS_OF_TYPE, {"type": concept}, {"type": type}, page,
                         page_size, fmt, f"Organisations of type {type}", check=known_type)


@router.get("/disciplines", summary="The disciplines of the profession, paged", responses=COLLECTION_RESPONSES)
async def disciplines(request: Request, services: ServicesDep, page: PageNumber = 1,
                      page_size: PageSize = hydra.DEFAULT_PAGE_SIZE, fmt: FormatName = None) -> Response:
    """The disciplines a profession declares (GKIM: six), by name, with the profession (``disciplineOf``)."""
    check_params(request, PAGING)
    return await respond(request, services, hydra.DISCIPLINES, {}, {}, page, page_size, fmt, "Disciplines")


@router.get("/roles", summary="The core and allied roles of the profession, paged", responses=COLLECTION_RESPONSES)
async def roles(request: Request, services: ServicesDep,
                kind: Annotated[Literal["core", "allied"] | None,
                                Query(description="Only core or only allied roles.", examples=["core"])] = None,
                page: PageNumber = 1, page_size: PageSize = hydra.DEFAULT_PAGE_SIZE,
                fmt: FormatName = None) -> Response:
    """Core roles, then allied roles, by name, with the profession (``coreRoleOf`` or ``alliedRoleOf``)."""
    check_params(request, ("kind", *PAGING))
    if kind is None:
        return await respond(request, services, hydra.ROLES, {}, {}, page, page_size, fmt, "Roles")
    return await respond(request, services, hydra.ROLES_OF_KIND, {"relation": ROLE_KINDS[kind]}, {"kind": kind}, page,
                         page_size, fmt, f"{kind.capitalize()} roles")


# HEAD wherever GET is, kept out of the OpenAPI document (one operation per path and method there).
for _route in list(router.routes):
    router.add_api_route(_route.path, _route.endpoint, methods=["HEAD"], include_in_schema=False,
                         name=f"{_route.name}_head")
