"""ClassifierDrift: domain-classifier drift, a joint test of all columns.

A classifier learns to tell reference rows from batch rows; every row is
scored by a model fitted on folds that did not hold it (cross-fitting), and
the held-out AUROC says how well the two can be told apart (0.5: not at all).
Unlike the per-column tests, it sees a change in how columns move together
when every marginal is unchanged, and its SHAP values say which columns, and
which of their values, give the batch away.
"""

import copy
import itertools
import warnings
from numbers import Integral, Real

import numpy as np
import pandas as pd
from joblib import effective_n_jobs
from scipy import special, stats
from sklearn.base import BaseEstimator, clone
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import StratifiedKFold
from sklearn.utils import check_random_state
from threadpoolctl import threadpool_limits

from mlpipe._config import get_config
from mlpipe.drift._report import JOINT, OK, DriftReport, build_report, telling_columns
from mlpipe.utils._dataframe import (
    BOOLEAN,
    CATEGORICAL,
    DATETIME,
    NUMERIC,
    OTHER,
    check_frame,
    check_kinds,
    column_kind,
    describe_columns,
    time_ns,
)
from mlpipe.utils._estimator import MlpipeEstimatorMixin
from mlpipe.utils._optional import import_optional
from mlpipe.utils._sklearn_compat import (
    HasMethods,
    Interval,
    StrOptions,
    check_is_fitted,
    fit_context,
)

TEST = "classifier"
P_VALUES = ("fold", "mannwhitney")
# Reference quantiles that cut a numeric column into the value groups of
# the explanation (quintiles).
_VALUE_LEVELS = (0.2, 0.4, 0.6, 0.8)
# Categories with fewer rows than this in the reference and the batch
# together share one code (see _pooled_codes).
MIN_CATEGORY_ROWS = 10


