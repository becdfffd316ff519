"""Imputer statistics of finite values near the largest float (issue 14,
item 4) and a fill_value dict naming no column (item 11)."""

import statistics
import sys
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from sklearn.impute import SimpleImputer

from mlpipe.impute import GroupImputer, TypedImputer

HUGE = [1e308, 1.5e308, np.nan, 1.2e308, 1.1e308]


def _exact_median(values):
    s = sorted(Fraction(v) for v in values)
    n = len(s)
    return float(s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2)


def _exact_mean(values):
    return float(sum(Fraction(v) for v in values) / len(values))


@pytest.mark.parametrize(
    "values",
    [
        HUGE,
        [sys.float_info.max, sys.float_info.max, np.nan],
        [-1.7e308, -1.6e308, 1.0e308, np.nan, -1.0e308],
        [1.7e308, 1.6e308, 1.0, np.nan, 5e-324],
    ],
)
@pytest.mark.parametrize("strategy", ["median", "mean"])
def test_statistics_near_the_largest_float_are_exact_and_finite(values, strategy):
    X = pd.DataFrame({"a": values})
    observed = [v for v in values if not np.isnan(v)]
    exact = _exact_median(observed) if strategy == "median" else _exact_mean(observed)
    # Python's statistics module agrees (its mean is exact; its median of
    # two middle values overflows, so the median is checked on Fractions).
    if strategy == "mean":
        assert statistics.mean(observed) == exact
    stat = TypedImputer(numeric_strategy=strategy).fit(X).statistics_[0]
    assert np.isfinite(stat)
    assert stat == pytest.approx(exact, rel=2**-52, abs=0)
    out = TypedImputer(numeric_strategy=strategy).fit_transform(X)
    assert np.isfinite(out["a"]).all()


@pytest.mark.parametrize("strategy", ["median", "mean"])
def test_group_statistics_near_the_largest_float_are_finite(strategy):
    X = pd.DataFrame({"g": [0, 0, 0, 0, 0, 1, 1], "a": [*HUGE, 1.0, np.nan]})
    imp = GroupImputer(by="g", numeric_strategy=strategy).fit(X)
    observed = [v for v in HUGE if not np.isnan(v)]
    exact = _exact_median(observed) if strategy == "median" else _exact_mean(observed)
    assert imp.group_statistics_["a"][0] == pytest.approx(exact, rel=2**-52, abs=0)
    out = imp.transform(X)
    assert np.isfinite(out["a"]).all()
    assert out["a"].iloc[2] == imp.group_statistics_["a"][0]


@pytest.mark.parametrize("strategy", ["median", "mean"])
def test_ordinary_values_still_equal_simple_imputer(strategy):
    rng = np.random.default_rng(0)
    X = rng.normal(1e5, 3e4, size=(101, 3))
    X[rng.random(X.shape) < 0.2] = np.nan
    ours = TypedImputer(numeric_strategy=strategy).fit(X).statistics_.astype(float)
    theirs = SimpleImputer(strategy=strategy).fit(X).statistics_
    # SimpleImputer's mean (of a masked array) sums in another order.
    np.testing.assert_allclose(ours, theirs, rtol=0 if strategy == "median" else 1e-15)


def test_fill_value_naming_no_column_is_an_error():
    X = pd.DataFrame({"age": [30.0, np.nan], "city": ["Oslo", None]})
    imp = TypedImputer(numeric_strategy="constant", fill_value={"agee": -1})
    with pytest.raises(ValueError, match=r"fill_value names column\(s\) 'agee'.*'age', 'city'"):
        imp.fit(X)


def test_fill_value_dict_of_known_columns_is_used():
    X = pd.DataFrame({"age": [30.0, np.nan], "city": ["Oslo", None]})
    imp = TypedImputer(
        numeric_strategy="constant",
        categorical_strategy="constant",
        fill_value={"age": -1},
    )
    out = imp.fit_transform(X)
    assert out["age"].tolist() == [30.0, -1.0]
    assert out["city"].tolist() == ["Oslo", "missing"]
