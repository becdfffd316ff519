"""Mergeable summaries of a numeric column: an exact sum, and the values a
median is read from, exact while they fit a budget.

Each summary is plain data (ints, numpy arrays, dicts), so that a fitted
imputer holding one is saved by skops, and is built from one chunk then
merged with others in any grouping: the answer does not depend on how the
column was cut.

- :func:`exact_sum` is the sum of float64 values as an integer count of
  ``2**-1074`` (the smallest subnormal), so sums of chunks add without
  rounding and :func:`exact_mean` rounds once: the correctly rounded mean.
- :func:`value_summary` keeps the distinct values and their counts while
  there are at most ``budget`` of them: the median read from it is exactly
  ``np.median`` of the column. Beyond the budget it becomes a deterministic
  compactor hierarchy (Munro and Paterson's, as in KLL without the random
  choices): level ``h`` holds sorted values of weight ``2**h``, and a level
  longer than ``k`` keeps every other value at the next level. Each such
  compaction moves the count of values below any point by at most its weight,
  so the summary tracks an exact bound ``error`` on that count, and the median
  read from it has a rank within ``error`` of ``n / 2``. A level is compacted
  only when it holds more than ``k`` values, so level ``h`` is compacted at
  most ``n / (k 2**h)`` times and ``error <= n (log2(n / k) + 1) / k``.
"""

from fractions import Fraction

import numpy as np

# float64 values are integer multiples of 2**-1074; frexp's mantissa times
# 2**53 is an integer, so a value is M * 2**(e - 53) = M * 2**(e + 1021) units.
_UNIT_SHIFT = 1021
_HALF = 26


def exact_sum(values):
    """The exact sum of finite float64 ``values``, in units of ``2**-1074``.

    Returns
    -------
    total : int
        ``sum(values) * 2**1074``, a Python int (no rounding).
    """
    values = np.asarray(values, dtype=np.float64)
    if not len(values):
        return 0
    mantissa, exponent = np.frexp(values)
    m = np.ldexp(mantissa, 53).astype(np.int64)
    shift = exponent.astype(np.int64) + _UNIT_SHIFT
    sub = shift < 0  # subnormals: their low bits are zeros
    if sub.any():
        m[sub] >>= -shift[sub]
        shift[sub] = 0
    # int64 sums of 27-bit halves stay exact for up to 2**36 values
    hi, lo = m >> _HALF, m & ((1 << _HALF) - 1)
    size = int(shift.max()) + 1
    hi_sum = np.zeros(size, dtype=np.int64)
    lo_sum = np.zeros(size, dtype=np.int64)
    np.add.at(hi_sum, shift, hi)
    np.add.at(lo_sum, shift, lo)
    total = 0
    for s in np.flatnonzero(hi_sum | lo_sum).tolist():
        total += ((int(hi_sum[s]) << _HALF) + int(lo_sum[s])) << s
    return total


def exact_mean(total, n):
    """The correctly rounded mean of values whose :func:`exact_sum` is ``total``."""
    return float(Fraction(total, n << 1074))


def integer_sum(values):
    """The exact sum of int64 ``values`` (as a Python int, no overflow)."""
    values = np.asarray(values, dtype=np.int64)
    hi, lo = values >> 32, values & 0xFFFFFFFF
    return (int(hi.sum()) << 32) + int(lo.sum())


def value_summary(values, budget, k):
    """The summary of one chunk's observed values (see the module docstring).

    Parameters
    ----------
    values : ndarray of shape (n,)
        Finite values, float64 or int64 (datetimes as integers).
    budget : int
        Most distinct values kept exactly.
    k : int
        Longest level of the compactor hierarchy beyond the budget.

    Returns
    -------
    summary : dict
        ``{"n", "values", "counts", "levels", "offsets", "error"}``.
    """
    values, counts = np.unique(np.asarray(values), return_counts=True)
    summary = {
        "n": int(counts.sum()),
        "budget": int(budget),
        "k": int(k),
        "values": values,
        "counts": counts.astype(np.int64),
        "levels": None,
        "offsets": None,
        "error": 0,
    }
    return _fit_budget(summary)


