"""The fast engine (conformance.fast) against the reference (pyshacl): same findings, same report graph."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.compare import isomorphic

from conformance.fast import check_graph, check_store, compile_shapes, relabel_blank_nodes
from conformance.reference import Report, ShapesError, check, load_shapes
from ingest.build import source_graphs, validation_input, vocabulary_graphs
from ingest.manifest import load_manifest
from kimdata.namespaces import SH
from kimgraph.cli import main as kimgraph
from store.embedded import Store

ROOT = Path(__file__).resolve().parent.parent
CASE_FILES = sorted((Path(__file__).parent / "data" / "shapes").glob("*.ttl"))
PARSED = {"57c36d939ff65b92", "90e2aad157d3105b"}


@pytest.fixture(scope="module")
def shapes() -> Graph:
    return load_shapes()


def keys(report: Report) -> set[tuple]:
    """The findings' fields; blank nodes (whose ids differ between engines) as "_:"."""
    blanks = {str(n) for n in report.graph.all_nodes() if isinstance(n, BNode)}

    def name(text: str | None) -> str | None:
        return "_:" if text in blanks else text
    return {(name(f.focus), f.shape, f.severity, f.message, f.path, name(f.value)) for f in report.findings}


def assert_same(reference: Report, fast: Report) -> None:
    """Same findings (in the same order), same verdict, and isomorphic sh:ValidationReport graphs."""
    assert keys(fast) == keys(reference)
    assert fast.findings == reference.findings
    assert fast.conforms == reference.conforms
    assert isomorphic(fast.graph, reference.graph)
    assert fast.to_text() == reference.to_text()


# ---------------------------------------------------------------- every shape case file


@pytest.mark.parametrize("path", CASE_FILES, ids=[p.stem for p in CASE_FILES])
def test_case_file_gives_the_reference_findings(path: Path, shapes: Graph):
    data = Graph().parse(path)
    assert_same(check(data, shapes), check_graph(data, shapes))


def test_every_shape_compiles_to_one_query(shapes: Graph):
    units = compile_shapes(shapes)
    targeted = {s for t in (SH.targetClass, SH.targetSubjectsOf) for s in shapes.subjects(t, None)}
    assert {u.shape for u in units} == targeted
    assert all(u.query and u.query.count("SELECT DISTINCT ?fv_branch") == 1 for u in units)


# ---------------------------------------------------------------- our own data


@pytest.fixture(scope="module")
def graphs(iris):
    return vocabulary_graphs(iris) + source_graphs(load_manifest(), iris)


@pytest.mark.slow
def test_parsed_pages_alone(graphs, shapes):
    data = validation_input([g for g in graphs if not g.is_data or str(g.iri).rsplit("/", 1)[1] in PARSED])
    assert_same(check(data, shapes), check_graph(data, shapes))


@pytest.mark.slow
def test_all_sources(graphs, shapes):
    data = validation_input(graphs)
    reference, fast = check(data, shapes), check_graph(data, shapes)
    assert_same(reference, fast)
    assert {f.rule for f in fast.findings} >= {"R06", "R07", "R13", "R16", "W06", "W08", "W09"}


@pytest.mark.slow
def test_built_store_in_place(built_store: Store, iris):
    """check_store on the stored source graphs and concepts equals pyshacl on an rdflib copy of them."""
    graphs = [g for g in built_store.named_graphs() if g.startswith(str(iris.graph("source/")))]
    graphs.append(str(iris.graph("concepts")))
    copy = Graph()
    for iri in graphs:
        copy += built_store.graph(iri)
    assert_same(check(copy), check_store(built_store, graphs=graphs))


# ---------------------------------------------------------------- a generated corpus with defects


