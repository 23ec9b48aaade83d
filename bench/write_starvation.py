"""Small reads while large writes run: p50, p99 and errors of small reads (a small ``/sparql`` lookup, a
``/id/`` resource as JSON-LD, ``/health/ready``) from a few clients, first with no writes, then during three
back-to-back PUTs of a 50,000-triple graph to ``/store``.

    .venv/bin/python bench/write_starvation.py [--store var/store] [--clients 8] [--triples 50000] [--puts 3]

Without ``--store`` it builds the project's own graph in a temporary directory; a given store is copied
first, since the run writes to it. The server has a write token, ``KIM_WORKERS=--workers`` and the default
time limits. A script that prints figures, never a test.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.load import Sample, Workload, discover, percentile, send  # noqa: E402
from bench.servers import BIN, Server, free_port, kimgraph_env, kimgraph_ready, start, wait_until  # noqa: E402

TOKEN = "bench-write-token"
READS = {"sparql-small": 2, "id-jsonld": 2}


def payload(triples: int, seed: int) -> bytes:
    """``triples`` N-Triples lines: a few properties of generated resources, with literals of some length."""
    rng = random.Random(seed)
    lines = []
    for i in range(triples):
        subject = f"<urn:bench:write:{seed}:r{i // 5}>"
        kind = i % 5
        if kind == 0:
            lines.append(f"{subject} <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <urn:bench:write:Thing> .")
        elif kind == 1:
            lines.append(f'{subject} <http://www.w3.org/2000/01/rdf-schema#label> "resource {i} {rng.random()}"@en .')
        else:
            lines.append(f"{subject} <urn:bench:write:link{kind}> <urn:bench:write:{seed}:r{rng.randrange(triples)}> .")
    return ("\n".join(lines) + "\n").encode()


async def _health_sample(client: httpx.AsyncClient) -> Sample:
    started = time.perf_counter()
    try:
        response = await client.get("/health/ready")
    except httpx.TimeoutException:
        return Sample("health-ready", None, time.perf_counter() - started, failure="timeout")
    except httpx.TransportError:
        return Sample("health-ready", None, time.perf_counter() - started, failure="connection")
    return Sample("health-ready", response.status_code, time.perf_counter() - started)


async def _reader(client: httpx.AsyncClient, workload: Workload, stop: asyncio.Event, samples: list[Sample]) -> None:
    turn = 0
    while not stop.is_set():
        turn += 1
        if turn % 5 == 0:
            samples.append(await _health_sample(client))
            continue
        call = workload.next_call()
        sample, response = await send(client, call)
        if response is not None:
            workload.saw(call, response)
        samples.append(sample)


async def _readers_during(url: str, clients: int, seed: int, work) -> tuple[list[Sample], object]:
    """Samples of the reading clients for as long as ``work`` (a coroutine function) runs, and its result."""
    limits = httpx.Limits(max_connections=clients + 2)
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as client:
        targets = await discover(client)
        stop, samples = asyncio.Event(), []
        readers = [asyncio.create_task(_reader(client, Workload(targets, random.Random(seed + n), READS), stop,
                                               samples)) for n in range(clients)]
        try:
            result = await work()
        finally:
            stop.set()
            await asyncio.gather(*readers)
    return samples, result


def figures(samples: list[Sample], name: str) -> str:
    """One line per kind of read and one for all: count, p50, p99, max, errors (5xx, connection, timeout) and
    which they were."""
    lines = []
    for kind in sorted({s.kind for s in samples}) + ["all"]:
        chosen = [s for s in samples if kind == "all" or s.kind == kind]
        seconds = [s.seconds for s in chosen]
        failed = Counter(s.failure or str(s.status) for s in chosen if s.status is None or s.status >= 500)
        which = " ".join(f"{what}x{count}" for what, count in sorted(failed.items()))
        lines.append(f"{name:8} {kind:13} {len(chosen):7d} {percentile(seconds, 50) * 1000:8.1f} "
                     f"{percentile(seconds, 99) * 1000:8.1f} {max(seconds, default=0) * 1000:8.1f} "
                     f"{sum(failed.values()):6d} {which}")
    return "\n".join(lines)


@dataclass
class Starvation:
    """The reads with no writes, the reads during the PUTs, each PUT's (status, seconds), and the status of
    /health/ready after them."""

    calm: list[Sample]
    during: list[Sample]
    puts: list[tuple[int, float]]
    ready_after: int


def during_puts(source: Path | None, work: Path, clients: int = 8, triples: int = 50_000, puts: int = 3,
                calm: float = 5.0, workers: int = 2) -> Starvation:
    """Small reads from ``clients`` clients, for ``calm`` seconds with no writes, then during ``puts``
    back-to-back PUTs of ``triples`` triples, on a server over a copy of ``source`` (None: a new build of
    the project's graph) made in ``work``."""
    bodies = [payload(triples, seed) for seed in range(puts)]
    with ExitStack() as stack:
        store = work / "write-starvation-store"
        shutil.rmtree(store, ignore_errors=True)
        stack.callback(shutil.rmtree, store, True)
        if source is not None:
            shutil.copytree(Path(source).resolve(), store)
        else:
            subprocess.run([str(BIN / "kimgraph"), "build", "--store", str(store), "--quiet"], check=True)
        port = free_port()
        env = {**kimgraph_env(workers), "KIM_WRITE_TOKEN": TOKEN}
        process = start(stack, [str(BIN / "kimgraph"), "serve", "--store", str(store), "--host", "127.0.0.1",
                                "--port", str(port)], work / "write-starvation-server.log", env=env)
        server = Server(process, f"http://127.0.0.1:{port}")
        wait_until(lambda: kimgraph_ready(server), process, "kimgraph serve")
        url = server.url

        async def quiet() -> None:
            await asyncio.sleep(calm)

        async def writes() -> list[tuple[int, float]]:
            done = []
            async with httpx.AsyncClient(base_url=url, timeout=300) as writer:
                for n, body in enumerate(bodies):
                    started = time.perf_counter()
                    response = await writer.put("/store", params={"graph": f"urn:bench:write:graph{n}"},
                                                content=body, headers={"Content-Type": "application/n-triples",
                                                                       "Authorization": f"Bearer {TOKEN}"})
                    done.append((response.status_code, time.perf_counter() - started))
            return done

        asyncio.run(_readers_during(url, clients, 99, quiet))  # warms caches; not reported
        calm_samples, _ = asyncio.run(_readers_during(url, clients, 1, quiet))
        write_samples, put_results = asyncio.run(_readers_during(url, clients, 2, writes))
        ready = httpx.get(url + "/health/ready", timeout=30).status_code
    return Starvation(calm_samples, write_samples, put_results, ready)


def errors(samples: list[Sample]) -> int:
    """Reads that failed: a 5xx, a timeout or a lost connection."""
    return sum(1 for s in samples if s.status is None or s.status >= 500)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--store", help="an existing store, copied first (default: build the project's graph)")
    parser.add_argument("--clients", type=int, default=8, help="clients sending small reads")
    parser.add_argument("--triples", type=int, default=50_000, help="triples in each PUT")
    parser.add_argument("--puts", type=int, default=3, help="back-to-back PUTs")
    parser.add_argument("--calm", type=float, default=5.0, help="seconds of reads with no writes, measured first")
    parser.add_argument("--workers", type=int, default=2, help="the server's KIM_WORKERS")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="kim-write-bench-") as work:
        result = during_puts(Path(args.store) if args.store else None, Path(work), args.clients, args.triples,
                             args.puts, args.calm, args.workers)
    print(f"kimgraph serve, KIM_WORKERS={args.workers}; {args.clients} clients sending small reads; "
          f"{args.puts} back-to-back PUTs of {args.triples:,} triples")
    print("PUTs (status, seconds): " + ", ".join(f"{status} {seconds:.2f}" for status, seconds in result.puts))
    print(f"{'run':8} {'kind':13} {'reads':>7} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'errors':>6}")
    print(figures(result.calm, "calm"))
    print(figures(result.during, "writes"))
    print(f"/health/ready after the writes: {result.ready_after}")


if __name__ == "__main__":
    main()
