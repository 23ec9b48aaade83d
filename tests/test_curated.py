"""Tests of the curated Turtle files and their loader, over the real files (no mocks)."""

from __future__ import annotations

import hashlib
import re
from decimal import Decimal
from pathlib import Path

import pytest
import rdflib.namespace as rns
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, PROV, RDF, RDFS, SKOS

from ingest.curated import CuratedDataError, parse_concepts, parse_curated
from ingest.manifest import Source, load_manifest
from kimdata.namespaces import FOAF, KIM, OA, ORG, SCHEMA, Iris, slugify
from kimdata.paths import CURATED_DIR, ONTOLOGY_DIR

ABOUT, PROFILE, KEYINFO = "08ea021e16e92f40", "73081f443c3f820b", "2671f4ff48c7fd80"
CURATED = CURATED_DIR
CONCEPTS = CURATED / "concepts.ttl"
ARTICLE_RUNS = Path(__file__).parent / "data" / "source-002-runs.txt"  # hashes of its 10-word runs
PROVENANCE_TYPES = {KIM.SourceDocument, KIM.IngestActivity, KIM.TextSpan, OA.TextPositionSelector, OA.TextQuoteSelector}
ALLOWED_NAMESPACES = (
    str(KIM), str(SKOS), str(ORG), str(DCTERMS), str(PROV), str(SCHEMA), str(FOAF), str(OA), str(RDF), str(rns.XSD),
    str(RDFS),  # rdfs:label, written by Provenance.describe_source only
)


@pytest.fixture(scope="module")
def iris() -> Iris:
    return Iris()


@pytest.fixture(scope="module")
def sources() -> dict[str, Source]:
    return {s.id: s for s in load_manifest() if s.kind == "curated-turtle"}


@pytest.fixture(scope="module")
def graphs(sources, iris) -> dict[str, Graph]:
    return {sid: parse_curated(s, iris) for sid, s in sources.items()}


@pytest.fixture(scope="module")
def concepts(iris) -> Graph:
    return parse_concepts(CONCEPTS, iris)


@pytest.fixture(scope="module")
def union(graphs, concepts) -> Graph:
    g = Graph()
    for part in [*graphs.values(), concepts]:
        g += part
    return g


def labels(g: Graph, node: URIRef, prop=SKOS.prefLabel) -> set[str]:
    return {str(o) for o in g.objects(node, prop)}


def write_source(tmp_path: Path, turtle: str, text: Path | None = None) -> Source:
    path = tmp_path / "bad.ttl"
    path.write_text(turtle, encoding="utf-8")
    return Source(id="0000000000000000", kind="curated-turtle", path=path, text=text)


PREFIXES = "@prefix kim: <https://w3id.org/uk-kim/def#> .\n@prefix oa: <http://www.w3.org/ns/oa#> .\n" \
           "@prefix org: <http://www.w3.org/ns/org#> .\n"


# ---------------------------------------------------------------- content


def test_six_disciplines(graphs, iris):
    g = graphs[ABOUT]
    profession = iris.org("gkim-profession")
    disciplines = set(g.objects(profession, KIM.hasDiscipline))
    assert {labels(g, d).pop() for d in disciplines} == {
        "Information Architecture", "Information Management", "Information Rights",
        "Knowledge Management", "Library Management", "Records Management",
    }
    scheme = iris.concept("gkim-discipline")
    assert set(g.objects(scheme, SKOS.hasTopConcept)) == disciplines
    assert all((d, SKOS.inScheme, scheme) in g for d in disciplines)
    assert iris.concept("gkim-discipline", "records-management") in disciplines


def test_core_and_allied_roles(graphs, iris):
    g = graphs[PROFILE]
    profession = iris.org("gkim-profession")
    core = set(g.objects(profession, KIM.coreRole))
    allied = set(g.objects(profession, KIM.alliedRole))
    assert len(core) == 6 and len(allied) == 4 and not core & allied
    assert {str(r).rsplit("/", 1)[1] for r in allied} == {"archivist", "historian", "information-risk-manager",
                                                            "data-scientist"}
    assert set(g.objects(iris.concept("kim-role", "core"), SKOS.member)) == core
    assert set(g.objects(iris.concept("kim-role", "allied"), SKOS.member)) == allied
    assert all((r, SKOS.inScheme, iris.concept("kim-role")) in g for r in core | allied)


