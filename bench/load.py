"""A mixed HTTP workload from many concurrent clients, with an optional runaway query each second.

    from bench.load import run_load, format_report
    report = asyncio.run(run_load("http://127.0.0.1:8000", seconds=30, clients=32, runaway=True))
    print(format_report(report))

Each virtual client holds one keep-alive ``httpx.AsyncClient`` connection and sends, one after another
until the time is up, requests drawn by weight from the mix in ``WEIGHTS``: ``GET /id/...`` in every
format (and revalidations that expect 304), small and large ``/sparql`` queries, ``/search``, the named
queries of ``GET /queries`` with their example parameters, and ``POST /validate``. The runaway task
sends one cartesian-product query per interval on connections of its own; it overruns the server's
query time limit, must be answered 503 problem+json, and is counted apart from the other clients.
"""

from __future__ import annotations

import asyncio
import math
import random
import ssl
import time
from collections import Counter
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx

PROBLEM = "application/problem+json"
SPARQL_JSON = "application/sparql-results+json"

# The media type each kind of GET /id/ request asks for.
RESOURCE_FORMATS = {
    "id-jsonld": "application/ld+json",
    "id-turtle": "text/turtle",
    "id-ntriples": "application/n-triples",
    "id-rdfxml": "application/rdf+xml",
    "id-html": "text/html",
}
# How often each kind of request is sent, relative to the others; id-304 revalidates a JSON-LD answer.
WEIGHTS = {
    "id-jsonld": 8, "id-turtle": 6, "id-ntriples": 6, "id-rdfxml": 6, "id-html": 6, "id-304": 6,
    "sparql-small": 18, "sparql-large": 6, "search": 14, "named-query": 16, "validate": 1,
}
EXPECTED = {kind: frozenset({304} if kind == "id-304" else {200}) for kind in WEIGHTS}

RESOURCE_QUERY = """
SELECT DISTINCT ?s WHERE {
  ?s a ?type
  FILTER(isIRI(?s) && CONTAINS(STR(?s), "/id/") && !CONTAINS(STR(?s), "#"))
} LIMIT 2000"""
SMALL_QUERIES = (
    "SELECT ?p ?o WHERE {{ <{iri}> ?p ?o }} LIMIT 100",
    "ASK {{ <{iri}> a ?type }}",
    "PREFIX skos: <http://www.w3.org/2004/02/skos/core#>\n"
    "SELECT ?label ?code WHERE {{ OPTIONAL {{ <{iri}> skos:prefLabel ?label }} "
    "OPTIONAL {{ <{iri}> skos:notation ?code }} }}",
)
LARGE_QUERIES = (
    "SELECT ?g (COUNT(*) AS ?triples) (COUNT(DISTINCT ?s) AS ?subjects) (COUNT(DISTINCT ?p) AS ?properties)\n"
    "WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY DESC(?triples)",
    "SELECT ?type (COUNT(DISTINCT ?s) AS ?n) (SAMPLE(?s) AS ?example) WHERE { ?s a ?type }\n"
    "GROUP BY ?type ORDER BY DESC(?n)",
    "PREFIX kim: <https://w3id.org/uk-kim/def#>\nPREFIX skos: <http://www.w3.org/2004/02/skos/core#>\n"
    "SELECT ?duty ?code (COUNT(DISTINCT ?ksb) AS ?ksbs) (GROUP_CONCAT(DISTINCT ?ksbCode; separator=' ') AS ?codes)\n"
    "WHERE { ?duty a kim:Duty ; skos:notation ?code .\n"
    "  OPTIONAL { { ?duty kim:mapsToKnowledge ?ksb } UNION { ?duty kim:mapsToSkill ?ksb }\n"
    "             UNION { ?duty kim:mapsToBehaviour ?ksb } ?ksb skos:notation ?ksbCode } }\n"
    "GROUP BY ?duty ?code ORDER BY ?code",
)
SEARCH_TERMS = ("records", "data", "GDPR", "knowledge management", "information", "K19", "copyright",
                "taxonomy", "stakeholders", "digital", "archives", "S15", "metadata", "library")
