import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numpy.testing import assert_allclose, assert_array_equal
from pandas.testing import assert_frame_equal
from sklearn.base import clone
from sklearn.compose import ColumnTransformer, make_column_selector
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from mlpipe.datasets import load_credit
from mlpipe.exceptions import DataQualityWarning
from mlpipe.impute import TypedImputer


def _numeric_frame(seed=0, n=200, p=4, missing=0.2):
    rng = np.random.default_rng(seed)
    values = rng.normal(size=(n, p)) * rng.uniform(1, 100, size=p)
    values[rng.random((n, p)) < missing] = np.nan
    return pd.DataFrame(values, columns=[f"f{i}" for i in range(p)])


@pytest.mark.parametrize("strategy", ["mean", "median", "most_frequent", "constant"])
def test_numeric_equals_simple_imputer(strategy):
    X = _numeric_frame()
    # Round so that most_frequent has real modes and ties to break.
    X = X.round(0)
    ours = TypedImputer(numeric_strategy=strategy, fill_value=-7.5).fit(X)
    ref = SimpleImputer(strategy=strategy, fill_value=-7.5).fit(X)
    assert_allclose(ours.statistics_.astype(float), ref.statistics_.astype(float), rtol=1e-12)
    assert_allclose(ours.transform(X).to_numpy(), ref.transform(X), rtol=1e-12)


@pytest.mark.parametrize("strategy", ["most_frequent", "constant"])
def test_categorical_equals_simple_imputer(strategy):
    rng = np.random.default_rng(1)
    values = rng.choice(np.array(["a", "b", "c", "d"], dtype=object), size=(300, 3))
    values[rng.random(values.shape) < 0.25] = np.nan
    X = pd.DataFrame(values, columns=["x", "y", "z"], dtype=object)
    ours = TypedImputer(categorical_strategy=strategy, fill_value="missing").fit(X)
    ref = SimpleImputer(strategy=strategy, fill_value="missing").fit(X.to_numpy())
    assert_array_equal(ours.statistics_, ref.statistics_)
    assert_array_equal(ours.transform(X).to_numpy(), ref.transform(X.to_numpy()))


def test_most_frequent_tie_goes_to_smallest_like_simple_imputer():
    X = pd.DataFrame({"n": [3.0, 3.0, 1.0, 1.0, np.nan], "c": ["b", "b", "a", "a", None]})
    ours = TypedImputer(numeric_strategy="most_frequent").fit(X)
    assert ours.statistics_.tolist() == [1.0, "a"]
    ref = SimpleImputer(strategy="most_frequent").fit(X[["n"]])
    assert ref.statistics_[0] == 1.0


def test_credit_data_strategy_per_type_and_dtypes_kept():
    X, _ = load_credit(return_X_y=True, unknown_as_missing=True)
    out = TypedImputer().fit_transform(X)
    assert_array_equal(out.dtypes.to_numpy(), X.dtypes.to_numpy())
    assert not out.isna().any().any()
    assert out.index.equals(X.index)
    # The categorical gaps got the most frequent category of their column.
    for col in ("saving_accounts", "checking_account"):
        top = X[col].value_counts().idxmax()
        assert (out.loc[X[col].isna(), col] == top).all()


def test_dtype_rules():
    X = pd.DataFrame(
        {
            "cat": pd.Categorical(["a", None, "a"]),
            "int_ok": pd.array([1, None, 3], dtype="Int64"),
            "int_half": pd.array([1, None, 2], dtype="Int64"),
            "f32": np.array([1.0, np.nan, 3.0], dtype=np.float32),
            "flag": pd.array([True, None, True], dtype="boolean"),
            "text": pd.Series(["x", None, "x"], dtype="string"),
            "when": pd.to_datetime(["2024-01-01", None, "2024-01-03"]),
        }
    )
    imp = TypedImputer(strategies={"int_half": "mean"}).fit(X)
    out = imp.transform(X)
    assert out["cat"].dtype == X["cat"].dtype and out.loc[1, "cat"] == "a"
    assert out["int_ok"].dtype == "Int64" and out.loc[1, "int_ok"] == 2
    # mean of 1 and 2 is 1.5: the column widens to float, never rounds
    assert out["int_half"].dtype == "Float64" and out.loc[1, "int_half"] == 1.5
    assert out["f32"].dtype == np.float32 and out.loc[1, "f32"] == 2.0
    assert out["flag"].dtype == "boolean" and out.loc[1, "flag"]
    assert out["text"].dtype == X["text"].dtype and out.loc[1, "text"] == "x"
    assert out["when"].dtype == X["when"].dtype
    assert out.loc[1, "when"] == pd.Timestamp("2024-01-02")


