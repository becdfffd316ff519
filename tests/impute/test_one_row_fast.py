"""The small-batch path of TypedImputer (issue 16: <= 0.3 ms per 1-row call).

A DataFrame of at most ``MAX_SMALL_BATCH`` rows, labelled as at fit and with
columns of their kinds of fit, is copied and only its columns with a missing
value are filled; anything else goes the general way. Two oracles: the general
path forced (the small-batch path switched off), and the rows of the whole
frame imputed at once (imputation is row by row, and 1,000 rows go the
general way).
"""

import copy
import warnings

import numpy as np
import pandas as pd
import pytest

from mlpipe.datasets import load_credit
from mlpipe.impute import TypedImputer, _typed
from mlpipe.impute._typed import MAX_SMALL_BATCH


@pytest.fixture(scope="module")
def X():
    return load_credit(return_X_y=True, unknown_as_missing=True)[0]


def _outcome(imputer, batch):
    before = copy.deepcopy(batch)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            out, error = imputer.transform(batch), None
        except (ValueError, TypeError) as exc:
            out, error = None, (type(exc), str(exc))
    # the caller's data is untouched
    pd.testing.assert_frame_equal(pd.DataFrame(batch), pd.DataFrame(before))
    return out, error, [(w.category, str(w.message)) for w in caught]


def _assert_same_frame(a, b):
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    pd.testing.assert_index_equal(a.columns, b.columns, exact=True)
    assert a.dtypes.tolist() == b.dtypes.tolist()


def _compare(monkeypatch, imputer, batch):
    fast = _outcome(imputer, batch)
    with monkeypatch.context() as m:
        m.setattr(_typed.TypedImputer, "_fill_small_batch", lambda self, X: None)
        general = _outcome(imputer, batch)
    if fast[0] is None or general[0] is None:
        assert fast[0] is None and general[0] is None
    elif isinstance(fast[0], pd.DataFrame):
        _assert_same_frame(fast[0], general[0])
    else:
        np.testing.assert_array_equal(fast[0], general[0])
        assert fast[0].dtype == general[0].dtype
    assert fast[1:] == general[1:]
    return fast


@pytest.fixture(scope="module")
def imputers(X):
    return {
        "default": TypedImputer().fit(X),
        "constant": TypedImputer(numeric_strategy="constant", categorical_strategy="constant").fit(
            X
        ),
        "mean": TypedImputer(numeric_strategy="mean", strategies={"age": "median"}).fit(X),
        "indicators": TypedImputer(add_indicator="all").fit(X),
    }


def test_every_credit_row_alone_is_filled_by_the_small_batch_path(monkeypatch, X, imputers):
    """The general path (per-column fill of every column) never runs on a
    credit row alone, and each row comes out as among all rows at once."""
    imputer = imputers["default"]
    whole = imputer.transform(X)
    calls = []

    def check_kinds(estimator, frame, kinds):
        calls.append(frame.index.tolist())
        return frame

    monkeypatch.setattr(_typed, "check_kinds", check_kinds)
    for i in range(len(X)):
        row = X.iloc[[i]]
        out = imputer.transform(row)
        _assert_same_frame(out, whole.iloc[[i]])
        # the output is the caller's to change: the input does not follow
        out.iloc[0, out.columns.get_loc("age")] = -1
        out.iloc[0, out.columns.get_loc("housing")] = "rent"
        assert row["age"].iloc[0] == X["age"].iloc[i] != -1
        assert row["housing"].iloc[0] == X["housing"].iloc[i]
    assert calls == []


@pytest.mark.parametrize("name", ["default", "constant", "mean", "indicators"])
def test_credit_rows_alone_match_the_general_path(monkeypatch, X, imputers, name):
    imputer = imputers[name]
    whole = imputer.transform(X)
    for i in range(0, len(X), 3):
        out = _compare(monkeypatch, imputer, X.iloc[[i]])[0]
        if name in ("default", "mean"):
            # fill values within the categories: the dtypes do not depend on
            # which rows are missing (a constant "missing" adds a category)
            _assert_same_frame(out, whole.iloc[[i]])


def _with(row, column, value, dtype):
    return row.assign(**{column: pd.Series([value], index=row.index, dtype=dtype)})


