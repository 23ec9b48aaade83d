"""The extractor against the vendored KIM-family pages: exactly what each page prints (tests/data/family/expected.toml,
read off the pages by hand), through the build's own path, and where each capture stops."""

from __future__ import annotations

import tomllib

import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import DCTERMS, RDF, SKOS

from ingest.build import parse_source
from ingest.manifest import Source, load_manifest
from kimdata.namespaces import CEASN, KIM, KSB_MAPPING, OA, Iris
from tests.helpers import DATA

EXPECTED = tomllib.loads((DATA / "family" / "expected.toml").read_text(encoding="utf-8"))["page"]
CUT_CODES = ("truncated-statement", "truncated-duty", "truncated-duty-row", "truncated-ksb-cell", "truncated-text",
             "page-end-uncertain")


def family_sources() -> dict[str, Source]:
    """The manifest's family entries (the pages under sources/family/), by id."""
    return {source.id: source for source in load_manifest() if source.path.parent.name == "family"}


FAMILY = family_sources()


@pytest.fixture(scope="module", params=EXPECTED, ids=[p["file"].removeprefix("family/") for p in EXPECTED])
def case(request) -> tuple[dict, Graph, str]:
    page = request.param
    source = FAMILY[page["source_id"]]
    return page, parse_source(source, Iris()), source.read()


def notations(graph: Graph, nodes) -> set[str]:
    return {str(graph.value(n, SKOS.notation)) for n in nodes if graph.value(n, SKOS.notation) is not None}


def issues(graph: Graph) -> dict[str, list[URIRef]]:
    found: dict[str, list[URIRef]] = {}
    for node in graph.subjects(RDF.type, KIM.ExtractionIssue):
        found.setdefault(str(graph.value(node, KIM.issueCode)), []).append(node)
    return found


def quote_end(graph: Graph, issue: URIRef) -> int | None:
    span = graph.value(issue, KIM.evidence)
    return None if span is None else int(graph.value(URIRef(f"{span}#position"), OA.end))


def test_duties_and_codes_are_exactly_those_printed(case):
    page, graph, _ = case
    duties = {int(graph.value(d, KIM.ordinal)) for d in graph.subjects(RDF.type, KIM.Duty)}
    assert duties == set(page["duties"])
    stated = {cls: notations(graph, graph.subjects(RDF.type, cls)) for cls in (KIM.Knowledge, KIM.Skill, KIM.Behaviour)}
    mapped = {letter: {str(o).rsplit("/", 1)[1] for o in graph.objects(None, prop)}
              for letter, prop in KSB_MAPPING.items()}
    assert stated[KIM.Knowledge] | mapped["K"] == set(page["knowledge"])
    assert stated[KIM.Skill] | mapped["S"] == set(page["skills"])
    assert stated[KIM.Behaviour] | mapped["B"] == set(page["behaviours"])
    assert sum(len(v) for v in stated.values()) == page["counts"]["statements"]


def test_pairs_are_exactly_those_printed(case):
    page, graph, _ = case
    pairs = {(str(graph.value(d, SKOS.notation)), str(k).rsplit("/", 1)[1])
             for prop in KSB_MAPPING.values() for d, k in graph.subject_objects(prop)}
    expected = {(duty, code) for duty, codes in page.get("pairs", {}).items() for code in codes}
    assert pairs == expected
    assert len(pairs) == page["counts"]["pairs"]


def test_statements_and_duties_keep_the_printed_words(case):
    page, graph, _ = case
    iris, standard = Iris(), page["standard"]
    for code, text in page.get("statement_text", {}).items():
        assert str(graph.value(iris.ksb(standard, code[0], int(code[1:])), CEASN.competencyText)) == text, code
    for duty, text in page.get("duty_text", {}).items():
        assert str(graph.value(iris.duty(standard, int(duty[1:])), DCTERMS.description)) == text, duty


def test_key_information_is_what_the_page_prints(case):
    page, graph, _ = case
    iris = Iris()
    standard = iris.standard(page["standard"])
    title = graph.value(standard, DCTERMS.title)
    assert (str(title) if title is not None else None) == page.get("title")
    level = graph.value(standard, KIM.level)
    assert (int(level) if level is not None else None) == page.get("level")
    version = graph.value(standard, KIM.version)
    assert (str(version) if version is not None else None) == page.get("version")
    reference = page.get("reference")
    identifier = graph.value(standard, DCTERMS.identifier)
    occupation = graph.value(standard, KIM.occupation)
    printed = reference if reference and reference.startswith("ST") else None
    assert (str(identifier) if identifier is not None else None) == printed
    assert occupation == (iris.occupation(reference) if reference and reference.startswith("OCC") else None)
    employers = {str(graph.value(e, SKOS.prefLabel)) for e in graph.objects(standard, KIM.involvedEmployer)}
    assert employers == set(page.get("employers", []))
    titles = {str(t) for t in graph.objects(standard, KIM.typicalJobTitle)}
    assert titles == set(page.get("typical_job_titles", []))
    if "overview" in page and graph.value(standard, KIM.overviewOfRole) is not None:
        assert str(graph.value(standard, KIM.overviewOfRole)) == page["overview"]


def test_what_the_capture_lost_is_an_issue(case):
    page, graph, _ = case
    found = issues(graph)
    iris = Iris()
    for number in page.get("ksb_cell_missing", []):
        duty = iris.duty(page["standard"], number)
        assert graph.value(duty, KIM.ksbCellState) == iris.concept("ksb-cell-state", "missing")
        assert duty in {graph.value(i, KIM.affects) for i in found["missing-ksb-cell"]}
    unstated = {str(graph.value(i, KIM.issueCode)) and i.rsplit("/", 1)[1] for i in found.get("unstated-ksb", [])}
    assert unstated == set(page.get("mapped_not_stated", []))
    if page.get("uncoded_knowledge"):
        assert found.get("uncoded-statements")
        assert f"{len(page['uncoded_knowledge'])} statements" in str(graph.value(found["uncoded-statements"][0],
                                                                                DCTERMS.description))


def test_where_the_capture_stops_is_reported_at_its_last_character(case):
    page, graph, text = case
    found = issues(graph)
    end = len(text.rstrip())
    at_end = [(code, node) for code in CUT_CODES for node in found.get(code, []) if quote_end(graph, node) == end]
    if page.get("complete"):
        assert not [code for code, node in at_end if code != "page-end-uncertain"]
    else:
        assert at_end, f"no issue marks the cut at {page['cut_text'][-30:]!r}"
