"""What each drift estimator declares for the shared bad-input matrix
(tests/_bad_input.py).

``DRIFT_EXPECTATIONS`` has the shape of ``tests/test_bad_input.py::EXPECTATIONS``
and merges into it. (The drift detectors pass scikit-learn's estimator
checks with no expected failure, so they declare none.)
"""

import numpy as np

from mlpipe.drift import (
    ChiSquareDrift,
    ClassifierDrift,
    DriftDetector,
    DriftMonitor,
    DriftReport,
    KSDrift,
    PSIDrift,
    ReconstructionDrift,
)
from tests._bad_input import Handled, Raises, matches_by_position, same_as_booleans
from tests.drift._performance_matrix import PERFORMANCE_EXPECTATIONS


def _report(est, X_later, out):
    """The report of the later call: kept by a monitor, returned by
    ``detect``; when the later call was ``score`` (a float), the report of
    the same batch by ``detect``."""
    if isinstance(est, DriftMonitor):
        return est.history_[-1]
    if isinstance(out, DriftReport):
        return out
    report = est.detect(X_later)
    assert out == report.stable_share
    return report


def _rows(est, X_later, out, feature):
    frame = _report(est, X_later, out).to_frame()
    return frame[frame["feature"] == feature]


def _reports_every_column(est, X_later, out):
    frame = _report(est, X_later, out).to_frame()
    watched = (
        est.detector_.reference_.columns
        if isinstance(est, DriftMonitor)
        else (est.reference_.columns)
    )
    assert set(frame["feature"]) == set(watched)
    assert frame["drift"].dtype == bool
    if isinstance(est, DriftMonitor):
        assert out.equals(X_later)  # the data passes through untouched (a new frame sharing it)


def _missing_rates_reported(est, X_later, out):
    _reports_every_column(est, X_later, out)
    tests = set(_rows(est, X_later, out, "credit_amount")["test"])
    assert "missing_rate" in tests


def _infinity_compared(est, X_later, out):
    _reports_every_column(est, X_later, out)
    rows = _rows(est, X_later, out, "credit_amount")
    assert np.isfinite(rows["statistic"]).all()


def _constant_is_quiet(est, X_later, out):
    _reports_every_column(est, X_later, out)
    rows = _rows(est, X_later, out, "job")
    assert not rows["drift"].any()


def _unseen_named(est, X_later, out):
    _reports_every_column(est, X_later, out)
    if "purpose" in set(_report(est, X_later, out).to_frame()["feature"]):
        note = _rows(est, X_later, out, "purpose")["note"].iloc[0]
        assert "'crypto': 2" in note, note


def _instants_compared(est, X_later, out):
    # A zone-aware column is compared as UTC nanoseconds: the same instants
    # give a finite statistic and no drift.
    _reports_every_column(est, X_later, out)
    rows = _rows(est, X_later, out, "applied")
    rows = rows[rows["test"] != "missing_rate"]
    assert np.isfinite(rows["statistic"]).all() and not rows["drift"].any()


def _matrix(unseen_check=_unseen_named):
    return {
        "nan": Handled(
            _missing_rates_reported,
            "missing values are left out of the tests and compared as missing rates",
        ),
        "inf_at_fit": Handled(
            _infinity_compared,
            "infinities are ordinary values to KS and fall in the outer PSI bins",
        ),
        "inf_later": Handled(_infinity_compared),
        "empty": Raises(ValueError, "fit", "0 sample"),
        "one_row": Handled(_reports_every_column, "one row is a (weak) sample"),
        "constant_column": Handled(_constant_is_quiet),
        "wrong_dtype": Raises(TypeError, "later", "dtype changed since fit"),
        "missing_column": Raises(ValueError, "later", "missing"),
        "extra_column": Raises(ValueError, "later", "unseen at fit"),
        "reordered_columns": Raises(ValueError, "later", "same order", names_column=False),
        "mixed_object_column": Handled(
            _reports_every_column, "mixed object values are compared as categories"
        ),
        "unseen_category": Handled(unseen_check, "unseen categories get a bucket and are named"),
        "tz_datetime": Handled(_instants_compared, "compared as UTC nanoseconds"),
        "bool_as_01": Handled(same_as_booleans, "0/1 compared as the booleans of fit"),
        "duplicate_names": Raises(ValueError, "fit", "duplicate column names"),
        "frame_then_array": Handled(matches_by_position, warns="does not have valid feature"),
        "array_then_frame": Handled(matches_by_position, warns="fitted without feature names"),
        "near_max_float": Handled(_infinity_compared, "values near the float maximum are values"),
        "string_labels": Handled(_reports_every_column, "y is ignored"),
    }


