"""The kernels as plain Python (NUMBA_DISABLE_JIT=1) give the same numbers.

Runs in a subprocess, since the variable must be set before numba is
imported. This is how coverage tools and debuggers see the kernels.
"""

import os
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import numpy as np
    from scipy import special, stats
    from mlpipe.drift import _kernels, _reference
    from mlpipe.drift._base import sorted_block
    from mlpipe.drift._ks import ks_test
    import numba
    assert numba.config.DISABLE_JIT
    assert not hasattr(_kernels.ks_statistics, "signatures")  # plain Python

    rng = np.random.default_rng(0)
    for n1, n2 in [(1, 2), (30, 17), (200, 200), (400, 1200)]:
        a = np.round(rng.normal(size=n1), 1)
        b = np.round(rng.normal(0.3, size=n2), 1)
        a[1::9] = np.nan
        R, rc = sorted_block([a], n1, 1)
        B, bc = sorted_block([b], n2, 1)
        for alt in ["two-sided", "less", "greater"]:
            for method in ["auto", "asymp"]:
                s, p, _, _ = ks_test(R, rc, B, bc, alt, method)
                ref = stats.ks_2samp(a[~np.isnan(a)], b, alternative=alt, method=method)
                assert s[0] == ref.statistic, (n1, n2, alt, method)
                assert abs(p[0] - ref.pvalue) <= 1e-10 * ref.pvalue + 1e-300
    for n, x in [(90909, 0.01), (150, 0.5), (1000, 0.08)]:
        expected = special.smirnov(n, x)
        assert abs(_kernels.smirnov_sf(n, x) - expected) <= 1e-10 * expected
    values = rng.normal(size=(2, 300)); values[0, ::4] = np.nan
    edges = np.array([[-1.0, 0.0, 1.0], [0.5, 0.0, 0.0]]); n_edges = np.array([3, 1])
    assert (_kernels.bin_counts(values, edges, n_edges)
            == _reference.bin_counts(values, edges, n_edges)).all()
    codes = rng.integers(-1, 4, size=(2, 100))
    assert (_kernels.code_counts(codes, 4) == _reference.code_counts(codes, 4)).all()
    print("ok")
    """
)


def test_kernels_without_jit():
    env = {**os.environ, "NUMBA_DISABLE_JIT": "1"}
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().endswith("ok")
