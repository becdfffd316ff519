"""Cramér-von Mises, Anderson-Darling, Wasserstein and Jensen-Shannon
(``mlpipe.drift._twosample``) against scipy, and their numba kernels against
the numpy twins of ``mlpipe.drift._twosample_reference``.

Tolerances, and why:

- Cramér-von Mises: statistic and exact p-value bit-equal (``==``). Every
  rank sum is an integer (in quarters) below 2**53 at these sizes, so ours
  and scipy's are the same float, and the rest is scipy's formula; the exact
  p-value is a ratio of integer path counts. Asymptotic p-value: within
  1e-14 relative (a series of Bessel functions computed with scipy's
  operations; bit-equal in practice).
- Anderson-Darling: statistic bit-equal, and the table's p-value (the
  interpolation of that statistic, capped / floored exactly where scipy
  warns that it is). The terms are scipy's to the bit and are added in
  numpy's pairwise order. The exact permutation p-value (every split,
  where there are at most ``n_resamples``) bit-equal to scipy's
  ``PermutationMethod``; the Monte Carlo one within its binomial error of
  the exact one (the random splits are not scipy's).
- Wasserstein: 1e-13 relative (scipy's terms to the bit, added in another
  order).
- Jensen-Shannon: 1e-14 relative against a 60-digit ``decimal`` oracle
  everywhere; against scipy 1e-11 relative where the distance is above 1e-4
  (scipy's own cancellation error grows as the distance shrinks, and it
  returns NaN on some nearly equal histograms: shown below).
- Kernels against twins: equal on integers, 1e-14 relative on sums.
"""

import decimal
import math
import os
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import stats
from scipy.spatial.distance import jensenshannon

from mlpipe.drift import _twosample_kernels as kernels
from mlpipe.drift import _twosample_reference as twins
from mlpipe.drift._twosample import (
    AD_CRITICAL_VALUES,
    SortedSample,
    anderson_2samp,
    cvm_2samp,
    jensenshannon_bins,
    sorted_sample,
    wasserstein_1d,
)

CVM_P_RTOL = 1e-14
W_RTOL = 1e-13
JS_ORACLE_RTOL = 1e-14
JS_SCIPY_RTOL = 1e-11
TWIN_RTOL = 1e-14


# ------------------------------------------------------------------ inputs


def _samples(kind, n1, n2, rng):
    if kind == "random":
        return rng.normal(size=n1), rng.normal(0.2, 1.1, size=n2)
    if kind == "rounded":
        return np.round(rng.normal(size=n1), 1), np.round(rng.normal(0.1, size=n2), 1)
    if kind == "integer":
        return rng.poisson(3, n1).astype(float), rng.poisson(3.5, n2).astype(float)
    if kind == "mostly_zero":
        a = np.where(rng.random(n1) < 0.9, 0.0, rng.exponential(size=n1))
        b = np.where(rng.random(n2) < 0.8, 0.0, rng.exponential(size=n2))
        return a, b
    if kind == "two_values":
        return (rng.random(n1) < 0.3).astype(float), (rng.random(n2) < 0.4).astype(float)
    if kind == "heavy":
        return rng.standard_cauchy(n1) * 1e6, rng.standard_cauchy(n2) * 1e6
    raise ValueError(kind)


KINDS = ["random", "rounded", "integer", "mostly_zero", "two_values", "heavy"]
SIZES = [(2, 2), (3, 7), (20, 20), (21, 5), (60, 60), (500, 37), (37, 500), (3000, 1000)]
TINY = [(m, n) for m in range(1, 11) for n in range(1, 11)]


def _pooled_distinct(a, b):
    return np.unique(np.concatenate([a, b])).size


# ----------------------------------------------------------- scipy oracles


def scipy_cvm(a, b, method="auto"):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SmallSampleWarning below 2 values
        res = stats.cramervonmises_2samp(a, b, method=method)
    return float(res.statistic), float(res.pvalue)


