"""What the service exposes, on real servers: bearer-token writes, secrets kept out of logs, CORS without
credentials, errors without internals, and HTML pages under a strict Content-Security-Policy."""

from __future__ import annotations

import base64
import os
import re
import signal
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.browser import dump_dom, html_element
from tests.helpers import ROOT
from tests.server import AUTH, SECRET, wait_until_ready, worker_pids

WRONG = "exposure-wrong-93be11"
UPDATE = "application/sparql-update"
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
BASE = "https://w3id.org/uk-kim/"


def ask(url: str, query: str) -> bool:
    response = httpx.get(url + "/sparql", params={"query": query},
                         headers={"Accept": "application/sparql-results+json"})
    assert response.status_code == 200, response.text
    return response.json()["boolean"]


def graph_exists(url: str, graph: str) -> bool:
    return ask(url, f"ASK {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")


# ------------------------------------------------------------------ writes need the bearer token

REFUSED_CREDENTIALS = {
    "none": {},
    "wrong token": {"Authorization": f"Bearer {WRONG}"},
    "token with a suffix": {"Authorization": f"Bearer {SECRET}x"},
    "token prefix": {"Authorization": f"Bearer {SECRET[:-1]}"},
    "token upper-cased": {"Authorization": f"Bearer {SECRET.upper()}"},
    "empty bearer": {"Authorization": "Bearer"},
    "basic scheme": {"Authorization": "Basic " + base64.b64encode(f"admin:{SECRET}".encode()).decode()},
    "token as the scheme": {"Authorization": SECRET},
}


@pytest.mark.parametrize("headers", REFUSED_CREDENTIALS.values(), ids=REFUSED_CREDENTIALS.keys())
def test_update_without_the_token_is_401_and_stores_nothing(guarded_server, headers):
    url, _ = guarded_server
    graph = "urn:test:exposure:refused-update"
    response = httpx.post(url + "/sparql", content=f"INSERT DATA {{ GRAPH <{graph}> {{ <urn:a> <urn:b> 'c' }} }}",
                          headers={**headers, "Content-Type": UPDATE})
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert not graph_exists(url, graph)


@pytest.mark.parametrize("method", ["PUT", "POST", "DELETE"])
def test_graph_store_write_without_the_token_is_401_and_changes_nothing(guarded_server, method):
    url, _ = guarded_server
    graph = f"{BASE}id/standard/ST1337"  # a graph name that does not exist; nothing may create it
    response = httpx.request(method, url + "/store", params={"graph": graph}, content="<urn:a> <urn:b> <urn:c> .",
                             headers={"Content-Type": "application/n-triples", "Authorization": f"Bearer {WRONG}"})
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]
    assert not graph_exists(url, graph)


def test_token_in_the_query_string_is_not_accepted(guarded_server):
    url, _ = guarded_server
    graph = "urn:test:exposure:query-string-token"
    response = httpx.post(url + "/sparql", params={"access_token": SECRET},
                          content=f"INSERT DATA {{ GRAPH <{graph}> {{ <urn:a> <urn:b> 'c' }} }}",
                          headers={"Content-Type": UPDATE})
    assert response.status_code == 401
    assert not graph_exists(url, graph)


def test_update_with_the_token_is_stored(guarded_server):
    url, _ = guarded_server
    graph = "urn:test:exposure:accepted"
    response = httpx.post(url + "/sparql", content=f"INSERT DATA {{ GRAPH <{graph}> {{ <urn:a> <urn:b> 'c' }} }}",
                          headers={"Authorization": f"Bearer {SECRET}", "Content-Type": UPDATE})
    assert response.status_code == 204
    assert graph_exists(url, graph)


def test_without_a_configured_token_the_service_is_read_only(read_server):
    graph = "urn:test:exposure:read-only"
    live = httpx.get(read_server + "/health/live").json()
    assert live["read_only"] is True
    update = httpx.post(read_server + "/sparql", content=f"INSERT DATA {{ GRAPH <{graph}> {{ <urn:a> <urn:b> 'c' }} }}",
                        headers={**AUTH, "Content-Type": UPDATE})
    put = httpx.put(read_server + "/store", params={"graph": graph}, content="<urn:a> <urn:b> <urn:c> .",
                    headers={**AUTH, "Content-Type": "application/n-triples"})
    for response in (update, put):
        assert response.status_code == 403
        assert response.headers["content-type"] == "application/problem+json"
        assert "read-only" in response.json()["detail"]
    assert not graph_exists(read_server, graph)
    assert httpx.get(read_server + "/health/live").json()["version"] == live["version"]


