"""Property-based tests (Hypothesis): content negotiation, the standard-page parser, named-query parameters.

Each property holds for any input: negotiate picks the offer the client prefers or refuses with a
KimError; the page parser gives a graph (or its ParseError) for any text and any damage to the real
page, naming only codes the text holds; a parameter value of any content is bound as a value, so it
answers 400 or a result, and never changes what the query is.
"""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from rdflib import Graph, URIRef
from rdflib.namespace import RDF, SKOS

from ingest.manifest import Source
from ingest.standard_page import parse_standard_page
from ingest.text import ParseError
from kimdata.namespaces import KIM, Iris
from sparql_api.conneg import negotiate
from sparql_api.coverage import graph_issues
from sparql_api.errors import InvalidQuery, KimError, NotAcceptable
from sparql_api.named_queries import NamedQuery, bind, load_queries
from sparql_api.workers import QueryJob, execute
from store.embedded import Store
from tests.helpers import DATA

PURE = settings(max_examples=200, deadline=None, derandomize=True, database=None)
SLOWER = settings(max_examples=60, deadline=None, derandomize=True, database=None,
                  suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

# ------------------------------------------------------------------ (a) content negotiation, RFC 9110 §12.5.1

OFFERS = ["application/sparql-results+json", "application/sparql-results+xml", "text/csv",
          "text/tab-separated-values", "text/html", "application/ld+json"]
TYPES = ["application", "text", "image", "*"]
SUBTYPES = ["sparql-results+json", "sparql-results+xml", "csv", "tab-separated-values", "html", "ld+json",
            "png", "*"]
OWS = st.text(alphabet=" \t", max_size=2)


@st.composite
def media_ranges(draw) -> list[tuple[str, str, str | None]]:
    """Distinct media ranges: (type, subtype, q as written or None), ``*/subtype`` left out."""
    pairs = draw(st.lists(st.tuples(st.sampled_from(TYPES), st.sampled_from(SUBTYPES)), max_size=6,
                          unique=True).filter(lambda ps: all(t != "*" or s == "*" for t, s in ps)))
    qvalues = st.one_of(st.none(), st.sampled_from(["0", "0.0", "1", "1.0", "1.000", "0.001", "0.5", "0.50", "0.9",
                                                    "0.25", "0.333"]))
    return [(t, s, draw(qvalues)) for t, s in pairs]


def header(ranges, *, upper: bool = False, params: bool = False, space: str = "") -> str:
    """An Accept header for ``ranges``: optionally with upper-cased names, media parameters and whitespace."""
    entries = []
    for type_, subtype, q in ranges:
        entry = f"{type_}/{subtype}"
        if upper:
            entry = entry.upper()
        if params:
            entry += f"{space};{space}charset=utf-8"
        if q is not None:
            entry += f"{space};{space}{'Q' if upper else 'q'}={q}"
            if params:
                entry += f"{space};{space}ext=1"  # an accept-ext after the weight
        entries.append(entry)
    return f"{space},{space}".join(entries)


def expected_q(ranges, offer: str) -> float:
    """The q-value an offer gets: the one of the most specific range that matches it (RFC 9110 §12.5.1)."""
    offer_type, offer_subtype = offer.split("/")
    best, q = 0, 0.0
    for type_, subtype, written in ranges:
        if (type_, subtype) == (offer_type, offer_subtype):
            specificity = 3
        elif (type_, subtype) == (offer_type, "*"):
            specificity = 2
        elif (type_, subtype) == ("*", "*"):
            specificity = 1
        else:
            continue
        if specificity > best:
            best, q = specificity, 1.0 if written is None else float(written)
    return q


def outcome(accept: str | None, offers: list[str]) -> str:
    """The chosen offer, or ``406`` when negotiate refuses (any other exception propagates)."""
    try:
        return negotiate(accept, offers)
    except NotAcceptable as e:
        assert e.status == 406 and e.detail
        return "406"


@PURE
@given(st.one_of(st.text(), st.text(alphabet="*/;=,.q0123456789 \tabcdefghijklmnopqrstuvwxyz+-\"")))
@example("text/html;level=1;q=0.7, */*;q=0.1")
@example('text/html;foo="a,b";q=0.5')
@example("*/*;q=0")
@example(",,, ;;; ===")
@example("text/\x00csv")
def test_negotiate_answers_an_offer_or_406_for_any_header(accept):
    chosen = outcome(accept, OFFERS)
    assert chosen == "406" or chosen in OFFERS


@PURE
@given(media_ranges())
def test_the_chosen_offer_has_the_highest_q(ranges):
    chosen = outcome(header(ranges), OFFERS)
    qualities = [expected_q(ranges, offer) for offer in OFFERS]
    if not ranges:
        assert chosen == OFFERS[0]  # no Accept at all: anything goes, our first choice
    elif max(qualities) == 0:
        assert chosen == "406"
    else:
        assert chosen == OFFERS[qualities.index(max(qualities))]  # ties go to our earlier offer


@PURE
@given(media_ranges(), st.randoms(use_true_random=False), OWS)
def test_order_whitespace_case_and_parameters_change_nothing(ranges, random, space):
    plain = outcome(header(ranges), OFFERS)
    shuffled = list(ranges)
    random.shuffle(shuffled)
    assert outcome(header(shuffled), OFFERS) == plain
    assert outcome(header(ranges, space=space), OFFERS) == plain
    assert outcome(header(ranges, upper=True), OFFERS) == plain
    assert outcome(header(ranges, params=True, space=space), OFFERS) == plain
    assert outcome(", ," + header(ranges) + ",", OFFERS) == plain  # empty list elements (RFC 9110 §5.6.1)


# ------------------------------------------------------------------ (b) the standard-page parser

CODE = re.compile(r"^([KSB])([0-9]+)$")
KSB_IRI = re.compile(r"/ksb/([^/#]+)$")
KSB_CLASSES = (KIM.Knowledge, KIM.Skill, KIM.Behaviour)
STRANGE = st.sampled_from(["\u0663", "\uff11", "\u200b", "\u00a0", "\ufeff", "\r", "\x00", "|", "K", "Duty ",
                           "\U0001f600", "\u0301", ": ", "\u2028", "\t"])


def code_in_text(letter: str, number: int, text: str) -> bool:
    """Whether the text writes this code: the letter, then the number in ASCII digits (leading zeros allowed)."""
    return re.search(rf"(?<![A-Za-z0-9]){letter}0*{number}(?![0-9])", text) is not None


def emitted_codes(graph: Graph) -> set[str]:
    """Every KSB code the graph names: notations of K/S/B entities and the codes in KSB IRIs."""
    codes = {str(notation) for cls in KSB_CLASSES for node in graph.subjects(RDF.type, cls)
             for notation in graph.objects(node, SKOS.notation)}
    for node in graph.all_nodes():
        if isinstance(node, URIRef) and (match := KSB_IRI.search(str(node))):
            codes.add(match.group(1))
    return codes


def check_page(text: str, source: Source, iris: Iris) -> Graph | None:
    """Parse a page: a graph whose codes are all in the text, or the parser's own ParseError (None)."""
    try:
        graph = parse_standard_page(text, source, iris)
    except ParseError:
        return None
    assert isinstance(graph, Graph)
    graph_issues(graph)
    for code in emitted_codes(graph):
        match = CODE.match(code)
        assert match, f"{code!r} is not a K, S or B code"
        assert code_in_text(match.group(1), int(match.group(2)), text), f"{code} is not in the text"
    for duty in graph.subjects(RDF.type, KIM.Duty):
        number = str(graph.value(duty, KIM.ordinal))
        assert re.search(rf"Duty 0*{number}(?![0-9])", text), f"duty {number} is not in the text"
    return graph


@pytest.fixture(scope="module")
def page(sources) -> tuple[str, Source]:
    source = sources["standard-page"]
    return source.read(), source


MADE_UP = Source(id="t", kind="standard-page", path=DATA / "x", occupation="OCC0001")


@st.composite
def damaged(draw, text: str) -> str:
    """The page with some lines deleted or duplicated and some strange characters put in."""
    lines = text.split("\n")
    for _ in range(draw(st.integers(0, 6))):
        i = draw(st.integers(0, len(lines) - 1))
        action = draw(st.sampled_from(["delete", "duplicate", "insert"]))
        if action == "delete" and len(lines) > 1:
            del lines[i]
        elif action == "duplicate":
            lines.insert(i, lines[i])
        else:
            at = draw(st.integers(0, len(lines[i])))
            lines[i] = lines[i][:at] + draw(STRANGE) + lines[i][at:]
    return "\n".join(lines)


@SLOWER
@given(st.one_of(st.text(), st.text(alphabet="DutyKSB0123456789|:- \n\u0663\uff11")))
@example("Duty | KSBs |\n---|---|\nDuty 1 Do. |\nK\u0663 |\nK\u0663: Things.\n")
@example("Duty | KSBs |\nDuty 1 Do. |\nK01 |\nK01: Things.\n")
@example("Level: \u00b2\nTypical EPA period: \u0663 months\n"
         "Duty | KSBs |\nDuty \uff11 Do. |\nDuty 1 Do. |\n|\nK1: Things.\n")
def test_any_text_gives_a_graph_or_a_parse_error(text):
    check_page(text, MADE_UP, Iris())


@SLOWER
@given(data=st.data())
@pytest.mark.slow
def test_a_damaged_real_page_gives_a_graph_or_a_parse_error(page, iris, data):
    text, source = page
    check_page(data.draw(damaged(text)), source, iris)


def test_the_real_page_passes_the_same_checks(page, iris):
    text, source = page
    graph = check_page(text, source, iris)
    assert graph is not None and len(emitted_codes(graph)) == 60


# ------------------------------------------------------------------ (c) named-query parameters

QUERIES = load_queries()
PARAMETERS = [(query.name, param.name) for query in QUERIES.values() for param in query.params]
HOSTILE = ['K1" } ; DROP ALL ; #', "K19' } UNION { ?s ?p ?o } #", '"} } SELECT * { ?s ?p ?o } #', "K19\"@en",
           "K19\x00", "K19\n} #", "<https://w3id.org/uk-kim/id/standard/ST1337>", "?code", "$code", "\\u0022",
           '""" ) } #', "https://w3id.org/uk-kim/id/standard/ST1337> } #", "https://x.org/a b", "1 || true"]
VALUES = st.one_of(st.sampled_from(HOSTILE), st.text(), st.text(alphabet="K19\"'{}#<>?$\\\n\x00 ;.|"),
                   st.builds(lambda s: "https://w3id.org/uk-kim/id/" + s, st.text()))
ABSENT = {"iri": "https://absent.example/nothing", "code": "absent-code", "string": "absent-string-qzx"}


@pytest.fixture(scope="module")
def memory_store(standard_page, occupation_page) -> Store:
    """The parsed pages in an in-memory store (one named graph each)."""
    store = Store.in_memory()
    store.add_graph("urn:test:standard-page", standard_page)
    store.add_graph("urn:test:occupation-page", occupation_page)
    return store


@pytest.fixture(scope="module")
def data_text(memory_store) -> str:
    """Every IRI and literal of the store, lower-cased, one a line: what a value could match."""
    terms = memory_store.select("SELECT DISTINCT ?t WHERE { { ?t ?p ?o } UNION { ?s ?t ?o } UNION { ?s ?p ?t } }")
    return "\n".join(str(row["t"]).lower() for row in terms if "t" in row)


def rows(store: Store, query: NamedQuery, raw: dict[str, str]) -> list[str] | None:
    """The query's answer for raw values, as sorted rows; None when a value is refused (a 400)."""
    try:
        values = bind(query, raw)
    except ValueError:
        return None
    job = QueryJob(sparql=query.text, base_iri="http://127.0.0.1/", results_format="json", graph_format="ntriples",
                   substitutions=tuple(values.items()))
    try:
        answer = execute(store, job)
    except KimError as e:  # a syntax error would mean the value became part of the query's text
        assert e.status == 400 and not isinstance(e, InvalidQuery), e
        return None
    if answer.format == "json":
        document = json.loads(answer.body)
        return sorted(json.dumps(b, sort_keys=True) for b in document.get("results", {}).get("bindings", []))
    return sorted(line for line in answer.body.decode().splitlines() if line.strip())


@SLOWER
@pytest.mark.parametrize("query_name, param_name", PARAMETERS)
@given(value=VALUES)
def test_a_parameter_value_is_bound_never_pasted(memory_store, data_text, query_name, param_name, value):
    query = QUERIES[query_name]
    param = next(p for p in query.params if p.name == param_name)
    others = {name: v for name, v in query.examples().items() if name != param_name}
    triples = len(memory_store)
    got = rows(memory_store, query, {**others, param_name: value})
    assert len(memory_store) == triples
    if got is None:
        return
    bound = bind(query, {**others, param_name: value})[param_name]
    for row in got:  # where the parameter is projected, it is the value exactly as given
        answer = json.loads(row) if row.startswith("{") else {}
        if param_name in answer:
            assert answer[param_name]["value"] == str(bound)
    if param.type in ABSENT and str(bound).lower() not in data_text:
        # a value the data does not hold matches nothing, as a plain absent value does (integers compare instead)
        assert got == rows(memory_store, query, {**others, param_name: ABSENT[param.type]})


def test_every_parameter_type_but_integer_has_an_absent_value():
    assert {p.type for q in QUERIES.values() for p in q.params} <= set(ABSENT) | {"integer"}
