"""Named queries as endpoints against a real server: typed parameters, bound values, formats, OpenAPI."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import httpx
import pytest

from sparql_api.named_queries import load_queries

QUERIES = load_queries()
ID = "https://w3id.org/uk-kim/id/"
DUTY_2 = ID + "standard/ST1337/duty/2"
ST1337 = ID + "standard/ST1337"
HOSTILE = 'K1" } ; DROP ALL ; #'
DUTY_2_CODES = ["K1", "K2", "K3", "K4", "K11", "K16", "K19", "K20", "K25"]


@pytest.fixture(scope="module")
def http(api_server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=api_server, timeout=30) as client:
        yield client


def bindings(response: httpx.Response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/sparql-results+json")
    return [{k: v["value"] for k, v in row.items()} for row in response.json()["results"]["bindings"]]


def triples(http: httpx.Client) -> int:
    return http.get("/health").json()["triples"]


def test_list_names_every_query_with_typed_parameters(http, api_server):
    listed = {q["name"]: q for q in http.get("/queries").json()["queries"]}
    assert set(listed) == set(QUERIES)
    duty = listed["ksbs-of-duty"]
    assert duty["summary"] == QUERIES["ksbs-of-duty"].summary
    assert duty["parameters"] == [{"name": "duty", "type": "iri", "required": True, "example": DUTY_2}]
    assert duty["url"] == api_server + "/queries/ksbs-of-duty"
    assert listed["long-statements"]["parameters"][0]["type"] == "integer"


def test_ksbs_of_duty_2(http):
    rows = bindings(http.get("/queries/ksbs-of-duty", params={"duty": DUTY_2}))
    assert [r["code"] for r in rows] == DUTY_2_CODES
    assert all(r["duty"] == DUTY_2 for r in rows)


def test_duties_needing_k19(http):
    rows = bindings(http.get("/queries/duties-needing-ksb", params={"standard": ST1337, "code": "K19"}))
    assert len({r["duty"] for r in rows}) == 10


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_every_query_answers_with_its_example_values(http, name):
    query = QUERIES[name]
    response = http.get(f"/queries/{name}", params=query.examples())
    assert response.status_code == 200, response.text
    head = response.json()["head"]["vars"]
    assert {p.name for p in query.params} <= set(head)


@pytest.mark.parametrize("name,params", [
    ("duties-needing-ksb", {"standard": ST1337, "code": HOSTILE}),
    ("ksbs-mentioning-term", {"term": HOSTILE}),
])
def test_hostile_value_is_just_a_value(http, name, params):
    before = triples(http)
    rows = bindings(http.get(f"/queries/{name}", params=params))
    assert rows == []
    assert triples(http) == before > 0
    assert http.get("/queries/ksbs-of-duty", params={"duty": DUTY_2}).status_code == 200


def test_hostile_value_for_an_iri_parameter_is_400_naming_it(http):
    response = http.get("/queries/ksbs-of-duty", params={"duty": HOSTILE})
    assert response.status_code == 400 and response.headers["content-type"] == "application/problem+json"
    assert "duty" in response.json()["detail"]


@pytest.mark.parametrize("path,params,named", [
    ("/queries/ksbs-of-duty", {}, "duty"),
    ("/queries/duties-needing-ksb", {"standard": ST1337}, "code"),
    ("/queries/long-statements", {"chars": "many"}, "chars"),
    ("/queries/long-statements", {"chars": "1" * 30}, "chars"),
    ("/queries/networks-of-body", {"body": "cilip"}, "body"),
    ("/queries/unmapped-ksbs", {"standard": ST1337}, "standard"),
])
def test_missing_or_bad_parameter_is_400_naming_it(http, path, params, named):
    response = http.get(path, params=params)
    assert response.status_code == 400 and response.headers["content-type"] == "application/problem+json"
    assert named in response.json()["detail"]


def test_unknown_query_is_404_problem(http):
    response = http.get("/queries/drop-everything")
    assert response.status_code == 404 and response.headers["content-type"] == "application/problem+json"
    assert "drop-everything" in response.json()["detail"]


@pytest.mark.parametrize("how", [{"headers": {"Accept": "text/csv"}}, {"params": {"format": "csv"}}])
def test_csv_output(http, how):
    params = {"duty": DUTY_2, **how.get("params", {})}
    response = http.get("/queries/ksbs-of-duty", params=params, headers=how.get("headers"))
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["code"] for r in rows] == DUTY_2_CODES
    assert list(rows[0]) == ["duty", "code", "type", "statement", "ksb"]


def test_html_table_for_browsers(http):
    response = http.get("/queries/ksbs-of-duty", params={"duty": DUTY_2},
                        headers={"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert ">K25<" in response.text and 'href="/id/standard/ST1337/ksb/K25"' in response.text
    listing = http.get("/queries", headers={"Accept": "text/html"})
    assert listing.status_code == 200 and 'action="/queries/ksbs-of-duty"' in listing.text


def test_etag_gives_304_for_a_current_copy(http):
    first = http.get("/queries/ksbs-of-duty", params={"duty": DUTY_2, "format": "csv"})
    tag = first.headers["etag"]
    again = http.get("/queries/ksbs-of-duty", params={"duty": DUTY_2, "format": "csv"}, headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == tag
    other = http.get("/queries/ksbs-of-duty", params={"duty": DUTY_2}, headers={"If-None-Match": tag})
    assert other.status_code == 200 and other.headers["etag"] != tag


def test_head_and_406(http):
    head = http.head("/queries/ksbs-of-duty", params={"duty": DUTY_2})
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-type"].startswith("application/sparql-results+json")
    refused = http.get("/queries/ksbs-of-duty", params={"duty": DUTY_2}, headers={"Accept": "image/png"})
    assert refused.status_code == 406


def test_openapi_describes_every_query_with_parameters_and_examples(http):
    spec = http.get("/openapi.json").json()
    operation_ids = []
    for name, query in QUERIES.items():
        operation = spec["paths"][f"/queries/{name}"]["get"]
        operation_ids.append(operation["operationId"])
        assert operation["summary"] == query.summary
        params = {p["name"]: p for p in operation["parameters"]}
        examples = query.examples()
        for p in query.params:
            documented = params[p.name]
            assert documented["required"] is True and documented["in"] == "query"
            assert documented["schema"]["type"] == ("integer" if p.type == "integer" else "string")
            shown = documented["examples"]["example"]["value"]
            assert str(shown) == examples[p.name]
        assert "format" in params and not params["format"]["required"]
    assert len(set(operation_ids)) == len(operation_ids)
    assert "/queries" in spec["paths"]
