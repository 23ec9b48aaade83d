"""Mapping sets in SSSOM: the TSV (a YAML metadata block in ``#`` lines, then one mapping a row) and RDF.

The TSV follows the SSSOM specification (https://mapping-commons.github.io/sssom/): identifiers are CURIEs
expanded by the ``curie_map`` of the header; ``confidence`` is in [0, 1]; ``similarity_score`` is the method's
raw score, named by ``similarity_measure``. The RDF describes the same mapping set with the SSSOM vocabulary
(``sssom:MappingSet``, one ``sssom:Mapping`` resource per row), plus a SKOS mapping triple for each mapping whose
confidence passed the threshold chosen on the judged set. IRIs of KIM Graph's own resources are written relative
to the instance base, as in every curated file, so that the build can place them under any base.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, PROV, RDF, RDFS, SKOS, XSD

from kimdata.namespaces import DEFAULT_BASE, KIM

SSSOM = Namespace("https://w3id.org/sssom/")
SEMAPV = Namespace("https://w3id.org/semapv/vocab/")
ID_BASE = DEFAULT_BASE + "id/"
ESCO_LICENCE = "https://creativecommons.org/licenses/by/4.0/"
ESCO_ATTRIBUTION = ("ESCO classification, European Commission, reused under the European Commission's reuse "
                    "policy (Commission Decision 2011/833/EU) and licensed CC BY 4.0: "
                    "https://esco.ec.europa.eu/en/about-esco/data-science-and-esco/esco-licence")

CURIE_MAP = {
    "kimid": ID_BASE,
    "ESCO": "http://data.europa.eu/esco/",
    "skos": str(SKOS),
    "rdfs": str(RDFS),
    "semapv": str(SEMAPV),
    "ceasn": "https://purl.org/ctdlasn/terms/",
    "dcterms": str(DCTERMS),
    "kim": str(KIM),
}

COLUMNS = [
    "subject_id", "subject_label", "predicate_id", "object_id", "object_label", "mapping_justification",
    "confidence", "similarity_score", "similarity_measure", "subject_match_field", "object_match_field",
    "object_source", "comment",
]

# What each target kind is, for the comment column and the RDF (kim:alignmentTarget)
TARGETS = {
    "discipline": "GKIM discipline",
    "ksb": "statement (KSB or duty) of another standard of the KIM family",
    "esco-skill": "ESCO skill",
    "esco-occupation": "ESCO occupation",
}


@dataclass
class Row:
    """One mapping: a candidate link with its rank among the subject's candidates of that target kind."""

    subject_id: str
    subject_label: str
    predicate_id: str  # skos:relatedMatch where the threshold is reached, else rdfs:seeAlso (a candidate)
    object_id: str
    object_label: str
    target: str
    rank: int
    confidence: float
    similarity_score: float
    object_text: str
    subject_text: str = ""
    subject_match_field: str = ""
    object_match_field: str = ""
    object_source: str = ""


@dataclass
class MappingSet:
    name: str  # file stem
    title: str
    justification: str  # semapv local name
    similarity_measure: str
    tool: str
    tool_version: str
    date: str
    parameters: dict
    inputs: dict  # name -> sha256
    thresholds: dict  # target -> {predicate: minimum confidence}
    rows: list[Row] = field(default_factory=list)

    @property
    def iri(self) -> str:
        return ID_BASE + f"mapping-set/{self.name}"


def curie(iri: str) -> str:
    """The CURIE of an IRI under the ``curie_map`` (the longest namespace wins), else the IRI.

    >>> curie("https://w3id.org/uk-kim/id/standard/ST1337/ksb/K19")
    'kimid:standard/ST1337/ksb/K19'
    >>> curie("http://data.europa.eu/esco/skill/d3e9b00a-0891-4fa8-836d-8240ec3d2758")
    'ESCO:skill/d3e9b00a-0891-4fa8-836d-8240ec3d2758'
    >>> expand(curie("http://www.w3.org/2004/02/skos/core#relatedMatch"), CURIE_MAP)
    'http://www.w3.org/2004/02/skos/core#relatedMatch'
    """
    for prefix, ns in sorted(CURIE_MAP.items(), key=lambda kv: -len(kv[1])):
        if iri.startswith(ns):
            return f"{prefix}:{iri[len(ns):]}"
    return iri


