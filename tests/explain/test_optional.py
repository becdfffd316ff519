"""mlpipe.explain without its extra fails with an install hint."""

import importlib
import sys

import pytest

from mlpipe.exceptions import MissingExtraError


def test_import_without_shap_names_the_extra(monkeypatch):
    for name in [m for m in sys.modules if m.startswith("mlpipe.explain")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "shap", None)  # makes `import shap` fail
    with pytest.raises(MissingExtraError, match=r'pip install "mlpipe\[explain\]"') as info:
        importlib.import_module("mlpipe.explain")
    assert isinstance(info.value, ImportError)
    assert "'shap' is required for explaining models" in str(info.value)


def test_plot_without_matplotlib_names_the_extra(monkeypatch):
    import numpy as np
    import pandas as pd

    from mlpipe.explain import Explanation

    e = Explanation(
        values=np.zeros((1, 1)),
        base_values=np.zeros(1),
        data=pd.DataFrame({"a": [1]}),
        feature_names=["a"],
        output="predict",
        output_names=["prediction"],
        method="tree",
    )
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(MissingExtraError, match=r'pip install "mlpipe\[explain\]"'):
        e.plot()
