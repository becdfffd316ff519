"""Numba kernels of the two-sample statistics in :mod:`mlpipe.drift._twosample`.

The reference sample is prepared once (at fit) as its distinct sorted values
``rd`` and their cumulative counts ``rc`` (``rc[i]`` reference values are
``<= rd[i]``; ``rc`` is empty when every value is distinct, so that a
continuous column is not stored twice). A batch is a sorted float64 array,
ties allowed. Values are finite; the Python layer checks that.

- ``cvm_rank_sums``: the rank sums of Cramér-von Mises, O(m log(n / m));
- ``cvm_exact_counts``: its exact null distribution (sizes up to ~20);
- ``ad_midrank_sum``: the sum of the midrank Anderson-Darling statistic,
  O(d + m);
- ``wasserstein_sum``: the Wasserstein-1 distance, O(d + m).

(m: batch size, n: reference size, d: distinct reference values.) The
Cramér-von Mises statistic needs only, for every distinct batch value, how
many reference values lie below it and how many equal it: a galloping binary
search each, instead of scipy's ranking of the pooled sample. The other two
walk the pooled distinct values once. Each kernel has a plain numpy twin in
:mod:`mlpipe.drift._twosample_reference` that the tests compare it with.

Kernels are compiled with ``cache=True`` and without ``fastmath`` (which
would reorder the sums whose values we promise); sums of many terms are
compensated (Neumaier), so they are as accurate as a float64 sum can be and
the difference from scipy is scipy's own rounding. The helpers live in this
file because numba's cache only notices edits to the file that holds a
compiled function.
"""

import math

import numpy as np
from numba import njit

_JIT = {"cache": True, "nogil": True, "error_model": "numpy"}


@njit(**_JIT)
def _through(rc, i):
    """Count the reference values at or below the distinct value ``i``.

    Parameters
    ----------
    rc : ndarray of int64
        Cumulative counts of the distinct values (empty: all distinct).
    i : int
        Index of a distinct value.

    Returns
    -------
    int
        ``rc[i]``, or ``i + 1`` when ``rc`` is empty.
    """
    if rc.shape[0] == 0:
        return i + 1
    return rc[i]


@njit(**_JIT)
def _below(rc, i):
    """Count the reference values below the distinct value ``i``.

    Parameters
    ----------
    rc : ndarray of int64
        Cumulative counts of the distinct values (empty: all distinct).
    i : int
        Index of a distinct value (or their number, for all of them).

    Returns
    -------
    int
        ``rc[i - 1]`` (``i`` when ``rc`` is empty), 0 at ``i = 0``.
    """
    if i == 0:
        return 0
    return _through(rc, i - 1)


@njit(**_JIT)
def _neumaier(s, c, x):
    """Add ``x`` to a compensated sum (Neumaier's variant of Kahan's).

    Parameters
    ----------
    s : float
        The running sum.
    c : float
        The running compensation (the rounding errors so far).
    x : float
        The term to add.

    Returns
    -------
    s, c : float
        The new sum and compensation; ``s + c`` is the sum.
    """
    t = s + x
    if abs(s) >= abs(x):
        c += (s - t) + x
    else:
        c += (x - t) + s
    return t, c


@njit(**_JIT)
def _gallop_ge(d, lo, x):
    """Find the first index from ``lo`` on whose value is at least ``x``.

    Galloping (exponential, then binary) search: its cost is O(log(i -
    lo)), so a walk through ``d`` for m increasing ``x`` costs O(m log(n /
    m)) in all.

    Parameters
    ----------
    d : ndarray of float64
        Sorted ascending.
    lo : int
        Where to start.
    x : float
        The value sought.

    Returns
    -------
    int
        The first ``i >= lo`` with ``d[i] >= x``, else ``len(d)``.
    """
    n = d.shape[0]
    if lo >= n or d[lo] >= x:
        return lo
    below = lo  # d[below] < x
    step = 1
    hi = lo + 1
    while hi < n and d[hi] < x:
        below = hi
        step *= 2
        hi = lo + step
    if hi > n:
        hi = n
    lo = below + 1
    while lo < hi:
        mid = (lo + hi) >> 1
        if d[mid] < x:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(**_JIT)
