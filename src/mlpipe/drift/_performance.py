"""PerformanceEstimator: a classifier's performance on a window without labels.

Confidence-based performance estimation (CBPE, as in NannyML): a fitted
binary classifier's scores are calibrated on held-out labelled data, and on a
window with no labels the calibrated probability of each row stands in for its
unknown label. The expected confusion matrix gives the point estimates; the
realized metric's distribution, from labels drawn row by row from calibrators
refitted on bootstrap resamples of the calibration data, gives an interval
for the value the labels will show when they arrive.

The one assumption is that ``P(y | score)`` is the same in the window as in
the calibration data: true under covariate shift when the score carries all
that the features say about the label, false under concept drift, which the
estimate cannot see (see the guide, "Performance without labels").
"""

import copy
import warnings
from numbers import Integral, Real

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.base import BaseEstimator, clone, is_classifier, is_regressor
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import StratifiedKFold
from sklearn.utils import ClassifierTags, check_random_state

from mlpipe._report import Report, html_table, report_html
from mlpipe.drift._classifier import ClassifierDrift
from mlpipe.drift._performance_stats import (
    METRICS,
    N_BINS,
    auc_residual,
    calibrate,
    calibrate_stack,
    check_labels,
    draw_metrics,
    effective_rows,
    expected_metrics,
    fit_calibrator,
    realized_metrics,
    recalibrated,
    recalibration,
    reliability_test,
    shift_weights,
    stack_calibrators,
)
from mlpipe.exceptions import CalibrationWarning
from mlpipe.utils._dataframe import CATEGORICAL, OTHER, check_frame, check_kinds, column_kind
from mlpipe.utils._estimator import MlpipeEstimatorMixin
from mlpipe.utils._monitoring import suspended
from mlpipe.utils._sklearn_compat import (
    HasMethods,
    Interval,
    StrOptions,
    check_is_fitted,
    fit_context,
)

ALL = "(all)"
# Rows x draws held in memory at once when drawing labels.
_BLOCK = 4_000_000


class PerformanceReport(Report):
    """The result of :meth:`PerformanceEstimator.estimate`.

    One row per metric and group: the estimate, the interval meant to hold
    the metric the window's labels will show (its realized value) and, when
    labels were given, that realized value and whether the interval held it.

    Parameters
    ----------
    results : dict
        Columns of :meth:`to_frame`.

    confidence : float
        The level of the intervals.

    n_rows : int
        Rows of the window.

    reweighted : bool, default=False
        Whether the calibration rows were weighted to resemble the window
        (``covariate_shift="reweight"``).

    n_calibration_rows : int, default=None
        Rows of the calibration data.

    Attributes
    ----------
    confidence : float
        The level of the intervals.

    n_rows : int
        Rows of the window.

    reweighted : bool
        Whether the calibration rows were weighted to resemble the window.

    n_calibration_rows : int or None
        Rows of the calibration data; the ``n_calibration`` column of
        :meth:`to_frame` says how many of them (effectively) each estimate
        rests on.

    See Also
    --------
    PerformanceEstimator : The estimator that makes it.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.linear_model import LogisticRegression
    >>> from mlpipe.drift import PerformanceEstimator
    >>> X, y = make_classification(n_samples=900, random_state=0)
    >>> model = LogisticRegression().fit(X[:300], y[:300])
    >>> est = PerformanceEstimator(estimator=model).fit(X[300:600], y[300:600])
    >>> report = est.estimate(X[600:], y=y[600:])
    >>> list(report.to_frame()["metric"])
    ['accuracy', 'precision', 'recall', 'f1', 'roc_auc']
    """

    title = "Performance estimate"

    def __init__(self, results, confidence, n_rows, reweighted=False, n_calibration_rows=None):
        self._results = results
        self.confidence = confidence
        self.n_rows = n_rows
        self.reweighted = reweighted
        self.n_calibration_rows = n_calibration_rows

    def to_frame(self):
        """Return one row per group and metric.

        Returns
        -------
        frame : DataFrame
            Columns ``group_column`` (``"(all)"`` for the whole window, else
            the sensitive column), ``group`` (its value), ``metric``,
            ``estimate``, ``lower``, ``upper`` (the interval), ``realized``
            (NaN without labels), ``covered`` (whether the interval holds the
            realized value; missing without labels), ``n_rows`` and
            ``n_calibration``: the calibration rows the estimate rests on,
            effectively (Kish's ``sum(w)^2 / sum(w^2)`` of their weights;
            all of them without reweighting, 0 for a group the calibration
            data lacks, whose estimates are then NaN).
        """
        frame = pd.DataFrame(self._results)
        frame["covered"] = frame["covered"].astype("boolean")
        return frame

    def metric(self, name, group_column=ALL, group=ALL):
        """The row of one metric of one group as a dict.

        Parameters
        ----------
        name : str
            One of ``"accuracy"``, ``"precision"``, ``"recall"``, ``"f1"``,
            ``"roc_auc"``.

        group_column : str, default="(all)"
            The sensitive column, or ``"(all)"`` for the whole window.

        group : object, default="(all)"
            The group's value in that column.

        Returns
        -------
        row : dict
            ``estimate``, ``lower``, ``upper``, ``realized``, ``covered``,
            ``n_rows``, ``n_calibration``.
        """
        frame = self.to_frame()
        rows = frame[
            (frame["metric"] == name)
            & (frame["group_column"] == group_column)
            & (frame["group"] == group)
        ]
        if rows.empty:
            raise KeyError(f"No row for metric {name!r} of group {group_column}={group!r}.")
        return rows.iloc[0].drop(["metric", "group_column", "group"]).to_dict()

    def summary(self):
        """Return the estimates of the whole window in one line.

        Returns
        -------
        summary : str
            Each metric's estimate and interval, and the row count.
        """
        frame = self.to_frame()
        rows = frame[frame["group_column"] == ALL]
        parts = [
            f"{r.metric} {r.estimate:.3f} [{r.lower:.3f}, {r.upper:.3f}]" for r in rows.itertuples()
        ]
        text = f"{', '.join(parts)}; {self.confidence:.0%} intervals, {self.n_rows} rows"
        if self.reweighted and len(rows):
            text += (
                f"; calibration weighted to the window: {rows['n_calibration'].iloc[0]:.0f} "
                f"of {self.n_calibration_rows} calibration rows effectively"
            )
        return text

    def _repr_html_(self):
        return report_html(self.title, self.summary(), html_table(self.to_frame()))

    def __repr__(self):
        return f"<PerformanceReport: {self.summary()}>"


