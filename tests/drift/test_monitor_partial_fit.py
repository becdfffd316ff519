"""DriftMonitor.partial_fit (issue 18): a monitor's reference from chunks.

The oracle of a monitor fitted chunk by chunk is the monitor fitted on the
concatenated chunks (whose detector is checked against scipy elsewhere, and
here once more on KS): the same reports on later batches and windows,
identical where the detector's chunks merge exactly; where they do not (the
KS sketch, PSI's bin edges cut at the first chunk) the monitor's reports are
those of its detector fitted on the same chunks.
"""

import itertools
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.base import clone

import mlpipe
from mlpipe.datasets import load_credit, make_credit_batch
from mlpipe.drift import ChiSquareDrift, DriftDetector, DriftMonitor, KSDrift, PSIDrift
from mlpipe.utils._sklearn_compat import InvalidParameterError

CATEGORICAL = ["sex", "job", "housing", "purpose"]
NUMERIC = ["credit_amount", "duration", "age"]


@pytest.fixture(scope="module")
def credit():
    X, _ = load_credit(return_X_y=True)
    batches = [make_credit_batch(random_state=0).X, make_credit_batch(drift=False).X]
    return X, batches


def generated(n, seed, shift=0.0):
    """Ties and NaN in numbers, a categorical dtype, strings with None, a
    discrete numeric column (chi-square in DriftDetector), and event times."""
    rng = np.random.default_rng(seed)
    x = np.round(rng.normal(shift, 1, n), 1)
    x[rng.random(n) < 0.1] = np.nan
    colours = ["blue", "green", "red"]
    return pd.DataFrame(
        {
            "at": pd.Timestamp("2026-01-01") + pd.to_timedelta(np.arange(n) * 7, unit="s"),
            "x": x,
            "tail": rng.standard_cauchy(n) + shift,
            "colour": pd.Categorical(rng.choice(colours, n), categories=colours),
            "city": pd.Series(rng.choice(["a", "b", "c", None], n), dtype="str"),
            "rating": rng.integers(1, 6, n),
        }
    )


def chunks_of(X, n_chunks):
    bounds = np.linspace(0, len(X), n_chunks + 1).astype(int)
    return [X.iloc[a:b] for a, b in itertools.pairwise(bounds)]


def chunked(monitor, chunks):
    monitor = clone(monitor)
    for chunk in chunks:
        assert monitor.partial_fit(chunk) is monitor
    return monitor


def reports(monitor, batches):
    for batch in batches:
        monitor.transform(batch)
    monitor.flush()
    return monitor.history_


def assert_same_reports(a, b):
    assert len(a) == len(b) > 0
    for ra, rb in zip(a, b, strict=True):
        pd.testing.assert_frame_equal(ra.to_frame(), rb.to_frame(), check_exact=True)
        assert (ra.drift, ra.n_reference, ra.n_batch) == (rb.drift, rb.n_reference, rb.n_batch)
        assert ra.error_bounds == rb.error_bounds


# --------------------------------------------------------------------------
# partial_fit over chunks equals fit on the whole
# --------------------------------------------------------------------------


@pytest.mark.parametrize("n_chunks", [2, 3, 4])
@pytest.mark.parametrize(
    "detector",
    [
        DriftDetector(),
        KSDrift(columns=NUMERIC),
        ChiSquareDrift(columns=CATEGORICAL),
        PSIDrift(columns=CATEGORICAL),
    ],
    ids=lambda d: type(d).__name__,
)
def test_credit_chunks_equal_fit_on_the_whole(detector, n_chunks, credit):
    X, batches = credit
    monitor = DriftMonitor(detector=detector, warn=False)
    whole = clone(monitor).fit(X)
    parts = chunked(monitor, chunks_of(X, n_chunks))
    assert parts.n_features_in_ == whole.n_features_in_ == X.shape[1]
    np.testing.assert_array_equal(parts.feature_names_in_, whole.feature_names_in_)
    assert parts.detector_.reference_.n_rows == len(X)
    expected = reports(whole, batches)
    assert_same_reports(reports(parts, batches), expected)
    assert expected[0].drift  # the drifted batch is found, not only matched


def test_generated_chunks_with_nan_categories_and_ties(credit):
    X = generated(1200, 0)
    batch = generated(500, 1, shift=0.4)
    # uneven chunks, one of 12 rows, one without the category "red" and
    # without the string "c"
    rest = X.iloc[412:900]
    chunks = [
        X.iloc[:400],
        X.iloc[400:412],
        rest[(rest["colour"] != "red") & (rest["city"] != "c")],
        X.iloc[900:],
    ]
    whole_frame = pd.concat(chunks)
    monitor = DriftMonitor(warn=False)
    whole = clone(monitor).fit(whole_frame)
    parts = chunked(monitor, chunks)
    assert parts.detector_.tests_ == whole.detector_.tests_
    assert parts.detector_.tests_["rating"] == "chi2" and parts.detector_.tests_["x"] == "ks"
    got = reports(parts, [batch])
    assert_same_reports(got, reports(whole, [batch]))
    rows = got[0].to_frame().set_index(["feature", "test"])
    for col in ("x", "tail"):
        exact = stats.ks_2samp(whole_frame[col].dropna(), batch[col].dropna())
        assert rows.loc[(col, "ks"), "statistic"] == exact.statistic
    assert rows.loc[("x", "missing_rate"), "statistic"] == batch["x"].isna().sum()
    assert got[0].error_bounds == {}


