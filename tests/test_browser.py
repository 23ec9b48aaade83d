"""Headless Chromium loads the query editor from the real app under uvicorn, runs queries and shows the results."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

import pytest

from sparql_api.named_queries import load_queries
from tests.browser import dump_dom, html_element
from tests.server import running_server


@pytest.fixture(scope="module")
def server(built_store_path, tmp_path_factory) -> Iterator[str]:
    """``kimgraph serve`` over the built store on 127.0.0.1; its base URL."""
    with running_server(built_store_path, tmp_path_factory.mktemp("uvicorn") / "server.log") as url:
        yield url


def test_editor_runs_a_named_query_and_shows_the_results(browser, server, tmp_path):
    dom = dump_dom(browser, f"{server}/sparql#tab=ksbs-of-duty&run=1", tmp_path, 'data-kim-state="answered"')
    root = html_element(dom)
    assert 'data-kim-state="answered"' in root and 'data-kim-answered-tab="ksbs-of-duty"' in root, root
    assert "data-csp-violations" not in root, root
    table = dom[dom.find('<table id="DataTables_Table'):]
    assert 'class="dataTable' in dom
    for code in ("K1", "K2", "K3", "K4", "K11", "K16", "K19", "K20", "K25"):
        assert f'<span class="nonIri">{code}</span>' in table
    assert "https://w3id.org/uk-kim/id/standard/ST1337/ksb/K25" in table


def test_editor_runs_a_query_given_in_the_link(browser, server, tmp_path):
    query = ("PREFIX skos: <http://www.w3.org/2004/02/skos/core#> "
             "SELECT ?label WHERE { ?c skos:inScheme ?s ; skos:prefLabel ?label "
             "FILTER(STRENDS(STR(?s), '/scheme/gkim-discipline')) } ORDER BY ?label")
    dom = dump_dom(browser, f"{server}/sparql#query={quote(query)}&run=1", tmp_path, 'data-kim-state="answered"')
    root = html_element(dom)
    assert 'data-kim-state="answered"' in root and "data-csp-violations" not in root, root
    for discipline in ("Information Architecture", "Knowledge Management", "Records Management"):
        assert discipline in dom[dom.find('<table id="DataTables_Table'):]


def test_editor_opens_one_tab_per_named_query(browser, server, tmp_path):
    dom = dump_dom(browser, f"{server}/sparql", tmp_path, 'data-kim-ready="true"')
    assert 'data-kim-ready="true"' in html_element(dom)
    for name in load_queries():
        assert f'id="tab-kim-{name}"' in dom


def test_editor_shows_numbers_as_numbers(browser, server, tmp_path):
    query = ("PREFIX kim: <https://w3id.org/uk-kim/def#> "
             "SELECT (COUNT(?d) AS ?duties) (\"D1\"@en AS ?label) "
             "WHERE { <https://w3id.org/uk-kim/id/standard/ST1337> kim:hasDuty ?d }")
    dom = dump_dom(browser, f"{server}/sparql#query={quote(query)}&run=1", tmp_path, 'data-kim-state="answered"')
    table = dom[dom.find('<table id="DataTables_Table'):]
    assert '<span class="kimNumber">15</span>' in table, table[:2000]
    assert "XMLSchema#integer" not in table and "^^" not in table
    assert 'D1<sup class="kimLang">@en</sup>' in table
    assert '<div class="rowNumber">1</div>' in table  # the row number in its own cell


def test_editor_shows_a_syntax_error_as_a_short_message(browser, server, tmp_path):
    query = "SELECT * WHERE { ?s foo:bar ?o }"
    dom = dump_dom(browser, f"{server}/sparql#query={quote(query)}&run=1", tmp_path, 'class="kimProblem"')
    assert 'class="kimProblem"' in dom
    box = dom[dom.find('class="kimProblem"'):]
    assert "Invalid SPARQL (400)" in box
    assert "line 1, column 21: undefined prefix foo" in box
    assert '"type"' not in box[:box.find("</div>")]  # not the raw problem JSON
