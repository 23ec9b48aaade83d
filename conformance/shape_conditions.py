"""Conditions on one node compiled to SPARQL: paths, value-node checks, conformance to nested shapes."""

# https://www.w3.org/TR/shacl/#core-components, read as pyshacl reads each component. Every
# condition is an expression that is true or false, never an error: an error in a FILTER would
# drop the row, and a dropped row here is a finding lost or invented.

from __future__ import annotations

import re
from collections.abc import Callable

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, RDFS, XSD
from rdflib.term import Node

from conformance.reference import ShapesError
from conformance.shacl_sparql import term
from kimdata.namespaces import SH

# check() runs pyshacl with allow_warnings=True: a shape with these severities always "conforms"
# when it is nested in another (sh:or, sh:not, sh:qualifiedValueShape) or reached by sh:property.
ALLOWED_SEVERITIES = frozenset({SH.Warning, SH.Info})

TARGETS = (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf)
_IGNORED = {SH.severity, SH.message, SH.deactivated, SH.name, SH.description, SH.order, SH.group,
            SH.defaultValue, SH.path, SH.property, SH.flags, SH.qualifiedMinCount, SH.qualifiedMaxCount,
            SH.qualifiedValueShapesDisjoint, *TARGETS}
_SUPPORTED = {SH["class"], SH.datatype, SH.nodeKind, SH.minCount, SH.maxCount, SH.minExclusive,
              SH.minInclusive, SH.maxExclusive, SH.maxInclusive, SH.minLength, SH.maxLength, SH.pattern,
              SH["in"], SH.hasValue, SH["not"], SH["and"], SH["or"], SH.xone, SH.node,
              SH.qualifiedValueShape, SH.sparql}
_RANGES = {SH.minInclusive: ">=", SH.minExclusive: ">", SH.maxInclusive: "<=", SH.maxExclusive: "<"}
_NODE_KINDS = {SH.IRI: ("isIRI",), SH.BlankNode: ("isBlank",), SH.Literal: ("isLiteral",),
               SH.BlankNodeOrIRI: ("isBlank", "isIRI"), SH.BlankNodeOrLiteral: ("isBlank", "isLiteral"),
               SH.IRIOrLiteral: ("isIRI", "isLiteral")}
# Datatypes whose ill-typed literals rdflib flags (pyshacl then rejects them) and Oxigraph can cast.
_CASTABLE = {XSD[t] for t in ("integer", "decimal", "float", "double", "boolean", "dateTime", "date",
                              "time", "duration", "yearMonthDuration", "dayTimeDuration")}
# Integer subtypes rdflib range-checks; Oxigraph has no cast for them, so lexical form plus bounds.
_INTEGER_RANGES = {"int": (-2**31, 2**31 - 1), "long": (-2**63, 2**63 - 1), "short": (-2**15, 2**15 - 1),
                   "byte": (-128, 127), "nonNegativeInteger": (0, None), "positiveInteger": (1, None),
                   "nonPositiveInteger": (None, 0), "negativeInteger": (None, -1),
                   "unsignedLong": (0, 2**64 - 1), "unsignedInt": (0, 2**32 - 1),
                   "unsignedShort": (0, 65535), "unsignedByte": (0, 255)}
MAX_DEPTH = 8
_PATH_WRAPPERS = ((SH.zeroOrMorePath, "*"), (SH.oneOrMorePath, "+"), (SH.zeroOrOnePath, "?"))


def deactivated(shapes: Graph, shape: Node) -> bool:
    """sh:deactivated true: the shape is skipped, and conforms when nested (SHACL 2.1.5)."""
    return any(isinstance(v, Literal) and v.value is True for v in shapes.objects(shape, SH.deactivated))


