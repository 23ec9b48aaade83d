"""Server-side HTML: one Jinja2 environment (autoescape on) and ``render_page()`` adding a strict CSP.

Usage from any route::

    from sparql_api.html import render_page
    return render_page("my_page.html", request=request, base_iri=settings.base_iri, title="Coverage", rows=rows)

Templates live in ``sparql_api/templates/`` and extend ``base.html``, which provides the blocks
``title``, ``head`` (extra ``<link>``/``<meta>``), ``main`` and ``footer``. ``base.html`` links
``/static/kim.css`` only: no scripts, no other origin. Helpers available in every template:
``path(iri)`` maps an IRI under ``base_iri`` to this service's path (other IRIs are returned unchanged)
and ``root`` is the app's root path (prefix every local link with it).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import HTMLResponse

if TYPE_CHECKING:
    from jinja2 import Environment


def content_security_policy(**sources: str) -> str:
    """A strict policy: nothing but this origin's stylesheets and images, plus the ``sources`` given
    (``script_src="'self'"`` sets ``script-src 'self'``); never another origin's script, never inline script.

    >>> content_security_policy(script_src="'self'")
    "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; script-src 'self'"
    """
    directives = {"default-src": "'none'", "style-src": "'self'", "img-src": "'self'", "base-uri": "'none'",
                  "form-action": "'self'", "frame-ancestors": "'none'"}
    directives.update({name.replace("_", "-"): value for name, value in sources.items()})
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def page_headers(csp: str) -> dict[str, str]:
    """The headers of every HTML page: its policy, no sniffing, no referrer."""
    return {"Content-Security-Policy": csp, "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}


CSP = content_security_policy()
HEADERS = page_headers(CSP)

@cache
def environment() -> Environment:
    """The templates' environment, made (and Jinja2 imported) when the first page is rendered, not at start."""
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    return Environment(
        loader=PackageLoader("sparql_api", "templates"),
        autoescape=select_autoescape(["html", "xml"], default_for_string=True, default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def local_path(iri: str, base: str, root: str = "") -> str:
    """The path on this service that dereferences ``iri``, or ``iri`` itself if it is not under ``base``.

    >>> local_path("https://w3id.org/uk-kim/id/standard/ST1337", "https://w3id.org/uk-kim/")
    '/id/standard/ST1337'
    >>> local_path("https://example.org/x", "https://w3id.org/uk-kim/")
    'https://example.org/x'
    """
    if base and iri.startswith(base + "id/"):
        return f"{root}/{iri[len(base):]}"
    return iri


def render_page(template: str, *, request: Request | None = None, base_iri: str = "", status_code: int = 200,
                headers: Mapping[str, str] | None = None, **context) -> HTMLResponse:
    """Render ``template`` with ``context`` into an HTMLResponse carrying the CSP headers.

    Templates also get ``root`` (the app's root path, with ``request`` given) and ``path(iri)`` mapping
    IRIs under ``base_iri`` to paths on this service.
    """
    root = request.scope.get("root_path", "").rstrip("/") if request is not None else ""
    context.setdefault("root", root)
    context.setdefault("path", lambda iri: local_path(str(iri), base_iri, root))
    context.setdefault("title", "KIM Graph")
    body = environment().get_template(template).render(**context)
    return HTMLResponse(body, status_code=status_code, headers={**HEADERS, **(headers or {})})
