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
    from mlpipe.drift._columns import sorted_block
    from mlpipe.drift._ks import ALTERNATIVES, ks_index, ks_pvalues_of, ks_statistics
    import numba
    assert numba.config.DISABLE_JIT
    assert not hasattr(_kernels.ks_statistic_one, "signatures")  # plain Python

    rng = np.random.default_rng(0)
    for n1, n2 in [(1, 2), (30, 17), (200, 200), (400, 1200), (1200, 400)]:
        a = np.round(rng.normal(size=n1), 1)
        b = np.round(rng.normal(0.3, size=n2), 1)
        a[1::9] = np.nan
        R, rc = sorted_block([a], n1, 1)
        index, step = ks_index(R)
        for alt in ["two-sided", "less", "greater"]:
            B, bc, d, _ = ks_statistics(R, rc, index, step, [b], n2, ALTERNATIVES[alt], 1)
            for method in ["auto", "asymp"]:
                s, p, _ = ks_pvalues_of(R, rc, B, bc, d, alt, method)
                ref = stats.ks_2samp(a[~np.isnan(a)], b, alternative=alt, method=method)
                assert s[0] == ref.statistic, (n1, n2, alt, method)
                assert abs(p[0] - ref.pvalue) <= 1e-10 * ref.pvalue + 1e-300
    for n, x in [(90909, 0.01), (150, 0.5), (1000, 0.08)]:
        expected = special.smirnov(n, x)
        assert abs(_kernels.smirnov_sf(n, x) - expected) <= 1e-10 * expected
    row = rng.normal(size=300); row[::4] = np.nan
    edges = np.array([-1.0, 0.0, 1.0])
    out = np.zeros(5, dtype=np.int64)
    _kernels.bin_counts_one(row, edges, 3, out)
    assert (out == _reference.bin_counts_one(row, edges)).all()
    codes = rng.integers(-1, 4, size=100)
    assert (_kernels.code_counts_one(codes, 4) == _reference.code_counts_one(codes, 4)).all()
    for stat in (0, 1):
        ref = np.array([40, 9, 3, 1], dtype=np.int64)
        bat = np.array([6, 2, 0, 1], dtype=np.int64)
        got = _kernels.table_exceedances(ref, bat, stat, 1e-4, 300, 7)
        want = _reference.table_exceedances(ref, bat, stat, 1e-4, 300, 7)
        assert got[1] == want[1] and abs(got[0] - want[0]) <= 1e-9 * want[0], (got, want)
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
