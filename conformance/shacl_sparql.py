"""SHACL-SPARQL constraints rewritten to run over every focus node in one query instead of once per node."""

# pyshacl runs an sh:select once per focus node with $this pre-bound (SHACL 5.3.1,
# https://www.w3.org/TR/shacl/#sparql-constraints-prebound). Here the focus nodes are joined in
# as the first element of the WHERE clause instead. SHACL forbids the constructs for which the two
# readings differ (VALUES, MINUS, SERVICE, sub-selects that drop $this); LIMIT, OFFSET and
# aggregates not grouped by $this would also differ, so they are refused rather than run wrongly.
# Two rewrites keep Oxigraph linear where its plans for [NOT] EXISTS are not (oxigraph#885), each
# only where SPARQL gives both forms the same solutions: not_exists_as_minus and nest_exists.

from __future__ import annotations

import re
from dataclasses import dataclass

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS, XSD
from rdflib.term import Node

from conformance.reference import ShapesError
from kimdata.namespaces import SH

# pyshacl substitutes $PATH and looks for the pre-bound variables only after whitespace or a bracket.
_PATH = re.compile(r"([\s{}()])[\$\?]PATH", flags=re.M)
_SHAPES_GRAPH = re.compile(r"([\s{}()])[\$\?]shapesGraph", flags=re.M)
_CURRENT_SHAPE = re.compile(r"([\s{}()])[\$\?]currentShape\b", flags=re.M)
_PROLOGUE = re.compile(r"\A\s*(?:#[^\n]*\n\s*)*(?:PREFIX\s+([\w.-]*):\s*<([^>]*)>|BASE\s*<[^>]*>)", re.I)
_SELECT = re.compile(r"\A\s*(?:#[^\n]*\n\s*)*SELECT\s+((?:DISTINCT|REDUCED)\s+)?", re.I)
_IRI = re.compile(r"<[^<>\"{}|^`\\\s]*>")
_AGGREGATE = re.compile(r"\b(COUNT|SUM|MIN|MAX|AVG|SAMPLE|GROUP_CONCAT)\s*\(", re.I)
_INTERNAL = "fv_"  # prefix of the compiler's own variables; user queries must not use it


@dataclass(frozen=True)
class SparqlPart:
    """One sh:select made into a sub-select over all focus nodes."""

    text: str  # the SELECT, without prologue, focus nodes joined in
    prefixes: dict[str, str]
    variables: tuple[str, ...]  # projected variables, in projection order (what pyshacl's asdict() sees)
    this_projected: bool  # pyshacl substitutes {$this} in messages only when the query projects it


def declared_prefixes(shapes: Graph, constraint: Node) -> dict[str, str]:
    """The prefixes pyshacl prepends to a constraint's query: rdf, rdfs, owl and those of sh:prefixes."""
    # https://www.w3.org/TR/shacl/#sparql-prefixes, with pyshacl's reading of which sh:declare apply.
    prefixes = {"rdf": str(RDF), "rdfs": str(RDFS), "owl": str(OWL)}
    values = set(shapes.objects(constraint, SH.prefixes))
    if not values:
        return prefixes
    named = set(shapes.objects(shapes.identifier, SH.declare)) if shapes.identifier else set()
    ontologies = set(shapes.subjects(RDF.type, OWL.Ontology))
    everywhere = named | {d for o in ontologies for d in shapes.objects(o, SH.declare)}
    declared: dict[str, str] = {}
    for value in values:
        own = set(shapes.objects(value, SH.declare))
        for declaration in (own | named) if own and value in ontologies else (everywhere | own):
            names = list(shapes.objects(declaration, SH.prefix))
            namespaces = list(shapes.objects(declaration, SH.namespace))
            if len(names) != 1 or len(namespaces) != 1:
                raise ShapesError(f"sh:declare {declaration} needs exactly one sh:prefix and one sh:namespace")
            name, namespace = str(names[0]), str(namespaces[0])
            if declared.get(name, namespace) != namespace:
                raise ShapesError(f"prefix {name}: is declared twice with different namespaces")
            declared[name] = namespace
    return prefixes | declared


def blank_out(text: str, fill: str = " ") -> str:
    """``text`` with comments blanked and strings and IRIs replaced by ``fill``: keywords can be searched."""
    out, i = [], 0
    while i < len(text):
        end = _skip(text, i)
        if end == i + 1 and not _skippable(text, i):
            out.append(text[i])
        else:
            out.append((" " if text[i] == "#" else fill) * (end - i))
        i = end
    return "".join(out)