@pytest.fixture(scope="module")
def corpus_store(tmp_path_factory) -> Path:
    """Eight generated standards (unmapped KSBs, empty duties, a bad reference, a dangling mapping)."""
    folder = tmp_path_factory.mktemp("corpus")
    feed = folder / "feed.json"
    subprocess.run([sys.executable, str(ROOT / "bench" / "corpus.py"), "--standards", "8", "--out", str(feed)],
                   check=True, capture_output=True)
    assert kimgraph(["build", "--store", str(folder / "store"), "--quiet", str(feed)]) == 0
    store = Store.open(folder / "store")
    # Defects the feed cannot carry: a lost title, a mapping to nothing, a mapping into another standard.
    store.update("""
        PREFIX kim: <https://w3id.org/uk-kim/def#> PREFIX dcterms: <http://purl.org/dc/terms/>
        DELETE { GRAPH ?g { ?s dcterms:title ?t } }
        WHERE { GRAPH ?g { ?s dcterms:title ?t } FILTER(STRENDS(STR(?s), "/ST0002")) } ;
        INSERT { GRAPH ?g { ?d kim:mapsToSkill <https://w3id.org/uk-kim/id/standard/ST0002/ksb/S99> ;
                                kim:mapsToKnowledge ?k } }
        WHERE { GRAPH ?g { ?d kim:dutyOf ?s . ?k a kim:Knowledge ; <https://purl.org/ctdlasn/terms/isPartOf> ?other }
                FILTER(STRENDS(STR(?d), "/ST0002/duty/1") && STRENDS(STR(?other), "/ST0003")) }""")
    store.flush()
    del store
    return folder / "store"


@pytest.mark.slow
def test_generated_corpus(corpus_store: Path, iris):
    store = Store.open(corpus_store, read_only=True)
    graphs = [g for g in store.named_graphs() if g.startswith(str(iris.graph("source/")))]
    graphs.append(str(iris.graph("concepts")))
    copy = Graph()
    for iri in graphs:
        copy += store.graph(iri)
    reference, fast = check(copy), check_store(store, graphs=graphs)
    assert_same(reference, fast)
    assert {"R01", "R02", "R06", "R07", "R08"} <= {f.rule for f in fast.findings}


# ---------------------------------------------------------------- the command line


def run_validate(store: Path, *options: str, capsys) -> tuple[int, str]:
    status = kimgraph(["validate", "--store", str(store), *options])
    return status, capsys.readouterr().out


@pytest.mark.slow
def test_cli_engines_print_the_same_reports(built_store_path: Path, capsys):
    status_r, turtle_r = run_validate(built_store_path, "--engine", "reference", "--format", "turtle", capsys=capsys)
    status_f, turtle_f = run_validate(built_store_path, "--engine", "fast", "--format", "turtle", capsys=capsys)
    assert status_r == status_f == 1
    reference, fast = Graph().parse(data=turtle_r, format="turtle"), Graph().parse(data=turtle_f, format="turtle")
    assert len(fast) > 100 and isomorphic(fast, reference)
    _, text_r = run_validate(built_store_path, "--engine", "reference", capsys=capsys)
    _, text_f = run_validate(built_store_path, capsys=capsys)  # fast is the default
    assert text_f == text_r and "R06" in text_f


def test_cli_fast_engine_refuses_an_unknown_graph(built_store_path: Path, capsys):
    status = kimgraph(["validate", "--store", str(built_store_path), "--graph", "urn:x:nothing"])
    assert status == 2 and "no such source graph" in capsys.readouterr().err


def test_relabelled_reports_survive_a_turtle_round_trip(shapes):
    """rdflib's Turtle writer can print a list cell twice under a shared blank node (rdflib#802)."""
    data = Graph().parse(data="""
        @prefix kim: <https://w3id.org/uk-kim/def#> .
        <urn:x:d1> a kim:Duty . <urn:x:d2> a kim:Duty . <urn:x:d3> a kim:Duty .""", format="turtle")
    for _ in range(20):
        graph = relabel_blank_nodes(check_graph(data, shapes).graph)
        assert isomorphic(Graph().parse(data=graph.serialize(format="turtle"), format="turtle"), graph)


# ---------------------------------------------------------------- SHACL features our shapes do not use

