"""The web query editor: a YASGUI page over /sparql with one tab per named query, from assets this package ships."""

# Wiring: the app factory calls mount_static(app) once; the /sparql route answers a browser's GET
# without a query with editor_response(...). The page asks no other origin for anything.

from __future__ import annotations

import html
import json
import os
from collections.abc import Mapping
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from kimdata.namespaces import Iris
from sparql_api.context_keys import context_keys
from sparql_api.html import content_security_policy, page_headers
from sparql_api.named_queries import NamedQuery, bind, with_values

ASSETS_DIR = Path(__file__).parent / "static" / "yasgui"
ASSETS_PATH = "/static/yasgui"
ASSETS_ROUTE = "yasgui-assets"
SCRIPTS = ("kim-editor.js", "yasgui.min.js")  # kim-editor.js first: it must see CSP violations at load
STYLES = ("yasgui.min.css", "kim-editor.css")

# Only this origin, checked in headless Chromium (tests/test_browser.py). The page has no inline
# script and YASGUI needs no eval. YASGUI's column-resize grip writes a <style> element, hence
# 'unsafe-inline' for style elements only; style attributes it sets through the CSSOM are not
# governed by CSP, and the one it writes as markup (an underline in autocompletion) may be dropped.
CSP = content_security_policy(script_src="'self'", style_src_elem="'self' 'unsafe-inline'", font_src="'self'",
                              connect_src="'self'")
HEADERS = {**page_headers(CSP), "Cache-Control": "no-cache", "Vary": "Accept"}

KIM_PREFIXES = """PREFIX kim:     <https://w3id.org/uk-kim/def#>
PREFIX skos:    <http://www.w3.org/2004/02/skos/core#>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX ceasn:   <https://purl.org/ctdlasn/terms/>
PREFIX org:     <http://www.w3.org/ns/org#>
PREFIX prov:    <http://www.w3.org/ns/prov#>
"""
BLANK_TAB = KIM_PREFIXES + "\nSELECT ?standard ?title WHERE {\n  ?standard a kim:OccupationalStandard .\n  OPTIONAL { ?standard dcterms:title ?title }\n}\nLIMIT 10\n"


class AssetFiles(StaticFiles):
    """The vendored assets, with headers that stop content sniffing and let browsers cache them for a day."""

    def file_response(self, full_path: str | os.PathLike[str], stat_result: os.stat_result, scope: Scope,
                      status_code: int = 200) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Cache-Control"] = "public, max-age=86400"
        return response


def mount_static(app) -> None:
    """Serve the editor's assets at /static/yasgui/ (call once from the app factory)."""
    app.mount(ASSETS_PATH, AssetFiles(directory=ASSETS_DIR), name=ASSETS_ROUTE)


def editor_config(queries: Mapping[str, NamedQuery], iris: Iris, endpoint: str) -> dict:
    """What the page's script needs: the endpoint, a starter query and one tab per named query."""
    tabs = []
    for query in queries.values():
        shown = with_values(query, bind(query, query.examples(iris)))
        tabs.append({"name": query.name, "summary": query.summary, "query": shown})
    return {"endpoint": endpoint, "blankQuery": BLANK_TAB, "queries": tabs}


def _json_for_html(data: dict) -> str:
    # inside <script type="application/json"> only "</script" could end the element; escape all markup
    text = json.dumps(data, ensure_ascii=False)
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def editor_page(queries: Mapping[str, NamedQuery], iris: Iris, root_path: str = "", endpoint: str | None = None) -> str:
    """The editor's HTML: local assets, the configuration as inert JSON, and a list of the named queries."""
    endpoint = endpoint or f"{root_path}/sparql"
    assets = html.escape(f"{root_path}{ASSETS_PATH}")
    styles = "\n".join(f'<link rel="stylesheet" href="{assets}/{name}">' for name in STYLES)
    scripts = "\n".join(f'<script src="{assets}/{name}" defer></script>' for name in SCRIPTS)
    items = "\n".join(
        f'<li><a href="#tab={html.escape(q.name)}">{html.escape(q.name)}</a>'
        f'{_params(q)} <span class="summary">{html.escape(q.summary)}</span></li>'
        for q in queries.values()
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>KIM Graph: SPARQL query editor</title>
{styles}
<script type="application/json" id="kim-editor-config">{_json_for_html(editor_config(queries, iris, endpoint))}</script>
{scripts}
</head>
<body>
<header>
<h1>KIM Graph SPARQL query editor</h1>
<p>Queries go to <code id="kim-endpoint">{html.escape(endpoint)}</code>; the default graph is the union of the
named graphs. Each named query has a tab, with its example values in a <code>VALUES</code> block.</p>
</header>
<details id="kim-named-queries">
<summary>Named queries ({len(queries)})</summary>
<ul>
{items}
</ul>
</details>
{_context_panel()}
<main id="yasgui"><noscript>The editor needs JavaScript. The endpoint also answers
<code>GET {html.escape(endpoint)}?query=...</code> with any SPARQL client.</noscript></main>
<footer><p>Editor: YASGUI (MIT licence, <a href="{assets}/LICENSE.txt">notice</a>), served by this service.</p></footer>
</body>
</html>
"""


def _context_panel() -> str:
    """A help panel: each key of the JSON-LD the API answers with, and the predicate to query it by."""
    rows = "\n".join(
        f"<tr><td><code>{html.escape(row.key)}</code>{_scope(row.scope)}</td>"
        f"<td><code>{html.escape(row.predicate)}</code></td><td>{html.escape(row.value)}</td></tr>"
        for row in context_keys())
    return f"""<details id="kim-context-keys">
<summary>JSON-LD keys and the predicates to query them by</summary>
<p>The API's JSON-LD uses the keys of <a href="context.jsonld">the published context</a>; in SPARQL, ask for the
predicate (<code>^p</code>: the key lists the resources that link here with <code>p</code>).</p>
<table>
<thead><tr><th scope="col">key</th><th scope="col">predicate</th><th scope="col">values</th></tr></thead>
<tbody>
{rows}
</tbody>
</table>
</details>"""


def _scope(scope: str) -> str:
    return f' <span class="scope">on {html.escape(scope)}</span>' if scope else ""


def _params(query: NamedQuery) -> str:
    if not query.params:
        return ""
    listed = ", ".join(f"{p.name}: {p.type}" for p in query.params)
    return f' <span class="params">({html.escape(listed)})</span>'


def editor_response(request: Request, queries: Mapping[str, NamedQuery], iris: Iris) -> HTMLResponse:
    """The editor page for this request: assets and endpoint under the app's root path, tabs for ``queries``
    with example IRIs under ``iris``."""
    root_path = request.scope.get("root_path", "").rstrip("/")
    return HTMLResponse(editor_page(queries, iris, root_path), headers=HEADERS)