class Conditions:
    """Compiles paths and conditions; holds the shapes graph and a counter for fresh variable names."""

    def __init__(self, shapes: Graph):
        self.g = shapes
        self.counter = 0

    def fresh(self) -> str:
        self.counter += 1
        return f"fv_{self.counter}"

    def severity(self, shape: Node) -> Node:
        return next(iter(set(self.g.objects(shape, SH.severity))), SH.Violation)

    def integer(self, shape: Node, param: URIRef) -> int | None:
        values = list(self.g.objects(shape, param))
        if len(values) > 1:
            raise ShapesError(f"{shape}: more than one {param}")
        if values and not (isinstance(values[0], Literal) and isinstance(values[0].value, int)):
            raise ShapesError(f"{shape}: {param} must be an integer")
        return values[0].value if values else None

    def check_parameters(self, shape: Node) -> None:
        for p in set(self.g.predicates(shape)):
            if p.startswith(str(SH)) and p not in _SUPPORTED and p not in _IGNORED:
                raise ShapesError(f"{shape}: {p} is not supported by the fast engine")

    def path(self, path: Node, depth: int = 0) -> str:
        """A SHACL property path as a SPARQL property path (SHACL 2.3.1)."""
        g = self.g
        if depth > MAX_DEPTH:
            raise ShapesError(f"property path {path} is nested too deeply")
        if isinstance(path, URIRef):
            return term(path)
        if isinstance(path, BNode):
            if (path, RDF.first, None) in g:
                steps = list(Collection(g, path))
                if len(steps) < 2:
                    raise ShapesError(f"a sequence path needs two or more members: {path}")
                return "(" + "/".join(self.path(p, depth + 1) for p in steps) + ")"
            inverse = g.value(path, SH.inversePath)
            if inverse is not None:
                return "^" + self.path(inverse, depth + 1)
            alternatives = g.value(path, SH.alternativePath)
            if alternatives is not None:
                return "(" + "|".join(self.path(p, depth + 1) for p in Collection(g, alternatives)) + ")"
            for key, suffix in _PATH_WRAPPERS:
                inner = g.value(path, key)
                if inner is not None:
                    return f"({self.path(inner, depth + 1)}){suffix}"
        raise ShapesError(f"unsupported property path: {path}")

    def value_checks(self, shape: Node, depth: int, top: bool) -> list[tuple[URIRef, Callable[[str], str]]]:
        """(component, condition on a value node that holds when it conforms), one per parameter value."""
        g = self.g
        checks: list[tuple[URIRef, Callable[..., str]]] = []  # each called with the value variable alone
        for cls in sorted(g.objects(shape, SH["class"])):
            checks.append((SH.ClassConstraintComponent,
                           lambda v, c=cls: f"EXISTS {{ {v} <{RDF.type}>/<{RDFS.subClassOf}>* {term(c)} }}"))
        for datatype in g.objects(shape, SH.datatype):
            checks.append((SH.DatatypeConstraintComponent, lambda v, d=datatype: _datatype(v, d)))
        for kind in g.objects(shape, SH.nodeKind):
            if kind not in _NODE_KINDS:
                raise ShapesError(f"{shape}: unknown sh:nodeKind {kind}")
            checks.append((SH.NodeKindConstraintComponent,
                           lambda v, k=kind: "(" + " || ".join(f"{f}({v})" for f in _NODE_KINDS[k]) + ")"))
        flags = "".join(f for f in "im" if f in str(next(iter(g.objects(shape, SH.flags)), "")).lower())
        for pattern in sorted(g.objects(shape, SH.pattern)):
            _check_regex(shape, str(pattern))
            checks.append((SH.PatternConstraintComponent, lambda v, p=pattern:
                           f"COALESCE(REGEX(STR({v}), {term(Literal(str(p)))}, \"{flags}\"), false)"))
        for members in g.objects(shape, SH["in"]):
            items = [term(m) for m in Collection(g, members)]
            checks.append((SH.InConstraintComponent,
                           lambda v, i=items: "(" + (" || ".join(f"sameTerm({v}, {m})" for m in i) or "false") + ")"))
        for param, op in _RANGES.items():
            for bound in sorted(g.objects(shape, param)):
                component = URIRef(str(param).replace("#m", "#M") + "ConstraintComponent")
                # An incomparable value (an IRI, a string against a number) is a violation, as in pyshacl.
                checks.append((component, lambda v, o=op, b=bound: f"COALESCE({v} {o} {term(b)}, false)"))
        for param, op, component in ((SH.minLength, ">=", SH.MinLengthConstraintComponent),
                                     (SH.maxLength, "<=", SH.MaxLengthConstraintComponent)):
            for bound in g.objects(shape, param):
                if param == SH.minLength and bound.value == 0:
                    checks.append((component, lambda v: "true"))  # pyshacl passes even blank nodes
                else:
                    checks.append((component, lambda v, o=op, b=bound: f"COALESCE(STRLEN(STR({v})) {o} {int(b)}, false)"))
        for operand in g.objects(shape, SH["not"]):
            checks.append((SH.NotConstraintComponent, lambda v, s=operand: f"!{self.conforms(s, v, depth + 1)}"))
        for param, component, joiner in ((SH["and"], SH.AndConstraintComponent, " && "),
                                         (SH["or"], SH.OrConstraintComponent, " || ")):
            for members in g.objects(shape, param):
                operands = list(Collection(g, members))
                if not operands:
                    raise ShapesError(f"{shape}: empty {param} list")
                checks.append((component, lambda v, ops=operands, j=joiner:
                               "(" + j.join(self.conforms(s, v, depth + 1) for s in ops) + ")"))
        for members in g.objects(shape, SH.xone):
            operands = list(Collection(g, members))
            checks.append((SH.XoneConstraintComponent, lambda v, ops=operands: "((" + " + ".join(
                f"IF({self.conforms(s, v, depth + 1)}, 1, 0)" for s in ops) + ") = 1)"))
        for node in g.objects(shape, SH.node):
            if top:
                # pyshacl nests the inner results under sh:detail, which the fast engine does not build.
                raise ShapesError(f"{shape}: sh:node on a result-producing shape is not supported")
            checks.append((SH.NodeConstraintComponent, lambda v, s=node: self.conforms(s, v, depth + 1)))
        return checks

    def conforms(self, shape: Node, var: str, depth: int) -> str:
        """A condition true when ``var`` conforms to ``shape`` as a nested shape (never an error)."""
        g = self.g
        if depth > MAX_DEPTH:
            raise ShapesError(f"shapes nested too deeply (recursive?) at {shape}")
        if deactivated(g, shape) or self.severity(shape) in ALLOWED_SEVERITIES:
            return "true"
        self.check_parameters(shape)
        for param in (SH.sparql, SH.qualifiedValueShape):
            if (shape, param, None) in g:
                raise ShapesError(f"{shape}: {param} inside sh:or/sh:and/sh:not/sh:node is not supported")
        checks = [fn for _, fn in self.value_checks(shape, depth, top=False)]
        children = sorted(c for c in g.objects(shape, SH.property))
        path = g.value(shape, SH.path)
        if path is None:
            if self.integer(shape, SH.minCount) is not None or self.integer(shape, SH.maxCount) is not None:
                raise ShapesError(f"{shape}: sh:minCount/sh:maxCount need a property shape")
            parts = [fn(var) for fn in checks] + [f"sameTerm({var}, {term(h)})" for h in g.objects(shape, SH.hasValue)]
            parts += [self.conforms(c, var, depth + 1) for c in children]
        else:
            p, value = self.path(path), "?" + self.fresh()
            each = [fn(value) for fn in checks] + [self.conforms(c, value, depth + 1) for c in children]
            parts = [f"NOT EXISTS {{ {var} {p} {value} FILTER(!({' && '.join(each)})) }}"] if each else []
            parts += [f"EXISTS {{ {var} {p} {term(h)} }}" for h in g.objects(shape, SH.hasValue)]
            low, high = self.integer(shape, SH.minCount), self.integer(shape, SH.maxCount)
            if low:
                parts.append(self.at_least(var, p, low))
            if high is not None:
                parts.append("!" + self.at_least(var, p, high + 1))
        return "(" + " && ".join(parts) + ")" if parts else "true"

    def at_least(self, var: str, path: str, n: int) -> str:
        """``var`` has ``n`` distinct values: a join, so only for small ``n`` (counts nested in sh:or etc.)."""
        if n > 4:
            raise ShapesError("nested sh:minCount/sh:maxCount above 4 are not supported")
        values = ["?" + self.fresh() for _ in range(n)]
        distinct = [f"!sameTerm({a}, {b})" for i, a in enumerate(values) for b in values[i + 1:]]
        return ("EXISTS { " + " ".join(f"{var} {path} {v} ." for v in values)
                + (f" FILTER({' && '.join(distinct)})" if distinct else "") + " }")


