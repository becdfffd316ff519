"""The two-sample Kolmogorov-Smirnov test of numeric columns: statistics only.

One of the three statistics modules of mlpipe.drift, with the signature
they share (see ``_base.STATISTICS``):

- ``KINDS``: the column kinds the test compares;
- ``fit_statistics(ref, X, columns, settings, threads)``: keep what the test
  needs of the reference columns ``columns`` of frame ``X`` in ``ref`` (a
  ``DriftReference``);
- ``score_statistics(ref, X, columns, settings, threads, distributions)``:
  ``{column: row}`` of the batch ``X``, and the plotted summaries of each
  column in ``distributions``.
"""

import math
import threading
import warnings

import numpy as np
from scipy import special, stats

from mlpipe.drift import _kernels
from mlpipe.drift._columns import (
    MIN_PARALLEL_VALUES,
    numeric_block,
    numeric_columns,
    run_threads,
    sorted_block,
)
from mlpipe.drift._kernels import DONE_EXACT, KS_INDEX_STEP, NEEDS_SCIPY
from mlpipe.drift._sketch import QuantileSketch, exact_points, ks_from_points
from mlpipe.utils._dataframe import BOOLEAN, DATETIME, NUMERIC

KINDS = (NUMERIC, DATETIME, BOOLEAN)
ALTERNATIVES = {"two-sided": 0, "less": 1, "greater": 2}
METHODS = {"auto": 0, "exact": 1, "asymp": 2}
_ECDF_POINTS = 201
_LEVELS = np.linspace(0.0, 1.0, _ECDF_POINTS)


def fit_statistics(ref, X, columns, settings, threads):
    """Sort every KS column of the reference once, and keep every
    ``index_step(n_rows)``-th sorted value as an index into it (or, beyond
    ``max_reference_rows`` rows, a quantile sketch of each column)."""
    ref.ks_columns = list(columns)
    values = numeric_columns(X, ref.ks_columns)
    ref.ks_sorted, ref.ks_counts = sorted_block(values, len(X), threads)
    finish_reference(ref, settings)


def finish_reference(ref, settings):
    """Index and plotted quantiles of the KS rows of ``ref``, after its
    sorted values were set or merged; sketch them first when the reference
    has more rows than ``settings["max_reference_rows"]``."""
    budget = settings["max_reference_rows"]
    if ref.ks_columns and ref.ks_sketches is None and budget is not None and ref.n_rows > budget:
        k = settings["sketch_size"]
        ref.ks_sketches = [
            QuantileSketch.from_values(ref.ks_sorted[f, : ref.ks_counts[f]], k)
            for f in range(len(ref.ks_columns))
        ]
        ref.ks_sorted = ref.ks_index = None
        ref.ks_index_step = 0
    if ref.ks_sketches is None:
        ref.ks_index, ref.ks_index_step = ks_index(ref.ks_sorted)
        ref.ks_quantiles = _row_quantiles(ref.ks_sorted, ref.ks_counts)
    else:
        ref.ks_quantiles = [s.quantiles(_LEVELS) for s in ref.ks_sketches]


def reference_points(ref, f):
    """``(u, lt, le)``: the distinct reference values of KS column ``f`` and
    the (exact, or sketched) counts of reference values below and at or
    below each."""
    if ref.ks_sketches is not None:
        return ref.ks_sketches[f].points()
    return exact_points(ref.ks_sorted[f, : int(ref.ks_counts[f])])


def score_statistics(ref, X, columns, settings, threads, distributions):
    cols = ref.ks_columns
    if not cols:
        return {}
    values = numeric_block(X, cols)
    if ref.ks_sketches is not None:
        values.sort(axis=1)  # NaN last
        bat_counts = (~np.isnan(values)).sum(axis=1).astype(np.int64)
        batch = []
        for f in range(len(cols)):
            u = reference_points(ref, f)[0]
            b = values[f, : bat_counts[f]]
            batch.append((np.searchsorted(b, u, "left"), np.searchsorted(b, u, "right")))
        quantiles = _row_quantiles(values, bat_counts)
        return rows_from_counts(ref, settings, bat_counts, batch, quantiles, threads, distributions)
    bat_sorted, bat_counts, d, _ = ks_statistics(
        ref.ks_sorted,
        ref.ks_counts,
        ref.ks_index,
        ref.ks_index_step,
        values,
        len(X),
        ALTERNATIVES[settings["alternative"]],
        threads,
    )
    stat, p, used = ks_pvalues_of(
        ref.ks_sorted,
        ref.ks_counts,
        bat_sorted,
        bat_counts,
        d,
        settings["alternative"],
        settings["method"],
        threads,
    )
    bat_quantiles = _row_quantiles(bat_sorted, bat_counts)
    return _rows(ref, settings, stat, p, used, bat_counts, bat_quantiles, distributions)