def _bad_rows(X):
    row = X.iloc[[1]]
    missing = X.iloc[[int(np.flatnonzero(X.isna().sum(axis=1).to_numpy() == 2)[0])]]
    return {
        "two_missing": missing,
        "nan_float": _with(row, "age", np.nan, "float64"),
        "nan_nullable_integer": _with(row, "age", pd.NA, "Int64"),
        "nullable_integer": _with(row, "age", 40, "Int64"),
        "inf": _with(row, "credit_amount", np.inf, "float64"),
        "minus_inf": _with(row, "credit_amount", -np.inf, "float64"),
        "inf_beside_missing": _with(missing, "credit_amount", np.inf, "float64"),
        "number_as_text": _with(row, "credit_amount", "1200", "str"),
        "text_in_number": _with(row, "credit_amount", "n/a", "str"),
        "missing_as_text": _with(missing, "saving_accounts", None, "str"),
        "category_as_object": missing.assign(housing=missing["housing"].astype(object)),
        "missing_category_as_object": _with(missing, "checking_account", np.nan, object),
        "mixed_types": _with(row, "purpose", 5, object),
        "boolean_for_number": _with(row, "job", True, "bool"),
        "missing_column": row.drop(columns="duration"),
        "extra_column": row.assign(customer_id=7),
        "reordered_columns": row[list(row.columns[::-1])],
        "tz_aware_datetime": _with(
            row, "age", pd.Timestamp("2024-05-01", tz="Europe/Oslo"), "datetime64[ns, Europe/Oslo]"
        ),
        "integer_labels": missing.set_axis(range(row.shape[1]), axis=1),
        "other_index": missing.set_axis(pd.Index(["applicant-7"], name="id")),
        "with_attrs": missing.copy(),
        "unused_category": missing.assign(
            saving_accounts=missing["saving_accounts"].cat.add_categories(["none"])
        ),
        "array": missing.to_numpy(),
        "list": missing.to_numpy().tolist(),
    }


@pytest.mark.parametrize(
    "case", list(_bad_rows(load_credit(return_X_y=True, unknown_as_missing=True)[0]))
)
@pytest.mark.parametrize("name", ["default", "constant", "indicators"])
def test_unusual_rows_match_the_general_path(monkeypatch, X, imputers, name, case):
    batch = _bad_rows(X)[case]
    if case == "with_attrs":
        batch.attrs["source"] = "api"
    _compare(monkeypatch, imputers[name], batch)


def test_infinity_is_refused_alone(monkeypatch, X, imputers):
    fast = _compare(monkeypatch, imputers["default"], _bad_rows(X)["inf_beside_missing"])
    assert fast[1][0] is ValueError and "infinity" in fast[1][1]


@pytest.mark.parametrize("n", [2, 7, MAX_SMALL_BATCH, MAX_SMALL_BATCH + 1])
def test_small_batches_match_the_general_path(monkeypatch, X, imputers, n):
    rng = np.random.default_rng(n)
    whole = imputers["default"].transform(X)
    for _ in range(10):
        at = rng.choice(len(X), size=n, replace=False)
        out = _compare(monkeypatch, imputers["default"], X.iloc[at])[0]
        _assert_same_frame(out, whole.iloc[at])
        _compare(monkeypatch, imputers["constant"], X.iloc[at])


def test_other_kinds_of_columns(monkeypatch):
    """Datetime (zone-aware), boolean, nullable integer and string columns,
    fitted and filled alone, as among all rows."""
    n = 40
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "when": pd.date_range("2024-01-01", periods=n, freq="D", tz="Europe/Oslo"),
            "flag": pd.array(rng.integers(0, 2, n).astype(bool), dtype="boolean"),
            "count": pd.array(rng.integers(0, 9, n), dtype="Int64"),
            "city": pd.array(rng.choice(["Oslo", "Rome"], n), dtype="str"),
            "ratio": rng.normal(size=n),
            "plain_flag": rng.integers(0, 2, n).astype(bool),
        }
    )
    holes = frame.copy()
    for col in ["when", "flag", "count", "city", "ratio"]:
        holes.loc[rng.choice(n, 8, replace=False), col] = None
    for imputer in (
        TypedImputer().fit(holes),
        TypedImputer(numeric_strategy="mean").fit(holes),
        TypedImputer(numeric_strategy="constant", categorical_strategy="constant").fit(holes),
    ):
        whole = imputer.transform(holes)
        for i in range(n):
            out = _compare(monkeypatch, imputer, holes.iloc[[i]])[0]
            # a row without a missing count stays Int64, all rows become Float64
            pd.testing.assert_frame_equal(out, whole.iloc[[i]], check_dtype=False)