class ClassifierDriftReport(DriftReport):
    """The result of :meth:`ClassifierDrift.detect`: a joint test, explained.

    A :class:`DriftReport` with one row, feature ``"(joint)"`` and test
    ``"classifier"``: ``statistic`` and ``effect_size`` are the held-out
    AUROC, ``p_value`` its one-sided p-value, ``drift`` whether the p-value
    is at most ``alpha`` and the AUROC at least the detector's
    ``auc_threshold``. It adds what the classifier learned: which columns,
    and which of their values, tell the batch from the reference.

    Parameters
    ----------
    report : DriftReport
        The one-row report of the test.

    scores : dict
        ``{"score": ndarray, "batch": ndarray of bool, "fold": ndarray}``:
        the out-of-fold score of every row (reference rows first), whether
        the row is a batch row, and the fold that held it out.

    explanation : dict or None
        Columns of :attr:`explanation` (None when the detector was built
        with ``explain=False``).

    explanation_values : dict or None
        Columns of :attr:`explanation_values`.

    shap : Explanation or None
        The SHAP values of every row, from the fold model that did not see
        it (see :class:`mlpipe.explain.Explanation`).

    Attributes
    ----------
    auroc : float
        The held-out AUROC.

    p_value : float
        Its one-sided p-value (batch rows score higher than reference rows).

    shap : Explanation or None
        SHAP values of every row, reference rows first, in the raw columns
        (not saved with the report: None once loaded).

    See Also
    --------
    ClassifierDrift : The detector that makes it.
    DriftReport : The report of the per-column tests.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from mlpipe.drift import ClassifierDrift
    >>> rng = np.random.default_rng(0)
    >>> ref = pd.DataFrame({"x": rng.normal(size=300), "y": rng.normal(size=300)})
    >>> batch = pd.DataFrame({"x": rng.normal(size=200), "y": rng.normal(1, 1, size=200)})
    >>> report = ClassifierDrift(random_state=0).fit(ref).detect(batch)
    >>> report.drift, report.explanation["feature"].tolist()
    (True, ['y', 'x'])
    """

    title = "Classifier drift report"

    def __init__(self, report, scores, explanation=None, explanation_values=None, shap=None):
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
        self._scores = scores
        self._explanation = explanation
        self._explanation_values = explanation_values
        self.shap = shap

    def __getstate__(self):
        # the SHAP values of every row (an Explanation, as large as the two
        # samples, holding shap's objects) are not saved: a saved report, in
        # a DriftMonitor's history_ for one, keeps the verdict, the scores
        # and the explanation tables
        state = super().__getstate__()
        state["shap"] = None
        return state

    @property
    def auroc(self):
        """The held-out AUROC of the domain classifier (0.5: no drift)."""
        return float(self.results["statistic"].iloc[0])

    @property
    def p_value(self):
        """The one-sided p-value of the AUROC."""
        return float(self.results["p_value"].iloc[0])

    @property
    def scores(self):
        """Out-of-fold scores, one row per compared row (reference rows first).

        Columns ``score`` (the fold model's decision function, or its
        probability of "batch"), ``batch`` (bool) and ``fold``.
        """
        return pd.DataFrame(self._scores)

    @property
    def explanation(self):
        """The columns that tell the batch apart, most telling first.

        A DataFrame with columns ``feature`` (the raw column), ``importance``
        (mean absolute SHAP value over every compared row, in the
        classifier's log-odds of "batch"), ``share`` (of the summed
        importances), ``batch_value`` (the value, or reference-quintile
        range, whose rows this column pushes most toward "batch") and
        ``batch_value_shap`` (their mean SHAP value). None when the detector
        was built with ``explain=False``.
        """
        if self._explanation is None:
            return None
        return pd.DataFrame(self._explanation)

    @property
    def explanation_values(self):
        """Mean SHAP value of each column within each of its values.

        A DataFrame with columns ``feature``, ``value`` (a category, marked
        ``"(not in the reference)"`` when the reference lacks it, the
        shared group of rare categories, ``"missing"``, or a range of
        reference quintiles of a numeric column), ``n_reference``,
        ``n_batch`` (rows with that value on each side) and ``mean_shap``
        (positive: the value points to the batch). None when the detector
        was built with ``explain=False``.
        """
        if self._explanation_values is None:
            return None
        return pd.DataFrame(self._explanation_values)

    def summary(self):
        """Return the verdict of the report in one line.

        Returns
        -------
        summary : str
            ``"DRIFT"`` or ``"no drift"``, the AUROC and its p-value, the
            most telling columns and the row counts.
        """
        row = self.results.iloc[0]
        head = "DRIFT" if self.drift else "no drift"
        detail = f"held-out AUROC {row['statistic']:.3f} (p={row['p_value']:.3g}, {row['note']})"
        explanation = self.explanation
        if explanation is not None and len(explanation):
            detail += f"; most telling columns: {telling_columns(explanation)}"
        return (
            f"{head}: {detail}; {self.n_batch} batch rows vs {self.n_reference} "
            f"reference rows, alpha={self.alpha:g}"
        )

    def __repr__(self):
        return f"<ClassifierDriftReport: {self.summary()}>"


