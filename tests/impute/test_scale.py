"""TypedImputer on data larger than memory (issue 18): partial_fit over
chunks and fit/transform on a dask DataFrame equal fit/transform on the
concatenated frame; the median's rank error bound beyond the exact budget."""

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlpipe.datasets import load_credit
from mlpipe.impute import TypedImputer
from mlpipe.impute._sketch import merge_summaries, middle_values, value_summary
from tests._dask import local_client

dask = pytest.importorskip("dask")
dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")


def _frame(n=4000, seed=0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {
            "f": rng.normal(size=n),
            "ties": rng.integers(0, 4, n).astype(float),
            "i": rng.integers(0, 5, n),
            "t": pd.date_range("2020-01-01", periods=n, freq="h"),
            "c": pd.Categorical(rng.choice(["a", "b", "c"], n)),
            "s": pd.Series(rng.choice(["x", "y"], n), dtype="str"),
            "ni": pd.array(rng.integers(0, 10, n), dtype="Int64"),
        }
    )
    for col in ["f", "ties", "t", "c", "s", "ni"]:
        X.loc[rng.random(n) < 0.1, col] = None
    return X


def _same(a, b):
    assert len(a.statistics_) == len(b.statistics_)
    for u, v in zip(a.statistics_, b.statistics_, strict=True):
        assert (u == v) or (pd.isna(u) and pd.isna(v)), (u, v)
    assert a.strategies_ == b.strategies_ and a.kinds_ == b.kinds_
    np.testing.assert_array_equal(a.indicator_features_, b.indicator_features_)


STRATEGIES = ["median", "mean", "most_frequent", "constant"]


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("which", ["credit", "generated"])
def test_partial_fit_equals_fit_on_the_whole(strategy, which):
    X = load_credit(return_X_y=True)[0] if which == "credit" else _frame()
    before = X.copy()
    whole = TypedImputer(numeric_strategy=strategy, add_indicator="auto").fit(X)
    chunked = TypedImputer(numeric_strategy=strategy, add_indicator="auto")
    for start in range(0, len(X), 333):
        chunked.partial_fit(X.iloc[start : start + 333])
    _same(whole, chunked)
    assert chunked.n_rank_error_ == {}
    pd.testing.assert_frame_equal(chunked.transform(X), whole.transform(X))
    pd.testing.assert_frame_equal(X, before)


def test_the_mean_is_correctly_rounded_whatever_the_chunks():
    from fractions import Fraction

    rng = np.random.default_rng(1)
    values = rng.normal(0, 1e10, 5001) * 10.0 ** rng.integers(-30, 30, 5001)
    X = pd.DataFrame({"x": values})
    exact = float(sum(Fraction(v) for v in values) / len(values))
    chunked = TypedImputer(numeric_strategy="mean")
    for start in range(0, len(X), 700):
        chunked.partial_fit(X.iloc[start : start + 700])
    assert chunked.statistics_[0] == exact
    assert TypedImputer(numeric_strategy="mean").fit(X).statistics_[0] == exact


def test_chunks_must_agree():
    X = _frame(100)
    imp = TypedImputer().partial_fit(X.iloc[:50])
    with pytest.raises(ValueError, match="Feature names seen at fit time, yet now missing"):
        imp.partial_fit(X.iloc[50:].drop(columns="f"))
    with pytest.raises(TypeError, match="column 'i' is categorical in a chunk but numeric"):
        imp.partial_fit(X.iloc[50:].assign(i="text"))


@pytest.fixture(scope="module")
def client():
    with local_client() as client:
        yield client


def _check_dask(X, strategies=STRATEGIES, npartitions=5):
    ddf = dd.from_pandas(X, npartitions=npartitions)
    X_d = ddf.compute()  # dask's own text dtype: the oracle sees the same frame
    for strategy in strategies:
        whole = TypedImputer(numeric_strategy=strategy, add_indicator="auto").fit(X_d)
        fitted = TypedImputer(numeric_strategy=strategy, add_indicator="auto").fit(ddf)
        _same(whole, fitted)
        assert not hasattr(fitted, "summary_")
        out = fitted.transform(ddf)
        assert isinstance(out, dd.DataFrame)
        pd.testing.assert_frame_equal(out.compute(), whole.transform(X_d))


def test_dask_equals_pandas_threaded():
    with dask.config.set(scheduler="threads"):
        _check_dask(_frame())
        _check_dask(load_credit(return_X_y=True)[0])


def test_dask_equals_pandas_on_a_local_cluster(client):
    # the threaded test covers every strategy on both frames; here, that the
    # summaries and the fill travel to worker processes and back
    _check_dask(_frame(), ["median", "most_frequent"], npartitions=3)


def test_a_column_beyond_the_budget_has_a_bounded_median():
    rng = np.random.default_rng(2)
    X = pd.DataFrame({"x": rng.normal(size=20000)})
    imp = TypedImputer(max_exact_values=512)
    for start in range(0, len(X), 1500):
        imp.partial_fit(X.iloc[start : start + 1500])
    e, n, k = imp.n_rank_error_["x"], 20000, 64
    assert 0 < e <= math.ceil(n * (math.log2(n / k) + 1) / k)
    m = imp.statistics_[0]
    values = X["x"].to_numpy()
    assert (values < m).sum() <= n / 2 + e and (values <= m).sum() >= n / 2 - e


@settings(max_examples=40, deadline=None)
@given(
    values=st.lists(
        st.one_of(st.integers(-50, 50).map(float), st.floats(-1e6, 1e6)), min_size=1, max_size=600
    ),
    cuts=st.lists(st.integers(0, 600), max_size=6),
    budget=st.sampled_from([16, 40, 1000]),
)
def test_sketch_rank_bound_holds(values, cuts, budget):
    values = np.asarray(values)
    k = budget // 8
    bounds = sorted({0, len(values), *[c % (len(values) + 1) for c in cuts]})
    parts = [value_summary(values[a:b], budget, k) for a, b in itertools.pairwise(bounds)]
    summary = merge_summaries(parts)
    n, e = len(values), summary["error"]
    assert summary["n"] == n
    low, high = middle_values(summary)
    if summary["levels"] is None:
        assert e == 0
        ordered = np.sort(values)
        assert (low, high) == (ordered[(n - 1) // 2], ordered[n // 2])
    else:
        assert e <= math.ceil(n * (math.log2(n / k) + 1) / k)
        assert (values < low).sum() <= n / 2 + e and (values <= low).sum() >= n / 2 - e


def test_partial_fit_state_is_saved(tmp_path):
    import mlpipe

    X = _frame(500)
    imp = TypedImputer(max_exact_values=64)
    imp.partial_fit(X.iloc[:250])
    path = tmp_path / "imp.skops"
    mlpipe.save(imp, path)
    loaded = mlpipe.load(path)
    loaded.partial_fit(X.iloc[250:])
    imp.partial_fit(X.iloc[250:])
    _same(loaded, imp)


def test_median_summary_levels_hold_their_own_values_not_views():
    from mlpipe.impute._sketch import merge_summaries, value_summary

    rng = np.random.default_rng(0)
    first = value_summary(rng.normal(size=50_000), 1024, 128)
    summary = merge_summaries([first, value_summary(rng.normal(size=20_000), 1024, 128)])
    for s in (first, summary):
        assert s["levels"] is not None
        assert all(level.base is None for level in s["levels"])
