"""The dataset described for catalogues: its source documents and its DCAT description."""

from __future__ import annotations

import hashlib
from urllib.parse import quote

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, RDFS, VOID, XSD

from kimdata.namespaces import KIM, PREFIXES
from sparql_api.licensing import GraphRights, mixed_summary, open_summary

IANA = "https://www.iana.org/assignments/media-types/"
SPARQL_PROTOCOL = URIRef("https://www.w3.org/TR/sparql11-protocol/")
OPENAPI = URIRef("https://spec.openapis.org/oas/v3.1.0")
ONTOLOGY_IRI = URIRef(str(KIM).rstrip("#"))
DUMPS = (  # path, title, media type, W3C format
    ("dump.trig", "TriG dump: every named graph (mixed rights)", "application/trig",
     "http://www.w3.org/ns/formats/TriG"),
    ("dump.nq", "N-Quads dump: every named graph (mixed rights)", "application/n-quads",
     "http://www.w3.org/ns/formats/N-Quads"),
    ("dump.jsonld", "JSON-LD dump: every named graph (mixed rights)", "application/ld+json",
     "http://www.w3.org/ns/formats/JSON-LD"),
)
OPEN_DUMPS = (
    ("dump-open.trig", "TriG dump: the open-licensed named graphs only", "application/trig",
     "http://www.w3.org/ns/formats/TriG"),
    ("dump-open.nq", "N-Quads dump: the open-licensed named graphs only", "application/n-quads",
     "http://www.w3.org/ns/formats/N-Quads"),
)


_PROLOGUE = "\n".join(f"PREFIX {p}: <{PREFIXES[p]}>" for p in ("kim", "dcterms", "foaf", "rdfs", "skos", "prov"))
SOURCES_QUERY = _PROLOGUE + """
SELECT ?source (SAMPLE(?t) AS ?title) (SAMPLE(?p) AS ?publisher) (SAMPLE(?pg) AS ?page) (SAMPLE(?lic) AS ?license)
       (SAMPLE(?r) AS ?rights) (SAMPLE(?a) AS ?attribution)
WHERE {
  ?source a kim:SourceDocument .
  OPTIONAL { ?source dcterms:title ?t }
  OPTIONAL { ?source dcterms:publisher ?p }
  OPTIONAL { ?source foaf:page ?pg }
  OPTIONAL { ?source dcterms:license ?lic }
  OPTIONAL { ?source dcterms:rights ?r }
  OPTIONAL { ?source kim:attributionText ?a }
}
GROUP BY ?source
ORDER BY ?title
LIMIT 200
"""


def select_strings(store, query: str) -> list[dict[str, str | None]]:
    """A SELECT's solutions as dicts of strings, every projected variable present (None when unbound)."""
    solutions = store.query(query)
    names = [v.value for v in solutions.variables]
    return [{name: None if row[name] is None else row[name].value for name in names} for row in solutions]


def source_documents(store) -> list[dict[str, str | None]]:
    """Every source document with its title, publisher, page, licence, rights and attribution."""
    return select_strings(store, SOURCES_QUERY)




