"""The SPARQL 1.1 Graph Store HTTP Protocol at /store: read and write whole graphs.

https://www.w3.org/TR/sparql11-http-rdf-update/ -- graphs are named indirectly (``?graph=IRI``,
``?default``) or directly (``/store/...`` names the graph whose IRI is that URL, as the client wrote
it, host included). ``?default`` is the store's own default graph; SPARQL queries see the union of all
graphs as their default graph instead.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.concurrency import run_in_threadpool
from starlette.responses import Response

from sparql_api import formats
from sparql_api.authorization import require_writer
from sparql_api.conneg import negotiate
from sparql_api.errors import BadRequest
from sparql_api.graphs import DEFAULT, delete_graph, in_writer, payload_triples, read_graph, write_graph
from sparql_api.openapi import content, problems
from sparql_api.request_input import (
    IRI_PATTERN,
    absolute_iri,
    base_url,
    check_params,
    public_url,
    query_items,
    read_body,
    single,
    values,
)
from sparql_api.services import Services, ServicesDep

router = APIRouter(tags=["Graph Store"])
STORE = ""  # the target of the bare graph store URL: POST there creates a graph
PATH_PATTERN = r"^[A-Za-z0-9._~!$&'()*+,;=:@/-]+$"  # a path that is an IRI as it stands, once percent-decoded
PATH_HELP = "The rest of the graph's URL: letters, digits and - . _ ~ ! $ & ' ( ) * + , ; = : @ /"


def _target(request: Request, path: str | None) -> str | None:
    """The graph IRI a request names, DEFAULT for ?default, or STORE for the graph store itself."""
    check_params(request, ("graph", "default"))
    params = query_items(request)
    graph = single(params, "graph")
    flags = values(params, "default")
    if any(flags):
        raise BadRequest("?default is a flag and takes no value")
    default = bool(flags)
    if path:
        if graph is not None or default:
            raise BadRequest("a graph named by its URL takes no ?graph or ?default parameter")
        return public_url(request, "")
    if graph is not None and default:
        raise BadRequest("give either ?graph=IRI or ?default, not both")
    if default:
        return DEFAULT
    if graph is not None:
        return absolute_iri(graph, "graph")
    return STORE


async def graph_store(request: Request, services: ServicesDep) -> Response:
    """Read a graph (GET, HEAD) or, with a bearer token, replace (PUT), add to (POST) or drop (DELETE) it."""
    return await _serve(request, services, None)


async def graph_store_direct(request: Request, services: ServicesDep,
                             path: Annotated[str, Path(pattern=PATH_PATTERN, description=PATH_HELP)]) -> Response:
    """The graph whose IRI is this URL: read it (GET, HEAD) or, with a bearer token, replace, add to or drop it."""
    return await _serve(request, services, path)


async def _serve(request: Request, services: Services, path: str | None) -> Response:
    store = services.store
    if request.method not in ("GET", "HEAD"):  # a write without the token learns nothing more
        require_writer(request, services.settings, store)
    target = _target(request, path)
    if request.method in ("GET", "HEAD"):
        if target == STORE:
            raise BadRequest("name a graph with ?graph=IRI or ?default; /dump.trig has the whole dataset")
        media = negotiate(request.headers.get("accept"), formats.GRAPH_OFFERS)
        body = await run_in_threadpool(read_graph, store, target, formats.format_of(media, "graph").name)
        return Response(body, media_type=formats.content_type(media), headers={"Vary": "Accept"})
    if request.method == "DELETE":
        if target == STORE:
            raise BadRequest("name the graph to delete with ?graph=IRI or ?default")
        await in_writer(delete_graph, store, services.version, target)
        return Response(status_code=204)
    if target == STORE and request.method == "PUT":
        raise BadRequest("name the graph to replace with ?graph=IRI or ?default")
    headers = {}
    if target == STORE:  # a new graph, named by a URL of its own (Graph Store Protocol §5.5)
        target = base_url(request) + "store/" + uuid.uuid4().hex
        headers["Location"] = target
    body = await read_body(request, services.settings.max_body_bytes)
    base = target or public_url(request, "")
    # Parsed in a thread: a large upload takes a while, and the event loop keeps answering readers meanwhile.
    triples = await run_in_threadpool(payload_triples, request.headers.get("content-type"), body, base,
                                      request.method == "POST")
    created = await in_writer(write_graph, store, services.version, target, triples, request.method == "PUT")
    return Response(status_code=201 if created else 204, headers=headers)


_PAYLOAD_TYPES = [formats.BY_NAME[name].media_type for name in formats.PAYLOAD_FORMATS]
_GRAPH = {"type": "string", "pattern": IRI_PATTERN, "description": "The IRI of the graph."}
_DEFAULT = {"type": "string", "enum": [""], "description": "The store's default graph (a flag, no value)."}


def _indirect(required: bool) -> list[dict]:
    """The graph an indirect request names: exactly one of ``?graph=IRI`` and ``?default`` (a POST may name
    neither: the graph store then creates a graph). One exploded object parameter, so that the document can
    say "one of them" (https://spec.openapis.org/oas/v3.1.0#style-examples)."""
    branches = [{"properties": {"graph": _GRAPH}, "required": ["graph"], "additionalProperties": False},
                {"properties": {"default": _DEFAULT}, "required": ["default"], "additionalProperties": False}]
    if not required:
        branches.append({"properties": {}, "additionalProperties": False})
    return [{"name": "target", "in": "query", "required": required, "style": "form", "explode": True,
             "schema": {"type": "object", "oneOf": branches},
             "description": "?graph=IRI names a graph, ?default (no value) the store's default graph."}]


def _body(media_types: list[str]) -> dict:
    """The request body: RDF text, JSON-LD as a JSON object or array."""
    schemas = {media: {"type": ["object", "array"]} if media == "application/ld+json" else {"type": "string"}
               for media in media_types}
    return {"required": True, "content": {media: {"schema": schema} for media, schema in schemas.items()}}


_WRITTEN = {201: {"description": "A new graph was created (POST to /store: its URL is in Location)."},
            204: {"description": "The graph was replaced or added to."}}
_DOCS = {
    "get": {"methods": ["GET", "HEAD"], "summary": "Read one graph",
            "responses": {200: {"description": "The graph, in the negotiated RDF format.",
                                "content": content(formats.GRAPH_OFFERS)}, **problems(400, 404, 406)}},
    "put": {"methods": ["PUT"], "summary": "Replace one graph with the request body",
            "body": _PAYLOAD_TYPES, "responses": {**_WRITTEN, **problems(400, 401, 403, 413, 415)}},
    "post": {"methods": ["POST"], "summary": "Add the request body's triples to one graph (or to a new one)",
             "body": _PAYLOAD_TYPES + ["multipart/form-data"],
             "responses": {**_WRITTEN, **problems(400, 401, 403, 413, 415)}},
    "delete": {"methods": ["DELETE"], "summary": "Drop one graph",
               "responses": {204: {"description": "The graph was dropped."}, **problems(400, 401, 403, 404)}},
}


def _add_routes() -> None:
    """Each method of the indirect (/store) and the direct (/store/...) graph URLs, documented on its own."""
    for name, doc in _DOCS.items():
        body = {"requestBody": _body(doc["body"])} if "body" in doc else {}
        common = {"methods": doc["methods"], "response_class": Response, "responses": doc["responses"],
                  "status_code": 200 if name == "get" else 204}
        router.add_api_route("/store", graph_store, summary=doc["summary"] + " (indirect: ?graph=IRI or ?default)",
                             operation_id=f"graph_store_{name}",
                             openapi_extra={"parameters": _indirect(required=name != "post"), **body}, **common)
        # a URL with a line break in its path matches no route: 404 for every method
        unrouted = problems(404, s404="No such graph, or a URL that cannot name one (a line break in it).")
        router.add_api_route("/store/{path:path}", graph_store_direct,
                             summary=doc["summary"] + " (direct: the graph named by this URL)",
                             operation_id=f"graph_store_direct_{name}",
                             openapi_extra=body,
                             **{**common, "responses": {**unrouted, **doc["responses"]}})


_add_routes()
