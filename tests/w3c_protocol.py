"""The W3C SPARQL 1.1 protocol test suites: their manifests read as HTTP requests and expected responses.

The suites (protocol/, graph-store-protocol/, ...) are copied in ``tests/data/w3c``; the manifest-driven
tests have no cases without them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

import httpx
from rdflib import Graph
from rdflib.compare import isomorphic

from tests.helpers import DATA, rdf_format_of

PROTOCOL_DATA = DATA / "w3c"
KASEI = "http://kasei.us/2009/09/sparql/data/"  # the suites' named graphs data1.rdf .. data3.rdf

# The suites describe each test as HTTP requests (ht: vocabulary) with the expected responses.
HT = "http://www.w3.org/2011/http#"
MF = "http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#"
CNT = "http://www.w3.org/2011/content#"


@dataclass
class ProtocolRequest:
    """One request of a protocol test and what its response must be."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes | None
    statuses: list[str]
    boolean: bool | None = None
    result_format: str | None = None
    response_type: str | None = None
    response_body: str | None = None
    location_variable: str | None = None


@dataclass
class ProtocolCase:
    name: str
    label: str
    requests: list[ProtocolRequest] = field(default_factory=list)


def load_manifest_cases(manifest: Path) -> list[ProtocolCase]:
    """The test cases of one W3C protocol manifest, in manifest order."""
    from rdflib import Namespace, URIRef
    from rdflib.collection import Collection

    ht, mf, cnt = Namespace(HT), Namespace(MF), Namespace(CNT)
    graph = Graph().parse(manifest, format="turtle")
    cases = []
    for entries in graph.objects(None, mf.entries):
        for entry in Collection(graph, entries):
            case = ProtocolCase(str(entry).rsplit("#", 1)[-1], str(graph.value(entry, mf.name)))
            action = graph.value(entry, mf.action)
            for request in Collection(graph, graph.value(action, ht.requests)):
                headers = {}
                for header in Collection(graph, graph.value(request, ht.headers) or URIRef(RDF_NIL)):
                    headers[str(graph.value(header, ht.fieldName))] = str(graph.value(header, ht.fieldValue))
                body_node = graph.value(request, ht.body)
                body = None
                if body_node is not None:
                    encoding = str(graph.value(body_node, cnt.characterEncoding) or "UTF-8")
                    body = str(graph.value(body_node, cnt.chars)).encode(encoding)
                response = graph.value(request, ht.resp)
                expected = ProtocolRequest(
                    method=str(graph.value(request, ht.methodName)),
                    path=str(graph.value(request, ht.absolutePath)),
                    headers=headers,
                    body=body,
                    statuses=[str(s).rsplit("#", 1)[-1] for s in graph.objects(response, mf.expectedStatus)],
                )
                boolean = graph.value(response, mf.expectedBoolean)
                expected.boolean = None if boolean is None else boolean.toPython()
                result_format = graph.value(response, mf.expectedFormat)
                expected.result_format = None if result_format is None else str(result_format)
                location = graph.value(response, mf.expectedLocation)
                expected.location_variable = None if location is None else str(location)
                for header in Collection(graph, graph.value(response, ht.headers) or URIRef(RDF_NIL)):
                    if str(graph.value(header, ht.fieldName)).lower() == "content-type":
                        expected.response_type = str(graph.value(header, ht.fieldValue))
                response_body = graph.value(response, ht.body)
                if response_body is not None:
                    expected.response_body = str(graph.value(response_body, cnt.chars))
                case.requests.append(expected)
            cases.append(case)
    return cases


RDF_NIL = "http://www.w3.org/1999/02/22-rdf-syntax-ns#nil"
NAMED_STATUSES = {"OK": 200, "Created": 201, "NoContent": 204, "NotFound": 404}


def status_matches(status: int, expected: list[str]) -> bool:
    """Whether a status is one the manifest allows (hts:StatusCode4xx, hts:Created, ...)."""
    for name in expected:
        if name.startswith("StatusCode") and name.endswith("xx"):
            if status // 100 == int(name[len("StatusCode")]):
                return True
        elif status == NAMED_STATUSES[name]:
            return True
    return False


def parse_boolean(response: httpx.Response) -> bool:
    """The boolean of an ASK result in SPARQL JSON or XML."""
    media = response.headers["content-type"].split(";")[0]
    if "json" in media:
        return response.json()["boolean"]
    root = ElementTree.fromstring(response.content)
    return root.find("{http://www.w3.org/2005/sparql-results#}boolean").text == "true"


def run_protocol_case(client: httpx.Client, case: ProtocolCase, rewrite, headers: dict[str, str]) -> None:
    """Send a case's requests in order and check each response as the manifest says."""
    variables: dict[str, str] = {}
    for step, request in enumerate(case.requests, 1):
        path, body = request.path, request.body
        for name, value in variables.items():
            path = path.replace(name, value)
            body = body.replace(name.encode(), value.encode()) if body else body
        path = rewrite(path)
        response = client.request(request.method, path, headers={**request.headers, **headers}, content=body)
        where = f"{case.name}, request {step} ({request.method} {path})"
        assert status_matches(response.status_code, request.statuses), \
            f"{where}: {response.status_code} {response.text[:400]}"
        if request.location_variable:
            variables[request.location_variable] = response.headers["location"]
        media = response.headers.get("content-type", "").split(";")[0]
        if request.boolean is not None:
            assert parse_boolean(response) is request.boolean, where
        if request.result_format == "boolean":
            parse_boolean(response)
        elif request.result_format == "tabular":
            assert media in ("application/sparql-results+json", "application/sparql-results+xml",
                             "text/csv", "text/tab-separated-values"), where
        elif request.result_format == "RDF":
            Graph().parse(data=response.content, format=rdf_format_of(media))
        if request.response_type:
            assert media == request.response_type.split(";")[0].strip(), where
        if request.response_body is not None and request.method != "HEAD":
            expected = Graph().parse(data=request.response_body, format="turtle")
            got = Graph().parse(data=response.content, format=rdf_format_of(media))
            assert isomorphic(expected, got), f"{where}: got\n{response.text}"
