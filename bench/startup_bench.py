"""Cold start: seconds from launching ``kimgraph serve`` on an existing store until its first answers, against
``oxigraph serve-read-only`` on the same store until its first answer.

    .venv/bin/python bench/startup_bench.py --store var/store [--runs 5]

Each run starts the server, polls every 20 ms until ``/health/live`` answers 200 and then until one duty's
``/id/`` page answers 200 as JSON-LD, and stops it; Oxigraph is polled with ``ASK {}`` on ``/query``.
Runs alternate between the two servers; the medians are compared. A script that prints figures, never a test.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.resource_bench import resource_paths  # noqa: E402
from bench.servers import Server, launch_kimgraph, launch_oxigraph, oxigraph_ready, wait_until  # noqa: E402

POLL = 0.02


@dataclass
class StartupComparison:
    """Median seconds to the first answers, over ``runs`` starts of each server."""

    kimgraph_health_s: float
    kimgraph_resource_s: float
    oxigraph_s: float
    runs: int


def answers(url: str, headers: dict[str, str] | None = None) -> bool:
    return httpx.get(url, headers=headers, timeout=5).status_code == 200


def time_kimgraph(store: Path, work: Path, resource: str) -> tuple[float, float]:
    """Seconds from launch to the first 200 from /health/live, and to the first 200 from ``resource`` as JSON-LD."""
    with ExitStack() as stack:
        started = time.perf_counter()
        server: Server = launch_kimgraph(stack, store, work / "startup-kimgraph.log")
        wait_until(lambda: answers(server.url + "/health/live"), server.process, "kimgraph serve", timeout=600,
                   interval=POLL)
        health = time.perf_counter() - started
        wait_until(lambda: answers(server.url + resource, {"Accept": "application/ld+json"}), server.process,
                   "kimgraph serve /id/", timeout=600, interval=POLL)
        return health, time.perf_counter() - started


def time_oxigraph(store: Path, work: Path) -> float:
    """Seconds from launch to the first 200 from ``oxigraph serve-read-only``."""
    with ExitStack() as stack:
        started = time.perf_counter()
        server = launch_oxigraph(stack, store, work / "startup-oxigraph.log")
        wait_until(lambda: oxigraph_ready(server), server.process, "oxigraph serve", timeout=600, interval=POLL)
        return time.perf_counter() - started


def compare(store: Path, work: Path, runs: int = 5) -> StartupComparison:
    """``runs`` cold starts of each server, alternating; the medians."""
    resource = resource_paths(store, limit=1)[0]
    kim, oxi = [], []
    for _ in range(runs):
        kim.append(time_kimgraph(store, work, resource))
        oxi.append(time_oxigraph(store, work))
    return StartupComparison(statistics.median(h for h, _ in kim), statistics.median(r for _, r in kim),
                             statistics.median(oxi), runs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, required=True, help="an existing store (built by kimgraph build)")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="kim-startup-bench-") as work:
        result = compare(args.store, Path(work), args.runs)
    print(f"median of {result.runs} cold starts each")
    print(f"kimgraph serve, first 200 from /health/live:   {result.kimgraph_health_s:6.2f} s")
    print(f"kimgraph serve, first 200 from /id/ (JSON-LD): {result.kimgraph_resource_s:6.2f} s")
    print(f"oxigraph serve-read-only, first answer:        {result.oxigraph_s:6.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
