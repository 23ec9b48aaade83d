"""SPARQL text without a parser: tokens, the query form, the checks made before a query runs, and values
bound as strictly serialised terms.

pyoxigraph has no syntax tree in Python, so these read tokens: keywords inside strings, IRIs, comments,
variables and prefixed names (``ex:SERVICE``) are never mistaken for the real ones. Oxigraph does not
decode ``\\u`` escapes outside strings, so neither does this lexer. Each token is tried once per
position, so no pattern rescans what follows: a quote that opens no complete string ends the lexing (the
text cannot be SPARQL), and a prefixed name never starts inside a run of name characters. Lexing is
linear in the length of the text.

Used by the SPARQL endpoint, the named queries and the remote store alike.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, NamedTuple
from urllib.parse import urljoin

import pyoxigraph as ox

from store.errors import QuerySyntaxError
from store.terms import XSD_STRING, to_rdflib

if TYPE_CHECKING:
    from rdflib.term import Node

# Every alternative is a named group, and "other" takes any character: a match's lastgroup is always set.
_TOKENS = re.compile(r"""
    (?P<ws>\s+)
  | (?P<comment>\#[^\n\r]*)
  | (?P<string>'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"
              |'(?:[^'\\\n\r]|\\.)*'|"(?:[^"\\\n\r]|\\.)*")
  | (?P<unclosed>["'].*)
  | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
  | (?P<var>[?$][\w\u00B7\u00C0-\uFFFF]+)
  | (?P<pname>(?<![\w.\-\u00B7\u00C0-\uFFFF])(?:[A-Za-z\u00C0-\uFFFF][\w.\-\u00B7\u00C0-\uFFFF]*)?:(?:[\w\-:%.\u00B7\u00C0-\uFFFF]|\\.)*)
  | (?P<lang>@[A-Za-z]+(?:-[A-Za-z0-9]+)*)
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<other>.)
""", re.VERBOSE | re.DOTALL)
FORMS = ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")
MAX_NESTING = 64
"""Deepest nesting of { }, ( ) and [ ] accepted: Oxigraph parses and plans queries recursively, so a few
thousand levels overflow its stack (and nested collections take time exponential in their depth)."""

# The IRIREF production of SPARQL 1.1 (no escapes needed or allowed inside <...>).
_IRIREF = re.compile(r'^[^<>"{}|^`\\\x00-\x20]*$')
_LANGTAG = re.compile(r"^[A-Za-z]+(?:-[A-Za-z0-9]+)*$")
_VARNAME = re.compile(r"^\w+$")
# SPARQL ECHAR escapes; every other character may stand as itself inside "...".
_ECHAR = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}


class RemoteAccessRefused(ValueError):
    """SERVICE or LOAD: the text would make the server fetch a URL the caller chose."""


class NestingTooDeep(ValueError):
    """Brackets nest deeper than MAX_NESTING."""


class Token(NamedTuple):
    kind: str
    text: str
    start: int


def tokens(text: str) -> list[Token]:
    """The significant tokens of a query or update (no whitespace, no comments).

    >>> [t.text for t in tokens('SELECT ?service { <urn:SERVICE> ex:SERVICE "SERVICE" } # SERVICE')]
    ['SELECT', '?service', '{', '<urn:SERVICE>', 'ex:SERVICE', '"SERVICE"', '}']
    """
    return [Token(m.lastgroup or "", m.group(), m.start()) for m in _TOKENS.finditer(text)
            if m.lastgroup not in ("ws", "comment")]


def keywords(found: list[Token]) -> set[str]:
    """The upper-cased keywords (bare words) among the tokens."""
    return {t.text.upper() for t in found if t.kind == "word"}


def query_form(text_or_tokens: str | list[Token]) -> str | None:
    """SELECT, ASK, CONSTRUCT or DESCRIBE: the first keyword after the prologue.

    >>> query_form('PREFIX ex: <http://e/> # SELECT\\nASK { ?s ex:p "CONSTRUCT" }')
    'ASK'
    >>> query_form(tokens("PREFIX ex: <http://e/> # ASK\\nCONSTRUCT WHERE { ?s ?p ?o }"))
    'CONSTRUCT'
    """
    if isinstance(text_or_tokens, str):  # stops at the form: the prologue is short, the query may not be
        found: Iterator[Token] = (Token(m.lastgroup or "", m.group(), m.start())
                                  for m in _TOKENS.finditer(text_or_tokens))
    else:
        found = iter(text_or_tokens)
    for token in found:
        if token.kind == "word" and token.text.upper() not in ("BASE", "PREFIX"):
            return token.text.upper() if token.text.upper() in FORMS else None
    return None


def refuse_remote(found: list[Token]) -> None:
    """RemoteAccessRefused when the text uses SERVICE or LOAD.

    >>> refuse_remote(tokens('ASK { SERVICE <http://127.0.0.1/> { ?s ?p ?o } }'))
    Traceback (most recent call last):
    ...
    store.sparql_text.RemoteAccessRefused: SERVICE would make this server fetch remote data; federated queries and LOAD are disabled on this endpoint
    """
    used = keywords(found) & {"SERVICE", "LOAD"}
    if used:
        raise RemoteAccessRefused(f"{' and '.join(sorted(used))} would make this server fetch remote data; "
                                  "federated queries and LOAD are disabled on this endpoint")


def refuse_deep_nesting(found: list[Token]) -> None:
    """NestingTooDeep when brackets nest deeper than MAX_NESTING.

    >>> refuse_deep_nesting(tokens("ASK " + "{" * 65 + "}" * 65))
    Traceback (most recent call last):
    ...
    store.sparql_text.NestingTooDeep: the query nests brackets more than 64 levels deep, the most accepted
    """
    depth = 0
    for token in found:
        if token.text in ("{", "(", "["):
            depth += 1
            if depth > MAX_NESTING:
                raise NestingTooDeep(f"the query nests brackets more than {MAX_NESTING} levels deep, the most accepted")
        elif token.text in ("}", ")", "]"):
            depth -= 1


def add_using(text: str, found: list[Token], using: list[str], using_named: list[str]) -> str:
    """Write protocol ``using-graph-uri``/``using-named-graph-uri`` into each DELETE/INSERT ... WHERE.

    >>> add_using("INSERT { ?s a <urn:T> } WHERE { ?s ?p ?o }", tokens("INSERT { ?s a <urn:T> } WHERE { ?s ?p ?o }"),
    ...           ["urn:g"], ["urn:n"])
    'INSERT { ?s a <urn:T> } USING <urn:g> USING NAMED <urn:n> WHERE { ?s ?p ?o }'
    """
    clause = "".join(f"USING <{g}> " for g in using) + "".join(f"USING NAMED <{g}> " for g in using_named)
    depth, cuts, previous = 0, [], None
    for token in found:
        if token.text == "{":
            depth += 1
        elif token.text == "}":
            depth -= 1
        elif depth == 0 and token.kind == "word" and token.text.upper() == "WHERE":
            if not (previous and previous.kind == "word" and previous.text.upper() == "DELETE"):
                cuts.append(token.start)  # DELETE WHERE takes no USING clause
        previous = token
    for cut in reversed(cuts):
        text = text[:cut] + clause + text[cut:]
    return text


# ------------------------------------------------------------------ binding values without pasting text

def sparql_iri(value: str) -> str:
    """An IRI as SPARQL text, checked against IRIREF and as an absolute IRI.

    >>> sparql_iri("http://e/a")
    '<http://e/a>'
    """
    if not _IRIREF.match(value):
        raise ValueError(f"cannot bind {value!r}: it is not a valid IRI")
    ox.NamedNode(value)  # an absolute IRI (RFC 3987), or ValueError, as the embedded store says
    return f"<{value}>"


def sparql_term(term: Node) -> str:
    """One RDF term as SPARQL text, strictly: IRIs checked against IRIREF, literals escaped (ECHAR).

    >>> from rdflib import Literal, URIRef
    >>> sparql_term(Literal('K1" } ; DROP ALL ; #'))
    '"K1\\\\" } ; DROP ALL ; #"'
    >>> sparql_term(URIRef("http://e/a> } ; DROP ALL ; <x:"))
    Traceback (most recent call last):
    ...
    ValueError: cannot bind 'http://e/a> } ; DROP ALL ; <x:': it is not a valid IRI
    """
    from rdflib import BNode, Literal, URIRef

    if isinstance(term, (ox.NamedNode, ox.BlankNode, ox.Literal)):
        term = to_rdflib(term)
    if isinstance(term, URIRef):
        return sparql_iri(str(term))
    if isinstance(term, Literal):
        lexical = '"' + "".join(_ECHAR.get(c, c) for c in str(term)) + '"'
        if term.language:
            if not _LANGTAG.match(term.language):
                raise ValueError(f"cannot bind a literal with language tag {term.language!r}")
            return f"{lexical}@{term.language}"
        if term.datatype is not None and str(term.datatype) != XSD_STRING:
            return f"{lexical}^^{sparql_iri(str(term.datatype))}"
        return lexical
    if isinstance(term, BNode):
        raise ValueError("a blank node cannot be bound in a query sent to a remote store: "
                         "the SPARQL protocol has no way to name a stored blank node")
    raise ValueError(f"cannot bind {term!r}: not an RDF term")


def closing_brace(found: list[Token], start: int) -> int:
    """The index of the brace that closes the one opened at ``start``; braces in strings, IRIs and comments
    are not tokens of their own, so they do not count.

    >>> found = tokens('ASK { ?s ?p "}" { ?x ?y ?z } } # }')
    >>> closing_brace(found, 1), closing_brace(found, 5)
    (10, 9)
    >>> closing_brace(tokens("ASK { { ?s ?p ?o }"), 1)
    Traceback (most recent call last):
    ...
    store.errors.QuerySyntaxError: unbalanced braces in the query
    """
    depth = 0
    for i in range(start, len(found)):
        if found[i].text == "{":
            depth += 1
        elif found[i].text == "}":
            depth -= 1
            if depth == 0:
                return i
    raise QuerySyntaxError("unbalanced braces in the query")


def _values_block(names: list[str], terms: dict[str, str]) -> str:
    return f" VALUES ({' '.join('?' + n for n in names)}) {{ ({' '.join(terms[n] for n in names)}) }}"


def bind_values(sparql: str, substitutions: Mapping[str, Node]) -> str:
    """The query with ``substitutions`` bound by VALUES blocks (terms serialised strictly, never pasted raw).

    The WHERE group gets every binding; each nested group of the outer query (UNION branches, OPTIONAL,
    MINUS, GRAPH, EXISTS) gets those it mentions, so its FILTERs see them as with pyoxigraph's
    substitutions; subqueries are left alone, as there.

    >>> from rdflib import URIRef
    >>> print(bind_values('SELECT ?x ?o WHERE { { ?x ?p ?o } UNION { ?o ?p ?y } }', {"x": URIRef("http://e/a")}))
    SELECT ?x ?o WHERE { VALUES (?x) { (<http://e/a>) } { VALUES (?x) { (<http://e/a>) } ?x ?p ?o } UNION { ?o ?p ?y } }
    """
    if not substitutions:
        return sparql
    for name in substitutions:
        if not _VARNAME.match(name):
            raise ValueError(f"{name!r} is not a SPARQL variable name")
    terms = {name: sparql_term(value) for name, value in substitutions.items()}
    inserts = _insertions(sparql, tuple(substitutions))
    if inserts is None:  # no WHERE group: a trailing VALUES clause
        return sparql.rstrip() + "\n" + _values_block(list(terms), terms).strip() + "\n"
    for position, bound in inserts:  # from the end, so earlier positions stay valid
        sparql = sparql[:position] + _values_block(list(bound), terms) + sparql[position:]
    return sparql


@lru_cache(maxsize=256)
def _insertions(sparql: str, names: tuple[str, ...]) -> tuple[tuple[int, tuple[str, ...]], ...] | None:
    """Where VALUES blocks go (last first) and which names each binds; None to append one at the end.

    Cached: services run the same few query texts over and over, with other values.
    """
    found = tokens(sparql)
    form = next((i for i, t in enumerate(found) if t.kind == "word" and t.text.upper() not in ("BASE", "PREFIX")),
                None)
    if form is None or found[form].text.upper() not in FORMS:
        raise ValueError("values can be bound only in a SELECT, ASK, CONSTRUCT or DESCRIBE query")
    start = form + 1
    if found[form].text.upper() == "CONSTRUCT":
        if start < len(found) and found[start].text == "{":
            start = closing_brace(found, start) + 1  # the template
        else:
            start = len(found)  # CONSTRUCT WHERE { template }: no group to open
    where, parens = None, 0
    for i in range(start, len(found)):
        text = found[i].text
        if text == "(":
            parens += 1
        elif text == ")":
            parens -= 1
        elif text == "{" and parens == 0:
            where = i
            break
    if where is None:  # DESCRIBE <x> without WHERE, or the short CONSTRUCT form
        if any(t.kind == "word" and t.text.upper() == "VALUES" for t in found[form:]):
            raise ValueError("cannot bind values in a query that has no WHERE group and a VALUES clause")
        return None
    inserts: list[tuple[int, tuple[str, ...]]] = []
    stack: list[tuple[str, int, set[str]]] = []  # (kind, position after "{", names mentioned)
    values_next = False
    for i in range(where, closing_brace(found, where) + 1):
        kind, text, position = found[i].kind, found[i].text, found[i].start
        opaque = any(frame[0] != "group" for frame in stack)
        if text == "{":
            if opaque:
                stack.append(("inner", 0, set()))
            elif values_next:
                stack.append(("data", 0, set()))
            elif i + 1 < len(found) and found[i + 1].kind == "word" and found[i + 1].text.upper() == "SELECT":
                stack.append(("subquery", 0, set()))
            else:
                stack.append(("group", position + 1, set(names) if not stack else set()))
            values_next = False
        elif text == "}":
            frame = stack.pop()
            if frame[0] == "group" and frame[2]:
                inserts.append((frame[1], tuple(n for n in names if n in frame[2])))
        elif opaque:
            continue
        elif kind == "word" and text.upper() == "VALUES":
            values_next = True
        elif kind == "var" and text[1:] in names:
            for frame in stack:
                frame[2].add(text[1:])
    return tuple(sorted(inserts, reverse=True))


# ------------------------------------------------------------------ the dataset a query names

@dataclass(frozen=True)
class DatasetClauses:
    """The IRIs of a query's FROM (default) and FROM NAMED (named) clauses, resolved."""

    default: tuple[str, ...]
    named: tuple[str, ...]


def dataset_clauses(text: str) -> DatasetClauses | None:
    """A query's FROM and FROM NAMED graphs, with BASE and PREFIX applied; None when it has no FROM clause
    or names a graph that cannot be resolved here (Oxigraph then reports it).

    >>> dataset_clauses("BASE <http://e/> PREFIX g: <http://e/g/> SELECT * FROM <a> FROM g:b FROM NAMED <c> { ?s ?p ?o }")
    DatasetClauses(default=('http://e/a', 'http://e/g/b'), named=('http://e/c',))
    >>> dataset_clauses('SELECT * { GRAPH ?g { ?s <urn:from> "FROM <x>" } }') is None
    True
    """
    found = tokens(text)
    names = prologue(found)
    i = names.end
    default: list[str] = []
    named: list[str] = []
    depth = 0
    for j in range(i, len(found)):  # FROM stands at depth 0 only: subqueries take no dataset clause
        token = found[j]
        if token.text in ("{", "(", "["):
            depth += 1
        elif token.text in ("}", ")", "]"):
            depth -= 1
        elif depth == 0 and token.kind == "word" and token.text.upper() == "FROM":
            k = j + 1
            into = default
            if k < len(found) and found[k].kind == "word" and found[k].text.upper() == "NAMED":
                into, k = named, k + 1
            iri = names.iri(found[k]) if k < len(found) else None
            if iri is None:
                return None
            into.append(iri)
    if not default and not named:
        return None
    return DatasetClauses(tuple(dict.fromkeys(default)), tuple(dict.fromkeys(named)))


@dataclass(frozen=True)
class Prologue:
    """A query's or update's leading BASE and PREFIX declarations, and the index of the token after them."""

    prefixes: dict[str, str]
    base: str | None
    end: int

    def iri(self, token: Token) -> str | None:
        """The absolute IRI an IRI or prefixed-name token stands for; None for anything else or an unknown prefix."""
        if token.kind == "iri":
            return _resolve(token.text[1:-1], self.base)
        if token.kind == "pname":
            prefix, _, local = token.text.partition(":")
            if prefix in self.prefixes:
                return self.prefixes[prefix] + re.sub(r"\\(.)", r"\1", local)
        return None


def prologue(found: list[Token]) -> Prologue:
    """The declarations that open ``found``.

    >>> prologue(tokens("BASE <http://e/> PREFIX g: <g/> ASK {}"))
    Prologue(prefixes={'g': 'http://e/g/'}, base='http://e/', end=5)
    """
    prefixes: dict[str, str] = {}
    base: str | None = None
    i = 0
    while i < len(found):
        word = found[i].text.upper() if found[i].kind == "word" else None
        if word == "BASE" and i + 1 < len(found) and found[i + 1].kind == "iri":
            base = _resolve(found[i + 1].text[1:-1], base)
            i += 2
        elif word == "PREFIX" and i + 2 < len(found) and found[i + 1].kind == "pname" and found[i + 2].kind == "iri":
            prefixes[found[i + 1].text[:-1]] = _resolve(found[i + 2].text[1:-1], base)
            i += 3
        else:
            break
    return Prologue(prefixes, base, i)


def _resolve(iri: str, base: str | None) -> str:
    return urljoin(base, iri) if base else iri
