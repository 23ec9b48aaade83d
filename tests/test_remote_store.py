"""The service over a remote SPARQL 1.1 store: a real ``oxigraph serve``, compared with the embedded store.

The project's dataset is loaded into the Oxigraph server with ``build_remote``; every check then asks
the remote store and the embedded one built by ``kimgraph build`` the same thing and expects the same
answer: queries, named queries with their example values, bound built-in queries, dumps, the CLI, and
the HTTP API run by ``kimgraph serve`` with ``KIM_STORE_URL`` against the same API over the embedded store.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.compare import isomorphic

from ingest.build import source_graphs, vocabulary_graphs
from ingest.manifest import load_manifest
from kimgraph.cli import main as kimgraph
from sparql_api import formats
from sparql_api.linked_data import resource_query
from sparql_api.named_queries import bind, load_queries
from sparql_api.settings import Settings
from store.connect import open_store
from store.embedded import Store
from store.errors import QuerySyntaxError, RemoteStoreError, StoreError, StoreTimeout, StoreUnavailable
from store.remote import RemoteStore, build_remote
from store.sparql_text import bind_values
from store.terms import is_graph, to_rdflib
from tests.server import AUTH, READ_ENV, TOKEN, free_port, running_server

OXIGRAPH = shutil.which("oxigraph", path=str(Path(sys.executable).parent)) or shutil.which("oxigraph")
NO_SERVER = ("the `oxigraph` server (PyPI package `oxigraph`) is not installed; "
             "pip install -e '.[test]' brings it")

KIM = "https://w3id.org/uk-kim/def#"
ST1337 = "https://w3id.org/uk-kim/id/standard/ST1337"
DUTY_2 = ST1337 + "/duty/2"
HOSTILE = 'K1" } ; DROP ALL ; #'
# Runs for minutes on any store: the server's --timeout-s and our request limit must both stop it.
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
SERVER_TIMEOUT_S = 3


# ------------------------------------------------------------------ fixtures

@pytest.fixture(scope="module")
def oxigraph_url(tmp_path_factory) -> Iterator[str]:
    """``oxigraph serve`` on 127.0.0.1 and a free port, over an empty directory; its base URL."""
    if OXIGRAPH is None:
        pytest.skip(NO_SERVER)
    base = tmp_path_factory.mktemp("oxigraph")
    port = free_port()
    log = open(base / "oxigraph.log", "wb")
    process = subprocess.Popen([OXIGRAPH, "serve", "--location", str(base / "data"), "--bind", f"127.0.0.1:{port}",
                                "--timeout-s", str(SERVER_TIMEOUT_S)], stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"oxigraph exited: {(base / 'oxigraph.log').read_text()}")
            try:
                if httpx.post(url + "/query", data={"query": "ASK {}"}, timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("oxigraph did not start")
            time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.fixture(scope="module")
def embedded(protocol_store) -> Store:
    """The embedded store the shared read-only test server serves: the build plus three W3C test graphs."""
    return Store.open(protocol_store, read_only=True)


BUILT: dict[str, bool] = {}  # graph -> whether build_remote gave what kimgraph build did (timestamps aside)
TIMES = {URIRef("http://www.w3.org/ns/prov#startedAtTime"), URIRef("http://www.w3.org/ns/prov#endedAtTime")}


def _timeless(graph: Graph) -> Graph:
    kept = Graph()
    for triple in graph:
        if triple[1] not in TIMES:
            kept.add(triple)
    return kept


@pytest.fixture(scope="module")
def remote(oxigraph_url, embedded, iris) -> Iterator[RemoteStore]:
    """The remote store, loaded as ``kimgraph build`` would: vocabulary and source graphs, and the report.

    The sources are parsed afresh, so their ingest activities carry other times than the embedded
    build's; once that is checked (BUILT), the embedded build's graphs replace them, so that every
    later comparison can ask for equality.
    """
    store = RemoteStore(oxigraph_url + "/query")
    validation = str(iris.graph("validation"))
    graphs = vocabulary_graphs(iris) + source_graphs(load_manifest(), iris)
    build_remote(store, graphs + [(validation, embedded.graph(validation))])
    for named in graphs:
        BUILT[str(named.iri)] = isomorphic(_timeless(store.graph(str(named.iri))),
                                           _timeless(embedded.graph(str(named.iri))))
    build_remote(store, [(name, embedded.graph(name)) for name in embedded.named_graphs()])
    yield store
    store.close()


def _term(value) -> str:
    return "_:b" if isinstance(value, (BNode, ox.BlankNode)) else str(value)


def rows(store, sparql: str, **kwargs) -> list[tuple]:
    """The solutions as a sorted list of (variable, value) tuples; blank nodes all alike."""
    return sorted(tuple(sorted((k, _term(v)) for k, v in row.items())) for row in store.select(sparql, **kwargs))


def triples_graph(result) -> Graph:
    """A CONSTRUCT or DESCRIBE result as an rdflib Graph."""
    graph = Graph()
    for t in result:
        graph.add((to_rdflib(t.subject), to_rdflib(t.predicate), to_rdflib(t.object)))
    return graph


# ------------------------------------------------------------------ settings and opening

def test_settings_read_the_store_urls_from_the_environment(monkeypatch):
    monkeypatch.setenv("KIM_STORE_URL", "http://fuseki:3030/ds/query")
    monkeypatch.setenv("KIM_STORE_GSP_URL", "http://fuseki:3030/ds/data")
    monkeypatch.setenv("KIM_STORE_UNION_PARAM", "")
    settings = Settings()
    store = RemoteStore.from_settings(settings, check=False)
    assert (store.query_url, store.update_url, store.gsp_url) == (
        "http://fuseki:3030/ds/query", "http://fuseki:3030/ds/update", "http://fuseki:3030/ds/data")
    assert store.union is None


def test_oxigraph_endpoints_are_derived_from_the_query_url():
    store = RemoteStore("http://h:7878/query")
    assert (store.update_url, store.gsp_url, store.union) == ("http://h:7878/update", "http://h:7878/store", None)
    assert RemoteStore("http://h:7878/query", union_param="union-default-graph").union == ("union-default-graph", "")


def test_empty_store_url_means_the_embedded_store(monkeypatch, built_store_path):
    monkeypatch.setenv("KIM_STORE_URL", "")
    assert isinstance(open_store(Settings(), read_only=True, path=built_store_path), Store)


def test_non_http_store_url_is_refused():
    with pytest.raises(ValueError):
        Settings(store_url="file:///etc/passwd")


def test_unreachable_store_is_reported_when_opened():
    settings = Settings(store_url=f"http://127.0.0.1:{free_port()}/query")
    with pytest.raises(StoreUnavailable, match="does not answer"):
        open_store(settings)


def test_open_store_gives_the_remote_store(oxigraph_url):
    store = open_store(Settings(store_url=oxigraph_url + "/query"), read_only=True)
    assert isinstance(store, RemoteStore) and store.read_only and store.path is None
    store.close()


# ------------------------------------------------------------------ the same data

def test_build_remote_loads_what_kimgraph_build_does(remote, embedded, iris):
    built = [g for g in embedded.named_graphs() if g.startswith(iris.base) and not g.endswith("/validation")]
    assert sorted(BUILT) == built and all(BUILT.values()), BUILT


def test_named_graphs_and_size_are_the_embedded_stores(remote, embedded):
    assert remote.named_graphs() == embedded.named_graphs()
    assert len(remote) == len(embedded)


def test_every_graph_is_isomorphic(remote, embedded):
    for name in embedded.named_graphs():
        assert isomorphic(remote.graph(name), embedded.graph(name)), name


def _quads(data: bytes, fmt: ox.RdfFormat) -> list[tuple[str, ...]]:
    """Every quad as text, blank nodes all alike (graph isomorphism is checked graph by graph above)."""
    return sorted(tuple(_term(t) for t in (q.subject, q.predicate, q.object, q.graph_name))
                  for q in ox.parse(data, fmt))


def test_dump_holds_the_same_quads(remote, embedded):
    for fmt, ox_format in (("trig", ox.RdfFormat.TRIG), ("nquads", ox.RdfFormat.N_QUADS),
                           ("turtle", ox.RdfFormat.TURTLE)):
        assert _quads(remote.dump(fmt), ox_format) == _quads(embedded.dump(fmt), ox_format), fmt
    one = "https://w3id.org/uk-kim/graph/ontology"
    assert isomorphic(Graph().parse(data=remote.dump("ntriples", one), format="nt"), embedded.graph(one))


# ------------------------------------------------------------------ queries

NAMED = load_queries()


@pytest.mark.parametrize("name", list(NAMED))
def test_named_query_with_its_example_values_matches(remote, embedded, iris, name):
    query = NAMED[name]
    values = bind(query, query.examples(iris))
    expected = rows(embedded, query.text, substitutions=values)
    assert rows(remote, query.text, substitutions=values) == expected
    assert expected or not values  # the examples find something


@pytest.mark.parametrize("name", [n for n, q in NAMED.items() if q.params])
def test_named_query_unbound_matches(remote, embedded, name):
    text = NAMED[name].text
    assert rows(remote, text) == rows(embedded, text)


AD_HOC = [
    ("select", "SELECT ?p (COUNT(*) AS ?n) WHERE { ?s ?p ?o } GROUP BY ?p", {}),
    ("select-graphs", "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g", {}),
    ("default-graph-is-the-merge", "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", {"union_default": False}),
    ("count-is-distinct", f"PREFIX kim: <{KIM}> SELECT ?d (COUNT(?k) AS ?n) (COUNT(DISTINCT ?k) AS ?m) "
                          "WHERE { ?d kim:mapsToKnowledge ?k } GROUP BY ?d", {}),
    ("from", "SELECT (COUNT(*) AS ?n) FROM <https://w3id.org/uk-kim/graph/ontology> WHERE { ?s ?p ?o }",
     {"union_default": False}),
    ("default-graphs", "SELECT ?s WHERE { ?s a ?c }", {"default_graphs": ["https://w3id.org/uk-kim/graph/concepts"]}),
    ("named-graphs", "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }",
     {"default_graphs": [], "named_graphs": ["https://w3id.org/uk-kim/graph/shapes"]}),
    ("optional-filter", f"PREFIX kim: <{KIM}> SELECT ?d ?o WHERE {{ ?d a kim:Duty OPTIONAL {{ ?d kim:ordinal ?o "
                        "FILTER(?o > 3) } }", {}),
    ("bnodes", "SELECT ?s ?p WHERE { ?s ?p ?o FILTER(isBlank(?s)) }", {}),
]


@pytest.mark.parametrize("name,sparql,kwargs", AD_HOC, ids=[c[0] for c in AD_HOC])
def test_select_matches(remote, embedded, name, sparql, kwargs):
    assert rows(remote, sparql, **kwargs) == rows(embedded, sparql, **kwargs)


@pytest.mark.parametrize("sparql,expected", [(f"ASK {{ <{DUTY_2}> ?p ?o }}", True),
                                             ("ASK { <urn:nothing> ?p ?o }", False)])
def test_ask_matches(remote, embedded, sparql, expected):
    answer = remote.query(sparql)
    assert isinstance(answer, ox.QueryBoolean) and bool(answer) is expected is bool(embedded.query(sparql))


@pytest.mark.parametrize("sparql", [
    f"CONSTRUCT {{ <{DUTY_2}> ?p ?o }} WHERE {{ <{DUTY_2}> ?p ?o }}",
    "CONSTRUCT WHERE { ?s a <http://www.w3.org/ns/shacl#NodeShape> ; ?p ?o }",
    f"DESCRIBE <{ST1337}>",
    "CONSTRUCT { ?r ?p ?o } WHERE { ?r a <http://www.w3.org/ns/shacl#ValidationResult> ; ?p ?o }",
])
def test_construct_and_describe_match(remote, embedded, sparql):
    answer = remote.query(sparql)
    assert is_graph(answer) and isinstance(answer, ox.QueryTriples)
    got = triples_graph(answer)
    assert len(got) > 0
    assert isomorphic(got, triples_graph(embedded.query(sparql)))


def test_results_serialise_like_the_embedded_stores(remote, embedded):
    sparql = f"PREFIX kim: <{KIM}> SELECT ?d ?o WHERE {{ ?d a kim:Duty ; kim:ordinal ?o }} ORDER BY ?o"
    for fmt in ("json", "xml", "csv", "tsv"):
        got = formats.serialize_result(remote.query(sparql), fmt, 1000)
        assert got == formats.serialize_result(embedded.query(sparql), fmt, 1000), fmt


def test_syntax_error_is_query_syntax_error_with_the_servers_position(remote):
    with pytest.raises(QuerySyntaxError, match=r"^line 2, column \d+: "):
        remote.query("SELECT * WHERE {\n ?s ?p }")
    with pytest.raises(QuerySyntaxError, match=r"^line 1, column 21: undefined prefix foo"):
        remote.query("SELECT * WHERE { ?s foo:bar ?o }")


# ------------------------------------------------------------------ bound values

def _bound_cases(iris):
    """The built-in queries run with bound values: every ``*_QUERY`` of the modules that have them."""
    import importlib

    values = {"standard": iris.standard("ST1337"), "validation": iris.graph("validation")}
    cases = [("resource-duty", resource_query(), {"iri": URIRef(DUTY_2)}),
             ("resource-standard", resource_query(), {"iri": iris.standard("ST1337")})]
    for module_name in ("sparql_api.coverage", "sparql_api.standard_reports"):
        module = importlib.import_module(module_name)
        for name, text in sorted(vars(module).items()):
            if name.endswith("_QUERY") and isinstance(text, str) and "?standard" in text:
                cases.append((f"{module_name}.{name}", text,
                              {k: v for k, v in values.items() if f"?{k}" in text}))
    return cases


def test_built_in_bound_queries_match(remote, embedded, iris):
    cases = _bound_cases(iris)
    assert len(cases) > 2
    for name, sparql, values in cases:
        expected = embedded.query(sparql, substitutions=values)
        answer = remote.query(sparql, substitutions=values)
        if is_graph(expected):
            assert isomorphic(triples_graph(answer), triples_graph(expected)), name
        else:
            assert rows(remote, sparql, substitutions=values) == rows(embedded, sparql, substitutions=values), name


def test_values_blocks_bind_as_substitutions_do(embedded, iris):
    """The rewriting alone, on the embedded store: VALUES blocks give what pyoxigraph substitutions give."""
    cases = _bound_cases(iris) + [(n, q.text, bind(q, q.examples(iris))) for n, q in NAMED.items() if q.params]
    for name, sparql, values in cases:
        expected = embedded.query(sparql, substitutions=values)
        got = embedded.query(bind_values(sparql, values))
        if is_graph(expected):
            assert isomorphic(triples_graph(got), triples_graph(expected)), name
        else:
            names = [v.value for v in expected.variables]
            assert sorted(tuple(_term(r[n]) for n in names) for r in got) == \
                   sorted(tuple(_term(r[n]) for n in names) for r in expected), name


@pytest.mark.parametrize("value", [
    Literal(HOSTILE), Literal('x" . } } ; CLEAR ALL ; SELECT * { "'), Literal("\\u0022 } ; DROP ALL ; #"),
    Literal("back\\slash \\\" quote"), Literal("\\\\u0022"), Literal("''' \"\"\" # } { > <"),
    Literal("tab\tnew\nline\rcr\bbs\fff"), Literal("emoji \U0001F600 é \u2028"),
    Literal("x", lang="en-GB"), Literal("42", datatype=URIRef("http://www.w3.org/2001/XMLSchema#integer")),
    Literal("x", datatype=URIRef("urn:weird:type")), URIRef("urn:x:%22%7D"),
])
def test_bound_value_comes_back_exactly(remote, embedded, value):
    """Whatever a value holds, it is one term: it comes back unchanged, as from the embedded store."""
    sparql = "SELECT ?v WHERE { }"
    got = remote.select(sparql, substitutions={"v": value})
    assert got == embedded.select(sparql, substitutions={"v": value}) == [{"v": value}]


def test_hostile_values_match_nothing_and_change_nothing(remote, embedded, iris):
    before = len(remote)
    for name, raw in (("ksbs-mentioning-term", {"term": HOSTILE}),
                      ("duties-needing-ksb", {"standard": str(iris.standard("ST1337")), "code": HOSTILE})):
        query = NAMED[name]
        values = bind(query, raw)
        assert rows(remote, query.text, substitutions=values) == rows(embedded, query.text, substitutions=values) == []
    assert len(remote) == before and remote.named_graphs() == embedded.named_graphs()


@pytest.mark.parametrize("bad", ["http://e/a> } ; DROP ALL ; <x:", "not an iri", 'http://e/"', "http://e/a\\b"])
def test_malformed_iri_is_refused_before_anything_is_sent(remote, embedded, bad):
    before = len(remote)
    for store in (remote, embedded):  # both refuse it alike
        with pytest.raises(ValueError):
            store.query("SELECT ?v WHERE { ?v ?p ?o }", substitutions={"v": URIRef(bad)})
    with pytest.raises(ValueError):
        remote.query("SELECT ?v WHERE { ?v ?p ?o }",
                     substitutions={"v": Literal("x", datatype=URIRef(bad))})
    assert len(remote) == before


def test_blank_node_and_bad_variable_cannot_be_bound(remote):
    with pytest.raises(ValueError, match="blank node"):
        remote.query("SELECT ?v WHERE { ?v ?p ?o }", substitutions={"v": BNode()})
    with pytest.raises(ValueError, match="variable name"):
        remote.query("SELECT * WHERE { ?v ?p ?o }", substitutions={"v) } DROP ALL": URIRef("urn:x")})


def test_values_go_into_each_group_but_not_subqueries():
    text = bind_values("SELECT ?x WHERE { { SELECT ?y WHERE { ?x ?p ?y } } OPTIONAL { ?x ?q ?z } "
                       "VALUES ?x { <urn:a> } }", {"x": URIRef("urn:b")})
    assert text == ("SELECT ?x WHERE { VALUES (?x) { (<urn:b>) } { SELECT ?y WHERE { ?x ?p ?y } } "
                    "OPTIONAL { VALUES (?x) { (<urn:b>) } ?x ?q ?z } VALUES ?x { <urn:a> } }")
    assert bind_values("DESCRIBE ?x", {"x": URIRef("urn:b")}).strip() == "DESCRIBE ?x\nVALUES (?x) { (<urn:b>) }"


# ------------------------------------------------------------------ writes

def test_updates_apply_and_errors_are_reported(remote):
    graph = "urn:test:remote:update"
    try:
        remote.update(f'INSERT DATA {{ GRAPH <{graph}> {{ <urn:s> <urn:p> "v" }} }}')
        assert graph in remote.named_graphs()
        assert remote.select(f"SELECT ?o WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}") == [{"o": Literal("v")}]
        with pytest.raises(QuerySyntaxError):
            remote.update("INSERT DATA { <urn:s> <urn:p> ")
        with pytest.raises(RuntimeError):  # like pyoxigraph: the update failed and changed nothing
            remote.update("DROP GRAPH <urn:test:remote:none>")
        with pytest.raises(RemoteStoreError):
            remote.update("DROP GRAPH <urn:test:remote:none>")
    finally:
        remote.update(f"DROP SILENT GRAPH <{graph}>")
    assert graph not in remote.named_graphs()


@pytest.mark.parametrize("graph_store", [True, False], ids=["gsp", "sparql-update"])
def test_graph_writes_add_and_replace(remote, graph_store):
    store = remote.with_timeout(remote.timeout)
    if not graph_store:
        store.gsp_url = None  # as for a store without the Graph Store Protocol: CONSTRUCT and INSERT DATA
    graph = f"urn:test:remote:gsp:{graph_store}"
    data = Graph().parse(data='<urn:a> <urn:p> "one" ; <urn:q> [ <urn:r> "bnode" ] .', format="turtle")
    try:
        store.add_graph(graph, data)
        store.load(b'<urn:a> <urn:p> "two" .\n', "ntriples", graph)
        store.load(b'@prefix x: <urn:> . x:a x:p "three" .', "turtle", graph)
        got = store.graph(graph)
        assert len(got) == 5 and isomorphic(got, remote.graph(graph))
        store.replace_graph(graph, Graph().parse(data='<urn:a> <urn:p> "only" .', format="turtle"))
        assert set(store.graph(graph)) == {(URIRef("urn:a"), URIRef("urn:p"), Literal("only"))}
        with pytest.raises(SyntaxError):
            store.load(b"<urn:a> <urn:p> ", "ntriples", graph)
        assert len(store.graph(graph)) == 1
        assert len(store.graph("urn:test:remote:missing")) == 0
    finally:
        remote.update(f"DROP SILENT GRAPH <{graph}>")


def test_read_only_remote_store_refuses_writes(oxigraph_url):
    store = RemoteStore(oxigraph_url + "/query", read_only=True)
    for write in (lambda: store.update("CLEAR ALL"), lambda: store.add_graph("urn:x", Graph()),
                  lambda: store.load(b"", "ntriples", "urn:x"), lambda: store.replace_graph("urn:x", Graph())):
        with pytest.raises(StoreError, match="read-only"):
            write()
    store.close()


def test_build_remote_replaces_and_prunes(remote):
    prefix = "urn:test:remote:build/"
    one = Graph().parse(data="<urn:a> <urn:p> 1, 2 .", format="turtle")
    try:
        build_remote(remote, [(prefix + "a", one), (prefix + "b", one)])
        build_remote(remote, [(prefix + "a", Graph().parse(data="<urn:a> <urn:p> 3 .", format="turtle"))],
                     prune=prefix)
        assert [g for g in remote.named_graphs() if g.startswith(prefix)] == [prefix + "a"]
        assert len(remote.graph(prefix + "a")) == 1
    finally:
        remote.update(f"DROP SILENT GRAPH <{prefix}a> ; DROP SILENT GRAPH <{prefix}b>")


def test_request_is_given_up_after_the_limit(remote):
    started = time.monotonic()
    with pytest.raises(StoreTimeout):
        remote.with_timeout(0.5).query(RUNAWAY)
    assert time.monotonic() - started < 2


# ------------------------------------------------------------------ the command line

def _cli(capsysbinary, *args) -> tuple[int, bytes]:
    code = kimgraph(list(args))
    return code, capsysbinary.readouterr().out


@pytest.mark.slow
def test_cli_query_export_and_validate_match(protocol_store, capsysbinary, monkeypatch, oxigraph_url, remote):
    commands = [
        ("query", "--store", str(protocol_store), f"PREFIX kim: <{KIM}> SELECT ?d WHERE {{ ?d a kim:Duty }}"),
        ("query", "--store", str(protocol_store), "--format", "ntriples",
         f"CONSTRUCT {{ <{DUTY_2}> ?p ?o }} WHERE {{ <{DUTY_2}> ?p ?o }}"),
        ("export", "--store", str(protocol_store), "--format", "nquads"),
        ("validate", "--store", str(protocol_store), "--format", "text"),
    ]
    embedded_out = [_cli(capsysbinary, *c) for c in commands]
    monkeypatch.setenv("KIM_STORE_URL", oxigraph_url + "/query")
    remote_out = [_cli(capsysbinary, *c) for c in commands]
    (c1, select_e), (c2, nt_e), (c3, nq_e), (c4, report_e) = embedded_out
    (d1, select_r), (d2, nt_r), (d3, nq_r), (d4, report_r) = remote_out
    assert (c1, c2, c3, c4) == (d1, d2, d3, d4) and c1 == c2 == c3 == 0
    assert sorted(json.loads(select_r)["results"]["bindings"], key=json.dumps) == \
           sorted(json.loads(select_e)["results"]["bindings"], key=json.dumps)
    assert isomorphic(Graph().parse(data=nt_r, format="nt"), Graph().parse(data=nt_e, format="nt"))
    assert _quads(nq_r, ox.RdfFormat.N_QUADS) == _quads(nq_e, ox.RdfFormat.N_QUADS)
    assert report_r == report_e


def test_cli_reports_an_unreachable_store(capsysbinary, monkeypatch):
    monkeypatch.setenv("KIM_STORE_URL", f"http://127.0.0.1:{free_port()}/query")
    code = kimgraph(["query", "ASK {}"])
    assert code == 2 and b"does not answer" in capsysbinary.readouterr().err


# ------------------------------------------------------------------ the HTTP API over each store

@pytest.fixture(scope="module")
def remote_api(oxigraph_url, remote, built_store_path, tmp_path_factory) -> Iterator[str]:
    """``kimgraph serve`` with KIM_STORE_URL: an API replica holding no data (the store path is unused)."""
    log = tmp_path_factory.mktemp("remote-api") / "server.log"
    env = {**READ_ENV, "KIM_STORE_URL": oxigraph_url + "/query", "KIM_WRITE_TOKEN": TOKEN}
    with running_server(built_store_path, log, **env) as url:
        yield url


@pytest.fixture(scope="module")
def both(remote_api, read_server) -> Iterator[tuple[httpx.Client, httpx.Client]]:
    """Clients of the API over the remote store and of the shared read-only server over the same data."""
    with httpx.Client(base_url=remote_api, timeout=20) as r, httpx.Client(base_url=read_server, timeout=20) as e:
        yield r, e


def _bindings(response: httpx.Response) -> list:
    assert response.status_code == 200, response.text
    return sorted(response.json()["results"]["bindings"], key=lambda b: json.dumps(b, sort_keys=True))


def test_api_sparql_select_and_construct_match(both):
    remote_http, embedded_http = both
    select = f"PREFIX kim: <{KIM}> SELECT ?d ?o WHERE {{ ?d a kim:Duty ; kim:ordinal ?o }}"
    assert _bindings(remote_http.get("/sparql", params={"query": select})) == \
           _bindings(embedded_http.get("/sparql", params={"query": select}))
    construct = f"CONSTRUCT {{ <{DUTY_2}> ?p ?o }} WHERE {{ <{DUTY_2}> ?p ?o }}"
    answers = [c.post("/sparql", data={"query": construct}, headers={"Accept": "text/turtle"}) for c in both]
    assert all(a.status_code == 200 and a.headers["content-type"].startswith("text/turtle") for a in answers)
    assert isomorphic(*(Graph().parse(data=a.text, format="turtle") for a in answers))
    ask = f"ASK {{ <{DUTY_2}> ?p ?o }}"
    assert remote_http.get("/sparql", params={"query": ask}).json() == \
           embedded_http.get("/sparql", params={"query": ask}).json() == {"head": {}, "boolean": True}


def test_api_errors_match(both):
    remote_http, embedded_http = both
    bad = [c.get("/sparql", params={"query": "SELECT * WHERE {\n  ?s ?p \n}"}) for c in both]
    assert [b.status_code for b in bad] == [400, 400]
    assert all("line 3" in b.json()["detail"] for b in bad), [b.json()["detail"] for b in bad]
    refused = remote_http.get("/sparql", params={"query": "SELECT * { SERVICE <http://127.0.0.1:1/> { ?s ?p ?o } }"})
    assert refused.status_code == 400


def test_api_graph_store_get_and_health_match(both):
    remote_http, embedded_http = both
    params = {"graph": "https://w3id.org/uk-kim/graph/ontology"}
    answers = [c.get("/store", params=params, headers={"Accept": "application/n-triples"}) for c in both]
    assert [a.status_code for a in answers] == [200, 200]
    assert isomorphic(*(Graph().parse(data=a.text, format="nt") for a in answers))
    assert [c.get("/store", params={"graph": "urn:none"}).status_code for c in both] == [404, 404]
    # the two servers differ in their write token, so only what the store says is compared
    remote, embedded = (c.get("/health").json() for c in both)
    assert remote["status"] == embedded["status"] == "ok"
    assert remote["triples"] == embedded["triples"] > 0


def test_api_dump_matches(both):
    answers = [client.get("/dump.nq") for client in both]
    assert [a.status_code for a in answers] == [200, 200]
    assert _quads(answers[0].content, ox.RdfFormat.N_QUADS) == _quads(answers[1].content, ox.RdfFormat.N_QUADS)


OPTIONAL_ROUTES = [
    ("/id/standard/ST1337/duty/2", {}, "application/ld+json"),
    ("/search", {"q": "GDPR"}, "application/json"),
    ("/queries/ksbs-of-duty", {"duty": DUTY_2}, "application/sparql-results+json"),
    ("/queries/ksbs-mentioning-term", {"term": HOSTILE}, "application/sparql-results+json"),
]


@pytest.mark.parametrize("path,params,accept", OPTIONAL_ROUTES, ids=[r[0] for r in OPTIONAL_ROUTES])
def test_api_linked_data_routes_match(both, path, params, accept):
    remote_http, embedded_http = both
    expected = embedded_http.get(path, params=params, headers={"Accept": accept})
    assert expected.status_code == 200, expected.text
    got = remote_http.get(path, params=params, headers={"Accept": accept})
    assert got.status_code == expected.status_code, got.text
    assert got.headers.get("content-type") == expected.headers.get("content-type")
    # Each server writes its own address into links (the @context, pages): compare without it.
    left = got.content.replace(str(remote_http.base_url).rstrip("/").encode(), b"SERVER")
    right = expected.content.replace(str(embedded_http.base_url).rstrip("/").encode(), b"SERVER")
    if "json" in got.headers.get("content-type", ""):
        left, right = json.loads(left), json.loads(right)
        if isinstance(left, dict) and isinstance(left.get("results"), dict):  # SPARQL results: rows in any order
            left, right = (sorted(d["results"]["bindings"], key=lambda b: json.dumps(b, sort_keys=True))
                           for d in (left, right))
    assert left == right


def test_api_writes_go_to_the_remote_store(both, remote):
    remote_http, _ = both
    graph = "urn:test:remote:api"
    before = remote_http.get("/health").json()["triples"]
    try:
        update = f'INSERT DATA {{ GRAPH <{graph}> {{ <urn:s> <urn:p> "v" }} }}'
        assert remote_http.post("/sparql", data={"update": update}).status_code == 401
        assert remote_http.post("/sparql", data={"update": update}, headers=AUTH).status_code == 204
        assert remote.select(f"SELECT ?o WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}") == [{"o": Literal("v")}]
        put = remote_http.put("/store", params={"graph": graph}, content='<urn:s> <urn:p> "w" .',
                              headers={**AUTH, "Content-Type": "application/n-triples"})
        assert put.status_code == 204
        assert set(remote.graph(graph)) == {(URIRef("urn:s"), URIRef("urn:p"), Literal("w"))}
        failed = remote_http.post("/sparql", data={"update": "DROP GRAPH <urn:test:remote:none>"}, headers=AUTH)
        assert failed.status_code == 400 and "changed nothing" in failed.json()["detail"]
        assert remote_http.delete("/store", params={"graph": graph}, headers=AUTH).status_code == 204
        assert remote_http.get("/store", params={"graph": graph}).status_code == 404
    finally:
        remote.update(f"DROP SILENT GRAPH <{graph}>")
    assert remote_http.get("/health").json()["triples"] == before


def test_api_runaway_query_is_503_within_the_limit(both):
    remote_http, _ = both
    started = time.monotonic()
    response = remote_http.get("/sparql", params={"query": RUNAWAY})
    assert response.status_code == 503, response.text
    assert response.json()["title"] == "Query timeout" and "retry-after" in response.headers
    assert time.monotonic() - started < float(READ_ENV["KIM_QUERY_TIMEOUT"]) + 2


# ------------------------------------------------------------------ every router, in process

IN_PROCESS = [
    ("/id/standard/ST1337/duty/2", {}, "application/ld+json"),
    ("/id/standard/ST1337/duty/2", {}, "text/turtle"),
    ("/id/standard/ST1337/duty/2", {}, "text/html"),
    ("/id/standard/ST1337", {}, "application/ld+json"),
    ("/id/standard/ST1337", {}, "text/html"),
    ("/id/standard/ST1337", {"format": "nq"}, "application/n-quads"),
    ("/search", {"q": "GDPR"}, "application/json"),
    ("/queries", {}, "application/json"),
    ("/queries/ksbs-of-duty", {"duty": DUTY_2}, "application/sparql-results+json"),
    ("/queries/ksbs-mentioning-term", {"term": HOSTILE}, "application/sparql-results+json"),
    ("/standards", {}, "application/ld+json"),
    ("/standards/ST1337/duties", {}, "application/ld+json"),
    ("/standards/ST1337/ksbs", {}, "application/ld+json"),
    ("/organisations", {}, "application/ld+json"),
    ("/standards/ST1337/coverage", {}, "application/json"),
    ("/standards/ST1337/conformance", {}, "application/json"),
    ("/", {}, "text/html"),
    ("/dataset", {}, "application/ld+json"),
]


def _serve_in_process(store, requests: list[tuple[str, dict, str]]) -> list[httpx.Response]:
    """The answers of the app over ``store`` (lifespan included) to GET requests, through httpx's ASGI transport."""
    import asyncio

    from sparql_api.app import create_app

    app = create_app(Settings(workers=0, public_url="http://kim.test/"), store=store)

    async def run() -> list[httpx.Response]:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://kim.test") as http:
                return [await http.get(path, params=params, headers={"Accept": accept})
                        for path, params, accept in requests]

    return asyncio.run(run())


@pytest.mark.slow
def test_linked_data_routes_answer_the_same_over_both_stores(remote, embedded):
    answers = zip(_serve_in_process(remote, IN_PROCESS), _serve_in_process(embedded, IN_PROCESS), strict=True)
    for (path, params, accept), (got, expected) in zip(IN_PROCESS, answers, strict=True):
        where = f"{path} {params} {accept}"
        assert got.status_code == expected.status_code, f"{where}: {got.text[:300]}"
        assert got.headers.get("content-type") == expected.headers.get("content-type"), where
        if got.content != expected.content and "json" in got.headers.get("content-type", ""):
            assert got.json() == expected.json(), where
        else:
            assert got.content == expected.content, where
