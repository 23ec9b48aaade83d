"""The coverage matrix and conformance report of a standard: JSON and HTML over a real server, escaping in-process."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import httpx
import pytest
from rdflib import Graph, Namespace

from store.embedded import Store

# rdflib's own JSON-LD and N-Quads parsers use its deprecated ConjunctiveGraph internally.
pytestmark = pytest.mark.filterwarnings("ignore:.*is deprecated:DeprecationWarning")

SH = Namespace("http://www.w3.org/ns/shacl#")
DUTY_2 = ["K1", "K2", "K3", "K4", "K11", "K16", "K19", "K20", "K25"]
UNMAPPED_DUTIES = [{"code": "D1", "cellState": "empty"}, {"code": "D9", "cellState": "empty"},
                   {"code": "D15", "cellState": "missing"}]
UNMAPPED_SKILLS = ["S1", "S2", "S5", "S6", "S8", "S9", "S10", "S15", "S19", "S25", "S27"]
UNMAPPED_BEHAVIOURS = ["B1", "B2", "B3", "B4", "B5", "B6"]


@pytest.fixture(scope="module")
def client(pages_server):
    with httpx.Client(base_url=pages_server, timeout=30) as http:
        yield http


@pytest.fixture(scope="module")
def matrix(client) -> dict:
    response = client.get("/standards/ST1337/coverage")
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    return response.json()


def test_coverage_json_is_the_default_and_names_the_standard(matrix):
    assert matrix["standard"] == "https://w3id.org/uk-kim/id/standard/ST1337"
    assert matrix["reference"] == "ST1337"
    assert matrix["title"] == "Library, information and knowledge management professional"


def test_coverage_lists_duties_in_order_with_their_codes(matrix):
    assert [d["code"] for d in matrix["duties"]] == [f"D{n}" for n in range(1, 16)]
    duty_2 = matrix["duties"][1]
    assert duty_2["knowledge"] == DUTY_2 and duty_2["skills"] == [] and duty_2["behaviours"] == []
    assert duty_2["cellState"] == "listed"
    assert duty_2["statement"].startswith("Analyse, manipulate and interpret data")
    duty_11 = next(d for d in matrix["duties"] if d["code"] == "D11")
    assert len(duty_11["skills"]) == 16 and len(duty_11["knowledge"]) + len(duty_11["skills"]) == 31


def test_coverage_reports_unmapped_duties_with_their_cell_states(matrix):
    assert matrix["unmappedDuties"] == UNMAPPED_DUTIES
    by_code = {d["code"]: d for d in matrix["duties"]}
    for gap in UNMAPPED_DUTIES:
        duty = by_code[gap["code"]]
        assert duty["knowledge"] == duty["skills"] == duty["behaviours"] == []


def test_coverage_reports_unmapped_ksbs(matrix):
    assert [k["code"] for k in matrix["unmappedKsbs"]] == UNMAPPED_SKILLS + UNMAPPED_BEHAVIOURS
    assert {k["type"] for k in matrix["unmappedKsbs"]} == {"skill", "behaviour"}


def test_coverage_ksbs_are_grouped_by_type_and_agree_with_the_duties(matrix):
    ksbs = matrix["ksbs"]
    assert [k["code"] for k in ksbs] == ([f"K{n}" for n in range(1, 28)] + [f"S{n}" for n in range(1, 28)]
                                         + [f"B{n}" for n in range(1, 7)])
    pairs_from_duties = {(d["code"], c) for d in matrix["duties"] for key in ("knowledge", "skills", "behaviours")
                         for c in d[key]}
    pairs_from_ksbs = {(d, k["code"]) for k in ksbs for d in k["duties"]}
    assert pairs_from_duties == pairs_from_ksbs and len(pairs_from_duties) == 202
    k27 = next(k for k in ksbs if k["code"] == "K27")
    assert k27["duties"] == ["D13"] and k27["type"] == "knowledge"


def test_coverage_html_is_a_matrix_with_the_gaps_marked(client):
    response = client.get("/standards/ST1337/coverage", headers={"Accept": "text/html"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    page = response.text
    assert page.count("✓</td>") == 202
    for code in ("D1", "D9", "D15"):
        assert re.search(rf'<tr id="row-{code}" class="unmapped-duty" data-unmapped="true">', page), code
    assert '<tr id="row-D2">' in page
    assert 'data-cell-state="missing"' in page and page.count('data-cell-state="empty"') == 2
    for code in UNMAPPED_SKILLS + UNMAPPED_BEHAVIOURS:
        assert re.search(rf'<th scope="col" id="col-{code}" class="[^"]*unmapped-ksb"', page), code
    assert 'id="col-K1" class="type-knowledge"' in page
    assert 'class="legend"' in page


def test_coverage_of_an_unknown_standard_is_404_and_a_bad_reference_400(client):
    missing = client.get("/standards/ST9999/coverage")
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"
    bad = client.get("/standards/ST1337x/coverage")
    assert bad.status_code == 400 and bad.headers["content-type"] == "application/problem+json"
    assert client.get("/standards/ST1337/coverage", headers={"Accept": "text/csv"}).status_code == 406


def test_coverage_is_cacheable(client):
    first = client.get("/standards/ST1337/coverage")
    assert "etag" in first.headers and "Accept" in first.headers["vary"]
    again = client.get("/standards/ST1337/coverage", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304


# ------------------------------------------------------------------ grouped by GKIM discipline


def committed_disciplines() -> dict[str, set[str]]:
    """Each ST1337 duty or KSB -> the disciplines a committed mapping set relates it to with a SKOS relation."""
    from align.mapping_sets import read_tsv
    from kimdata.paths import CURATED_DIR

    found: dict[str, set[str]] = {}
    for path in sorted((CURATED_DIR / "alignments").glob("*.sssom.tsv")):
        for row in read_tsv(path)[1]:
            if (row["target"] == "discipline" and not row["predicate_id"].endswith("#seeAlso")
                    and row["subject_id"].startswith("https://w3id.org/uk-kim/id/standard/ST1337/")):
                found.setdefault(row["subject_id"], set()).add(row["object_id"])
    return found


@pytest.fixture(scope="module")
def grouped(client) -> dict:
    response = client.get("/standards/ST1337/coverage", params={"group": "discipline"})
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    return response.json()


def test_grouped_coverage_puts_each_row_under_the_disciplines_of_the_mapping_sets(grouped):
    expected = committed_disciplines()
    rm = "https://w3id.org/uk-kim/id/scheme/gkim-discipline/records-management"
    assert rm in expected["https://w3id.org/uk-kim/id/standard/ST1337/ksb/K9"]  # semantic-minilm, 0.51
    by_discipline = {g["discipline"]: g for g in grouped["groups"]}
    assert by_discipline[rm]["name"] == "Records Management"
    assert "K9" in [k["code"] for k in by_discipline[rm]["ksbs"]]
    k9 = next(k for k in by_discipline[rm]["ksbs"] if k["code"] == "K9")
    assert {a["mappingSet"].rsplit("/", 1)[-1] for a in k9["alignedBy"]} == {"semantic-minilm"}
    assert all(a["relation"] != "seeAlso" for a in k9["alignedBy"])
    members = {d: {m["id"] for m in g["duties"] + g["ksbs"]} for d, g in by_discipline.items() if d is not None}
    assert members == {d: {item for item, ds in expected.items() if d in ds} for d in {x for v in expected.values()
                                                                                        for x in v}}
    rows = {r["id"] for r in grouped["duties"] + grouped["ksbs"]}
    not_aligned = by_discipline[None]
    assert not_aligned["name"] == "not aligned" and grouped["groups"][-1] is not_aligned
    assert {m["id"] for m in not_aligned["duties"] + not_aligned["ksbs"]} == rows - set(expected)
    assert grouped["grouping"]["by"] == "discipline"
    assert [m.rsplit("/", 1)[-1] for m in grouped["grouping"]["mappingSets"]] == ["lexical-bm25", "semantic-minilm"]


def test_grouped_counts_add_up_to_the_rows_once_per_group(grouped):
    expected = committed_disciplines()
    rows = grouped["duties"] + grouped["ksbs"]
    for group in grouped["groups"]:
        assert group["count"] == len(group["duties"]) + len(group["ksbs"])
    assert sum(g["count"] for g in grouped["groups"]) == sum(max(1, len(expected.get(r["id"], ()))) for r in rows)
    assert sum(g["count"] for g in grouped["groups"]) > len(rows)  # some rows are aligned to two disciplines
    placed = {m["id"] for g in grouped["groups"] for m in g["duties"] + g["ksbs"]}
    assert placed == {r["id"] for r in rows}


def test_grouped_coverage_html_groups_the_rows_and_offers_the_switch(client, grouped):
    plain = client.get("/standards/ST1337/coverage", headers={"Accept": "text/html"}).text
    assert 'href="/standards/ST1337/coverage?group=discipline"' in plain and 'id="by-discipline"' not in plain
    page = client.get("/standards/ST1337/coverage?group=discipline", headers={"Accept": "text/html"}).text
    assert re.search(r'href="/standards/ST1337/coverage\?group=discipline" aria-current="page"', page)
    section = page[page.index('id="by-discipline"'):]
    for group in grouped["groups"]:
        slug = (group["discipline"] or "not-aligned").rsplit("/", 1)[-1]
        tbody = re.search(rf'<tbody id="group-{slug}"[^>]* data-count="(\d+)"', page)
        assert tbody and int(tbody.group(1)) == len(group["duties"]), slug
        table = re.search(rf'<table class="alignments discipline-members" data-discipline="{group["discipline"] or ""}"'
                          rf' data-count="(\d+)">(.*?)</table>', section, re.S)
        assert table and int(table.group(1)) == group["count"], slug
        assert sorted(re.findall(r'<tr data-code="([^"]+)">', table.group(2))) == sorted(
            m["code"] for m in group["duties"] + group["ksbs"])
    assert page.count("✓</td>") == sum(len(d["knowledge"]) + len(d["skills"]) + len(d["behaviours"])
                                       for g in grouped["groups"] for d in grouped["duties"]
                                       if d["code"] in {m["code"] for m in g["duties"]})


def test_group_takes_only_discipline(client):
    for params in ({"group": "standard"}, {"group": ""}, {"grouping": "discipline"}):
        response = client.get("/standards/ST1337/coverage", params=params)
        assert response.status_code == 400, params
        assert response.headers["content-type"] == "application/problem+json"
    document = client.get("/openapi.json").json()
    parameters = document["paths"]["/standards/{reference}/coverage"]["get"]["parameters"]
    group = next(p for p in parameters if p["name"] == "group")
    assert group["in"] == "query" and not group.get("required")
    schemas = [group["schema"], *group["schema"].get("anyOf", [])]
    assert any(s.get("enum") == ["discipline"] for s in schemas)


def test_grouped_and_plain_coverage_have_different_etags(client):
    plain = client.get("/standards/ST1337/coverage").headers["etag"]
    grouped = client.get("/standards/ST1337/coverage?group=discipline").headers["etag"]
    assert plain != grouped


# ------------------------------------------------------------------ conformance report


@pytest.fixture(scope="module")
def conformance(client) -> dict:
    response = client.get("/standards/ST1337/conformance")
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    return response.json()


def test_conformance_report_has_the_builds_findings_for_the_standard(conformance):
    assert conformance["conforms"] is False
    r06 = [f["code"] for f in conformance["findings"] if f["rule"] == "R06"]
    r07 = [f["code"] for f in conformance["findings"] if f["rule"] == "R07"]
    assert r06 == ["D1", "D9", "D15"]
    assert sorted(r07) == sorted(UNMAPPED_SKILLS + UNMAPPED_BEHAVIOURS)
    assert conformance["counts"]["Violation"] == 20
    severities = [f["severity"] for f in conformance["findings"]]
    assert severities == sorted(severities, key=["Violation", "Warning", "Info"].index)


def test_conformance_report_keeps_extraction_issues_apart(conformance):
    issues = {(i["issueCode"], i["affectedCode"]) for i in conformance["extractionIssues"]}
    assert {("empty-ksb-cell", "D1"), ("empty-ksb-cell", "D9"), ("missing-ksb-cell", "D15")} <= issues
    assert any(i["issueCode"] == "missing-title" for i in conformance["extractionIssues"])
    assert all(i["quote"] for i in conformance["extractionIssues"])
    assert not {f["rule"] for f in conformance["findings"]} & {i["issueCode"] for i in conformance["extractionIssues"]}


def test_conformance_report_as_turtle_is_a_validation_report(client, conformance):
    response = client.get("/standards/ST1337/conformance", headers={"Accept": "text/turtle"})
    assert response.status_code == 200
    graph = Graph().parse(data=response.text, format="turtle")
    report = next(graph.subjects(SH.conforms, None))
    assert graph.value(report, SH.conforms).toPython() is False
    assert len(set(graph.objects(report, SH.result))) == len(conformance["findings"])
    jsonld = client.get("/standards/ST1337/conformance", headers={"Accept": "application/ld+json"})
    assert len(Graph().parse(data=jsonld.text, format="json-ld")) == len(graph)


def test_conformance_html_groups_by_severity_and_lists_issues(client):
    page = client.get("/standards/ST1337/conformance", headers={"Accept": "text/html"}).text
    findings = page[page.index('id="findings"'):page.index('id="extraction-issues"')]
    assert findings.count('data-rule="R07"') == 17
    assert 'data-issue="missing-ksb-cell"' in page[page.index('id="extraction-issues"'):]
    assert 'href="/id/standard/ST1337/duty/1"' in findings


# ------------------------------------------------------------------ escaping, in-process

HOSTILE = """
@prefix kim: <https://w3id.org/uk-kim/def#> . @prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix dcterms: <http://purl.org/dc/terms/> . @prefix ceasn: <https://purl.org/ctdlasn/terms/> .
<https://w3id.org/uk-kim/id/standard/ST0666> a kim:OccupationalStandard ;
    dcterms:title "<script>alert('title')</script>"@en ;
    kim:hasDuty <https://w3id.org/uk-kim/id/standard/ST0666/duty/1> ;
    kim:hasKSB <https://w3id.org/uk-kim/id/standard/ST0666/ksb/K1> .
