"""Tests of the conformance shapes (shapes/*.ttl) and of conformance.reference, the pyshacl wrapper."""

from __future__ import annotations

import re
from pathlib import Path

import pyshacl
import pytest
from rdflib import Dataset, Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import RDF, RDFS, SKOS

from conformance.reference import ShapesError, check, load_shapes
from kimdata.namespaces import KIM, KIMSH, SH

CASES_DIR = Path(__file__).parent / "data" / "shapes"
CASE_FILE = re.compile(r"^(?P<shape>.+)-(?P<kind>valid|invalid-\d{2})\.ttl$")
CASE_FILES = sorted(CASES_DIR.glob("*.ttl"))
TARGETS = (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf, SH.target)
SEVERITY_NAMES = {SH.Violation: "Violation", SH.Warning: "Warning", SH.Info: "Info"}


@pytest.fixture(scope="module")
def shapes() -> Graph:
    return load_shapes()


def rule_shapes(shapes: Graph) -> set:
    """Shapes that produce results: every shape with a target, plus property shapes hung on one."""
    targeted = {s for t in TARGETS for s in shapes.subjects(t, None)}
    return targeted | {p for s in targeted for p in shapes.objects(s, SH.property)}


def local(iri) -> str:
    return str(iri).rsplit("#", 1)[-1]


# ---------------------------------------------------------------- shape cases (one file pair per shape)


@pytest.mark.parametrize("path", CASE_FILES, ids=[p.stem for p in CASE_FILES])
def test_shape_case(path: Path, shapes: Graph):
    match = CASE_FILE.match(path.name)
    assert match, f"case file name must be <Shape>-valid.ttl or <Shape>-invalid-NN.ttl: {path.name}"
    shape = KIMSH[match["shape"]]
    assert shape in rule_shapes(shapes), f"{path.name} names no shape in shapes/"
    findings = [f for f in check(Graph().parse(path), shapes).findings if f.shape == str(shape)]
    if match["kind"] == "valid":
        assert findings == []
    else:
        assert findings, f"{local(shape)} did not fire on {path.name}"
        expected = SEVERITY_NAMES[shapes.value(shape, SH.severity)]
        assert {f.severity for f in findings} == {expected}
        assert {f.rule for f in findings} == {local(shape).split("-")[0]}


def test_every_shape_has_a_valid_and_an_invalid_case(shapes: Graph):
    names = {p.name for p in CASE_FILES}
    missing = [
        f"{local(s)}-{kind}.ttl"
        for s in rule_shapes(shapes)
        for kind in ("valid", "invalid-01")
        if f"{local(s)}-{kind}.ttl" not in names
    ]
    assert missing == []


def test_every_rule_shape_is_named_severe_and_sourced(shapes: Graph):
    for shape in rule_shapes(shapes):
        assert isinstance(shape, URIRef) and shape.startswith(str(KIMSH)), f"unnamed result-producing shape {shape}"
        name = local(shape)
        assert re.fullmatch(r"[RW]\d{2}-[a-z0-9]+(-[a-z0-9]+)*", name), name
        rule = name.split("-")[0]
        assert list(shapes.objects(shape, SH.severity)) in ([SH.Violation], [SH.Warning], [SH.Info]), name
        messages = [str(m) for m in shapes.objects(shape, SH.message)]
        assert len(messages) == 1 and messages[0].startswith(rule + " "), name
        comment = str(shapes.value(shape, RDFS.comment) or "")
        assert "http" in comment or "conformance.md" in comment, f"{name} does not cite its source"


def test_shapes_graph_is_valid_shacl(shapes: Graph):
    # pyshacl's meta-SHACL run checks the shapes against the SHACL-for-SHACL shapes graph.
    conforms, _, text = pyshacl.validate(Graph(), shacl_graph=shapes, meta_shacl=True, advanced=True, inference="none")
    assert conforms, text


def test_sparql_constraints_declare_prefixes_and_sit_on_named_shapes(shapes: Graph):
    for shape, constraint in shapes.subject_objects(SH.sparql):
        assert isinstance(shape, URIRef)
        assert shapes.value(constraint, SH.prefixes) == KIMSH.prefixes
        # Severity and message belong on the shape: pyshacl ignores a constraint's own sh:severity.
        assert shapes.value(constraint, SH.severity) is None


# ---------------------------------------------------------------- a hand-written standard with known defects

