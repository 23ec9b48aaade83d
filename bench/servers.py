"""The servers the benchmarks measure, started on 127.0.0.1 and stopped with an ExitStack, and their memory.

``kimgraph serve`` on a store, ``oxigraph serve-read-only`` on the same store directory (kimgraph opens it
read-only too when no write token is set), a bare FastAPI app returning a constant, and a minimal FastAPI
SPARQL endpoint running queries in-process on pyoxigraph, both under the same uvicorn options as
``sparql_api/server.py``. Peak memory is VmHWM from ``/proc/<pid>/status`` (Linux).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PUBLIC_URL = "http://127.0.0.1:8000/"

# The constant endpoint under the options sparql_api/server.py gives uvicorn (access log included), so that
# the only difference from kimgraph serve is the work behind the route.
BARE_APP = textwrap.dedent('''
    import sys

    import uvicorn
    from fastapi import FastAPI
    from fastapi.responses import Response

    app = FastAPI()
    BODY = b'{"@context": "/context.jsonld", "id": "x"}'

    @app.get("/constant")
    def constant() -> Response:
        return Response(BODY, media_type="application/ld+json")

    if __name__ == "__main__":
        uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=int(sys.argv[1]), proxy_headers=True,
                                      timeout_graceful_shutdown=5, log_level="info")).run()
''')

# The naive in-process design the /sparql target is set against: FastAPI running the query on pyoxigraph in
# the server process, with no limits, no time limit and no worker, under the same uvicorn options. The
# store's default graph is already the merge of its named graphs, so it is queried as it is.
MINIMAL_APP = textwrap.dedent('''
    import sys
    from urllib.parse import parse_qs

    import pyoxigraph
    import uvicorn
    from fastapi import FastAPI, Request
    from fastapi.responses import Response
    from starlette.concurrency import run_in_threadpool

    app = FastAPI()
    store = pyoxigraph.Store.read_only(sys.argv[2])
    JSON = pyoxigraph.QueryResultsFormat.JSON

    def answer(query: str) -> bytes:
        return store.query(query).serialize(format=JSON)

    @app.post("/sparql")
    async def sparql(request: Request) -> Response:
        query = parse_qs((await request.body()).decode())["query"][0]
        return Response(await run_in_threadpool(answer, query), media_type="application/sparql-results+json")

    if __name__ == "__main__":
        uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=int(sys.argv[1]), proxy_headers=True,
                                      timeout_graceful_shutdown=5, log_level="info")).run()
''')


@dataclass
class Server:
    """A started server process and its base URL."""

    process: subprocess.Popen
    url: str


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(ready: Callable[[], bool], process: subprocess.Popen, what: str, timeout: float = 120,
               interval: float = 0.2) -> None:
    """Call ``ready`` every ``interval`` seconds until it is true; SystemExit when the process dies or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{what} exited with status {process.returncode}")
        try:
            if ready():
                return
        except httpx.TransportError:
            pass
        time.sleep(interval)
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