def scipy_ad(a, b):
    """scipy's statistic, p-value and whether it warned that the p-value is
    capped (1) or floored (-1)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = stats.anderson_ksamp([a, b], variant="midrank")
    text = " ".join(str(w.message) for w in caught)
    bound = 1 if "p-value capped" in text else -1 if "p-value floored" in text else 0
    return float(res.statistic), float(res.pvalue), bound


def assert_cvm_equals_scipy(a, b, method="auto"):
    s, p = cvm_2samp(a, b, method=method)
    s_ref, p_ref = scipy_cvm(a, b, method)
    if np.isnan(s_ref):
        assert np.isnan(s) and np.isnan(p)
        return
    assert s == s_ref, (s, s_ref)
    exact = method == "exact" or (method == "auto" and max(len(a), len(b)) <= 20)
    if exact:
        assert p == p_ref, (p, p_ref)
    else:
        assert p == pytest.approx(p_ref, rel=CVM_P_RTOL, abs=1e-300)


def assert_ad_equals_scipy(a, b):
    """The statistic and the table's p-value are scipy's floats."""
    s, p, bound, method = anderson_2samp(a, b, method="table")
    s_ref, p_ref, bound_ref = scipy_ad(a, b)
    if np.isnan(s_ref):
        assert np.isnan(s) and np.isnan(p)
        return
    assert s == s_ref, (s, s_ref)
    assert (bound, method) == (bound_ref, "table")
    assert p == p_ref, (p, p_ref)  # the cap or the floor itself where bound != 0


# --------------------------------------------------- the statistics vs scipy


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("n1, n2", SIZES)
def test_cvm_equals_scipy(kind, n1, n2):
    rng = np.random.default_rng(n1 * 7919 + n2)
    a, b = _samples(kind, n1, n2, rng)
    assert_cvm_equals_scipy(a, b)


@pytest.mark.parametrize("kind", ["random", "rounded", "two_values"])
def test_cvm_tiny_exact_equals_scipy(kind):
    # every pair of sizes 1..10: the exact p-value path (sizes 1 give NaN)
    rng = np.random.default_rng(len(kind))
    for n1, n2 in TINY:
        a, b = _samples(kind, n1, n2, rng)
        assert_cvm_equals_scipy(a, b)


@pytest.mark.parametrize("method", ["exact", "asymptotic"])
@pytest.mark.parametrize("n1, n2", [(2, 3), (8, 13), (20, 20), (15, 24)])
def test_cvm_methods_equal_scipy(method, n1, n2):
    rng = np.random.default_rng(n1 + 100 * n2)
    for kind in ("random", "integer"):
        assert_cvm_equals_scipy(*_samples(kind, n1, n2, rng), method=method)


def test_cvm_large_and_extreme_equal_scipy():
    rng = np.random.default_rng(5)
    a = rng.normal(size=20000)
    assert_cvm_equals_scipy(a, rng.normal(size=3000))
    # far in the tail (T = 49): scipy's series returns rounding noise (8e-9,
    # more than at T = 2.3); ours is equal to it all the same
    assert_cvm_equals_scipy(a, rng.normal(0.5, size=3000))
    assert_cvm_equals_scipy(a, a[:4000] + 1e-9)  # nearly the same values
    assert_cvm_equals_scipy(np.zeros(50), np.ones(40))  # fully separated


def cvm_within_midranks(a, b):
    """The statistic with midranks within each sample as well (the closed
    scipy PR #3659's formula, from ``scipy.stats.rankdata``) and scipy's own
    p-value functions applied to it."""
    from scipy._lib._array_api import array_namespace
    from scipy.stats._hypotests import _pval_cvm_2samp_asymptotic, _pval_cvm_2samp_exact

    nx, ny = len(a), len(b)
    r = stats.rankdata(np.concatenate([a, b]))
    u = nx * np.sum((r[:nx] - stats.rankdata(a)) ** 2) + ny * np.sum(
        (r[nx:] - stats.rankdata(b)) ** 2
    )
    k, big_n = nx * ny, nx + ny
    t = u / (k * big_n) - (4 * k - 1) / (6 * big_n)
    if max(nx, ny) <= 20:
        return float(t), float(_pval_cvm_2samp_exact(u, nx, ny))
    t = np.asarray(t)
    return float(t), float(_pval_cvm_2samp_asymptotic(t, big_n, nx, ny, k, xp=array_namespace(t)))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("n1, n2", [(2, 2), (7, 12), (20, 20), (60, 60), (3000, 1000)])
def test_cvm_within_midranks_equals_oracle(kind, n1, n2):
    rng = np.random.default_rng(n1 * 5 + n2)
    a, b = _samples(kind, n1, n2, rng)
    s, p = cvm_2samp(a, b, ties="midrank")
    s_ref, p_ref = cvm_within_midranks(a, b)
    assert s == s_ref
    assert p == pytest.approx(p_ref, rel=CVM_P_RTOL, abs=1e-300)
    if np.unique(a).size == a.size and np.unique(b).size == b.size:
        assert (s, p) == cvm_2samp(a, b)  # no ties within a sample: the same test


def test_cvm_ties_within_a_sample():
    # one 5-valued distribution on both sides: scipy's statistic counts each
    # sample's own ties and rejects every time; within-sample midranks do not
    rng = np.random.default_rng(9)
    scipy_like, midrank = [], []
    for _ in range(20):
        a, b = rng.integers(0, 5, 1000).astype(float), rng.integers(0, 5, 300).astype(float)
        scipy_like.append(cvm_2samp(a, b).pvalue)
        midrank.append(cvm_2samp(a, b, ties="midrank").pvalue)
    assert max(scipy_like) < 1e-3
    assert min(midrank) > 0.05


def test_cvm_size_one_is_nan():
    # scipy returns NaN with a SmallSampleWarning; here NaN without warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert all(np.isnan(cvm_2samp([1.0], [1.0, 2.0, 3.0])))
        assert all(np.isnan(cvm_2samp([1.0, 2.0], [3.0])))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("n1, n2", SIZES)
def test_anderson_equals_scipy(kind, n1, n2):
    rng = np.random.default_rng(n1 * 31 + n2)
    a, b = _samples(kind, n1, n2, rng)
    if _pooled_distinct(a, b) < 2:
        a[0] += 1.0
    assert_ad_equals_scipy(a, b)


def test_anderson_tiny_equals_scipy():
    rng = np.random.default_rng(11)
    for kind in ("random", "rounded", "integer"):
        for n1, n2 in TINY:
            if n1 + n2 < 4:
                continue
            a, b = _samples(kind, n1, n2, rng)
            if _pooled_distinct(a, b) < 2:
                continue
            assert_ad_equals_scipy(a, b)


def test_anderson_capped_and_floored_like_scipy():
    rng = np.random.default_rng(3)
    a = rng.normal(size=400)
    # the same sample twice (ties: method="auto" would permute)
    capped = anderson_2samp(a, a[::-1].copy(), method="table")
    floored = anderson_2samp(a, rng.normal(1.0, size=300))
    assert capped.pvalue_bound == 1 and capped.pvalue == 0.25
    assert floored.pvalue_bound == -1 and floored.pvalue == 0.001
    assert capped.statistic < AD_CRITICAL_VALUES.min() < AD_CRITICAL_VALUES.max()
    assert floored.statistic > AD_CRITICAL_VALUES.max()
    assert_ad_equals_scipy(a, a[::-1].copy())
    assert_ad_equals_scipy(a, rng.normal(1.0, size=300))


def test_anderson_undefined_is_nan():
    # scipy: NaN (with division warnings) at 3 pooled values, IndexError at 2,
    # ValueError for a single distinct value; here NaN, without a warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for a, b in [([1.0], [2.0, 3.0]), ([1.0], [2.0]), ([4.0] * 5, [4.0] * 3)]:
            s, p, bound, _ = anderson_2samp(a, b)
            assert np.isnan(s) and np.isnan(p) and bound == 0
    with pytest.raises(ValueError, match="more than one distinct"):
        stats.anderson_ksamp([np.full(5, 4.0), np.full(3, 4.0)], variant="midrank")


def scipy_ad_permutation(a, b, n_resamples, rng=0):
    res = stats.anderson_ksamp(
        [a, b],
        variant="midrank",
        method=stats.PermutationMethod(n_resamples=n_resamples, rng=rng),
    )
    return float(res.statistic), float(res.pvalue)


@pytest.mark.parametrize("kind", ["random", "rounded", "integer", "mostly_zero", "two_values"])
def test_anderson_exact_permutation_equals_scipy(kind):
    """Where there are at most n_resamples splits both enumerate them all:
    the same statistic and the same p-value, bit for bit."""
    rng = np.random.default_rng(17)
    for n1, n2 in [(2, 2), (2, 5), (3, 4), (4, 4), (5, 3), (6, 6), (2, 11)]:
        a, b = _samples(kind, n1, n2, rng)
        if _pooled_distinct(a, b) < 2:
            a[0] += 1.0
        res = anderson_2samp(a, b, method="permutation", n_resamples=999)
        assert res.method == "exact" and res.pvalue_bound == 0
        s_ref, p_ref = scipy_ad_permutation(a, b, 999)
        assert res.statistic == s_ref
        assert res.pvalue == p_ref, (n1, n2, res.pvalue, p_ref)
        assert kernels.ad_exact_hits(*twins.ad_pooled_counts(a, b), n1, n2) == (
            twins.ad_exact_hits(a, b)
        )


@pytest.mark.parametrize("kind", ["random", "integer", "mostly_zero"])
def test_anderson_monte_carlo_within_its_error_of_exact(kind):
    """With fewer draws than splits the p-value is a Monte Carlo estimate:
    within 4 binomial standard errors of scipy's exact p-value, seeded (the
    same every call, another with another seed), a multiple of 1 / (draws +
    1); the numpy twin's estimate agrees within the same error."""
    rng = np.random.default_rng(23)
    a, b = _samples(kind, 7, 6, rng)  # C(13, 6) = 1716 splits
    if _pooled_distinct(a, b) < 2:
        a[0] += 1.0
    _, exact = scipy_ad_permutation(a, b, 9999)
    n = 1500
    res = anderson_2samp(a, b, method="permutation", n_resamples=n)
    assert res.method == "permutation"
    se = math.sqrt(max(exact * (1 - exact), 1e-3) / n)
    assert abs(res.pvalue - exact) <= 4 * se + 1 / n
    assert round(res.pvalue * (n + 1)) == pytest.approx(res.pvalue * (n + 1), abs=1e-9)
    assert anderson_2samp(a, b, method="permutation", n_resamples=n) == res
    other = anderson_2samp(a, b, method="permutation", n_resamples=n, random_state=1)
    assert abs(other.pvalue - exact) <= 4 * se + 1 / n
    pooled, ref_counts = twins.ad_pooled_counts(a, b)
    observed, hits = kernels.ad_permutation_hits(pooled, ref_counts, 7, 6, n, 5)
    t_observed, t_hits = twins.ad_permutation_hits(a, b, n, np.random.default_rng(5))
    assert observed == t_observed
    assert abs(hits - t_hits) / n <= 4 * math.sqrt(2) * se + 2 / n


