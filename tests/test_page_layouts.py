"""The page extractor on one made-up page per layout (tests/data/pages/): exactly what each prints, as a graph."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import DCTERMS, RDF, SKOS

from ingest.manifest import Source
from ingest.page_blocks import read_page
from ingest.page_extract import extract
from ingest.page_graph import media_of, page_graph
from kimdata.namespaces import CEASN, KIM, KSB_MAPPING, OA, Iris
from tests.helpers import DATA

PAGES = DATA / "pages"


def graph_of(path: Path) -> tuple[Graph, str]:
    """The page's graph, and the text its spans count in (for HTML, its text content)."""
    text = path.read_text(encoding="utf-8")
    record = extract(text, media_of(path, text))
    return page_graph(record, Source(id="example", kind="standard-page", path=path), Iris()), record.page.text


def facts(graph: Graph) -> dict:
    """What a page's graph says, in plain values: the shape every expectation below is written in."""
    standard = next(graph.subjects(RDF.type, KIM.OccupationalStandard))

    def one(prop):
        value = graph.value(standard, prop)
        if value is None:
            return None
        return str(value).rsplit("/", 1)[-1] if isinstance(value, URIRef) else value.toPython()

    duties = {int(graph.value(d, KIM.ordinal)): str(graph.value(d, DCTERMS.description))
              for d in graph.subjects(RDF.type, KIM.Duty)}
    cells = {int(graph.value(d, KIM.ordinal)): str(graph.value(d, KIM.ksbCellState)).rsplit("/", 1)[-1]
             for d in graph.subjects(RDF.type, KIM.Duty) if graph.value(d, KIM.ksbCellState) is not None}
    statements = {str(graph.value(k, SKOS.notation)): str(graph.value(k, CEASN.competencyText))
                  for cls in (KIM.Knowledge, KIM.Skill, KIM.Behaviour) for k in graph.subjects(RDF.type, cls)}
    pairs = {(str(graph.value(d, SKOS.notation)), str(k).rsplit("/", 1)[1])
             for prop in KSB_MAPPING.values() for d, k in graph.subject_objects(prop)}
    issues = {(str(graph.value(i, KIM.issueCode)), str(i).rsplit("/", 1)[1])
              for i in graph.subjects(RDF.type, KIM.ExtractionIssue)}
    return {
        "standard": str(standard).rsplit("/", 1)[1], "title": one(DCTERMS.title), "level": one(KIM.level),
        "version": one(KIM.version), "status": one(KIM.status), "identifier": one(DCTERMS.identifier),
        "occupation": one(KIM.occupation), "route": one(KIM.route),
        "employers": sorted(str(graph.value(e, SKOS.prefLabel)) for e in graph.objects(standard, KIM.involvedEmployer)),
        "job_titles": sorted(str(t) for t in graph.objects(standard, KIM.typicalJobTitle)),
        "duties": duties, "cells": cells, "statements": statements, "pairs": pairs, "issues": issues,
    }


NO_FACTS = {"title": None, "level": None, "version": None, "status": None, "identifier": None, "occupation": None,
            "route": None, "employers": [], "job_titles": [], "cells": {}, "issues": set()}

