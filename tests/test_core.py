import importlib
import subprocess
import sys
from dataclasses import dataclass

import pandas as pd
import pytest

import mlpipe
from mlpipe._report import Report
from mlpipe.exceptions import DataValidationError, MissingExtraError
from mlpipe.utils._optional import import_optional


def test_config_context_restores_and_validates():
    with mlpipe.config_context(n_jobs=2, numba_threads=1):
        assert mlpipe.get_config() == {"n_jobs": 2, "numba_threads": 1, "store": None}
    assert mlpipe.get_config() == {"n_jobs": None, "numba_threads": None, "store": None}
    with pytest.raises(ValueError, match=r"'n_jobs' parameter of set_config .* Got 0"):
        mlpipe.set_config(n_jobs=0)


def test_missing_extra_names_the_install_command(monkeypatch):
    # None in sys.modules makes any import of the name fail, as when the
    # package is not installed.
    monkeypatch.setitem(sys.modules, "shap", None)
    with pytest.raises(MissingExtraError, match=r'pip install "mlpipe\[explain\]"') as info:
        import_optional("shap", purpose="explanations")
    assert isinstance(info.value, ImportError)
    assert "for explanations" in str(info.value)
    monkeypatch.setitem(sys.modules, "tpot", None)
    with pytest.raises(MissingExtraError, match=r'pip install "mlpipe\[automl\]"'):
        import_optional("tpot")


def test_import_mlpipe_is_light():
    code = (
        "import sys, mlpipe, mlpipe.impute, mlpipe.datasets; "
        "heavy = ('shap', 'tpot', 'matplotlib', 'numba', 'dask'); "
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@dataclass
class _Toy(Report):
    rows: list
    title = "Toy report"

    def to_frame(self):
        return pd.DataFrame(self.rows, columns=["column", "value"])

    def summary(self):
        return f"{len(self.rows)} finding(s) <b>"

    def _plot(self, ax, **kwargs):
        ax.bar(*zip(*self.rows, strict=True))


def test_report_views():
    report = _Toy([("a", 1), ("b", 2)])
    text = str(report)
    assert text.startswith("Toy report: 2 finding(s)")
    assert "column" in text and "b" in text
    html = report._repr_html_()
    assert "<table" in html and "&lt;b&gt;" in html  # summary is escaped
    import matplotlib

    matplotlib.use("Agg")
    ax = report.plot()
    assert len(ax.patches) == 2
    assert "(empty)" in str(_Toy([]))


def test_data_validation_error_is_a_value_error_carrying_its_report():
    err = DataValidationError("2 checks failed", report="the report")
    assert isinstance(err, ValueError) and err.report == "the report"


def test_show_versions(capsys):
    mlpipe.show_versions()
    out = capsys.readouterr().out
    assert "scikit-learn:" in out and "numpy:" in out


def test_subpackages_export_what_they_list():
    for name in ("impute", "datasets", "validation", "fairness", "explain", "automl"):
        module = importlib.import_module(f"mlpipe.{name}")
        assert module.__all__, name
        for public in module.__all__:
            assert hasattr(module, public), f"mlpipe.{name}.{public}"
