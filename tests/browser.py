"""Headless Chromium for the browser tests: the ``browser`` fixture (a pytest plugin) and helpers to load pages.

Chromium is installed by the test set-up (``make test``, ``.ci/run``), never by a test: where it is
missing, the tests that use ``browser`` are skipped with the reason.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-default-apps"]
MISSING = (f"{CHROMIUM} is not installed: `make test` installs it when run as root where apt-get is available "
           "(apt-get install -y chromium chromium-driver)")


@pytest.fixture(scope="session")
def browser() -> str:
    """The Chromium binary; the test is skipped where there is none."""
    if not CHROMIUM.exists():
        pytest.skip(MISSING)
    return str(CHROMIUM)


def dump_dom(browser: str, url: str, tmp_path: Path, expect: str) -> str:
    """The DOM once the page has settled; retried with more virtual time when ``expect`` is not there yet."""
    dom = ""
    for attempt, budget in enumerate((10_000, 30_000, 60_000)):
        profile = tmp_path / f"profile-{attempt}"  # a fresh profile: no tabs kept from an earlier run
        result = subprocess.run(
            [browser, *FLAGS, f"--user-data-dir={profile}", f"--virtual-time-budget={budget}", "--dump-dom", url],
            capture_output=True, text=True, timeout=180)
        dom = result.stdout
        if expect in dom:
            break
    return dom


def html_element(dom: str) -> str:
    """The opening ``<html ...>`` tag of a dumped DOM, where the pages record their state."""
    start = dom.find("<html")
    return dom[start:dom.find(">", start) + 1]
