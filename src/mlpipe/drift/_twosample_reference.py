"""Plain numpy twins of the kernels in :mod:`mlpipe.drift._twosample_kernels`.

The tests' oracles: slow, short and written the obvious way from the
definitions, with nothing imported from the rest of mlpipe.drift. They take
the two samples as plain arrays in any order.

======================  ======================================================
kernel                  twin
======================  ======================================================
``cvm_rank_sums``       :func:`cvm_rank_sums` (midranks from searchsorted)
``cvm_exact_counts``    :func:`cvm_exact_counts` (every lattice path)
``ad_midrank_sum``      :func:`ad_midrank_sum` (np.unique of the pooled sample)
``ad_pooled_counts``    :func:`ad_pooled_counts` (np.unique, searchsorted)
``ad_counts_sum``       :func:`ad_counts_sum` (the same sum from the counts)
``ad_exact_hits``       :func:`ad_exact_hits` (itertools.combinations)
``ad_permutation_hits`` :func:`ad_permutation_hits` (numpy's permutations;
                        the random splits differ, so compared in law)
``wasserstein_sum``     :func:`wasserstein_sum` (both ECDFs at every point)
======================  ======================================================
"""

import itertools
import math
from collections import Counter

import numpy as np


def midranks(pooled, values):
    """Compute the midranks (1-based, ties averaged) of values in a sample.

    Parameters
    ----------
    pooled : array-like of shape (n,)
        The pooled sample.
    values : array-like of shape (k,)
        Values of the pooled sample.

    Returns
    -------
    ndarray of shape (k,)
        ``(#pooled < v + #pooled <= v + 1) / 2`` for each value ``v``.
    """
    z = np.sort(np.asarray(pooled, dtype=np.float64))
    v = np.asarray(values, dtype=np.float64)
    below = np.searchsorted(z, v, side="left")
    through = np.searchsorted(z, v, side="right")
    return (below + through + 1) / 2


def cvm_rank_sums(ref, bat, within_ties=True):
    """Twin of ``cvm_rank_sums``: ``4 sum (r_i - i)**2`` of each sample.

    Parameters
    ----------
    ref, bat : array-like of shape (n,) and (m,)
        The two samples.
    within_ties : bool, default=True
        True: ``i`` is the index (1-based) within the sample, as in scipy;
        False: the midrank within the sample.

    Returns
    -------
    ref_sum, bat_sum : float
        Four times the sums, over each sample's values in increasing order,
        of the squared difference between the pooled midrank and the index
        (or the midrank) within the sample.
    """
    x = np.sort(np.asarray(ref, dtype=np.float64))
    y = np.sort(np.asarray(bat, dtype=np.float64))
    pooled = np.concatenate([x, y])
    out = []
    for s in (x, y):
        own = np.arange(1, s.size + 1) if within_ties else midranks(s, s)
        out.append(float(np.sum((2 * (midranks(pooled, s) - own)) ** 2)))
    return out[0], out[1]


def cvm_exact_counts(m, n):
    """Twin of ``cvm_exact_counts``: walk each of the ``C(m + n, m)`` paths.

    For tiny sizes only.

    Parameters
    ----------
    m, n : int
        The sample sizes.

    Returns
    -------
    values : ndarray of int64
        The distinct values of ``sum (a v - b u)**2`` over the points of a
        path, sorted.
    counts : ndarray of int64
        How many paths have each value.
    """
    lcm = math.lcm(m, n)
    a, b = lcm // m, lcm // n
    freq = Counter()
    for xs in itertools.combinations(range(m + n), m):
        chosen = set(xs)
        u = v = 0
        total = 0
        for pos in range(m + n):
            if pos in chosen:
                v += 1
            else:
                u += 1
            total += (a * v - b * u) ** 2
        freq[total] += 1
    keys = sorted(freq)
    return np.array(keys, dtype=np.int64), np.array([freq[k] for k in keys], dtype=np.int64)


def ad_midrank_sum(ref, bat):
    """Twin of ``ad_midrank_sum``, from ``np.unique`` of the pooled sample.

    Parameters
    ----------
    ref, bat : array-like of shape (n,) and (m,)
        The two samples.

    Returns
    -------
    float
        The sum over the pooled distinct values of eq. 7 of Scholz and
        Stephens (1987), for the reference sample.
    """
    x = np.sort(np.asarray(ref, dtype=np.float64))
    y = np.asarray(bat, dtype=np.float64)
    z, tied = np.unique(np.concatenate([x, y]), return_counts=True)
    big_n = x.size + y.size
    b = np.cumsum(tied) - tied / 2
    m = (
        np.searchsorted(x, z, side="left")
        + (np.searchsorted(x, z, side="right") - np.searchsorted(x, z, side="left")) / 2
    )
    terms = tied / big_n * (big_n * m - b * x.size) ** 2 / (b * (big_n - b) - big_n * tied / 4)
    return float(np.sum(terms))