def cvm_rank_sums(rd, rc, nr, ref_ties, bat, nb, within_ties):
    """Compute four times the two rank sums of Cramér-von Mises, with midranks.

    Parameters
    ----------
    rd : ndarray of shape (n_distinct,)
        The reference's distinct values, sorted.
    rc : ndarray of shape (n_distinct,) or (0,)
        Their cumulative counts (empty: every value distinct).
    nr : int
        The reference size.
    ref_ties : float
        ``sum c (c**2 - 1) / 3`` over the reference's distinct values of
        multiplicity ``c`` (what the reference's own ties add), or 0.
    bat : ndarray of shape (nb,)
        The batch, sorted.
    nb : int
        The batch size.
    within_ties : bool
        Whether to add the batch's own ties' term (True: ``i`` is the index
        within the sample, as scipy; False: the midrank within the sample,
        then ``ref_ties`` should be 0).

    Returns
    -------
    ref_sum : float
        ``4 sum_i (r_i - i)**2`` over the reference values, ``r_i`` the
        midrank of its i-th smallest value in the pooled sample and ``i``
        its index (or its midrank) in the reference.
    bat_sum : float
        The same sum over the batch.

    Notes
    -----
    A group of ``a`` tied reference values and ``b`` tied batch values, with
    ``A`` reference and ``B`` batch values below them, has the pooled
    midrank ``A + B + (a + b + 1) / 2``; the reference indices ``i`` of the
    group are ``A + 1, ..., A + a``, so ``2 (r_i - i)`` runs over
    ``2 B + b + (a + 1 - 2 t)``, ``t = 1..a``, and the group adds
    ``a (2 B + b)**2 + a (a**2 - 1) / 3``. The second term depends on the
    reference alone (``ref_ties``) and vanishes when ``i`` is the midrank
    within the sample, ``A + (a + 1) / 2``; the first is constant over the
    reference values between two batch values, so the reference side costs
    two searches per distinct batch value. The batch side is symmetric.
    Every term is an integer, exact in float64 while the sums stay below
    2**53.
    """
    ref_s = ref_ties
    ref_c = 0.0
    bat_s = 0.0
    bat_c = 0.0
    pos = 0  # distinct reference index of the first value >= the batch value
    ref_done = 0  # reference values at or below the previous batch value
    bat_below = 0
    j = 0
    while j < nb:
        w = bat[j]
        j2 = j + 1
        while j2 < nb and bat[j2] == w:
            j2 += 1
        b = j2 - j
        pos = _gallop_ge(rd, pos, w)
        a_below = _below(rc, pos)
        a = 0
        if pos < rd.shape[0] and rd[pos] == w:
            a = _through(rc, pos) - a_below
        d = 2.0 * bat_below
        between = a_below - ref_done
        if between > 0:
            ref_s, ref_c = _neumaier(ref_s, ref_c, (float(between) * d) * d)
        if a > 0:
            d = d + b
            ref_s, ref_c = _neumaier(ref_s, ref_c, (float(a) * d) * d)
        d = 2.0 * a_below + a
        fb = float(b)
        term = (fb * d) * d
        if within_ties:
            term += fb * (fb * fb - 1.0) / 3.0
        bat_s, bat_c = _neumaier(bat_s, bat_c, term)
        ref_done = a_below + a
        bat_below += b
        j = j2
    rest = nr - ref_done
    if rest > 0:
        d = 2.0 * nb
        ref_s, ref_c = _neumaier(ref_s, ref_c, (float(rest) * d) * d)
    return ref_s + ref_c, bat_s + bat_c


@njit(**_JIT)
def _merge_shift(av, ac, bv, bc, shift):
    """Merge two frequency tables, then raise every value by ``shift``.

    Parameters
    ----------
    av, ac : ndarray of int64
        The first table: sorted distinct values and their counts.
    bv, bc : ndarray of int64
        The second table.
    shift : int
        Added to every value of the union.

    Returns
    -------
    values, counts : ndarray of int64
        The union (counts of equal values added), sorted, shifted.
    """
    na = av.shape[0]
    nb = bv.shape[0]
    ov = np.empty(na + nb, dtype=np.int64)
    oc = np.empty(na + nb, dtype=np.int64)
    i = 0
    j = 0
    k = 0
    while i < na or j < nb:
        if j >= nb or (i < na and av[i] < bv[j]):
            ov[k] = av[i]
            oc[k] = ac[i]
            i += 1
        elif i >= na or bv[j] < av[i]:
            ov[k] = bv[j]
            oc[k] = bc[j]
            j += 1
        else:
            ov[k] = av[i]
            oc[k] = ac[i] + bc[j]
            i += 1
            j += 1
        ov[k] += shift
        k += 1
    return ov[:k].copy(), oc[:k].copy()


