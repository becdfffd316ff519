"""SchemaValidator: a pipeline step that checks every batch against a schema."""

import copy
import os
import warnings
from functools import partial
from numbers import Integral, Real

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin

from mlpipe.exceptions import DataQualityWarning, DataValidationError
from mlpipe.utils._dask import is_dask_dataframe, map_merge, require_dask
from mlpipe.utils._dataframe import (
    DATETIME,
    as_frame,
    check_frame,
    column_kind,
    describe_columns,
    label_like_fit,
    shallow_copy,
    time_ns,
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
from mlpipe.validation._dask import (
    LazyValidationReport,
    act_on_partition,
    batch_report,
    batch_row_reasons,
    dropped,
)
from mlpipe.validation._report import COLUMN
from mlpipe.validation._schema import (
    Schema,
    column_from_summary,
    column_summary,
    merge_column_summaries,
    tail_keep,
)
from mlpipe.validation._small_batch import MAX_ROWS, small_batch_report
from mlpipe.validation._stats import tail_size, top_values


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

        After ``fit`` on a dask DataFrame, and after ``transform`` of one, a
        :class:`~mlpipe.validation._dask.LazyValidationReport`: computed
        when one of its attributes is read or :meth:`compute` is called.

    inexact_tails_ : dict
        ``{column: {side: (values used, values wanted)}}`` for the tails that
        :meth:`partial_fit` fitted to fewer of the extreme values than ``fit``
        on the whole data would (the chunks kept too few of them: the upper
        tail of a stream sorted in descending order); empty when the schema
        equals the in-memory one, as it always does after ``fit``.

    summary_ : dict
        After :meth:`partial_fit` only: the mergeable summary of the chunks
        seen (counts, ranges, categories and their counts, the most extreme
        values), which the next call extends.

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

    Data larger than memory: :meth:`partial_fit` learns from a stream of
    chunks, and ``fit`` accepts a dask DataFrame (a map over its partitions
    and a merge, plus a second pass only for a tail whose extreme values the
    partitions kept too few of). Both learn the schema ``fit`` learns from the
    concatenated frame: kinds, dtypes, missing shares, ranges, categories and
    their counts exactly, and the tails exactly unless ``inexact_tails_``
    says otherwise. ``transform`` of a dask DataFrame is lazy: it returns a
    dask DataFrame (all rows, or without the failing rows under
    ``on_error="drop_rows"``, each keeping its index label) and sets
    ``last_report_`` to a lazy report equal to the in-memory report of the
    same batch (its failures carry no row masks, so its ``rows_of`` and
    ``row_reasons`` refuse; :meth:`row_reasons` of a dask batch is a lazy dask
    DataFrame of every row's reasons, each partition checked against the
    whole batch's statistics). An error of ``on_error="raise"`` is raised when the
    result is computed; ``"warn"`` gives no warning (read the report), and the
    run store does not record dask batches.

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
        if is_dask_dataframe(X):
            return self._fit_dask(X)
        frame = check_frame(self, X, reset=True)
        if self.schema is None:
            key = self._learned_key(frame)
            self.schema_ = Schema.infer(frame, key=key)
        else:
            self._take_schema()
        self.inexact_tails_ = {}
        if hasattr(self, "summary_"):
            del self.summary_
        self.last_report_ = self._run_checks(self._as_frame(X, frame))
        self._warn_training_fails()
        return self

    @fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None):
        """Learn the schema from one more chunk of the training data.

        The first call (or the first after ``fit``, which keeps no summary to
        extend) learns as ``fit`` would; each later call adds its chunk,
        which must have the same columns (an error names the missing, unseen
        or moved ones). After any number of calls the schema is the one
        ``fit`` learns from the concatenated chunks: the kinds, dtypes
        (merged as :func:`pandas.concat` merges them), missing shares, ranges,
        categories and their counts exactly; the tails too, from the largest
        and smallest values each chunk keeps, unless a tail's values were
        spread so unevenly over the chunks that too few were kept (see
        ``inexact_tails_``). A given ``schema`` is kept as it is and every
        chunk is checked against it.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            A chunk of the training data (for example one record batch of a
            Parquet dataset).

        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted validator.
        """
        first = not hasattr(self, "summary_")
        frame = check_frame(self, X, reset=first)
        if self.schema is not None:
            if first:
                self._take_schema()
                self.inexact_tails_ = {}
                self.summary_ = {"n": 0}
            self.summary_ = {"n": self.summary_["n"] + len(frame)}
        else:
            if first:
                key = self._learned_key(frame)
                old = None
            else:
                key, old = self.schema_.key, self.summary_
            n = len(frame) + (old["n"] if old else 0)
            keep = tail_keep(n)
            chunk = [column_summary(name, frame[name], keep) for name in frame.columns]
            if old is not None:
                chunk = [
                    merge_column_summaries([a, b], keep)
                    for a, b in zip(old["columns"], chunk, strict=True)
                ]
            had_inf = [c["name"] for c in old["columns"] if c.get("had_inf")] if old else []
            self._learn_from_summaries(chunk, key)
            self.summary_ = {"n": n, "columns": chunk}
            new_inf = [
                c.name for c in self.schema_.columns if c.allow_inf and c.name not in had_inf
            ]
            if new_inf:
                _warn_inf(new_inf)
        self.last_report_ = self._run_checks(self._as_frame(X, frame))
        self._warn_training_fails()
        return self

    def _learned_key(self, frame):
        key = self.key
        if key is not None:
            key = [key] if isinstance(key, str | Integral) else list(key)
            unknown = [k for k in key if k not in frame.columns]
            if unknown:
                raise ValueError(
                    f"key names column(s) {unknown} that are not in X; its "
                    f"columns are {list(frame.columns)[:10]}."
                )
        return key

    def _take_schema(self):
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

    def _learn_from_summaries(self, summaries, key):
        columns, self.inexact_tails_ = [], {}
        for summary in summaries:
            col, _, short = column_from_summary(summary)
            columns.append(col)
            if short:
                self.inexact_tails_[col.name] = short
        self.schema_ = Schema(columns=columns, key=key)

    def _warn_training_fails(self):
        if self.last_report_.failures:
            warnings.warn(
                "SchemaValidator: the training data itself fails the given "
                "schema:\n" + self.last_report_.message(),
                DataQualityWarning,
                stacklevel=3,
            )

    def _fit_dask(self, X):
        """``fit`` on a dask DataFrame: each partition summarized on the
        workers, the summaries merged; a second pass reads the exact tails
        of the columns whose partitions kept too few extreme values."""
        sample = X._meta_nonempty
        check_frame(self, sample, reset=True)
        if self.schema is not None:
            self._take_schema()
            self.inexact_tails_ = {}
        else:
            key = self._learned_key(sample)
            summaries = map_merge(X, _summarize_partition, _merge_partition_summaries)
            self._learn_from_summaries(summaries["columns"], key)
            if self.inexact_tails_:
                wanted = {
                    c["name"]: _tail_count(c)
                    for c in summaries["columns"]
                    if c["name"] in self.inexact_tails_
                }
                exact = map_merge(
                    X, partial(_partition_tails, wanted), partial(_merge_tails, wanted)
                )
                for c in summaries["columns"]:
                    if c["name"] in exact:
                        c["high"], c["low"] = exact[c["name"]][:2]
            self._learn_from_summaries(summaries["columns"], key)
            inf = [c.name for c in self.schema_.columns if c.allow_inf]
            if inf:
                _warn_inf(inf)
        if hasattr(self, "summary_"):
            del self.summary_
        self.last_report_ = self._dask_report(X)
        return self

    def __getstate__(self):
        # A dask batch's report is computed when the validator is saved.
        state = super().__getstate__()
        if isinstance(state.get("last_report_"), LazyValidationReport):
            state = dict(state, last_report_=state["last_report_"].compute())
        return state

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
            an ndarray). ``X`` itself is never modified. A dask DataFrame
            gives a lazy dask DataFrame (see the Notes of the class).

        Raises
        ------
        DataValidationError
            Under ``on_error="raise"`` if any check gave an error, and under
            ``"drop_rows"`` if a failure cannot be repaired by dropping rows.
            Its ``report`` attribute holds the :class:`ValidationReport`.
        """
        if not hasattr(self, "schema_"):  # check_is_fitted takes ~5 us
            check_is_fitted(self)
        if is_dask_dataframe(X):
            return self._transform_dask(X)
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

    def _dask_report(self, X):
        report, _, _ = batch_report(self.schema_, X, self.alpha, self.warn_alpha)
        return LazyValidationReport(report)

    def _transform_dask(self, X):
        """``transform`` of a dask DataFrame: lazy, see :meth:`transform`."""
        dask = require_dask("validating a dask DataFrame")
        report, context, repeated = batch_report(self.schema_, X, self.alpha, self.warn_alpha)
        report = dask.delayed(dropped)(report, self.on_error)
        # The message needs the schema and on_error, not the validator's
        # reports: a lazy one would be computed when dask hashes the argument.
        fitted = copy.copy(self)
        fitted.__dict__.pop("last_report_", None)
        message = partial(_dask_error_message, fitted, X._meta)
        self.last_report_ = LazyValidationReport(report)
        return X.map_partitions(
            act_on_partition,
            self.schema_,
            self.alpha,
            self.warn_alpha,
            context,
            repeated,
            report,
            self.on_error,
            message,
            meta=X._meta,
            enforce_metadata=False,
            align_dataframes=False,
        )

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
        X : {array-like, DataFrame, dask DataFrame} of shape (n_samples, n_features)
            The batch. A dask DataFrame gives a lazy dask DataFrame with the
            same rows, index and columns, computed on the workers.

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
        if is_dask_dataframe(X):
            return self._row_reasons_dask(X)
        return self._run_checks(self._as_frame(X)).row_reasons()

    def _row_reasons_dask(self, X):
        meta = pd.DataFrame(
            {
                "passed": pd.Series(dtype=bool),
                "reasons": pd.Series(dtype=object),
                "batch_passed": pd.Series(dtype=bool),
            },
            index=X._meta.index,
        )
        return batch_row_reasons(self.schema_, X, self.alpha, self.warn_alpha, meta)

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


def _dask_error_message(validator, meta, report):
    return validator._error_message(report, meta)


def _warn_inf(columns):
    warnings.warn(
        f"Column(s) {describe_columns(columns)} hold +/-inf in the training data; "
        "the schema allows inf there (allow_inf=True). Set allow_inf=False on "
        "the column to reject them.",
        DataQualityWarning,
        stacklevel=4,
    )


def _summarize_partition(part):
    keep = tail_keep(len(part))
    return {
        "n": len(part),
        "columns": [column_summary(name, part[name], keep) for name in part.columns],
    }


def _merge_partition_summaries(summaries):
    n = sum(s["n"] for s in summaries)
    keep = tail_keep(n)
    columns = [
        merge_column_summaries(list(pieces), keep)
        for pieces in zip(*(s["columns"] for s in summaries), strict=True)
    ]
    return {"n": n, "columns": columns}


def _tail_count(summary):
    return tail_size(summary["n_values"]) + 1


def _partition_tails(wanted, part):
    """The ``wanted[column]`` largest and smallest values of each column."""
    out = {}
    for name, count in wanted.items():
        s = part[name].dropna()
        values = time_ns(s) if column_kind(s) == DATETIME else s.to_numpy(dtype="float64")
        values = values[np.isfinite(values)]
        out[name] = (top_values(values, count), top_values(-values, count), len(values))
    return out


def _merge_tails(wanted, parts):
    out = {}
    for name, count in wanted.items():
        pieces = [p[name] for p in parts]
        high = np.sort(np.concatenate([h for h, _, _ in pieces]))[-count:]
        low = np.sort(np.concatenate([lo for _, lo, _ in pieces]))[-count:]
        out[name] = (high, low, sum(m for _, _, m in pieces))
    return out


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