FEATURE_SHAPES = """
@prefix sh:  <http://www.w3.org/ns/shacl#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix ex:  <urn:ex:> .

ex:pfx a owl:Ontology ; sh:declare [ sh:prefix "ex" ; sh:namespace "urn:ex:"^^xsd:anyURI ] .
ex:Node1 a sh:NodeShape ; sh:targetNode ex:a , ex:missing , "lit" ;
    sh:nodeKind sh:IRI ; sh:severity sh:Warning ; sh:message "X01 node kind" .
ex:Objects a sh:PropertyShape ; sh:targetObjectsOf ex:knows ; sh:path ex:name ;
    sh:minLength 2 ; sh:maxLength 5 ; sh:datatype xsd:string ; sh:message "X02 name" .
ex:Seq a sh:PropertyShape ; sh:targetClass ex:Person ; sh:path ( ex:knows ex:name ) ;
    sh:minCount 2 ; sh:maxCount 3 ; sh:message "X03 seq" .
ex:Star a sh:PropertyShape ; sh:targetClass ex:Person ; sh:path [ sh:zeroOrMorePath ex:knows ] ;
    sh:class ex:Person ; sh:message "X04 star" ; sh:severity sh:Info .
ex:Plus a sh:PropertyShape ; sh:targetClass ex:Person ; sh:path [ sh:oneOrMorePath ex:knows ] ;
    sh:maxCount 1 ; sh:message "X05 plus" .
ex:Opt a sh:PropertyShape ; sh:targetClass ex:Person ; sh:path [ sh:zeroOrOnePath [ sh:inversePath ex:knows ] ] ;
    sh:nodeKind sh:BlankNodeOrIRI ; sh:message "X06 opt" .
ex:In a sh:PropertyShape ; sh:targetClass ex:Person ; sh:path ex:age ;
    sh:in ( 1 2 "three" ex:four ) ; sh:message "X07 in" .
ex:Range a sh:PropertyShape ; sh:targetClass ex:Person ; sh:path ex:age ;
    sh:minExclusive 0 ; sh:maxExclusive 150 ; sh:datatype xsd:integer ; sh:message "X08 range" .
ex:Pattern a sh:PropertyShape ; sh:targetClass ex:Person ; sh:path ex:homepage ;
    sh:pattern "^URN:EX:" ; sh:flags "i" ; sh:message "X09 pattern" .
ex:HasValue a sh:PropertyShape ; sh:targetClass ex:Person ; sh:path ex:tag ;
    sh:hasValue "x"@en , 5 ; sh:message "X10 has value" .
ex:Lang a sh:PropertyShape ; sh:targetClass ex:Person ; sh:path ex:name ;
    sh:datatype rdf:langString ; sh:message "X11 lang" .
ex:Qual a sh:PropertyShape ; sh:targetClass ex:Person ; sh:path ex:age ;
    sh:qualifiedValueShape [ sh:datatype xsd:integer ] ; sh:qualifiedMinCount 1 ; sh:qualifiedMaxCount 1 ;
    sh:message "X12 qualified" .
ex:Logic a sh:NodeShape ; sh:targetClass ex:Person ;
    sh:xone ( [ sh:path ex:age ; sh:minCount 1 ] [ sh:path ex:name ; sh:minCount 1 ] ) ;
    sh:and ( [ sh:path ex:knows ; sh:maxCount 2 ] [ sh:not [ sh:class ex:Robot ] ] ) ;
    sh:message "X13 logic" .
ex:Nested a sh:NodeShape ; sh:targetClass ex:Person ;
    sh:property [ sh:path ex:knows ; sh:minCount 1 ; sh:message "X15 child" ;
        sh:property [ sh:path ex:name ; sh:minCount 1 ; sh:severity sh:Warning ; sh:message "X16 grandchild" ] ] .
ex:NodeRef a sh:NodeShape ; sh:targetClass ex:Person ;
    sh:or ( [ sh:node ex:Named ] [ sh:path ex:age ; sh:hasValue 1 ] ) ; sh:message "X17 or node" .
ex:Named a sh:NodeShape ; sh:property [ sh:path ex:name ; sh:minCount 1 ; sh:pattern "^[A-Z]" ] .
ex:Inverse a sh:PropertyShape ; sh:targetClass ex:Person ; sh:path [ sh:inversePath ex:knows ] ;
    sh:minCount 1 ; sh:message "X18 nobody knows" .
ex:Sparql a sh:PropertyShape ; sh:targetClass ex:Person ; sh:path ex:knows ; sh:severity sh:Warning ;
    sh:message "X19 {$this} knows {?value} via {$path} ({?n})" ;
    sh:sparql [ sh:prefixes ex:pfx ; sh:message "X19b {?value}" ;
        sh:select "SELECT $this ?value ?n WHERE { $this $PATH ?value . ?value ex:score ?n . FILTER(?n > 40) }" ] .
ex:SparqlNoThis a sh:NodeShape ; sh:targetClass ex:Person ; sh:message "X20 never reported" ;
    sh:sparql [ sh:prefixes ex:pfx ; sh:select "SELECT ?name WHERE { $this ex:name ?name }" ] .
ex:SparqlGroup a sh:NodeShape ; sh:targetClass ex:Person ; sh:message "X21 {?c} friends" ;
    sh:sparql [ sh:prefixes ex:pfx ;
        sh:select "SELECT $this (COUNT(?f) AS ?c) WHERE { $this ex:knows ?f } GROUP BY $this HAVING (COUNT(?f) > 1)" ] .
ex:Dt a sh:PropertyShape ; sh:targetClass ex:Person ; sh:path ex:born ; sh:datatype xsd:date ; sh:message "X22 date" .
ex:Deact a sh:PropertyShape ; sh:targetClass ex:Person ; sh:path ex:name ; sh:minCount 9 ; sh:deactivated true ;
    sh:message "X24" .
ex:Robot a rdfs:Class , sh:NodeShape ; sh:property [ sh:path ex:serial ; sh:minCount 1 ; sh:message "X25 implicit" ] .
ex:Unscored a sh:NodeShape ; sh:targetClass ex:Person ; sh:message "X26 knows someone without a score" ;
    sh:sparql [ sh:prefixes ex:pfx ;
        sh:select "SELECT $this ?f WHERE { $this ex:knows ?f . FILTER NOT EXISTS { ?f ex:score ?s } }" ] .
ex:Homepage a sh:NodeShape ; sh:targetClass ex:Person ; sh:message "X27 homepage without score" ;
    sh:sparql [ sh:prefixes ex:pfx ; sh:select '''SELECT $this WHERE { $this a ex:Person .
        OPTIONAL { $this ex:homepage ?h } FILTER NOT EXISTS { ?h ex:score ?s } }''' ] .
ex:TopScore a sh:NodeShape ; sh:targetClass ex:Person ; sh:message "X29 knows nobody who scores more" ;
    sh:sparql [ sh:prefixes ex:pfx ; sh:select '''SELECT $this WHERE { $this ex:score ?s .
        FILTER NOT EXISTS { $this ex:knows ?f . ?f ex:score ?t . FILTER(?t > ?s) } }''' ] .
ex:Oldest a sh:PropertyShape ; sh:targetClass ex:Person ; sh:path ex:score ; sh:message "X28 best {?value}" ;
    sh:sparql [ sh:prefixes ex:pfx ; sh:select '''SELECT $this ?value WHERE { $this $PATH ?value .
        FILTER NOT EXISTS { $this $PATH ?w . FILTER(?w > ?value) } }''' ] .
"""