@njit(**_JIT)
def cvm_exact_counts(m, n):
    """Count the lattice paths of each value of Cramér-von Mises' statistic.

    The exact null distribution of the two-sample statistic (no ties), as
    integers on the lattice of Xiao, Gordon and Yakovlev (2006).

    Parameters
    ----------
    m, n : int
        The sample sizes.

    Returns
    -------
    values : ndarray of int64
        The distinct values, sorted, of ``sum (a v - b u)**2`` over the
        points ``(u, v)`` of a monotone lattice path from ``(0, 0)`` to
        ``(n, m)``, with ``a = lcm(m, n) / m`` and ``b = lcm(m, n) / n``.
    counts : ndarray of int64
        How many of the ``C(m + n, m)`` paths have each value.

    Notes
    -----
    Each lattice point holds the frequency table of the paths that reach
    it; a point's table is the union of its left and lower neighbours'
    tables, shifted by the point's own term. Tables are kept sparse.
    """
    g = math.gcd(m, n)
    lcm = (m // g) * n
    a = lcm // m
    b = lcm // n
    vals = [np.zeros(1, dtype=np.int64)]
    cnts = [np.ones(1, dtype=np.int64)]
    for _ in range(m):
        vals.append(np.empty(0, dtype=np.int64))
        cnts.append(np.empty(0, dtype=np.int64))
    for u in range(n + 1):
        tv = np.empty(0, dtype=np.int64)
        tc = np.empty(0, dtype=np.int64)
        for v in range(m + 1):
            step = a * v - b * u
            tv, tc = _merge_shift(tv, tc, vals[v], cnts[v], step * step)
            vals[v] = tv
            cnts[v] = tc
    return vals[m], cnts[m]


@njit(**_JIT)
def ad_midrank_sum(rd, rc, nr, bat, nb):
    """Compute the sum in the midrank two-sample Anderson-Darling statistic.

    The sum over the pooled distinct values of Scholz and Stephens (1987),
    eq. 7, for the reference sample.

    Parameters
    ----------
    rd : ndarray of shape (n_distinct,)
        The reference's distinct values, sorted.
    rc : ndarray of shape (n_distinct,) or (0,)
        Their cumulative counts (empty: every value distinct).
    nr : int
        The reference size.
    bat : ndarray of shape (nb,)
        The batch, sorted.
    nb : int
        The batch size.

    Returns
    -------
    float
        ``sum_j l_j / N (N M_j - B_j nr)**2 / (B_j (N - B_j) - N l_j / 4)``
        over the pooled distinct values ``z_j``: ``l_j`` pooled values equal
        ``z_j``, ``B_j`` is the pooled count below ``z_j`` plus ``l_j / 2``,
        ``M_j`` the same for the reference, ``N = nr + nb``.

    Notes
    -----
    The batch's term equals the reference's (``N M_j - B_j nb`` is the
    negative of the reference's), so one sum serves both samples;
    ``scipy.stats.anderson_ksamp`` adds it twice, divided by each size.
    Each term is computed with scipy's operations in scipy's order.
    """
    big_n = nr + nb
    fn = float(big_n)
    nd = rd.shape[0]
    i = 0
    j = 0
    ref_below = 0
    pooled_below = 0
    s = 0.0
    c = 0.0
    while i < nd or j < nb:
        z = rd[i] if j >= nb or (i < nd and rd[i] < bat[j]) else bat[j]
        a = 0
        if i < nd and rd[i] == z:
            a = _through(rc, i) - ref_below
            i += 1
        j2 = j
        while j2 < nb and bat[j2] == z:
            j2 += 1
        lj = a + j2 - j
        j = j2
        bj = pooled_below + lj / 2.0
        mj = float(ref_below + a) - a / 2.0
        dev = big_n * mj - bj * nr
        term = lj / fn * dev**2 / (bj * (big_n - bj) - big_n * lj / 4.0)
        s, c = _neumaier(s, c, term)
        ref_below += a
        pooled_below += lj
    return s + c


@njit(**_JIT)
def wasserstein_sum(rd, rc, nr, bat, nb):
    """Compute the Wasserstein-1 distance between two empirical distributions.

    The area between the ECDFs of the reference and the batch.

    Parameters
    ----------
    rd : ndarray of shape (n_distinct,)
        The reference's distinct values, sorted.
    rc : ndarray of shape (n_distinct,) or (0,)
        Their cumulative counts (empty: every value distinct).
    nr : int
        The reference size.
    bat : ndarray of shape (nb,)
        The batch, sorted.
    nb : int
        The batch size.

    Returns
    -------
    float
        ``sum_k |F_ref(z_k) - F_bat(z_k)| (z_{k+1} - z_k)`` over the pooled
        distinct values ``z_k``, each term as ``scipy.stats.wasserstein_distance``
        computes it.
    """
    nd = rd.shape[0]
    i = 0
    j = 0
    ref_through = 0
    s = 0.0
    c = 0.0
    prev_z = 0.0
    prev_gap = 0.0
    first = True
    while i < nd or j < nb:
        z = rd[i] if j >= nb or (i < nd and rd[i] < bat[j]) else bat[j]
        if i < nd and rd[i] == z:
            ref_through = _through(rc, i)
            i += 1
        while j < nb and bat[j] == z:
            j += 1
        if not first:
            s, c = _neumaier(s, c, prev_gap * (z - prev_z))
        first = False
        prev_gap = abs(ref_through / nr - j / nb)
        prev_z = z
    return s + c
