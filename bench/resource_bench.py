"""Requests per second of ``GET /id/...`` as JSON-LD, against a bare FastAPI endpoint returning a constant
served the same way (one uvicorn process, same options, loop and HTTP parser), measured with wrk in one run.

    .venv/bin/python bench/resource_bench.py [--store var/store] [--seconds 10] [--connections 8]

Without ``--store`` it builds the project's own graph in a temporary directory. The resource paths are
every duty and KSB in the store, requested in random order by a wrk Lua script. The server is measured
once its answers of /id/ are prepared (sparql_api.prepared; ``/health/ready`` says so), so a request
reads its answer rather than builds it. Needs ``wrk`` (Debian package ``wrk``). A script that prints
figures, never a test.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.servers import (  # noqa: E402
    BIN,
    answers_prepared,
    bare_ready,
    kimgraph_ready,
    launch_bare,
    launch_kimgraph,
    wait_until,
)
from sparql_api.settings import Settings  # noqa: E402
from store.embedded import Store  # noqa: E402

LUA = textwrap.dedent('''
    local paths = {}
    for line in io.lines("%s") do paths[#paths + 1] = line end
    math.randomseed(os.time())
    request = function()
      return wrk.format("GET", paths[math.random(#paths)], {["Accept"] = "application/ld+json"})
    end
''')


WARM_UP = 2.0
"""Seconds of the same load, not measured, before each wrk cell (here, and the lookups of sparql_bench): a
server just started answers more slowly for a few seconds (measured: 1,900 then 2,600, 2,800 and 2,900 req/s
in 2 s runs of a lookup). A heavy query's clients warm up with one request each, as in-process."""


@dataclass
class WrkResult:
    """One wrk run: requests per second, latency percentiles, answers that were not 2xx or 3xx (and socket
    errors and timeouts), and requests answered."""

    rate: float
    p50_ms: float
    p99_ms: float
    errors: int
    requests: int = 0


@dataclass
class ResourceComparison:
    """GET /id/... against the constant endpoint, on the same machine in the same run."""

    resources: int
    baseline: WrkResult
    resource: WrkResult

    @property
    def ratio(self) -> float:
        return self.resource.rate / self.baseline.rate if self.baseline.rate else float("nan")


def resource_paths(store_path: Path, limit: int = 50_000) -> list[str]:
    """The /id/ paths of the store's duties and KSBs (at most ``limit``)."""
    store = Store.open(store_path, read_only=True)
    rows = store.select(f"""
        PREFIX kim: <https://w3id.org/uk-kim/def#>
        SELECT DISTINCT ?r WHERE {{ {{ ?r a kim:Duty }} UNION {{ ?r kim:ksbType ?t }} }} LIMIT {limit}""")
    base = Settings().base_iri
    return ["/" + str(row["r"])[len(base):] for row in rows]


def require_wrk() -> None:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install wrk")


def wrk(url: str, seconds: float, connections: int, script: Path | None = None, timeout: float = 2) -> WrkResult:
    """wrk with two threads (one for a single connection) for ``seconds``, each request given ``timeout`` s."""
    command = ["wrk", f"-t{min(2, connections)}", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency",
               f"--timeout={max(1, round(timeout))}s"]
    if script:
        command += ["-s", str(script)]
    else:
        command += ["-H", "Accept: application/ld+json"]
    return parse_wrk(subprocess.run(command + [url], capture_output=True, text=True, check=True).stdout)


def parse_wrk(out: str) -> WrkResult:
    """The figures of wrk's report (run with ``--latency``)."""
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)", out)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    failed = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    total = re.search(r"(\d+) requests in", out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    return WrkResult(rate, float(p50.group(1)) * scale[p50.group(2)], float(p99.group(1)) * scale[p99.group(2)],
                     (int(errors.group(1)) if errors else 0) + (sum(map(int, failed.groups())) if failed else 0),
                     int(total.group(1)) if total else 0)


def compare(store_path: Path, kimgraph_url: str, bare_url: str, work: Path, seconds: float,
            connections: int) -> ResourceComparison:
    """wrk on the constant endpoint, then on random duty and KSB pages of ``store_path`` as JSON-LD, each after
    ``WARM_UP`` seconds of the same load that are not measured."""
    require_wrk()
    paths = resource_paths(store_path)
    (work / "paths.txt").write_text("\n".join(paths) + "\n")
    (work / "paths.lua").write_text(LUA % (work / "paths.txt"))
    wrk(bare_url + "/constant", WARM_UP, connections)
    base = wrk(bare_url + "/constant", seconds, connections)
    wrk(kimgraph_url, WARM_UP, connections, work / "paths.lua")
    resource = wrk(kimgraph_url, seconds, connections, work / "paths.lua")
    return ResourceComparison(len(paths), base, resource)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--store", help="an existing store (default: build the project's graph)")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args()
    require_wrk()

    with ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="kim-resource-bench-")))
        store = Path(args.store) if args.store else work / "store"
        if not args.store:
            subprocess.run([str(BIN / "kimgraph"), "build", "--store", str(store), "--quiet"], check=True)
        kim = launch_kimgraph(stack, store, work / "kim.log")
        bare = launch_bare(stack, work, work / "bare.log")
        wait_until(lambda: kimgraph_ready(kim), kim.process, "kimgraph serve")
        wait_until(lambda: answers_prepared(kim), kim.process, "prepared answers", timeout=7200, interval=1)
        wait_until(lambda: bare_ready(bare), bare.process, "bare app")
        result = compare(store, kim.url, bare.url, work, args.seconds, args.connections)
        triples = len(Store.open(store, read_only=True))

    print(f"store: {triples} triples, {result.resources} duty and KSB resources; wrk -t2 -c{args.connections} "
          f"-d{args.seconds:.0f}s")
    print(f"{'endpoint':40} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8}")
    for name, cell in (("bare FastAPI constant (baseline)", result.baseline), ("GET /id/... JSON-LD", result.resource)):
        print(f"{name:40} {cell.rate:9.0f} {cell.p50_ms:8.2f} {cell.p99_ms:8.2f} {cell.errors:8d}")
    print(f"ratio resource / baseline: {result.ratio:.2f} (target >= 0.5)")


if __name__ == "__main__":
    main()
