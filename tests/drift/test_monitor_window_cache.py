"""The cache of exact KS p-values (issue 16, item 3) changes no result.

Exact p-values depend only on the sizes, the alternative and the statistic
rounded to a multiple of 1/lcm(n1, n2); ``drift._ks.EXACT_CACHE`` keeps them
by that key. Here every p-value and reported statistic computed with the
cache is bit-identical to the one computed without it, on streams of fresh
windows (new random data each time, so that statistics repeat only as they
do in service), and equal to scipy's.
"""

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal
from scipy import stats

from mlpipe.drift import DriftMonitor, KSDrift, _ks
from tests.drift._oracles import ks_statistics


def _bits(a):
    return np.asarray(a, dtype=np.float64).view(np.int64)


def _stream(n_ref, n_bat, n_windows, seed, shift=0.0):
    rng = np.random.default_rng(seed)
    ref = rng.normal(size=(n_ref, 6))
    windows = [rng.normal(shift, 1.0, size=(n_bat, 6)) for _ in range(n_windows)]
    return ref, windows


@pytest.mark.parametrize("alternative", ["two-sided", "less", "greater"])
@pytest.mark.parametrize("method", ["exact", "auto"])
@pytest.mark.parametrize("sizes", [(2000, 300), (400, 400), (999, 100)])
def test_cached_pvalues_are_bit_identical(alternative, method, sizes):
    n_ref, n_bat = sizes
    ref, windows = _stream(n_ref, n_bat, 25, seed=n_ref + n_bat)
    counts = np.full(6, n_ref)
    cache = _ks.ExactPValueCache()
    alt = _ks.ALTERNATIVES[alternative]
    computed = 0
    for w in windows:
        d = ks_statistics(ref, w, alternative)
        n_bat_ = np.full(6, n_bat)
        plain = _ks.ks_pvalues(counts, n_bat_, d, alt, _ks.METHODS[method], cache=None)
        cached = _ks.ks_pvalues(counts, n_bat_, d, alt, _ks.METHODS[method], cache=cache)
        computed += 6
        for a, b in zip(plain, cached, strict=True):
            np.testing.assert_array_equal(_bits(a), _bits(b))
    # the stream met statistics it had met before: the cache was used
    assert 0 < len(cache) < computed


def test_a_cache_hit_is_what_the_kernel_gives_for_its_key():
    # two statistics with the same rounding h share one entry
    cache = _ks.ExactPValueCache()
    n1, n2 = np.array([1000]), np.array([300])
    lcm = 3000
    h = 150
    first = _ks.ks_pvalues(n1, n2, np.array([h / lcm]), 0, 1, cache=cache)
    assert len(cache) == 1
    nudged = np.array([np.nextafter(h / lcm, 1.0)])
    hit = _ks.ks_pvalues(n1, n2, nudged, 0, 1, cache=cache)
    fresh = _ks.ks_pvalues(n1, n2, nudged, 0, 1, cache=None)
    assert len(cache) == 1
    for a, b, c in zip(first, hit, fresh, strict=True):
        np.testing.assert_array_equal(_bits(b), _bits(c))
        np.testing.assert_array_equal(_bits(a), _bits(c))


def test_the_cache_is_bounded():
    cache = _ks.ExactPValueCache(max_entries=3)
    for h in range(1, 10):
        cache.put((10, 10, h, 0), (0.0, 1.0, 0))
    assert len(cache) == 3 and cache.get((10, 10, 9, 0)) is not None
    assert cache.get((10, 10, 1, 0)) is None  # oldest dropped first
    off = _ks.ExactPValueCache(max_entries=0)
    off.put((10, 10, 1, 0), (0.0, 1.0, 0))
    assert len(off) == 0


def test_monitor_reports_are_identical_with_and_without_the_cache(monkeypatch):
    ref, windows = _stream(3000, 500, 12, seed=7, shift=0.05)
    columns = [f"x{i}" for i in range(6)]
    stream = pd.DataFrame(np.vstack(windows), columns=columns)
    reports = []
    for size in (0, 65536):
        monkeypatch.setattr(_ks.EXACT_CACHE, "max_entries", size)
        _ks.EXACT_CACHE.clear()
        monitor = DriftMonitor(detector=KSDrift(method="exact"), window=500, warn=False)
        monitor.fit(pd.DataFrame(ref, columns=columns)).transform(stream)
        reports.append(monitor.history_)
        if size == 0:
            assert len(_ks.EXACT_CACHE) == 0  # really off
    assert len(_ks.EXACT_CACHE) > 0
    for without, with_cache in zip(*reports, strict=True):
        a, b = without.to_frame(), with_cache.to_frame()
        assert_frame_equal(a, b)
        np.testing.assert_array_equal(_bits(a["p_value"]), _bits(b["p_value"]))
    # and equal to scipy's on the same windows
    last = windows[-1]
    table = reports[1][-1].to_frame()
    for f, col in enumerate(columns):
        want = stats.ks_2samp(ref[:, f], last[:, f], method="exact")
        got = table[(table["feature"] == col) & (table["test"] == "ks")].iloc[0]
        assert got["statistic"] == want.statistic
        np.testing.assert_allclose(got["p_value"], want.pvalue, rtol=1e-10)
