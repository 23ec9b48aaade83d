"""The IfATE / Skills England feed (JSON): the model it becomes, its defects, versions, and the streaming build."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
import rdflib.namespace as rns
from rdflib import Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import DCTERMS, PROV, RDF, SKOS

from ingest.build import SourceError, parse_source, vocabulary_graphs
from ingest.feed import parse_feed
from ingest.manifest import Source
from ingest.provenance import JSON_POINTER
from ingest.stream_build import load_vocabulary
from kimdata.namespaces import CEASN, FOAF, KIM, KSB_MAPPING, OA, SCHEMA, Iris
from kimgraph.cli import main as kimgraph
from store.embedded import Store

ROOT = Path(__file__).resolve().parent.parent
FEED = Path(__file__).parent / "data" / "feed"
CORPUS = ROOT / "bench" / "corpus.py"
KSB_LISTS = (("K", "knowledges", "knowledgeId"), ("S", "skills", "skillId"), ("B", "behaviours", "behaviourId"))
MAPPED = (("K", "mappedKnowledge"), ("S", "mappedSkills"), ("B", "mappedBehaviour"))


def feed_source(name: str) -> Source:
    return Source(id=f"feed-{name}", kind="feed-json", path=FEED / f"{name}.json")


def parse(name: str, iris) -> Graph:
    return parse_feed(feed_source(name), iris)


def corpus(tmp_path: Path, standards: int) -> Path:
    out = tmp_path / f"corpus-{standards}.json"
    subprocess.run([sys.executable, str(CORPUS), "--standards", str(standards), "--out", str(out)],
                   check=True, capture_output=True)
    return out


def count(store_path: Path, capsysbinary, where: str) -> int:
    query = f"PREFIX kim: <{KIM}> SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ {where} }}"
    assert kimgraph(["query", "--store", str(store_path), "--format", "csv", query]) == 0
    return int(capsysbinary.readouterr().out.decode().split()[-1])


@pytest.fixture(scope="module")
def standard(iris) -> Graph:
    return parse("standard", iris)


@pytest.fixture(scope="module")
def document() -> dict:
    return json.loads((FEED / "standard.json").read_text(encoding="utf-8"))


# ------------------------------------------------------------------ the real-shaped document


def test_the_document_gives_one_standard_with_its_duties_and_ksbs(standard, iris):
    assert set(standard.subjects(RDF.type, KIM.OccupationalStandard)) == {iris.standard("ST0999")}
    assert len(set(standard.subjects(RDF.type, KIM.Duty))) == 3
    assert [len(set(standard.subjects(RDF.type, KIM[c]))) for c in ("Knowledge", "Skill", "Behaviour")] == [4, 3, 2]


def test_ksb_codes_follow_list_order_and_keep_their_guids(standard, document, iris):
    for letter, key, id_key in KSB_LISTS:
        for n, entry in enumerate(document[key], start=1):
            ksb = iris.ksb("ST0999", letter, n)
            assert standard.value(ksb, SKOS.notation) == Literal(f"{letter}{n}")
            assert standard.value(ksb, CEASN.competencyText) == Literal(entry["detail"], lang="en")
            assert standard.value(ksb, DCTERMS.identifier) == Literal(entry[id_key])
    for n, duty in enumerate(document["duties"], start=1):
        assert standard.value(iris.duty("ST0999", n), DCTERMS.identifier) == Literal(duty["dutyID"])


def test_every_mapped_guid_resolves_to_its_code(standard, document, iris):
    code = {entry[id_key].lower(): (letter, n)
            for letter, key, id_key in KSB_LISTS for n, entry in enumerate(document[key], start=1)}
    expected = {(iris.duty("ST0999", d), KSB_MAPPING[letter], iris.ksb("ST0999", *code[guid.lower()]))
                for d, duty in enumerate(document["duties"], start=1)
                for letter, key in MAPPED for guid in duty[key]}
    found = {t for prop in KSB_MAPPING.values() for t in standard.triples((None, prop, None))}
    assert found == expected
    assert len(expected) == 8  # one GUID is upper-case in the document: matched all the same


def test_every_field_lands_on_its_property(standard, iris):
    st = iris.standard("ST0999")
    en = lambda text: Literal(text, lang="en")  # noqa: E731
    expected = {
        DCTERMS.identifier: {Literal("ST0999")},
        DCTERMS.title: {en("Records and information officer")},
        KIM.level: {Literal(4, datatype=rns.XSD.integer)},
        KIM.status: {iris.concept("standard-status", "approved-for-delivery")},
        KIM.version: {Literal("1.2")},
        KIM.route: {iris.concept("route", "business-and-administration")},
        KIM.typicalDuration: {Literal("P24M", datatype=rns.XSD.duration)},
        KIM.typicalDurationMonths: {Literal(24, datatype=rns.XSD.integer)},
        KIM.epaPeriod: {Literal("P4M", datatype=rns.XSD.duration)},
        KIM.epaPeriodMonths: {Literal(4, datatype=rns.XSD.integer)},
        KIM.overviewOfRole: {en("Managing an organisation's records and information through their life.")},
        KIM.typicalJobTitle: {en("Records officer"), en("Information officer"),
                              en("Records and information assistant")},
        SCHEMA.keywords: {en("records"), en("archives"), en("information governance")},
        FOAF.page: {URIRef("https://skillsengland.education.gov.uk/apprenticeships/st0999-v1-2")},
        KIM.occupation: {iris.occupation("OCC0999")},
        KIM.entryRequirements: {en("Employers will set their own entry requirements.")},
        KIM.englishAndMaths: {en("Apprentices without level 2 English and maths will need to achieve this level "
                                 "prior to taking the End-Point Assessment.")},
        KIM.involvedEmployer: {iris.org(s)
                               for s in ("the-national-archives", "ministry-of-defence", "barts-health-nhs-trust")},
        KIM.developedBy: {iris.org("trailblazer-st0999")},
        KIM.professionalRecognition: {iris.org("information-and-records-management-society")},
        KIM.declaresProfessionalRecognition: {Literal(True)},
        KIM.approvalGiven: {iris.concept("approval-step", s)
                            for s in ("proposal", "occupational-standard", "end-point-assessment-plan", "funding")},
        DCTERMS.dateAccepted: {Literal("2022-03-01", datatype=rns.XSD.date)},
        DCTERMS.modified: {Literal("2024-07-30", datatype=rns.XSD.date)},
    }
    for prop, values in expected.items():
        assert set(standard.objects(st, prop)) == values, prop
    route = iris.concept("route", "business-and-administration")
    assert standard.value(route, SKOS.prefLabel) == en("Business and administration")
    assert (iris.occupation("OCC0999"), KIM.hasStandard, st) in standard


def test_a_duty_mapped_to_nothing_is_an_empty_cell_not_an_issue(standard, iris):
    states = {n: standard.value(iris.duty("ST0999", n), KIM.ksbCellState) for n in (1, 2, 3)}
    assert states == {1: iris.concept("ksb-cell-state", "listed"), 2: iris.concept("ksb-cell-state", "listed"),
                      3: iris.concept("ksb-cell-state", "empty")}
    assert not set(standard.subjects(RDF.type, KIM.ExtractionIssue))


def test_provenance_document_checksum_and_json_pointer_evidence(standard, iris):
    source = feed_source("standard")
    document = iris.source(source.id)
    assert standard.value(document, KIM.sha256) == Literal(hashlib.sha256(source.path.read_bytes()).hexdigest(),
                                                           datatype=rns.XSD.hexBinary)
    assert standard.value(document, KIM.sourceKind) == Literal("feed-json")
    cited = {iris.standard("ST0999"): "", iris.duty("ST0999", 3): "/duties/2", iris.ksb("ST0999", "S", 2): "/skills/1"}
    for entity, pointer in cited.items():
        assert (entity, PROV.wasDerivedFrom, document) in standard
        node = standard.value(entity, KIM.evidence)
        assert (node, RDF.type, OA.SpecificResource) in standard
        assert standard.value(node, OA.hasSource) == document
        selector = standard.value(node, OA.hasSelector)
        assert (selector, RDF.type, OA.FragmentSelector) in standard
        assert standard.value(selector, DCTERMS.conformsTo) == JSON_POINTER
        assert standard.value(selector, RDF.value) == Literal(pointer)
    for entity in standard.subjects(RDF.type, None):
        if str(entity).startswith(iris.id + "standard/") or str(entity).startswith(iris.id + "org/"):
            assert (entity, PROV.wasDerivedFrom, document) in standard, entity


# ------------------------------------------------------------------ defects


def test_malformed_json_names_the_file_line_and_column(iris):
    with pytest.raises(SourceError) as raised:
        parse_source(feed_source("malformed"), iris)
    assert str(raised.value).startswith(str(FEED / "malformed.json"))
    assert "line 6, column 5: invalid JSON" in str(raised.value)


def test_malformed_json_on_the_command_line_is_an_error_not_a_traceback(tmp_path, capsys):
    assert kimgraph(["build", "--store", str(tmp_path / "store"), str(FEED / "malformed.json")]) == 2
    err = capsys.readouterr().err
    assert "malformed.json: line 6, column 5: invalid JSON" in err and "Traceback" not in err
    assert not (tmp_path / "store").exists()


@pytest.mark.parametrize("name, pointer", [("no-duty-detail", "/0/duties/1/dutyDetail"),
                                           ("ksb-not-object", "/0/knowledges/1")])
def test_a_wrong_shape_names_the_file_and_the_json_pointer(name, pointer, iris):
    with pytest.raises(SourceError) as raised:
        parse_source(feed_source(name), iris)
    assert str(raised.value).startswith(f"{FEED / name}.json: at JSON pointer {pointer}: ")


def test_dangling_guids_become_extraction_issues_and_the_rest_loads(iris):
    graph = parse("dangling", iris)
    issues = {str(graph.value(i, KIM.issueCode)): set() for i in graph.subjects(RDF.type, KIM.ExtractionIssue)}
    for issue in graph.subjects(RDF.type, KIM.ExtractionIssue):
        node = graph.value(issue, KIM.evidence)
        pointer = graph.value(graph.value(node, OA.hasSelector), RDF.value)
        issues[str(graph.value(issue, KIM.issueCode))].add(str(pointer))
    assert issues == {
        "dangling-ksb-reference": {"/0/duties/0/mappedKnowledge/1", "/0/duties/0/mappedSkills/0",
                                   "/0/duties/1/mappedSkills/1"},
        "unknown-status": {"/0/status"},
    }
    mapped = {(str(d).rsplit("/", 1)[1], str(k).rsplit("/", 1)[1])
              for prop in KSB_MAPPING.values() for d, k in graph.subject_objects(prop)}
    assert mapped == {("1", "K1"), ("1", "B1"), ("2", "K1"), ("2", "S1"), ("2", "B1")}
    assert graph.value(iris.standard("ST0995"), KIM.typicalDurationMonths) == Literal(18, datatype=rns.XSD.integer)


def test_two_versions_latest_unversioned_older_under_its_version(tmp_path, capsysbinary, iris):
    graph = parse("versions", iris)
    latest, older = iris.standard("ST0994"), iris.standard("ST0994", "1.0")
    assert graph.value(latest, KIM.version) == Literal("1.1")
    assert graph.value(latest, KIM.status) == iris.concept("standard-status", "approved-for-delivery")
    assert set(graph.objects(latest, KIM.typicalJobTitle)) == {
        Literal("Information governance officer", lang="en"), Literal("Data protection officer", lang="en")}
    assert len(set(graph.objects(latest, KIM.hasDuty))) == 2
    assert graph.value(older, DCTERMS.isVersionOf) == latest
    assert graph.value(older, KIM.version) == Literal("1.0")
    assert graph.value(older, KIM.status) == iris.concept("standard-status", "retired")
    assert set(graph.objects(older, KIM.hasDuty)) == {URIRef(f"{older}/duty/1")}
    assert (URIRef(f"{older}/duty/1"), KIM.mapsToKnowledge, URIRef(f"{older}/ksb/K1")) in graph
    assert (latest, DCTERMS.isVersionOf, None) not in graph

    store_path = tmp_path / "store"
    assert kimgraph(["build", "--store", str(store_path), "--quiet", str(FEED / "versions.json")]) == 0
    assert kimgraph(["query", "--store", str(store_path), "--format", "ntriples", f"DESCRIBE <{older}>"]) == 0
    described = Graph().parse(data=capsysbinary.readouterr().out.decode(), format="nt")
    assert (older, DCTERMS.isVersionOf, latest) in described
    assert (older, RDF.type, KIM.OccupationalStandard) in described


# ------------------------------------------------------------------ the streaming build


def test_the_streamed_graph_is_the_parsed_graph(tmp_path, standard, iris):
    source_path = tmp_path / "standard.json"
    source_path.write_bytes((FEED / "standard.json").read_bytes())
    store_path = tmp_path / "store"
    assert kimgraph(["build", "--store", str(store_path), "--quiet", "--no-validate", str(source_path)]) == 0
    store = Store.open(store_path, read_only=True)
    sha = hashlib.sha256(source_path.read_bytes()).hexdigest()
    streamed = store.graph(str(iris.source_graph(sha[:16])))
    parsed = parse_feed(Source(id=sha[:16], kind="feed-json", path=source_path,
                               title="Apprenticeship standards feed (JSON): standard.json"), iris)
    for graph in (streamed, parsed):  # the ingest time differs from run to run
        graph.remove((None, PROV.endedAtTime, None))
    assert isomorphic(streamed, parsed)


@pytest.mark.parametrize("base", [None, "https://example.org/kim/"])
def test_the_vocabulary_graphs_match_the_manifest_build(base, iris):
    iris = Iris(base) if base else iris
    store = Store.in_memory()
    load_vocabulary(store, iris)
    for named in vocabulary_graphs(iris):
        assert isomorphic(store.graph(str(named.iri)), named.graph), named.iri


def test_build_files_on_a_generated_corpus_and_query_it(tmp_path, capsysbinary):
    store_path = tmp_path / "store"
    assert kimgraph(["build", "--store", str(store_path), str(corpus(tmp_path, 3))]) == 0
    out = capsysbinary.readouterr().out.decode()
    assert "3 standards" in out and "conformance:" in out
    assert count(store_path, capsysbinary, "?s a kim:OccupationalStandard") == 3
    assert count(store_path, capsysbinary, "GRAPH <https://w3id.org/uk-kim/graph/validation> { ?s ?p ?o }") > 0


def test_files_with_an_explicit_manifest_add_its_sources(tmp_path, capsysbinary):
    store_path = tmp_path / "store"
    manifest = ROOT / "sources" / "manifest.toml"
    assert kimgraph(["build", "--store", str(store_path), "--quiet", "--no-validate", "--manifest", str(manifest),
                     str(FEED / "standard.json")]) == 0
    assert count(store_path, capsysbinary, "?s a kim:OccupationalStandard") == 8  # the manifest's seven and ST0999


@pytest.mark.slow
def test_streaming_memory_does_not_grow_with_the_input(tmp_path):
    script = (
        "import sys; from kimgraph.cli import main;"
        "code = main(sys.argv[1:]);"
        "hwm = int(next(l for l in open('/proc/self/status') if l.startswith('VmHWM')).split()[1]);"
        "print(code, hwm)"
    )
    peaks = {}
    for standards in (20, 200):
        feed = corpus(tmp_path, standards)
        run = subprocess.run([sys.executable, "-c", script, "build", "--store", str(tmp_path / f"store-{standards}"),
                              "--quiet", "--no-validate", "--batch", "10000", str(feed)],
                             cwd=ROOT, check=True, capture_output=True, text=True)
        code, peak = (int(v) for v in run.stdout.split())
        assert code == 0, run.stderr
        peaks[standards] = peak  # KiB; the loader is a thread, so this is the whole build
    assert peaks[200] < 1.5 * peaks[20] + 20_000, peaks  # KiB; ten times the input


def test_values_of_the_wrong_kind_are_issues_and_the_rest_loads(tmp_path, iris):
    data = json.loads((FEED / "standard.json").read_text(encoding="utf-8"))
    data.update(level="four", typicalDuration="two years", standardPageUrl="see the website",
                occupationCode="OCC99", typicalJobTitles=7, lastUpdated="30/07/2024")
    path = tmp_path / "odd.json"
    path.write_text(json.dumps([data]), encoding="utf-8")
    graph = parse_feed(Source(id="odd", kind="feed-json", path=path), iris)
    codes = {str(graph.value(i, KIM.issueCode)) for i in graph.subjects(RDF.type, KIM.ExtractionIssue)}
    assert codes == {"unreadable-level", "unreadable-typicalDuration", "unreadable-standardPageUrl",
                     "unreadable-occupationCode", "unreadable-typicalJobTitles", "unreadable-lastUpdated"}
    assert len(set(graph.subjects(RDF.type, KIM.Knowledge))) == 4
    assert graph.value(iris.standard("ST0999"), KIM.level) is None


def test_progress_is_shown_when_asked(tmp_path, capsys):
    assert kimgraph(["build", "--store", str(tmp_path / "store"), "--quiet", "--no-validate", "--progress",
                     str(FEED / "versions.json")]) == 0
    assert "2/2" in capsys.readouterr().err


def test_each_file_is_its_own_source_graph_and_a_repeat_is_refused(tmp_path, capsysbinary):
    store_path = tmp_path / "store"
    files = [str(FEED / "standard.json"), str(FEED / "versions.json")]
    assert kimgraph(["build", "--store", str(store_path), "--quiet", "--no-validate", *files]) == 0
    assert count(store_path, capsysbinary, "GRAPH ?g { ?s a kim:SourceDocument }") == 2
    assert count(store_path, capsysbinary, "?s a kim:OccupationalStandard") == 3
    assert kimgraph(["build", "--store", str(store_path), "--quiet", files[0], files[0]]) == 2
    assert b"is given twice" in capsysbinary.readouterr().err


def test_an_error_deep_in_a_long_document_is_placed_as_json_places_it(tmp_path):
    text = corpus(tmp_path, 20).read_text(encoding="utf-8")
    cut = text.rindex('"dutyDetail"') - 2  # drop the comma before the last duty's dutyDetail key
    assert text[cut] == ","
    broken = tmp_path / "broken.json"
    broken.write_text(text[:cut] + text[cut + 1:], encoding="utf-8")
    with pytest.raises(json.JSONDecodeError) as expected:
        json.loads(broken.read_text(encoding="utf-8"))
    with pytest.raises(SourceError) as raised:
        parse_source(Source(id="broken", kind="feed-json", path=broken), None)
    assert f"line {expected.value.lineno}, column {expected.value.colno}: invalid JSON" in str(raised.value)


def test_a_byte_order_mark_is_read_past_and_counted_in_the_checksum(tmp_path, iris):
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + (FEED / "versions.json").read_bytes())
    graph = parse_feed(Source(id="bom", kind="feed-json", path=path), iris)
    assert len(set(graph.subjects(RDF.type, KIM.OccupationalStandard))) == 2
    assert graph.value(iris.source("bom"), KIM.sha256) == Literal(hashlib.sha256(path.read_bytes()).hexdigest(),
                                                                  datatype=rns.XSD.hexBinary)
