"""Compact JSON-LD built directly from triples with the published context (``ontology/context.jsonld``).

pyld's compaction costs tens of milliseconds per resource, so the API writes the compact form itself.
The writer is generic and driven by the context file, which keeps the two from drifting apart:

* each predicate goes under the context term whose IRI and coercion fit the value (``label`` only for
  ``@en`` strings, ``level`` only for ``xsd:integer``, ...); a value no term fits goes under the compact
  IRI (``kim:ksbCellState``) as an explicit value object, so nothing is ever lost or retyped;
* links are node objects (``{"id": ..., "code": "K1", "statement": ...}``) carrying whatever the
  resource's triples say about the linked resource; a resource met again below itself is ``{"id"}``;
* links *to* the resource are written with the context's ``@reverse`` terms (``neededBy``,
  ``subOrganizations``, ...), or under ``@reverse`` with compact IRIs when no term fits;
* terms with ``@container: @set`` are always arrays; other keys are arrays only when there are
  several values.

So expanding the output with any JSON-LD 1.1 processor gives exactly the input triples.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pyoxigraph as ox

from kimdata.paths import CONTEXT_PATH

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
XSD = "http://www.w3.org/2001/XMLSchema#"
XSD_STRING, XSD_INTEGER, XSD_BOOLEAN = XSD + "string", XSD + "integer", XSD + "boolean"
_CANONICAL_INT = re.compile(r"^-?(0|[1-9][0-9]{0,15})$")  # small enough to be exact in any JSON parser


@dataclass(frozen=True)
class Term:
    """One term definition of the context, reduced to what choosing a key needs."""

    name: str
    iri: str
    reverse: bool = False
    coercion: tuple[str, str] | None = None  # ("id", "") | ("lang", "en") | ("type", datatype IRI)
    is_set: bool = False


@dataclass
class Context:
    """The published context: prefixes, terms by predicate IRI, class names and type-scoped terms."""

    document: dict
    prefixes: dict[str, str] = field(default_factory=dict)
    forward: dict[str, list[Term]] = field(default_factory=lambda: defaultdict(list))
    reverse: dict[str, list[Term]] = field(default_factory=lambda: defaultdict(list))
    classes: dict[str, str] = field(default_factory=dict)
    scoped: dict[str, dict[str, Term]] = field(default_factory=dict)  # class IRI -> terms it adds
    order: dict[str, int] = field(default_factory=dict)

    def expand(self, value: str) -> str:
        prefix, sep, local = value.partition(":")
        if sep and prefix in self.prefixes and not local.startswith("//"):
            return self.prefixes[prefix] + local
        return value

    def compact_iri(self, iri: str) -> str:
        """``kim:level`` for a vocabulary IRI, or the IRI itself when no prefix fits."""
        best = ""
        for prefix, ns in self.prefixes.items():
            if iri.startswith(ns) and len(ns) > len(self.prefixes.get(best, "")) and len(iri) > len(ns):
                best = prefix
        return f"{best}:{iri[len(self.prefixes[best]):]}" if best else iri

    def reverse_predicates(self) -> list[str]:
        """Every predicate some ``@reverse`` term (including type-scoped ones) stands for."""
        found = set(self.reverse)
        for terms in self.scoped.values():
            found.update(t.iri for t in terms.values() if t.reverse)
        return sorted(found)


def _term(context: Context, name: str, definition) -> Term | None:
    if isinstance(definition, str):
        definition = {"@id": definition}
    if not isinstance(definition, dict):
        return None
    reverse = "@reverse" in definition
    iri = definition.get("@reverse") if reverse else definition.get("@id")
    if not iri or iri.startswith("@"):
        return None
    coercion = None
    if definition.get("@type") in ("@id", "@vocab"):
        coercion = ("id", "")
    elif "@type" in definition:
        coercion = ("type", context.expand(definition["@type"]))
    elif "@language" in definition and definition["@language"] is not None:
        coercion = ("lang", definition["@language"].lower())
    return Term(name, context.expand(iri), reverse, coercion, definition.get("@container") == "@set")


@lru_cache(maxsize=1)
def load_context(path: Path = CONTEXT_PATH) -> Context:
    """The context file, parsed once."""
    document = json.loads(Path(path).read_text(encoding="utf-8"))
    body = document["@context"]
    context = Context(document)
    for name, definition in body.items():
        if isinstance(definition, str) and definition.endswith(("#", "/")) and ":" in definition \
                and not name.startswith("@"):
            context.prefixes[name] = definition
    for position, (name, definition) in enumerate(body.items()):
        context.order[name] = position
        if name.startswith("@") or name in context.prefixes:
            continue
        term = _term(context, name, definition)
        if term is None:
            continue
        if name[:1].isupper() and not term.reverse:
            context.classes[term.iri] = name
            scoped = definition.get("@context") if isinstance(definition, dict) else None
            if scoped:
                context.scoped[term.iri] = {n: t for n, d in scoped.items() if (t := _term(context, n, d))}
            continue
        (context.reverse if term.reverse else context.forward)[term.iri].append(term)
    return context


# ------------------------------------------------------------------ values

def _node_key(term) -> str:
    return term.value if isinstance(term, ox.NamedNode) else "_:" + term.value


def _literal_shape(literal: ox.Literal) -> tuple[str, str]:
    if literal.language:
        return ("lang", literal.language.lower())
    if literal.datatype.value == XSD_STRING:
        return ("plain", "")
    return ("type", literal.datatype.value)


def _native(literal: ox.Literal, datatype: str):
    """A JSON number or boolean where it reads back as exactly the same literal, else the string."""
    if datatype == XSD_INTEGER and _CANONICAL_INT.match(literal.value):
        return int(literal.value)
    if datatype == XSD_BOOLEAN and literal.value in ("true", "false"):
        return literal.value == "true"
    return literal.value


def _value_object(context: Context, literal: ox.Literal):
    shape, detail = _literal_shape(literal)
    if shape == "plain":
        return literal.value
    if shape == "lang":
        return {"@value": literal.value, "@language": literal.language}
    return {"@value": literal.value, "@type": context.compact_iri(detail)}


def _sort_key(value):
    if isinstance(value, dict):
        code = value.get("code")
        code = code if isinstance(code, str) else ""
        natural = tuple((0, int(part), "") if part.isdigit() else (1, 0, part)
                        for part in re.findall(r"\d+|\D+", code))
        text = next((value[k] for k in ("label", "title", "statement", "rdfsLabel", "@value")
                     if isinstance(value.get(k), str)), "")
        return (0, natural, text.casefold(), value.get("id", ""))
    return (1, (), str(value).casefold(), "")


class Compactor:
    """Writes one resource's triples as a compact JSON-LD tree rooted at that resource."""

    def __init__(self, triples, root: str, context: Context | None = None):
        self.context = context or load_context()
        self.root = root
        self.out: dict[str, list[tuple[str, object]]] = defaultdict(list)
        self.incoming: list[tuple[object, str]] = []  # (subject, predicate) of links to the root
        self._links: dict = {}
        self._literals: dict = {}
        self._scoped: dict[str, dict[str, Term]] = {}
        reverse = set(self.context.reverse_predicates())
        for triple in triples:
            subject = _node_key(triple.subject)
            self.out[subject].append((triple.predicate.value, triple.object))
            if (isinstance(triple.object, ox.NamedNode) and triple.object.value == root and subject != root
                    and triple.predicate.value in reverse):
                self.incoming.append((triple.subject, triple.predicate.value))
        self._incoming_keys = {(_node_key(subject), predicate) for subject, predicate in self.incoming}

    # -------------------------------------------------------------- terms

    def _terms_for(self, node: str) -> dict[str, Term]:
        """The type-scoped terms active on ``node``; a name two of its types define differently is dropped."""
        if node not in self._scoped:
            self._scoped[node] = self._scoped_terms(node)
        return self._scoped[node]

    def _scoped_terms(self, node: str) -> dict[str, Term]:
        active: dict[str, Term] = {}
        clashes: set[str] = set()
        for predicate, obj in self.out.get(node, ()):
            if predicate == RDF_TYPE and isinstance(obj, ox.NamedNode):
                for name, term in self.context.scoped.get(obj.value, {}).items():
                    if name in active and active[name] != term:
                        clashes.add(name)
                    active[name] = term
        return {name: term for name, term in active.items() if name not in clashes}

    def _candidates(self, predicate: str, reverse: bool, scoped: dict[str, Term]) -> list[Term]:
        table = self.context.reverse if reverse else self.context.forward
        found = [t for t in table.get(predicate, ()) if t.name not in scoped]
        found += [t for t in scoped.values() if t.iri == predicate and t.reverse == reverse]
        return found

    def _key_for_link(self, predicate: str, reverse: bool, scoped: dict[str, Term]) -> Term | None:
        memo = (predicate, reverse, id(scoped) if scoped else 0)
        if memo in self._links:
            return self._links[memo]
        self._links[memo] = found = self._choose_link(predicate, reverse, scoped)
        return found

    def _choose_link(self, predicate: str, reverse: bool, scoped: dict[str, Term]) -> Term | None:
        terms = self._candidates(predicate, reverse, scoped)
        return next((t for t in terms if t.coercion == ("id", "")), None) or \
            next((t for t in terms if t.coercion is None or reverse), None)

    def _key_for_literal(self, predicate: str, literal: ox.Literal, scoped: dict[str, Term]) -> Term | None:
        shape = _literal_shape(literal)
        memo = (predicate, shape, id(scoped) if scoped else 0)
        if memo not in self._literals:
            self._literals[memo] = next(
                (t for t in self._candidates(predicate, False, scoped)
                 if (shape[0] == "plain" and t.coercion is None) or t.coercion == shape), None)
        return self._literals[memo]

    # -------------------------------------------------------------- nodes

    def compact(self, context_url: str | None = None) -> dict:
        """The resource as one JSON object, with ``@context`` first when a URL is given."""
        node = self._node(self.root, ())
        if context_url is None:
            return node
        return {"@context": context_url, **node}

    def _node(self, key: str, ancestors: tuple[str, ...]) -> dict:
        scoped = self._terms_for(key)
        path = (*ancestors, key)
        keyed: dict[str, list] = defaultdict(list)
        set_keys: set[str] = set()
        types = []
        for predicate, obj in self.out.get(key, ()):
            if ancestors and isinstance(obj, ox.NamedNode) and obj.value == self.root \
                    and (key, predicate) in self._incoming_keys:
                continue  # a link to the root, written among the root's reverse terms
            if predicate == RDF_TYPE and not isinstance(obj, ox.Literal):
                types.append(self.context.classes.get(obj.value) or self.context.compact_iri(obj.value)
                             if isinstance(obj, ox.NamedNode) else _node_key(obj))
                continue
            if isinstance(obj, ox.Literal):
                term = self._key_for_literal(predicate, obj, scoped)
                if term is None:
                    keyed[self.context.compact_iri(predicate)].append(_value_object(self.context, obj))
                    continue
                datatype = term.coercion[1] if term.coercion and term.coercion[0] == "type" else ""
                keyed[term.name].append(_native(obj, datatype))
            else:
                term = self._key_for_link(predicate, False, scoped)
                name = term.name if term else self.context.compact_iri(predicate)
                keyed[name].append(self._link(obj, path))
            if term is not None and term.is_set:
                set_keys.add(term.name)
        result: dict = {"id": key}
        if types:
            result["type"] = sorted(set(types))
        for name in sorted(keyed, key=lambda n: (self.context.order.get(n, 10_000), n)):
            result[name] = self._shape(keyed[name], name in set_keys)
        if key == self.root and not ancestors:
            self._reverse_into(result, scoped, path)
        return result

    def _reverse_into(self, result: dict, scoped: dict[str, Term], path: tuple[str, ...]) -> None:
        keyed: dict[str, list] = defaultdict(list)
        fallback: dict[str, list] = defaultdict(list)
        for subject, predicate in self.incoming:
            value = self._node(_node_key(subject), path) \
                if _node_key(subject) in self.out else {"id": _node_key(subject)}
            term = self._key_for_link(predicate, True, scoped)
            if term is None:
                fallback[self.context.compact_iri(predicate)].append(value)
            else:
                keyed[term.name].append(value)
        for name in sorted(keyed, key=lambda n: (self.context.order.get(n, 10_000), n)):
            result[name] = self._shape(keyed[name], True)
        if fallback:
            result["@reverse"] = {name: self._shape(values, True) for name, values in sorted(fallback.items())}

    def _link(self, obj, path: tuple[str, ...]) -> dict:
        key = _node_key(obj)
        if key in path or key not in self.out:
            return {"id": key}
        return self._node(key, path)

    @staticmethod
    def _shape(values: list, is_set: bool):
        # Triples are distinct and each predicate has its own key, so values never repeat.
        if len(values) > 1:
            values.sort(key=_sort_key)
        return values if is_set or len(values) > 1 else values[0]


