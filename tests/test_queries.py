"""The named queries of queries/: each parses, says what it answers, declares its parameters, and answers right
on our data."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef

from kimdata.paths import QUERIES_DIR
from sparql_api.named_queries import NamedQueryError, bind, load_queries, with_values
from store.embedded import Store

QUERIES = load_queries()
HOSTILE = 'K1" } ; DROP ALL ; #'


def run(store: Store, name: str, iris, **values: str) -> list[dict]:
    """Run a named query with its example values, overridden by ``values``."""
    query = QUERIES[name]
    raw = {**query.examples(iris), **values}
    return store.select(query.text, substitutions=bind(query, raw))


def codes(rows: list[dict], key: str = "code") -> list[str]:
    return [str(row[key]) for row in rows]


ID = "https://w3id.org/uk-kim/id/"


def of_st1337(rows: list[dict], key: str) -> list[dict]:
    """The rows about ST1337 (the default build holds the KIM family's standards too)."""
    return [row for row in rows if str(row[key]).startswith(f"{ID}standard/ST1337")]


def test_there_are_at_least_ten_named_queries():
    assert len(QUERIES) >= 10


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_query_parses_and_runs_on_an_empty_store(name, iris):
    assert run(Store.in_memory(), name, iris) == []


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_query_has_a_summary_sentence(name):
    summary = QUERIES[name].summary
    assert summary[0].isupper() and summary.endswith(".") and len(summary.split()) >= 5


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_query_declares_its_params_with_examples_and_projects_them(name, iris):
    query = QUERIES[name]
    assert all(p.example is not None for p in query.params), "every parameter needs an example"
    solutions = Store.in_memory().query(query.text, substitutions=bind(query, query.examples(iris)))
    projected = {v.value for v in solutions.variables}
    # pyoxigraph 0.5.13 refuses a substituted variable outside the projection; this says which one
    assert {p.name for p in query.params} <= projected


@pytest.mark.parametrize("name", sorted(n for n, q in QUERIES.items() if q.params))
def test_query_text_with_example_values_answers_as_the_bound_query(name, built_store, iris):
    """The editor shows the example values as a VALUES block; running that text gives the same answer."""
    query = QUERIES[name]
    shown = with_values(query, bind(query, query.examples(iris)))
    assert built_store.select(shown) == run(built_store, name, iris) != []


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_query_is_listed_in_the_readme(name):
    assert f"`{name}`" in (QUERIES_DIR / "README.md").read_text(encoding="utf-8")


def test_every_query_has_an_expected_result_test():
    tested = {name.removeprefix("test_").replace("_", "-") for name in globals() if name.startswith("test_")}
    assert set(QUERIES) <= tested


# ---------------------------------------------------------------- one expected result per query

def test_ksbs_of_duty(built_store, iris):
    rows = run(built_store, "ksbs-of-duty", iris, duty=str(iris.duty("ST1337", 2)))
    assert codes(rows) == ["K1", "K2", "K3", "K4", "K11", "K16", "K19", "K20", "K25"]
    assert {str(row["type"]) for row in rows} == {"Knowledge"}
    assert all(row["duty"] == iris.duty("ST1337", 2) for row in rows)


def test_duties_needing_ksb(built_store, iris):
    rows = run(built_store, "duties-needing-ksb", iris, code="K19")
    assert codes(rows, "dutyCode") == ["D2", "D3", "D4", "D5", "D6", "D7", "D8", "D10", "D13", "D14"]
    assert {row["ksb"] for row in rows} == {iris.ksb("ST1337", "K", 19)}


def test_unmapped_ksbs(built_store, iris):
    rows = of_st1337(run(built_store, "unmapped-ksbs", iris), "standard")
    skills = ["S1", "S2", "S5", "S6", "S8", "S9", "S10", "S15", "S19", "S25", "S27"]
    assert codes(rows) == skills + [f"B{n}" for n in range(1, 7)]


def test_unmapped_duties(built_store, iris):
    rows = of_st1337(run(built_store, "unmapped-duties", iris), "standard")
    assert [(str(r["code"]), str(r["cellStateConcept"]).rsplit("/", 1)[1]) for r in rows] == [
        ("D1", "empty"), ("D9", "empty"), ("D15", "missing")]


def test_ksbs_mentioning_term(built_store, iris):
    rows = run(built_store, "ksbs-mentioning-term", iris, term="gdpr")
    assert codes(rows) == ["K19", "S15"]
    k19, s15 = rows
    assert sorted(str(k19["duties"]).split(), key=lambda c: int(c[1:])) == [
        "D2", "D3", "D4", "D5", "D6", "D7", "D8", "D10", "D13", "D14"]
    assert str(s15["duties"]) == ""


def test_duty_coverage_by_type(built_store, iris):
    rows = run(built_store, "duty-coverage-by-type", iris, standard=str(iris.standard("ST1337")))
    counts = {str(r["code"]): (int(r["knowledgeCount"]), int(r["skillCount"]), int(r["behaviourCount"])) for r in rows}
    assert codes(rows) == [f"D{n}" for n in range(1, 16)]
    assert counts["D2"] == (9, 0, 0)
    assert counts["D11"] == (15, 16, 0)
    assert counts["D1"] == counts["D9"] == counts["D15"] == (0, 0, 0)


def test_networks_of_body(built_store, iris):
    rows = run(built_store, "networks-of-body", iris, body=str(iris.org("cilip")))
    assert {str(r["name"]) for r in rows} == {
        "Government Information Group", "Knowledge and Information Special Interest Group"}
    assert iris.org("government-information-group") in {r["network"] for r in rows}


def test_networks_of_body_follows_sub_groups(built_store, iris):
    rows = run(built_store, "networks-of-body", iris, body=str(iris.org("cdl")))
    assert {str(r["name"]) for r in rows} == {"Copyright Practitioners Group", "Procurement Practitioners Group"}


def test_gkim_disciplines_and_roles(built_store, iris):
    rows = run(built_store, "gkim-disciplines-and-roles", iris)
    by_kind: dict[str, list[str]] = {}
    for row in rows:
        by_kind.setdefault(str(row["kind"]), []).append(str(row["label"]))
    assert by_kind["discipline"] == [
        "Information Architecture", "Information Management", "Information Rights",
        "Knowledge Management", "Library Management", "Records Management"]
    assert len(by_kind["core role"]) == 6 and "Information architect" in by_kind["core role"]
    assert sorted(by_kind["allied role"]) == ["Archivist", "Data scientist", "Historian", "Information risk manager"]


SEMAPV = "https://w3id.org/semapv/vocab/"
SKOS_NS = "http://www.w3.org/2004/02/skos/core#"


def test_ksbs_of_discipline(built_store, iris):
    rows = run(built_store, "ksbs-of-discipline", iris)
    assert {str(r["disciplineName"]) for r in rows} == {"Records Management"}
    assert {str(r["relation"]) for r in rows} == {SKOS_NS + "relatedMatch"}
    assert {"ST0904 K1", "ST0904 K3", "ST0664 K9"} <= set(codes(rows))
    assert {str(r["method"]) for r in rows} == {SEMAPV + "LexicalMatching",
                                                SEMAPV + "SemanticSimilarityThresholdMatching"}
    confidences = [float(r["confidence"]) for r in rows]
    assert confidences == sorted(confidences, reverse=True)


def test_progression_between_standards(built_store, iris):
    rows = run(built_store, "progression-between-standards", iris)
    assert all(str(r["fromCode"]).startswith("ST0664 ") and str(r["toCode"]).startswith("ST1337 ") for r in rows)
    k4 = {str(r["toCode"]) for r in rows if str(r["fromCode"]) == "ST0664 K4"}
    assert {"ST1337 K19", "ST1337 S15"} <= k4  # copyright, IP, licensing, data protection
    assert len(run(built_store, "progression-between-standards", iris,
                   **{"from": iris.id + "standard/ST0904"})) > 0


def test_esco_skills_of_ksb(built_store, iris):
    rows = run(built_store, "esco-skills-of-ksb", iris)
    gdpr = "http://data.europa.eu/esco/skill/d3e9b00a-0891-4fa8-836d-8240ec3d2758"
    assert gdpr in {str(r["skill"]) for r in rows}
    assert all(str(r["matchedText"]) for r in rows)
    assert sorted(int(r["rank"]) for r in rows if "Lexical" in str(r["method"])) == [1, 2, 3, 4, 5]


def test_standards_of_esco_occupation(built_store, iris):
    rows = run(built_store, "standards-of-esco-occupation", iris)  # the ESCO occupation librarian
    assert {str(r["standard"]).rsplit("/", 1)[1] for r in rows} == {"ST1337", "ST0664"}
    assert all(str(r["matchedText"]).startswith("librarian ") for r in rows)


def test_provenance_of_statement(built_store, iris, sources):
    rows = run(built_store, "provenance-of-statement", iris, entity=str(iris.ksb("ST1337", "K", 19)))
    assert len(rows) == 1
    row = rows[0]
    source = sources["standard-page"]
    assert row["source"] == iris.source(source.id)
    assert row["graph"] == iris.source_graph(source.id)
    assert str(row["licence"]) == source.licence
    start, end = int(row["start"]), int(row["end"])
    assert str(row["exact"]) == source.read()[start:end]
    assert "General Data Protection Regulation (GDPR)" in str(row["exact"])


def test_provenance_of_statement_without_quotes(built_store, iris):
    """A fact from the Civil Service World article: cited, never quoted."""
    rows = run(built_store, "provenance-of-statement", iris, entity=str(iris.concept("kim-role", "historian")))
    assert len(rows) == 1 and "exact" not in rows[0] and "licence" not in rows[0]
    assert str(rows[0]["sourceTitle"]).startswith("Custodians of government's history")


def test_extraction_issues(built_store, iris, sources):
    everything = run(built_store, "extraction-issues", iris)
    st1337_pages = {iris.source(sources[kind].id) for kind in ("standard-page", "occupation-page")}
    rows = [row for row in everything if row.get("source") in st1337_pages]
    assert len(everything) == 46  # ST1337's six and the KIM family's forty
    assert sorted(str(r["issueCode"]) for r in rows) == sorted([
        "empty-ksb-cell", "empty-ksb-cell", "missing-ksb-cell", "empty-professional-recognition",
        "empty-status", "missing-title"])
    cells = {str(r["affectedCode"]): str(r["issueCode"]) for r in rows if "affectedCode" in r}
    assert cells == {"D1": "empty-ksb-cell", "D9": "empty-ksb-cell", "D15": "missing-ksb-cell"}
    assert all("exact" in r and int(r["start"]) < int(r["end"]) for r in rows)


def test_trailblazer_employers(built_store, iris):
    rows = run(built_store, "trailblazer-employers", iris, standard=str(iris.standard("ST1337")))
    names = [str(r["name"]) for r in rows]
    assert len(names) == 16 and names == sorted(names)
    assert {"British Library", "Ministry of Defence", "Farrer & Co"} <= set(names)
    assert {r["group"] for r in rows} == {iris.org("trailblazer-st1337")}


def test_standard_summary(built_store, iris):
    rows = run(built_store, "standard-summary", iris, standard=str(iris.standard("ST1337")))
    assert len(rows) == 1
    summary = {key: str(value) for key, value in rows[0].items()}
    assert summary["title"] == "Library, information and knowledge management professional"
    assert (summary["reference"], summary["level"], summary["status"]) == ("ST1337", "7", "In development")
    assert (summary["durationMonths"], summary["epaMonths"]) == ("36", "5")
    counts = ("duties", "knowledgeCount", "skillCount", "behaviourCount", "mappings", "extractionIssues")
    assert tuple(int(summary[c]) for c in counts) == (15, 27, 27, 6, 202, 6)


def test_long_statements(built_store, iris):
    rows = of_st1337(run(built_store, "long-statements", iris, chars="200"), "item")
    assert codes(rows) == ["D7", "K19", "D11"]
    assert [int(r["length"]) for r in rows] == sorted((int(r["length"]) for r in rows), reverse=True)
    assert all(int(r["length"]) > 200 for r in rows)
    assert len(of_st1337(run(built_store, "long-statements", iris, chars="100"), "item")) > len(rows)


def test_validation_findings(built_store, iris):
    rows = of_st1337(run(built_store, "validation-findings", iris), "focus")
    r07 = {str(r["focusCode"]) for r in rows if str(r["rule"]) == "R07"}
    assert r07 == {"S1", "S2", "S5", "S6", "S8", "S9", "S10", "S15", "S19", "S25", "S27",
                   "B1", "B2", "B3", "B4", "B5", "B6"}
    r06 = {str(r["focusCode"]) for r in rows if str(r["rule"]) == "R06"}
    assert r06 == {"D1", "D9", "D15"}
    assert {str(r["severity"]) for r in rows} <= {"Violation", "Warning", "Info"}
    assert str(rows[0]["severity"]) == "Violation"


def test_source_documents(built_store, iris, sources):
    rows = run(built_store, "source-documents", iris)
    assert {r["source"] for r in rows} == {iris.source(s.id) for key, s in sources.items() if key == s.id}
    csw = next(r for r in rows if str(r["publisher"]) == "Civil Service World")
    assert "licence" not in csw and "not open-licensed" in str(csw["rights"])
    assert all(int(r["entities"]) > 0 for r in rows)


# ---------------------------------------------------------------- values are bound, never pasted

@pytest.mark.parametrize("name, param", [("duties-needing-ksb", "code"), ("ksbs-mentioning-term", "term")])
def test_hostile_value_matches_nothing(built_store, iris, name, param):
    before = len(built_store)
    assert run(built_store, name, iris, **{param: HOSTILE}) == []
    assert len(built_store) == before


def test_hostile_value_leaves_a_writable_store_unchanged(iris):
    store = Store.in_memory()
    graph = Graph()
    ksb = iris.ksb("ST1337", "K", 1)
    graph.add((iris.standard("ST1337"), URIRef("https://w3id.org/uk-kim/def#hasKSB"), ksb))
    graph.add((ksb, URIRef("http://www.w3.org/2004/02/skos/core#notation"), Literal("K1")))
    store.add_graph(str(iris.graph("test")), graph)
    for name, param in (("duties-needing-ksb", "code"), ("ksbs-mentioning-term", "term")):
        assert run(store, name, iris, **{param: HOSTILE}) == []
    assert len(store) == 4  # two triples, in their graph and in the merged default graph


@pytest.mark.parametrize("value", ["standard/ST1337", "javascript:alert(1)", "https://x.org/a b", "https://x.org/>"])
def test_iri_param_rejects_what_is_not_an_absolute_http_iri(value):
    with pytest.raises(ValueError, match="standard"):
        bind(QUERIES["trailblazer-employers"], {"standard": value})


def test_integer_param_rejects_non_integers():
    with pytest.raises(ValueError, match="chars"):
        bind(QUERIES["long-statements"], {"chars": "200 } ; DROP ALL"})


def test_load_queries_rejects_a_query_without_summary(tmp_path: Path):
    (tmp_path / "no-summary.rq").write_text("SELECT * WHERE { ?s ?p ?o }\n")
    with pytest.raises(NamedQueryError, match="summary"):
        load_queries(tmp_path)


def test_load_queries_rejects_a_param_the_query_does_not_use(tmp_path: Path):
    (tmp_path / "q.rq").write_text("#+ summary: Everything there is.\n#+ params: x:iri\nSELECT ?s WHERE { ?s ?p ?o }\n")
    with pytest.raises(NamedQueryError, match="'x'"):
        load_queries(tmp_path)


def test_load_queries_rejects_an_unknown_param_type(tmp_path: Path):
    (tmp_path / "q.rq").write_text("#+ summary: Everything there is.\n#+ params: s:node\n"
                                   "SELECT ?s WHERE { ?s ?p ?o }\n")
    with pytest.raises(NamedQueryError, match="node"):
        load_queries(tmp_path)
