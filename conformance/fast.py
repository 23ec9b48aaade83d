"""Fast conformance checking: the shapes compiled to SPARQL and run inside Oxigraph, with pyshacl's findings."""

# pyshacl (conformance.reference.check) stays the reference; this engine must report the same results and
# build the same sh:ValidationReport graph (https://www.w3.org/TR/shacl/#validation-report), so
# the report is assembled the way pyshacl assembles it: one blank node per result, and blank nodes
# of the shapes graph (paths, nested shapes, sh:sparql constraints) copied in as pyshacl copies them.

from __future__ import annotations

import os
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from rdflib import BNode, Dataset, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.graph import ConjunctiveGraph
from rdflib.namespace import DCTERMS, RDF, SKOS, XSD
from rdflib.term import Node

from conformance.reference import Report, ShapesError, load_shapes, to_report
from conformance.shape_compiler import ALLOWED_SEVERITIES, CompiledShape, compile_shapes
from kimdata.namespaces import SH
from store.embedded import Store
from store.protocol import KnowledgeStore
from store.terms import to_rdflib

__all__ = ["CompiledShape", "check_graph", "check_store", "compile_shapes", "relabel_blank_nodes"]

_CHECKED_GRAPH = "urn:kimgraph:fast-validate:data"
_INTEGER_SUBTYPES = {XSD[t] for t in ("nonPositiveInteger", "negativeInteger", "long", "int", "short", "byte",
                                      "nonNegativeInteger", "unsignedLong", "unsignedInt", "unsignedShort",
                                      "unsignedByte", "positiveInteger")}
_CODE_CHUNK = 2000
_CLONE_DEPTH = 10  # pyshacl's clone_blank_node stops at this recursion depth


@dataclass(frozen=True)
class _Result:
    """One validation result before it becomes triples."""

    unit: CompiledShape
    component: URIRef
    focus: Node
    value: Node | None
    path: Node | None
    messages: tuple[Node, ...]
    constraint: Node | None = None


def check_store(store: KnowledgeStore, shapes: Graph | None = None, graphs: list[str] | None = None) -> Report:
    """Validate the union of ``store``'s named graphs (or only ``graphs``) against ``shapes``."""
    shapes = load_shapes() if shapes is None else shapes
    if (None, SH.rule, None) in shapes:
        raise ShapesError("shapes with sh:rule are not supported: validation must not change the data")
    units = compile_shapes(shapes)
    # With a list, Oxigraph's default graph is the merge of those graphs; otherwise of all of them.
    scope = {"default_graphs": list(graphs)} if graphs is not None else {}
    results = [r for unit, rows in zip(units, _run(store, units, scope), strict=True)
               for row in rows for r in _results(unit, row)]
    conforms = _conforms(units, results)
    report = _report_graph(shapes, conforms, results, _DataNodes(store, scope))
    return to_report(conforms, report, _codes(store, {r.focus for r in results}, scope))


def _run(store: KnowledgeStore, units: list[CompiledShape], scope: dict) -> list[list[dict[str, Node]]]:
    """Each unit's rows, in unit order; the queries run on all cores (pyoxigraph releases the GIL)."""
    # SPARQL-constraint shapes go first: they are the slow ones, and should not start last.
    order = sorted((u for u in units if u.query), key=lambda u: not any(b.kind == "sparql" for b in u.branches))
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        answers = pool.map(lambda u: _select(store, u.query, scope), order)
        rows = dict(zip((u.index for u in order), answers, strict=True))
    return [rows.get(u.index, []) for u in units]


def _select(store: KnowledgeStore, query: str, scope: dict) -> list[dict[str, Node]]:
    """Store.select, but the solutions object is gone before terms are converted."""
    # pyoxigraph's QuerySolutions must be freed on the thread that made it. rdflib logs ill-typed
    # literals with a traceback; a handler that keeps records (pytest's) would keep this frame alive.
    solutions = store.query(query, **scope)
    names = [v.value for v in solutions.variables]
    raw = [[(name, row[name]) for name in names] for row in solutions]
    del solutions
    return [{name: to_rdflib(term) for name, term in row if term is not None} for row in raw]


def check_graph(data: Graph | Dataset, shapes: Graph | None = None) -> Report:
    """Validate an rdflib Graph (or the union of a Dataset's graphs) by loading it into an in-memory store."""
    union = data
    if isinstance(data, ConjunctiveGraph):
        union = Graph()
        for s, p, o, _ in data.quads((None, None, None, None)):
            union.add((s, p, o))
    rewritten = {o.datatype for o in union.objects() if isinstance(o, Literal) and o.datatype in _INTEGER_SUBTYPES}
    if rewritten:
        # Oxigraph stores every lexically valid xsd:int, xsd:byte, ... as xsd:integer: sh:datatype
        # and sh:value would then disagree with pyshacl, which sees the data as written.
        raise ValueError(f"the store would rewrite {', '.join(sorted(rewritten))} literals as xsd:integer; "
                         "validate this graph with conformance.reference.check")
    store = Store.in_memory()
    store.load(union.serialize(format="nt", encoding="utf-8"), "ntriples", _CHECKED_GRAPH)
    return check_store(store, shapes)