STANDARD = """
@base <https://w3id.org/uk-kim/id/> .
@prefix kim:     <https://w3id.org/uk-kim/def#> .
@prefix skos:    <http://www.w3.org/2004/02/skos/core#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix ceasn:   <https://purl.org/ctdlasn/terms/> .
@prefix xsd:     <http://www.w3.org/2001/XMLSchema#> .

<standard/ST0042> a kim:OccupationalStandard ;
    dcterms:title "Records officer"@en ; dcterms:identifier "ST0042" ;
    kim:occupation <occupation/OCC0042> ; kim:level 4 ; kim:version "1.0" ;
    kim:status <scheme/standard-status/approved-for-delivery> ;
    kim:approvalGiven <scheme/approval-step/proposal> , <scheme/approval-step/occupational-standard> ,
        <scheme/approval-step/end-point-assessment-plan> ;                                  # R15: no funding
    kim:typicalDuration "P10M"^^xsd:duration ; kim:typicalDurationMonths 10 ;              # R12: short
    kim:route <scheme/route/business-and-administration> ;
    kim:overviewOfRole "Keep an organisation's records."@en ;                               # R13: no job titles
    kim:declaresProfessionalRecognition true ;                                               # R16: no body
    kim:englishAndMaths "Apprentices without level 2 English and maths will need to achieve this level."@en ;
    kim:hasDuty <standard/ST0042/duty/1> , <standard/ST0042/duty/2> ;                      # W05: 2 duties
    kim:hasKSB <standard/ST0042/ksb/K1> , <standard/ST0042/ksb/K2> , <standard/ST0042/ksb/S1> ,
        <standard/ST0042/ksb/S3> , <standard/ST0042/ksb/B1> .                                # W06 x3

<occupation/OCC0042> a kim:Occupation ; skos:notation "OCC0042" .

<standard/ST0042/duty/1> a kim:Duty ; skos:notation "D1" ; kim:ordinal 1 ; kim:dutyOf <standard/ST0042> ;
    dcterms:description "Manage the records of the organisation."@en ;
    kim:mapsToKnowledge <standard/ST0042/ksb/K1> ; kim:mapsToBehaviour <standard/ST0042/ksb/B1> ;
    kim:mapsToSkill <standard/ST0042/ksb/S1> , <standard/ST0042/ksb/S9> .                 # R08 x2: S9 dangles

<standard/ST0042/duty/2> a kim:Duty ; skos:notation "D2" ; kim:ordinal 2 ; kim:dutyOf <standard/ST0042> ;
    dcterms:description "Records retention and disposal. Back to Duty"@en ;                # W04, W08, W10
    kim:mapsToKnowledge <standard/ST0042/ksb/K1> , <standard/ST0042/ksb/K2> .              # W09: K only

<standard/ST0042/ksb/K1> a kim:Knowledge ; skos:notation "K1" ; kim:ordinal 1 ;
    ceasn:isPartOf <standard/ST0042> ; ceasn:competencyText "Records law."@en .             # W07 with K2
<standard/ST0042/ksb/K2> a kim:Knowledge ; skos:notation "K2" ; kim:ordinal 2 ;
    ceasn:isPartOf <standard/ST0042> ; ceasn:competencyText "records  LAW"@en .
<standard/ST0042/ksb/S1> a kim:Skill ; skos:notation "S1" ; kim:ordinal 1 ;
    ceasn:isPartOf <standard/ST0042> ; ceasn:competencyText "Analyse retention needs."@en .
<standard/ST0042/ksb/S3> a kim:Skill ; skos:notation "S3" ; kim:ordinal 3 ;                # R09 gap, R07
    ceasn:isPartOf <standard/ST0042> ; ceasn:competencyText "Reports for managers."@en .   # W01
<standard/ST0042/ksb/B1> a kim:Behaviour ; skos:notation "B1" ; kim:ordinal 1 ;
    ceasn:isPartOf <standard/ST0042> ; ceasn:competencyText "Works with others."@en .
"""

VERBS = """
@prefix kim:  <https://w3id.org/uk-kim/def#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
<https://w3id.org/uk-kim/id/scheme/action-verb/manage> a kim:ActionVerb , skos:Concept ; skos:prefLabel "Manage"@en .
<https://w3id.org/uk-kim/id/scheme/action-verb/analyse> a kim:ActionVerb , skos:Concept ; skos:prefLabel "Analyse"@en .
"""

EXPECTED = sorted([
    ("R07", "S3"), ("R08", "D1"), ("R08", "D1"), ("R09", "S3"), ("R12", "ST0042"), ("R13", "ST0042"),
    ("R15", "ST0042"), ("R16", "ST0042"), ("W01", "S3"), ("W04", "D2"), ("W05", "ST0042"),
    ("W06", "ST0042"), ("W06", "ST0042"), ("W06", "ST0042"), ("W07", "K1"), ("W07", "K2"),
    ("W08", "D2"), ("W09", "D2"), ("W10", "D2"),
])


@pytest.fixture(scope="module")
def dataset() -> Dataset:
    """The standard and the action verbs in separate named graphs, as the store keeps them."""
    ds = Dataset()
    ds.graph(URIRef("https://w3id.org/uk-kim/graph/source/test")).parse(data=STANDARD, format="turtle")
    ds.graph(URIRef("https://w3id.org/uk-kim/graph/concepts")).parse(data=VERBS, format="turtle")
    return ds


@pytest.fixture(scope="module")
def report(dataset: Dataset, shapes: Graph):
    return check(dataset, shapes)


def test_known_defects_give_exactly_the_expected_findings(report):
    assert sorted((f.rule, f.code) for f in report.findings) == EXPECTED


def test_report_summary(report):
    assert report.conforms is False
    assert report.worst() == "Violation"
    assert report.counts() == {"Violation": 4, "Warning": 10, "Info": 5}


