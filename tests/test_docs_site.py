"""The built site as a reader meets it (issue 15): ordered navigation, API
pages with public names only, no Sphinx roles printed, the quickstart
notebook rendered with its outputs, and no commit ids in the guides."""

import re
from pathlib import Path

import pytest

from tests import _shared

ROOT = Path(__file__).parents[1]
NAV = [
    "Home",
    "Install",
    "Getting started",
    "Guides",
    "Data validation",
    "Imputation",
    "Fairness",
    "Drift detection",
    "Explanations",
    "AutoML",
    "Command line",
    "API",
]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    # one strict build per test run, shared with tests/test_docs.py
    returncode, stderr, site = _shared.docs_site(tmp_path_factory)
    assert returncode == 0, stderr[-3000:]
    return site


def _text(path):
    return path.read_text(encoding="utf-8")


@pytest.mark.slow
def test_navigation_is_in_the_readers_order(site):
    page = _text(site / "index.html")
    nav = page[page.index('class="md-nav md-nav--primary"') :]
    titles = [
        t.strip() for t in re.findall(r'<span class="md-ellipsis">\s*([^<]+?)\s*</span>', nav)
    ]
    positions = [titles.index(t) for t in NAV]
    assert positions == sorted(positions), titles
    assert "Api" not in titles


@pytest.mark.slow
def test_api_pages_show_public_names_only(site):
    for page in sorted((site / "api").glob("*/index.html")):
        html = _text(page)
        assert not re.search(r"\b_Base\w*", html), page
        assert "Bases:" not in html, page
        assert not re.search(r":(class|func|meth|attr|mod):", html), page


@pytest.mark.slow
def test_quickstart_notebook_is_rendered_with_its_outputs(site):
    html = _text(site / "notebooks" / "quickstart" / "index.html")
    for section in ("Validate", "Impute", "Audit fairness", "Detect drift", "Explain"):
        assert section in html
    assert html.count('src="data:image/png;base64,') >= 2  # the audit and waterfall plots
    assert "DRIFT: 4 of 9 features drifted" in html


def test_user_guides_hold_no_commit_ids_or_before_columns():
    for page in sorted((ROOT / "docs" / "guide").glob("*.md")):
        text = _text(page)
        for word in re.findall(r"\b[0-9a-f]{7,40}\b", text):
            assert not re.search(r"[a-f]", word) or not re.search(r"\d", word), (page.name, word)
        assert "| before |" not in text and "Before this change" not in text, page.name
