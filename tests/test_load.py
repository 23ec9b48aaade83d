"""Load on a real server: 32 clients send the mixed workload of bench/load.py, calm and then with a
runaway query each second. The figures are printed (``pytest -s``); only outcomes are asserted."""

from __future__ import annotations

import asyncio
import doctest

import httpx
import pytest

import bench.load
from bench.load import WEIGHTS, LoadReport, format_report, p99_ratio, run_load
from tests.server import copy_store, running_server

SECONDS = 5
CLIENTS = 32
SERVER_ENV = {"KIM_QUERY_TIMEOUT": "1", "KIM_WORKERS": "2"}


@pytest.fixture(scope="module")
def load_server(built_store_path, tmp_path_factory) -> str:
    """A read-only server over a private copy of the built store, with a 1 s query limit and 2 workers."""
    base = tmp_path_factory.mktemp("load")
    store = copy_store(built_store_path, base / "store")
    with running_server(store, base / "server.log", **SERVER_ENV) as url:
        yield url


@pytest.fixture(scope="module")
def reports(load_server) -> dict[str, LoadReport]:
    """One calm run and one run with a runaway query each second, of ``SECONDS`` each."""
    calm = asyncio.run(run_load(load_server, SECONDS, CLIENTS))
    runaway = asyncio.run(run_load(load_server, SECONDS, CLIENTS, runaway=True, seed=1))
    print()
    print(format_report(calm, "calm"))
    print(format_report(runaway, "runaway"))
    print(f"p99 runaway / calm: {p99_ratio(calm, runaway):.2f}")
    return {"calm": calm, "runaway": runaway}


def test_doctests_pass():
    failures, _ = doctest.testmod(bench.load)
    assert failures == 0


@pytest.mark.parametrize("run", ["calm", "runaway"])
@pytest.mark.slow
def test_mixed_load_gets_no_server_error_and_keeps_every_connection(reports, run):
    report = reports[run]
    assert report.samples, "no request was sent"
    assert report.server_errors == 0, format_report(report, run)
    assert report.connection_errors == 0, format_report(report, run)
    assert report.timeouts == 0, format_report(report, run)


@pytest.mark.parametrize("run", ["calm", "runaway"])
@pytest.mark.slow
def test_every_kind_of_request_is_sent_and_answered_as_expected(reports, run):
    figures = reports[run].by_kind()
    assert set(figures) == set(WEIGHTS)
    wrong = {kind: f.statuses for kind, f in figures.items() if f.unexpected}
    assert not wrong, wrong
    assert all(status in (200, 304) for f in figures.values() for status in f.statuses)


@pytest.mark.slow
def test_runaway_queries_get_503_problems_and_are_not_counted_with_the_others(reports):
    runaway = reports["runaway"]
    assert len(runaway.runaways) == SECONDS  # one each second
    assert runaway.runaway_outcomes == {"503 problem": SECONDS}
    assert all(s.kind != "runaway" for s in runaway.samples)
    assert not reports["calm"].runaways


@pytest.mark.slow
def test_server_is_healthy_after_the_load(reports, load_server):
    response = httpx.get(load_server + "/health", timeout=30)
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
