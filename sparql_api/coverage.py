"""What one standard's data says about its own quality: the duty x KSB coverage matrix and the extraction
issues of its sources, each read with one or two queries; and the report helpers the validation pages share.

The standard's IRI is always bound as a substitution (never pasted into query text), so an odd
reference can only fail to match.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from rdflib import Graph
from rdflib.namespace import DCTERMS, PROV, RDF, RDFS, SKOS
from rdflib.term import Node

from conformance.reference import SEVERITY_ORDER, Report, load_shapes
from kimdata.namespaces import KIM, OA, PREFIXES, Iris
from sparql_api.errors import BadRequest, ResourceNotFound
from store.protocol import KnowledgeStore

REFERENCE = re.compile(r"^ST[0-9]{4}\Z")
KSB_TYPES = ("knowledge", "skill", "behaviour")
KSB_LETTERS = {"K": "knowledge", "S": "skill", "B": "behaviour"}
TYPE_OF_CLASS = {str(KIM.Knowledge): "knowledge", str(KIM.Skill): "skill", str(KIM.Behaviour): "behaviour"}
TYPE_OF_VARIABLE = {"k": "knowledge", "s": "skill", "b": "behaviour"}  # DUTIES_QUERY's mapping variables
# The JSON keys of a duty's mapped codes, per KSB type.
DUTY_KEYS = {"knowledge": "knowledge", "skill": "skills", "behaviour": "behaviours"}

PROLOGUE = "\n".join(f"PREFIX {p}: <{PREFIXES[p]}>" for p in ("kim", "skos", "dcterms", "ceasn", "sh", "prov", "oa",
                                                                  "rdfs"))

# Every duty of the standard, one row per KSB its row lists (?k, ?s or ?b by type). UNION rather than
# a variable predicate with FILTER(IN): 4x faster at 200k triples. The KSBs' codes come from KSBS_QUERY.
DUTIES_QUERY = PROLOGUE + """
SELECT DISTINCT ?standard ?duty ?code ?ordinal ?statement ?cellState ?k ?s ?b
WHERE {
  ?standard kim:hasDuty ?duty .
  ?duty skos:notation ?code .
  OPTIONAL { ?duty kim:ordinal ?ordinal }
  OPTIONAL { ?duty dcterms:description ?statement }
  OPTIONAL { ?duty kim:ksbCellState ?cellState }
  OPTIONAL { { ?duty kim:mapsToKnowledge ?k } UNION { ?duty kim:mapsToSkill ?s } UNION { ?duty kim:mapsToBehaviour ?b } }
}
"""

# The standard itself (that it exists, and its title), then every KSB with its type and statement.
KSBS_QUERY = PROLOGUE + """
SELECT DISTINCT ?standard ?title ?ksb ?code ?ordinal ?class ?statement
WHERE {
  {
    ?standard a kim:OccupationalStandard .
    OPTIONAL { ?standard dcterms:title ?title }
  } UNION {
    ?standard kim:hasKSB ?ksb .
    ?ksb skos:notation ?code .
    OPTIONAL { ?ksb kim:ordinal ?ordinal }
    OPTIONAL { ?ksb ceasn:competencyText ?statement }
    OPTIONAL { ?ksb a ?class FILTER(?class IN (kim:Knowledge, kim:Skill, kim:Behaviour)) }
  }
}
"""

# What the capture of the standard's sources lost, about the standard, its duties or its KSBs. A substituted
# ?standard is not in scope inside a group that does not match it (a lone BIND(?standard AS ?affects) would
# leave ?affects unbound, matching every issue), hence the type pattern before the BIND.
_ISSUES_OF_STANDARD = """
  { ?standard a kim:OccupationalStandard BIND(?standard AS ?affects) }
  UNION { ?standard kim:hasDuty ?affects } UNION { ?standard kim:hasKSB ?affects }
  ?issue a kim:ExtractionIssue ; kim:issueCode ?issueCode ; kim:affects ?affects .
