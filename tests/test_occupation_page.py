"""The occupation-page parser against the captured OCC1337 page and a made-up page of the same layout."""

from __future__ import annotations

import pytest
from rdflib import Literal
from rdflib.namespace import DCTERMS, RDF, SKOS

from ingest.manifest import Source
from ingest.occupation_page import parse_occupation_page
from ingest.text import ParseError
from kimdata.namespaces import KIM, ORG, Iris
from tests.helpers import DATA

ST = "ST1337"
EMPLOYERS = {
    "HEE Library and Knowledge Services (LKS) North", "Barts Health NHS Trust",
    "National Institute for Health and Care Excellence", "Libraries unlimited", "Lancashire County Council",
    "Jersey Library", "Suffolk Libraries", "University of the West of England", "The Bodleian Libraries",
    "University of East London", "University of West London", "Barnsley College", "British Library",
    "Ripley Lancashire School", "Ministry of Defence", "Farrer & Co",
}


def test_level_and_occupation_code(occupation_page, iris):
    standard, occupation = iris.standard(ST), iris.occupation("OCC1337")
    assert occupation_page.value(standard, KIM.level) == Literal(7)
    assert occupation_page.value(standard, KIM.occupation) == occupation
    assert occupation_page.value(occupation, SKOS.notation) == Literal("OCC1337")
    assert (occupation, RDF.type, KIM.Occupation) in occupation_page


def test_the_st_reference_is_derived_not_asserted(occupation_page, iris):
    standard = iris.standard(ST)
    assert occupation_page.value(standard, DCTERMS.identifier) is None
    assert "OCC1337" in str(occupation_page.value(standard, SKOS.editorialNote))


def test_sixteen_trailblazer_employers_once_each(occupation_page, iris):
    standard = iris.standard(ST)
    employers = set(occupation_page.objects(standard, KIM.involvedEmployer))
    assert {str(occupation_page.value(e, SKOS.prefLabel)) for e in employers} == EMPLOYERS
    assert len(employers) == 16
    group = occupation_page.value(standard, KIM.developedBy)
    assert set(occupation_page.objects(group, ORG.hasMember)) == employers
    assert iris.org("ministry-of-defence") in employers


def test_duties_match_the_standard_page(occupation_page, standard_page, iris):
    for number in range(1, 16):
        duty = iris.duty(ST, number)
        assert occupation_page.value(duty, DCTERMS.description) == standard_page.value(duty, DCTERMS.description)
    assert occupation_page.value(iris.duty(ST, 16), DCTERMS.description) is None


def test_summary_matches_the_standard_page(occupation_page, standard_page, iris):
    standard = iris.standard(ST)
    assert occupation_page.value(standard, DCTERMS.abstract) == standard_page.value(standard, DCTERMS.abstract)


def test_lost_title_and_empty_status_are_extraction_issues(occupation_page, iris):
    standard = iris.standard(ST)
    issues = {str(occupation_page.value(i, KIM.issueCode))
              for i in occupation_page.subjects(RDF.type, KIM.ExtractionIssue)}
    assert issues == {"missing-title", "empty-status"}
    assert occupation_page.value(standard, DCTERMS.title) is None
    assert occupation_page.value(standard, KIM.status) is None


def test_another_occupation_page_of_the_same_layout():
    path = DATA / "pages" / "occupation-page-ST0999.txt"
    iris = Iris()
    graph = parse_occupation_page(path.read_text(), Source(id="made-up", kind="occupation-page", path=path), iris)
    standard = iris.standard("ST0999")
    assert graph.value(standard, DCTERMS.title) == Literal("Archive assistant", lang="en")
    assert graph.value(standard, DCTERMS.identifier) == Literal("ST0999")
    assert graph.value(standard, KIM.status) == iris.concept("standard-status", "approved-for-delivery")
    assert len(set(graph.objects(standard, KIM.involvedEmployer))) == 2
    assert len(set(graph.objects(standard, KIM.hasDuty))) == 2
    assert not list(graph.subjects(RDF.type, KIM.ExtractionIssue))


def test_a_card_with_no_level_line_still_gives_its_reference_and_its_gaps():
    text = "Occupation\nReference: OCC0001\nStatus:\nA; B\n"
    iris = Iris()
    graph = parse_occupation_page(text, Source(id="t", kind="occupation-page", path=DATA), iris)
    assert graph.value(iris.standard("ST0001"), KIM.occupation) == iris.occupation("OCC0001")
    issues = {str(graph.value(i, KIM.issueCode)) for i in graph.subjects(RDF.type, KIM.ExtractionIssue)}
    assert issues == {"empty-status"}  # "Occupation", the line above the reference, is read as its title


def test_a_text_with_no_occupation_in_it_is_a_parse_error():
    with pytest.raises(ParseError, match="no standard or occupation found"):
        parse_occupation_page("Occupation\nNothing here.\n", Source(id="t", kind="occupation-page", path=DATA), Iris())
