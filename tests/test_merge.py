"""The default graph is the RDF merge of the named graphs (each triple once), through every kind of write.

Checked on a real embedded Oxigraph store: after each update, the default graph holds exactly the set of
triples of the named graphs, aggregates agree with rdflib's union default graph, and ``GRAPH ?g`` still
shows every graph that states a triple.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rdflib import Dataset

from store.embedded import Store
from store.errors import DatasetTooLarge
from store.merge import OWN_DEFAULT, redirect

G1, G2, G3 = "http://example.org/g1", "http://example.org/g2", "http://example.org/g3"
EX = "http://example.org/"
SEED = f"""
INSERT DATA {{
  GRAPH <{G1}> {{ <{EX}d1> <{EX}maps> <{EX}k1> , <{EX}k2> . <{EX}k1> <{EX}weight> 3 . }}
  GRAPH <{G2}> {{ <{EX}d1> <{EX}maps> <{EX}k1> , <{EX}k3> . <{EX}k1> <{EX}weight> 3 . <{EX}k3> <{EX}weight> 4 . }}
}}
"""


def named_triples(store: Store) -> set:
    """The set of triples of the named graphs, read quad by quad."""
    return {(q.subject, q.predicate, q.object) for q in store._store.quads_for_pattern(None, None, None, None)
            if q.graph_name.__class__.__name__ == "NamedNode"}


def default_triples(store: Store) -> list:
    return [(q.subject, q.predicate, q.object) for q in store._store.quads_for_pattern(None, None, None, None)
            if q.graph_name.__class__.__name__ == "DefaultGraph"]


def assert_merged(store: Store) -> None:
    default = default_triples(store)
    assert len(default) == len(set(default))
    assert set(default) == named_triples(store)
    assert not [g for g in store.named_graphs() if g.startswith("urn:x-kimgraph:graph:before:")]


def count(store: Store, query: str) -> int:
    return int(store.select(query)[0]["n"])


@pytest.fixture
def store() -> Store:
    store = Store.in_memory()
    store.update(SEED)
    return store


def test_count_star_is_the_number_of_distinct_triples(store):
    assert_merged(store)
    assert count(store, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }") == 5
    assert count(store, "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }") == 7


def test_count_equals_count_distinct_per_subject(store):
    rows = store.select(f"SELECT ?d (COUNT(?k) AS ?n) (COUNT(DISTINCT ?k) AS ?m) "
                        f"WHERE {{ ?d <{EX}maps> ?k }} GROUP BY ?d")
    assert [(int(r["n"]), int(r["m"])) for r in rows] == [(3, 3)]


def test_aggregates_agree_with_rdflib_union_default_graph(store):
    dataset = Dataset(default_union=True)
    dataset.parse(data=store.dump("nquads").decode(), format="nquads")
    for query in (
        "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }",
        f"SELECT (SUM(?w) AS ?n) WHERE {{ ?k <{EX}weight> ?w }}",
        f"SELECT (COUNT(*) AS ?n) WHERE {{ SELECT ?d (COUNT(?k) AS ?c) WHERE {{ ?d <{EX}maps> ?k }} GROUP BY ?d }}",
    ):
        expected = int(next(iter(dataset.query(query)))[0])
        assert count(store, query) == expected, query


def test_graph_pattern_still_shows_every_source(store):
    rows = store.select(f"SELECT ?g WHERE {{ GRAPH ?g {{ <{EX}d1> <{EX}maps> <{EX}k1> }} }} ORDER BY ?g")
    assert [str(r["g"]) for r in rows] == [G1, G2]


def test_dataset_dump_leaves_out_the_derived_default_graph(store):
    dataset = Dataset()
    dataset.parse(data=store.dump("nquads").decode(), format="nquads")
    assert len(list(dataset.quads((None, None, None, None)))) == 7
    assert len(store.dump("ntriples").decode().strip().splitlines()) == 5


@pytest.mark.parametrize("update", [
    f"DELETE DATA {{ GRAPH <{G1}> {{ <{EX}d1> <{EX}maps> <{EX}k1> }} }}",  # still stated by g2
    f"DELETE DATA {{ GRAPH <{G1}> {{ <{EX}d1> <{EX}maps> <{EX}k2> }} }}",  # stated by g1 only
    f"DROP GRAPH <{G2}>",
    f"CLEAR GRAPH <{G1}>",
    f"MOVE <{G1}> TO <{G3}>",
    f"COPY <{G2}> TO <{G1}>",
    f"ADD <{G1}> TO <{G2}>",
    f"ADD <{G1}> TO DEFAULT",
    f"MOVE DEFAULT TO <{G3}>",
    "CLEAR ALL",
    "DROP NAMED",
    f"INSERT DATA {{ <{EX}a> <{EX}b> <{EX}c> }}",
    f"INSERT DATA {{ GRAPH <{G3}> {{ _:x <{EX}b> _:y }} }}",
    f"DELETE {{ GRAPH ?g {{ ?k <{EX}weight> ?w }} }} WHERE {{ GRAPH ?g {{ ?k <{EX}weight> ?w }} FILTER(?w > 3) }}",
    f"WITH <{G1}> DELETE {{ ?d <{EX}maps> ?k }} INSERT {{ ?k <{EX}mappedFrom> ?d }} WHERE {{ ?d <{EX}maps> ?k }}",
    f"DELETE WHERE {{ GRAPH <{G2}> {{ ?s <{EX}maps> ?o }} }}",
    f"INSERT {{ ?k a <{EX}Knowledge> }} WHERE {{ ?d <{EX}maps> ?k }}",
    f"INSERT DATA {{ <{EX}a> <{EX}b> <{EX}c> }} ; DELETE DATA {{ <{EX}a> <{EX}b> <{EX}c> }}",
])
def test_every_kind_of_write_keeps_the_merge(store, update):
    store.update(update)
    assert_merged(store)


def test_writes_to_the_default_graph_are_kept_in_their_own_graph(store):
    store.update(f"INSERT DATA {{ <{EX}a> <{EX}b> <{EX}c> }}")
    rows = store.select(f"SELECT ?g WHERE {{ GRAPH ?g {{ <{EX}a> <{EX}b> <{EX}c> }} }}")
    assert [str(r["g"]) for r in rows] == [OWN_DEFAULT]
    store.update("CLEAR DEFAULT")
    assert not store.query(f"ASK {{ <{EX}a> <{EX}b> <{EX}c> }}")
    assert_merged(store)


def test_the_where_clause_of_an_update_reads_the_merge(store):
    store.update(f"INSERT {{ GRAPH <{G3}> {{ ?k a <{EX}Mapped> }} }} WHERE {{ ?d <{EX}maps> ?k }}")
    assert count(store, f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{G3}> {{ ?s ?p ?o }} }}") == 3
    assert_merged(store)


def test_a_failed_update_changes_nothing(store):
    before = sorted(map(str, store.dump("nquads").decode().splitlines()))
    with pytest.raises(RuntimeError):
        store.update(f"INSERT DATA {{ GRAPH <{G3}> {{ <{EX}a> <{EX}b> <{EX}c> }} }} ; DROP GRAPH <{EX}missing>")
    assert sorted(store.dump("nquads").decode().splitlines()) == before
    assert_merged(store)


def test_redirect_leaves_strings_and_iris_alone():
    text = f'INSERT DATA {{ GRAPH <{G1}> {{ <{EX}a> <{EX}says> "CLEAR DEFAULT GRAPH {{ }}" }} }}'
    assert redirect(text).text == text
    assert redirect(text).written == frozenset({G1})


_TERMS = st.sampled_from([f"<{EX}{n}>" for n in ("a", "b", "c")])
_GRAPHS = st.sampled_from([f"GRAPH <{g}>" for g in (G1, G2, G3)] + [""])
_TRIPLE = st.tuples(_TERMS, _TERMS, _TERMS).map(" ".join)


@st.composite
def _operation(draw) -> str:
    graph = draw(_GRAPHS)
    triples = " . ".join(draw(st.lists(_TRIPLE, min_size=1, max_size=3)))
    body = f"{graph} {{ {triples} }}" if graph else triples
    kind = draw(st.sampled_from(["INSERT DATA", "DELETE DATA", "CLEAR", "COPY", "MOVE", "ADD"]))
    if kind in ("INSERT DATA", "DELETE DATA"):
        return f"{kind} {{ {body} }}"
    source = draw(st.sampled_from([f"<{G1}>", f"<{G2}>", "DEFAULT"]))
    if kind == "CLEAR":
        return f"CLEAR SILENT {'GRAPH ' + source if source != 'DEFAULT' else source}"
    target = draw(st.sampled_from([f"<{G2}>", f"<{G3}>", "DEFAULT"]))
    return f"{kind} SILENT {source} TO {target}"


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_operation(), min_size=1, max_size=6))
def test_any_sequence_of_writes_keeps_the_merge(operations):
    store = Store.in_memory()
    store.update(SEED)
    for operation in operations:
        store.update(operation)
        assert_merged(store)
    expected = named_triples(store)
    assert count(store, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }") == len(expected)


def test_several_default_graphs_are_merged(store):
    query = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    rows = store.select(f"SELECT (COUNT(*) AS ?n) FROM <{G1}> FROM <{G2}> WHERE {{ ?s ?p ?o }}", union_default=False)
    assert int(rows[0]["n"]) == 5
    assert int(store.select(query, default_graphs=[G1, G2])[0]["n"]) == 5
    assert int(store.select(query, default_graphs=[G2])[0]["n"]) == 4
    named = store.select(f"SELECT ?g FROM <{G1}> FROM <{G2}> FROM NAMED <{G2}> WHERE {{ GRAPH ?g {{ }} }}",
                         union_default=False)
    assert [str(r["g"]) for r in named] == [G2]


def test_disjoint_default_graphs_are_queried_as_they_are_whatever_their_size(store, monkeypatch):
    monkeypatch.setattr("store.embedded.MAX_MERGED_TRIPLES", 1)
    store.update(f"INSERT DATA {{ GRAPH <{G3}> {{ <{EX}d2> <{EX}maps> <{EX}k4> , <{EX}k5> . }} }}")
    query = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    assert int(store.select(query, default_graphs=[G1, G3])[0]["n"]) == 5
    assert int(store.select(query, default_graphs=[G3, G2, G3])[0]["n"]) == 6
    with pytest.raises(DatasetTooLarge):  # G1 and G2 share triples: they must still be merged
        store.query(query, default_graphs=[G1, G2, G3])


def test_too_large_a_merge_is_refused(store, monkeypatch):
    monkeypatch.setattr("store.embedded.MAX_MERGED_TRIPLES", 6)
    with pytest.raises(DatasetTooLarge, match="7 triples"):
        store.query("SELECT * WHERE { ?s ?p ?o }", default_graphs=[G1, G2])
