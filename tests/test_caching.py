"""sparql_api.caching: validators from the build and data version, the 304 decisions, and HEAD.

The HTTP tests use ``resources_server``, the server of tests/test_resources.py.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import Response

from sparql_api.caching import (
    CACHE_CONTROL,
    BodyCache,
    DataStamp,
    conditional,
    entity_tag,
    etag_matches,
    not_modified_since,
)
from sparql_api.errors import ResourceNotFound
from sparql_api.workers import DataVersion
from tests.helpers import ID, RESOURCES
from tests.server import RESOURCES_GRAPH, TOKEN


@pytest.fixture(scope="module")
def client(resources_server):
    with httpx.Client(base_url=resources_server, timeout=30) as c:
        yield c


def vary(response) -> set[str]:
    return {v.strip().lower() for v in response.headers.get("vary", "").split(",")}


def stamp_of(path: Path | None = None) -> DataStamp:
    return DataStamp(path, DataVersion())


def request_for(headers: dict[str, str] | None = None, method: str = "GET") -> Request:
    scope = {
        "type": "http", "method": method, "path": "/id/x", "query_string": b"", "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
        "scheme": "http", "server": ("127.0.0.1", 80),
    }
    return Request(scope)


def ok() -> Response:
    return Response(b"body", media_type="text/turtle")


@pytest.fixture
def built(tmp_path) -> Path:
    """A store path laid out as build_atomically does: a link to a timestamped version directory."""
    version = tmp_path / "store.versions" / "20250102T030405-abcdef12"
    version.mkdir(parents=True)
    link = tmp_path / "store"
    link.symlink_to(version)
    return link


def test_build_is_the_resolved_directory_name(built):
    assert stamp_of(built).build == "20250102T030405-abcdef12"


def test_in_memory_store_gets_one_token_per_app():
    first, second = stamp_of(), stamp_of()
    assert first.build != second.build
    assert first.build.startswith("mem-")


def test_last_modified_is_the_build_time_then_moves_with_writes(built):
    stamp = stamp_of(built)
    assert stamp.last_modified() == datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC).timestamp()
    stamp.version.bump()
    assert stamp.last_modified() > datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC).timestamp()


def test_etag_depends_on_media_type_version_and_parts(built):
    stamp = stamp_of(built)
    turtle = entity_tag(stamp, "text/turtle")
    assert turtle.startswith('W/"') and turtle == entity_tag(stamp, "text/turtle")
    assert turtle != entity_tag(stamp, "application/ld+json")
    assert turtle != entity_tag(stamp, "text/turtle", "http://other/context.jsonld")
    stamp.version.bump()
    assert turtle != entity_tag(stamp, "text/turtle")


@pytest.mark.parametrize("header, matches", [
    ('W/"abc-v0"', True), ('"abc-v0"', True), ('"x", W/"abc-v0"', True), ("*", True),
    ('W/"abd-v0"', False), ("", False),
])
def test_if_none_match_uses_weak_comparison(header, matches):
    assert etag_matches(header, 'W/"abc-v0"') is matches


def test_if_modified_since_compares_whole_seconds():
    when = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    header = format_datetime(when, usegmt=True)
    assert not_modified_since(header, when.timestamp())
    assert not not_modified_since(header, when.timestamp() + 1)
    assert not not_modified_since("yesterday", when.timestamp())


def test_conditional_adds_validators_to_a_200(built):
    response = conditional(request_for(), stamp_of(built), "text/turtle", ok, headers={"Vary": "Accept"})
    assert response.status_code == 200
    assert response.headers["cache-control"] == CACHE_CONTROL
    assert response.headers["vary"] == "Accept"
    assert parsedate_to_datetime(response.headers["last-modified"]).year == 2025


def test_conditional_304_on_etag_without_calling_the_factory(built):
    stamp = stamp_of(built)
    etag = conditional(request_for(), stamp, "text/turtle", ok).headers["etag"]

    def fail() -> Response:
        raise AssertionError("the factory ran")

    response = conditional(request_for({"If-None-Match": etag}), stamp, "text/turtle", fail,
                           headers={"Vary": "Accept", "Content-Location": "/id/x?format=turtle"})
    assert response.status_code == 304 and response.body == b""
    assert response.headers["etag"] == etag
    assert response.headers["vary"] == "Accept"
    assert response.headers["content-location"] == "/id/x?format=turtle"


def test_conditional_304_on_if_modified_since_only_for_existing_resources(built):
    stamp = stamp_of(built)
    since = {"If-Modified-Since": format_datetime(datetime(2030, 1, 1, tzinfo=UTC), usegmt=True)}
    assert conditional(request_for(since), stamp, "text/turtle", ok).status_code == 304

    def missing() -> Response:
        raise ResourceNotFound("no such thing")

    with pytest.raises(ResourceNotFound):
        conditional(request_for(since), stamp, "text/turtle", missing)


def test_conditional_leaves_errors_alone(built):
    response = conditional(request_for(), stamp_of(built), "text/turtle", lambda: Response(b"", status_code=500))
    assert response.status_code == 500 and "etag" not in response.headers


# ------------------------------------------------------------------ over HTTP: /id/... and /context.jsonld

def test_repeated_request_with_if_none_match_is_304(client):
    url = "/id/" + RESOURCES["duty"]
    first = client.get(url)
    etag = first.headers["etag"]
    assert etag.startswith('W/"')
    assert first.headers["cache-control"] == "public, max-age=60"
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag and "accept" in vary(again)
    other = client.get(url, headers={"If-None-Match": etag, "Accept": "text/turtle"})
    assert other.status_code == 200 and other.headers["etag"] != etag  # one tag per representation


def test_if_modified_since_is_304_when_not_older(client):
    url = "/id/" + RESOURCES["knowledge"]
    first = client.get(url)
    modified = first.headers["last-modified"]
    assert client.get(url, headers={"If-Modified-Since": modified}).status_code == 304
    old = format_datetime(datetime(2000, 1, 1, tzinfo=UTC), usegmt=True)
    assert client.get(url, headers={"If-Modified-Since": old}).status_code == 200
    assert client.get(url, headers={"If-Modified-Since": "not a date"}).status_code == 200
    # If-None-Match wins over If-Modified-Since (RFC 9110 §13.2.2)
    assert client.get(url, headers={"If-None-Match": '"other"', "If-Modified-Since": modified}).status_code == 200


def test_unknown_iri_stays_404_with_if_modified_since(client):
    future = format_datetime(datetime(2999, 1, 1, tzinfo=UTC), usegmt=True)
    assert client.get("/id/standard/ST0000", headers={"If-Modified-Since": future}).status_code == 404


def test_head_gives_headers_without_a_body(client):
    url = "/id/" + RESOURCES["standard"]
    for accept in ("application/ld+json", "text/html", "text/turtle"):
        get = client.get(url, headers={"Accept": accept})
        head = client.head(url, headers={"Accept": accept})
        assert head.status_code == 200 and head.content == b""
        for name in ("content-type", "etag", "last-modified", "content-location", "vary"):
            assert head.headers[name] == get.headers[name]
    assert client.head("/id/standard/ST0000").status_code == 404
    assert client.head("/context.jsonld").status_code == 200


def test_context_is_published_and_cacheable(client):
    response = client.get("/context.jsonld")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/ld+json")
    assert response.json()["@context"]["mappedKnowledge"]["@id"] == "kim:mapsToKnowledge"
    etag = response.headers["etag"]
    assert client.get("/context.jsonld", headers={"If-None-Match": etag}).status_code == 304


def test_a_write_changes_the_validators(client):
    # a resource the round-trip tests do not read: their read-only snapshot does not see writes
    path = "scheme/kim-role/archivist"
    url = "/id/" + path
    before = client.get(url)
    update = (f'INSERT DATA {{ GRAPH <{RESOURCES_GRAPH}> {{ <{ID}{path}> '
              f'<http://www.w3.org/2004/02/skos/core#altLabel> "Library professional"@en }} }}')
    written = client.post("/sparql", data={"update": update}, headers={"Authorization": f"Bearer {TOKEN}"})
    assert written.status_code in (200, 204), written.text
    after = client.get(url, headers={"If-None-Match": before.headers["etag"]})
    assert after.status_code == 200
    assert after.headers["etag"] != before.headers["etag"]
    assert "Library professional" in after.json()["altLabel"]


def test_body_cache_keeps_200s_by_data_version_within_its_limits(built):
    stamp = stamp_of(built)
    cache = BodyCache(stamp, entries=2, max_total=10)
    calls = []

    def build(body: bytes, status: int = 200):
        def make() -> Response:
            calls.append(body)
            return Response(body, status_code=status, media_type="text/plain")
        return make

    assert cache.get_or_build(("a",), build(b"aaaa")).body == b"aaaa"
    assert cache.get_or_build(("a",), build(b"zzzz")).body == b"aaaa"  # served from the cache
    cache.get_or_build(("n",), build(b"", 404))
    cache.get_or_build(("n",), build(b"", 404))
    assert calls.count(b"") == 2  # errors are never kept
    cache.get_or_build(("b",), build(b"bbbbbbbb"))  # 12 bytes in all: "a" goes
    assert cache.get_or_build(("a",), build(b"AAAA")).body == b"AAAA"
    stamp.version.bump()
    assert cache.get_or_build(("a",), build(b"new!")).body == b"new!"  # a write makes old entries stale
