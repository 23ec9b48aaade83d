"""Media types and serialisation: results and graphs to bytes, payloads to triples; the one prefix table."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass

import pyoxigraph as ox

from kimdata.prefixes import PREFIXES
from sparql_api.errors import (
    BadRequest,
    InvalidRdf,
    NotAcceptable,
    RdfNestingTooDeep,
    ResultTooLarge,
    UnsupportedMediaType,
)
from sparql_api.nesting import MAX_PAYLOAD_NESTING, PayloadNestingTooDeep, refuse_deep_payload
from store.terms import RDF_FORMATS, RESULT_FORMATS, serialized

FORMATS_NS = "http://www.w3.org/ns/formats/"
PREFIX_TABLE: dict[str, str] = {
    **PREFIXES,
    "sd": "http://www.w3.org/ns/sparql-service-description#",
    "void": "http://rdfs.org/ns/void#",
    "formats": FORMATS_NS,
    "hydra": "http://www.w3.org/ns/hydra/core#",
}


@dataclass(frozen=True)
class Format:
    """One serialisation: our short name (the ``format=`` value), its media types and its W3C format IRI."""

    name: str
    media_type: str
    aliases: tuple[str, ...]
    iri: str
    kind: str  # "results" (SELECT/ASK) or "graph" (CONSTRUCT/DESCRIBE and RDF documents)

    @property
    def media_types(self) -> tuple[str, ...]:
        return (self.media_type, *self.aliases)


# https://www.w3.org/ns/formats/ names each format; the first of each kind is the default.
FORMATS: tuple[Format, ...] = (
    Format("json", "application/sparql-results+json", ("application/json",),
           FORMATS_NS + "SPARQL_Results_JSON", "results"),
    Format("xml", "application/sparql-results+xml", ("application/xml", "text/xml"),
           FORMATS_NS + "SPARQL_Results_XML", "results"),
    Format("csv", "text/csv", (), FORMATS_NS + "SPARQL_Results_CSV", "results"),
    Format("tsv", "text/tab-separated-values", (), FORMATS_NS + "SPARQL_Results_TSV", "results"),
    Format("turtle", "text/turtle", ("application/x-turtle",), FORMATS_NS + "Turtle", "graph"),
    Format("ntriples", "application/n-triples", (), FORMATS_NS + "N-Triples", "graph"),
    Format("rdfxml", "application/rdf+xml", ("application/xml", "text/xml"), FORMATS_NS + "RDF_XML", "graph"),
    Format("jsonld", "application/ld+json", ("application/json",), FORMATS_NS + "JSON-LD", "graph"),
    Format("trig", "application/trig", (), FORMATS_NS + "TriG", "graph"),
    Format("nquads", "application/n-quads", (), FORMATS_NS + "N-Quads", "graph"),
)
BY_NAME: dict[str, Format] = {f.name: f for f in FORMATS}


def offers(kind: str) -> list[str]:
    """Media types we can answer with for one kind, canonical types first (so ``*/*`` gets them)."""
    chosen = [f for f in FORMATS if f.kind == kind]
    return [f.media_type for f in chosen] + [a for f in chosen for a in f.aliases]


RESULT_OFFERS = offers("results")
GRAPH_OFFERS = offers("graph")
PAYLOAD_FORMATS = ("turtle", "ntriples", "rdfxml", "jsonld", "trig", "nquads")


def format_of(media_type: str, kind: str) -> Format:
    """The format a media type (one of our offers) stands for."""
    base = media_type.split(";")[0].strip().lower()
    for f in FORMATS:
        if f.kind == kind and base in f.media_types:
            return f
    raise KeyError(media_type)


def content_type(media_type: str) -> str:
    """The Content-Type header for a body we write: all our text is UTF-8."""
    return media_type + "; charset=utf-8" if media_type.startswith("text/") else media_type


# Other names clients use in format= (SPARQLWrapper sends "xml" and "json" for graphs too, and "n3").
NAME_ALIASES = {
    "results": {"srj": "json", "srx": "xml"},
    "graph": {"xml": "rdfxml", "rdf+xml": "rdfxml", "rdf": "rdfxml", "json": "jsonld", "json-ld": "jsonld",
              "ttl": "turtle", "n3": "turtle", "nt": "ntriples", "nq": "nquads"},
}


def override(format_param: str | None, kind: str) -> str | None:
    """The ``format=`` query parameter, read for one kind of result, as an Accept value.

    >>> override("turtle", "graph"), override("xml", "graph"), override("xml", "results")
    ('text/turtle', 'application/rdf+xml', 'application/sparql-results+xml')
    >>> override("text/csv", "results")
    'text/csv'
    >>> override(None, "graph") is None
    True
    """
    if format_param is None:
        return None
    value = format_param.strip().lower()
    if "/" in value:
        return value
    if value in BY_NAME and BY_NAME[value].kind == kind:
        return BY_NAME[value].media_type
    if value in NAME_ALIASES[kind]:
        return BY_NAME[NAME_ALIASES[kind][value]].media_type
    if value in BY_NAME:  # a format of the other kind: negotiation will answer 406
        return BY_NAME[value].media_type
    raise BadRequest(f"unknown format {format_param!r}; use one of {', '.join(BY_NAME)} or a media type")


# ------------------------------------------------------------------ serialising

class _LineLimit:
    """A writer that keeps what it is given and stops once more than ``limit`` lines arrive."""

    def __init__(self, limit: int):
        self.limit, self.lines, self.overflow = limit, 0, False
        self.buffer = io.BytesIO()

    def write(self, data) -> int:
        self.lines += bytes(data).count(b"\n")
        if self.lines > self.limit:
            self.overflow = True
            raise ResultTooLarge("limit")
        return self.buffer.write(data)

    def flush(self) -> None:
        pass


def _limited(serialize, lines: int, most: int, what: str) -> bytes:
    """What ``serialize`` writes, or ResultTooLarge as soon as it passes ``lines`` lines."""
    writer = _LineLimit(lines)
    try:
        serialize(writer)
    except Exception:
        if writer.overflow:
            raise ResultTooLarge(f"the result has more than {most} {what}, the most this service returns; "
                                 "narrow the query or add a LIMIT") from None
        raise
    return writer.buffer.getvalue()


def serialize_result(result, fmt: str, max_rows: int) -> bytes:
    """A query result (solutions, boolean or triples) in format ``fmt``, refusing more than ``max_rows``."""
    if isinstance(result, ox.QueryBoolean):
        return serialized(result.serialize(format=RESULT_FORMATS[fmt]))
    if isinstance(result, ox.QuerySolutions):
        # TSV writes one solution per line (newlines in literals are escaped), so lines count rows.
        tsv = _limited(lambda w: result.serialize(w, format=ox.QueryResultsFormat.TSV),
                       max_rows + 1, max_rows, "rows")
        if fmt == "tsv":
            return tsv
        solutions = ox.parse_query_results(tsv, ox.QueryResultsFormat.TSV)
        return serialized(solutions.serialize(format=RESULT_FORMATS[fmt]))
    # N-Triples writes one triple per line, so lines count triples.
    nt = _limited(lambda w: result.serialize(w, format=ox.RdfFormat.N_TRIPLES), max_rows, max_rows, "triples")
    return convert_ntriples(nt, fmt)


def convert_ntriples(nt: bytes, fmt: str) -> bytes:
    """N-Triples in another RDF format (quad formats put the triples in the default graph)."""
    if fmt == "ntriples":
        return nt
    rdf_format = RDF_FORMATS[fmt]
    if fmt in ("turtle", "trig", "rdfxml"):
        # These writers group consecutive triples by subject; sorted lines put each subject's together.
        nt = b"\n".join(sorted(nt.splitlines()))
    quads = ox.parse(nt, ox.RdfFormat.N_TRIPLES)
    items: Iterable[ox.Quad] | Iterable[ox.Triple] = quads if rdf_format.supports_datasets else (q.triple for q in quads)
    return serialized(ox.serialize(items, format=rdf_format, prefixes=_prefixes(fmt, nt)))


def _prefixes(fmt: str, nt: bytes) -> dict[str, str] | None:
    """The table's prefixes that the data uses, for the formats that abbreviate IRIs."""
    if fmt not in ("turtle", "trig", "rdfxml"):
        return None
    return {prefix: ns for prefix, ns in PREFIX_TABLE.items() if b"<" + ns.encode() in nt}


# ------------------------------------------------------------------ parsing payloads

def payload_format(content_type_header: str | None) -> str:
    """Our format name for a request body's Content-Type, or UnsupportedMediaType."""
    base = (content_type_header or "").split(";")[0].strip().lower()
    for name in PAYLOAD_FORMATS:
        if base in BY_NAME[name].media_types:
            return name
    accepted = ", ".join(BY_NAME[n].media_type for n in PAYLOAD_FORMATS)
    raise UnsupportedMediaType(f"cannot read {base or 'a body without Content-Type'}; send one of {accepted}")


# A DTD may declare entities; Oxigraph's RDF/XML parser expands internal ones, nested ones without bound.
_DTD = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)
MAX_JSON_DEPTH = MAX_PAYLOAD_NESTING
"""Deepest nesting of JSON arrays and objects accepted in a JSON-LD payload: the JSON-LD processors
recurse once per level, and a few thousand levels overflow their stack."""


def json_depth(value) -> int:
    """How many levels of arrays and objects a parsed JSON value nests, counted without recursion.

    >>> json_depth({"a": [1, {"b": []}]}), json_depth("x")
    (4, 0)
    """
    deepest, pending = 0, [(value, 1)]
    while pending:
        item, depth = pending.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        deepest = max(deepest, depth)
        pending.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return deepest


def refuse_deep_json(document) -> None:
    """InvalidRdf when a parsed JSON-LD document nests deeper than MAX_JSON_DEPTH."""
    if json_depth(document) > MAX_JSON_DEPTH:
        raise RdfNestingTooDeep(f"the JSON-LD payload nests more than {MAX_JSON_DEPTH} levels of arrays and objects")


def refuse_hazards(data: bytes, fmt: str) -> None:
    """Refuse what would make a parser expand, recurse or fetch without bound (a DTD in RDF/XML, nesting past
    MAX_PAYLOAD_NESTING in any format) and JSON-LD that is no object or array."""
    if fmt == "rdfxml" and _DTD.search(data):
        raise InvalidRdf("RDF/XML with a document type declaration (DOCTYPE or ENTITY) is not accepted: "
                         "its entities could expand without bound")
    try:
        refuse_deep_payload(data, fmt)
    except PayloadNestingTooDeep as e:
        raise RdfNestingTooDeep(str(e)) from None
    if fmt == "jsonld":
        try:
            document = json.loads(data)
        except RecursionError:
            raise RdfNestingTooDeep(f"the JSON-LD payload nests more than {MAX_JSON_DEPTH} levels "
                                    "of arrays and objects") from None
        except ValueError:  # not JSON, or not UTF-8: the RDF parser names the fault
            return
        if not isinstance(document, (dict, list)):  # a bare number or string would read as no triples at all
            raise InvalidRdf("a JSON-LD document is a JSON object or array")
        refuse_deep_json(document)


def parse_triples(data: bytes, fmt: str, base_iri: str) -> list:
    """Every triple of an RDF document, parsed fully (so a bad payload changes nothing)."""
    refuse_hazards(data, fmt)
    try:
        quads = list(ox.parse(data, RDF_FORMATS[fmt], base_iri=base_iri, without_named_graphs=True))
    except SyntaxError as e:
        raise InvalidRdf(f"the {BY_NAME[fmt].media_type} payload does not parse: {e}") from None
    except ValueError as e:
        raise InvalidRdf(f"the payload cannot be read: {e}") from None
    return [q.triple for q in quads]


def triples_as_sparql(triples: list) -> str:
    """Triples in N-Triples syntax, which is also valid inside SPARQL ``INSERT DATA``."""
    return serialized(ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES)).decode("utf-8")


def not_acceptable(kind: str) -> NotAcceptable:
    """The 406 for a result whose kind the client accepts no format of."""
    return NotAcceptable(f"this resource is available as {', '.join(offers(kind))}")
