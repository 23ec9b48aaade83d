"""Schemathesis over the whole OpenAPI document of a real server, for longer than the test suite does.

    .venv/bin/python bench/fuzz_openapi.py [--url URL | --store PATH] [--token [TOKEN]] [--seconds 600]
                                           [--seed 1] [--operation 'GET /sparql']...

Runs ``st run --checks all`` (tests/fuzzing.py): the examples, coverage, fuzzing and stateful phases,
with every check Schemathesis has. Without ``--token`` the server must be read-only and no write may
succeed (``no_write_applied`` is added). With ``--token`` every request carries ``Authorization:
Bearer TOKEN`` and writes are carried out, so without ``--url`` the server is given a throwaway copy of
the store and that token. Without ``--url`` the project's graph is built in a temporary directory (or
``--store`` is copied) and served with the test's limits. Prints Schemathesis's report, each failure
with a curl command that repeats it; exits 1 when any failed.
A script, never a test.
"""

from __future__ import annotations

import argparse
import secrets
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))

from tests.fuzzing import run_schemathesis  # noqa: E402
from tests.server import copy_store, running_server  # noqa: E402
from tests.test_fuzz_openapi import FUZZ_ENV  # noqa: E402


@contextmanager
def served(args) -> Iterator[str]:
    """The base URL to fuzz: ``--url`` as given, or a server over a copy of the store built or given."""
    if args.url:
        yield args.url.rstrip("/")
        return
    with tempfile.TemporaryDirectory(prefix="kim-fuzz-") as folder:
        work = Path(folder)
        store = work / "store"
        if args.store:
            copy_store(Path(args.store), store)  # writes, when allowed, go to this copy only
        else:
            subprocess.run([str(BIN / "kimgraph"), "build", "--store", str(store), "--quiet"], check=True)
        env = {**FUZZ_ENV, **({"KIM_WRITE_TOKEN": args.token} if args.token else {})}
        with running_server(store, work / "server.log", **env) as url:
            yield url


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", help="a running server (default: start one)")
    parser.add_argument("--store", help="the store to serve, copied (default: build the project's graph)")
    parser.add_argument("--token", nargs="?", const="", default=None,
                        help="fuzz with writes allowed: the bearer token (random when the server is started here)")
    parser.add_argument("--seconds", type=float, default=600.0, help="the time budget of the whole run")
    parser.add_argument("--seed", type=int, default=1, help="Schemathesis's random seed")
    parser.add_argument("--max-examples", type=int, default=None, help="test cases per operation at most")
    parser.add_argument("--operation", action="append", default=[], help="only these ('GET /sparql'); repeatable")
    args = parser.parse_args(argv)
    if args.token == "":
        if args.url:
            parser.error("--token needs the server's token when --url is given")
        args.token = secrets.token_urlsafe(16)

    with served(args) as url:
        mode = "with the write token" if args.token else "read-only"
        print(f"Schemathesis, every check, {mode}: {url} for {args.seconds:.0f} s", flush=True)
        done = run_schemathesis(url, args.seconds, token=args.token, seed=args.seed, operations=args.operation,
                                max_examples=args.max_examples, capture=False)
    return 0 if done.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