def rows_from_counts(ref, settings, bat_counts, batch, bat_quantiles, threads, distributions):
    """The KS rows of a batch known by its counts at the reference points:
    ``batch[f] = (lt, le)``, the batch values of column ``f`` below and at
    or below each of ``reference_points(ref, f)``; ``bat_counts`` the batch
    values of each column. Exact for an exact reference (every extreme of
    the ECDF difference lies at a reference point or its left limit); with
    a sketch, within the sketch's ``rank_error`` of the exact statistic."""
    alternative = settings["alternative"]
    nf = len(ref.ks_columns)
    d = np.full(nf, np.nan)
    pairs = [None] * nf
    for f in range(nf):
        nr, nb = int(ref.ks_counts[f]), int(bat_counts[f])
        if not (nr and nb):
            continue
        _, ref_lt, ref_le = reference_points(ref, f)
        hi, lo, at_hi, at_lo = ks_from_points(nr, ref_lt, ref_le, nb, *batch[f])
        max_s, min_s = hi, float(np.clip(-lo, 0, 1))
        if alternative == "less" or (alternative == "two-sided" and min_s > max_s):
            d[f], pairs[f] = min_s, ("less", at_lo)
        else:
            d[f], pairs[f] = max_s, ("greater", at_hi)
    alt = ALTERNATIVES[alternative]
    stat, p, outcome = ks_pvalues(
        ref.ks_counts, bat_counts, d, alt, METHODS[settings["method"]], threads
    )
    names = {DONE_EXACT: "exact", -1: ""}
    used = np.array([names.get(o, "asymp") for o in outcome.tolist()], dtype=object)
    for f in np.nonzero(outcome == NEEDS_SCIPY)[0]:
        ref_s, bat_s = _samples_of(int(ref.ks_counts[f]), int(bat_counts[f]), *pairs[f])
        stat[f], p[f], used[f] = _one_sided_exact(ref_s, bat_s, d[f], alternative)
    if ref.ks_sketches is not None:
        # The exact p-value rounds D to a multiple of 1/lcm(n1, n2), as scipy
        # does; a sketch's counts are not on that lattice, so the statistic
        # reported (and bounded) is the sketch's own.
        stat = np.where(np.isnan(d), stat, d)
    return _rows(ref, settings, stat, p, used, bat_counts, bat_quantiles, distributions)


def _samples_of(n1, n2, side, pair):
    """Two samples of sizes ``n1`` and ``n2`` whose one-sided KS statistic is
    ``c / n1 - b / n2`` ("greater") or ``b / n2 - c / n1`` ("less"), computed
    by scipy from the same counts ``pair = (c, b)``: scipy's exact
    one-sided p-value depends on the sizes and the statistic alone."""
    c, b = int(pair[0]), int(pair[1])
    if side == "greater":
        ref = np.r_[np.zeros(c), np.full(n1 - c, 2.0)]
        bat = np.r_[np.full(b, -1.0), np.ones(n2 - b)]
    else:
        bat = np.r_[np.zeros(b), np.full(n2 - b, 2.0)]
        ref = np.r_[np.full(c, -1.0), np.ones(n1 - c)]
    return ref, bat


