"""The chi-square test of homogeneity of categorical counts: statistics only.

Same signature as ``_ks`` (see its docstring). The asymptotic p-value is
used where Cochran's rule holds (``_tables.RULES``), after merging the
rarest categories if need be; otherwise a Monte Carlo permutation p-value.
"""

from functools import reduce

import numpy as np
from scipy import special

from mlpipe.drift import _tables
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
        rows[col] = category_row(ref, col, counts, unseen, settings, distributions)
    return rows


def category_row(ref, col, counts, unseen, settings, distributions):
    """The row of column ``col`` from the batch's counts over the reference
    categories plus "unseen", and ``{unseen value: count}``."""
    ref_counts = np.append(ref.category_counts[col], 0)
    nr, nb = int(ref_counts.sum()), int(counts.sum())
    if nr and nb:
        stat, p, dof, method = chi2_test(ref_counts, counts, unseen.values())
        notes = [f"dof={dof}"] + ([method] if method else [])
        status = "ok"
    else:
        stat, p, dof, notes, status = np.nan, np.nan, 0, ["no values to compare"], TOO_FEW
    if unseen:
        notes.append(unseen_note(unseen))
    distributions[col] = categorical_distribution(ref, col, ref_counts, counts, unseen)
    return {
        "feature": col,
        "test": "chi2",
        "statistic": stat,
        "p_value": p,
        "effect_size": cramers_v(stat, nr + nb, dof + 1) if nr and nb else np.nan,
        "effect_threshold": settings["chi2_threshold"],
        "n_reference": nr,
        "n_batch": nb,
        "note": "; ".join(notes),
        "status": status,
    }


TOO_FEW = "too_few_rows"


def chi2_test(ref_counts, batch_counts, unseen_counts=()):
    """The chi-square test of the 2 x k table at the batch's size.

    - Cochran's rule holds (every expected count >= 1, 80% of them >= 5):
      :func:`chi2_table`, equal to ``scipy.stats.chi2_contingency``;
    - else, after merging the categories of smallest reference count into one
      until it holds (``_tables.merge_rare``): the same on the merged table;
    - else (not even two buckets pass): the statistic of the full table with
      a Monte Carlo permutation p-value (``_tables.monte_carlo``).

    ``unseen_counts``: the batch counts of the categories unseen at fit,
    lumped in the table's last category; the permutation test splits them
    (``_tables.split_unseen``). Both sides must be non-empty. Returns
    ``(statistic, p_value, dof, method)``, ``method`` a note: "" for the
    plain test, else what was done.
    """
    ref, bat = _tables.nonempty(ref_counts, batch_counts)
    if ref.shape[0] < 2:
        return 0.0, 1.0, 0, ""
    merged = _tables.merge_rare(ref, bat, "chi2")
    if merged is not None:
        r, b, n_merged = merged
        stat, p, dof = chi2_table(r, b)
        method = f"{n_merged} rarest categories merged" if n_merged else ""
        return stat, p, dof, method
    stat, _, dof = chi2_table(ref, bat)
    p = _tables.monte_carlo(
        *_tables.nonempty(*_split(ref_counts, batch_counts, unseen_counts)), "chi2"
    )
    return stat, p, dof, f"Monte Carlo p-value ({_tables.N_DRAWS} draws)"


def _split(ref_counts, batch_counts, unseen_counts):
    return _tables.split_unseen(ref_counts, batch_counts, unseen_counts)


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
