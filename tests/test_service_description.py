"""Service Description (GET /sparql), VoID (/.well-known/void), the dumps and /health, on a real server."""

from __future__ import annotations

import importlib.util

import httpx
import pytest
from rdflib import Dataset, Graph, Literal, Namespace, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import RDF, VOID, XSD

from tests.helpers import rdf_format_of
from tests.server import running_server

SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
FORMATS = Namespace("http://www.w3.org/ns/formats/")
KIM = Namespace("https://w3id.org/uk-kim/def#")
ST1337 = URIRef("https://w3id.org/uk-kim/id/standard/ST1337")
ONTOLOGY_GRAPH = URIRef("https://w3id.org/uk-kim/graph/ontology")
RDF_TYPES = ["text/turtle", "application/n-triples", "application/rdf+xml", "application/ld+json",
             "application/trig", "application/n-quads"]


def fetch_graph(url: str, accept: str = "text/turtle") -> Graph:
    response = httpx.get(url, headers={"Accept": accept})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].split(";")[0] == accept
    return Graph().parse(data=response.content, format=rdf_format_of(accept))


@pytest.fixture(scope="module")
def description(read_server) -> Graph:
    return fetch_graph(read_server + "/sparql")


@pytest.fixture(scope="module")
def void(read_server) -> Graph:
    return fetch_graph(read_server + "/.well-known/void")


def _service(graph: Graph) -> URIRef:
    return graph.value(None, RDF.type, SD.Service, any=False)


# ------------------------------------------------------------------ service description (W3C: 3 cases)

def test_sd_returns_rdf(read_server):
    response = httpx.get(read_server + "/sparql", headers={"Accept": "*/*"})
    assert response.headers["content-type"] == "text/turtle; charset=utf-8"
    assert len(Graph().parse(data=response.text, format="turtle")) > 20


def test_sd_has_matching_endpoint_triple(description, read_server):
    assert description.value(_service(description), SD.endpoint) == URIRef(read_server + "/sparql")


def test_sd_conforms_to_the_vocabulary(description):
    service = _service(description)
    assert set(description.objects(service, SD.supportedLanguage)) == {SD.SPARQL11Query}  # read-only server
    assert set(description.objects(service, SD.resultFormat)) >= {
        FORMATS.SPARQL_Results_JSON, FORMATS.SPARQL_Results_XML, FORMATS.SPARQL_Results_CSV,
        FORMATS.SPARQL_Results_TSV, FORMATS.Turtle, FORMATS["N-Triples"], FORMATS.RDF_XML, FORMATS["JSON-LD"],
        FORMATS.TriG, FORMATS["N-Quads"]}
    assert SD.UnionDefaultGraph in set(description.objects(service, SD.feature))
    dataset = description.value(service, SD.defaultDataset)
    assert (dataset, RDF.type, SD.Dataset) in description
    assert description.value(dataset, SD.defaultGraph) is not None
    names = {description.value(named, SD.name) for named in description.objects(dataset, SD.namedGraph)}
    assert ONTOLOGY_GRAPH in names and URIRef("http://kasei.us/2009/09/sparql/data/data1.rdf") in names
    for named in description.objects(dataset, SD.namedGraph):
        assert (named, RDF.type, SD.NamedGraph) in description
        assert description.value(description.value(named, SD.graph), VOID.triples).toPython() >= 0


def test_sd_of_writable_server_lists_update(write_server):
    description = fetch_graph(write_server + "/sparql")
    assert SD.SPARQL11Update in set(description.objects(_service(description), SD.supportedLanguage))


@pytest.mark.parametrize("accept", RDF_TYPES)
def test_sd_in_every_rdf_format(read_server, description, accept):
    assert isomorphic(fetch_graph(read_server + "/sparql", accept), description)


def test_sd_unacceptable_is_406(read_server):
    assert httpx.get(read_server + "/sparql", headers={"Accept": "image/png"}).status_code == 406


def test_browser_gets_the_editor_or_the_description(read_server):
    response = httpx.get(read_server + "/sparql", headers={"Accept": "text/html,application/xhtml+xml;q=0.9"})
    assert response.status_code == 200
    expected = "text/html" if importlib.util.find_spec("sparql_api.editor") else "text/turtle"
    assert response.headers["content-type"].startswith(expected)


# ------------------------------------------------------------------ VoID

def _dataset(void: Graph) -> URIRef:
    return next(void.subjects(RDF.type, VOID.Dataset) and void.subjects(VOID.sparqlEndpoint, None))


def test_void_statistics_match_the_store(void, read_server):
    dataset = _dataset(void)
    assert (dataset, RDF.type, VOID.Dataset) in void
    triples = httpx.get(read_server + "/health").json()["triples"]
    assert void.value(dataset, VOID.triples) == Literal(triples, datatype=XSD.integer)
    for prop in (VOID.entities, VOID.classes, VOID.properties, VOID.distinctSubjects, VOID.distinctObjects):
        assert void.value(dataset, prop).toPython() > 0, prop
    assert void.value(dataset, VOID.sparqlEndpoint) == URIRef(read_server + "/sparql")
    assert void.value(dataset, VOID.exampleResource) == ST1337


