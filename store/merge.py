"""The default graph as the RDF merge of the named graphs: each triple once, kept so by every write.

In SPARQL the default graph is an RDF graph, a set (https://www.w3.org/TR/sparql11-query/#rdfDataset).
Oxigraph's own union default graph repeats a triple once for every named graph that holds it, which
inflates every COUNT; a list of default graphs does the same. So the embedded store keeps the merge in
its own default graph, where queries read it at the engine's speed:

- a build fills it once all the named graphs are loaded (``FILL``);
- every update is rewritten (``maintained``) so that, in the same transaction, the merge gains the
  triples the update added to the graphs it writes and loses those no graph holds any more. The cost
  grows with the size of the graphs written, not with the store;
- what a client writes to "the default graph" (``INSERT DATA { <s> <p> <o> }``, ``CLEAR DEFAULT``,
  the Graph Store's ``?default``) is kept in the named graph ``OWN_DEFAULT``, so the default graph stays
  derived and ``GRAPH ?g`` shows where each triple is stated.

An update that writes graphs it does not name (``GRAPH ?g`` in a template, ``CLEAR ALL``, ``ADD ... TO
ALL``) is followed by a full recomputation, which reads the whole store.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyoxigraph as ox

from store.errors import QuerySyntaxError
from store.sparql_errors import explain_syntax_error
from store.sparql_text import Prologue, Token, closing_brace, prologue, sparql_iri, tokens

OWN_DEFAULT = "urn:x-kimgraph:graph:default"
"""The named graph that holds what clients write to the default graph."""
SCRATCH = "urn:x-kimgraph:graph:before:"
"""Prefix of the graphs that hold, inside one transaction, what a written graph held before the update."""

FILL = "INSERT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }"
"""The merge of every named graph into the default graph (the default graph being empty or a subset)."""
RECOMPUTE = ("DELETE { ?s ?p ?o } WHERE { ?s ?p ?o FILTER NOT EXISTS { GRAPH ?g { ?s ?p ?o } } } ;\n" + FILL)
"""The merge recomputed from scratch: triples no graph holds are dropped, every graph's triples added."""

_TEMPLATE_OPENERS = {"DATA", "INSERT", "DELETE"}


@dataclass(frozen=True)
class Rewritten:
    """An update whose default-graph writes go to OWN_DEFAULT; ``written`` names the graphs it writes,
    None when it may write graphs it does not name; ``body`` is where its prologue (BASE, PREFIX) ends."""

    text: str
    written: frozenset[str] | None
    body: int = 0


def redirect(text: str, found: list[Token] | None = None) -> Rewritten:
    """Send an update's writes to the default graph to OWN_DEFAULT, and say which graphs it writes.

    >>> r = redirect("INSERT DATA { <urn:a> <urn:b> <urn:c> . GRAPH <urn:g> { <urn:x> <urn:y> <urn:z> } }")
    >>> r.text
    'INSERT DATA { GRAPH <urn:x-kimgraph:graph:default> { <urn:a> <urn:b> <urn:c> . } GRAPH <urn:g> { <urn:x> <urn:y> <urn:z> } }'
    >>> sorted(r.written)
    ['urn:g', 'urn:x-kimgraph:graph:default']
    >>> redirect("CLEAR DEFAULT").text
    'CLEAR SILENT GRAPH <urn:x-kimgraph:graph:default>'
    >>> redirect("DELETE { GRAPH ?g { ?s ?p ?o } } WHERE { GRAPH ?g { ?s ?p ?o } }").written is None
    True
    """
    found = tokens(text) if found is None else found
    names = prologue(found)
    edits: list[tuple[int, int, str]] = []  # (start, end, replacement) in the text
    written: set[str] | None = set()
    i = 0
    with_graph: str | None = None
    while i < len(found):
        token = found[i]
        word = token.text.upper() if token.kind == "word" else None
        if word == "WITH" and i + 1 < len(found):
            with_graph = names.iri(found[i + 1])
            written = written if with_graph is not None else None
            i += 2
            continue
        if word == "LOAD":  # into a graph named or not: recomputed after
            written = None
        if word in ("CLEAR", "DROP", "CREATE"):
            op = i
            i, target = _graph_ref(found, i + 1, names)
            if target == "DEFAULT":
                edits += [_replace_default(found, i - 1), *_silent(found, op)]
                written = _add(written, OWN_DEFAULT)
            else:
                written = _add(written, target)
            continue
        if word in ("ADD", "MOVE", "COPY"):
            j, source = _graph_ref(found, i + 1, names)
            if source == "DEFAULT":  # the default graph always exists; the graph standing for it may not yet
                edits += [_replace_default(found, j - 1), *_silent(found, i)]
            # MOVE empties its source; ADD and COPY leave it alone
            if word == "MOVE":
                written = _add(written, OWN_DEFAULT if source == "DEFAULT" else source)
            if j < len(found) and found[j].kind == "word" and found[j].text.upper() == "TO":
                j, target = _graph_ref(found, j + 1, names)
                if target == "DEFAULT":
                    edits.append(_replace_default(found, j - 1))
                    written = _add(written, OWN_DEFAULT)
                else:
                    written = _add(written, target)
            i = j
            continue
        if word in ("INSERT", "DELETE") and i + 1 < len(found):
            nxt = found[i + 1]
            start = i + 2 if nxt.kind == "word" and nxt.text.upper() == "DATA" else i + 1
            if nxt.kind == "word" and nxt.text.upper() == "WHERE":  # DELETE WHERE { pattern }: the pattern is the template
                start = i + 2
            if start < len(found) and found[start].text == "{":
                end = _closing(found, start)
                target = with_graph if (with_graph and start == i + 1) else None
                segment_edits, graphs = _template(text, found, start, end, target, names)
                edits.extend(segment_edits)
                written = None if graphs is None or written is None else written | graphs
                i = end + 1
                continue
        if token.text == ";":
            with_graph = None
        i += 1
    for start, end, replacement in sorted(edits, reverse=True):
        text = text[:start] + replacement + text[end:]
    body = found[names.end].start if names.end < len(found) else len(text)
    return Rewritten(text, None if written is None else frozenset(written), body)


