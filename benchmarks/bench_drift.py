"""Drift detection against its peers, in the same run.

Peers: a ``scipy.stats.ks_2samp`` loop over the columns (what people write),
the numpy reference of ``mlpipe.drift._reference`` (searchsorted into the
same presorted reference, p-values by scipy's own functions), ``np.sort`` of
the batch alone (a floor: any exact KS needs the batch sorted) and
``np.histogram`` with fixed edges for PSI. Cases:

- large: reference 1,000,000 x 20, batch 100,000 x 20 (normal columns, most
  shifted a little so that the p-values take scipy's slow path);
- small: reference 10,000 x 20, batch 1,000 x 20 (exact p-values), also the
  kernels alone and the exact p-values alone (peers: scipy's functions and
  the previous column-order port of scipy's recursion), and the same sizes
  with every column strongly shifted (wide bands, tiny p-values);
- tie-heavy: the large case rounded to 50 distinct values per column;
- fit of the 1,000,000 x 20 reference; the p-values alone; PSI per batch;
- first use in a new process (numba's cache on disk).

Run with (the conftest prints medians and peer / mlpipe ratios)::

    pytest benchmarks/bench_drift.py -o python_files='bench_*.py' -o addopts= \
        -p no:cacheprovider -s --benchmark-columns=min,median,max,rounds
"""

import json
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from mlpipe.drift import KSDrift, PSIDrift, _kernels, _ks, _reference
from mlpipe.drift._base import n_threads, sorted_block
from mlpipe.drift._psi import bin_edges, count_bins

N_FEATURES = 20


def _frames(n_ref, n_bat, seed, ties=False):
    rng = np.random.default_rng(seed)
    ref = {}
    bat = {}
    for i in range(N_FEATURES):
        # four unchanged columns, the rest shifted by up to 0.06 sd: the KS
        # statistics then fall where scipy computes smirnov() term by term
        shift = 0.0 if i < 4 else 0.004 * i
        r = rng.normal(size=n_ref)
        b = rng.normal(shift, 1.0, size=n_bat)
        if ties:
            r = np.clip(np.round(r * 8), -25, 25)
            b = np.clip(np.round(b * 8), -25, 25)
        ref[f"x{i}"] = r
        bat[f"x{i}"] = b
    return pd.DataFrame(ref), pd.DataFrame(bat)


@pytest.fixture(scope="module")
def large():
    return _frames(1_000_000, 100_000, 0)


@pytest.fixture(scope="module")
def small():
    return _frames(10_000, 1_000, 1)


@pytest.fixture(scope="module")
def ties():
    return _frames(1_000_000, 100_000, 2, ties=True)


def _scipy_loop(ref, bat):
    return [stats.ks_2samp(ref[c].to_numpy(), bat[c].to_numpy()) for c in ref.columns]


class _NumpyReference:
    """The numpy twin with the same advantage as mlpipe: the reference is
    sorted once; the batch is sorted by np.sort, the ECDFs compared by
    searchsorted, the p-values computed by scipy's functions."""

    def __init__(self, ref):
        self.sorted = {c: np.sort(ref[c].to_numpy()) for c in ref.columns}

    def score(self, bat):
        out = []
        for c, r in self.sorted.items():
            b = np.sort(bat[c].to_numpy())
            data_all = np.concatenate([r, b])
            cdf1 = np.searchsorted(r, data_all, side="right") / len(r)
            cdf2 = np.searchsorted(b, data_all, side="right") / len(b)
            diff = cdf1 - cdf2
            d = max(diff.max(), np.clip(-diff.min(), 0, 1))
            out.append(_reference.ks_pvalue(len(r), len(b), float(d)))
        return out


def _check_same(report, peer_results):
    frame = report.to_frame()
    ks = frame[frame["test"] == "ks"]
    stat = np.array([r.statistic for r in peer_results])
    p = np.array([r.pvalue for r in peer_results])
    np.testing.assert_array_equal(ks["statistic"].to_numpy(), stat)
    np.testing.assert_allclose(ks["p_value"].to_numpy(), p, rtol=1e-10, atol=1e-300)


def _bench_score(benchmark, ref, bat, rounds):
    """Time KSDrift.score of a fitted detector (kernels compiled/loaded
    first) and check its report against the scipy loop."""
    benchmark.extra_info["role"] = "mlpipe"
    det = KSDrift().fit(ref)
    det.score(bat)
    report = benchmark.pedantic(lambda: det.score(bat), rounds=rounds, iterations=1)
    _check_same(report, _scipy_loop(ref, bat))


