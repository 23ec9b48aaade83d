"""Requests per second of /sparql under ``kimgraph serve``, against the same queries run in-process on
pyoxigraph and sent to ``oxigraph serve`` over the same data, at several numbers of concurrent clients.

    .venv/bin/python bench/sparql_bench.py [--store var/store] [--seconds 2] [--clients 1 8 32]

Needs the ``oxigraph`` command (PyPI package ``oxigraph``, same version as pyoxigraph). Without
``--store`` it builds one in a temporary directory. Each (engine, query, clients) cell runs for
``--seconds``. The clients are Python threads with one keep-alive httpx client each: on a 2-core
machine they compete with the servers for CPU, so the fastest engine is partly client-bound, and the
ratios understate its lead. A script that prints figures, never a test.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sparql_api.named_queries import bind, load_queries, with_values  # noqa: E402
from sparql_api.store import RESULT_FORMATS, Store  # noqa: E402

# A lookup with its KSBs, a text match, a GROUP BY count, a NOT EXISTS, and an ASK that costs the
# engine nothing (so the HTTP layer is all that is measured).
DEFAULT_QUERIES = ("ksbs-of-duty", "ksbs-mentioning-term", "duty-coverage-by-type", "unmapped-ksbs")
ASK = ("ask", "ASK { ?s ?p ?o }")
JSON_RESULTS = "application/sparql-results+json"
BIN = Path(sys.executable).parent


@dataclass
class Cell:
    """What one engine did with one query at one number of clients."""

    requests: int
    errors: int
    seconds: float
    latencies: list[float]

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(ready: Callable[[], bool], process: subprocess.Popen, what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{what} exited with status {process.returncode}")
        try:
            if ready():
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{what} did not start within {timeout:.0f} s")


def start(stack: ExitStack, command: list[str], log: Path, env: dict | None = None) -> subprocess.Popen:
    """A server process, stopped when ``stack`` closes."""
    out = stack.enter_context(log.open("wb"))
    process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=ROOT)

    def stop() -> None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    stack.callback(stop)
    return process


def prepare_store(args, work: Path) -> Path:
    if args.store:
        return Path(args.store)
    store = work / "store"
    print(f"building a store in {store} ...", flush=True)
    subprocess.run([str(BIN / "kimgraph"), "build", "--store", str(store), "--quiet"], check=True, cwd=ROOT)
    return store


def prepare_oxigraph(store: Store, work: Path) -> Path:
    """The same quads loaded into a directory of its own for ``oxigraph serve``."""
    dump = work / "dump.nq"
    dump.write_bytes(store.dump("nquads"))
    location = work / "oxigraph"
    subprocess.run([oxigraph_command(), "load", "--location", str(location), "--file", str(dump)],
                   check=True, capture_output=True)
    return location


def oxigraph_command() -> str:
    found = shutil.which("oxigraph", path=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    if found is None:
        raise SystemExit("no 'oxigraph' command: pip install oxigraph (the same version as pyoxigraph)")
    return found


def bench_queries(names: list[str]) -> list[tuple[str, str]]:
    """(name, text) pairs: each named query with its example values written in, plus the ASK."""
    queries = load_queries()
    chosen = []
    for name in names:
        query = queries[name]
        chosen.append((name, with_values(query, bind(query, query.examples()))))
    return chosen + [ASK]


def http_worker(url: str, text: str) -> Callable[[], Callable[[], int]]:
    """A factory of per-thread request functions: each thread keeps one connection open."""
    def make() -> Callable[[], int]:
        client = httpx.Client(timeout=30, headers={"Accept": JSON_RESULTS})
        data = {"query": text}

        def once() -> int:
            response = client.post(url, data=data)
            response.read()
            return response.status_code
        return once
    return make


def inprocess_worker(store: Store, text: str) -> Callable[[], Callable[[], int]]:
    """The same work without HTTP: evaluate and serialise to SPARQL JSON, as the servers do."""
    json_format = RESULT_FORMATS["json"]

    def make() -> Callable[[], int]:
        def once() -> int:
            store.query(text).serialize(format=json_format)
            return 200
        return once
    return make


def measure(make: Callable[[], Callable[[], int]], clients: int, seconds: float) -> Cell:
    """Run ``clients`` threads sending requests back to back for ``seconds``."""
    counts, errors, latencies = [0] * clients, [0] * clients, [[] for _ in range(clients)]
    start_line = threading.Barrier(clients + 1)
    stop_at = [0.0]

    def client(i: int) -> None:
        once = make()
        once()  # warm the connection and the query cache outside the measurement
        start_line.wait()
        while (now := time.perf_counter()) < stop_at[0]:
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


def check_answers(store: Store, urls: dict[str, str], queries: list[tuple[str, str]]) -> None:
    """Each engine gives the same number of solutions, so that like is compared with like."""
    for name, text in queries:
        local = json.loads(store.query(text).serialize(format=RESULT_FORMATS["json"]))
        sizes = {"in-process": _size(local)}
        for engine, url in urls.items():
            response = httpx.post(url, data={"query": text}, headers={"Accept": JSON_RESULTS}, timeout=60)
            response.raise_for_status()
            sizes[engine] = _size(response.json())
        if len(set(sizes.values())) != 1:
            print(f"warning: {name}: engines disagree on the answer size: {sizes}", file=sys.stderr)


def _size(results: dict) -> int | bool:
    return results["boolean"] if "boolean" in results else len(results["results"]["bindings"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", help="an existing store (default: build one in a temporary directory)")
    parser.add_argument("--seconds", type=float, default=2.0, help="duration of each measurement")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--queries", nargs="+", default=list(DEFAULT_QUERIES), help="named queries to send")
    parser.add_argument("--workers", type=int, help="KIM_WORKERS for kimgraph serve (default: its setting)")
    args = parser.parse_args(argv)

    with ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="kim-bench-")))
        store_path = prepare_store(args, work)
        store = Store.open(store_path, read_only=True)
        location = prepare_oxigraph(store, work)

        oxi_port, kim_port = free_port(), free_port()
        oxi = start(stack, [oxigraph_command(), "serve", "--location", str(location),
                            "--bind", f"127.0.0.1:{oxi_port}", "--union-default-graph"], work / "oxigraph.log")
        env = {k: v for k, v in os.environ.items() if not k.startswith("KIM_")}
        if args.workers is not None:
            env["KIM_WORKERS"] = str(args.workers)
        kim = start(stack, [str(BIN / "kimgraph"), "serve", "--store", str(store_path), "--host", "127.0.0.1",
                            "--port", str(kim_port)], work / "kimgraph.log", env)
        urls = {"kimgraph": f"http://127.0.0.1:{kim_port}/sparql", "oxigraph": f"http://127.0.0.1:{oxi_port}/query"}
        wait_until(lambda: httpx.get(f"http://127.0.0.1:{kim_port}/health", timeout=2).status_code == 200,
                   kim, "kimgraph serve")
        wait_until(lambda: httpx.get(urls["oxigraph"], params={"query": "ASK {}"}, timeout=2).status_code == 200,
                   oxi, "oxigraph serve")

        queries = bench_queries(args.queries)
        check_answers(store, urls, queries)
        print(f"store: {len(store)} quads; {args.seconds:g} s per cell; clients are Python threads (see --help)\n")
        header = (f"{'query':<22} {'clients':>7} {'in-process':>11} {'kimgraph':>9} {'oxigraph':>9} "
                  f"{'kim/oxi':>8} {'kim/in-proc':>11} {'kim p99 ms':>10} {'oxi p99 ms':>10} {'errors':>6}")
        print(header)
        print("-" * len(header))
        ratios = []
        for name, text in queries:
            for clients in args.clients:
                local = measure(inprocess_worker(store, text), clients, args.seconds)
                kimgraph = measure(http_worker(urls["kimgraph"], text), clients, args.seconds)
                oxigraph = measure(http_worker(urls["oxigraph"], text), clients, args.seconds)
                kim_oxi = kimgraph.rate / oxigraph.rate if oxigraph.rate else float("nan")
                kim_local = kimgraph.rate / local.rate if local.rate else float("nan")
                ratios.append(kim_oxi)
                print(f"{name:<22} {clients:>7} {local.rate:>11.0f} {kimgraph.rate:>9.0f} {oxigraph.rate:>9.0f} "
                      f"{kim_oxi:>8.2f} {kim_local:>11.2f} {kimgraph.percentile(0.99):>10.1f} "
                      f"{oxigraph.percentile(0.99):>10.1f} {kimgraph.errors + oxigraph.errors:>6}", flush=True)
        finite = [r for r in ratios if r == r]
        if finite:
            print(f"\nkimgraph / oxigraph serve, geometric mean over all cells: {statistics.geometric_mean(finite):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
