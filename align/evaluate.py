"""Precision@1, precision@3 and recall of each committed mapping set against the judged set.

The judged set (``tests/data/alignment/judged.tsv``) holds pairs ``subject_id, object_id, target, relevant``
(1 or 0), judged by reading both texts (the rules are in the README beside it). For each method and target kind,
over the subjects of that kind that have at least one pair judged relevant:

- P@1: the share of those subjects whose top-ranked candidate is judged relevant;
- P@3: the share of their top-3 candidates that are judged relevant (a candidate nobody judged counts as not
  relevant, so unjudged candidates lower the figure; ``unjudged`` says how many there were);
- recall: the share of the pairs judged relevant that are among the method's stored candidates (top 3, or top 5
  for ESCO).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from align.mapping_sets import read_tsv
from kimdata.namespaces import DEFAULT_BASE
from kimdata.paths import CURATED_DIR

ALIGNMENTS_DIR = CURATED_DIR / "alignments"
ID_BASE = DEFAULT_BASE + "id/"
TARGET_ORDER = ("discipline", "ksb", "esco-skill", "esco-occupation")


@dataclass(frozen=True)
class Judgement:
    subject: str
    obj: str
    target: str
    relevant: bool


@dataclass(frozen=True)
class Score:
    method: str
    target: str
    subjects: int
    p_at_1: float
    p_at_3: float
    recall: float
    unjudged: int


def _absolute(value: str) -> str:
    if value.startswith("kimid:"):
        return ID_BASE + value[len("kimid:"):]
    if value.startswith("ESCO:"):
        return "http://data.europa.eu/esco/" + value[len("ESCO:"):]
    return value


def read_judged(path: Path) -> list[Judgement]:
    with open(path, encoding="utf-8", newline="") as f:
        rows = [r for r in csv.DictReader((line for line in f if not line.startswith("#")), delimiter="\t")]
    return [Judgement(_absolute(r["subject_id"]), _absolute(r["object_id"]), r["target"], r["relevant"] == "1")
            for r in rows]


def evaluate_rows(method: str, rows: list[dict], judged: list[Judgement]) -> list[Score]:
    verdict = {(j.subject, j.obj): j.relevant for j in judged}
    scores = []
    for target in TARGET_ORDER:
        relevant = [j for j in judged if j.target == target and j.relevant]
        subjects = sorted({j.subject for j in relevant})
        if not subjects:
            continue
        ranked: dict[str, list[str]] = {}
        for row in sorted((r for r in rows if r["target"] == target), key=lambda r: r["rank"]):
            ranked.setdefault(row["subject_id"], []).append(row["object_id"])
        hits1 = hits3 = shown3 = unjudged = 0
        for subject in subjects:
            top = ranked.get(subject, [])
            if top and verdict.get((subject, top[0])):
                hits1 += 1
            for obj in top[:3]:
                shown3 += 1
                if (subject, obj) not in verdict:
                    unjudged += 1
                elif verdict[(subject, obj)]:
                    hits3 += 1
        found = sum(1 for j in relevant if j.obj in ranked.get(j.subject, []))
        scores.append(Score(method, target, len(subjects), hits1 / len(subjects),
                            hits3 / shown3 if shown3 else 0.0, found / len(relevant), unjudged))
    return scores


def evaluate(judged_path: Path, alignments_dir: Path = ALIGNMENTS_DIR) -> list[Score]:
    judged = read_judged(judged_path)
    scores = []
    for path in sorted(alignments_dir.glob("*.sssom.tsv")):
        _, rows = read_tsv(path)
        scores += evaluate_rows(path.name.removesuffix(".sssom.tsv"), rows, judged)
    return scores


def table(scores: list[Score]) -> str:
    lines = [f"{'method':<16} {'target':<16} {'subjects':>8} {'P@1':>6} {'P@3':>6} {'recall':>7} {'unjudged':>8}"]
    for s in scores:
        lines.append(f"{s.method:<16} {s.target:<16} {s.subjects:>8} {s.p_at_1:>6.3f} {s.p_at_3:>6.3f} "
                     f"{s.recall:>7.3f} {s.unjudged:>8}")
    return "\n".join(lines)


# The precision a SKOS relation must reach among the judged candidates at or above its threshold. The judged set
# says whether a pair is relevant, not how close it is, so it supports one relation: skos:relatedMatch (associative;
# a KSB serves a discipline without being a narrower concept of it, as the ontology notes recommend).
# skos:closeMatch would need judgements of equivalence, which the set does not hold.
REQUIRED_PRECISION = {"discipline": {"skos:relatedMatch": 0.8},
                      "ksb": {"skos:relatedMatch": 0.8},
                      "esco-skill": {"skos:relatedMatch": 0.8},
                      "esco-occupation": {"skos:relatedMatch": 0.8}}
MIN_SUPPORT = 3  # judged candidates at or above a threshold, at least


def choose_thresholds(rows: list[dict], judged: list[Judgement]) -> dict[str, dict[str, float]]:
    """Per target, the lowest confidence at which the judged candidates at or above it reach the required
    precision (with at least MIN_SUPPORT of them); a relation no threshold qualifies for gets 1.01 (never)."""
    verdict = {(j.subject, j.obj): j.relevant for j in judged}
    chosen: dict[str, dict[str, float]] = {}
    for target, relations in REQUIRED_PRECISION.items():
        pairs = sorted(((r["confidence"], verdict[(r["subject_id"], r["object_id"])]) for r in rows
                        if r["target"] == target and (r["subject_id"], r["object_id"]) in verdict),
                       key=lambda p: -p[0])
        chosen[target] = {}
        for relation, required in relations.items():
            best = 1.01
            hits = 0
            for n, (confidence, relevant) in enumerate(pairs, start=1):
                hits += relevant
                last = n == len(pairs) or pairs[n][0] < confidence  # a threshold separates ties from the rest
                if last and n >= MIN_SUPPORT and hits / n >= required:
                    best = confidence
            chosen[target][relation] = round(best, 4)
    return chosen


def thresholds_table(alignments_dir: Path, judged_path: Path) -> str:
    judged = read_judged(judged_path)
    lines = ["thresholds chosen on the judged set (minimum confidence; 1.01 = never):"]
    for path in sorted(alignments_dir.glob("*.sssom.tsv")):
        _, rows = read_tsv(path)
        for target, relations in choose_thresholds(rows, judged).items():
            shown = ", ".join(f"{r} >= {t}" for r, t in relations.items())
            lines.append(f"  {path.name.removesuffix('.sssom.tsv')} {target}: {shown}")
    return "\n".join(lines)