def merge_summaries(summaries):
    """One summary of the values of all ``summaries`` (any grouping gives the
    same exact summary; compaction adds its bound to ``error``), with the
    budget and ``k`` of the first."""
    budget, k = summaries[0]["budget"], summaries[0]["k"]
    summaries = [s for s in summaries if s["n"]]
    if not summaries:
        return value_summary(np.empty(0), budget, k)
    if len(summaries) == 1:
        return summaries[0]
    if all(s["levels"] is None for s in summaries):
        values = np.concatenate([s["values"] for s in summaries])
        counts = np.concatenate([s["counts"] for s in summaries])
        unique, inverse = np.unique(values, return_inverse=True)
        total = np.zeros(len(unique), dtype=np.int64)
        np.add.at(total, inverse, counts)
        merged = {
            "n": sum(s["n"] for s in summaries),
            "budget": budget,
            "k": k,
            "values": unique,
            "counts": total,
            "levels": None,
            "offsets": None,
            "error": 0,
        }
        return _fit_budget(merged)
    hierarchies = [_as_levels(s) for s in summaries]
    depth = max(len(h["levels"]) for h in hierarchies)
    levels, offsets = [], []
    for h in range(depth):
        parts = [x["levels"][h] for x in hierarchies if h < len(x["levels"])]
        levels.append(np.sort(np.concatenate(parts), kind="stable"))
        offsets.append(sum(int(x["offsets"][h]) for x in hierarchies if h < len(x["offsets"])) % 2)
    merged = {
        "n": sum(s["n"] for s in summaries),
        "budget": budget,
        "k": k,
        "values": None,
        "counts": None,
        "levels": levels,
        "offsets": offsets,
        "error": sum(x["error"] for x in hierarchies),
    }
    return _compact(merged)


def _fit_budget(summary):
    if summary["levels"] is None and len(summary["values"]) <= summary["budget"]:
        return summary
    return _compact(_as_levels(summary))


def _as_levels(summary):
    """The exact counts written in binary over the levels (no error added)."""
    if summary["levels"] is not None:
        return summary
    values, counts = summary["values"], summary["counts"]
    depth = max(int(counts.max()).bit_length(), 1) if len(counts) else 1
    levels = [values[(counts >> h) & 1 == 1] for h in range(depth)]
    return {
        "n": summary["n"],
        "budget": summary["budget"],
        "k": summary["k"],
        "values": None,
        "counts": None,
        "levels": levels,
        "offsets": [0] * depth,
        "error": 0,
    }


def _compact(summary):
    k = summary["k"]
    levels, offsets = list(summary["levels"]), list(summary["offsets"])
    error = summary["error"]
    h = 0
    while h < len(levels):
        level = levels[h]
        if len(level) > k:
            keep_here = len(level) % 2
            pairs = level[: len(level) - keep_here]
            # alternate which half goes up, so that the errors tend to cancel
            promoted = pairs[offsets[h] :: 2]
            offsets[h] ^= 1
            error += 1 << h
            # a copy, not a view that would keep the whole level alive
            levels[h] = level[len(level) - keep_here :].copy()
            if h + 1 == len(levels):
                levels.append(promoted[:0])
                offsets.append(0)
            levels[h + 1] = np.sort(np.concatenate([levels[h + 1], promoted]), kind="stable")
        h += 1
    summary = dict(summary, levels=levels, offsets=offsets, error=error)
    return summary


def middle_values(summary):
    """The values at 0-based ranks ``(n - 1) // 2`` and ``n // 2``, exactly
    while the summary is exact; else the value whose rank is within
    ``summary["error"]`` of ``n / 2``, twice."""
    n = summary["n"]
    if summary["levels"] is None:
        cumulative = np.cumsum(summary["counts"])
        low, high = np.searchsorted(cumulative, [(n - 1) // 2 + 1, n // 2 + 1])
        return summary["values"][low], summary["values"][high]
    values = np.concatenate(summary["levels"])
    weights = np.concatenate(
        [np.full(len(level), 1 << h, dtype=np.int64) for h, level in enumerate(summary["levels"])]
    )
    order = np.argsort(values, kind="stable")
    values, cumulative = values[order], np.cumsum(weights[order])
    at = int(np.searchsorted(cumulative, n / 2))
    at = min(at, len(values) - 1)
    return values[at], values[at]
