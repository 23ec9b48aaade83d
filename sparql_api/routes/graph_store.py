"""The SPARQL 1.1 Graph Store HTTP Protocol at /store: read and write whole graphs.

https://www.w3.org/TR/sparql11-http-rdf-update/ -- graphs are named indirectly (``?graph=IRI``,
``?default``) or directly (``/store/...`` names the graph whose IRI is that URL, as the client wrote
it, host included). ``?default`` is the store's own default graph; SPARQL queries see the union of all
graphs as their default graph instead.
"""

from __future__ import annotations

import sys
import uuid
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from starlette.responses import Response

from sparql_api import render
from sparql_api.conneg import negotiate
from sparql_api.errors import BadRequest, InvalidRdf, ResourceNotFound
from sparql_api.openapi import content, problems
from sparql_api.routes import absolute_iri, base_url, media_type, query_items, read_body, require_writer, single

router = APIRouter(tags=["Graph Store"])
DEFAULT = None  # the target of ?default
STORE = ""  # the target of the bare graph store URL: POST there creates a graph


def _target(request: Request, path: str | None) -> str | None:
    """The graph IRI a request names, DEFAULT for ?default, or STORE for the graph store itself."""
    params = query_items(request)
    graph = single(params, "graph")
    default = any(key == "default" for key, _ in params)
    if path:
        if graph is not None or default:
            raise BadRequest("a graph named by its URL takes no ?graph or ?default parameter")
        return str(request.url.replace(query=""))
    if graph is not None and default:
        raise BadRequest("give either ?graph=IRI or ?default, not both")
    if default:
        return DEFAULT
    if graph is not None:
        return absolute_iri(graph, "graph")
    return STORE


async def graph_store(request: Request) -> Response:
    """Read a graph (GET, HEAD) or, with a bearer token, replace (PUT), add to (POST) or drop (DELETE) it."""
    return await _serve(request, None)


async def graph_store_direct(request: Request, path: str) -> Response:
    """The graph whose IRI is this URL: read it (GET, HEAD) or, with a bearer token, replace, add to or drop it."""
    return await _serve(request, path)


async def _serve(request: Request, path: str | None) -> Response:
    target = _target(request, path)
    if request.method in ("GET", "HEAD"):
        if target == STORE:
            raise BadRequest("name a graph with ?graph=IRI or ?default; /dump.trig has the whole dataset")
        media = negotiate(request.headers.get("accept"), render.GRAPH_OFFERS)
        body = await run_in_threadpool(read_graph, request.app.state, target, render.format_of(media, "graph").name)
        return Response(body, media_type=render.content_type(media), headers={"Vary": "Accept"})
    require_writer(request)
    if request.method == "DELETE":
        if target == STORE:
            raise BadRequest("name the graph to delete with ?graph=IRI or ?default")
        await run_in_threadpool(delete_graph, request.app.state, target)
        return Response(status_code=204)
    if target == STORE and request.method == "PUT":
        raise BadRequest("name the graph to replace with ?graph=IRI or ?default")
    headers = {}
    if target == STORE:  # a new graph, named by a URL of its own (Graph Store Protocol §5.5)
        target = base_url(request) + "store/" + uuid.uuid4().hex
        headers["Location"] = target
    body = await read_body(request, request.app.state.settings.max_body_bytes)
    base = target or str(request.url.replace(query=""))
    triples = _payload(request.headers.get("content-type"), body, base, multipart=request.method == "POST")
    created = await run_in_threadpool(write_graph, request.app.state, target, triples, request.method == "PUT")
    return Response(status_code=201 if created else 204, headers=headers)


_PAYLOAD_TYPES = [render.BY_NAME[name].media_type for name in render.PAYLOAD_FORMATS]
_INDIRECT = [
    {"name": "graph", "in": "query", "required": False, "schema": {"type": "string", "format": "iri"},
     "description": "The IRI of the graph."},
    {"name": "default", "in": "query", "required": False, "allowEmptyValue": True,
     "schema": {"type": "string", "enum": [""]}, "description": "The store's default graph (a flag, no value)."},
]
_WRITTEN = {201: {"description": "A new graph was created (POST to /store: its URL is in Location)."},
            204: {"description": "The graph was replaced or added to."}}
