"""What PerformanceEstimator declares for the shared bad-input matrix
(tests/_bad_input.py), merged into ``DRIFT_EXPECTATIONS`` by
tests/drift/_matrix.py.

The estimator takes a fitted classifier, and the matrix changes the columns
of fit from case to case, so the classifier here is a fitted test double
that scores any table: the sum of ``tanh(value / 1000)`` over the values of
a row that are numbers (missing ones count 0, infinite ones +-1). What the
estimator itself does with the input (columns, kinds, labels) is what the
cases check; a real model's own errors are tested in
test_performance_estimation.py.
"""

import numpy as np
import pandas as pd
from scipy import special
from sklearn.base import BaseEstimator, ClassifierMixin

from mlpipe.drift import PerformanceEstimator
from tests._bad_input import Handled, Raises, matches_by_position, same_as_booleans


class AnyTableClassifier(ClassifierMixin, BaseEstimator):
    """A fitted binary classifier (classes 0 and 1) of any table."""

    def fit(self, X, y=None):
        return self

    def __sklearn_is_fitted__(self):
        return True

    @property
    def classes_(self):
        return np.array([0, 1])

    def predict_proba(self, X):
        frame = pd.DataFrame(np.asarray(X, dtype=object) if not hasattr(X, "columns") else X)
        total = np.zeros(len(frame))
        for col in frame.columns:
            column = frame[col]
            if isinstance(column, pd.DataFrame):  # duplicate names
                continue
            if pd.api.types.is_datetime64_any_dtype(column.dtype):
                continue
            values = pd.to_numeric(column.astype(object), errors="coerce")
            values = np.asarray(values, dtype=np.float64)
            total += np.nan_to_num(np.tanh(values / 1000), nan=0.0)
        p = special.expit(total - 3.0)
        return np.column_stack([1 - p, p])

    def predict(self, X):
        return (self.predict_proba(X)[:, 1] > 0.5).astype(np.int64)


def _estimated(est, X_later, out):
    frame = out.to_frame()
    assert set(frame["metric"]) == {"accuracy", "precision", "recall", "f1", "roc_auc"}
    assert frame["n_rows"].eq(len(X_later)).all()
    assert frame["estimate"].between(0, 1).all() or frame["estimate"].isna().any()


PERFORMANCE_EXPECTATIONS = {
    "PerformanceEstimator": (
        lambda: PerformanceEstimator(
            estimator=AnyTableClassifier(), n_splits=2, n_draws=50, n_bootstrap=5
        ),
        {
            "nan": Handled(_estimated, "missing values go to the classifier as they are"),
            "inf_at_fit": Handled(_estimated, "infinite values go to the classifier as they are"),
            "inf_later": Handled(_estimated),
            "empty": Raises(ValueError, "fit", "0 sample"),
            "one_row": Raises(ValueError, "fit", "1 class only", names_column=False),
            "constant_column": Handled(_estimated),
            "wrong_dtype": Raises(TypeError, "later", "dtype changed since fit"),
            "missing_column": Raises(ValueError, "later", "missing"),
            "extra_column": Raises(ValueError, "later", "unseen at fit"),
            "reordered_columns": Raises(ValueError, "later", "same order", names_column=False),
            "mixed_object_column": Handled(_estimated, "categories go to the classifier"),
            "unseen_category": Handled(_estimated, "categories go to the classifier"),
            "tz_datetime": Handled(_estimated, "datetimes go to the classifier"),
            "bool_as_01": Handled(same_as_booleans, "0/1 are given back as the booleans of fit"),
            "duplicate_names": Raises(ValueError, "fit", "duplicate column names"),
            "frame_then_array": Handled(matches_by_position, warns="does not have valid feature"),
            "array_then_frame": Handled(matches_by_position, warns="fitted without feature names"),
            "near_max_float": Handled(_estimated),
            "string_labels": Raises(ValueError, "fit", "does not predict", names_column=False),
        },
    )
}
