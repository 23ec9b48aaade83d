"""Mixed load from 32 clients against ``kimgraph serve``: a calm run, then the same with one runaway query
each second; prints requests/s, p50/p99 latency overall and per kind, 5xx and connection errors, and how
many times the other clients' p99 grew with the runaway queries.

    .venv/bin/python bench/load_bench.py [--store var/store] [--seconds 30] [--clients 32] [--timeout 2]

Without ``--store`` it builds the project's own graph in a temporary directory. The server is read-only
(no ``KIM_WRITE_TOKEN``) with ``KIM_QUERY_TIMEOUT=--timeout`` and ``KIM_WORKERS=--workers``; a short
run first warms its caches and search index and is not reported. The workload is bench/load.py's.
A script that prints figures, never a test.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.load import LoadReport, format_report, p99_ratio, run_load  # noqa: E402
from bench.servers import BIN, Server, free_port, kimgraph_env, kimgraph_ready, start, wait_until  # noqa: E402


def summary(runs: dict[str, LoadReport]) -> str:
    """One line per run: requests, req/s, p50 and p99 of the mixed clients, errors, runaway outcomes."""
    lines = [f"{'run':8} {'requests':>8} {'req/s':>7} {'p50 ms':>8} {'p99 ms':>8} {'5xx':>5} "
             f"{'conn err':>8} {'timeouts':>8}  runaway queries"]
    for name, report in runs.items():
        overall = report.overall
        lines.append(f"{name:8} {len(report.samples):8d} {report.rate:7.1f} {overall.p50 * 1000:8.1f} "
                     f"{overall.p99 * 1000:8.1f} {report.server_errors:5d} {report.connection_errors:8d} "
                     f"{report.timeouts:8d}  {report.runaway_outcomes or '-'}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--store", help="an existing store (default: build the project's graph)")
    parser.add_argument("--seconds", type=float, default=30.0, help="length of each run")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--timeout", type=float, default=2.0, help="the server's KIM_QUERY_TIMEOUT")
    parser.add_argument("--workers", type=int, help="the server's KIM_WORKERS (default: its setting)")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of unreported load first")
    args = parser.parse_args()

    with ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="kim-load-bench-")))
        store = Path(args.store) if args.store else work / "store"
        if not args.store:
            subprocess.run([str(BIN / "kimgraph"), "build", "--store", str(store), "--quiet"], check=True)
        port = free_port()
        env = {**kimgraph_env(args.workers), "KIM_QUERY_TIMEOUT": f"{args.timeout:g}"}
        process = start(stack, [str(BIN / "kimgraph"), "serve", "--store", str(store), "--host", "127.0.0.1",
                                "--port", str(port)], work / "server.log", env=env)
        server = Server(process, f"http://127.0.0.1:{port}")
        wait_until(lambda: kimgraph_ready(server), process, "kimgraph serve")
        url = server.url

        asyncio.run(run_load(url, args.warmup, args.clients, seed=99))
        runs = {"calm": asyncio.run(run_load(url, args.seconds, args.clients))}
        runs["runaway"] = asyncio.run(run_load(url, args.seconds, args.clients, runaway=True, seed=1))
        healthy = httpx.get(url + "/health", timeout=30).status_code

    print(f"kimgraph serve: KIM_QUERY_TIMEOUT={args.timeout:g} KIM_WORKERS={args.workers or 'default'}; "
          f"{args.clients} clients, "
          f"{args.seconds:g} s per run; runaway run: one cartesian-product query per second besides them")
    for name, report in runs.items():
        print(format_report(report, name))
    print(summary(runs))
    print(f"p99 of the other clients, runaway / calm: {p99_ratio(runs['calm'], runs['runaway']):.2f}; "
          f"/health after the runs: {healthy}")


if __name__ == "__main__":
    main()
