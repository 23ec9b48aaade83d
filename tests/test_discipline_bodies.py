"""The professional bodies and networks tied to a GKIM discipline: the links the GOV.UK "about us" page states
(curated/gkim-about.ttl, kim:concernsDiscipline), and the discipline pages that show them with their source."""

from __future__ import annotations

import re

import pytest

from kimdata.namespaces import PREFIXES

ABOUT = "https://w3id.org/uk-kim/graph/source/08ea021e16e92f40"
DISC = "https://w3id.org/uk-kim/id/scheme/gkim-discipline/"
ORG = "https://w3id.org/uk-kim/id/org/"
DISCIPLINES = ("information-architecture", "information-management", "information-rights", "knowledge-management",
               "library-management", "records-management")
# Each link, and the words of the page's own evidence quote for the network that state it.
STATED = {
    ("adro", "records-management"): "records and information management",
    ("adro", "information-management"): "records and information management",
    ("cilip-knowledge-and-information-special-interest-group", "knowledge-management"):
        "knowledge and information management",
    ("cilip-knowledge-and-information-special-interest-group", "information-management"):
        "knowledge and information management",
    ("knowledge-mavericks", "knowledge-management"): "Knowledge Management (KM) Practitioners Group",
    ("hmg-data-protection-implementation-group", "information-rights"): "responsible for Data Protection matters",
}
PROLOGUE = "".join(f"PREFIX {p}: <{PREFIXES[p]}>\n" for p in ("kim", "oa", "skos", "dcterms"))


@pytest.fixture(scope="module")
def links(built_store) -> dict[str, set[str]]:
    """Discipline IRI -> the bodies the store ties to it, read with a query of the test's own."""
    found: dict[str, set[str]] = {}
    for row in built_store.select(PROLOGUE + "SELECT ?body ?d WHERE { ?body kim:concernsDiscipline ?d }"):
        found.setdefault(str(row["d"]), set()).add(str(row["body"]))
    return found


def test_every_link_is_one_the_about_page_states_with_its_quote(built_store):
    rows = built_store.select(PROLOGUE + "SELECT ?body ?d ?g WHERE { GRAPH ?g { ?body kim:concernsDiscipline ?d } }")
    assert {(str(r["body"]).removeprefix(ORG), str(r["d"]).removeprefix(DISC)) for r in rows} == set(STATED)
    assert {str(r["g"]) for r in rows} == {ABOUT}
    for (body, _), words in STATED.items():
        quotes = {str(r["q"]) for r in built_store.select(
            PROLOGUE + f"SELECT ?q WHERE {{ <{ORG}{body}> kim:evidence/oa:hasSelector/oa:exact ?q }}")}
        assert any(words in q for q in quotes), (body, words)


def test_the_professional_bodies_are_tied_to_no_discipline(links):
    tied = set().union(*links.values())
    for body in ("cilip", "irms", "ara", "bcs"):
        assert ORG + body not in tied


def test_each_discipline_page_lists_its_bodies_with_their_source_or_says_there_are_none(app_client, links):
    title = "Government Knowledge &amp; Information Management Profession: about us (captured text)"
    with_bodies = without = 0
    for slug in DISCIPLINES:
        page = app_client.get(f"/id/scheme/gkim-discipline/{slug}", headers={"Accept": "text/html"}).text
        section = page[page.index('<section id="bodies-and-networks">'):]
        section = section[:section.index("</section>")]
        listed = set(re.findall(r'<li data-body="([^"]+)">', section))
        assert listed == links.get(DISC + slug, set()), slug
        if listed:
            with_bodies += 1
            assert section.count(f'stated in <a href="/id/source/08ea021e16e92f40">{title}</a>') == len(listed)
            assert 'id="no-bodies"' not in section
        else:
            without += 1
            assert "The sources name no professional body or network for this discipline." in section
    assert with_bodies == 4 and without == 2  # information architecture and library management have none


def test_a_page_that_is_no_discipline_has_no_such_section(app_client):
    page = app_client.get("/id/org/adro", headers={"Accept": "text/html"}).text
    assert '<section id="bodies-and-networks">' not in page
    assert "/id/scheme/gkim-discipline/records-management" in page  # the link shows among ADRO's own facts
