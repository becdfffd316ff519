"""Numba kernels of the fairness intervals: binomial profile likelihoods.

A disparity of ``audit_fairness`` is the spread of one rate over the groups:
the highest rate minus the lowest (a difference) or the lowest over the
highest (a ratio). Either way "the spread is ``theta``" says that every
group's rate lies in a band ``[a, hi(a)]`` that touches both of its edges,
with ``hi(a) = scale * a + shift``: ``a + theta`` for a difference,
``a / theta`` for a ratio. The profile log-likelihood of a spread is the
highest binomial log-likelihood of the groups' rates under that constraint:

- the observed spread is at least ``theta``: clip every observed rate into
  the band and choose ``a`` (one concave problem in ``a``);
- the observed spread is less: stretch one pair of groups (``i`` up to
  ``hi(a)``, ``j`` down to ``a``), the others keep their rates; the best of
  the ``n_groups * (n_groups - 1)`` pairs (each a concave problem in ``a``).

Each concave problem is solved by bisection on the sign of its derivative,
which is monotone. :mod:`mlpipe.fairness._reference` has the plain scipy
twin that the tests compare these kernels with.

Rates are ``x / n`` with float counts (weighted rows give effective counts);
a group with ``n == 0`` must not be passed.
"""

import math

import numpy as np
from numba import njit

_JIT = {"cache": True, "nogil": True, "error_model": "numpy"}
_ITERATIONS = 45  # bisection steps: 2**-45 of the bracket


@njit(**_JIT)
def loglik(x, n, q):
    """Binomial log-likelihood of rate ``q`` for ``x`` successes in ``n``."""
    out = 0.0
    if x > 0:
        if q <= 0:
            return -np.inf
        out += x * math.log(q)
    if n - x > 0:
        if q >= 1:
            return -np.inf
        out += (n - x) * math.log1p(-q)
    return out


@njit(**_JIT)
def _slope(x, n, q):
    """Derivative of :func:`loglik` in ``q`` (``q`` strictly inside (0, 1))."""
    return x / q - (n - x) / (1.0 - q)


@njit(**_JIT)
def _clip_slope(p, x, n, a, scale, shift):
    h = scale * a + shift
    d = 0.0
    for g in range(p.shape[0]):
        if p[g] < a:
            d += _slope(x[g], n[g], a)
        elif p[g] > h:
            d += scale * _slope(x[g], n[g], h)
    return d


@njit(**_JIT)
def _clip(p, x, n, scale, shift, out):
    """Rates clipped into the best band; returns the log-likelihood."""
    low = np.inf
    top = -np.inf
    for g in range(p.shape[0]):
        low = min(low, p[g])
        top = max(top, p[g])
    lo = low
    up = (top - shift) / scale  # the band's top edge at the highest rate
    for _ in range(_ITERATIONS):
        mid = 0.5 * (lo + up)
        if mid <= lo or mid >= up:
            break
        if _clip_slope(p, x, n, mid, scale, shift) > 0:
            lo = mid
        else:
            up = mid
    a = 0.5 * (lo + up)
    h = scale * a + shift
    total = 0.0
    for g in range(p.shape[0]):
        out[g] = min(max(p[g], a), h)
        total += loglik(x[g], n[g], out[g])
    return total


@njit(**_JIT)
def _stretch(p, x, n, scale, shift, out):
    """The best pair stretched to the band's edges; returns the log-likelihood."""
    n_groups = p.shape[0]
    base = np.empty(n_groups)
    full = 0.0
    for g in range(n_groups):
        base[g] = loglik(x[g], n[g], p[g])
        full += base[g]
    best = -np.inf
    best_i = best_j = -1
    best_a = 0.0
    order = np.argsort(p)  # the widest pairs first: they set a good bound early
    for ii in range(n_groups):
        i = order[n_groups - 1 - ii]
        for jj in range(n_groups):
            j = order[jj]
            if i == j:
                continue
            # A pair whose cheapest stretch cannot beat the best one is
            # skipped: moving a rate by d costs at least 2 n d**2 of
            # log-likelihood (Pinsker), and the moves d_i + scale * d_j
            # must close the gap, which costs at least
            # 2 gap**2 n_i n_j / (n_j + scale**2 n_i).
            gap = scale * p[j] + shift - p[i]
            if gap > 0 and best > -np.inf:
                bound = 2.0 * gap * gap * n[i] * n[j] / (n[j] + scale * scale * n[i])
                if full - bound <= best:
                    continue
            # p_j = a <= p[j]; p_i = hi(a) >= p[i]; 0 <= a; hi(a) <= 1.
            lo = max(0.0, (p[i] - shift) / scale)
            up = min(p[j], (1.0 - shift) / scale)
            if lo > up:
                continue
            for _ in range(_ITERATIONS):
                mid = 0.5 * (lo + up)
                if mid <= lo or mid >= up:
                    break
                h = scale * mid + shift
                if scale * _slope(x[i], n[i], h) + _slope(x[j], n[j], mid) > 0:
                    lo = mid
                else:
                    up = mid
            a = 0.5 * (lo + up)
            value = (
                full
                - base[i]
                - base[j]
                + loglik(x[i], n[i], scale * a + shift)
                + loglik(x[j], n[j], a)
            )
            if value > best:
                best, best_i, best_j, best_a = value, i, j, a
    for g in range(n_groups):
        out[g] = p[g]
    if best_i >= 0:
        out[best_i] = scale * best_a + shift
        out[best_j] = best_a
    return best


