"""POST /validate over a real server: uploads in three formats, report formats, refusals, and nothing stored."""

from __future__ import annotations

import json
import re
import socket
from pathlib import Path

import httpx
import pytest
from rdflib import Graph, Namespace
from rdflib.compare import isomorphic

from conformance.reference import check
from ingest.manifest import Source
from ingest.standard_page import parse_standard_page
from kimdata.namespaces import Iris

# rdflib's own JSON-LD and N-Quads parsers use its deprecated ConjunctiveGraph internally.
pytestmark = pytest.mark.filterwarnings("ignore:.*is deprecated:DeprecationWarning")

DATA = Path(__file__).parent / "data"
CONFORMING_TTL = DATA / "validate" / "conforming-standard.ttl"
CONFORMING_JSONLD = DATA / "validate" / "conforming-standard.jsonld"
STANDARD_PAGE = Path(__file__).parent.parent / "sources" / "000_57c36d939ff65b92.txt"
SMALL_PAGE = DATA / "pages" / "standard-page-ST0999.txt"
SH = Namespace("http://www.w3.org/ns/shacl#")
TURTLE = {"Content-Type": "text/turtle"}
UNMAPPED_DUTIES = {"D1", "D9", "D15"}
UNMAPPED_KSBS = {"S1", "S2", "S5", "S6", "S8", "S9", "S10", "S15", "S19", "S25", "S27",
                 "B1", "B2", "B3", "B4", "B5", "B6"}
# ST1337's sources: its two pages and the three curated documents (the build holds the KIM family's pages too)
SOURCE_GRAPHS_TURTLE = """
CONSTRUCT { ?s ?p ?o }
WHERE {
  VALUES ?g { <https://w3id.org/uk-kim/graph/source/57c36d939ff65b92> <https://w3id.org/uk-kim/graph/source/90e2aad157d3105b>
              <https://w3id.org/uk-kim/graph/source/73081f443c3f820b> <https://w3id.org/uk-kim/graph/source/08ea021e16e92f40>
              <https://w3id.org/uk-kim/graph/source/2671f4ff48c7fd80> }
  GRAPH ?g { ?s ?p ?o }
}
"""


@pytest.fixture(scope="module")
def client(pages_server):
    with httpx.Client(base_url=pages_server, timeout=60) as http:
        yield http


def validate(client, body: bytes, content_type: str, accept: str = "application/json", **params) -> httpx.Response:
    return client.post("/validate", content=body, params=params,
                       headers={"Content-Type": content_type, "Accept": accept})


def codes(report: dict, rule: str) -> set[str]:
    return {f["code"] for f in report["findings"] if f["rule"] == rule}


def triple_count(client) -> int:
    response = client.get("/sparql", params={"query": "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"},
                          headers={"Accept": "application/sparql-results+json"})
    return int(response.json()["results"]["bindings"][0]["n"]["value"])


# ------------------------------------------------------------------ what is validated


def test_conforming_turtle_standard_conforms(client):
    response = validate(client, CONFORMING_TTL.read_bytes(), "text/turtle", accept="text/turtle")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/turtle")
    report = Graph().parse(data=response.text, format="turtle")
    node = next(report.subjects(SH.conforms, None))
    assert report.value(node, SH.conforms).toPython() is True
    severities = {report.value(r, SH.resultSeverity) for r in report.objects(node, SH.result)}
    assert severities <= {SH.Info}  # only the typical-count notes of a deliberately small standard


def test_jsonld_upload_with_the_published_context_reads_as_the_turtle_does(client):
    from_jsonld = validate(client, CONFORMING_JSONLD.read_bytes(), "application/ld+json").json()
    from_turtle = validate(client, CONFORMING_TTL.read_bytes(), "text/turtle").json()
    assert from_jsonld["triples"] == from_turtle["triples"] == 64
    assert from_jsonld["findings"] == from_turtle["findings"] and from_jsonld["conforms"] is True


@pytest.mark.parametrize("reference", ["/context.jsonld", "context.jsonld", "https://w3id.org/uk-kim/context.jsonld"])
def test_published_context_is_resolved_locally_by_any_of_its_names(client, reference):
    document = json.loads(CONFORMING_JSONLD.read_text())
    document["@context"][0] = reference
    report = validate(client, json.dumps(document).encode(), "application/ld+json").json()
    assert report["triples"] == 64 and report["conforms"] is True


