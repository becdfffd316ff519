"""Plain numpy (and scipy) versions of every kernel in ``_kernels.py``.

They are the oracles of the tests: slow, short and written the obvious way.
"""

import math

import numpy as np
from scipy import special, stats

_ALTERNATIVES = ("two-sided", "less", "greater")
_METHODS = ("auto", "exact", "asymp")


def ks_extremes(ref, bat):
    """(max, min) of ECDF(ref) - ECDF(bat) over the pooled values, exactly as
    ``scipy.stats.ks_2samp`` computes ``cddiffs``."""
    ref = np.sort(ref)
    bat = np.sort(bat)
    data_all = np.concatenate([ref, bat])
    cdf1 = np.searchsorted(ref, data_all, side="right") / ref.shape[0]
    cdf2 = np.searchsorted(bat, data_all, side="right") / bat.shape[0]
    cddiffs = cdf1 - cdf2
    return cddiffs.max(), cddiffs.min()


def ks_statistics(ref, ref_counts, bat, bat_counts, alternative):
    """Numpy twin of ``_kernels.ks_statistics`` (alternative as its code)."""
    nf = ref.shape[0]
    d = np.empty(nf)
    sign = np.empty(nf, dtype=np.int8)
    for f in range(nf):
        if ref_counts[f] == 0 or bat_counts[f] == 0:
            d[f], sign[f] = np.nan, 0
            continue
        max_s, min_s = ks_extremes(ref[f, : ref_counts[f]], bat[f, : bat_counts[f]])
        min_s = np.clip(-min_s, 0, 1)
        if alternative == 1 or (alternative == 0 and min_s > max_s):
            d[f], sign[f] = min_s, -1
        else:
            d[f], sign[f] = max_s, 1
    return d, sign


def ks_2samp(ref, bat, alternative="two-sided", method="auto"):
    """scipy's ``ks_2samp`` with NaN dropped (``nan_policy='omit'``), which is
    what the drift detectors compute; returns (statistic, pvalue)."""
    ref = np.asarray(ref, dtype=np.float64)
    bat = np.asarray(bat, dtype=np.float64)
    res = stats.ks_2samp(
        ref[~np.isnan(ref)], bat[~np.isnan(bat)], alternative=alternative, method=method
    )
    return float(res.statistic), float(res.pvalue)


def ks_pvalues(n_ref, n_bat, d, alternative, method):
    """The p-value step alone, by scipy's own functions."""
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
    if alternative == "two-sided":
        prob = stats.kstwo.sf(d, np.round(en))
    else:
        z = np.sqrt(en) * d
        prob = np.exp(-2 * z**2 - 2 * z * (m + 2 * n) / np.sqrt(m * n * (m + n)) / 3.0)
    return d, float(np.clip(prob, 0, 1))


def bin_counts(values, edges, n_edges):
    """Numpy twin of ``_kernels.bin_counts``."""
    nf, _ = values.shape
    width = edges.shape[1] + 2
    out = np.zeros((nf, width), dtype=np.int64)
    for f in range(nf):
        row = values[f]
        nan = np.isnan(row)
        idx = np.searchsorted(edges[f, : n_edges[f]], row[~nan], side="right")
        out[f, : n_edges[f] + 1] = np.bincount(idx, minlength=n_edges[f] + 1)
        out[f, width - 1] = nan.sum()
    return out


def code_counts(codes, n_codes):
    """Numpy twin of ``_kernels.code_counts``."""
    out = np.zeros((codes.shape[0], n_codes + 1), dtype=np.int64)
    for f in range(codes.shape[0]):
        row = codes[f]
        out[f, :n_codes] = np.bincount(row[row >= 0], minlength=n_codes)
        out[f, n_codes] = (row < 0).sum()
    return out


def psi(ref_values, batch_values, inner_edges, eps=1e-4):
    """PSI of one numeric column the textbook way, with ``np.histogram``.

    NaN are left out on both sides; bins are ``[-inf, e1), [e1, e2), ...,
    [ek, inf]``; empty bins count as ``eps``.
    """
    edges = np.concatenate([[-np.inf], inner_edges, [np.inf]])
    r = np.asarray(ref_values, dtype=np.float64)
    b = np.asarray(batch_values, dtype=np.float64)
    r, b = r[~np.isnan(r)], b[~np.isnan(b)]
    # np.histogram needs finite edges; the outer bins are open anyway.
    lo = min(r.min(initial=0.0), b.min(initial=0.0), *inner_edges[:1]) - 1.0
    hi = max(r.max(initial=0.0), b.max(initial=0.0), *inner_edges[-1:]) + 1.0
    finite = edges.copy()
    finite[0], finite[-1] = lo, hi
    r = np.clip(r, lo, hi)
    b = np.clip(b, lo, hi)
    rc = np.histogram(r, bins=finite)[0]
    bc = np.histogram(b, bins=finite)[0]
    # np.histogram closes the last bin; an edge value belongs to the bin on
    # its right, which the open-ended top bin already is.
    return psi_from_counts(rc, bc, eps)


def psi_from_counts(ref_counts, batch_counts, eps=1e-4):
    p = np.asarray(ref_counts, dtype=np.float64)
    q = np.asarray(batch_counts, dtype=np.float64)
    p = np.maximum(p / max(p.sum(), 1.0), eps)
    q = np.maximum(q / max(q.sum(), 1.0), eps)
    return float(np.sum((q - p) * np.log(q / p)))


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
    """Inner edges at the reference quantiles (``np.quantile``, linear)."""
    v = np.asarray(values, dtype=np.float64)
    v = v[~np.isnan(v)]
    if v.size == 0:
        return np.empty(0)
    q = np.quantile(v, np.linspace(0, 1, n_bins + 1)[1:-1])
    q = q[np.isfinite(q)]
    return np.unique(q)


def chdtrc(dof, stat):
    return special.chdtrc(dof, stat)
