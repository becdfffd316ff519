"""KS of a whole batch in one kernel call (issue 16: 20 features, 10,000
reference / 1,000 window rows, exact p-values, <= 1 ms a window).

``_kernels.ks_statistics_range`` walks every column of a sorted batch block
in one call; its twin is ``_reference.ks_statistic`` column by column, and
the whole path (block, statistic, exact p-value) equals
``scipy.stats.ks_2samp(method="exact")`` on a stream of fresh windows.
"""

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from mlpipe.drift import KSDrift, _kernels, _ks, _reference
from mlpipe.drift._columns import numeric_block, sorted_block
from mlpipe.drift._ks import ks_index, ks_statistics
from tests.drift import _oracles

ALTS = {0: "two-sided", 1: "less", 2: "greater"}


def _block_with_holes(rng, n_rows, n_cols, shift=0.0):
    block = rng.normal(shift, 1.0, size=(n_cols, n_rows))
    block[1, rng.choice(n_rows, n_rows // 3, replace=False)] = np.nan
    block[2, :] = np.nan  # a column with no values
    block[3] = np.round(block[3], 1)  # ties
    return block


@pytest.mark.parametrize("alternative", [0, 1, 2])
@pytest.mark.parametrize("n_ref, n_bat, step", [(3000, 200, 32), (300, 300, 32), (50, 9, 1)])
def test_range_kernel_equals_numpy_twin(alternative, n_ref, n_bat, step):
    rng = np.random.default_rng(n_ref + n_bat + alternative)
    ref = _block_with_holes(rng, n_ref, 6)
    bat = _block_with_holes(rng, n_bat, 6, shift=0.1)
    bat[4] = np.nan
    R, rc = sorted_block(list(ref), n_ref, 1)
    index, step = ks_index(R, step)
    for start, stride in [(0, 1), (0, 2), (1, 2)]:  # one worker's share of the columns
        B = np.sort(bat, axis=1)
        counts = np.full(6, -1, dtype=np.int64)
        d = np.full(6, -2.0)
        sign = np.full(6, 5, dtype=np.int8)
        _kernels.ks_statistics_range(
            R, rc, index, step, B, alternative, start, 6, stride, counts, d, sign
        )
        for f in range(6):
            if (f - start) % stride:
                assert counts[f] == -1 and d[f] == -2.0 and sign[f] == 5  # not its share
                continue
            d_ref, sign_ref = _reference.ks_statistic(ref[f], bat[f], alternative)
            assert counts[f] == np.count_nonzero(~np.isnan(bat[f]))
            if np.isnan(d_ref):
                assert np.isnan(d[f]) and sign[f] == sign_ref == 0
            else:
                assert d[f] == d_ref and np.signbit(d[f]) == np.signbit(d_ref)
                assert sign[f] == sign_ref


@pytest.mark.parametrize("threads", [1, 2])
def test_statistics_of_a_block_equal_those_of_its_columns(threads):
    rng = np.random.default_rng(4)
    ref = _block_with_holes(rng, 30_000, 8)
    bat = _block_with_holes(rng, 30_000, 8, shift=0.05)  # above the threads' threshold
    R, rc = sorted_block(list(ref), 30_000, 1)
    index, step = ks_index(R)
    from_block = ks_statistics(R, rc, index, step, bat.copy(), 30_000, 0, threads)
    from_columns = ks_statistics(R, rc, index, step, list(bat), 30_000, 0, 1)
    for a, b in zip(from_block, from_columns, strict=True):
        np.testing.assert_array_equal(a, b)


def test_numeric_block_copies_and_converts():
    frame = pd.DataFrame(
        {
            "a": [1.0, np.nan, 3.0],
            "b": pd.array([1, None, 2], dtype="Int64"),
            "c": pd.to_datetime(["2020-01-01", None, "2020-01-02"]),
        }
    )
    block = numeric_block(frame, ["c", "a", "b"])
    assert block.flags.c_contiguous and block.shape == (3, 3)
    np.testing.assert_array_equal(block[1], [1.0, np.nan, 3.0])
    np.testing.assert_array_equal(block[2], [1.0, np.nan, 2.0])
    assert np.isnan(block[0, 1]) and block[0, 2] - block[0, 0] == 86_400e9
    floats = pd.DataFrame(np.arange(6.0).reshape(3, 2), columns=["x", "y"])
    block = numeric_block(floats, ["y"])
    block.sort(axis=1)  # the caller may sort it: the frame is not touched
    assert not np.shares_memory(block, floats.to_numpy())
    np.testing.assert_array_equal(block, [[1.0, 3.0, 5.0]])


def test_stream_of_fresh_windows_equals_scipy_exact():
    rng = np.random.default_rng(11)
    cols = [f"x{i}" for i in range(20)]
    ref = rng.normal(size=(10_000, 20))
    detector = KSDrift(method="exact").fit(pd.DataFrame(ref, columns=cols))
    shift = np.where(np.arange(20) % 2 == 0, 0.0, 0.05)
    for _ in range(3):
        window = rng.normal(size=(1_000, 20)) + shift
        frame = detector.detect(pd.DataFrame(window, columns=cols)).to_frame()
        ks = frame[frame["test"] == "ks"].set_index("feature")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            expected = [stats.ks_2samp(ref[:, f], window[:, f], method="exact") for f in range(20)]
        np.testing.assert_array_equal(ks.loc[cols, "statistic"], [e.statistic for e in expected])
        # the statistic bit-equal, the p-value to scipy's within 1e-10 (its
        # lattice recursion, reordered in the kernel, as tests/drift/test_kernels.py)
        np.testing.assert_allclose(
            ks.loc[cols, "p_value"], [e.pvalue for e in expected], rtol=1e-10, atol=0
        )


def _bits(a):
    return np.asarray(a, dtype=np.float64).view(np.int64)


@pytest.mark.parametrize("alternative", [0, 1, 2])
@pytest.mark.parametrize("sizes", [(2000, 300), (400, 400), (999, 100)])
def test_neighbour_filled_cache_changes_no_result(alternative, sizes):
    # a miss fills the statistics around it: every later value, a hit or
    # not, is bit-identical to the kernel's without a cache
    n_ref, n_bat = sizes
    rng = np.random.default_rng(n_ref + 7 * n_bat + alternative)
    ref = rng.normal(size=(n_ref, 6))
    cache = _ks.ExactPValueCache(neighbours=4)
    counts, n_bat_ = np.full(6, n_ref), np.full(6, n_bat)
    met = set()
    for _ in range(15):
        window = rng.normal(0.1, 1.0, size=(n_bat, 6))
        d = _oracles.ks_statistics(ref, window, ALTS[alternative])
        met.update(_ks._exact_keys(counts, n_bat_, d, alternative, 1))
        plain = _ks.ks_pvalues(counts, n_bat_, d, alternative, 1, cache=None)
        cached = _ks.ks_pvalues(counts, n_bat_, d, alternative, 1, cache=cache)
        for a, b in zip(plain, cached, strict=True):
            np.testing.assert_array_equal(_bits(a), _bits(b))
    # each filled entry is what the kernel gives for its key
    lcm = (n_ref // np.gcd(n_ref, n_bat)) * n_bat
    for (n1, n2, h, alt), value in list(cache._values.items())[:40]:
        direct = _ks.ks_pvalues([n1], [n2], [h / lcm], alt, 1, cache=None)
        assert _bits([value[0], value[1]]).tolist() == _bits([direct[0][0], direct[1][0]]).tolist()
        assert value[2] == direct[2][0]
    assert len(cache) > len(met - {None})  # more than the statistics met: neighbours


def test_neighbours_stay_within_the_lattice():
    cache = _ks.ExactPValueCache(neighbours=10)
    n1, n2 = np.array([20]), np.array([10])  # lcm 20: h in 1..20
    _ks.ks_pvalues(n1, n2, np.array([19 / 20]), 0, 1, cache=cache)
    _ks.ks_pvalues(n1, n2, np.array([1 / 20]), 0, 1, cache=cache)
    hs = sorted(key[2] for key in cache._values)
    assert hs == list(range(1, 21))
