"""The web query editor page and its vendored assets, served through a small app that mounts only the editor."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from html.parser import HTMLParser

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

from kimdata.namespaces import Iris
from sparql_api.context_keys import context_keys, markdown_table
from sparql_api.editor import ASSETS_DIR, CSP, editor_config, editor_response, mount_static
from sparql_api.named_queries import NamedQuery, load_queries
from sparql_api.settings import Settings

HTML = {"Accept": "text/html"}


def editor_app(queries: Mapping[str, NamedQuery] | None = None, iris: Iris | None = None) -> FastAPI:
    """The editor's parts alone: its assets, and its page where the SPARQL route would answer a browser."""
    app = FastAPI()
    mount_static(app)
    queries = load_queries() if queries is None else queries

    @app.get("/sparql")
    def page(request: Request):
        return editor_response(request, queries, iris or Iris())

    return app


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(editor_app())


class Page(HTMLParser):
    """The parts of the page the tests look at: addresses it loads, scripts, the config, the list."""

    def __init__(self, text: str):
        super().__init__()
        self.loads: list[str] = []  # addresses the browser fetches by itself
        self.links: list[str] = []
        self.inline_scripts: list[str] = []
        self.config_text = ""
        self._in_script: dict | None = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script":
            if "src" in attrs:
                self.loads.append(attrs["src"])
            self._in_script = attrs
        elif tag == "link":
            self.loads.append(attrs.get("href", ""))
        elif tag in ("img", "iframe", "source", "embed", "object", "audio", "video"):
            self.loads.append(attrs.get("src") or attrs.get("data") or "")
        elif tag == "a":
            self.links.append(attrs.get("href", ""))

    def handle_data(self, data):
        if self._in_script is not None:
            if self._in_script.get("id") == "kim-editor-config":
                self.config_text += data
            elif "src" not in self._in_script and data.strip():
                self.inline_scripts.append(data)

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = None


def get_page(client: TestClient) -> tuple[str, Page]:
    response = client.get("/sparql", headers=HTML)
    assert response.status_code == 200
    return response.text, Page(response.text)


def test_editor_page_is_html_with_a_strict_policy(client):
    response = client.get("/sparql", headers=HTML)
    assert response.headers["content-type"].startswith("text/html")
    policy = response.headers["content-security-policy"]
    assert policy == CSP
    assert "default-src 'none'" in policy and "script-src 'self'" in policy and "connect-src 'self'" in policy
    assert "unsafe-eval" not in policy and "http" not in policy
    assert response.headers["x-content-type-options"] == "nosniff"


def test_editor_page_lists_every_named_query(client):
    text, page = get_page(client)
    queries = load_queries()
    config = json.loads(page.config_text)
    assert [tab["name"] for tab in config["queries"]] == list(queries)
    for name, query in queries.items():
        assert f'href="#tab={name}"' in text
        tab = next(t for t in config["queries"] if t["name"] == name)
        assert tab["summary"] == query.summary
        assert all(f"?{p.name}" in tab["query"] for p in query.params)
        if query.params:
            assert "VALUES" in tab["query"]  # example values shown, so the tab runs as it stands


def test_editor_page_loads_only_local_assets(client):
    _, page = get_page(client)
    assert set(page.loads) == {f"/static/yasgui/{name}" for name in
                               ("yasgui.min.js", "yasgui.min.css", "kim-editor.js", "kim-editor.css")}
    assert not any(re.match(r"^(?:[a-z]+:|//)", link) for link in page.links)
    assert page.inline_scripts == []  # the policy allows no inline script


def test_editor_config_points_at_the_local_endpoint(client):
    _, page = get_page(client)
    assert json.loads(page.config_text)["endpoint"] == "/sparql"


def test_editor_follows_the_root_path():
    client = TestClient(editor_app(), root_path="/kim")
    text, page = get_page(client)
    assert all(src.startswith("/kim/static/yasgui/") for src in page.loads)
    assert json.loads(page.config_text)["endpoint"] == "/kim/sparql"


