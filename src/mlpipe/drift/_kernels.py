"""Numba kernels of mlpipe.drift, one column per call.

The library calls the entry kernels ``ks_statistic_one``,
``ks_pvalues_range``, ``bin_counts_one``, ``code_counts_one`` and
``table_exceedances`` (and ``hodges_sf``) from a small pool of Python
threads (``_columns.run_threads``), one column at a time, instead of numba's
``prange``: numba's OpenMP workers busy-wait between parallel regions, which
on a machine with another busy process cost more than the work itself, and a
Python thread can sort a batch column (``ndarray.sort`` releases the GIL)
and merge it in the same pass over the data. Each kernel the library runs
has a plain numpy (or scipy) twin in :mod:`mlpipe.drift._reference` that the
tests compare it with.

The kernels are compiled with ``cache=True`` (the machine code is kept in
``__pycache__`` next to this file, so a new process loads it in a fraction
of a second) and without ``fastmath``, which would reorder floating-point
operations and break the bit-equality with scipy.

Layout: a column is a C-contiguous 1-D float64 array sorted ascending with
its NaN values at the end (``np.sort`` puts them there) and a count of its
non-NaN values.

The p-value functions in the second half are numba ports of the algorithms
behind :func:`scipy.stats.ks_2samp`; they live in this file, not a module
of their own, because numba's cache only notices edits to the file that
holds a compiled function, not to the files it calls into.
"""

import math

import numpy as np
from numba import njit

_JIT = {"cache": True, "nogil": True, "error_model": "numpy"}

_E128 = 128
_EP128 = 2.0**128
_EM128 = 2.0**-128
_SQRT2PI = math.sqrt(2 * math.pi)
_LOG_2PI = math.log(2 * math.pi)
_MIN_LOG = -708
_SQRT3 = math.sqrt(3)
_PI_SQUARED = math.pi**2
_PI_FOUR = math.pi**4
_PI_SIX = math.pi**6
# cephes MINLOG: log(2**-1022)
_CEPHES_MINLOG = -7.08396418532264106224e2
_SMIRNOV_MAX_COMPUTE_N = 1000000
_DBL_EPS = 2.220446049250313e-16
# recursion values below this are set to 0 (see _compute_outer_prob_inside_method)
_FLUSH = 1e-300

# B_{2j}/(2j)/(2j-1) for j = 8, ..., 1 (scipy.stats._ksstats._STIRLING_COEFFS).
_STIRLING_COEFFS = np.array(
    [
        -2.955065359477124183e-2,
        6.4102564102564102564e-3,
        -1.9175269175269175269e-3,
        8.4175084175084175084e-4,
        -5.952380952380952381e-4,
        7.9365079365079365079e-4,
        -2.7777777777777777778e-3,
        8.3333333333333333333e-2,
    ]
)


@njit(**_JIT)
def _polyval(coeffs, x):
    # np.polyval: Horner from the highest power.
    y = 0.0
    for c in coeffs:
        y = y * x + c
    return y


@njit(**_JIT)
def _clip01(p):
    if p < 0.0:
        return 0.0
    if p > 1.0:
        return 1.0
    return p


@njit(**_JIT)
def _select(cdfprob, sfprob, cdf):
    return _clip01(cdfprob if cdf else sfprob)


@njit(**_JIT)
def _log_nfactorial_div_n_pow_n(n):
    rn = 1.0 / n
    return np.log(n) / 2 - n + _LOG_2PI / 2 + rn * _polyval(_STIRLING_COEFFS, rn / n)


# --------------------------------------------------------------------------
# scipy.stats._ksstats: Kolmogorov distribution of D_n (two-sided, one sample)
# --------------------------------------------------------------------------


@njit(**_JIT)
def _kolmogn_dmtw(n, d):
    """``_kolmogn_DMTW``: Pr(D_n <= d) by the Durbin matrix (Marsaglia,
    Tsang and Wang)."""
    if d >= 1.0:
        return 1.0
    nd = n * d
    if nd <= 0.5:
        return 0.0
    k = int(np.ceil(nd))
    h = k - nd
    m = 2 * k - 1

    H = np.zeros((m, m))
    v = np.empty(m)
    for j in range(1, m + 1):
        v[j - 1] = 1.0 - h ** float(j)
    w = np.empty(m)
    fac = 1.0
    for j in range(1, m + 1):
        w[j - 1] = fac
        fac /= j
        v[j - 1] *= fac
    tt = max(2 * h - 1.0, 0.0) ** m - 2 * h**m
    v[m - 1] = (1.0 + tt) * fac

    for i in range(1, m):
        for r in range(i - 1, m):
            H[r, i] = w[r - (i - 1)]
    for r in range(m):
        H[r, 0] = v[r]
    for c in range(m):
        H[m - 1, c] = v[m - 1 - c]

    Hpwr = np.eye(m)
    nn = n
    expnt = 0
    Hexpnt = 0
    while nn > 0:
        if nn % 2:
            Hpwr = _matmul(Hpwr, H)
            expnt += Hexpnt
        H = _matmul(H, H)
        Hexpnt *= 2
        if np.abs(H[k - 1, k - 1]) > _EP128:
            H /= _EP128
            Hexpnt += _E128
        nn = nn // 2

    p = Hpwr[k - 1, k - 1]
    for i in range(1, n + 1):
        p = i * p / n
        if np.abs(p) < _EM128:
            p *= _EP128
            expnt -= _E128
    if expnt != 0:
        p = math.ldexp(p, expnt)
    return _clip01(p)


@njit(**_JIT)
def _matmul(A, B):
    m = A.shape[0]
    C = np.zeros((m, m))
    for i in range(m):
        for k in range(m):
            a = A[i, k]
            if a != 0.0:
                for j in range(m):
                    C[i, j] += a * B[k, j]
    return C


@njit(**_JIT)
def _pomeranz_j1j2(i, n, ll, ceilf, roundf):
    if i == 0:
        j1, j2 = -ll - ceilf - 1, ll + ceilf - 1
    else:
        ip1div2, ip1mod2 = (i + 1) // 2, (i + 1) % 2
        if ip1mod2 == 0:
            if ip1div2 == n + 1:
                j1, j2 = n - ll - ceilf - 1, n + ll + ceilf - 1
            else:
                j1 = ip1div2 - 1 - ll - roundf - 1
                j2 = ip1div2 + ll - 1 + ceilf - 1
        else:
            j1, j2 = ip1div2 - 1 - ll - 1, ip1div2 + ll + roundf - 1
    return max(j1 + 2, 0), min(j2, n)