FEATURE_DATA = """
@prefix ex:  <urn:ex:> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
ex:a a ex:Person ; ex:score 41 ; ex:name "Alice" , "al"@en ; ex:age 30 , "three" ; ex:knows ex:b , ex:c , _:anon ;
    ex:homepage <urn:ex:alice> ; ex:tag "x"@en , 5 ; ex:born "2020-01-01"^^xsd:date .
ex:b a ex:Person ; ex:score 3 , 7 ; ex:name "b" , "Bobby Tables"; ex:age 200 , 1 ; ex:knows ex:a ;
    ex:homepage "http://bob" ;
    ex:tag "x" ; ex:born "not a date"^^xsd:date .
ex:c a ex:Robot , ex:Person ; ex:score 99 ; ex:age 45 , 2.5 ; ex:knows ex:d ; ex:serial "r1" .
ex:d a ex:Robot ; ex:name "Dee"@en .
_:anon ex:name "Anonymous person" ; ex:age 50 ; ex:knows [ ex:name "Inner" ] .
ex:e a ex:Person ; ex:knows _:anon .
"""


def test_core_features_and_sparql_constraints_match_the_reference():
    shapes = Graph().parse(data=FEATURE_SHAPES, format="turtle")
    data = Graph().parse(data=FEATURE_DATA, format="turtle")
    reference, fast = check(data, shapes), check_graph(data, shapes)
    assert keys(fast) == keys(reference)
    assert len(fast.findings) == len(reference.findings) and fast.conforms == reference.conforms
    assert isomorphic(fast.graph, reference.graph)
    fired = {f.message.split()[0] for f in fast.findings}
    assert fired >= {"X01", "X02", "X03", "X04", "X05", "X07", "X08", "X09", "X10", "X11", "X12", "X13",
                     "X16", "X17", "X18", "X19", "X21", "X22", "X25", "X26", "X27", "X28", "X29"}
    assert not fired & {"X20", "X24"}
    x19 = next(f for f in fast.findings if f.message.startswith("X19 urn:ex:a"))
    assert x19.message == "X19 urn:ex:a knows urn:ex:c via {$path} (99)"  # ?path is not projected