def test_four_professional_bodies_recognised(graphs, iris):
    g = graphs[ABOUT]
    bodies = set(g.objects(iris.org("gkim-profession"), KIM.recognisesRegistrationFrom))
    assert bodies == {iris.org(s) for s in ("cilip", "irms", "ara", "bcs")}
    assert all((b, ORG.classification, iris.concept("org-type", "professional-body")) in g for b in bodies)


def test_gig_and_ki_sig_are_part_of_cilip(union, iris):
    cilip = iris.org("cilip")
    for slug in ("government-information-group", "cilip-knowledge-and-information-special-interest-group"):
        assert (iris.org(slug), ORG.subOrganizationOf, cilip) in union
        assert (iris.org(slug), ORG.unitOf, cilip) in union
        assert (iris.org(slug), ORG.classification, iris.concept("org-type", "special-interest-group")) in union


def test_practitioners_groups_are_part_of_cdl(graphs, iris):
    g = graphs[ABOUT]
    for slug in ("copyright-practitioners-group", "procurement-practitioners-group"):
        assert (iris.org(slug), ORG.subOrganizationOf, iris.org("cdl")) in g
    assert (iris.org("cdl"), KIM.meetingFrequency, Literal("quarterly", lang="en")) in g


def test_adro_labels_on_one_node(union, graphs, iris):
    adro = iris.org("adro")
    names = labels(union, adro) | labels(union, adro, SKOS.altLabel)
    assert "Association of Departmental Records Officers" in labels(graphs[PROFILE], adro, SKOS.altLabel)
    assert {"Association of Departmental Record Officers",
            "The Association of Departmental Record Officers (ADRO)"} <= names
    assert (adro, ORG.linkedTo, iris.org("the-national-archives")) in union


def test_cilip_labels(graphs, iris):
    g = graphs[ABOUT]
    cilip = iris.org("cilip")
    names = labels(g, cilip) | labels(g, cilip, SKOS.altLabel)
    assert {"Chartered Institute of Library and Information Professionals",
            "Chartered Institute of Librarians and Information Professionals", "CILIP"} <= names


def test_learning_model_shares_sum_to_one(graphs, iris):
    g = graphs[ABOUT]
    scheme = iris.concept("learning-model-70-20-10")
    shares = {c: g.value(c, KIM.share) for c in g.objects(scheme, SKOS.hasTopConcept)}
    assert len(shares) == 3 and all(s.datatype == rns.XSD.decimal for s in shares.values())
    assert sum(s.toPython() for s in shares.values()) == Decimal("1.00")
    assert g.value(iris.concept("learning-model-70-20-10", "on-the-job"), KIM.share).toPython() == Decimal("0.70")


def test_networks_hosted_and_linked(graphs, iris):
    g = graphs[ABOUT]
    hub = URIRef(iris.id + "platform/knowledge-hub")
    for slug in ("government-knowledge-and-information-management-group", "hmg-data-protection-implementation-group",
                 "knowledge-hub-adro-group"):
        assert (iris.org(slug), KIM.hostedOn, hub) in g
    assert (iris.org("o365-knowledge-and-information-management-user-group"), KIM.hostedOn,
            URIRef(iris.id + "platform/fcdo-hosted-microsoft-teams")) in g
    for slug in ("adro", "cdl", "government-information-group", "nglis", "knowledge-mavericks"):
        assert (iris.org(slug), ORG.linkedTo, iris.org("gkim-profession")) in g