@njit(**_JIT)
def _kolmogn_pomeranz(n, x):
    """``_kolmogn_Pomeranz``: Pr(D_n <= x) by Pomeranz's recursion."""
    t = n * x
    ll = int(np.floor(t))
    f = 1.0 * (t - ll)
    g = min(f, 1.0 - f)
    ceilf = 1 if f > 0 else 0
    roundf = 1 if f > 0.5 else 0
    npwrs = 2 * (ll + 1)
    gpower = np.empty(npwrs)
    twogpower = np.empty(npwrs)
    onem2gpower = np.empty(npwrs)
    gpower[0] = 1.0
    twogpower[0] = 1.0
    onem2gpower[0] = 1.0
    expnt = 0
    g_over_n, two_g_over_n, one_minus_two_g_over_n = g / n, 2 * g / n, (1 - 2 * g) / n
    for m in range(1, npwrs):
        gpower[m] = gpower[m - 1] * g_over_n / m
        twogpower[m] = twogpower[m - 1] * two_g_over_n / m
        onem2gpower[m] = onem2gpower[m - 1] * one_minus_two_g_over_n / m

    V0 = np.zeros(npwrs)
    V1 = np.zeros(npwrs)
    V1[0] = 1.0
    V0s, V1s = 0, 0
    j1, j2 = _pomeranz_j1j2(0, n, ll, ceilf, roundf)
    for i in range(1, 2 * n + 2):
        k1 = j1
        V0, V1 = V1, V0
        V0s, V1s = V1s, V0s
        V1[:] = 0.0
        j1, j2 = _pomeranz_j1j2(i, n, ll, ceilf, roundf)
        if i == 1 or i == 2 * n + 1:
            pwrs = gpower
        elif i % 2:
            pwrs = twogpower
        else:
            pwrs = onem2gpower
        ln2 = j2 - k1 + 1
        if ln2 > 0:
            start = k1 - V0s
            la = min(ln2, npwrs - start)  # numpy slices stop at the end
            lb = min(ln2, npwrs)
            conv_start = j1 - k1
            conv_len = j2 - j1 + 1
            for q in range(conv_len):
                kk = conv_start + q
                acc = 0.0
                lo = max(0, kk - lb + 1)
                hi = min(kk, la - 1)
                for ii in range(lo, hi + 1):
                    acc += V0[start + ii] * pwrs[kk - ii]
                V1[q] = acc
            vmax = V1.max()
            if 0 < vmax < _EM128:
                V1 *= _EP128
                expnt -= _E128
            V1s = V0s + j1 - k1

    ans = V1[n - V1s]
    for m in range(1, n + 1):
        if np.abs(ans) > _EP128:
            ans *= _EM128
            expnt += _E128
        ans *= m
    if expnt != 0:
        ans = math.ldexp(ans, expnt)
    return _clip01(ans)


