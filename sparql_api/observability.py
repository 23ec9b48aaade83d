"""Prometheus metrics and structured access logs, recorded for every request by one pure ASGI middleware.

``Metrics`` holds the app's own registry (never the process-wide default, so several apps can live in
one process): requests and their latency by route template, method and status, the queries stopped
by the time limit, and (``StoreSize``, registered while the store is open) the store's size, counted at
scrape time once per data version.
``ObservabilityMiddleware`` times each request, labels it with the template of the route that answered
(``/id/{path}``, never the raw URL, so label values stay few) and writes one JSON line per request on
the ``kimgraph.access`` logger. The line has the path without its query string, and no header but the
request id: neither the ``Authorization`` header nor a token given in a query string is ever logged.

https://prometheus.io/docs/instrumenting/exposition_formats/
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Iterator
from json.encoder import encode_basestring_ascii as _string

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sparql_api.caching import DataStamp
from store.protocol import KnowledgeStore

access_log = logging.getLogger("kimgraph.access")

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"})
UNMATCHED = "(unmatched)"
PREFLIGHT = "(preflight)"
REQUEST_ID_HEADER = b"x-request-id"
MAX_REQUEST_ID = 128


class StoreSize(Collector):
    """The ``kimgraph_store_triples`` gauge: the store's quads, counted once per build and data version."""

    def __init__(self, store: KnowledgeStore, stamp: DataStamp) -> None:
        self.store, self.stamp = store, stamp
        self._counted: tuple[tuple[str, int], int] | None = None
        self._lock = threading.Lock()

    def triples(self) -> int:
        """The number of distinct triples in the store."""
        key = (self.stamp.build, self.stamp.data_version)
        with self._lock:  # one count at a time; concurrent scrapes wait for it rather than count again
            if self._counted is None or self._counted[0] != key:
                self._counted = (key, self.store.triple_count())
            return self._counted[1]

    def describe(self) -> Iterator[Metric]:
        yield self._family()

    def collect(self) -> Iterator[Metric]:
        family = self._family()
        family.add_metric([], self.triples())
        yield family

    @staticmethod
    def _family() -> GaugeMetricFamily:
        return GaugeMetricFamily("kimgraph_store_triples", "Quads in the store, all named graphs together")


class Metrics:
    """The app's Prometheus registry and the instruments the service records into it."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        labels = ("route", "method", "status")
        self.requests = Counter("kimgraph_http_requests", "HTTP requests answered, by route template, "
                                "method and status", labels, registry=self.registry)
        self.latency = Histogram("kimgraph_http_request_duration_seconds", "Time to answer an HTTP request, "
                                 "by route template, method and status", labels, buckets=LATENCY_BUCKETS,
                                 registry=self.registry)
        self.query_timeouts = Counter("kimgraph_query_timeouts", "SPARQL queries stopped by the time limit",
                                      registry=self.registry)
        self.answers_reused = Counter("kimgraph_query_answers_reused", "SPARQL answers given without a run of "
                                      "their own: kept for the data version, or shared with an identical "
                                      "query running", registry=self.registry)
        self.resources_kept = Counter("kimgraph_resource_answers_kept", "GET and HEAD of /id/ answered from an "
                                      "answer kept (built earlier or prepared ahead) before routing",
                                      registry=self.registry)
        self._children: dict[tuple[str, str, int], tuple] = {}

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        """Count one answered request and its latency."""
        key = (route, method, status)
        children = self._children.get(key)
        if children is None:
            label_values = (route, method, str(status))
            children = self._children[key] = (self.requests.labels(*label_values),
                                              self.latency.labels(*label_values))
        children[0].inc()
        children[1].observe(seconds)


def route_template(scope: Scope, root_path: str, status: int) -> str:
    """The template of the route that answered (``/id/{path}``), set by the router in ``scope``; for a
    request no route took, ``(preflight)`` (a CORS preflight answered by the CORS middleware) or
    ``(unmatched)``."""
    route = scope.get("route")
    template = getattr(route, "path_format", None)
    if template is not None:
        return template
    mounted = scope.get("root_path", "")
    if len(mounted) > len(root_path):  # a mounted app (the static files) answered
        return mounted[len(root_path):] + "/{path}"
    return PREFLIGHT if scope.get("method") == "OPTIONS" and status < 400 else UNMATCHED


def request_id(scope: Scope) -> bytes:
    """The client's ``X-Request-ID`` when it is short printable ASCII, else a new random one."""
    for name, value in scope.get("headers", ()):
        if name == REQUEST_ID_HEADER:
            if 0 < len(value) <= MAX_REQUEST_ID and value.isascii() and value.decode().isprintable():
                return value
            break
    return os.urandom(16).hex().encode()


class ObservabilityMiddleware:
    """Times every HTTP request, counts it in ``metrics`` and logs it as one JSON line.

    A pure ASGI middleware: it wraps ``send`` to see the status and the body's size and adds the
    ``X-Request-ID`` header to the response; nothing else is read or copied.
    """

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics
        self.clock = Clock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        root_path = scope.get("root_path", "")
        path = scope["path"]  # as received: routing may change the scope
        rid = request_id(scope)
        status = 500  # what the server answers when the app fails before starting a response
        size = 0

        async def send_observed(message: Message) -> None:
            nonlocal status, size
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), (REQUEST_ID_HEADER, rid)]
            elif message["type"] == "http.response.body":
                size += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, send_observed)
        finally:
            seconds = time.perf_counter() - start
            method = scope["method"] if scope["method"] in METHODS else "OTHER"
            route = route_template(scope, root_path, status)
            self.metrics.observe(route, method, status, seconds)
            if access_log.isEnabledFor(logging.INFO):
                client = scope.get("client")
                access_log.info(access_line(self.clock.now(), scope["method"], route, path, status, seconds,
                                            size, client[0] if client else None, rid))


class Clock:
    """UTC timestamps with milliseconds; the formatted second is reused while it lasts."""

    def __init__(self) -> None:
        self.second = -1
        self.prefix = ""

    def now(self) -> str:
        moment = time.time()
        second = int(moment)
        if second != self.second:
            self.second, self.prefix = second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        return f"{self.prefix}.{int((moment - second) * 1000):03d}+00:00"


def access_line(when: str, method: str, route: str, path: str, status: int, seconds: float, size: int,
                client: str | None, rid: bytes) -> str:
    """One access-log entry as a JSON object on one line (built directly: this runs for every request).

    >>> import json
    >>> line = access_line("2026-01-02T03:04:05.678+00:00", "GET", "/id/{path}", '/id/a"é', 200, 0.0015, 12,
    ...                    None, b"r1")
    >>> entry = json.loads(line)
    >>> line.isascii(), entry["path"], entry["duration_ms"], entry["client"], entry["request_id"]
    (True, '/id/a"é', 1.5, None, 'r1')
    """
    return (f'{{"time":"{when}","method":{_string(method)},"route":{_string(route)},'
            f'"path":{_string(path)},"status":{status},"duration_ms":{round(seconds * 1000, 3)},'
            f'"bytes":{size},"client":{"null" if client is None else _string(client)},'
            f'"request_id":{_string(rid.decode())}}}')


def configure_access_log(stream=None) -> None:
    """Write the access log's JSON lines, one per request, to ``stream`` (standard error by default).

    Does nothing when the ``kimgraph.access`` logger already has a handler of its own.
    """
    if access_log.handlers:
        return
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    access_log.addHandler(handler)
    access_log.setLevel(logging.INFO)
    access_log.propagate = False
