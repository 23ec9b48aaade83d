"""The standard-page parser against the captured ST1337 page and a made-up page of the same layout."""

from __future__ import annotations

import re

import pytest
from rdflib import Literal, URIRef
from rdflib.namespace import DCTERMS, RDF, SKOS

from ingest.manifest import Source
from ingest.standard_page import parse_standard_page
from ingest.text import ParseError
from kimdata.namespaces import CEASN, KIM, KSB_MAPPING, OA, Iris
from tests.helpers import DATA

ST = "ST1337"


def codes(graph, subject, prop):
    return sorted((str(graph.value(o, SKOS.notation)) if graph.value(o, SKOS.notation) else str(o).rsplit("/", 1)[1])
                  for o in graph.objects(subject, prop))


def mapped(graph, iris, number):
    duty = iris.duty(ST, number)
    return {str(o).rsplit("/", 1)[1] for prop in KSB_MAPPING.values() for o in graph.objects(duty, prop)}


def test_counts_of_duties_and_ksbs(standard_page):
    assert len(set(standard_page.subjects(RDF.type, KIM.Duty))) == 15
    assert len(set(standard_page.subjects(RDF.type, KIM.Knowledge))) == 27
    assert len(set(standard_page.subjects(RDF.type, KIM.Skill))) == 27
    assert len(set(standard_page.subjects(RDF.type, KIM.Behaviour))) == 6


def test_codes_are_notations_as_published(standard_page, iris):
    assert standard_page.value(iris.duty(ST, 2), SKOS.notation) == Literal("D2")
    assert standard_page.value(iris.ksb(ST, "K", 19), SKOS.notation) == Literal("K19")
    assert standard_page.value(iris.ksb(ST, "S", 3), SKOS.notation) == Literal("S3")
    assert standard_page.value(iris.ksb(ST, "B", 1), SKOS.notation) == Literal("B1")


def test_every_ksb_statement_is_the_source_text(standard_page, sources, iris):
    text = sources["standard-page"].read()
    expected = {m.group(1) + m.group(2): m.group(3) for m in re.finditer(r"^([KSB])(\d+): (.*)$", text, re.M)}
    assert len(expected) == 60
    for code, statement in expected.items():
        ksb = iris.ksb(ST, code[0], int(code[1:]))
        assert standard_page.value(ksb, CEASN.competencyText) == Literal(statement, lang="en"), code


def test_every_duty_statement_is_the_source_text(standard_page, sources, iris):
    text = sources["standard-page"].read()
    expected = {int(m.group(1)): m.group(2) for m in re.finditer(r"^Duty (\d+) (.*) \|$", text, re.M)}
    assert sorted(expected) == list(range(1, 16))
    for number, statement in expected.items():
        assert standard_page.value(iris.duty(ST, number), DCTERMS.description) == Literal(statement, lang="en")


def test_mapping_has_202_pairs(standard_page):
    pairs = [t for prop in KSB_MAPPING.values() for t in standard_page.triples((None, prop, None))]
    assert len(pairs) == 202


def test_duty_2_maps_its_nine_knowledge_codes(standard_page, iris):
    assert mapped(standard_page, iris, 2) == {"K1", "K2", "K3", "K4", "K11", "K16", "K19", "K20", "K25"}


def test_duty_11_maps_31_codes_with_16_skills(standard_page, iris):
    codes_11 = mapped(standard_page, iris, 11)
    assert len(codes_11) == 31
    assert len({c for c in codes_11 if c.startswith("S")}) == 16
    assert {"S3", "S26", "K6", "K26"} <= codes_11


def test_mapping_pairs_match_the_table_row_by_row(standard_page, sources, iris):
    text = sources["standard-page"].read()
    rows = re.findall(r"^Duty (\d+) .* \|\n((?:[KSB]\d+ )*)\|$", text, re.M)
    assert len(rows) == 14  # duty 15 has no cell
    for number, cell in rows:
        assert mapped(standard_page, iris, int(number)) == set(cell.split()), number


