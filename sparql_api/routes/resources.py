"""Dereferenceable IRIs: ``GET /id/...`` serves the resource ``{base_iri}id/...``, and ``/context.jsonld``.

**200 at the IRI itself, with content negotiation (no 303).** ``GET /id/standard/ST1337/duty/2``
answers ``200`` with the representation the ``Accept`` header prefers -- JSON-LD
(``application/ld+json``, compacted with ``/context.jsonld``; ``application/json`` gets the same
body), HTML (``text/html``), Turtle, N-Triples or RDF/XML -- or the one ``?format=`` names
(``jsonld``, ``json``, ``html``, ``ttl``, ``nt``, ``rdf``, or a media type). Every answer carries
``Vary: Accept``, a ``Content-Location`` naming the format-specific URL (``/id/...?format=ttl``),
``Link: rel="alternate"`` headers for the other formats (TriG and N-Quads among them: each fact in every
named graph that states it; Turtle and HTML mark the facts that come from curated sources), and ``ETag`` / ``Last-Modified`` /
``Cache-Control`` from the data version (sparql_api.caching), with 304 for a current copy.
A 303 redirect to a separate document URL (the httpRange-14 pattern) would cost every client a
second round trip and add nothing here: the IRIs name the things, the ``Content-Location`` names
the document describing them (as the W3C "Cool URIs" note allows).

Negotiation runs before any query (406 problem+json when nothing fits); an IRI the data says nothing
about is a 404 problem+json. The path is never used as a file name: a path that cannot be one of our
IRIs (``..``, empty segments, characters outside the IRI set) is a 404 without a query.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from sparql_api import fact_graphs, linked_data
from sparql_api.alignments import ESCO_ATTRIBUTION, alignments
from sparql_api.caching import conditional, precondition, with_validators
from sparql_api.conneg import negotiate
from sparql_api.discipline_bodies import bodies_of_discipline
from sparql_api.errors import BadRequest, KimError, NotAcceptable, ResourceNotFound
from sparql_api.html import local_path, render_page
from sparql_api.request_input import base_url
from sparql_api.resource_view import Viewer
from sparql_api.services import Services, ServicesDep

router = APIRouter(tags=["Linked data"])

ID_PREFIX = "/id/"
CONTEXT_MEDIA = "application/ld+json"
JSONLD_CONTEXT_REL = "http://www.w3.org/ns/json-ld#context"


FORMAT_VALUES = ["", *linked_data.BY_FORMAT, *linked_data.OFFERS]


def _wanted(request: Request, format_param: str | None) -> str | None:
    """The Accept header, unless ``format=`` overrides it (a short name or one of the media types offered)."""
    if not format_param:
        return request.headers.get("accept")
    if format_param in linked_data.OFFERS:
        return format_param
    if format_param in linked_data.BY_FORMAT:
        return linked_data.BY_FORMAT[format_param].media_type
    names = ", ".join(r.name for r in linked_data.REPRESENTATIONS)
    raise BadRequest(f"unknown format {format_param!r}; use one of {names} or a media type offered")


def _root(request: Request) -> str:
    return request.scope.get("root_path", "").rstrip("/")


def context_url(request: Request) -> str:
    """Where this service publishes its JSON-LD context, at its public address."""
    return base_url(request) + "context.jsonld"


def _here(request: Request, path: str) -> str:
    return f"{base_url(request)}id/{quote(path, safe='/:@!$&()*+,;=-._~')}"


def _format_links(here: str) -> list[dict[str, str]]:
    return [{"name": r.name, "label": r.label, "media_type": r.media_type, "href": f"{here}?format={r.name}"}
            for r in linked_data.REPRESENTATIONS if r.name != "json"]


@router.api_route(
    ID_PREFIX + "{path:path}", methods=["GET", "HEAD"], summary="Dereference a KIM Graph IRI",
    response_class=Response,
    responses={
        200: {"description": "The resource in the negotiated format",
              "content": {m: {} for m in linked_data.OFFERS}},
        304: {"description": "The client's copy is current (If-None-Match / If-Modified-Since)"},
        400: {"description": "An unknown format= value (application/problem+json)"},
        404: {"description": "Nothing is known about this IRI (application/problem+json)"},
        406: {"description": "None of the accepted media types is available (application/problem+json)"},
    },
)
async def resource(
    request: Request,
    path: str,
    services: ServicesDep,
    format: str | None = Query(None, description="Override Accept: jsonld, json, html, ttl, nt, rdf, trig, "
                                                 "nq or a media type offered (empty: by Accept)",
                               json_schema_extra={"enum": FORMAT_VALUES}),
) -> Response:
    """The resource ``{base_iri}id/{path}``: built from one SPARQL query, in the negotiated format."""
    media = _negotiated(request, format)
    settings = services.settings
    iri = _iri(request, settings.base_iri, path)
    representation = linked_data.BY_MEDIA[media]
    headers = _answer_headers(request, path, representation.name, media)
    links = _format_links(_here(request, path))
    ctx = context_url(request)
    store = services.store

    def build() -> Response:
        triples = linked_data.describe(store, iri)
        if not triples:
            raise ResourceNotFound(f"nothing is known about <{iri}>")
        marked = media in ("text/turtle", "text/html", *linked_data.QUAD_SERIALISERS)
        stated = fact_graphs.with_graphs(store, triples) if marked else []
        curated = fact_graphs.curated_facts(iri, stated, services.graph_sources.get()) if marked else []
        if media in linked_data.QUAD_SERIALISERS:
            return Response(linked_data.quad_bytes(fact_graphs.quads(stated), media), media_type=media)
        if media in linked_data.RDF_SERIALISERS:
            body = linked_data.rdf_bytes(triples, media)
            if media == "text/turtle":
                body += fact_graphs.turtle_note(curated)
            media_type = media + "; charset=utf-8" if media.startswith("text/") else media
            return Response(body, media_type=media_type)
        document = linked_data.compact_json(triples, iri, ctx)
        if media == "text/html":
            root = _root(request)
            viewer = Viewer(lambda target: _local(target, settings.base_iri, root))
            view = viewer.view(document)
            viewer.mark_curated(view, curated, triples)
            groups = alignments(store, iri)
            for group in groups:
                for row in group.rows:
                    row.other = viewer.href(row.other) or row.other
            esco = ESCO_ATTRIBUTION if any(g.key.startswith("esco") for g in groups) else None
            bodies = bodies_of_discipline(store, services.iris, iri, services.graph_sources.get())
            return render_page("resource.html", request=request, base_iri=settings.base_iri, view=view,
                               formats=links, alignments=groups, esco_attribution=esco, bodies=bodies)
        return Response(linked_data.json_bytes(document), media_type=media)

    # A current copy or a kept answer is served on the event loop; only building one takes a thread.
    cache_headers, answer = precondition(request, services.stamp, media, ctx, headers=headers)
    if answer is not None:
        return answer
    cache, key = services.body_cache, ("id", iri, media, ctx)
    response = cache.get(key) or await run_in_threadpool(cache.build, key, build)
    return with_validators(request, services.stamp, response, cache_headers)


def _negotiated(request: Request, format_param: str | None) -> str:
    """The media type to answer in (400 for an unknown ``format=``, 406 when nothing offered fits)."""
    try:
        return negotiate(_wanted(request, format_param), linked_data.OFFERS)
    except NotAcceptable as e:
        raise NotAcceptable(e.detail, headers={"Vary": "Accept"}) from None


def _iri(request: Request, base_iri: str, path: str) -> str:
    """The IRI ``{base_iri}id/{path}``; 404 when the path cannot be one of ours."""
    # The router's path pattern ends with $, which also matches before a final line break: the URL
    # /id/standard/ST1337%0A reaches here as "standard/ST1337", so the whole path is checked again.
    iri = linked_data.iri_for_path(base_iri, path) if "\n" not in request.scope["path"] else None
    if iri is None:
        raise ResourceNotFound(f"/id/{path} is not the path of a KIM Graph IRI")
    return iri


def _answer_headers(request: Request, path: str, name: str, media: str) -> dict[str, str]:
    """``Vary``, ``Content-Location`` and the ``Link`` headers of the answer in ``media`` (format ``name``)."""
    here = _here(request, path)
    links = ", ".join(f'<{f["href"]}>; rel="alternate"; type="{f["media_type"]}"' for f in _format_links(here))
    if media == "application/json":
        links += f', <{context_url(request)}>; rel="{JSONLD_CONTEXT_REL}"; type="application/ld+json"'
    return {"Vary": "Accept", "Content-Location": f"{here}?format={name}", "Link": links}


def kept_resource(request: Request, services: Services) -> Response | None:
    """The answer of ``GET /id/{path}`` (no query string) when one is kept, built earlier or prepared ahead:
    the route's answer, headers and 304s included; None when the route has to build or refuse it."""
    path = request.scope["path"].removeprefix(ID_PREFIX)
    try:
        media = _negotiated(request, None)
        iri = _iri(request, services.settings.base_iri, path)
    except KimError:
        return None
    ctx = context_url(request)
    headers = _answer_headers(request, path, linked_data.BY_MEDIA[media].name, media)
    cache_headers, answer = precondition(request, services.stamp, media, ctx, headers=headers)
    if answer is not None:
        return answer
    kept = services.body_cache.get(("id", iri, media, ctx))
    return None if kept is None else with_validators(request, services.stamp, kept, cache_headers)


def _local(iri: str, base: str, root: str) -> str | None:
    path = local_path(iri, base, root)
    return None if path == iri else path


@router.api_route("/context.jsonld", methods=["GET", "HEAD"], summary="The JSON-LD context of the API",
                  response_class=Response,
                  responses={200: {"content": {CONTEXT_MEDIA: {}}}})
def context(request: Request, services: ServicesDep) -> Response:
    """The published ``@context`` that every JSON-LD answer of ``/id/...`` refers to."""
    return conditional(request, services.stamp, CONTEXT_MEDIA,
                       lambda: Response(linked_data.context_bytes(), media_type=CONTEXT_MEDIA))


@router.api_route("/static/kim.css", methods=["GET", "HEAD"], include_in_schema=False)
def stylesheet() -> Response:
    """The one stylesheet of the HTML pages."""
    return Response(linked_data.stylesheet_bytes(), media_type="text/css; charset=utf-8",
                    headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"})