def test_published_standard_gives_the_r06_and_r07_findings_of_the_build(client):
    exported = client.get("/sparql", params={"query": SOURCE_GRAPHS_TURTLE}, headers={"Accept": "text/turtle"})
    assert exported.status_code == 200
    report = validate(client, exported.content, "text/turtle").json()
    assert codes(report, "R06") == UNMAPPED_DUTIES
    assert codes(report, "R07") == UNMAPPED_KSBS
    stored = client.get("/standards/ST1337/conformance", headers={"Accept": "application/json"}).json()

    def key(f):
        return (f["rule"], f["severity"], f["code"], f["message"])

    # The same findings as the build's validation of the same data, one for one.
    assert sorted(map(key, report["findings"])) == sorted(map(key, stored["findings"]))


def test_standard_page_text_is_read_validated_and_its_extraction_issues_kept_apart(client):
    report = validate(client, STANDARD_PAGE.read_bytes(), "text/plain").json()
    assert report["format"] == "standard page"
    assert codes(report, "R06") == UNMAPPED_DUTIES and codes(report, "R07") == UNMAPPED_KSBS
    issues = {(i["issueCode"], i["affectedCode"]) for i in report["extractionIssues"]}
    assert {("empty-ksb-cell", "D1"), ("empty-ksb-cell", "D9"), ("missing-ksb-cell", "D15")} <= issues
    assert not any(f["rule"].startswith(("empty", "missing")) for f in report["findings"])
    # The page prints no reference: read under the placeholder, and the report says so.
    assert any("ST0000" in note for note in report["notes"])
    assert all("/ST0000" in f["focus"] for f in report["findings"])
    assert "R02" in {f["rule"] for f in report["findings"]}


def test_standard_page_reference_parameter_names_the_standard(client):
    report = validate(client, STANDARD_PAGE.read_bytes(), "text/plain", reference="ST1337").json()
    assert all("/ST1337" in f["focus"] for f in report["findings"])
    assert not any("ST0000" in note for note in report["notes"])


def test_standard_page_html_report_groups_findings_and_lists_issues_apart(client):
    response = validate(client, STANDARD_PAGE.read_bytes(), "text/plain", accept="text/html")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    page = response.text
    findings = page[page.index('id="findings"'):page.index('id="extraction-issues"')]
    issues = page[page.index('id="extraction-issues"'):]
    assert 'data-rule="R06"' in findings and 'data-severity="Violation"' in findings
    assert "empty-ksb-cell" in issues and "empty-ksb-cell" not in findings
    assert page.index('class="severity-Violation"') < page.index('class="severity-Warning"') \
        < page.index('class="severity-Info"')
    assert 'id="notes"' in page and "ST0000" in page


def test_fast_engine_and_pyshacl_agree_on_an_uploaded_page(client):
    report = validate(client, SMALL_PAGE.read_bytes(), "text/plain").json()
    source = Source(id="upload", kind="standard-page", path=Path("upload.txt"), title="Uploaded standard page",
                    occupation="OCC0000")
    graph = parse_standard_page(SMALL_PAGE.read_text(), source, Iris())
    concepts = Graph().parse(data=client.get(
        "/sparql", params={"query": "CONSTRUCT { ?s ?p ?o } WHERE { GRAPH <https://w3id.org/uk-kim/graph/concepts> "
                                    "{ ?s ?p ?o } }"}, headers={"Accept": "text/turtle"}).text, format="turtle")
    reference = check(graph + concepts)
    assert [(f["rule"], f["severity"], f["code"], f["message"]) for f in report["findings"]] == \
        [(f.rule, f.severity, f.code, f.message) for f in reference.findings]


# ------------------------------------------------------------------ report formats