def _rows(ref, settings, stat, p, used, bat_counts, bat_quantiles, distributions):
    rows = {}
    bounds = ref.ks_error_bounds
    for f, col in enumerate(ref.ks_columns):
        nr, nb = int(ref.ks_counts[f]), int(bat_counts[f])
        note = f"{used[f]} p-value" if used[f] else "no values to compare"
        row = {
            "feature": col,
            "test": "ks",
            "statistic": stat[f],
            "p_value": p[f],
            "effect_size": stat[f],
            "effect_threshold": settings["ks_threshold"],
            "n_reference": nr,
            "n_batch": nb,
            "note": note,
            "status": "ok" if nr and nb else "too_few_rows",
        }
        if not ref.ks_exact:
            row["error_bound"] = bounds[col]
            row["note"] = f"{note}; statistic within {bounds[col]:.2g} (reference sketch)"
        rows[col] = row
        if nr and nb and bat_quantiles[f] is not None:
            distributions[col] = {
                "kind": "ecdf",
                "levels": _LEVELS,
                "reference": ref.ks_quantiles[f],
                "batch": bat_quantiles[f],
            }
    return rows


def index_step(n_rows):
    """The step of the reference index: the runs it cuts a batch into should
    hold a handful of batch values (fewer steps to walk) without leaving many
    pairs to check exactly. Measured on normal data: 128 for 1,000,000 vs
    100,000 values (0.24 ms per column, 0.37 ms at 64), 32 for 10,000 vs 1,000."""
    return 128 if n_rows >= 250_000 else KS_INDEX_STEP


def ks_index(ref_sorted, step=None):
    """Every ``step``-th value of each sorted row (see
    ``_kernels._ecdf_extremes_indexed``); returns ``(index, step)``."""
    if step is None:
        step = index_step(ref_sorted.shape[1])
    return np.ascontiguousarray(ref_sorted[:, ::step]), step


def ks_statistics(ref_sorted, ref_counts, index, step, values, n_rows, alternative, threads):
    """Sort each batch column and compare it with its reference row
    (kernel ``ks_statistics_range``), the columns shared among ``threads``
    threads.

    ``values`` are the batch columns: a (k, n_rows) float64 block the
    function may sort in place (:func:`~mlpipe.drift._columns.numeric_block`)
    or a list of 1-D float64 arrays (NaN for missing, any order); ``index``
    is :func:`ks_index` of ``ref_sorted`` with step ``step``,
    ``alternative`` a code of ``ALTERNATIVES``. Returns ``(bat_sorted,
    bat_counts, d, sign)``: the batch as a sorted block, the statistic of
    each column and +1 when the reference ECDF is above the batch's at the
    maximum (-1 below).
    """
    nf = len(values)
    if isinstance(values, np.ndarray):
        bat = values
    else:
        bat = np.empty((nf, n_rows))
        for f in range(nf):
            bat[f] = values[f]
    counts = np.zeros(nf, dtype=np.int64)
    d = np.empty(nf)
    sign = np.empty(nf, dtype=np.int8)
    ref_counts = np.asarray(ref_counts, dtype=np.int64)
    big = nf * n_rows >= MIN_PARALLEL_VALUES
    workers = min(threads, nf) if big else 1
    if workers <= 1:
        bat.sort(axis=1)  # NaN last
        _kernels.ks_statistics_range(
            ref_sorted, ref_counts, index, step, bat, alternative, 0, nf, 1, counts, d, sign
        )
        return bat, counts, d, sign

    def work(t, workers):
        for f in range(t, nf, workers):
            bat[f].sort()  # releases the GIL
        _kernels.ks_statistics_range(
            ref_sorted, ref_counts, index, step, bat, alternative, t, nf, workers, counts, d, sign
        )

    run_threads(work, workers)
    return bat, counts, d, sign


def _may_be_exact(n_ref, n_bat, method):
    if method == METHODS["asymp"] or len(n_ref) == 0:
        return False
    return method == METHODS["exact"] or max(n_ref.max(), n_bat.max()) <= _kernels._MAX_AUTO_N


