"""The occupation page of an occupational map (OCC####), as captured text or HTML.

Read by the one page extractor (ingest.page_extract), which knows the occupation card as one of its
layouts; this module keeps the name the build has always imported.
"""

from __future__ import annotations

from rdflib import Graph

from ingest.manifest import Source
from ingest.page_graph import extract_graph
from kimdata.namespaces import Iris


def parse_occupation_page(text: str, source: Source, iris: Iris) -> Graph:
    """Read one occupation page into a graph of that page's facts and their provenance."""
    return extract_graph(text, source, iris)
