"""The statistics behind the learned checks of a schema.

What ``Schema.infer`` learns from ``n`` training rows is an estimate, not a
law, so a learned check flags a batch only when the batch is improbable under
that estimate, with the batch size in the computation:

- ranges: a generalized Pareto tail fitted to the largest (smallest) training
  values gives the probability that a batch of ``m`` rows reaches a value;
- missing values: the batch's missing count against the training count, by
  Fisher's exact test (one-sided), which is valid at any sizes and reads
  "none in training" as an estimate (zero of ``n``), not as a rule;
- unseen categories: an exact conditional (permutation) test of the batch's
  count of values of unseen categories, given the pooled counts of every
  category; many categories seen once in training make new ones probable
  (the idea of Good-Turing's estimate), none make them improbable.

Each function returns a p-value: the probability, under what was learned, of
a batch at least as extreme as the one seen.
"""

import functools
import math

import numpy as np
from scipy import stats

# Largest order statistics the tail is fitted to: about 2 sqrt(n), at least
# _MIN_TAIL, at most all but one value (measured on the calibration
# benchmark: sqrt(n) values gave too noisy a shape at n of a few hundred).
_MIN_TAIL = 10
# The shape of the fitted tail is kept in [0, _MAX_SHAPE]: a learned tail is
# never taken to end (shape < 0 would put a hard end point at the edge of a
# sample), and never heavier than a Cauchy's.
_MAX_SHAPE = 1.0
# Unseen counts above this use a normal approximation of the exact tail.
_MAX_EXACT_UNSEEN = 5000
_WIDEN = 2.0


def tail_size(n):
    """Number of the largest values a tail is fitted to, for ``n`` values."""
    return int(min(n - 1, max(_MIN_TAIL, math.ceil(2 * math.sqrt(n)))))


def fit_tail(values):
    """Fit a generalized Pareto tail to the upper end of ``values``.

    The ``k = tail_size(n)`` (about ``2 sqrt(n)``) largest values are the exceedances of the
    threshold ``u`` (the next largest value); their excesses are fitted by
    probability-weighted moments (Hosking and Wallis, 1987). The shape is
    widened by ``2 / sqrt(k)`` (about 1.7 standard errors of its estimate),
    so that the tail errs on the heavy side, and kept in ``[0, 1]``: a learned
    tail never ends at the sample's edge, and is never heavier than a
    Cauchy's.

    Parameters
    ----------
    values : ndarray of shape (n,)
        Finite values.

    Returns
    -------
    tail : dict or None
        ``{"threshold": u, "scale": s, "shape": xi, "rate": k / n}``: above
        ``u``, ``P(X > x) = rate * (1 + xi * (x - u) / s) ** (-1 / xi)``
        (``rate * exp(-(x - u) / s)`` when ``xi == 0``). None with fewer than
        three values.
    """
    values = np.asarray(values, dtype=np.float64)
    n = len(values)
    if n < 3:
        return None
    k = tail_size(n)
    return fit_tail_top(top_values(values, k + 1), n)


def top_values(values, count):
    """The ``count`` largest of ``values``, sorted ascending."""
    values = np.asarray(values, dtype=np.float64)
    if count >= len(values):
        return np.sort(values)
    return np.sort(np.partition(values, len(values) - count)[len(values) - count :])