def rewritten(text: str, written: frozenset[str] | None = None) -> Rewritten:
    """``redirect(text)``, or, when the caller names the graphs the update writes (and it writes nothing to
    the default graph), the text as it is, without scanning it: a graph store write of 50,000 triples
    spends about a second of interpreter time in the scan.

    >>> rewritten("INSERT DATA { GRAPH <urn:g> { <urn:a> <urn:b> <urn:c> } }", frozenset({"urn:g"})).written
    frozenset({'urn:g'})
    """
    return redirect(text) if written is None else Rewritten(text, written)


def maintained(update: Rewritten) -> str:
    """The update with, in the same request (one transaction), the upkeep of the merge: what each graph it
    writes held before is copied aside after its prologue, and compared with what it holds after it.

    >>> print(maintained(redirect("PREFIX g: <urn:g:> DROP GRAPH g:a")))
    PREFIX g: <urn:g:> ADD SILENT <urn:g:a> TO <urn:x-kimgraph:graph:before:0> ; DROP GRAPH g:a ;
    DELETE { ?s ?p ?o } WHERE { GRAPH <urn:x-kimgraph:graph:before:0> { ?s ?p ?o } FILTER NOT EXISTS { GRAPH ?h { ?s ?p ?o } FILTER(?h NOT IN (<urn:x-kimgraph:graph:before:0>)) } } ;
    INSERT { ?s ?p ?o } WHERE { GRAPH <urn:g:a> { ?s ?p ?o } } ;
    DROP SILENT GRAPH <urn:x-kimgraph:graph:before:0>
    """
    steps = upkeep(update.written)
    if steps is None:
        return update.text + " ;\n" + RECOMPUTE
    before, after = steps
    text = update.text[:update.body] + "".join(f"{step} ; " for step in before) + update.text[update.body:]
    return " ;\n".join([text, *after])


def upkeep(written: frozenset[str] | None) -> tuple[list[str], list[str]] | None:
    """The operations to run before and after writing these graphs, so the merge follows; None when the
    graphs are not known (or not absolute IRIs) and the merge must be recomputed."""
    graphs = sorted(written or ())
    try:
        iris = {g: sparql_iri(g) for g in graphs}
    except ValueError:  # a relative IRI with no BASE, say: Oxigraph will say what is wrong with it
        return None
    if written is None:
        return None
    scratch = {g: f"<{SCRATCH}{n}>" for n, g in enumerate(graphs)}
    others = ", ".join(scratch.values())
    before = [f"ADD SILENT {iris[g]} TO {scratch[g]}" for g in graphs]
    after = [f"DELETE {{ ?s ?p ?o }} WHERE {{ GRAPH {scratch[g]} {{ ?s ?p ?o }} "
             f"FILTER NOT EXISTS {{ GRAPH ?h {{ ?s ?p ?o }} FILTER(?h NOT IN ({others})) }} }}" for g in graphs]
    after += [f"INSERT {{ ?s ?p ?o }} WHERE {{ GRAPH {iris[g]} {{ ?s ?p ?o }} }}" for g in graphs]
    after += [f"DROP SILENT GRAPH {s}" for s in scratch.values()]
    return before, after


