"""Schemathesis over the whole OpenAPI document of a real server, for longer than the test suite does.

    .venv/bin/python bench/fuzz_openapi.py [--url URL | --store PATH] [--max-examples 200] [--seconds 600]
                                           [--seed 0] [--operation 'GET /sparql']...

Each operation gets up to ``--max-examples`` generated requests, valid and invalid ones; every
response must be no 5xx, carry a documented status and media type and a body matching the documented
schema, and no write may succeed (the checks of tests/test_fuzz_openapi.py, so ``--url`` must name a
read-only server). Without ``--url`` it builds the project's graph in a temporary directory and serves
it read-only with the test's limits. Prints, per operation, the requests sent and the distinct
failures found, then each failure with a curl command that repeats it; exits 1 when any failed.
A script, never a test.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import requests
import schemathesis
from hypothesis import HealthCheck, given, seed, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.core.failures import Failure, FailureGroup

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))

from tests.server import running_server  # noqa: E402
from tests.test_fuzz_openapi import CHECKS, FUZZ_ENV, cases  # noqa: E402


@dataclass
class Outcome:
    """What one operation's run sent and found."""

    label: str
    examples: int = 0
    failures: dict[str, str] = field(default_factory=dict)  # first line of the failure -> a curl command
    seconds: float = 0.0


def fuzz(operation, max_examples: int, deadline: float, random_seed: int) -> Outcome:
    """Send up to ``max_examples`` generated requests to one operation; every failure is recorded, none stops it."""
    outcome = Outcome(f"{operation.method.upper()} {operation.path}")
    started = time.monotonic()

    @settings(max_examples=max_examples, deadline=None, database=None, derandomize=random_seed == 0,
              suppress_health_check=list(HealthCheck))
    @given(case=cases(operation))
    def run(case) -> None:
        if time.monotonic() > deadline:
            return
        outcome.examples += 1
        try:
            case.call_and_validate(checks=CHECKS, timeout=30)
        except (Failure, FailureGroup) as found:
            for failure in getattr(found, "exceptions", (found,)):
                outcome.failures.setdefault(describe(failure), case.as_curl_command())
        except requests.RequestException as error:  # no answer at all: the server hung up or overran
            outcome.failures.setdefault(f"No response: {type(error).__name__}", case.as_curl_command())

    try:
        (seed(random_seed)(run) if random_seed else run)()
    except Unsatisfiable:
        pass
    outcome.seconds = time.monotonic() - started
    return outcome


def describe(failure: Failure) -> str:
    """One line naming a failure: its title and the first line of its message."""
    lines = [line.strip() for line in str(failure.message).splitlines() if line.strip()]
    return f"{failure.title}: {lines[0] if lines else ''}"


@contextmanager
def served(args, stack: ExitStack) -> Iterator[str]:
    """The base URL to fuzz: ``--url`` as given, or a read-only server over a store built or given."""
    if args.url:
        yield args.url.rstrip("/")
        return
    work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="kim-fuzz-")))
    store = Path(args.store) if args.store else work / "store"
    if not args.store:
        subprocess.run([str(BIN / "kimgraph"), "build", "--store", str(store), "--quiet"], check=True)
    with running_server(store, work / "server.log", **FUZZ_ENV) as url:
        yield url


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", help="a running server (default: start one)")
    parser.add_argument("--store", help="the store to serve (default: build the project's graph)")
    parser.add_argument("--max-examples", type=int, default=200, help="requests per operation at most")
    parser.add_argument("--seconds", type=float, default=600.0, help="stop generating after this long")
    parser.add_argument("--seed", type=int, default=0, help="0: the same requests every run; else a random seed")
    parser.add_argument("--operation", action="append", default=[], help="only these ('GET /sparql'); repeatable")
    args = parser.parse_args(argv)

    outcomes: list[Outcome] = []
    with ExitStack() as stack:
        url = stack.enter_context(served(args, stack))
        schema = schemathesis.openapi.from_url(f"{url}/openapi.json", timeout=30)
        deadline = time.monotonic() + args.seconds
        for result in schema.get_all_operations():
            operation = result.ok()
            label = f"{operation.method.upper()} {operation.path}"
            if args.operation and label not in args.operation:
                continue
            outcome = fuzz(operation, args.max_examples, deadline, args.seed)
            outcomes.append(outcome)
            print(f"{outcome.label:58} {outcome.examples:6d} examples {len(outcome.failures):4d} failures "
                  f"{outcome.seconds:7.1f} s", flush=True)

    sent = sum(o.examples for o in outcomes)
    failed = [o for o in outcomes if o.failures]
    print(f"\n{len(outcomes)} operations, {sent} requests, {sum(len(o.failures) for o in outcomes)} distinct failures "
          f"in {len(failed)} operations")
    for outcome in failed:
        print(f"\n{outcome.label}")
        for message, curl in outcome.failures.items():
            print(f"  {message}\n    {curl}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