@pytest.mark.parametrize(
    "params",
    [{"window": 100}, {"window_time": "10min", "time_column": "at"}],
    ids=["rows", "time_column"],
)
def test_windows_after_chunks_equal_windows_after_fit(params):
    X = generated(900, 2)
    stream = generated(430, 3, shift=0.3)
    monitor = DriftMonitor(warn=False, **params)
    whole = clone(monitor).fit(X)
    parts = chunked(monitor, chunks_of(X, 3))
    if "time_column" in params:
        assert "at" not in parts.detector_.reference_.columns
    # calls of 37 rows: windows close inside calls, the last one by flush
    calls = [stream.iloc[i : i + 37] for i in range(0, len(stream), 37)]
    expected = reports(whole, calls)
    assert len(expected) >= 3
    assert_same_reports(reports(parts, calls), expected)


def test_sketched_reference_is_the_detectors_and_within_its_bound():
    X = generated(5000, 4)
    batch = generated(600, 5, shift=0.3)
    detector = KSDrift(columns=["x", "tail"], max_reference_rows=1000, sketch_size=64)
    chunks = chunks_of(X, 4)
    parts = chunked(DriftMonitor(detector=detector, warn=False), chunks)
    direct = clone(detector)
    for chunk in chunks:
        direct.partial_fit(chunk)
    assert not parts.detector_.reference_.ks_exact
    (got,) = reports(parts, [batch])
    report = direct.detect(batch)
    assert_same_reports([got], [report])
    bounds = parts.detector_.reference_.ks_error_bounds
    assert got.error_bounds == bounds and all(b > 0 for b in bounds.values())
    rows = got.to_frame().set_index(["feature", "test"])
    for col, bound in bounds.items():
        exact = stats.ks_2samp(X[col].dropna(), batch[col].dropna())
        assert abs(rows.loc[(col, "ks"), "statistic"] - exact.statistic) <= bound


def test_psi_edges_of_the_first_chunk_as_the_detector_cuts_them():
    X = generated(900, 6)
    batch = generated(300, 7, shift=0.5)
    detector = PSIDrift(columns=["x", "tail", "colour"])
    chunks = chunks_of(X, 3)
    parts = chunked(DriftMonitor(detector=detector, warn=False), chunks)
    direct = clone(detector)
    for chunk in chunks:
        direct.partial_fit(chunk)
    assert_same_reports(reports(parts, [batch]), [direct.detect(batch)])
    edges = parts.detector_.reference_.psi_numeric["x"][0]
    first = clone(detector).fit(chunks[0]).reference_.psi_numeric["x"][0]
    np.testing.assert_array_equal(edges, first)


def test_arrays_without_names(credit):
    X, _ = credit
    values = X[NUMERIC].to_numpy(dtype=float)
    batch = make_credit_batch(random_state=1).X[NUMERIC].to_numpy(dtype=float)
    whole = DriftMonitor(warn=False).fit(values)
    parts = chunked(DriftMonitor(warn=False), [values[:350], values[350:]])
    assert not hasattr(parts, "feature_names_in_")
    assert_same_reports(reports(parts, [batch]), reports(whole, [batch]))


def test_saved_after_a_chunk_then_continued(credit, tmp_path):
    X, batches = credit
    first, second = chunks_of(X, 2)
    mlpipe.save(DriftMonitor(warn=False).partial_fit(first), tmp_path / "monitor.skops")
    loaded = mlpipe.load(tmp_path / "monitor.skops").partial_fit(second)
    assert_same_reports(reports(loaded, batches), reports(DriftMonitor(warn=False).fit(X), batches))


def test_history_and_open_window_are_kept(credit):
    X, batches = credit
    first, second = chunks_of(X, 2)
    monitor = DriftMonitor(window=100, warn=False).partial_fit(first)
    monitor.transform(batches[0].iloc[:130])  # one window closed, 30 rows open
    earlier = monitor.history_[0]
    monitor.partial_fit(second)
    assert monitor.history_ == [earlier] and monitor.n_buffered_ == 30
    monitor.transform(batches[0].iloc[130:200])  # closes the open window
    # the closed window is compared with the grown reference
    oracle = DriftDetector().fit(X).detect(batches[0].iloc[100:200])
    assert_same_reports(monitor.history_[1:], [oracle])


# --------------------------------------------------------------------------
# later chunks must match the first
# --------------------------------------------------------------------------


