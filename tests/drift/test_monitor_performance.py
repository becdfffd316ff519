"""DriftMonitor(performance=...): every window gets a performance estimate
without labels, and the run store records it beside the drift check."""

import numpy as np
import pandas as pd
import pytest
from scipy import special
from sklearn.base import clone
from sklearn.compose import make_column_transformer
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

import mlpipe
from mlpipe.drift import DriftMonitor, PerformanceEstimator, PerformanceReport
from mlpipe.drift._performance_stats import METRICS

FAST = {"n_draws": 200, "n_bootstrap": 40}


def _data(n, seed, shift=0.0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(n, 3)), columns=["a", "b", "c"])
    X["a"] += shift
    y = (rng.random(n) < special.expit(1.5 * X["a"] - X["b"])).astype(int).to_numpy()
    return X, y


@pytest.fixture(scope="module")
def pipeline():
    """A pipeline whose first step is the monitor, and an estimator of the
    rest of it, fitted on held-out rows and set on the monitor."""
    X, y = _data(1600, 0)
    pipe = make_pipeline(DriftMonitor(window=150, warn=False), LogisticRegression())
    pipe.fit(X[:800], y[:800])
    estimator = PerformanceEstimator(estimator=pipe[1:], random_state=0, **FAST)
    estimator.fit(X[800:], y[800:])
    pipe[0].set_params(performance=estimator)
    return pipe, estimator


def test_every_window_gets_the_estimate_of_its_rows(pipeline):
    pipe, estimator = pipeline
    monitor = pipe[0]
    before = len(monitor.history_)
    X, _ = _data(320, 1, shift=0.5)
    pipe.predict(X)
    # two windows closed; scoring the rows for the estimate added none
    assert len(monitor.history_) == before + 2
    assert monitor.n_buffered_ == 20
    for k, report in enumerate(monitor.history_[before:]):
        assert isinstance(report.performance, PerformanceReport)
        oracle = estimator.estimate(X.iloc[150 * k : 150 * (k + 1)])
        pd.testing.assert_frame_equal(report.performance.to_frame(), oracle.to_frame())
        assert report.performance.n_rows == 150
    # flush estimates the open window too
    assert monitor.flush().performance.n_rows == 20


def test_the_run_store_records_each_estimate(pipeline, tmp_path):
    from mlpipe.monitor import RunStore, wait_for_writes

    pipe, _ = pipeline
    path = tmp_path / "runs.db"
    X, _ = _data(300, 2)
    monitor = pipe[0]
    monitor.set_params(store=path)
    try:
        pipe.predict(X)
    finally:
        monitor.set_params(store=None)
    wait_for_writes(timeout=30)
    reports = monitor.history_[-2:]
    with RunStore(path, read_only=True) as store:
        runs = store.runs(kind="estimate")
        stored = store.estimates()
        drift = store.runs(kind="drift")
        timeline = store.report().to_frame()
    assert len(runs) == 2 and len(drift) == 2
    assert timeline["kinds"].tolist() == ["drift, estimate"] * 2  # one row per window
    assert runs["window"].tolist() == drift["window"].tolist()
    assert runs["input_sha256"].tolist() == drift["input_sha256"].tolist()
    for (_, run), report in zip(runs.iterrows(), reports, strict=True):
        rows = stored[stored["run_id"] == run["run_id"]].reset_index(drop=True)
        expected = report.performance.to_frame()
        assert rows["metric"].tolist() == expected["metric"].tolist() == list(METRICS)
        for column in ("estimate", "lower", "upper", "n_calibration"):
            np.testing.assert_array_equal(rows[column], expected[column])
        assert rows["realized"].isna().all() and rows["covered"].isna().all()
        assert run["summary"] == report.performance.summary()