def dataset_graph(root: str, store, rights: dict[str, GraphRights]) -> Graph:
    """DCAT: the dataset and its mixed rights, the full and the open dumps, one distribution per named graph with
    its own licence or rights, and the SPARQL service; never an open licence over a graph that is not open."""
    dataset = URIRef(root + "dataset")
    endpoint = URIRef(root + "sparql")
    service = URIRef(root + "sparql#service")  # the sd:Service of the service description
    api = URIRef(root + "docs#api")
    graph = Graph(bind_namespaces="none")
    for prefix, namespace in (("dcat", DCAT), ("dcterms", DCTERMS), ("foaf", FOAF), ("rdfs", RDFS), ("xsd", XSD),
                              ("kim", KIM)):
        graph.bind(prefix, namespace)
    add = graph.add
    add((dataset, RDF.type, DCAT.Dataset))
    add((dataset, DCTERMS.title, Literal("KIM Graph", lang="en")))
    add((dataset, DCTERMS.description, Literal(
        "The UK apprenticeship occupational standard for library, information and knowledge management "
        "professionals (duties, knowledge, skills, behaviours and their mapping), the Government Knowledge & "
        "Information Management profession, and the provenance of every fact, as linked data.", lang="en")))
    mixed = Literal(mixed_summary(rights), lang="en")
    add((dataset, DCTERMS.rights, mixed))
    publisher = URIRef(root + "dataset#publisher")
    add((dataset, DCTERMS.publisher, publisher))
    add((publisher, RDF.type, FOAF.Agent))
    add((publisher, FOAF.name, Literal("KIM Graph")))
    add((dataset, DCAT.landingPage, URIRef(root)))
    add((dataset, DCTERMS.conformsTo, ONTOLOGY_IRI))
    add((dataset, RDFS.seeAlso, URIRef(root + ".well-known/void")))
    for keyword in ("apprenticeship", "occupational standard", "knowledge management", "information management",
                    "library", "skills"):
        add((dataset, DCAT.keyword, Literal(keyword, lang="en")))
    for source in source_documents(store):
        node = URIRef(source["source"])
        add((dataset, DCTERMS.source, node))
        if source.get("title"):
            add((node, DCTERMS.title, Literal(source["title"], lang="en")))
        if source.get("license"):
            add((node, DCTERMS.license, URIRef(source["license"])))
        if source.get("rights"):
            add((node, DCTERMS.rights, Literal(source["rights"], lang="en")))
        if source.get("page"):
            add((node, FOAF.page, URIRef(source["page"])))
    opened = Literal(open_summary(rights), lang="en")
    for dumps, statement in ((DUMPS, mixed), (OPEN_DUMPS, opened)):
        for path, title, media, fmt in dumps:
            distribution = URIRef(f"{root}dataset#{path.replace('.', '-')}")
            add((dataset, DCAT.distribution, distribution))
            add((distribution, RDF.type, DCAT.Distribution))
            add((distribution, DCTERMS.title, Literal(title, lang="en")))
            add((distribution, DCAT.downloadURL, URIRef(root + path)))
            add((distribution, DCAT.accessURL, URIRef(root + path)))
            add((distribution, DCAT.mediaType, URIRef(IANA + media)))
            add((distribution, DCTERMS.format, URIRef(fmt)))
            add((distribution, DCTERMS.rights, statement))
    for name, described in sorted(rights.items()):
        distribution = URIRef(f"{root}dataset#graph-{hashlib.sha256(name.encode()).hexdigest()[:16]}")
        download = URIRef(f"{root}store?graph={quote(name, safe='')}")
        add((dataset, DCAT.distribution, distribution))
        add((distribution, RDF.type, DCAT.Distribution))
        add((distribution, DCTERMS.title, Literal(f"Named graph: {described.title}", lang="en")))
        add((distribution, DCTERMS.identifier, Literal(name)))
        add((distribution, DCAT.downloadURL, download))
        add((distribution, DCAT.accessURL, download))
        add((distribution, DCAT.mediaType, URIRef(IANA + "text/turtle")))
        if described.license:
            add((distribution, DCTERMS.license, URIRef(described.license)))
        add((distribution, DCTERMS.rights, Literal(described.rights, lang="en")))
    sparql = URIRef(root + "dataset#sparql")
    add((dataset, DCAT.distribution, sparql))
    add((sparql, RDF.type, DCAT.Distribution))
    add((sparql, DCTERMS.title, Literal("SPARQL 1.1 endpoint", lang="en")))
    add((sparql, DCAT.accessURL, endpoint))
    add((sparql, DCAT.accessService, service))
    add((sparql, DCTERMS.rights, mixed))
    add((service, RDF.type, DCAT.DataService))
    add((service, DCTERMS.title, Literal("KIM Graph SPARQL endpoint", lang="en")))
    add((service, DCAT.endpointURL, endpoint))
    add((service, DCAT.endpointDescription, endpoint))
    add((service, DCTERMS.conformsTo, SPARQL_PROTOCOL))
    add((service, DCAT.servesDataset, dataset))
    add((dataset, VOID.sparqlEndpoint, endpoint))
    add((api, RDF.type, DCAT.DataService))
    add((api, DCTERMS.title, Literal("KIM Graph linked-data API", lang="en")))
    add((api, DCAT.endpointURL, URIRef(root)))
    add((api, DCAT.endpointDescription, URIRef(root + "openapi.json")))
    add((api, DCTERMS.conformsTo, OPENAPI))
    add((api, DCAT.servesDataset, dataset))
    graph.bind("void", VOID)
    return graph