def _bench_scipy_loop(benchmark, ref, bat, rounds):
    benchmark.extra_info["role"] = "peer"
    benchmark.pedantic(lambda: _scipy_loop(ref, bat), rounds=rounds, iterations=1)


def _bench_numpy_reference(benchmark, ref, bat, rounds):
    benchmark.extra_info["role"] = "peer"
    peer = _NumpyReference(ref)
    benchmark.pedantic(lambda: peer.score(bat), rounds=rounds, iterations=1)


# --------------------------------------------------------------- large case

LARGE = "drift ks: score 1M x 20 ref / 100k x 20 batch, with p-values"


@pytest.fixture(scope="module")
def large_fitted(large):
    ref, bat = large
    det = KSDrift().fit(ref)
    det.score(bat)  # compile / load the kernels outside the timing
    return det


@pytest.mark.benchmark(group=LARGE)
def test_large_mlpipe(benchmark, large, large_fitted):
    benchmark.extra_info["role"] = "mlpipe"
    ref, bat = large
    report = benchmark.pedantic(lambda: large_fitted.score(bat), rounds=30, iterations=1)
    _check_same(report, _scipy_loop(ref, bat))


@pytest.mark.benchmark(group=LARGE)
def test_large_scipy_loop(benchmark, large):
    _bench_scipy_loop(benchmark, *large, rounds=3)


@pytest.mark.benchmark(group=LARGE)
def test_large_numpy_reference(benchmark, large):
    _bench_numpy_reference(benchmark, *large, rounds=3)


@pytest.mark.benchmark(group=LARGE)
def test_large_floor_np_sort_batch(benchmark, large):
    benchmark.extra_info["role"] = "floor"
    _, bat = large
    cols = [bat[c].to_numpy() for c in bat.columns]
    benchmark.pedantic(lambda: [np.sort(c) for c in cols], rounds=30, iterations=1)


# --------------------------------------------------------------- tie-heavy

TIES = "drift ks: score tie-heavy 1M x 20 / 100k x 20 (51 distinct values)"


@pytest.mark.benchmark(group=TIES)
def test_ties_mlpipe(benchmark, ties):
    _bench_score(benchmark, *ties, rounds=30)


@pytest.mark.benchmark(group=TIES)
def test_ties_scipy_loop(benchmark, ties):
    _bench_scipy_loop(benchmark, *ties, rounds=3)


@pytest.mark.benchmark(group=TIES)
def test_ties_numpy_reference(benchmark, ties):
    _bench_numpy_reference(benchmark, *ties, rounds=3)


# --------------------------------------------------------------- small case

SMALL = "drift ks: score 10k x 20 ref / 1k x 20 batch, exact p-values"


@pytest.mark.benchmark(group=SMALL)
def test_small_mlpipe(benchmark, small):
    _bench_score(benchmark, *small, rounds=100)


@pytest.mark.benchmark(group=SMALL)
def test_small_scipy_loop(benchmark, small):
    _bench_scipy_loop(benchmark, *small, rounds=5)


@pytest.mark.benchmark(group=SMALL)
def test_small_numpy_reference(benchmark, small):
    _bench_numpy_reference(benchmark, *small, rounds=5)


SMALL_KERNELS = "drift ks: small case, kernels only (statistics + exact p-values)"


@pytest.mark.benchmark(group=SMALL_KERNELS)
def test_small_kernels_mlpipe(benchmark, small):
    benchmark.extra_info["role"] = "mlpipe"
    ref, bat = small
    threads = n_threads()
    R, rc = sorted_block([ref[c].to_numpy() for c in ref.columns], len(ref), threads)
    B, bc = sorted_block([bat[c].to_numpy() for c in bat.columns], len(bat), threads)
    index, step = _ks.ks_index(R)

    def run():
        d, _ = _ks.ks_statistics(R, rc, index, step, B, bc, 0, threads)
        return _ks.ks_pvalues(rc, bc, d, 0, 0, threads)

    run()
    benchmark.pedantic(run, rounds=100, iterations=1)


SMALL_PVALUES = "drift ks: small case, exact p-values alone (20 features)"


@pytest.fixture(scope="module")
def small_statistics(small):
    ref, bat = small
    return np.array([r.statistic for r in _scipy_loop(ref, bat)])


