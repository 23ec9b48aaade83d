"""ST1337's captured pages give the same graph as before the layout-tolerant extractor (saved fixtures)."""

from __future__ import annotations

import pytest
from rdflib import Graph
from rdflib.compare import graph_diff, isomorphic, to_isomorphic
from rdflib.namespace import PROV

from ingest.build import parse_source
from tests.helpers import DATA

FIXTURES = {"standard-page": DATA / "extract" / "st1337-standard-page.ttl",
            "occupation-page": DATA / "extract" / "st1337-occupation-page.ttl"}


def without_run_time(graph: Graph) -> Graph:
    """The graph less the ingest activity's end time, the one triple that differs from run to run."""
    copy = Graph()
    copy += graph
    copy.remove((None, PROV.endedAtTime, None))
    return copy


@pytest.mark.parametrize("kind", sorted(FIXTURES))
def test_st1337_page_graph_is_unchanged(sources, iris, kind):
    expected = Graph().parse(FIXTURES[kind], format="turtle")
    produced = without_run_time(parse_source(sources[kind], iris))
    if not isomorphic(produced, expected):
        _, missing, extra = graph_diff(to_isomorphic(expected), to_isomorphic(produced))
        pytest.fail(f"{kind}: {len(missing)} triples lost, {len(extra)} added; e.g. lost "
                    f"{sorted(missing)[:3]}, added {sorted(extra)[:3]}")