def fit_tail_top(top, n, k=None):
    """:func:`fit_tail` of ``n`` values from their largest only.

    Parameters
    ----------
    top : ndarray
        The ``k + 1`` largest values, sorted ascending (more are ignored).
    n : int
        How many values there are in all.
    k : int, default=None
        Exceedances to fit; ``tail_size(n)`` (what :func:`fit_tail` fits) when
        None. A smaller ``k`` fits the tail to fewer of the largest values
        (with rate ``k / n``), for a summary that kept fewer.

    Returns
    -------
    tail : dict or None
        As :func:`fit_tail`.
    """
    if n < 3:
        return None
    if k is None:
        k = tail_size(n)
    top = np.asarray(top, dtype=np.float64)[-(k + 1) :]
    u = top[0]
    top = top[1:]
    with np.errstate(over="ignore"):
        y = top - u  # ascending excesses, k of them
    if not np.isfinite(y).all():  # values near the float64 limits
        y = top / 2 - u / 2
        unit = 2.0
    else:
        unit = 1.0
    y_max = y[-1]
    if y_max <= 0:
        # The top values are all tied: the scale of the tail is unknown but
        # no wider than the spacing of the data below it.
        return {"threshold": float(u), "scale": 0.0, "shape": 0.0, "rate": k / n}
    # probability-weighted moments of the excesses, scaled to at most 1 so
    # that nothing overflows (shape and scale are scale-equivariant)
    y = y / y_max
    a0 = y.mean()
    weights = (k - 1 - np.arange(k)) / (k - 1) if k > 1 else np.zeros(1)
    a1 = float(np.mean(weights * y))
    denom = a0 - 2 * a1
    if denom <= 0:  # heavier than the moments can say
        shape, scale = _MAX_SHAPE, a0
    else:
        shape = 2 - a0 / denom
        scale = 2 * a0 * a1 / denom
    scale = scale * y_max * unit
    shape = float(np.clip(shape + _WIDEN / math.sqrt(k), 0.0, _MAX_SHAPE))
    scale = float(min(scale, np.finfo(np.float64).max))
    return {"threshold": float(u), "scale": scale, "shape": shape, "rate": k / n}


def tail_sf(tail, x):
    """``P(X > x)`` under a tail of :func:`fit_tail`, for ``x`` above its threshold."""
    x = np.asarray(x, dtype=np.float64)
    z = np.maximum(x - tail["threshold"], 0.0)
    scale, shape, rate = tail["scale"], tail["shape"], tail["rate"]
    if scale <= 0:
        return np.where(z > 0, 0.0, rate)
    if shape == 0:
        return rate * np.exp(-z / scale)
    return rate * np.exp(-np.log1p(shape * z / scale) / shape)


def tail_bound(tail, m, alpha):
    """The value a batch of ``m`` rows exceeds with probability ``alpha``.

    Solves ``1 - (1 - P(X > x)) ** m = alpha`` for ``x`` under the tail.

    Parameters
    ----------
    tail : dict
        From :func:`fit_tail`.

    m : int
        Rows in the batch.

    alpha : float
        Probability of the batch's maximum exceeding the bound.

    Returns
    -------
    bound : float
        Never below the tail's threshold.
    """
    # The per-value exceedance probability that gives the batch alpha.
    p = -math.expm1(math.log1p(-alpha) / m)
    scale, shape, rate = tail["scale"], tail["shape"], tail["rate"]
    if p >= rate:
        return tail["threshold"]
    if scale <= 0:
        return tail["threshold"]
    if shape == 0:
        return tail["threshold"] + scale * math.log(rate / p)
    return tail["threshold"] + scale / shape * math.expm1(shape * math.log(rate / p))


def batch_tail_pvalue(tail, x_max, m):
    """Probability that a batch of ``m`` rows reaches ``x_max`` or beyond."""
    s = float(tail_sf(tail, x_max))
    if s >= 1:
        return 1.0
    return float(-math.expm1(m * math.log1p(-s)))


def exceedance_pvalue(n_train, m, j):
    """Probability that ``j`` of ``m`` batch values all exceed the largest of
    ``n_train`` training values, when both are drawn alike.

    Distribution-free: the ``j`` largest of the ``N = n_train + m`` pooled
    values are all in the batch with probability ``C(m, j) / C(N, j)``.

    Parameters
    ----------
    n_train, m, j : int
        Training values, batch values, and batch values beyond the training
        range.

    Returns
    -------
    p_value : float
    """
    if j <= 0:
        return 1.0
    return _all_in_batch(j, m, n_train + m)


