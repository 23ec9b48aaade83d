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


def test_dataset_is_a_dcat_dataset_with_licence_and_attribution(dcat, pages_server):
    dataset = URIRef(pages_server + "/dataset")
    assert (dataset, RDF_TYPE, DCAT.Dataset) in dcat
    assert str(dcat.value(dataset, DCTERMS.title)) == "KIM Graph"
    assert dcat.value(dataset, DCTERMS.license) == OGL
    assert "Open Government Licence v3.0" in str(dcat.value(dataset, DCTERMS.rights))
    assert dcat.value(dataset, DCTERMS.publisher) is not None and dcat.value(dataset, DCTERMS.description) is not None
    sources = set(dcat.objects(dataset, DCTERMS.source))
    assert len(sources) == 20 and any(dcat.value(s, DCTERMS.license) == OGL for s in sources)


def test_dataset_lists_each_dump_and_they_download(dcat, client, pages_server):
    dataset = URIRef(pages_server + "/dataset")
    downloads = {}
    for distribution in dcat.objects(dataset, DCAT.distribution):
        url = dcat.value(distribution, DCAT.downloadURL)
        if url is not None:
            downloads[str(url)] = str(dcat.value(distribution, DCAT.mediaType))
    assert downloads == {pages_server + "/dump.trig": IANA + "application/trig",
                         pages_server + "/dump.nq": IANA + "application/n-quads",
                         pages_server + "/dump.jsonld": IANA + "application/ld+json"}
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
    assert "Open Government Licence v3.0" in page


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
