"""Shared fixtures: the manifest's sources, their parsed graphs, one store built by the CLI, and the app over it
in this process. The real servers are in tests/server.py and Chromium in tests/browser.py (plugins)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from ingest.manifest import Source, load_manifest
from ingest.occupation_page import parse_occupation_page
from ingest.standard_page import parse_standard_page
from kimdata.namespaces import Iris
from kimgraph.cli import main as kimgraph
from sparql_api.app import create_app
from sparql_api.settings import Settings
from store.embedded import Store
from tests.helpers import DATA as DATA  # re-exported: older test modules import it from here

pytest_plugins = ["tests.server", "tests.browser"]

# Apps built in this process (Settings() reads the environment) prepare no answers of /id/ in a child
# process; tests/test_prepared.py turns it on where it is the subject.
os.environ["KIM_PREPARE"] = "0"

# Markers that follow from the fixtures a test uses, so that ``-m "not browser"`` or ``-m "not remote"``
# leaves out exactly the tests that need Chromium or start ``oxigraph serve``.
FIXTURE_MARKERS = {"browser": "browser", "oxigraph_url": "remote"}


@pytest.hookimpl(tryfirst=True)  # before ``-m`` deselects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        used = getattr(item, "fixturenames", ())
        for fixture, marker in FIXTURE_MARKERS.items():
            if fixture in used:
                item.add_marker(marker)


@pytest.fixture(scope="session")
def iris() -> Iris:
    return Iris()


@pytest.fixture(scope="session")
def sources() -> dict[str, Source]:
    """The manifest's sources by kind-and-number: 'standard-page', 'occupation-page', and by id."""
    listed = load_manifest()
    by_key = {s.id: s for s in listed}
    by_key["standard-page"] = next(s for s in listed if s.kind == "standard-page")
    by_key["occupation-page"] = next(s for s in listed if s.kind == "occupation-page")
    return by_key


@pytest.fixture(scope="session")
def standard_page(sources, iris):
    source = sources["standard-page"]
    return parse_standard_page(source.read(), source, iris)


@pytest.fixture(scope="session")
def occupation_page(sources, iris):
    source = sources["occupation-page"]
    return parse_occupation_page(source.read(), source, iris)


@pytest.fixture(scope="session")
def built_store_path(tmp_path_factory) -> Path:
    """A store built from the project's manifest by ``kimgraph build``."""
    path = tmp_path_factory.mktemp("built") / "store"
    assert kimgraph(["build", "--store", str(path), "--quiet"]) == 0
    return path


@pytest.fixture(scope="session")
def built_store(built_store_path) -> Store:
    return Store.open(built_store_path, read_only=True)


@pytest.fixture(scope="session")
def app_client(built_store) -> Iterator[TestClient]:
    """The service over the built store in this process (FastAPI's TestClient, lifespan included): for
    handler-level checks that need no real server. Read-only, queries answered in a thread."""
    settings = Settings(workers=0, write_token=None, public_url="http://testserver/")
    with TestClient(create_app(settings, store=built_store)) as client:
        yield client
