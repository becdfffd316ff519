"""The data registry of the calibration benchmark loads without network.

Only the registry (benchmarks/_calibration_data.py) is tested here; the
benchmark itself (benchmarks/bench_calibration.py) is far too heavy for the
test suite.
"""

import socket
import sys
from pathlib import Path

import pandas as pd
import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import _calibration_data as data  # noqa: E402

# the 50,000-row generated sets are checked at a smaller size (same code)
NAMES = [n for n in data.REGISTRY if not n.endswith("_50000")]


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("network access in a test of local data")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.mark.parametrize("name", NAMES)
def test_loads_a_non_empty_frame(name, no_network):
    if name.startswith("sm_"):
        pytest.importorskip("statsmodels")
    X, description = data.load(name)
    assert isinstance(X, pd.DataFrame)
    assert X.shape[0] > 0
    assert X.shape[1] > 0
    assert description


def test_registry_covers_every_source():
    pytest.importorskip("statsmodels")
    prefixes = {name.split("_")[0] for name in data.REGISTRY}
    assert prefixes == {"sklearn", "sm", "credit", "gen"}
    assert len([n for n in data.REGISTRY if n.startswith("sklearn_")]) == 6
    assert len([n for n in data.REGISTRY if n.startswith("sm_")]) >= 25
    assert {"credit", "gen_categories_50000"} <= set(data.REGISTRY)


def test_credit_has_no_target():
    X, _ = data.load("credit")
    assert "risk" not in X.columns


@pytest.mark.parametrize("family", data.FAMILIES)
def test_generated_is_seeded(family):
    a = data.generated(family, 500)
    b = data.generated(family, 500)
    pd.testing.assert_frame_equal(a, b)
    assert len(a) == 500


def test_generated_features():
    cats = data.generated("categories", 5000)
    assert cats["zipf80"].nunique() <= 80
    assert cats["zipf1000"].dtype == object
    assert cats["zipf1000"].nunique() > 300
    singles = cats["singletons30"].str.startswith("single").mean()
    assert 0.25 < singles < 0.35
    miss = data.generated("missing_ties", 5000)
    assert 0.15 < miss["mcar18"].isna().mean() < 0.21
    assert 0 < miss["missing1"].isna().mean() < 0.02
    assert set(miss["binary01"].unique()) == {0, 1}
    assert pd.api.types.is_datetime64_any_dtype(miss["when"])
    counts = data.generated("counts", 5000)
    assert (counts.dtypes == "int64").all()
