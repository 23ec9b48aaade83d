"""HTTP caching by data version: ``ETag``, ``Last-Modified``, ``Cache-Control`` and 304 (RFC 9110 §13, RFC 9111).

An answer can only change when the data does, so validators come from the data (a ``DataStamp``), not
from the body:

* the **build** -- the resolved store directory's name (``20261121T143945-63c483a4``: a new build is a
  new directory), or a token made when the app starts for an in-memory store;
* the **data version** -- ``DataVersion.value``, bumped after every write;
* the negotiated **media type**, and anything else the body depends on (the caller passes it).

``ETag`` is a weak tag of their hash; ``Last-Modified`` is the build's time (from its directory name, else
the directory's modification time, else when the app started) or, after writes, when this process first
saw the current data version. Use::

    from sparql_api.caching import conditional

    @router.api_route("/thing", methods=["GET", "HEAD"])
    def thing(request: Request, services: ServicesDep) -> Response:
        media = negotiate(...)                       # 406 before any work
        return conditional(request, services.stamp, media, lambda: Response(body(...), media_type=media))

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
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from typing import TYPE_CHECKING, Generic, TypeVar

from starlette.requests import Request
from starlette.responses import Response

from sparql_api.workers import DataVersion

if TYPE_CHECKING:
    from sparql_api.prepared import Preparer

CACHE_CONTROL = "public, max-age=60"
# Headers a 304 repeats from the 200 it stands for (RFC 9110 §15.4.5).
_KEPT_ON_304 = ("cache-control", "content-location", "etag", "expires", "last-modified", "vary", "link")
T = TypeVar("T")


def build_id(store_path: Path | None) -> str:
    """The store build served: its directory's name, or a new token for an in-memory store."""
    if store_path is not None:
        return Path(store_path).resolve().name
    return "mem-" + uuid.uuid4().hex[:12]


def build_time(store_path: Path | None) -> float:
    """When the build was made (whole seconds): from its directory's name, else the directory's time, else now."""
    when = None
    if store_path is not None:
        resolved = Path(store_path).resolve()
        try:  # build_atomically names versions "%Y%m%dT%H%M%S-<hex>" in UTC
            when = datetime.strptime(resolved.name[:15], "%Y%m%dT%H%M%S").replace(tzinfo=UTC).timestamp()
        except ValueError:
            try:
                when = resolved.stat().st_mtime
            except OSError:
                when = None
    return float(int(when if when is not None else time.time()))


class DataStamp:
    """What the validators are made from: the store build served and the writes applied since it opened."""

    def __init__(self, store_path: Path | None, version: DataVersion):
        self.build = build_id(store_path)
        self.built_at = build_time(store_path)
        self.version = version
        self._seen: dict[int, float] = {}  # data version -> when this process first saw it

    @property
    def data_version(self) -> int:
        return self.version.value

    def last_modified(self) -> float:
        """Seconds since the epoch (whole seconds) at which the data now served last changed."""
        version = self.data_version
        if version == 0:
            return self.built_at
        if version not in self._seen:
            self._seen[version] = max(float(int(time.time())), self.built_at)
        return self._seen[version]


def entity_tag(stamp: DataStamp, media_type: str, *parts: str) -> str:
    """The weak ETag of an answer in ``media_type`` with the data ``stamp`` names."""
    version = stamp.data_version
    material = "\x1f".join((stamp.build, str(version), media_type, *parts))
    digest = hashlib.sha256(material.encode()).hexdigest()[:20]
    return f'W/"{digest}-v{version}"'


