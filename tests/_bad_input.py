"""The shared bad-input matrix.

Every public estimator declares, for every case below, what it does with that
bad input: ``Raises(...)`` (a clear error naming where the problem is) or
``Handled(check)`` (a documented handling, verified by ``check``). The matrix
runs each case, asserts the declared outcome and that the caller's data was
not modified. A component joins by adding one entry to
``tests/test_bad_input.py::EXPECTATIONS``; an estimator with no entry, or an
entry missing a case, fails the suite.
"""

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from pandas.testing import assert_frame_equal

from mlpipe.datasets import load_credit


def clean_frame(n=120):
    """A small credit frame with a float column that has a few gaps."""
    X, y = load_credit(return_X_y=True)
    X = X.iloc[:n].copy()
    X["credit_amount"] = X["credit_amount"].astype("float64")
    return X, y.iloc[:n].copy()


# Each case maps a clean (X, y) to (X_fit, y_fit, X_later, where): the data
# given to fit, the data given afterwards (transform/score), and the column
# the error must name (None when the problem is not in one column).
def _nan(X, y):
    X2 = X.copy()
    X2.loc[X2.index[[1, 5, 9]], "credit_amount"] = np.nan
    X2.loc[X2.index[[2, 3]], "purpose"] = np.nan
    return X2, y, X2, "credit_amount"


def _inf(X, y):
    X2 = X.copy()
    X2.loc[X2.index[4], "credit_amount"] = np.inf
    return X2, y, X2, "credit_amount"


def _inf_later(X, y):
    X2 = X.copy()
    X2.loc[X2.index[4], "credit_amount"] = -np.inf
    return X, y, X2, "credit_amount"


def _empty(X, y):
    return X.iloc[:0], y.iloc[:0], X.iloc[:0], None


def _one_row(X, y):
    return X.iloc[:1], y.iloc[:1], X.iloc[:1], None


def _constant_column(X, y):
    X2 = X.copy()
    X2["job"] = 2
    return X2, y, X2, "job"


def _wrong_dtype(X, y):
    X2 = X.copy()
    X2["credit_amount"] = X2["credit_amount"].astype(str).where(np.arange(len(X2)) % 2 == 0, "n/a")
    return X, y, X2, "credit_amount"


def _missing_column(X, y):
    return X, y, X.drop(columns="duration"), "duration"


def _extra_column(X, y):
    X2 = X.copy()
    X2["surprise"] = 1.0
    return X, y, X2, "surprise"


def _reordered_columns(X, y):
    cols = list(X.columns)
    cols[0], cols[1] = cols[1], cols[0]
    return X, y, X[cols], None


def _mixed_object_column(X, y):
    X2 = X.copy()
    mixed = X2["purpose"].astype(object)
    mixed.iloc[::7] = 42
    mixed.iloc[3::11] = 2.5
    X2["purpose"] = mixed
    return X2, y, X2, "purpose"


def _unseen_category(X, y):
    X2 = X.copy()
    X2["purpose"] = X2["purpose"].cat.add_categories(["crypto"])
    X2.loc[X2.index[[0, 7]], "purpose"] = "crypto"
    return X, y, X2, "purpose"


def _tz_datetime(X, y):
    X2 = X.copy()
    start = pd.Timestamp("2024-03-30 12:00", tz="Europe/Oslo")
    X2["applied"] = start + pd.to_timedelta(np.arange(len(X2)) * 7, unit="h")
    X2.loc[X2.index[[3, 8]], "applied"] = pd.NaT
    return X2, y, X2, "applied"


def _bool_as_01(X, y):
    # A boolean column that comes back from a CSV or a database as 0/1.
    X2 = X.copy()
    X2["foreign"] = (np.arange(len(X2)) % 3 == 0).astype(bool)
    return X2, y, X2.assign(foreign=X2["foreign"].astype("int64")), "foreign"


def _duplicate_names(X, y):
    X2 = X.copy()
    X2.columns = ["age" if c == "duration" else c for c in X2.columns]
    return X2, y, X2, "age"


def _frame_then_array(X, y):
    return X, y, X.to_numpy(), None


def _array_then_frame(X, y):
    return X.to_numpy(), y, X, None


