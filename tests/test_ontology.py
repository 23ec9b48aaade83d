"""The vocabulary: every term documented, every term the data uses defined, alignments kept apart."""

from __future__ import annotations

from rdflib import Graph, URIRef
from rdflib.namespace import OWL, RDF, RDFS

from ingest.build import ALIGNMENT, ONTOLOGY
from kimdata.namespaces import KIM


def local_terms(graph: Graph) -> set[URIRef]:
    return {s for s in graph.subjects(RDF.type, None) if isinstance(s, URIRef) and str(s).startswith(str(KIM))}


def test_every_local_term_has_a_label_and_a_definition():
    ontology = Graph().parse(ONTOLOGY)
    terms = local_terms(ontology)
    assert len(terms) > 40
    for term in terms:
        assert ontology.value(term, RDFS.label) is not None, term
        assert ontology.value(term, RDFS.comment) is not None, term
        assert (term, RDFS.isDefinedBy, URIRef("https://w3id.org/uk-kim/def")) in ontology, term


def test_the_ontology_has_a_version_iri():
    ontology = Graph().parse(ONTOLOGY)
    header = URIRef("https://w3id.org/uk-kim/def")
    assert ontology.value(header, OWL.versionIRI) is not None


def test_every_kim_term_the_data_uses_is_defined(built_store):
    defined = local_terms(Graph().parse(ONTOLOGY))
    used = {row["t"] for row in built_store.select(
        "SELECT DISTINCT ?t WHERE { { ?s ?t ?o } UNION { ?s a ?t } "
        "FILTER(STRSTARTS(STR(?t), 'https://w3id.org/uk-kim/def#')) }")}
    assert used and used <= defined, used - defined


def test_alignment_axioms_anchor_local_terms_to_external_ones():
    alignment = Graph().parse(ALIGNMENT)
    for prop in (RDFS.subClassOf, RDFS.subPropertyOf):
        for local, external in alignment.subject_objects(prop):
            assert str(local).startswith(str(KIM))
            assert not str(external).startswith(str(KIM))
    anchored = set(alignment.subjects(RDFS.subClassOf, None))
    for cls in (KIM.Occupation, KIM.OccupationalStandard, KIM.Duty, KIM.KSB, KIM.SourceDocument):
        assert cls in anchored
