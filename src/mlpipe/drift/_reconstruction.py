"""ReconstructionDrift: PCA reconstruction error, a joint test of all columns.

NannyML's data-reconstruction idea, with a calibrated threshold. The
reference is standardised and compressed by PCA to the components that keep
a share of its variance; a row's reconstruction error is its distance from
what those components can rebuild. When columns stop moving together as
they did, rows leave the reference's principal subspace and the error rises,
even if every column's own distribution is unchanged.

The PCA is fitted on part of the reference only; the batch's mean error is
tested against the errors of the reference rows it did not see by a
permutation test, whose level is exact for any distribution of the errors.
"""

import copy
from numbers import Integral, Real

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state

from mlpipe.drift._classifier import _reference_categories
from mlpipe.drift._reconstruction_model import (
    fit_model,
    permutation_test,
    raw_values,
    reconstruct,
    take,
)
from mlpipe.drift._report import JOINT, OK, DriftReport, build_report
from mlpipe.utils._dataframe import (
    CATEGORICAL,
    OTHER,
    check_frame,
    check_kinds,
    column_kind,
    describe_columns,
    reject_infinite,
)
from mlpipe.utils._estimator import MlpipeEstimatorMixin
from mlpipe.utils._sklearn_compat import Interval, check_is_fitted, fit_context

TEST = "reconstruction"


class ReconstructionDriftReport(DriftReport):
    """The result of :meth:`ReconstructionDrift.detect`: a joint test, explained.

    The batch's mean reconstruction error, its permutation p-value and the
    columns behind it.

    A :class:`DriftReport` with one row, feature ``"(joint)"`` and test
    ``"reconstruction"``: ``statistic`` is the batch's mean reconstruction
    error, ``p_value`` its one-sided permutation p-value, ``effect_size``
    the relative increase of the mean error over the reference's held-out
    one, and ``drift`` whether the p-value is at most ``alpha`` and the
    increase at least the detector's ``min_increase``.

    Parameters
    ----------
    report : DriftReport
        The one-row report of the test.

    summary : dict
        ``mean_error``, ``reference_error``, ``error_threshold``.

    errors : dict
        ``{"error": ndarray}``: the error of every batch row.

    contributions : dict
        Columns of :attr:`contributions`.

    Attributes
    ----------
    mean_error : float
        The batch's mean reconstruction error.

    reference_error : float
        The mean error of the held-out reference rows.

    error_threshold : float
        The mean error above which this batch is drift at ``alpha``: the
        permutation quantile the test compares with.

    See Also
    --------
    ReconstructionDrift : The detector that makes it.
    DriftReport : The report of the per-column tests.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from mlpipe.drift import ReconstructionDrift
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=1300)
    >>> frame = pd.DataFrame({"x": x, "y": x + rng.normal(0, 0.3, 1300)})
    >>> ref, batch = frame.iloc[:1000], frame.iloc[1000:].copy()
    >>> batch["y"] = rng.permutation(batch["y"].to_numpy())  # the link is gone
    >>> report = ReconstructionDrift().fit(ref).detect(batch)
    >>> report.drift, bool(report.mean_error > report.error_threshold)
    (True, True)
    """

    title = "Reconstruction drift report"

    def __init__(self, report, summary, errors, contributions):
        super().__init__(
            results=report._results,
            drift=report.drift,
            alpha=report.alpha,
            correction=report.correction,
            n_reference=report.n_reference,
            n_batch=report.n_batch,
            drift_share=report.drift_share,
            distributions=report.distributions,
            error_bounds=report.error_bounds,
        )
        self.mean_error = float(summary["mean_error"])
        self.reference_error = float(summary["reference_error"])
        self.error_threshold = float(summary["error_threshold"])
        self._errors = errors
        self._contributions = contributions

    @property
    def p_value(self):
        """The one-sided permutation p-value of the mean error."""
        return float(self.results["p_value"].iloc[0])

    @property
    def errors(self):
        """The reconstruction error of every batch row, in the batch's order.

        A DataFrame with one column, ``error``.
        """
        return pd.DataFrame(self._errors)

    @property
    def contributions(self):
        """The raw columns behind the error, the most significant excess first.

        A DataFrame with columns ``feature`` (the raw column; its one-hot
        and missing-indicator columns folded back into it), ``batch`` (mean
        squared residual per batch row), ``reference`` (the same of the
        held-out reference rows),
        ``excess`` (batch minus reference), ``z`` (the excess in standard
        errors, by which the rows are ranked: a column of rare categories
        has a large and noisy residual, whose excess alone says little) and
        ``share`` (of the batch's mean squared error).
        """
        return pd.DataFrame(self._contributions)

    def summary(self):
        """Return the verdict of the report in one line.

        Returns
        -------
        summary : str
            ``"DRIFT"`` or ``"no drift"``, the mean error against its
            threshold and p-value, the columns whose residual rose most and
            the row counts.
        """
        head = "DRIFT" if self.drift else "no drift"
        detail = (
            f"mean reconstruction error {self.mean_error:.4g} (reference "
            f"{self.reference_error:.4g}, threshold {self.error_threshold:.4g}, "
            f"p={self.p_value:.3g})"
        )
        table = self._contributions
        top = [f for f, z in zip(table["feature"], table["z"], strict=True) if z > 2][:3]
        if top:
            detail += "; excess beyond 2 standard errors in " + ", ".join(map(str, top))
        return (
            f"{head}: {detail}; {self.n_batch} batch rows vs {self.n_reference} "
            f"reference rows, alpha={self.alpha:g}"
        )

    def __repr__(self):
        return f"<ReconstructionDriftReport: {self.summary()}>"


