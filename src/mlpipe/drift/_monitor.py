"""DriftMonitor: a pass-through pipeline step that watches every batch."""

import warnings
from numbers import Integral

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin, clone

from mlpipe.drift._base import _BaseDrift
from mlpipe.drift._detectors import DriftDetector
from mlpipe.exceptions import DriftWarning
from mlpipe.utils._dataframe import check_frame
from mlpipe.utils._estimator import MlpipeEstimatorMixin
from mlpipe.utils._monitoring import monitoring_suspended
from mlpipe.utils._sklearn_compat import (
    HasMethods,
    Interval,
    check_is_fitted,
    fit_context,
)


class DriftMonitor(MlpipeEstimatorMixin, OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Check every batch a pipeline transforms against the training data.

    A pass-through step: ``transform`` returns its input unchanged (a
    DataFrame as a shallow copy sharing its data) after comparing it with the
    reference learned at ``fit``.
    Each comparison's :class:`DriftReport` is appended to ``history_``;
    when a batch drifted, a :class:`~mlpipe.exceptions.DriftWarning` is
    issued and every callback is called with the report (for example, to
    trigger retraining or page someone).

    Put it first in a pipeline to watch raw inputs, or after preprocessing
    to watch what the model sees::

        model = make_pipeline(DriftMonitor(callbacks=[retrain]), imputer, clf)

    ``fit`` (and ``fit_transform``) learn the reference and do not check the
    training data against itself. Batches that are not production traffic,
    such as the rows :func:`mlpipe.explain.explain` sends through the
    pipeline, are passed on without being checked or recorded.

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

    Attributes
    ----------
    detector_ : drift detector
        The fitted detector.

    history_ : list of DriftReport
        The reports of the batches transformed since fit, oldest first.

    n_drifted_ : int
        How many batches drifted since fit (including any dropped from
        ``history_``).

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
    """

    _parameter_constraints = {
        "detector": [HasMethods(["fit", "detect"]), None],
        "callbacks": "no_validation",
        "warn": ["boolean"],
        "max_history": [Interval(Integral, 1, None, closed="left"), None],
    }

    def __init__(self, *, detector=None, callbacks=None, warn=True, max_history=None):
        self.detector = detector
        self.callbacks = callbacks
        self.warn = warn
        self.max_history = max_history

    @fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None):
        """Learn the reference distribution.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            The reference (training) data.

        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted monitor.
        """
        callbacks = self._callbacks()
        detector = DriftDetector() if self.detector is None else clone(self.detector)
        if not isinstance(detector, _BaseDrift):
            raise TypeError(
                f"detector must be an mlpipe drift detector, got {type(detector).__name__}."
            )
        detector.fit(X)
        self.detector_ = detector
        self.n_features_in_ = detector.n_features_in_
        if hasattr(detector, "feature_names_in_"):
            self.feature_names_in_ = detector.feature_names_in_
        self.history_ = []
        self.n_drifted_ = 0
        self._callbacks_ = callbacks
        return self

    def _callbacks(self):
        if self.callbacks is None:
            return []
        callbacks = [self.callbacks] if callable(self.callbacks) else list(self.callbacks)
        for cb in callbacks:
            if not callable(cb):
                raise TypeError(f"callbacks must be callables, got {cb!r}.")
        return callbacks

    def transform(self, X):
        """Check ``X`` for drift and return it unchanged.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            A batch with the columns seen at fit.

        Returns
        -------
        X : the input, unchanged
            An array as the same object, a DataFrame as a new frame sharing
            its data (so that ``set_output`` naming the output's columns
            cannot rename the caller's frame), a list of rows as an ndarray.
        """
        check_is_fitted(self, "detector_")
        if monitoring_suspended():
            return _passed(X)
        # Checked here, so that a warning about matching columns by position
        # names the monitor (the detector then sees the columns as at fit).
        report = self.detector_.detect(check_frame(self, X, reset=False))
        self.history_.append(report)
        if self.max_history is not None and len(self.history_) > self.max_history:
            del self.history_[: len(self.history_) - self.max_history]
        if report.drift:
            self.n_drifted_ += 1
            if self.warn:
                warnings.warn(
                    f"Drift in batch {len(self.history_)}: {report.summary()}",
                    DriftWarning,
                    stacklevel=2,
                )
            for callback in self._callbacks_:
                callback(report)
        return _passed(X)

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


def _passed(X):
    """``X`` as the monitor passes it on."""
    if isinstance(X, pd.DataFrame):
        # A new frame sharing the data: set_output(transform="pandas") sets
        # the columns of what transform returns, and must not rename the
        # caller's frame.
        return X.copy(deep=False)
    # Other tables (ndarray, polars...) pass as the same object; a plain list
    # of rows becomes the array it stands for.
    return X if hasattr(X, "shape") else np.asarray(X)
