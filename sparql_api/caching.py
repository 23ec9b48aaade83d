"""HTTP caching by data version: ``ETag``, ``Last-Modified``, ``Cache-Control`` and 304 (RFC 9110 §13, RFC 9111).

An answer can only change when the data does, so validators come from the data, not from the body:

* the **build** -- the resolved store directory's name (``20261121T143945-63c483a4``: a new build is a
  new directory), or a token made when the app first needs one for an in-memory store;
* the **data version** -- ``app.state.version.value``, bumped after every write;
* the negotiated **media type**, and anything else the body depends on (the caller passes it).

``ETag`` is a weak tag of their hash; ``Last-Modified`` is the build's time (from its directory name, else
the directory's modification time, else when the app first answered) or, after writes, when this
process first saw the current data version. Use::

    from sparql_api.caching import conditional

    @router.api_route("/thing", methods=["GET", "HEAD"])
    def thing(request: Request) -> Response:
        media = negotiate(...)                       # 406 before any work
        return conditional(request, media, lambda: Response(render(...), media_type=media))

``conditional`` answers 304 to a matching ``If-None-Match`` without calling the factory; otherwise it
calls it and answers 304 when ``If-Modified-Since`` (only looked at without ``If-None-Match``) is not
older than ``Last-Modified``. Only 2xx answers get validators: a 404 stays a 404.
"""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response

CACHE_CONTROL = "public, max-age=60"
# Headers a 304 repeats from the 200 it stands for (RFC 9110 §15.4.5).
_KEPT_ON_304 = ("cache-control", "content-location", "etag", "expires", "last-modified", "vary", "link")


def build_id(app) -> str:
    """The store build this app serves: its directory name, or a token made once for an in-memory store."""
    state = app.state
    cached = getattr(state, "cache_build_id", None)
    if cached is not None:
        return cached
    path = getattr(getattr(state, "store", None), "path", None)
    if path is not None:
        build = Path(path).resolve().name
    else:
        build = "mem-" + uuid.uuid4().hex[:12]
    state.cache_build_id = build
    return build


def _build_time(app) -> float:
    state = app.state
    cached = getattr(state, "cache_build_time", None)
    if cached is not None:
        return cached
    when = None
    path = getattr(getattr(state, "store", None), "path", None)
    if path is not None:
        resolved = Path(path).resolve()
        try:  # build_atomically names versions "%Y%m%dT%H%M%S-<hex>" in UTC
            when = datetime.strptime(resolved.name[:15], "%Y%m%dT%H%M%S").replace(tzinfo=UTC).timestamp()
        except ValueError:
            try:
                when = resolved.stat().st_mtime
            except OSError:
                when = None
    state.cache_build_time = float(int(when if when is not None else time.time()))
    return state.cache_build_time


def data_version(app) -> int:
    version = getattr(app.state, "version", None)
    return int(getattr(version, "value", 0) or 0)


def last_modified(app) -> float:
    """Seconds since the epoch (whole seconds) at which the data now served last changed."""
    built = _build_time(app)
    version = data_version(app)
    if version == 0:
        return built
    seen: dict[int, float] = getattr(app.state, "cache_version_times", None) or {}
    if version not in seen:
        seen[version] = max(float(int(time.time())), built)
        app.state.cache_version_times = seen
    return seen[version]


def entity_tag(request: Request, media_type: str, *parts: str) -> str:
    """The weak ETag of the answer to ``request`` in ``media_type`` with the current data."""
    app = request.app
    material = "\x1f".join((build_id(app), str(data_version(app)), media_type, *parts))
    digest = hashlib.sha256(material.encode()).hexdigest()[:20]
    return f'W/"{digest}-v{data_version(app)}"'


def validators(request: Request, media_type: str, *parts: str) -> dict[str, str]:
    """ETag, Last-Modified and Cache-Control for an answer in ``media_type``."""
    return {
        "ETag": entity_tag(request, media_type, *parts),
        "Last-Modified": format_datetime(datetime.fromtimestamp(last_modified(request.app), UTC),
                                         usegmt=True),
        "Cache-Control": CACHE_CONTROL,
    }


def _opaque(tag: str) -> str:
    tag = tag.strip()
    return tag[2:] if tag.startswith("W/") else tag


def etag_matches(if_none_match: str, etag: str) -> bool:
    """Weak comparison of an ``If-None-Match`` list with our tag (RFC 9110 §13.1.2).

    >>> etag_matches('"x", W/"abc-v0"', 'W/"abc-v0"'), etag_matches('"abc-v0"', 'W/"abc-v0"')
    (True, True)
    >>> etag_matches('*', 'W/"a"'), etag_matches('W/"b"', 'W/"a"')
    (True, False)
    """
    if if_none_match.strip() == "*":
        return True
    ours = _opaque(etag)
    return any(_opaque(candidate) == ours for candidate in if_none_match.split(",") if candidate.strip())