def test_people_on_posts_and_memberships(graphs, iris):
    g = graphs[PROFILE]
    david = URIRef(iris.id + "person/david-smith")
    post = URIRef(iris.id + "post/gkim-head-of-profession")
    assert (post, ORG.heldBy, david) in g and (post, ORG.postIn, iris.org("gkim-profession")) in g
    dorsett = URIRef(iris.id + "person/rebecca-dorsett")
    chairs = [m for m in g.subjects(ORG.member, dorsett) if (m, ORG.role, iris.concept("org-role", "chair")) in g]
    assert [g.value(m, ORG.organization) for m in chairs] == [iris.org("government-information-group")]
    # Roles are never flattened onto the organisation nodes.
    assert not set(g.objects(iris.org("ministry-of-defence"), None)) & {david, dorsett}


def test_st1337_key_information(graphs, concepts, iris):
    g = graphs[KEYINFO]
    st = iris.standard("ST1337")
    assert (st, RDF.type, KIM.OccupationalStandard) in g
    assert g.value(st, KIM.level).toPython() == 7
    assert g.value(st, KIM.typicalDurationMonths).toPython() == 36
    assert g.value(st, KIM.epaPeriodMonths).toPython() == 5
    assert g.value(st, DCTERMS.modified) == Literal("2024-07-30", datatype=rns.XSD.date)
    status = g.value(st, KIM.status)
    assert status == iris.concept("standard-status", "in-development") and (status, RDF.type, SKOS.Concept) in concepts
    steps = set(g.objects(st, KIM.approvalGiven))
    assert len(steps) == 3 and iris.concept("approval-step", "funding") not in steps
    assert all((s, SKOS.inScheme, iris.concept("approval-step")) in concepts for s in steps)


def test_mod_is_the_trailblazer_employer_node(graphs, iris):
    mod = iris.org(slugify("Ministry of Defence"))
    assert (mod, RDF.type, ORG.FormalOrganization) in graphs[PROFILE]
    assert (mod, ORG.classification, iris.concept("org-type", "government-department")) in graphs[PROFILE]


# ---------------------------------------------------------------- reference vocabularies


def test_action_verbs(concepts, iris):
    scheme = iris.concept("action-verb")
    verbs = {str(concepts.value(c, SKOS.prefLabel)): c for c in concepts.subjects(SKOS.inScheme, scheme)}
    required = ("Design Analyse Implement Develop Create Manage Plan Assess Curate Lead Cultivate Contribute Keep "
                "Promote Search Identify Write Assist Select Use Apply Collaborate Communicate Influence Coach Present "
                "Generate Evaluate Maintain Support Monitor Review Deliver Ensure Provide Prepare Produce Record "
                "Report Organise Classify Catalogue Preserve Advise Negotiate Mentor Train Test Build Operate Install "
                "Inspect Calculate Interpret Handle Check Comply Follow Resolve Respond Research Undertake Conduct "
                "Facilitate Coordinate Supervise Measure Document Prioritise Adapt Demonstrate Explain "
                "Recognise").split()
    assert set(required) <= set(verbs) and 100 <= len(verbs) <= 140
    for label, c in verbs.items():
        assert {KIM.ActionVerb, SKOS.Concept} <= set(concepts.objects(c, RDF.type))
        assert c == iris.concept("action-verb", label.lower()) and label == label.capitalize()


def test_reference_schemes(concepts, iris):
    expected = {
        "standard-status": 5, "ksb-type": 3, "ksb-cell-state": 3, "approval-step": 4, "org-type": 7,
    }
    for scheme, n in expected.items():
        assert (iris.concept(scheme), RDF.type, SKOS.ConceptScheme) in concepts
        assert len(set(concepts.objects(iris.concept(scheme), SKOS.hasTopConcept))) == n
    notations = {str(concepts.value(iris.concept("ksb-type", t), SKOS.notation))
                 for t in ("knowledge", "skill", "behaviour")}
    assert notations == {"K", "S", "B"}
    assert not list(concepts.subjects(PROV.wasDerivedFrom, None))


