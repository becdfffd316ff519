"""Two-sample statistics of one numeric column: Cramér-von Mises,
Anderson-Darling, Wasserstein, and Jensen-Shannon on binned counts.

Each equals scipy's function of the same test (the tests compare them on
random, tie-heavy and tiny samples):

============================  ==============================================
here                          scipy
============================  ==============================================
:func:`cvm_2samp`             ``scipy.stats.cramervonmises_2samp``
:func:`anderson_2samp`        ``scipy.stats.anderson_ksamp`` of two samples,
                              ``variant="midrank"``: the table's p-value,
                              or with ties the permutation p-value
                              (``method=PermutationMethod()``)
:func:`wasserstein_1d`        ``scipy.stats.wasserstein_distance``, unweighted
:func:`jensenshannon_bins`    ``scipy.spatial.distance.jensenshannon`` of the
                              normalized counts
============================  ==============================================

A drift detector compares one reference with many batches, so the reference
is prepared once by :func:`sorted_sample` (sorted, its ties counted) and
each batch costs only its own sort and a pass that reads the reference
where it must: O(m log(n / m)) for Cramér-von Mises (a galloping search of
each distinct batch value in the reference, no pooled ranking), O(d + m)
for Anderson-Darling and Wasserstein (one walk over the d distinct
reference values), and O(R (min(n, m) + d)) for Anderson-Darling's
permutation p-value of R random splits. scipy sorts and ranks the pooled
sample on every call (on every split of a permutation test).
The kernels are in :mod:`mlpipe.drift._twosample_kernels`.

One departure is offered, not taken by default: scipy's Cramér-von Mises
statistic counts a sample's ties among its own values as differences
between the samples, which on a column of few distinct values rejects a
true null hypothesis nearly always; ``cvm_2samp(..., ties="midrank")``
counts only the ties across the samples.

The samples must be 1-D, non-empty and finite: a caller drops missing
values first (the detectors report the missing rate separately); NaN or an
infinity raises ``ValueError``. Where scipy's statistic is undefined (too
few values) these functions return NaN instead of raising or warning, so
that a detector scoring many columns can report the column and go on.
"""

import functools
import math
from typing import NamedTuple

import numpy as np
from scipy import special

from mlpipe.drift._twosample_kernels import (
    ad_exact_hits,
    ad_midrank_sum,
    ad_permutation_hits,
    ad_pooled_counts,
    cvm_exact_counts,
    cvm_rank_sums,
    wasserstein_sum,
)

CVM_METHODS = ("auto", "exact", "asymptotic")
CVM_TIES = ("scipy", "midrank")
# scipy's 'auto': the exact p-value when both samples have at most this many values
CVM_EXACT_UP_TO = 20

# Scholz and Stephens (1987), table 2, for k = 2 samples (m = k - 1 = 1), as in
# scipy.stats.anderson_ksamp: the critical values of the standardized statistic
# at the significance levels below, and the quadratic fit of log(level) on them
# that interpolates a p-value between the ends of the table.
AD_SIGNIFICANCE_LEVELS = np.array([0.25, 0.1, 0.05, 0.025, 0.01, 0.005, 0.001])
AD_CRITICAL_VALUES = (
    np.array([0.675, 1.281, 1.645, 1.96, 2.326, 2.573, 3.085])
    + np.array([-0.245, 0.25, 0.678, 1.149, 1.822, 2.364, 3.615]) / math.sqrt(1)
    + np.array([-0.105, -0.305, -0.362, -0.391, -0.396, -0.345, -0.154]) / 1
)
_AD_FIT = np.polyfit(AD_CRITICAL_VALUES, np.log(AD_SIGNIFICANCE_LEVELS), 2)
AD_METHODS = ("auto", "table", "permutation")
# Anderson-Darling's permutation p-value: random splits drawn (the p-value is a
# multiple of 1 / (AD_N_RESAMPLES + 1)) unless there are fewer splits than this,
# then all of them; the generator is seeded, so a pair of samples always gets
# the same p-value
AD_N_RESAMPLES = 1999
AD_SEED = 20240613

# Below this |p - q| / (p + q), a bin's Jensen-Shannon term is summed as its
# series in d**2 (the direct form cancels to d**2 from terms of size d).
_JS_SERIES_BELOW = 0.1
_JS_SERIES = np.array([1.0 / (k * (2 * k - 1)) for k in range(9, 0, -1)])