@pytest.mark.benchmark(group=SMALL_PVALUES)
def test_small_pvalues_mlpipe(benchmark, small_statistics):
    benchmark.extra_info["role"] = "mlpipe"
    n_ref = np.full(N_FEATURES, 10_000, dtype=np.int64)
    n_bat = np.full(N_FEATURES, 1_000, dtype=np.int64)
    threads = n_threads()
    _, p, _ = _ks.ks_pvalues(n_ref, n_bat, small_statistics, 0, 0, threads)
    expected = [_reference.ks_pvalue(10_000, 1_000, float(d))[1] for d in small_statistics]
    np.testing.assert_allclose(p, expected, rtol=1e-10, atol=1e-300)
    benchmark.pedantic(
        lambda: _ks.ks_pvalues(n_ref, n_bat, small_statistics, 0, 0, threads),
        rounds=100,
        iterations=1,
    )


@pytest.mark.benchmark(group=SMALL_PVALUES)
def test_small_pvalues_scipy(benchmark, small_statistics):
    benchmark.extra_info["role"] = "peer"
    benchmark.pedantic(
        lambda: [_reference.ks_pvalue(10_000, 1_000, float(d)) for d in small_statistics],
        rounds=5,
        iterations=1,
    )


@pytest.mark.benchmark(group=SMALL_PVALUES)
def test_small_pvalues_column_order_port(benchmark, small_statistics):
    # the previous kernel: scipy's recursion ported column by column
    benchmark.extra_info["role"] = "peer"
    hs = [round(d * 10_000) for d in small_statistics]
    benchmark.pedantic(
        lambda: [_kernels._outer_prob_inside_columns(10_000, 1_000, 1_000, h) for h in hs],
        rounds=10,
        iterations=1,
    )


SMALL_DRIFTED = "drift ks: score 10k x 20 / 1k x 20, every column shifted 0.4-1.2 sd"


@pytest.fixture(scope="module")
def small_drifted():
    # strong drift: D = 0.15-0.45, where the exact recursion's band is wide
    # and its values tiny (the kernel flushes subnormal numbers there)
    rng = np.random.default_rng(4)
    ref = pd.DataFrame({f"x{i}": rng.normal(size=10_000) for i in range(N_FEATURES)})
    bat = pd.DataFrame(
        {f"x{i}": rng.normal(0.4 + 0.04 * i, 1.0, size=1_000) for i in range(N_FEATURES)}
    )
    return ref, bat


@pytest.mark.benchmark(group=SMALL_DRIFTED)
def test_small_drifted_mlpipe(benchmark, small_drifted):
    _bench_score(benchmark, *small_drifted, rounds=30)


@pytest.mark.benchmark(group=SMALL_DRIFTED)
def test_small_drifted_scipy_loop(benchmark, small_drifted):
    _bench_scipy_loop(benchmark, *small_drifted, rounds=3)


# --------------------------------------------------------------- p-values

PVALUES = "drift ks: p-values alone, 20 features of the large case"


@pytest.fixture(scope="module")
def large_statistics(large):
    ref, bat = large
    return np.array([r.statistic for r in _scipy_loop(ref, bat)])


@pytest.mark.benchmark(group=PVALUES)
def test_pvalues_mlpipe(benchmark, large_statistics):
    benchmark.extra_info["role"] = "mlpipe"
    n_ref = np.full(N_FEATURES, 1_000_000, dtype=np.int64)
    n_bat = np.full(N_FEATURES, 100_000, dtype=np.int64)
    threads = n_threads()
    _ks.ks_pvalues(n_ref, n_bat, large_statistics, 0, 0, threads)
    benchmark.pedantic(
        lambda: _ks.ks_pvalues(n_ref, n_bat, large_statistics, 0, 0, threads),
        rounds=30,
        iterations=1,
    )


@pytest.mark.benchmark(group=PVALUES)
def test_pvalues_scipy(benchmark, large_statistics):
    benchmark.extra_info["role"] = "peer"
    benchmark.pedantic(
        lambda: [_reference.ks_pvalue(1_000_000, 100_000, float(d)) for d in large_statistics],
        rounds=3,
        iterations=1,
    )


# --------------------------------------------------------------- fit

FIT = "drift ks: fit on the 1M x 20 reference"


@pytest.mark.benchmark(group=FIT)
def test_fit_mlpipe(benchmark, large):
    benchmark.extra_info["role"] = "mlpipe"
    ref, _ = large
    benchmark.pedantic(lambda: KSDrift().fit(ref), rounds=3, iterations=1)


