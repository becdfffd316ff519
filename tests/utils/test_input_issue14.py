"""The shared input layer (mlpipe.utils._dataframe) on the inputs of issue 14:
a boolean column that comes back as 0/1 (item 2), and a model fitted on an
array given a DataFrame or the reverse (item 8)."""

import warnings

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_array_equal
from pandas.testing import assert_frame_equal
from sklearn.base import clone

from mlpipe.automl import TabularEncoder
from mlpipe.drift import ChiSquareDrift, DriftDetector, DriftMonitor, KSDrift, PSIDrift
from mlpipe.impute import GroupImputer, TypedImputer
from mlpipe.utils._dataframe import BOOLEAN, NUMERIC, check_kinds
from mlpipe.validation import SchemaValidator


def _bool_frame(n=200, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "flag": rng.random(n) < 0.3,
            "colour": rng.choice(["red", "blue"], size=n),
            "x": rng.normal(size=n),
        }
    )


# -- item 2: a boolean column that arrives as 0/1 ------------------------------


@pytest.mark.parametrize("dtype", ["int64", "float64", "Int64"])
def test_check_kinds_reads_zero_one_as_the_booleans_of_fit(dtype):
    X = _bool_frame(8)
    batch = X.assign(flag=X["flag"].astype(dtype))
    before = batch.copy(deep=True)
    out = check_kinds(TypedImputer(), batch, {"flag": BOOLEAN, "x": NUMERIC})
    assert_array_equal(out["flag"].to_numpy(dtype=bool), X["flag"].to_numpy())
    assert out["flag"].dtype == bool
    assert_frame_equal(batch, before)  # the caller's frame is not converted


def test_check_kinds_keeps_missing_values_of_a_zero_one_column():
    batch = pd.DataFrame({"flag": [1.0, np.nan, 0.0]})
    out = check_kinds(TypedImputer(), batch, {"flag": BOOLEAN})
    assert out["flag"].dtype == "boolean"
    assert out["flag"].tolist() == [True, pd.NA, False]


def test_check_kinds_refuses_other_numbers_in_a_boolean_column():
    batch = pd.DataFrame({"flag": [0, 1, 2, 1, 7]})
    with pytest.raises(TypeError, match=r"'flag' was boolean at fit.*other than 0 and 1.*\[2, 7\]"):
        check_kinds(TypedImputer(), batch, {"flag": BOOLEAN})


def test_check_kinds_reads_booleans_of_a_numeric_column_as_numbers():
    batch = pd.DataFrame({"n": [True, False, True]})
    out = check_kinds(TypedImputer(), batch, {"n": NUMERIC})
    assert out["n"].tolist() == [1.0, 0.0, 1.0]


@pytest.mark.parametrize("categorical", ["onehot", "ordinal"])
def test_encoder_encodes_zero_one_as_the_booleans_it_learned(categorical):
    X = _bool_frame()
    enc = TabularEncoder(categorical=categorical).fit(X)
    expected = enc.transform(X)
    for dtype in ("int64", "float64"):
        got = enc.transform(X.assign(flag=X["flag"].astype(dtype)))
        assert_array_equal(got, expected)
    if categorical == "onehot":
        names = list(enc.get_feature_names_out())
        flag = expected[:, [names.index("flag_False"), names.index("flag_True")]]
        assert (flag.sum(axis=1) == 1).all()  # never the all-zero row of an unseen value


def test_encoder_refuses_other_numbers_in_a_boolean_column():
    X = _bool_frame()
    enc = TabularEncoder().fit(X)
    with pytest.raises(TypeError, match="'flag'"):
        enc.transform(X.assign(flag=X["flag"].astype(int) * 2))


@pytest.mark.parametrize(
    "detector", [DriftDetector(), ChiSquareDrift(columns=["flag", "colour"]), PSIDrift()]
)
def test_drift_compares_zero_one_with_the_booleans_of_fit(detector):
    X = _bool_frame()
    detector = clone(detector).fit(X)
    expected = detector.detect(X).to_frame()
    got = detector.detect(X.assign(flag=X["flag"].astype(int))).to_frame()
    assert_frame_equal(got, expected)
    row = got[got["feature"] == "flag"].iloc[0]
    assert not row["drift"] and "unseen" not in row["note"]


