"""DriftMonitor windows (issue 16, item 3): rows buffered across calls and
tested once per window of ``window`` rows or ``window_time``; one report per
closed window; the open window survives a skops round trip and a restart.

The oracle of a window's report is the monitor's own detector run on the
same rows concatenated by pandas: ``detector_.detect(pd.concat(rows))``.
"""

import datetime
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from pandas.testing import assert_frame_equal

from mlpipe.datasets import load_credit, make_credit_batch
from mlpipe.drift import DriftMonitor, KSDrift
from mlpipe.exceptions import DriftWarning
from mlpipe.utils._monitoring import suspended
from mlpipe.utils._sklearn_compat import InvalidParameterError

TRUSTED_MODULES = ("mlpipe.", "numpy.", "sklearn.")


@pytest.fixture(scope="module")
def credit():
    X, _ = load_credit(return_X_y=True)
    rows = make_credit_batch(650, drift=True, random_state=0).X[X.columns]
    return X, rows


def _same_report(a, b):
    assert_frame_equal(a.to_frame(), b.to_frame())
    assert a.drift == b.drift and a.n_batch == b.n_batch


def _expected(monitor, rows, k):
    """The detector's reports of the consecutive k-row slices of ``rows``."""
    return [monitor.detector_.detect(rows.iloc[i : i + k]) for i in range(0, len(rows) - k + 1, k)]


@pytest.mark.parametrize("chunk", [1, 7, 150, 1500])
def test_window_closes_at_exactly_k_rows(credit, chunk):
    X, rows = credit
    monitor = DriftMonitor(window=200, warn=False).fit(X)
    for start in range(0, len(rows), chunk):
        out = monitor.transform(rows.iloc[start : start + chunk])
        assert out.equals(rows.iloc[start : start + chunk])  # passed on unchanged
    # 650 rows: three windows of 200, 50 rows waiting
    assert len(monitor.history_) == 3 and monitor.n_buffered_ == 50
    for got, want in zip(monitor.history_, _expected(monitor, rows, 200), strict=True):
        assert got.n_batch == 200
        _same_report(got, want)


def test_one_batch_closes_several_windows(credit):
    X, rows = credit
    seen = []
    monitor = DriftMonitor(window=100, callbacks=seen.append).fit(X)
    with pytest.warns(DriftWarning, match="Drift in window"):
        monitor.transform(rows)
    assert len(monitor.history_) == 6 and monitor.n_buffered_ == 50
    for got, want in zip(monitor.history_, _expected(monitor, rows, 100), strict=True):
        _same_report(got, want)
    assert seen == [r for r in monitor.history_ if r.drift] and monitor.n_drifted_ == len(seen)
    # the leftover rows start the next window
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DriftWarning)
        monitor.transform(rows.iloc[:50])
    assert len(monitor.history_) == 7 and monitor.n_buffered_ == 0
    _same_report(
        monitor.history_[-1], monitor.detector_.detect(pd.concat([rows.iloc[600:], rows.iloc[:50]]))
    )


def test_chunks_of_other_dtypes_concatenate_as_pandas_does(credit):
    # a service's JSON rows arrive as text, not as the reference's categories
    X, rows = credit
    monitor = DriftMonitor(window=60, warn=False).fit(X)
    as_text = rows.iloc[20:40].astype({"housing": "str", "purpose": object})
    parts = [rows.iloc[:20], as_text, rows.iloc[40:60]]
    for part in parts:
        monitor.transform(part)
    assert len(monitor.history_) == 1
    _same_report(monitor.history_[0], monitor.detector_.detect(pd.concat(parts)))


def test_a_bad_row_is_refused_at_its_call(credit):
    X, rows = credit
    monitor = DriftMonitor(window=50, warn=False).fit(X)
    monitor.transform(rows.iloc[:10])
    bad = rows.iloc[10:11].astype({"age": object})
    bad.loc[bad.index[0], "age"] = "forty"
    with pytest.raises(TypeError, match="age"):
        monitor.transform(bad)
    assert monitor.n_buffered_ == 10  # the refused row was not kept
    monitor.transform(rows.iloc[10:50])
    _same_report(monitor.history_[0], monitor.detector_.detect(rows.iloc[:50]))


def test_the_buffer_is_a_copy(credit):
    X, rows = credit
    monitor = DriftMonitor(window=20, warn=False).fit(X)
    batch = rows.iloc[:10].copy()
    monitor.transform(batch)
    batch["age"] = 99  # the caller reuses its frame
    batch.loc[batch.index[0], "housing"] = "rent"
    monitor.transform(rows.iloc[10:20])
    _same_report(monitor.history_[0], monitor.detector_.detect(rows.iloc[:20]))


class _Clock:
    def __init__(self):
        self.now = 1_000.0

    def __call__(self):
        return self.now