def test_anderson_method_auto():
    """auto: the table without ties (scipy's default p-value), the
    permutation p-value with them."""
    rng = np.random.default_rng(29)
    a, b = rng.normal(size=300), rng.normal(size=80)
    assert anderson_2samp(a, b) == anderson_2samp(a, b, method="table")
    a, b = np.round(a), np.round(b)
    res = anderson_2samp(a, b)
    assert res == anderson_2samp(a, b, method="permutation")
    assert res.method == "permutation" and res.pvalue_bound == 0
    assert res.statistic == scipy_ad(a, b)[0]
    # one tie across the samples is a tie
    c = rng.normal(size=50)
    d = np.append(rng.normal(size=20), c[0])
    assert anderson_2samp(c, d).method == "permutation"


def _ad_false_alarms(values, n_ref, n_bat, n_splits, seed):
    rng = np.random.default_rng(seed)
    p = np.empty(n_splits)
    for s in range(n_splits):
        perm = rng.permutation(values.size)
        p[s] = anderson_2samp(values[perm[:n_ref]], values[perm[n_ref : n_ref + n_bat]]).pvalue
    return p


def test_anderson_level_holds_on_ties():
    """Regression (issue 19, item 4): on a column 60% zeros the table's
    p-value was below 0.05 in ~9% of clean splits (the midrank statistic's
    null spread is larger with ties than the continuous one it is
    standardized by); the permutation p-value holds the level. Also
    calibrated on Poisson counts and, by the table, on continuous values."""
    rng = np.random.default_rng(31)
    zero_heavy = np.round(rng.lognormal(3.0, 1.0, 3000))
    zero_heavy[rng.random(3000) < 0.6] = 0.0
    n = 600
    limit = stats.binom.ppf(0.99, n, 0.05)  # 39 of 600 (6.5%)
    for values in (zero_heavy, rng.poisson(8.0, 3000).astype(float), rng.normal(size=3000)):
        p = _ad_false_alarms(values, 150, 50, n, seed=37)
        assert (p <= 0.05).sum() <= limit
        # and no more small p-values than uniform ones, not only at 0.05
        assert (p <= 0.01).sum() <= stats.binom.ppf(0.99, n, 0.01)
        assert (p < 0.25).sum() <= stats.binom.ppf(0.99, n, 0.25)  # the table caps at 0.25


