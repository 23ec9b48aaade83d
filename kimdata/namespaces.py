"""Vocabulary namespaces and the IRI patterns of KIM Graph's own resources.

The vocabulary (``kim:``, ``kimsh:``) has fixed IRIs. Instance IRIs hang off a configurable base:

>>> iris = Iris("https://example.org/kim/")
>>> iris.duty("ST1337", 2)
rdflib.term.URIRef('https://example.org/kim/id/standard/ST1337/duty/2')
>>> iris.ksb("ST1337", "K", 19)
rdflib.term.URIRef('https://example.org/kim/id/standard/ST1337/ksb/K19')
>>> iris.source_graph("57c36d939ff65b92")
rdflib.term.URIRef('https://example.org/kim/graph/source/57c36d939ff65b92')

An older version of a standard, and what belongs to it, sit under the version's own path:

>>> iris.ksb("ST0499", "S", 3, version="1.0")
rdflib.term.URIRef('https://example.org/kim/id/standard/ST0499/v1.0/ksb/S3')
"""

from __future__ import annotations

import re
import unicodedata

from rdflib import Namespace, URIRef

from kimdata.prefixes import PREFIXES

DEFAULT_BASE = "https://w3id.org/uk-kim/"


class CachedNamespace(Namespace):
    """An rdflib Namespace that makes each term once (rdflib's builds a new URIRef, ~1.5 µs, per access)."""

    def __getattr__(self, name: str) -> URIRef:
        term = super().__getattr__(name)
        self.__dict__[name] = term  # found by plain attribute lookup from now on
        return term


# Cached, also for the vocabularies rdflib has closed namespaces of: the model writer names terms for every
# triple, and rdflib's DefinedNamespace checks each attribute access (~0.8 µs, a quarter of the feed writer's
# time). Same IRIs, so their terms are equal to rdflib's.
KIM, KIMSH, ORG, OA, SCHEMA, CEASN, CETERMS, FOAF, SH, RDF, RDFS, SKOS, DCTERMS, XSD, PROV = (
    CachedNamespace(PREFIXES[prefix]) for prefix in (
        "kim", "kimsh", "org", "oa", "schema", "ceasn", "ceterms", "foaf", "sh",
        "rdf", "rdfs", "skos", "dcterms", "xsd", "prov")
)
OGL_V3 = URIRef("http://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/")

KSB_CLASSES = {"K": KIM.Knowledge, "S": KIM.Skill, "B": KIM.Behaviour}
KSB_MAPPING = {"K": KIM.mapsToKnowledge, "S": KIM.mapsToSkill, "B": KIM.mapsToBehaviour}
KSB_TYPE_SLUGS = {"K": "knowledge", "S": "skill", "B": "behaviour"}


def slugify(text: str) -> str:
    """Lower-case ASCII slug for organisation and concept IRIs.

    >>> slugify("Barts Health NHS Trust")
    'barts-health-nhs-trust'
    >>> slugify("HEE Library and Knowledge Services (LKS) North")
    'hee-library-and-knowledge-services-lks-north'
    >>> slugify("Farrer & Co")
    'farrer-co'
    """
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


class Iris:
    """Mints the IRIs of resources and named graphs under one base."""

    def __init__(self, base: str = DEFAULT_BASE):
        if not base.endswith("/"):
            base += "/"
        self.base = base
        self.id = base + "id/"

    def _id(self, path: str) -> URIRef:
        return URIRef(self.id + path)

    @staticmethod
    def _standard_path(reference: str, version: str | None) -> str:
        # Unversioned IRIs denote the standard as currently published; /v{x.y} an older version.
        return f"standard/{reference}/v{version}" if version else f"standard/{reference}"

    def standard(self, reference: str, version: str | None = None) -> URIRef:
        return self._id(self._standard_path(reference, version))

    def duty(self, reference: str, number: int, version: str | None = None) -> URIRef:
        return self._id(f"{self._standard_path(reference, version)}/duty/{number}")

    def ksb(self, reference: str, letter: str, number: int, version: str | None = None) -> URIRef:
        return self._id(f"{self._standard_path(reference, version)}/ksb/{letter}{number}")

    def occupation(self, code: str) -> URIRef:
        return self._id(f"occupation/{code}")

    def org(self, slug: str) -> URIRef:
        return self._id(f"org/{slug}")

    def concept(self, scheme: str, concept: str | None = None) -> URIRef:
        return self._id(f"scheme/{scheme}" + (f"/{concept}" if concept else ""))

    def source(self, source_id: str) -> URIRef:
        return self._id(f"source/{source_id}")

    def span(self, source_id: str, start: int, end: int) -> URIRef:
        return self._id(f"source/{source_id}/span/{start}-{end}")

    def pointer(self, source_id: str, pointer: str) -> URIRef:
        """The part of a JSON source document that an RFC 6901 JSON Pointer selects."""
        return self._id(f"source/{source_id}/json{pointer}")

    def activity(self, source_id: str) -> URIRef:
        return self._id(f"activity/ingest-{source_id}")

    def issue(self, source_id: str, code: str, subject: str) -> URIRef:
        return self._id(f"source/{source_id}/issue/{code}/{subject}")

    def graph(self, name: str) -> URIRef:
        return URIRef(self.base + f"graph/{name}")

    def source_graph(self, source_id: str) -> URIRef:
        return self.graph(f"source/{source_id}")