def test_later_chunks_are_checked_against_the_first(credit):
    X, batches = credit
    first, second = chunks_of(X, 2)
    monitor = DriftMonitor(warn=False).partial_fit(first)
    with pytest.raises(ValueError, match="missing:\n- age"):
        monitor.partial_fit(second.drop(columns="age"))
    with pytest.raises(ValueError, match="unseen at fit time:\n- extra"):
        monitor.partial_fit(second.assign(extra=1.0))
    reordered = second[["age", *[c for c in X.columns if c != "age"]]]
    with pytest.raises(ValueError, match="column 0 is 'age' where the first chunk had 'sex'"):
        monitor.partial_fit(reordered)
    with (
        pytest.warns(UserWarning, match="does not have valid feature names"),
        pytest.raises(ValueError, match="X has 8 features, but DriftMonitor is expecting 9"),
    ):
        monitor.partial_fit(second.to_numpy()[:, :-1])
    text = second.assign(duration=lambda d: "d" + d["duration"].astype(str))
    with pytest.raises(TypeError, match="duration"):
        monitor.partial_fit(text)
    # refused chunks left no trace: the second chunk still completes the whole
    assert monitor.detector_.reference_.n_rows == len(first)
    monitor.partial_fit(second)
    whole = DriftMonitor(warn=False).fit(X)
    assert_same_reports(reports(monitor, batches), reports(whole, batches))


def test_time_column_of_later_chunks():
    X = generated(600, 8)
    monitor = DriftMonitor(window_time="1h", time_column="at", warn=False).partial_fit(X[:300])
    with pytest.raises(TypeError, match="time_column 'at' must hold datetimes, got dtype int64"):
        monitor.partial_fit(X[300:].assign(at=np.arange(300)))
    with pytest.raises(ValueError, match="missing:\n- at"):
        monitor.partial_fit(X[300:].drop(columns="at"))
    assert monitor.detector_.reference_.n_rows == 300


def test_first_chunk_validates_the_parameters_even_after_a_refused_one():
    X = generated(200, 9)
    with pytest.raises(InvalidParameterError, match="max_history"):
        DriftMonitor(max_history=0).partial_fit(X)
    monitor = DriftMonitor(warn=False)
    odd = X.assign(month=pd.period_range("2026-01", periods=len(X), freq="D"))
    with pytest.raises(TypeError, match="month"):
        monitor.partial_fit(odd)  # n_features_in_ is set, detector_ is not
    with pytest.raises(InvalidParameterError, match="max_history"):
        monitor.set_params(max_history=0).partial_fit(X)
    with pytest.raises(InvalidParameterError, match="time_column"):
        DriftMonitor(time_column="at").partial_fit(X)


# --------------------------------------------------------------------------
# dask, on the synchronous scheduler
# --------------------------------------------------------------------------


@pytest.fixture
def synchronous():
    dask = pytest.importorskip("dask")
    pytest.importorskip("dask.dataframe")
    with dask.config.set(scheduler="synchronous"):
        yield dask


def test_fit_and_partial_fit_on_dask_equal_pandas(synchronous, credit):
    import dask.dataframe as dd

    X, batches = credit
    dX = dd.from_pandas(X, npartitions=4)
    whole = DriftMonitor(warn=False).fit(X)
    expected = reports(whole, batches)
    on_dask = DriftMonitor(warn=False).fit(dX)
    stream = DriftMonitor(warn=False).partial_fit(dX.partitions[:2]).partial_fit(dX.partitions[2:])
    for monitor in (on_dask, stream):
        np.testing.assert_array_equal(monitor.feature_names_in_, X.columns)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no "fitted without feature names"
            assert_same_reports(reports(monitor, batches), expected)
    with pytest.raises(ValueError, match="missing:\n- age"):
        stream.partial_fit(dX.drop(columns="age"))


def test_dask_time_column_is_dropped_on_the_workers(synchronous):
    import dask.dataframe as dd

    X, stream = generated(900, 10), generated(300, 11, shift=0.3)
    params = dict(window_time="10min", time_column="at", warn=False)
    whole = DriftMonitor(**params).fit(X)
    on_dask = DriftMonitor(**params).fit(dd.from_pandas(X, npartitions=3))
    calls = [stream.iloc[i : i + 50] for i in range(0, len(stream), 50)]
    assert_same_reports(reports(on_dask, calls), reports(whole, calls))


def test_the_monitor_does_not_compute_the_dask_frame_itself(synchronous):
    import dask.dataframe as dd
    from dask.callbacks import Callback

    X = generated(600, 12).drop(columns="at")
    dX = dd.from_pandas(X, npartitions=3)

    def computes(fit):
        started = []
        with Callback(start=started.append):
            fit(dX)
        return len(started)

    # the monitor reads the columns and dtypes; the detector's fit computes
    assert computes(DriftMonitor().fit) == computes(DriftDetector().fit) > 0
    assert computes(DriftMonitor().partial_fit) == computes(DriftDetector().partial_fit)