def compact(triples, root: str, context_url: str | None = None, context: Context | None = None) -> dict:
    """One resource's triples as compact JSON-LD rooted at ``root``.

    >>> t = ox.Triple(ox.NamedNode("https://w3id.org/uk-kim/id/standard/ST1/duty/1"),
    ...               ox.NamedNode("http://www.w3.org/2004/02/skos/core#notation"), ox.Literal("D1"))
    >>> compact([t], "https://w3id.org/uk-kim/id/standard/ST1/duty/1")
    {'id': 'https://w3id.org/uk-kim/id/standard/ST1/duty/1', 'code': 'D1'}
    """
    return Compactor(triples, root, context).compact(context_url)


def compact_graph(triples, context_url: str | None = None, context: Context | None = None) -> dict:
    """Any set of triples (a CONSTRUCT or DESCRIBE result) as compact JSON-LD: one tree per resource that
    nothing else in the set links to (and one for each cycle nothing links into), in ``@graph`` when there
    are several. Expanding it gives exactly the triples.

    >>> duty, ksb = (ox.NamedNode("https://w3id.org/uk-kim/id/standard/ST1/" + p) for p in ("duty/1", "ksb/K1"))
    >>> notation = ox.NamedNode("http://www.w3.org/2004/02/skos/core#notation")
    >>> compact_graph([ox.Triple(ksb, notation, ox.Literal("K1")), ox.Triple(duty, notation, ox.Literal("D1"))])
    {'@graph': [{'id': 'https://w3id.org/uk-kim/id/standard/ST1/duty/1', 'code': 'D1'}, {'id': 'https://w3id.org/uk-kim/id/standard/ST1/ksb/K1', 'code': 'K1'}]}
    """
    triples = list(triples)
    compactor = Compactor(triples, "", context)  # no root: no links are written in reverse
    linked: dict[str, set[str]] = defaultdict(set)
    for triple in triples:
        if not isinstance(triple.object, ox.Literal):
            linked[_node_key(triple.subject)].add(_node_key(triple.object))
    referenced = {target for subject, targets in linked.items() for target in targets if target != subject}
    subjects = sorted(compactor.out)
    roots = [s for s in subjects if s not in referenced]
    reached: set[str] = set()

    def reach(start: str) -> None:
        stack = [start]
        while stack:
            key = stack.pop()
            if key not in reached:
                reached.add(key)
                stack.extend(linked.get(key, ()))

    for root in roots:
        reach(root)
    for subject in subjects:
        if subject not in reached:
            roots.append(subject)
            reach(subject)
    nodes = [compactor._node(root, ()) for root in roots]
    body: dict = {"@graph": nodes} if len(nodes) != 1 else nodes[0]
    return {"@context": context_url, **body} if context_url is not None else body


def compact_ntriples(nt: bytes, context_url: str | None = None) -> dict:
    """N-Triples as compact JSON-LD (``compact_graph``)."""
    return compact_graph(ox.parse(nt, ox.RdfFormat.N_TRIPLES), context_url=context_url)