def test_anderson_bad_method_raises():
    with pytest.raises(ValueError, match="method must be one of"):
        anderson_2samp([1.0, 2.0], [3.0, 4.0], method="exact")
    for bad in (0, -5, 2.5, True, "9"):
        with pytest.raises(ValueError, match="n_resamples must be a positive integer"):
            anderson_2samp([1.0, 2.0], [3.0, 4.0], n_resamples=bad)
    for bad in (None, 1.5, np.random.default_rng(0)):
        with pytest.raises(ValueError, match="random_state must be an integer"):
            anderson_2samp([1.0, 2.0], [3.0, 4.0], random_state=bad)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("n1, n2", [(1, 1), (1, 5), *SIZES])
def test_wasserstein_equals_scipy(kind, n1, n2):
    rng = np.random.default_rng(n1 * 13 + n2)
    a, b = _samples(kind, n1, n2, rng)
    w = wasserstein_1d(a, b)
    assert w == pytest.approx(stats.wasserstein_distance(a, b), rel=W_RTOL, abs=0)


def test_wasserstein_tiny_equals_scipy():
    rng = np.random.default_rng(12)
    for kind in ("random", "rounded", "two_values"):
        for n1, n2 in TINY:
            a, b = _samples(kind, n1, n2, rng)
            expected = stats.wasserstein_distance(a, b)
            assert wasserstein_1d(a, b) == pytest.approx(expected, rel=W_RTOL, abs=0)


