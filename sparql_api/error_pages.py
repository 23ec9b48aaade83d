"""Errors for people and for programs: the same problem as an HTML page for a browser, as RFC 9457
``application/problem+json`` for everything else.

A browser (an ``Accept`` that prefers ``text/html`` to JSON; ``*/*`` alone is a program) gets a page with
the problem and where to go from there: a path that looks like a resource under another name points to
it (``/standards/ST1337`` to ``/id/standard/ST1337``), and every page offers search and the home page.
The same hint ends the ``detail`` of the JSON problem, which is never empty.
"""

from __future__ import annotations

import json
import re
from http import HTTPStatus
from urllib.parse import quote

from fastapi import Request
from starlette.responses import Response

from sparql_api.conneg import parse_accept, quality
from sparql_api.html import render_page
from sparql_api.problems import handle_error

HTML = "text/html"
_PROGRAM_TYPES = ("application/problem+json", "application/json")
_STANDARD = re.compile(r"^/(?:id/)?standards?/(ST\d{4})/?$", re.IGNORECASE)
_MISSING_ID = re.compile(r"^/(standard|occupation|org|organisation|discipline|role)/(.+)$")
_PLURAL_ID = re.compile(r"^/id/(standards|occupations|orgs|organisations|disciplines|roles)/(.+)$")
_SINGULAR = {"standards": "standard", "occupations": "occupation", "orgs": "org", "organisations": "org",
             "organisation": "org", "disciplines": "discipline", "roles": "role"}
_DEFAULT_DETAIL = {
    404: "Nothing is served at {path}.",
    405: "{method} is not allowed on {path}.",
}


def wants_html(accept: str | None) -> bool:
    """Whether ``accept`` prefers a page to a JSON problem (a browser's header does; ``*/*`` does not).

    >>> wants_html("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
    True
    >>> wants_html("*/*"), wants_html(None), wants_html("application/json, text/html;q=0.5")
    (False, False, False)
    """
    ranges = parse_accept(accept)
    if not ranges:
        return False
    html = quality(ranges, HTML)
    return html > 0 and all(html > quality(ranges, other) for other in _PROGRAM_TYPES)


def where_to_go(path: str) -> list[tuple[str, str]]:
    """Paths on this service the request may have meant, with what each is, best first.

    >>> where_to_go("/standards/ST1337")[0]
    ('/id/standard/ST1337', 'the standard ST1337')
    >>> where_to_go("/organisation/cilip")
    [('/id/org/cilip', 'the resource /id/org/cilip')]
    >>> where_to_go("/nothing/here")
    []
    """
    standard = _STANDARD.match(path)
    if standard:
        code = standard.group(1).upper()
        return [(f"/id/standard/{code}", f"the standard {code}"),
                (f"/standards/{code}/duties", f"the duties of {code}"),
                (f"/standards/{code}/ksbs", f"the knowledge, skills and behaviours of {code}")]
    for pattern in (_MISSING_ID, _PLURAL_ID):
        matched = pattern.match(path)
        if matched:
            target = f"/id/{_SINGULAR.get(matched.group(1), matched.group(1))}/{matched.group(2)}"
            return [(target, f"the resource {target}")]
    return []


def _search_term(path: str) -> str:
    """The last meaningful segment of a path, to search for."""
    segments = [s for s in path.split("/") if s and s not in ("id", "standards", "standard")]
    return segments[-1] if segments else ""


def _detail(request: Request, status: int, detail: str, hints: list[tuple[str, str]]) -> str:
    path = request.url.path
    if not detail:
        detail = _DEFAULT_DETAIL.get(status, HTTPStatus(status).description or HTTPStatus(status).phrase)
        detail = detail.format(path=path, method=request.method)
    if hints:
        detail = f"{detail.rstrip('.')}. Did you mean {hints[0][0]} ({hints[0][1]})?"
    return detail


async def handle_error_for_people(request: Request, exc: Exception) -> Response:
    """The one error handler: ``problems.handle_error``'s problem, with a detail that is never empty, as
    problem+json or, for a browser, as an HTML page saying where to go."""
    problem_response = await handle_error(request, exc)
    problem = json.loads(bytes(problem_response.body))
    status = problem["status"]
    root = request.scope.get("root_path", "").rstrip("/")
    hints = [(root + target, what) for target, what in where_to_go(request.url.path)
             if status == 404 and root + target != request.url.path]
    problem["detail"] = _detail(request, status, problem.get("detail") or "", hints)
    headers = {k: v for k, v in problem_response.headers.items() if k.lower() not in ("content-length", "content-type")}
    headers["Vary"] = "Accept"
    if not wants_html(request.headers.get("accept")):
        return Response(json.dumps(problem, ensure_ascii=False).encode(), status_code=status, headers=headers,
                        media_type=problem_response.media_type)
    term = _search_term(request.url.path) if status == 404 else ""
    search = f"{root}/search?q={quote(term)}" if term else None
    return render_page("error.html", request=request, status_code=status, headers=headers,
                       title=problem["title"], problem=problem, hints=hints, search=search, term=term)
