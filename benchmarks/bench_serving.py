"""One-row calls, as a service makes them: each mlpipe step and the guarded
pipeline against the same pipeline without mlpipe's steps (issue 16).

The model is HistGradientBoosting on the credit data. The bare pipeline is
scikit-learn's own (SimpleImputer and OneHotEncoder in a ColumnTransformer,
then the model); the guarded one puts SchemaValidator, a windowed
DriftMonitor (window=1000) and TypedImputer in front of the same encoder and
model. Every call scores one clean credit row (a different row each round).
Run with one thread::

    OMP_NUM_THREADS=1 pytest benchmarks/bench_serving.py --benchmark-only

The issue's goals: each mlpipe step <= 0.3 ms median per 1-row call, the
windowed DriftMonitor <= 0.05 ms amortized per row, the guarded pipeline's
overhead <= 10% of the bare pipeline's time. The table states p99 too
(``--benchmark-columns=median,max`` or the JSON output).
"""

import itertools

import pytest
from sklearn.compose import ColumnTransformer, make_column_selector
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder

from mlpipe.datasets import load_credit
from mlpipe.drift import DriftMonitor
from mlpipe.impute import TypedImputer
from mlpipe.validation import SchemaValidator


@pytest.fixture(scope="module")
def data():
    X, y = load_credit(return_X_y=True, unknown_as_missing=True)
    rows = [X.iloc[[i]] for i in range(len(X))]
    return X, y, rows


def _encoder():
    return ColumnTransformer(
        [
            (
                "text",
                OneHotEncoder(handle_unknown="ignore", sparse_output=False),
                make_column_selector(dtype_include=["category", "object"]),
            )
        ],
        remainder="passthrough",
    )


@pytest.fixture(scope="module")
def models(data):
    X, y, _ = data
    bare = Pipeline(
        [
            (
                "impute",
                ColumnTransformer(
                    [
                        (
                            "num",
                            SimpleImputer(strategy="median"),
                            make_column_selector(dtype_include="number"),
                        ),
                        (
                            "text",
                            SimpleImputer(strategy="most_frequent"),
                            make_column_selector(dtype_include=["category", "object"]),
                        ),
                    ],
                    verbose_feature_names_out=False,
                ).set_output(transform="pandas"),
            ),
            ("encode", _encoder()),
            ("model", HistGradientBoostingClassifier(random_state=0)),
        ]
    ).fit(X, y)
    guarded = make_pipeline(
        SchemaValidator(),
        DriftMonitor(window=1000),
        TypedImputer(),
        _encoder(),
        HistGradientBoostingClassifier(random_state=0),
    ).fit(X, y)
    return bare, guarded


def _cycle(rows):
    it = itertools.cycle(rows)
    return lambda: next(it)


@pytest.mark.benchmark(group="one row: whole pipeline, predict_proba")
def test_bare_pipeline(benchmark, data, models):
    next_row = _cycle(data[2])
    benchmark.extra_info["role"] = "peer"
    benchmark(lambda: models[0].predict_proba(next_row()))


@pytest.mark.benchmark(group="one row: whole pipeline, predict_proba")
def test_guarded_pipeline(benchmark, data, models):
    next_row = _cycle(data[2])
    benchmark.extra_info["role"] = "mlpipe"
    benchmark(lambda: models[1].predict_proba(next_row()))


@pytest.mark.benchmark(group="one row: each mlpipe step")
@pytest.mark.parametrize(
    "step",
    [SchemaValidator, lambda: DriftMonitor(window=1000), TypedImputer],
    ids=["SchemaValidator", "DriftMonitor(window=1000)", "TypedImputer"],
)
def test_step(benchmark, data, step):
    X, _, rows = data
    fitted = step().fit(X)
    next_row = _cycle(rows)
    benchmark.extra_info["role"] = "mlpipe"
    benchmark(lambda: fitted.transform(next_row()))


@pytest.mark.benchmark(group="one row: each mlpipe step")
def test_simple_imputer_peer(benchmark, data, models):
    """scikit-learn's imputation step of the bare pipeline, for scale."""
    _, _, rows = data
    imputer = models[0].named_steps["impute"]
    next_row = _cycle(rows)
    benchmark.extra_info["role"] = "peer"
    benchmark(lambda: imputer.transform(next_row()))