def test_tokens_never_reach_the_logs(guarded_server):
    url, log = guarded_server
    update = "INSERT DATA { GRAPH <urn:test:exposure:logged> { <urn:a> <urn:b> 'c' } }"
    marker = f"exposure-log-{time.monotonic_ns()}"
    sent = [
        httpx.post(url + "/sparql", content=update, headers={"Authorization": f"Bearer {SECRET}",
                                                               "Content-Type": UPDATE, "X-Request-ID": marker}),
        httpx.post(url + "/sparql", content=update, headers={"Authorization": f"Bearer {WRONG}",
                                                               "Content-Type": UPDATE}),
        httpx.put(url + "/store", params={"graph": "urn:test:exposure:logged", "token": SECRET},
                  content="<urn:a> <urn:b> <urn:c> .", headers={"Content-Type": "application/n-triples"}),
        httpx.get(url + "/sparql", params={"query": "ASK {}", "access_token": WRONG},
                  headers={"Authorization": f"Bearer {WRONG}"}),
        httpx.get(url + "/id/test/nothing", headers={"Authorization": f"Bearer {SECRET}"}),
    ]
    assert [r.status_code for r in sent] == [204, 401, 401, 200, 404]
    deadline = time.monotonic() + 10
    while marker not in log.read_text(errors="replace") and time.monotonic() < deadline:
        time.sleep(0.05)
    text = log.read_text(errors="replace")
    assert marker in text  # the access log has the requests
    assert SECRET not in text and WRONG not in text
    assert "Bearer" not in text and "authorization" not in text.lower()


# ------------------------------------------------------------------ CORS: any origin reads, never with credentials