@njit(**_JIT)
def _kolmogn_pelzgood(n, x):
    """``_kolmogn_PelzGood``: Pelz-Good approximation of Pr(D_n <= x)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    z = np.sqrt(n) * x
    zsquared, zthree, zfour, zsix = z**2, z**3, z**4, z**6
    qlog = -_PI_SQUARED / 8 / zsquared
    if qlog < _MIN_LOG:
        return 0.0
    q = np.exp(qlog)
    k1a = -zsquared
    k1b = _PI_SQUARED / 4
    k2a = 6 * zsix + 2 * zfour
    k2b = (2 * zfour - 5 * zsquared) * _PI_SQUARED / 4
    k2c = _PI_FOUR * (1 - 2 * zsquared) / 16
    k3d = _PI_SIX * (5 - 30 * zsquared) / 64
    k3c = _PI_FOUR * (-60 * zsquared + 212 * zfour) / 16
    k3b = _PI_SQUARED * (135 * zfour - 96 * zsix) / 4
    k3a = -30 * zsix - 90 * z**8

    K0 = 0.0
    K1 = 0.0
    K2 = 0.0
    K3 = 0.0
    maxk = int(np.ceil(16 * z / np.pi))
    for k in range(maxk, 0, -1):
        m = 2 * k - 1
        msquared, mfour, msix = m**2, m**4, m**6
        qpower = np.power(q, 8 * k)
        K0 = K0 * qpower + 1.0
        K1 = K1 * qpower + (k1a + k1b * msquared)
        K2 = K2 * qpower + (k2a + k2b * msquared + k2c * mfour)
        K3 = K3 * qpower + (k3a + k3b * msquared + k3c * mfour + k3d * msix)
    K0 *= q
    K1 *= q
    K2 *= q
    K3 *= q
    K0 *= _SQRT2PI
    K1 *= _SQRT2PI
    K2 *= _SQRT2PI
    K3 *= _SQRT2PI
    K0 /= z
    K1 /= 6 * zfour
    K2 /= 72 * z**7
    K3 /= 6480 * z**10

    q = np.exp(-_PI_SQUARED / 2 / zsquared)
    sqrt3z = _SQRT3 * z
    k2extra = 0.0
    k3extra = 0.0
    for k in range(maxk, 0, -1):
        ksq = float(k * k)
        qp = q**ksq
        k2extra += ksq * qp
        kspi = np.pi * k
        k3extra += (sqrt3z + kspi) * (sqrt3z - kspi) * ksq * qp
    k2extra *= _PI_SQUARED * _SQRT2PI / (-36 * zthree)
    K2 += k2extra
    k3extra *= _PI_SQUARED * _SQRT2PI / (216 * zsix)
    K3 += k3extra
    nf = n * 1.0
    K1 /= np.power(nf, 0.5)
    K2 /= np.power(nf, 1.0)
    K3 /= np.power(nf, 1.5)
    return K0 + K1 + K2 + K3


@njit(**_JIT)
def kolmogn(n, x, cdf):
    """``scipy.stats._ksstats._kolmogn``: CDF or SF of the two-sided
    one-sample statistic D_n at x (Simard and L'Ecuyer's choice of
    algorithm)."""
    if n <= 0:
        return np.nan
    if x >= 1.0:
        return _select(1.0, 0.0, cdf)
    if x <= 0.0:
        return _select(0.0, 1.0, cdf)
    t = n * x
    if t <= 1.0:
        if t <= 0.5:
            return _select(0.0, 1.0, cdf)
        if n <= 140:
            prob = 1.0
            for i in range(1, n + 1):
                prob *= i * (1.0 / n) * (2 * t - 1)
        else:
            prob = np.exp(_log_nfactorial_div_n_pow_n(n) + n * np.log(2 * t - 1))
        return _select(prob, 1.0 - prob, cdf)
    if t >= n - 1:
        prob = 2 * (1.0 - x) ** n
        return _select(1 - prob, prob, cdf)
    if x >= 0.5:
        prob = 2 * smirnov_sf(n, x)
        return _select(1.0 - prob, prob, cdf)

    nxsquared = t * x
    if n <= 140:
        if nxsquared <= 0.754693:
            prob = _kolmogn_dmtw(n, x)
            return _select(prob, 1.0 - prob, cdf)
        if nxsquared <= 4:
            prob = _kolmogn_pomeranz(n, x)
            return _select(prob, 1.0 - prob, cdf)
        prob = 2 * smirnov_sf(n, x)
        return _select(1.0 - prob, prob, cdf)

    if not cdf:
        if nxsquared >= 370.0:
            return 0.0
        if nxsquared >= 2.2:
            prob = 2 * smirnov_sf(n, x)
            return _clip01(prob)
    if nxsquared >= 18.0:
        cdfprob = 1.0
    elif n <= 100000 and n * x**1.5 <= 1.4:
        cdfprob = _kolmogn_dmtw(n, x)
    else:
        cdfprob = _kolmogn_pelzgood(n, x)
    return _select(cdfprob, 1.0 - cdfprob, cdf)


@njit(**_JIT)
def kstwo_sf(d, n):
    """``scipy.stats.kstwo.sf(d, n)``, support checks included."""
    if np.isnan(d) or n < 1:
        return np.nan  # scipy's "bad value" (n rounds to 0 for 1 vs 1 sample)
    if d <= 0.5 / n:
        return 1.0
    if d >= 1.0:
        return 0.0
    return kolmogn(n, d, False)


# --------------------------------------------------------------------------
# scipy.special.smirnov: one-sided one-sample statistic D_n^+
#
# This is the one place where the algorithm differs from scipy's. scipy adds
# every term of the Birnbaum-Tingey sum in double-double arithmetic: O(n)
# terms, 70-100 ms at n = 90,909 (the two-sided asymptotic p-value of a
# 1,000,000 vs 100,000 KS test calls it). Here each term is evaluated on its
# own in a logarithmic form without the large cancelling parts (Stirling's
# series for the binomial coefficient, log1p for the powers), accurate to
# ~1e-12 relative; for large n the terms form one smooth bump that is summed
# by the trapezoid rule on a coarse grid (exponentially accurate for such a
# bump), and the result is checked at run time against a second, shifted
# grid. When the two disagree, or the bump reaches an end of the range, the
# terms are added one by one.
# --------------------------------------------------------------------------


@njit(**_JIT)
def _two_prod(a, b):
    """Exact product a*b = p + e (Dekker's algorithm, no FMA needed)."""
    p = a * b
    c = 134217729.0 * a
    ahi = c - (c - a)
    alo = a - ahi
    c = 134217729.0 * b
    bhi = c - (c - b)
    blo = b - bhi
    e = ((ahi * bhi - p) + ahi * blo + alo * bhi) + alo * blo
    return p, e


@njit(**_JIT)
def _mod_nx(n, x):
    """floor(n*x) and its fractional part, computed exactly (``modNX``)."""
    hi, lo = _two_prod(float(n), x)
    fl = math.floor(hi)
    if fl == hi:
        fl_lo = math.floor(lo)
        nxfl = hi + fl_lo
        alpha = lo - fl_lo
    else:
        nxfl = fl
        alpha = (hi - fl) + lo
    if alpha >= 1.0:
        nxfl += 1.0
        alpha = 0.0
    return int(nxfl), alpha, hi, lo


@njit(**_JIT)
def _stirling_rest(k):
    """log(k!) - (k log k - k + log(2 pi k)/2), for integer k >= 1."""
    if k < 30:
        return math.lgamma(k + 1.0) - (k * math.log(k) - k + 0.5 * math.log(2 * math.pi * k))
    rk = 1.0 / k
    return rk * _polyval(_STIRLING_COEFFS, rk * rk)


@njit(**_JIT)
def _smirnov_log_term(n, v, nx_hi, nx_lo, crest_n):
    """log(x * A_v) minus log(x): A_v = C(n, v) (x + v/n)^(v-1) (1 - x - v/n)^(n-v),
    for 1 <= v < n - n*x, written without the large cancelling terms."""
    nv = n - v
    # v log((x+u)/u) + (n-v) log((1-x-u)/(1-u)) - log(x+u)
    ratio = (nx_hi + nx_lo) / nv
    if ratio < 0.5:
        lb = math.log1p(-ratio)
    else:
        # (n - v - nx) exactly enough, then divide
        r = (nv - nx_hi) - nx_lo
        lb = math.log(r / nv)
    la = math.log1p((nx_hi + nx_lo) / v)
    loga = math.log((nx_hi + v + nx_lo) / n)
    return (
        v * la
        + nv * lb
        - loga
        - 0.5 * math.log(2 * math.pi * (v * (nv / n)))
        + (crest_n - _stirling_rest(v) - _stirling_rest(nv))
    )


@njit(**_JIT)
def _smirnov_phi(n, v, x, nx_hi, nx_lo, crest_n):
    if v == 0:
        # A_0 = (1-x)^n / x
        return n * math.log1p(-x) - math.log(x)
    return _smirnov_log_term(n, v, nx_hi, nx_lo, crest_n)


@njit(**_JIT)
def _smirnov_lower_sum(n, x, nmax, nx_hi, nx_lo):
    """log of sum_{v=0}^{nmax} A_v."""
    crest_n = _stirling_rest(n)
    if nmax < 4000:
        # Term by term: find the largest, then add the scaled terms.
        phis = np.empty(nmax + 1)
        top = -np.inf
        for v in range(nmax + 1):
            p = _smirnov_phi(n, v, x, nx_hi, nx_lo, crest_n)
            phis[v] = p
            if p > top:
                top = p
        s = 0.0
        for v in range(nmax + 1):
            s += math.exp(phis[v] - top)
        return top + math.log(s)

    # Large n: the terms form one smooth bump. Find its crest by bisection on
    # the sign of the forward difference.
    lo, hi = 0, nmax
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _smirnov_phi(n, mid + 1, x, nx_hi, nx_lo, crest_n) >= _smirnov_phi(
            n, mid, x, nx_hi, nx_lo, crest_n
        ):
            lo = mid + 1
        else:
            hi = mid
    top_v = lo
    if hi <= nmax and _smirnov_phi(n, hi, x, nx_hi, nx_lo, crest_n) > _smirnov_phi(
        n, lo, x, nx_hi, nx_lo, crest_n
    ):
        top_v = hi
    top = _smirnov_phi(n, top_v, x, nx_hi, nx_lo, crest_n)
    if 2 <= top_v <= nmax - 2:
        curv = (
            2 * top
            - _smirnov_phi(n, top_v - 2, x, nx_hi, nx_lo, crest_n)
            - _smirnov_phi(n, top_v + 2, x, nx_hi, nx_lo, crest_n)
        ) / 4.0
    else:
        curv = 1.0
    if curv <= 0:
        curv = 1.0
    sigma = 1.0 / math.sqrt(curv)
    step = int(sigma / 4.0)
    while step >= 2:
        s1, ok1 = _smirnov_grid_sum(n, x, nmax, nx_hi, nx_lo, crest_n, top_v, top, step, 0)
        s2, ok2 = _smirnov_grid_sum(n, x, nmax, nx_hi, nx_lo, crest_n, top_v, top, step, step // 2)
        if ok1 and ok2 and abs(s1 - s2) <= 2e-12 * s1:
            return top + math.log(0.5 * (s1 + s2))
        step = step // 4
    # Term by term from the crest outwards.
    s, _ = _smirnov_grid_sum(n, x, nmax, nx_hi, nx_lo, crest_n, top_v, top, 1, 0)
    return top + math.log(s)


@njit(**_JIT)
def _smirnov_grid_sum(n, x, nmax, nx_hi, nx_lo, crest_n, top_v, top, step, offset):
    """step * sum of exp(phi(v) - top) over v = top_v + offset + k*step inside
    [0, nmax], walking out from the crest until the terms are negligible.
    ok is False when a walk reached an end of the range before the terms
    became negligible (then the grid sum is not a valid quadrature)."""
    tiny = 1e-20
    s = 0.0
    ok = True
    v = top_v + offset
    done = False
    while v <= nmax:
        t = math.exp(_smirnov_phi(n, v, x, nx_hi, nx_lo, crest_n) - top)
        s += t
        if t < tiny and v > top_v:
            done = True
            break
        v += step
    if not done and step > 1:
        ok = False
    v = top_v + offset - step
    done = False
    while v >= 0:
        t = math.exp(_smirnov_phi(n, v, x, nx_hi, nx_lo, crest_n) - top)
        s += t
        if t < tiny:
            done = True
            break
        v -= step
    if not done and step > 1:
        ok = False
    return s * step, ok


@njit(**_JIT)
def smirnov_sf(n, x):
    """``scipy.special.smirnov(n, x)``: Pr(D_n^+ >= x), for the arguments
    at which :func:`kolmogn` calls it (the lower Birnbaum-Tingey sum)."""
    if not (n > 0 and x >= 0.0 and x <= 1.0):
        return np.nan
    if n == 1:
        return 1 - x
    if x == 0.0:
        return 1.0
    if x == 1.0:
        return 0.0
    nxfl, alpha, nx_hi, nx_lo = _mod_nx(n, x)
    if nxfl == 0 or (nxfl == 1 and alpha == 0):
        t = math.exp((n - 1) * math.log1p(x))
        cdf = x * t
        return _clip01(1 - cdf)
    if -2 * n * x * x < _CEPHES_MINLOG:
        return 0.0
    if nxfl >= n - 1:
        return _clip01(math.exp(n * math.log1p(-x)))
    if n > _SMIRNOV_MAX_COMPUTE_N:
        logp = -((6.0 * n * x + 1) ** 2) / 18.0 / n
        sf = math.exp(logp) if logp < -math.log(2.0) else 1 - -math.expm1(logp)
        return _clip01(sf)
    # kolmogn never reaches scipy's "upper sum" branch (x <= 0.5/sqrt(n)).
    nmax = n - nxfl - 1
    logsum = _smirnov_lower_sum(n, x, nmax, nx_hi, nx_lo)
    return _clip01(math.exp(math.log(x) + logsum))


# --------------------------------------------------------------------------
# scipy.stats._stats_py: exact two-sample distributions
# --------------------------------------------------------------------------


@njit(**_JIT)
def _compute_prob_outside_square(n, h):
    P = 0.0
    k = int(np.floor(n / h))
    while k >= 0:
        p1 = 1.0
        for j in range(h):
            p1 = (n - k * h - j) * p1 / (n + k * h + j + 1)
        P = p1 * (1.0 - P)
        k -= 1
    return 2 * P


@njit(**_JIT)
def _compute_outer_prob_inside_method(m, n, g, h):
    """scipy's ``_compute_outer_prob_inside_method`` from half the lattice.

    The band |ng*i - mg*j| < h is symmetric under the half-turn (i, j) ->
    (m - i, n - j). A uniform path to (m, n) crosses the middle anti-diagonal
    s = (m + n) // 2 at one cell c, with the hypergeometric probability
    w(c) = C(s, j) C(m + n - s, n - j) / C(m + n, n); given c, its two halves
    are independent uniform paths, the second the half-turn of a path from
    (0, 0) to c' = (m - i, n - j). So with V the probability that a path to
    a cell has left the band (what the recursion computes),

        P(leave) = sum_c w(c) (V(c) + V(c') - V(c) V(c')),

    a sum of non-negative terms (no cancellation, small p-values keep their
    relative accuracy), and the recursion only runs to the middle: half of
    scipy's work. The weights come from their ratios, walking out from the
    largest; agreement with the full recursion is ~1e-15 relative (tested to
    1e-12, and against scipy to 1e-12).
    """
    if m < n:
        m, n = n, m
    total = m + n
    s0 = total // 2
    s1 = total - s0
    # A wide band leaves V tiny near its middle: without flushing, the
    # recursion runs into subnormal numbers, which cost ~100x per operation
    # (h = 4000 at 10,000 vs 1,000 values took 5.2 ms instead of 0.9 ms).
    # Values below _FLUSH change the p-value by less than ~1e-294 in
    # absolute terms (one cell at most _FLUSH, fewer than 1e6 cells), far
    # below the 1e-280 scipy's own tiny p-values are compared at; but the
    # comparison costs 5-20% on narrower bands, so it runs only where the
    # asymptotic p-value 2 exp(-2 z**2) is below ~1e-39 (z**2 > 45: measured
    # crossover at 10,000 vs 1,000 values; 1.3 ms vs 8.9 ms at h = 8000).
    z2 = (h / ((m // g) * n)) ** 2 * (m * n / (m + n))
    v0, v1 = _outer_prob_diagonals(m, n, g, h, s1, z2 > 45.0)
    if v0.shape[0] == 0:
        return 1.0
    if s1 == s0:
        v0 = v1  # m + n even: both halves end on the same anti-diagonal
    lo = max(0, s0 - m)
    hi = min(n, s0)
    # weights w_j, j on the diagonal s0, up to a common factor
    w = np.zeros(n + 1)
    top = (n * s0) // total
    if top < lo:
        top = lo
    if top > hi:
        top = hi
    w[top] = 1.0
    for j in range(top, hi):
        # C(s0, j+1)/C(s0, j) * C(total-s0, n-j-1)/C(total-s0, n-j)
        w[j + 1] = w[j] * ((s0 - j) / (j + 1.0)) * ((n - j) / (m - s0 + j + 1.0))
    for j in range(top, lo, -1):
        w[j - 1] = w[j] * (j / (s0 - j + 1.0)) * ((m - s0 + j) / (n - j + 1.0))
    num = 0.0
    den = 0.0
    for j in range(lo, hi + 1):
        a = v0[j + 1]
        b = v1[n - j + 1]  # the half-turn of (s0 - j, j) lies on the diagonal s1
        num += w[j] * (a + b - a * b)
        den += w[j]
    return num / den


@njit(**_JIT)
def _outer_prob_diagonals(m, n, g, h, s_end, flush):
    """scipy's lattice recursion (``_compute_outer_prob_inside_method``), by
    anti-diagonals, up to the anti-diagonal ``s_end``; m >= n.

    scipy fills the lattice column by column; each cell needs its left
    neighbour in the same column, so the column loop is one long chain of
    dependent multiply-adds. The cells of one anti-diagonal (i + j = s)
    depend only on the previous anti-diagonal, so here each anti-diagonal is
    one loop without a carried dependency, which the compiler vectorizes.
    Every cell is computed from the same two neighbours with the same
    operations as scipy's column loop (up to scipy's division by ``i + j``,
    here a multiplication by its reciprocal).
    Cells outside the band hold 1 (the path has left it). With ``flush``,
    values below ``_FLUSH`` are set to 0 (no subnormal numbers).

    Returns the anti-diagonals ``s_end - 1`` and ``s_end``, indexed by
    j + 1; empty arrays when scipy returns 1 early.
    """
    mg = m // g
    ng = n // g
    empty = np.empty(0)
    if 2 * h <= mg:
        # scipy returns 1 when a column of the lattice has no cell inside
        # the band; that can only happen when the band is at most one cell
        # wide (an open interval longer than 1 around a point of [0, n]
        # holds an integer of [0, n]).
        for i in range(1, m + 1):
            minj = min(max((ng * i - h) // mg + 1, 0), n)
            maxj = min(-((-(ng * i + h)) // mg), n + 1)
            if maxj <= minj:
                return empty, empty
    big = ng + mg
    # buffers indexed by j + 1, so that j - 1 = -1 is index 0
    old = np.ones(n + 2)
    new = np.ones(n + 2)
    old[1] = 0.0  # the start (0, 0) is inside the band
    jf = np.arange(n + 1).astype(np.float64)
    lo_prev2, hi_prev2 = 0, -1  # what `new` holds: nothing yet
    lo_prev, hi_prev = 0, 0
    blo = 0  # smallest j with big*j > ng*s - h
    bhi = 0  # largest j with big*j < ng*s + h
    for s in range(1, s_end + 1):
        while big * blo <= ng * s - h:
            blo += 1
        while big * (bhi + 1) < ng * s + h:
            bhi += 1
        lo = max(blo, s - m, 0)
        hi = min(bhi, n, s)
        # (lo > hi: no cell of this anti-diagonal is inside; every path has
        # left the band, and the ones carry that on as the columns do)
        r = 1.0 / s
        top = hi + 1
        if lo <= hi and hi == s:  # the cell (0, s): inside on the first column
            new[s + 1] = 0.0
            top = hi
        fs = float(s)
        if flush:
            for j in range(lo, top):
                u = np.uint64(j)
                v = u + np.uint64(1)
                x = old[v] * ((fs - jf[u]) * r) + old[u] * (jf[u] * r)
                new[v] = x if x >= _FLUSH else 0.0
        else:
            for j in range(lo, top):
                # unsigned indices: no negative-index wraparound, so the loop
                # vectorizes; fs - jf[u] is exactly float(s - j)
                u = np.uint64(j)
                v = u + np.uint64(1)
                new[v] = old[v] * ((fs - jf[u]) * r) + old[u] * (jf[u] * r)
        # keep 1 (outside) everywhere else in this buffer
        for j in range(lo_prev2, min(lo, hi_prev2 + 1)):
            new[j + 1] = 1.0
        for j in range(max(hi + 1, lo_prev2), hi_prev2 + 1):
            new[j + 1] = 1.0
        lo_prev2, hi_prev2 = lo_prev, hi_prev
        lo_prev, hi_prev = lo, hi
        old, new = new, old
    return new, old


@njit(**_JIT)
def _round_half_even(x):
    f = math.floor(x)
    diff = x - f
    if diff > 0.5:
        return f + 1.0
    if diff < 0.5:
        return f
    return f if f % 2 == 0 else f + 1.0


# alternative codes
TWO_SIDED = 0
LESS = 1
GREATER = 2
# method codes
AUTO = 0
EXACT = 1
ASYMP = 2
# outcome codes
DONE_EXACT = 0
DONE_ASYMP = 1
NEEDS_SCIPY = 2  # one-sided exact with n1 != n2: done by scipy in Python
_MAX_AUTO_N = 10000
_INT32_MAX = 2147483647.0


@njit(**_JIT)
def ks_2samp_pvalue(n1, n2, d, alternative, method):
    """p-value of the two-sample KS statistic, as ``scipy.stats.ks_2samp``.

    Returns ``(statistic, pvalue, outcome)``. ``statistic`` is ``d`` as scipy
    reports it (in exact mode rounded to a multiple of 1/lcm(n1, n2));
    ``outcome`` says which method produced the p-value, or that the
    one-sided exact case with unequal sizes is left to scipy.
    """
    g = math.gcd(n1, n2)
    n1g = n1 // g
    n2g = n2 // g
    mode = method
    if mode == AUTO:
        mode = EXACT if max(n1, n2) <= _MAX_AUTO_N else ASYMP
    elif mode == EXACT and n1g >= _INT32_MAX / n2g:
        mode = ASYMP
    prob = np.nan
    if mode == EXACT:
        lcm = (n1 // g) * n2
        h = int(_round_half_even(d * lcm))
        d = h * 1.0 / lcm
        if h == 0:
            return d, 1.0, DONE_EXACT
        if alternative == TWO_SIDED:
            if n1 == n2:
                prob = _compute_prob_outside_square(n1, h)
            else:
                prob = _compute_outer_prob_inside_method(n1, n2, g, h)
        elif n1 == n2:
            prob = 1.0
            for j in range(h):
                prob *= (n1 - j) / (n1 + j + 1.0)
        else:
            return d, np.nan, NEEDS_SCIPY
        if 0 <= prob <= 1:
            return d, prob, DONE_EXACT
        mode = ASYMP
    # asymptotic
    m = float(max(n1, n2))
    nn = float(min(n1, n2))
    en = m * nn / (m + nn)
    if alternative == TWO_SIDED:
        prob = kstwo_sf(d, int(_round_half_even(en)))
    else:
        prob = hodges_sf(d, m, nn)
    return d, _clip01(prob), DONE_ASYMP


@njit(**_JIT)
def hodges_sf(d, m, n):
    """Hodges' approximation (eqn 5.3) of the one-sided p-value; m >= n."""
    en = m * n / (m + n)
    z = np.sqrt(en) * d
    expt = -2 * z**2 - 2 * z * (m + 2 * n) / np.sqrt(m * n * (m + n)) / 3.0
    return np.exp(expt)


# --------------------------------------------------------------------------
# The KS statistic and the PSI / category counts of one column
# --------------------------------------------------------------------------


@njit(**_JIT)
def _gallop_left(a, lo, n, x):
    """First index i in [lo, n] with a[i] >= x (a sorted), searching forward
    from lo with doubling steps then bisection."""
    if lo >= n or a[lo] >= x:
        return lo
    step = 1
    prev = lo
    hi = lo + 1
    while hi < n and a[hi] < x:
        prev = hi
        step *= 2
        hi = prev + step
    if hi > n:
        hi = n
    return _first_ge(a, prev + 1, hi, x)


@njit(**_JIT)
def _skip_below(b, j, nb, x):
    """First index i >= j with b[i] >= x (b sorted ascending, no NaN before
    nb): a short linear scan (the usual gap between consecutive batch values
    in the reference is a few elements, and a predictable loop beats a
    search there), then galloping for long gaps."""
    stop = min(j + 16, nb)
    while j < stop and b[j] < x:
        j += 1
    if j < stop or j == nb:
        return j
    return _gallop_left(b, j, nb, x)


@njit(**_JIT)
def _ecdf_extremes(a, na, b, nb):
    """max and min over all values t of  #a<=t / na  -  #b<=t / nb.

    Walks the distinct values of ``a`` (the shorter array) and skips through
    ``b``. Between two consecutive values of ``a`` the difference only falls
    as values of ``b`` pass, so it suffices to evaluate it at each value of
    ``a`` and just before it; every evaluated pair (i, j) is one that scipy's
    searchsorted formulation also evaluates.

    The pairs are ranked by the exact integer ``i*nb - j*na``; the float
    ``i/na - j/nb`` (scipy's two divisions and one subtraction) is computed
    only for pairs that tie or beat the best so far, and the largest float
    among the pairs of the best rank is kept. Pairs of different rank differ
    by at least 1/(na*nb), far more than rounding, so the result is the same
    float scipy's maximum gives (checked to hold while na*nb < 2**50; larger
    products take the float comparison for every pair).
    """
    exact_rank = na * nb < 2**50
    kmax = 0  # the pair (na, nb): 1 - 1
    kmin = 0
    dmax = 0.0
    dmin = 0.0
    j = 0
    i = 0
    while i < na:
        x = a[i]
        jl = _skip_below(b, j, nb, x)
        if jl > 0:
            key = i * nb - jl * na
            if not exact_rank or key <= kmin:
                diff = i / na - jl / nb
                if (exact_rank and key < kmin) or diff < dmin:
                    kmin = key
                    dmin = diff
        i2 = i + 1
        while i2 < na and a[i2] == x:
            i2 += 1
        jr = jl
        while jr < nb and b[jr] <= x:
            jr += 1
        key = i2 * nb - jr * na
        if not exact_rank or key >= kmax:
            diff = i2 / na - jr / nb
            if (exact_rank and key > kmax) or diff > dmax:
                kmax = key
                dmax = diff
        if not exact_rank or key <= kmin:
            diff = i2 / na - jr / nb
            if (exact_rank and key < kmin) or diff < dmin:
                kmin = key
                dmin = diff
        i = i2
        j = jr
    return dmax, dmin


@njit(**_JIT)
def ks_extremes_one(ref, n_ref, bat, n_bat):
    """(max, min) of cdf_ref - cdf_batch for one column."""
    if n_ref <= n_bat:
        return _ecdf_extremes(ref, n_ref, bat, n_bat)
    # x - y == 0.0 - (y - x) exactly in IEEE arithmetic, zero's sign
    # included (-(y - x) would turn scipy's 0.0 into -0.0)
    hi, lo = _ecdf_extremes(bat, n_bat, ref, n_ref)
    return 0.0 - lo, 0.0 - hi


@njit(**_JIT)
def _bin_index(edges, ne, x):
    """Number of inner edges <= x (searchsorted 'right')."""
    return _first_gt(edges, 0, ne, x)


_PSI_BLOCK = 4096  # values per block: 32 KB, stays in L1 across the passes


@njit(**_JIT)
def _count_at_least(row, start, stop, e):
    c = 0
    for i in range(np.uint64(start), np.uint64(stop)):
        c += row[i] >= e
    return c


@njit(**_JIT)
def _count_at_least3(row, start, stop, e0, e1, e2):
    # three edges per pass: one load per value instead of three
    a = 0
    b = 0
    c = 0
    for i in range(np.uint64(start), np.uint64(stop)):
        x = row[i]
        a += x >= e0
        b += x >= e1
        c += x >= e2
    return a, b, c


@njit(**_JIT)
def _count_at_least3_nan(row, start, stop, e0, e1, e2):
    # the first three edges and the NaN count in one pass
    a = 0
    b = 0
    c = 0
    d = 0
    for i in range(np.uint64(start), np.uint64(stop)):
        x = row[i]
        a += x >= e0
        b += x >= e1
        c += x >= e2
        d += x != x
    return a, b, c, d


@njit(**_JIT)
def _count_nan(row, start, stop):
    c = 0
    for i in range(np.uint64(start), np.uint64(stop)):
        c += row[i] != row[i]
    return c


@njit(**_JIT)
def _bin_counts_row(row, n, e, ne, out):
    width = out.shape[0]
    if ne <= 32:
        # Branch-free passes that count the values at or above each edge,
        # three edges per pass (NaN compare false, so they are counted
        # apart, in the first pass): about one cycle per value and edge, far
        # less than a mispredicted search per value. The passes run over one
        # L1-sized block at a time, so the column is read from memory once.
        # out[k] first collects the count >= e[k].
        nan = 0
        for start in range(0, n, _PSI_BLOCK):
            stop = min(start + _PSI_BLOCK, n)
            k = 0
            if ne >= 3:
                a, b, c, d = _count_at_least3_nan(row, start, stop, e[0], e[1], e[2])
                out[0] += a
                out[1] += b
                out[2] += c
                nan += d
                k = 3
            else:
                nan += _count_nan(row, start, stop)
            while k + 3 <= ne:
                a, b, c = _count_at_least3(row, start, stop, e[k], e[k + 1], e[k + 2])
                out[k] += a
                out[k + 1] += b
                out[k + 2] += c
                k += 3
            while k < ne:
                out[k] += _count_at_least(row, start, stop, e[k])
                k += 1
        above = n - nan
        for k in range(ne):
            ge = out[k]
            out[k] = above - ge
            above = ge
        out[ne] = above
        out[width - 1] = nan
        return
    for i in range(n):
        x = row[i]
        if x != x:
            out[width - 1] += 1
        else:
            out[_bin_index(e, ne, x)] += 1


# --------------------------------------------------------------------------
# Entry kernels, called from Python worker threads (``nogil``)
# --------------------------------------------------------------------------

KS_INDEX_STEP = 32


@njit(**_JIT)
def _first_gt(b, lo, hi, x):
    """First index p in [lo, hi) with b[p] > x, else hi (b sorted)."""
    while lo < hi:
        mid = (lo + hi) >> 1
        if b[mid] <= x:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(**_JIT)
def _first_ge(b, lo, hi, x):
    """First index p in [lo, hi) with b[p] >= x, else hi (b sorted)."""
    while lo < hi:
        mid = (lo + hi) >> 1
        if b[mid] < x:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(**_JIT)
def _ecdf_extremes_indexed(a, na, b, nb, s, step):
    """Same result as ``_ecdf_extremes(a, na, b, nb)`` (a the shorter array)
    reading ``b`` only where it matters.

    ``s`` holds every ``step``-th value of ``b`` (``s[q] = b[q*step]``, kept
    with the reference). The samples cut ``a`` into runs: the values x of
    ``a`` with ``s[q-1] <= x < s[q]`` all have between ``(q-1)*step + 1`` and
    ``q*step`` values of ``b`` at or below them (likewise for "below" with
    ``s[q-1] < x <= s[q]``). A first pass over the samples alone finds the
    runs and bounds the integer rank ``i*nb - j*na`` of every pair
    ``_ecdf_extremes`` evaluates in each run; the ranks certainly reached
    give the best so far. A second pass computes exact counts (a binary
    search inside one block of ``step`` values) only in the runs whose
    bounds leave a pair able to tie or beat it, and ranks those pairs
    exactly as ``_ecdf_extremes`` does. Every pair that can reach the final
    maximum (or minimum) rank is evaluated, and the result depends only on
    those pairs, so it is the same float.

    The reference column (1,000,000 values, 8 MB) is then read at a few
    places instead of streamed in full for every batch.
    """
    nq = (nb + step - 1) // step
    # run boundaries: lt[q] = #a < s[q], le[q] = #a <= s[q] (q < nq), na at nq
    lt = np.empty(nq + 1, dtype=np.int64)
    le = np.empty(nq + 1, dtype=np.int64)
    p = 0
    pe = 0
    for q in range(nq):
        x = s[q]
        while p < na and a[p] < x:
            p += 1
        if pe < p:
            pe = p
        while pe < na and a[pe] <= x:
            pe += 1
        lt[q] = p
        le[q] = pe
    lt[nq] = na
    le[nq] = na

    # pass 1: ranks certainly reached
    best_max = 0  # the pair (na, nb)
    best_min = 0
    start = 0
    for q in range(nq + 1):
        stop = lt[q]  # "at or below" run q: a[start:stop]
        if stop > start and q > 0:
            j_lo = (q - 1) * step + 1
            j_hi = min(q * step, nb)
            key = stop * nb - j_hi * na
            if key > best_max:
                best_max = key
            key = stop * nb - j_lo * na
            if key < best_min:
                best_min = key
        elif stop > start:  # q == 0: no value of b at or below
            key = stop * nb
            if key > best_max:
                best_max = key
        start = stop
    start = 0
    for q in range(nq + 1):
        stop = le[q]  # "below" run q
        if stop > start and q > 0:
            key = start * nb - ((q - 1) * step + 1) * na
            if key < best_min:
                best_min = key
        start = stop

    # pass 2: exact counts in the runs that can tie or beat those ranks
    kmax = 0
    kmin = 0
    dmax = 0.0
    dmin = 0.0
    start = 0
    for q in range(nq + 1):
        stop = lt[q]
        if stop > start:
            if q > 0:
                j_lo = (q - 1) * step + 1
                j_hi = min(q * step, nb)
            else:
                j_lo = 0
                j_hi = 0
            if stop * nb - j_lo * na >= best_max or (start + 1) * nb - j_hi * na <= best_min:
                i = start
                while i < stop:
                    x = a[i]
                    i2 = i + 1
                    while i2 < stop and a[i2] == x:
                        i2 += 1
                    jr = _first_gt(b, j_lo, j_hi, x)
                    key = i2 * nb - jr * na
                    if key >= kmax:
                        diff = i2 / na - jr / nb
                        if key > kmax or diff > dmax:
                            kmax = key
                            dmax = diff
                    if key <= kmin:
                        diff = i2 / na - jr / nb
                        if key < kmin or diff < dmin:
                            kmin = key
                            dmin = diff
                    i = i2
        start = stop
    start = 0
    for q in range(nq + 1):
        stop = le[q]
        if stop > start and q > 0:
            j_lo = (q - 1) * step + 1
            j_hi = min(q * step, nb)
            if start * nb - j_hi * na <= best_min:
                i = start
                while i < stop:
                    x = a[i]
                    i2 = i + 1
                    while i2 < stop and a[i2] == x:
                        i2 += 1
                    jl = _first_ge(b, j_lo, j_hi, x)
                    key = i * nb - jl * na
                    if key <= kmin:
                        diff = i / na - jl / nb
                        if key < kmin or diff < dmin:
                            kmin = key
                            dmin = diff
                    i = i2
        start = stop
    return dmax, dmin


@njit(**_JIT)
def ks_statistic_one(ref, nr, index, nq, step, bat, nb, alternative):
    """KS statistic of one column pair, as ``scipy.stats.ks_2samp(ref, bat)``
    computes it before its p-value step (+1 as the sign when the reference
    ECDF is above the batch's at the maximum, -1 below); ``index[:nq]``
    holds every ``step``-th of the ``nr`` sorted reference values (``nq =
    0``: no index). Returns ``(d, sign)``."""
    if nr == 0 or nb == 0:
        return np.nan, 0
    if nq > 0 and nr >= 2 * nb and nr * nb < 2**50:
        hi, lo = _ecdf_extremes_indexed(bat, nb, ref, nr, index, step)
        max_s, min_s = 0.0 - lo, 0.0 - hi  # as in ks_extremes_one
    else:
        max_s, min_s = ks_extremes_one(ref, nr, bat, nb)
    min_s = -min_s
    if min_s < 0.0:
        min_s = 0.0
    if min_s > 1.0:
        min_s = 1.0
    if alternative == 1 or (alternative == 0 and min_s > max_s):
        return min_s, -1
    return max_s, 1


@njit(**_JIT)
def ks_statistics_range(
    ref_sorted, ref_counts, index, step, bat, alternative, start, stop, stride, counts, d, sign
):
    """``ks_statistic_one`` of the rows start, start + stride, ... < stop of
    the sorted blocks ``ref_sorted`` and ``bat`` (NaN last in each row; one
    worker's share, one call for all of a batch's columns instead of one
    call each), with ``index`` every ``step``-th value of ``ref_sorted``'s
    rows. Writes each batch row's non-NaN count into ``counts``, the
    statistic into ``d``, its sign into ``sign``."""
    n = bat.shape[1]
    for f in range(start, stop, stride):
        row = bat[f]
        nb = n
        while nb > 0 and np.isnan(row[nb - 1]):
            nb -= 1
        counts[f] = nb
        nr = ref_counts[f]
        nq = -(-nr // step)
        d[f], sign[f] = ks_statistic_one(
            ref_sorted[f], nr, index[f], nq, step, row, nb, alternative
        )


@njit(**_JIT)
def ks_pvalues_range(n_ref, n_bat, d, alternative, method, start, stop, stride, stat, p, outcome):
    """scipy's p-value step (``ks_2samp_pvalue``) for the features start,
    start + stride, ... < stop, written into stat, p and outcome (one
    worker's share); NaN and outcome -1 where a side is empty."""
    for f in range(start, stop, stride):
        if n_ref[f] == 0 or n_bat[f] == 0 or np.isnan(d[f]):
            stat[f] = np.nan
            p[f] = np.nan
            outcome[f] = -1
            continue
        s, q, o = ks_2samp_pvalue(n_ref[f], n_bat[f], d[f], alternative, method)
        stat[f] = s
        p[f] = q
        outcome[f] = o


@njit(**_JIT)
def bin_counts_one(row, edges, ne, out):
    """Histogram of one column over its ``ne`` inner edges, into ``out``
    (length at least ``ne + 2``, zeroed). Bin k holds ``edges[k-1] <= x <
    edges[k]`` (bin 0 is everything below the first edge, bin ``ne``
    everything from the last edge up, +inf included); the last entry of
    ``out`` counts NaN."""
    _bin_counts_row(row, row.shape[0], edges, ne, out)


@njit(**_JIT)
def code_counts_one(row, n_codes):
    """Counts of the integer codes 0..n_codes-1 of one column; code -1
    (missing) is counted in the last of the ``n_codes + 1`` entries."""
    out = np.zeros(n_codes + 1, dtype=np.int64)
    for i in range(row.shape[0]):
        c = row[i]
        if c < 0:
            out[n_codes] += 1
        else:
            out[c] += 1
    return out


# --------------------------------------------------------------------------
# Monte Carlo p-value of a 2 x k table (``_tables.monte_carlo``)
# --------------------------------------------------------------------------

# L'Ecuyer's MRG32k3a generator: every product stays below 2**53, so numba's
# int64 arithmetic, numpy's and Python's give the same stream (the kernel, its
# NUMBA_DISABLE_JIT run and the twin in _reference).
_M1 = 4294967087
_M2 = 4294944443
_A12 = 1403580
_A13N = 810728
_A21 = 527612
_A23N = 1370589
_NORM = 1.0 / (_M1 + 1)


@njit(**_JIT)
def _mrg_seed(seed, state):
    """The generator's six-number state for an integer seed, into ``state``."""
    for i in range(6):
        state[i] = 12345
    state[0] = 12345 + seed % (_M1 - 12345)
    state[3] = 12345 + (seed // _M1) % (_M2 - 12345)


@njit(**_JIT)
def _mrg_uniform(state):
    """The next float in (0, 1) of the generator, advancing ``state``."""
    p1 = (_A12 * state[1] - _A13N * state[0]) % _M1
    state[0] = state[1]
    state[1] = state[2]
    state[2] = p1
    p2 = (_A21 * state[5] - _A23N * state[3]) % _M2
    state[3] = state[4]
    state[4] = state[5]
    state[5] = p2
    if p1 > p2:
        return (p1 - p2) * _NORM
    return (p1 - p2 + _M1) * _NORM


@njit(**_JIT)
def _table_term(ref_j, bat_j, n, m, pooled_j, total, statistic, eps, yates):
    """One category's term of Pearson's chi-square (``statistic`` 0; Yates'
    correction when ``yates``, as scipy's ``chi2_contingency`` does with two
    categories) or of PSI (1; shares floored at ``eps``)."""
    if statistic == 0:
        e_ref = n * pooled_j / total
        e_bat = m * pooled_j / total
        d = abs(bat_j - e_bat)
        if yates:
            d -= min(0.5, d)
        return d * d / e_ref + d * d / e_bat
    p = max(ref_j / n, eps)
    q = max(bat_j / m, eps)
    return (q - p) * math.log(q / p)


@njit(**_JIT)
def _fenwick_find(tree, k, top, target):
    """The 0-based category j with cumulative count(j - 1) <= target <
    cumulative count(j), in a Fenwick tree of the counts (``top``: the
    largest power of two <= k)."""
    pos = 0
    step = top
    while step > 0:
        nxt = pos + step
        if nxt <= k and tree[nxt] <= target:
            pos = nxt
            target -= tree[nxt]
        step >>= 1
    return pos


@njit(**_JIT)
def _fenwick_add(tree, k, j, delta):
    i = j + 1
    while i <= k:
        tree[i] += delta
        i += i & -i


@njit(**_JIT)
def table_exceedances(ref, bat, statistic, eps, n_draws, seed):
    """The statistic of the 2 x k table (ref, bat) and how many of
    ``n_draws`` tables drawn under the null hypothesis, with the same row and
    column totals, reach it (within 1e-9 relative).

    A draw is a uniformly random split of the pooled values: the smaller
    side's values are drawn one by one without replacement from the pooled
    counts (a Fenwick tree of the counts left finds each value's category in
    O(log k)), the other side is the rest. This is the permutation
    distribution of the two samples' labels. The statistic of a draw is
    updated from that of an empty drawn side over the categories drawn
    only, so a draw costs O(size log k), not O(k). ``ref`` and ``bat`` are
    int64 counts whose sums are positive and whose pooled counts are all
    positive.
    """
    k = ref.shape[0]
    n = 0
    m = 0
    for j in range(k):
        n += ref[j]
        m += bat[j]
    total = n + m
    pooled = ref + bat
    yates = k == 2
    observed = 0.0
    for j in range(k):
        observed += _table_term(ref[j], bat[j], n, m, pooled[j], total, statistic, eps, yates)
    floor = observed - 1e-9 * abs(observed)
    draw_batch = m <= n
    size = m if draw_batch else n
    # the statistic when the drawn side is empty, and each category's term then
    base = np.empty(k)
    base_sum = 0.0
    for j in range(k):
        if draw_batch:
            base[j] = _table_term(pooled[j], 0, n, m, pooled[j], total, statistic, eps, yates)
        else:
            base[j] = _table_term(0, pooled[j], n, m, pooled[j], total, statistic, eps, yates)
        base_sum += base[j]
    tree = np.zeros(k + 1, dtype=np.int64)
    for j in range(k):
        _fenwick_add(tree, k, j, pooled[j])
    top = 1
    while top * 2 <= k:
        top *= 2
    drawn = np.zeros(k, dtype=np.int64)
    touched = np.empty(max(size, 1), dtype=np.int64)
    state = np.empty(6, dtype=np.int64)
    _mrg_seed(seed, state)
    count = 0
    for _ in range(n_draws):
        n_touched = 0
        left = total
        for _t in range(size):
            target = int(_mrg_uniform(state) * left)
            j = _fenwick_find(tree, k, top, target)
            _fenwick_add(tree, k, j, -1)
            if drawn[j] == 0:
                touched[n_touched] = j
                n_touched += 1
            drawn[j] += 1
            left -= 1
        value = base_sum
        for i in range(n_touched):
            j = touched[i]
            x = drawn[j]
            if draw_batch:
                term = _table_term(pooled[j] - x, x, n, m, pooled[j], total, statistic, eps, yates)
            else:
                term = _table_term(x, pooled[j] - x, n, m, pooled[j], total, statistic, eps, yates)
            value += term - base[j]
            _fenwick_add(tree, k, j, x)
            drawn[j] = 0
        if value >= floor:
            count += 1
    return observed, count