def test_not_exists_becomes_minus_only_where_both_mean_the_same(shapes: Graph):
    """A NOT EXISTS over triple patterns that share a bound variable runs as MINUS (one anti-join)."""
    features = {str(u.shape).rsplit(":", 1)[-1]: u.query for u in
                compile_shapes(Graph().parse(data=FEATURE_SHAPES, format="turtle")) if u.query}
    assert "MINUS" in features["Unscored"]
    assert "MINUS" not in features["Homepage"]  # ?h may be unbound: MINUS would keep rows NOT EXISTS drops
    assert "MINUS" not in features["Oldest"]  # a FILTER inside
    ours = {str(u.shape).rsplit("#", 1)[-1] for u in compile_shapes(shapes) if u.query and "MINUS" in u.query}
    assert {"R09-code-sequence", "R10-duty-sequence", "W09-behaviours-unmapped"} <= ours


def test_exists_groups_are_nested_one_pattern_a_level(shapes: Graph):
    """A [NOT] EXISTS with FILTERs runs as lookups in stated order, not a hash join per row."""
    features = {str(u.shape).rsplit(":", 1)[-1]: u.query for u in
                compile_shapes(Graph().parse(data=FEATURE_SHAPES, format="turtle")) if u.query}
    assert "$this ex:knows ?f . FILTER EXISTS { ?f ex:score ?t . FILTER(?t > ?s) }" in features["TopScore"]
    ours = {str(u.shape).rsplit("#", 1)[-1]: u.query for u in compile_shapes(shapes) if u.query}
    for name in ("W01-skill-verb", "W04-duty-verb"):
        assert "?verb a kim:ActionVerb . FILTER EXISTS { ?verb skos:prefLabel ?label ." in ours[name]


@pytest.mark.parametrize("shape", [
    "sh:closed true",
    "sh:path ex:p ; sh:equals ex:q",
    "sh:path ex:p ; sh:languageIn ( 'en' )",
    "sh:node [ sh:class ex:C ]",
    "sh:path ex:p ; sh:sparql [ sh:select 'SELECT $this WHERE { VALUES ?x { 1 } $this ?p ?x }' ]",
    "sh:path ex:p ; sh:sparql [ sh:select 'SELECT $this WHERE { $this ?p ?x } LIMIT 1' ]",
    "sh:sparql [ sh:select 'SELECT (COUNT(?x) AS ?n) WHERE { $this ?p ?x }' ]",
    "sh:path ex:p ; sh:pattern '(?=a)b'",
    "sh:sparql [ sh:select 'SELECT $this WHERE { { SELECT ?x WHERE { ?x ?p ?o } } $this ?q ?x }' ]",
])
def test_unsupported_features_are_refused(shape: str):
    shapes = Graph().parse(data=f"""
        @prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <urn:ex:> .
        ex:S sh:targetClass ex:C ; sh:message "X99" ; {shape} .""", format="turtle")
    with pytest.raises(ShapesError):
        compile_shapes(shapes)


def test_result_shape_without_a_message_is_refused():
    shapes = Graph().parse(data="""@prefix sh: <http://www.w3.org/ns/shacl#> .
        <urn:ex:S> sh:targetClass <urn:ex:C> ; sh:path <urn:ex:p> ; sh:minCount 1 .""", format="turtle")
    with pytest.raises(ShapesError, match="sh:message"):
        compile_shapes(shapes)


def test_literals_oxigraph_would_rewrite_are_refused(shapes):
    data = Graph()
    data.add((URIRef("urn:ex:a"), URIRef("urn:ex:p"), Literal("12", datatype=URIRef("http://www.w3.org/2001/XMLSchema#byte"))))
    with pytest.raises(ValueError, match="xsd:integer"):
        check_graph(data, shapes)


def test_blank_node_focus_is_copied_into_the_report():
    shapes = Graph().parse(data="""@prefix sh: <http://www.w3.org/ns/shacl#> .
        <urn:ex:S> sh:targetSubjectsOf <urn:ex:p> ; sh:path <urn:ex:q> ; sh:minCount 1 ; sh:message "X30" .""",
        format="turtle")
    data = Graph().parse(data="[ <urn:ex:p> [ <urn:ex:r> 1 ] ] .", format="turtle")
    fast = check_graph(data, shapes)
    focus = next(fast.graph.objects(None, SH.focusNode))
    assert isinstance(focus, BNode) and (focus, URIRef("urn:ex:p"), None) in fast.graph
    assert isomorphic(fast.graph, check(data, shapes).graph)