@njit(**_JIT)
def _spread(p, ratio):
    low = np.inf
    top = -np.inf
    for g in range(p.shape[0]):
        low = min(low, p[g])
        top = max(top, p[g])
    if ratio:
        return low / top if top > 0 else np.nan
    return top - low


@njit(**_JIT)
def profile(x, n, theta, ratio, exact, out):
    """Profile log-likelihood of "the spread is ``theta``" (``exact``) or
    "the spread is at most ``theta``" (a difference; for a ratio: at least).

    ``out`` receives the rates that attain it. Returns the log-likelihood.
    """
    n_groups = x.shape[0]
    p = np.empty(n_groups)
    for g in range(n_groups):
        p[g] = x[g] / n[g]
    if ratio:
        scale, shift = 1.0 / theta, 0.0
    else:
        scale, shift = 1.0, theta
    observed = _spread(p, ratio)
    # wider: the observed rates spread more than theta allows
    wider = observed < theta if ratio else observed > theta
    if wider or (exact and observed == theta):
        return _clip(p, x, n, scale, shift, out)
    if not exact:
        total = 0.0
        for g in range(n_groups):
            out[g] = p[g]
            total += loglik(x[g], n[g], p[g])
        return total
    return _stretch(p, x, n, scale, shift, out)


@njit(**_JIT)
def full_loglik(x, n):
    total = 0.0
    for g in range(x.shape[0]):
        total += loglik(x[g], n[g], x[g] / n[g])
    return total


@njit(**_JIT)
def deviance(x, n, theta, ratio):
    """Likelihood-ratio statistic ``2 (max - profile)`` of "the spread is theta"."""
    work = np.empty(x.shape[0])
    return 2.0 * (full_loglik(x, n) - profile(x, n, theta, ratio, True, work))


@njit(**_JIT)
def joint_deviance(xa, na, xb, nb, theta, ratio):
    """As :func:`deviance` for the larger spread of two independent
    families (equalized odds: true and false positive rates): "the worse of
    the two spreads is theta" holds when one spread is theta and the other
    within it."""
    work_a = np.empty(xa.shape[0])
    work_b = np.empty(xb.shape[0])
    full = full_loglik(xa, na) + full_loglik(xb, nb)
    exact_a = profile(xa, na, theta, ratio, True, work_a)
    within_a = profile(xa, na, theta, ratio, False, work_a)
    exact_b = profile(xb, nb, theta, ratio, True, work_b)
    within_b = profile(xb, nb, theta, ratio, False, work_b)
    return 2.0 * (full - max(exact_a + within_b, within_a + exact_b))


@njit(**_JIT)
def _tally(value, observed, tie):
    """1 for a deviance above ``observed``, 1/2 for a tie (within ``tie``:
    the mid-p convention for a discrete statistic), else 0."""
    if value > observed + tie:
        return 1.0
    if value >= observed - tie:
        return 0.5
    return 0.0


@njit(**_JIT)
def exceedances(draws, n, theta, ratio, observed, tie, needed):
    """How many rows of ``draws`` (replicates x groups) have a
    :func:`deviance` of at least ``observed``, counting stopped at
    ``needed`` (the test's verdict is known by then)."""
    count = 0.0
    for r in range(draws.shape[0]):
        count += _tally(deviance(draws[r], n, theta, ratio), observed, tie)
        if count >= needed:
            break
    return count


@njit(**_JIT)
def joint_exceedances(draws_a, na, draws_b, nb, theta, ratio, observed, tie, needed):
    """:func:`exceedances` of :func:`joint_deviance`."""
    count = 0.0
    for r in range(draws_a.shape[0]):
        count += _tally(joint_deviance(draws_a[r], na, draws_b[r], nb, theta, ratio), observed, tie)
        if count >= needed:
            break
    return count
