"""Independent oracles of the drift tests' tables, written from the
textbook with scipy, nothing imported from mlpipe.drift."""

import numpy as np
from scipy.stats.contingency import expected_freq


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