class ExactPValueCache:
    """Exact p-values already computed, keyed by what they depend on.

    In exact mode scipy rounds the statistic to ``h / lcm(n1, n2)`` and the
    p-value (and the reported statistic) is a function of ``(n1, n2, h)`` and
    the alternative alone: the null distribution of the two sizes at one
    point. A monitor testing a stream of equal-sized windows against one
    reference meets the same sizes every time, and, while the data do not
    drift, the same few hundred values of ``h`` (the statistic stays within a
    few standard errors of its null mean), so most of its exact p-values are
    found here instead of recomputed by the lattice recursion, which costs
    ~0.3 ms per column at 10,000 vs 1,000 values. A hit returns the very
    floats the kernel returned: the cache changes no result.

    With ``neighbours``, a miss also computes (in the same kernel call) the
    p-values of the statistics up to that many lattice steps either side of
    it, for its sizes: a stream of equal-sized windows meets the few
    hundred values of ``h`` around the null's mean, and filling them in
    blocks leaves its later windows almost no misses for about the same
    total work (the values of ``h`` a long stream meets anyway).

    Entries are dropped oldest first beyond ``max_entries`` (each holds a
    key and three numbers); ``max_entries=0`` turns the cache off.
    """

    def __init__(self, max_entries=65536, neighbours=0):
        self.max_entries = max_entries
        self.neighbours = neighbours
        self._values = {}
        self._lock = threading.Lock()

    def get(self, key):
        return self._values.get(key)

    def put(self, key, value):
        if self.max_entries <= 0:
            return
        with self._lock:
            values = self._values
            values[key] = value
            while len(values) > self.max_entries:
                del values[next(iter(values))]

    def clear(self):
        with self._lock:
            self._values.clear()

    def __len__(self):
        return len(self._values)


# shared by every detector of the process: the keys say everything a value
# depends on, so two references of the same size share their entries
EXACT_CACHE = ExactPValueCache(neighbours=16)


