"""Independent oracles of the drift tests' tables, written from the
textbook with scipy, nothing imported from mlpipe.drift."""

import math

import numpy as np
from scipy import stats
from scipy.stats.contingency import expected_freq


def ks_statistics(ref, window, alternative):
    """scipy's two-sample KS statistic of each column of ``window`` against
    the same column of ``ref``, bit for bit as ``stats.ks_2samp`` reports it
    with its default method at sizes up to 10,000 (its exact mode gives
    ``h / lcm(n1, n2)``, ``h`` the rounded integer), without the exact p-value
    it computes along (0.3 s a column one-sided at 2000 x 300)."""
    n1, n2 = len(ref), len(window)
    lcm = n1 // math.gcd(n1, n2) * n2
    d = [
        stats.ks_2samp(ref[:, f], window[:, f], alternative=alternative, method="asymp").statistic
        for f in range(ref.shape[1])
    ]
    return np.round(np.array(d) * lcm).astype(np.int64) / lcm


def cochran(table):
    """Cochran's rule on a 2 x k table: every expected count >= 1 and at
    least 80% of them >= 5."""
    e = expected_freq(np.asarray(table, dtype=np.float64))
    return bool((e >= 1).all() and (e >= 5).mean() >= 0.8 - 1e-12)


def cochran_table(table):
    """The table the chi-square drift test uses: the table itself when
    Cochran's rule holds, else the categories of smallest reference count
    (row 0; ties by smallest pooled count) merged one more at a time into a
    last bucket until it holds; None when no table of >= 2 buckets does."""
    table = np.asarray(table)
    if cochran(table):
        return table
    order = sorted(range(table.shape[1]), key=lambda j: (table[0, j], table[:, j].sum(), j))
    for g in range(2, table.shape[1]):
        merged, rest = order[:g], order[g:]
        candidate = np.column_stack([table[:, rest], table[:, merged].sum(axis=1)])
        if cochran(candidate):
            return candidate
    return None
