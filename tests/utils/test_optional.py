"""Each public entry point that needs an optional dependency fails, when the
dependency is missing, with a MissingExtraError naming the extra to install.

``sys.modules[name] = None`` makes any later ``import name`` fail, as when the
package is not installed; ``monkeypatch`` puts everything back afterwards.
"""

import io
import sys

import numpy as np
import pandas as pd
import pytest

from mlpipe.exceptions import MissingExtraError
from mlpipe.utils._optional import EXTRA_OF
from tests._registry import CHECK_PARAMS


def _missing(monkeypatch, name, *, reimport=()):
    """Make ``name`` unimportable; forget the already imported ``reimport``
    packages (and their submodules) so that importing them runs again."""
    monkeypatch.setitem(sys.modules, name, None)
    for prefix in reimport:
        for module in [m for m in sys.modules if m == prefix or m.startswith(prefix + ".")]:
            monkeypatch.delitem(sys.modules, module)


def _hint(extra):
    return rf'pip install "mlpipe\[{extra}\]"'


@pytest.fixture(scope="module")
def small():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=30), "b": rng.choice(["x", "y"], 30)})
    y = np.tile([0, 1], 15)
    return X, y


@pytest.fixture(scope="module")
def tpot():
    pytest.importorskip("tpot")
    from mlpipe.automl._tpot import import_tpot

    return import_tpot()


def test_every_optional_dependency_has_an_extra():
    assert EXTRA_OF["ConfigSpace"] == "automl"  # tpot's search-space language
    assert {"shap", "matplotlib", "tpot", "dask", "distributed", "tqdm", "pyarrow"} <= set(EXTRA_OF)


def test_explain_without_shap(monkeypatch, small):
    pytest.importorskip("shap")
    from sklearn.linear_model import LogisticRegression

    from mlpipe.explain import explain

    X, y = small
    model = LogisticRegression().fit(X[["a"]], y)
    _missing(monkeypatch, "shap")
    with pytest.raises(MissingExtraError, match=_hint("explain")):
        explain(model, X[["a"]])


def test_report_plot_without_matplotlib(monkeypatch, small):
    from mlpipe.validation import check_data_quality

    report = check_data_quality(small[0])
    _missing(monkeypatch, "matplotlib.pyplot")
    with pytest.raises(MissingExtraError, match=_hint("explain")):
        report.plot()


def test_html_page_figure_without_matplotlib(monkeypatch):
    from mlpipe._html import HtmlPage

    _missing(monkeypatch, "matplotlib.pyplot")
    with pytest.raises(MissingExtraError, match=_hint("explain")):
        HtmlPage("t").figure(object(), "a figure")


def test_demo_report_without_matplotlib(monkeypatch, tmp_path):
    from mlpipe._demo import run_demo

    _missing(monkeypatch, "matplotlib")
    with pytest.raises(MissingExtraError, match=_hint("explain")):
        run_demo(io.StringIO(), report=tmp_path / "demo.html")


def test_read_parquet_without_pyarrow(monkeypatch, tmp_path):
    from mlpipe.cli import read_table

    path = tmp_path / "batch.parquet"
    path.write_bytes(b"")
    _missing(monkeypatch, "pyarrow")
    with pytest.raises(MissingExtraError, match=_hint("all")):
        read_table(path)


def test_search_space_without_configspace(monkeypatch):
    from sklearn.linear_model import Ridge

    from mlpipe.automl import Step
    from mlpipe.automl._spaces import default_params

    _missing(monkeypatch, "ConfigSpace")
    with pytest.raises(MissingExtraError, match=_hint("automl")):
        Step(Ridge, {"alpha": (0.1, 10.0)}, stage="learner").configuration_space()
    with pytest.raises(MissingExtraError, match=_hint("automl")):
        default_params(Ridge, {})


@pytest.mark.parametrize(
    ("name", "reimport"),
    [
        ("tpot", ()),
        ("ConfigSpace", ()),
        ("distributed", ()),
        ("dask", ("distributed",)),  # distributed imports dask
        ("tqdm", ("tpot",)),  # tpot imports tqdm
        ("update_checker", ("tpot",)),
    ],
)
def test_pipeline_search_fit_without(monkeypatch, small, tpot, name, reimport):
    from mlpipe.automl import PipelineSearch

    _missing(monkeypatch, name, reimport=reimport)
    with pytest.raises(MissingExtraError, match=_hint("automl")) as info:
        PipelineSearch(**CHECK_PARAMS["PipelineSearch"]).fit(*small)
    assert isinstance(info.value, ImportError)
    assert name in str(info.value)  # the import that failed, in the message