def expand(value: str, curie_map: dict[str, str]) -> str:
    prefix, _, local = value.partition(":")
    return curie_map[prefix] + local if prefix in curie_map else value


def _yaml_scalar(value) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid YAML flow scalar


def write_tsv(ms: MappingSet, path: Path) -> None:
    """The SSSOM TSV: the metadata block as ``#``-prefixed YAML, then the mapping table."""
    other = {"parameters": ms.parameters, "inputs_sha256": ms.inputs, "thresholds": ms.thresholds}
    lines = [
        "curie_map:",
        *[f"  {p}: {_yaml_scalar(ns)}" for p, ns in CURIE_MAP.items()],
        f"mapping_set_id: {_yaml_scalar(ms.iri)}",
        f"mapping_set_title: {_yaml_scalar(ms.title)}",
        f"mapping_set_description: {_yaml_scalar(_description(ms))}",
        f"license: {_yaml_scalar(ESCO_LICENCE)}",
        f"mapping_tool: {_yaml_scalar(ms.tool)}",
        f"mapping_tool_version: {_yaml_scalar(ms.tool_version)}",
        f"mapping_date: {_yaml_scalar(ms.date)}",
        f"subject_source: {_yaml_scalar(ID_BASE)}",
        f"other: {_yaml_scalar(json.dumps(other, sort_keys=True))}",
    ]
    out = io.StringIO()
    for line in lines:
        out.write(f"# {line}\n")
    writer = csv.writer(out, delimiter="\t", lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(COLUMNS)
    for r in ms.rows:
        writer.writerow([
            curie(r.subject_id), r.subject_label, r.predicate_id, curie(r.object_id), r.object_label,
            f"semapv:{ms.justification}", f"{r.confidence:.4f}", f"{r.similarity_score:.4f}", ms.similarity_measure,
            r.subject_match_field, r.object_match_field, r.object_source,
            f"{TARGETS[r.target]}; rank {r.rank}"
            + (f"; matched object text (ESCO labels and description joined): {r.object_text}"
               if r.target.startswith("esco-") else ""),
        ])
    path.write_text(out.getvalue(), encoding="utf-8")


def _description(ms: MappingSet) -> str:
    return (f"{ms.title}: for each duty and KSB of the standards of the KIM family, its best-scoring "
            "GKIM disciplines, statements of the other standards and ESCO skills, and for each standard its "
            "ESCO occupations. Rows are candidates with a score; the predicate is a SKOS mapping relation only "
            "where the confidence reaches the threshold chosen on the judged set (tests/data/alignment), "
            f"rdfs:seeAlso otherwise. ESCO texts: {ESCO_ATTRIBUTION}")


def read_tsv(path: Path) -> tuple[dict, list[dict]]:
    """The metadata (a flat reading of the YAML block this module writes) and the rows, identifiers expanded."""
    meta: dict = {}
    curie_map: dict[str, str] = {}
    table = []
    with open(path, encoding="utf-8", newline="") as f:
        for line in f:
            if not line.startswith("#"):
                table.append(line)
                continue
            body = line[2:].rstrip("\n")
            if body.startswith("  "):
                key, _, value = body.strip().partition(": ")
                curie_map[key] = json.loads(value)
            elif body != "curie_map:":
                key, _, value = body.partition(": ")
                meta[key] = json.loads(value)
    meta["curie_map"] = curie_map
    rows = list(csv.DictReader(table, delimiter="\t"))
    for row in rows:
        for key in ("subject_id", "object_id", "predicate_id", "mapping_justification"):
            row[key] = expand(row[key], curie_map)
        row["confidence"] = float(row["confidence"])
        row["similarity_score"] = float(row["similarity_score"])
        comment = row["comment"]
        row["rank"] = int(comment.split("; rank ")[1].split(";")[0])
        row["target"] = next(k for k, v in TARGETS.items() if comment.startswith(v + ";"))
    return meta, rows


def to_rdf(ms: MappingSet) -> Graph:
    g = Graph()
    g.bind("sssom", SSSOM)
    g.bind("semapv", SEMAPV)
    g.bind("skos", SKOS)
    g.bind("dcterms", DCTERMS)
    g.bind("prov", PROV)
    g.bind("kim", KIM)
    s = URIRef(ms.iri)
    g.add((s, RDF.type, SSSOM.MappingSet))
    g.add((s, RDF.type, PROV.Entity))
    g.add((s, DCTERMS.title, Literal(ms.title, lang="en")))
    g.add((s, DCTERMS.description, Literal(_description(ms), lang="en")))
    g.add((s, SSSOM.mapping_tool, Literal(ms.tool)))
    g.add((s, SSSOM.mapping_tool_version, Literal(ms.tool_version)))
    g.add((s, SSSOM.mapping_date, Literal(ms.date, datatype=XSD.date)))
    g.add((s, SSSOM.license, URIRef(ESCO_LICENCE)))
    g.add((s, DCTERMS.license, URIRef(ESCO_LICENCE)))
    g.add((s, DCTERMS.rights, Literal(ESCO_ATTRIBUTION, lang="en")))
    g.add((s, DCTERMS.source, URIRef("https://esco.ec.europa.eu/")))
    g.add((s, SSSOM.similarity_measure, Literal(ms.similarity_measure)))
    g.add((s, SSSOM.other, Literal(json.dumps(
        {"parameters": ms.parameters, "inputs_sha256": ms.inputs, "thresholds": ms.thresholds}, sort_keys=True))))
    activity = URIRef(ms.iri + "/activity")  # IRIs, not blank nodes, so that a rerun writes the same file
    g.add((s, PROV.wasGeneratedBy, activity))
    g.add((activity, RDF.type, PROV.Activity))
    g.add((activity, DCTERMS.description, Literal(f"kimgraph align with {ms.tool_version}")))
    for n, (name, digest) in enumerate(sorted(ms.inputs.items()), start=1):
        used = URIRef(ms.iri + f"/input/{n}")
        g.add((activity, PROV.used, used))
        g.add((used, DCTERMS.title, Literal(name)))
        g.add((used, KIM.sha256, Literal(digest)))
    seen_objects = set()
    for r in ms.rows:
        m = URIRef(ms.iri + "/mapping/" + hashlib.sha256(f"{r.subject_id} {r.object_id}".encode()).hexdigest()[:16])
        subject, obj = URIRef(r.subject_id), URIRef(r.object_id)
        g.add((m, RDF.type, SSSOM.Mapping))
        g.add((m, SSSOM.mapping_set, s))
        g.add((m, SSSOM.subject_id, subject))
        g.add((m, SSSOM.subject_label, Literal(r.subject_label)))
        g.add((m, SSSOM.predicate_id, URIRef(expand(r.predicate_id, CURIE_MAP))))
        g.add((m, SSSOM.object_id, obj))
        if r.object_label:
            g.add((m, SSSOM.object_label, Literal(r.object_label)))
        g.add((m, SSSOM.mapping_justification, SEMAPV[ms.justification]))
        g.add((m, SSSOM.confidence, Literal(round(r.confidence, 4), datatype=XSD.double)))
        g.add((m, SSSOM.similarity_score, Literal(round(r.similarity_score, 4), datatype=XSD.double)))
        g.add((m, KIM.alignmentTarget, Literal(r.target)))
        g.add((m, KIM.candidateRank, Literal(r.rank)))
        if r.predicate_id != "rdfs:seeAlso":
            g.add((subject, URIRef(expand(r.predicate_id, CURIE_MAP)), obj))
        if r.target.startswith("esco-") and obj not in seen_objects:
            seen_objects.add(obj)
            kind = "skill" if r.target == "esco-skill" else "occupation"
            g.add((obj, RDF.type, SKOS.Concept))
            g.add((obj, RDF.type, KIM.EscoSkill if kind == "skill" else KIM.EscoOccupation))
            g.add((obj, KIM.matchText, Literal(r.object_text)))
            g.add((obj, DCTERMS.source, URIRef("https://esco.ec.europa.eu/")))
            g.add((obj, DCTERMS.license, URIRef(ESCO_LICENCE)))
    return g


def write_turtle(ms: MappingSet, path: Path) -> None:
    """Turtle with KIM Graph's own IRIs relative to the instance base (no @base: the build supplies it)."""
    text = to_rdf(ms).serialize(format="turtle")
    text = text.replace(f"<{ID_BASE}", "<")
    header = (f"# SSSOM mapping set {ms.name}, written by `kimgraph align` (do not edit: rerun it).\n"
              f"# {ESCO_ATTRIBUTION}\n")
    path.write_text(header + text, encoding="utf-8")