# A service checks one row at a time: the same few (n_train, null_train, 1, 1)
# come back on every row with a missing value, each a 0.08 ms scipy call.
@functools.lru_cache(maxsize=4096)
def null_pvalue(n_train, null_train, m, null_batch):
    """One-sided Fisher's exact test: a batch with this many missing values or
    more, if its rows and the training rows have one missing rate.

    Parameters
    ----------
    n_train, null_train : int
        Training rows and how many were missing.

    m, null_batch : int
        Batch rows and how many are missing.

    Returns
    -------
    p_value : float
    """
    if null_batch == 0:
        return 1.0
    total = n_train + m
    missing = null_train + null_batch
    return float(stats.hypergeom.sf(null_batch - 1, total, missing, m))


def _all_in_batch(c, m, N):
    """``C(m, c) / C(N, c)``: all ``c`` values of a category in a random
    ``m``-subset of ``N``."""
    if c > m:
        return 0.0
    log = math.lgamma(m + 1) - math.lgamma(m - c + 1) - math.lgamma(N + 1) + math.lgamma(N - c + 1)
    return math.exp(log)


def unseen_pvalue(train_counts, batch_counts, unseen_counts):
    """Exact conditional test of the batch's values of unseen categories.

    If the batch and the training values are exchangeable (drawn alike), then
    given the pooled counts of every category the batch is a random subset of
    the pooled values, and a category of pooled count ``c`` has all its
    values in the batch (so it is "unseen" in training) with probability
    ``C(m, c) / C(N, c)``. The number of unseen values in the batch is then a
    sum over the categories, ``c`` times such an event (taken as
    independent), whose upper tail is computed exactly. Categories seen once
    in training weigh most: a sample with many of them predicts new ones
    (the idea of Good-Turing's estimate ``singletons / n``), one with none
    predicts few.

    Parameters
    ----------
    train_counts : ndarray of int
        Count of each training category.

    batch_counts : ndarray of int
        Count in the batch of each training category (same order).

    unseen_counts : ndarray of int
        Count in the batch of each category not seen in training.

    Returns
    -------
    p_value : float
        Probability of at least ``unseen_counts.sum()`` unseen values.
    """
    unseen_counts = np.asarray(unseen_counts, dtype=np.int64)
    u = int(unseen_counts.sum())
    if u == 0:
        return 1.0
    pooled = np.concatenate(
        [np.asarray(train_counts, np.int64) + np.asarray(batch_counts, np.int64), unseen_counts]
    )
    pooled = pooled[pooled > 0]
    m = int(np.asarray(batch_counts).sum()) + u
    N = int(pooled.sum())
    values, multiplicity = np.unique(pooled, return_counts=True)
    # P(all c values of a category fall in the batch) = C(m, c) / C(N, c)
    pi = np.array([_all_in_batch(int(c), m, N) for c in values])
    if u > _MAX_EXACT_UNSEEN:
        mean = float(np.sum(multiplicity * values * pi))
        var = float(np.sum(multiplicity * values**2 * pi * (1 - pi)))
        if var <= 0:
            return 0.0 if u > mean else 1.0
        return float(stats.norm.sf((u - 0.5 - mean) / math.sqrt(var)))
    # distribution of the unseen count below u
    dist = np.zeros(u)
    dist[0] = 1.0
    log_none = 0.0
    for c, k, p in zip(values, multiplicity, pi, strict=True):
        if p == 0:
            continue
        if c >= u:
            log_none += k * math.log1p(-p) if p < 1 else -np.inf
            continue
        j = np.arange(0, min(k, (u - 1) // c) + 1)
        weights = stats.binom.pmf(j, k, p)
        new = np.zeros(u)
        for jj, w in zip(j, weights, strict=True):
            shift = int(jj * c)
            new[shift:] += w * dist[: u - shift]
        dist = new
    below = float(dist.sum()) * math.exp(log_none)
    return float(min(1.0, max(0.0, 1.0 - below)))