@pytest.mark.parametrize("accept, media", [
    ("text/turtle", "text/turtle"),
    ("application/ld+json", "application/ld+json"),
    ("application/json", "application/json"),
    ("text/html", "text/html"),
    (None, "text/turtle"),
    ("*/*", "text/turtle"),
    ("text/html;q=0.5, application/ld+json", "application/ld+json"),
])
def test_report_format_follows_accept(client, accept, media):
    headers = {"Content-Type": "text/turtle", **({"Accept": accept} if accept else {})}
    response = client.post("/validate", content=CONFORMING_TTL.read_bytes(), headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == media
    if media in ("text/turtle", "application/ld+json"):
        report = Graph().parse(data=response.text, format="turtle" if media == "text/turtle" else "json-ld")
        assert (None, SH.conforms, None) in report
    assert "Accept" in response.headers["vary"]


def test_turtle_and_jsonld_reports_are_the_same_graph(client):
    body = STANDARD_PAGE.read_bytes()
    turtle = Graph().parse(data=validate(client, body, "text/plain", accept="text/turtle").text, format="turtle")
    jsonld = Graph().parse(data=validate(client, body, "text/plain", accept="application/ld+json").text,
                           format="json-ld")
    assert len(turtle) > 100 and isomorphic(turtle, jsonld)


def test_unacceptable_report_format_is_406_before_reading(client):
    response = validate(client, b"not even turtle", "text/turtle", accept="image/png")
    assert response.status_code == 406
    assert response.headers["content-type"] == "application/problem+json"


def test_html_form_post_validates_and_answers_a_page(client):
    form = {"format": "text/turtle", "data": CONFORMING_TTL.read_text(), "reference": ""}
    response = client.post("/validate", data=form, headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert 'data-conforms="true"' in response.text


def test_get_validate_is_the_upload_form(client):
    response = client.get("/validate", headers={"Accept": "text/html"})
    assert response.status_code == 200 and '<form class="validate" method="post"' in response.text


# ------------------------------------------------------------------ refusals


def test_malformed_turtle_is_400_naming_the_line_and_nothing_is_stored(client):
    before = triple_count(client)
    body = b"@prefix kim: <https://w3id.org/uk-kim/def#> .\n<urn:a> a kim:Duty .\n<urn:b> a kim:Duty ;; kim:x .\n"
    response = validate(client, body, "text/turtle")
    assert response.status_code == 400
    problem = response.json()
    assert response.headers["content-type"] == "application/problem+json"
    assert problem["status"] == 400 and "line 3" in problem["detail"]
    assert triple_count(client) == before
    # and a good upload stores nothing either
    validate(client, CONFORMING_TTL.read_bytes(), "text/turtle")
    assert triple_count(client) == before


def test_malformed_json_is_400_naming_the_line(client):
    response = validate(client, b'{\n  "@id": "x",\n  "code": \n}', "application/ld+json")
    assert response.status_code == 400 and "line 4" in response.json()["detail"]


@pytest.mark.parametrize("body, content_type", [
    (b"Opening hours: Monday to Friday, 9 to 5.\n", "text/plain"),
    (b"<html><body><p>Opening hours</p><script>var K1 = 1;</script></body></html>", "text/html"),
    (b"<urn:a> <urn:b> <urn:c> .", "text/turtle"),
    (b"[]", "application/json"),
])
def test_an_upload_with_no_standard_is_422_never_a_conforming_report(client, body, content_type):
    response = validate(client, body, content_type, accept="text/turtle")
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"].endswith("#no-standard-found") and "no occupational standard found" in problem["detail"]


def test_a_bad_code_in_a_page_is_an_extraction_issue_not_a_refusal(client):
    page = b"Reference: ST0999\nDuty | KSBs |\n---|---|\nDuty 1 Do things. |\nK1 X7 |\nK1: Knowing.\n"
    report = validate(client, page, "text/plain").json()
    issues = {(i["issueCode"], i["affectedCode"]) for i in report["extractionIssues"]}
    assert ("unreadable-ksb-code", "D1") in issues


def test_an_html_standard_page_is_read_by_the_same_extractor(client):
    page = DATA / "pages" / "ifate-standard-page.html"
    report = validate(client, page.read_bytes(), "text/html").json()
    assert report["format"] == "standard page (HTML)"
    assert {(i["issueCode"], i["affectedCode"]) for i in report["extractionIssues"]} == {("empty-ksb-cell", "D3")}
    assert codes(report, "R06") == {"D3"} and all("/ST0998" in f["focus"] for f in report["findings"])


def test_the_feed_json_is_read_as_kimgraph_build_reads_it(client):
    from ingest.feed import parse_feed

    feed = DATA / "feed" / "standard.json"
    report = validate(client, feed.read_bytes(), "application/json").json()
    assert report["format"] == "standards feed (JSON)"
    built = parse_feed(Source(id="upload", kind="feed-json", path=feed, title="Uploaded standards feed"), Iris())
    assert report["triples"] == len(built)


def test_html_report_links_focus_nodes_to_its_own_anchors(client):
    response = validate(client, SMALL_PAGE.read_bytes(), "text/plain", accept="text/html")
    page = response.text
    findings = page[page.index('id="findings"'):page.index('id="extraction-issues"')]
    links = set(re.findall(r'<a class="code" href="([^"]+)"', findings))
    assert links and all(link.startswith("#upload-") for link in links)
    for link in links:
        assert f'id="{link[1:]}"' in page
    assert 'href="/id/standard/ST0999' not in page


@pytest.mark.parametrize("content_type", ["application/xml", "application/n-triples", None])
def test_unsupported_content_type_is_415(client, content_type):
    headers = {"Accept": "application/json", **({"Content-Type": content_type} if content_type else {})}
    response = client.post("/validate", content=b"<a/>", headers=headers)
    assert response.status_code == 415
    assert response.headers["content-type"] == "application/problem+json"


def test_body_over_the_limit_is_413(client):
    body = b"# padding\n" * 110_000  # 1,100,000 bytes; the test server accepts 1,000,000
    response = validate(client, body, "text/turtle")
    assert response.status_code == 413 and response.json()["status"] == 413


@pytest.fixture
def listener():
    """A listening socket on 127.0.0.1: any attempt to fetch from it shows up as a pending connection."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    sock.settimeout(0.5)
    yield sock, f"http://127.0.0.1:{sock.getsockname()[1]}"
    sock.close()


def assert_no_connection(sock: socket.socket) -> None:
    try:
        connection, _ = sock.accept()
    except TimeoutError:
        return
    connection.close()
    raise AssertionError("the server connected to the remote context's host")


@pytest.mark.parametrize("document", [
    {"@context": "{url}/context.jsonld", "@id": "urn:x", "name": "x"},
    {"@context": ["{url}/a.jsonld", {"@vocab": "http://example.org/"}], "@id": "urn:x", "name": "x"},
    {"@context": {"@import": "{url}/b.jsonld"}, "@id": "urn:x"},
    {"@context": {"@vocab": "http://example.org/"}, "@id": "urn:x",
     "nested": {"@context": "{url}/c.jsonld", "@id": "urn:y"}},
    {"@context": {"@vocab": "http://example.org/", "t": {"@id": "http://example.org/t", "@context": "{url}/d"}},
     "@id": "urn:x", "t": {"@id": "urn:y"}},
])
def test_remote_jsonld_context_is_refused_and_never_fetched(client, listener, document):
    sock, url = listener
    body = json.dumps(document).replace("{url}", url).encode()
    response = validate(client, body, "application/ld+json")
    assert response.status_code == 400
    problem = response.json()
    assert problem["type"].endswith("#remote-context-refused") and url in problem["detail"]
    assert_no_connection(sock)


def test_rdflib_jsonld_parser_would_fetch_a_remote_context(listener):
    """Why the upload is rewritten first: rdflib itself does connect (checked here, against our socket)."""
    import threading
    import urllib.request

    if urllib.request.getproxies():
        pytest.skip("an HTTP proxy is configured: rdflib would connect to it, not to our socket")
    sock, url = listener
    sock.settimeout(5)

    def parse():
        try:
            Graph().parse(data=json.dumps({"@context": f"{url}/ctx", "@id": "urn:x"}), format="json-ld")
        except Exception:  # noqa: BLE001 -- the fetch fails once we close the connection; that is expected
            pass

    thread = threading.Thread(target=parse, daemon=True)
    thread.start()
    connection, _ = sock.accept()  # rdflib connected
    connection.close()
    thread.join(10)