def test_constant_adds_category_and_respects_fill_value_dict():
    X = pd.DataFrame({"cat": pd.Categorical(["a", None]), "num": [1.0, np.nan]})
    out = TypedImputer(
        numeric_strategy="constant",
        categorical_strategy="constant",
        fill_value={"num": -1.0},
    ).fit_transform(X)
    assert list(out["cat"].cat.categories) == ["a", "missing"]
    assert out["cat"].tolist() == ["a", "missing"]
    assert out["num"].tolist() == [1.0, -1.0]


def test_pd_na_and_none_are_missing():
    X = pd.DataFrame(
        {"o": pd.Series(["u", pd.NA, None, "u"], dtype=object), "n": [1.0, None, 2.0, 3.0]}
    )
    out = TypedImputer().fit_transform(X)
    assert out["o"].tolist() == ["u", "u", "u", "u"]
    assert out["n"].tolist() == [1.0, 2.0, 2.0, 3.0]


@pytest.mark.parametrize(
    "add_indicator, expected",
    [
        (False, []),
        ("auto", ["missingindicator_a"]),
        (True, ["missingindicator_a"]),
        ("all", ["missingindicator_a", "missingindicator_b"]),
    ],
)
def test_indicators(add_indicator, expected):
    X_fit = pd.DataFrame({"a": [1.0, np.nan, 3.0], "b": [1.0, 2.0, 3.0]})
    X_new = pd.DataFrame({"a": [np.nan, 1.0], "b": [np.nan, np.nan]})
    imp = TypedImputer(add_indicator=add_indicator).fit(X_fit)
    out = imp.transform(X_new)
    assert list(out.columns) == ["a", "b", *expected]
    assert list(imp.get_feature_names_out()) == ["a", "b", *expected]
    for name in expected:
        source = name.removeprefix("missingindicator_")
        assert out[name].dtype == bool
        assert_array_equal(out[name].to_numpy(), X_new[source].isna().to_numpy())


def test_column_complete_at_fit_but_missing_later_is_filled():
    X_fit = pd.DataFrame({"a": [1.0, 2.0, 4.0], "c": ["x", "y", "y"]})
    X_new = pd.DataFrame({"a": [np.nan], "c": [None]})
    out = TypedImputer().fit(X_fit).transform(X_new)
    assert out.iloc[0].tolist() == [2.0, "y"]


def test_all_missing_column_is_kept_with_warning():
    X = pd.DataFrame(
        {"a": [np.nan, np.nan], "c": pd.Series([None, None], dtype=object), "ok": [1.0, 2.0]}
    )
    with pytest.warns(DataQualityWarning, match="'a', 'c'"):
        imp = TypedImputer().fit(X)
    assert imp.strategies_ == {"a": "constant", "c": "constant", "ok": "median"}
    out = imp.transform(X)
    assert list(out.columns) == ["a", "c", "ok"]
    assert out["a"].tolist() == [0.0, 0.0]
    assert out["c"].tolist() == ["missing", "missing"]
    # SimpleImputer drops such a column unless told otherwise: we never do.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert SimpleImputer().fit_transform(X[["a", "ok"]]).shape[1] == 1


def test_unsupported_dtypes_are_named():
    X = pd.DataFrame({"ok": [1.0, 2.0], "span": pd.arrays.IntervalArray.from_breaks([0, 1, 2])})
    with pytest.raises(TypeError, match=r"'span': interval"):
        TypedImputer().fit(X)
    with pytest.raises(ValueError, match="Complex data not supported"):
        TypedImputer().fit(pd.DataFrame({"z": [1 + 2j, 3j]}))


