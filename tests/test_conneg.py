"""Content negotiation and the media-type tables: pure functions, no server."""

from __future__ import annotations

import pytest

from sparql_api import conneg, formats
from sparql_api.conneg import negotiate
from sparql_api.errors import BadRequest, NotAcceptable

RESULTS = formats.RESULT_OFFERS
GRAPHS = formats.GRAPH_OFFERS


@pytest.mark.parametrize(("accept", "offers", "expected"), [
    (None, RESULTS, "application/sparql-results+json"),
    ("", RESULTS, "application/sparql-results+json"),
    ("*/*", RESULTS, "application/sparql-results+json"),
    ("*/*", GRAPHS, "text/turtle"),
    ("application/sparql-results+xml", RESULTS, "application/sparql-results+xml"),
    ("text/csv;q=0.4, text/tab-separated-values;q=0.6", RESULTS, "text/tab-separated-values"),
    ("text/*", RESULTS, "text/csv"),
    ("text/*;q=0.5, text/csv;q=0", RESULTS, "text/tab-separated-values"),
    ("application/json", RESULTS, "application/json"),
    ("application/json", GRAPHS, "application/json"),
    ("application/ld+json;profile=\"http://www.w3.org/ns/json-ld#expanded\"", GRAPHS, "application/ld+json"),
    ("application/n-triples;q=0.9, text/turtle;q=0.8, */*;q=0.1", GRAPHS, "application/n-triples"),
    ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", GRAPHS, "application/xml"),
    ("Application/TRIG", GRAPHS, "application/trig"),
    ("text/turtle;q=bogus, application/n-quads", GRAPHS, "application/n-quads"),
    (";;;,,,", GRAPHS, "text/turtle"),
    ("*/turtle", GRAPHS, "text/turtle"),
    ("text/turtle;q=1.5", GRAPHS, "text/turtle"),
])
def test_negotiate_picks_preferred_offer(accept, offers, expected):
    assert negotiate(accept, offers) == expected


@pytest.mark.parametrize("accept", [
    "image/png",
    "text/turtle;q=0, application/*;q=0",
    "*/*;q=0",
    "application/sparql-results+json",
])
def test_negotiate_unacceptable_raises(accept):
    with pytest.raises(NotAcceptable):
        negotiate(accept, GRAPHS)


def test_most_specific_range_sets_quality():
    # */* would allow CSV, but the explicit text/csv;q=0 excludes it.
    assert conneg.quality(conneg.parse_accept("*/*, text/csv;q=0"), "text/csv") == 0.0
    assert conneg.quality(conneg.parse_accept("*/*;q=0.3, text/*;q=0.6"), "text/csv") == 0.6


def test_every_format_has_a_w3c_format_iri():
    assert {f.iri for f in formats.FORMATS} >= {
        "http://www.w3.org/ns/formats/SPARQL_Results_JSON", "http://www.w3.org/ns/formats/JSON-LD",
        "http://www.w3.org/ns/formats/Turtle", "http://www.w3.org/ns/formats/N-Quads",
    }


@pytest.mark.parametrize(("name", "kind", "media"), [
    ("json", "results", "application/sparql-results+json"), ("json", "graph", "application/ld+json"),
    ("xml", "graph", "application/rdf+xml"), ("turtle", "graph", "text/turtle"), ("n3", "graph", "text/turtle"),
    ("nquads", "graph", "application/n-quads"), ("rdfxml", "graph", "application/rdf+xml"),
    ("turtle", "results", "text/turtle"), ("text/csv", "results", "text/csv"),
])
def test_format_override_names_media_types(name, kind, media):
    assert formats.override(name, kind) == media


def test_format_override_unknown_name_is_bad_request():
    with pytest.raises(BadRequest):
        formats.override("yaml", "results")


@pytest.mark.parametrize(("content_type", "fmt"), [
    ("text/turtle; charset=utf-8", "turtle"), ("application/ld+json", "jsonld"), ("application/rdf+xml", "rdfxml"),
    ("application/xml", "rdfxml"), ("application/n-triples", "ntriples"), ("application/trig", "trig"),
])
def test_payload_format_reads_content_types(content_type, fmt):
    assert formats.payload_format(content_type) == fmt
