"""The keys of the published JSON-LD context (``ontology/context.jsonld``) and the predicates they stand for:
the table in the README and the help panel of the query editor, both made from the context file itself.

>>> rows = {(row.key, row.scope): row for row in context_keys()}
>>> rows["code", ""].predicate, rows["mappedKnowledge", ""].value
('skos:notation', 'IRI, always an array')
>>> rows["neededBy", "Knowledge"].predicate
'^kim:mapsToKnowledge'
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from kimdata.paths import CONTEXT_PATH


@dataclass(frozen=True)
class KeyRow:
    """One property key: its predicate (``^p`` for a reverse key), what its values are, and the class it is
    defined on when it is scoped to one."""

    key: str
    predicate: str
    value: str
    scope: str = ""


def _value(definition: dict) -> str:
    kind = definition.get("@type")
    if kind == "@id":
        text = "IRI"
    elif kind:
        text = kind
    elif definition.get("@language"):
        text = f"text (@{definition['@language']})"
    else:
        text = "text"
    if definition.get("@container") == "@set":
        text += ", always an array"
    return text


def _rows(context: dict, scope: str = "") -> list[KeyRow]:
    rows = []
    for key, definition in context.items():
        if key.startswith("@"):
            continue
        if isinstance(definition, str):
            if definition.startswith("@"):  # id, type
                rows.append(KeyRow(key, definition, "IRI" if definition == "@id" else "class name", scope))
            elif key[:1].islower() and not definition.endswith(("#", "/")):
                rows.append(KeyRow(key, definition, "text", scope))
            continue
        if "@context" in definition:  # a class with keys of its own
            rows.extend(_rows(definition["@context"], key))
            continue
        if key[:1].isupper():
            continue  # a class name
        predicate = definition.get("@id") or "^" + definition.get("@reverse", "")
        rows.append(KeyRow(key, predicate, _value(definition), scope))
    return rows


@lru_cache(maxsize=1)
def context_keys(path: Path = CONTEXT_PATH) -> tuple[KeyRow, ...]:
    """Every property key of the context, in the file's order (scoped keys where their class is)."""
    return tuple(_rows(json.loads(Path(path).read_text(encoding="utf-8"))["@context"]))


def markdown_table() -> str:
    """The README's table of the keys."""
    lines = ["| key | predicate | values |", "|---|---|---|"]
    for row in context_keys():
        where = f" (on `{row.scope}`)" if row.scope else ""
        lines.append(f"| `{row.key}`{where} | `{row.predicate}` | {row.value} |")
    return "\n".join(lines)