def test_no_duty_maps_a_behaviour(standard_page):
    assert not list(standard_page.triples((None, KIM.mapsToBehaviour, None)))


def test_unmapped_ksbs_are_the_documented_ones(standard_page, iris):
    used = {str(o).rsplit("/", 1)[1] for prop in KSB_MAPPING.values() for o in standard_page.objects(None, prop)}
    every = {str(s).rsplit("/", 1)[1] for cls in (KIM.Knowledge, KIM.Skill, KIM.Behaviour)
             for s in standard_page.subjects(RDF.type, cls)}
    assert every - used == {"S1", "S2", "S5", "S6", "S8", "S9", "S10", "S15", "S19", "S25", "S27",
                            "B1", "B2", "B3", "B4", "B5", "B6"}


@pytest.mark.parametrize("number,state", [(1, "empty"), (9, "empty"), (15, "missing"), (2, "listed"), (14, "listed")])
def test_ksb_cell_state_tells_lost_cells_apart(standard_page, iris, number, state):
    assert standard_page.value(iris.duty(ST, number), KIM.ksbCellState) == iris.concept("ksb-cell-state", state)


def test_lost_cells_are_extraction_issues_not_mappings(standard_page, iris):
    issues = {(str(standard_page.value(i, KIM.issueCode)), standard_page.value(i, KIM.affects))
              for i in standard_page.subjects(RDF.type, KIM.ExtractionIssue)}
    assert issues == {
        ("empty-ksb-cell", iris.duty(ST, 1)),
        ("empty-ksb-cell", iris.duty(ST, 9)),
        ("missing-ksb-cell", iris.duty(ST, 15)),
        ("empty-professional-recognition", iris.standard(ST)),
    }


def test_status_comes_from_the_banner_with_its_evidence(standard_page, iris):
    standard = iris.standard(ST)
    assert standard_page.value(standard, KIM.status) == iris.concept("standard-status", "in-development")
    quotes = {str(q) for q in standard_page.objects(None, OA.exact)}
    assert "This apprenticeship is in development and is subject to change" in quotes


def test_the_page_states_no_title_reference_or_duration(standard_page, iris):
    standard = iris.standard(ST)
    for prop in (DCTERMS.title, DCTERMS.identifier, KIM.typicalDuration, KIM.route, KIM.level):
        assert standard_page.value(standard, prop) is None, prop


def test_every_span_quotes_the_document_exactly(standard_page, sources):
    text = sources["standard-page"].read()
    spans = list(standard_page.subjects(RDF.type, KIM.TextSpan))
    assert len(spans) >= 15 + 60 + 14  # duties, KSBs, the cells present
    for span in spans:
        position, quote = URIRef(f"{span}#position"), URIRef(f"{span}#quote")
        start, end = int(standard_page.value(position, OA.start)), int(standard_page.value(position, OA.end))
        assert text[start:end] == str(standard_page.value(quote, OA.exact))


def test_every_duty_and_ksb_cites_its_source(standard_page, iris, sources):
    document = iris.source(sources["standard-page"].id)
    for cls in (KIM.Duty, KIM.Knowledge, KIM.Skill, KIM.Behaviour):
        for entity in standard_page.subjects(RDF.type, cls):
            assert (entity, URIRef("http://www.w3.org/ns/prov#wasDerivedFrom"), document) in standard_page
            assert standard_page.value(entity, KIM.evidence) is not None


def test_navigation_residue_never_reaches_a_literal(standard_page):
    for literal in standard_page.objects():
        if isinstance(literal, Literal) and literal.language:
            assert "Back to Duty" not in literal and "|" not in literal


def made_up_source(path) -> Source:
    return Source(id="made-up", kind="standard-page", path=path)