def test_one_reference_many_batches():
    # the detector's use: one prepared reference, reused unchanged
    rng = np.random.default_rng(4)
    a = np.round(rng.normal(size=5000), 2)
    ref = sorted_sample(a)
    kept = [x.copy() for x in ref[:2]]
    for i in range(5):
        b = np.round(rng.normal(0.05 * i, size=700 + 50 * i), 2)
        assert cvm_2samp(ref, b) == cvm_2samp(a, b)
        assert anderson_2samp(ref, b) == anderson_2samp(a, b)
        assert wasserstein_1d(ref, b) == wasserstein_1d(a, b)
        assert_cvm_equals_scipy(a, b)
        assert_ad_equals_scipy(a, b)
    assert all(np.array_equal(x, y) for x, y in zip(ref[:2], kept, strict=True))


def test_batch_sorted_and_inputs_left_alone():
    rng = np.random.default_rng(6)
    a, b = rng.normal(size=300), rng.integers(0, 9, 200).astype(float)
    a0, b0 = a.copy(), b.copy()
    for f in (cvm_2samp, anderson_2samp, wasserstein_1d):
        assert f(a, np.sort(b), batch_sorted=True) == f(a, b)
    assert np.array_equal(a, a0) and np.array_equal(b, b0)


def test_sorted_sample():
    rng = np.random.default_rng(7)
    v = rng.integers(0, 20, 500).astype(float)
    s = sorted_sample(v)
    u, c = np.unique(v, return_counts=True)
    assert isinstance(s, SortedSample) and s.n == 500
    assert np.array_equal(s.distinct, u) and np.array_equal(s.cum, np.cumsum(c))
    assert s.ties == float(np.sum(c * (c**2 - 1)) // 3)
    distinct = sorted_sample(rng.normal(size=100))
    assert distinct.cum.size == 0 and distinct.ties == 0.0
    assert np.array_equal(distinct.distinct, np.sort(distinct.distinct))
    # -0.0 and 0.0 are one value, as in scipy's sorts and ranks
    assert sorted_sample([0.0, -0.0, 1.0]).distinct.size == 2


# ------------------------------------------------------------ Jensen-Shannon


def js_oracle(p, q, base=2):
    """The distance in 60-digit decimal arithmetic, from the exact counts."""
    with decimal.localcontext(decimal.Context(prec=60)):
        p = [decimal.Decimal(float(v)) for v in p]
        q = [decimal.Decimal(float(v)) for v in q]
        sp, sq = sum(p), sum(q)
        total = decimal.Decimal(0)
        for a, b in zip(p, q, strict=True):
            a, b = a / sp, b / sq
            m = (a + b) / 2
            if a > 0:
                total += a * (a / m).ln()
            if b > 0:
                total += b * (b / m).ln()
        log_base = decimal.Decimal(base).ln() if base is not None else decimal.Decimal(1)
        return float((total / log_base / 2).sqrt())


def _histograms(kind, k, rng):
    if kind == "counts":
        return rng.integers(0, 1000, k), rng.integers(0, 1000, k)
    if kind == "mostly_zero":
        p, q = rng.integers(0, 50, k), rng.integers(0, 50, k)
        p[rng.random(k) < 0.7] = 0
        q[rng.random(k) < 0.7] = 0
        p[0] += 1
        q[-1] += 1
        return p, q
    if kind == "tiny":
        return rng.integers(0, 3, k) + (np.arange(k) == 0), rng.integers(1, 3, k)
    if kind == "large":
        return rng.integers(0, 10**12, k), rng.integers(0, 10**12, k)
    if kind == "nearly_equal":
        p = rng.integers(10**6, 10**9, k)
        return p, p + rng.integers(-2, 3, k)
    if kind == "disjoint":
        return np.r_[rng.integers(1, 9, k), np.zeros(k)], np.r_[np.zeros(k), rng.integers(1, 9, k)]
    raise ValueError(kind)


JS_KINDS = ["counts", "mostly_zero", "tiny", "large", "nearly_equal", "disjoint"]


@pytest.mark.parametrize("kind", JS_KINDS)
@pytest.mark.parametrize("k", [1, 2, 10, 40])
@pytest.mark.parametrize("base", [2, None, 10])
def test_jensenshannon_equals_scipy_and_oracle(kind, k, base):
    rng = np.random.default_rng(k * 17 + len(kind))
    for _ in range(3):
        p, q = _histograms(kind, k, rng)
        ours = jensenshannon_bins(p, q, base=base)
        truth = js_oracle(p, q, base)
        assert ours == pytest.approx(truth, rel=JS_ORACLE_RTOL, abs=1e-300)
        with np.errstate(invalid="ignore"):
            theirs = jensenshannon(p, q, base=base)
        if truth > 1e-4:
            assert ours == pytest.approx(theirs, rel=JS_SCIPY_RTOL)


def test_jensenshannon_where_scipy_gives_nan():
    # nearly equal histograms: scipy's sum of terms of size |p - q| rounds
    # below zero and its square root is NaN; ours is the true distance
    p = np.array([1.0, 2.0, 3.0])
    q = np.array([1.0, 2.0, 3.0 + 1e-8])
    with np.errstate(invalid="ignore"):
        assert np.isnan(jensenshannon(p, q, base=2))
    assert jensenshannon_bins(p, q) == pytest.approx(js_oracle(p, q), rel=JS_ORACLE_RTOL)
    assert jensenshannon_bins(p, p) == 0.0


def test_jensenshannon_rows():
    rng = np.random.default_rng(8)
    p, q = rng.integers(0, 100, (20, 10)), rng.integers(0, 100, (20, 10))
    rows = jensenshannon_bins(p, q)
    assert rows.shape == (20,)
    assert np.array_equal(rows, [jensenshannon_bins(a, b) for a, b in zip(p, q, strict=True)])
    assert isinstance(jensenshannon_bins(p[0], q[0]), float)
    # in [0, 1] in base 2, 1 for disjoint supports
    assert (rows >= 0).all() and (rows <= 1).all()
    assert jensenshannon_bins([3, 0], [0, 5]) == pytest.approx(1.0, rel=1e-15)


# ----------------------------------------------------------------- bad input


@pytest.mark.parametrize("func", [cvm_2samp, anderson_2samp, wasserstein_1d])
def test_bad_samples_raise(func):
    good = np.arange(5.0)
    with pytest.raises(ValueError, match=r"reference sample has 1 non-finite .* \[2\]"):
        func([0.0, 1.0, np.nan, 3.0], good)
    with pytest.raises(ValueError, match=r"batch sample has 2 non-finite.*\[inf, -inf\]"):
        func(good, [np.inf, 1.0, -np.inf])
    with pytest.raises(ValueError, match="reference sample is empty"):
        func([], good)
    with pytest.raises(ValueError, match="batch sample is empty"):
        func(sorted_sample(good), np.array([]))
    with pytest.raises(ValueError, match="must be 1-D"):
        func(good, np.ones((2, 3)))
    with pytest.raises(ValueError, match="not sorted"):
        func(good, [2.0, 1.0], batch_sorted=True)
    with pytest.raises(ValueError):
        func(good, ["a", "b"])


def test_bad_method_and_histograms_raise():
    with pytest.raises(ValueError, match="method must be one of"):
        cvm_2samp([1.0, 2.0], [3.0, 4.0], method="permutation")
    with pytest.raises(ValueError, match="ties must be one of"):
        cvm_2samp([1.0, 2.0], [3.0, 4.0], ties="average")
    with pytest.raises(ValueError, match="too many to count"):
        cvm_2samp(np.arange(40.0), np.arange(35.0), method="exact")
    with pytest.raises(ValueError, match="same non-empty bins"):
        jensenshannon_bins([1, 2], [1, 2, 3])
    with pytest.raises(ValueError, match="same non-empty bins"):
        jensenshannon_bins([], [])
    with pytest.raises(ValueError, match="non-negative"):
        jensenshannon_bins([1, -1], [1, 1])
    with pytest.raises(ValueError, match="non-negative"):
        jensenshannon_bins([1, np.nan], [1, 1])
    with pytest.raises(ValueError, match="no counts"):
        jensenshannon_bins([[1, 1], [0, 0]], [[1, 1], [1, 1]])
    with pytest.raises(ValueError, match="base must be"):
        jensenshannon_bins([1, 1], [1, 2], base=1)


# ----------------------------------------------------- kernels against twins


def _kernel_args(a, b):
    ref = sorted_sample(a)
    return ref, np.sort(np.asarray(b, dtype=np.float64))


def assert_kernels_equal_twins(a, b):
    ref, y = _kernel_args(a, b)
    sx, sy = kernels.cvm_rank_sums(ref.distinct, ref.cum, ref.n, ref.ties, y, y.size, True)
    assert (sx, sy) == twins.cvm_rank_sums(a, b)  # integers below 2**53: exact
    sx, sy = kernels.cvm_rank_sums(ref.distinct, ref.cum, ref.n, 0.0, y, y.size, False)
    assert (sx, sy) == twins.cvm_rank_sums(a, b, within_ties=False)
    got = kernels.ad_midrank_sum(ref.distinct, ref.cum, ref.n, y, y.size)
    pooled, ref_counts = kernels.ad_pooled_counts(ref.distinct, ref.cum, ref.n, y, y.size)
    t_pooled, t_ref_counts = twins.ad_pooled_counts(a, b)
    assert np.array_equal(pooled, t_pooled) and np.array_equal(ref_counts, t_ref_counts)
    if _pooled_distinct(a, b) > 1:
        assert got == pytest.approx(twins.ad_midrank_sum(a, b), rel=TWIN_RTOL)
        # the sum from the counts: the same float, from the kernel and its twin
        from_counts = kernels.ad_counts_sum(pooled, ref_counts, ref.n, y.size)
        assert from_counts == got
        assert from_counts == twins.ad_counts_sum(pooled, ref_counts, ref.n, y.size)
    got = kernels.wasserstein_sum(ref.distinct, ref.cum, ref.n, y, y.size)
    assert got == pytest.approx(twins.wasserstein_sum(a, b), rel=TWIN_RTOL, abs=0)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("n1, n2", [(1, 1), (1, 9), (9, 1), (4, 4), (200, 30), (30, 2000)])
def test_kernels_equal_twins(kind, n1, n2):
    rng = np.random.default_rng(n1 * 3 + n2)
    assert_kernels_equal_twins(*_samples(kind, n1, n2, rng))


@pytest.mark.parametrize("m, n", [(1, 1), (1, 4), (2, 3), (3, 3), (4, 6), (6, 4), (5, 7), (7, 7)])
def test_exact_counts_equal_twin(m, n):
    values, counts = kernels.cvm_exact_counts(m, n)
    t_values, t_counts = twins.cvm_exact_counts(m, n)
    assert np.array_equal(values, t_values) and np.array_equal(counts, t_counts)
    assert counts.sum() == math.comb(m + n, m)


finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False, width=64)
tied = st.sampled_from([-2.0, 0.0, 0.5, 1.0, 3.0])
sample = hnp.arrays(np.float64, st.integers(1, 80), elements=st.one_of(finite, tied))


