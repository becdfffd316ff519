"""The chi-square test of homogeneity, and ChiSquareDrift."""

from functools import reduce
from numbers import Real

import numpy as np
from scipy import special

from mlpipe.drift._base import _BaseDrift
from mlpipe.drift._psi import (
    categorical_distribution,
    count_categories,
    fit_categories,
    unseen_note,
)
from mlpipe.utils._sklearn_compat import Interval, StrOptions


def chi2_table(ref_counts, batch_counts):
    """``scipy.stats.chi2_contingency`` of the 2 x k table of counts, with the
    same arithmetic (Yates' correction when k = 2) so the numbers are equal.

    Categories empty on both sides are dropped first (scipy refuses zero
    expected counts); fewer than two categories left, or an empty side, gives
    ``(0.0, 1.0, 0)`` as scipy does for zero degrees of freedom.

    Returns ``(statistic, p_value, dof)``.
    """
    observed = np.array([ref_counts, batch_counts], dtype=np.float64)
    observed = observed[:, observed.sum(axis=0) > 0]
    if observed.shape[1] < 2 or (observed.sum(axis=1) == 0).any():
        return 0.0, 1.0, 0
    margsums = [observed.sum(axis=1, keepdims=True), observed.sum(axis=0, keepdims=True)]
    expected = reduce(np.multiply, margsums) / observed.sum() ** (observed.ndim - 1)
    dof = expected.size - sum(expected.shape) + expected.ndim - 1
    if dof == 1:
        diff = expected - observed
        direction = np.sign(diff)
        magnitude = np.minimum(0.5, np.abs(diff))
        observed = observed + magnitude * direction
    terms = (observed - expected) ** 2 / expected
    stat = float(np.sum(terms, axis=None))
    return stat, float(special.chdtrc(dof, stat)), int(dof)


def cramers_v(stat, n_total, n_categories):
    """Cramér's V of a 2 x k table: sqrt(chi2 / (n * (min(2, k) - 1)))."""
    if n_total == 0 or n_categories < 2:
        return 0.0
    return float(np.sqrt(stat / n_total))


def fit(ref, X):
    for col in ref.columns:
        if ref.tests[col] == "chi2":
            fit_categories(ref, col, X[col])


def score(ref, X, settings, distributions):
    rows = {}
    for col in ref.columns:
        if ref.tests[col] != "chi2":
            continue
        counts, unseen = count_categories(ref, col, X[col])
        ref_counts = np.append(ref.category_counts[col], 0)
        stat, p, dof = chi2_table(ref_counts, counts)
        nr, nb = int(ref_counts.sum()), int(counts.sum())
        notes = [f"dof={dof}"]
        if unseen:
            notes.append(unseen_note(unseen))
        rows[col] = {
            "feature": col,
            "test": "chi2",
            "statistic": stat,
            "p_value": p,
            "effect_size": cramers_v(stat, nr + nb, dof + 1),
            "effect_threshold": settings["chi2_threshold"],
            "n_reference": nr,
            "n_batch": nb,
            "note": "; ".join(notes),
        }
        distributions[col] = categorical_distribution(ref, col, ref_counts, counts, unseen)
    return rows


class ChiSquareDrift(_BaseDrift):
    """Chi-square test of homogeneity of every categorical column.

    The reference keeps each column's categories and counts. A batch's counts
    over those categories, plus one bucket for categories never seen at fit,
    form a 2 x k table with the reference counts; its statistic and p-value
    equal :func:`scipy.stats.chi2_contingency`'s (Yates' correction for
    2 x 2). Numeric columns are compared by their distinct values.

    Parameters
    ----------
    columns : list, default=None
        The columns to watch, by name (by position for arrays); the others
        are checked for presence at score time but not tested. None watches
        every column.

    alpha : float, default=0.05
        Significance level, after the correction across columns.

    correction : {"bh", "bonferroni"} or None, default="bh"
        Multiple-testing correction across the p-value tests of one batch.

    threshold : float, default=0.1
        Smallest Cramér's V (``sqrt(chi2 / n)`` for a 2 x k table) reported
        as drift; 0.1 is Cohen's "small" effect. 0 turns it off.

    missing_threshold : float, default=0.05
        Smallest change in a column's missing-value rate reported as drift.

    drift_share : float or None, default=None
        The batch drifted when at least this share of the columns drifted;
        None means any drifted column.

    Attributes
    ----------
    reference_ : DriftReference
        Categories and their counts per column.

    tests_ : dict
        ``{column: "chi2"}``.

    kinds_ : dict
        The kind of each column at fit.

    n_features_in_ : int
        Number of features seen during fit.

    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when they are all strings.

    See Also
    --------
    DriftDetector : Picks the test of each column from its dtype.
    scipy.stats.chi2_contingency : The same test on one table.

    Notes
    -----
    Categories absent from both sides are dropped from the table. Unseen
    categories are named in the report's ``note``. Missing values are not a
    category here; they are compared as a missing-rate test.

    Examples
    --------
    >>> import pandas as pd
    >>> from mlpipe.drift import ChiSquareDrift
    >>> ref = pd.DataFrame({"colour": ["red"] * 60 + ["blue"] * 40})
    >>> batch = pd.DataFrame({"colour": ["red"] * 20 + ["blue"] * 70 + ["green"] * 10})
    >>> report = ChiSquareDrift().fit(ref).score(batch)
    >>> row = report.to_frame().iloc[0]
    >>> row["test"], bool(row["drift"]), row["note"]
    ('chi2', True, "dof=2; 1 unseen category ('green': 10)")
    """

    _single_test = "chi2"
    _parameter_constraints = {
        "columns": ["array-like", None],
        "alpha": [Interval(Real, 0, 1, closed="neither")],
        "correction": [StrOptions({"bh", "bonferroni"}), None],
        "threshold": [Interval(Real, 0, 1, closed="both")],
        "missing_threshold": [Interval(Real, 0, 1, closed="both")],
        "drift_share": [Interval(Real, 0, 1, closed="right"), None],
    }

    def __init__(
        self,
        *,
        columns=None,
        alpha=0.05,
        correction="bh",
        threshold=0.1,
        missing_threshold=0.05,
        drift_share=None,
    ):
        self.columns = columns
        self.alpha = alpha
        self.correction = correction
        self.threshold = threshold
        self.missing_threshold = missing_threshold
        self.drift_share = drift_share
