import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from mlpipe.datasets import CREDIT_CATEGORICAL, load_credit, make_credit_batch


def test_load_credit_shape_dtypes_and_target():
    frame = load_credit()
    assert frame.shape == (1000, 10)
    X, y = load_credit(return_X_y=True)
    assert X.shape == (1000, 9) and y.name == "risk"
    assert set(y.unique()) == {0, 1} and y.sum() == 700
    for col in CREDIT_CATEGORICAL:
        assert isinstance(X[col].dtype, pd.CategoricalDtype)
    for col in ("job", "credit_amount", "duration", "age"):
        assert X[col].dtype == np.int64
    assert not X.isna().any().any()
    assert set(X["sex"].cat.categories) == {"female", "male"}
    assert X["age"].between(18, 80).all()


def test_unknown_as_missing():
    X, _ = load_credit(return_X_y=True, unknown_as_missing=True)
    assert X["saving_accounts"].isna().sum() == 183
    assert X["checking_account"].isna().sum() == 394
    assert "not_known" not in X["checking_account"].cat.categories


def test_loads_are_independent_copies():
    a = load_credit()
    a.loc[0, "age"] = -1
    assert load_credit().loc[0, "age"] == 67


def test_batch_is_seeded_and_reports_ground_truth():
    a = make_credit_batch(300, random_state=3)
    b = make_credit_batch(300, random_state=3)
    assert_frame_equal(a.X, b.X)
    assert list(a.X.columns) == list(load_credit(return_X_y=True)[0].columns)
    defects = a.defects.set_index("column")
    assert a.X.loc[defects.loc["credit_amount", "rows"], "credit_amount"].isna().all()
    assert a.X["credit_amount"].isna().sum() == 5
    assert (a.X.loc[defects.loc["duration", "rows"], "duration"] < 0).all()
    assert (a.X["duration"] < 0).sum() == 3
    assert (a.X["purpose"] == "crypto").sum() == 4
    assert (a.X["housing"] == "OWN").sum() == 2
    assert (a.X["age"] == 999).sum() == 2
    all_rows = [r for rows in defects["rows"] for r in rows]
    assert len(all_rows) == len(set(all_rows)) == 16


def test_batch_drift_is_real_and_clean_batch_is_clean():
    X, _ = load_credit(return_X_y=True)
    drifted = make_credit_batch(1000, defects=False, random_state=0)
    clean = make_credit_batch(1000, drift=False, defects=False, random_state=0)
    assert drifted.X["age"].median() < X["age"].median() - 2
    assert drifted.X["credit_amount"].median() > 1.2 * X["credit_amount"].median()
    assert (drifted.X["purpose"] == "car").mean() > 1.5 * (X["purpose"] == "car").mean()
    assert clean.drifted == [] and clean.defects.empty
    assert abs(clean.X["age"].median() - X["age"].median()) <= 2
    assert_frame_equal(clean.X.dtypes.to_frame(), X.dtypes.to_frame())


def test_batch_rejects_tiny_size():
    with pytest.raises(ValueError, match=r"'n_samples' .* range \[20, inf\). Got 5"):
        make_credit_batch(5)


def test_batch_spells_unknown_accounts_like_the_training_data():
    batch = make_credit_batch(200, unknown_as_missing=True, random_state=0)
    assert "not_known" not in batch.X["checking_account"].cat.categories
    assert batch.X["checking_account"].isna().any()
    default = make_credit_batch(200, random_state=0)
    assert (default.X["checking_account"] == "not_known").any()
