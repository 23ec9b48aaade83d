"""The standard page of an apprenticeship standard (IfATE / Skills England), as captured text or HTML.

Read by the one page extractor (ingest.page_extract); this module keeps the name the build and the
feed have always imported.
"""

from __future__ import annotations

from rdflib import Graph

from ingest.manifest import Source
from ingest.page_fields import status_slug
from ingest.page_graph import extract_graph
from kimdata.namespaces import Iris

__all__ = ["parse_standard_page", "status_slug"]


def parse_standard_page(text: str, source: Source, iris: Iris) -> Graph:
    """Read one standard page into a graph of that page's facts and their provenance."""
    return extract_graph(text, source, iris)