def test_another_standard_of_the_same_layout():
    path = DATA / "pages" / "standard-page-ST0999.txt"
    iris = Iris()
    graph = parse_standard_page(path.read_text(), made_up_source(path), iris)
    standard = iris.standard("ST0999")
    assert graph.value(standard, DCTERMS.identifier) == Literal("ST0999")
    assert graph.value(standard, KIM.level) == Literal(4)
    assert graph.value(standard, KIM.status) == iris.concept("standard-status", "approved-for-delivery")
    assert graph.value(standard, KIM.typicalDurationMonths) == Literal(18)
    assert str(graph.value(standard, KIM.epaPeriod)) == "P3M"
    assert graph.value(standard, KIM.route) == iris.concept("route", "digital")
    assert str(graph.value(standard, DCTERMS.modified)) == "2025-02-01"
    assert graph.value(standard, KIM.professionalRecognition) == iris.org(
        "archives-and-records-association-for-foundation-membership")
    assert str(graph.value(standard, KIM.entryRequirements)).startswith("Apprentices will typically need")
    assert str(graph.value(standard, DCTERMS.abstract)).count("\n") == 1
    assert set(graph.objects(iris.duty("ST0999", 2), KIM.mapsToSkill)) == {iris.ksb("ST0999", "S", 2)}
    issues = [str(graph.value(i, KIM.issueCode)) for i in graph.subjects(RDF.type, KIM.ExtractionIssue)]
    assert issues == ["missing-title"]  # key information but no title: the one thing the page lacks


def parse_text(text: str):
    source = Source(id="t", kind="standard-page", path=DATA / "x", occupation="OCC0001")
    return parse_standard_page(text, source, Iris())


def issue_codes(graph) -> set[tuple[str, str]]:
    return {(str(graph.value(i, KIM.issueCode)), str(graph.value(graph.value(i, KIM.affects), SKOS.notation)))
            for i in graph.subjects(RDF.type, KIM.ExtractionIssue)}


def test_a_page_with_no_standard_in_it_is_a_parse_error(tmp_path):
    with pytest.raises(ParseError, match="no standard or occupation found"):
        parse_standard_page("Some text\nMore text\n", Source(id="t", kind="standard-page", path=tmp_path), Iris())


def test_a_manifest_page_with_nothing_readable_is_a_source_that_says_so():
    graph = parse_text("Some text\nMore text\n")  # the manifest names its occupation: it is a source of ST0001
    assert {code for code, _ in issue_codes(graph)} == {"nothing-read"}


def test_a_bad_code_in_a_cell_is_an_issue_quoting_it_and_the_good_codes_are_kept(iris):
    text = "Duty | KSBs |\n---|---|\nDuty 1 Do things. |\nK1 X9 |\nK1: Things.\nS1: Doing.\nB1: Caring.\n"
    graph = parse_text(text)
    assert set(graph.objects(iris.duty("ST0001", 1), KIM.mapsToKnowledge)) == {iris.ksb("ST0001", "K", 1)}
    assert issue_codes(graph) == {("unreadable-ksb-code", "D1")}
    assert "X9" in {str(q) for q in graph.objects(None, OA.exact)}


def test_a_page_cut_after_the_table_reports_what_it_lost():
    text = "Duty | KSBs |\n---|---|\nDuty 1 Do things. |\nK1 |\nDuty 2 Do more. |\n"
    graph = parse_text(text)
    assert issue_codes(graph) == {("missing-ksb-cell", "D2"), ("unstated-ksb", "D1")}


def test_a_page_without_reference_or_occupation_is_read_under_a_name_of_its_own(tmp_path):
    text = "Duty | KSBs |\n---|---|\nDuty 1 Do things. |\nK1 |\nK1: Things.\n"
    iris = Iris()
    graph = parse_standard_page(text, Source(id="t", kind="standard-page", path=tmp_path), iris)
    assert (iris.duty("unreferenced-t", 1), RDF.type, KIM.Duty) in graph
    assert "missing-reference" in {code for code, _ in issue_codes(graph)}
