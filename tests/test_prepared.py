"""Answers of /id/ prepared ahead (sparql_api.prepared): the bytes the route builds, read from a file that
``kimgraph prepare`` (or the server, in a child process) writes beside the store version; stale at the
first write, and prepared again for the new data version."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import httpx
import pytest

from kimgraph.cli import main as kimgraph
from sparql_api.prepared import PREPARED_MEDIA, answer_key, answers_path
from store.versions import build_atomically
from tests.helpers import ID
from tests.server import AUTH, TOKEN, copy_store, running_server

PUBLIC = "http://127.0.0.1:18999/"  # the address the answers are prepared for: their JSON-LD names its context there
SAMPLE = ("standard/ST1337", "standard/ST1337/duty/2", "standard/ST1337/ksb/K19", "org/cilip",
          "standard/ST0904/ksb/K3")


def wait_for(url: str, state: str, limit: float = 600) -> dict:
    """/health/ready once its ``answers`` are in ``state``."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        body = httpx.get(url + "/health/ready").json()
        if body.get("answers", {}).get("state") == state:
            return body
        time.sleep(0.2)
    raise AssertionError(f"the answers did not become {state!r} within {limit} s: {body}")


@pytest.fixture(scope="module")
def prepared_store(built_store_path, tmp_path_factory) -> Path:
    """A copy of the built store with its answers prepared for a server at PUBLIC."""
    store = copy_store(built_store_path, tmp_path_factory.mktemp("prepared") / "store")
    assert kimgraph(["prepare", "--store", str(store), "--public-url", PUBLIC, "--quiet"]) == 0
    return store


def answers(store: Path) -> sqlite3.Connection:
    path = answers_path(store)
    assert path is not None and path.exists()
    return sqlite3.connect(path)


def test_prepare_writes_each_resource_in_each_prepared_format(prepared_store):
    with answers(prepared_store) as db:
        meta = dict(db.execute("SELECT name, value FROM meta"))
        count = db.execute("SELECT COUNT(*) FROM answers").fetchone()[0]
        keys = {row[0] for row in db.execute("SELECT key FROM answers")}
    assert meta["data_version"] == "0" and meta["context"] == PUBLIC + "context.jsonld"
    assert int(meta["resources"]) > 800 and count == int(meta["resources"]) * len(PREPARED_MEDIA)
    for path in SAMPLE:
        for media in PREPARED_MEDIA:
            assert answer_key(("id", ID + path, media, meta["context"])) in keys, (path, media)


@pytest.mark.slow  # three servers, one of them preparing
def test_a_server_serves_the_prepared_bytes(prepared_store, tmp_path):
    """The route's own answers, byte for byte; and a prepared answer is what is served (a changed one shows)."""
    with running_server(prepared_store, tmp_path / "live.log", KIM_PUBLIC_URL=PUBLIC) as live:
        expected = {(path, media): httpx.get(f"{live}/id/{path}", headers={"Accept": media}).content
                    for path in SAMPLE for media in PREPARED_MEDIA}
    with answers(prepared_store) as db:
        context = dict(db.execute("SELECT name, value FROM meta"))["context"]
        for (path, media), body in expected.items():
            stored = db.execute("SELECT body FROM answers WHERE key = ?",
                                (answer_key(("id", ID + path, media, context)),)).fetchone()[0]
            assert stored == body, (path, media)
        marked = b'{"marked": "served from the prepared answers"}'
        db.execute("UPDATE answers SET body = ? WHERE key = ?",
                   (marked, answer_key(("id", ID + "org/cilip", "application/ld+json", context))))
    with running_server(prepared_store, tmp_path / "prepared.log", KIM_PREPARE="1", KIM_PUBLIC_URL=PUBLIC) as url:
        ready = wait_for(url, "ready")
        assert ready["answers"]["answers"] > 800
        headers = {"Accept": "application/ld+json"}
        response = httpx.get(f"{url}/id/org/cilip", headers=headers)
        assert response.status_code == 200 and response.content == marked
        assert response.headers["content-type"].startswith("application/ld+json") and response.headers["etag"]
        assert httpx.get(f"{url}/id/org/cilip", headers={**headers, "If-None-Match": response.headers["etag"]}
                         ).status_code == 304
    # a server at another address prepares the answers for its own address
    with running_server(prepared_store, tmp_path / "other.log", KIM_PREPARE="1") as url:
        assert httpx.get(f"{url}/id/org/cilip", headers={"Accept": "application/ld+json"}).content != marked
        wait_for(url, "ready")
        with answers(prepared_store) as db:
            assert dict(db.execute("SELECT name, value FROM meta"))["context"] == url + "/context.jsonld"


@pytest.mark.slow  # a server preparing its answers twice
def test_a_write_makes_the_answers_stale_and_they_are_prepared_again(built_store_path, tmp_path):
    store = copy_store(built_store_path, tmp_path / "store")
    with running_server(store, tmp_path / "server.log", KIM_PREPARE="1", KIM_WRITE_TOKEN=TOKEN) as url:
        wait_for(url, "ready")
        assert answers_path(store).exists()
        label = "A label written after the answers were prepared"
        update = (f'INSERT DATA {{ GRAPH <urn:test:prepared> {{ <{ID}org/cilip> '
                  f'<http://www.w3.org/2000/01/rdf-schema#label> "{label}" }} }}')
        written = httpx.post(url + "/sparql", content=update,
                             headers={**AUTH, "Content-Type": "application/sparql-update"})
        assert written.status_code == 204
        assert label in httpx.get(url + "/id/org/cilip", headers={"Accept": "application/ld+json"}).text
        assert not answers_path(store).exists()
        assert httpx.get(url + "/health/ready").json()["answers"]["state"] == "preparing"
        ready = wait_for(url, "ready")
        assert ready["version"] == 1
        with answers(store) as db:
            assert dict(db.execute("SELECT name, value FROM meta"))["data_version"] == "1"
        assert label in httpx.get(url + "/id/org/cilip", headers={"Accept": "text/turtle"}).text


def test_a_build_removes_the_answers_of_the_versions_it_removes(tmp_path):
    link = tmp_path / "store"
    first = build_atomically(link, lambda store: None)
    answers_path(link).write_bytes(b"")  # answers of the first version
    build_atomically(link, lambda store: None)
    assert answers_path(first).exists()  # the previous version and its answers are kept
    third = build_atomically(link, lambda store: None)
    assert not first.exists() and not answers_path(first).exists()
    assert answers_path(third) == answers_path(link)
