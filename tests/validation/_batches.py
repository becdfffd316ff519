"""Corrupted batches made from the credit data, each with its ground truth.

The validator is fitted on a training split; every batch is made from the
held-out split (which on its own must pass) by breaking it in one known way.
Each maker returns ``(batch, expected)`` where ``expected`` maps
``(column, check)`` to the row labels that must fail (None for column-level
failures, which concern the column rather than rows).
"""

import numpy as np
from sklearn.model_selection import train_test_split

from mlpipe.datasets import load_credit


def credit_split(random_state=0, unknown_as_missing=False):
    X, _ = load_credit(return_X_y=True, unknown_as_missing=unknown_as_missing)
    X_train, X_test = train_test_split(X, test_size=0.3, random_state=random_state)
    return X_train, X_test


def _rows(X, positions):
    return list(X.index[positions])


def nulls(X):
    # Eight missing values in 300 rows of a column with none in 700 training
    # rows: Fisher's exact p = 6e-5, an error. (Three would give p = 0.027,
    # which is not improbable: a column can be missing rarely.)
    X = X.copy()
    rows = _rows(X, [3, 50, 120, 121, 160, 210, 250, 290])
    X["credit_amount"] = X["credit_amount"].astype("float64")
    X.loc[rows, "credit_amount"] = np.nan
    return X, {("credit_amount", "nulls"): rows}


def negative_duration(X):
    X = X.copy()
    rows = _rows(X, [7, 8])
    X.loc[rows, "duration"] = -X.loc[rows, "duration"]
    return X, {("duration", "out_of_range"): rows}


def impossible_age(X):
    X = X.copy()
    rows = _rows(X, [10, 299])
    X.loc[rows, "age"] = 999
    return X, {("age", "out_of_range"): rows}


def unseen_purpose(X):
    X = X.copy()
    rows = _rows(X, [0, 1, 2, 200])
    X["purpose"] = X["purpose"].cat.add_categories(["crypto"])
    X.loc[rows, "purpose"] = "crypto"
    return X, {("purpose", "unseen_category"): rows}


def upper_case_housing(X):
    # As text rather than category: a source system changed its spelling.
    X = X.copy()
    rows = _rows(X, [5, 6])
    housing = X["housing"].astype("str")
    housing.loc[rows] = housing.loc[rows].str.upper()
    X["housing"] = housing
    return X, {("housing", "unseen_category"): rows}


def infinite_amount(X):
    X = X.copy()
    rows = _rows(X, [4, 40])
    X["credit_amount"] = X["credit_amount"].astype("float64")
    X.loc[rows, "credit_amount"] = [np.inf, -np.inf]
    return X, {("credit_amount", "inf"): rows}


def fractional_duration(X):
    X = X.copy()
    rows = _rows(X, [9])
    X["duration"] = X["duration"].astype("float64")
    X.loc[rows, "duration"] = 12.5
    return X, {("duration", "non_integer"): rows}


def amount_as_text(X):
    X = X.copy()
    text = X["credit_amount"].astype("str")
    text.iloc[[2, 3]] = "n/a"
    X["credit_amount"] = text
    return X, {("credit_amount", "dtype"): None}


def missing_column(X):
    return X.drop(columns="duration"), {("duration", "missing_column"): None}


def extra_column(X):
    X = X.copy()
    X["customer_id"] = np.arange(len(X))
    return X, {("customer_id", "extra_column"): None}


def reordered_columns(X):
    cols = list(X.columns)
    cols[0], cols[-1] = cols[-1], cols[0]
    return X[cols], {(None, "column_order"): None}


ONE_DEFECT = {
    "nulls": nulls,
    "negative_duration": negative_duration,
    "impossible_age": impossible_age,
    "unseen_purpose": unseen_purpose,
    "upper_case_housing": upper_case_housing,
    "infinite_amount": infinite_amount,
    "fractional_duration": fractional_duration,
    "amount_as_text": amount_as_text,
    "missing_column": missing_column,
    "extra_column": extra_column,
    "reordered_columns": reordered_columns,
}

# Defects that touch different columns and can be stacked on one batch.
STACKABLE = [
    "nulls",
    "negative_duration",
    "impossible_age",
    "unseen_purpose",
    "upper_case_housing",
    "extra_column",
]


def several(X, names=STACKABLE):
    expected = {}
    for name in names:
        X, found = ONE_DEFECT[name](X)
        expected.update(found)
    return X, expected


def null_rate_jump(X):
    """For a split loaded with ``unknown_as_missing=True``: the share of
    missing checking accounts (about 39% at fit) jumps to over 60%."""
    X = X.copy()
    present = np.flatnonzero(X["checking_account"].notna().to_numpy())
    X.loc[X.index[present[: len(X) // 4]], "checking_account"] = np.nan
    return X, {("checking_account", "null_rate"): None}


def found(report):
    """``{(column, check): rows or None}`` of a report, in the form above."""
    out = {}
    for f in report.failures:
        rows = None if f.level == "column" else list(report.rows_of(f.column, f.check))
        out[(f.column, f.check)] = rows
    return out


def as_sets(expected):
    return {k: None if v is None else sorted(v) for k, v in expected.items()}
