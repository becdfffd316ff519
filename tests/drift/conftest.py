"""Shared fixtures of the drift tests.

The numba kernels are compiled (or loaded from numba's cache) once per test
session by ``compiled_kernels``, so no single test carries that cost.
"""

import numpy as np
import pytest


@pytest.fixture(scope="session", autouse=True)
def compiled_kernels():
    from mlpipe.drift import _kernels
    from mlpipe.drift._kernels import kstwo_sf, smirnov_sf

    a = np.sort(np.array([[0.0, 1.0, 2.0, np.nan]]), axis=1)
    counts = np.array([3], dtype=np.int64)
    for alt in (0, 1, 2):
        d, _ = _kernels.ks_statistics(a, counts, a, counts, alt)
        for method in (0, 1, 2):
            _kernels.ks_pvalues(counts, counts, d, alt, method)
    _kernels.bin_counts(a, np.array([[0.5]]), np.array([1], dtype=np.int64))
    _kernels.code_counts(np.array([[0, 1, -1]], dtype=np.int64), 2)
    smirnov_sf(100, 0.3)
    kstwo_sf(0.3, 100)