def _skippable(text: str, i: int) -> bool:
    return text[i] in "#\"'" or bool(text[i] == "<" and _IRI.match(text, i))


def _skip(text: str, i: int) -> int:
    """Index just after the comment, string or IRI starting at ``i`` (or ``i + 1``)."""
    c = text[i]
    if c == "#":
        end = text.find("\n", i)
        return len(text) if end < 0 else end
    if text.startswith(('"""', "'''"), i):
        end = text.find(text[i:i + 3], i + 3)
        return len(text) if end < 0 else end + 3
    if c in "\"'":
        j = i + 1
        while j < len(text) and text[j] != c:
            j += 2 if text[j] == "\\" else 1
        return j + 1
    if c == "<":
        match = _IRI.match(text, i)
        if match:
            return match.end()
    return i + 1


def _projection(clause: str) -> list[str]:
    """Variables a SELECT clause projects: bare ones, and the ``AS ?x`` of each ``(expression AS ?x)``."""
    names, depth = [], 0
    for match in re.finditer(r"\(|\)|AS\s+[?$](\w+)|[?$](\w+)", clause, re.I):
        token = match.group(0)
        if token == "(":
            depth += 1
        elif token == ")":
            depth -= 1
        elif match.group(1) and depth == 1:
            names.append(match.group(1))
        elif match.group(2) and depth == 0:
            names.append(match.group(2))
    return names


def rewrite(shapes: Graph, shape: Node, constraint: Node, select: str, focus: str,
            keep: list[str], path: str | None) -> SparqlPart:
    """The sh:select ``select`` of ``constraint`` with ``focus`` (a pattern binding ?this) joined in."""
    text = select
    if _SHAPES_GRAPH.search(text):
        raise ShapesError(f"{shape}: $shapesGraph in a SPARQL constraint is not supported")
    if path is not None:
        text = _PATH.sub(lambda m: m.group(1) + path, text)
    elif _PATH.search(text):
        raise ShapesError(f"{shape}: $PATH in a SPARQL constraint of a node shape")
    if _CURRENT_SHAPE.search(text):
        if not isinstance(shape, URIRef):
            raise ShapesError(f"{shape}: $currentShape needs a shape with an IRI")
        text = _CURRENT_SHAPE.sub(lambda m: f"{m.group(1)}<{shape}>", text)
    prefixes = declared_prefixes(shapes, constraint)
    while match := _PROLOGUE.match(text):
        if match.group(2) is not None:
            prefixes[match.group(1)] = match.group(2)
        elif not match.group(0).strip().upper().startswith("PREFIX"):
            raise ShapesError(f"{shape}: BASE in a SPARQL constraint is not supported")
        text = text[match.end():]
    plain = blank_out(text)
    # SHACL 5.3.1 forbids these; pyshacl refuses them too (ValidationFailure).
    for keyword in ("VALUES", "MINUS", "SERVICE"):
        if re.search(rf"(?<![\w:]){keyword}\b", plain, re.I):
            raise ShapesError(f"{shape}: a SPARQL constraint must not contain {keyword}")
    if re.search(r"\b(LIMIT|OFFSET)\b", plain, re.I):
        raise ShapesError(f"{shape}: LIMIT/OFFSET means one thing per focus node and another over all of them")
    if re.search(rf"[?$]{_INTERNAL}", plain):
        raise ShapesError(f"{shape}: variables named ?{_INTERNAL}... are reserved by the fast engine")
    select_match = _SELECT.match(plain)
    if not select_match:
        raise ShapesError(f"{shape}: sh:select must be a SELECT query")
    brace = plain.find("{")
    if brace < 0:
        raise ShapesError(f"{shape}: sh:select has no WHERE clause")
    clause = re.sub(r"\bWHERE\s*$", "", plain[select_match.end():brace].rstrip(), flags=re.I)
    star = clause.strip() == "*"
    names = _ordered(re.findall(r"[?$](\w+)", plain[brace:])) if star else _projection(clause)
    if "failure" in names:
        raise ShapesError(f"{shape}: ?failure in a SPARQL constraint is not supported")
    if "currentShape" in names:
        raise ShapesError(f"{shape}: projecting $currentShape is not supported")
    group_by = re.search(r"\bGROUP\s+BY\b(.*)", plain[brace:], re.I | re.S)
    if (_AGGREGATE.search(clause) or group_by) and (
            keep or not group_by or not re.search(r"[?$]this\b", group_by.group(1))):
        raise ShapesError(f"{shape}: aggregates in a SPARQL constraint must be grouped by $this")
    for nested in re.finditer(r"\bSELECT\s+((?:DISTINCT|REDUCED)\s+)?([^{]*)\{", plain[brace:], re.I):
        # Pre-binding reaches into a sub-select only through its projection (SHACL 5.3.1); pyshacl refuses.
        inner = re.sub(r"\bWHERE\s*$", "", nested.group(2).strip(), flags=re.I)
        if inner.strip() == "*" or "this" not in _projection(inner):
            raise ShapesError(f"{shape}: a sub-select in a SPARQL constraint must project $this")
    this_projected = star or "this" in names
    added = ([] if star or this_projected else ["this"]) + ([] if star else keep)
    head = text[:select_match.end()] + "".join(f"?{v} " for v in added)
    text = nest_exists(not_exists_as_minus(text, brace), brace)
    body = text[select_match.end():brace + 1] + " " + focus + " " + text[brace + 1:]
    return SparqlPart(head + body, prefixes, tuple(names), this_projected)