@pytest.mark.parametrize("origin", ["https://attacker.example", "http://localhost:3000", "null"])
@pytest.mark.parametrize("method, path", [("POST", "/sparql"), ("PUT", "/store"), ("GET", "/id/standard/ST1337")])
def test_preflight_allows_any_origin_without_credentials(read_server, origin, method, path):
    response = httpx.options(read_server + path, headers={
        "Origin": origin, "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "authorization, content-type"})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in response.headers
    assert method in response.headers["access-control-allow-methods"]


@pytest.mark.parametrize("path, status", [("/id/standard/ST1337", 200), ("/sparql?query=ASK%20%7B%7D", 200),
                                          ("/no/such/page", 404), ("/sparql?query=SELEC", 400)])
def test_simple_requests_from_any_origin_get_a_star_and_no_credentials(read_server, path, status):
    response = httpx.get(read_server + path, headers={"Origin": "https://attacker.example",
                                                      "Cookie": "session=x"})
    assert response.status_code == status
    assert response.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in response.headers


# ------------------------------------------------------------------ errors say nothing about the server's insides

def assert_no_internals(response: httpx.Response, *paths: Path) -> None:
    assert response.headers["content-type"] == "application/problem+json"
    text = response.text
    assert "Traceback" not in text and 'File "' not in text and "site-packages" not in text, text
    for path in (ROOT, *paths):
        assert str(path) not in text and str(Path(path).resolve()) not in text, text


ERRORS = {
    "404 unknown route": (404, "GET", "/no/such/page", {}),
    "404 unknown resource": (404, "GET", "/id/standard/ST0000", {}),
    "404 path escape": (404, "GET", "/id/../../etc/passwd", {}),
    "400 bad sparql": (400, "GET", "/sparql", {"params": {"query": "SELEC * WHERE"}}),
    "400 bad turtle": (400, "POST", "/validate",
                       {"content": b"@prefix : <x", "headers": {"Content-Type": "text/turtle"}}),
    "405": (405, "PATCH", "/sparql", {}),
    "406": (406, "GET", "/id/standard/ST1337", {"headers": {"Accept": "image/png"}}),
    "413": (413, "POST", "/sparql", {"content": b"#" * 300_000,
                                     "headers": {"Content-Type": "application/sparql-query"}}),
    "414": (414, "GET", "/sparql", {"params": {"query": "ASK {} #" + "x" * 6000}}),
    "415": (415, "POST", "/sparql", {"content": b"ASK {}", "headers": {"Content-Type": "text/plain"}}),
    "503 timeout": (503, "GET", "/sparql", {"params": {"query": RUNAWAY}}),
}


@pytest.mark.parametrize("status, method, path, options", ERRORS.values(), ids=ERRORS.keys())
def test_errors_contain_no_traceback_or_paths(read_server, protocol_store, tmp_path_factory, status, method, path,
                                              options):
    response = httpx.request(method, read_server + path, timeout=30, **options)
    assert response.status_code == status, response.text
    assert response.json()["status"] == status
    assert_no_internals(response, protocol_store, tmp_path_factory.getbasetemp())


def test_server_failure_is_a_bare_500_problem(guarded_server, tmp_path_factory):
    url, log = guarded_server
    # A worker that dies under a query (killed here, every 0.1 s, well within the 1 s limit) is a failure.
    runaway = f"SELECT (COUNT(*) AS ?n) WHERE {{ ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }} # {uuid.uuid4()}"
    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(httpx.get, url + "/sparql", params={"query": runaway}, timeout=30)
        while not pending.done():
            time.sleep(0.1)
            for pid in worker_pids(url):
                os.kill(pid, signal.SIGKILL)
        response = pending.result()
    assert response.status_code == 500
    assert response.json()["title"] == "Internal error"
    assert_no_internals(response, tmp_path_factory.getbasetemp())
    wait_until_ready(url)


# ------------------------------------------------------------------ HTML: strict CSP, escaped data

HTML_PAGES = ["/", "/id/standard/ST1337", "/id/standard/ST1337/duty/2?format=html", "/standards",
              "/organisations", "/standards/ST1337/coverage", "/standards/ST1337/conformance", "/search?q=duty",
              "/queries", f"/queries/ksbs-of-duty?duty={BASE}id/standard/ST1337/duty/2", "/def", "/shapes",
              "/dataset", "/sparql", "/docs"]
UNSAFE_SOURCES = {"'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", "*", "data:", "http:", "https:", "blob:"}
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.IGNORECASE)


def policy(header: str) -> dict[str, list[str]]:
    """A Content-Security-Policy header as directive -> sources."""
    directives = {}
    for part in header.split(";"):
        name, *sources = part.split()
        directives[name.lower()] = sources
    return directives


@pytest.mark.parametrize("path", HTML_PAGES)
def test_html_pages_send_a_strict_csp_and_nosniff(read_server, path):
    response = httpx.get(read_server + path, headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["x-content-type-options"] == "nosniff"
    csp = policy(response.headers["content-security-policy"])
    assert csp["default-src"] == ["'none'"]
    scripts = csp.get("script-src", csp["default-src"])
    assert not UNSAFE_SOURCES & set(scripts), scripts
    for directive in ("script-src-elem", "script-src-attr"):
        assert not UNSAFE_SOURCES & set(csp.get(directive, [])), csp
    assert csp["frame-ancestors"] == ["'none'"]
    assert not INLINE_SCRIPT.search(response.text)


def test_fastapi_cdn_pages_are_not_served(read_server):
    for path in ("/redoc", "/docs/oauth2-redirect", "/static/swagger-ui/oauth2-redirect.html"):
        assert httpx.get(read_server + path).status_code == 404, path
    for asset in ("/static/swagger-ui/swagger-ui-bundle.js", "/static/swagger-ui/swagger-ui.css",
                  "/static/docs/kim-docs.js"):
        response = httpx.get(read_server + asset)
        assert response.status_code == 200 and response.headers["x-content-type-options"] == "nosniff", asset


def test_docs_page_renders_under_its_policy(browser, read_server, tmp_path):
    dom = dump_dom(browser, read_server + "/docs", tmp_path, 'data-kim-ready="true"')
    root = html_element(dom)
    assert 'data-kim-ready="true"' in root and "data-csp-violations" not in root, root
    assert 'data-path="/health/ready"' in dom and 'data-path="/id/{path}"' in dom


HOSTILE = {
    "label": "<script>alert('label')</script>",
    "prefLabel": "exposurexss <img src=x onerror=alert(1)>",
    "description": '" onmouseover="alert(2)" x="',
}


def test_data_with_markup_comes_back_escaped(guarded_server):
    url, _ = guarded_server
    subject = f"{BASE}id/test/exposure-xss"
    update = f"""PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX dcterms: <http://purl.org/dc/terms/>
INSERT DATA {{ GRAPH <urn:test:exposure:xss> {{
  <{subject}> rdfs:label {escape(HOSTILE["label"])} ; skos:prefLabel {escape(HOSTILE["prefLabel"])} ;
     dcterms:description {escape(HOSTILE["description"])} ; rdfs:seeAlso <javascript:alert(3)> .
}} }}"""
    response = httpx.post(url + "/sparql", content=update,
                          headers={"Authorization": f"Bearer {SECRET}", "Content-Type": UPDATE})
    assert response.status_code == 204, response.text
    page = httpx.get(url + "/id/test/exposure-xss", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert_escaped(page.text)
    assert 'href="javascript:' not in page.text
    deadline = time.monotonic() + 20  # the search index of the new data version is built in the background
    while "exposurexss" not in (found := httpx.get(url + "/search", params={"q": "exposurexss"},
                                                   headers={"Accept": "text/html"})).text \
            and time.monotonic() < deadline:
        time.sleep(0.2)
    assert "/id/test/exposure-xss" in found.text
    assert_escaped(found.text)


def escape(value: str) -> str:
    """A SPARQL string literal."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def assert_escaped(text: str) -> None:
    for raw in ("<script>alert", "<img src=x", '" onmouseover="'):
        assert raw not in text
    assert "&lt;script&gt;alert(" in text


# ------------------------------------------------------------------ one public address, never the Host header

# Answers that write absolute URLs: JSON-LD contexts, VoID, DCAT, Hydra links, Link and Content-Location.
ADDRESSED = [
    ("/", "text/html"), ("/", "text/turtle"), ("/dataset", "text/turtle"), ("/.well-known/void", "text/turtle"),
    ("/id/standard/ST1337/duty/2", "application/ld+json"), ("/id/standard/ST1337/duty/2", "application/json"),
    ("/id/standard/ST1337/duty/2", "text/html"), ("/id/org/cilip", "text/turtle"),
    ("/standards", "application/ld+json"), ("/standards/ST1337/ksbs?type=K&pageSize=5&page=2", "application/ld+json"),
    ("/organisations?pageSize=3", "application/ld+json"), ("/search?q=records&limit=2", "application/json"),
    ("/sparql", "text/turtle"), ("/queries", "application/json"), ("/validate", "text/html"),
    ("/standards/ST1337/coverage", "text/html"), ("/def", "text/html"),
]


@pytest.mark.parametrize("host", ["evil.example", "evil.example:80", "127.0.0.2"])
def test_a_request_for_another_host_is_400(pages_server, host):
    for path in ("/", "/id/standard/ST1337/duty/2", "/.well-known/void", "/health"):
        response = httpx.get(pages_server + path, headers={"Host": host})
        assert response.status_code == 400, (path, response.status_code)
        assert "evil" not in response.text


@pytest.mark.parametrize(("path", "accept"), ADDRESSED, ids=[f"{p} {a}" for p, a in ADDRESSED])
def test_no_answer_carries_the_host_the_client_named(pages_server, path, accept):
    # localhost is an allowed name for the same server, but the public address is 127.0.0.1:PORT
    port = pages_server.rsplit(":", 1)[1]
    response = httpx.get(pages_server + path, headers={"Host": f"localhost:{port}", "Accept": accept})
    assert response.status_code == 200, response.text
    answer = response.text + "\n".join(f"{k}: {v}" for k, v in response.headers.items())
    assert "localhost" not in answer
    if accept != "text/html" and path.startswith(("/id/", "/standards", "/organisations", "/.well-known", "/dataset")):
        assert pages_server + "/" in answer


def test_the_public_url_is_the_address_written(built_store_path, tmp_path):
    from tests.server import running_server
    with running_server(built_store_path, tmp_path / "server.log", KIM_WORKERS="0",
                        KIM_PUBLIC_URL="https://kim.example.org/") as url:
        response = httpx.get(url + "/id/standard/ST1337/duty/2", headers={"Host": "kim.example.org"})
        assert response.status_code == 200
        assert response.json()["@context"] == "https://kim.example.org/context.jsonld"
        assert response.headers["content-location"] == "https://kim.example.org/id/standard/ST1337/duty/2?format=jsonld"
        assert httpx.get(url + "/health").status_code == 200  # 127.0.0.1 stays allowed for local checks
        assert httpx.get(url + "/health", headers={"Host": "evil.example"}).status_code == 400