def client_syntax_error(sparql: str, message: str) -> str:
    """A syntax error as the client's own text has it (positions before the upkeep was added to it)."""
    try:
        ox.Store().update(sparql)  # an invalid update fails at parsing, before anything runs
    except SyntaxError as original:
        return explain_syntax_error(sparql, str(original))
    except RuntimeError:
        pass
    return message


def _add(written: set[str] | None, graph: str | None) -> set[str] | None:
    if written is None or graph is None or graph in ("ALL", "NAMED"):
        return None
    return written | {graph}


def _graph_ref(found: list[Token], i: int, names: Prologue) -> tuple[int, str | None]:
    """After CLEAR/DROP/CREATE/ADD/MOVE/COPY (and SILENT): the next index and DEFAULT, ALL, NAMED or the IRI."""
    if i < len(found) and found[i].kind == "word" and found[i].text.upper() == "SILENT":
        i += 1
    if i < len(found) and found[i].kind == "word" and found[i].text.upper() == "GRAPH":
        i += 1
    if i >= len(found):
        return i, None
    token = found[i]
    if token.kind == "word" and token.text.upper() in ("DEFAULT", "ALL", "NAMED"):
        return i + 1, token.text.upper()
    return i + 1, names.iri(token)  # None: a graph not known here


def _silent(found: list[Token], op: int) -> list[tuple[int, int, str]]:
    """SILENT after the operation at ``op`` unless it is there: no error for a graph that does not exist."""
    following = found[op + 1] if op + 1 < len(found) else None
    if following is not None and following.kind == "word" and following.text.upper() == "SILENT":
        return []
    end = found[op].start + len(found[op].text)
    return [(end, end, " SILENT")]


def _replace_default(found: list[Token], i: int) -> tuple[int, int, str]:
    token = found[i]
    return token.start, token.start + len(token.text), f"GRAPH <{OWN_DEFAULT}>"


def _closing(found: list[Token], start: int) -> int:
    """The brace that closes the one at ``start``, or the last token when none does: an unbalanced update is
    left for the engine to refuse, so the client gets its message about the text as sent."""
    try:
        return closing_brace(found, start)
    except QuerySyntaxError:
        return len(found) - 1


def _template(text: str, found: list[Token], start: int, end: int, with_graph: str | None,
              names: Prologue) -> tuple[list[tuple[int, int, str]], set[str] | None]:
    """Wrap the triples of a template that stand outside GRAPH blocks into GRAPH <OWN_DEFAULT> (or the WITH
    graph, which then needs no edit); the edits and the graphs the template writes."""
    edits: list[tuple[int, int, str]] = []
    graphs: set[str] | None = set()
    run_start: int | None = None  # the first token of a run of default-graph triples
    i = start + 1
    while i < end:
        token = found[i]
        if token.kind == "word" and token.text.upper() == "GRAPH":
            if run_start is not None:
                edits.append(_wrap(text, found, run_start, i))
                run_start = None
            name = names.iri(found[i + 1]) if i + 1 < end else None
            if name is not None:
                graphs = None if graphs is None else graphs | {name}
            else:
                graphs = None  # GRAPH ?g: not known here
            block = i + 2
            i = _closing(found, block) + 1 if block < end and found[block].text == "{" else i + 2
            continue
        if run_start is None:
            run_start = i
        i += 1
    if run_start is not None:
        edits.append(_wrap(text, found, run_start, end))
    if edits and with_graph is not None:
        edits = []
        graphs = None if graphs is None else graphs | {with_graph}
    elif edits:
        graphs = None if graphs is None else graphs | {OWN_DEFAULT}
    return edits, graphs


def _wrap(text: str, found: list[Token], first: int, stop: int) -> tuple[int, int, str]:
    start = found[first].start
    last = found[stop - 1]
    end = last.start + len(last.text)
    return start, end, f"GRAPH <{OWN_DEFAULT}> {{ {text[start:end]} }}"
