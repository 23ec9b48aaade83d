"""Compile SHACL shapes into one SPARQL SELECT per result-producing shape that returns its violations."""

# The SHACL Core features and SHACL-SPARQL constraints our shapes use, read the way pyshacl (the
# reference engine, run by conformance.reference.check) reads them: https://www.w3.org/TR/shacl/
# Anything else raises ShapesError: a constraint the fast engine skipped would be a finding lost.

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS
from rdflib.term import Node

from conformance.reference import ShapesError
from conformance.shacl_sparql import SparqlPart, rewrite, term
from conformance.shape_conditions import ALLOWED_SEVERITIES, MAX_DEPTH, TARGETS, Conditions, deactivated
from kimdata.namespaces import SH

__all__ = ["ALLOWED_SEVERITIES", "Branch", "CompiledShape", "compile_shapes"]


@dataclass(frozen=True)
class Focus:
    """How to bind a variable to a unit's focus nodes, and the ?fv_ variables that pattern also binds."""

    pattern: Callable[[str], str]
    ancestors: tuple[str, ...] = ()  # one per enclosing property shape: pyshacl validates per (focus, value)

    def child(self, path: str, link: str) -> Focus:
        """Focus nodes of a shape under a property shape: this unit's value nodes, once per focus node."""
        return Focus(lambda var: f"{self.pattern(link)} ?{link} {path} ?{var} .", (*self.ancestors, link))


@dataclass(frozen=True)
class Branch:
    """One arm of a shape's UNION: the rows it returns and which constraint component they break."""

    kind: str  # "value" (one result per ?value), "focus" (one per ?this), "count" or "sparql"
    component: URIRef = SH.SPARQLConstraintComponent
    counts: tuple[tuple[URIRef, str, int], ...] = ()  # count: (component, "<" or ">", bound) on ?fv_count
    constraint: Node | None = None  # sparql: the sh:sparql node, reported as sh:sourceConstraint
    messages: tuple[Node, ...] = ()  # sparql: the constraint's own sh:message values
    variables: tuple[str, ...] = ()  # sparql: its projected variables
    this_projected: bool = True


@dataclass(frozen=True)
class CompiledShape:
    """A shape evaluated on one set of focus nodes, and the SELECT returning its violating rows."""

    index: int
    parent: int | None  # the unit whose sh:property reached this one (None: the shape has targets)
    shape: Node
    severity: Node
    messages: tuple[Node, ...]
    path: Node | None  # sh:path of a property shape: the default sh:resultPath
    query: str | None  # None when the shape has only sh:property children
    branches: tuple[Branch, ...]


def compile_shapes(shapes: Graph) -> list[CompiledShape]:
    """One CompiledShape per shape with targets, then one per shape reached from it by sh:property."""
    # https://www.w3.org/TR/shacl/#constraint-components-validators: custom components are not compiled.
    if (None, RDF.type, SH.ConstraintComponent) in shapes:
        raise ShapesError("custom constraint components (sh:ConstraintComponent) are not supported")
    if (None, SH.target, None) in shapes:
        raise ShapesError("SPARQL-based targets (sh:target) are not supported")
    compiler = _Compiler(shapes)
    for shape in sorted(_targeted(shapes), key=str):
        if not deactivated(shapes, shape):
            compiler.unit(shape, compiler.targets(shape), None, 0)
    return compiler.units


def _targeted(shapes: Graph) -> set[Node]:
    """Shapes with target declarations, implicit class targets included."""
    found = {s for t in TARGETS for s in shapes.subjects(t, None)}
    for kind in (SH.NodeShape, SH.PropertyShape):
        found |= {s for s in shapes.subjects(RDF.type, kind) if _implicit(shapes, s)}
    return found


def _implicit(shapes: Graph, shape: Node) -> bool:
    """The shape is also a class, so it targets its instances (SHACL 2.1.3.3, implicit class targets)."""
    classes = {RDFS.Class, *shapes.subjects(RDFS.subClassOf, RDFS.Class)}
    return bool(set(shapes.objects(shape, RDF.type)) & classes)


