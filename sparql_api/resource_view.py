"""The HTML view of a resource: its compact JSON-LD turned into what ``templates/resource.html`` shows.

The page is built from the same JSON as the ``application/ld+json`` answer, so the two cannot disagree.
Links to resources under the base go to this service's ``/id/...`` paths; other http(s) IRIs are
shown as external links; anything else (``urn:``, ``javascript:``...) is shown as text, never as a link.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import pyoxigraph as ox
from rdflib.namespace import DCTERMS, RDFS, SKOS

from sparql_api.compact import load_context
from sparql_api.fact_graphs import CuratedFact

# Keys read as the resource's own text, in order of preference.
NAME_KEYS = ("label", "title", "rdfsLabel", "name")
TEXT_KEYS = ("statement", "description", "definition", "summary", "exact")
SKIP_KEYS = {"@context", "id", "type", "evidence", "derivedFrom", "@reverse"}
KEY_LABELS = {
    "code": "Code", "ksbs": "KSBs", "ksbType": "KSB type", "ksbCellState": "KSB cell state",
    "rdfsLabel": "Label", "label": "Preferred label", "altLabel": "Other labels",
    "neededBy": "Needed by duties", "mappedKnowledge": "Knowledge", "mappedSkills": "Skills",
    "mappedBehaviour": "Behaviours", "derivedFrom": "Derived from", "sha256": "SHA-256",
    "epaPeriod": "End-point assessment period", "epaPeriodMonths": "End-point assessment period (months)",
    "dutyOf": "Duty of", "standard": "Part of standard", "selectors": "Selectors",
    "exact": "Quoted text", "url": "URL", "employers": "Involved employers",
}


@dataclass
class Value:
    """One value on the page: text, or a link with optional code and text beside it."""

    text: str
    href: str | None = None
    code: str | None = None
    note: str | None = None


@dataclass
class Row:
    key: str
    label: str
    values: list[Value]
    curated_by: list[str] = field(default_factory=list)
    """The curated sources some of these values come from (titles)."""


@dataclass
class CuratedRow:
    """A fact about the resource from a curated source: property, value and the sources it is cited to."""

    label: str
    value: Value
    sources: list[Value]
    also_parsed: bool


@dataclass
class Quote:
    exact: str
    span_href: str | None
    source: Value | None
    attribution: str | None


@dataclass
class Source:
    link: Value
    attribution: str | None
    licence: Value | None
    rights: str | None = None


@dataclass
class ResourceView:
    iri: str
    heading: str
    types: list[str]
    lead: str | None
    rows: list[Row] = field(default_factory=list)
    incoming: list[Row] = field(default_factory=list)
    quotes: list[Quote] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)
    curated: list[CuratedRow] = field(default_factory=list)


def humanise(key: str) -> str:
    """A readable heading for a JSON key or compact IRI.

    >>> humanise("mappedKnowledge"), humanise("kim:ksbCellState"), humanise("subOrganizations")
    ('Knowledge', 'Ksb cell state', 'Sub organizations')
    """
    if key in KEY_LABELS:
        return KEY_LABELS[key]
    local = re.split(r"[:#/]", key)[-1] or key
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", local).split()
    text = " ".join(words).lower()
    return text[:1].upper() + text[1:]


def _literal(value) -> str:
    if isinstance(value, dict):
        return str(value.get("@value", ""))
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _first_text(node: dict, keys) -> str | None:
    for key in keys:
        value = node.get(key)
        if isinstance(value, list):
            value = value[0] if value else None
        if value is not None and not isinstance(value, dict):
            return _literal(value)
        if isinstance(value, dict) and "@value" in value:
            return _literal(value)
    return None


class Viewer:
    """Turns compact JSON-LD into a ResourceView; ``path`` maps an IRI to a local path or None."""

    def __init__(self, path: Callable[[str], str | None]):
        self.path = path

    def href(self, iri: str) -> str | None:
        local = self.path(iri)
        if local is not None:
            return local
        return iri if iri.startswith(("http://", "https://")) else None

    def link(self, node: dict) -> Value:
        iri = node.get("id", "")
        code = node.get("code") if isinstance(node.get("code"), str) else None
        name = _first_text(node, NAME_KEYS)
        text = _first_text(node, TEXT_KEYS)
        if name is None and text is None and code is None:
            name = iri
        shown = name or text or ""
        note = text if name and text and text != name else None
        return Value(shown, self.href(iri), code, note)

    def values(self, raw) -> list[Value]:
        items = raw if isinstance(raw, list) else [raw]
        out = []
        for item in items:
            if isinstance(item, dict) and "id" in item and "@value" not in item:
                out.append(self.link(item))
            else:
                out.append(Value(_literal(item)))
        return out

    def view(self, doc: dict) -> ResourceView:
        iri = doc["id"]
        types = [t for t in doc.get("type", [])]
        name = _first_text(doc, NAME_KEYS)
        code = doc.get("code") if isinstance(doc.get("code"), str) else None
        lead = _first_text(doc, TEXT_KEYS)
        if name:
            heading = name
        elif code:
            heading = f"{code} ({', '.join(types)})" if types else code
        else:
            heading = iri.rstrip("/").rsplit("/", 1)[-1]
        result = ResourceView(iri, heading, types, lead)
        lead_shown = False
        for key, raw in doc.items():
            if key in SKIP_KEYS:
                continue
            values = self.values(raw)
            if key in TEXT_KEYS and not lead_shown and any(v.href is None and v.text == lead for v in values):
                lead_shown = True  # the lead paragraph already shows this value
                values = [v for v in values if not (v.href is None and v.text == lead)]
                if not values:
                    continue
            row = Row(key, humanise(key), values)
            (result.incoming if self._is_reverse(key) else result.rows).append(row)
        for key, raw in (doc.get("@reverse") or {}).items():
            result.incoming.append(Row(key, humanise(key) + " (of)", self.values(raw)))
        sources = {}
        for node in _as_list(doc.get("derivedFrom")):
            if isinstance(node, dict):
                sources[node.get("id")] = node
        for span in _as_list(doc.get("evidence")):
            if not isinstance(span, dict):
                continue
            source = span.get("source") if isinstance(span.get("source"), dict) else None
            if source and source.get("id") in sources and len(source) == 1:
                source = sources[source["id"]]
            for selector in _as_list(span.get("selectors")):
                exact = selector.get("exact") if isinstance(selector, dict) else None
                if exact is None:
                    continue
                result.quotes.append(Quote(
                    _literal(exact), self.href(span.get("id", "")),
                    self.link(source) if source else None,
                    _first_text(source, ("attribution",)) if source else None))
            if source and source.get("id") not in sources:
                sources[source.get("id")] = source
        for node in sources.values():
            licence = node.get("license")
            result.sources.append(Source(
                self.link(node), _first_text(node, ("attribution",)),
                self.link(licence) if isinstance(licence, dict) else None,
                _first_text(node, ("rights",))))
        return result

    def mark_curated(self, view: ResourceView, facts: list[CuratedFact], triples: list[ox.Triple]) -> None:
        """Mark the rows whose values come from curated sources, and list those facts with their citations."""
        if not facts:
            return
        names = _names(triples)
        context = load_context()
        by_key: dict[str, set[str]] = {}
        for terms in (*context.forward.values(), *(s.values() for s in context.scoped.values())):
            for term in terms:
                if not term.reverse:
                    by_key.setdefault(term.name, set()).add(term.iri)
        for row in view.rows:
            predicates = by_key.get(row.key, {context.expand(row.key)})
            row.curated_by = sorted({s.title for f in facts if f.triple.predicate.value in predicates
                                     for s in f.sources})
        for fact in facts:
            obj = fact.triple.object
            if isinstance(obj, ox.NamedNode):
                value = Value(names.get(obj.value, obj.value), self.href(obj.value))
            else:
                value = Value(obj.value if isinstance(obj, ox.Literal) else str(obj))
            cited = [Value(s.title, self.href(s.document) if s.document else None,
                           note=s.page if s.page and s.page.startswith(("http://", "https://")) else None)
                     for s in fact.sources]
            view.curated.append(CuratedRow(humanise(context.compact_iri(fact.triple.predicate.value)), value, cited,
                                           fact.also_parsed))

    @staticmethod
    def _is_reverse(key: str) -> bool:
        context = load_context()
        if any(t.name == key for terms in context.reverse.values() for t in terms):
            return True
        return any(key in terms for terms in context.scoped.values())


NAME_PREDICATES = (str(SKOS.prefLabel), str(DCTERMS.title), str(RDFS.label), str(SKOS.notation))


def _names(triples: list[ox.Triple]) -> dict[str, str]:
    """A name for each subject of ``triples`` that has one (label, title or code)."""
    found: dict[str, tuple[int, str]] = {}
    for t in triples:
        if isinstance(t.subject, ox.NamedNode) and t.predicate.value in NAME_PREDICATES:
            rank = NAME_PREDICATES.index(t.predicate.value)
            if t.subject.value not in found or rank < found[t.subject.value][0]:
                found[t.subject.value] = (rank, t.object.value if isinstance(t.object, ox.Literal) else str(t.object))
    return {iri: name for iri, (_, name) in found.items()}


def _as_list(value) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
