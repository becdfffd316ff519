"""explain() on wide models: memory grows with the number of columns, not
its square. Memory is measured (tracemalloc peak over the explain call), never
time; the values are checked against shap run by hand on the transformed
matrix and against the model's own output (additivity)."""

import tracemalloc
import warnings

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from mlpipe.explain import explain
from mlpipe.explain._explainer import TOLERANCE

# A few hundred MB: a dense (output x raw) folding matrix needs 18.6 GiB for
# the first case below and 763 MiB for the second.
MEMORY_BOUND = 256 * 2**20


def _shap():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        import shap
    return shap


def _explain_measured(model, X):
    tracemalloc.start()
    try:
        explanation = explain(model, X)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return explanation, peak


def test_50000_raw_numeric_columns():
    rng = np.random.default_rng(0)
    n, n_raw = 12, 50_000
    X = rng.normal(size=(n, n_raw))
    y = X[:, :10].sum(axis=1) + rng.normal(size=n)
    # Two halves in another order than the input, so the folding is a
    # permutation and not the identity.
    odd, even = np.arange(1, n_raw, 2), np.arange(0, n_raw, 2)
    pre = ColumnTransformer([("odd", StandardScaler(), odd), ("even", "passthrough", even)])
    model = make_pipeline(pre, LinearRegression()).fit(X, y)

    explanation, peak = _explain_measured(model, X)

    assert peak < MEMORY_BOUND, f"explain peaked at {peak / 2**20:.0f} MiB"
    assert explanation.method == "linear"
    assert explanation.values.shape == (n, n_raw)
    Xt = model[:-1].transform(X)
    direct = _shap().LinearExplainer(model[-1], Xt).shap_values(Xt)
    # The raw column of each transformed one, read from scikit-learn's names
    # ("odd__x17" comes from x17).
    owner = [int(name.split("__x")[1]) for name in model[:-1].get_feature_names_out()]
    expected = np.zeros((n, n_raw))
    expected[:, owner] = direct
    np.testing.assert_allclose(explanation.values, expected, rtol=0, atol=1e-12)
    total = explanation.base_values + explanation.values.sum(axis=1)
    np.testing.assert_allclose(total, model.predict(X), rtol=0, atol=TOLERANCE)


def test_50000_one_hot_columns():
    n_raw, n_categories = 2_000, 25
    n = n_categories
    # Row i holds category (i + j) % 25 in column j: every column sees all
    # 25 categories, so the encoder outputs 2,000 x 25 = 50,000 columns.
    X = (np.arange(n)[:, None] + np.arange(n_raw)[None, :]) % n_categories
    y = (X[:, 0] < 12).astype(int)
    model = make_pipeline(OneHotEncoder(), LogisticRegression()).fit(X, y)

    explanation, peak = _explain_measured(model, X)

    assert peak < MEMORY_BOUND, f"explain peaked at {peak / 2**20:.0f} MiB"
    assert explanation.method == "linear" and explanation.output == "log_odds"
    Xt = model[:-1].transform(X).toarray()
    assert Xt.shape[1] == 50_000
    direct = _shap().LinearExplainer(model[-1], Xt).shap_values(Xt)
    # One-hot outputs come column by column: raw column j owns outputs
    # 25 j .. 25 j + 24.
    expected = direct.reshape(n, n_raw, n_categories).sum(axis=2)
    np.testing.assert_allclose(explanation.values, expected, rtol=0, atol=1e-12)
    total = explanation.base_values + explanation.values.sum(axis=1)
    np.testing.assert_allclose(total, model.decision_function(X), rtol=0, atol=TOLERANCE)


def test_memory_is_linear_in_the_columns():
    """Doubling the columns at most doubles the peak (plus a constant)."""
    rng = np.random.default_rng(1)
    peaks = []
    for width in (1_500, 3_000):
        X = rng.normal(size=(10, width))
        model = make_pipeline(
            ColumnTransformer([("s", StandardScaler(), np.arange(width)[::-1])]),
            LinearRegression(),
        ).fit(X, X[:, 0])
        peaks.append(_explain_measured(model, X)[1])
    # A quadratic folding matrix (18 MB, then 72 MB) would be 4x; the
    # constant covers shap's and pandas' fixed allocations.
    assert peaks[1] < 2.5 * peaks[0] + 2 * 2**20, peaks