class SortedSample(NamedTuple):
    """A sample prepared for many two-sample comparisons.

    Made by :func:`sorted_sample`; kept by a detector as its reference.

    Parameters
    ----------
    distinct : ndarray of shape (n_distinct,)
        The distinct values, sorted ascending (float64).
    cum : ndarray of shape (n_distinct,) or (0,)
        ``cum[i]`` values are ``<= distinct[i]`` (int64); empty when every
        value is distinct, so that ``distinct`` is the sorted sample itself
        and nothing is stored twice.
    n : int
        The sample size.
    ties : float
        ``sum c (c**2 - 1) / 3`` over the distinct values of multiplicity
        ``c``: what the sample's own ties add to Cramér-von Mises' rank sum.
    """

    distinct: np.ndarray
    cum: np.ndarray
    n: int
    ties: float


class CramerVonMisesResult(NamedTuple):
    """Result of :func:`cvm_2samp`.

    Parameters
    ----------
    statistic : float
        The Cramér-von Mises statistic ``T`` (Anderson 1962, eq. 9).
    pvalue : float
        Its p-value, exact or asymptotic as scipy chooses.
    """

    statistic: float
    pvalue: float


class AndersonResult(NamedTuple):
    """Result of :func:`anderson_2samp`.

    Parameters
    ----------
    statistic : float
        The standardized two-sample Anderson-Darling statistic (midrank).
    pvalue : float
        The p-value, by ``method``.
    pvalue_bound : int
        0 when ``pvalue`` is interpolated in the table or a permutation
        p-value; 1 when the table's p-value is capped (the true p-value is
        at least 0.25); -1 when it is floored (at most 0.001). scipy warns
        in the last two cases; this function does not, and says so here
        instead.
    method : {"table", "permutation", "exact"}
        How the p-value was computed: interpolated in Scholz and Stephens'
        table (scipy's default), a Monte Carlo permutation p-value, or the
        exact permutation p-value (every split enumerated).
    """

    statistic: float
    pvalue: float
    pvalue_bound: int
    method: str


