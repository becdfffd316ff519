"""The shared bad-input matrix.

Every public estimator declares, for every case below, what it does with that
bad input: ``Raises(...)`` (a clear error naming where the problem is) or
``Handled(check)`` (a documented handling, verified by ``check``). The matrix
runs each case, asserts the declared outcome and that the caller's data was
not modified. A component joins by adding one entry to
``tests/test_bad_input.py::EXPECTATIONS``; an estimator with no entry, or an
entry missing a case, fails the suite.
"""

from dataclasses import dataclass, field

import numpy as np

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
}


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
    documented handling (``out`` is what the later call returned)."""

    check: object
    doc: str = ""
    extra: dict = field(default_factory=dict)