# A cartesian product of the store with itself, three times; a varying comment defeats any cache.
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE {{ ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }} # {nonce}"
VALIDATE_BODY = b"""\
@base <https://w3id.org/uk-kim/id/standard/> .
@prefix kim:     <https://w3id.org/uk-kim/def#> .
@prefix skos:    <http://www.w3.org/2004/02/skos/core#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix ceasn:   <https://purl.org/ctdlasn/terms/> .
@prefix ktype:   <https://w3id.org/uk-kim/id/scheme/ksb-type/> .

<ST0997> a kim:OccupationalStandard ;
    dcterms:identifier "ST0997" ;
    dcterms:title "Library assistant"@en ;
    kim:level 3 ;
    kim:hasDuty <ST0997/duty/1> ;
    kim:hasKSB <ST0997/ksb/K1> , <ST0997/ksb/S1> .

<ST0997/duty/1> a kim:Duty ; skos:notation "D1" ; kim:ordinal 1 ; kim:dutyOf <ST0997> ;
    dcterms:description "Help readers find and borrow items."@en ;
    kim:mapsToKnowledge <ST0997/ksb/K1> ; kim:mapsToSkill <ST0997/ksb/S1> .

<ST0997/ksb/K1> a kim:Knowledge ; skos:notation "K1" ; kim:ordinal 1 ; ceasn:isPartOf <ST0997> ;
    kim:ksbType ktype:knowledge ; ceasn:competencyText "The library's catalogue and lending rules."@en .
<ST0997/ksb/S1> a kim:Skill ; skos:notation "S1" ; kim:ordinal 1 ; ceasn:isPartOf <ST0997> ;
    kim:ksbType ktype:skill ; ceasn:competencyText "Search the catalogue on behalf of readers."@en .
"""


@dataclass(frozen=True)
class Call:
    """One request to send: its kind, method, path, parameters, headers and body."""

    kind: str
    method: str
    path: str
    params: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    content: bytes | None = None


@dataclass(frozen=True)
class Sample:
    """What one request got: status (None when it got no response), seconds, and its failure if any."""

    kind: str
    status: int | None
    seconds: float
    problem: bool = False
    failure: str | None = None  # "connection" or "timeout"


@dataclass(frozen=True)
class Targets:
    """What the workload draws from: resource paths and IRIs, and the named queries with their parameters."""

    resource_paths: tuple[str, ...]
    resource_iris: tuple[str, ...]
    named_queries: tuple[tuple[str, tuple[tuple[str, str], ...]], ...]


async def discover(client: httpx.AsyncClient) -> Targets:
    """Resource IRIs from the store (one SPARQL query) and the named queries from ``GET /queries``."""
    response = await client.get("/sparql", params={"query": RESOURCE_QUERY}, headers={"Accept": SPARQL_JSON})
    response.raise_for_status()
    iris = tuple(b["s"]["value"] for b in response.json()["results"]["bindings"])
    if not iris:
        raise ValueError("the store holds no /id/ resources to request")
    paths = tuple(urlsplit(iri).path[urlsplit(iri).path.index("/id/"):] for iri in iris)
    listing = await client.get("/queries", headers={"Accept": "application/json"})
    listing.raise_for_status()
    named = []
    for query in listing.json()["queries"]:
        params = tuple((p["name"], str(p["example"])) for p in query["parameters"])
        if all(p["example"] is not None for p in query["parameters"]):
            named.append((query["name"], params))
    return Targets(paths, iris, tuple(named))


class Workload:
    """Draws calls by weight; one per virtual client, since it remembers the ETags that client has seen."""

    def __init__(self, targets: Targets, rng: random.Random, weights: dict[str, int] | None = None):
        self.targets, self.rng = targets, rng
        weights = weights or WEIGHTS
        self.kinds, self.weights = list(weights), list(weights.values())
        self.etags: dict[str, str] = {}

    def next_call(self, kind: str | None = None) -> Call:
        """A call of ``kind``, or of a kind drawn by weight."""
        kind = kind or self.rng.choices(self.kinds, self.weights)[0]
        pick = self.rng.choice
        if kind == "id-304" and not self.etags:
            kind = "id-jsonld"  # nothing to revalidate yet
        if kind == "id-304":
            path = pick(list(self.etags))
            return Call(kind, "GET", path, headers={"Accept": RESOURCE_FORMATS["id-jsonld"],
                                                    "If-None-Match": self.etags[path]})
        if kind in RESOURCE_FORMATS:
            return Call(kind, "GET", pick(self.targets.resource_paths), headers={"Accept": RESOURCE_FORMATS[kind]})
        if kind == "sparql-small":
            query = pick(SMALL_QUERIES).format(iri=pick(self.targets.resource_iris))
            return Call(kind, "GET", "/sparql", params={"query": query}, headers={"Accept": SPARQL_JSON})
        if kind == "sparql-large":
            return Call(kind, "POST", "/sparql", content=pick(LARGE_QUERIES).encode(),
                        headers={"Content-Type": "application/sparql-query", "Accept": SPARQL_JSON})
        if kind == "search":
            return Call(kind, "GET", "/search", params={"q": pick(SEARCH_TERMS)},
                        headers={"Accept": "application/json"})
        if kind == "named-query":
            name, params = pick(self.targets.named_queries)
            return Call(kind, "GET", f"/queries/{name}", params=dict(params), headers={"Accept": SPARQL_JSON})
        if kind == "validate":
            return Call(kind, "POST", "/validate", content=VALIDATE_BODY,
                        headers={"Content-Type": "text/turtle", "Accept": "application/json"})
        raise ValueError(f"unknown kind of request {kind!r}")

    def saw(self, call: Call, response: httpx.Response) -> None:
        """Remember a JSON-LD resource's ETag, to revalidate it later."""
        if call.kind == "id-jsonld" and response.status_code == 200 and "etag" in response.headers:
            self.etags[call.path] = response.headers["etag"]