# ---------------------------------------------------------------------- rows -> results


def _results(unit: CompiledShape, row: dict[str, Node]):
    """The validation results one row of ``unit``'s query stands for."""
    branch = unit.branches[int(row["fv_branch"])]
    focus = row["this"]
    if branch.kind == "value":
        yield _Result(unit, branch.component, focus, row["value"], unit.path, unit.messages)
    elif branch.kind == "focus":
        yield _Result(unit, branch.component, focus, None, unit.path, unit.messages)
    elif branch.kind == "count":
        n = int(row["fv_count"])
        for component, op, bound in branch.counts:
            if (n < bound) if op == "<" else (n > bound):
                yield _Result(unit, component, focus, None, unit.path, unit.messages)
    else:
        yield from _sparql_results(unit, branch, focus, row)


def _sparql_results(unit: CompiledShape, branch, focus: Node, row: dict[str, Node]):
    """A SPARQL constraint's row as pyshacl reports it (SHACL 5.3.2, with pyshacl's substitutions)."""
    # https://www.w3.org/TR/shacl/#sparql-constraints-variables
    this = focus if branch.this_projected else None
    path = row.get("path") if "path" in branch.variables else None
    value = row.get("value") if "value" in branch.variables else None
    if this is None and path is None and value is None:
        return  # pyshacl drops rows that bind none of $this, ?path and ?value
    if value is None and unit.path is None:
        value = focus  # a node shape's result names the focus node as its value
    bound = {name: row[name] for name in branch.variables
             if name not in ("this", "path", "value", "failure") and name in row}
    for name, term in (("this", this), ("path", path), ("value", value)):
        if term is not None:
            bound[name] = term
    messages = []
    for message in branch.messages:
        if message not in unit.messages:
            messages.append(_substitute(message, bound))
    messages += [_substitute(m, bound) for m in unit.messages]
    yield _Result(unit, SH.SPARQLConstraintComponent, focus, value, path if path is not None else unit.path,
                  tuple(messages), branch.constraint)


def _substitute(message: Node, bound: dict[str, Node]) -> Node:
    """{?var} and {$var} replaced by the row's values, exactly as pyshacl does (re.sub, str of the term)."""
    if not isinstance(message, Literal):
        return message
    text = str(message.value)
    for name, term in bound.items():
        text = re.sub(f"{{[?$]{name}}}", str(term), text)
    return Literal(text)


def _conforms(units: list[CompiledShape], results: list[_Result]) -> bool:
    """pyshacl's sh:conforms with allow_warnings: a Violation-level shape failed, directly or by sh:property."""
    failed_own = {r.unit.index for r in results}
    fails: dict[int, bool] = {}
    for unit in reversed(units):  # children come after their parents
        children = [u.index for u in units if u.parent == unit.index]
        fails[unit.index] = unit.severity not in ALLOWED_SEVERITIES and (
            unit.index in failed_own or any(fails[c] for c in children))
    return not any(fails[u.index] for u in units if u.parent is None)


# ---------------------------------------------------------------------- the report graph


class _DataNodes:
    """Blank nodes of the data, fetched from the store when a result names one (pyshacl copies them in)."""

    def __init__(self, store: KnowledgeStore, scope: dict):
        self.store, self.scope, self.graph = store, scope, Graph()
        self.fetched: set[Node] = set()

    def fetch(self, node: Node, depth: int = 0) -> Graph:
        if isinstance(node, BNode) and node not in self.fetched and depth < _CLONE_DEPTH:
            self.fetched.add(node)
            rows = self.store.select("SELECT DISTINCT ?s ?p ?o WHERE { ?s ?p ?o }",
                                     substitutions={"s": node}, **self.scope)
            for row in rows:
                self.graph.add((node, row["p"], row["o"]))
                self.fetch(row["o"], depth + 1)
        return self.graph