def not_modified_since(if_modified_since: str, modified: float) -> bool:
    """Whether the data is no newer than an ``If-Modified-Since`` date; an invalid date never matches."""
    try:
        since = parsedate_to_datetime(if_modified_since)
    except (TypeError, ValueError, IndexError):
        return False
    if since is None:
        return False
    if since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    return int(modified) <= since.timestamp()


def not_modified(headers: dict[str, str]) -> Response:
    """A 304 carrying the headers the 200 would have had."""
    kept = {k: v for k, v in headers.items() if k.lower() in _KEPT_ON_304}
    return Response(status_code=304, headers=kept)


def conditional(request: Request, media_type: str, factory: Callable[[], Response], *parts: str,
                headers: dict[str, str] | None = None) -> Response:
    """``factory()``'s response with validators, or a 304 when the client's copy is still current.

    ``headers`` (for example ``Vary``, ``Content-Location``) go on both the 200 and the 304.
    """
    cache_headers, answer = precondition(request, media_type, *parts, headers=headers)
    return answer if answer is not None else with_validators(request, factory(), cache_headers)


def precondition(request: Request, media_type: str, *parts: str,
                 headers: dict[str, str] | None = None) -> tuple[dict[str, str], Response | None]:
    """The validators and extra headers of the answer, and a 304 when ``If-None-Match`` already matches.

    The first step of ``conditional``, for routes that build their answer elsewhere (in a thread).
    """
    cache_headers = {**validators(request, media_type, *parts), **(headers or {})}
    if_none_match = request.headers.get("if-none-match")
    if request.method in ("GET", "HEAD") and if_none_match is not None \
            and etag_matches(if_none_match, cache_headers["ETag"]):
        return cache_headers, not_modified(cache_headers)
    return cache_headers, None


def with_validators(request: Request, response: Response, cache_headers: dict[str, str]) -> Response:
    """The second step of ``conditional``: a 304 for a current ``If-Modified-Since``, else the headers added."""
    if not 200 <= response.status_code < 300:
        return response
    if_modified_since = request.headers.get("if-modified-since")
    if request.method in ("GET", "HEAD") and request.headers.get("if-none-match") is None and if_modified_since \
            and not_modified_since(if_modified_since, last_modified(request.app)):
        return not_modified(cache_headers)
    for name, value in cache_headers.items():
        response.headers[name] = value
    return response


class BodyCache:
    """Recently built 200 answers by (build, data version, key): an answer cannot change until the data does.

    Keyed by the data version, so a write makes every older entry unreachable (they age out).
    Thread-safe: routes that use it are plain ``def`` handlers running in the thread pool.
    """

    def __init__(self, entries: int = 512, max_body: int = 1_000_000, max_total: int = 64_000_000):
        self.entries, self.max_body, self.max_total = entries, max_body, max_total
        self._items: OrderedDict[tuple, tuple[int, bytes, list[tuple[bytes, bytes]]]] = OrderedDict()
        self._total = 0
        self._lock = threading.Lock()

    def get(self, app, key: tuple) -> Response | None:
        """A copy of the cached answer for ``key``, or None."""
        full = (build_id(app), data_version(app), *key)
        with self._lock:
            hit = self._items.get(full)
            if hit is not None:
                self._items.move_to_end(full)
        if hit is None:
            return None
        status, body, raw = hit
        response = Response(body, status_code=status)
        response.raw_headers = list(raw)
        return response

    def get_or_build(self, app, key: tuple, build: Callable[[], Response]) -> Response:
        """A copy of the cached answer for ``key``, or ``build()``'s (kept when it is a 200)."""
        cached = self.get(app, key)
        return cached if cached is not None else self.build(app, key, build)

    def build(self, app, key: tuple, build: Callable[[], Response]) -> Response:
        """``build()``'s answer for ``key``, kept when it is a 200 (for callers that looked it up already)."""
        full = (build_id(app), data_version(app), *key)
        response = build()
        body = getattr(response, "body", None)
        if response.status_code == 200 and isinstance(body, bytes) and len(body) <= self.max_body:
            with self._lock:
                if full not in self._items:
                    self._items[full] = (response.status_code, body, list(response.raw_headers))
                    self._total += len(body)
                while self._items and (len(self._items) > self.entries or self._total > self.max_total):
                    _, (_, dropped, _) = self._items.popitem(last=False)
                    self._total -= len(dropped)
        return response


def body_cache(app) -> BodyCache:
    """The app's BodyCache, made on first use."""
    cache = getattr(app.state, "body_cache", None)
    if cache is None:
        cache = app.state.body_cache = BodyCache()
    return cache
