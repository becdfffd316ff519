"""Plain numpy (and scipy) twins of the kernels the library runs.

They are the oracles of the tests: slow, short and written the obvious way,
with nothing imported from the rest of mlpipe.drift. One twin per entry
kernel of ``_kernels.py``:

==========================================  =================================
kernel                                      twin
==========================================  =================================
``ks_statistic_one``                        :func:`ks_statistic`
``ks_pvalues_range`` (``ks_2samp_pvalue``)  :func:`ks_pvalues`
``hodges_sf``                               :func:`hodges_sf`
``kstwo_sf``                                ``scipy.stats.kstwo.sf``
``smirnov_sf``                              ``scipy.special.smirnov``
``_compute_outer_prob_inside_method``       scipy's function of the same name
``bin_counts_one``                          :func:`bin_counts_one`
``code_counts_one``                         :func:`code_counts_one`
``table_exceedances``                       :func:`table_exceedances`
==========================================  =================================
"""

import math

import numpy as np
from scipy import stats

_ALTERNATIVES = ("two-sided", "less", "greater")
_METHODS = ("auto", "exact", "asymp")


def ks_statistic(ref, bat, alternative):
    """Twin of ``_kernels.ks_statistic_one`` (and, column by column, of
    ``_kernels.ks_statistics_range``): the KS statistic of the
    non-missing values of two samples (any order) and its sign, as
    ``scipy.stats.ks_2samp`` computes them (``alternative`` as its code);
    (NaN, 0) when a side has no values."""
    ref = np.sort(np.asarray(ref, dtype=np.float64))
    bat = np.sort(np.asarray(bat, dtype=np.float64))
    ref, bat = ref[~np.isnan(ref)], bat[~np.isnan(bat)]
    if ref.size == 0 or bat.size == 0:
        return np.nan, 0
    data_all = np.concatenate([ref, bat])
    cdf1 = np.searchsorted(ref, data_all, side="right") / ref.shape[0]
    cdf2 = np.searchsorted(bat, data_all, side="right") / bat.shape[0]
    cddiffs = cdf1 - cdf2
    min_s = np.clip(-cddiffs[np.argmin(cddiffs)], 0, 1)
    max_s = cddiffs[np.argmax(cddiffs)]
    if alternative == 1 or (alternative == 0 and min_s > max_s):
        return min_s, -1
    return max_s, 1


def ks_pvalues(n_ref, n_bat, d, alternative, method):
    """Twin of ``_kernels.ks_pvalues_range`` over every feature, by scipy's
    own functions (alternative and method as their codes)."""
    out = np.empty(len(d))
    stat = np.empty(len(d))
    for f in range(len(d)):
        stat[f], out[f] = ks_pvalue(
            int(n_ref[f]), int(n_bat[f]), float(d[f]), _ALTERNATIVES[alternative], _METHODS[method]
        )
    return stat, out


def ks_pvalue(n1, n2, d, alternative="two-sided", method="auto"):
    """scipy's p-value for a KS statistic ``d`` between samples of sizes n1
    and n2 (the tail of ``scipy.stats.ks_2samp`` after the statistic)."""
    from scipy.stats._stats_py import _attempt_exact_2kssamp

    g = math.gcd(n1, n2)
    n1g, n2g = n1 // g, n2 // g
    mode = method
    if mode == "auto":
        mode = "exact" if max(n1, n2) <= 10000 else "asymp"
    elif mode == "exact" and n1g >= np.iinfo(np.int32).max / n2g:
        mode = "asymp"
    if mode == "exact":
        with np.errstate(all="ignore"):
            success, d, prob = _attempt_exact_2kssamp(n1, n2, g, d, alternative)
        if success:
            return d, float(np.clip(prob, 0, 1))
    m, n = sorted([float(n1), float(n2)], reverse=True)
    en = m * n / (m + n)
    two_sided = alternative == "two-sided"
    prob = stats.kstwo.sf(d, np.round(en)) if two_sided else hodges_sf(d, m, n)
    return d, float(np.clip(prob, 0, 1))


def hodges_sf(d, m, n):
    """Hodges' (1958) approximation of the one-sided two-sample p-value,
    eqn 5.3, as scipy writes it; m >= n."""
    z = np.sqrt(m * n / (m + n)) * d
    return np.exp(-2 * z**2 - 2 * z * (m + 2 * n) / np.sqrt(m * n * (m + n)) / 3.0)


def bin_counts_one(row, edges):
    """Twin of ``_kernels.bin_counts_one``: counts of the non-NaN values of
    ``row`` in the bins cut at the inner ``edges`` (an edge value in the bin
    above it), then the NaN count."""
    row = np.asarray(row, dtype=np.float64)
    nan = np.isnan(row)
    idx = np.searchsorted(edges, row[~nan], side="right")
    return np.append(np.bincount(idx, minlength=len(edges) + 1), nan.sum())


