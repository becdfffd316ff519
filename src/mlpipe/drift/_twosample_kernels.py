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

from mlpipe.drift._kernels import _mrg_seed, _mrg_uniform

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
def _pairwise_block(a, lo, n):
    """Sum ``a[lo:lo + n]``, ``n <= 128``, in numpy's order (see :func:`_pairwise_sum`).

    Parameters
    ----------
    a : ndarray of float64
        The terms.
    lo : int
        The first.
    n : int
        How many, at most 128.

    Returns
    -------
    float
        ``np.sum(a[lo:lo + n])``, bit for bit.
    """
    if n < 8:
        res = 0.0
        for i in range(n):
            res += a[lo + i]
        return res
    r0 = a[lo]
    r1 = a[lo + 1]
    r2 = a[lo + 2]
    r3 = a[lo + 3]
    r4 = a[lo + 4]
    r5 = a[lo + 5]
    r6 = a[lo + 6]
    r7 = a[lo + 7]
    i = 8
    stop = n - n % 8
    while i < stop:
        k = lo + i
        r0 += a[k]
        r1 += a[k + 1]
        r2 += a[k + 2]
        r3 += a[k + 3]
        r4 += a[k + 4]
        r5 += a[k + 5]
        r6 += a[k + 6]
        r7 += a[k + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += a[lo + i]
        i += 1
    return res


@njit(**_JIT)
def _pairwise_sum(a, lo, n):
    """Sum ``a[lo:lo + n]`` in numpy's order, so that it is ``np.sum``'s float.

    numpy's pairwise summation of a contiguous float64 array: below 8 terms
    a plain loop, up to 128 eight running sums combined as a tree, beyond
    that the two halves (the first a multiple of 8 long) summed apart and
    added. The recursion runs on an explicit stack (numba's cache does not
    keep recursive functions).

    Parameters
    ----------
    a : ndarray of float64
        The terms.
    lo : int
        The first.
    n : int
        How many.

    Returns
    -------
    float
        ``np.sum(a[lo:lo + n])``, bit for bit.
    """
    if n <= 128:
        return _pairwise_block(a, lo, n)
    depth = 64  # halving n > 128 takes fewer than 64 levels
    s_lo = np.empty(depth, dtype=np.int64)
    s_n = np.empty(depth, dtype=np.int64)
    s_phase = np.zeros(depth, dtype=np.int64)
    s_left = np.empty(depth)
    s_right = np.empty(depth)
    s_lo[0] = lo
    s_n[0] = n
    sp = 1
    result = 0.0
    while sp > 0:
        top = sp - 1
        m = s_n[top]
        value = 0.0
        done = False
        if m <= 128:
            value = _pairwise_block(a, s_lo[top], m)
            done = True
        else:
            half = m // 2
            half -= half % 8
            if s_phase[top] == 0:
                s_phase[top] = 1
                s_lo[sp] = s_lo[top]
                s_n[sp] = half
                s_phase[sp] = 0
                sp += 1
            elif s_phase[top] == 1:
                s_phase[top] = 2
                s_lo[sp] = s_lo[top] + half
                s_n[sp] = m - half
                s_phase[sp] = 0
                sp += 1
            else:
                value = s_left[top] + s_right[top]
                done = True
        if done:
            sp -= 1
            if sp == 0:
                result = value
            elif s_phase[sp - 1] == 1:
                s_left[sp - 1] = value
            else:
                s_right[sp - 1] = value
    return result


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
    negative of the reference's, both exact in float64), so one sum serves
    both samples; ``scipy.stats.anderson_ksamp`` adds it twice, divided by
    each size. Each term is computed with scipy's operations and the terms
    are added in numpy's pairwise order, so the sum is scipy's float.
    """
    big_n = nr + nb
    fn = float(big_n)
    nd = rd.shape[0]
    terms = np.empty(nd + nb)
    k = 0
    i = 0
    j = 0
    ref_below = 0
    pooled_below = 0
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
        terms[k] = lj / fn * dev**2 / (bj * (big_n - bj) - big_n * lj / 4.0)
        k += 1
        ref_below += a
        pooled_below += lj
    return _pairwise_sum(terms, 0, k)


@njit(**_JIT)
def ad_pooled_counts(rd, rc, nr, bat, nb):
    """Count each sample's values at every pooled distinct value.

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
    pooled : ndarray of int64
        ``pooled[j]``: how many pooled values equal the j-th smallest
        pooled distinct value.
    ref : ndarray of int64
        How many of them are reference values.
    """
    nd = rd.shape[0]
    pooled = np.empty(nd + nb, dtype=np.int64)
    ref = np.empty(nd + nb, dtype=np.int64)
    k = 0
    i = 0
    j = 0
    ref_below = 0
    while i < nd or j < nb:
        z = rd[i] if j >= nb or (i < nd and rd[i] < bat[j]) else bat[j]
        a = 0
        if i < nd and rd[i] == z:
            a = _through(rc, i) - ref_below
            i += 1
        j2 = j
        while j2 < nb and bat[j2] == z:
            j2 += 1
        pooled[k] = a + j2 - j
        ref[k] = a
        k += 1
        j = j2
        ref_below += a
    return pooled[:k].copy(), ref[:k].copy()


@njit(**_JIT)
def _ad_weights(pooled, big_n):
    """The factors of the midrank sum that the pooled sample fixes.

    Parameters
    ----------
    pooled : ndarray of int64
        Pooled counts at the distinct values.
    big_n : int
        The pooled size.

    Returns
    -------
    share, bj, den : ndarray of float64
        ``l_j / N``, ``B_j`` and ``B_j (N - B_j) - N l_j / 4``, each with
        scipy's operations.
    """
    d = pooled.shape[0]
    share = np.empty(d)
    bj = np.empty(d)
    den = np.empty(d)
    below = 0
    fn = float(big_n)
    for j in range(d):
        lj = pooled[j]
        bj[j] = below + lj / 2.0
        share[j] = lj / fn
        den[j] = bj[j] * (big_n - bj[j]) - big_n * lj / 4.0
        below += lj
    return share, bj, den


@njit(**_JIT)
def _ad_sum_of_counts(ref, nr, big_n, share, bj, den, terms):
    """The midrank sum of a split given its reference counts.

    Parameters
    ----------
    ref : ndarray of int64
        Reference counts at the pooled distinct values.
    nr : int
        The reference size.
    big_n : int
        The pooled size.
    share, bj, den : ndarray of float64
        From :func:`_ad_weights`.
    terms : ndarray of float64
        Scratch space, at least as long as ``ref``.

    Returns
    -------
    float
        The sum of :func:`ad_midrank_sum` for that split (the same float).
    """
    below = 0
    d = ref.shape[0]
    for j in range(d):
        a = ref[j]
        mj = float(below + a) - a / 2.0
        dev = big_n * mj - bj[j] * nr
        terms[j] = share[j] * dev**2 / den[j]
        below += a
    return _pairwise_sum(terms, 0, d)


@njit(**_JIT)
def ad_counts_sum(pooled, ref, nr, nb):
    """Compute the midrank Anderson-Darling sum from the counts of a split.

    Parameters
    ----------
    pooled : ndarray of int64
        Pooled counts at the pooled distinct values (all positive).
    ref : ndarray of int64
        How many of each are reference values.
    nr, nb : int
        The sample sizes (``sum(ref)`` and ``sum(pooled) - nr``).

    Returns
    -------
    float
        The sum of :func:`ad_midrank_sum`, the same float.
    """
    big_n = nr + nb
    share, bj, den = _ad_weights(pooled, big_n)
    return _ad_sum_of_counts(ref, nr, big_n, share, bj, den, np.empty(pooled.shape[0]))


@njit(**_JIT)
def ad_permutation_hits(pooled, ref, nr, nb, n_draws, seed):
    """Count the random splits whose midrank sum reaches the observed one.

    The Monte Carlo permutation test of Anderson-Darling: each draw is a
    uniformly random split of the pooled values into samples of ``nr`` and
    ``nb`` values (the smaller side drawn without replacement by a partial
    Fisher-Yates shuffle of the pooled positions), scored by the same sum
    as the observed split.

    Parameters
    ----------
    pooled : ndarray of int64
        Pooled counts at the pooled distinct values (all positive).
    ref : ndarray of int64
        The observed reference counts there.
    nr, nb : int
        The sample sizes.
    n_draws : int
        How many random splits.
    seed : int
        Seed of the generator (MRG32k3a, ``_kernels._mrg_uniform``).

    Returns
    -------
    observed : float
        The observed sum (:func:`ad_counts_sum`).
    hits : int
        How many draws have a sum ``>= observed - 100 eps |observed|``
        (scipy's ``permutation_test`` tolerance for values equal in exact
        arithmetic).
    """
    big_n = nr + nb
    d = pooled.shape[0]
    share, bj, den = _ad_weights(pooled, big_n)
    terms = np.empty(d)
    observed = _ad_sum_of_counts(ref, nr, big_n, share, bj, den, terms)
    floor = observed - 100.0 * 2.220446049250313e-16 * abs(observed)
    code = np.empty(big_n, dtype=np.int64)
    k = 0
    for j in range(d):
        for _ in range(pooled[j]):
            code[k] = j
            k += 1
    draw_ref = nr <= nb
    size = nr if draw_ref else nb
    drawn = np.zeros(d, dtype=np.int64)
    state = np.empty(6, dtype=np.int64)
    _mrg_seed(seed, state)
    hits = 0
    for _ in range(n_draws):
        for t in range(size):
            u = t + int(_mrg_uniform(state) * (big_n - t))
            c = code[u]
            code[u] = code[t]
            code[t] = c
            drawn[c] += 1
        if not draw_ref:
            for j in range(d):
                drawn[j] = pooled[j] - drawn[j]
        if _ad_sum_of_counts(drawn, nr, big_n, share, bj, den, terms) >= floor:
            hits += 1
        drawn[:] = 0
    return observed, hits


@njit(**_JIT)
def ad_exact_hits(pooled, ref, nr, nb):
    """Count, over every split, those whose midrank sum reaches the observed one.

    The exact permutation test: all ``C(N, k)`` ways to choose the ``k =
    min(nr, nb)`` positions of the smaller sample among the ``N`` pooled
    values (ties counted as distinct values, as scipy's enumeration does).

    Parameters
    ----------
    pooled : ndarray of int64
        Pooled counts at the pooled distinct values (all positive).
    ref : ndarray of int64
        The observed reference counts there.
    nr, nb : int
        The sample sizes.

    Returns
    -------
    observed : float
        The observed sum (:func:`ad_counts_sum`).
    hits : int
        How many of the ``C(N, k)`` splits have a sum ``>= observed - 100
        eps |observed|``.
    """
    big_n = nr + nb
    d = pooled.shape[0]
    share, bj, den = _ad_weights(pooled, big_n)
    terms = np.empty(d)
    observed = _ad_sum_of_counts(ref, nr, big_n, share, bj, den, terms)
    floor = observed - 100.0 * 2.220446049250313e-16 * abs(observed)
    code = np.empty(big_n, dtype=np.int64)
    k = 0
    for j in range(d):
        for _ in range(pooled[j]):
            code[k] = j
            k += 1
    draw_ref = nr <= nb
    size = nr if draw_ref else nb
    pos = np.arange(size)
    drawn = np.zeros(d, dtype=np.int64)
    hits = 0
    while True:
        drawn[:] = 0
        for t in range(size):
            drawn[code[pos[t]]] += 1
        if not draw_ref:
            for j in range(d):
                drawn[j] = pooled[j] - drawn[j]
        if _ad_sum_of_counts(drawn, nr, big_n, share, bj, den, terms) >= floor:
            hits += 1
        # the next combination in lexicographic order
        t = size - 1
        while t >= 0 and pos[t] == big_n - size + t:
            t -= 1
        if t < 0:
            break
        pos[t] += 1
        for r in range(t + 1, size):
            pos[r] = pos[r - 1] + 1
    return observed, hits


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