def validators(stamp: DataStamp, media_type: str, *parts: str) -> dict[str, str]:
    """ETag, Last-Modified and Cache-Control for an answer in ``media_type``."""
    return {
        "ETag": entity_tag(stamp, media_type, *parts),
        "Last-Modified": format_datetime(datetime.fromtimestamp(stamp.last_modified(), UTC), usegmt=True),
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


def conditional(request: Request, stamp: DataStamp, media_type: str, factory: Callable[[], Response], *parts: str,
                headers: dict[str, str] | None = None) -> Response:
    """``factory()``'s response with validators, or a 304 when the client's copy is still current.

    ``headers`` (for example ``Vary``, ``Content-Location``) go on both the 200 and the 304.
    """
    cache_headers, answer = precondition(request, stamp, media_type, *parts, headers=headers)
    return answer if answer is not None else with_validators(request, stamp, factory(), cache_headers)


def precondition(request: Request, stamp: DataStamp, media_type: str, *parts: str,
                 headers: dict[str, str] | None = None) -> tuple[dict[str, str], Response | None]:
    """The validators and extra headers of the answer, and a 304 when ``If-None-Match`` already matches.

    The first step of ``conditional``, for routes that build their answer elsewhere (in a thread).
    """
    cache_headers = {**validators(stamp, media_type, *parts), **(headers or {})}
    if_none_match = request.headers.get("if-none-match")
    if request.method in ("GET", "HEAD") and if_none_match is not None \
            and etag_matches(if_none_match, cache_headers["ETag"]):
        return cache_headers, not_modified(cache_headers)
    return cache_headers, None


def with_validators(request: Request, stamp: DataStamp, response: Response,
                    cache_headers: dict[str, str]) -> Response:
    """The second step of ``conditional``: a 304 for a current ``If-Modified-Since``, else the headers added."""
    if not 200 <= response.status_code < 300:
        return response
    if_modified_since = request.headers.get("if-modified-since")
    if request.method in ("GET", "HEAD") and request.headers.get("if-none-match") is None and if_modified_since \
            and not_modified_since(if_modified_since, stamp.last_modified()):
        return not_modified(cache_headers)
    for name, value in cache_headers.items():
        response.headers[name] = value
    return response


async def cached_by_url(request: Request, stamp: DataStamp, media_type: str,
                        make: Callable[[], Awaitable[Response]]) -> Response:
    """``await make()`` with ETag, Last-Modified and Cache-Control from the data version, or a 304.

    The async form of ``conditional``: a matching ``If-None-Match`` is answered before any
    query runs. The tag covers the whole URL (filters, page, format) and the media type.
    """
    vary = {"Vary": "Accept"}
    cache_headers = {**validators(stamp, media_type, request.url.path, request.url.query), **vary}
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None and etag_matches(if_none_match, cache_headers["ETag"]):
        return not_modified(cache_headers)
    response = await make()
    if not 200 <= response.status_code < 300:
        return response
    if_modified_since = request.headers.get("if-modified-since")
    if if_none_match is None and if_modified_since \
            and not_modified_since(if_modified_since, stamp.last_modified()):
        return not_modified({**cache_headers, **{k: v for k, v in response.headers.items() if k.lower() == "link"}})
    response.headers.update(cache_headers)
    return response


class BodyCache:
    """Recently built 200 answers by (build, data version, key): an answer cannot change until the data does.

    Keyed by the data version, so a write makes every older entry unreachable (they age out).
    Thread-safe: routes that use it are plain ``def`` handlers running in the thread pool.
    """

    def __init__(self, stamp: DataStamp, entries: int = 512, max_body: int = 1_000_000, max_total: int = 64_000_000,
                 prepared: Preparer | None = None):
        self.stamp = stamp
        self.prepared = prepared  # answers prepared ahead, looked up when there is none in memory
        self.entries, self.max_body, self.max_total = entries, max_body, max_total
        self._items: OrderedDict[tuple, tuple[int, bytes, list[tuple[bytes, bytes]]]] = OrderedDict()
        self._total = 0
        self._lock = threading.Lock()

    def get(self, key: tuple) -> Response | None:
        """A copy of the cached answer for ``key``, or None."""
        full = (self.stamp.build, self.stamp.data_version, *key)
        with self._lock:
            hit = self._items.get(full)
            if hit is not None:
                self._items.move_to_end(full)
        if hit is None:
            answers = self.prepared.answers() if self.prepared is not None else None
            return answers.get(key) if answers is not None else None
        status, body, raw = hit
        response = Response(body, status_code=status)
        response.raw_headers = list(raw)
        return response

    def get_or_build(self, key: tuple, build: Callable[[], Response]) -> Response:
        """A copy of the cached answer for ``key``, or ``build()``'s (kept when it is a 200)."""
        cached = self.get(key)
        return cached if cached is not None else self.build(key, build)

    def drain(self) -> list[tuple[tuple, int, bytes, list[tuple[bytes, bytes]]]]:
        """Every answer kept, as (full key, status, body, raw headers), the cache left empty."""
        with self._lock:
            items = [(key, *value) for key, value in self._items.items()]
            self._items.clear()
            self._total = 0
        return items

    def build(self, key: tuple, build: Callable[[], Response]) -> Response:
        """``build()``'s answer for ``key``, kept when it is a 200 (for callers that looked it up already)."""
        full = (self.stamp.build, self.stamp.data_version, *key)
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


class PerVersion(Generic[T]):
    """A value computed from the data, kept until the data version moves on, then computed again when asked."""

    def __init__(self, version: DataVersion, compute: Callable[[], T]):
        self._version, self._compute = version, compute
        self._kept: tuple[int, T] | None = None

    def get(self) -> T:
        """The value for the current data version."""
        version = self._version.value
        kept = self._kept
        if kept is None or kept[0] != version:
            kept = self._kept = (version, self._compute())
        return kept[1]