<https://w3id.org/uk-kim/id/standard/ST0666/duty/1> a kim:Duty ; skos:notation "D1" ; kim:ordinal 1 ;
    dcterms:description "Write <img src=x onerror=alert(1)> & \\"quote\\" things."@en ;
    kim:mapsToKnowledge <https://w3id.org/uk-kim/id/standard/ST0666/ksb/K1> .
<https://w3id.org/uk-kim/id/standard/ST0666/ksb/K1> a kim:Knowledge ; skos:notation "K1" ; kim:ordinal 1 ;
    ceasn:competencyText "\\"><b>bold</b>"@en .
"""


def serve_in_process(store: Store, requests: list[tuple[str, str]]) -> list[httpx.Response]:
    """Answer GETs with the app over ``store``, in this process (lifespan included)."""
    from sparql_api.app import create_app
    from sparql_api.settings import Settings

    app = create_app(Settings(workers=0, public_url="http://kim.test/"), store=store)

    async def run():
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://kim.test") as http:
                return [await http.get(path, headers={"Accept": accept}) for path, accept in requests]

    return asyncio.run(run())


def test_html_pages_escape_the_data():
    store = Store.in_memory()
    store.load(HOSTILE.encode(), "turtle", "https://w3id.org/uk-kim/graph/source/hostile")
    coverage, home = serve_in_process(store, [("/standards/ST0666/coverage", "text/html"), ("/", "text/html")])
    assert coverage.status_code == 200 and home.status_code == 200
    for page in (coverage.text, home.text):
        assert "<script>" not in page and "<img src=x" not in page and "<b>bold</b>" not in page
    assert "&lt;img src=x onerror=alert(1)&gt; &amp; &#34;quote&#34;" in coverage.text
    assert "&#34;&gt;&lt;b&gt;bold&lt;/b&gt;" in coverage.text  # inside the column's title attribute
    assert "&lt;script&gt;alert(&#39;title&#39;)&lt;/script&gt;" in home.text


def test_conformance_without_a_stored_report_runs_the_shapes_afresh():
    from ingest.build import CONCEPTS
    from ingest.curated import parse_concepts
    from kimdata.namespaces import Iris

    store = Store.in_memory()
    data = (Path(__file__).parent / "data" / "validate" / "conforming-standard.ttl").read_bytes()
    store.load(data, "turtle", "https://w3id.org/uk-kim/graph/source/upload")
    store.add_graph("https://w3id.org/uk-kim/graph/concepts", parse_concepts(CONCEPTS, Iris()))
    (response,) = serve_in_process(store, [("/standards/ST0998/conformance", "application/json")])
    report = response.json()
    assert report["findingsFrom"] == "fresh validation" and report["conforms"] is True
    assert {(f["rule"], f["severity"]) for f in report["findings"]} == {("W05", "Info"), ("W06", "Info")}
    assert len(report["findings"]) == 4 and report["extractionIssues"] == []


def test_conformance_report_is_only_about_its_own_standard():
    from conformance.fast import check_graph

    store = Store.in_memory()
    conforming = (Path(__file__).parent / "data" / "validate" / "conforming-standard.ttl").read_bytes()
    store.load(conforming, "turtle", "https://w3id.org/uk-kim/graph/source/a")
    issue = (b"<urn:issue> a <https://w3id.org/uk-kim/def#ExtractionIssue> ; "
             b"<https://w3id.org/uk-kim/def#issueCode> \"empty-ksb-cell\" ; "
             b"<https://w3id.org/uk-kim/def#affects> <https://w3id.org/uk-kim/id/standard/ST0666/duty/1> .")
    store.load(HOSTILE.encode() + issue, "turtle", "https://w3id.org/uk-kim/graph/source/b")
    data = Graph()
    for name in ("a", "b"):
        data += store.graph(f"https://w3id.org/uk-kim/graph/source/{name}")
    store.add_graph("https://w3id.org/uk-kim/graph/validation", check_graph(data).graph)
    good, bad = (r.json() for r in serve_in_process(store, [("/standards/ST0998/conformance", "application/json"),
                                                            ("/standards/ST0666/conformance", "application/json")]))
    assert good["findingsFrom"] == "graph/validation" and good["conforms"] is True
    assert all("/ST0998" in f["focus"] for f in good["findings"]) and good["extractionIssues"] == []
    assert bad["conforms"] is False and all("/ST0666" in f["focus"] for f in bad["findings"])
    assert [i["issueCode"] for i in bad["extractionIssues"]] == ["empty-ksb-cell"]
