"""Writes a generated IfATE / Skills England standards feed (a JSON array) of realistic size, with defects.

    python bench/corpus.py --standards 70 --out var/feed-100k.json [--seed 0] [--versions]

Each standard has 10-20 duties, 15-27 knowledge and skill statements, 5-6 behaviours and about 15
KSBs mapped per duty, with GUIDs from a seeded random. Defects come at fixed positions so a corpus is
the same on every run: unmapped KSBs, duties mapped to nothing, malformed references ("ST7"), a
dangling GUID in a mapping, a missing typicalDuration. ``--versions`` adds an older version 1.0 of
every fourth standard. About 1,330 triples per standard: N=8, 75 and 750 give ~10k, ~100k and ~1M.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import uuid
from pathlib import Path

ROUTES = ("Business and administration", "Digital", "Education and early years", "Engineering and manufacturing",
          "Health and science", "Legal, finance and accounting", "Creative and design", "Protective services")
STATUSES = ("Approved for delivery",) * 6 + ("In development", "Proposal in development", "Retired", "Withdrawn")
FIELDS = ("library", "records", "information", "knowledge", "archive", "data", "content", "research",
          "digital preservation", "information governance", "collections", "metadata")
ROLES = ("assistant", "officer", "technician", "specialist", "manager", "professional", "analyst", "coordinator")
VERBS = ("Analyse", "Manage", "Maintain", "Develop", "Evaluate", "Communicate", "Apply", "Design",
         "Implement", "Review", "Catalogue", "Advise", "Monitor", "Prepare", "Promote", "Support")
OBJECTS = ("retention schedules", "stakeholder requirements", "search strategies", "classification schemes",
           "access requests", "digital repositories", "user enquiries", "training materials", "risk registers",
           "records of decisions", "usage statistics", "licences and contracts", "taxonomies", "web content")
CONTEXTS = ("across the organisation", "in line with legislation", "for internal and external users",
            "to agreed standards", "within budget and deadlines", "using appropriate tools")
KNOWLEDGE = ("Principles of", "The legal and regulatory framework for", "How to evaluate", "Methods for managing",
             "The organisational context of", "Ethical issues in", "Sources and tools for")
BEHAVIOURS = ("Takes ownership of", "Works collaboratively on", "Shows integrity in", "Is curious about",
              "Adapts readily to change in", "Champions good practice in")
EMPLOYERS = ("Barts Health NHS Trust", "Ministry of Defence", "British Library", "Farrer & Co", "Cabinet Office",
             "University of Leeds", "Arup", "The National Archives", "Wellcome Trust", "HM Revenue & Customs")
PAGES = "https://skillsengland.education.gov.uk/apprenticeships"
ENGLISH_AND_MATHS = ("Apprentices without level 2 English and maths will need to achieve this level prior to taking "
                     "the End-Point Assessment.")
BODIES = ("Chartered Institute of Library and Information Professionals", "Information and Records Management Society")

# Per-item triple counts of the feed model (measured on a generated corpus): the estimate printed.
TRIPLES_PER = {"standard": 102, "duty": 16, "ksb": 16, "mapping": 1}


def guid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def sentence(rng: random.Random, start: tuple[str, ...]) -> str:
    return f"{rng.choice(start)} {rng.choice(FIELDS)} {rng.choice(OBJECTS)} {rng.choice(CONTEXTS)}."


def standard(rng: random.Random, index: int, version: str = "1.1") -> dict:
    """One standard of the feed; ``index`` decides which defects it carries."""
    field, role = rng.choice(FIELDS), rng.choice(ROLES)
    reference = f"ST{index:04d}" if index % 50 != 7 else f"ST{index}"
    lists = {
        "knowledges": [{"knowledgeId": guid(rng), "detail": sentence(rng, KNOWLEDGE)}
                       for _ in range(rng.randint(15, 27))],
        "skills": [{"skillId": guid(rng), "detail": sentence(rng, VERBS)} for _ in range(rng.randint(15, 27))],
        "behaviours": [{"behaviourId": guid(rng), "detail": sentence(rng, BEHAVIOURS)}
                       for _ in range(rng.randint(5, 6))],
    }
    ids = {key: [entry[id_key] for entry in lists[key]]
           for key, id_key in (("knowledges", "knowledgeId"), ("skills", "skillId"), ("behaviours", "behaviourId"))}
    if index % 5 == 1:  # a few KSBs no duty maps to
        ids["knowledges"], ids["skills"] = ids["knowledges"][:-1], ids["skills"][:-1]
    duties = []
    for _ in range(rng.randint(10, 20)):
        duty = {"dutyID": guid(rng), "dutyDetail": sentence(rng, VERBS), "isThisACoreDuty": 1,
                "mappedKnowledge": rng.sample(ids["knowledges"], 6), "mappedSkills": rng.sample(ids["skills"], 6),
                "mappedBehaviour": rng.sample(ids["behaviours"], 3), "mappedOptions": []}
        duties.append(duty)
    if index % 7 == 2:  # a duty mapped to nothing
        duties[-1].update(mappedKnowledge=[], mappedSkills=[], mappedBehaviour=[])
    if index % 10 == 4:  # a mapping to a GUID the standard does not have
        duties[0]["mappedSkills"].append(guid(rng))
    data = {
        "referenceNumber": reference, "larsCode": 100 + index, "title": f"{field.capitalize()} {role}",
        "level": rng.randint(2, 7), "status": rng.choice(STATUSES), "version": version, "versionNumber": version,
        "route": rng.choice(ROUTES), "routeCode": rng.randint(1, 15),
        "typicalDuration": rng.choice((12, 18, 24, 30, 36)),
        "ePALength": rng.choice((3, 4, 5, 6)), "maxFunding": rng.choice((9000, 12000, 18000, 21000)),
        "overviewOfRole": f"Provides {field} services {rng.choice(CONTEXTS)}.",
        "typicalJobTitles": [f"{field.capitalize()} {r}" for r in rng.sample(ROLES, 3)],
        "keywords": rng.sample(FIELDS, 3),
        "standardPageUrl": f"{PAGES}/st{index:04d}-v{version.replace('.', '-')}",
        "occupationCode": f"OCC{index:04d}",
        "entryRequirements": "Employers will set their own entry requirements.",
        "englishAndMathsQualifications": ENGLISH_AND_MATHS,
        "professionalRecognition": [rng.choice(BODIES)],
        "involvedEmployers": rng.sample(EMPLOYERS, rng.randint(3, 6)),
        "proposalApproved": "2019-01-10T00:00:00", "standardApproved": "2019-06-12T00:00:00",
        "epaApprovalDate": "2019-09-02T00:00:00", "fundingApprovalDate": "2019-10-01T00:00:00",
        "approvedForDelivery": "2019-10-14T00:00:00", "lastUpdated": "2024-07-30T00:00:00",
        "duties": duties, **lists,
    }
    if index % 20 == 3:
        del data["typicalDuration"]
    return data


def corpus(count: int, seed: int = 0, versions: bool = False):
    """The standards of a corpus, in feed order (an older version just before its successor)."""
    rng = random.Random(seed)
    for index in range(1, count + 1):
        if versions and index % 4 == 0:
            yield standard(rng, index, "1.0")
        yield standard(rng, index)


def estimate(data: dict) -> int:
    """Triples the feed model writes for one standard, give or take a few."""
    ksbs = sum(len(data[key]) for key in ("knowledges", "skills", "behaviours"))
    mappings = sum(len(d[key]) for d in data["duties"]
                   for key in ("mappedKnowledge", "mappedSkills", "mappedBehaviour"))
    return (TRIPLES_PER["standard"] + TRIPLES_PER["duty"] * len(data["duties"]) + TRIPLES_PER["ksb"] * ksbs
            + TRIPLES_PER["mapping"] * mappings)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--standards", type=int, required=True, help="how many standards (N)")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--versions", action="store_true", help="add an older version 1.0 of every fourth standard")
    args = parser.parse_args(argv)
    triples = entries = 0
    with args.out.open("w", encoding="utf-8") as out:
        out.write("[")
        for data in corpus(args.standards, args.seed, args.versions):
            out.write(",\n" if entries else "\n")
            json.dump(data, out, ensure_ascii=False)
            triples += estimate(data)
            entries += 1
        out.write("\n]\n")
    print(f"{args.out}: {entries} standard entries, about {triples:,} triples", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
