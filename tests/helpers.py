"""Plain constants and functions that several test modules share (fixtures live in conftest.py and tests/server.py)."""

from __future__ import annotations

import json
from pathlib import Path

from rdflib import Graph

from kimdata.namespaces import DEFAULT_BASE
from kimdata.paths import CONTEXT_PATH

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
ID = DEFAULT_BASE + "id/"

# One resource of every type the API describes, as paths under /id/.
RESOURCES = {
    "standard": "standard/ST1337",
    "duty": "standard/ST1337/duty/2",
    "knowledge": "standard/ST1337/ksb/K19",
    "skill": "standard/ST1337/ksb/S3",
    "behaviour": "standard/ST1337/ksb/B2",
    "organisation": "org/cilip",
    "profession": "org/gkim-profession",
    "collaboration": "org/trailblazer-st1337",
    "unit": "org/government-information-group",
    "discipline": "scheme/gkim-discipline/records-management",
    "role": "scheme/kim-role/librarian",
    "scheme": "scheme/gkim-discipline",
    "source": "source/57c36d939ff65b92",
    "issue": "source/90e2aad157d3105b/issue/empty-status/status",
    "span": "source/57c36d939ff65b92/span/8893-9014",
    "occupation": "occupation/OCC1337",
    "person": "person/david-smith",
    "post": "post/gkim-head-of-profession",
}


def rdf_format_of(content_type: str) -> str:
    """The rdflib parser name for a response's media type.

    >>> rdf_format_of("text/turtle; charset=utf-8")
    'turtle'
    """
    media = content_type.split(";")[0].strip()
    return {"text/turtle": "turtle", "application/n-triples": "nt", "application/rdf+xml": "xml",
            "application/ld+json": "json-ld", "application/trig": "trig", "application/n-quads": "nquads",
            "application/xml": "xml", "application/json": "json-ld"}[media]


def expand_compacted(document: dict) -> Graph:
    """A compacted JSON-LD document as triples, its ``@context`` URL replaced by the published context."""
    context = json.loads(CONTEXT_PATH.read_text(encoding="utf-8"))["@context"]
    return Graph().parse(data=json.dumps({**document, "@context": context}), format="json-ld")