def not_exists_as_minus(text: str, brace: int) -> str:
    """Each top-level ``FILTER NOT EXISTS { triple patterns }`` sharing a bound variable, as a MINUS."""
    # Oxigraph evaluates NOT EXISTS once per row and hash-joins the inner patterns each time (quadratic
    # on our shapes, oxigraph#885); MINUS is one anti-join. They agree when the inner group is a plain
    # basic graph pattern and every row binds one of its variables: both then remove exactly the rows
    # compatible with some match (https://www.w3.org/TR/sparql11-query/#neg-notexists-minus). MINUS
    # goes last in the group so it sees every binding the FILTER saw.
    plain = blank_out(text)
    end = _closing(plain, brace)
    candidates = []
    for match in re.finditer(r"\bFILTER\s+NOT\s+EXISTS\s*\{", plain[:end]):
        opening = match.end() - 1
        if match.start() < brace or _depth(plain, brace, match.start()) != 1:
            continue
        closing = _closing(plain, opening)
        inner = plain[opening + 1:closing]
        if "{" in inner or "[" in inner or "_:" in inner or re.search(
                r"\b(FILTER|BIND|OPTIONAL|GRAPH|SERVICE|VALUES|MINUS|SELECT|EXISTS|UNION)\b", inner, re.I):
            continue
        candidates.append((match.start(), closing + 1, set(re.findall(r"[?$](\w+)", inner))))
    if not candidates:
        return text
    bound = _certainly_bound(plain[brace + 1:end]) | {"this"}  # the focus nodes bind ?this in every row
    chosen = [(start, stop) for start, stop, names in candidates if names & bound]
    minus = "".join(f" MINUS {text[plain.index('{', start):stop]}" for start, stop in chosen)
    for start, stop in reversed(chosen):
        text = text[:start] + " " * (stop - start) + text[stop:]
    return text[:end] + minus + " " + text[end:]


def nest_exists(text: str, brace: int) -> str:
    """Each top-level ``FILTER [NOT] EXISTS { t1 . t2 ... FILTER(f) }`` as ``{ t1 FILTER EXISTS { t2 ... } }``."""
    # Inside EXISTS Oxigraph hash-joins the patterns for every outer row, so a pattern that grows with
    # the data makes the query quadratic. Nested one triple at a time, each step is a lookup with the
    # bindings so far (EXISTS substitutes them, https://www.w3.org/TR/sparql11-query/#defn_substitute),
    # in the order the query states them. Same solutions: the FILTERs still see every binding.
    plain = blank_out(text)
    end = _closing(plain, brace)
    spans = []
    for match in re.finditer(r"\bFILTER\s+(NOT\s+)?EXISTS\s*\{", plain[:end]):
        if match.start() < brace or _depth(plain, brace, match.start()) != 1:
            continue
        opening = match.end() - 1
        closing = _closing(plain, opening)
        nested = _nested(text, plain, opening + 1, closing)
        if nested is not None:
            spans.append((opening + 1, closing, nested))
    for start, stop, nested in reversed(spans):
        text = text[:start] + " " + nested + " " + text[stop:]
    return text