def code_counts_one(codes, n_codes):
    """Twin of ``_kernels.code_counts_one``: counts of the codes
    0..n_codes-1, then the count of -1 (missing)."""
    codes = np.asarray(codes)
    return np.append(np.bincount(codes[codes >= 0], minlength=n_codes), (codes < 0).sum())


def psi(ref_values, batch_values, inner_edges, eps=1e-4):
    """PSI of one numeric column the textbook way.

    Counts by ``np.histogram`` over the bins ``[-inf, e1), [e1, e2), ...,
    [ek, inf]`` (NaN left out on both sides), shares floored at ``eps``, and
    ``PSI = sum_i (b_i - r_i) * ln(b_i / r_i)`` term by term.
    """
    r = np.asarray(ref_values, dtype=np.float64)
    b = np.asarray(batch_values, dtype=np.float64)
    bins = np.concatenate([[-np.inf], np.asarray(inner_edges, dtype=np.float64), [np.inf]])
    r_counts = np.histogram(r[~np.isnan(r)], bins=bins)[0]
    b_counts = np.histogram(b[~np.isnan(b)], bins=bins)[0]
    total = 0.0
    for rc, bc in zip(r_counts, b_counts, strict=True):
        r_share = max(rc / r_counts.sum(), eps)
        b_share = max(bc / b_counts.sum(), eps)
        total += (b_share - r_share) * math.log(b_share / r_share)
    return total


def chi2(ref_counts, batch_counts):
    """``scipy.stats.chi2_contingency`` on the 2 x k table (Yates' correction
    when k = 2), all-zero categories dropped; returns (stat, p, dof)."""
    table = np.array([ref_counts, batch_counts], dtype=np.float64)
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2 or (table.sum(axis=1) == 0).any():
        return 0.0, 1.0, 0
    res = stats.chi2_contingency(table)
    return float(res.statistic), float(res.pvalue), int(res.dof)


def quantile_edges(values, n_bins):
    """Inner edges at the finite reference values' quantiles (``np.quantile``,
    linear), repeated ones dropped."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return np.empty(0)
    return np.unique(np.quantile(v, np.linspace(0, 1, n_bins + 1)[1:-1]))


def _uniforms(seed):
    """The kernels' generator, L'Ecuyer's MRG32k3a, in Python integers."""
    m1, m2 = 4294967087, 4294944443
    s1 = [12345 + seed % (m1 - 12345), 12345, 12345]
    s2 = [12345 + (seed // m1) % (m2 - 12345), 12345, 12345]
    while True:
        p1 = (1403580 * s1[1] - 810728 * s1[0]) % m1
        s1 = [s1[1], s1[2], p1]
        p2 = (527612 * s2[2] - 1370589 * s2[0]) % m2
        s2 = [s2[1], s2[2], p2]
        yield ((p1 - p2) % m1 or m1) * (1.0 / (m1 + 1))


def table_statistic(ref, bat, statistic, eps=1e-4):
    """Pearson's chi-square (0: ``scipy.stats.chi2_contingency``'s, Yates'
    correction for two categories) or PSI (1) of a 2 x k table."""
    table = np.array([ref, bat], dtype=np.float64)
    if statistic == 0:
        return float(stats.chi2_contingency(table, correction=True).statistic)
    p = np.maximum(table[0] / table[0].sum(), eps)
    q = np.maximum(table[1] / table[1].sum(), eps)
    return float(np.sum((q - p) * np.log(q / p)))


def table_exceedances(ref, bat, statistic, eps, n_draws, seed):
    """Twin of ``_kernels.table_exceedances``: the same draws (the same
    generator; each value picked by ``np.searchsorted`` over the cumulative
    counts left), the statistic by :func:`table_statistic`."""
    ref = np.asarray(ref, dtype=np.int64)
    bat = np.asarray(bat, dtype=np.int64)
    pooled = ref + bat
    n, m = int(ref.sum()), int(bat.sum())
    observed = table_statistic(ref, bat, statistic, eps)
    uniforms = _uniforms(seed)
    count = 0
    for _ in range(n_draws):
        left = pooled.copy()
        drawn = np.zeros_like(pooled)
        for _t in range(min(n, m)):
            target = int(next(uniforms) * left.sum())
            j = int(np.searchsorted(np.cumsum(left), target, side="right"))
            left[j] -= 1
            drawn[j] += 1
        sim_ref, sim_bat = (pooled - drawn, drawn) if m <= n else (drawn, pooled - drawn)
        value = table_statistic(sim_ref, sim_bat, statistic, eps)
        count += value >= observed - 1e-9 * abs(observed)
    return observed, count