class PerformanceEstimator(MlpipeEstimatorMixin, BaseEstimator):
    """Estimate a fitted classifier's performance on a window without labels.

    ``fit(X_cal, y_cal)`` calibrates the scores of the fitted binary
    classifier ``estimator`` on held-out labelled data and checks, on folds
    the calibrator did not see, that the calibrated probabilities are
    calibrated (a reliability test); it warns with
    :class:`~mlpipe.exceptions.CalibrationWarning` when they are not.
    ``estimate(X)`` returns accuracy, precision, recall, F1 and ROC AUC of the
    window with an interval for each, and the same per group of the
    ``sensitive`` columns; ``estimate(X, y=labels)`` puts the realized values
    beside them.

    The estimates are those of the expected confusion matrix (CBPE): a row
    predicted positive is a true positive with its calibrated probability
    ``p``, a false positive with ``1 - p``. The interval is for the realized
    metric of the window, not for its expectation: labels are drawn row by
    row from the calibrated probabilities (``n_draws`` times), each draw from
    a calibrator refitted on a bootstrap resample of the calibration data
    (and, by default, its recalibration to the window refitted on the same
    resample), so that both the labels' chance and the calibration's error
    widen it; the interval is the central ``confidence`` share of the drawn
    metrics. By default each window's calibration is weighted to resemble
    the window (``covariate_shift``); the report's ``n_calibration`` column
    says how many calibration rows, effectively, each estimate rests on.

    ROC AUC is not a sum of the probabilities, and a monotone calibrator of
    a score whose ``P(y | score)`` is not monotone (a model that orders
    nearby rows no better than chance; the gradient-boosted models of three
    of the benchmark's data sets) implies a higher ROC AUC than the labels
    show; the bootstrap refits the same kind of calibrator and cannot see
    it. Its estimate and each draw
    therefore subtract the calibration rows' residual: the ROC AUC their
    calibrated probabilities imply minus the ROC AUC of their labels, both
    weighted as the window (each bootstrap resample its own). Accuracy,
    precision, recall and F1 get no such term: they are sums of the
    probabilities over the predicted classes, which a calibrator fitted on
    the calibration rows nearly matches to their labels there (what is left
    is the pull of the isotonic prior, which their intervals need), and
    their intervals covered at the stated level without it
    (``benchmarks/results/performance_estimation.md``).

    Parameters
    ----------
    estimator : classifier
        A fitted binary classifier (or a pipeline ending in one) with
        ``predict`` and ``predict_proba`` or ``decision_function``. It is
        used as it is, never refitted.

    method : {"isotonic", "sigmoid"} or None, default="isotonic"
        The calibrator of the scores: isotonic regression, Platt's sigmoid
        (a logistic regression on the score, on the log-odds of a
        probability) or None, which takes ``predict_proba`` as calibrated
        already (the reliability test still checks it).

    n_splits : int, default=5
        Folds of the cross-fitted reliability test. The calibration data
        needs at least this many rows of each class.

    sensitive : str, list of str or None, default=None
        Columns of ``X`` whose groups get estimates of their own.

    confidence : float, default=0.95
        Level of the intervals.

    n_draws : int, default=1000
        Label draws behind each interval.

    n_bootstrap : int, default=200
        Calibrators refitted on bootstrap resamples of the calibration data;
        draw ``d`` uses calibrator ``d % n_bootstrap``. 0 draws every label
        from the one calibrator fitted on all the data (narrower intervals
        that ignore the calibrator's error).

    alpha : float, default=0.05
        Level of the reliability test: a p-value at most ``alpha`` warns.

    covariate_shift : {"reweight", "ignore"}, default="reweight"
        How a window unlike the calibration data is handled. ``"reweight"``
        calibrates each window on the calibration rows that resemble it: a
        domain classifier (:class:`ClassifierDrift`'s cross-fitted
        gradient boosting, on every column the estimator can compare) tells
        the window's rows from the calibration rows, its held-out scores
        give each calibration row a weight (its odds of being a window row,
        recalibrated so that a classifier that finds no difference gives
        weights near 1), and the calibrated probabilities are moved by a
        logistic regression in log-odds fitted on the weighted rows (Firth's
        bias-reduced one, whose slope does not run away on few effective
        rows); a group of ``sensitive`` uses the calibration rows of that
        group only.
        It mends the estimate when the window's ``P(y | score)`` differs
        from the calibration data's because the features moved (covariate
        shift with a model that does not see everything), at the cost of a
        domain classifier per window (about a second for a few thousand
        rows). ``"ignore"`` applies the one calibrator to every window
        (faster; right only when ``P(y | score)`` does not change).

    random_state : int, RandomState instance or None, default=0
        Seed of the folds, the bootstrap and the draws.

    Attributes
    ----------
    classes_ : ndarray of shape (2,)
        The classes of ``estimator``; the second is the positive one.

    calibrator_ : dict
        The calibrator fitted on all the calibration data:
        ``{"method", "x", "y"}`` (isotonic: the step function's knots),
        ``{"method", "coef"}`` (sigmoid) or ``{"method": None}``.

    bootstrap_calibrators_ : dict
        The calibrators of the bootstrap resamples, stacked: one row of
        ``"x"`` and ``"y"`` (isotonic, padded with the last knot) or of
        ``"coef"`` (sigmoid) per resample.

    auc_residual_ : dict
        With ``covariate_shift="ignore"``: the calibration rows' ROC AUC
        residual (``"value"``, the ROC AUC their calibrated probabilities
        imply minus that of their labels) and each bootstrap resample's
        (``"bootstrap"``), subtracted from every window's ROC AUC and its
        draws. Reweighting computes them per window, on the weighted rows.

    reliability_ : dict
        The reliability test of the cross-fitted probabilities (each row's
        from a calibrator fitted on the other ``n_splits - 1`` folds):
        ``"ece"`` (expected calibration error over equal-mass bins),
        ``"p_value"`` (a parametric bootstrap of the whole cross-fitting
        under "the calibrator fitted on all rows gives the true
        probabilities"), ``"n_rows"``, ``"calibrated"`` (the p-value is
        above ``alpha``) and ``"groups"``: the same per group of the
        ``sensitive`` columns with at least 20 calibration rows,
        ``{column: {str(value): {...}}}``.

    resample_seed_ : int
        With ``covariate_shift="reweight"``: the seed of the bootstrap
        resamples, drawn again by each window to weight their rows.

    calibration_ : dict
        With ``covariate_shift="reweight"``: the calibration rows' scores
        (``"scores"``) and 0/1 labels (``"y"``) and the codes of their
        ``sensitive`` groups (``"groups"``), which each window reweights.

    domain_ : ClassifierDrift or None
        With ``covariate_shift="reweight"``: the domain classifier fitted on
        the calibration rows' ``domain_columns_`` (None when there is no
        column to compare).

    domain_columns_ : list
        The columns the domain classifier compares: all but those of a kind
        it cannot (lists, objects) and those missing in every calibration
        row.

    kinds_ : dict
        ``{column: kind}`` of the numeric, boolean and datetime columns at
        fit: a window whose column changed kind (numbers that arrive as
        text) is refused.

    n_features_in_ : int
        Number of features seen during fit.

    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when they are all strings.

    See Also
    --------
    PerformanceReport : What :meth:`estimate` returns.
    ClassifierDrift : Tells whether the window's features drifted.
    sklearn.calibration.CalibratedClassifierCV : Calibration of a classifier.

    Notes
    -----
    Without reweighting, the estimate holds when ``P(y | score)`` is the
    same in the window as in the calibration data: covariate shift (the
    features move, ``P(y | x)`` stays) keeps it only when the score carries
    what the features say about the label. Reweighting needs less: that
    ``P(y | x)`` is the same, and that the calibration data holds rows like
    the window's (a window of a kind the calibration data lacks rests on few
    effective rows, and its intervals are wide). Concept drift (``P(y | x)``
    changes) breaks both, and nothing in unlabelled data can tell: the
    estimate keeps reporting the old performance. Measured coverage of the
    95% intervals and a concept-drift example are in
    ``benchmarks/results/performance_estimation.md``.

    Labels of a window are drawn independently given the scores; the draws
    are of the realized metric, so the interval shrinks with the window's
    size only down to the calibrator's own error. ROC AUC is computed from
    the midranks of the model's scores (ties count one half, as
    :func:`sklearn.metrics.roc_auc_score`); its estimate is the Mann-Whitney
    statistic with the calibrated probabilities as soft labels, over pairs
    of distinct rows, less the residual above (0 when the calibration rows
    weighted to the window hold one class only). A metric with no defined
    value (recall of a window with no positive) is NaN.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.linear_model import LogisticRegression
    >>> from mlpipe.drift import PerformanceEstimator
    >>> X, y = make_classification(n_samples=3000, random_state=0)
    >>> model = LogisticRegression().fit(X[:1000], y[:1000])
    >>> est = PerformanceEstimator(estimator=model).fit(X[1000:2000], y[1000:2000])
    >>> row = est.estimate(X[2000:], y=y[2000:]).metric("accuracy")
    >>> bool(row["lower"] <= row["realized"] <= row["upper"])
    True
    """

    _parameter_constraints = {
        "estimator": [HasMethods(["predict"])],
        "method": [StrOptions({"isotonic", "sigmoid"}), None],
        "n_splits": [Interval(Integral, 2, None, closed="left")],
        "sensitive": [str, list, None],
        "confidence": [Interval(Real, 0, 1, closed="neither")],
        "n_draws": [Interval(Integral, 10, None, closed="left")],
        "n_bootstrap": [Interval(Integral, 0, None, closed="left")],
        "alpha": [Interval(Real, 0, 1, closed="neither")],
        "covariate_shift": [StrOptions({"reweight", "ignore"})],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        *,
        estimator,
        method="isotonic",
        n_splits=5,
        sensitive=None,
        confidence=0.95,
        n_draws=1000,
        n_bootstrap=200,
        alpha=0.05,
        covariate_shift="reweight",
        random_state=0,
    ):
        self.estimator = estimator
        self.method = method
        self.n_splits = n_splits
        self.sensitive = sensitive
        self.confidence = confidence
        self.n_draws = n_draws
        self.n_bootstrap = n_bootstrap
        self.alpha = alpha
        self.covariate_shift = covariate_shift
        self.random_state = random_state

    @fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Calibrate the classifier's scores and check the calibration.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            Held-out data the classifier was not trained on, in the columns
            it takes. Not modified.

        y : array-like of shape (n_samples,)
            Its labels, among the classifier's two classes.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        classes = self._check_classifier()
        X = check_frame(self, X, reset=True, min_samples=1)
        if y is None:
            raise ValueError(
                "PerformanceEstimator requires y to be passed, but the target y is None: "
                "fit needs the labels of the calibration data."
            )
        y = check_labels(y, len(X), classes)
        counts = np.bincount(y, minlength=2)
        if counts.min() == 0:
            raise ValueError(
                f"The calibration labels hold 1 class only ({counts.max()} row(s) of "
                f"{classes.tolist()[int(np.argmax(counts))]!r}): calibration needs rows of "
                f"both classes {classes.tolist()}."
            )
        if counts.min() < self.n_splits:
            raise ValueError(
                f"The calibration data holds {counts[0]} row(s) of class "
                f"{classes.tolist()[0]!r} and {counts[1]} of class {classes.tolist()[1]!r}; "
                "PerformanceEstimator needs at least "
                f"n_splits={self.n_splits} of each to cross-fit its calibration check. Pass "
                "more labelled rows, or a smaller n_splits."
            )
        self.classes_ = classes
        self.kinds_ = {
            col: kind
            for col in X.columns
            if (kind := column_kind(X[col])) not in (OTHER, CATEGORICAL)
        }
        scores, _ = self._scores(X)
        self.calibrator_ = fit_calibrator(self._method(), scores, y)
        if self.covariate_shift == "reweight":
            # each window reweights these resamples' rows: it draws them again
            # from this seed, so the resamples need not be kept
            seed = self._seed(5)
            self.resample_seed_ = (
                int(np.random.SeedSequence().generate_state(1)[0] >> 1) if seed is None else seed
            )
            resamples = self._resamples(len(y))
        else:
            rng = check_random_state(self._seed(0))
            resamples = (rng.randint(0, len(y), size=len(y)) for _ in range(self.n_bootstrap))
        resampled, residuals = [], []
        for rows in resamples:
            resampled.append(fit_calibrator(self._method(), scores[rows], y[rows]))
            if self.covariate_shift == "ignore":  # reweighting computes its own per window
                on_rows = calibrate(resampled[-1], scores)
                counts = np.bincount(rows, minlength=len(y))
                residuals.append(auc_residual(on_rows, y, scores, counts))
        self.bootstrap_calibrators_ = stack_calibrators(self._method(), resampled)
        if self.covariate_shift == "ignore":
            value = auc_residual(calibrate(self.calibrator_, scores), y, scores, np.ones(len(y)))
            self.auc_residual_ = {
                "value": value,
                "bootstrap": np.array(residuals) if residuals else np.array([value]),
            }
        folds = self._folds(scores, y)
        self.reliability_ = self._check_calibration(X, scores, y, folds)
        self.domain_ = None
        if self.covariate_shift == "reweight":
            self.calibration_ = {
                "scores": scores,
                "y": y,
                "groups": self._calibration_groups(X),
            }
            self.domain_columns_ = self._domain_columns(X)
            self.domain_ = self._fit_domain(X)
        return self

    def _folds(self, scores, y):
        folds = np.empty(len(y), dtype=np.intp)
        splitter = StratifiedKFold(self.n_splits, shuffle=True, random_state=self._seed(1))
        for k, (_, test) in enumerate(splitter.split(scores.reshape(-1, 1), y)):
            folds[test] = k
        return folds

    def _calibration_groups(self, X):
        """``{column: {"values": [...], "codes": ndarray}}`` of the sensitive
        columns on the calibration rows (code -1: missing)."""
        out = {}
        for column in self._sensitive_columns(X):
            values = X[column].astype(object).to_numpy()
            missing = pd.isna(values)
            codes, uniques = pd.factorize(values[~missing])
            column_codes = np.full(len(values), -1, dtype=np.int64)
            column_codes[~missing] = codes
            out[column] = {"values": list(uniques.tolist()), "codes": column_codes}
        return out

    def _domain_columns(self, X):
        return [c for c in X.columns if column_kind(X[c]) != OTHER and not X[c].isna().all()]

    def _fit_domain(self, X):
        """The domain classifier of the calibration rows against a window
        (:class:`ClassifierDrift`'s cross-fitted model), or None when no
        column can be compared."""
        columns = self.domain_columns_
        if not columns or len(X) < self.n_splits:
            return None
        domain = ClassifierDrift(
            n_splits=self.n_splits,
            max_reference_rows=None,
            explain=False,
            random_state=self._seed(4),
        )
        return domain.fit(X[columns])

    def estimate(self, X, y=None):
        """Estimate the classifier's metrics on window ``X``.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            The window, in the columns seen at fit. Not modified.

        y : array-like of shape (n_samples,), default=None
            Its labels, when they have arrived: the report then holds the
            realized metrics beside the estimates.

        Returns
        -------
        report : PerformanceReport
            Estimate and interval of each metric, for the window and for each
            group of the ``sensitive`` columns.
        """
        check_is_fitted(self, "calibrator_")
        X = check_frame(self, X, reset=False, min_samples=0)
        if len(X) == 0:
            raise ValueError(
                "The window has 0 rows: there is no performance to estimate. Pass at least one row."
            )
        X = check_kinds(self, X, self.kinds_)
        if y is not None:
            y = check_labels(y, len(X), self.classes_)
        scores, predicted = self._scores(X)
        groups = [(ALL, ALL, np.ones(len(X), dtype=bool)), *self._groups(X)]
        probabilities, stacks, n_calibration, reweighted, residuals = self._window_calibration(
            X, scores, groups
        )
        draws = self._draw_metrics(scores, predicted, groups, stacks, residuals)
        quantiles = [(1 - self.confidence) / 2, (1 + self.confidence) / 2]
        columns = {
            k: []
            for k in (
                "group_column",
                "group",
                "metric",
                "estimate",
                "lower",
                "upper",
                "realized",
                "covered",
                "n_rows",
                "n_calibration",
            )
        }
        for k, (column, value, rows) in enumerate(groups):
            drawn = draws[k]
            expected = expected_metrics(probabilities[k], predicted[rows], scores[rows])
            if residuals[k] is not None:
                expected["roc_auc"] = float(np.clip(expected["roc_auc"] - residuals[k][0], 0, 1))
            realized = (
                realized_metrics(y[rows], predicted[rows], scores[rows]) if y is not None else {}
            )
            for name in METRICS:
                with warnings.catch_warnings():  # every draw undefined: NaN bounds
                    warnings.simplefilter("ignore", RuntimeWarning)
                    lower, upper = np.nanquantile(drawn[name], quantiles)
                real = realized.get(name, np.nan)
                columns["group_column"].append(column)
                columns["group"].append(value)
                columns["metric"].append(name)
                columns["estimate"].append(float(expected[name]))
                columns["lower"].append(float(lower))
                columns["upper"].append(float(upper))
                columns["realized"].append(float(real))
                columns["covered"].append(  # None, not pd.NA: skops loads no NAType
                    None if np.isnan(real) or np.isnan(lower) else bool(lower <= real <= upper)
                )
                columns["n_rows"].append(int(rows.sum()))
                columns["n_calibration"].append(float(n_calibration[k]))
        return PerformanceReport(
            columns,
            self.confidence,
            len(X),
            reweighted=reweighted,
            n_calibration_rows=int(self.reliability_["n_rows"]),
        )

    # -- the classifier ----------------------------------------------------

    def _check_classifier(self):
        est = self.estimator
        name = type(est).__name__
        if is_regressor(est) or not (
            is_classifier(est) or hasattr(est, "classes_") or hasattr(est, "predict_proba")
        ):
            raise TypeError(
                f"PerformanceEstimator estimates the performance of a classifier; estimator "
                f"is a {name}, which is not one. Pass a fitted classifier (or a pipeline "
                "ending in one)."
            )
        if not (hasattr(est, "predict_proba") or hasattr(est, "decision_function")):
            raise TypeError(
                f"The classifier {name} has neither predict_proba nor decision_function: "
                "PerformanceEstimator calibrates one of them."
            )
        if self.method is None and not hasattr(est, "predict_proba"):
            raise TypeError(
                f"method=None takes the probabilities of predict_proba as calibrated, and "
                f"{name} has none; pass method='isotonic' or 'sigmoid'."
            )
        try:
            check_is_fitted(est)
        except NotFittedError as error:
            raise NotFittedError(
                f"The classifier {name} is not fitted: PerformanceEstimator takes a fitted "
                "classifier and never fits it. Fit it on training data first, then fit "
                "PerformanceEstimator on other (held-out) labelled data."
            ) from error
        classes = np.asarray(est.classes_)
        if len(classes) != 2:
            raise ValueError(
                f"PerformanceEstimator estimates binary classifiers; {name} has "
                f"{len(classes)} classes ({classes.tolist()[:5]}). Multiclass estimation is not "
                "implemented."
            )
        return classes

    def _method(self):
        return self.method if self.method is not None else "none"

    def _scores(self, X):
        """The classifier's score of the positive class and its predictions
        (True: the positive class). Not production traffic: a monitoring
        step in the classifier's pipeline records nothing while it scores
        (as for the rows :func:`mlpipe.explain.explain` sends through it)."""
        est = self.estimator
        try:
            with suspended():
                if hasattr(est, "predict_proba"):
                    scores = np.asarray(est.predict_proba(X), dtype=np.float64)[:, 1]
                else:
                    scores = np.asarray(est.decision_function(X), dtype=np.float64).reshape(-1)
                labels = np.asarray(est.predict(X))
        except (ValueError, TypeError) as error:
            raise type(error)(
                f"The classifier {type(est).__name__} could not score the {len(X)} rows: {error}"
            ) from error
        if not np.isfinite(scores).all():
            bad = np.flatnonzero(~np.isfinite(scores))
            raise ValueError(
                f"The classifier's scores of {bad.size} row(s) are not finite (rows "
                f"{bad[:5].tolist()}); PerformanceEstimator cannot calibrate them."
            )
        return scores, labels == self.classes_[1]

    def _sensitive_columns(self, X):
        if self.sensitive is None:
            return []
        columns = [self.sensitive] if isinstance(self.sensitive, str) else list(self.sensitive)
        missing = [c for c in columns if c not in X.columns]
        if missing:
            raise ValueError(
                f"The sensitive column(s) {missing} are not columns of X ({list(X.columns)[:10]})."
            )
        return columns

    def _groups(self, X):
        groups = []
        for column in self._sensitive_columns(X):
            values = X[column].astype(object).to_numpy()
            missing_rows = pd.isna(values)
            present = pd.unique(values[~missing_rows])
            try:
                present = sorted(present.tolist())
            except TypeError:
                present = present.tolist()
            for value in present:
                groups.append((column, value, ~missing_rows & (values == value)))
            if missing_rows.any():
                groups.append((column, "missing", missing_rows))
        return groups

    # -- the calibration check ---------------------------------------------

    def _seed(self, stream):
        """A seed for one use of the random state (0: the bootstrap, 1: the
        folds, 2: the reliability test, 3: the draws)."""
        if self.random_state is None:
            return None
        if isinstance(self.random_state, Integral):
            entropy = int(self.random_state)
        else:  # a RandomState instance: read from a copy, the caller's is not advanced
            entropy = int(copy.deepcopy(self.random_state).randint(2**31 - 1))
        return int(np.random.SeedSequence([entropy, stream]).generate_state(1)[0] >> 1)

    def _check_calibration(self, X, scores, y, folds):
        groups = [g for g in self._groups(X) if g[2].sum() >= 2 * N_BINS]
        rng = np.random.default_rng(self._seed(2))
        overall, *tested = reliability_test(
            self._method(), scores, y, folds, [rows for _, _, rows in groups], rng
        )
        result = {**overall, "calibrated": overall["p_value"] > self.alpha, "groups": {}}
        failed = [] if result["calibrated"] else ["all rows"]
        for (column, value, _), group in zip(groups, tested, strict=True):
            group["calibrated"] = group["p_value"] > self.alpha
            result["groups"].setdefault(str(column), {})[str(value)] = group
            if not group["calibrated"]:
                failed.append(f"{column}={value!r}")
        if failed:
            warnings.warn(
                f"The calibrated probabilities of {type(self.estimator).__name__} are not "
                f"calibrated on held-out folds of the calibration data ({', '.join(failed)}; "
                f"reliability test at alpha={self.alpha:g}, ECE {result['ece']:.3f}, "
                f"p={result['p_value']:.3g}): the estimates and their intervals rest on "
                "calibration and may be wrong. Try another method, more calibration "
                "data, or a model that ranks these rows better.",
                CalibrationWarning,
                stacklevel=3,
            )
        return result

    def _window_calibration(self, X, scores, groups):
        """Each group's calibrated probabilities, their bootstrap stack (one
        row per calibrator) and the calibration rows they rest on (effective
        rows, Kish), and whether the calibration rows were weighted to
        resemble the window."""
        base = calibrate(self.calibrator_, scores)
        if self.covariate_shift == "ignore":
            if self.n_bootstrap:
                stack = calibrate_stack(self.bootstrap_calibrators_, scores)
            else:
                stack = base[None, :]
            n = float(self.reliability_["n_rows"])
            return (
                [base[rows] for _, _, rows in groups],
                [stack[:, rows] for _, _, rows in groups],
                [n] * len(groups),
                False,
                [(self.auc_residual_["value"], self.auc_residual_["bootstrap"])] * len(groups),
            )
        calibration, y = self.calibration_["scores"], self.calibration_["y"]
        weights, reweighted = self._shift_weights(X)
        on_calibration = calibrate(self.calibrator_, calibration)
        # the bootstrap of the whole procedure: each resample's calibrator
        # (fitted at fit), then its recalibration to the window on its rows
        n = len(y)
        counts = np.array([np.bincount(rows, minlength=n) for rows in self._resamples(n)])
        if self.n_bootstrap:
            resampled_calibration = calibrate_stack(self.bootstrap_calibrators_, calibration)
            resampled_window = calibrate_stack(self.bootstrap_calibrators_, scores)
        probabilities, stacks, n_calibration, residuals = [], [], [], []
        for column, value, rows in groups:
            group_weights = weights * self._calibration_mask(column, value)
            n_calibration.append(effective_rows(group_weights))
            if not group_weights.any():  # no calibration row of this group
                probabilities.append(np.full(int(rows.sum()), np.nan))
                stacks.append(np.full((1, int(rows.sum())), np.nan))
                residuals.append(None)
                continue
            coef = recalibration(on_calibration, y, group_weights)
            probabilities.append(recalibrated(coef, base[rows]))
            residual = auc_residual(
                recalibrated(coef, on_calibration), y, calibration, group_weights
            )
            if not self.n_bootstrap:
                stacks.append(probabilities[-1][None, :])
                residuals.append((residual, np.array([residual])))
                continue
            resampled = counts * group_weights
            present = resampled.any(axis=1)  # resamples holding rows of the group
            stack = np.full((self.n_bootstrap, int(rows.sum())), np.nan)
            drawn_residual = np.full(self.n_bootstrap, np.nan)
            if present.any():
                coefs = recalibration(resampled_calibration[present], y, resampled[present])
                stack[present] = recalibrated(coefs, resampled_window[present][:, rows])
                drawn_residual[present] = auc_residual(
                    recalibrated(coefs, resampled_calibration[present]),
                    y,
                    calibration,
                    resampled[present],
                )
            stacks.append(stack)
            residuals.append((residual, drawn_residual))
        return probabilities, stacks, n_calibration, reweighted, residuals

    def _resamples(self, n):
        """The rows of each bootstrap resample of the ``n`` calibration rows
        (``covariate_shift="reweight"``), the same at fit and at every
        window."""
        rng = np.random.default_rng(self.resample_seed_)
        return (rng.integers(0, n, size=n) for _ in range(self.n_bootstrap))

    def _calibration_mask(self, column, value):
        """Which calibration rows are in group ``column == value``."""
        if column == ALL:
            return np.ones(len(self.calibration_["y"]), dtype=bool)
        group = self.calibration_["groups"][column]
        if value == "missing" and "missing" not in group["values"]:
            return group["codes"] == -1
        known = [k for k, v in enumerate(group["values"]) if v == value]
        return np.isin(group["codes"], known)

    def _shift_weights(self, X):
        """Weights of the calibration rows that make them resemble window
        ``X`` (:func:`shift_weights` of the domain classifier's held-out
        scores), and whether they were computed; all 1 when the window is
        smaller than ``n_splits`` rows or no column can be compared."""
        n = len(self.calibration_["y"])
        domain = self.domain_
        if domain is None or len(X) < domain.n_splits:
            return np.ones(n), False
        frame = X[list(self.domain_columns_)]
        _, _, _, is_window, domain_scores, _, _ = domain._cross_fitted(frame)
        return shift_weights(domain_scores, is_window), True

    def _draw_metrics(self, scores, predicted, groups, stacks, residuals):
        """The metrics of every group under ``n_draws`` label draws:
        ``[{metric: ndarray of shape (n_draws,)}]``, one per group; draw
        ``d`` takes its labels from row ``d % len(stack)`` of the group's
        stack of probabilities (a row with NaN: NaN metrics), and its ROC AUC
        less that row's residual (the group's ``(residual, per row)`` of
        ``residuals``; None: no calibration row, no correction)."""
        rng = np.random.default_rng(self._seed(3))
        out = []
        for (_, _, rows), stack, residual in zip(groups, stacks, residuals, strict=True):
            n = int(rows.sum())
            ranks = stats.rankdata(scores[rows])
            drawn_k = {name: np.empty(self.n_draws) for name in METRICS}
            undefined = np.isnan(stack).any(axis=1)
            block = max(1, _BLOCK // max(n, 1))
            for start in range(0, self.n_draws, block):
                stop = min(start + block, self.n_draws)
                which = np.arange(start, stop) % len(stack)
                labels = rng.random((stop - start, n)) < stack[which]
                drawn = draw_metrics(labels, predicted[rows], ranks)
                if residual is not None:
                    drawn["roc_auc"] = np.clip(drawn["roc_auc"] - residual[1][which], 0, 1)
                for name in METRICS:
                    values = drawn[name]
                    values[undefined[which]] = np.nan
                    drawn_k[name][start:stop] = values
            out.append(drawn_k)
        return out

    def __sklearn_clone__(self):
        # The classifier is fitted and never refitted: a clone shares it, as
        # a clone of sklearn.frozen.FrozenEstimator does (clone would return
        # an unfitted copy of it).
        params = self.get_params(deep=False)
        return type(self)(
            **{k: v if k == "estimator" else clone(v, safe=False) for k, v in params.items()}
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = True
        tags.target_tags.required = True
        # y holds the labels of a binary classifier (not a target to predict)
        tags.classifier_tags = ClassifierTags(multi_class=False)
        tags.non_deterministic = self.random_state is None
        return tags