def test_the_kinds_of_network_are_narrower_than_network(concepts, iris):
    network = iris.concept("org-type", "network")
    kinds = {"special-interest-group", "community-of-practice", "online-community", "practitioners-group", "user-group"}
    for kind in kinds:
        concept = iris.concept("org-type", kind)
        assert (concept, SKOS.broader, network) in concepts and (network, SKOS.narrower, concept) in concepts
        assert (concept, SKOS.topConceptOf, None) not in concepts
    scheme = iris.concept("org-type")
    assert len(set(concepts.subjects(SKOS.inScheme, scheme))) == 12


def test_classifications_and_roles_are_defined(union, concepts):
    for prop in (ORG.classification, ORG.role, KIM.status, KIM.approvalGiven):
        for value in union.objects(None, prop):
            assert (value, RDF.type, SKOS.Concept) in union, value


# ---------------------------------------------------------------- shape of the data


def test_skos_integrity(union):
    for scheme in union.subjects(RDF.type, SKOS.ConceptScheme):
        assert union.value(scheme, SKOS.prefLabel) is not None
        tops = set(union.objects(scheme, SKOS.hasTopConcept))
        assert tops and tops == set(union.subjects(SKOS.topConceptOf, scheme))
    for concept in union.subjects(RDF.type, SKOS.Concept):
        assert union.value(concept, SKOS.inScheme) is not None, concept
        assert union.value(concept, SKOS.prefLabel) is not None, concept


def test_one_preflabel_per_language_and_every_resource_labelled(union, iris):
    for s in set(union.subjects(RDF.type, None)):
        if not str(s).startswith(iris.id) or "/span/" in str(s) or "/source/" in str(s) or "/activity/" in str(s):
            continue
        langs = [lbl.language for lbl in union.objects(s, SKOS.prefLabel)]
        assert langs and len(langs) == len(set(langs)), (s, langs)


def test_only_known_vocabulary(union):
    ontology = Graph().parse(ONTOLOGY_DIR / "kim.ttl")
    for _, p, o in union:
        assert str(p).startswith(ALLOWED_NAMESPACES), p
        if str(p).startswith(str(KIM)):
            assert (p, None, None) in ontology, p
        if p == RDF.type:
            assert str(o).startswith(ALLOWED_NAMESPACES), o
            if str(o).startswith(str(KIM)):
                assert (o, None, None) in ontology, o


# ---------------------------------------------------------------- provenance


def test_evidence_spans_quote_the_document(graphs, sources, iris):
    g = graphs[ABOUT]
    document = sources[ABOUT].read_document()
    spans = set(g.subjects(RDF.type, KIM.TextSpan))
    assert len(spans) > 40
    for span in spans:
        assert str(span).startswith(iris.source(ABOUT) + "/span/")
        selectors = set(g.objects(span, OA.hasSelector))
        start = end = exact = None
        for sel in selectors:
            if (sel, RDF.type, OA.TextPositionSelector) in g:
                start, end = g.value(sel, OA.start).toPython(), g.value(sel, OA.end).toPython()
            else:
                exact = str(g.value(sel, OA.exact))
        assert document[start:end] == exact
        assert str(span).endswith(f"/span/{start}-{end}")
    # No evidence blank node survives.
    assert not any(isinstance(o, BNode) for o in g.objects(None, KIM.evidence))
    assert all(isinstance(s, URIRef) for s in g.subjects(OA.exact, None))


def test_every_typed_subject_is_derived_from_its_source(graphs, iris):
    for sid, g in graphs.items():
        source = iris.source(sid)
        assert (source, RDF.type, KIM.SourceDocument) in g
        for s in set(g.subjects(RDF.type, None)):
            if set(g.objects(s, RDF.type)) & PROVENANCE_TYPES:
                continue
            assert (s, PROV.wasDerivedFrom, source) in g, (sid, s)


def test_no_evidence_without_text(graphs):
    for sid in (PROFILE, KEYINFO):
        assert not list(graphs[sid].subjects(RDF.type, KIM.TextSpan))


# ---------------------------------------------------------------- loader errors


