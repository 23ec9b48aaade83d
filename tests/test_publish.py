"""The ontology at /def, the shapes at /shapes, the DCAT description at /dataset and the JSON-LD dump."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from rdflib import Dataset, Graph, Namespace, URIRef
from rdflib.compare import isomorphic

from conformance.reference import load_shapes

# rdflib's own JSON-LD and N-Quads parsers use its deprecated ConjunctiveGraph internally.
pytestmark = pytest.mark.filterwarnings("ignore:.*is deprecated:DeprecationWarning")

ROOT = Path(__file__).resolve().parent.parent
KIM_TTL = ROOT / "ontology" / "kim.ttl"
DCAT = Namespace("http://www.w3.org/ns/dcat#")
DCTERMS = Namespace("http://purl.org/dc/terms/")
RDF_TYPE = URIRef("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
OWL = Namespace("http://www.w3.org/2002/07/owl#")
OGL = URIRef("http://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/")
IANA = "https://www.iana.org/assignments/media-types/"
RDF_VARIANTS = [("text/turtle", "turtle"), ("application/ld+json", "json-ld"), ("application/n-triples", "nt"),
                ("application/rdf+xml", "xml")]


@pytest.fixture(scope="module")
def client(pages_server):
    with httpx.Client(base_url=pages_server, timeout=30) as http:
        yield http


# ------------------------------------------------------------------ /def


def test_def_turtle_is_the_ontology_file(client):
    response = client.get("/def", headers={"Accept": "text/turtle"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/turtle")
    assert isomorphic(Graph().parse(data=response.text, format="turtle"), Graph().parse(KIM_TTL, format="turtle"))
    assert client.get("/def").headers["content-type"].startswith("text/turtle")  # no Accept: Turtle


@pytest.mark.parametrize("media, fmt", RDF_VARIANTS[1:])
def test_def_in_other_rdf_formats_is_the_same_graph(client, media, fmt):
    response = client.get("/def", headers={"Accept": media})
    assert response.status_code == 200 and response.headers["content-type"].split(";")[0] == media
    assert isomorphic(Graph().parse(data=response.content, format=fmt), Graph().parse(KIM_TTL, format="turtle"))


def test_def_html_documents_every_class_and_property(client):
    response = client.get("/def", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    page = response.text
    ontology = Graph().parse(KIM_TTL, format="turtle")
    terms = [t for kind in (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty)
             for t in ontology.subjects(RDF_TYPE, kind)]
    assert len(terms) > 40
    for term in terms:
        local = str(term).split("#")[-1]
        assert f'id="{local}"' in page, local
    duty = page[page.index('id="Duty"'):page.index("</section>", page.index('id="Duty"'))]
    assert "ceterms:Task" in duty  # a super-class from the alignment graph
    maps = page[page.index('id="mapsToSkill"'):page.index("</section>", page.index('id="mapsToSkill"'))]
    assert "kim:Duty" in maps and "kim:Skill" in maps and "ceasn:skillEmbodied" in maps  # domain, range, alignment


# ------------------------------------------------------------------ /shapes


def test_shapes_turtle_is_the_shapes_graph(client):
    response = client.get("/shapes", headers={"Accept": "text/turtle"})
    assert response.status_code == 200
    assert isomorphic(Graph().parse(data=response.text, format="turtle"), load_shapes())


def test_shapes_jsonld_is_the_same_graph(client):
    response = client.get("/shapes", headers={"Accept": "application/ld+json"})
    assert isomorphic(Graph().parse(data=response.content, format="json-ld"), load_shapes())


def test_shapes_html_lists_every_rule_with_severity_message_and_source(client):
    page = client.get("/shapes", headers={"Accept": "text/html"}).text
    shapes = load_shapes()
    named = {str(s) for s in shapes.subjects() if str(s).startswith("https://w3id.org/uk-kim/shapes#")
             and re.match(r"^[RW]\d\d-", str(s).split("#")[1])}
    assert len(named) > 40
    for shape in named:
        assert f'<tr id="{shape.split("#")[1]}"' in page, shape
    row = page[page.index('<tr id="R06-duty-mapped"'):page.index("</tr>", page.index('<tr id="R06-duty-mapped"'))]
    assert "Violation" in row and "R06 duty is mapped to no KSB" in row and "instituteforapprenticeships" in row


# ------------------------------------------------------------------ /dataset and the dumps


@pytest.fixture(scope="module")
def dcat(client) -> Graph:
    response = client.get("/dataset", headers={"Accept": "text/turtle"})
    assert response.status_code == 200
    return Graph().parse(data=response.text, format="turtle")


def test_dataset_is_a_dcat_dataset_with_its_mixed_rights(dcat, pages_server):
    dataset = URIRef(pages_server + "/dataset")
    assert (dataset, RDF_TYPE, DCAT.Dataset) in dcat
    assert str(dcat.value(dataset, DCTERMS.title)) == "KIM Graph"
    assert dcat.value(dataset, DCTERMS.license) is None  # no one licence holds for every source
    rights = str(dcat.value(dataset, DCTERMS.rights))
    assert "Mixed rights" in rights and "Open Government Licence v3.0" in rights and "MIT licence" in rights
    assert "Not open-licensed: Custodians of government's history" in rights
    assert dcat.value(dataset, DCTERMS.publisher) is not None and dcat.value(dataset, DCTERMS.description) is not None
    sources = set(dcat.objects(dataset, DCTERMS.source))
    assert len(sources) == 20 and any(dcat.value(s, DCTERMS.license) == OGL for s in sources)


def test_dataset_lists_each_dump_and_they_download(dcat, client, pages_server):
    dataset = URIRef(pages_server + "/dataset")
    downloads = {}
    for distribution in dcat.objects(dataset, DCAT.distribution):
        url = dcat.value(distribution, DCAT.downloadURL)
        if url is not None and "/store?" not in url:
            downloads[str(url)] = str(dcat.value(distribution, DCAT.mediaType))
    assert downloads == {pages_server + "/dump.trig": IANA + "application/trig",
                         pages_server + "/dump.nq": IANA + "application/n-quads",
                         pages_server + "/dump.jsonld": IANA + "application/ld+json",
                         pages_server + "/dump-open.trig": IANA + "application/trig",
                         pages_server + "/dump-open.nq": IANA + "application/n-quads"}
    for url, media in downloads.items():
        head = client.head(url)
        assert head.status_code == 200 and head.headers["content-type"].split(";")[0] == media.removeprefix(IANA)


def test_dataset_access_service_is_the_sparql_endpoint(dcat, pages_server):
    services = [s for d in dcat.objects(URIRef(pages_server + "/dataset"), DCAT.distribution)
                for s in dcat.objects(d, DCAT.accessService)]
    assert len(services) == 1
    assert dcat.value(services[0], RDF_TYPE) == DCAT.DataService
    assert str(dcat.value(services[0], DCAT.endpointURL)) == pages_server + "/sparql"


@pytest.mark.parametrize("media, fmt", RDF_VARIANTS[1:])
def test_dataset_variants_are_the_same_graph(client, dcat, media, fmt):
    response = client.get("/dataset", headers={"Accept": media})
    assert isomorphic(Graph().parse(data=response.content, format=fmt), dcat)


def test_dataset_html_lists_the_downloads(client):
    page = client.get("/dataset", headers={"Accept": "text/html"}).text
    for dump in ("dump.trig", "dump.nq", "dump.jsonld"):
        assert dump in page
    assert "Open Government Licence v3.0" in page and "dump-open.nq" in page and "Mixed rights" in page


def test_jsonld_dump_holds_every_named_graph(client):
    jsonld = Dataset().parse(data=client.get("/dump.jsonld").content, format="json-ld")
    nquads = Dataset().parse(data=client.get("/dump.nq").content, format="nquads")

    def graphs(dataset):
        counts = {}
        for _, _, _, g in dataset.quads((None, None, None, None)):
            counts[str(g)] = counts.get(str(g), 0) + 1
        return counts

    assert graphs(jsonld) == graphs(nquads)
    assert "https://w3id.org/uk-kim/graph/validation" in graphs(jsonld)


# ------------------------------------------------------------------ licences per source

CSW = "https://w3id.org/uk-kim/graph/source/73081f443c3f820b"  # the trade-press profile: not open-licensed
OPEN_LICENCES = {OGL, URIRef("https://opensource.org/licenses/MIT"), URIRef("https://creativecommons.org/licenses/by/4.0/")}


def test_every_distribution_states_its_own_licence_or_rights(dcat, pages_server):
    distributions = list(dcat.objects(URIRef(pages_server + "/dataset"), DCAT.distribution))
    assert len(distributions) > 10
    for distribution in distributions:
        assert dcat.value(distribution, DCTERMS.license) is not None \
            or dcat.value(distribution, DCTERMS.rights) is not None, distribution


def test_no_open_licence_is_stated_over_the_trade_press_source(dcat, client):
    graphs = {str(dcat.value(d, DCTERMS.identifier)): d for d in dcat.subjects(RDF_TYPE, DCAT.Distribution)
              if dcat.value(d, DCTERMS.identifier) is not None}
    csw = graphs[CSW]
    assert dcat.value(csw, DCTERMS.license) is None
    assert "not open-licensed" in str(dcat.value(csw, DCTERMS.rights))
    # the full dumps and the endpoint hold it: they state the mix, never an open licence
    for distribution in dcat.subjects(RDF_TYPE, DCAT.Distribution):
        if "open" not in str(dcat.value(distribution, DCAT.downloadURL) or ""):
            if dcat.value(distribution, DCTERMS.license) in OPEN_LICENCES:
                assert str(dcat.value(distribution, DCTERMS.identifier)) != CSW
    for source in ("https://w3id.org/uk-kim/graph/source/57c36d939ff65b92",
                   "https://w3id.org/uk-kim/graph/ontology"):
        assert dcat.value(graphs[source], DCTERMS.license) in OPEN_LICENCES
    # each graph's distribution downloads that graph
    response = client.get(str(dcat.value(csw, DCAT.downloadURL)), headers={"Accept": "text/turtle"})
    assert response.status_code == 200 and "Civil Service World" in response.text


@pytest.mark.parametrize(("path", "fmt"), [("/dump-open.nq", "nquads"), ("/dump-open.trig", "trig")])
def test_the_open_dump_holds_only_the_open_licensed_graphs(client, dcat, path, fmt):
    response = client.get(path)
    assert response.status_code == 200
    opened = Dataset().parse(data=response.content, format=fmt)
    full = Dataset().parse(data=client.get("/dump.nq").content, format="nquads")

    def graphs(dataset):
        counts = {}
        for _, _, _, g in dataset.quads((None, None, None, None)):
            counts[str(g)] = counts.get(str(g), 0) + 1
        return counts

    held, everything = graphs(opened), graphs(full)
    assert CSW not in held and CSW in everything
    assert "https://w3id.org/uk-kim/graph/source/57c36d939ff65b92" in held
    assert "https://w3id.org/uk-kim/graph/ontology" in held
    for graph, count in held.items():  # each open graph whole, as the full dump has it
        assert everything[graph] == count, graph
    licensed = {str(dcat.value(d, DCTERMS.identifier)) for d in dcat.subjects(RDF_TYPE, DCAT.Distribution)
                if dcat.value(d, DCTERMS.license) in OPEN_LICENCES}
    assert set(held) == licensed