async def send(client: httpx.AsyncClient, call: Call) -> tuple[Sample, httpx.Response | None]:
    """Send one call and time it until its whole body has arrived."""
    started = time.perf_counter()
    try:
        response = await client.request(call.method, call.path, params=call.params or None,
                                         headers=call.headers, content=call.content)
    except httpx.TimeoutException:
        return Sample(call.kind, None, time.perf_counter() - started, failure="timeout"), None
    except httpx.TransportError:
        return Sample(call.kind, None, time.perf_counter() - started, failure="connection"), None
    problem = response.headers.get("content-type", "").split(";")[0].strip() == PROBLEM
    return Sample(call.kind, response.status_code, time.perf_counter() - started, problem), response


def percentile(values: list[float], p: float) -> float:
    """The nearest-rank ``p``-th percentile of ``values`` (0 for none).

    >>> percentile([0.1, 0.2, 0.3, 0.4], 50)
    0.2
    >>> percentile([0.1, 0.2, 0.3, 0.4], 99)
    0.4
    """
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(math.ceil(p / 100 * len(ordered)) - 1, 0)]


@dataclass(frozen=True)
class KindFigures:
    """Counts and latencies (seconds) of one kind of request, or of all of them."""

    requests: int
    statuses: dict[int | None, int]
    unexpected: int
    server_errors: int
    p50: float
    p90: float
    p99: float

    @classmethod
    def of(cls, samples: list[Sample]) -> KindFigures:
        latencies = [s.seconds for s in samples]
        return cls(
            requests=len(samples),
            statuses=dict(Counter(s.status for s in samples)),
            unexpected=sum(1 for s in samples if s.status not in EXPECTED[s.kind]),
            server_errors=sum(1 for s in samples if s.status is not None and s.status >= 500),
            p50=percentile(latencies, 50), p90=percentile(latencies, 90), p99=percentile(latencies, 99),
        )


@dataclass
class LoadReport:
    """Everything one run recorded: the mixed clients' samples and, apart, the runaway queries'."""

    seconds: float
    clients: int
    samples: list[Sample]
    runaways: list[Sample]

    @property
    def rate(self) -> float:
        return len(self.samples) / self.seconds if self.seconds else 0.0

    @property
    def overall(self) -> KindFigures:
        return KindFigures.of(self.samples)

    def by_kind(self) -> dict[str, KindFigures]:
        kinds = sorted({s.kind for s in self.samples}, key=list(WEIGHTS).index)
        return {k: KindFigures.of([s for s in self.samples if s.kind == k]) for k in kinds}

    @property
    def server_errors(self) -> int:
        return sum(1 for s in self.samples if s.status is not None and s.status >= 500)

    @property
    def connection_errors(self) -> int:
        return sum(1 for s in [*self.samples, *self.runaways] if s.failure == "connection")

    @property
    def timeouts(self) -> int:
        return sum(1 for s in [*self.samples, *self.runaways] if s.failure == "timeout")

    @property
    def runaway_outcomes(self) -> dict[str, int]:
        """How the runaway queries ended: "503 problem", another status, or a failure."""
        return dict(Counter(s.failure or (f"{s.status} problem" if s.problem else str(s.status))
                            for s in self.runaways))