_NUMERIC = ["job", "credit_amount", "duration", "age"]

DRIFT_EXPECTATIONS = {
    "DriftDetector": (lambda: DriftDetector(), _matrix()),
    "KSDrift": (
        lambda: KSDrift(columns=["credit_amount", "duration", "age"]),
        {
            **_matrix(),
            # KS watches numeric columns only; "job" is not watched here.
            "constant_column": Handled(_reports_every_column, "job is not watched"),
            "mixed_object_column": Handled(_reports_every_column, "purpose is not watched"),
            # columns= names columns of a frame; an array has none of them.
            "array_then_frame": Raises(ValueError, "fit", "not in X", names_column=False),
        },
    ),
    "PSIDrift": (lambda: PSIDrift(), _matrix()),
    "ChiSquareDrift": (lambda: ChiSquareDrift(), _matrix()),
    "DriftMonitor": (lambda: DriftMonitor(warn=False), _matrix()),
}
DRIFT_EXPECTATIONS.update(PERFORMANCE_EXPECTATIONS)


def _joint_quiet(est, X_later, out):
    # The later batch holds the reference's own rows (but for the case's
    # change): one joint row, a finite AUROC, and no drift.
    frame = out.to_frame()
    assert frame["feature"].tolist() == ["(joint)"]
    assert np.isfinite(frame["statistic"]).all() and not frame["drift"].any()


_CLASSIFIER = {
    **{case: Handled(_joint_quiet, getattr(e, "doc", "")) for case, e in _matrix().items()},
    "empty": Raises(ValueError, "fit", "0 sample"),
    "one_row": Raises(ValueError, "fit", "minimum of 5", names_column=False),
    "wrong_dtype": Raises(TypeError, "later", "dtype changed since fit"),
    "missing_column": Raises(ValueError, "later", "missing"),
    "extra_column": Raises(ValueError, "later", "unseen at fit"),
    "reordered_columns": Raises(ValueError, "later", "same order", names_column=False),
    "duplicate_names": Raises(ValueError, "fit", "duplicate column names"),
    "nan": Handled(_joint_quiet, "the classifier takes missing values natively"),
    "bool_as_01": Handled(same_as_booleans, "0/1 compared as the booleans of fit"),
    "frame_then_array": Handled(matches_by_position, warns="does not have valid feature"),
    "array_then_frame": Handled(matches_by_position, warns="fitted without feature names"),
}
# the shared credit frame has 120 rows; n_splits=5 folds need at least 5
DRIFT_EXPECTATIONS["ClassifierDrift"] = (
    lambda: ClassifierDrift(explain=False, random_state=0),
    _CLASSIFIER,
)


def _reconstruction_named(est, X_later, out):
    # The case's column is among the columns the report folds the error into.
    _joint_quiet(est, X_later, out)
    assert set(out.contributions["feature"]) == set(est.kinds_)


_RECONSTRUCTION = {
    "nan": Handled(_joint_quiet, "missing values are imputed and get an indicator column"),
    "inf_at_fit": Raises(ValueError, "fit", "infinity"),
    "inf_later": Raises(ValueError, "later", "infinity"),
    "empty": Raises(ValueError, "fit", "0 sample"),
    "one_row": Raises(ValueError, "fit", "minimum of 2", names_column=False),
    "constant_column": Handled(_joint_quiet, "a constant column has scale 1 and no variance"),
    "wrong_dtype": Raises(TypeError, "later", "dtype changed since fit"),
    "missing_column": Raises(ValueError, "later", "missing"),
    "extra_column": Raises(ValueError, "later", "unseen at fit"),
    "reordered_columns": Raises(ValueError, "later", "same order", names_column=False),
    "mixed_object_column": Handled(_joint_quiet, "mixed object values are one-hot categories"),
    "unseen_category": Handled(
        _reconstruction_named, "unseen categories share the 'other' column of the rare ones"
    ),
    "tz_datetime": Handled(_joint_quiet, "compared as UTC nanoseconds"),
    "bool_as_01": Handled(same_as_booleans, "0/1 compared as the booleans of fit"),
    "duplicate_names": Raises(ValueError, "fit", "duplicate column names"),
    "frame_then_array": Handled(matches_by_position, warns="does not have valid feature"),
    "array_then_frame": Handled(matches_by_position, warns="fitted without feature names"),
    "near_max_float": Handled(
        _joint_quiet, "values are divided by their largest magnitude before they are scaled"
    ),
    "string_labels": Handled(_joint_quiet, "y is ignored"),
}
DRIFT_EXPECTATIONS["ReconstructionDrift"] = (
    lambda: ReconstructionDrift(random_state=0),
    _RECONSTRUCTION,
)