def test_time_span_closes_a_window_by_arrival_time(credit):
    X, rows = credit
    clock = _Clock()
    monitor = DriftMonitor(
        window=1000, window_time=datetime.timedelta(seconds=60), clock=clock, warn=False
    ).fit(X)
    for now, part in [(1000.0, slice(0, 5)), (1030.0, slice(5, 9)), (1060.0, slice(9, 12))]:
        clock.now = now  # 60 s after the first row: not yet exceeded
        monitor.transform(rows.iloc[part])
    assert monitor.history_ == [] and monitor.n_buffered_ == 12
    clock.now = 1060.5
    monitor.transform(rows.iloc[12:15])  # closes the open window, then opens the next
    assert len(monitor.history_) == 1 and monitor.n_buffered_ == 3
    _same_report(monitor.history_[0], monitor.detector_.detect(rows.iloc[:12]))
    clock.now = 1100.0
    monitor.transform(rows.iloc[15:16])
    clock.now = 1121.0  # 60.5 s after the second window's first row
    monitor.transform(rows.iloc[16:17])
    assert len(monitor.history_) == 2 and monitor.n_buffered_ == 1
    _same_report(monitor.history_[1], monitor.detector_.detect(rows.iloc[12:16]))


def test_count_and_time_both_close(credit):
    X, rows = credit
    clock = _Clock()
    monitor = DriftMonitor(window=10, window_time="1min", clock=clock, warn=False).fit(X)
    monitor.transform(rows.iloc[:25])  # two windows by count
    clock.now += 61
    monitor.transform(rows.iloc[25:26])  # the 5 waiting rows close by time
    assert [r.n_batch for r in monitor.history_] == [10, 10, 5] and monitor.n_buffered_ == 1


def _timed(X, rows, minutes):
    frame = rows.copy()
    frame.insert(0, "at", pd.Timestamp("2026-01-01") + pd.to_timedelta(minutes, unit="min"))
    ref = X.copy()
    ref.insert(0, "at", pd.Timestamp("2025-01-01"))
    return ref, frame


def test_time_span_by_a_time_column(credit):
    X, rows = credit
    minutes = np.arange(len(rows), dtype=float)  # one row a minute
    minutes[[3, 4]] = np.nan  # rows without a time never close a window
    ref, frame = _timed(X, rows, minutes)
    monitor = DriftMonitor(window_time="10min", time_column="at", warn=False).fit(ref)
    # the time column is read, not tested
    assert "at" not in monitor.detector_.reference_.columns
    monitor.transform(frame.iloc[:5])
    monitor.transform(frame.iloc[5:25])
    # rows at minutes 0..10 (the window's first row and 10 min after it, not
    # more) close when minute 11 arrives, then 11..21
    assert [r.n_batch for r in monitor.history_] == [11, 11] and monitor.n_buffered_ == 3
    plain = frame.drop(columns="at")
    _same_report(monitor.history_[0], monitor.detector_.detect(plain.iloc[:11]))
    _same_report(monitor.history_[1], monitor.detector_.detect(plain.iloc[11:22]))
    assert monitor.transform(frame.iloc[:3]).equals(frame.iloc[:3])  # with its time column


def test_flush_tests_the_open_window(credit):
    X, rows = credit
    monitor = DriftMonitor(window=100, warn=False).fit(X)
    assert monitor.flush() is None  # nothing waiting
    one = rows.iloc[:1].copy()
    one["saving_accounts"] = np.nan
    monitor.transform(one)
    report = monitor.flush()
    assert monitor.n_buffered_ == 0 and monitor.history_ == [report]
    table = report.to_frame()
    tested = table[(table["feature"] == "saving_accounts") & (table["test"] == "chi2")]
    assert tested["status"].tolist() == ["too_few_rows"]  # no value to compare
    _same_report(report, monitor.detector_.detect(one))
    assert monitor.flush() is None


def test_window_none_tests_every_batch(credit):
    X, rows = credit
    monitor = DriftMonitor(warn=False).fit(X)
    monitor.transform(rows.iloc[:3])
    monitor.transform(rows.iloc[3:10])
    assert len(monitor.history_) == 2 and monitor.n_buffered_ == 0
    assert monitor.flush() is None
    _same_report(monitor.history_[1], monitor.detector_.detect(rows.iloc[3:10]))


@pytest.mark.parametrize(
    "params",
    [
        {"window": 0},
        {"window": -1},
        {"window": 1.5},
        {"window": "x"},
        {"window_time": "x"},
        {"window_time": 5},
        {"window_time": datetime.timedelta(0)},
        {"window_time": "-5s"},
        {"time_column": "age"},  # without window_time
        {"window_time": "1h", "time_column": "at", "clock": _Clock()},
        {"clock": "time"},
    ],
)
def test_bad_parameters(credit, params):
    X, _ = credit
    with pytest.raises(InvalidParameterError):
        DriftMonitor(**params).fit(X)


