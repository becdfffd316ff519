"""SchemaValidator: a pipeline step that checks every batch against a schema."""

import os
import warnings
from numbers import Integral, Real

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin

from mlpipe.exceptions import DataQualityWarning, DataValidationError
from mlpipe.utils._dataframe import (
    as_frame,
    check_frame,
    label_like_fit,
    shallow_copy,
    to_array,
)
from mlpipe.utils._estimator import MlpipeEstimatorMixin
from mlpipe.utils._monitoring import monitoring_suspended
from mlpipe.utils._sklearn_compat import (
    Interval,
    StrOptions,
    check_is_fitted,
    fit_context,
)
from mlpipe.utils._store_writer import record_later, resolve_store, snapshot
from mlpipe.validation._checks import run_checks
from mlpipe.validation._report import COLUMN
from mlpipe.validation._schema import Schema
from mlpipe.validation._small_batch import MAX_ROWS, small_batch_report


class SchemaValidator(MlpipeEstimatorMixin, OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Check each batch against the schema of the training data.

    A pass-through step for a :class:`~sklearn.pipeline.Pipeline`: ``fit``
    learns a :class:`Schema` from the training data (unless one is given) and
    ``transform`` checks a batch against it and returns the batch unchanged.
    Every check runs before anything is raised, so one error lists every
    problem of the batch:

    - missing, extra (``schema.strict``) and reordered (``schema.ordered``)
      columns;
    - a column of another kind of dtype than at fit, and whether its values
      could be converted; non-whole numbers in an integer column;
    - more missing values than the training share makes probable (Fisher's
      exact test, with both sample sizes);
    - values beyond the training range farther than a batch of this size
      goes with probability ``alpha`` under the tails learned at fit; any
      negative value in a column that had none;
    - more values of unseen categories than Good-Turing predicts from the
      categories seen once at fit (none at all for a categorical dtype);
    - +/-inf where there was none; repeated keys; user checks.

    What was learned from a sample is checked as an estimate, so a clean
    batch (drawn like the training data) gets an error with probability at
    most ``alpha`` and a warning with at most ``warn_alpha``; only errors
    refuse a batch. A declared :class:`Schema` keeps exact, hard checks.

    Parameters
    ----------
    schema : Schema, default=None
        The schema to check against. None learns one from the data given to
        ``fit`` (:meth:`Schema.infer`); ``key`` applies only then.

    on_error : {"raise", "warn", "drop_rows"}, default="raise"
        What a batch with an error gets (a batch with warnings only passes,
        with a :class:`~mlpipe.exceptions.DataQualityWarning`). ``"raise"``: a
        :class:`~mlpipe.exceptions.DataValidationError` carrying the report.
        ``"warn"``: a :class:`~mlpipe.exceptions.DataQualityWarning` with the
        same text, and the batch passes through. ``"drop_rows"``: the rows
        failing a row-level check are removed (with a warning giving the
        count); failures that removing rows cannot repair (a missing, extra
        or reordered column, a dtype change, a missing share too high) still
        raise.

    alpha : float, default=0.01
        False-alarm rate of the errors: the probability that a batch drawn
        like the training data gets an error from the learned checks (split
        evenly over them). Rules (a missing column, a dtype change, a
        negative value in a column without any) are errors whatever it is.
        The default was chosen on the calibration benchmark (see the user
        guide).

    warn_alpha : float, default=0.1
        The same rate for warnings; a learned check more improbable than
        this, but not than ``alpha``, warns.

    key : str, int or list, default=None
        Columns whose combined values must be unique within a batch.

    store : str or os.PathLike, default=None
        A run store file (:class:`mlpipe.monitor.RunStore`) to record the
        report of every batch ``transform`` checks in (its failures per check
        and column, null counts, the batch's fingerprint), off the request
        thread; None takes ``mlpipe.get_config()["store"]``, which is none by
        default. :func:`mlpipe.monitor.wait_for_writes` waits for the records.

    Attributes
    ----------
    schema_ : Schema
        The schema batches are checked against.

    last_report_ : ValidationReport
        The report of the last batch checked (of the training data right
        after ``fit``). The rows :func:`mlpipe.explain.explain` sends through
        the pipeline are checked but do not replace it.

    n_features_in_ : int
        Number of features seen during fit.

    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when they are all strings.

    See Also
    --------
    Schema : The learned or declared expectations, JSON round-trip.
    check_data_quality : One-off checks of a training frame.

    Notes
    -----
    The validator handles column names itself rather than through
    scikit-learn's ``validate_data``, so that a missing or extra column is
    reported with every other failure of the batch instead of alone. Its error
    message still contains scikit-learn's wording ("The feature names should
    match those that were passed during fit.", "X has 3 features, but ... is
    expecting 4 features as input").

    An array given to a validator fitted on a DataFrame (or the reverse) is
    matched by position, with scikit-learn's warning.

    Examples
    --------
    >>> from mlpipe.datasets import load_credit, make_credit_batch
    >>> from mlpipe.validation import SchemaValidator
    >>> X, y = load_credit(return_X_y=True)
    >>> validator = SchemaValidator(on_error="warn").fit(X)
    >>> batch = make_credit_batch(500, drift=False, random_state=0)
    >>> import warnings
    >>> with warnings.catch_warnings(record=True):
    ...     out = validator.transform(batch.X)
    >>> out.shape == batch.X.shape
    True
    >>> validator.last_report_.to_frame()[["column", "check", "n_failed"]]
              column            check  n_failed
    0        housing  unseen_category         2
    1  credit_amount            nulls         5
    2       duration     out_of_range         3
    3        purpose  unseen_category         4
    4            age     out_of_range         2
    """

    _parameter_constraints = {
        "schema": [Schema, None],
        "on_error": [StrOptions({"raise", "warn", "drop_rows"})],
        "alpha": [Interval(Real, 0, 1, closed="neither")],
        "warn_alpha": [Interval(Real, 0, 1, closed="neither")],
        "key": [str, Integral, list, tuple, None],
        "store": [str, os.PathLike, None],
    }

    def __init__(
        self,
        *,
        schema=None,
        on_error="raise",
        alpha=0.01,
        warn_alpha=0.1,
        key=None,
        store=None,
    ):
        self.schema = schema
        self.on_error = on_error
        self.alpha = alpha
        self.warn_alpha = warn_alpha
        self.key = key
        self.store = store

    @fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Learn the schema of ``X`` (or take the given one).

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            Training data.

        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted validator.
        """
        frame = check_frame(self, X, reset=True)
        if self.schema is None:
            key = self.key
            if key is not None:
                key = [key] if isinstance(key, str | Integral) else list(key)
                unknown = [k for k in key if k not in frame.columns]
                if unknown:
                    raise ValueError(
                        f"key names column(s) {unknown} that are not in X; its "
                        f"columns are {list(frame.columns)[:10]}."
                    )
            self.schema_ = Schema.infer(frame, key=key)
        else:
            if self.key is not None:
                raise ValueError(
                    "key applies only to a learned schema; declare the key in "
                    "the Schema given as schema= instead."
                )
            self.schema_ = self.schema.copy()
            names = self.schema_.names
            self.n_features_in_ = len(names)
            if all(isinstance(n, str) for n in names):
                self.feature_names_in_ = np.asarray(names, dtype=object)
            elif hasattr(self, "feature_names_in_"):
                del self.feature_names_in_
        self.last_report_ = self._run_checks(self._as_frame(X, frame))
        if self.last_report_.failures:
            warnings.warn(
                "SchemaValidator: the training data itself fails the given "
                "schema:\n" + self.last_report_.message(),
                DataQualityWarning,
                stacklevel=2,
            )
        return self

    def _positional(self):
        """Whether the schema's names are the positions of an array."""
        return not hasattr(self, "feature_names_in_")

    def _as_frame(self, X, frame=None):
        """``X`` as a DataFrame labelled like the schema; never a data copy."""
        name = type(self).__name__
        if frame is None:
            # Repeated labels are reported by the checks, with every other failure.
            frame = as_frame(X, allow_duplicate_names=True, caller=name)
        return label_like_fit(self, frame, stacklevel=3)

    def transform(self, X):
        """Check ``X`` against the schema and pass it on.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            The batch.

        Returns
        -------
        X_out : DataFrame or ndarray
            ``X`` unchanged (a DataFrame is returned as a shallow copy, which
            shares its data); under ``on_error="drop_rows"`` without the rows
            that failed a row-level check (other dataframe types, such as
            polars, then come back as a pandas DataFrame, and array-likes as
            an ndarray). ``X`` itself is never modified.

        Raises
        ------
        DataValidationError
            Under ``on_error="raise"`` if any check gave an error, and under
            ``"drop_rows"`` if a failure cannot be repaired by dropping rows.
            Its ``report`` attribute holds the :class:`ValidationReport`.
        """
        if not hasattr(self, "schema_"):  # check_is_fitted takes ~5 us
            check_is_fitted(self)
        frame, report, labels = None, None, self._small_batch_labels(X)
        if labels is not None:
            report = small_batch_report(self.schema_, X, labels, self.alpha, self.warn_alpha)
        if report is None:
            frame = self._as_frame(X)
            # a batch already read row by row and found not clean goes
            # straight to the general checks
            report = self._run_checks(frame, small_batch=labels is None)
        # Batches that are not production traffic (an explainer's perturbed
        # rows) are checked as usual but do not replace the last report.
        if monitoring_suspended():
            return self._act(X, frame, report)
        self.last_report_ = report
        store = resolve_store(self)
        if store is None:
            return self._act(X, frame, report)
        try:
            return self._act(X, frame, report)
        finally:  # once the report is final (n_dropped), passed or raised
            record_later(store, "record_validation", report, X=snapshot(X), step=self)

    def _act(self, X, frame, report):
        """Pass, warn about, raise for or drop the rows of a checked batch."""
        if not report.failures:
            return self._pass(X, frame)
        if report.passed or self.on_error == "warn":
            warnings.warn(
                f"{type(self).__name__}: {report.message()}",
                DataQualityWarning,
                stacklevel=3,
            )
            return self._pass(X, frame)
        column_level = [f for f in report.errors if f.level == COLUMN]
        if self.on_error == "raise" or column_level:
            raise DataValidationError(self._error_message(report, frame), report)
        keep = ~report._row_mask
        report.n_dropped = int(report._row_mask.sum())
        warnings.warn(
            f"{type(self).__name__} dropped {report.n_dropped} of {report.n_rows} "
            f"row(s) that failed a check: {report.message()}",
            DataQualityWarning,
            stacklevel=3,
        )
        if isinstance(X, pd.DataFrame):
            return X.loc[keep]
        if isinstance(X, np.ndarray):
            return X[keep]
        if hasattr(X, "to_pandas"):
            return frame.loc[keep]
        return to_array(frame.loc[keep])

    def row_reasons(self, X):
        """Check ``X`` and say, row by row, which rows are refused and why.

        For a service that answers every request of a batch: predict the
        rows that passed and answer the others with their reasons. Nothing is
        raised or warned whatever ``on_error`` is, and ``last_report_`` is
        left as it is; ``X`` is not modified.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            The batch.

        Returns
        -------
        reasons : DataFrame
            :meth:`ValidationReport.row_reasons` of the batch's report: one
            row per row of ``X``, with its index, and the columns ``passed``,
            ``reasons`` and ``batch_passed``.

        See Also
        --------
        ValidationReport.row_reasons : The same frame from a report, e.g. the
            ``last_report_`` after ``on_error="drop_rows"`` or the ``report``
            of a :class:`~mlpipe.exceptions.DataValidationError`.

        Examples
        --------
        >>> import pandas as pd
        >>> from mlpipe.datasets import load_credit
        >>> from mlpipe.validation import SchemaValidator
        >>> X, y = load_credit(return_X_y=True)
        >>> validator = SchemaValidator().fit(X)
        >>> requests = X.iloc[:3].copy()
        >>> requests.loc[1, "age"] = 999
        >>> validator.row_reasons(requests)
           passed                         reasons  batch_passed
        0    True                                          True
        1   False  age out of range [19, 75]: 999          True
        2    True                                          True
        """
        check_is_fitted(self)
        return self._run_checks(self._as_frame(X)).row_reasons()

    def _small_batch_labels(self, X):
        """The column labels of a DataFrame of a few rows labelled as at fit
        (the one row of a service), which the small-batch path reads as it
        is, without the general checks' costs; None for any other input."""
        if not isinstance(X, pd.DataFrame) or len(X) > MAX_ROWS:
            return None
        labels = X.columns.tolist()  # read once: ~8 us for string labels
        if (bool(labels) and all(isinstance(c, str) for c in labels)) == self._positional():
            return None  # label_like_fit would relabel it, with a warning
        return labels

    def _run_checks(self, frame, small_batch=True):
        return run_checks(
            self.schema_,
            frame,
            alpha=self.alpha,
            warn_alpha=self.warn_alpha,
            small_batch=small_batch,
        )

    def _error_message(self, report, frame):
        name = type(self).__name__
        lines = [f"{name} found problems in the batch: {report.message()}"]
        if self.on_error == "drop_rows":
            lines.append(
                "on_error='drop_rows' cannot repair the column-level failures "
                "above by removing rows."
            )
        expected = self.schema_.names
        if frame.shape[1] != len(expected):
            lines.append(
                f"X has {frame.shape[1]} features, but {name} is expecting "
                f"{len(expected)} features as input."
            )
        checks = {f.check for f in report.errors}
        if checks & {"missing_column", "extra_column", "column_order"}:
            lines.append(_feature_names_message(expected, list(frame.columns)))
        return "\n".join(lines)

    @staticmethod
    def _pass(X, frame):
        if isinstance(X, pd.DataFrame):
            # A new frame sharing the data, so that set_output renaming the
            # output's columns cannot rename the caller's frame.
            return shallow_copy(X)
        if isinstance(X, np.ndarray) or hasattr(X, "to_pandas"):
            return X
        # A list: its values as the checks saw them (np.asarray would turn a
        # NaN among strings into the string "nan").
        return to_array(frame)


def _feature_names_message(fitted, given):
    """scikit-learn's wording for mismatched feature names."""

    def listing(names):
        shown = "".join(f"- {n}\n" for n in names[:5])
        return shown + ("- ...\n" if len(names) > 5 else "")

    unexpected = sorted(set(given) - set(fitted), key=str)
    missing = sorted(set(fitted) - set(given), key=str)
    message = "The feature names should match those that were passed during fit.\n"
    if unexpected:
        message += "Feature names unseen at fit time:\n" + listing(unexpected)
    if missing:
        message += "Feature names seen at fit time, yet now missing:\n" + listing(missing)
    if not unexpected and not missing:
        message += "Feature names must be in the same order as they were in fit.\n"
    return message
