import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from sklearn.impute import SimpleImputer

from mlpipe.datasets import load_credit
from mlpipe.impute import GroupImputer, TypedImputer


def _credit_with_gaps(seed=0):
    X, _ = load_credit(return_X_y=True, unknown_as_missing=True)
    X = X.copy()
    rng = np.random.default_rng(seed)
    X["credit_amount"] = X["credit_amount"].astype(float)
    X.loc[rng.random(len(X)) < 0.15, "credit_amount"] = np.nan
    X.loc[rng.random(len(X)) < 0.1, "age"] = np.nan  # int64 -> float64
    return X


@pytest.mark.parametrize("strategy", ["median", "mean", "most_frequent"])
def test_group_statistics_equal_simple_imputer_per_group(strategy):
    X = _credit_with_gaps()
    imp = GroupImputer(by="job", numeric_strategy=strategy).fit(X)
    for job, rows in X.groupby("job"):
        for col in ("credit_amount", "age"):
            ref = SimpleImputer(strategy=strategy).fit(rows[[col]]).statistics_[0]
            assert_allclose(imp.group_statistics_[col][job], ref, rtol=1e-12)
        ref_cat = SimpleImputer(strategy="most_frequent", missing_values=np.nan).fit(
            rows[["saving_accounts"]].astype(object)
        )
        assert imp.group_statistics_["saving_accounts"][job] == ref_cat.statistics_[0]


def test_transform_fills_from_the_rows_group():
    X = _credit_with_gaps()
    imp = GroupImputer(by="job").fit(X)
    out = imp.transform(X)
    assert not out.drop(columns="job").isna().any().any()
    gaps = X["credit_amount"].isna()
    expected = X.loc[gaps, "job"].map(imp.group_statistics_["credit_amount"].to_dict())
    assert_allclose(out.loc[gaps, "credit_amount"], expected.astype(float))
    observed = ~gaps
    assert_allclose(out.loc[observed, "credit_amount"], X.loc[observed, "credit_amount"])
    assert out["saving_accounts"].dtype == X["saving_accounts"].dtype


def test_fallback_for_unseen_empty_and_missing_groups():
    X_fit = pd.DataFrame(
        {
            "g": ["a", "a", "b", "b", "c"],
            "v": [1.0, 3.0, np.nan, np.nan, 10.0],
        }
    )
    imp = GroupImputer(by="g").fit(X_fit)
    overall = TypedImputer().fit(X_fit[["v"]]).statistics_[0]
    assert imp.statistics_[1] == overall == 3.0
    X_new = pd.DataFrame({"g": ["a", "b", "zzz", None], "v": [np.nan] * 4})
    out = imp.transform(X_new)
    # a: its own median; b: had no observed value; zzz: unseen; None: no group
    assert out["v"].tolist() == [2.0, 3.0, 3.0, 3.0]


def test_columns_and_by_are_checked():
    X = pd.DataFrame({"g": [1, 1], "v": [1.0, np.nan], "w": [np.nan, 2.0]})
    out = GroupImputer(by="g", columns=["v"]).fit_transform(X)
    assert out["v"].tolist() == [1.0, 1.0]
    assert np.isnan(out.loc[0, "w"])  # not in columns: passed through
    with pytest.raises(ValueError, match="needs by="):
        GroupImputer().fit(X)
    with pytest.raises(ValueError, match="by='h' is not a column"):
        GroupImputer(by="h").fit(X)
    with pytest.raises(ValueError, match="other than by='g'"):
        GroupImputer(by="g", columns=["g"]).fit(X)


def test_numpy_input_by_position():
    X = np.array([[0, 1.0], [0, np.nan], [1, 5.0], [1, np.nan]])
    out = GroupImputer(by=0).fit_transform(X)
    assert isinstance(out, np.ndarray)
    assert out[:, 1].tolist() == [1.0, 1.0, 5.0, 5.0]
