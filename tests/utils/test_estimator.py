"""MlpipeEstimatorMixin: every public estimator links to its own entry in
mlpipe's API pages, and that entry exists in the built site."""

import importlib
import re
from pathlib import Path

import pytest
from sklearn.utils import estimator_html_repr, get_tags

from mlpipe.utils._estimator import DOCS_URL, MlpipeEstimatorMixin
from tests import _shared
from tests._registry import all_estimators, make_instance

ROOT = Path(__file__).parents[2]
ESTIMATORS = all_estimators()


def _expected_link(name, cls):
    """The entry of ``cls`` on its API page, found from the docs' own sources:
    the docs/api/<page>.md that documents it with ``::: <public path>``."""
    for page in sorted((ROOT / "docs" / "api").glob("*.md")):
        match = re.search(rf"^::: (mlpipe(?:\.\w+)*)\.{name}$", page.read_text(), re.M)
        if match and getattr(importlib.import_module(match[1]), name) is cls:
            return f"{DOCS_URL}api/{page.stem}/#{match[1]}.{name}"
    raise AssertionError(f"{name} is not documented in docs/api/*.md")


@pytest.mark.parametrize(("name", "cls"), ESTIMATORS, ids=[n for n, _ in ESTIMATORS])
def test_doc_link_is_the_estimators_api_entry(name, cls):
    est = make_instance(cls)
    assert isinstance(est, MlpipeEstimatorMixin)
    link = est._get_doc_link()
    assert link == _expected_link(name, cls)
    # And the notebook HTML repr carries it.
    assert f'href="{link}"' in estimator_html_repr(est)


def test_doc_links_point_where_mkdocs_serves_the_site():
    # mkdocs.yml's site_url is where the built pages are served.
    config = (ROOT / "mkdocs.yml").read_text()
    assert f"site_url: {DOCS_URL}\n" in config


def test_doc_link_template_is_set_in_one_place():
    # No estimator class overrides what the mixin sets.
    for name, cls in ESTIMATORS:
        for attr in ("_doc_link_module", "_doc_link_template", "_doc_link_url_param_generator"):
            owners = [k for k in cls.__mro__ if attr in vars(k)]
            assert owners[0] is MlpipeEstimatorMixin, (name, attr, owners)


@pytest.mark.parametrize(("name", "cls"), ESTIMATORS, ids=[n for n, _ in ESTIMATORS])
def test_frame_input_tags(name, cls):
    tags = get_tags(make_instance(cls))
    meta = name in {"ReweighingClassifier", "GroupThresholdClassifier"}
    # The fairness wrappers take the input tags of their inner estimator
    # (LogisticRegression by default); every other estimator is DataFrame-first.
    assert tags.input_tags.allow_nan is not meta
    assert tags.input_tags.string is not meta
    assert tags.input_tags.categorical is not meta


@pytest.mark.slow
def test_doc_links_open_a_built_page_with_the_anchor(tmp_path_factory):
    # the strict build tests/test_docs.py checks, made once per test run
    returncode, stderr, site = _shared.docs_site(tmp_path_factory)
    assert returncode == 0, stderr[-3000:]
    broken = []
    for name, cls in ESTIMATORS:
        link = make_instance(cls)._get_doc_link()
        if not link.startswith(DOCS_URL):
            broken.append(f"{name}: {link} is not under {DOCS_URL}")
            continue
        path, _, anchor = link[len(DOCS_URL) :].partition("#")
        page = site / path / "index.html"
        if not page.exists():
            broken.append(f"{name}: no page {page}")
        elif f'id="{anchor}"' not in page.read_text(encoding="utf-8"):
            broken.append(f"{name}: {page} has no anchor id {anchor!r}")
    assert not broken, "\n".join(broken)
