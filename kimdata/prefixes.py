"""The prefixes KIM Graph writes and reads, with their namespace IRIs: plain strings, so that code which
needs no rdflib (the query workers' serialisers) imports them without it. ``kimdata.namespaces`` builds
its namespaces from them.

>>> PREFIXES["kim"], PREFIXES["skos"]
('https://w3id.org/uk-kim/def#', 'http://www.w3.org/2004/02/skos/core#')
"""

PREFIXES: dict[str, str] = {
    "kim": "https://w3id.org/uk-kim/def#",
    "kimsh": "https://w3id.org/uk-kim/shapes#",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "dcterms": "http://purl.org/dc/terms/",
    "org": "http://www.w3.org/ns/org#",
    "prov": "http://www.w3.org/ns/prov#",
    "oa": "http://www.w3.org/ns/oa#",
    "schema": "https://schema.org/",
    "ceasn": "https://purl.org/ctdlasn/terms/",
    "ceterms": "https://purl.org/ctdl/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "sh": "http://www.w3.org/ns/shacl#",
}