def _exact_keys(n_ref, n_bat, d, alternative, method):
    """The cache key ``(n1, n2, h, alternative)`` of every column whose
    p-value ``ks_2samp_pvalue`` computes in exact mode, else None: its
    choice of mode and its rounding ``h = round_half_even(d * lcm)``, in
    numpy (``np.rint`` rounds half to even, as the kernel does)."""
    if method == METHODS["asymp"] or len(d) == 0:
        return [None] * len(d)
    sized = (n_ref > 0) & (n_bat > 0)  # an empty side has no p-value to keep
    g = np.gcd(n_ref, n_bat)
    g[~sized] = 1
    n1g = n_ref // g
    n2g = np.maximum(n_bat // g, 1)
    if method == METHODS["auto"]:
        exact = np.maximum(n_ref, n_bat) <= _kernels._MAX_AUTO_N
    else:
        exact = ~(n1g >= _kernels._INT32_MAX / n2g)
    exact &= sized & np.isfinite(d)
    h = np.where(exact, np.rint(d * (n1g * n_bat)), 0.0)
    return [
        (int(a), int(b), int(c), alternative) if e else None
        for a, b, c, e in zip(
            n_ref.tolist(), n_bat.tolist(), h.tolist(), exact.tolist(), strict=True
        )
    ]


def _kernel_pvalues(u_ref, u_bat, u_d, alternative, method, threads):
    """``ks_pvalues_range`` over every entry, shared among ``threads``
    threads when exact p-values may be needed (scipy's exact two-sided
    recursion is the one costly case)."""
    nu = len(u_d)
    stat = np.empty(nu)
    p = np.empty(nu)
    outcome = np.empty(nu, dtype=np.int8)
    heavy = nu > 1 and _may_be_exact(u_ref, u_bat, method) and max(u_ref.max(), u_bat.max()) >= 1000
    if heavy and threads > 1:
        # The exact recursion visits ~d * n_ref * n_bat cells, so columns
        # differ a lot in cost: the workers take the costliest first from a
        # shared queue (longest-processing-time order) instead of fixed turns.
        queue = iter(np.argsort(-(u_d * u_ref * u_bat), kind="stable").tolist())

        def work(t, workers):
            for f in queue:  # a list iterator hands each item to one thread
                _kernels.ks_pvalues_range(
                    u_ref, u_bat, u_d, alternative, method, f, f + 1, 1, stat, p, outcome
                )

        run_threads(work, min(threads, nu))
    elif nu:
        _kernels.ks_pvalues_range(
            u_ref, u_bat, u_d, alternative, method, 0, nu, 1, stat, p, outcome
        )
    return stat, p, outcome


def ks_pvalues(n_ref, n_bat, d, alternative, method, threads=1, cache=EXACT_CACHE):
    """Kernel ``ks_pvalues_range`` over the columns, each distinct (sizes,
    statistic) computed once, exact p-values looked up in ``cache`` (an
    :class:`ExactPValueCache`, None for none) first. Returns
    ``(statistic, pvalue, outcome)``."""
    n_ref = np.asarray(n_ref, dtype=np.int64)
    n_bat = np.asarray(n_bat, dtype=np.int64)
    d = np.asarray(d, dtype=np.float64)
    nf = d.shape[0]
    valid = ~np.isnan(d)
    where = np.flatnonzero(valid)
    # distinct (sizes, statistic bits) triples, -0.0 and 0.0 apart, in order
    # of first appearance (a dict: np.unique(axis=0) took ~0.3 ms for 20
    # columns, as long as the cached p-values of a 1,000-row window)
    first = {}
    todo = []
    inverse = np.empty(len(where), dtype=np.int64)
    keys = zip(
        n_ref[where].tolist(), n_bat[where].tolist(), d[where].view(np.int64).tolist(), strict=True
    )
    for i, key in enumerate(keys):
        j = first.get(key)
        if j is None:
            j = first[key] = len(todo)
            todo.append(where[i])
        inverse[i] = j
    todo = np.array(todo, dtype=np.int64)
    u_ref, u_bat, u_d = n_ref[todo], n_bat[todo], d[todo]
    if cache is None or cache.max_entries <= 0:
        stat, p, outcome = _kernel_pvalues(u_ref, u_bat, u_d, alternative, method, threads)
    else:
        stat, p, outcome = _cached_pvalues(u_ref, u_bat, u_d, alternative, method, threads, cache)
    out_stat = np.full(nf, np.nan)
    out_p = np.full(nf, np.nan)
    out_outcome = np.full(nf, -1, dtype=np.int8)
    out_stat[valid], out_p[valid], out_outcome[valid] = stat[inverse], p[inverse], outcome[inverse]
    zero = (n_ref == 0) | (n_bat == 0)
    out_stat[zero], out_p[zero], out_outcome[zero] = np.nan, np.nan, -1
    return out_stat, out_p, out_outcome


def _cached_pvalues(u_ref, u_bat, u_d, alternative, method, threads, cache):
    """:func:`_kernel_pvalues` for the entries whose exact key is not in
    ``cache`` (one computation per key), the others from it."""
    nu = len(u_d)
    stat = np.empty(nu)
    p = np.empty(nu)
    outcome = np.empty(nu, dtype=np.int8)
    misses = {}  # key -> entries; None keys (not exact) each their own
    for i, key in enumerate(_exact_keys(u_ref, u_bat, u_d, alternative, method)):
        hit = None if key is None else cache.get(key)
        if hit is None:
            misses.setdefault(key if key is not None else ("entry", i), []).append(i)
        else:
            stat[i], p[i], outcome[i] = hit
    if misses:
        first = np.array([entries[0] for entries in misses.values()], dtype=np.int64)
        n_ref_, n_bat_, d_ = u_ref[first], u_bat[first], u_d[first]
        near = _neighbours([key for key in misses if key[0] != "entry"], alternative, method, cache)
        if near:
            n_ref_ = np.append(n_ref_, [key[0] for key, _ in near])
            n_bat_ = np.append(n_bat_, [key[1] for key, _ in near])
            d_ = np.append(d_, [d for _, d in near])
        m_stat, m_p, m_outcome = _kernel_pvalues(n_ref_, n_bat_, d_, alternative, method, threads)
        for j, (key, entries) in enumerate(misses.items()):
            stat[entries], p[entries], outcome[entries] = m_stat[j], m_p[j], m_outcome[j]
            if key[0] != "entry":
                cache.put(key, (float(m_stat[j]), float(m_p[j]), int(m_outcome[j])))
        for j, (key, _) in enumerate(near, start=len(misses)):
            cache.put(key, (float(m_stat[j]), float(m_p[j]), int(m_outcome[j])))
    return stat, p, outcome


def _neighbours(keys, alternative, method, cache):
    """``[(key, d)]``: the statistics ``d = h / lcm`` within
    ``cache.neighbours`` of each missed key's ``h`` that ``cache`` lacks,
    each once, with the key ``_exact_keys`` gives them (a ``d`` whose
    rounding would not give its ``h`` back is left out); none when the
    cache could not hold them."""
    r = cache.neighbours
    if not keys or r <= 0 or cache.max_entries < 2 * (2 * r + 1) * len(keys):
        return []
    seen = set(keys)
    wanted = []
    for n_ref, n_bat, h, _ in keys:
        lcm = (n_ref // math.gcd(n_ref, n_bat)) * n_bat
        for k in range(max(h - r, 1), min(h + r, lcm) + 1):
            key = (n_ref, n_bat, k, alternative)
            if key not in seen and cache.get(key) is None:
                seen.add(key)
                wanted.append((key, k / lcm))
    if not wanted:
        return []
    n1 = np.array([key[0] for key, _ in wanted], dtype=np.int64)
    n2 = np.array([key[1] for key, _ in wanted], dtype=np.int64)
    d = np.array([value for _, value in wanted])
    found = _exact_keys(n1, n2, d, alternative, method)
    return [(key, value) for (key, value), got in zip(wanted, found, strict=True) if got == key]


def ks_pvalues_of(
    ref_sorted, ref_counts, bat_sorted, bat_counts, d, alternative, method, threads=1
):
    """The statistic as scipy reports it, the p-value and the method used
    (``"exact"``, ``"asymp"``, ``""`` where a side is empty) of every column,
    from :func:`ks_statistics`' ``d``: :func:`ks_pvalues`, and scipy's own
    lattice-path count for the one-sided exact case with unequal sizes."""
    alt = ALTERNATIVES[alternative]
    stat, p, outcome = ks_pvalues(ref_counts, bat_counts, d, alt, METHODS[method], threads)
    names = {DONE_EXACT: "exact", -1: ""}
    used = np.array([names.get(o, "asymp") for o in outcome.tolist()], dtype=object)
    for f in np.nonzero(outcome == NEEDS_SCIPY)[0]:
        stat[f], p[f], used[f] = _one_sided_exact(
            ref_sorted[f, : ref_counts[f]],
            bat_sorted[f, : bat_counts[f]],
            d[f],
            alternative,
        )
    return stat, p, used


def _one_sided_exact(ref, bat, d, alternative):
    """One-sided exact p-value with unequal sizes: scipy's lattice-path count.

    scipy counts paths with ``scipy.special.binom`` and gives up (falling back
    to Hodges' approximation) when the total number of paths overflows; that
    is checked first, so the slow count only runs when it can succeed.
    """
    n1, n2 = len(ref), len(bat)
    if np.isinf(special.binom(n1 + n2, n1)):
        m, n = float(max(n1, n2)), float(min(n1, n2))
        lcm = (n1 // math.gcd(n1, n2)) * n2
        d = round(d * lcm) * 1.0 / lcm  # the statistic scipy reports
        return d, float(np.clip(_kernels.hodges_sf(d, m, n), 0, 1)), "asymp"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        res = stats.ks_2samp(ref, bat, alternative=alternative, method="exact")
    return float(res.statistic), float(res.pvalue), "exact"


def _row_quantiles(sorted_rows, counts):
    """The ECDF points (``_quantiles`` at ``_LEVELS``) of every row of a sorted
    block, for ``DriftReport.plot``; None for a row with no values. At once
    when the rows have the same count (no missing values: the common case)."""
    if len(counts) and (counts == counts[0]).all() and counts[0]:
        return sorted_rows[:, _quantile_index(int(counts[0]), _LEVELS)]
    return [
        _quantiles(sorted_rows[f, : int(n)], _LEVELS) if n else None for f, n in enumerate(counts)
    ]


def _quantile_index(n, levels):
    return np.minimum((levels * n).astype(np.int64), n - 1)


def _quantiles(sorted_values, levels):
    return sorted_values[_quantile_index(len(sorted_values), levels)]
