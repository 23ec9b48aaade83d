"""What the service and its data are: the VoID description and whole-dataset dumps (the Service
Description is the answer of GET /sparql without a query).

https://www.w3.org/TR/void/
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from sparql_api import formats
from sparql_api.conneg import negotiate
from sparql_api.descriptions import description_response, void_description
from sparql_api.licensing import open_dump, open_graphs
from sparql_api.openapi import content, problems
from sparql_api.request_input import base_url
from sparql_api.responses import HTML, html_page
from sparql_api.services import ServicesDep, StoreDep
from sparql_api.void_view import void_view

router = APIRouter(tags=["Service"])


@router.api_route("/.well-known/void", methods=["GET", "HEAD"], summary="VoID description of the dataset",
                  response_class=Response,
                  responses={200: {"description": "The void:Dataset, in the negotiated RDF format, or a page for "
                                                  "browsers.",
                                   "content": content([*formats.GRAPH_OFFERS, HTML])}, **problems(406)})
def void(request: Request, services: ServicesDep) -> Response:
    """The dataset's VoID description, in the RDF format the client accepts, or as an HTML page."""
    description = void_description(base_url(request), services.stats.get(), services.settings.base_iri,
                                   services.rights.get())
    accept = request.headers.get("accept")
    if negotiate(accept, [formats.GRAPH_OFFERS[0], HTML, *formats.GRAPH_OFFERS[1:]]) == HTML:
        return html_page(request, services.settings.base_iri, "void.html", title="VoID description",
                         **void_view(description))
    return description_response(description, accept)


@router.api_route("/dump.trig", methods=["GET", "HEAD"], summary="The whole dataset as TriG",
                  response_class=Response,
                  responses={200: {"description": "Every named graph, under mixed rights (see the VoID description).",
                                   "content": content(["application/trig"])}})
def dump_trig(store: StoreDep) -> Response:
    """Every named graph, as TriG."""
    return Response(store.dump("trig"), media_type="application/trig")


@router.api_route("/dump.nq", methods=["GET", "HEAD"], summary="The whole dataset as N-Quads",
                  response_class=Response,
                  responses={200: {"description": "Every named graph, under mixed rights (see the VoID description).",
                                   "content": content(["application/n-quads"])}})
def dump_nquads(store: StoreDep) -> Response:
    """Every named graph, as N-Quads."""
    return Response(store.dump("nquads"), media_type="application/n-quads")


OPEN_DUMP = ("Only the named graphs under an open licence (Open Government Licence v3.0, MIT, CC BY 4.0), each "
             "as its own graph; the VoID description and /dataset state which they are and their licences.")


@router.api_route("/dump-open.trig", methods=["GET", "HEAD"], summary="The open-licensed part of the dataset as TriG",
                  response_class=Response,
                  responses={200: {"description": OPEN_DUMP, "content": content(["application/trig"])}})
def dump_open_trig(services: ServicesDep) -> Response:
    """The open-licensed named graphs, as TriG."""
    body = open_dump(services.store, open_graphs(services.rights.get()), "trig")
    return Response(body, media_type="application/trig")


@router.api_route("/dump-open.nq", methods=["GET", "HEAD"], summary="The open-licensed part of the dataset as N-Quads",
                  response_class=Response,
                  responses={200: {"description": OPEN_DUMP, "content": content(["application/n-quads"])}})
def dump_open_nquads(services: ServicesDep) -> Response:
    """The open-licensed named graphs, as N-Quads."""
    body = open_dump(services.store, open_graphs(services.rights.get()), "nquads")
    return Response(body, media_type="application/n-quads")
