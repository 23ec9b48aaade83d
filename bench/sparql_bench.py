"""Requests per second of /sparql under ``kimgraph serve``, against the same queries run in-process on
pyoxigraph, sent to a minimal FastAPI endpoint running them in-process on pyoxigraph (no limits, no time
limit, no worker), and sent to ``oxigraph serve-read-only`` over the same store, at several numbers of clients.

    .venv/bin/python bench/sparql_bench.py [--store var/store] [--seconds 2] [--clients 1 8 32] [--runs 3]

Needs the ``oxigraph`` command (PyPI package ``oxigraph``, same version as pyoxigraph). Without
``--store`` it builds one in a temporary directory. Each (engine, query, clients) cell runs for
``--seconds`` and at least ``--min-requests`` requests, ``--runs`` times, after ``WARM_UP`` seconds of the
same load that are not measured; the run with the median rate is
kept, so that one slow moment of a loaded machine does not decide a ratio. The HTTP engines are loaded by wrk
(``--clients`` keep-alive connections, form-encoded POSTs, two threads) for the lookups: Python client threads
would take a large share of a 2-core machine's CPU and leave the servers client-bound. Heavy queries (a few a
second) are sent by Python clients, one connection each, in the same closed loop as in-process: a run ends
when every client has its last answer. wrk stops with its last requests unanswered and uncounted while the
server goes on running them, into the next run: at N=750, ``oxigraph serve`` measured 0.77x in-process on
``unmapped-ksbs`` that way. In-process, the clients are Python threads (pyoxigraph releases the GIL while it
evaluates). A parameter whose example IRI is not in the
store (a generated corpus has no ST1337) is bound to the first resource of its kind instead. A script that
prints figures, never a test.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.resource_bench import WARM_UP, require_wrk, wrk  # noqa: E402
from bench.servers import (  # noqa: E402
    BIN,
    kimgraph_ready,
    launch_kimgraph,
    launch_minimal,
    launch_oxigraph,
    minimal_ready,
    oxigraph_ready,
    wait_until,
)
from sparql_api.named_queries import NamedQuery, bind, load_queries, with_values  # noqa: E402
from store.embedded import Store
from store.terms import RESULT_FORMATS  # noqa: E402

# Lookups (one duty's KSBs, one standard's duty coverage, and an ASK that costs the engine nothing, so the
# HTTP layer is all that is measured) and heavy queries (a text scan over every statement, a NOT EXISTS
# over every KSB). A name may end in a variant: "@random" binds each request to a random resource of the
# parameter's class; "@unique" adds a comment no request had before. The plain name sends the same text
# every time, which a server may answer again from what it kept (kimgraph does, until the next write);
# heavy queries are always sent "@unique", so that every engine runs every one of them.
LOOKUPS = ("ksbs-of-duty", "ksbs-of-duty@random", "ksbs-of-duty@unique", "duty-coverage-by-type", "ask@unique")
HEAVY = ("ksbs-mentioning-term@unique", "unmapped-ksbs@unique")
DEFAULT_QUERIES = ("ksbs-of-duty", "ksbs-of-duty@random", "ksbs-of-duty@unique", "ksbs-mentioning-term@unique",
                   "duty-coverage-by-type", "unmapped-ksbs@unique")
ASK = ("ask", "ASK { ?s ?p ?o }")
JSON_RESULTS = "application/sparql-results+json"
KIM = "https://w3id.org/uk-kim/def#"
# The class of the resource a parameter names, to find one in a store that lacks the example.
PARAM_CLASSES = {"duty": KIM + "Duty", "standard": KIM + "OccupationalStandard"}


@dataclass
class Cell:
    """What one engine did with one query at one number of clients."""

    requests: int
    errors: int
    seconds: float
    latencies: list[float]
    p99_ms: float | None = None  # wrk's, when the latencies were not kept one by one

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        if p == 0.99 and self.p99_ms is not None:
            return self.p99_ms
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000


@dataclass
class QueryCells:
    """The four engines on one query at one number of clients."""

    query: str
    clients: int
    inprocess: Cell
    kimgraph: Cell
    oxigraph: Cell
    minimal: Cell

    @property
    def kim_vs_minimal(self) -> float:
        return self.kimgraph.rate / self.minimal.rate if self.minimal.rate else float("nan")

    @property
    def kim_vs_oxigraph(self) -> float:
        return self.kimgraph.rate / self.oxigraph.rate if self.oxigraph.rate else float("nan")

    @property
    def kim_vs_inprocess(self) -> float:
        return self.kimgraph.rate / self.inprocess.rate if self.inprocess.rate else float("nan")


def prepare_store(args, work: Path) -> Path:
    if args.store:
        return Path(args.store)
    store = work / "store"
    print(f"building a store in {store} ...", flush=True)
    subprocess.run([str(BIN / "kimgraph"), "build", "--store", str(store), "--quiet"], check=True, cwd=ROOT)
    return store


def store_values(store: Store, query: NamedQuery) -> dict[str, str]:
    """The query's example values, an IRI that is not a resource of its kind in the store replaced by the first
    one that is."""
    values = query.examples()
    for param in query.params:
        value = values.get(param.name)
        if param.type != "iri" or value is None or param.name not in PARAM_CLASSES:
            continue
        if store.query(f"ASK {{ <{value}> a <{PARAM_CLASSES[param.name]}> }}"):  # not only named (mapping sets)
            continue
        rows = store.select(f"SELECT ?x WHERE {{ ?x a <{PARAM_CLASSES[param.name]}> }} ORDER BY ?x LIMIT 1")
        if rows:
            values[param.name] = str(rows[0]["x"])
    return values


@dataclass(frozen=True)
class BenchQuery:
    """A query as the clients send it: one of ``texts`` at random, with a comment of its own when ``unique``."""

    name: str
    texts: tuple[str, ...]
    unique: bool = False

    @property
    def text(self) -> str:
        """The first text: the one whose answer the engines are compared on."""
        return self.texts[0]

    def sender(self, seed: int) -> Callable[[], str]:
        """The texts one client sends, one a call."""
        pick, sent = random.Random(seed), itertools.count()
        if len(self.texts) == 1 and not self.unique:
            return lambda: self.texts[0]
        if not self.unique:
            return lambda: pick.choice(self.texts)
        return lambda: f"{pick.choice(self.texts)}\n# request {seed}.{next(sent)}"


def resources_of(store: Store, cls: str, limit: int = 100_000) -> list[str]:
    return [str(row["x"]) for row in store.select(f"SELECT ?x WHERE {{ ?x a <{cls}> }} LIMIT {limit}")]


def bench_queries(names: list[str] | tuple[str, ...], store: Store | None = None) -> list[BenchQuery]:
    """Each named query with its values written in ("ask" is the constant ASK), in its variant (see LOOKUPS)."""
    queries = load_queries()
    chosen = []
    for label in names:
        name, _, variant = label.partition("@")
        if name == ASK[0]:
            chosen.append(BenchQuery(label, (ASK[1],), variant == "unique"))
            continue
        query = queries[name]
        values = store_values(store, query) if store is not None else query.examples()
        texts = [with_values(query, bind(query, values))]
        if variant == "random" and store is not None:
            param = next(p.name for p in query.params if p.name in PARAM_CLASSES)
            texts += [with_values(query, bind(query, {**values, param: iri}))
                      for iri in resources_of(store, PARAM_CLASSES[param]) if iri != values[param]]
        chosen.append(BenchQuery(label, tuple(texts), variant == "unique"))
    return chosen


_SEEDS = itertools.count(1)


MAX_CELL = 300.0
"""The longest a run of an HTTP cell lasts, whatever its number of requests."""
WRK_SCRIPT = """
local bodies = {}
for line in io.lines("%(bodies)s") do bodies[#bodies + 1] = line end
local unique, run, sent = %(unique)s, "%(run)s", 0
local headers = {["Accept"] = "%(accept)s", ["Content-Type"] = "application/x-www-form-urlencoded"}
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end
request = function()
  local body = bodies[math.random(#bodies)]
  if unique then
    sent = sent + 1
    body = body .. "%%0A%%23%%20request%%20" .. run .. "." .. id .. "." .. sent
  end
  return wrk.format("POST", nil, headers, body)
end
"""


def wrk_cell(url: str, query: BenchQuery, clients: int, seconds: float, min_requests: int, work: Path,
             expected_rate: float = 0.0) -> Cell:
    """``clients`` connections of wrk POSTing the query (form-encoded) for ``seconds``, or for as long as
    ``min_requests`` take at ``expected_rate``, and longer when fewer were answered (wrk counts only the
    requests answered before its end); a comment of its own on every request of a ``unique`` query, never
    sent in an earlier run, so no answer kept from one can serve another."""
    bodies, script = work / "sparql-bodies.txt", work / "sparql.lua"
    bodies.write_text("".join(urlencode({"query": text}) + "\n" for text in query.texts))
    script.write_text(WRK_SCRIPT % {"bodies": bodies, "unique": "true" if query.unique else "false",
                                    "run": next(_SEEDS), "accept": JSON_RESULTS})
    if expected_rate:
        seconds = max(seconds, 1.5 * min_requests / expected_rate)
    result = wrk(url, seconds, clients, script, timeout=120)
    while result.requests < min_requests and seconds < MAX_CELL:
        seconds = min(MAX_CELL, 1.5 * min_requests / result.rate if result.rate else 4 * seconds)
        result = wrk(url, seconds, clients, script, timeout=120)
    return Cell(result.requests, result.errors, result.requests / result.rate if result.rate else seconds, [],
                result.p99_ms)


def inprocess_worker(store: Store, query: BenchQuery) -> Callable[[], Callable[[], int]]:
    """The same work without HTTP: evaluate and serialise to SPARQL JSON, as the servers do."""
    json_format = RESULT_FORMATS["json"]

    def make() -> Callable[[], int]:
        text = query.sender(next(_SEEDS))

        def once() -> int:
            store.query(text()).serialize(format=json_format)
            return 200
        return once
    return make


@contextmanager
def http_worker(url: str, query: BenchQuery) -> Iterator[Callable[[], Callable[[], int]]]:
    """The in-process clients' loop over HTTP: each client POSTs on a connection of its own and reads every
    answer whole before it sends the next; the connections are closed at the end."""
    clients: list[httpx.Client] = []

    def make() -> Callable[[], int]:
        text = query.sender(next(_SEEDS))
        client = httpx.Client(timeout=MAX_CELL)
        clients.append(client)

        def once() -> int:
            response = client.post(url, data={"query": text()}, headers={"Accept": JSON_RESULTS})
            return response.status_code
        return once

    try:
        yield make
    finally:
        for client in clients:
            client.close()


def median_run(runs: int, once: Callable[[], Cell]) -> Cell:
    """``once`` run ``runs`` times; the run whose rate is the median (the lower middle one for an even count)."""
    cells = sorted((once() for _ in range(max(1, runs))), key=lambda cell: cell.rate)
    return cells[(len(cells) - 1) // 2]


def measure(make: Callable[[], Callable[[], int]], clients: int, seconds: float, min_requests: int = 0) -> Cell:
    """Run ``clients`` threads sending requests back to back for ``seconds``, and on until ``min_requests``
    requests have been answered in all."""
    counts, errors, latencies = [0] * clients, [0] * clients, [[] for _ in range(clients)]
    start_line = threading.Barrier(clients + 1)
    stop_at = [0.0]

    def client(i: int) -> None:
        once = make()
        once()  # warm the connection and the query cache outside the measurement
        start_line.wait()
        while (now := time.perf_counter()) < stop_at[0] or sum(counts) + sum(errors) < min_requests:
            try:
                ok = once() == 200
            except (httpx.HTTPError, OSError):
                ok = False
            latencies[i].append(time.perf_counter() - now)
            counts[i] += ok
            errors[i] += not ok

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    stop_at[0] = time.perf_counter() + 3600  # clients re-read it each loop; the real end is set below
    start_line.wait()
    began = time.perf_counter()
    stop_at[0] = began + seconds
    for thread in threads:
        thread.join(timeout=seconds + 60)
    elapsed = time.perf_counter() - began
    return Cell(sum(counts), sum(errors), elapsed, [x for per in latencies for x in per])


def check_answers(store: Store, urls: dict[str, str], queries: list[BenchQuery]) -> dict[str, dict]:
    """Each engine's number of solutions per query; a warning when they differ (like must be compared with like)."""
    found = {}
    for name, text in ((query.name, query.text) for query in queries):
        local = json.loads(store.query(text).serialize(format=RESULT_FORMATS["json"]))
        sizes = {"in-process": _size(local)}
        for engine, url in urls.items():
            response = httpx.post(url, data={"query": text}, headers={"Accept": JSON_RESULTS}, timeout=60)
            response.raise_for_status()
            sizes[engine] = _size(response.json())
        if len(set(sizes.values())) != 1:
            print(f"warning: {name}: engines disagree on the answer size: {sizes}", file=sys.stderr)
        found[name] = sizes
    return found


def _size(results: dict) -> int | bool:
    return results["boolean"] if "boolean" in results else len(results["results"]["bindings"])


def compare(store: Store, kimgraph_url: str, oxigraph_url: str, minimal_url: str, queries: list[BenchQuery],
            clients: list[int], seconds: float, report: Callable[[QueryCells], None] | None = None,
            runs: int = 1, min_requests: int = 0, work: Path | None = None) -> list[QueryCells]:
    """Every query at every number of clients on the four engines: in-process (Python threads), /sparql,
    oxigraph serve and the minimal in-process endpoint (wrk, its files in ``work``); each cell the median of
    ``runs`` runs of at least ``min_requests``."""
    require_wrk()
    cells = []
    with tempfile.TemporaryDirectory(prefix="kim-sparql-wrk-") as scratch:
        files = Path(work or scratch)
        for query in queries:
            for count in clients:
                inprocess = median_run(runs, lambda query=query, count=count: measure(
                    inprocess_worker(store, query), count, seconds, min_requests))

                def over_http(url: str, query: BenchQuery = query, count: int = count,
                              rate: float = inprocess.rate) -> Cell:
                    if rate * WARM_UP < 10 * count:  # a heavy query: the in-process clients' loop, over HTTP
                        with http_worker(url, query) as make:
                            return median_run(runs, lambda: measure(make, count, seconds, min_requests))
                    wrk_cell(url, query, count, WARM_UP, 0, files)  # a lookup: caches and workers warm
                    return median_run(runs, lambda: wrk_cell(url, query, count, seconds, min_requests, files,
                                                             rate))

                cell = QueryCells(query.name, count, inprocess, over_http(kimgraph_url), over_http(oxigraph_url),
                                  over_http(minimal_url))
                cells.append(cell)
                if report is not None:
                    report(cell)
    return cells


HEADER = (f"{'query':<28} {'clients':>7} {'in-process':>11} {'minimal':>9} {'kimgraph':>9} {'oxigraph':>9} "
          f"{'kim/min':>8} {'kim/oxi':>8} {'kim/in-proc':>11} {'kim p99 ms':>10} {'oxi p99 ms':>10} {'errors':>6}")


def print_cell(cell: QueryCells) -> None:
    print(f"{cell.query:<28} {cell.clients:>7} {cell.inprocess.rate:>11.0f} {cell.minimal.rate:>9.0f} "
          f"{cell.kimgraph.rate:>9.0f} {cell.oxigraph.rate:>9.0f} {cell.kim_vs_minimal:>8.2f} "
          f"{cell.kim_vs_oxigraph:>8.2f} {cell.kim_vs_inprocess:>11.2f} "
          f"{cell.kimgraph.percentile(0.99):>10.1f} {cell.oxigraph.percentile(0.99):>10.1f} "
          f"{cell.kimgraph.errors + cell.oxigraph.errors + cell.minimal.errors:>6}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", help="an existing store (default: build one in a temporary directory)")
    parser.add_argument("--seconds", type=float, default=2.0, help="duration of each measurement")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--queries", nargs="+", default=list(DEFAULT_QUERIES),
                        help="named queries to send, each with its variant (see LOOKUPS); the constant ASK "
                             "is always added")
    parser.add_argument("--workers", type=int, help="KIM_WORKERS for kimgraph serve (default: its setting)")
    parser.add_argument("--runs", type=int, default=3, help="runs of each cell; the median is kept")
    parser.add_argument("--min-requests", type=int, default=20, help="requests at least in each run of a cell")
    args = parser.parse_args(argv)

    with ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="kim-bench-")))
        store_path = prepare_store(args, work)
        store = Store.open(store_path, read_only=True)
        kim = launch_kimgraph(stack, store_path, work / "kimgraph.log", args.workers)
        oxi = launch_oxigraph(stack, store_path, work / "oxigraph.log")
        minimal = launch_minimal(stack, store_path, work, work / "minimal.log")
        wait_until(lambda: kimgraph_ready(kim), kim.process, "kimgraph serve")
        wait_until(lambda: oxigraph_ready(oxi), oxi.process, "oxigraph serve")
        wait_until(lambda: minimal_ready(minimal), minimal.process, "minimal endpoint")

        names = [name for name in args.queries if not name.startswith(ASK[0])] + [ASK[0] + "@unique"]
        queries = bench_queries(names, store)
        check_answers(store, {"kimgraph": kim.url + "/sparql", "oxigraph": oxi.url + "/query",
                              "minimal": minimal.url + "/sparql"}, queries)
        print(f"store: {len(store)} quads; {args.seconds:g} s per cell; HTTP clients: wrk connections (see --help)\n")
        print(HEADER)
        print("-" * len(HEADER))
        cells = compare(store, kim.url + "/sparql", oxi.url + "/query", minimal.url + "/sparql", queries,
                        args.clients, args.seconds, print_cell, args.runs, args.min_requests)
        for label, ratio in (("oxigraph serve", "kim_vs_oxigraph"), ("the minimal endpoint", "kim_vs_minimal")):
            finite = [getattr(c, ratio) for c in cells if getattr(c, ratio) == getattr(c, ratio)]
            if finite:
                mean = statistics.geometric_mean(finite)
                print(f"kimgraph / {label}, geometric mean over all cells: {mean:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