def test_editor_tabs_use_the_deployments_base_iri():
    app = editor_app(iris=Iris("https://kim.example/"))
    _, page = get_page(TestClient(app))
    tab = next(t for t in json.loads(page.config_text)["queries"] if t["name"] == "ksbs-of-duty")
    assert "<https://kim.example/id/standard/ST1337/duty/2>" in tab["query"]


def test_editor_config_cannot_close_its_script_element(tmp_path):
    (tmp_path / "evil.rq").write_text(
        '#+ summary: Ends the script </script><script>alert(1)</script> & more.\n'
        '#+ params: term:string="</script><img src=x>"\n'
        'SELECT ?term WHERE { ?s ?p ?term }\n')
    queries = load_queries(tmp_path)
    text, page = get_page(TestClient(editor_app(queries)))
    assert "<script>alert" not in text and "<img src=x>" not in text
    assert page.inline_scripts == []
    config = json.loads(page.config_text)
    assert config["queries"][0]["summary"].startswith("Ends the script </script>")
    assert config == editor_config(queries, Iris(), "/sparql")


@pytest.mark.parametrize("name, media_type", [
    ("yasgui.min.js", ("text/javascript", "application/javascript")),
    ("kim-editor.js", ("text/javascript", "application/javascript")),
    ("yasgui.min.css", ("text/css",)),
    ("kim-editor.css", ("text/css",)),
    ("LICENSE.txt", ("text/plain",)),
])
def test_assets_are_served_with_their_media_types(client, name, media_type):
    response = client.get(f"/static/yasgui/{name}")
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] in media_type
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.content == (ASSETS_DIR / name).read_bytes()


def test_missing_asset_is_404(client):
    assert client.get("/static/yasgui/nothing.js").status_code == 404
    assert client.get("/static/yasgui/../editor.py").status_code == 404


def test_vendored_assets_match_their_recorded_checksums():
    readme = (ASSETS_DIR / "README.md").read_text(encoding="utf-8")
    for name in ("yasgui.min.js", "yasgui.min.css"):
        recorded = re.search(rf"^\| `{re.escape(name)}` \|.*\| `([0-9a-f]{{64}})` \|$", readme, re.M).group(1)
        assert hashlib.sha256((ASSETS_DIR / name).read_bytes()).hexdigest() == recorded


def test_licence_names_yasgui_and_mit():
    licence = (ASSETS_DIR / "LICENSE.txt").read_text(encoding="utf-8")
    assert "YASGUI" in licence and "MIT License" in licence


def test_real_app_answers_a_browser_with_the_editor(built_store):
    from sparql_api.app import create_app

    with TestClient(create_app(Settings(workers=0), store=built_store)) as client:
        response = client.get("/sparql", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
        assert response.status_code == 200
        assert response.headers["content-security-policy"] == CSP
        assert 'id="kim-editor-config"' in response.text
        turtle = client.get("/sparql", headers={"Accept": "text/turtle"})
        assert turtle.headers["content-type"].startswith("text/turtle")  # machines still get the description


def test_editor_has_a_help_panel_of_the_jsonld_keys(app_client):
    page = app_client.get("/sparql", headers={"Accept": "text/html"}).text
    panel = page[page.index('<details id="kim-context-keys">'):page.index("</details>", page.index("kim-context-keys"))]
    for key, predicate in (("code", "skos:notation"), ("statement", "ceasn:competencyText"),
                           ("mappedKnowledge", "kim:mapsToKnowledge"), ("subOrganizations", "^org:subOrganizationOf")):
        assert f"<tr><td><code>{key}</code></td><td><code>{predicate}</code></td>" in panel
    assert panel.count("<tr><td>") == len(context_keys())


def test_readme_table_of_jsonld_keys_is_the_context(request):
    readme = (request.config.rootpath / "README.md").read_text(encoding="utf-8")
    table = readme.split("<!-- context-keys -->\n", 1)[1].split("\n<!-- /context-keys -->", 1)[0]
    assert table == markdown_table()