def oxigraph_command() -> str:
    found = shutil.which("oxigraph", path=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    if found is None:
        raise SystemExit("no 'oxigraph' command: pip install -e '.[bench]' (the same version as pyoxigraph)")
    return found


def kimgraph_env(workers: int | None = None, settings: dict[str, str] | None = None) -> dict[str, str]:
    """This environment without KIM_* variables (a read-only server with default settings), plus ``settings``.

    The public address is fixed (``PUBLIC_URL``, whatever port the server listens on), so the answers of
    /id/ it prepares for that address are kept beside the store and reused by the next run."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIM_")}
    env["KIM_PUBLIC_URL"] = PUBLIC_URL
    if workers is not None:
        env["KIM_WORKERS"] = str(workers)
    env.update(settings or {})
    return env


def launch_kimgraph(stack: ExitStack, store: Path, log: Path, workers: int | None = None,
                    settings: dict[str, str] | None = None) -> Server:
    """``kimgraph serve`` on ``store`` and a free port, with ``settings`` (KIM_* variables); not yet waited for."""
    port = free_port()
    process = start(stack, [str(BIN / "kimgraph"), "serve", "--store", str(store), "--host", "127.0.0.1",
                            "--port", str(port)], log, kimgraph_env(workers, settings))
    return Server(process, f"http://127.0.0.1:{port}")


def launch_oxigraph(stack: ExitStack, store: Path, log: Path) -> Server:
    """``oxigraph serve-read-only`` on the same store directory, not yet waited for. Its default graph is the
    stored one, which a build keeps as the merge of the named graphs (store/merge.py), as kimgraph serves it."""
    port = free_port()
    process = start(stack, [oxigraph_command(), "serve-read-only", "--location", str(Path(store).resolve()),
                            "--bind", f"127.0.0.1:{port}"], log)
    return Server(process, f"http://127.0.0.1:{port}")


def launch_bare(stack: ExitStack, work: Path, log: Path) -> Server:
    """The bare FastAPI constant endpoint (``/constant``), not yet waited for."""
    script = work / "bare_app.py"
    script.write_text(BARE_APP)
    port = free_port()
    process = start(stack, [sys.executable, str(script), str(port)], log)
    return Server(process, f"http://127.0.0.1:{port}")


def launch_minimal(stack: ExitStack, store: Path, work: Path, log: Path) -> Server:
    """The minimal FastAPI + pyoxigraph SPARQL endpoint (``POST /sparql``) on ``store``; not yet waited for."""
    script = work / "minimal_sparql_app.py"
    script.write_text(MINIMAL_APP)
    port = free_port()
    process = start(stack, [sys.executable, str(script), str(port), str(Path(store).resolve())], log)
    return Server(process, f"http://127.0.0.1:{port}")


def minimal_ready(server: Server) -> bool:
    return httpx.post(server.url + "/sparql", data={"query": "ASK {}"}, timeout=2).status_code == 200


def answers_prepared(server: Server) -> bool:
    """Whether the server's answers of /id/ are prepared (its /health/ready says so)."""
    response = httpx.get(server.url + "/health/ready", timeout=5)
    return response.status_code == 200 and response.json().get("answers", {}).get("state") in ("ready", "off")


def kimgraph_ready(server: Server) -> bool:
    return httpx.get(server.url + "/health", timeout=2).status_code == 200


def oxigraph_ready(server: Server) -> bool:
    return httpx.get(server.url + "/query", params={"query": "ASK {}"}, timeout=2).status_code == 200


def bare_ready(server: Server) -> bool:
    return httpx.get(server.url + "/constant", timeout=2).status_code == 200


def _parents() -> dict[int, int]:
    """Every process's parent, from /proc."""
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
    return parents


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (children, their children, ...), from /proc."""
    children: dict[int, list[int]] = {}
    for child, parent in _parents().items():
        children.setdefault(parent, []).append(child)
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _status_mb(pid: int, field: str, name: str = "status") -> float:
    """A ``kB`` field of /proc/<pid>/status (or smaps_rollup) in MB; 0 when the process is gone."""
    try:
        for line in Path(f"/proc/{pid}/{name}").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def peak_rss_mb(pid: int) -> float:
    """A process's peak resident set size (VmHWM) in MB; 0 when it is gone."""
    return _status_mb(pid, "VmHWM")


@dataclass
class ProcessMemory:
    """One process of a server's tree: its role, peak RSS (VmHWM) and current proportional set size (PSS)."""

    pid: int
    role: str
    peak_rss_mb: float
    pss_mb: float


def _role(pid: int, root: int, parents: dict[int, int]) -> str:
    if pid == root:
        return "server"
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return "gone"
    if b"resource_tracker" in command:
        return "resource tracker"
    if b"forkserver" in command and parents.get(pid) == root:
        return "forkserver"
    return "worker"


def tree_memory(pid: int) -> list[ProcessMemory]:
    """Memory of a server process and each of its descendants (query workers and multiprocessing helpers).

    Peak RSS counts pages shared between forked processes in each of them; PSS shares them out."""
    parents = _parents()
    return [ProcessMemory(p, _role(p, pid, parents), peak_rss_mb(p), _status_mb(p, "Pss", "smaps_rollup"))
            for p in [pid, *descendants(pid)]]


def tree_cpu_seconds(pid: int) -> float:
    """CPU time (user and system) spent so far by a process and its descendants alive now."""
    total = 0
    for p in [pid, *descendants(pid)]:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime: fields 14 and 15 of proc(5)
    return total / os.sysconf("SC_CLK_TCK")


def until_at_rest(pid: int, quiet: float = 1.0, busy_share: float = 0.02, limit: float = 300.0) -> float:
    """Wait until a server's process tree uses less than ``busy_share`` of a core for ``quiet`` seconds (the
    queries a load left running have ended); the seconds waited (``limit`` at most)."""
    began = time.monotonic()
    used = tree_cpu_seconds(pid)
    while time.monotonic() - began < limit:
        time.sleep(quiet)
        now = tree_cpu_seconds(pid)
        if now - used < busy_share * quiet:
            break
        used = now
    return time.monotonic() - began
