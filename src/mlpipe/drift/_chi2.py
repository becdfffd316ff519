"""The chi-square test of homogeneity of categorical counts: statistics only.

Same signature as ``_ks`` (see its docstring).
"""

from functools import reduce

import numpy as np
from scipy import special

from mlpipe.drift._columns import (
    categorical_distribution,
    count_categories,
    fit_categories,
    unseen_note,
)
from mlpipe.utils._dataframe import BOOLEAN, CATEGORICAL, DATETIME, NUMERIC

KINDS = (NUMERIC, DATETIME, BOOLEAN, CATEGORICAL)


def fit_statistics(ref, X, columns, settings, threads):
    for col in columns:
        fit_categories(ref, col, X[col])


def score_statistics(ref, X, columns, settings, threads, distributions):
    rows = {}
    for col in columns:
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