EXPECTED = {
    "ifate-standard-page.html": {
        **NO_FACTS, "standard": "ST0998", "title": "Records officer", "level": 4, "version": "1.1",
        "status": "approved-for-delivery", "identifier": "ST0998", "route": "legal-finance-and-accounting",
        "job_titles": ["Information officer", "Records officer"],
        "duties": {1: "Maintain the records management system so that records can be found.",
                   2: "Apply retention schedules & dispose of records securely.",
                   3: "Answer requests for information within the time the law allows."},
        "cells": {1: "listed", 2: "listed", 3: "empty"},
        "statements": {"K1": "Records management principles and the records lifecycle.",
                       "K2": "Retention and disposal law, including the Public Records Act.",
                       "S1": "Classify records using a business classification scheme.",
                       "S2": "Dispose of records following an approved schedule.",
                       "B1": "Treats information with discretion.", "B2": "Works methodically and keeps to deadlines."},
        "pairs": {("D1", "K1"), ("D1", "K2"), ("D1", "S1"), ("D1", "B1"),
                  ("D2", "K2"), ("D2", "S2"), ("D2", "B1"), ("D2", "B2")},
        "issues": {("empty-ksb-cell", "D3")},
    },
    "archived-standard-page.html": {
        **NO_FACTS, "standard": "ST0997", "title": "Digital archivist", "level": 6, "version": "1.0",
        "status": "retired", "identifier": "ST0997",
        "duties": {1: "Appraise born-digital collections offered to the archive.",
                   2: "Preserve digital records in a trusted repository.", 3: "Provide access to digital records."},
        "cells": {1: "listed", 2: "listed", 3: "missing"},
        "statements": {"K1": "Appraisal theory and collecting policies.",
                       "K2": "Digital preservation standards such as OAIS.",
                       "K3": "File formats and their risks.", "S1": "Write an appraisal report.",
                       "S2": "Run fixity checks.", "B1": "Acts with integrity."},
        "pairs": {("D1", "K1"), ("D1", "S1"), ("D1", "B1"), ("D2", "K2"), ("D2", "K3"), ("D2", "S2")},
        "issues": {("missing-ksb-cell", "D3")},
    },
    "pipe-table.md": {
        **NO_FACTS, "standard": "ST0996", "title": "Knowledge officer", "level": 5, "status": "in-development",
        "identifier": "ST0996",
        "duties": {1: "Capture lessons learned at the end of each project.",
                   2: "Run communities of practice across the organisation."},
        "cells": {1: "listed", 2: "listed"},
        "statements": {"K1": "Knowledge capture techniques.", "K2": "How communities of practice form and last.",
                       "S1": "Facilitate a retrospective.", "S2": "Moderate an online community.",
                       "S3": "Write a knowledge article.", "B1": "Shares what they know."},
        "pairs": {("D1", "K1"), ("D1", "S1"), ("D1", "B1"), ("D2", "K2"), ("D2", "S2"), ("D2", "S3"), ("D2", "B1")},
    },
    "flattened-occupation.txt": {
        **NO_FACTS, "standard": "ST0995", "title": "Library assistant", "level": 3, "status": "approved-for-delivery",
        "occupation": "OCC0995", "employers": ["City University", "County Libraries", "The Book Trust"],
        "job_titles": ["Library and information assistant", "Library assistant"],
        "duties": {1: "Issue and return items for library users", 2: "Help users find information"},
        "cells": {1: "listed", 2: "listed"},
        "statements": {"K1": "The library management system and its circulation functions.",
                       "K2": "Data protection as it applies to user records.",
                       "K3": "Catalogues, indexes and online sources.", "S1": "Use the library management system.",
                       "S2": "Conduct a reference interview.", "S3": "Search online sources.",
                       "B1": "Is welcoming to every user.", "B2": "Keeps up to date with new sources."},
        "pairs": {("D1", "K1"), ("D1", "K2"), ("D1", "S1"), ("D1", "B1"),
                  ("D2", "K3"), ("D2", "S2"), ("D2", "S3"), ("D2", "B1"), ("D2", "B2")},
    },
    "codes-next-line.txt": {
        **NO_FACTS, "standard": "ST0994", "title": "Information governance officer", "level": 4, "version": "1",
        "status": "approved-for-delivery", "identifier": "ST0994",
        "duties": {1: "Keep the information asset register up to date", 2: "Handle subject access requests",
                   3: "Report data breaches to the data protection officer"},
        "cells": {1: "listed", 2: "listed", 3: "missing"},
        "statements": {"K1": "Information asset management.", "K2": "Data protection law.",
                       "K3": "Freedom of information law.", "S1": "Maintain a register.", "S2": "Redact documents.",
                       "B1": "Respects confidentiality.", "B2": "Acts promptly."},
        "pairs": {("D1", "K1"), ("D1", "K2"), ("D1", "S1"), ("D1", "B1"),
                  ("D2", "K2"), ("D2", "K3"), ("D2", "S2"), ("D2", "B1"), ("D2", "B2")},
        "issues": {("missing-ksb-cell", "D3")},
    },
    "codes-same-line.txt": {
        **NO_FACTS, "standard": "ST0993", "title": "Data steward", "identifier": "ST0993",
        "duties": {1: "Define data quality rules with data owners.", 2: "Monitor data quality and report issues."},
        "cells": {1: "listed", 2: "listed"},
        "statements": {"K1": "Data quality dimensions.", "K2": "Metadata standards.", "S1": "Write data quality rules.",
                       "S2": "Build a data quality dashboard.", "B1": "Takes ownership of data issues."},
        "pairs": {("D1", "K1"), ("D1", "S1"), ("D1", "B1"), ("D2", "K1"), ("D2", "K2"), ("D2", "S2")},
    },
    "duty-list.txt": {
        **NO_FACTS, "standard": "ST0992", "title": "Research librarian", "identifier": "ST0992",
        "duties": {1: "Search literature for clinical teams.", 2: "Teach information literacy sessions.",
                   3: "Manage journal subscriptions."},
        "statements": {"K1": "Search strategies for bibliographic databases.", "K2": "Critical appraisal methods.",
                       "S1": "Build a search strategy.", "B1": "Works with clinicians as a peer."},
        "pairs": set(),
    },
    "occupation-card.html": {
        **NO_FACTS, "standard": "ST0991", "title": "Knowledge manager", "level": 6, "status": "approved-for-delivery",
        "occupation": "OCC0991", "route": "business-and-administration",
        "employers": ["City Council", "Health Library Network", "Law Firm Partners LLP"],
        "duties": {}, "statements": {}, "pairs": set(),
    },
    "cut-short.txt": {
        **NO_FACTS, "standard": "ST0990", "title": "Archive conservator", "identifier": "ST0990",
        "duties": {1: "Assess the condition of items before they are handled.", 2: "Clean and repair paper items."},
        "cells": {1: "listed", 2: "listed"},
        "statements": {"K1": "Agents of deterioration.", "K2": "Paper chemistry and repair materials.",
                       "S1": "Write a condition report.",
                       "S2": "Repair a tear with wheat starch paste and Japanese tis"},
        "pairs": {("D1", "K1"), ("D1", "S1"), ("D2", "K2"), ("D2", "S2"), ("D2", "B1")},
        "issues": {("truncated-statement", "S2"), ("unstated-ksb", "B1"), ("no-behaviour-statements", "B-list")},
    },
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_layout_gives_exactly_what_the_page_prints(name):
    graph, _ = graph_of(PAGES / name)
    assert facts(graph) == EXPECTED[name]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_span_quotes_the_page_text_exactly(name):
    graph, text = graph_of(PAGES / name)
    spans = list(graph.subjects(RDF.type, KIM.TextSpan))
    assert spans
    for span in spans:
        start = int(graph.value(URIRef(f"{span}#position"), OA.start))
        end = int(graph.value(URIRef(f"{span}#position"), OA.end))
        assert text[start:end] == str(graph.value(URIRef(f"{span}#quote"), OA.exact))


def test_every_duty_and_statement_has_its_evidence():
    graph, _ = graph_of(PAGES / "ifate-standard-page.html")
    for cls in (KIM.Duty, KIM.Knowledge, KIM.Skill, KIM.Behaviour):
        for node in graph.subjects(RDF.type, cls):
            assert graph.value(node, KIM.evidence) is not None, node


def test_an_html_page_says_what_its_positions_count():
    graph, _ = graph_of(PAGES / "ifate-standard-page.html")
    document = Iris().source("example")
    assert str(graph.value(document, DCTERMS["format"])) == "text/html"


def test_html_wrapping_gives_the_same_facts_as_the_text():
    text = (PAGES / "codes-same-line.txt").read_text()
    html = "<html><body>" + "".join(f"<p>{line}</p>\n" for line in text.splitlines()) + "</body></html>"
    as_text, as_html = extract(text), extract(html, "text/html")
    assert [(d.number, d.text, [c.name for c in d.codes]) for d in as_html.duties] == \
        [(d.number, d.text, [c.name for c in d.codes]) for d in as_text.duties]
    assert [(s.name, s.text) for s in as_html.statements] == [(s.name, s.text) for s in as_text.statements]


def test_script_style_and_comments_are_not_text():
    page = read_page("<html><head><style>p{}</style></head><body><!-- K9: hidden --><script>var K1 = 1;</script>"
                     "<p>K1: Shown.</p></body></html>", "text/html")
    assert [b.text for b in page.blocks] == ["K1: Shown."]


def test_a_text_with_nothing_of_a_standard_is_not_recognised():
    assert not extract("Opening hours\nMonday to Friday, 9 to 5.\n").recognised()
    assert not extract("<html><body><p>Opening hours</p></body></html>").recognised()


def test_doctests_of_the_extractor_pass():
    import doctest

    from ingest import page_blocks, page_card, page_duties, page_fields, page_ksbs, page_record

    for module in (page_blocks, page_card, page_duties, page_fields, page_ksbs, page_record):
        failures, _ = doctest.testmod(module)
        assert failures == 0, module.__name__