def _near_max_float(X, y):
    # Finite values whose sum (and the midpoint of two) overflows float64.
    X2 = X.copy()
    amount = X2["credit_amount"]
    X2["credit_amount"] = 1.0e308 + amount / amount.max() * 0.7e308
    # an even count of observed values: the median is the midpoint of two
    X2.loc[X2.index[[1, 5, 9, 13]], "credit_amount"] = np.nan
    return X2, y, X2, "credit_amount"


def _string_labels(X, y):
    # The classes are text; a metric's default pos_label=1 is not one of them.
    return X, y.map({1: "good", 0: "bad"}), X, None


CASES = {
    "nan": _nan,
    "inf_at_fit": _inf,
    "inf_later": _inf_later,
    "empty": _empty,
    "one_row": _one_row,
    "constant_column": _constant_column,
    "wrong_dtype": _wrong_dtype,
    "missing_column": _missing_column,
    "extra_column": _extra_column,
    "reordered_columns": _reordered_columns,
    "mixed_object_column": _mixed_object_column,
    "unseen_category": _unseen_category,
    "tz_datetime": _tz_datetime,
    "bool_as_01": _bool_as_01,
    "duplicate_names": _duplicate_names,
    "frame_then_array": _frame_then_array,
    "array_then_frame": _array_then_frame,
    "near_max_float": _near_max_float,
    "string_labels": _string_labels,
}


# The cases of issue 14, which the public functions declare too.
NEW_CASES = (
    "tz_datetime",
    "bool_as_01",
    "duplicate_names",
    "frame_then_array",
    "array_then_frame",
    "near_max_float",
    "string_labels",
)


@dataclass
class Raises:
    """The case must raise ``exc`` whose message matches ``match`` and names the
    column the case broke (when it broke one); ``at`` is "fit" (fit raises) or
    "later" (fit succeeds, then the call on the later batch raises)."""

    exc: type | tuple
    at: str
    match: str = ""
    names_column: bool = True

    def __post_init__(self):
        if self.at not in ("fit", "later"):
            raise ValueError(f"Raises(at=...) is 'fit' or 'later', got {self.at!r}")


@dataclass
class Handled:
    """The case must not raise; ``check(estimator, X_later, out)`` verifies the
    documented handling (``out`` is what the later call returned). ``warns``,
    when set, is a regex the later call must warn with (a UserWarning)."""

    check: object
    doc: str = ""
    extra: dict = field(default_factory=dict)
    warns: str = ""


def later_call(est, X):
    """The call after fit that sees the later batch: a drift detector's
    ``detect`` (its report; ``score`` is a float), a performance estimator's
    ``estimate``, else transform or predict."""
    if hasattr(est, "detect"):
        return est.detect(X)
    if hasattr(est, "estimate"):  # PerformanceEstimator: its report
        return est.estimate(X)
    if hasattr(est, "transform"):
        return est.transform(X)
    if hasattr(est, "predict"):
        return est.predict(X)
    return est.score(X)


# Checks shared by the cases of issue 14 (array<->frame, 0/1 for bool).
def later_result(est, out):
    """What the later call produced, as a frame to compare: the report of a
    monitor, validator or detector, else the output's values."""
    from mlpipe.drift import DriftMonitor
    from mlpipe.validation import SchemaValidator

    if isinstance(est, DriftMonitor):
        return est.history_[-1].to_frame()
    if isinstance(est, SchemaValidator):
        return est.last_report_.to_frame()
    if hasattr(out, "to_frame"):
        return out.to_frame()
    return pd.DataFrame(np.asarray(out, dtype=object))


def _positional_twin(est, X_later):
    """X_later with the labels of fit: an array as the frame fit saw (names,
    dtypes inferred as mlpipe infers them), a frame as the array fit saw."""
    if isinstance(X_later, np.ndarray):
        return pd.DataFrame(X_later, columns=list(est.feature_names_in_)).infer_objects()
    return X_later.to_numpy()


def matches_by_position(est, X_later, out):
    # The columns were matched to fit's by position: the result equals the
    # result on the same data labelled as at fit (which warns of nothing).
    first = later_result(est, out)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        second = later_result(est, later_call(est, _positional_twin(est, X_later)))
    assert_frame_equal(first, second)


def same_as_booleans(est, X_later, out):
    # 0/1 in a boolean column mean False/True: the same result as the booleans.
    first = later_result(est, out)
    as_bool = X_later.assign(foreign=X_later["foreign"].astype(bool))
    assert_frame_equal(first, later_result(est, later_call(est, as_bool)))
