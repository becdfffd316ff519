"""TypedImputer against SimpleImputer in a ColumnTransformer doing the same work.

1,000,000 rows x 20 columns: 12 float columns (10% missing, median) and 8 text
columns of the pandas default string dtype (10% missing, most frequent), fit
and transform. Run with::

    pytest benchmarks/bench_impute.py --benchmark-only
"""

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer

from mlpipe.impute import TypedImputer

N_ROWS = 1_000_000
N_NUMERIC = 12
N_TEXT = 8


@pytest.fixture(scope="module")
def frame():
    rng = np.random.default_rng(0)
    data = {}
    for i in range(N_NUMERIC):
        values = rng.lognormal(3, 1, N_ROWS)
        values[rng.random(N_ROWS) < 0.1] = np.nan
        data[f"num{i}"] = values
    levels = np.array([f"level_{k}" for k in range(12)], dtype=object)
    for i in range(N_TEXT):
        values = levels[rng.zipf(1.6, N_ROWS) % len(levels)]
        values[rng.random(N_ROWS) < 0.1] = None
        data[f"text{i}"] = pd.array(values, dtype="str")
    return pd.DataFrame(data)


def _column_transformer(frame):
    numeric = [c for c in frame.columns if c.startswith("num")]
    text = [c for c in frame.columns if c.startswith("text")]
    return ColumnTransformer(
        [
            ("num", SimpleImputer(strategy="median"), numeric),
            ("text", SimpleImputer(strategy="most_frequent"), text),
        ]
    )


@pytest.mark.benchmark(group="impute: fit_transform 1M x 20 mixed")
def test_typed_imputer(benchmark, frame):
    benchmark.extra_info["role"] = "mlpipe"
    out = benchmark.pedantic(lambda: TypedImputer().fit_transform(frame), rounds=3, iterations=1)
    assert not out.isna().any().any()


@pytest.mark.benchmark(group="impute: fit_transform 1M x 20 mixed")
def test_simple_imputer_column_transformer(benchmark, frame):
    benchmark.extra_info["role"] = "peer"
    out = benchmark.pedantic(
        lambda: _column_transformer(frame).fit_transform(frame), rounds=3, iterations=1
    )
    assert out.shape == frame.shape


def test_same_result(frame):
    """The two sides of the benchmark compute the same thing."""
    ours = TypedImputer().fit_transform(frame)
    ref = _column_transformer(frame).fit_transform(frame)
    np.testing.assert_allclose(
        ours.iloc[:, :N_NUMERIC].to_numpy(), ref[:, :N_NUMERIC].astype(float)
    )
    np.testing.assert_array_equal(
        ours.iloc[:, N_NUMERIC:].to_numpy(dtype=object), ref[:, N_NUMERIC:]
    )
