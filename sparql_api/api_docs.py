"""The OpenAPI documentation page (``GET /docs``): Swagger UI served by this service under a strict CSP.

FastAPI's own page loads Swagger UI from a CDN and starts it with an inline script. This one takes
Swagger UI's script and stylesheet from the ``swagger-ui-py`` package (served at ``/static/swagger-ui/``,
those two files only) and starts it from ``/static/docs/kim-docs.js``, so the page asks no other origin
for anything and its policy allows scripts from this origin only. The app factory creates FastAPI
with ``docs_url=None`` and ``redoc_url=None`` and includes ``router``.
"""

from __future__ import annotations

import html
from importlib.util import find_spec
from pathlib import Path

from fastapi import APIRouter, Request
from starlette.responses import FileResponse, HTMLResponse

from sparql_api.errors import ResourceNotFound
from sparql_api.html import content_security_policy, page_headers


def _package_dir(name: str) -> Path:
    """Where an installed package's files are, found without importing it."""
    spec = find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(f"the package {name} is not installed")
    return Path(spec.submodule_search_locations[0])


SWAGGER_DIR = _package_dir("swagger_ui") / "static"
DOCS_DIR = Path(__file__).resolve().parent / "static" / "docs"
SWAGGER_PATH = "/static/swagger-ui"
DOCS_PATH = "/static/docs"
JS, CSS = "text/javascript; charset=utf-8", "text/css; charset=utf-8"
# Only what the page uses: the package also ships an OAuth2 redirect page with inline script.
SWAGGER_FILES = {"swagger-ui-bundle.js": JS, "swagger-ui.css": CSS}
DOCS_FILES = {"kim-docs.js": JS}
ASSET_HEADERS = {"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"}

# Swagger UI's stylesheet draws its icons as data: images and React sets style attributes through
# the DOM (which CSP does not govern); it writes no inline script and needs no eval.
CSP = content_security_policy(script_src="'self'", img_src="'self' data:", font_src="'self'",
                              connect_src="'self'")
HEADERS = page_headers(CSP)

router = APIRouter()


def docs_page(root_path: str, openapi_url: str) -> str:
    """The page: Swagger UI's stylesheet and script, our starter script, and where the document is."""
    root = html.escape(root_path)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>KIM Graph: API documentation</title>
<link rel="stylesheet" href="{root}{SWAGGER_PATH}/swagger-ui.css">
<script src="{root}{DOCS_PATH}/kim-docs.js" defer></script>
<script src="{root}{SWAGGER_PATH}/swagger-ui-bundle.js" defer></script>
</head>
<body>
<div id="swagger-ui" data-openapi-url="{html.escape(root_path + openapi_url)}"><noscript>The documentation
needs JavaScript; the OpenAPI document itself is at <a href="{html.escape(root_path + openapi_url)}">{html.escape(openapi_url)}</a>.</noscript></div>
</body>
</html>
"""


@router.api_route("/docs", methods=["GET", "HEAD"], include_in_schema=False)
def docs(request: Request) -> HTMLResponse:
    """The OpenAPI documentation of this service."""
    root_path = request.scope.get("root_path", "").rstrip("/")
    return HTMLResponse(docs_page(root_path, request.app.openapi_url or "/openapi.json"), headers=HEADERS)



def _asset(directory: Path, files: dict[str, str], name: str) -> FileResponse:
    if name not in files:
        raise ResourceNotFound(f"no such asset: {name}")
    return FileResponse(directory / name, media_type=files[name], headers=ASSET_HEADERS)


@router.api_route(SWAGGER_PATH + "/{name}", methods=["GET", "HEAD"], include_in_schema=False)
def swagger_asset(name: str) -> FileResponse:
    """Swagger UI's script or stylesheet."""
    return _asset(SWAGGER_DIR, SWAGGER_FILES, name)


@router.api_route(DOCS_PATH + "/{name}", methods=["GET", "HEAD"], include_in_schema=False)
def docs_asset(name: str) -> FileResponse:
    """The script that starts Swagger UI on this service's OpenAPI document."""
    return _asset(DOCS_DIR, DOCS_FILES, name)
