"""Requests per second of ``GET /id/...`` as JSON-LD, against a bare FastAPI endpoint returning a constant
served the same way (one uvicorn process, same loop and HTTP parser), measured with wrk in one run.

    .venv/bin/python bench/resource_bench.py [--store var/store] [--seconds 10] [--connections 8]

Without ``--store`` it builds the project's own graph in a temporary directory. The resource paths are
every duty and KSB in the store, requested in random order by a wrk Lua script, so with more
resources than the answer cache holds (512) most requests build their answer. Needs ``wrk``
(Debian package ``wrk``). A script that prints figures, never a test.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from contextlib import ExitStack
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))

from bench.sparql_bench import free_port, start, wait_until  # noqa: E402
from sparql_api.settings import Settings  # noqa: E402
from sparql_api.store import Store  # noqa: E402

BARE_APP = textwrap.dedent('''
    from fastapi import FastAPI
    from fastapi.responses import Response

    app = FastAPI()
    BODY = b'{"@context": "/context.jsonld", "id": "x"}'

    @app.get("/constant")
    def constant() -> Response:
        return Response(BODY, media_type="application/ld+json")
''')

LUA = textwrap.dedent('''
    local paths = {}
    for line in io.lines("%s") do paths[#paths + 1] = line end
    math.randomseed(os.time())
    request = function()
      return wrk.format("GET", paths[math.random(#paths)], {["Accept"] = "application/ld+json"})
    end
''')


def resource_paths(store_path: Path, limit: int = 50_000) -> list[str]:
    store = Store.open(store_path, read_only=True)
    rows = store.select(f"""
        PREFIX kim: <https://w3id.org/uk-kim/def#>
        SELECT DISTINCT ?r WHERE {{ {{ ?r a kim:Duty }} UNION {{ ?r kim:ksbType ?t }} }} LIMIT {limit}""")
    base = Settings().base_iri
    return ["/" + str(row["r"])[len(base):] for row in rows]


def wrk(url: str, seconds: float, connections: int, script: Path | None = None) -> dict[str, float]:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds:.0f}s", "--latency"]
    if script:
        command += ["-s", str(script)]
    else:
        command += ["-H", "Accept: application/ld+json"]
    out = subprocess.run(command + [url], capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)", out)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    return {
        "rate": rate,
        "p50_ms": float(p50.group(1)) * scale[p50.group(2)],
        "p99_ms": float(p99.group(1)) * scale[p99.group(2)],
        "errors": int(errors.group(1)) if errors else 0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--store", help="an existing store (default: build the project's graph)")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install wrk")

    with ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="kim-resource-bench-")))
        store = Path(args.store) if args.store else work / "store"
        if not args.store:
            subprocess.run([str(BIN / "kimgraph"), "build", "--store", str(store), "--quiet"], check=True)
        paths = resource_paths(store)
        (work / "paths.txt").write_text("\n".join(paths) + "\n")
        (work / "paths.lua").write_text(LUA % (work / "paths.txt"))
        (work / "bare_app.py").write_text(BARE_APP)

        kim_port, bare_port = free_port(), free_port()
        env = {**os.environ, "KIM_STORE": str(store)}
        started = time.perf_counter()
        kim = start(stack, [str(BIN / "kimgraph"), "serve", "--store", str(store), "--port", str(kim_port)],
                    work / "kim.log", env=env)
        wait_until(lambda: httpx.get(f"http://127.0.0.1:{kim_port}/health").status_code == 200, kim, "kimgraph serve")
        cold_start = time.perf_counter() - started
        bare = start(stack, [str(BIN / "python"), "-m", "uvicorn", "bare_app:app", "--port", str(bare_port),
                             "--app-dir", str(work), "--log-level", "warning"], work / "bare.log")
        wait_until(lambda: httpx.get(f"http://127.0.0.1:{bare_port}/constant").status_code == 200, bare, "bare app")

        base = wrk(f"http://127.0.0.1:{bare_port}/constant", args.seconds, args.connections)
        resource = wrk(f"http://127.0.0.1:{kim_port}", args.seconds, args.connections, work / "paths.lua")
        triples = len(Store.open(store, read_only=True))

    print(f"store: {triples} triples, {len(paths)} duty and KSB resources; wrk -t2 -c{args.connections} "
          f"-d{args.seconds:.0f}s; kimgraph serve cold start {cold_start:.2f} s")
    print(f"{'endpoint':40} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8}")
    for name, cell in (("bare FastAPI constant (baseline)", base), ("GET /id/... JSON-LD", resource)):
        print(f"{name:40} {cell['rate']:9.0f} {cell['p50_ms']:8.2f} {cell['p99_ms']:8.2f} {cell['errors']:8d}")
    print(f"ratio resource / baseline: {resource['rate'] / base['rate']:.2f} (target >= 0.5)")


if __name__ == "__main__":
    main()