@settings(max_examples=120, deadline=None)
@given(a=sample, b=sample)
def test_property_kernels_equal_twins(a, b):
    assert_kernels_equal_twins(a, b)


@settings(max_examples=80, deadline=None)
@given(a=sample, b=sample)
def test_property_statistics_equal_scipy(a, b):
    assert_cvm_equals_scipy(a, b)
    assert wasserstein_1d(a, b) == pytest.approx(
        stats.wasserstein_distance(a, b), rel=W_RTOL, abs=0
    )
    if a.size + b.size >= 4 and _pooled_distinct(a, b) > 1:
        assert_ad_equals_scipy(a, b)


@settings(max_examples=100, deadline=None)
@given(
    p=hnp.arrays(np.int64, st.integers(1, 12), elements=st.integers(0, 10**9)),
    seed=st.integers(0, 2**32 - 1),
)
def test_property_jensenshannon_equals_oracle(p, seed):
    rng = np.random.default_rng(seed)
    q = np.maximum(p + rng.integers(-3, 4, p.size) * rng.integers(0, 2), 0)
    p[0] += 1
    q[-1] += 1
    assert jensenshannon_bins(p, q) == pytest.approx(
        js_oracle(p, q), rel=JS_ORACLE_RTOL, abs=1e-300
    )


