"""Named queries as endpoints: ``GET /queries`` lists them, ``GET /queries/{name}`` runs one.

Each ``queries/*.rq`` file gets its own route, built when the app is built, so the OpenAPI document
describes every query with its summary, its typed parameters and their examples. Values are bound
by substitution (``named_queries.bind``), never pasted into the text: ``K1" } ; DROP ALL ; #`` given
as a code is a string that matches nothing.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from rdflib.term import Node
from starlette.responses import JSONResponse, Response

from kimdata.namespaces import Iris
from sparql_api import bound_queries, formats, html
from sparql_api.caching import cached_by_url
from sparql_api.conneg import choose_format, negotiate
from sparql_api.errors import BadRequest, ResourceNotFound
from sparql_api.named_queries import NamedQuery, Param, bind, load_queries
from sparql_api.openapi import content, problems
from sparql_api.request_input import HTTP_IRI_PATTERN, base_url, check_params
from sparql_api.services import Services, ServicesDep, SettingsDep
from store.sparql_text import query_form

# (media type, our format name) in our order of preference; the first is the default
RESULT_OFFERS: tuple[tuple[str, str], ...] = (
    ("application/sparql-results+json", "json"),
    ("application/json", "json"),
    ("text/csv", "csv"),
    ("text/tab-separated-values", "tsv"),
    ("application/sparql-results+xml", "xml"),
    ("text/html", "html"),
)
GRAPH_OFFERS: tuple[tuple[str, str], ...] = (
    ("application/ld+json", "jsonld"),
    ("application/json", "jsonld"),
    ("text/turtle", "turtle"),
    ("application/n-triples", "ntriples"),
)
LIST_FORMATS = {"json": "application/json", "html": "text/html"}
PARAM_HELP = {
    "iri": "An absolute http(s) IRI",
    "code": "A code (notation) such as K19 or D2",
    "string": "Text, matched as a value",
    "integer": "A whole number",
}


def _offers(query: NamedQuery) -> tuple[tuple[str, str], ...]:
    return GRAPH_OFFERS if query_form(query.text) in ("CONSTRUCT", "DESCRIBE") else RESULT_OFFERS


def _choose(request: Request, offers: tuple[tuple[str, str], ...], override: str | None) -> tuple[str, str]:
    """(media type, format name): ``format=`` when given, else from ``Accept``; 406 when nothing fits."""
    if override is not None:
        for media, name in offers:
            if name == override:
                return media, name
        known = ", ".join(dict.fromkeys(n for _, n in offers))
        raise BadRequest(f"unknown format {override!r}; use one of {known}")
    media = negotiate(request.headers.get("accept"), [m for m, _ in offers])
    return media, dict(offers)[media]


async def _answer(request: Request, services: Services, query: NamedQuery, values: Mapping[str, Node],
                  raw: Mapping[str, str], offers: tuple[tuple[str, str], ...], media: str, name: str) -> Response:
    """Run the query with its bound values and write the answer (HTML: a table of the JSON results)."""
    kind = "graph" if offers is GRAPH_OFFERS else "results"
    wanted = "json" if name == "html" else name
    answer = await bound_queries.run_bound(services, query.text, values, base_iri=base_url(request),
                               results_format=wanted if kind == "results" else None,
                               graph_format=wanted if kind == "graph" else None)
    if name != "html":
        return Response(answer.body, media_type=formats.content_type(media))
    document = json.loads(answer.body)
    return html.render_page("queries.html", request=request, base_iri=services.settings.base_iri, title=query.name,
                            query=query, raw=raw, columns=document["head"]["vars"],
                            rows=document["results"]["bindings"], listing=None)


def describe(query: NamedQuery, iris: Iris | None = None) -> dict:
    """What ``GET /queries`` says about one query: summary, parameters with types and examples."""
    examples = query.examples(iris)
    return {
        "name": query.name,
        "summary": query.summary,
        "form": query_form(query.text),
        "parameters": [{"name": p.name, "type": p.type, "required": True, "example": examples.get(p.name)}
                       for p in query.params],
    }


LARGEST = 10**18 - 1  # named_queries.INTEGER: at most 18 digits


def _param_annotation(param: Param, example: str | None) -> Any:
    kind = int if param.type == "integer" else str
    value = int(example) if kind is int and example is not None else example
    shown = None if value is None else {"example": {"summary": "The example from the query's header", "value": value}}
    bounds: dict[str, Any] = {"ge": -LARGEST, "le": LARGEST} if kind is int else {}
    if param.type == "iri":
        bounds["pattern"] = HTTP_IRI_PATTERN  # what named_queries.convert takes
    return Annotated[kind, Query(alias=param.name, description=f"{PARAM_HELP[param.type]} ({param.type}).",
                                 examples=[value] if value is not None else None, openapi_examples=shown, **bounds)]


def _endpoint(query: NamedQuery, offers: tuple[tuple[str, str], ...], iris: Iris | None):
    """The endpoint of one query, with a signature FastAPI reads its typed parameters from."""
    names = dict.fromkeys(name for _, name in offers)
    allowed = tuple(dict.fromkeys([*(p.name for p in query.params), "format"]))

    async def run_named_query(request: Request, services: Services, **arguments: Any) -> Response:
        check_params(request, allowed)
        media, name = _choose(request, offers, arguments.pop("fmt", None))  # 406 before any query
        raw = {p.name: str(arguments[f"p_{p.name}"]) for p in query.params}
        try:
            values = bind(query, raw)
        except ValueError as e:
            raise BadRequest(str(e)) from None
        return await cached_by_url(request, services.stamp, media,
                                   lambda: _answer(request, services, query, values, raw, offers, media, name))

    parameters = [inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Request),
                  inspect.Parameter("services", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=ServicesDep)]
    examples = query.examples(iris)
    for p in query.params:
        parameters.append(inspect.Parameter(f"p_{p.name}", inspect.Parameter.KEYWORD_ONLY,
                                            annotation=_param_annotation(p, examples.get(p.name))))
    if "format" not in {p.name for p in query.params}:  # a query's own "format" parameter wins over the override
        fmt_type = Literal[tuple(names)]  # type: ignore[valid-type]
        parameters.append(inspect.Parameter(
            "fmt", inspect.Parameter.KEYWORD_ONLY, default=None,
            annotation=Annotated[fmt_type | None, Query(alias="format", description="Overrides the Accept header.")]))
    run_named_query.__signature__ = inspect.Signature(parameters)
    return run_named_query


def _description(query: NamedQuery, offers: tuple[tuple[str, str], ...]) -> str:
    params = "".join(f"\n- `{p.name}` ({p.type}): {PARAM_HELP[p.type]}" for p in query.params) or "\n- none"
    media = ", ".join(f"`{m}`" for m, _ in offers)
    return (f"{query.summary}\n\nParameters, bound as values (never pasted into the query):{params}\n\n"
            f"Answers as {media}, by `Accept` or `format=`.\n\n"
            f"The query (`queries/{query.name}.rq`):\n\n```sparql\n{query.text.strip()}\n```")


def queries_router(queries: Mapping[str, NamedQuery] | None = None, iris: Iris | None = None) -> APIRouter:
    """A router with ``GET /queries`` and one ``GET /queries/{name}`` per named query (and HEAD for each)."""
    queries = dict(load_queries() if queries is None else queries)
    router = APIRouter(tags=["Named queries"])

    def list_queries(request: Request, settings: SettingsDep,
                     fmt: Annotated[Literal["json", "html"] | None,
                                    Query(alias="format", description="Overrides the Accept header.")] = None
                     ) -> Response:
        """Every named query with its summary, parameters (name, type, example) and the URL that runs it."""
        check_params(request, ("format",))
        name = choose_format(request.headers.get("accept"), LIST_FORMATS, fmt)
        root = base_url(request)
        listing = []
        for query in queries.values():
            entry = describe(query, iris)
            entry["url"] = f"{root}queries/{query.name}"
            listing.append(entry)
        if name == "html":
            return html.render_page("queries.html", request=request, base_iri=settings.base_iri, title="Named queries",
                                    listing=listing, query=None, headers={"Vary": "Accept"})
        return JSONResponse({"queries": listing}, headers={"Vary": "Accept"})

    router.add_api_route("/queries", list_queries, methods=["GET"], summary="The named queries and their parameters",
                         responses={200: {"description": "Every named query, its parameters and its URL.",
                                          "content": content(["application/json", "text/html"])},
                                    **problems(400, 406)})
    router.add_api_route("/queries", list_queries, methods=["HEAD"], include_in_schema=False, name="list_queries_head")

    for query in queries.values():
        offers = _offers(query)
        endpoint = _endpoint(query, offers, iris)
        path = f"/queries/{query.name}"
        operation = "query_" + query.name.replace("-", "_")
        router.add_api_route(
            path, endpoint, methods=["GET"], summary=query.summary, description=_description(query, offers),
            operation_id=operation, name=operation,
            responses={200: {"description": "The query's answer.", "content": {m: {} for m, _ in offers}},
                       400: {"description": "A missing or bad parameter value (problem+json names it)."},
                       406: {"description": "None of the accepted media types is available (problem+json)."},
                       422: {"description": "The result has more rows than the configured limit (problem+json)."},
                       503: {"description": "The query ran over the time limit and was stopped (problem+json)."}})
        router.add_api_route(path, endpoint, methods=["HEAD"], include_in_schema=False, name=operation + "_head")

    async def unknown_query(name: str) -> Response:
        raise ResourceNotFound(f"there is no named query {name!r}; GET /queries lists them")

    router.add_api_route("/queries/{name}", unknown_query, methods=["GET", "HEAD"], include_in_schema=False)
    return router