def _report_graph(shapes: Graph, conforms: bool, results: list[_Result], data: _DataNodes) -> Graph:
    """The sh:ValidationReport, triple for triple as pyshacl's Validator.create_validation_report builds it."""
    report = Graph(bind_namespaces="core")
    for prefix, namespace in shapes.namespace_manager.namespaces():
        report.namespace_manager.bind(prefix, namespace)
    root = BNode()
    report.add((root, RDF.type, SH.ValidationReport))
    report.add((root, SH.conforms, Literal(conforms)))
    copies: dict[tuple[str, str], Node] = {}

    def copy(source: str, node: Node) -> Node:
        if isinstance(node, Literal):
            return node
        key = (source, str(node))
        if key not in copies:
            if isinstance(node, BNode):
                graph = shapes if source == "shapes" else data.fetch(node)
                copies[key] = _clone_bnode(graph, node, report, keep_id=True)
            else:
                copies[key] = URIRef(str(node))
        return copies[key]

    for r in results:
        node = BNode()
        report.add((root, SH.result, node))
        report.add((node, RDF.type, SH.ValidationResult))
        report.add((node, SH.sourceConstraintComponent, r.component))
        report.add((node, SH.sourceShape, copy("shapes", r.unit.shape)))
        report.add((node, SH.resultSeverity, r.unit.severity))
        report.add((node, SH.focusNode, copy("data", r.focus)))
        if r.value is not None:
            report.add((node, SH.value, copy("data", r.value)))
        if r.path is not None:
            report.add((node, SH.resultPath, copy("shapes", r.path)))
        if r.constraint is not None:
            report.add((node, SH.sourceConstraint, copy("shapes", r.constraint)))
        for message in r.messages:
            report.add((node, SH.resultMessage, message))
    return report


def _clone_bnode(graph: Graph, node: BNode, target: Graph, keep_id: bool = False, depth: int = 0) -> Node:
    """pyshacl's clone_blank_node: the node's triples, nested blank nodes and lists, fresh ids below the top."""
    clone = BNode(str(node)) if keep_id else BNode()
    if depth >= _CLONE_DEPTH:
        return clone
    predicates = set(graph.predicates(node))
    if RDF.first in predicates:
        cells = Collection(target, clone)
        for item in graph.items(node):
            cells.append(_clone_term(graph, item, target, depth + 1))
        return clone
    for p in predicates:
        for o in list(graph.objects(node, p)):
            target.add((clone, p, _clone_term(graph, o, target, depth + 1)))
    return clone


def _clone_term(graph: Graph, term: Node, target: Graph, depth: int) -> Node:
    if isinstance(term, BNode):
        return _clone_bnode(graph, term, target, depth=depth + 1)
    return term


def _codes(store: KnowledgeStore, focus_nodes: set[Node], scope: dict) -> Graph:
    """skos:notation and dcterms:identifier of the focus nodes: what Finding.code is read from."""
    codes = Graph()
    iris = sorted(n for n in focus_nodes if isinstance(n, URIRef))
    for start in range(0, len(iris), _CODE_CHUNK):
        values = " ".join(f"<{iri}>" for iri in iris[start:start + _CODE_CHUNK])
        rows = store.select(f"SELECT DISTINCT ?f ?p ?c WHERE {{ VALUES ?f {{ {values} }} "
                            f"VALUES ?p {{ <{SKOS.notation}> <{DCTERMS.identifier}> }} ?f ?p ?c }}", **scope)
        for row in rows:
            codes.add((row["f"], row["p"], row["c"]))
    for node in focus_nodes - set(iris):
        for p in (SKOS.notation, DCTERMS.identifier):
            for row in store.select("SELECT ?f ?p ?c WHERE { ?f ?p ?c }", substitutions={"f": node, "p": p}, **scope):
                codes.add((node, p, row["c"]))
    return codes


def relabel_blank_nodes(graph: Graph) -> Graph:
    """A copy of ``graph`` with blank nodes named in depth-first order from the roots, list heads before cells."""
    # rdflib's Turtle writer prints subjects in label order; a list cell whose label sorts before its
    # head gets printed alone and then again inside the list (rdflib#802). Labels in traversal order
    # put every head first.
    labels: dict[Node, Node] = {}
    seen: set[Node] = set()
    width = len(str(sum(1 for n in graph.all_nodes() if isinstance(n, BNode))))  # b07 before b10, as strings
    roots = sorted(set(graph.subjects()), key=lambda s: ((None, None, s) in graph, isinstance(s, BNode), str(s)))
    for root in roots:
        stack = [root]
        while stack:
            node = stack.pop()
            if node in seen:
                continue
            seen.add(node)
            if isinstance(node, BNode):
                labels[node] = BNode(f"b{len(labels):0{width}d}")
            stack.extend(reversed([o for _, o in sorted(graph.predicate_objects(node)) if not isinstance(o, Literal)]))
    copy = Graph(namespace_manager=graph.namespace_manager)
    for s, p, o in graph:
        copy.add((labels.get(s, s), p, labels.get(o, o)))
    return copy
