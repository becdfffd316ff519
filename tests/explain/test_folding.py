"""Tracing transformed columns back to raw columns, checked against the
names scikit-learn gives the transformed columns."""

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.decomposition import PCA
from sklearn.impute import SimpleImputer
from sklearn.pipeline import FeatureUnion, make_pipeline
from sklearn.preprocessing import (
    FunctionTransformer,
    KBinsDiscretizer,
    OneHotEncoder,
    PolynomialFeatures,
    StandardScaler,
)

from mlpipe.explain import FoldingError
from mlpipe.explain._folding import fold_matrix, source_columns
from mlpipe.impute import TypedImputer


@pytest.fixture
def frame():
    rng = np.random.default_rng(0)
    n = 60
    return pd.DataFrame(
        {
            "city": rng.choice(["Oslo", "Rome", "Lima", "Kyiv"], n, p=[0.45, 0.45, 0.05, 0.05]),
            "income": np.where(rng.random(n) < 0.1, np.nan, rng.normal(50, 10, n)),
            "age": rng.integers(18, 80, n).astype(float),
            "city_size": rng.choice(["big", "small"], n),  # a name that prefixes nothing
        }
    )


def _owner_by_name(name, raw):
    """Which raw column a ColumnTransformer output name comes from: the one
    whose name, after the transformer prefix, starts the output name."""
    body = name.split("__", 1)[1].removeprefix("missingindicator_")
    owners = [c for c in raw if body == c or body.startswith(c + "_")]
    # "city" prefixes "city_size_big" too: the longest match owns it
    return max(owners, key=len)


@pytest.mark.parametrize(
    "ct",
    [
        ColumnTransformer(
            [
                ("cat", OneHotEncoder(drop="first"), ["city", "city_size"]),
                (
                    "num",
                    make_pipeline(TypedImputer(add_indicator="all"), StandardScaler()),
                    ["income", "age"],
                ),
            ]
        ),
        ColumnTransformer(
            [
                (
                    "cat",
                    OneHotEncoder(min_frequency=5, handle_unknown="infrequent_if_exist"),
                    ["city"],
                ),
                ("num", SimpleImputer(add_indicator=True), ["income"]),
            ],
            remainder="passthrough",
        ),
        ColumnTransformer(
            [
                (
                    "num",
                    make_pipeline(
                        SimpleImputer(),
                        KBinsDiscretizer(
                            3, encode="onehot-dense", quantile_method="averaged_inverted_cdf"
                        ),
                    ),
                    ["income"],
                ),
                ("drop_me", "drop", ["age"]),
                ("same", FunctionTransformer(feature_names_out="one-to-one"), ["age"]),
            ],
            remainder=OneHotEncoder(),
        ),
    ],
    ids=["drop-first+indicators", "infrequent+remainder", "bins+drop+remainder-encoder"],
)
def test_sources_match_output_names(frame, ct):
    ct.fit(frame)
    raw = list(frame.columns)
    sources = source_columns(ct, len(raw))
    names = ct.get_feature_names_out()
    assert len(sources) == len(names) == ct.transform(frame).shape[1]
    assert [raw[s] for s in sources] == [_owner_by_name(n, raw) for n in names]


def test_feature_union_and_nested_pipeline(frame):
    numbers = frame[["income", "age"]]
    union = make_pipeline(
        SimpleImputer(),
        FeatureUnion(
            [
                ("scaled", StandardScaler()),
                ("same", FunctionTransformer(feature_names_out="one-to-one")),
            ]
        ),
    ).fit(numbers)
    assert source_columns(union, 2).tolist() == [0, 1, 0, 1]


@pytest.mark.parametrize("step", [PCA(2), PolynomialFeatures(2)])
def test_mixing_steps_cannot_be_folded(frame, step):
    numbers = frame[["income", "age"]].fillna(0)
    pipe = make_pipeline(StandardScaler(), step).fit(numbers)
    with pytest.raises(FoldingError, match=type(step).__name__):
        source_columns(pipe, 2)


def test_step_without_feature_names(frame):
    pipe = make_pipeline(FunctionTransformer(np.log1p)).fit(frame[["age"]])
    with pytest.raises(FoldingError, match="no get_feature_names_out"):
        source_columns(pipe, 1)


def test_fold_matrix_keeps_row_sums():
    sources = np.array([0, 0, 2, 1, 2])
    matrix = fold_matrix(sources, 3)
    values = np.arange(10.0).reshape(2, 5)
    folded = values @ matrix
    np.testing.assert_array_equal(folded, [[1, 3, 6], [11, 8, 16]])
    np.testing.assert_array_equal(folded.sum(axis=1), values.sum(axis=1))
