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
from sparql_api.request_input import check_params, public_url
from sparql_api.search_index import Hit, SearchIndex
from sparql_api.services import ServicesDep

router = APIRouter(tags=["Search"])

SEARCH_FORMATS = {"json": "application/json", "html": "text/html"}
MARK_START, MARK_END = "**", "**"
MAX_LIMIT = 100
MAX_OFFSET = 10_000

SEARCH_EXAMPLE = {
    "query": "GDPR", "totalItems": 2, "limit": 20, "offset": 0,
    "results": [{"id": "https://w3id.org/uk-kim/id/standard/ST1337/ksb/S15", "type": "kim:Skill", "code": "S15",
                 "snippet": "Manage and use relevant regulatory requirements, such as General Data Protection "
                            "Regulation (**GDPR**), Copyright…", "field": "statement", "score": 2.5553}],
}


@router.get(
    "/search", summary="Ranked full-text search over labels, codes and statements",
    responses={
        200: {"description": "The matches, best first. ``snippet`` is the matching text with each match between "
                             "``**`` markers; ``field`` says where it is from (statement, label or code).",
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
    fmt: Annotated[Literal["json", "html"] | None, Query(alias="format",
                                                          description="Overrides the Accept header.")] = None,
) -> Response:
    """Resources whose labels, codes or statements contain every word of ``q``, ranked by BM25."""
    check_params(request, ("q", "limit", "offset", "format"))
    name = choose_format(request.headers.get("accept"), SEARCH_FORMATS, fmt)
    searcher = services.search.current()
    # the index's own version in the tag: a large index may still reflect the data before a write
    return conditional(request, services.stamp, SEARCH_FORMATS[name],
                       lambda: _answer(request, services.settings.base_iri, searcher, q, limit, offset, name),
                       public_url(request), repr(searcher.key), headers={"Vary": "Accept"})


def _answer(request: Request, base_iri: str, searcher: SearchIndex, q: str, limit: int, offset: int,
            name: str) -> Response:
    found = searcher.search(q, limit, offset)
    links = _links(request, q, limit, offset, found.total)
    if name == "html":
        return html.render_page("search.html", request=request, base_iri=base_iri, title=f"Search: {q}", q=q,
                                found=found, limit=limit, offset=offset, links=links)
    return JSONResponse({
        "query": q, "totalItems": found.total, "limit": limit, "offset": offset,
        "results": [_result(hit) for hit in found.hits],
        **links,
    })


def _result(hit: Hit) -> dict:
    result = {"id": hit.iri, "type": hit.type, "code": hit.code, "label": hit.label,
              "snippet": hit.marked(MARK_START, MARK_END), "field": hit.field, "score": hit.score}
    return {key: value for key, value in result.items() if value is not None}


def _links(request: Request, q: str, limit: int, offset: int, total: int) -> dict[str, str]:
    def url(start: int) -> str:
        return public_url(request, urlencode({"q": q, "limit": limit, "offset": start}))

    links = {}
    if offset > 0:
        links["previous"] = url(max(0, offset - limit))
    if offset + limit < total:
        links["next"] = url(offset + limit)
    return links


# A plain def runs in the thread pool: building the index reads the whole store, never on the event loop.
router.add_api_route("/search", search, methods=["HEAD"], include_in_schema=False, name="search_head")
