"""The kimgraph command line: query formats, export, validation exit status, and its errors."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from xml.etree import ElementTree

import pytest
from rdflib import Dataset, Graph
from rdflib.compare import isomorphic

from kimgraph.cli import main as kimgraph
from tests.helpers import expand_compacted

COUNT_DUTIES = ("PREFIX kim: <https://w3id.org/uk-kim/def#> SELECT (COUNT(DISTINCT ?d) AS ?n) WHERE { "
                "<https://w3id.org/uk-kim/id/standard/ST1337> kim:hasDuty ?d }")
DUTY_2 = ("PREFIX kim: <https://w3id.org/uk-kim/def#> CONSTRUCT { ?d kim:mapsToKnowledge ?k } WHERE { "
          "?d kim:mapsToKnowledge ?k FILTER(?d = <https://w3id.org/uk-kim/id/standard/ST1337/duty/2>) }")


def run(capsysbinary, *args) -> tuple[int, bytes, str]:
    code = kimgraph(list(args))
    out, err = capsysbinary.readouterr()
    return code, out, err.decode()


def test_query_json_counts_fifteen_duties(built_store_path, capsysbinary):
    code, out, _ = run(capsysbinary, "query", "--store", str(built_store_path), COUNT_DUTIES)
    assert code == 0
    assert json.loads(out)["results"]["bindings"][0]["n"]["value"] == "15"


@pytest.mark.parametrize("fmt", ["csv", "tsv", "xml"])
def test_query_tabular_formats(built_store_path, capsysbinary, fmt):
    code, out, _ = run(capsysbinary, "query", "--store", str(built_store_path), "--format", fmt, COUNT_DUTIES)
    assert code == 0
    text = out.decode()
    if fmt == "xml":
        ns = "{http://www.w3.org/2005/sparql-results#}"
        assert ElementTree.fromstring(text).find(f".//{ns}literal").text == "15"
    else:
        rows = list(csv.reader(io.StringIO(text), delimiter="," if fmt == "csv" else "\t"))
        assert rows[1][0].startswith("15")


@pytest.mark.parametrize("fmt,rdflib_format", [("turtle", "turtle"), ("ntriples", "nt"), ("jsonld", "json-ld")])
def test_construct_formats(built_store_path, capsysbinary, fmt, rdflib_format):
    code, out, _ = run(capsysbinary, "query", "--store", str(built_store_path), "--format", fmt, DUTY_2)
    assert code == 0
    graph = expand_compacted(json.loads(out)) if fmt == "jsonld" else Graph().parse(data=out, format=rdflib_format)
    assert len(graph) == 9


def test_query_from_file(built_store_path, capsysbinary, tmp_path):
    query = tmp_path / "q.rq"
    query.write_text("ASK { ?s ?p ?o }")
    code, out, _ = run(capsysbinary, "query", "--store", str(built_store_path), "--file", str(query))
    assert code == 0 and json.loads(out)["boolean"] is True


def test_a_syntax_error_is_reported_with_its_position(built_store_path, capsysbinary):
    code, _, err = run(capsysbinary, "query", "--store", str(built_store_path), "SELECT * WHERE { ?s ?p }")
    assert code == 2 and "line 1, column 25" in err and "Traceback" not in err


@pytest.mark.parametrize("name", ["missing.rq", "."])
def test_a_query_file_that_cannot_be_read_is_one_line_and_exit_2(built_store_path, capsysbinary, tmp_path, name):
    code, out, err = run(capsysbinary, "query", "--store", str(built_store_path), "--file", str(tmp_path / name))
    assert code == 2 and out == b""
    assert len(err.strip().splitlines()) == 1 and str(tmp_path / name) in err and "Traceback" not in err


def test_construct_turtle_carries_prefixes(built_store_path, capsysbinary):
    code, out, _ = run(capsysbinary, "query", "--store", str(built_store_path), DUTY_2)
    assert code == 0
    text = out.decode()
    assert "@prefix kim: <https://w3id.org/uk-kim/def#> ." in text and "kim:mapsToKnowledge" in text
    assert len(Graph().parse(data=text, format="turtle")) == 9


def test_construct_jsonld_is_compacted_with_the_published_context(built_store_path, capsysbinary):
    describe = "DESCRIBE <https://w3id.org/uk-kim/id/standard/ST1337/duty/2>"
    code, out, _ = run(capsysbinary, "query", "--store", str(built_store_path), "--format", "jsonld", describe)
    assert code == 0
    document = json.loads(out)
    assert document["@context"] == "https://w3id.org/uk-kim/context.jsonld"
    assert document["id"] == "https://w3id.org/uk-kim/id/standard/ST1337/duty/2" and document["code"] == "D2"
    code, nt, _ = run(capsysbinary, "query", "--store", str(built_store_path), "--format", "ntriples", describe)
    assert isomorphic(expand_compacted(document), Graph().parse(data=nt.decode(), format="nt"))


@pytest.mark.parametrize("fmt", ["turtle", "trig"])
def test_export_turtle_and_trig_carry_prefixes(built_store_path, capsysbinary, fmt):
    code, out, _ = run(capsysbinary, "export", "--store", str(built_store_path), "--format", fmt)
    assert code == 0
    head = out[:3000].decode()
    assert "@prefix kim: <https://w3id.org/uk-kim/def#> ." in head and "@prefix skos:" in head


def test_a_construct_cannot_be_written_as_csv(built_store_path, capsysbinary):
    code, _, err = run(capsysbinary, "query", "--store", str(built_store_path), "--format", "csv", DUTY_2)
    assert code == 2 and "cannot be written as csv" in err


def test_a_missing_store_is_a_clear_error(tmp_path, capsysbinary):
    code, _, err = run(capsysbinary, "query", "--store", str(tmp_path / "nowhere"), "ASK {}")
    assert code == 2 and "no store at" in err


@pytest.mark.parametrize("fmt,rdflib_format", [("trig", "trig"), ("nquads", "nquads"), ("jsonld", "json-ld")])
def test_export_dataset_formats_keep_graph_names(built_store_path, capsysbinary, fmt, rdflib_format):
    code, out, _ = run(capsysbinary, "export", "--store", str(built_store_path), "--format", fmt)
    assert code == 0
    dataset = Dataset()
    dataset.parse(data=out, format=rdflib_format)
    names = {str(g.identifier) for g in dataset.graphs() if len(g)}
    assert "https://w3id.org/uk-kim/graph/source/57c36d939ff65b92" in names


def test_export_turtle_is_the_union(built_store_path, built_store, capsysbinary):
    code, out, _ = run(capsysbinary, "export", "--store", str(built_store_path), "--format", "turtle")
    assert code == 0
    graph = Graph().parse(data=out, format="turtle")
    distinct = built_store.query("SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o WHERE { ?s ?p ?o } }")
    assert len(graph) == int(next(iter(distinct))["n"].value)


def test_validate_fails_on_violations_by_default(built_store_path, capsysbinary):
    code, out, _ = run(capsysbinary, "validate", "--store", str(built_store_path))
    assert code == 1
    assert b"R06" in out and b"R07" in out


def test_validate_fail_on_never_exits_zero_and_writes_turtle(built_store_path, capsysbinary):
    code, out, _ = run(capsysbinary, "validate", "--store", str(built_store_path), "--format", "turtle",
                       "--fail-on", "never")
    assert code == 0
    report = Graph().parse(data=out, format="turtle")
    assert len(report) > 0


def test_validate_unknown_graph_is_an_error(built_store_path, capsysbinary):
    code, _, err = run(capsysbinary, "validate", "--store", str(built_store_path), "--graph", "https://example.org/x")
    assert code == 2 and "no such source graph" in err


def test_the_console_script_is_installed():
    result = subprocess.run([sys.executable, "-m", "kimgraph.cli", "--help"], capture_output=True, text=True)
    assert result.returncode == 0
    for command in ("build", "validate", "query", "export", "serve"):
        assert command in result.stdout
