"""One resource under the base IRI: the one query that describes it, and its representations.

Every resource, whatever its type, is described by the same CONSTRUCT (``RESOURCE_QUERY``), run once
with the IRI bound through pyoxigraph substitutions (never pasted into the text). It returns:

1. the resource's own triples (``<iri> ?p ?o``) from every source graph;
2. the triples of its hash-fragment children (``<iri#quote>``, ``<iri#position>`` of a text span);
3. the links *to* it that its page needs: the predicates of the context's ``@reverse`` terms
   (the duties a KSB is needed by, an organisation's sub-groups and units, the resource a span is
   evidence for, the extraction issues that affect it, ...);
4. labels and codes of every resource it links to or is linked from (``skos:prefLabel``,
   ``rdfs:label``, ``skos:notation``, ``dcterms:title``, ``ceasn:competencyText``; a duty's
   ``dcterms:description``; a source document's ``kim:attributionText`` and ``dcterms:license``),
   so a consumer can show each link without fetching it;
5. for each ``kim:evidence`` span: its source and its quote (``oa:hasSelector`` / ``oa:exact``).

No query per linked resource. The JSON-LD is compacted from exactly these triples (sparql_api.compact),
and Turtle, N-Triples and RDF/XML serialise exactly these triples, so every format says the same. TriG and
N-Quads serialise them too, each in every named graph that states it (sparql_api.fact_graphs); Turtle ends
with a comment block marking the facts that come from curated sources and citing them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pyoxigraph as ox
from rdflib import URIRef

from kimdata.namespaces import PREFIXES
from sparql_api.compact import Compactor, load_context
from store.protocol import KnowledgeStore
from store.terms import serialized

# The summary of a linked resource: what a consumer needs to show a link to it. Only source documents
# carry kim:attributionText and dcterms:license.
LABEL_PREDICATES = ("skos:prefLabel", "rdfs:label", "skos:notation", "dcterms:title", "ceasn:competencyText",
                    "kim:attributionText", "dcterms:license")
# Duties have no label: their statement (dcterms:description) is their summary where the link is to a duty.
DUTY_LINKS = ("kim:hasDuty",)
DUTY_REVERSE_LINKS = ("kim:mapsToKnowledge", "kim:mapsToSkill", "kim:mapsToBehaviour")


def _summary(node: str, link: str, duty_links: tuple[str, ...], guard: str = "") -> str:
    """OPTIONAL labels of ``node``, reached through predicate ``link``."""
    labels = ", ".join(LABEL_PREDICATES)
    duties = ", ".join(duty_links)
    lp, lo = f"{node}Lp", f"{node}Lo"
    return (f"OPTIONAL {{ {node} {lp} {lo} FILTER({guard}({lp} IN ({labels}) "
            f"|| ({lp} = dcterms:description && {link} IN ({duties})))) }}")


@lru_cache(maxsize=1)
def resource_query() -> str:
    """The one CONSTRUCT that describes any resource; ``?iri`` is bound by substitution.

    Measured on the seed data: OPTIONAL lookups per linked resource (evaluated for each row) are
    10-50x faster in pyoxigraph 0.5 than joining with a UNION of label patterns or with VALUES.
    """
    reverse = ", ".join(f"<{iri}>" for iri in load_context().reverse_predicates())
    prefixes = "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in PREFIXES.items())
    return f"""{prefixes}CONSTRUCT {{
  ?iri ?p ?o . ?o ?oLp ?oLo .
  ?child ?cp ?co . ?co ?coLp ?coLo .
  ?referrer ?rp ?iri . ?referrer ?referrerLp ?referrerLo .
  ?span oa:hasSource ?spanSource ; oa:hasSelector ?quote . ?quote oa:exact ?exact .
}} WHERE {{
  {{ ?iri ?p ?o . {_summary("?o", "?p", DUTY_LINKS, "?p != rdf:type && ")} }}
  UNION {{
    ?iri ?childLink ?child . FILTER(isIRI(?child) && STRSTARTS(STR(?child), CONCAT(STR(?iri), "#")))
    ?child ?cp ?co . {_summary("?co", "?cp", DUTY_LINKS, "?cp != rdf:type && ")}
  }}
  UNION {{
    ?referrer ?rp ?iri . FILTER(?rp IN ({reverse}) && ?referrer != ?iri)
    {_summary("?referrer", "?rp", DUTY_REVERSE_LINKS)}
  }}
  UNION {{
    ?iri kim:evidence ?span .
    {{ ?span oa:hasSource ?spanSource }} UNION {{ ?span oa:hasSelector ?quote . ?quote oa:exact ?exact }}
  }}
}}"""


def describe(store: KnowledgeStore, iri: str) -> list[ox.Triple]:
    """The triples that describe ``iri`` (empty when nothing is known about it), without duplicates."""
    result = store.query(resource_query(), substitutions={"iri": URIRef(iri)})
    return list(dict.fromkeys(result))


# ------------------------------------------------------------------ paths and IRIs

# Characters of an IRI path segment that our IRIs use (RFC 3987 iunreserved minus non-ASCII, plus
# sub-delims and ":@"); anything else cannot name one of our resources.
_SEGMENT = re.compile(r"^[A-Za-z0-9\-._~!$&'()*+,;=:@]+\Z")
MAX_PATH = 1024


def iri_for_path(base: str, path: str) -> str | None:
    """The IRI ``{base}id/{path}`` for a request path under /id/, or None if it cannot be one of ours.

    >>> iri_for_path("https://w3id.org/uk-kim/", "standard/ST1337/duty/2")
    'https://w3id.org/uk-kim/id/standard/ST1337/duty/2'
    >>> [iri_for_path("https://w3id.org/uk-kim/", p) for p in ("../../etc/passwd", "a//b", "a b", "", "x/./y")]
    [None, None, None, None, None]
    """
    if not path or len(path) > MAX_PATH:
        return None
    for segment in path.split("/"):
        if segment in ("", ".", "..") or not _SEGMENT.match(segment):
            return None
    return f"{base}id/{path}"


# ------------------------------------------------------------------ representations

@dataclass(frozen=True)
class Representation:
    """One format a resource is served in: media type, ``format=`` names, file-like suffix."""

    name: str
    media_type: str
    aliases: tuple[str, ...]
    label: str


REPRESENTATIONS: tuple[Representation, ...] = (
    Representation("jsonld", "application/ld+json", ("json-ld",), "JSON-LD"),
    Representation("json", "application/json", (), "JSON"),
    Representation("html", "text/html", ("htm",), "HTML"),
    Representation("turtle", "text/turtle", ("ttl",), "Turtle"),
    Representation("ntriples", "application/n-triples", ("nt",), "N-Triples"),
    Representation("rdfxml", "application/rdf+xml", ("rdf", "xml", "rdf+xml", "owl"), "RDF/XML"),
    Representation("trig", "application/trig", (), "TriG"),
    Representation("nquads", "application/n-quads", ("nq",), "N-Quads"),
)
# Our preference order for "*/*" and for no Accept header: JSON-LD first, HTML for browsers (which
# ask for text/html explicitly), then the plain RDF formats.
OFFERS = [r.media_type for r in REPRESENTATIONS]
BY_MEDIA = {r.media_type: r for r in REPRESENTATIONS}
BY_FORMAT = {name: r for r in REPRESENTATIONS for name in (r.name, *r.aliases)}
RDF_SERIALISERS = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
}
# Formats with graph names: each fact in every named graph that states it (sparql_api.fact_graphs).
QUAD_SERIALISERS = {
    "application/trig": ox.RdfFormat.TRIG,
    "application/n-quads": ox.RdfFormat.N_QUADS,
}


def rdf_bytes(triples: list[ox.Triple], media_type: str) -> bytes:
    """The triples in one of the plain RDF formats; Turtle and RDF/XML get the prefixes they use."""
    fmt = RDF_SERIALISERS[media_type]
    ordered = sorted(triples, key=lambda t: (str(t.subject), str(t.predicate), str(t.object)))
    if fmt == ox.RdfFormat.N_TRIPLES:
        return serialized(ox.serialize(ordered, format=fmt))
    used = {str(t.predicate)[1:-1] for t in ordered} | {
        str(t.object)[1:-1] for t in ordered if isinstance(t.object, ox.NamedNode)}
    prefixes = {p: ns for p, ns in PREFIXES.items() if any(i.startswith(ns) for i in used)}
    return serialized(ox.serialize(ordered, format=fmt, prefixes=prefixes))


def quad_bytes(quads: list[ox.Quad], media_type: str) -> bytes:
    """The quads as TriG (with the prefixes it uses) or N-Quads."""
    fmt = QUAD_SERIALISERS[media_type]
    if fmt == ox.RdfFormat.N_QUADS:
        return serialized(ox.serialize(quads, format=fmt))
    used = {str(q.predicate)[1:-1] for q in quads} | {
        str(q.object)[1:-1] for q in quads if isinstance(q.object, ox.NamedNode)}
    prefixes = {p: ns for p, ns in PREFIXES.items() if any(i.startswith(ns) for i in used)}
    return serialized(ox.serialize(quads, format=fmt, prefixes=prefixes))


def compact_json(triples: list[ox.Triple], iri: str, context_url: str) -> dict:
    """The resource as compact JSON-LD with ``@context`` pointing at the published context."""
    return Compactor(triples, iri).compact(context_url)


def json_bytes(document: dict) -> bytes:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


STATIC_DIR = Path(__file__).resolve().parent / "static"


@lru_cache(maxsize=1)
def stylesheet_bytes() -> bytes:
    """The pages' stylesheet, served at /static/kim.css."""
    return (STATIC_DIR / "kim.css").read_bytes()


@lru_cache(maxsize=1)
def context_bytes() -> bytes:
    """The published context document, as served at /context.jsonld."""
    return json.dumps(load_context().document, ensure_ascii=False, indent=1).encode()