def test_bad_time_column(credit):
    X, _ = credit
    with pytest.raises(ValueError, match="'when' is not a column"):
        DriftMonitor(window_time="1h", time_column="when").fit(X)
    with pytest.raises(TypeError, match="must hold datetimes"):
        DriftMonitor(window_time="1h", time_column="age").fit(X)


def test_suspended_rows_are_not_buffered(credit):
    # mlpipe.explain sends its own rows through the pipeline inside suspended()
    X, rows = credit
    monitor = DriftMonitor(window=10, warn=False).fit(X)
    monitor.transform(rows.iloc[:4])
    with suspended():
        assert monitor.transform(rows.iloc[4:30]).equals(rows.iloc[4:30])
    assert monitor.n_buffered_ == 4 and monitor.history_ == []


def test_refit_empties_the_window(credit):
    X, rows = credit
    monitor = DriftMonitor(window=10, warn=False).fit(X)
    monitor.transform(rows.iloc[:4])
    monitor.fit(X)
    assert monitor.n_buffered_ == 0 and monitor.history_ == []


def _load(data):
    untrusted = sio.get_untrusted_types(data=data)
    assert [t for t in untrusted if not t.startswith(TRUSTED_MODULES)] == []
    return sio.loads(data, trusted=untrusted)


def test_window_and_history_survive_skops(credit):
    X, rows = credit
    monitor = DriftMonitor(window=100, warn=False).fit(X)
    monitor.transform(rows.iloc[:130])
    monitor.history_[0].to_frame()  # a read report holds a table
    loaded = _load(sio.dumps(monitor))
    assert loaded.n_buffered_ == 30 and len(loaded.history_) == 1
    _same_report(loaded.history_[0], monitor.history_[0])
    for m in (monitor, loaded):
        m.transform(rows.iloc[130:200])
    _same_report(loaded.history_[1], monitor.history_[1])


def _rich(n, seed):
    """Categorical, text, nullable, boolean and zone-aware datetime columns."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {
            "group": pd.Series(rng.choice(["a", "b", "c"], n), dtype="str"),
            "kind": pd.Categorical(rng.choice(["x", "y"], n)),
            "flag": pd.array(rng.choice([True, False], n), dtype="boolean"),
            "count": pd.array(rng.integers(0, 50, n), dtype="Int64"),
            "when": pd.date_range("2024-01-01", periods=n, freq="7h", tz="US/Eastern"),
            "value": rng.normal(size=n),
        }
    )
    X.loc[X.index[::7], ["kind", "count", "when", "value", "flag"]] = None
    return X


def test_mixed_dtypes_survive_skops():
    monitor = DriftMonitor(window=100, warn=False).fit(_rich(400, 0))
    first, rest = _rich(40, 1), _rich(60, 2)
    monitor.transform(first)
    loaded = _load(sio.dumps(monitor))
    for m in (monitor, loaded):
        m.transform(rest)
    assert len(loaded.history_) == 1
    _same_report(loaded.history_[0], monitor.history_[0])
    _same_report(loaded.history_[0], monitor.detector_.detect(pd.concat([first, rest])))


RESTART = textwrap.dedent(
    """
    import sys
    import skops.io as sio
    from mlpipe.datasets import make_credit_batch

    path = sys.argv[1]
    data = open(path, "rb").read()
    monitor = sio.loads(data, trusted=sio.get_untrusted_types(data=data))
    assert monitor.n_buffered_ == 120, monitor.n_buffered_
    rows = make_credit_batch(650, drift=True, random_state=0).X[monitor.feature_names_in_]
    for i in range(120, 300):
        monitor.transform(rows.iloc[i : i + 1])
    open(path, "wb").write(sio.dumps(monitor))
    """
)


def test_a_restarted_service_resumes_its_window(credit, tmp_path):
    X, rows = credit
    monitor = DriftMonitor(window=200, warn=False).fit(X)
    uninterrupted = DriftMonitor(window=200, warn=False).fit(X)
    for i in range(300):
        uninterrupted.transform(rows.iloc[i : i + 1])
    for i in range(120):  # the service stops with 120 rows in its window
        monitor.transform(rows.iloc[i : i + 1])
    path = tmp_path / "monitor.skops"
    sio.dump(monitor, path)
    subprocess.run([sys.executable, "-c", RESTART, str(path)], check=True, timeout=300)
    restarted = _load(path.read_bytes())
    assert len(restarted.history_) == 1 and restarted.n_buffered_ == 100
    _same_report(restarted.history_[0], uninterrupted.history_[0])
    assert restarted._buffer.frame().equals(uninterrupted._buffer.frame())


def test_the_warning_counts_windows(credit):
    X, rows = credit
    monitor = DriftMonitor(detector=KSDrift(columns=["age"]), window=300).fit(X)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        monitor.transform(rows)
    messages = [str(w.message) for w in caught if w.category is DriftWarning]
    assert len(messages) == monitor.n_drifted_
    assert all(m.startswith("Drift in window") for m in messages)
