"""Small reads while large writes run: p50, p99 and errors of small reads (a small ``/sparql`` lookup, a
``/id/`` resource as JSON-LD, ``/health/ready``) from a few clients, first with no writes, then during three
back-to-back PUTs of a 50,000-triple graph to ``/store``.

    .venv/bin/python bench/write_starvation.py [--store var/store] [--clients 8] [--triples 50000] [--puts 3] [--wrk]

Without ``--store`` it builds the project's own graph in a temporary directory; a given store is copied
first, since the run writes to it. The server has a write token, ``KIM_WORKERS=--workers`` and the default
time limits. A script that prints figures, never a test.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.load import Sample, Workload, discover, percentile, send  # noqa: E402
from bench.resource_bench import WrkResult, parse_wrk, require_wrk  # noqa: E402
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


@contextmanager
def writable_server(source: Path | None, work: Path, workers: int | None = None) -> Iterator[str]:
    """The URL of a server with a write token over a copy of ``source`` (None: a new build of the project's
    graph) made in ``work``; stopped and the copy removed afterwards."""
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
        yield server.url


async def _put_all(url: str, bodies: list[bytes]) -> list[tuple[int, float]]:
    """PUT each body as a graph of its own, one after the other: (status, seconds) of each."""
    done = []
    async with httpx.AsyncClient(base_url=url, timeout=300) as writer:
        for n, body in enumerate(bodies):
            started = time.perf_counter()
            response = await writer.put("/store", params={"graph": f"urn:bench:write:graph{n}"}, content=body,
                                        headers={"Content-Type": "application/n-triples",
                                                 "Authorization": f"Bearer {TOKEN}"})
            done.append((response.status_code, time.perf_counter() - started))
    return done


def during_puts(source: Path | None, work: Path, clients: int = 8, triples: int = 50_000, puts: int = 3,
                calm: float = 5.0, workers: int | None = None) -> Starvation:
    """Small reads from ``clients`` Python clients (asyncio, one process), for ``calm`` seconds with no
    writes, then during ``puts`` back-to-back PUTs of ``triples`` triples, on a writable_server."""
    bodies = [payload(triples, seed) for seed in range(puts)]
    with writable_server(source, work, workers) as url:
        async def quiet() -> None:
            await asyncio.sleep(calm)

        asyncio.run(_readers_during(url, clients, 99, quiet))  # warms caches; not reported
        calm_samples, _ = asyncio.run(_readers_during(url, clients, 1, quiet))
        write_samples, put_results = asyncio.run(_readers_during(url, clients, 2, lambda: _put_all(url, bodies)))
        ready = httpx.get(url + "/health/ready", timeout=30).status_code
    return Starvation(calm_samples, write_samples, put_results, ready)


WRK_READS = """
local calls = {}
for line in io.lines("%s") do
  local path, accept = line:match("([^\t]*)\t(.*)")
  calls[#calls + 1] = {path, accept}
end
request = function()
  local call = calls[math.random(#calls)]
  return wrk.format("GET", call[1], {["Accept"] = call[2]})
end
"""


@dataclass
class WrkStarvation:
    """As Starvation, with wrk's figures for all the reads together."""

    calm: WrkResult
    during: WrkResult
    puts: list[tuple[int, float]]
    ready_after: int


def wrk_during_puts(source: Path | None, work: Path, clients: int = 32, triples: int = 50_000, puts: int = 3,
                    calm: float = 5.0, workers: int | None = None) -> WrkStarvation:
    """The reads of during_puts (one in five /health/ready, the rest /sparql lookups and /id/ JSON-LD in
    equal parts) sent by wrk over ``clients`` connections: Python clients on the same two cores take a
    large share of them and measure their own queueing (at N=750: p50 80 ms for reads the server answers
    in a few). wrk runs until the last PUT has answered, then is stopped with SIGINT, after which it
    reports."""
    require_wrk()
    bodies = [payload(triples, seed) for seed in range(puts)]
    with writable_server(source, work, workers) as url:
        calls, script = work / "write-starvation-reads.txt", work / "write-starvation-reads.lua"
        calls.write_text(asyncio.run(_read_calls(url)))
        script.write_text(WRK_READS % calls)
        command = ["wrk", "-t2", f"-c{clients}", "--latency", "--timeout=30s", "-s", str(script)]
        wrk_command = command + [f"-d{max(1, round(calm))}s", url]
        subprocess.run(wrk_command, capture_output=True, text=True, check=True)  # warms caches; not reported
        calm_result = parse_wrk(subprocess.run(wrk_command, capture_output=True, text=True, check=True).stdout)
        with subprocess.Popen(command + ["-d3600s", url], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) as reader:
            time.sleep(1)  # wrk's connections are open before the first PUT
            put_results = asyncio.run(_put_all(url, bodies))
            reader.send_signal(signal.SIGINT)
            out, _ = reader.communicate(timeout=60)
        ready = httpx.get(url + "/health/ready", timeout=30).status_code
    return WrkStarvation(calm_result, parse_wrk(out), put_results, ready)


async def _read_calls(url: str, count: int = 5000) -> str:
    """``count`` reads as wrk_during_puts sends them, one "path<TAB>Accept" line each."""
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        workload = Workload(await discover(client), random.Random(7), READS)
    lines = []
    for n in range(count):
        if n % 5 == 4:
            lines.append("/health/ready\tapplication/json")
            continue
        call = workload.next_call()
        path = call.path + ("?" + urlencode(call.params) if call.params else "")
        lines.append(f"{path}\t{call.headers['Accept']}")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--store", help="an existing store, copied first (default: build the project's graph)")
    parser.add_argument("--clients", type=int, default=8, help="clients sending small reads")
    parser.add_argument("--triples", type=int, default=50_000, help="triples in each PUT")
    parser.add_argument("--puts", type=int, default=3, help="back-to-back PUTs")
    parser.add_argument("--calm", type=float, default=5.0, help="seconds of reads with no writes, measured first")
    parser.add_argument("--workers", type=int, help="the server's KIM_WORKERS (default: its setting)")
    parser.add_argument("--wrk", action="store_true",
                        help="send the reads with wrk (all kinds together) instead of Python clients (each kind)")
    args = parser.parse_args()

    if args.wrk:
        with tempfile.TemporaryDirectory(prefix="kim-write-bench-") as work:
            found = wrk_during_puts(Path(args.store) if args.store else None, Path(work), args.clients,
                                    args.triples, args.puts, args.calm, args.workers)
        print(f"kimgraph serve, KIM_WORKERS={args.workers or 'default'}; wrk, {args.clients} connections of "
              "small reads; "
              f"{args.puts} back-to-back PUTs of {args.triples:,} triples")
        print("PUTs (status, seconds): " + ", ".join(f"{status} {seconds:.2f}" for status, seconds in found.puts))
        for name, result in (("calm", found.calm), ("writes", found.during)):
            print(f"{name:8} {result.requests:7d} reads, {result.rate:,.0f}/s, p50 {result.p50_ms:.1f} ms, "
                  f"p99 {result.p99_ms:.1f} ms, {result.errors} errors")
        print(f"/health/ready after the writes: {found.ready_after}")
        return
    with tempfile.TemporaryDirectory(prefix="kim-write-bench-") as work:
        result = during_puts(Path(args.store) if args.store else None, Path(work), args.clients, args.triples,
                             args.puts, args.calm, args.workers)
    print(f"kimgraph serve, KIM_WORKERS={args.workers or 'default'}; {args.clients} clients sending small reads; "
          f"{args.puts} back-to-back PUTs of {args.triples:,} triples")
    print("PUTs (status, seconds): " + ", ".join(f"{status} {seconds:.2f}" for status, seconds in result.puts))
    print(f"{'run':8} {'kind':13} {'reads':>7} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'errors':>6}")
    print(figures(result.calm, "calm"))
    print(figures(result.during, "writes"))
    print(f"/health/ready after the writes: {result.ready_after}")


if __name__ == "__main__":
    main()