def test_quote_not_in_text_raises(tmp_path, sources):
    source = write_source(tmp_path, PREFIXES + '<org/cdl> a org:Organization ;\n'
                          '  kim:evidence [ oa:exact "Departmental Librarians meet weekly" ] .\n', sources[ABOUT].text)
    with pytest.raises(CuratedDataError, match=r"bad\.ttl.*Departmental Librarians meet weekly"):
        parse_curated(source, Iris())


def test_evidence_without_vendored_text_raises(tmp_path):
    source = write_source(tmp_path, PREFIXES + '<org/cdl> a org:Organization ; kim:evidence [ oa:exact "CDL" ] .\n')
    with pytest.raises(CuratedDataError, match="no vendored text"):
        parse_curated(source, Iris())


def test_syntax_error_names_the_line(tmp_path):
    source = write_source(tmp_path, PREFIXES + "<org/a> a org:Organization .\n"
                                               "<org/b> a org:Organization ;\n  org:linkedTo .\n")
    with pytest.raises(CuratedDataError, match=r"bad\.ttl:6: Turtle syntax error"):
        parse_curated(source, Iris())


def test_base_directive_and_absolute_own_iris_rejected(tmp_path):
    with pytest.raises(CuratedDataError, match="base directive"):
        parse_curated(write_source(tmp_path, "@base <https://example.org/> .\n" + PREFIXES), Iris())
    with pytest.raises(CuratedDataError, match="relative IRI"):
        source = write_source(tmp_path, PREFIXES + "<https://w3id.org/uk-kim/id/org/x> a org:Organization .\n")
        parse_curated(source, Iris())


def test_first_occurrence_of_a_repeated_quote(tmp_path, sources):
    source = write_source(tmp_path, PREFIXES + '<org/x> a org:Organization ; '
                                               'kim:evidence [ oa:exact "gkimhop@communities.gov.uk" ] .\n',
                          sources[ABOUT].text)
    g = parse_curated(source, Iris())
    start = sources[ABOUT].read_document().find("gkimhop@communities.gov.uk")
    span = g.value(URIRef(Iris().org("x")), KIM.evidence)
    assert str(span).endswith(f"/span/{start}-{start + len('gkimhop@communities.gov.uk')}")


# ---------------------------------------------------------------- base and licence


def test_another_base_moves_every_resource(sources):
    other = Iris("https://example.org/x/")
    graphs = [parse_curated(s, other) for s in sources.values()] + [parse_concepts(CONCEPTS, other)]
    for g in graphs:
        for term in (t for triple in g for t in triple if isinstance(t, URIRef)):
            assert "w3id.org/uk-kim/id/" not in term and "w3id.org/uk-kim/graph/" not in term, term
        typed = {s for s in g.subjects(RDF.type, None) if isinstance(s, URIRef)}
        assert typed and all(s.startswith("https://example.org/x/id/") for s in typed)
    assert (other.org("ministry-of-defence"), RDF.type, ORG.FormalOrganization) in graphs[list(sources).index(PROFILE)]


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower().replace("’", "'"))


def test_profile_quotes_nothing_from_the_article(graphs):
    """The article is not open-licensed: no literal may share a run of 10 words with its text.

    Names of people, posts and bodies are facts and may match (the longest, a post title, is 8 words);
    everything else is written in the project's own words and shares far shorter runs. The article's
    runs are kept as hashes, so its text is not republished here either.
    """
    article = {line for line in ARTICLE_RUNS.read_text(encoding="utf-8").split() if not line.startswith("#")}
    article = {h for h in article if len(h) == 16}
    assert len(article) > 500
    run = 10
    for lit in (o for o in graphs[PROFILE].objects() if isinstance(o, Literal) and isinstance(o.value, str)):
        if str(lit).startswith("http"):
            continue
        words = _words(str(lit))
        for i in range(len(words) - run + 1):
            digest = hashlib.sha256(" ".join(words[i:i + run]).encode()).hexdigest()[:16]
            assert digest not in article, lit