def _datatype(v: str, datatype: Node) -> str:
    """Literal of ``datatype`` and well-formed, read as pyshacl reads sh:datatype."""
    # https://www.w3.org/TR/shacl/#DatatypeConstraintComponent: ill-typed literals do not match.
    if datatype == RDFS.Literal:
        return f"isLiteral({v})"
    if datatype == RDFS.Datatype:
        # rdflib gives a plain literal no datatype, so pyshacl matches only typed, untagged literals.
        return f"(isLiteral({v}) && LANG({v}) = \"\" && DATATYPE({v}) != <{XSD.string}>)"
    if datatype == RDF.langString:
        return f"(isLiteral({v}) && LANG({v}) != \"\")"
    test = f"isLiteral({v}) && DATATYPE({v}) = {term(datatype)}"
    if datatype in _CASTABLE:
        test += f" && COALESCE(isLiteral({term(datatype)}(STR({v}))), false)"
    elif str(datatype).startswith(str(XSD)) and str(datatype)[len(str(XSD)):] in _INTEGER_RANGES:
        low, high = _INTEGER_RANGES[str(datatype)[len(str(XSD)):]]
        number = f"<{XSD.integer}>(STR({v}))"
        test += f" && REGEX(STR({v}), \"^[+-]?[0-9]+$\")"
        test += "".join(f" && COALESCE({number} {op} {b}, false)" for op, b in ((">=", low), ("<=", high)) if b is not None)
    return f"({test})"


def _check_regex(shape: Node, pattern: str) -> None:
    """Refuse sh:pattern syntax that Python's re (pyshacl) and Oxigraph's regex engine read differently."""
    try:
        re.compile(pattern)
    except re.error as e:
        raise ShapesError(f"{shape}: invalid sh:pattern {pattern!r}: {e}") from e
    if re.search(r"\(\?[=!<]|\\[1-9]|\(\?P", pattern):
        raise ShapesError(f"{shape}: sh:pattern {pattern!r} uses look-around or back-references")
