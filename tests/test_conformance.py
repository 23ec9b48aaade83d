"""What the shapes find on our own data: the findings conformance.md section 3.2 lists, no more, no less."""

from __future__ import annotations

import pytest

from conformance.reference import check
from ingest.build import source_graphs, validation_input, vocabulary_graphs
from ingest.manifest import load_manifest

pytestmark = pytest.mark.slow  # each test runs pyshacl over the sources

PARSED = {"57c36d939ff65b92", "90e2aad157d3105b"}
# ST1337's sources: its two pages and the three curated documents (the KIM family's pages are left out here)
ST1337_SOURCES = PARSED | {"73081f443c3f820b", "08ea021e16e92f40", "2671f4ff48c7fd80"}
UNMAPPED_KSBS = {"S1", "S2", "S5", "S6", "S8", "S9", "S10", "S15", "S19", "S25", "S27",
                 "B1", "B2", "B3", "B4", "B5", "B6"}
KNOWLEDGE_ONLY_DUTIES = {"D2", "D3", "D4", "D5", "D6", "D7", "D8", "D10", "D12", "D13", "D14"}
ST = "ST1337"


def expected(parsed_only: bool) -> set[tuple[str, str, str]]:
    """(severity, rule, focus code or IRI) of every finding section 3.2 expects."""
    findings = {("Violation", "R06", d) for d in ("D1", "D9", "D15")}
    findings |= {("Violation", "R07", k) for k in UNMAPPED_KSBS}
    findings |= {("Warning", "R13", ST), ("Warning", "R16", ST), ("Warning", "W09", ST)}
    findings |= {("Warning", "W09", d) for d in KNOWLEDGE_ONLY_DUTIES}
    if parsed_only:
        findings |= {("Violation", "R01", ST), ("Violation", "R02", ST), ("Violation", "R12", ST)}
    return findings


@pytest.fixture(scope="module")
def graphs(iris):
    return vocabulary_graphs(iris) + source_graphs([s for s in load_manifest() if s.id in ST1337_SOURCES], iris)


def findings_of(report, severities=("Violation", "Warning")):
    return {(f.severity, f.rule, f.code or f.focus.rsplit("/", 1)[1]) for f in report.findings
            if f.severity in severities}


def test_parsed_pages_alone_break_exactly_the_documented_rules(graphs, iris):
    parsed = [g for g in graphs if not g.is_data or str(g.iri).rsplit("/", 1)[1] in PARSED]
    report = check(validation_input(parsed))
    assert findings_of(report) == expected(parsed_only=True)
    r13 = {f.message for f in report.findings if f.rule == "R13"}
    assert any("route" in m for m in r13)


def test_with_the_public_page_facts_only_the_mapping_findings_remain(graphs):
    report = check(validation_input(graphs))
    assert findings_of(report) == expected(parsed_only=False)
    assert not {f.rule for f in report.findings} & {"R01", "R02", "R03", "R04", "R12"}
    assert not any(f.rule == "R13" and "route" in f.message for f in report.findings)


def test_info_findings_are_the_typical_size_and_length_notes(graphs):
    report = check(validation_input(graphs))
    info = {(f.rule, f.code) for f in report.findings if f.severity == "Info"}
    assert info == {("W06", "ST1337"), ("W08", "D7"), ("W08", "D11"), ("W08", "K19")}


def test_extraction_issues_are_not_conformance_findings(graphs):
    report = check(validation_input(graphs))
    assert all("issue/" not in f.focus for f in report.findings)
