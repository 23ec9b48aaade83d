"""Schemathesis over the whole OpenAPI document of a real server: bounded runs with every check.

Over a read-only server, each operation gets generated requests, valid and invalid ones, checked by
every check Schemathesis has: no 5xx, a documented status, media type, headers and body, invalid
requests refused and valid ones accepted. The server has no write token, so no write may succeed:
writes must be refused as documented (403 problem+json). Over a server with the write token (and a
copy of the store of its own), Schemathesis's own run with every check and phase must find nothing.
``bench/fuzz_openapi.py`` runs the same for longer, in either mode.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import CHECKS as REGISTERED_CHECKS
from schemathesis.checks import load_all_checks

from sparql_api.app import create_app
from sparql_api.settings import Settings
from tests.fuzzing import no_write_applied, run_schemathesis
from tests.server import READ_ENV, TOKEN, copy_store, running_server

MAX_EXAMPLES = 15
# The suite's small request limits, with time enough for any query on a loaded machine: a 503 for a
# query that overran would say nothing about the service.
FUZZ_ENV = {**READ_ENV, "KIM_QUERY_TIMEOUT": "20"}

WRITE_RUN_SECONDS = 60  # Schemathesis's run over the writable server: every phase, then it stops

pytestmark = pytest.mark.slow  # servers of their own and about 15 generated requests per operation


def every_check() -> list:
    """Every check Schemathesis has, and the read-only server's own."""
    load_all_checks()
    return [check for check in REGISTERED_CHECKS.get_all() if check.__name__ != no_write_applied.__name__] \
        + [no_write_applied]


CHECKS = every_check()


def cases(operation) -> st.SearchStrategy:
    """Valid and invalid requests for one operation (an operation without inputs has only valid ones)."""
    return st.one_of(operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE))


def documented_operations() -> list[str]:
    """``METHOD /path`` of every operation of the OpenAPI document the app builds."""
    document = create_app(Settings()).openapi()
    return [f"{method.upper()} {path}" for path, operations in document["paths"].items() for method in operations]


OPERATIONS = documented_operations()


@pytest.fixture(scope="module")
def fuzz_server(built_store_path, tmp_path_factory) -> Iterator[str]:
    """A read-only server (no write token) over a private copy of the built store."""
    base = tmp_path_factory.mktemp("fuzz")
    store = copy_store(built_store_path, base / "store")
    with running_server(store, base / "server.log", **FUZZ_ENV) as url:
        yield url


@pytest.fixture(scope="module")
def fuzz_write_server(built_store_path, tmp_path_factory) -> Iterator[str]:
    """A server that accepts writes with the bearer token, over a copy of the built store of its own."""
    base = tmp_path_factory.mktemp("fuzz-write")
    store = copy_store(built_store_path, base / "store")
    with running_server(store, base / "server.log", KIM_WRITE_TOKEN=TOKEN, **FUZZ_ENV) as url:
        yield url


@pytest.fixture(scope="module")
def api_schema(fuzz_server) -> schemathesis.BaseSchema:
    """The OpenAPI document the server serves; generated requests go to that server."""
    return schemathesis.openapi.from_url(f"{fuzz_server}/openapi.json", timeout=30)


def test_the_served_document_has_every_operation(api_schema):
    served = [f"{result.ok().method.upper()} {result.ok().path}" for result in api_schema.get_all_operations()]
    assert sorted(served) == sorted(OPERATIONS)


def test_every_error_is_documented_as_a_problem(api_schema):
    for result in api_schema.get_all_operations():
        responses = result.ok().definition.raw["responses"]
        assert "422" not in responses or "HTTPValidationError" not in str(responses["422"]), result.ok().label
        for status, response in responses.items():
            if status[0] in "45":
                assert list(response["content"]) == ["application/problem+json"], (result.ok().label, status)


@pytest.mark.parametrize("body", [b"5", b'"a string"', b"null",
                                  json.dumps({"@id": "a\u0080b", "http://example.org/p": "v"}).encode()],
                         ids=["number", "string", "null", "control-character-in-iri"])
def test_a_json_ld_upload_rdf_cannot_take_is_a_400_problem(fuzz_server, body):
    response = httpx.post(f"{fuzz_server}/validate", content=body, headers={"Content-Type": "application/ld+json"},
                          timeout=30)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("label", OPERATIONS)
def test_operation_answers_as_documented(api_schema, label):
    method, path = label.split(" ", 1)
    operation = api_schema[path][method]

    @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(case=cases(operation))
    def answers_as_documented(case) -> None:
        case.call_and_validate(checks=CHECKS, timeout=30)

    answers_as_documented()


def test_every_check_passes_with_the_write_token(fuzz_write_server):
    done = run_schemathesis(fuzz_write_server, WRITE_RUN_SECONDS, token=TOKEN, max_examples=10)
    assert done.returncode == 0, done.stdout[-20000:]