def _nested(text: str, plain: str, start: int, stop: int) -> str | None:
    """The group text[start:stop] as nested EXISTS, one triple a level; None outside the simple cases."""
    solid = blank_out(text, "x")  # strings and IRIs as one token each, positions unchanged
    filters, keep, i = [], [], start
    while i < stop:
        end = _clause_end(plain, i, start, stop, "FILTER")
        if end is not None:
            filters.append(text[i:end])
            i = end
            continue
        keep.append(i)
        i += 1
    body = "".join(plain[k] for k in keep)
    if re.search(r"[{}\[\]]|_:|\b(BIND|OPTIONAL|GRAPH|SERVICE|VALUES|MINUS|SELECT|UNION|FILTER)\b", body, re.I):
        return None
    shape = "".join(solid[k] for k in keep)  # the body with every string and IRI a solid token
    original = "".join(text[k] for k in keep)
    triples = []
    # Statements end at a "." followed by space (a decimal's "." is followed by a digit).
    for a, b in _spans(shape, r"\.(?=\s|$)"):
        parts = _spans(shape, ";", a, b)
        tokens = re.match(r"\s*(\S+)\s", shape[parts[0][0]:parts[0][1]] + " ")
        if tokens is None or not shape[a:b].strip():
            continue
        subject = original[parts[0][0] + tokens.start(1):parts[0][0] + tokens.end(1)]
        parts[0] = (parts[0][0] + tokens.end(1), parts[0][1])
        for p, q in parts:
            predicate = re.match(r"\s*(\S+)\s", shape[p:q] + " ")
            if predicate is None:
                return None
            objects = _spans(shape, ",", p + predicate.end(1), q)
            if not all(shape[x:y].strip() for x, y in objects):
                return None
            for x, y in objects:
                triples.append(f"{subject} {original[p + predicate.start(1):p + predicate.end(1)]} {original[x:y].strip()} .")
    if len(triples) < 2:
        return None
    inner = " ".join(triples[-1:] + filters)
    for triple in reversed(triples[:-1]):
        inner = f"{triple} FILTER EXISTS {{ {inner} }}"
    return inner


def _spans(text: str, separator: str, start: int = 0, stop: int | None = None) -> list[tuple[int, int]]:
    """(start, stop) of the pieces of text[start:stop] between ``separator`` matches outside parentheses."""
    stop = len(text) if stop is None else stop
    spans, depth, begin = [], 0, start
    for i in range(start, stop):
        depth += {"(": 1, ")": -1}.get(text[i], 0)
        if depth == 0 and re.match(separator, text[i:stop]):
            spans.append((begin, i))
            begin = i + 1
    return [*spans, (begin, stop)]


def _closing(plain: str, opening: int) -> int:
    """Index of the bracket closing the brace or parenthesis at ``opening`` (``plain`` has strings and
    comments blanked)."""
    pair = {"{": "{}", "(": "()"}[plain[opening]]
    depth = 0
    for i in range(opening, len(plain)):
        depth += {pair[0]: 1, pair[1]: -1}.get(plain[i], 0)
        if depth == 0:
            return i
    raise ShapesError(f"unbalanced {pair} in a SPARQL constraint")


def _clause_end(plain: str, i: int, start: int, stop: int, keywords: str) -> int | None:
    """Where the clause at ``i`` ends when one of ``keywords`` starts it there, else None.

    A FILTER's constraint is (...), a call f(...) or [NOT] EXISTS {...}; a BIND is (...).
    """
    keyword = re.match(rf"({keywords})\b[^({{]*[({{]", plain[i:stop], re.I)
    if keyword is None or (i > start and (plain[i - 1].isalnum() or plain[i - 1] in "_:?$")):
        return None
    return _closing(plain, i + keyword.end() - 1) + 1


def _depth(plain: str, start: int, stop: int) -> int:
    return plain.count("{", start, stop) - plain.count("}", start, stop)


def _certainly_bound(group: str) -> set[str]:
    """Variables of the group's own triple patterns: nested groups, FILTER and BIND expressions left out."""
    out, depth, i = [], 0, 0
    while i < len(group):
        c = group[i]
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
        elif depth == 0:
            end = _clause_end(group, i, 0, len(group), "FILTER|BIND")
            if end is not None:
                i = end
                continue
            out.append(c)
        i += 1
    return set(re.findall(r"[?$](\w+)", "".join(out)))




def _ordered(names: list[str]) -> list[str]:
    return list(dict.fromkeys(names))


def term(node: Node) -> str:
    """An rdflib IRI or literal written as SPARQL; blank nodes cannot be named in a query."""
    if isinstance(node, URIRef):
        if _IRI.fullmatch(f"<{node}>") is None:
            raise ShapesError(f"cannot write the IRI {node!r} in SPARQL")
        return f"<{node}>"
    if isinstance(node, Literal):
        text = str(node).replace("\\", "\\\\").replace('"', '\\"')
        text = text.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
        if node.language:
            return f'"{text}"@{node.language}'
        return f'"{text}"^^<{node.datatype or XSD.string}>'
    raise ShapesError(f"a blank node ({node}) cannot be written in SPARQL")
