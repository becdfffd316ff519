"""Shared fixtures of the drift tests.

The numba kernels are compiled (or loaded from numba's cache) once per test
session by ``compiled_kernels``, so no single test carries that cost.
"""

import numpy as np
import pytest


@pytest.fixture(scope="session", autouse=True)
def compiled_kernels():
    from mlpipe.drift import _kernels

    a = np.array([0.0, 1.0, 2.0, np.nan])
    index = a[:1].copy()
    counts = np.array([3], dtype=np.int64)
    for alt in (0, 1, 2):
        d, _ = _kernels.ks_statistic_one(a, 3, index, 1, 32, a, 3, alt)
        for method in (0, 1, 2):
            out = np.empty(1), np.empty(1), np.empty(1, dtype=np.int8)
            _kernels.ks_pvalues_range(counts, counts, np.array([d]), alt, method, 0, 1, 1, *out)
    _kernels.bin_counts_one(a, np.array([0.5]), 1, np.zeros(3, dtype=np.int64))
    _kernels.code_counts_one(np.array([0, 1, -1], dtype=np.int64), 2)
    _kernels.smirnov_sf(100, 0.3)
    _kernels.kstwo_sf(0.3, 100)
