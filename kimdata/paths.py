"""Where the data folders are, in a source checkout and in an installed package alike.

The folders stay at the top of the repository (``ontology/``, ``shapes/``, ``queries/``, ``curated/``,
``sources/``) and are installed as the sub-packages ``kimdata.ontology`` ... ``kimdata.sources`` (see
``[tool.setuptools.package-dir]`` in pyproject.toml), so ``importlib.resources`` finds them either way.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def _folder(name: str) -> Path:
    return Path(str(files(f"kimdata.{name}")))


ONTOLOGY_DIR = _folder("ontology")
SHAPES_DIR = _folder("shapes")
QUERIES_DIR = _folder("queries")
CURATED_DIR = _folder("curated")
SOURCES_DIR = _folder("sources")
DEFAULT_MANIFEST = SOURCES_DIR / "manifest.toml"
CONTEXT_PATH = ONTOLOGY_DIR / "context.jsonld"