def test_imputer_fills_a_zero_one_batch_of_a_boolean_column_with_booleans():
    X = pd.DataFrame({"flag": [True, False, True, True], "x": [1.0, 2.0, 3.0, 4.0]})
    imp = TypedImputer().fit(X)
    out = imp.transform(pd.DataFrame({"flag": [1.0, np.nan, 0.0, 1.0], "x": [1.0] * 4}))
    assert out["flag"].tolist() == [True, True, False, True]


# -- item 8: fitted on an array, given a DataFrame, or the reverse --------------

_ESTIMATORS = [
    TypedImputer(),
    GroupImputer(by=0),
    TabularEncoder(),
    KSDrift(),
    PSIDrift(),
    ChiSquareDrift(),
    DriftDetector(),
    DriftMonitor(warn=False),
    SchemaValidator(),
]


def _numbers(n=60, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    X[:, 0] = rng.integers(0, 3, size=n)  # a grouping column for GroupImputer
    X[::7, 1] = np.nan
    return X


def _later(est, X):
    return est.detect(X) if hasattr(est, "detect") else est.transform(X)


def _comparable(est, out):
    if isinstance(est, DriftMonitor):
        return est.last_report_.to_frame()
    if hasattr(out, "to_frame"):
        return out.to_frame()
    if isinstance(est, SchemaValidator):
        return est.last_report_.to_frame()
    return pd.DataFrame(np.asarray(out, dtype=object))


def _grouped_by(est, by):
    """``est`` unfitted; a GroupImputer grouping by ``by``."""
    est = clone(est)
    return est.set_params(by=by) if isinstance(est, GroupImputer) else est


@pytest.mark.parametrize("est", _ESTIMATORS, ids=lambda e: type(e).__name__)
def test_fitted_on_an_array_given_a_frame_matches_by_position(est):
    X = _numbers()
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    fitted = clone(est).fit(X)
    expected = _comparable(fitted, _later(fitted, X))
    with pytest.warns(UserWarning, match=f"X has feature names, but {type(est).__name__} was"):
        out = _later(fitted, frame)
    assert_frame_equal(_comparable(fitted, out).reset_index(drop=True), expected)


@pytest.mark.parametrize("est", _ESTIMATORS, ids=lambda e: type(e).__name__)
def test_fitted_on_a_frame_given_an_array_matches_by_position(est):
    X = _numbers()
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    fitted = _grouped_by(est, "a").fit(frame)
    expected = _comparable(fitted, _later(fitted, frame))
    with pytest.warns(UserWarning, match="X does not have valid feature names, but"):
        out = _later(fitted, X)
    assert_frame_equal(_comparable(fitted, out), expected)


@pytest.mark.parametrize("est", _ESTIMATORS, ids=lambda e: type(e).__name__)
def test_a_swap_with_another_number_of_columns_still_says_so(est):
    X = _numbers()
    fitted = _grouped_by(est, "a").fit(pd.DataFrame(X, columns=["a", "b", "c"]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        if isinstance(est, SchemaValidator):
            with pytest.raises(ValueError, match="extra_column"):
                _later(fitted, np.column_stack([X, X[:, :1]]))
        else:
            with pytest.raises(ValueError, match=r"4 features, but .* expecting 3"):
                _later(fitted, np.column_stack([X, X[:, :1]]))


def test_a_frame_matched_by_position_keeps_its_labels_in_the_imputers_output():
    X = _numbers()
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    imp = TypedImputer().fit(X)
    with pytest.warns(UserWarning, match="fitted without feature names"):
        out = imp.transform(frame)
    assert list(out.columns) == ["a", "b", "c"]
    assert_array_equal(out.to_numpy(), imp.transform(X))


def test_label_like_fit_leaves_matching_labels_alone():
    from mlpipe.utils._dataframe import label_like_fit  # new in issue 14

    frame = pd.DataFrame(_numbers(), columns=["a", "b", "c"])
    fitted = TypedImputer().fit(frame)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert label_like_fit(fitted, frame) is frame