_DOCS: dict[str, dict[str, Any]] = {
    "get": {"methods": ["GET", "HEAD"], "summary": "Read one graph",
            "responses": {200: {"description": "The graph, in the negotiated RDF format.",
                                "content": content(render.GRAPH_OFFERS)}, **problems(400, 404, 406)}},
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
        body = {"requestBody": {"required": True, "content": content(doc["body"], {"type": "string"})}} \
            if "body" in doc else {}
        common: dict[str, Any] = {"methods": doc["methods"], "response_class": Response, "responses": doc["responses"],
                  "status_code": 200 if name == "get" else 204}
        router.add_api_route("/store", graph_store, summary=doc["summary"] + " (indirect: ?graph=IRI or ?default)",
                             operation_id=f"graph_store_{name}", openapi_extra={"parameters": _INDIRECT, **body},
                             **common)
        # a URL with a line break in its path matches no route: 404 for every method
        unrouted = problems(404, s404="No such graph, or a URL that cannot name one (a line break in it).")
        router.add_api_route("/store/{path:path}", graph_store_direct,
                             summary=doc["summary"] + " (direct: the graph named by this URL)",
                             operation_id=f"graph_store_direct_{name}", openapi_extra=body,
                             **{**common, "responses": {**unrouted, **doc["responses"]}})


_add_routes()


def _payload(content_type: str | None, body: bytes, base: str, multipart: bool) -> list:
    """Every triple of the request body, parsed before the store is touched."""
    kind, _ = media_type(content_type)
    if multipart and kind == "multipart/form-data":
        message = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + content_type.encode("latin-1")
                                                      + b"\r\n\r\n" + body)
        if not message.is_multipart():
            raise InvalidRdf("the multipart/form-data body has no parts")
        triples = []
        for part in message.iter_parts():
            fmt = render.payload_format(part.get("content-type"))
            triples += render.parse_triples(part.get_payload(decode=True) or b"", fmt, base)
        return triples
    return render.parse_triples(body, render.payload_format(content_type), base)


def _exists(store, target: str | None) -> bool:
    return target is DEFAULT or target in store.named_graphs()


def read_graph(state, target: str | None, fmt: str) -> bytes:
    """One graph serialised in ``fmt``; ResourceNotFound when the store has no such graph."""
    if not _exists(state.store, target):
        raise ResourceNotFound(f"the store has no graph {target}")
    pattern = "?s ?p ?o" if target is DEFAULT else f"GRAPH <{target}> {{ ?s ?p ?o }}"
    result = state.store.query(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ {pattern} }}", union_default=False)
    return render.serialize_result(result, fmt, sys.maxsize)


def write_graph(state, target: str | None, triples: list, replace: bool) -> bool:
    """Replace (PUT) or add to (POST) one graph in one update; True when the graph is new."""
    data = render.triples_as_sparql(triples)
    with state.version.lock:
        created = not _exists(state.store, target)
        if target is DEFAULT:
            steps = ["CLEAR SILENT DEFAULT"] if replace else []
            steps += [f"INSERT DATA {{ {data} }}"] if triples else []
        else:
            steps = [f"DROP SILENT GRAPH <{target}>"] if replace else []
            steps += [f"CREATE SILENT GRAPH <{target}>"]
            steps += [f"INSERT DATA {{ GRAPH <{target}> {{ {data} }} }}"] if triples else []
        if steps:
            state.store.update(" ;\n".join(steps))
            state.version.bump()
    return created


def delete_graph(state, target: str | None) -> None:
    """Drop a named graph (or empty the default graph); ResourceNotFound when there is no such graph."""
    with state.version.lock:
        if not _exists(state.store, target):
            raise ResourceNotFound(f"the store has no graph {target}")
        state.store.update("CLEAR DEFAULT" if target is DEFAULT else f"DROP GRAPH <{target}>")
        state.version.bump()