def test_findings_are_deterministic_and_sorted(report, dataset, shapes):
    again = check(dataset, shapes)
    assert again.findings == report.findings
    order = ["Violation", "Warning", "Info"]
    ranks = [order.index(f.severity) for f in report.findings]
    assert ranks == sorted(ranks)


def test_finding_fields(report):
    dangling = [f for f in report.findings if f.shape == str(KIMSH["R08-skill-target"])]
    assert len(dangling) == 1
    finding = dangling[0]
    assert finding.focus == "https://w3id.org/uk-kim/id/standard/ST0042/duty/1"
    assert finding.path == "kim:mapsToSkill"
    assert finding.value == "https://w3id.org/uk-kim/id/standard/ST0042/ksb/S9"
    assert finding.message.startswith("R08 ")
    gap = next(f for f in report.findings if f.shape == str(KIMSH["R09-code-sequence"]))
    assert gap.message == "R09 code numbering has a gap: S2 is missing"


def test_report_serializations_round_trip(report):
    for fmt in ("turtle", "json-ld"):
        parsed = Graph().parse(data=report.serialize(fmt), format=fmt)
        assert isomorphic(parsed, report.graph), fmt
    with pytest.raises(ValueError):
        report.serialize("xml")


def test_report_text_lists_every_finding(report):
    lines = report.to_text().splitlines()
    assert lines[0].split() == ["severity", "rule", "code", "message"]
    assert len(lines) == len(report.findings) + 2
    assert lines[-1] == "-- does not conform: 4 Violation, 10 Warning, 5 Info"
    assert any(line.split()[:3] == ["Warning", "W01", "S3"] for line in lines)


# ---------------------------------------------------------------- the wrapper


def test_codes_sort_naturally(shapes: Graph):
    data = Graph()
    for n in (10, 2, 1):
        ksb = URIRef(f"https://w3id.org/uk-kim/id/standard/ST0001/ksb/K{n}")
        data.add((ksb, RDF.type, KIM.Knowledge))
        data.add((ksb, SKOS.notation, Literal(f"K{n}")))
        data.add((ksb, KIM.ordinal, Literal(n)))
    codes = [f.code for f in check(data, shapes).findings if f.rule == "R07"]
    assert codes == ["K1", "K2", "K10"]


def test_empty_graph_conforms(shapes: Graph):
    report = check(Graph().parse(data=VERBS, format="turtle"), shapes)
    assert report.conforms and report.findings == [] and report.worst() is None
    assert report.counts() == {"Violation": 0, "Warning": 0, "Info": 0}


def test_check_leaves_the_data_unchanged(shapes: Graph):
    data = Graph().parse(data=STANDARD, format="turtle")
    before = set(data)
    check(data, shapes)
    assert set(data) == before


def test_load_shapes_rebases_instance_iris():
    rebased = load_shapes("https://example.org/kim/")
    terms = {t for triple in rebased for t in triple if isinstance(t, URIRef)}
    assert not any(t.startswith("https://w3id.org/uk-kim/id/") for t in terms)
    status = "id/scheme/standard-status/in-development"
    for base, fires in (("https://example.org/kim/", False), ("https://w3id.org/uk-kim/", True)):
        data = Graph().parse(data=f"""
            <https://example.org/kim/id/standard/ST0001> a <https://w3id.org/uk-kim/def#OccupationalStandard> ;
                <https://w3id.org/uk-kim/def#status> <{base}{status}> .""", format="turtle")
        findings = check(data, rebased).findings
        assert any(f.shape == str(KIMSH["R04-status"]) for f in findings) is fires


def test_rule_falls_back_to_the_message_for_blank_node_shapes():
    shapes = Graph().parse(data="""
        @prefix sh: <http://www.w3.org/ns/shacl#> .
        [] a sh:NodeShape ; sh:targetClass <urn:x:Thing> ;
           sh:property [ sh:path <urn:x:name> ; sh:minCount 1 ; sh:message "X99 thing has no name" ] .""",
        format="turtle")
    data = Graph().parse(data="<urn:x:a> a <urn:x:Thing> .", format="turtle")
    (finding,) = check(data, shapes).findings
    assert (finding.rule, finding.severity, finding.code) == ("X99", "Violation", None)


def test_broken_or_rule_bearing_shapes_are_refused():
    values = Graph().parse(data="""
        @prefix sh: <http://www.w3.org/ns/shacl#> .
        <urn:x:S> a sh:NodeShape ; sh:targetClass <urn:x:Thing> ;
            sh:sparql [ sh:select "SELECT $this WHERE { VALUES ?x { 1 } $this ?p ?x }" ] .""", format="turtle")
    rules = Graph().parse(data="""
        @prefix sh: <http://www.w3.org/ns/shacl#> .
        <urn:x:S> a sh:NodeShape ; sh:targetClass <urn:x:Thing> ;
            sh:rule [ a sh:TripleRule ; sh:subject sh:this ; sh:predicate <urn:x:p> ; sh:object 1 ] .""",
        format="turtle")
    data = Graph().parse(data="<urn:x:a> a <urn:x:Thing> .", format="turtle")
    for shapes in (values, rules):
        with pytest.raises(ShapesError):
            check(data, shapes)