def test_record_performance_estimate_keeps_realized_values_and_groups(tmp_path):
    from mlpipe.monitor import RunStore

    X, y = _data(900, 3)
    X["side"] = np.where(X["c"] > 0, "right", "left")
    model = make_pipeline(
        make_column_transformer(("passthrough", ["a", "b", "c"])), LogisticRegression()
    ).fit(X[:300], y[:300])
    estimator = PerformanceEstimator(estimator=model, sensitive="side", **FAST)
    estimator.fit(X[300:600], y[300:600])
    report = estimator.estimate(X[600:], y=y[600:])
    with RunStore(tmp_path / "runs.db") as store:
        run = store.record_performance_estimate(report, X=X[600:], window=7)
        stored = store.estimates()
        runs = store.runs(kind="estimate")
        with pytest.raises(Exception, match="report"):
            store.record_performance_estimate({"accuracy": 0.8})
    expected = report.to_frame()
    assert (stored["run_id"] == run).all() and runs["window"].tolist() == [7]
    assert stored["group"].tolist() == expected["group"].astype(str).tolist()
    assert stored["group_column"].tolist() == expected["group_column"].tolist()
    for column in ("estimate", "lower", "upper", "realized", "n_calibration"):
        np.testing.assert_array_equal(stored[column], expected[column])
    assert stored["covered"].tolist() == expected["covered"].tolist()
    assert stored["n_rows"].tolist() == expected["n_rows"].tolist()
    assert runs["n_rows"].tolist() == [300] and runs["status"].tolist() == ["ok"]


def test_an_unfitted_estimator_is_refused_when_it_is_needed(pipeline):
    _, estimator = pipeline
    X, _ = _data(200, 4)
    monitor = DriftMonitor(performance=clone(estimator), warn=False).fit(X)
    with pytest.raises(NotFittedError, match="performance estimator PerformanceEstimator is not"):
        monitor.transform(X)
    with pytest.raises(Exception, match="performance"):
        DriftMonitor(performance=LogisticRegression()).fit(X)
    # the whole pipeline would hold the monitor in its own parameter
    _, y = _data(200, 4)
    whole = make_pipeline(DriftMonitor(window=50, warn=False), LogisticRegression()).fit(X, y)
    circular = PerformanceEstimator(estimator=whole, **FAST).fit(X, y)
    whole[0].performance = circular  # set_params would recurse through get_params
    with pytest.raises(ValueError, match=r"holds this monitor.*estimator=pipe\[1:\]"):
        whole.predict(X)
    # the estimator's scoring passed through the monitor without a record
    assert whole[0].history_ == [] and whole[0].n_buffered_ == 0


def test_estimator_scoring_is_not_monitored():
    # A regression test: PerformanceEstimator scored the calibration rows
    # and the windows through the model's monitoring steps, which recorded
    # them as production traffic.
    X, y = _data(600, 7)
    pipe = make_pipeline(DriftMonitor(window=100, warn=False), LogisticRegression())
    pipe.fit(X[:300], y[:300])
    estimator = PerformanceEstimator(estimator=pipe, **FAST).fit(X[300:], y[300:])
    estimator.estimate(X[:250])
    assert pipe[0].history_ == [] and pipe[0].n_buffered_ == 0


def test_a_saved_monitor_keeps_its_estimates(pipeline, tmp_path):
    pipe, _ = pipeline
    X, _ = _data(150, 5)
    pipe.predict(X)
    path = tmp_path / "pipe.skops"
    mlpipe.save(pipe, path)
    loaded = mlpipe.load(path)
    theirs, ours = loaded[0].history_[-1].performance, pipe[0].history_[-1].performance
    pd.testing.assert_frame_equal(theirs.to_frame(), ours.to_frame())
    # the loaded pipeline estimates new windows as the original does
    X, _ = _data(150, 6)
    loaded.predict(X)
    pipe.predict(X)
    pd.testing.assert_frame_equal(
        loaded[0].history_[-1].performance.to_frame(), pipe[0].history_[-1].performance.to_frame()
    )
