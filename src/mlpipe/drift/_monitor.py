"""DriftMonitor: a pass-through pipeline step that watches every batch, or
every window of rows."""

import datetime
import os
import time
import warnings
from numbers import Integral

import numpy as np
import pandas as pd
from pandas.api import types as ptypes
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin, clone
from sklearn.exceptions import NotFittedError

from mlpipe.drift._base import _BaseDrift
from mlpipe.drift._detectors import DriftDetector
from mlpipe.drift._scale import meta_of
from mlpipe.drift._window import WindowBuffer
from mlpipe.exceptions import DriftWarning
from mlpipe.utils._dask import is_dask_dataframe
from mlpipe.utils._dataframe import check_frame, column_arrays, shallow_copy, time_ns
from mlpipe.utils._estimator import MlpipeEstimatorMixin
from mlpipe.utils._monitoring import monitoring_suspended, suspended
from mlpipe.utils._sklearn_compat import (
    HasMethods,
    Interval,
    InvalidParameterError,
    check_is_fitted,
    fit_context,
)
from mlpipe.utils._store_writer import record_later, resolve_store, snapshot


class DriftMonitor(MlpipeEstimatorMixin, OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Check every batch a pipeline transforms against the training data.

    A pass-through step: ``transform`` returns its input unchanged (a
    DataFrame as a shallow copy sharing its data) after comparing it with the
    reference learned at ``fit``.
    Each comparison's :class:`DriftReport` is appended to ``history_``;
    when a batch drifted, a :class:`~mlpipe.exceptions.DriftWarning` is
    issued and every callback is called with the report (for example, to
    trigger retraining or page someone).

    With ``window`` (a row count) and/or ``window_time`` (a time span), the
    rows are buffered across calls instead, and tested once per window:
    a service sending one row per call gets one report per window, not a
    meaningless test of every row. A call that fills the window closes it at
    exactly ``window`` rows (its remaining rows open the next one; a large
    batch closes as many windows as it fills); a window also closes, before
    the row that arrives, when that row comes more than ``window_time``
    after the window's first row. :meth:`flush` tests the open window on
    demand; ``n_buffered_`` says how many rows wait in it. The open window
    is part of the fitted state: it survives saving and loading (a restarted
    service resumes it).

    Put it first in a pipeline to watch raw inputs, or after preprocessing
    to watch what the model sees::

        model = make_pipeline(DriftMonitor(callbacks=[retrain]), imputer, clf)

    ``fit`` (and ``fit_transform``) learn the reference and do not check the
    training data against itself; :meth:`partial_fit` learns it chunk by
    chunk (a reference larger than memory), and ``fit`` takes a dask
    DataFrame, which the detector summarizes on the workers. Batches that
    are not production traffic, such as the rows
    :func:`mlpipe.explain.explain` sends through the pipeline, are passed on
    without being checked or recorded.

    Parameters
    ----------
    detector : drift detector, default=None
        The unfitted detector to use (:class:`DriftDetector`,
        :class:`KSDrift`, :class:`PSIDrift`, :class:`ChiSquareDrift`);
        ``None`` means ``DriftDetector()``. It is cloned at fit.

    callbacks : callable or list of callables, default=None
        Called as ``callback(report)`` for every batch that drifted, in order.
        Exceptions they raise propagate.

    warn : bool, default=True
        Issue a :class:`~mlpipe.exceptions.DriftWarning` for every batch that
        drifted.

    max_history : int, default=None
        Keep only the last ``max_history`` reports (all when None).

    window : int, default=None
        Test every ``window`` rows, however many calls bring them. None
        tests every batch (unless ``window_time`` is set).

    window_time : timedelta-like or str, default=None
        Also close a window when a row arrives more than this after the
        window's first row: a ``datetime.timedelta``, ``numpy.timedelta64``
        or a string ``pandas.Timedelta`` reads (``"15min"``). The time of a
        row is that of ``time_column`` when given, else the time of the call
        that brought it, read from ``clock``.

    time_column : column label, default=None
        A datetime column of ``X`` holding each row's own time (event time;
        needs ``window_time``). Windows then follow the data, not the
        arrival of requests, so a replay of the same rows gives the same
        windows; rows without a time (NaT) join the open window and never
        close one. The column is read for windowing and not tested for
        drift.

    clock : callable, default=None
        Called with no argument on every ``transform``, it returns the
        current time in seconds (``time.time`` when None). Give a fake clock
        in tests; a monitor saved with one needs it trusted on load.

    store : str or os.PathLike, default=None
        A run store file (:class:`mlpipe.monitor.RunStore`) to record every
        batch's or window's report in (one row per feature and test, the
        window's number, the rows' fingerprint), off the request thread;
        None takes ``mlpipe.get_config()["store"]``, which is none by
        default. :func:`mlpipe.monitor.wait_for_writes` waits for the records.

    performance : PerformanceEstimator, default=None
        A fitted :class:`PerformanceEstimator`: every batch (but a dask
        one, which stays on its workers) or window the monitor tests also
        gets an estimate of the model's performance without labels,
        ``report.performance`` (a
        :class:`PerformanceReport`), which the run store records beside the
        drift check. It is used as it is, never refitted: fit the pipeline,
        then the estimator on held-out labelled data, then set it with
        ``monitor.set_params(performance=estimator)`` (a clone of the
        monitor, as in a grid search, holds an unfitted copy). It scores the
        rows the monitor receives, so its ``estimator`` is the part of the
        pipeline after the monitor: ``pipe[1:]`` when the monitor is the
        first step (a slice shares the fitted steps; the whole pipeline
        would hold the monitor inside its own parameter, and is refused).
        The monitoring steps of that part record nothing while it scores.
        None estimates nothing.

    Attributes
    ----------
    detector_ : drift detector
        The fitted detector.

    history_ : list of DriftReport
        The reports of the batches (or closed windows) since fit, oldest
        first.

    n_drifted_ : int
        How many batches or windows drifted since fit (including any
        dropped from ``history_``).

    n_buffered_ : int
        Rows waiting in the open window (0 without a window).

    n_features_in_ : int
        Number of features seen during fit.

    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when they are all strings.

    See Also
    --------
    DriftDetector : The default detector.

    Examples
    --------
    >>> from mlpipe.datasets import load_credit, make_credit_batch
    >>> from mlpipe.drift import DriftMonitor
    >>> X_ref, _ = load_credit(return_X_y=True)
    >>> alerts = []
    >>> monitor = DriftMonitor(callbacks=[alerts.append], warn=False).fit(X_ref)
    >>> batch = make_credit_batch().X
    >>> monitor.transform(batch).equals(batch)
    True
    >>> len(monitor.history_), alerts[0].drifted_features[:2]
    (1, ['duration', 'age'])

    One row per call, one test per 100 rows:

    >>> windowed = DriftMonitor(window=100, warn=False).fit(X_ref)
    >>> for i in range(250):
    ...     _ = windowed.transform(batch.iloc[[i]])
    >>> len(windowed.history_), windowed.n_buffered_
    (2, 50)
    >>> windowed.flush().n_batch, windowed.n_buffered_
    (50, 0)
    """

    _parameter_constraints = {
        "detector": [HasMethods(["fit", "detect"]), None],
        "callbacks": "no_validation",
        "warn": ["boolean"],
        "max_history": [Interval(Integral, 1, None, closed="left"), None],
        "window": [Interval(Integral, 1, None, closed="left"), None],
        "window_time": [datetime.timedelta, np.timedelta64, str, None],
        "time_column": "no_validation",
        "clock": [callable, None],
        "store": [str, os.PathLike, None],
        "performance": [HasMethods(["estimate"]), None],
    }

    def __init__(
        self,
        *,
        detector=None,
        callbacks=None,
        warn=True,
        max_history=None,
        window=None,
        window_time=None,
        time_column=None,
        clock=None,
        store=None,
        performance=None,
    ):
        self.detector = detector
        self.callbacks = callbacks
        self.warn = warn
        self.max_history = max_history
        self.window = window
        self.window_time = window_time
        self.time_column = time_column
        self.clock = clock
        self.store = store
        self.performance = performance

    @fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None):
        """Learn the reference distribution.

        Parameters
        ----------
        X : {array-like, DataFrame, dask DataFrame} of shape (n_samples, n_features)
            The reference (training) data. A dask DataFrame is summarized
            by the detector on the workers (see the detector's ``fit``);
            the monitor itself reads only its columns and dtypes.

        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted monitor.
        """
        return self._fit(X, partial=False)

    def partial_fit(self, X, y=None):
        """Add a chunk of the reference to what the monitor learned.

        The first call is :meth:`fit` on its chunk, except that the detector
        learns it with its own ``partial_fit``: the monitor's columns, its
        ``time_column``, windows and callbacks, and the detector's columns,
        kinds and tests come from that chunk and the parameters at that
        call. Later chunks must have the same columns, in the same order and
        of the same kinds; they only grow the detector's reference (see the
        detector's ``partial_fit``: what adds up exactly, and the KS columns
        sketched beyond ``max_reference_rows``). So
        ``partial_fit(c1).partial_fit(c2)`` gives the reports of
        ``detector.partial_fit(c1).partial_fit(c2)``, which are those of
        ``fit(concat([c1, c2]))`` wherever the detector's chunks merge
        exactly. Reports already in ``history_`` and rows waiting in the
        open window are kept: what is tested after the call is compared
        with the grown reference.

        Parameters
        ----------
        X : {array-like, DataFrame, dask DataFrame} of shape (n_samples, n_features)
            A chunk of the reference data (a record batch of a Parquet
            dataset, a file of a month); a dask DataFrame is summarized by
            the detector on its workers.

        y : None
            Ignored.

        Returns
        -------
        self : object
            The monitor, fitted on every chunk so far.

        Raises
        ------
        ValueError
            If a later chunk lacks a column of the first, has another, or
            has them in another order (the error names the columns).
        TypeError
            If a column of a later chunk is of another kind than in the
            first (text in a numeric column, a time column that does not
            hold datetimes).
        """
        if not hasattr(self, "detector_"):
            # Not under one fit_context with the later chunks: scikit-learn
            # skips validating the parameters of a partial_fit once anything
            # ends in "_" (n_features_in_ is set before the detector may
            # refuse a first chunk), and a first chunk must validate them.
            return self._fit_first_chunk(X)
        return self._add_chunk(X)

    @fit_context(prefer_skip_nested_validation=False)
    def _fit_first_chunk(self, X):
        return self._fit(X, partial=True)

    def _fit(self, X, *, partial):
        callbacks = self._callbacks()
        span = self._window_span()
        detector = DriftDetector() if self.detector is None else clone(self.detector)
        if not isinstance(detector, _BaseDrift):
            raise TypeError(
                f"detector must be an mlpipe drift detector, got {type(detector).__name__}."
            )
        frame = self._checked(X, reset=True)
        columns = list(frame.columns)
        time_position = None
        if self.time_column is not None:
            time_position = self._time_position(frame, columns)
        watched = self._watched(X, frame, time_position)
        if partial:
            detector.partial_fit(watched)
        else:
            detector.fit(watched)
        self.detector_ = detector
        self.history_ = []
        self.n_drifted_ = 0
        # reports since fit, in a list changed in place (as history_ is): the
        # window number of a store's records, whatever max_history drops
        self._n_reports = [0]
        self._callbacks_ = callbacks
        windowed = self.window is not None or span is not None
        self._buffer = WindowBuffer(columns) if windowed else None
        self._span = span
        self._time_position = time_position
        return self

    def _add_chunk(self, X):
        """A later chunk of :meth:`partial_fit`: checked against the first,
        then added to the detector's reference. Everything else the monitor
        learned (columns, time column, windows, callbacks) is the first
        chunk's: a chunk adds rows, not columns."""
        self._check_column_order(meta_of(X) if is_dask_dataframe(X) else X)
        frame = self._checked(X, reset=False)
        position = self._time_position
        if position is not None:
            _require_datetimes(self.time_column, frame.dtypes.iloc[position])
        self.detector_.partial_fit(self._watched(X, frame, position))
        return self

    def _checked(self, X, *, reset):
        """``check_frame`` of ``X``, or of the columns and dtypes of a dask
        DataFrame (its rows stay where they are)."""
        if is_dask_dataframe(X):
            return check_frame(self, meta_of(X), reset=reset, min_samples=0)
        return check_frame(self, X, reset=reset)

    def _watched(self, X, frame, time_position):
        """What the detector compares: the checked frame (a dask DataFrame
        as it is) without the time column."""
        data = X if is_dask_dataframe(X) else frame
        if time_position is None:
            return data
        return data.drop(columns=[self.time_column])

    def _check_column_order(self, X):
        """Name the first column out of place when a chunk has the columns
        of the first chunk in another order (scikit-learn's message says
        only that the order differs)."""
        expected = getattr(self, "feature_names_in_", None)
        columns = getattr(X, "columns", None)
        if expected is None or columns is None or len(columns) != len(expected):
            return
        got = list(columns)
        if got == list(expected) or set(got) != set(expected):
            return
        i = next(i for i, (a, b) in enumerate(zip(got, expected, strict=True)) if a != b)
        raise ValueError(
            f"X has the columns of the first chunk in another order: column {i} is "
            f"{got[i]!r} where the first chunk had {expected[i]!r}. Reorder it with "
            "X[monitor.feature_names_in_]."
        )

    def _window_span(self):
        """``window_time`` as seconds (clock) or nanoseconds (time column)."""
        if self.window_time is None:
            if self.time_column is not None:
                raise InvalidParameterError(
                    "time_column is only read to close time windows: set window_time too "
                    f"(time_column={self.time_column!r}, window_time=None)."
                )
            return None
        try:
            span = pd.Timedelta(self.window_time)
        except (TypeError, ValueError) as exc:
            raise InvalidParameterError(
                "The 'window_time' parameter of DriftMonitor must be a time span such as "
                f"datetime.timedelta(minutes=5) or '5min'; got {self.window_time!r}."
            ) from exc
        if span is pd.NaT or span <= pd.Timedelta(0):
            raise InvalidParameterError(
                f"The 'window_time' parameter of DriftMonitor must be positive; got "
                f"{self.window_time!r}."
            )
        if self.time_column is not None and self.clock is not None:
            raise InvalidParameterError(
                "Give the window's clock once: time_column (the rows' own times) or clock "
                "(the time each call arrives), not both."
            )
        return int(span.value) if self.time_column is not None else span.total_seconds()

    def _time_position(self, frame, columns):
        if self.time_column not in columns:
            raise ValueError(
                f"time_column={self.time_column!r} is not a column of X; its columns are "
                f"{columns[:10]}."
            )
        _require_datetimes(self.time_column, frame[self.time_column].dtype)
        if frame.shape[1] == 1:
            raise ValueError(f"X has no column to watch besides time_column {self.time_column!r}.")
        return columns.index(self.time_column)

    def _callbacks(self):
        if self.callbacks is None:
            return []
        callbacks = [self.callbacks] if callable(self.callbacks) else list(self.callbacks)
        for cb in callbacks:
            if not callable(cb):
                raise TypeError(f"callbacks must be callables, got {cb!r}.")
        return callbacks

    def transform(self, X):
        """Check ``X`` for drift (or add it to the window) and return it.

        Without a window, ``X`` is tested now; with one, its rows join the
        open window, which is tested when it closes.

        Parameters
        ----------
        X : {array-like, DataFrame, dask DataFrame} of shape (n_samples, n_features)
            A batch with the columns seen at fit. A dask DataFrame is
            tested on its workers as one batch (without a window only), and
            returned as it is; the run store does not record it.

        Returns
        -------
        X : the input, unchanged
            An array as the same object, a DataFrame as a new frame sharing
            its data (so that ``set_output`` naming the output's columns
            cannot rename the caller's frame), a list of rows as an ndarray.
        """
        if not hasattr(self, "detector_"):  # check_is_fitted takes ~10 us
            check_is_fitted(self, "detector_")
        if monitoring_suspended():
            return X if is_dask_dataframe(X) else _passed(X)
        if is_dask_dataframe(X):
            return self._transform_dask(X)
        if getattr(self, "_buffer", None) is not None:
            self._feed(X)
            return _passed(X)
        # Checked here, so that a warning about matching columns by position
        # names the monitor (the detector then sees the columns as at fit).
        self._record(self.detector_.detect(check_frame(self, X, reset=False)), "batch", 3, X)
        return _passed(X)

    def _transform_dask(self, X):
        """A dask batch: tested as one batch, on the workers (the detector's
        ``detect``), and returned as it is, still lazy."""
        if getattr(self, "_buffer", None) is not None:
            raise TypeError(
                f"{type(self).__name__}(window={self.window!r}) keeps the rows of its open "
                "window in memory, so it cannot take a dask DataFrame. Test a dask batch "
                "as one batch with window=None, or compute it in chunks (each one a pandas "
                "frame) and pass those."
            )
        check_frame(self, meta_of(X), reset=False, min_samples=0)
        self._record(self.detector_.detect(X), "batch", 4, store=False)
        return X

    def _record(self, report, unit, stacklevel, X=None, store=True, scored=None):
        if X is not None and getattr(self, "performance", None) is not None:
            report.performance = self._estimate_performance(X if scored is None else scored)
        self.history_.append(report)
        counter = getattr(self, "_n_reports", None)
        if counter is None:  # a monitor fitted by an earlier mlpipe
            counter = self._n_reports = [len(self.history_) - 1]
        counter[0] += 1
        store = resolve_store(self) if store else None  # dask batches: not recorded
        if store is not None:
            # a window's rows are the monitor's own; a batch is the caller's
            rows = snapshot(X) if unit == "batch" else X
            record_later(store, "record_drift", report, X=rows, window=counter[0], step=self)
            if getattr(report, "performance", None) is not None:
                record_later(
                    store,
                    "record_performance_estimate",
                    report.performance,
                    X=rows,
                    window=counter[0],
                    step=self,
                )
        if self.max_history is not None and len(self.history_) > self.max_history:
            del self.history_[: len(self.history_) - self.max_history]
        if report.drift:
            self.n_drifted_ += 1
            if self.warn:
                warnings.warn(
                    f"Drift in {unit} {len(self.history_)}: {report.summary()}",
                    DriftWarning,
                    stacklevel=stacklevel,
                )
            for callback in self._callbacks_:
                callback(report)
        return report

    def _estimate_performance(self, X):
        """The performance estimate of the rows ``X`` (as the monitor
        received them), with the monitoring steps suspended while the
        estimator's classifier scores them."""
        estimator = self.performance
        if _holds(getattr(estimator, "estimator", None), self):
            raise ValueError(
                "DriftMonitor's performance estimator scores with a model that holds this "
                "monitor (a pipeline whose step it is), so the monitor would hold itself. "
                "Give the estimator the part of the pipeline after the monitor: "
                "PerformanceEstimator(estimator=pipe[1:]) when the monitor is the first step."
            )
        if not hasattr(estimator, "calibrator_"):
            raise NotFittedError(
                f"DriftMonitor's performance estimator {type(estimator).__name__} is not "
                "fitted: fit it on held-out labelled data (after the pipeline), then set it "
                "with monitor.set_params(performance=estimator)."
            )
        with suspended():
            return estimator.estimate(X)

    # -- windows -----------------------------------------------------------

    def _feed(self, X):
        """Add the rows of ``X`` to the open window, closing it at
        ``window`` rows or when its time span is exceeded (as many times as
        the rows fill)."""
        buffer = self._buffer
        if isinstance(X, pd.DataFrame) and buffer.labelled_as_fit(X):
            frame = X  # check_frame would return it as it is
        else:
            frame = check_frame(self, X, reset=False)
        arrays = column_arrays(frame)
        dtypes = self._check_chunk(frame, arrays)
        n = frame.shape[0]
        times = None
        now = None
        if self._span is not None:
            if self._time_position is not None:
                times = time_ns(pd.Series(arrays[self._time_position], copy=False))
            else:
                now = float((time.time if self.clock is None else self.clock)())
                if buffer.n_rows and now - buffer.start > self._span:
                    self._close()
        window = self.window
        pos = 0
        while pos < n:
            stop = n if window is None else min(n, pos + window - buffer.n_rows)
            closes = window is not None and buffer.n_rows + stop - pos == window
            if buffer.n_rows == 0 and now is not None:
                buffer.start = now
            if times is not None:
                stop, late = self._before_late_row(times, pos, stop)
                closes = closes or late
            buffer.append(arrays, dtypes, pos, stop, copy=not closes)
            pos = stop
            if closes:
                self._close()

    def _before_late_row(self, times, pos, stop):
        """Where the open window ends among the rows ``pos:stop`` by the
        time column: before the first row more than ``window_time`` after
        the window's first timed row (missing times never close a window)."""
        buffer = self._buffer
        segment = times[pos:stop]
        timed = ~np.isnan(segment)
        if buffer.start is None:
            if not timed.any():
                return stop, False
            buffer.start = float(segment[np.argmax(timed)])
        late = timed & (segment - buffer.start > self._span)
        if not late.any():
            return stop, False
        return pos + int(np.argmax(late)), True

    def _check_chunk(self, frame, arrays):
        """Refuse a batch whose column kinds changed since fit now, rather
        than when its window closes. The check runs once per new set of
        dtypes (and for every object column, whose kind is in its values).
        Returns the dtypes of ``arrays``."""
        buffer = self._buffer
        dtypes = [a.dtype for a in arrays]
        if dtypes == buffer.checked_dtypes:  # a list compares by identity first
            return dtypes
        position = self._time_position
        if position is not None:
            _require_datetimes(self.time_column, dtypes[position])
            frame = frame.drop(columns=[self.time_column])
        self.detector_._check_kinds(check_frame(self.detector_, frame, reset=False))
        if not any(isinstance(d, np.dtype) and d.kind == "O" for d in dtypes):
            buffer.checked_dtypes = dtypes
        return dtypes

    def _close(self, stacklevel=6):
        # the warning names the caller of transform (6 frames up: _record,
        # _close, _feed, transform, set_output's wrapper) or of flush (4)
        received = self._buffer.take()
        frame = received
        if self._time_position is not None:
            frame = received.drop(columns=[self.time_column])
        report = self.detector_.detect(frame)
        return self._record(report, "window", stacklevel, frame, scored=received)

    def _detect_batch(self, X):
        """Test ``X`` as one batch, outside the windows and ``history_``: the
        unit of :class:`mlpipe.monitor.MonitoringLoop` is a batch file, which
        records the report itself."""
        check_is_fitted(self, "detector_")
        frame = check_frame(self, X, reset=False)
        if self.time_column is not None:
            frame = frame.drop(columns=[self.time_column])
        return self.detector_.detect(frame)

    def flush(self):
        """Test the open window now, however few rows it holds.

        Its report is recorded (``history_``, warning, callbacks) as a closed
        window's is; tests without enough rows say so in their ``status``
        (``"too_few_rows"``), as the detector reports them in a small batch.

        Returns
        -------
        report : DriftReport or None
            The report of the window, or None when no rows were waiting (or
            the monitor tests every batch: ``window`` and ``window_time``
            None).
        """
        check_is_fitted(self, "detector_")
        buffer = getattr(self, "_buffer", None)
        if buffer is None or buffer.n_rows == 0:
            return None
        return self._close(stacklevel=4)

    @property
    def n_buffered_(self):
        """Rows waiting in the open window (0 without a window)."""
        check_is_fitted(self, "detector_")
        buffer = getattr(self, "_buffer", None)
        return 0 if buffer is None else buffer.n_rows

    def fit_transform(self, X, y=None, **fit_params):
        """Fit on ``X`` and return it unchanged.

        The training data is not checked against itself: ``history_`` stays
        empty.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            The reference (training) data.

        y : None
            Ignored.

        **fit_params : dict
            Ignored.

        Returns
        -------
        X_out : {ndarray, DataFrame}
            ``X`` as :meth:`transform` returns it.
        """
        self.fit(X, y)
        return _passed(X)

    @property
    def last_report_(self):
        """The report of the latest batch (None before any)."""
        check_is_fitted(self, "detector_")
        return self.history_[-1] if self.history_ else None


def _holds(model, step):
    """Whether ``model`` is ``step`` or holds it among its (nested) steps."""
    if model is step:
        return True
    steps = getattr(model, "steps", None) or getattr(model, "transformers", None) or []
    return any(_holds(item[1], step) for item in steps if isinstance(item, tuple))


def _require_datetimes(time_column, dtype):
    if not ptypes.is_datetime64_any_dtype(dtype):
        raise TypeError(f"time_column {time_column!r} must hold datetimes, got dtype {dtype}.")


def _passed(X):
    """``X`` as the monitor passes it on."""
    if isinstance(X, pd.DataFrame):
        # A new frame sharing the data: set_output(transform="pandas") sets
        # the columns of what transform returns, and must not rename the
        # caller's frame.
        return shallow_copy(X)
    # Other tables (ndarray, polars...) pass as the same object; a plain list
    # of rows becomes the array it stands for.
    return X if hasattr(X, "shape") else np.asarray(X)