"""
ISSUES_QUERY = PROLOGUE + """
SELECT DISTINCT ?standard ?issue ?issueCode ?severity ?affects ?affectedCode ?description ?source
WHERE {""" + _ISSUES_OF_STANDARD + """
  OPTIONAL { ?issue kim:severity ?severity }
  OPTIONAL { ?issue dcterms:description ?description }
  OPTIONAL { ?issue prov:wasDerivedFrom ?source }
  OPTIONAL { ?affects skos:notation ?affectedCode }
}
"""
# The quoted source text of those issues, in a query of its own: an OPTIONAL of three patterns is
# evaluated over the whole store before the join (150 ms at 200k triples, against 1 ms this way).
QUOTES_QUERY = PROLOGUE + """
SELECT DISTINCT ?standard ?issue ?exact
WHERE {""" + _ISSUES_OF_STANDARD + """
  ?issue kim:evidence ?span . ?span oa:hasSelector ?selector . ?selector oa:exact ?exact .
}
"""


def check_reference(reference: str) -> str:
    """A standard reference from a URL, checked to be ``ST`` and four digits.

    >>> check_reference("ST1337")
    'ST1337'
    >>> check_reference("ST1337> } #")
    Traceback (most recent call last):
    ...
    sparql_api.errors.BadRequest: 'ST1337> } #' is not a standard reference: use ST and four digits, e.g. ST1337
    """
    if not REFERENCE.match(reference):
        raise BadRequest(f"{reference!r} is not a standard reference: use ST and four digits, e.g. ST1337")
    return reference


def natural(code: str) -> tuple:
    """Sort key putting K2 before K10 and D9 before D15.

    >>> sorted(["K10", "S1", "K2", "B1"], key=natural)
    ['B1', 'K2', 'K10', 'S1']
    """
    match = re.match(r"^(\D*)(\d*)(.*)$", code)
    prefix, number, rest = match.groups() if match else (code, "", "")  # no match only across a line break
    return (prefix, int(number) if number else -1, rest)


def _last_segment(iri: str) -> str:
    return re.split(r"[/#]", iri.rstrip("/"))[-1]


def ksb_type(code: str, cls: str | None = None) -> str | None:
    """A KSB's type from its class, else from its code's letter.

    >>> ksb_type("S3"), ksb_type("X1"), ksb_type("X1", "https://w3id.org/uk-kim/def#Behaviour")
    ('skill', None, 'behaviour')
    """
    if cls in TYPE_OF_CLASS:
        return TYPE_OF_CLASS[cls]
    return KSB_LETTERS.get(code[:1])


# ------------------------------------------------------------------ the coverage matrix

@dataclass
class DutyRow:
    """One duty: its code, statement, the state of its KSB cell in the source, and the codes it maps."""

    iri: str
    code: str
    ordinal: int | None = None
    statement: str | None = None
    cell_state: str | None = None
    mapped: dict[str, list[str]] = field(default_factory=lambda: {t: [] for t in KSB_TYPES})

    @property
    def codes(self) -> set[str]:
        return {code for codes in self.mapped.values() for code in codes}

    @property
    def unmapped(self) -> bool:
        return not self.codes


@dataclass
class KsbColumn:
    """One knowledge, skill or behaviour statement and the duties that map it."""

    iri: str
    code: str
    type: str | None
    ordinal: int | None = None
    statement: str | None = None
    duties: list[str] = field(default_factory=list)

    @property
    def unmapped(self) -> bool:
        return not self.duties


@dataclass
class Coverage:
    """The duty x KSB matrix of one standard."""

    standard: str
    reference: str
    title: str | None
    duties: list[DutyRow]
    ksbs: list[KsbColumn]

    @property
    def unmapped_duties(self) -> list[DutyRow]:
        return [d for d in self.duties if d.unmapped]

    @property
    def unmapped_ksbs(self) -> list[KsbColumn]:
        return [k for k in self.ksbs if k.unmapped]

    def ksbs_of_type(self, type_: str) -> list[KsbColumn]:
        return [k for k in self.ksbs if k.type == type_]

    def to_json(self) -> dict:
        """The plain-JSON resource: duties with their mapped codes, KSBs with their duties, and the gaps."""
        return {
            "standard": self.standard,
            "reference": self.reference,
            "title": self.title,
            "duties": [{"code": d.code, "id": d.iri, "statement": d.statement, "cellState": d.cell_state,
                        **{DUTY_KEYS[t]: d.mapped[t] for t in KSB_TYPES}} for d in self.duties],
            "ksbs": [{"code": k.code, "id": k.iri, "type": k.type, "statement": k.statement, "duties": k.duties}
                     for k in self.ksbs],
            "unmappedDuties": [{"code": d.code, "cellState": d.cell_state} for d in self.unmapped_duties],
            "unmappedKsbs": [{"code": k.code, "type": k.type} for k in self.unmapped_ksbs],
        }


def solutions(store: KnowledgeStore, query: str, **substitutions: Node) -> list[dict[str, str]]:
    """A SELECT's solutions as dicts of lexical values, unbound variables left out.

    Plain strings rather than rdflib terms: making rdflib Literals costs more than the query itself.
    """
    result = store.query(query, substitutions=substitutions)
    names = [variable.value for variable in result.variables]
    return [{name: row[name].value for name in names if row[name] is not None} for row in result]


def _text(value: Node | None) -> str | None:
    return None if value is None else str(value)


def _int(value: Node | None) -> int | None:
    try:
        return None if value is None else int(value)
    except ValueError:
        return None


def coverage(store: KnowledgeStore, iris: Iris, reference: str) -> Coverage:
    """The coverage matrix of the standard ``reference``; ResourceNotFound when the store has no such standard."""
    standard = iris.standard(check_reference(reference))
    header = solutions(store, KSBS_QUERY, standard=standard)
    if not header:
        raise ResourceNotFound(f"no standard {reference} in this dataset")
    titles = sorted(str(row["title"]) for row in header if "title" in row)
    ksbs: dict[str, KsbColumn] = {}
    for row in header:
        if "ksb" not in row:
            continue
        iri = str(row["ksb"])
        column = ksbs.get(iri)
        if column is None:
            code = str(row["code"])
            column = ksbs[iri] = KsbColumn(iri, code, ksb_type(code, _text(row.get("class"))))
        column.ordinal = column.ordinal if column.ordinal is not None else _int(row.get("ordinal"))
        column.statement = min(filter(None, (column.statement, _text(row.get("statement")))), default=None)
    duties: dict[str, DutyRow] = {}
    for row in solutions(store, DUTIES_QUERY, standard=standard):
        iri = str(row["duty"])
        duty = duties.get(iri)
        if duty is None:
            duty = duties[iri] = DutyRow(iri, str(row["code"]))
        duty.ordinal = duty.ordinal if duty.ordinal is not None else _int(row.get("ordinal"))
        # Two sources may state the same duty; identical statements collapse, differing ones pick one stably.
        duty.statement = min(filter(None, (duty.statement, _text(row.get("statement")))), default=None)
        if "cellState" in row:
            duty.cell_state = _last_segment(str(row["cellState"]))
        for variable, kind in TYPE_OF_VARIABLE.items():
            if variable not in row:
                continue
            ksb = str(row[variable])
            column = ksbs.get(ksb)
            # A mapping to a KSB the standard does not list (rule R08) still shows, under its IRI's last segment.
            code = column.code if column is not None else _last_segment(ksb)
            if code not in duty.mapped[kind]:
                duty.mapped[kind].append(code)
            if column is not None and duty.code not in column.duties:
                column.duties.append(duty.code)
    rows = sorted(duties.values(), key=lambda d: (d.ordinal if d.ordinal is not None else 10**9, natural(d.code)))
    order = {d.code: n for n, d in enumerate(rows)}
    for duty in rows:
        for codes in duty.mapped.values():
            codes.sort(key=natural)
    columns = sorted(ksbs.values(), key=lambda k: (KSB_TYPES.index(k.type) if k.type in KSB_TYPES else 3,
                                                    k.ordinal if k.ordinal is not None else 10**9, natural(k.code)))
    for column in columns:
        column.duties.sort(key=lambda code: order.get(code, 10**9))
    return Coverage(str(standard), reference, titles[0] if titles else None, rows, columns)


# ------------------------------------------------------------------ extraction issues

@dataclass(frozen=True)
class Issue:
    """One extraction issue: what the capture of a source lost, kept apart from conformance findings."""

    code: str
    severity: str
    affects: str
    affected_code: str | None
    description: str | None
    quote: str | None
    source: str | None
    iri: str | None = None

    def to_json(self) -> dict:
        return {"issueCode": self.code, "severity": self.severity, "affects": self.affects,
                "affectedCode": self.affected_code, "description": self.description, "quote": self.quote,
                "source": self.source}


def _severity(value: Node | None) -> str:
    name = _last_segment(str(value)) if value is not None else "Warning"
    return name if name in SEVERITY_ORDER else "Warning"


def _issue_key(issue: Issue) -> tuple:
    return (SEVERITY_ORDER.index(issue.severity), issue.code, natural(issue.affected_code or issue.affects))


def stored_issues(store: KnowledgeStore, iris: Iris, reference: str) -> list[Issue]:
    """The extraction issues recorded about the standard ``reference``, its duties and its KSBs."""
    standard = iris.standard(check_reference(reference))
    quotes: dict[str, str] = {}
    for row in solutions(store, QUOTES_QUERY, standard=standard):
        quotes.setdefault(str(row["issue"]), str(row["exact"]))
    found: dict[str, Issue] = {}
    for row in solutions(store, ISSUES_QUERY, standard=standard):
        iri = str(row["issue"])
        found.setdefault(iri, Issue(str(row["issueCode"]), _severity(row.get("severity")), str(row["affects"]),
                                    _text(row.get("affectedCode")), _text(row.get("description")), quotes.get(iri),
                                    _text(row.get("source")), iri))
    return sorted(found.values(), key=_issue_key)


def graph_issues(graph: Graph) -> list[Issue]:
    """The extraction issues an rdflib graph holds (a parsed page, or an upload that carries its own)."""
    issues = []
    for node in set(graph.subjects(RDF.type, KIM.ExtractionIssue)):
        affects = graph.value(node, KIM.affects)
        evidence = graph.value(node, KIM.evidence)
        quote = None
        if evidence is not None:
            quote = next((str(graph.value(sel, OA.exact)) for sel in graph.objects(evidence, OA.hasSelector)
                          if graph.value(sel, OA.exact) is not None), None)
        issues.append(Issue(
            code=str(graph.value(node, KIM.issueCode) or graph.value(node, RDFS.label) or node),
            severity=_severity(graph.value(node, KIM.severity)),
            affects=_text(affects) or "",
            affected_code=None if affects is None else _text(graph.value(affects, SKOS.notation)
                                                              or graph.value(affects, DCTERMS.identifier)),
            description=_text(graph.value(node, DCTERMS.description)),
            quote=quote,
            source=_text(graph.value(node, PROV.wasDerivedFrom)),
            iri=str(node),
        ))
    return sorted(issues, key=_issue_key)


# ------------------------------------------------------------------ stored findings

@lru_cache(maxsize=4)
def shapes_for(base: str) -> Graph:
    """The shapes graph with instance IRIs on ``base`` (parsed once per process)."""
    return load_shapes(base)


def grouped(findings) -> list[tuple[str, list[tuple[str, list]]]]:
    """Findings by severity (worst first), then by rule, keeping their order."""
    groups = []
    for severity in SEVERITY_ORDER:
        rules: dict[str, list] = {}
        for finding in findings:
            if finding.severity == severity:
                rules.setdefault(finding.rule, []).append(finding)
        if rules:
            groups.append((severity, list(rules.items())))
    return groups


def report_json(report: Report, issues: list[Issue], **extra) -> dict:
    """A Report and extraction issues as plain JSON: conformance findings and capture gaps kept apart."""
    return {
        **extra,
        "conforms": report.conforms,
        "counts": report.counts(),
        "findings": [{"rule": f.rule, "severity": f.severity, "focus": f.focus, "code": f.code,
                      "message": f.message, "shape": f.shape, "path": f.path, "value": f.value}
                     for f in report.findings],
        "extractionIssues": [issue.to_json() for issue in issues],
    }
