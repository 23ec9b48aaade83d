"""The SPARQL 1.1 Protocol at /sparql: queries, updates, and the service description.

https://www.w3.org/TR/sparql11-protocol/
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from starlette.responses import Response

from sparql_api import formats
from sparql_api.authorization import require_writer, writes_enabled
from sparql_api.conneg import negotiate
from sparql_api.descriptions import description_response, service_description
from sparql_api.editor import editor_response
from sparql_api.errors import BadRequest, KimError, NotAcceptable, PayloadTooLarge, UnsupportedMediaType, UriTooLong
from sparql_api.graphs import apply_update, in_writer
from sparql_api.openapi import content, problems
from sparql_api.request_input import (
    IRI_PATTERN,
    absolute_iri,
    base_url,
    check_text,
    media_type,
    query_items,
    read_body,
    read_tokens,
    values,
)
from sparql_api.services import Services, ServicesDep
from sparql_api.workers import QueryJob
from store.sparql_text import add_using, keywords, query_form

router = APIRouter(tags=["SPARQL"])

FORM = "application/x-www-form-urlencoded"
SPARQL_QUERY = "application/sparql-query"
SPARQL_UPDATE = "application/sparql-update"

# ------------------------------------------------------------------ routes

_GRAPH_IRIS = {"type": "array", "items": {"type": "string", "pattern": IRI_PATTERN}}
_PROTOCOL = {
    "query": {"type": "string", "minLength": 1, "description": "A SPARQL 1.1 query."},
    "default-graph-uri": {**_GRAPH_IRIS, "description": "Graphs whose merge is the default graph (§2.1.4)."},
    "named-graph-uri": {**_GRAPH_IRIS, "description": "The named graphs of the dataset (§2.1.4)."},
    "format": {"type": "string", "description": "Overrides Accept: json, xml, csv, tsv, turtle, ... or a media type."},
}
_UPDATE = {
    "update": {"type": "string", "description": "A SPARQL 1.1 update (needs the bearer token)."},
    "using-graph-uri": {**_GRAPH_IRIS, "description": "USING graphs of the update (§2.2.3)."},
    "using-named-graph-uri": {**_GRAPH_IRIS, "description": "USING NAMED graphs of the update (§2.2.3)."},
}
_ANSWERS: dict[str, Any] = {"description": "SELECT and ASK results, or CONSTRUCT and DESCRIBE graphs, by Accept or format=.",
            "content": content(dict.fromkeys(formats.RESULT_OFFERS + formats.GRAPH_OFFERS))}
GET_DOC: dict[str, Any] = {
    "response_class": Response,
    "openapi_extra": {"parameters": [{"name": name, "in": "query", "required": False, "schema": schema}
                                     for name, schema in _PROTOCOL.items()]},
    "responses": {200: {**_ANSWERS, "description": _ANSWERS["description"] + " Without a query: the service "
                        "description (RDF), or the query editor (HTML) for a browser.",
                        "content": {**_ANSWERS["content"], "text/html": {}}},
                  **problems(400, 406, 414, 422, 503)},
}


def _with_none_of(required: list[str], others: dict[str, Any]) -> dict[str, Any]:
    """A JSON Schema: ``required`` is there and none of ``others`` is."""
    return {"required": required, "not": {"anyOf": [{"required": [name]} for name in others]}}


POST_DOC: dict[str, Any] = {
    "response_class": Response,
    "openapi_extra": {"requestBody": {"required": True, "content": {
        SPARQL_QUERY: {"schema": {"type": "string", "minLength": 1}},
        SPARQL_UPDATE: {"schema": {"type": "string"}},  # an empty update is one that does nothing
        FORM: {"schema": {"type": "object", "properties": {**_PROTOCOL, **_UPDATE},  # a query or an update
                          "oneOf": [_with_none_of(["query"], _UPDATE), _with_none_of(["update"], _PROTOCOL)]}},
    }}},
    "responses": {200: _ANSWERS, 204: {"description": "The update was applied."},
                  **problems(400, 401, 403, 406, 413, 415, 422, 503)},
}


@router.api_route("/sparql", methods=["GET", "HEAD"], summary="SPARQL query by GET, or the service description",
                  **GET_DOC)
async def sparql_get(request: Request, services: ServicesDep) -> Response:
    """``?query=`` runs a query (results by Accept or ``format=``); without one, describes the service."""
    params = query_items(request)
    if values(params, "update"):
        raise BadRequest("a SPARQL Update must be sent with POST (SPARQL 1.1 Protocol §2.2)")
    queries = values(params, "query")
    if not queries:
        for name in ("default-graph-uri", "named-graph-uri"):  # refused as with a query, though unused
            for graph in values(params, name):
                absolute_iri(graph, name)
        return await _description_or_editor(request, services)
    return await _query(request, services, _one(queries, "query"), params, too_long=UriTooLong)


@router.post("/sparql", summary="SPARQL query or update by POST (form-encoded or direct)", **POST_DOC)
async def sparql_post(request: Request, services: ServicesDep) -> Response:
    """A query or (with a bearer token) an update, form-encoded or sent directly."""
    settings = services.settings
    kind, parameters = media_type(request.headers.get("content-type"))
    params = query_items(request)
    if kind == FORM:
        body = await read_body(request, settings.max_body_bytes)
        try:  # decoded exactly once: "100%2541" is the text "100%41"
            params += parse_qsl(body.decode("utf-8"), keep_blank_values=True, encoding="utf-8", errors="strict")
        except (UnicodeDecodeError, ValueError):
            raise BadRequest("the form body is not valid UTF-8 URL-encoded text") from None
    elif kind in (SPARQL_QUERY, SPARQL_UPDATE):
        if parameters.get("charset", "utf-8") != "utf-8":
            raise UnsupportedMediaType(f"{kind} must be UTF-8 (SPARQL 1.1 Protocol §2.1.3), "
                                       f"not {parameters['charset']}")
        body = await read_body(request, settings.max_body_bytes)
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise BadRequest(f"the {kind} body is not valid UTF-8") from None
        params.append(("query" if kind == SPARQL_QUERY else "update", text))
    else:
        raise UnsupportedMediaType(f"POST to /sparql needs Content-Type {SPARQL_QUERY}, {SPARQL_UPDATE} or {FORM}"
                                   + (f", not {kind}" if kind else ""))
    queries, updates = values(params, "query"), values(params, "update")
    if queries and updates:
        raise BadRequest("send either a query or an update, not both")
    if queries:
        _refuse(params, _UPDATE, "a query")
        return await _query(request, services, _one(queries, "query"), params, too_long=PayloadTooLarge)
    if updates:
        _refuse(params, _PROTOCOL, "an update")
        return await _update(request, services, _one(updates, "update"), params)
    raise BadRequest("the request has no query and no update")


async def _description_or_editor(request: Request, services: Services) -> Response:
    """GET /sparql without a query: the query editor for browsers, the service description for the rest."""
    accept = request.headers.get("accept")
    chosen = negotiate(accept, formats.GRAPH_OFFERS + ["text/html"])
    if chosen == "text/html":
        return await run_in_threadpool(editor_response, request, services.queries, services.iris)
    writable = writes_enabled(services.settings)
    return await run_in_threadpool(
        lambda: description_response(service_description(base_url(request), services.stats.get(), writable), accept))


def _refuse(params: list[tuple[str, str]], names: Iterable[str], what: str) -> None:
    """400 for a parameter of the other operation: a query has no using-graph-uri, an update no format."""
    for name in names:
        if values(params, name):
            raise BadRequest(f"{name} does not go with {what} (SPARQL 1.1 Protocol §2)")


def _one(found: list[str], name: str) -> str:
    if len(found) > 1:
        raise BadRequest(f"the request has {len(found)} {name} parameters; send exactly one")
    return found[0]


async def _query(request: Request, services: Services, text: str, params: list[tuple[str, str]],
                 too_long: type[KimError]) -> Response:
    settings = services.settings
    if len(text) > settings.max_query_length:
        raise too_long(f"the query is {len(text)} characters long; the most accepted is {settings.max_query_length}")
    found = await read_tokens(text)
    check_text(found)
    form = query_form(found)
    results_media = graph_media = None
    if form in (None, "SELECT", "ASK"):
        accept = _accept(request, params, "results")
        results_media = _acceptable(accept, formats.RESULT_OFFERS, required=form is not None)
    accept_header = None
    if form in (None, "CONSTRUCT", "DESCRIBE"):
        accept = accept_header = _accept(request, params, "graph")
        graph_media = _acceptable(accept, formats.GRAPH_OFFERS, required=form is not None)
    default_graphs = [absolute_iri(g, "default-graph-uri") for g in values(params, "default-graph-uri")]
    named_graphs = [absolute_iri(g, "named-graph-uri") for g in values(params, "named-graph-uri")]
    # Protocol graphs replace the dataset (§2.1.4); else FROM in the query does; else the union.
    explicit = bool(default_graphs or named_graphs)
    job = QueryJob(
        sparql=text,
        base_iri=base_url(request) + "sparql",
        union_default=not explicit and "FROM" not in keywords(found),
        default_graphs=tuple(default_graphs) if explicit else None,
        named_graphs=tuple(named_graphs) if explicit else None,
        results_format=results_media and formats.format_of(results_media, "results").name,
        graph_format=graph_media and formats.format_of(graph_media, "graph").name,
        max_rows=settings.max_result_rows,
        version=services.version.value,
        jsonld_context=base_url(request) + "context.jsonld" if wants_compacted(accept_header) else None,
    )
    answer = await services.answers.run(job)
    media = results_media if formats.BY_NAME[answer.format].kind == "results" else graph_media
    content_type = formats.content_type(media)
    if answer.format == "jsonld" and job.jsonld_context:
        content_type = f'application/ld+json; profile="{JSONLD_COMPACTED}"'
    return Response(answer.body, media_type=content_type, headers={"Vary": "Accept"})


JSONLD_COMPACTED = "http://www.w3.org/ns/json-ld#compacted"


def wants_compacted(accept: str | None) -> bool:
    """Whether ``accept`` asks for JSON-LD with the compacted profile (JSON-LD 1.1, section 9.1).

    >>> wants_compacted('application/ld+json;profile="http://www.w3.org/ns/json-ld#compacted"')
    True
    >>> wants_compacted('application/ld+json'), wants_compacted(None)
    (False, False)
    """
    for media_range in (accept or "").split(","):
        media, *params = media_range.split(";")
        if media.strip().lower() != "application/ld+json":
            continue
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "profile" and JSONLD_COMPACTED in value.strip().strip('"').split():
                return True
    return False


def _accept(request: Request, params: list[tuple[str, str]], kind: str) -> str | None:
    """The Accept header, unless a ``format=`` parameter overrides it."""
    # Some clients (SPARQLWrapper) repeat format=, as a name and as a media type: they must agree.
    wanted = {formats.override(v, kind) for v in values(params, "format") if v.strip()}
    if len(wanted) > 1:
        raise BadRequest("the format parameter is given with different values")
    return wanted.pop() if wanted else request.headers.get("accept")


def _acceptable(accept: str | None, offers: list[str], required: bool) -> str | None:
    try:
        return negotiate(accept, offers)
    except NotAcceptable:
        if required:
            raise
        return None


async def _update(request: Request, services: Services, text: str, params: list[tuple[str, str]]) -> Response:
    settings = services.settings
    require_writer(request, settings, services.store)
    if len(text) > settings.max_query_length:
        raise PayloadTooLarge(f"the update is {len(text)} characters long; "
                              f"the most accepted is {settings.max_query_length}")
    found = await read_tokens(text)
    check_text(found)
    using = [absolute_iri(g, "using-graph-uri") for g in values(params, "using-graph-uri")]
    using_named = [absolute_iri(g, "using-named-graph-uri") for g in values(params, "using-named-graph-uri")]
    if using or using_named:
        if keywords(found) & {"USING", "WITH"}:
            raise BadRequest("using-graph-uri and using-named-graph-uri cannot be combined with USING or WITH "
                             "in the update (SPARQL 1.1 Protocol §2.2.3)")
        text = add_using(text, found, using, using_named)
    # Only an update that matches patterns can run on without bound; one with data alone is bounded by its length.
    timeout = settings.update_timeout if "WHERE" in keywords(found) else None
    await in_writer(apply_update, services.store, services.version, f"BASE <{base_url(request)}sparql>\n{text}",
                    timeout)
    return Response(status_code=204)