NOJIT_SCRIPT = textwrap.dedent(
    """
    import numpy as np
    import numba
    from mlpipe.drift import _twosample_kernels as k, _twosample_reference as t
    from mlpipe.drift._twosample import sorted_sample
    assert numba.config.DISABLE_JIT
    assert not hasattr(k.cvm_rank_sums, "signatures")  # plain Python
    rng = np.random.default_rng(0)
    for n1, n2 in [(1, 3), (12, 7), (40, 90)]:
        a = np.round(rng.normal(size=n1), 1)
        b = np.round(rng.normal(0.3, size=n2), 1)
        r = sorted_sample(a)
        y = np.sort(b)
        got = k.cvm_rank_sums(r.distinct, r.cum, r.n, r.ties, y, n2, True)
        assert got == t.cvm_rank_sums(a, b)
        got = k.cvm_rank_sums(r.distinct, r.cum, r.n, 0.0, y, n2, False)
        assert got == t.cvm_rank_sums(a, b, within_ties=False)
        got = k.ad_midrank_sum(r.distinct, r.cum, r.n, y, n2)
        assert abs(got - t.ad_midrank_sum(a, b)) <= 1e-14 * abs(got)
        pooled, counts = k.ad_pooled_counts(r.distinct, r.cum, r.n, y, n2)
        assert k.ad_counts_sum(pooled, counts, n1, n2) == got
        assert k.ad_permutation_hits(pooled, counts, n1, n2, 50, 3)[0] == got
        got = k.wasserstein_sum(r.distinct, r.cum, r.n, y, n2)
        assert abs(got - t.wasserstein_sum(a, b)) <= 1e-14 * abs(got)
    a, b = np.array([0.0, 1.0, 1.0, 2.0]), np.array([1.0, 3.0, 0.0])
    pooled, counts = t.ad_pooled_counts(a, b)
    assert k.ad_exact_hits(pooled, counts, 4, 3) == t.ad_exact_hits(a, b)
    v, c = k.cvm_exact_counts(4, 5)
    tv, tc = t.cvm_exact_counts(4, 5)
    assert (v == tv).all() and (c == tc).all()
    print("ok")
    """
)


def test_kernels_without_jit():
    env = {**os.environ, "NUMBA_DISABLE_JIT": "1"}
    result = subprocess.run(
        [sys.executable, "-c", NOJIT_SCRIPT], env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().endswith("ok")
