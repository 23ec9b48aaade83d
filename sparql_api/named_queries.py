"""Named SPARQL queries: the ``queries/*.rq`` files (see queries/README.md), their headers, and typed values.

>>> q = parse_named_query("ksbs-of-duty", '#+ summary: KSBs of a duty.\\n#+ params: duty:iri=https://x.org/d/2\\nSELECT ?duty ?ksb WHERE { ?duty ?p ?ksb }')
>>> q.summary, [(p.name, p.type, p.example) for p in q.params]
('KSBs of a duty.', [('duty', 'iri', 'https://x.org/d/2')])
>>> bind(q, {"duty": "https://x.org/d/3"})
{'duty': rdflib.term.URIRef('https://x.org/d/3')}
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from rdflib import Literal, URIRef
from rdflib.term import Node

from kimdata.namespaces import DEFAULT_BASE, Iris
from kimdata.paths import QUERIES_DIR
from sparql_api.request_input import HTTP_IRI
from store.sparql_text import sparql_term

# a URIRef, not rdflib.namespace.XSD: doctest collection probes module globals and XSD warns
XSD_INTEGER = URIRef("http://www.w3.org/2001/XMLSchema#integer")
PARAM_TYPES = ("iri", "code", "string", "integer")
HEADER = re.compile(r"^#\+\s*(?P<key>[a-z]+)\s*:\s*(?P<value>.*?)\s*$")
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\Z")
FILE_NAME = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*\Z")
# Characters RFC 3987 excludes from IRIs; one of them in a value means it is not an IRI.
INTEGER = re.compile(r"^[+-]?[0-9]{1,18}\Z")
WHERE_OPEN = re.compile(r"\bWHERE\s*\{", re.IGNORECASE)


class NamedQueryError(ValueError):
    """A .rq file whose header lines are missing or malformed."""


@dataclass(frozen=True)
class Param:
    """One parameter: a variable of the query, its value type and an example value."""

    name: str
    type: str
    example: str | None = None


@dataclass(frozen=True)
class NamedQuery:
    """One named query: its file name without ``.rq``, summary, parameters and SPARQL text."""

    name: str
    summary: str
    params: tuple[Param, ...]
    text: str

    def examples(self, iris: Iris | None = None) -> dict[str, str]:
        """Example values of the parameters, IRIs moved onto ``iris``'s base when it is not the default.

        >>> q = NamedQuery("q", "s", (Param("duty", "iri", DEFAULT_BASE + "id/standard/ST1337/duty/2"),), "")
        >>> q.examples(Iris("https://kim.example/"))
        {'duty': 'https://kim.example/id/standard/ST1337/duty/2'}
        """
        values = {}
        for p in self.params:
            if p.example is None:
                continue
            value = p.example
            if p.type == "iri" and iris is not None and value.startswith(DEFAULT_BASE):
                value = iris.base + value[len(DEFAULT_BASE):]
            values[p.name] = value
        return values


def parse_named_query(name: str, text: str) -> NamedQuery:
    """Read the header lines of one query file; raise NamedQueryError when they are wrong."""
    headers: dict[str, str] = {}
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        match = HEADER.match(line)
        if match:
            if match.group("key") in headers:
                raise NamedQueryError(f"{name}: header {match.group('key')!r} given twice")
            headers[match.group("key")] = match.group("value")
    unknown = set(headers) - {"summary", "params"}
    if unknown:
        raise NamedQueryError(f"{name}: unknown header line(s): {', '.join(sorted(unknown))}")
    summary = headers.get("summary", "")
    if not summary:
        raise NamedQueryError(f"{name}: no '#+ summary:' line")
    params = tuple(_parse_param(name, spec) for spec in _split(name, headers.get("params", "")))
    seen = [p.name for p in params]
    if len(set(seen)) != len(seen):
        raise NamedQueryError(f"{name}: a parameter is declared twice")
    for p in params:
        if not re.search(rf"[?$]{p.name}\b", text):
            raise NamedQueryError(f"{name}: parameter {p.name!r} is not a variable of the query")
    return NamedQuery(name, summary, params, text)


def _split(name: str, line: str) -> list[str]:
    try:
        return shlex.split(line)
    except ValueError as e:
        raise NamedQueryError(f"{name}: cannot read the params line: {e}") from e


def _parse_param(query: str, spec: str) -> Param:
    head, sep, example = spec.partition("=")
    pname, _, ptype = head.partition(":")
    if not NAME.match(pname):
        raise NamedQueryError(f"{query}: {pname!r} is not a variable name")
    if ptype not in PARAM_TYPES:
        raise NamedQueryError(f"{query}: parameter {pname!r} has type {ptype!r}, not one of {', '.join(PARAM_TYPES)}")
    param = Param(pname, ptype, example if sep else None)
    if param.example is not None:
        try:
            convert(param, param.example)
        except ValueError as e:
            raise NamedQueryError(f"{query}: example of {pname!r}: {e}") from e
    return param


def load_queries(folder: Path = QUERIES_DIR) -> dict[str, NamedQuery]:
    """Every ``*.rq`` file of ``folder`` by name, in name order."""
    queries = {}
    for path in sorted(Path(folder).glob("*.rq")):
        if not FILE_NAME.match(path.stem):
            raise NamedQueryError(f"{path.name}: a query name is lower-case words joined by hyphens")
        queries[path.stem] = parse_named_query(path.stem, path.read_text(encoding="utf-8"))
    return queries


def convert(param: Param, raw: str) -> Node:
    """One raw value as the RDF term its parameter's type asks for; ValueError when it is not one.

    >>> convert(Param("n", "integer"), "+42")
    rdflib.term.Literal('42', datatype=rdflib.term.URIRef('http://www.w3.org/2001/XMLSchema#integer'))
    >>> convert(Param("n", "integer"), "4.2")
    Traceback (most recent call last):
    ...
    ValueError: n: '4.2' is not an integer
    >>> convert(Param("code", "code"), 'K1" } ; DROP ALL ; #')
    rdflib.term.Literal('K1" } ; DROP ALL ; #')
    >>> convert(Param("duty", "iri"), "standard/ST1337/duty/2")
    Traceback (most recent call last):
    ...
    ValueError: duty: 'standard/ST1337/duty/2' is not an absolute http(s) IRI
    """
    if param.type == "iri":
        if not HTTP_IRI.fullmatch(raw):
            raise ValueError(f"{param.name}: {raw!r} is not an absolute http(s) IRI")
        return URIRef(raw)
    if param.type == "integer":
        if not INTEGER.match(raw.strip()):
            raise ValueError(f"{param.name}: {raw!r} is not an integer")
        return Literal(int(raw), datatype=XSD_INTEGER)
    # code and string: a plain xsd:string literal, whatever it contains; bound, never pasted
    return Literal(raw)


def with_values(query: NamedQuery, values: Mapping[str, Node]) -> str:
    """The text with ``values`` in a VALUES block opening its WHERE clause: what an editor shows (services bind instead).

    >>> q = parse_named_query("q", "#+ summary: A query.\\n#+ params: code:code\\nSELECT ?code ?s WHERE { ?s ?p ?code }")
    >>> print(with_values(q, bind(q, {"code": 'K1"'})).split("\\n", 2)[2])
    SELECT ?code ?s WHERE {
      VALUES ?code { "K1\\"" }  # example value
      ?s ?p ?code }
    """
    if not values:
        return query.text
    # blank out comments so that a WHERE in a comment is not taken for the clause
    masked = re.sub(r"#[^\n]*", lambda m: " " * len(m.group()), query.text)
    where = WHERE_OPEN.search(masked)
    if where is None:
        raise NamedQueryError(f"{query.name}: no 'WHERE {{' to put the example values in")
    names = list(values)
    terms = [_sparql_term(values[n]) for n in names]
    if len(names) == 1:
        block = f"VALUES ?{names[0]} {{ {terms[0]} }}  # example value"
    else:
        block = f"VALUES ({' '.join('?' + n for n in names)}) {{ ({' '.join(terms)}) }}  # example values"
    cut = where.end()
    rest = query.text[cut:]
    return f"{query.text[:cut]}\n  {block}" + ("" if rest.startswith(("\n", "\r\n")) else "\n  ") + rest.lstrip(" ")


def _sparql_term(term: Node) -> str:
    if isinstance(term, Literal) and term.datatype == XSD_INTEGER:
        return str(int(term))  # 200 reads better than "200"^^xsd:integer and means the same
    return sparql_term(term)


def bind(query: NamedQuery, raw_values: Mapping[str, str]) -> dict[str, Node]:
    """Typed values of all of ``query``'s parameters for ``Store.query(substitutions=...)``; ValueError names a bad one.

    >>> q = NamedQuery("q", "s", (Param("term", "string"), Param("n", "integer")), "SELECT ?term ?n {}")
    >>> bind(q, {"term": "GDPR", "n": "3"})["term"]
    rdflib.term.Literal('GDPR')
    >>> bind(q, {"term": "GDPR"})
    Traceback (most recent call last):
    ...
    ValueError: q: missing value for parameter 'n' (integer)
    >>> bind(q, {"term": "x", "n": "1", "graph": "g"})
    Traceback (most recent call last):
    ...
    ValueError: q: unknown parameter 'graph'; it takes term, n
    """
    declared = {p.name: p for p in query.params}
    unknown = [name for name in raw_values if name not in declared]
    if unknown:
        takes = ", ".join(declared) or "no parameters"
        raise ValueError(f"{query.name}: unknown parameter {unknown[0]!r}; it takes {takes}")
    values = {}
    for p in query.params:
        if p.name not in raw_values:
            raise ValueError(f"{query.name}: missing value for parameter {p.name!r} ({p.type})")
        values[p.name] = convert(p, raw_values[p.name])
    return values