def opening_kinds(client: int) -> list[str]:
    """What client number ``client`` sends first, so that every kind is sent even in a short run.

    >>> opening_kinds(0), opening_kinds(5)
    (['id-jsonld'], ['id-jsonld', 'id-304'])
    """
    kind = list(WEIGHTS)[client % len(WEIGHTS)]
    return ["id-jsonld", kind] if kind == "id-304" else [kind]  # a revalidation needs an ETag first


async def _client_loop(client: httpx.AsyncClient, targets: Targets, deadline: float, number: int, seed: int,
                       samples: list[Sample]) -> None:
    workload = Workload(targets, random.Random(seed))
    opening = opening_kinds(number)
    while time.perf_counter() < deadline:
        call = workload.next_call(opening.pop(0) if opening else None)
        sample, response = await send(client, call)
        samples.append(sample)
        if response is not None:
            workload.saw(call, response)


async def _runaway_loop(client: httpx.AsyncClient, deadline: float, every: float, runaways: list[Sample]) -> None:
    async def one(nonce: int) -> None:
        call = Call("runaway", "GET", "/sparql", params={"query": RUNAWAY.format(nonce=nonce)},
                    headers={"Accept": SPARQL_JSON})
        runaways.append((await send(client, call))[0])

    pending, nonce, next_at = set(), 0, time.perf_counter()
    while next_at < deadline:
        await asyncio.sleep(max(next_at - time.perf_counter(), 0))
        nonce += 1
        pending.add(asyncio.create_task(one(nonce)))
        next_at += every
    if pending:
        await asyncio.wait(pending)


async def run_load(base_url: str, seconds: float, clients: int = 32, runaway: bool = False,
                   runaway_every: float = 1.0, seed: int = 0, timeout: float = 30.0,
                   targets: Targets | None = None) -> LoadReport:
    """Run the mixed workload from ``clients`` clients for ``seconds`` (plus a runaway query every
    ``runaway_every`` seconds when ``runaway``); requests under way at the end are waited for.

    The clients are made before the clock starts, all with one TLS context: building one per client
    takes tens of milliseconds of CPU, during which no other client's response would be read.
    """
    tls = ssl.create_default_context()
    one_connection = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    samples: list[Sample] = []
    runaways: list[Sample] = []
    async with AsyncExitStack() as stack:
        def client(**options) -> httpx.AsyncClient:
            return httpx.AsyncClient(base_url=base_url, timeout=timeout, verify=tls, **options)

        pool = [await stack.enter_async_context(client(limits=one_connection)) for _ in range(clients)]
        runaway_client = await stack.enter_async_context(client())
        if targets is None:
            targets = await discover(runaway_client)
        started = time.perf_counter()
        deadline = started + seconds
        tasks = [_client_loop(c, targets, deadline, n, seed * 1000 + n, samples) for n, c in enumerate(pool)]
        if runaway:
            tasks.append(_runaway_loop(runaway_client, deadline, runaway_every, runaways))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - started
    return LoadReport(elapsed, clients, samples, runaways)


def p99_ratio(calm: LoadReport, runaway: LoadReport) -> float:
    """How many times the mixed clients' p99 latency grew when the runaway queries were added."""
    before = calm.overall.p99
    return runaway.overall.p99 / before if before else math.inf


def format_report(report: LoadReport, name: str = "run") -> str:
    """A table of one run: requests, req/s, p50/p90/p99 in ms, statuses and errors, overall and per kind."""
    lines = [f"{name}: {report.clients} clients, {report.seconds:.1f} s, {len(report.samples)} requests, "
             f"{report.rate:.1f} req/s, 5xx {report.server_errors}, connection errors "
             f"{report.connection_errors}, timeouts {report.timeouts}"]
    if report.runaways:
        lines.append(f"  runaway queries: {report.runaway_outcomes}, p50 "
                     f"{percentile([s.seconds for s in report.runaways], 50) * 1000:.0f} ms")
    lines.append(f"  {'kind':14} {'requests':>8} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'5xx':>5} "
                 f"{'unexpected':>10}  statuses")
    rows = [*report.by_kind().items(), ("all", report.overall)]
    for kind, f in rows:
        statuses = " ".join(f"{k}:{v}" for k, v in sorted(f.statuses.items(), key=lambda i: str(i[0])))
        lines.append(f"  {kind:14} {f.requests:8d} {f.p50 * 1000:8.1f} {f.p90 * 1000:8.1f} {f.p99 * 1000:8.1f} "
                     f"{f.server_errors:5d} {f.unexpected:10d}  {statuses}")
    return "\n".join(lines)
