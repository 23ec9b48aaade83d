"""Schemathesis over a real server, as its command line runs it: every check, every phase.

A plain helper for tests/test_fuzz_openapi.py and bench/fuzz_openapi.py. ``st run --checks all`` runs
the examples, coverage, fuzzing and stateful phases with all of Schemathesis's checks (server errors,
documented statuses, media types, bodies and headers, invalid data rejected and valid data accepted,
unsupported methods and ``Allow``, resources gone after DELETE, ...). A server without a write token
also gets ``no_write_applied`` (registered by tests/read_only_check.py); with the token, writes are
carried out and that check does not apply.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from tests.helpers import ROOT

ST = Path(sys.executable).parent / "st"
HOOKS = ROOT / "tests" / "read_only_check.py"


WRITES = frozenset({"POST", "PUT", "DELETE", "PATCH"})


def no_write_applied(ctx, response, case) -> None:
    """A read-only server never answers a write as carried out (201 Created, 204 No Content)."""
    if case.method.upper() in WRITES and response.status_code in (201, 204):
        raise AssertionError(f"{case.method} {case.path} was applied ({response.status_code}) on a read-only server")


def schemathesis_command(url: str, seconds: float, *, token: str | None = None, seed: int = 1,
                         operations: Sequence[str] = (), max_examples: int | None = None) -> list[str]:
    """``st run`` with every check over the document ``url`` serves, for at most ``seconds``."""
    command = [str(ST), "run", f"{url}/openapi.json", "--checks", "all", "--max-time", str(max(1, round(seconds))),
               "--workers", "1", "--seed", str(seed), "--request-timeout", "30", "--no-color",
               "--generation-database", "none", "--output-truncate", "false"]
    if max_examples is not None:
        command += ["--max-examples", str(max_examples)]
    if token is not None:
        command += ["--header", f"Authorization: Bearer {token}"]
    for label in operations:
        command += ["--include-name", label]
    return command


def schemathesis_env(token: str | None) -> dict[str, str]:
    """The environment of ``st run``: the project importable, and the read-only check when there is no token."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("SCHEMATHESIS_HOOKS", None)
    if token is None:
        env["SCHEMATHESIS_HOOKS"] = str(HOOKS)
    return env


def run_schemathesis(url: str, seconds: float, *, token: str | None = None, seed: int = 1,
                     operations: Sequence[str] = (), max_examples: int | None = None,
                     capture: bool = True) -> subprocess.CompletedProcess:
    """Run ``st run`` to its end; its report is in ``stdout`` (when captured), its verdict in ``returncode``."""
    command = schemathesis_command(url, seconds, token=token, seed=seed, operations=operations,
                                   max_examples=max_examples)
    return subprocess.run(command, cwd=ROOT, env=schemathesis_env(token), text=True,
                          stdout=subprocess.PIPE if capture else None, stderr=subprocess.STDOUT if capture else None,
                          timeout=seconds + 300)