def _finite_1d(values, name):
    """Check that a sample is 1-D, non-empty and finite.

    Parameters
    ----------
    values : array-like
        The sample.
    name : str
        How the error messages call it.

    Returns
    -------
    ndarray of float64
        ``values`` as an array (not copied when it already is one).
    """
    x = np.asarray(values, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got an array of shape {x.shape}.")
    if x.size == 0:
        raise ValueError(f"{name} is empty: a two-sample statistic needs values on both sides.")
    bad = ~np.isfinite(x)
    if bad.any():
        where = np.flatnonzero(bad)
        raise ValueError(
            f"{name} has {where.size} non-finite value(s) (NaN or infinite) among {x.size}, "
            f"first at position(s) {where[:5].tolist()}: {x[where[:3]].tolist()}. Drop "
            "missing values before the test (the detectors report the missing rate on "
            "their own)."
        )
    return x


def sorted_sample(values):
    """Prepare a sample (a reference) for many two-sample comparisons.

    Sorts the values once and counts their ties; every statistic of this
    module then compares a batch with the result without sorting or
    ranking the reference again.

    Parameters
    ----------
    values : array-like of shape (n,)
        The sample: finite, at least one value.

    Returns
    -------
    SortedSample
        The distinct sorted values, their cumulative counts (empty when all
        are distinct), the size and the sum of the ties' rank terms.

    Raises
    ------
    ValueError
        If ``values`` is not 1-D, is empty or holds NaN or an infinity.

    See Also
    --------
    cvm_2samp, anderson_2samp, wasserstein_1d : The statistics that use it.

    Examples
    --------
    >>> from mlpipe.drift._twosample import sorted_sample
    >>> s = sorted_sample([3.0, 1.0, 3.0, 2.0])
    >>> s.distinct.tolist(), s.cum.tolist(), s.n, s.ties
    ([1.0, 2.0, 3.0], [1, 2, 4], 4, 2.0)
    """
    x = np.sort(_finite_1d(values, "the reference sample"))
    n = x.size
    ends = np.append(np.flatnonzero(x[1:] != x[:-1]) + 1, n)
    if ends.size == n:
        return SortedSample(x, np.empty(0, dtype=np.int64), n, 0.0)
    counts = np.diff(ends, prepend=0).astype(np.float64)
    multiple = counts[counts > 1]
    # integers, exact while the sum stays below 2**53
    ties = float(np.sum(multiple * (multiple * multiple - 1.0) / 3.0))
    return SortedSample(np.ascontiguousarray(x[ends - 1]), ends.astype(np.int64), n, ties)


def _reference(ref):
    """Return the reference as a :class:`SortedSample`.

    Parameters
    ----------
    ref : SortedSample or array-like
        A prepared reference, or values to prepare.

    Returns
    -------
    SortedSample
        ``ref`` itself, or :func:`sorted_sample` of it.
    """
    return ref if isinstance(ref, SortedSample) else sorted_sample(ref)


def _batch(bat, batch_sorted):
    """Return the batch sorted, checked as :func:`_finite_1d` does.

    Parameters
    ----------
    bat : array-like
        The batch.
    batch_sorted : bool
        Whether it is sorted already (then only checked).

    Returns
    -------
    ndarray of float64
        The sorted batch, C-contiguous (a new array unless ``batch_sorted``).
    """
    y = _finite_1d(bat, "the batch sample")
    if not batch_sorted:
        return np.sort(y)
    if y.size > 1 and not (y[1:] >= y[:-1]).all():
        raise ValueError("batch_sorted=True but the batch sample is not sorted ascending.")
    return np.ascontiguousarray(y)


_SAMPLE_DOC = """ref : SortedSample or array-like of shape (n,)
        The reference, best prepared once by :func:`sorted_sample` (an
        array is prepared on the fly). Finite values.
    bat : array-like of shape (m,)
        The batch. Finite values.
    batch_sorted : bool, default=False
        Whether ``bat`` is already sorted ascending (then it is only
        checked, not sorted again)."""


def _fill_doc(func):
    """Put the shared parameter paragraphs into a docstring's ``{samples}``.

    Parameters
    ----------
    func : callable
        A function of this module whose docstring has ``{samples}``.

    Returns
    -------
    callable
        ``func``, its docstring filled in.
    """
    func.__doc__ = func.__doc__.replace("{samples}", _SAMPLE_DOC)
    return func


@_fill_doc
def cvm_2samp(ref, bat, *, batch_sorted=False, method="auto", ties="scipy"):
    """Two-sample Cramér-von Mises test, equal to scipy's.

    The statistic ``T = U / (n m (n + m)) - (4 n m - 1) / (6 (n + m))`` with
    ``U`` from the pooled midranks (Anderson 1962), and its p-value as
    ``scipy.stats.cramervonmises_2samp(ref, bat, method=method)`` computes
    them.

    Parameters
    ----------
    {samples}
    method : {"auto", "exact", "asymptotic"}, default="auto"
        The p-value: "exact" enumerates the null distribution (Xiao, Gordon
        and Yakovlev 2006; no ties assumed, as scipy), "asymptotic" uses the
        limiting distribution of the one-sample statistic after Anderson's
        standardization. "auto", scipy's rule: exact when both samples have
        at most 20 values.
    ties : {"scipy", "midrank"}, default="scipy"
        How ties within a sample count. "scipy": as scipy, each value's
        pooled midrank is compared with its index within its own sample, so
        a sample's own ties add to the statistic as if they were differences
        between the samples. On columns of few distinct values that rejects
        a true null hypothesis nearly always (measured: all of 300 pairs of
        samples of 1,000 and 300 values from one 5-valued distribution got
        p < 0.05, from scipy and from this function alike). "midrank": the
        pooled midrank is compared with the midrank within the sample, so
        only ties across the samples count; the p-value, computed as for
        continuous data, is then conservative under ties (none of those 300
        below 0.05). Without ties the two are the same.

    Returns
    -------
    CramerVonMisesResult
        ``(statistic, pvalue)``; both NaN when a sample has fewer than two
        values (scipy returns NaN there too, with a warning).

    Raises
    ------
    ValueError
        If a sample is empty or not finite, ``method`` or ``ties`` is
        unknown, or an exact p-value would need more than 2**62 lattice
        paths.

    See Also
    --------
    scipy.stats.cramervonmises_2samp : The oracle.
    sorted_sample : Prepare the reference once.

    Notes
    -----
    With ``a`` tied reference and ``b`` tied batch values at a point and
    ``A``, ``B`` values of each sample below it, the rank sum of the
    reference gains ``a (2 B + b)**2 / 4`` plus a term of the reference's
    own ties (kept in the :class:`SortedSample`), so only the distinct
    batch values need a search in the reference. The exact null
    distribution is computed once per pair of sizes and cached.

    scipy's asymptotic p-value is ``1 - CDF`` of a series truncated at
    terms below 1e-7, and its docstring warns that the CDF is inaccurate
    far in the tail: below ~1e-9 its p-values are rounding noise (between
    ~1e-12 and ~1e-6) and no longer decrease as the statistic grows (at
    20,000 vs 3,000 values, ``T = 49`` gets 8e-9 and ``T = 2.3`` gets
    2e-6). Being equal to scipy, this function returns the same values:
    read an asymptotic p-value below 1e-8 as "below 1e-8", and rank strong
    drifts by the statistic, not the p-value.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy import stats
    >>> from mlpipe.drift._twosample import cvm_2samp, sorted_sample
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=1000)
    >>> ref = sorted_sample(x)
    >>> bat = rng.normal(0.2, size=300)
    >>> res = cvm_2samp(ref, bat)
    >>> oracle = stats.cramervonmises_2samp(x, bat)
    >>> (res.statistic, res.pvalue) == (oracle.statistic, oracle.pvalue)
    True
    >>> round(res.statistic, 4), res.pvalue < 0.05
    (1.6312, True)
    """
    if method not in CVM_METHODS:
        raise ValueError(f"method must be one of {CVM_METHODS}, got {method!r}.")
    if ties not in CVM_TIES:
        raise ValueError(f"ties must be one of {CVM_TIES}, got {ties!r}.")
    ref = _reference(ref)
    y = _batch(bat, batch_sorted)
    nx, ny = ref.n, y.size
    if nx < 2 or ny < 2:
        return CramerVonMisesResult(math.nan, math.nan)
    if method == "auto":
        method = "asymptotic" if max(nx, ny) > CVM_EXACT_UP_TO else "exact"
    within = ties == "scipy"
    sx, sy = cvm_rank_sums(ref.distinct, ref.cum, nx, ref.ties if within else 0.0, y, ny, within)
    # the kernel returns 4 x the rank sums (integers); / 4 is exact
    u = nx * np.float64(sx / 4.0) + ny * np.float64(sy / 4.0)
    k, big_n = nx * ny, nx + ny
    t = u / (k * big_n) - (4 * k - 1) / (6 * big_n)
    if method == "exact":
        p = _cvm_exact_pvalue(float(u), nx, ny)
    else:
        p = _cvm_asymptotic_pvalue(t, big_n, nx, ny, k)
    return CramerVonMisesResult(float(t), float(p))


@functools.lru_cache(maxsize=64)
def _cvm_exact_table(m, n):
    """Tabulate the exact null distribution of Cramér-von Mises' statistic.

    Parameters
    ----------
    m, n : int
        The sample sizes.

    Returns
    -------
    values : ndarray of int64
        The statistic's values on the lattice's integer scale, sorted.
    tail : ndarray of int64
        ``tail[i]``: how many of the ``C(m + n, m)`` paths have a value of
        at least ``values[i]``; one entry more (0) at the end.
    """
    if math.comb(m + n, m) >= 2**62:
        raise ValueError(
            f"the exact Cramér-von Mises p-value of samples of {m} and {n} values needs "
            f"C({m + n}, {m}) lattice paths, too many to count in int64; use "
            "method='asymptotic'."
        )
    values, counts = cvm_exact_counts(m, n)
    tail = np.append(np.cumsum(counts[::-1])[::-1], 0)
    return values, tail


def _cvm_exact_pvalue(u, m, n):
    """Compute the exact p-value of Cramér-von Mises' ``U``, as scipy does.

    The share of lattice paths whose value reaches ``zeta``, ``U`` on the
    lattice's integer scale (Xiao et al. 2006, eq. 2, with Anderson's
    eq. 9), computed with scipy's operations so that it is the same float.

    Parameters
    ----------
    u : float
        The statistic ``U`` (Anderson 1962, eq. 10).
    m, n : int
        The sample sizes.

    Returns
    -------
    float
        The p-value.
    """
    values, tail = _cvm_exact_table(m, n)
    lcm = np.lcm(m, n)
    mn = m * n
    zeta = lcm**2 * (m + n) * (6 * u - mn * (4 * mn - 1)) // (6 * mn**2)
    i = int(np.searchsorted(values, zeta, side="left"))
    return tail[i] / math.comb(m + n, m)


def _cvm_asymptotic_pvalue(t, big_n, nx, ny, k):
    """Compute the asymptotic p-value of Cramér-von Mises' ``T``, as scipy does.

    Anderson's (1962) standardization of ``T`` (mean eq. 11, variance eq.
    14, eq. 15), then the limiting one-sample distribution.

    Parameters
    ----------
    t : float
        The statistic ``T``.
    big_n : int
        The pooled size ``nx + ny``.
    nx, ny : int
        The sample sizes.
    k : int
        Their product.

    Returns
    -------
    float
        The p-value.
    """
    et = (1 + 1 / big_n) / 6
    vt = (big_n + 1) * (4 * k * big_n - 3 * (nx**2 + ny**2) - 2 * k)
    vt = vt / (45 * big_n**2 * 4 * k)
    tn = 1 / 6 + (t - et) / math.sqrt(45 * vt)
    if tn < 0.003:  # the CDF is below 1.3e-18 there (scipy's shortcut)
        return 1.0
    return max(1.0 - _cvm_cdf_inf(tn), 0.0)


def _cvm_cdf_inf(x):
    """Evaluate the CDF of the limiting Cramér-von Mises distribution.

    Csörgő and Faraway (1996), eq. 1.3, terms added until one is below 1e-7,
    as scipy does.

    Parameters
    ----------
    x : float
        Where, > 0.

    Returns
    -------
    float
        The CDF at ``x``.
    """
    x = np.float64(x)
    total = np.float64(0.0)
    k = 0
    while True:
        u = math.exp(special.gammaln(k + 0.5) - special.gammaln(k + 1)) / (np.pi**1.5 * np.sqrt(x))
        y = 4 * k + 1
        q = y**2 / (16 * x)
        z = u * math.sqrt(y) * np.exp(-q) * special.kv(0.25, q)
        total = total + z
        if abs(z) < 1e-7:
            return total
        k += 1


@_fill_doc
def anderson_2samp(
    ref,
    bat,
    *,
    batch_sorted=False,
    method="auto",
    n_resamples=AD_N_RESAMPLES,
    random_state=AD_SEED,
):
    """Two-sample Anderson-Darling test (midrank), equal to scipy's.

    The midrank statistic of Scholz and Stephens (1987, eq. 7), standardized
    by its null mean and variance, as ``scipy.stats.anderson_ksamp([ref,
    bat], variant="midrank")`` computes it, and its p-value interpolated in
    their table of critical values (as scipy by default) or from the
    permutation distribution (as scipy with ``method=PermutationMethod()``).

    Parameters
    ----------
    {samples}
    method : {"auto", "table", "permutation"}, default="auto"
        The p-value. "table": interpolated in Scholz and Stephens' table of
        the asymptotic distribution of the continuous-data statistic,
        scipy's default. "permutation": the share of random splits of the
        pooled values into samples of the same sizes whose statistic
        reaches the observed one, ``(1 + hits) / (n_resamples + 1)``, or
        the exact share over every split when there are at most
        ``n_resamples`` of them (as ``scipy.stats.permutation_test``).
        "auto": "permutation" when the pooled sample has ties, else
        "table". The table assumes continuous data: with ties the midrank
        statistic's null variance is larger than the one it is standardized
        by (measured: a standard deviation of 1.26-1.7 instead of 1 on
        columns 60% zeros), so the table's p-value is liberal (7-10% of
        clean splits of such columns below 0.05, 6% on Poisson counts);
        without ties it holds its level (4.3-5.4% of 2,000 splits of normal
        samples, 50 to 1,000 values against 200 to 20,000).
    n_resamples : int, default=1999
        Random splits of the permutation p-value (a multiple of ``1 /
        (n_resamples + 1)``, so never below that: with many columns and a
        Bonferroni correction, raise it).
    random_state : int, default=20240613
        Seed of the random splits: the same samples always get the same
        p-value.

    Returns
    -------
    AndersonResult
        ``(statistic, pvalue, pvalue_bound, method)``. Outside the table
        scipy caps the p-value at 0.25 and floors it at 0.001, with a
        warning; here the same values are returned without a warning, and
        ``pvalue_bound`` (1: capped, -1: floored, 0: interpolated or a
        permutation p-value) says which. All NaN (bound 0, method "table")
        when the pooled sample has fewer than 4 values (scipy divides by
        zero there, or raises an IndexError at 2) or a single distinct
        value (scipy raises ``ValueError``).

    Raises
    ------
    ValueError
        If a sample is empty or not finite, ``method`` is unknown,
        ``n_resamples`` is not a positive integer or ``random_state`` not
        an integer.

    See Also
    --------
    scipy.stats.anderson_ksamp : The oracle.
    scipy.stats.PermutationMethod : scipy's permutation p-value.
    sorted_sample : Prepare the reference once.
    AD_CRITICAL_VALUES : The table, at ``AD_SIGNIFICANCE_LEVELS``.

    Notes
    -----
    Why no extrapolation past the table: the interpolating curve is a
    quadratic in the statistic fitted to seven points; outside them it
    bends back and its values mean nothing. A floored p-value (at most
    0.001) already rejects at every usual level; a capped one (at least
    0.25) never does.

    The statistic depends on the split only through each sample's count at
    each pooled distinct value, so a random split draws the smaller
    sample's positions among the pooled values (O(min(n, m))) and adds the
    ``d`` terms of the pooled distinct values: O(n_resamples (min(n, m) +
    d)) in all. The permuted statistics are compared as scipy's
    ``permutation_test`` compares them (values within 100 machine epsilons
    of the observed one count as reaching it), but the random splits are
    not scipy's: a Monte Carlo p-value differs from scipy's by the Monte
    Carlo error, an exact one is scipy's.

    The statistic's normalizing constants depend on the pooled size alone
    and are computed once per size (with scipy's operations, an O(N) sum);
    the sum of its terms is numpy's pairwise sum, so the statistic is
    scipy's float.

    Examples
    --------
    >>> import numpy as np
    >>> from mlpipe.drift._twosample import anderson_2samp, sorted_sample
    >>> from scipy import stats
    >>> rng = np.random.default_rng(0)
    >>> x = np.round(rng.normal(size=1000), 1)
    >>> bat = np.round(rng.normal(0.1, size=300), 1)
    >>> res = anderson_2samp(sorted_sample(x), bat)
    >>> round(res.statistic, 4), res.method, res.pvalue < 0.05
    (3.6827, 'permutation', True)
    >>> oracle = stats.anderson_ksamp([x, bat], variant="midrank")
    >>> bool(res.statistic == oracle.statistic)
    True
    >>> table = anderson_2samp(sorted_sample(x), bat, method="table")
    >>> bool(table.pvalue == oracle.pvalue), table.method
    (True, 'table')
    """
    if method not in AD_METHODS:
        raise ValueError(f"method must be one of {AD_METHODS}, got {method!r}.")
    if isinstance(n_resamples, bool) or not isinstance(n_resamples, (int, np.integer)):
        raise ValueError(f"n_resamples must be a positive integer, got {n_resamples!r}.")
    if n_resamples < 1:
        raise ValueError(f"n_resamples must be a positive integer, got {n_resamples!r}.")
    if isinstance(random_state, bool) or not isinstance(random_state, (int, np.integer)):
        raise ValueError(
            f"random_state must be an integer (the seed of the splits), got {random_state!r}."
        )
    ref = _reference(ref)
    y = _batch(bat, batch_sorted)
    nr, nb = ref.n, y.size
    big_n = nr + nb
    single = ref.distinct.size == 1 and y[0] == y[-1] == ref.distinct[0]
    if big_n < 4 or single:
        return AndersonResult(math.nan, math.nan, 0, "table")
    s = ad_midrank_sum(ref.distinct, ref.cum, nr, y, nb)
    a2kn = 0.0 + s / nr
    a2kn += s / nb
    a2kn *= (big_n - 1.0) / big_n
    h, g = _ad_harmonics(big_n)
    k = 2
    big_h = 1.0 / nr + 1.0 / nb
    # Scholz and Stephens (1987), eq. 4: the variance of A2kN under the null
    a = (4 * g - 6) * (k - 1) + (10 - 6 * g) * big_h
    b = (2 * g - 4) * k**2 + 8 * h * k + (2 * g - 14 * h - 4) * big_h - 8 * h + 4 * g - 6
    c = (6 * h + 2 * g - 2) * k**2 + (4 * h - 4 * g + 6) * k + (2 * h - 6) * big_h + 4 * h
    d = (2 * h + 6) * k**2 - 4 * h * k
    sigmasq = (a * big_n**3 + b * big_n**2 + c * big_n + d) / (
        (big_n - 1.0) * (big_n - 2.0) * (big_n - 3.0)
    )
    stat = float((a2kn - (k - 1)) / math.sqrt(sigmasq))
    if method != "table":
        pooled, ref_counts = ad_pooled_counts(ref.distinct, ref.cum, nr, y, nb)
        if method == "permutation" or pooled.size < big_n:
            p, how = _ad_permutation_pvalue(pooled, ref_counts, nr, nb, n_resamples, random_state)
            return AndersonResult(stat, p, 0, how)
    if stat < AD_CRITICAL_VALUES.min():
        return AndersonResult(stat, float(AD_SIGNIFICANCE_LEVELS.max()), 1, "table")
    if stat > AD_CRITICAL_VALUES.max():
        return AndersonResult(stat, float(AD_SIGNIFICANCE_LEVELS.min()), -1, "table")
    return AndersonResult(stat, math.exp(np.polyval(_AD_FIT, stat)), 0, "table")


def _ad_permutation_pvalue(pooled, ref_counts, nr, nb, n_resamples, random_state):
    """Compute Anderson-Darling's permutation p-value, as scipy does.

    Parameters
    ----------
    pooled, ref_counts : ndarray of int64
        The pooled counts at the pooled distinct values and the reference's
        (``_twosample_kernels.ad_pooled_counts``).
    nr, nb : int
        The sample sizes.
    n_resamples : int
        Random splits; all of them when there are at most this many.
    random_state : int
        The generator's seed.

    Returns
    -------
    pvalue : float
        ``hits / C(N, nb)`` over every split, else ``(1 + hits) /
        (n_resamples + 1)`` over random ones.
    method : {"exact", "permutation"}
        Which.
    """
    n_splits = math.comb(nr + nb, nb)
    if n_splits <= n_resamples:
        _, hits = ad_exact_hits(pooled, ref_counts, nr, nb)
        return hits / n_splits, "exact"
    seed = int(random_state) % (2**62)
    _, hits = ad_permutation_hits(pooled, ref_counts, nr, nb, int(n_resamples), seed)
    return (1.0 + hits) / (n_resamples + 1.0), "permutation"


@functools.lru_cache(maxsize=32)
def _ad_harmonics(big_n):
    """Compute the sums ``h`` and ``g`` of Scholz and Stephens (1987), eq. 4.

    ``h = sum_{i < N} 1 / i`` and ``g = sum_{i < N - 1} sum_{i < j < N} 1 /
    ((N - i) j)``, with scipy's operations in scipy's order (a cumulative
    sum), so that they are the same floats.

    Parameters
    ----------
    big_n : int
        The pooled size ``N``, at least 4.

    Returns
    -------
    h, g : float
        The two sums.
    """
    hs_cs = (1.0 / np.arange(big_n - 1, 1, -1)).cumsum()
    h = hs_cs[-1] + 1
    g = (hs_cs / np.arange(2, big_n)).sum()
    return h, g


@_fill_doc
def wasserstein_1d(ref, bat, *, batch_sorted=False):
    """Wasserstein-1 distance between two samples, equal to scipy's.

    The area between the two empirical distribution functions, as
    ``scipy.stats.wasserstein_distance(ref, bat)`` computes it (no weights),
    in the units of the values.

    Parameters
    ----------
    {samples}

    Returns
    -------
    float
        The distance, >= 0.

    Raises
    ------
    ValueError
        If a sample is empty or not finite.

    See Also
    --------
    scipy.stats.wasserstein_distance : The oracle.
    sorted_sample : Prepare the reference once.

    Notes
    -----
    Each term ``|F_ref - F_bat| * gap`` is scipy's to the bit; the terms are
    added with a compensated sum, so the result is within a few units in
    the last place of the exact sum of scipy's terms (scipy's own sum is a
    plain dot product).

    Examples
    --------
    >>> from mlpipe.drift._twosample import wasserstein_1d
    >>> float(wasserstein_1d([0.0, 1.0, 3.0], [5.0, 6.0, 8.0]))
    5.0
    """
    ref = _reference(ref)
    y = _batch(bat, batch_sorted)
    return float(wasserstein_sum(ref.distinct, ref.cum, ref.n, y, y.size))


def _two_product(a, b):
    """Multiply exactly: ``a * b = hi + lo`` (Dekker's product, elementwise).

    Parameters
    ----------
    a, b : ndarray of float64
        The factors, broadcast together (magnitudes below ~1e300).

    Returns
    -------
    hi, lo : ndarray of float64
        The rounded product and its rounding error.
    """
    hi = a * b
    c = 134217729.0 * a
    a_hi = c - (c - a)
    a_lo = a - a_hi
    c = 134217729.0 * b
    b_hi = c - (c - b)
    b_lo = b - b_hi
    lo = ((a_hi * b_hi - hi) + a_hi * b_lo + a_lo * b_hi) + a_lo * b_lo
    return hi, lo


def jensenshannon_bins(ref_counts, bat_counts, base=2):
    """Jensen-Shannon distance between two histograms (the PSI bins).

    ``scipy.spatial.distance.jensenshannon(ref_counts, bat_counts, base)``:
    the square root of the mean of the Kullback-Leibler divergences of the
    two normalized histograms from their average. Base 2 (the default)
    puts it in [0, 1].

    Parameters
    ----------
    ref_counts : array-like of shape (n_bins,) or (n_columns, n_bins)
        Reference counts per bin (non-negative, finite, a positive total per
        row); a 2-D array holds one histogram per row.
    bat_counts : array-like of the same shape
        Batch counts over the same bins.
    base : float or None, default=2
        The logarithm's base; None: natural logarithm (scipy's default).

    Returns
    -------
    float or ndarray of shape (n_columns,)
        The distance of each pair of histograms.

    Raises
    ------
    ValueError
        If the shapes differ, a count is negative or not finite, a histogram
        is empty or sums to 0, or ``base`` is not positive and != 1.

    See Also
    --------
    scipy.spatial.distance.jensenshannon : The oracle.

    Notes
    -----
    Each bin adds ``(p + q) / 2 * f(d)`` (``p``, ``q``: the shares) with
    ``d = (p - q) / (p + q)``, computed from the counts with exact products, and
    ``f(d) = (1 + d) log(1 + d) + (1 - d) log(1 - d) >= 0``, summed as its
    series ``sum_k d**(2k) / (k (2k - 1))`` for ``|d| < 0.1``. This is the
    same quantity as scipy's, without scipy's cancellation: scipy adds terms
    of size ``|p - q|`` to get a sum of size ``(p - q)**2``, so on nearly
    equal histograms it loses digits, and returns NaN when rounding makes
    the sum negative (a square root of a negative number). Elsewhere the two
    agree to ~1e-15.

    Examples
    --------
    >>> from mlpipe.drift._twosample import jensenshannon_bins
    >>> round(float(jensenshannon_bins([10, 0], [0, 10])), 12)
    1.0
    >>> jensenshannon_bins([[5, 5], [1, 3]], [[5, 5], [1, 3]]).tolist()
    [0.0, 0.0]
    """
    p = np.asarray(ref_counts, dtype=np.float64)
    q = np.asarray(bat_counts, dtype=np.float64)
    if p.shape != q.shape or p.ndim not in (1, 2) or p.shape[-1] == 0:
        raise ValueError(
            "ref_counts and bat_counts must be histograms over the same non-empty bins "
            f"(1-D, or 2-D with one per row); got shapes {p.shape} and {q.shape}."
        )
    for name, v in (("ref_counts", p), ("bat_counts", q)):
        if not np.isfinite(v).all() or (v < 0).any():
            raise ValueError(f"{name} must be finite and non-negative counts.")
        if (v.sum(axis=-1) <= 0).any():
            raise ValueError(f"{name} has a histogram with no counts; nothing to compare.")
    if base is not None and not (base > 0 and base != 1):
        raise ValueError(f"base must be positive and != 1 (or None), got {base!r}.")
    big_p = p.sum(axis=-1, keepdims=True)
    big_q = q.sum(axis=-1, keepdims=True)
    # d = (p / P - q / Q) / (p / P + q / Q) = (p Q - q P) / (p Q + q P), the
    # products exact as double-doubles: shares rounded first would leave d
    # with an error of eps / |d| relative, large on nearly equal histograms
    pq_hi, pq_lo = _two_product(p, big_q)
    qp_hi, qp_lo = _two_product(q, big_p)
    den = pq_hi + qp_hi
    num = (pq_hi - qp_hi) + (pq_lo - qp_lo)
    d = np.divide(num, den, out=np.zeros_like(den), where=den > 0)
    d = np.clip(d, -1.0, 1.0)
    s = p / big_p + q / big_q
    small = np.abs(d) < _JS_SERIES_BELOW
    d2 = d * d
    series = d2 * np.polyval(_JS_SERIES, d2)
    with np.errstate(divide="ignore", invalid="ignore"):
        direct = special.xlog1py(1 + d, d) + special.xlog1py(1 - d, -d)
    f = np.where(small, series, direct)
    js = np.sum(s / 2 * f, axis=-1)
    if base is not None:
        js = js / np.log(base)
    out = np.sqrt(js / 2.0)
    return float(out) if out.ndim == 0 else out
