"""How deep an uploaded RDF document nests, measured before any RDF parser sees it.

Oxigraph's Turtle-family and RDF/XML parsers accept nesting of any depth, and the time they take grows
with it far faster than with the size of the document (a 100,000-deep Turtle ``[`` takes seconds to
parse, a 50,000-level RDF/XML document more than a minute). Both scans here are linear, touch no RDF
parser, and stop as soon as the limit is passed; a document with no more brackets (or ``<``) than the limit
is let through without a scan.
"""

from __future__ import annotations

import re
from xml.parsers import expat

MAX_PAYLOAD_NESTING = 100
"""Deepest nesting accepted in an RDF payload: JSON arrays and objects in JSON-LD, ``[ ( { <<`` brackets in
Turtle, TriG, N-Triples and N-Quads, elements in RDF/XML; also arrays and objects in the JSON feed documents
that /validate reads. Real documents nest a few levels."""


class PayloadNestingTooDeep(ValueError):
    """A payload nests deeper than the limit."""


# Strings, IRIs, comments and escapes are skipped whole, so that a bracket inside them does not count;
# a quote that opens no complete string ends the scan (the parser stops at it too).
_TURTLE_TOKENS = re.compile(rb"""
    [^"'<>\#\\\[\](){}]+
  | \"\"\"[^"\\]*(?:(?:\\.|"(?!""))[^"\\]*)*\"\"\"
  | '''[^'\\]*(?:(?:\\.|'(?!''))[^'\\]*)*'''
  | "[^"\\\n\r]*(?:\\.[^"\\\n\r]*)*"
  | '[^'\\\n\r]*(?:\\.[^'\\\n\r]*)*'
  | (?P<unclosed>["'])
  | <[^<>"{}|^`\x00-\x20]*>
  | \#[^\n\r]*
  | \\.
  | (?P<open><<|[\[({])
  | (?P<close>>>|[\])}])
  | .
""", re.VERBOSE | re.DOTALL)


_OPENERS = (b"[", b"(", b"{", b"<<")
# Formats whose nesting the bracket scan measures; valid JSON is within Turtle's lexical shape for it
# (strings in double quotes with backslash escapes, no comments or IRIs outside strings).
_BRACKETED = {"turtle": "Turtle", "trig": "TriG", "ntriples": "N-Triples", "nquads": "N-Quads", "json": "JSON"}


def turtle_depth(data: bytes, limit: int = MAX_PAYLOAD_NESTING) -> int:
    """How deep the brackets of a Turtle, TriG, N-Triples, N-Quads or JSON document nest, counted up to
    ``limit + 1``.

    >>> turtle_depth(b'<urn:a> <urn:b> [ <urn:c> ( 1 2 [ <urn:d> "[[[" ] ) ] . # [[[')
    3
    >>> turtle_depth(b'<urn:a> <urn:b> << <urn:c> <urn:d> <urn:e> >> .')
    1
    >>> turtle_depth(b'{"a": [1, {"b": "]]] [[[["}]}')
    3
    """
    depth = deepest = 0
    for match in _TURTLE_TOKENS.finditer(data):
        kind = match.lastgroup
        if kind == "open":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > limit:
                    break
        elif kind == "close":
            depth -= 1
        elif kind == "unclosed":
            break
    return deepest


class _Deep(Exception):
    pass


def xml_depth(data: bytes, limit: int = MAX_PAYLOAD_NESTING) -> int:
    """How deep the elements of an XML document nest, counted up to ``limit + 1`` with a streaming parser.

    A document that is not well-formed XML is measured up to its fault: the RDF parser reports the fault.

    >>> xml_depth(b'<r><a><b/></a><c/></r>')
    3
    >>> xml_depth(b'<r>' * 500 + b'</r>' * 500, limit=100)
    101
    """
    parser = expat.ParserCreate()
    state = {"depth": 0, "deepest": 0}

    def start(name, attributes) -> None:
        state["depth"] += 1
        if state["depth"] > state["deepest"]:
            state["deepest"] = state["depth"]
            if state["deepest"] > limit:
                raise _Deep

    def end(name) -> None:
        state["depth"] -= 1

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    try:
        parser.Parse(data, True)
    except (_Deep, expat.ExpatError):
        pass
    return state["deepest"]


def refuse_deep_payload(data: bytes, fmt: str, limit: int = MAX_PAYLOAD_NESTING) -> None:
    """PayloadNestingTooDeep when an RDF document in format ``fmt`` (our short name) nests deeper than ``limit``.

    >>> refuse_deep_payload(b"<urn:a> <urn:b> " + b"[ <urn:p> " * 101 + b"]" * 101 + b" .", "turtle")
    Traceback (most recent call last):
    ...
    sparql_api.nesting.PayloadNestingTooDeep: the Turtle payload nests [ ( { or << brackets more than 100 levels deep, the most accepted
    """
    if fmt in _BRACKETED:
        if sum(data.count(opener) for opener in _OPENERS) > limit and turtle_depth(data, limit) > limit:
            name = _BRACKETED[fmt]
            raise PayloadNestingTooDeep(f"the {name} payload nests [ ( {{ or << brackets more than {limit} levels "
                                        "deep, the most accepted")
    elif fmt == "rdfxml" and data.count(b"<") > limit and xml_depth(data, limit) > limit:
        raise PayloadNestingTooDeep(f"the RDF/XML payload nests elements more than {limit} levels deep, "
                                    "the most accepted")
