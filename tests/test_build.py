"""The build: named graphs, provenance of every triple, atomic replacement, export round trip."""

from __future__ import annotations

import shutil

import pyoxigraph as ox
import pytest
from rdflib import Dataset, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import PROV, RDF

from ingest.manifest import DEFAULT_MANIFEST
from kimdata.namespaces import KIM
from kimgraph.cli import main as kimgraph
from store.embedded import Store

SOURCE_IDS = {"57c36d939ff65b92", "90e2aad157d3105b", "73081f443c3f820b", "08ea021e16e92f40", "2671f4ff48c7fd80"}


def test_one_named_graph_per_source_plus_the_vocabulary_graphs(built_store, iris):
    expected = {str(iris.source_graph(s)) for s in SOURCE_IDS} | {
        str(iris.graph(name)) for name in ("ontology", "alignment", "shapes", "concepts", "validation",
                                           "mapping-set/lexical-bm25", "mapping-set/semantic-minilm")
    }
    assert set(built_store.named_graphs()) == expected


def test_the_default_graph_is_the_merge_of_the_named_graphs(built_store):
    """Every triple sits in a named graph; the default graph holds each of them once."""
    merged = built_store.select("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    distinct = built_store.select("SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o "
                                  "WHERE { GRAPH ?g { ?s ?p ?o } } }")
    quads = built_store.select("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }")
    assert int(merged[0]["n"]) == int(distinct[0]["n"]) == built_store.triple_count()
    assert int(quads[0]["n"]) > int(merged[0]["n"])  # some triples are stated by several sources
    orphans = built_store.select("SELECT (COUNT(*) AS ?n) "
                                 "WHERE { ?s ?p ?o FILTER NOT EXISTS { GRAPH ?g { ?s ?p ?o } } }")
    assert int(orphans[0]["n"]) == 0


def test_every_duty_counts_each_ksb_once(built_store):
    rows = built_store.select("PREFIX kim: <https://w3id.org/uk-kim/def#> SELECT ?d (COUNT(?k) AS ?n) "
                              "(COUNT(DISTINCT ?k) AS ?m) WHERE { VALUES ?map { kim:mapsToKnowledge kim:mapsToSkill "
                              "kim:mapsToBehaviour } ?d ?map ?k } GROUP BY ?d")
    assert rows and all(int(r["n"]) == int(r["m"]) for r in rows)


def test_every_typed_entity_of_a_source_graph_derives_from_that_source(built_store, iris):
    for source_id in SOURCE_IDS:
        graph = built_store.graph(str(iris.source_graph(source_id)))
        document = iris.source(source_id)
        bookkeeping = {KIM.TextSpan, KIM.IngestActivity, KIM.SourceDocument}
        typed = {s for s in graph.subjects(RDF.type, None)
                 if str(s).startswith(iris.id) and "#" not in str(s)
                 and not bookkeeping & set(graph.objects(s, RDF.type))}
        assert typed, source_id
        for entity in typed:
            assert (entity, PROV.wasDerivedFrom, document) in graph, (source_id, entity)


def test_each_source_document_carries_checksum_licence_and_attribution(built_store, iris):
    for source_id in ("57c36d939ff65b92", "90e2aad157d3105b", "08ea021e16e92f40"):
        graph = built_store.graph(str(iris.source_graph(source_id)))
        document = iris.source(source_id)
        assert graph.value(document, KIM.sha256) is not None
        assert graph.value(document, URIRef("http://purl.org/dc/terms/license")) is not None
        assert "Open Government Licence v3.0" in str(graph.value(document, KIM.attributionText))


def test_the_ministry_of_defence_is_one_node_in_two_sources(built_store, iris):
    mod = iris.org("ministry-of-defence")
    graphs = {
        row["g"] for row in built_store.select(
            "SELECT DISTINCT ?g ?mod WHERE { GRAPH ?g { ?mod ?p ?o } }", substitutions={"mod": mod},
            union_default=False)
    }
    assert URIRef(iris.source_graph("90e2aad157d3105b")) in graphs
    assert len(graphs) >= 2