def test_void_partitions(void):
    dataset = _dataset(void)
    classes = {void.value(p, VOID["class"]): void.value(p, VOID.entities).toPython()
               for p in void.objects(dataset, VOID.classPartition)}
    assert classes[KIM.Duty] == 26 and classes[KIM.OccupationalStandard] == 7  # ST1337 and the KIM family
    assert len(classes) == void.value(dataset, VOID.classes).toPython()
    properties = {void.value(p, VOID.property): void.value(p, VOID.triples).toPython()
                  for p in void.objects(dataset, VOID.propertyPartition)}
    assert properties[RDF.type] > 100
    assert len(properties) == void.value(dataset, VOID.properties).toPython()


def test_void_subsets_count_each_named_graph(void):
    dataset = _dataset(void)
    subsets = {s: void.value(s, VOID.triples).toPython() for s in void.objects(dataset, VOID.subset)
               if void.value(s, VOID.triples) is not None}  # the open part is described by its graphs
    assert subsets[ONTOLOGY_GRAPH] > 100
    # sources share some triples: the dataset's count is of distinct triples, the default graph's merge
    assert sum(subsets.values()) > void.value(dataset, VOID.triples).toPython() > subsets[ONTOLOGY_GRAPH]


@pytest.mark.parametrize("accept", ["application/ld+json", "application/rdf+xml", "application/n-triples"])
def test_void_in_other_formats(read_server, void, accept):
    assert isomorphic(fetch_graph(read_server + "/.well-known/void", accept), void)


def test_void_has_a_page_for_browsers(read_server, void):
    response = httpx.get(read_server + "/.well-known/void",
                         headers={"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "Accept" in response.headers["vary"]
    page = response.text
    dataset = _dataset(void)
    assert f"<dt>void:triples</dt><dd>{void.value(dataset, VOID.triples)}</dd>" in page
    for subset in void.objects(dataset, VOID.subset):
        triples = void.value(subset, VOID.triples)
        if triples is None:  # the open part names its graphs, not a count
            assert f"<code>{subset}</code>" in page
        else:
            assert f"<td><code>{subset}</code></td><td class=\"num\">{triples}</td>" in page
    assert '<table id="classes">' in page and '<table id="properties">' in page
    assert httpx.get(read_server + "/.well-known/void", headers={"Accept": "*/*"}).headers["content-type"].startswith(
        "text/turtle")


@pytest.mark.parametrize(("path", "fmt"), [("/dump.trig", "trig"), ("/dump.nq", "nquads")])
def test_void_data_dumps_hold_the_whole_dataset(read_server, void, path, fmt):
    dumps = {str(d) for d in void.objects(_dataset(void), VOID.dataDump)}
    assert read_server + path in dumps
    response = httpx.get(read_server + path)
    assert response.status_code == 200
    dataset = Dataset()
    dataset.parse(data=response.content, format=fmt)
    distinct = {(s, p, o) for s, p, o, _ in dataset.quads()}
    assert len(distinct) == void.value(_dataset(void), VOID.triples).toPython()
    assert any((ST1337, RDF.type, KIM.OccupationalStandard) in graph for graph in dataset.graphs())


DCTERMS = Namespace("http://purl.org/dc/terms/")
OGL = URIRef("http://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/")
OPEN = {OGL, URIRef("https://opensource.org/licenses/MIT"), URIRef("https://creativecommons.org/licenses/by/4.0/")}
CSW = URIRef("https://w3id.org/uk-kim/graph/source/73081f443c3f820b")  # the trade-press profile


def test_every_void_subset_states_its_own_licence_or_rights(void):
    dataset = _dataset(void)
    subsets = list(void.objects(dataset, VOID.subset))
    assert len(subsets) >= 10
    for subset in subsets:
        assert void.value(subset, DCTERMS.rights) is not None, subset
    assert void.value(URIRef("https://w3id.org/uk-kim/graph/source/57c36d939ff65b92"), DCTERMS.license) == OGL
    # a graph a client wrote states no licence, and is not called open
    written = URIRef("http://kasei.us/2009/09/sparql/data/data1.rdf")
    assert void.value(written, DCTERMS.license) is None and void.value(written, DCTERMS.rights) is not None


def test_void_states_no_open_licence_over_the_trade_press_source(void, read_server):
    dataset = _dataset(void)
    assert void.value(dataset, DCTERMS.license) is None  # the rights are per subset, summarised here
    summary = str(void.value(dataset, DCTERMS.rights))
    assert summary.startswith("Mixed rights")
    assert "Custodians of government's history" in summary.split("Not open-licensed:")[1]
    assert void.value(CSW, DCTERMS.license) is None
    assert "not open-licensed" in str(void.value(CSW, DCTERMS.rights))
    open_part = URIRef(read_server + "/.well-known/void#open")
    assert (dataset, VOID.subset, open_part) in void
    held = set(void.objects(open_part, VOID.subset))
    assert CSW not in held and held
    assert all(void.value(graph, DCTERMS.license) in OPEN for graph in held)
    assert {str(d) for d in void.objects(open_part, VOID.dataDump)} == {read_server + "/dump-open.trig",
                                                                      read_server + "/dump-open.nq"}


def test_health_counts_triples(read_server):
    body = httpx.get(read_server + "/health").json()
    assert body["status"] == "ok" and body["triples"] > 5000


@pytest.mark.slow
def test_serve_builds_a_missing_store_first(tmp_path):
    store = tmp_path / "var" / "store"
    with running_server(store, tmp_path / "serve.log") as url:
        assert httpx.get(url + "/health").json()["triples"] > 5000
        assert httpx.get(url + "/sparql", params={"query": f"ASK {{ <{ST1337}> ?p ?o }}"}).json()["boolean"]
    assert store.is_symlink()
