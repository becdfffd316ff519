"""The documentation site builds with warnings as errors (mkdocs strict mode),
so a renamed function or a broken API page fails the suite, not the release."""

import pytest

from tests import _shared


@pytest.mark.slow
def test_docs_build_strict(tmp_path_factory):
    # the build tests/test_docs_site.py and tests/utils/test_estimator.py read
    returncode, stderr, site = _shared.docs_site(tmp_path_factory)
    assert returncode == 0, stderr[-3000:]
    assert (site / "api" / "impute" / "index.html").exists()
