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
from mlpipe.explain._folding import fold_values, source_columns
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


def _fold_naive(values, sources, n_features):
    """The oracle: a dense 0/1 matrix, the way folding was first written."""
    matrix = np.zeros((len(sources), n_features))
    matrix[np.arange(len(sources)), sources] = 1.0
    return np.einsum("nf...,fr->nr...", values, matrix)


def test_fold_values_keeps_row_sums():
    sources = np.array([0, 0, 2, 1, 2])
    values = np.arange(10.0).reshape(2, 5)
    folded = fold_values(values, sources, 3)
    np.testing.assert_array_equal(folded, [[1, 3, 6], [11, 8, 16]])
    np.testing.assert_array_equal(folded.sum(axis=1), values.sum(axis=1))


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("classes", [None, 3])
@pytest.mark.parametrize("kind", ["repeated", "distinct"])
def test_fold_values_equals_dense_matrix(seed, classes, kind):
    rng = np.random.default_rng(seed)
    n_raw = int(rng.integers(1, 8))
    # Unsorted sources, raw columns with several outputs (or each output its
    # own raw column) and raw columns with none (dropped by the pipeline).
    if kind == "repeated":
        sources = rng.integers(0, n_raw, size=int(rng.integers(n_raw + 1, 12)))
    else:
        sources = rng.permutation(n_raw)[: int(rng.integers(0, n_raw + 1))]
    shape = (4, len(sources)) if classes is None else (4, len(sources), classes)
    values = rng.normal(size=shape)
    before = values.copy()
    folded = fold_values(values, sources, n_raw)
    np.testing.assert_allclose(folded, _fold_naive(values, sources, n_raw), atol=1e-12)
    assert folded.shape == (4, n_raw, *shape[2:])
    np.testing.assert_array_equal(values, before)


def test_fold_values_identity_is_a_copy():
    values = np.arange(6.0).reshape(2, 3)
    folded = fold_values(values, np.arange(3), 3)
    np.testing.assert_array_equal(folded, values)
    assert folded is not values and folded.flags.writeable


def test_fold_values_length_mismatch():
    with pytest.raises(FoldingError, match="outputs 3 columns but 2 were traced"):
        fold_values(np.zeros((1, 3)), np.array([0, 1]), 2)