@pytest.mark.benchmark(group=FIT)
def test_fit_np_sort_columns(benchmark, large):
    benchmark.extra_info["role"] = "peer"
    ref, _ = large
    cols = [ref[c].to_numpy() for c in ref.columns]
    benchmark.pedantic(lambda: [np.sort(c) for c in cols], rounds=3, iterations=1)


# --------------------------------------------------------------- PSI

PSI = "drift psi: bin a 100k x 20 batch on fixed edges"


@pytest.fixture(scope="module")
def psi_setup(large):
    ref, bat = large
    edges = [bin_edges(ref[c].to_numpy(), 10, "quantile") for c in ref.columns]
    cols = [bat[c].to_numpy() for c in bat.columns]
    return ref, bat, edges, cols


@pytest.mark.benchmark(group=PSI)
def test_psi_kernel_mlpipe(benchmark, psi_setup):
    benchmark.extra_info["role"] = "mlpipe"
    _, bat, edges, cols = psi_setup
    expected = [
        np.histogram(c, np.concatenate([[-np.inf], e, [np.inf]]))[0]
        for c, e in zip(cols, edges, strict=True)
    ]
    threads = n_threads()
    got = count_bins(cols, edges, len(bat), threads)
    for (counts, _), exp in zip(got, expected, strict=True):
        np.testing.assert_array_equal(counts, exp)
    benchmark.pedantic(lambda: count_bins(cols, edges, len(bat), threads), rounds=100, iterations=1)


@pytest.mark.benchmark(group=PSI)
def test_psi_np_histogram(benchmark, psi_setup):
    benchmark.extra_info["role"] = "peer"
    _, _, edges, cols = psi_setup
    full = [np.concatenate([[-np.inf], e, [np.inf]]) for e in edges]
    benchmark.pedantic(
        lambda: [np.histogram(c, e)[0] for c, e in zip(cols, full, strict=True)],
        rounds=30,
        iterations=1,
    )


@pytest.mark.benchmark(group=PSI)
def test_psi_numpy_reference_searchsorted(benchmark, psi_setup):
    benchmark.extra_info["role"] = "peer"
    _, _, edges, cols = psi_setup
    benchmark.pedantic(
        lambda: [
            np.bincount(np.searchsorted(e, c, side="right"), minlength=len(e) + 1)
            for c, e in zip(cols, edges, strict=True)
        ],
        rounds=10,
        iterations=1,
    )


PSI_SCORE = "drift psi: PSIDrift.score of a 100k x 20 batch (report included)"


@pytest.mark.benchmark(group=PSI_SCORE)
def test_psi_score_mlpipe(benchmark, psi_setup):
    benchmark.extra_info["role"] = "mlpipe"
    ref, bat, _, _ = psi_setup
    det = PSIDrift().fit(ref)
    det.score(bat)
    benchmark.pedantic(lambda: det.score(bat), rounds=30, iterations=1)


# --------------------------------------------------------------- first use

FIRST = "drift: first use in a new process (numba cache on disk)"
_FIRST_USE = textwrap.dedent(
    """
    import json, time
    t0 = time.perf_counter()
    import numpy as np, pandas as pd
    from mlpipe.drift import KSDrift
    t1 = time.perf_counter()
    rng = np.random.default_rng(0)
    ref = pd.DataFrame(rng.normal(size=(10_000, 20)))
    bat = pd.DataFrame(rng.normal(size=(1_000, 20)))
    t2 = time.perf_counter()
    KSDrift().fit(ref).score(bat)
    t3 = time.perf_counter()
    KSDrift().fit(ref).score(bat)
    t4 = time.perf_counter()
    print(json.dumps({"import": t1 - t0, "first": t3 - t2, "second": t4 - t3}))
    """
)


def _first_use():
    out = subprocess.run(
        [sys.executable, "-c", _FIRST_USE], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.benchmark(group=FIRST)
def test_first_use_new_process(benchmark):
    benchmark.extra_info["role"] = "mlpipe"
    _first_use()  # make sure the cache is on disk
    runs = []
    benchmark.pedantic(lambda: runs.append(_first_use()), rounds=5, iterations=1)
    first = np.median([r["first"] for r in runs])
    second = np.median([r["second"] for r in runs])
    benchmark.extra_info["first_call_s"] = float(first)
    benchmark.extra_info["second_call_s"] = float(second)
    benchmark.extra_info["import_s"] = float(np.median([r["import"] for r in runs]))
    print(
        f"\nfirst fit+score in a new process: {first:.3f} s "
        f"(second: {second:.4f} s; cache load = the difference)"
    )