def wasserstein_sum(ref, bat):
    """Twin of ``wasserstein_sum``: the area between the two ECDFs.

    Parameters
    ----------
    ref, bat : array-like of shape (n,) and (m,)
        The two samples.

    Returns
    -------
    float
        ``sum |F_ref - F_bat| * gap`` over the gaps between consecutive
        pooled distinct values.
    """
    x = np.sort(np.asarray(ref, dtype=np.float64))
    y = np.sort(np.asarray(bat, dtype=np.float64))
    z = np.unique(np.concatenate([x, y]))
    fx = np.searchsorted(x, z, side="right") / x.size
    fy = np.searchsorted(y, z, side="right") / y.size
    return float(np.sum(np.abs(fx - fy)[:-1] * np.diff(z)))


def ad_pooled_counts(ref, bat):
    """Twin of ``ad_pooled_counts``: each sample's counts at the pooled values.

    Parameters
    ----------
    ref, bat : array-like of shape (n,) and (m,)
        The two samples.

    Returns
    -------
    pooled, ref_counts : ndarray of int64
        The pooled counts at the sorted pooled distinct values, and the
        reference's.
    """
    x = np.sort(np.asarray(ref, dtype=np.float64))
    z, pooled = np.unique(
        np.concatenate([x, np.asarray(bat, dtype=np.float64)]), return_counts=True
    )
    ref_counts = np.searchsorted(x, z, side="right") - np.searchsorted(x, z, side="left")
    return pooled.astype(np.int64), ref_counts.astype(np.int64)


def ad_counts_sum(pooled, ref_counts, nr, nb):
    """Twin of ``ad_counts_sum``: eq. 7 of Scholz and Stephens from the counts.

    Parameters
    ----------
    pooled, ref_counts : array-like of int
        Pooled and reference counts at the pooled distinct values.
    nr, nb : int
        The sample sizes.

    Returns
    -------
    float
        ``sum l / N (N M - B nr)**2 / (B (N - B) - N l / 4)``, ``np.sum`` of
        the terms.
    """
    tied = np.asarray(pooled, dtype=np.float64)
    a = np.asarray(ref_counts, dtype=np.float64)
    big_n = nr + nb
    b = np.cumsum(tied) - tied / 2
    m = np.cumsum(a) - a / 2
    terms = tied / big_n * (big_n * m - b * nr) ** 2 / (b * (big_n - b) - big_n * tied / 4)
    return float(np.sum(terms))


def _split_sum(codes, pooled, chosen, nr, nb):
    """The sum of the split whose reference is the pooled values at ``chosen``."""
    ref_counts = np.bincount(codes[list(chosen)], minlength=pooled.size)
    return ad_counts_sum(pooled, ref_counts, nr, nb)


def ad_exact_hits(ref, bat):
    """Twin of ``ad_exact_hits``: every choice of the reference's positions.

    For tiny samples only.

    Parameters
    ----------
    ref, bat : array-like of shape (n,) and (m,)
        The two samples.

    Returns
    -------
    observed : float
        The observed sum.
    hits : int
        How many of the ``C(n + m, n)`` splits have a sum at least
        ``observed - 100 eps |observed|``.
    """
    pooled, ref_counts = ad_pooled_counts(ref, bat)
    nr, nb = len(ref), len(bat)
    codes = np.repeat(np.arange(pooled.size), pooled)
    observed = ad_counts_sum(pooled, ref_counts, nr, nb)
    floor = observed - 100 * np.finfo(float).eps * abs(observed)
    hits = sum(
        _split_sum(codes, pooled, c, nr, nb) >= floor
        for c in itertools.combinations(range(nr + nb), nr)
    )
    return observed, int(hits)


def ad_permutation_hits(ref, bat, n_draws, rng):
    """Twin of ``ad_permutation_hits``, drawing splits with numpy.

    Parameters
    ----------
    ref, bat : array-like of shape (n,) and (m,)
        The two samples.
    n_draws : int
        How many random splits.
    rng : numpy.random.Generator
        Where they come from.

    Returns
    -------
    observed : float
        The observed sum.
    hits : int
        How many draws have a sum at least ``observed - 100 eps
        |observed|``.
    """
    pooled, ref_counts = ad_pooled_counts(ref, bat)
    nr, nb = len(ref), len(bat)
    codes = np.repeat(np.arange(pooled.size), pooled)
    observed = ad_counts_sum(pooled, ref_counts, nr, nb)
    floor = observed - 100 * np.finfo(float).eps * abs(observed)
    hits = sum(
        _split_sum(codes, pooled, rng.permutation(nr + nb)[:nr], nr, nb) >= floor
        for _ in range(n_draws)
    )
    return observed, int(hits)
