"""The numba kernels against their numpy twins and against scipy.

KS statistics must be bit-equal to ``scipy.stats.ks_2samp`` (compared with
``==`` and on the sign of zero), p-values within 1e-10 relative; PSI counts
equal to numpy's. Each entry kernel the library runs is compared with its
twin in ``mlpipe.drift._reference`` on the same inputs.
"""

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import special, stats

from mlpipe.drift import _kernels, _reference
from mlpipe.drift._chi2 import chi2_table
from mlpipe.drift._columns import run_threads, sorted_block
from mlpipe.drift._kernels import kstwo_sf, smirnov_sf
from mlpipe.drift._ks import ALTERNATIVES as ALT_CODES
from mlpipe.drift._ks import ks_index, ks_pvalues, ks_pvalues_of, ks_statistics
from mlpipe.drift._psi import bin_edges, count_bins, psi_value

ALTERNATIVES = ["two-sided", "less", "greater"]
METHODS = ["auto", "exact", "asymp"]
RTOL = 1e-10


def scipy_ks(a, b, alternative="two-sided", method="auto"):
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        res = stats.ks_2samp(
            a[~np.isnan(a)], b[~np.isnan(b)], alternative=alternative, method=method
        )
    return float(res.statistic), float(res.pvalue)


def ours(a, b, alternative="two-sided", method="auto", step=None, threads=1):
    """The library's KS path on one column pair: the reference sorted and
    indexed as at fit, the batch sorted and compared as at detect."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    R, rc = sorted_block([a], len(a), threads)
    index, step = ks_index(R, step)
    B, bc, d, _ = ks_statistics(R, rc, index, step, [b], len(b), ALT_CODES[alternative], threads)
    s, p, used = ks_pvalues_of(R, rc, B, bc, d, alternative, method, threads)
    return float(s[0]), float(p[0]), used[0]


def assert_same_as_scipy(a, b, alternative="two-sided", method="auto"):
    s, p, _ = ours(a, b, alternative, method)
    s_ref, p_ref = scipy_ks(a, b, alternative, method)
    assert s == s_ref  # bit-equal ...
    assert np.signbit(s) == np.signbit(s_ref), (s, s_ref)  # ... down to the sign of 0
    if np.isnan(p_ref):  # scipy's asymptotic p-value of 1 vs 1 sample
        assert np.isnan(p)
    elif p_ref < 1e-290:
        assert p < 1e-280
    else:
        assert abs(p - p_ref) <= RTOL * p_ref, (p, p_ref)


def _samples(kind, n1, n2, rng):
    if kind == "random":
        return rng.normal(size=n1), rng.normal(0.2, 1.1, size=n2)
    if kind == "ties":
        return np.round(rng.normal(size=n1), 1), np.round(rng.normal(0.1, size=n2), 1)
    if kind == "integer":
        return rng.integers(0, 5, n1).astype(float), rng.integers(0, 6, n2).astype(float)
    if kind == "constant":
        return np.full(n1, 3.0), rng.integers(2, 5, n2).astype(float)
    if kind == "both_constant":
        return np.full(n1, 3.0), np.full(n2, 3.0)
    if kind == "nan":
        a, b = rng.normal(size=n1), rng.normal(0.3, size=n2)
        a[rng.random(n1) < 0.1] = np.nan
        b[rng.random(n2) < 0.2] = np.nan
        if np.isnan(a).all():
            a[0] = 0.0
        if np.isnan(b).all():
            b[0] = 0.0
        return a, b
    if kind == "infinite":
        a, b = rng.normal(size=n1), rng.normal(size=n2)
        a[:: max(n1 // 3, 1)] = np.inf
        b[:: max(n2 // 4, 1)] = -np.inf
        return a, b
    raise ValueError(kind)


KINDS = ["random", "ties", "integer", "constant", "both_constant", "nan", "infinite"]
SIZES = [
    (1, 1),
    (1, 2),
    (2, 1),
    (2, 2),
    (5, 3),
    (40, 40),
    (100, 37),
    (1000, 500),
    (3000, 10000),
    (10001, 500),
    (12000, 3000),
]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("n1, n2", SIZES)
def test_ks_equals_scipy(kind, n1, n2):
    rng = np.random.default_rng(n1 * 7919 + n2)
    a, b = _samples(kind, n1, n2, rng)
    for alternative in ALTERNATIVES:
        for method in METHODS:
            if method == "exact" and alternative != "two-sided" and n1 != n2 and n1 + n2 > 2000:
                continue  # scipy's own pure-Python count takes seconds here
            assert_same_as_scipy(a, b, alternative, method)


def test_nan_means_omitted():
    # NaN are left out: the result is ks_2samp of the non-missing values.
    a = np.array([1.0, np.nan, 2.0, 3.0, np.nan])
    b = np.array([np.nan, 2.5, 3.5])
    s, p, _ = ours(a, b)
    res = stats.ks_2samp([1.0, 2.0, 3.0], [2.5, 3.5])
    assert s == res.statistic
    assert p == pytest.approx(res.pvalue, rel=RTOL)


def test_all_nan_side_gives_nan():
    s, p, used = ours(np.array([np.nan, np.nan]), np.array([1.0, 2.0]))
    assert np.isnan(s) and np.isnan(p) and used == ""


def _statistic_kernel(ref, bat, alternative, step):
    """``_kernels.ks_statistic_one`` on one column pair (``step=0``: without
    the reference index)."""
    R, rc = sorted_block([np.asarray(ref, dtype=np.float64)], len(ref), 1)
    B, bc = sorted_block([np.asarray(bat, dtype=np.float64)], len(bat), 1)
    nr = int(rc[0])
    if step:
        index = np.ascontiguousarray(R[0, ::step])
        nq = -(-nr // step)
    else:
        index, nq, step = np.empty(1), 0, 1
    return _kernels.ks_statistic_one(R[0], nr, index, nq, step, B[0], int(bc[0]), alternative)


def assert_statistic_equals_twin(ref, bat, alternative, step):
    d, sign = _statistic_kernel(ref, bat, alternative, step)
    d_ref, sign_ref = _reference.ks_statistic(ref, bat, alternative)
    if np.isnan(d_ref):
        assert np.isnan(d) and sign == sign_ref == 0
        return
    assert d == d_ref and np.signbit(d) == np.signbit(d_ref), (d, d_ref)
    assert sign == sign_ref


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    "n1, n2", [(1, 1), (2, 5), (40, 40), (400, 300), (300, 2000), (5000, 300), (20000, 700)]
)
def test_statistic_kernel_equals_numpy_twin(kind, n1, n2):
    # both paths of the kernel: the plain merge (step 0, or a reference
    # shorter than twice the batch) and the indexed one
    rng = np.random.default_rng(n1 + 3 * n2)
    a, b = _samples(kind, n1, n2, rng)
    for alternative in (0, 1, 2):
        for step in (0, 1, 7, 32):
            assert_statistic_equals_twin(a, b, alternative, step)


def test_all_nan_column_statistic_equals_twin():
    for alternative in (0, 1, 2):
        assert_statistic_equals_twin(np.full(5, np.nan), np.arange(3.0), alternative, 2)
        assert_statistic_equals_twin(np.arange(5.0), np.full(3, np.nan), alternative, 2)


@pytest.mark.parametrize("n1, n2", [(20000, 700), (30000, 12000), (700, 20000), (100, 37)])
@pytest.mark.parametrize("shift", [-3.0, 3.0])
def test_signed_zero_statistic_is_scipys(n1, n2, shift):
    # When one sample lies above the other, the one-sided statistic against
    # that direction is zero: scipy reports it as clip(-0.0, 0, 1) == -0.0
    # for "less" (0.0 for "greater"). The kernel's swapped and indexed paths
    # (reference longer than the batch) used to negate a +0.0 into the
    # wrong zero there: 0.0 where scipy gives -0.0, with asymptotic
    # p-values (the exact ones round the statistic to h / lcm, +0.0).
    rng = np.random.default_rng(n1 + n2)
    a = rng.normal(size=n1)
    b = rng.normal(shift, 1.0, size=n2)
    for alternative in ALTERNATIVES:
        for method in ("auto", "asymp"):
            assert_same_as_scipy(a, b, alternative, method)
        assert_statistic_equals_twin(a, b, ALT_CODES[alternative], 32)
    s, _, _ = ours(a, b, "less" if shift > 0 else "greater", "asymp")
    s_ref, _ = scipy_ks(a, b, "less" if shift > 0 else "greater", "asymp")
    assert s == 0.0 and np.signbit(s) == np.signbit(s_ref)


def _pvalues_kernel(n_ref, n_bat, d, alternative, method):
    nf = len(d)
    stat, p, outcome = np.empty(nf), np.empty(nf), np.empty(nf, dtype=np.int8)
    _kernels.ks_pvalues_range(
        np.asarray(n_ref, dtype=np.int64),
        np.asarray(n_bat, dtype=np.int64),
        np.asarray(d, dtype=float),
        alternative,
        method,
        0,
        nf,
        1,
        stat,
        p,
        outcome,
    )
    return stat, p, outcome


@pytest.mark.parametrize("alternative", [0, 1, 2])
@pytest.mark.parametrize("method", [0, 1, 2])
def test_pvalue_kernel_matches_scipy_functions(alternative, method):
    rng = np.random.default_rng(alternative * 3 + method)
    n_ref = rng.integers(1, 3000, 40)
    n_bat = rng.integers(1, 3000, 40)
    n_ref[:5] = n_bat[:5]  # equal sizes take other formulas
    d = rng.random(40) ** 2
    stat, p, outcome = _pvalues_kernel(n_ref, n_bat, d, alternative, method)
    if alternative != 0 and method != 2:
        # one-sided exact with unequal sizes is left to scipy (see _ks.py)
        handed_over = outcome == _kernels.NEEDS_SCIPY
        np.testing.assert_array_equal(handed_over, n_ref != n_bat)
        keep = ~handed_over
        n_ref, n_bat, d, stat, p = n_ref[keep], n_bat[keep], d[keep], stat[keep], p[keep]
    stat_ref, p_ref = _reference.ks_pvalues(n_ref, n_bat, d, alternative, method)
    np.testing.assert_array_equal(stat, stat_ref)
    np.testing.assert_allclose(p, p_ref, rtol=RTOL, atol=1e-300)


@pytest.mark.parametrize("n", [2, 3, 10, 140, 141, 1000, 90909, 10**6])
def test_smirnov_equals_scipy(n):
    # scipy takes up to 0.5 s per value at the largest n: fewer points there
    cs = np.linspace(0.05, 400, 41 if n < 10**5 else 9)
    xs = np.concatenate([np.sqrt(cs / n), [0.5, 0.51, 0.75, 0.99]])
    for x in xs[xs < 1]:
        ref = special.smirnov(n, x)
        got = smirnov_sf(n, x)
        if ref < 1e-290:
            assert got < 1e-280
        else:
            assert abs(got - ref) <= RTOL * ref, (n, x, got, ref)


@pytest.mark.parametrize("n", [1, 2, 5, 50, 140, 141, 500, 20000, 90909, 100001, 500000])
def test_kstwo_sf_equals_scipy(n):
    k = 81 if n < 10**5 else 15
    xs = np.concatenate([np.linspace(0, 1, 101), np.sqrt(np.linspace(0.01, 400, k) / n)])
    for x in xs[xs <= 1]:
        ref = stats.kstwo.sf(x, n)
        got = kstwo_sf(x, n)
        if ref < 1e-290:
            assert got < 1e-280
        else:
            assert abs(got - ref) <= RTOL * ref, (n, x, got, ref)


# ---------------------------------------------------------------- hypothesis

finite_or_not = st.floats(allow_nan=True, allow_infinity=True, width=64)
small_ints = st.integers(-3, 3).map(float)


@settings(max_examples=150, deadline=None)
@given(
    a=hnp.arrays(np.float64, st.integers(1, 60), elements=st.one_of(finite_or_not, small_ints)),
    b=hnp.arrays(np.float64, st.integers(1, 60), elements=st.one_of(finite_or_not, small_ints)),
    alternative=st.sampled_from(ALTERNATIVES),
    method=st.sampled_from(METHODS),
)
def test_property_ks_equals_scipy(a, b, alternative, method):
    if np.isnan(a).all() or np.isnan(b).all():
        s, p, _ = ours(a, b, alternative, method)
        assert np.isnan(s) and np.isnan(p)
        return
    assert_same_as_scipy(a, b, alternative, method)


@settings(max_examples=100, deadline=None)
@given(
    a=hnp.arrays(np.float64, st.integers(1, 300), elements=st.floats(-1e6, 1e6)),
    b=hnp.arrays(np.float64, st.integers(1, 300), elements=st.floats(-1e6, 1e6)),
)
def test_property_ks_symmetry_and_range(a, b):
    s_ab, p_ab, _ = ours(a, b)
    s_ba, p_ba, _ = ours(b, a)
    assert s_ab == s_ba and p_ab == p_ba
    assert 0.0 <= s_ab <= 1.0 and 0.0 <= p_ab <= 1.0
    # "less" and "greater" swap when the samples swap
    assert ours(a, b, "less")[0] == ours(b, a, "greater")[0]


@settings(max_examples=100, deadline=None)
@given(
    ref=hnp.arrays(
        np.float64,
        st.integers(1, 200),
        elements=st.one_of(
            st.floats(-1e3, 1e3), st.just(np.nan), st.sampled_from([np.inf, -np.inf, 0.0, 1.0])
        ),
    ),
    bat=hnp.arrays(
        np.float64,
        st.integers(1, 200),
        elements=st.one_of(
            st.floats(-1e3, 1e3), st.just(np.nan), st.sampled_from([np.inf, -np.inf, 0.0, 1.0])
        ),
    ),
    n_bins=st.integers(2, 12),
)
def test_property_psi_equals_numpy_reference(ref, bat, n_bins):
    edges = bin_edges(ref, n_bins, "quantile")
    np.testing.assert_array_equal(edges, _reference.quantile_edges(ref, n_bins))
    rc, r_nan = count_bins([ref], [edges], len(ref))[0]
    bc, b_nan = count_bins([bat], [edges], len(bat))[0]
    assert r_nan == np.isnan(ref).sum() and b_nan == np.isnan(bat).sum()
    assert rc.sum() + r_nan == len(ref)
    if rc.sum() and bc.sum():
        value = psi_value(rc, bc, 1e-4)
        expected = _reference.psi(ref, bat, edges, 1e-4)
        assert value == pytest.approx(expected, rel=1e-12, abs=1e-15)
        assert value >= 0.0


def test_bin_counts_kernel_equals_numpy_twin():
    rng = np.random.default_rng(5)
    values = rng.normal(size=(4, 1000))
    values[1, ::5] = np.nan
    values[2, :3] = [np.inf, -np.inf, 0.0]
    edges = [
        np.linspace(-1, 1, 9),
        np.sort(rng.normal(size=5)),
        np.sort(rng.normal(size=40)),
        np.array([0.5]),
        np.empty(0),
    ]
    values[0, :9] = edges[0]  # values on the edges go to the bin above
    for row, e in zip([*values, values[3]], edges, strict=True):
        out = np.zeros(len(e) + 2, dtype=np.int64)
        _kernels.bin_counts_one(row, e, len(e), out)
        np.testing.assert_array_equal(out, _reference.bin_counts_one(row, e))


def test_code_counts_kernel_equals_numpy_twin():
    rng = np.random.default_rng(6)
    for n_codes in (1, 7, 300):
        codes = rng.integers(-1, n_codes, size=500)
        np.testing.assert_array_equal(
            _kernels.code_counts_one(codes, n_codes), _reference.code_counts_one(codes, n_codes)
        )


@pytest.mark.parametrize("alternative", [1, 2])
def test_hodges_kernel_equals_numpy_twin(alternative):
    rng = np.random.default_rng(alternative)
    for _ in range(50):
        n, m = sorted(rng.integers(1, 10**6, 2))
        d = float(rng.random())
        got = _kernels.hodges_sf(d, float(m), float(n))
        assert got == pytest.approx(
            _reference.hodges_sf(d, float(m), float(n)), rel=1e-14, abs=1e-300
        )


@settings(max_examples=100, deadline=None)
@given(
    ref=st.lists(st.integers(0, 200), min_size=1, max_size=8),
    data=st.data(),
)
def test_property_chi2_equals_scipy(ref, data):
    bat = data.draw(st.lists(st.integers(0, 200), min_size=len(ref), max_size=len(ref)))
    got = chi2_table(np.array(ref), np.array(bat))
    expected = _reference.chi2(ref, bat)
    assert got[2] == expected[2]
    assert got[0] == pytest.approx(expected[0], rel=1e-13, abs=1e-13)
    assert got[1] == pytest.approx(expected[1], rel=1e-12, abs=1e-300)


def test_chi2_bit_equal_on_credit_purpose():
    from mlpipe.datasets import load_credit, make_credit_batch

    X, _ = load_credit(return_X_y=True)
    batch = make_credit_batch().X
    cats = list(X["purpose"].cat.categories)
    r = X["purpose"].value_counts().reindex(cats).to_numpy()
    b = batch["purpose"].value_counts().reindex([*cats, "crypto"]).to_numpy()
    got = chi2_table(np.append(r, 0), b)
    res = stats.chi2_contingency(np.array([np.append(r, 0), b]))
    assert got[0] == res.statistic and got[1] == res.pvalue and got[2] == res.dof


# ------------------------------------------------- indexed KS, anti-diagonals


def _indexed_statistics(ref_cols, bat_cols, step, alternative):
    R, rc = sorted_block(ref_cols, len(ref_cols[0]), 1)
    index, step = ks_index(R, step)
    _, _, d, sign = ks_statistics(
        R, rc, index, step, bat_cols, len(bat_cols[0]), alternative, threads=2
    )
    for f, (ref, bat) in enumerate(zip(ref_cols, bat_cols, strict=True)):
        d_ref, sign_ref = _reference.ks_statistic(ref, bat, alternative)
        np.testing.assert_array_equal(d[f], d_ref)
        assert np.signbit(d[f]) == np.signbit(d_ref) and sign[f] == sign_ref


@settings(max_examples=150, deadline=None)
@given(
    ref=hnp.arrays(
        np.float64,
        st.integers(2, 400),
        elements=st.one_of(
            st.floats(-5, 5), small_ints, st.just(np.nan), st.sampled_from([np.inf, -np.inf])
        ),
    ),
    bat=hnp.arrays(
        np.float64,
        st.integers(1, 100),
        elements=st.one_of(st.floats(-5, 5), small_ints, st.just(np.nan)),
    ),
    step=st.sampled_from([1, 2, 3, 5, 8, 64]),
    alternative=st.sampled_from([0, 1, 2]),
)
def test_property_indexed_statistic_equals_numpy_twin(ref, bat, step, alternative):
    # the reference index (every step-th sorted value) bounds the ranks; the
    # exact pairs are only evaluated where they can matter: same floats
    _indexed_statistics([ref], [bat], step, alternative)


@pytest.mark.parametrize("kind", ["random", "ties", "integer", "constant", "nan", "infinite"])
@pytest.mark.parametrize("step", [1, 2, 7, 64])
def test_indexed_statistic_equals_scipy_large_ratio(kind, step):
    rng = np.random.default_rng(step)
    a, b = _samples(kind, 20000, 700, rng)
    for alt in (0, 1, 2):
        _indexed_statistics([a], [b], step, alt)
    s, p, _ = ours(a, b)
    assert (s, p) == pytest.approx(scipy_ks(a, b), rel=RTOL)
    assert s == scipy_ks(a, b)[0]


def test_half_lattice_recursion_equals_scipy():
    # by anti-diagonals and from half the lattice (the band's half-turn
    # symmetry): within 1e-12 of scipy's column-by-column recursion
    from scipy.stats._stats_py import _compute_outer_prob_inside_method as scipy_inside

    rng = np.random.default_rng(11)
    cases = [
        (10000, 1000),
        (1000, 10000),
        (37, 53),
        (100, 7),
        (5, 5),
        (1, 3),
        (2, 1),
        (999, 1000),
        (3000, 2000),
    ]
    cases += [tuple(int(v) for v in rng.integers(1, 300, 2)) for _ in range(60)]
    for m, n in cases:
        g = math.gcd(m, n)
        lcm = m // g * n
        hs = {
            1,
            2,
            3,
            max(1, lcm // 50),
            max(1, lcm // 10),
            lcm // 3 + 1,
            lcm,
            int(rng.integers(1, lcm + 1)),
        }
        for h in sorted(hs):
            got = _kernels._compute_outer_prob_inside_method(m, n, g, h)
            ref = scipy_inside(m, n, g, h)
            assert abs(got - ref) <= 1e-12 * ref + 1e-300, (m, n, h, got, ref)


def test_flushing_subnormals_changes_no_pvalue():
    # wide bands (strong drift) run the recursion with values below 1e-300
    # set to 0, to keep out of subnormal arithmetic (~10x slower); the
    # p-value is the same as without, down to scipy's comparison floor
    for m, n in [(10000, 1000), (3000, 2000), (997, 500)]:
        g = math.gcd(m, n)
        lcm = m // g * n
        for frac in (0.05, 0.2, 0.3, 0.4, 0.6):
            h = max(1, int(frac * lcm))
            s1 = (m + n) - (m + n) // 2
            plain = _kernels._outer_prob_diagonals(m, n, g, h, s1, False)
            flushed = _kernels._outer_prob_diagonals(m, n, g, h, s1, True)
            for a, b in zip(plain, flushed, strict=True):
                big = a > 1e-250
                np.testing.assert_allclose(b[big], a[big], rtol=1e-13)
                assert np.all(b[~big] <= 1e-250)


def test_pvalues_of_repeated_statistics_computed_once_give_the_same():
    n_ref = np.array([1000, 1000, 1000, 0, 500, 1000, 20000], dtype=np.int64)
    n_bat = np.array([900, 900, 900, 10, 500, 900, 3000], dtype=np.int64)
    d = np.array([0.05, 0.05, 0.08, np.nan, 0.1, -0.0, 0.02])
    for alt in (0, 2):
        for method in (0, 1, 2):
            got = ks_pvalues(n_ref, n_bat, d, alt, method, threads=2)
            want = _pvalues_kernel(n_ref, n_bat, d, alt, method)
            for g, w in zip(got, want, strict=True):
                np.testing.assert_array_equal(g, w)
            # (one-sided exact with unequal sizes is left to scipy, see _ks.py)
            keep = (n_ref > 0) & (got[2] != _kernels.NEEDS_SCIPY)
            _, p_ref = _reference.ks_pvalues(n_ref[keep], n_bat[keep], d[keep], alt, method)
            np.testing.assert_allclose(got[1][keep], p_ref, rtol=RTOL)


@pytest.mark.parametrize("n_edges", [0, 1, 2, 3, 4, 7, 9, 31, 40])
def test_count_bins_threads_equal_numpy_twin(n_edges):
    rng = np.random.default_rng(n_edges)
    n = 4096 * 3 + 17  # several blocks and a partial one
    cols = [rng.normal(size=n) for _ in range(5)]
    cols[1][::5] = np.nan
    cols[2][:4] = [np.inf, -np.inf, np.nan, 0.0]
    edges = [np.unique(rng.normal(size=n_edges)) for _ in range(5)]
    if n_edges:
        cols[3][: len(edges[3])] = edges[3]  # values on an edge go to the bin above
    for threads in (1, 2):
        got = count_bins(cols, edges, n, threads)
        for f in range(5):
            want = _reference.bin_counts_one(cols[f], edges[f])
            np.testing.assert_array_equal(got[f][0], want[:-1])
            assert got[f][1] == want[-1]


def test_run_threads_visits_every_item_once():
    for workers in (1, 2, 3):
        seen = []

        def work(t, w, seen=seen):
            seen.extend(range(t, 10, w))

        run_threads(work, workers)
        assert sorted(seen) == list(range(10))


@pytest.mark.parametrize("statistic", [0, 1])
def test_table_exceedances_equals_its_twin(statistic):
    # the same generator, the same draws (a Fenwick tree in the kernel,
    # searchsorted in the twin), the statistic updated vs recomputed by scipy
    rng = np.random.default_rng(statistic)
    for trial in range(25):
        k = int(rng.integers(2, 9))
        ref = rng.integers(1, 40, size=k)
        bat = rng.integers(0, 6, size=k)
        if trial % 4 == 0:  # a batch larger than the reference: the reference is drawn
            ref, bat = bat + 1, ref
        got = _kernels.table_exceedances(
            ref.astype(np.int64), bat.astype(np.int64), statistic, 1e-4, 150, trial
        )
        want = _reference.table_exceedances(ref, bat, statistic, 1e-4, 150, trial)
        assert got[1] == want[1], (ref, bat)
        assert got[0] == pytest.approx(want[0], rel=1e-12)