class ClassifierDrift(MlpipeEstimatorMixin, BaseEstimator):
    """Domain-classifier drift: a model that tells the batch from the reference.

    ``detect(X)`` labels the reference rows 0 and the batch rows 1 and
    cross-fits a classifier over ``n_splits`` stratified folds, so that
    every row is scored by a model that did not see it. The statistic is the
    held-out AUROC of those scores (0.5 when the two are alike, 1 when every
    batch row is told apart); its p-value is one-sided (batch rows score
    higher). The batch drifted when the p-value is at most ``alpha`` *and*
    the AUROC reaches ``auc_threshold``: at large sample sizes a real but
    negligible difference is significant, and the threshold keeps it quiet.

    Being one test of all the columns at once, it finds what the per-column
    tests of :class:`DriftDetector` cannot: a change in how columns move
    together while each column's distribution is unchanged. Each fold's
    model explains the rows it held out with :mod:`mlpipe.explain` (SHAP),
    so the report says which raw columns, and which of their values, give
    the batch away (:attr:`ClassifierDriftReport.explanation`).

    Mixed frames need no preprocessing: numeric, boolean and datetime
    columns are compared as numbers, string, object and categorical ones as
    category codes; missing values stay missing (the default classifier
    splits them off natively). A category the reference never had is no
    error: one that is frequent in the batch gets a code of its own, rare
    ones share a code with the rare categories of the reference (see Notes).

    Parameters
    ----------
    estimator : classifier, default=None
        The domain classifier, cloned for every fold; it must have
        ``decision_function`` or ``predict_proba``. It receives a float
        array: numbers as they are (datetimes as nanoseconds, booleans as
        0/1), categories as codes ``0..k-1`` (most frequent first, the rare
        ones sharing code ``k-1``; see Notes), missing values as NaN. None
        uses
        ``HistGradientBoostingClassifier(max_iter=50, max_leaf_nodes=15,
        early_stopping=False)``, which handles missing values natively and
        whose SHAP values are exact (TreeSHAP).

    n_splits : int, default=5
        Stratified folds of the cross-fitting. The reference and the batch
        need at least this many rows each.

    alpha : float, default=0.05
        Significance level of the test.

    auc_threshold : float, default=0.55
        Smallest held-out AUROC reported as drift (0.5: the classifier does
        no better than chance). 0.5 turns it off.

    p_value : {"fold", "mannwhitney"}, default="fold"
        How the p-value is computed, both by the one-sided Mann-Whitney U
        test of batch rows' scores against reference rows' (normal
        approximation with tie and continuity corrections, as
        :func:`scipy.stats.mannwhitneyu` with ``method="asymptotic"``):
        ``"fold"``: of the rows of the first held-out fold, which one model
        scored and no model saw, an exact level; ``"mannwhitney"``: of all
        the out-of-fold scores, which raises more false alarms than
        ``alpha`` says (see Notes).

    explain : bool, default=True
        Explain the classifier with SHAP (needs the ``explain`` extra:
        ``pip install "mlpipe[explain]"``). False skips it.

    max_reference_rows : int or None, default=10_000
        A larger reference is subsampled to this many rows at fit (drawn with
        ``random_state``, the same rows every time). None keeps every row.

    n_jobs : int, default=None
        Threads of each classifier fit (OpenMP threads of the default
        classifier). None means mlpipe's ``n_jobs`` setting, and 1 when that
        is unset: the folds are small, and OpenMP threads that wait for a
        busy core slow a fit down many times over.

    random_state : int, RandomState instance or None, default=0
        Seed of the reference subsample, the folds and the default
        classifier: the same data give the same report.

    Attributes
    ----------
    reference_rows_ : ndarray of shape (n_reference_rows, n_features_in_)
        The reference (subsampled to ``max_reference_rows``) as the float
        array the classifier receives.

    categories_ : dict
        ``{column: list}``: the reference categories of each categorical
        column, in code order.

    kinds_ : dict
        The kind of each column at fit (``"numeric"``, ``"boolean"``,
        ``"categorical"`` or ``"datetime"``).

    n_features_in_ : int
        Number of features seen during fit.

    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when they are all strings.

    See Also
    --------
    DriftDetector : One test per column, with its effect size.
    ClassifierDriftReport : What :meth:`detect` returns.
    mlpipe.explain.explain : SHAP values in raw column names.

    Notes
    -----
    The statistic and the effect size are the AUROC of all the out-of-fold
    scores, but its Mann-Whitney p-value (``p_value="mannwhitney"``) is
    not exact: the cross-fitted scores are not independent. Each fold's
    model learns the chance patterns of the labels of the other folds, and
    those patterns are shared between the folds' models, so the folds' AUROCs
    move together and the pooled one varies more than Mann-Whitney's null
    says. Measured on random (clean) splits of the credit data, 500
    reference and 500 batch rows: p <= 0.05 in 15% of 200 splits (8% of
    another 100), the pooled AUROC's standard deviation 0.024 against the
    0.018 of the null; permuting the labels within each fold does not help
    (14%), since it leaves the other folds' models fixed. The default,
    ``"fold"``, tests the scores of one held-out fold alone: its model never
    saw those rows and no other model scored them, so under no drift their
    labels are exchangeable and the level is exact (up to the normal
    approximation), at the price of testing a fifth of the rows: p <= 0.05
    in 5.1% of 1,800 clean splits of nine data sets (the pooled one: 10.7%),
    and less power on small batches (see the benchmark). A false
    alarm needs both the p-value and the ``auc_threshold``, so the
    detector's rate is at most its p-value's
    (``benchmarks/results/classifier_drift.md`` has both, by data set and
    size).

    The default classifier sees categories as their reference codes, split
    as numbers, not with scikit-learn's native categorical splits: shap's
    TreeExplainer reads native categorical splits as numeric thresholds and
    its SHAP values would not add up to the model's output, whereas on codes
    they are exact and name the very model that found the drift. A tree
    isolates any one category in two splits; on the credit data the two give
    the same AUROC within noise. Columns with more than 255 categories share
    histogram bins.

    Category codes are given at ``detect``, from the counts of the reference
    and the batch together: categories with at least 10 rows in all get a
    code each, the others share one. Codes of the reference's categories
    alone would raise false alarms: a batch of many-valued columns
    (identifiers, free text, long-tailed labels) brings values the
    reference lacks even when nothing changed, and "not in the reference"
    would mark batch rows only. Measured: a clean split of a column with 30%
    singletons gave a held-out AUROC of 0.81 that way. Counts of both sides
    together do not depend on which row is which, so under no drift the
    rows stay exchangeable.

    A column the reference holds no value of is refused at fit (there is
    nothing to learn of it); one the batch holds no value of is drift the
    classifier sees at once. Pass ``explain=False`` for an ``estimator``
    that is neither a tree ensemble nor linear: shap's model-agnostic
    explainer costs many model calls per row.

    Examples
    --------
    A batch whose columns each look like the reference's, but whose credit
    amounts no longer go with the durations: every per-column test misses
    it, the classifier does not.

    >>> import numpy as np
    >>> from mlpipe.datasets import load_credit
    >>> from mlpipe.drift import ClassifierDrift, DriftDetector
    >>> X, _ = load_credit(return_X_y=True)
    >>> rng = np.random.default_rng(0)
    >>> rows = rng.permutation(len(X))
    >>> ref, batch = X.iloc[rows[:600]], X.iloc[rows[600:]].copy()
    >>> batch["duration"] = rng.permutation(batch["duration"].to_numpy())
    >>> DriftDetector().fit(ref).detect(batch).drift
    False
    >>> report = ClassifierDrift().fit(ref).detect(batch)
    >>> report.drift, bool(report.auroc > 0.55)
    (True, True)
    >>> sorted(report.explanation["feature"][:2])  # the two most telling columns
    ['credit_amount', 'duration']
    """

    _parameter_constraints = {
        "estimator": [
            HasMethods(["fit", "decision_function"]),
            HasMethods(["fit", "predict_proba"]),
            None,
        ],
        "n_splits": [Interval(Integral, 2, None, closed="left")],
        "alpha": [Interval(Real, 0, 1, closed="neither")],
        "auc_threshold": [Interval(Real, 0, 1, closed="both")],
        "p_value": [StrOptions(set(P_VALUES))],
        "explain": ["boolean"],
        "max_reference_rows": [Interval(Integral, 1, None, closed="left"), None],
        "n_jobs": [Integral, None],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        *,
        estimator=None,
        n_splits=5,
        alpha=0.05,
        auc_threshold=0.55,
        p_value="fold",
        explain=True,
        max_reference_rows=10_000,
        n_jobs=None,
        random_state=0,
    ):
        self.estimator = estimator
        self.n_splits = n_splits
        self.alpha = alpha
        self.auc_threshold = auc_threshold
        self.p_value = p_value
        self.explain = explain
        self.max_reference_rows = max_reference_rows
        self.n_jobs = n_jobs
        self.random_state = random_state

    @fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Learn the columns of the reference and keep its rows.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            The reference data; mixed numeric and categorical columns and
            missing values are allowed. It needs at least ``n_splits`` rows;
            more than ``max_reference_rows`` are subsampled.

        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted detector.
        """
        X = check_frame(self, X, reset=True, min_samples=self.n_splits)
        if self.max_reference_rows is not None and len(X) > self.max_reference_rows:
            rng = check_random_state(self._seed(0))
            rows = np.sort(rng.choice(len(X), size=self.max_reference_rows, replace=False))
            X = X.iloc[rows]
        kinds, categories = {}, {}
        empty = []
        for col in X.columns:
            series = X[col]
            kind = column_kind(series)
            if kind == OTHER:
                raise TypeError(
                    f"ClassifierDrift cannot compare column {col!r} of dtype {series.dtype}; "
                    "it compares numeric, boolean, categorical, string and datetime "
                    "columns. Drop or convert it first."
                )
            if series.isna().all():
                empty.append(col)
            kinds[col] = kind
            if kind == CATEGORICAL:
                categories[col] = _reference_categories(series)
        if empty:
            raise ValueError(
                f"Column(s) {describe_columns(empty)} of the reference hold only missing "
                f"values ({len(X)} rows): there is nothing to compare a batch with. Drop "
                "them, or fit on a reference that has their values."
            )
        self.kinds_ = kinds
        self.categories_ = categories
        self.reference_rows_ = _encode(X, kinds, categories)
        return self

    def detect(self, X):
        """Test whether a classifier can tell batch ``X`` from the reference.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            The batch, with the columns seen at fit in the same order; at
            least ``n_splits`` rows. Not modified.

        Returns
        -------
        report : ClassifierDriftReport
            The held-out AUROC, its p-value, the verdict ``report.drift``,
            the out-of-fold scores and, with ``explain=True``, the columns
            and values that tell the batch apart.
        """
        check_is_fitted(self, "reference_rows_")
        X = check_frame(self, X, reset=False, min_samples=0)
        if len(X) < self.n_splits:
            raise ValueError(
                f"The batch has {len(X)} row(s); ClassifierDrift needs at least "
                f"n_splits={self.n_splits} batch rows (every fold holds some). Pass a "
                "larger batch, or a smaller n_splits."
            )
        X, Z, labels, is_batch, scores, folds, models = self._cross_fitted(X)
        n_reference, n_batch = int((~is_batch).sum()), int(is_batch.sum())

        ranks = stats.rankdata(scores)
        auroc, p_mw = _auroc_mannwhitney(ranks, is_batch)
        if self.p_value == "mannwhitney":
            p, note = p_mw, "Mann-Whitney U of all rows, one-sided"
        else:
            first = folds == 0
            fold_auroc, p = _auroc_mannwhitney(stats.rankdata(scores[first]), is_batch[first])
            note = (
                f"Mann-Whitney U of held-out fold 1 of {self.n_splits} "
                f"(AUROC {fold_auroc:.3f}), one-sided"
            )
        note += f"; {self.n_splits}-fold cross-fitted {self._estimator_name()}"
        row = {
            "feature": JOINT,
            "test": TEST,
            "statistic": auroc,
            "p_value": p,
            "effect_size": auroc,
            "effect_threshold": self.auc_threshold,
            "n_reference": n_reference,
            "n_batch": n_batch,
            "note": note,
            "status": OK,
        }
        settings = {"alpha": self.alpha, "correction": None, "drift_share": None}
        base = build_report([row], settings, n_reference, n_batch, {})
        explained = {}
        if self.explain:
            explained = self._explain(Z, labels, is_batch, models, X)
        return ClassifierDriftReport(
            base,
            {"score": scores, "batch": is_batch, "fold": folds},
            **explained,
        )

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

    # -- the cross-fitting -------------------------------------------------

    def _cross_fitted(self, X):
        """The batch ``X`` (checked) against the reference rows: ``(X, Z,
        labels, is_batch, scores, folds, models)``, the pooled rows (the
        reference's first), their category labels, which rows are the
        batch's, every row's held-out score of "batch", its fold and the
        fold models."""
        checked = {c: k for c, k in self.kinds_.items() if k != CATEGORICAL}
        X = check_kinds(self, X, checked)
        reference = self.reference_rows_
        batch = _encode(X, self.kinds_, self.categories_)
        Z, labels = _pooled_codes(self, X, np.vstack([reference, batch]))
        is_batch = np.r_[np.zeros(len(reference), dtype=bool), np.ones(len(batch), dtype=bool)]
        scores, folds, models = self._cross_fit(Z, is_batch)
        return X, Z, labels, is_batch, scores, folds, models

    def _seed(self, stream):
        """A seed for one use of the random state (0: the reference
        subsample, 1: the folds and classifiers, 3: the explainer), so that
        one use does not shift another's draws."""
        if self.random_state is None:
            return None
        if isinstance(self.random_state, Integral):
            entropy = int(self.random_state)
        else:  # a RandomState instance: read from a copy, the caller's is not advanced
            entropy = int(copy.deepcopy(self.random_state).randint(2**31 - 1))
        return int(np.random.SeedSequence([entropy, stream]).generate_state(1)[0] >> 1)

    def _estimator_name(self):
        return (
            "HistGradientBoostingClassifier"
            if self.estimator is None
            else type(self.estimator).__name__
        )

    def _make_estimator(self, seed):
        if self.estimator is None:
            return HistGradientBoostingClassifier(
                max_iter=50, max_leaf_nodes=15, early_stopping=False, random_state=seed
            )
        return clone(self.estimator)

    def _threads(self):
        n_jobs = get_config()["n_jobs"] if self.n_jobs is None else self.n_jobs
        return 1 if n_jobs is None else effective_n_jobs(n_jobs)

    def _cross_fit(self, Z, is_batch):
        seed = self._seed(1)
        splitter = StratifiedKFold(n_splits=self.n_splits, shuffle=True, random_state=seed)
        scores = np.empty(len(Z))
        folds = np.empty(len(Z), dtype=np.int64)
        models = []
        y = is_batch.astype(np.int64)
        with threadpool_limits(limits=self._threads(), user_api="openmp"):
            for k, (train, test) in enumerate(splitter.split(Z, y)):
                model = self._make_estimator(seed)
                model.fit(Z[train], y[train])
                scores[test] = _batch_score(model, Z[test])
                folds[test] = k
                models.append((model, test))
        return scores, folds, models

    # -- the explanation ---------------------------------------------------

    def _explain(self, Z, labels, is_batch, models, batch_frame):
        n, d = Z.shape
        values = np.empty((n, d))
        base = np.empty(n)
        worst = 0.0
        method = output = None
        with warnings.catch_warnings(), threadpool_limits(self._threads(), user_api="openmp"):
            # importing shap warns of matplotlib API (shap's business, not the user's)
            warnings.simplefilter("ignore", PendingDeprecationWarning)
            import_optional("shap", purpose="explaining ClassifierDrift")
            from mlpipe.explain import Explanation, explain

            for model, test in models:
                part = explain(model, Z[test], random_state=self._seed(3))
                values[test] = part.values
                base[test] = part.base_values
                worst = max(worst, part.max_additivity_error)
                method, output = part.method, part.output
        columns = list(self.kinds_)
        data = _raw_rows(self, batch_frame)
        shap_values = Explanation(
            values=values,
            base_values=base,
            data=data,
            feature_names=columns,
            output=output,
            output_names=["batch"],
            method=method,
            tolerance=1e-6,
            max_additivity_error=worst,
        )
        groups = _value_groups(self, Z, labels)
        table = {"feature": [], "value": [], "n_reference": [], "n_batch": [], "mean_shap": []}
        best = {}
        for j, col in enumerate(columns):
            for label, rows in groups[col]:
                if not rows.any():
                    continue
                mean = float(values[rows, j].mean())
                table["feature"].append(col)
                table["value"].append(label)
                table["n_reference"].append(int((rows & ~is_batch).sum()))
                table["n_batch"].append(int((rows & is_batch).sum()))
                table["mean_shap"].append(mean)
                if col not in best or mean > best[col][1]:
                    best[col] = (label, mean)
        importance = np.abs(values).mean(axis=0)
        order = np.argsort(-importance, kind="stable")
        total = importance.sum()
        summary = {
            "feature": [columns[j] for j in order],
            "importance": importance[order],
            "share": importance[order] / total if total > 0 else np.zeros(d),
            "batch_value": [best.get(columns[j], (None, np.nan))[0] for j in order],
            "batch_value_shap": np.array(
                [best.get(columns[j], (None, np.nan))[1] for j in order], dtype=float
            ),
        }
        return {"explanation": summary, "explanation_values": table, "shap": shap_values}

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = True
        tags.non_deterministic = self.random_state is None
        return tags


# --------------------------------------------------------------------------
# encoding
# --------------------------------------------------------------------------


def _reference_categories(series):
    """The categories a reference column holds, in a stable order: the
    dtype's order for a categorical column, sorted where the values sort,
    else in order of appearance."""
    present = pd.unique(series.dropna().astype(object).to_numpy())
    if isinstance(series.dtype, pd.CategoricalDtype):
        keep = set(present.tolist())
        return [c for c in series.dtype.categories.tolist() if c in keep]
    try:
        return sorted(present.tolist())
    except TypeError:
        return present.tolist()


def _encode(frame, kinds, categories):
    """The frame as a float array: numbers as they are, categories as their
    reference codes (-1 for a category the reference lacks), missing values
    as NaN."""
    out = np.empty((len(frame), len(kinds)))
    for j, (col, kind) in enumerate(kinds.items()):
        series = frame[col]
        if kind == CATEGORICAL:
            values = series.astype(object).to_numpy()
            missing = pd.isna(values)
            codes = pd.Index(categories[col], dtype=object).get_indexer(values)
            column = codes.astype(np.float64)
            column[missing] = np.nan
        elif kind == DATETIME:
            column = time_ns(series)
        else:  # numeric, boolean
            column = series.to_numpy(dtype=np.float64, na_value=np.nan)
        out[:, j] = column
    return out


def _pooled_codes(detector, batch_frame, Z):
    """Recode the categorical columns of ``Z`` (reference rows, then batch
    rows) the same way on both sides; return it and the label of each code.

    Reference codes would tell the two sides apart by themselves: every
    reference category has rows in the reference by construction, while a
    batch drawn from the same distribution brings categories of its own
    (rare ones, singletons, identifiers), and a code "not in the reference"
    would mark batch rows only. So codes are given from the counts of the
    reference and the batch together, which do not depend on which row is
    which: categories with at least ``MIN_CATEGORY_ROWS`` rows in all get a
    code each (most frequent first), the rest share one, whichever side
    their rows are on. Under no drift the recoded rows stay exchangeable,
    and a category that floods the batch still gets its own code.
    """
    Z = Z.copy()
    n_ref = len(detector.reference_rows_)
    labels = {}
    for j, (col, kind) in enumerate(detector.kinds_.items()):
        if kind != CATEGORICAL:
            continue
        known = list(detector.categories_[col])
        values = batch_frame[col].astype(object).to_numpy()
        new = (Z[n_ref:, j] < 0) & ~pd.isna(values)
        new_codes, new_values = pd.factorize(values[new])
        codes = Z[:, j].copy()
        batch_codes = codes[n_ref:]
        batch_codes[new] = len(known) + new_codes
        codes[n_ref:] = batch_codes
        present = ~np.isnan(codes)
        counts = np.bincount(codes[present].astype(np.intp), minlength=len(known) + len(new_values))
        names = known + [f"{v} (not in the reference)" for v in new_values.tolist()]
        order = np.argsort(-counts, kind="stable")
        kept = order[counts[order] >= MIN_CATEGORY_ROWS]
        recode = np.full(len(counts), len(kept), dtype=np.float64)
        recode[kept] = np.arange(len(kept))
        out = np.full(len(codes), np.nan)
        out[present] = recode[codes[present].astype(np.intp)]
        Z[:, j] = out
        labels[col] = [names[k] for k in kept]
        if len(kept) < len(counts):
            labels[col].append(f"rare categories (< {MIN_CATEGORY_ROWS} rows each)")
    return Z, labels


def _batch_score(model, Z):
    """The model's score of "batch" (class 1): its decision function, else
    its probability."""
    if hasattr(model, "decision_function"):
        score = np.asarray(model.decision_function(Z), dtype=np.float64)
        return score if score.ndim == 1 else score[:, -1]
    return np.asarray(model.predict_proba(Z), dtype=np.float64)[:, 1]


# --------------------------------------------------------------------------
# the statistic and its p-values
# --------------------------------------------------------------------------


def _auroc_mannwhitney(ranks, is_batch):
    """AUROC of the batch rows' scores, and the one-sided Mann-Whitney
    p-value of "batch scores higher", from the midranks of all scores.

    ``U = R_batch - n1 (n1 + 1) / 2`` counts the (batch, reference) pairs
    in which the batch row scores higher (ties count one half), so the
    AUROC is ``U / (n0 n1)``. The p-value is the normal approximation with
    the tie correction of the variance and a continuity correction of 0.5.
    """
    n1 = int(is_batch.sum())
    n0 = len(is_batch) - n1
    n = n0 + n1
    u = ranks[is_batch].sum() - n1 * (n1 + 1) / 2
    auroc = u / (n0 * n1)
    _, counts = np.unique(ranks, return_counts=True)
    ties = float(np.sum(counts.astype(np.float64) ** 3 - counts))
    var = n0 * n1 / 12 * ((n + 1) - ties / (n * (n - 1)))
    if var <= 0:  # every score equal: nothing tells the two apart
        return float(auroc), 1.0
    z = (u - n0 * n1 / 2 - 0.5) / np.sqrt(var)
    return float(auroc), float(np.clip(special.ndtr(-z), 0.0, 1.0))


# --------------------------------------------------------------------------
# the values behind the explanation
# --------------------------------------------------------------------------


def _raw_rows(detector, batch_frame):
    """The compared rows in raw values: the reference decoded from its
    codes, the batch as it was given (reference rows first)."""
    data = {}
    for j, (col, kind) in enumerate(detector.kinds_.items()):
        ref = detector.reference_rows_[:, j]
        if kind == CATEGORICAL:
            table = np.asarray(detector.categories_[col] + [None], dtype=object)
            codes = np.where(np.isnan(ref), len(table) - 1, ref).astype(np.intp)
            ref_values = table[codes]
        elif kind == DATETIME:
            ref_values = pd.to_datetime(ref, unit="ns").to_numpy(dtype=object)
        elif kind == BOOLEAN:
            ref_values = np.where(np.isnan(ref), None, ref == 1).astype(object)
        else:
            ref_values = ref.astype(object)
        batch_values = batch_frame[col].astype(object).to_numpy()
        data[col] = np.concatenate([ref_values, batch_values])
    return pd.DataFrame(data)


def _value_groups(detector, Z, labels):
    """``{column: [(label, row mask), ...]}``: the values of each column
    the explanation averages SHAP values over."""
    n_ref = len(detector.reference_rows_)
    groups = {}
    for j, (col, kind) in enumerate(detector.kinds_.items()):
        values = Z[:, j]
        missing = np.isnan(values)
        found = []
        if kind == CATEGORICAL:
            found += [(label, values == code) for code, label in enumerate(labels[col])]
        elif kind in (NUMERIC, DATETIME):
            reference = values[:n_ref][~missing[:n_ref]]
            edges = np.unique(np.quantile(reference, _VALUE_LEVELS)) if reference.size else []
            cuts = np.r_[-np.inf, edges, np.inf]
            for lo, hi in itertools.pairwise(cuts):
                rows = ~missing & (values > lo) & (values <= hi)
                found.append((_interval(lo, hi, kind), rows))
        else:  # boolean
            found += [(False, values == 0), (True, values == 1)]
        found.append(("missing", missing))
        groups[col] = found
    return groups


def _interval(lo, hi, kind):
    def show(v):
        if kind == DATETIME:
            return str(pd.Timestamp(int(v), unit="ns"))
        return f"{v:g}"

    if np.isinf(lo):
        return f"<= {show(hi)}"
    if np.isinf(hi):
        return f"> {show(lo)}"
    return f"({show(lo)}, {show(hi)}]"
