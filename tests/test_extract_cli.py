"""``kimgraph extract`` on real and made-up pages, its refusals, and ``kimgraph build`` with page files beside feeds."""

from __future__ import annotations

import subprocess
import sys
import tomllib

import pytest
from rdflib import Dataset, Graph
from rdflib.namespace import RDF, SKOS

from kimdata.namespaces import CEASN, KIM, KSB_MAPPING
from kimdata.paths import SOURCES_DIR
from kimgraph.cli import main as kimgraph
from tests.helpers import DATA

# rdflib's own JSON-LD and N-Quads parsers use its deprecated ConjunctiveGraph internally.
pytestmark = pytest.mark.filterwarnings("ignore:.*is deprecated:DeprecationWarning")

SOURCES = SOURCES_DIR
FAMILY = {p["file"]: p for p in tomllib.loads((DATA / "family" / "expected.toml").read_text(encoding="utf-8"))["page"]}
# Real pages in five layouts: coded bullets under a header, 'K1:' lines under a heading, the flattened duty table,
# 'Duty N:' lines, and the occupational-map card.
REAL = ["family/ST0904-archivist-and-records-manager-1.txt", "family/ST0904-archivist-and-records-manager-2.txt",
        "family/ST0795-data-technician-2.txt", "family/ST0795-data-technician-3.txt",
        "family/OCC0795-data-technician-2.txt"]


def run(capsysbinary, *args) -> tuple[int, bytes, str]:
    code = kimgraph(list(args))
    out, err = capsysbinary.readouterr()
    return code, out, err.decode()


def printed(graph: Graph) -> dict:
    """Duties, codes, statements and pairs a graph holds, by code."""
    duties = {str(graph.value(d, SKOS.notation)) for d in graph.subjects(RDF.type, KIM.Duty)}
    statements = {str(graph.value(k, SKOS.notation)): str(graph.value(k, CEASN.competencyText))
                  for cls in (KIM.Knowledge, KIM.Skill, KIM.Behaviour) for k in graph.subjects(RDF.type, cls)}
    pairs = {(str(graph.value(d, SKOS.notation)), str(k).rsplit("/", 1)[1])
             for prop in KSB_MAPPING.values() for d, k in graph.subject_objects(prop)}
    return {"duties": duties, "statements": statements, "pairs": pairs}


@pytest.mark.parametrize("file", REAL)
def test_extract_prints_exactly_what_a_real_page_prints(capsysbinary, file):
    code, out, err = run(capsysbinary, "extract", str(SOURCES / file))
    assert code == 0, err
    got = printed(Graph().parse(data=out, format="turtle"))
    page = FAMILY[file]
    assert got["duties"] == {f"D{n}" for n in page["duties"]}
    stated = set(got["statements"])
    codes = {code for _, code in got["pairs"]} | stated
    assert codes == set(page["knowledge"]) | set(page["skills"]) | set(page["behaviours"])
    assert len(stated) == page["counts"]["statements"]
    for code, text in page.get("statement_text", {}).items():
        assert got["statements"][code] == text
    assert got["pairs"] == {(duty, code) for duty, codes in page.get("pairs", {}).items() for code in codes}


def test_extract_carries_issues_and_provenance(capsysbinary):
    code, out, _ = run(capsysbinary, "extract", str(SOURCES / "family/ST0904-archivist-and-records-manager-2.txt"))
    graph = Graph().parse(data=out, format="turtle")
    issues = {str(graph.value(i, KIM.issueCode)) for i in graph.subjects(RDF.type, KIM.ExtractionIssue)}
    assert "truncated-statement" in issues
    assert next(graph.subjects(RDF.type, KIM.SourceDocument), None) is not None
    assert all(graph.value(k, KIM.evidence) is not None for k in graph.subjects(RDF.type, KIM.Knowledge))


@pytest.mark.parametrize("fmt, rdflib_format", [("trig", "trig"), ("nquads", "nquads"), ("jsonld", "json-ld")])
def test_extract_dataset_formats_keep_one_graph_per_file(capsysbinary, fmt, rdflib_format):
    files = [str(DATA / "pages" / "codes-same-line.txt"), str(DATA / "pages" / "ifate-standard-page.html")]
    code, out, _ = run(capsysbinary, "extract", "--format", fmt, *files)
    assert code == 0
    dataset = Dataset()
    dataset.parse(data=out, format=rdflib_format)
    named = [g for g in dataset.graphs() if len(g) and "/graph/source/" in str(g.identifier)]
    assert len(named) == 2


def test_extract_of_a_text_with_no_standard_exits_2_with_one_line(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("Opening hours\nMonday to Friday, 9 to 5.\n")
    result = subprocess.run([sys.executable, "-m", "kimgraph.cli", "extract", str(path)], capture_output=True,
                            text=True)
    assert result.returncode == 2 and result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and str(path) in lines[0] and "expected" in lines[0] and "Duty 1" in lines[0]


def test_extract_of_a_missing_or_binary_file_exits_2(capsysbinary, tmp_path):
    binary = tmp_path / "page.txt"
    binary.write_bytes(b"\xff\xfe\x00Duty 1 x")
    for path in (tmp_path / "absent.txt", binary):
        code, out, err = run(capsysbinary, "extract", str(path))
        assert code == 2 and out == b"" and len(err.splitlines()) == 1 and str(path) in err


def test_build_takes_pages_and_feed_documents_in_any_mix(capsysbinary, tmp_path):
    store = tmp_path / "store"
    files = [DATA / "pages" / "flattened-occupation.txt", DATA / "feed" / "standard.json",
             DATA / "pages" / "ifate-standard-page.html"]
    code, _, err = run(capsysbinary, "build", "--store", str(store), "--quiet", *map(str, files))
    assert code == 0, err
    query = ("PREFIX dcterms: <http://purl.org/dc/terms/> PREFIX kim: <https://w3id.org/uk-kim/def#> "
             "SELECT ?standard (COUNT(?d) AS ?n) WHERE { ?d kim:dutyOf ?standard } GROUP BY ?standard")
    code, out, _ = run(capsysbinary, "query", "--store", str(store), "--format", "csv", query)
    rows = dict(line.split(",") for line in out.decode().splitlines()[1:])
    base = "https://w3id.org/uk-kim/id/standard/"
    assert rows[base + "ST0995"].strip() == "2" and rows[base + "ST0998"].strip() == "3"  # the two pages
    assert len(rows) == 3  # and the feed's standard
