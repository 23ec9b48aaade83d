"""GET /search against a real server (ranking, snippets, hostile input), and the index's life per data version."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from sparql_api.search_index import SearchIndex, SearchIndexes
from sparql_api.workers import DataVersion
from store.embedded import Store
from tests.server import copy_store

ID = "https://w3id.org/uk-kim/id/"
KSB = ID + "standard/ST1337/ksb/"


@pytest.fixture(scope="module")
def http(api_server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=api_server, timeout=30) as client:
        yield client


def search(http: httpx.Client, q: str, **params) -> dict:
    response = http.get("/search", params={"q": q, **params})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    return response.json()


def test_gdpr_finds_k19_and_s15_ranked(http):
    body = search(http, "GDPR")
    ids = [r["id"] for r in body["results"]]
    assert set(ids[:2]) == {KSB + "K19", KSB + "S15"} and body["totalItems"] == len(ids)
    scores = [r["score"] for r in body["results"]]
    assert scores == sorted(scores, reverse=True)
    k19 = next(r for r in body["results"] if r["code"] == "K19")
    assert k19["type"] == "kim:Knowledge" and k19["field"] == "statement"
    assert "(GDPR)" in k19["snippet"] and "**" not in k19["snippet"]
    assert [k19["snippet"][m["start"]:m["end"]] for m in k19["matches"]] == ["GDPR"]


def test_every_match_offset_points_at_a_match(http):
    for result in search(http, "records management", limit=50)["results"]:
        assert result["matches"] or result["field"] == "code"
        for match in result["matches"]:
            found = result["snippet"][match["start"]:match["end"]].casefold()
            assert found.startswith(("record", "manag")), (found, result["snippet"])


@pytest.mark.parametrize(("kind", "q", "types"), [
    ("duty", "information", {"kim:Duty"}), ("knowledge", "information", {"kim:Knowledge"}),
    ("skill", "information", {"kim:Skill"}), ("behaviour", "professional", {"kim:Behaviour"}),
    ("standard", "information", {"kim:OccupationalStandard"}),
    ("organisation", "information", {"org:FormalOrganization", "org:Organization", "org:OrganizationalUnit",
                                     "org:OrganizationalCollaboration"}),
    ("discipline", "information", {"skos:Concept"}), ("role", "information", {"skos:Concept"}),
])
def test_type_filters_the_results(http, kind, q, types):
    everything = search(http, q, limit=100)
    only = search(http, q, type=kind, limit=100)
    assert only["type"] == kind and 0 < only["totalItems"] < everything["totalItems"]
    assert len(only["results"]) == only["totalItems"]
    assert {r["type"] for r in only["results"]} <= types


def test_type_filter_keeps_exact_matches_first_and_pages_with_it(http):
    assert search(http, "K19", type="knowledge")["results"][0]["code"] == "K19"
    assert search(http, "K19", type="skill")["totalItems"] == 0
    disciplines = search(http, "management", type="discipline", limit=1)
    assert "type=discipline" in disciplines["next"]
    assert {r["label"] for r in search(http, "records", type="discipline")["results"]} == {"Records Management"}


def test_unknown_type_is_400_and_empty_is_any(http):
    response = http.get("/search", params={"q": "GDPR", "type": "planet"})
    assert response.status_code == 400 and "duty, knowledge" in response.json()["detail"]
    assert search(http, "GDPR", type="")["totalItems"] == search(http, "GDPR")["totalItems"]


def test_cilip_finds_the_cilip_organisation_first(http):
    first = search(http, "CILIP")["results"][0]
    assert first["id"] == ID + "org/cilip" and first["type"] == "org:FormalOrganization"
    assert first["label"] == "Chartered Institute of Library and Information Professionals"


@pytest.mark.parametrize("q,code", [("K19", "K19"), ("k19", "K19"), ("S15", "S15"), ("D2", "D2"), ("ST1337", None)])
def test_exact_code_ranks_first(http, q, code):
    first = search(http, q)["results"][0]
    if code:
        assert first["code"] == code
    else:
        assert first["id"] == ID + "standard/ST1337"


def test_words_are_all_required_and_stemmed(http):
    ids = {r["id"] for r in search(http, "data protection", limit=50)["results"]}
    assert {KSB + "K19", KSB + "S15"} <= ids
    managing = search(http, "managing records", limit=50)["results"]
    assert any("Records Management" == r.get("label") for r in managing)


@pytest.mark.parametrize("q", ['"a" OR NEAR(', '"', "AND", "OR OR", "NOT GDPR", "*", "GDPR*", "^K1", "code:K19",
                               "NEAR(a b, 2)", "((", "{x}", "K1\" } ; DROP ALL ; #", "ÿ\u0000\u0002x", "'; --"])
def test_fts_syntax_in_queries_is_just_text(http, q):
    body = search(http, q)
    assert body["query"] == q and isinstance(body["results"], list)


def test_quoted_operators_still_find_words(http):
    assert search(http, '"GDPR"')["totalItems"] == 2
    assert search(http, "GDPR)")["totalItems"] == 2


def test_paging_with_limit_and_offset(http):
    first = search(http, "management", limit=3)
    second = search(http, "management", limit=3, offset=3)
    assert first["totalItems"] == second["totalItems"] > 6
    assert len(first["results"]) == len(second["results"]) == 3
    assert not {r["id"] for r in first["results"]} & {r["id"] for r in second["results"]}
    assert "offset=3" in first["next"] and "previous" not in first and "offset=0" in second["previous"]
    assert search(http, "management", offset=5000)["results"] == []


@pytest.mark.parametrize("params", [{}, {"q": ""}, {"q": "x" * 501}, {"q": "GDPR", "limit": "0"},
                                    {"q": "GDPR", "limit": "101"}, {"q": "GDPR", "offset": "-1"},
                                    {"q": "GDPR", "sort": "asc"}])
def test_bad_parameters_are_400(http, params):
    response = http.get("/search", params=params)
    assert response.status_code == 400 and response.headers["content-type"] == "application/problem+json"


def test_html_results_mark_matches_and_escape_input(http):
    page = http.get("/search", params={"q": "CILIP"}, headers={"Accept": "text/html"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "<mark>CILIP</mark>" in page.text and 'href="/id/org/cilip"' in page.text
    hostile = http.get("/search", params={"q": "<script>alert(1)</script>", "format": "html"})
    assert hostile.status_code == 200
    assert "<script>alert" not in hostile.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in hostile.text


def test_etag_and_304(http):
    tag = http.get("/search", params={"q": "GDPR"}).headers["etag"]
    assert http.get("/search", params={"q": "GDPR"}, headers={"If-None-Match": tag}).status_code == 304
    assert http.get("/search", params={"q": "CILIP"}, headers={"If-None-Match": tag}).status_code == 200


def test_head_and_406(http):
    head = http.head("/search", params={"q": "GDPR"})
    assert head.status_code == 200 and head.content == b""
    assert http.get("/search", params={"q": "GDPR"}, headers={"Accept": "text/turtle"}).status_code == 406


def test_index_is_rebuilt_for_a_new_data_version():
    store = Store.in_memory()
    store.load(b'<https://x.org/a> <http://www.w3.org/2004/02/skos/core#prefLabel> "Alpha archive"@en .',
               "ntriples", "https://x.org/g")
    indexes = SearchIndexes(store, DataVersion())
    first = indexes.current()
    assert first.search("alpha").total == 1 and first.search("beta").total == 0
    assert indexes.current() is first  # same data version: same index
    store.update('INSERT DATA { GRAPH <https://x.org/g> { <https://x.org/b> '
                 '<https://purl.org/ctdlasn/terms/competencyText> "Beta records"@en } }')
    indexes.version.bump()
    second = indexes.current()
    assert second is not first and second.search("beta").hits[0].iri == "https://x.org/b"


def test_large_stale_index_answers_while_its_successor_is_built(monkeypatch):
    from sparql_api import search_index as search

    monkeypatch.setattr(search, "SYNC_REBUILD_DOCS", 0)
    store = Store.in_memory()
    store.load(b'<https://x.org/a> <http://www.w3.org/2004/02/skos/core#prefLabel> "Alpha"@en .',
               "ntriples", "https://x.org/g")
    indexes = SearchIndexes(store, DataVersion())
    first = indexes.current()
    store.update('INSERT DATA { GRAPH <https://x.org/g> { <https://x.org/b> '
                 '<http://www.w3.org/2004/02/skos/core#prefLabel> "Beta"@en } }')
    indexes.version.bump()
    assert indexes.current() is first  # stale, answering at once
    for _ in range(200):
        if indexes.index is not first:
            break
        time.sleep(0.01)
    assert indexes.current().search("beta").total == 1


def test_index_built_in_another_process_is_the_same(built_store_path, tmp_path):
    """The background build (a child process, writing the index to a file) answers as one built here, and
    leaves no file behind."""
    version = copy_store(built_store_path, tmp_path / "store").resolve()
    store = Store.open(version, read_only=True)
    here = SearchIndex.from_store("here", store)
    apart = SearchIndex.in_another_process("apart", store)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["store"]
    assert apart.size == here.size > 0
    for words in ("GDPR", "K19", "records management", "CILIP"):
        found = here.search(words)
        assert found.total > 0, words
        assert apart.search(words) == found
