"""GET /search: ranked full-text search over labels, codes and statements (SQLite FTS5, BM25).

JSON by default, an HTML page of results by ``Accept`` (or ``format=html``). The index is built from
the store the first time a search needs it after the data changed (see ``sparql_api.search_index``).
"""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from starlette.responses import JSONResponse, Response

from sparql_api import html
from sparql_api.caching import conditional
from sparql_api.conneg import choose_format
from sparql_api.errors import BadRequest
from sparql_api.request_input import check_params, public_url
from sparql_api.search_index import KINDS, Hit, SearchIndex
from sparql_api.services import ServicesDep

router = APIRouter(tags=["Search"])

SEARCH_FORMATS = {"json": "application/json", "html": "text/html"}
MAX_LIMIT = 100
MAX_OFFSET = 10_000

SEARCH_EXAMPLE = {
    "query": "GDPR", "totalItems": 2, "limit": 20, "offset": 0,
    "results": [{"id": "https://w3id.org/uk-kim/id/standard/ST1337/ksb/S15", "type": "kim:Skill", "code": "S15",
                 "snippet": "Manage and use relevant regulatory requirements, such as General Data Protection "
                            "Regulation (GDPR), Copyright…", "matches": [{"start": 84, "end": 88}],
                 "field": "statement", "score": 2.5553}],
}


def _kinds_enum(schema: dict) -> None:
    """The allowed values on the parameter's string schema (the schema of ``str | None`` is an ``anyOf``)."""
    for branch in schema.get("anyOf", [schema]):
        if branch.get("type") == "string":
            branch["enum"] = [*KINDS, ""]


@router.get(
    "/search", summary="Ranked full-text search over labels, codes and statements",
    responses={
        200: {"description": "The matches, best first. ``snippet`` is the matching text, plain; ``matches`` gives "
                             "each match in it as character offsets (``start`` included, ``end`` excluded, counted "
                             "in Unicode code points); ``field`` says where it is from (statement, label or code).",
              "content": {"application/json": {"example": SEARCH_EXAMPLE}, "text/html": {}}},
        400: {"description": "A missing or bad parameter (problem+json)."},
        406: {"description": "Neither JSON nor HTML is acceptable (problem+json)."},
    },
)
def search(
    request: Request,
    services: ServicesDep,
    q: Annotated[str, Query(min_length=1, max_length=500, examples=["GDPR"],
                            description="Words to find, all of them (case and accents ignored, word stems "
                                        "matched). A code typed exactly, such as K19, comes first. Quotes and "
                                        "operators are taken as text.")],
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Most results to return.")] = 20,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Results to skip.")] = 0,
    type: Annotated[str | None, Query(
        description="Only resources of this kind: duties, knowledge, skills or behaviours (of any standard), "
                    "standards, organisations, or the disciplines and roles of the profession; empty for any.",
        json_schema_extra=_kinds_enum)] = None,
    fmt: Annotated[Literal["json", "html"] | None, Query(alias="format",
                                                          description="Overrides the Accept header.")] = None,
) -> Response:
    """Resources whose labels, codes or statements contain every word of ``q``, ranked by BM25."""
    check_params(request, ("q", "limit", "offset", "type", "format"))
    if type is not None and type.strip() not in (*KINDS, ""):
        raise BadRequest(f"type must be one of {', '.join(KINDS)}, not {type!r}")
    type = type.strip() or None if type is not None else None
    name = choose_format(request.headers.get("accept"), SEARCH_FORMATS, fmt)
    searcher = services.search.current()
    # the index's own version in the tag: a large index may still reflect the data before a write
    return conditional(request, services.stamp, SEARCH_FORMATS[name],
                       lambda: _answer(request, services.settings.base_iri, searcher, q, limit, offset, type, name),
                       public_url(request), repr(searcher.key), headers={"Vary": "Accept"})


def _answer(request: Request, base_iri: str, searcher: SearchIndex, q: str, limit: int, offset: int,
            kind: str | None, name: str) -> Response:
    found = searcher.search(q, limit, offset, kind)
    links = _links(request, q, limit, offset, kind, found.total)
    if name == "html":
        return html.render_page("search.html", request=request, base_iri=base_iri, title=f"Search: {q}", q=q,
                                found=found, limit=limit, offset=offset, links=links, kind=kind, kinds=KINDS)
    return JSONResponse({
        "query": q, **({"type": kind} if kind else {}), "totalItems": found.total, "limit": limit, "offset": offset,
        "results": [_result(hit) for hit in found.hits],
        **links,
    })


def _result(hit: Hit) -> dict:
    result = {"id": hit.iri, "type": hit.type, "code": hit.code, "label": hit.label, "snippet": hit.text(),
              "matches": [{"start": start, "end": end} for start, end in hit.matches()], "field": hit.field,
              "score": hit.score}
    return {key: value for key, value in result.items() if value is not None}


def _links(request: Request, q: str, limit: int, offset: int, kind: str | None, total: int) -> dict[str, str]:
    def url(start: int) -> str:
        query = {"q": q, **({"type": kind} if kind else {}), "limit": limit, "offset": start}
        return public_url(request, urlencode(query))

    links = {}
    if offset > 0:
        links["previous"] = url(max(0, offset - limit))
    if offset + limit < total:
        links["next"] = url(offset + limit)
    return links


# A plain def runs in the thread pool: building the index reads the whole store, never on the event loop.
router.add_api_route("/search", search, methods=["HEAD"], include_in_schema=False, name="search_head")