class ReconstructionDrift(MlpipeEstimatorMixin, BaseEstimator):
    """PCA reconstruction drift: the reference's components rebuild the batch, or not.

    ``fit`` encodes the reference as numbers (numeric, boolean and datetime
    columns as they are; categories one-hot, the rare ones and those never
    seen sharing an "other" column; a missing-value indicator for every
    column, the value itself imputed with the median, or the most frequent
    value), standardises the encoded columns (a one-hot column's variance
    floored at that of one occurrence, so that a category the training rows
    never had counts as the rarest; a categorical column's one-hot
    columns then divided by the square root of their number, so that they
    weigh as much as one numeric column) and keeps the principal components
    that explain ``explained_variance`` of their variance. A
    row's reconstruction error is the Euclidean distance between its
    standardised values and their projection on those components.

    The model (imputation, encoding, scaling and PCA) is learned from the
    reference rows less a random share ``holdout`` of them; the held-out
    rows are scored by it, and so is every batch row. Under no drift, the
    held-out reference rows and the batch rows are independent draws of one
    distribution, and independent of the training rows, so, given the
    model, their errors are independent and identically distributed: any
    relabelling of which of the pooled errors are the batch's has the same
    probability. A permutation test of the batch's mean error against the
    held-out rows' is therefore exact, at any batch size and whatever the
    errors' distribution: ``P(p <= alpha) <= alpha``. The statistic is the
    batch's mean error, ``error_threshold`` the permutation quantile it is
    compared with.

    It sees what the per-column tests of :class:`DriftDetector` cannot: a
    correlation that breaks while each column's distribution stays the
    same. It is weak where the shift stays within the principal subspace
    (a shift of the mean of one column along its main direction), which the
    per-column tests see; use both.

    Parameters
    ----------
    explained_variance : float, default=0.6
        Share of the standardised reference's variance the kept components
        explain (scikit-learn's ``PCA(n_components=explained_variance)``
        rule: the fewest components whose share exceeds it). See Notes
        for how the default was chosen.

    holdout : float, default=0.5
        Share of the reference held out of the model's fit, whose errors the
        batch's are compared with; the model learns from the rest. At least
        one row on each side, so the reference needs at least two.

    alpha : float, default=0.05
        Significance level of the test.

    min_increase : float, default=0.0
        Smallest relative increase of the mean error over the reference's
        (0.1: 10% more) reported as drift: at large batch sizes a real but
        negligible increase is significant, and this keeps it quiet. 0 turns
        it off.

    min_frequency : float, default=0.01
        Categories with a smaller share of the training rows share the
        "other" column with the categories the reference lacks.

    n_permutations : int, default=999
        Random permutations of the test; the p-value is
        ``(1 + #{permuted mean >= observed}) / (n_permutations + 1)``, whose
        level is exact at any number. ``alpha * (n_permutations + 1)`` must
        be at least 1.

    max_reference_rows : int or None, default=10_000
        A larger reference is subsampled to this many rows at fit (drawn
        with ``random_state``). None keeps every row.

    random_state : int, RandomState instance or None, default=0
        Seed of the subsample, the held-out rows and the permutations: the same
        data give the same report.

    Attributes
    ----------
    kinds_ : dict
        The kind of each column at fit (``"numeric"``, ``"boolean"``,
        ``"categorical"`` or ``"datetime"``).

    categories_ : dict
        ``{column: list}``: the reference categories of each categorical
        column.

    model_ : dict
        The model, fitted on the training rows, of plain arrays: ``unit``,
        ``fill``, ``kept`` (the categories with their own column),
        ``center``, ``scale``, ``components``, ``mean``, ``starts`` (where
        each raw column's encoded columns start).

    n_components_ : int
        Components kept by the model.

    holdout_rows_ : ndarray of shape (n_held_out,)
        Positions, in the ``X`` given to :meth:`fit`, of the held-out
        reference rows.

    reference_errors_ : ndarray of shape (n_held_out,)
        The reconstruction error of every held-out reference row.

    reference_contributions_ : ndarray of shape (2, n_features_in_)
        Mean (``[0]``) and variance (``[1]``) of each raw column's squared
        residual over the held-out rows.

    n_features_in_ : int
        Number of features seen during fit.

    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when they are all strings.

    See Also
    --------
    ClassifierDrift : A domain classifier; the other joint test.
    DriftDetector : One test per column.
    ReconstructionDriftReport : What :meth:`detect` returns.

    Notes
    -----
    NannyML's calculator (``DataReconstructionDriftCalculator``) fits one
    PCA on the whole reference and puts its alert thresholds at the mean
    plus or minus three standard deviations of the reference chunks' mean
    errors. The reference's errors come from the model that was fitted on
    those very rows, so they are biased low, and the spread of a chunk's
    mean error depends on the chunk size, so the threshold's false-alarm
    rate is not known. Here the reference errors are held out, and the
    threshold is the permutation quantile for a batch of the size given.

    The level is exact because the model is fitted on training rows that are
    neither held out nor in the batch: permuting held-out and batch rows
    cannot change it. An earlier version cross-fitted (every reference row
    held out by one of ``n_splits`` models and training the others) and
    permuted within folds; a swap of a reference row for a batch row then
    changed the other folds' models, and the level was only approximate:
    9.0% [5.8, 13.8] of 200 clean splits at ``alpha=0.05`` with a batch as
    large as the reference (1,000 / 1,000 rows of two generated data sets),
    6.3% [5.3, 7.4] pooled over 1,000-row batches. The price of exactness is
    that half the reference scores nothing, which costs power when the
    reference is small (measured in ``benchmarks/results/reconstruction_drift.md``
    with the false-alarm rates of 66 cells of 33 data sets: 5.1% [4.7, 5.5]
    of 13,200 clean splits pooled).

    The share of variance trades the two kinds of drift the error sees.
    Near 1, every direction is kept and nothing is left to reconstruct; near
    0, the error is the row's distance from the mean, which any change of
    spread moves. A broken correlation moves variance from a kept direction
    to a dropped one, which needs the correlated columns to span a kept
    component, so the best share depends on the data. Measured on twelve
    joint-shift cells of six data sets (the benchmark, 50 splits a cell): on
    the mixed credit data, a broken amount-duration link is found in 54-84%
    of splits at 0.6 (54% with a 100-row batch, 76-84% with 200-400 rows),
    20-44% at 0.65 (NannyML's default) and 4-20% at 0.8-0.9; on numeric data
    sets with many correlated columns power rises up to 0.9 (wine 60% at 0.6,
    94% at 0.9; breast cancer 8%, 74%). 0.6 has the best mean power over the
    twelve cells (0.70; 0.58 at 0.65, 0.61 at 0.9); raise it for all-numeric
    data with many correlated columns.

    A category with a small share gets a large standardised one-hot value,
    and a row holding it a large error: such rows are a heavy tail of the
    errors, and the permutation test keeps its level there, at the cost of
    power. A category the training rows never had (new in the batch, or
    too rare to reach them) lands in the "other" column; when the training
    rows left that column empty, its variance is floored at that of one
    occurrence (not taken as 1 by the constant-column rule, which would
    score the category as less surprising than a common one), so a batch
    flooded with it has a large error, named in ``contributions``. A
    missing value counts through its indicator (an indicator that was
    constant in the training rows gives a residual of 1 per missing value).
    Infinite values are refused. The error needs at least two encoded
    columns: one column is always rebuilt exactly.

    Examples
    --------
    A batch whose credit amounts no longer go with the durations: every
    per-column test misses it, the reconstruction error does not.

    >>> import numpy as np
    >>> from mlpipe.datasets import load_credit
    >>> from mlpipe.drift import DriftDetector, ReconstructionDrift
    >>> X, _ = load_credit(return_X_y=True)
    >>> rng = np.random.default_rng(0)
    >>> rows = rng.permutation(len(X))
    >>> ref, batch = X.iloc[rows[:600]], X.iloc[rows[600:]].copy()
    >>> batch["duration"] = rng.permutation(batch["duration"].to_numpy())
    >>> DriftDetector().fit(ref).detect(batch).drift
    False
    >>> report = ReconstructionDrift().fit(ref).detect(batch)
    >>> report.drift
    True
    >>> sorted(report.contributions["feature"][:2])
    ['credit_amount', 'duration']
    """

    _parameter_constraints = {
        "explained_variance": [Interval(Real, 0, 1, closed="neither")],
        "holdout": [Interval(Real, 0, 1, closed="neither")],
        "alpha": [Interval(Real, 0, 1, closed="neither")],
        "min_increase": [Interval(Real, 0, None, closed="left")],
        "min_frequency": [Interval(Real, 0, 1, closed="left")],
        "n_permutations": [Interval(Integral, 1, None, closed="left")],
        "max_reference_rows": [Interval(Integral, 1, None, closed="left"), None],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        *,
        explained_variance=0.6,
        holdout=0.5,
        alpha=0.05,
        min_increase=0.0,
        min_frequency=0.01,
        n_permutations=999,
        max_reference_rows=10_000,
        random_state=0,
    ):
        self.explained_variance = explained_variance
        self.holdout = holdout
        self.alpha = alpha
        self.min_increase = min_increase
        self.min_frequency = min_frequency
        self.n_permutations = n_permutations
        self.max_reference_rows = max_reference_rows
        self.random_state = random_state

    @fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Fit the model on part of the reference and keep the rest's errors.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            The reference; mixed numeric and categorical columns and missing
            values are allowed, infinite values are not. At least two
            rows; more than ``max_reference_rows`` are subsampled. Not
            modified.

        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted detector.
        """
        if self.alpha * (self.n_permutations + 1) < 1:
            raise ValueError(
                f"alpha={self.alpha:g} needs n_permutations >= {int(np.ceil(1 / self.alpha)) - 1}"
                f" (got {self.n_permutations}): with fewer, no p-value can be that small."
            )
        X = check_frame(self, X, reset=True, min_samples=2)
        reject_infinite(self, X)
        positions = np.arange(len(X))
        if self.max_reference_rows is not None and len(X) > self.max_reference_rows:
            rng = check_random_state(self._seed(0))
            positions = np.sort(rng.choice(len(X), size=self.max_reference_rows, replace=False))
            X = X.iloc[positions]
        kinds, categories, empty = {}, {}, []
        for col in X.columns:
            series = X[col]
            kind = column_kind(series)
            if kind == OTHER:
                raise TypeError(
                    f"ReconstructionDrift cannot encode column {col!r} of dtype "
                    f"{series.dtype}; it takes numeric, boolean, categorical, string and "
                    "datetime columns. Drop or convert it first."
                )
            if series.isna().all():
                empty.append(col)
            kinds[col] = kind
            if kind == CATEGORICAL:
                categories[col] = _reference_categories(series)
        if empty:
            raise ValueError(
                f"Column(s) {describe_columns(empty)} of the reference hold only missing "
                f"values ({len(X)} rows): there is nothing to learn of them. Drop them, or "
                "fit on a reference that has their values."
            )
        self.kinds_ = kinds
        self.categories_ = categories
        values = raw_values(X, kinds, categories)
        n = len(X)
        n_held = min(max(round(self.holdout * n), 1), n - 1)
        shuffled = check_random_state(self._seed(1)).permutation(n)
        held, train = np.sort(shuffled[:n_held]), np.sort(shuffled[n_held:])
        model = fit_model(values, kinds, train, self.explained_variance, self.min_frequency)
        errors, parts = reconstruct(model, take(values, held), kinds)
        self.model_ = model
        self.n_components_ = len(model["components"])
        self.holdout_rows_ = positions[held]
        self.reference_errors_ = errors
        self.reference_contributions_ = np.stack([parts.mean(axis=0), parts.var(axis=0)])
        return self

    def reconstruction_errors(self, X):
        """The reconstruction error of every row of ``X``, as ``detect`` scores it.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            Rows with the columns seen at fit. Not modified.

        Returns
        -------
        errors : ndarray of shape (n_samples,)
            Euclidean distance of each standardised row from its
            reconstruction.
        """
        return self._score_rows(X)[0]

    def detect(self, X):
        """Test whether the batch's mean reconstruction error exceeds the reference's.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            The batch, with the columns seen at fit in the same order; at
            least one row. Not modified.

        Returns
        -------
        report : ReconstructionDriftReport
            The mean error, its threshold and p-value, the verdict
            ``report.drift``, the error of every row and the columns that
            contribute most.
        """
        errors, parts = self._score_rows(X)
        n = len(errors)
        reference_error = float(self.reference_errors_.mean())
        mean_error = float(errors.mean())
        p, threshold = permutation_test(
            [errors],
            [self.reference_errors_],
            self.n_permutations,
            self.alpha,
            np.random.default_rng(self._seed(2)),
        )
        increase = mean_error / reference_error - 1 if reference_error > 0 else np.inf
        if mean_error == reference_error:
            increase = 0.0
        note = (
            f"mean error {mean_error:.4g} vs held-out reference {reference_error:.4g}, "
            f"threshold {threshold:.4g}; permutation test against the "
            f"{len(self.reference_errors_)} held-out reference rows "
            f"({self.n_permutations} permutations), one-sided; components kept: "
            f"{self.n_components_}"
        )
        row = {
            "feature": JOINT,
            "test": TEST,
            "statistic": mean_error,
            "p_value": p,
            "effect_size": increase,
            "effect_threshold": self.min_increase,
            "n_reference": len(self.reference_errors_),
            "n_batch": n,
            "note": note,
            "status": OK,
        }
        settings = {"alpha": self.alpha, "correction": None, "drift_share": None}
        base = build_report([row], settings, len(self.reference_errors_), n, {})
        contributions = self._contributions(parts)
        summary = {
            "mean_error": mean_error,
            "reference_error": reference_error,
            "error_threshold": threshold,
        }
        return ReconstructionDriftReport(base, summary, {"error": errors}, contributions)

    def _contributions(self, parts):
        """The raw columns' mean squared residuals, batch against the
        held-out reference, ranked by the excess in standard errors."""
        n = len(parts)
        n_ref = len(self.reference_errors_)
        reference, variances = self.reference_contributions_
        batch = parts.mean(axis=0)
        excess = batch - reference
        se = np.sqrt(parts.var(axis=0) / n + variances / n_ref)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.where(se > 0, excess / np.where(se > 0, se, 1), np.sign(excess) * np.inf)
        z = np.nan_to_num(z, nan=0.0)
        order = np.lexsort((-excess, -z))
        total = batch.sum()
        columns = list(self.kinds_)
        return {
            "feature": [columns[j] for j in order],
            "batch": batch[order],
            "reference": reference[order],
            "excess": excess[order],
            "z": z[order],
            "share": batch[order] / total if total > 0 else np.zeros(len(order)),
        }

    def score(self, X, y=None):
        """1.0 when batch ``X`` did not drift, 0.0 when it did.

        The float scikit-learn's scorers expect, as the other detectors'
        ``score``: the share of the watched features that did not drift,
        with the joint test as the one feature.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            The batch.

        y : None
            Ignored.

        Returns
        -------
        score : float
            ``report.stable_share`` of :meth:`detect`.
        """
        return self.detect(X).stable_share

    def _score_rows(self, X):
        check_is_fitted(self, "model_")
        X = check_frame(self, X, reset=False, min_samples=1)
        reject_infinite(self, X)
        checked = {c: k for c, k in self.kinds_.items() if k != CATEGORICAL}
        X = check_kinds(self, X, checked)
        values = raw_values(X, self.kinds_, self.categories_)
        return reconstruct(self.model_, values, self.kinds_)

    def _seed(self, stream):
        """A seed for one use of the random state (0: the reference
        subsample, 1: the held-out rows, 2: the permutations), so that one use does
        not shift another's draws."""
        if self.random_state is None:
            return None
        if isinstance(self.random_state, Integral):
            entropy = int(self.random_state)
        else:  # a RandomState instance: read from a copy, the caller's is not advanced
            entropy = int(copy.deepcopy(self.random_state).randint(2**31 - 1))
        return int(np.random.SeedSequence([entropy, stream]).generate_state(1)[0] >> 1)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = True
        tags.non_deterministic = self.random_state is None
        return tags
