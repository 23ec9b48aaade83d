"""Headless Chromium loads the home page, the ST1337 standard page and its coverage matrix from a real server."""

from __future__ import annotations

import re
import struct
import subprocess
from pathlib import Path

import httpx

from tests.browser import FLAGS

UNMAPPED_KSBS = ["S1", "S2", "S5", "S6", "S8", "S9", "S10", "S15", "S19", "S25", "S27",
                 "B1", "B2", "B3", "B4", "B5", "B6"]


def load(browser: str, url: str, tmp_path: Path, name: str, size: str = "1600,1000") -> tuple[str, Path]:
    """The page's DOM after load, and a screenshot of it (a PNG in ``tmp_path``)."""
    shot = tmp_path / f"{name}.png"
    common = [browser, *FLAGS, "--hide-scrollbars", f"--window-size={size}", "--virtual-time-budget=5000"]
    dom = subprocess.run([*common, f"--user-data-dir={tmp_path / (name + '-dom')}", "--dump-dom", url],
                         capture_output=True, text=True, timeout=120).stdout
    subprocess.run([*common, f"--user-data-dir={tmp_path / (name + '-shot')}", f"--screenshot={shot}", url],
                   capture_output=True, timeout=120)
    return dom, shot


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", data[16:24])


def test_home_page_renders_with_its_links(browser, pages_server, tmp_path):
    dom, shot = load(browser, pages_server + "/", tmp_path, "home")
    assert "<h1>KIM Graph</h1>" in dom
    for link in ("/standards/ST1337/coverage", "/validate", "/def", "/shapes", "/dataset", "/dump.jsonld"):
        assert f'href="{link}"' in dom, link
    assert png_size(shot) == (1600, 1000)


def test_coverage_matrix_shows_the_duties_and_the_unmapped_marks(browser, pages_server, tmp_path):
    dom, shot = load(browser, pages_server + "/standards/ST1337/coverage", tmp_path, "coverage", "1800,1100")
    assert 'id="coverage-matrix"' in dom
    for n in range(1, 16):
        assert f'id="row-D{n}"' in dom, n
    for code in ("D1", "D9", "D15"):
        assert f'<tr id="row-{code}" class="unmapped-duty" data-unmapped="true">' in dom, code
    assert 'data-cell-state="missing"' in dom and 'data-cell-state="empty"' in dom
    for code in UNMAPPED_KSBS:
        assert re.search(rf'id="col-{code}" class="type-(skill|behaviour) unmapped-ksb"', dom), code
    assert 'id="col-K1" class="type-knowledge"' in dom
    assert png_size(shot) == (1800, 1100)
    assert shot.stat().st_size > 20_000  # a real rendering, not a blank page


def test_standard_page_renders(browser, pages_server, tmp_path):
    probe = httpx.get(pages_server + "/id/standard/ST1337", headers={"Accept": "text/html"}, timeout=30)
    assert probe.status_code == 200
    dom, shot = load(browser, pages_server + "/id/standard/ST1337", tmp_path, "standard")
    assert "ST1337" in dom and "Library, information and knowledge management professional" in dom
    assert png_size(shot) == (1600, 1000)


def test_a_browser_gets_an_error_page_that_says_where_to_go(browser, pages_server, tmp_path):
    dom, shot = load(browser, pages_server + "/standards/ST1337", tmp_path, "not-found")
    assert "<h1>Not Found</h1>" in dom
    assert '<a href="/id/standard/ST1337">/id/standard/ST1337</a>' in dom
    assert png_size(shot) == (1600, 1000)


def test_void_has_a_page_for_browsers(browser, pages_server, tmp_path):
    dom, _ = load(browser, pages_server + "/.well-known/void", tmp_path, "void")
    assert "<h1>VoID description</h1>" in dom and '<table id="subsets">' in dom