def test_export_and_reimport_give_an_isomorphic_dataset(built_store_path, tmp_path, capsysbinary):
    assert kimgraph(["export", "--store", str(built_store_path), "--format", "trig"]) == 0
    trig = capsysbinary.readouterr().out
    exported = Dataset()
    exported.parse(data=trig, format="trig")
    store = Store.open(built_store_path, read_only=True)
    for iri in store.named_graphs():
        assert isomorphic(exported.graph(URIRef(iri)), store.graph(iri)), iri

    assert kimgraph(["export", "--store", str(built_store_path), "--format", "nquads"]) == 0
    reimported = ox.Store()
    reimported.load(capsysbinary.readouterr().out, format=ox.RdfFormat.N_QUADS)
    quads = store.select("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }")
    assert len(reimported) == int(quads[0]["n"])  # the named graphs; the default graph is their merge


@pytest.mark.slow
def test_a_malformed_source_fails_cleanly_and_keeps_the_previous_store(tmp_path, capsys):
    store_path = tmp_path / "store"
    assert kimgraph(["build", "--store", str(store_path), "--quiet"]) == 0
    before = len(Store.open(store_path, read_only=True))

    sources = tmp_path / "sources"
    shutil.copytree(DEFAULT_MANIFEST.parent, sources)
    shutil.copytree(DEFAULT_MANIFEST.parent.parent / "curated", tmp_path / "curated")
    page = sources / "000_57c36d939ff65b92.txt"
    # A page the extractor reads in part is a source with issues; one that is not text cannot be read at all.
    page.write_bytes(page.read_bytes().replace(b"K1 K2 K3 K4 K11", b"K1 K2 K\xff K4 K11"))
    manifest = sources / "manifest.toml"
    manifest.write_text(manifest.read_text().replace('sha256 = "e6cb77', '# sha256 = "e6cb77'))

    assert kimgraph(["build", "--store", str(store_path), "--manifest", str(manifest)]) == 2
    error = capsys.readouterr().err
    assert "000_57c36d939ff65b92.txt" in error and "not UTF-8" in error
    assert len(Store.open(store_path, read_only=True)) == before


def test_a_changed_source_is_refused_by_its_checksum(tmp_path, capsys):
    sources = tmp_path / "sources"
    shutil.copytree(DEFAULT_MANIFEST.parent, sources)
    shutil.copytree(DEFAULT_MANIFEST.parent.parent / "curated", tmp_path / "curated")
    page = sources / "001_90e2aad157d3105b.txt"
    page.write_text(page.read_text().replace("Jersey Library", "Guernsey Library"))
    assert kimgraph(["build", "--store", str(tmp_path / "store"), "--manifest", str(sources / "manifest.toml")]) == 2
    assert "checksum" in capsys.readouterr().err
    assert not (tmp_path / "store").exists()


@pytest.mark.slow
def test_a_rebuild_replaces_the_store_atomically(tmp_path):
    store_path = tmp_path / "store"
    assert kimgraph(["build", "--store", str(store_path), "--quiet"]) == 0
    first = store_path.resolve()
    assert kimgraph(["build", "--store", str(store_path), "--quiet"]) == 0
    second = store_path.resolve()
    assert first != second and store_path.is_symlink()
    assert len(Store.open(store_path, read_only=True)) > 3000


def test_organisations_and_relations_are_queryable(built_store, iris):
    rows = built_store.select(
        "SELECT ?unit ?cilip WHERE { ?unit <http://www.w3.org/ns/org#subOrganizationOf> ?cilip }",
        substitutions={"cilip": iris.org("cilip")})
    units = {row["unit"] for row in rows}
    assert iris.org("government-information-group") in units
