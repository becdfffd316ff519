"""DriftReport: what a drift detector found in one batch, and its assembly
from the rows of the statistics modules (multiple-testing correction,
missing-rate tests, the batch verdict)."""

import html
import textwrap

import numpy as np
import pandas as pd

from mlpipe._report import Report, html_table, report_html
from mlpipe.drift._tables import fisher_pvalue
from mlpipe.utils._optional import import_optional

OK = "ok"
TOO_FEW = "too_few_rows"
# the "feature" of a joint test's row (ClassifierDrift, ReconstructionDrift)
JOINT = "(joint)"

COLUMNS = (
    "feature",
    "test",
    "statistic",
    "p_value",
    "threshold",
    "drift",
    "status",
    "effect_size",
    "effect_threshold",
    "n_reference",
    "n_batch",
    "note",
)

CORRECTION_NAMES = {
    "bh": "Benjamini-Hochberg",
    "bonferroni": "Bonferroni",
    None: "no correction",
}


class DriftReport(Report):
    """The result of checking one batch against the reference.

    One row per test: a distribution test for every feature, and a
    ``"missing_rate"`` test for every feature that has missing values in the
    reference or in the batch. A row whose status is ``"too_few_rows"`` (a
    side with no values to compare) has no p-value and never drifts; the
    summary names those features. Detectors build it in ``detect``; read it
    through :attr:`drift`, :attr:`drifted_features`, :meth:`to_frame`,
    :meth:`summary` and :meth:`plot`.

    Parameters
    ----------
    results : DataFrame or dict
        The rows, see :meth:`to_frame`; a mapping of equal-length columns
        (the names of :meth:`to_frame`) is made a DataFrame on first use.

    drift : bool
        The batch-level verdict: True when the share of drifted features
        reaches ``drift_share`` (any drifted feature by default).

    alpha : float
        Family-wise (Bonferroni) or false-discovery (Benjamini-Hochberg)
        level of the p-value tests.

    correction : {"bh", "bonferroni"} or None
        The multiple-testing correction applied across the p-value tests.

    n_reference : int
        Rows in the reference.

    n_batch : int
        Rows in the batch.

    drift_share : float or None, default=None
        See the detector's parameter of the same name.

    distributions : dict, default=None
        ``{feature: summary}`` of the reference and batch distributions
        (quantiles or proportions, a few hundred numbers), used by
        :meth:`plot`. None means no distribution is kept (nothing to plot).

    error_bounds : dict, default=None
        ``{feature: bound}`` for the statistics that are bounded rather than
        exact: a KS statistic against a reference summarized by a quantile
        sketch (more than ``max_reference_rows`` rows) is within ``bound``
        of the exact one. Every statistic of a feature not named is exact
        (None: all are).

    importance : dict, default=None
        ``{feature: share}`` of a model's reliance on each feature (shares
        summing to 1, see the ``importance`` parameter of
        :class:`DriftDetector`); None ranks drifted features by effect size.

    joint : DriftReport or None, default=None
        The report of the joint test run beside the per-column tests
        (``DriftDetector(joint=...)``): a :class:`ClassifierDriftReport` or
        :class:`ReconstructionDriftReport`, whose one row is also a row of
        this report, feature ``"(joint)"``, at the joint test's own level.

    Attributes
    ----------
    results : DataFrame
        The rows, see :meth:`to_frame`.

    stable_share : float
        Share of the tested features with no drifted test (1.0: none
        drifted); the detectors' ``score``.

    drifted_features : list
        Features with at least one drifted test, most drifted first (the
        model's most relied-on first, with ``importance``).

    drifted_importance : float
        Share of the model's reliance carried by the drifted features (NaN
        without ``importance``).

    error_bounds : dict
        ``{feature: bound}`` of the bounded statistics; empty when every
        statistic is exact.

    See Also
    --------
    DriftDetector : The detector whose ``detect`` returns it.
    DriftMonitor : Keeps the report of every batch in ``history_``.

    Examples
    --------
    >>> from mlpipe.datasets import load_credit, make_credit_batch
    >>> from mlpipe.drift import DriftDetector
    >>> X_ref, _ = load_credit(return_X_y=True)
    >>> report = DriftDetector().fit(X_ref).detect(make_credit_batch().X)
    >>> report.drift
    True
    >>> report.drifted_features
    ['duration', 'age', 'purpose', 'credit_amount']
    """

    title = "Drift report"

    def __init__(
        self,
        results,
        drift,
        alpha,
        correction,
        n_reference,
        n_batch,
        drift_share=None,
        distributions=None,
        error_bounds=None,
        importance=None,
        joint=None,
    ):
        # ``results`` may be a mapping of equal-length columns: the frame is
        # then built on first use. Building it takes longer than scoring a
        # small batch, and a monitor that only reads ``report.drift`` never
        # needs it.
        self._results = results
        self.drift = drift
        self.alpha = alpha
        self.correction = correction
        self.n_reference = n_reference
        self.n_batch = n_batch
        self.drift_share = drift_share
        self.distributions = {} if distributions is None else distributions
        self.error_bounds = {} if error_bounds is None else error_bounds
        self.importance = importance
        self.joint = joint

    def __getstate__(self):
        # Once read, the rows are a DataFrame, which skops cannot persist: a
        # saved report (in a DriftMonitor's history_) keeps them as columns.
        state = self.__dict__.copy()
        if isinstance(self._results, pd.DataFrame):
            state["_results"] = {
                name: _plain_column(self._results[name]) for name in self._results.columns
            }
        return state

    @property
    def results(self):
        """The rows, as :meth:`to_frame` returns them (not a copy)."""
        if not isinstance(self._results, pd.DataFrame):
            self._results = pd.DataFrame({name: self._results[name] for name in COLUMNS})
        return self._results

    @property
    def stable_share(self):
        """Share of the tested features with no drifted test, in [0, 1].

        1.0 means nothing drifted. A joint test's row (``"(joint)"``) is
        not a feature: it counts only in a report that has nothing else
        (0.0 when it drifted). It is what the detectors' ``score``
        returns: higher means more like the reference.
        """
        features = list(self._results["feature"])
        drifted = {f for f, d in zip(features, self._results["drift"], strict=True) if d}
        columns = set(features) - {JOINT}
        if not columns:  # a joint test alone (ClassifierDrift, ReconstructionDrift)
            return 0.0 if drifted else 1.0
        return 1.0 - len(drifted & columns) / len(columns)

    def to_frame(self):
        """Return one row per test.

        Returns
        -------
        frame : DataFrame
            Columns ``feature``, ``test`` (``"ks"``, ``"psi"``, ``"chi2"``,
            ``"cvm"``, ``"ad"``, ``"wasserstein"``, ``"js"`` or
            ``"missing_rate"``), ``statistic`` (for ``"missing_rate"``: the
            batch's missing count), ``p_value``, ``threshold`` (the
            corrected p-value cut-off), ``drift`` (bool), ``status``
            (``"ok"``, or ``"too_few_rows"`` when a side has no values to
            compare: no p-value, never drift), ``effect_size`` (KS
            statistic, also of ``"cvm"`` and ``"ad"``; Cramér's V, PSI, the
            Wasserstein distance over the reference's standard deviation,
            the Jensen-Shannon distance, or the change in missing rate),
            ``effect_threshold``, ``n_reference`` and ``n_batch`` (values
            compared) and ``note`` (the p-value method, unseen categories,
            missing rates).
        """
        return self.results.copy()

    @property
    def too_few_rows(self):
        """Features with a test that had too few rows to say anything.

        A test with no values on a side has no p-value and is never counted
        as drifted.
        """
        rows = self.results[self.results["status"] == TOO_FEW]
        return list(dict.fromkeys(rows["feature"].tolist()))

    @property
    def drifted_features(self):
        """Features with at least one drifted test, most drifted first.

        With a model's ``importance``, the feature the model relies on most
        comes first (ties by effect size): the drift that matters most to
        this model. A drifted joint test is named ``"(joint)"``, after the
        columns.
        """
        rows = self.results[self.results["drift"]]
        rows = rows.sort_values("effect_size", ascending=False, kind="stable")
        features = dict.fromkeys(rows["feature"].tolist())
        return rank_drifted(features, self.__dict__.get("importance"))

    @property
    def drifted_importance(self):
        """Share of the model's reliance carried by the drifted features.

        The shares of ``importance`` sum to 1; 0.0 when nothing drifted,
        NaN without ``importance``.
        """
        importance = self.__dict__.get("importance")
        if not importance:
            return float("nan")
        return float(sum(importance.get(f, 0.0) for f in self.drifted_features))

    def by_importance(self):
        """Every tested feature with the model's reliance on it, most relied-on first.

        Returns
        -------
        frame : DataFrame
            Indexed by ``feature``: ``importance`` (its share of the model's
            reliance, summing to 1 over the model's columns), ``drift``
            (any of its tests drifted), ``tests`` (the tests that drifted,
            comma-separated, else ``""``) and ``effect_size`` (the largest
            of its tests'). Features the model does not use have
            importance 0.

        Raises
        ------
        ValueError
            When the report has no ``importance`` (the detector was fitted
            without one).
        """
        importance = self.__dict__.get("importance")
        if not importance:
            raise ValueError(
                "this report has no model importance: fit the detector with "
                "importance=explain(model, X).importance() to rank drift by the model's reliance."
            )
        rows = self.results[self.results["feature"] != JOINT]
        features = list(dict.fromkeys(rows["feature"].tolist()))
        drifted = rows[rows["drift"]]
        frame = pd.DataFrame(
            {
                "importance": [float(importance.get(f, 0.0)) for f in features],
                "drift": [f in set(drifted["feature"]) for f in features],
                "tests": [
                    ", ".join(drifted.loc[drifted["feature"] == f, "test"]) for f in features
                ],
                "effect_size": rows.groupby("feature", sort=False)["effect_size"]
                .max()
                .reindex(features)
                .to_numpy(),
            },
            index=pd.Index(features, name="feature"),
        )
        return frame.sort_values("importance", ascending=False, kind="stable")

    def summary(self):
        """Return the verdict of the report in one line.

        Returns
        -------
        summary : str
            ``"DRIFT"`` or ``"no drift"``, the drifted features with the tests
            that flagged them, the row counts and the level and correction of
            the p-value tests.
        """
        n_features = self.results["feature"][self.results["feature"] != JOINT].nunique()
        drifted = [f for f in self.drifted_features if f != JOINT]  # the joint test: below
        how = CORRECTION_NAMES.get(self.correction, str(self.correction))
        head = "DRIFT" if self.drift else "no drift"
        if drifted:
            tests = []
            for name in drifted:
                rows = self.results[(self.results["feature"] == name) & self.results["drift"]]
                tests.append(f"{name} ({', '.join(rows['test'])})")
            detail = f"{len(drifted)} of {n_features} features drifted: " + ", ".join(tests)
        else:
            detail = f"0 of {n_features} features drifted"
        if drifted and self.__dict__.get("importance"):
            detail += (
                f" (most relied-on by the model first; they carry "
                f"{self.drifted_importance:.0%} of its reliance)"
            )
        joint = self.results[self.results["feature"] == JOINT]
        for _, row in joint.iterrows():
            verdict = "drifted" if row["drift"] else "no drift"
            detail += (
                f"; joint test ({row['test']}): {verdict}, effect {row['effect_size']:.3g} "
                f"(threshold {row['effect_threshold']:.3g}), p={row['p_value']:.3g}"
            )
            explanation = getattr(self.__dict__.get("joint"), "explanation", None)
            if row["drift"] and explanation is not None and len(explanation):
                detail += f", telling columns: {telling_columns(explanation)}"
        few = self.too_few_rows
        if few:
            shown = ", ".join(str(f) for f in few[:5]) + (", ..." if len(few) > 5 else "")
            detail += f"; {len(few)} with too few rows to test ({shown})"
        return (
            f"{head}: {detail}; {self.n_batch} batch rows vs {self.n_reference} "
            f"reference rows, alpha={self.alpha:g} ({how})"
        )

    def __repr__(self):
        return f"<DriftReport: {self.summary()}>"

    def _repr_html_(self):
        rule = (
            "A test flags drift when its p-value is at most its threshold (alpha after the "
            "multiple-testing correction) and its effect size reaches its effect threshold: "
            "a tiny p-value with a small effect is a real but negligible shift, not drift."
        )
        # Drifted tests first, then the rest in the detector's order.
        rows = self.results.sort_values("drift", ascending=False, kind="stable")
        body = html_table(rows) + f'<p class="mlpipe-note">{html.escape(rule)}</p>'
        return report_html(self.title, self.summary(), body, tone="bad" if self.drift else "good")

    def plot(self, ax=None, features=None, **kwargs):
        """Plot reference vs batch distributions.

        Numeric features are drawn as the two empirical CDFs, categorical
        ones and binned (PSI) ones as side-by-side bars of proportions.

        Parameters
        ----------
        ax : matplotlib Axes or array of Axes, default=None
            Where to draw, one Axes per feature; a new figure with one panel
            per feature is made when None.

        features : list of str, default=None
            The features to draw; the drifted ones when None (all of them when
            none drifted).

        **kwargs : dict
            Passed to the matplotlib drawing calls.

        Returns
        -------
        ax : matplotlib Axes or ndarray of Axes
            The Axes drawn on, one per feature: a single Axes when one
            feature was drawn (or none), an array otherwise.
        """
        plt = import_optional("matplotlib.pyplot", purpose="plotting reports")
        if features is None:
            features = self.drifted_features or list(dict.fromkeys(self.results["feature"]))
        features = [f for f in features if f in self.distributions]
        if ax is None:
            n = max(len(features), 1)
            ncols = min(n, 3)
            nrows = -(-n // ncols)
            fig, axes = plt.subplots(
                nrows, ncols, figsize=(4.2 * ncols, 3.2 * nrows), squeeze=False
            )
            axes = axes.ravel()
            for extra in axes[len(features) :]:
                extra.set_visible(False)
            # The summary can be long: wrap it to the figure's width, not cut it.
            # (about 45 characters of 9-point text per 4.2-inch panel).
            fig.suptitle(textwrap.fill(self.summary(), width=45 * ncols), fontsize=9)
        else:
            axes = np.atleast_1d(ax).ravel()
            if len(axes) < len(features):
                raise ValueError(f"{len(features)} feature(s) to plot but {len(axes)} Axes given.")
        for a, name in zip(axes, features, strict=False):
            _plot_feature(a, name, self.distributions[name], self.results, **kwargs)
        if ax is None and len(features):
            axes[0].figure.tight_layout()
        used = axes[: max(len(features), 1)]
        return used[0] if len(used) == 1 else used


def _plot_feature(ax, name, dist, results, **kwargs):
    rows = results[results["feature"] == name]
    label = ", ".join(
        f"{t}={s:.3g}" for t, s in zip(rows["test"], rows["effect_size"], strict=False) if s == s
    )
    drifted = bool(rows["drift"].any())
    if dist["kind"] == "ecdf":
        levels = dist["levels"]
        ax.step(dist["reference"], levels, where="post", label="reference", **kwargs)
        ax.step(dist["batch"], levels, where="post", label="batch", **kwargs)
        ax.set_ylabel("cumulative share")
    else:
        labels = [str(c) for c in dist["labels"]]
        pos = np.arange(len(labels))
        ax.bar(pos - 0.2, dist["reference"], width=0.4, label="reference", **kwargs)
        ax.bar(pos + 0.2, dist["batch"], width=0.4, label="batch", **kwargs)
        ax.set_xticks(pos)
        ax.set_xticklabels(labels, rotation=45, ha="right", fontsize=7)
        ax.set_ylabel("share")
    ax.set_title(
        f"{name}{' (drift)' if drifted else ''}\n{label}",
        fontsize=9,
        color="#b00020" if drifted else "black",
    )
    ax.legend(fontsize=7)


# --------------------------------------------------------------------------
# assembly
# --------------------------------------------------------------------------


def correct(pvalues, alpha, correction):
    """Per-test p-value cut-offs under a multiple-testing correction.

    Parameters
    ----------
    pvalues : array of float
        NaN for tests that have none (they take no part).

    alpha : float
        The level.

    correction : {"bh", "bonferroni"} or None

    Returns
    -------
    thresholds : ndarray
        The cut-off each p-value is compared with (``p <= threshold`` is
        significant); NaN where the p-value is NaN. Bonferroni: ``alpha/m``.
        Benjamini-Hochberg: ``alpha*k/m`` with ``k`` the largest rank whose
        sorted p-value is at most ``alpha*k/m`` (``alpha/m`` when there is
        none), so that exactly the BH discoveries pass.
    """
    p = np.asarray(pvalues, dtype=np.float64)
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    m = int(ok.sum())
    if m == 0:
        return out
    if correction is None:
        out[ok] = alpha
    elif correction == "bonferroni":
        out[ok] = alpha / m
    elif correction == "bh":
        ps = np.sort(p[ok])
        ranks = np.arange(1, m + 1)
        passing = np.nonzero(ps <= alpha * ranks / m)[0]
        k = passing[-1] + 1 if passing.size else 1
        out[ok] = alpha * k / m
    else:
        raise ValueError(f"Unknown correction {correction!r}.")
    return out


def missing_rows(ref, X, settings, known=None, n_batch=None):
    """A "missing_rate" row for every column with missing values on either
    side: Fisher's exact test of the 2 x 2 table of missing and present
    counts (``_tables.fisher_pvalue``), which accounts for both sample
    sizes; statistic = the batch's missing count, effect = change in the
    rate. ``known`` maps columns to their batch missing counts when the tests
    counted them already (all of them, and ``n_batch`` its rows, when ``X``
    is None: a batch known by its partitions' counts)."""
    known = known or {}
    rows = []
    n_ref, n_bat = ref.n_rows, len(X) if n_batch is None else n_batch
    for col in ref.columns:
        m_ref = ref.n_missing[col]
        m_bat = int(known[col]) if col in known else int(X[col].isna().sum())
        if m_ref == 0 and m_bat == 0:
            continue
        r_ref = m_ref / n_ref if n_ref else np.nan
        r_bat = m_bat / n_bat if n_bat else np.nan
        enough = n_ref > 0 and n_bat > 0
        rows.append(
            {
                "feature": col,
                "test": "missing_rate",
                "statistic": float(m_bat),
                "p_value": fisher_pvalue(m_ref, n_ref, m_bat, n_bat) if enough else np.nan,
                "effect_size": abs(r_bat - r_ref),
                "effect_threshold": settings["missing_threshold"],
                "n_reference": n_ref,
                "n_batch": n_bat,
                "note": f"missing {r_ref:.1%} -> {r_bat:.1%}",
                "status": OK if enough else TOO_FEW,
            }
        )
    return rows


def joint_row(report):
    """The one row of a joint test's report (ClassifierDrift,
    ReconstructionDrift) as a row of another report, at its own level: its
    cut-off stays the joint test's, apart from the columns' correction
    (which would dilute its one p-value among theirs)."""
    row = report.results.iloc[0].to_dict()
    row["own_threshold"] = row["threshold"]
    return row


def rank_drifted(features, importance=None):
    """``features`` (drifted, most drifted first) in report order: a model's
    ``importance`` first when given (stable: ties keep their order), a joint
    test's row after the columns."""
    features = list(features)
    if importance:
        features.sort(key=lambda f: -importance.get(f, 0.0))
    if JOINT in features and len(features) > 1:
        features.remove(JOINT)
        features.append(JOINT)
    return features


def telling_columns(explanation):
    """ "col (61%), col (11%), ..." of a joint test's explanation: its three
    most telling columns with their shares."""
    top = explanation.head(3)
    return ", ".join(f"{f} ({s:.0%})" for f, s in zip(top["feature"], top["share"], strict=True))


def _plain_column(series):
    values = series.to_numpy()
    return values.tolist() if values.dtype == object else values


def build_report(rows, settings, n_reference, n_batch, distributions, joint=None):
    """The DriftReport of one batch from its test rows."""

    # Columns are computed as arrays; the report builds its frame from them
    # when it is first read (building it row by row took ~7 ms for 20
    # features, and even at once it costs more than a small batch's tests).
    def floats(name):
        return np.array(
            [np.nan if r.get(name) is None else r[name] for r in rows], dtype=np.float64
        )

    statistic = floats("statistic")
    p = floats("p_value")
    effect = floats("effect_size")
    effect_threshold = floats("effect_threshold")
    tests = [r["test"] for r in rows]
    alpha, correction = settings["alpha"], settings["correction"]
    status = [r.get("status", OK) for r in rows]
    testable = np.array([st == OK for st in status], dtype=bool)
    p[~testable] = np.nan  # no part in the correction
    # a row with its own cut-off (a joint test's level) is not corrected
    own = floats("own_threshold")
    apart = ~np.isnan(own)
    thresholds = correct(np.where(apart, np.nan, p), alpha, correction)
    thresholds[apart] = own[apart]
    with np.errstate(invalid="ignore"):
        significant = p <= thresholds
        large = effect >= effect_threshold
    notes = []
    for r in rows:
        note = r.get("note")
        notes.append(
            "" if note is None or (isinstance(note, float) and np.isnan(note)) else str(note)
        )
    columns = {
        "feature": [r["feature"] for r in rows],
        "test": tests,
        "statistic": statistic,
        "p_value": p,
        "threshold": thresholds,
        "drift": (significant & large & testable).astype(bool),
        "status": status,
        "effect_size": effect,
        "effect_threshold": effect_threshold,
        "n_reference": np.array([r["n_reference"] for r in rows], dtype=np.int64),
        "n_batch": np.array([r["n_batch"] for r in rows], dtype=np.int64),
        "note": notes,
    }
    features = columns["feature"]
    n_features = len(set(features) - {JOINT})
    drifted = {f for f, d in zip(features, columns["drift"], strict=True) if d}
    joint_drift = JOINT in drifted
    n_drifted = len(drifted - {JOINT})
    share = settings["drift_share"]
    verdict = n_drifted > 0 if share is None else n_features > 0 and n_drifted / n_features >= share
    # a joint test (DriftDetector(joint=...)) drifting is drift on its own
    verdict = verdict or joint_drift
    return DriftReport(
        results=columns,  # the frame is built when first read
        drift=bool(verdict),
        alpha=alpha,
        correction=correction,
        n_reference=n_reference,
        n_batch=n_batch,
        drift_share=share,
        distributions=distributions,
        error_bounds={r["feature"]: r["error_bound"] for r in rows if "error_bound" in r},
        importance=settings.get("importance"),
        joint=joint,
    )