def test_strategy_overrides_are_checked():
    X = pd.DataFrame({"c": ["a", None], "n": [1.0, np.nan]})
    with pytest.raises(ValueError, match=r"strategies\['c'\]='median'.*categorical"):
        TypedImputer(strategies={"c": "median"}).fit(X)
    with pytest.raises(ValueError, match="not in X"):
        TypedImputer(strategies={"nope": "mean"}).fit(X)
    with pytest.raises(ValueError, match="numeric_strategy"):
        TypedImputer(numeric_strategy="average").fit(X)


def test_numpy_in_numpy_out_and_object_arrays():
    X = np.array([[1.0, np.nan], [np.nan, 4.0], [3.0, 5.0]])
    out = TypedImputer().fit_transform(X)
    assert isinstance(out, np.ndarray) and out.dtype == np.float64
    assert_array_equal(out, [[1.0, 4.5], [2.0, 4.0], [3.0, 5.0]])
    mixed = np.array([[1.0, "a"], [np.nan, None], [3.0, "a"]], dtype=object)
    out = TypedImputer().fit_transform(mixed)
    assert out[1, 0] == 2.0 and out[1, 1] == "a"


def test_caller_data_not_modified():
    X, _ = load_credit(return_X_y=True, unknown_as_missing=True)
    before = X.copy(deep=True)
    TypedImputer(add_indicator="all").fit(X).transform(X)
    assert_frame_equal(X, before)


def test_in_column_transformer_pipeline_grid_search_clone_pickle():
    X, y = load_credit(return_X_y=True, unknown_as_missing=True)
    pre = ColumnTransformer(
        [
            (
                "num",
                make_pipeline(TypedImputer(), StandardScaler()),
                make_column_selector(dtype_include="number"),
            ),
            (
                "cat",
                make_pipeline(TypedImputer(), OneHotEncoder(handle_unknown="ignore")),
                make_column_selector(dtype_include="category"),
            ),
        ],
        verbose_feature_names_out=False,
    )
    model = make_pipeline(pre, LogisticRegression(max_iter=2000))
    search = GridSearchCV(
        model,
        {"columntransformer__num__typedimputer__numeric_strategy": ["mean", "median"]},
        cv=3,
    ).fit(X, y)
    assert search.best_score_ > 0.6
    names = search.best_estimator_[0].get_feature_names_out()
    assert "credit_amount" in names and "saving_accounts_little" in names
    restored = pickle.loads(pickle.dumps(search.best_estimator_))
    assert_array_equal(restored.predict(X), search.predict(X))
    cloned = clone(TypedImputer(strategies={"age": "mean"}, add_indicator="auto"))
    assert cloned.get_params()["strategies"] == {"age": "mean"}


def test_set_output_pandas_on_array_input():
    X = np.array([[1.0, np.nan], [np.nan, 4.0]])
    out = TypedImputer(add_indicator="auto").set_output(transform="pandas").fit_transform(X)
    assert list(out.columns) == ["x0", "x1", "missingindicator_x0", "missingindicator_x1"]


@settings(max_examples=40, deadline=None)
@given(
    arrays(
        np.float64,
        st.tuples(st.integers(2, 30), st.integers(1, 4)),
        elements=st.one_of(st.just(np.nan), st.floats(-1e6, 1e6)),
    ),
    st.sampled_from(["mean", "median", "most_frequent"]),
)
def test_property_matches_simple_imputer_and_keeps_observed(values, strategy):
    X = pd.DataFrame(values, columns=[f"c{i}" for i in range(values.shape[1])])
    observed_cols = X.notna().any().to_numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        out = TypedImputer(numeric_strategy=strategy).fit_transform(X)
    assert not out.isna().any().any()
    mask = X.notna().to_numpy()
    assert_array_equal(out.to_numpy()[mask], values[mask])
    if observed_cols.any():
        kept = X.loc[:, observed_cols]
        ref = SimpleImputer(strategy=strategy).fit_transform(kept)
        assert_allclose(out.loc[:, observed_cols].to_numpy(), ref, rtol=1e-12, atol=1e-12)
