"""Windowed DriftMonitor and exact KS p-values over a stream of windows
(issue 16, item 3), plain timing in one process.

(a) ``DriftMonitor(window=1000)`` fed one row per call, on the credit data
    (9 columns: 5 categorical, 4 integer) and on 20 float columns: amortized
    ms per row over 5 windows, the window tests included (the mean; median,
    p99 and the slowest call, a window's test or a garbage collection, beside
    it); then the per-call cost of what every call does anyway (the
    pass-through's new frame, ``X.copy(deep=False)``) and the per-batch
    monitor.
(b) KS drift of 20 numeric features, 10,000 reference rows, windows of 1,000
    rows, exact p-values: ``KSDrift(method="exact").detect`` per window on a
    stream of FRESH windows (new random data each window; half the features
    shifted by 0.05 sd, as a mildly drifting service), median ms per window,
    with the exact p-value cache on and off, side by side with
    ``scipy.stats.ks_2samp(method="exact")`` over the 20 columns of the same
    windows.

Run (about a minute)::

    PYTHONPATH=src python benchmarks/bench_monitor_window.py
"""

import os
import time
import warnings

import numpy as np
import pandas as pd
from scipy import stats

from mlpipe.datasets import load_credit, make_credit_batch
from mlpipe.drift import DriftMonitor, KSDrift, _ks

N_FEATURES = 20
N_REF = 10_000
N_WINDOW = 1_000


def _per_row(monitor, rows):
    """Mean ms per call (the amortized cost: window tests included)."""
    return _calls(monitor, rows).mean()


def _calls(monitor, rows):
    """ms of every call."""
    out = np.empty(len(rows))
    clock = time.perf_counter
    for i, row in enumerate(rows):
        t0 = clock()
        monitor.transform(row)
        out[i] = clock() - t0
    return out * 1e3


def monitor_rows():
    X, _ = load_credit(return_X_y=True)
    credit_rows = make_credit_batch(6000, drift=False, defects=False, random_state=1).X[X.columns]
    rng = np.random.default_rng(0)
    cols = [f"x{i}" for i in range(N_FEATURES)]
    num_ref = pd.DataFrame(rng.normal(size=(N_REF, N_FEATURES)), columns=cols)
    num_rows = pd.DataFrame(rng.normal(size=(6000, N_FEATURES)), columns=cols)
    out = []
    for name, ref, frame in [("credit", X, credit_rows), ("20 floats", num_ref, num_rows)]:
        rows = [frame.iloc[[i]] for i in range(len(frame))]  # requests built beforehand
        monitor = DriftMonitor(window=1000, warn=False).fit(ref)
        _per_row(monitor, rows[:1000])  # warm-up: kernels loaded, caches filled
        windowed = _calls(monitor, rows[1000:6000])
        assert len(monitor.history_) == 6
        t0 = time.perf_counter()
        for row in rows[:2000]:
            row.copy(deep=False)
        copy = (time.perf_counter() - t0) / 2000 * 1e3
        per_batch = DriftMonitor(warn=False).fit(ref)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _per_row(per_batch, rows[:20])
            batch = _per_row(per_batch, rows[20:220])
        out.append((name, windowed, copy, batch))
    return out


def ks_windows(n_windows=200):
    rng = np.random.default_rng(1)
    ref = rng.normal(size=(N_REF, N_FEATURES))
    shift = np.where(np.arange(N_FEATURES) % 2 == 0, 0.0, 0.05)
    cols = [f"x{i}" for i in range(N_FEATURES)]
    detector = KSDrift(method="exact").fit(pd.DataFrame(ref, columns=cols))
    windows = [
        pd.DataFrame(rng.normal(size=(N_WINDOW, N_FEATURES)) + shift, columns=cols)
        for _ in range(n_windows)
    ]
    detector.detect(windows[0])  # compiled kernels loaded
    times = {}
    for label, size in [("mlpipe, no cache", 0), ("mlpipe, cache", 65536)]:
        _ks.EXACT_CACHE.max_entries = size
        _ks.EXACT_CACHE.clear()
        t = []
        for w in windows:
            t0 = time.perf_counter()
            detector.detect(w)
            t.append(time.perf_counter() - t0)
        times[label] = np.array(t) * 1e3
        entries = len(_ks.EXACT_CACHE)
    t = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for w in windows[:40]:
            values = w.to_numpy()
            t0 = time.perf_counter()
            for f in range(N_FEATURES):
                stats.ks_2samp(ref[:, f], values[:, f], method="exact")
            t.append(time.perf_counter() - t0)
    times["scipy ks_2samp exact"] = np.array(t) * 1e3
    return times, entries


def main():
    print(f"load average before: {os.getloadavg()}, cpus: {os.cpu_count()}")
    print("\n(a) DriftMonitor(window=1000), one row per call, 5 windows after a warm-up one")
    print(
        f"{'data':<12}{'mean ms/row':>12}{'median':>9}{'p99':>9}{'max':>9}"
        f"{'X.copy(deep=False)':>20}{'per-batch monitor':>19}"
    )
    for name, windowed, copy, batch in monitor_rows():
        print(
            f"{name:<12}{windowed.mean():>12.4f}{np.median(windowed):>9.4f}"
            f"{np.percentile(windowed, 99):>9.4f}{windowed.max():>9.2f}{copy:>20.4f}{batch:>19.3f}"
        )
    print(
        f"\n(b) KS, {N_FEATURES} features, {N_REF} reference rows, {N_WINDOW}-row fresh "
        "windows, exact p-values (ms per window)"
    )
    times, entries = ks_windows()
    base = np.median(times["mlpipe, cache"])
    print(f"{'':<24}{'median':>9}{'p90':>9}{'first 20':>10}{'last 100':>10}{'ratio':>8}")
    for label, t in times.items():
        last = f"{np.median(t[-100:]):10.3f}" if len(t) >= 200 else f"{'':>10}"
        print(
            f"{label:<24}{np.median(t):9.3f}{np.percentile(t, 90):9.3f}"
            f"{np.median(t[:20]):10.3f}{last}{np.median(t) / base:8.1f}x"
        )
    print(f"cache entries after the stream: {entries}")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