class _Compiler(Conditions):
    """Writes the queries of the result-producing shapes."""

    def __init__(self, shapes: Graph):
        super().__init__(shapes)
        self.units: list[CompiledShape] = []

    def targets(self, shape: Node) -> Focus:
        """The shape's focus nodes (SHACL 2.1.3): one DISTINCT sub-select over the union of its targets."""
        g = self.g
        classes = sorted(set(g.objects(shape, SH.targetClass)) | ({shape} if _implicit(g, shape) else set()))

        def focus(var: str) -> str:
            # SHACL instances: rdf:type/rdfs:subClassOf*, as pyshacl does without inference.
            parts = [f"?{var} <{RDF.type}>/<{RDFS.subClassOf}>* {term(c)} ." for c in classes]
            parts += [f"VALUES ?{var} {{ {term(n)} }}" for n in sorted(g.objects(shape, SH.targetNode))]
            parts += [f"?{var} {term(p)} ?{self.fresh()} ." for p in sorted(g.objects(shape, SH.targetSubjectsOf))]
            parts += [f"?{self.fresh()} {term(p)} ?{var} ." for p in sorted(g.objects(shape, SH.targetObjectsOf))]
            return f"{{ SELECT DISTINCT ?{var} WHERE {{ {' UNION '.join('{ ' + p + ' }' for p in parts)} }} }}"
        return Focus(focus)

    # ------------------------------------------------------------------ result-producing shapes

    def unit(self, shape: Node, focus: Focus, parent: int | None, depth: int) -> None:
        """Compile ``shape`` on ``focus``, then each of its sh:property shapes on its value nodes."""
        if depth > MAX_DEPTH:
            raise ShapesError(f"sh:property nested too deeply (recursive?) at {shape}")
        g = self.g
        self.check_parameters(shape)
        messages = tuple(g.objects(shape, SH.message))
        path = g.value(shape, SH.path)
        branches, arms, prefixes = self.branches(shape, path, focus)
        query = None
        if branches:
            if not messages:
                # pyshacl's generic messages print nodes with the data graph's prefixes: not reproducible.
                raise ShapesError(f"{shape}: a result-producing shape needs an sh:message")
            keep = " ".join(f"?{a}" for a in focus.ancestors)
            names = {v for b in branches for v in b.variables} - {"this", "value", "path"}
            head = "".join(f"PREFIX {p}: <{n}>\n" for p, n in sorted(prefixes.items()))
            query = (f"{head}SELECT DISTINCT ?fv_branch ?this ?value ?path ?fv_count {keep} "
                     + "".join(f"?{v} " for v in sorted(names)) + "WHERE {\n"
                     + "\nUNION\n".join(f"{{ {arm} BIND({i} AS ?fv_branch) }}" for i, arm in enumerate(arms))
                     + "\n}")
        index = len(self.units)
        self.units.append(CompiledShape(index, parent, shape, self.severity(shape), messages, path, query,
                                        tuple(branches)))
        for child in sorted(g.objects(shape, SH.property)):
            if not deactivated(g, child):
                self.unit(child, focus if path is None else focus.child(self.path(path), self.fresh()),
                          index, depth + 1)

    def branches(self, shape: Node, path: Node | None, focus: Focus):
        """The UNION arms of ``shape``'s query, their Branch descriptions and the prefixes they need."""
        g, branches, arms = self.g, [], []
        prefixes: dict[str, str] = {}
        this = focus.pattern("this")
        p = None if path is None else self.path(path)
        values = "BIND(?this AS ?value)" if p is None else f"?this {p} ?value ."
        for component, check in self.value_checks(shape, 0, top=True):
            branches.append(Branch("value", component))
            arms.append(f"{this} {values} FILTER(!{check('?value')})")
        for value in g.objects(shape, SH.hasValue):
            missing = f"!sameTerm(?this, {term(value)})" if p is None else f"NOT EXISTS {{ ?this {p} {term(value)} }}"
            branches.append(Branch("focus", SH.HasValueConstraintComponent))
            arms.append(f"{this} FILTER({missing})")
        low, high = self.integer(shape, SH.minCount), self.integer(shape, SH.maxCount)
        if (low is not None or high is not None) and p is None:
            raise ShapesError(f"{shape}: sh:minCount/sh:maxCount need a property shape")
        tests = ([(SH.MinCountConstraintComponent, "<", low)] if low else []) + (
            [(SH.MaxCountConstraintComponent, ">", high)] if high is not None else [])
        if tests == [(SH.MinCountConstraintComponent, "<", 1)]:
            branches.append(Branch("focus", SH.MinCountConstraintComponent))
            arms.append(f"{this} FILTER NOT EXISTS {{ ?this {p} ?{self.fresh()} }}")
        elif tests and p is not None:  # a count without a path was refused above
            branches.append(Branch("count", counts=tuple(tests)))
            arms.append(self.count(focus, p, None, tests))
        for qualified in sorted(g.objects(shape, SH.qualifiedValueShape)):
            if p is None:
                raise ShapesError(f"{shape}: sh:qualifiedValueShape needs a property shape")
            low, high = self.integer(shape, SH.qualifiedMinCount), self.integer(shape, SH.qualifiedMaxCount)
            if low is None and high is None:
                raise ShapesError(f"{shape}: sh:qualifiedValueShape without sh:qualifiedMinCount/MaxCount")
            tests = ([(SH.QualifiedMinCountConstraintComponent, "<", low)] if low is not None else []) + (
                [(SH.QualifiedMaxCountConstraintComponent, ">", high)] if high is not None else [])
            branches.append(Branch("count", counts=tuple(tests)))
            arms.append(self.count(focus, p, self.qualifies(shape, qualified), tests))
        for constraint in sorted(g.objects(shape, SH.sparql)):
            part = self.sparql(shape, constraint, focus, p)
            if part is None:
                continue
            for name, namespace in part.prefixes.items():
                if prefixes.setdefault(name, namespace) != namespace:
                    raise ShapesError(f"{shape}: its SPARQL constraints declare {name}: differently")
            branches.append(Branch("sparql", constraint=constraint, messages=tuple(g.objects(constraint, SH.message)),
                                   variables=part.variables, this_projected=part.this_projected))
            arms.append(f"{{ {part.text} }}")
        return branches, arms, prefixes

    def count(self, focus: Focus, path: str, condition: Callable[[str], str] | None, tests) -> str:
        """Focus nodes whose count of (qualifying) distinct values breaks one of ``tests``, as ?fv_count."""
        group = " ".join([f"?{a}" for a in focus.ancestors] + ["?this"])
        value = "?" + self.fresh()
        where = f"?this {path} {value} ." + (f" FILTER({condition(value)})" if condition else "")
        fails = " || ".join(f"?fv_count {op} {bound}" for _, op, bound in tests)
        return (f"{{ SELECT {group} (COUNT(DISTINCT {value}) AS ?fv_count) WHERE {{ {focus.pattern('this')} "
                f"OPTIONAL {{ {where} }} }} GROUP BY {group} }} FILTER({fails})")

    def qualifies(self, shape: Node, qualified: Node) -> Callable[[str], str]:
        """Conforms to ``qualified`` and, with sh:qualifiedValueShapesDisjoint, to no sibling shape."""
        # https://www.w3.org/TR/shacl/#QualifiedValueShapeConstraintComponent (sibling shapes).
        g = self.g
        disjoint = any(isinstance(d, Literal) and d.value is True
                       for d in g.objects(shape, SH.qualifiedValueShapesDisjoint))
        siblings = sorted({s for parent in g.subjects(SH.property, shape) for ps in g.objects(parent, SH.property)
                           for s in g.objects(ps, SH.qualifiedValueShape) if s != qualified}) if disjoint else []
        return lambda v: "(" + " && ".join(
            [self.conforms(qualified, v, 1)] + [f"!{self.conforms(s, v, 1)}" for s in siblings]) + ")"

    def sparql(self, shape: Node, constraint: Node, focus: Focus, path: str | None) -> SparqlPart | None:
        """An sh:sparql constraint as a sub-select over all focus nodes (None when deactivated)."""
        g = self.g
        if deactivated(g, constraint):
            return None
        selects = list(g.objects(constraint, SH.select))
        if len(selects) != 1 or not isinstance(selects[0], Literal):
            raise ShapesError(f"{shape}: an sh:sparql constraint needs exactly one sh:select string")
        return rewrite(g, shape, constraint, str(selects[0]), focus.pattern("this"), list(focus.ancestors), path)


