"""DriftMonitor: a pass-through step with history, callbacks and warnings."""

import numpy as np
import pytest
from sklearn.base import BaseEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder

from mlpipe.datasets import load_credit, make_credit_batch
from mlpipe.drift import DriftMonitor, KSDrift
from mlpipe.exceptions import DriftWarning


@pytest.fixture(scope="module")
def credit():
    return load_credit(return_X_y=True)


def test_pass_through_history_callbacks_and_warning(credit):
    X, _ = credit
    seen = []
    monitor = DriftMonitor(callbacks=seen.append).fit(X)
    clean = make_credit_batch(drift=False, defects=False).X
    # a new frame sharing the data (tests/drift/test_monitor_set_output.py)
    assert monitor.transform(clean).equals(clean)
    assert len(monitor.history_) == 1 and seen == []
    drifted = make_credit_batch().X
    before = drifted.copy()
    with pytest.warns(DriftWarning, match="credit_amount"):
        out = monitor.transform(drifted)
    assert out.equals(before) and drifted.equals(before)
    assert len(monitor.history_) == 2 and monitor.n_drifted_ == 1
    assert seen == [monitor.history_[-1]] and monitor.last_report_ is seen[0]


def test_max_history_and_warn_off(credit):
    X, _ = credit
    calls = []
    monitor = DriftMonitor(
        detector=KSDrift(columns=["age"]),
        callbacks=[calls.append, calls.append],
        warn=False,
        max_history=2,
    ).fit(X)
    for seed in range(3):
        monitor.transform(make_credit_batch(random_state=seed).X)
    assert len(monitor.history_) == 2 and monitor.n_drifted_ == 3
    assert len(calls) == 6


def test_inside_a_pipeline(credit):
    X, y = credit
    monitor = DriftMonitor(warn=False)
    model = make_pipeline(
        monitor, OneHotEncoder(handle_unknown="ignore"), LogisticRegression(max_iter=1000)
    )
    model.fit(X, y)
    step = model.steps[0][1]
    assert step.history_ == []  # fit does not check the training data
    batch = make_credit_batch(drift=True, defects=False)
    model.predict(batch.X)
    assert step.history_[-1].drift
    assert list(step.get_feature_names_out()) == list(X.columns)


def test_bad_callbacks_and_detector(credit):
    X, _ = credit
    with pytest.raises(TypeError, match="callables"):
        DriftMonitor(callbacks=[1]).fit(X)
    # a detector needs fit and detect (the report); score alone is not one
    for other in (OneHotEncoder(), LogisticRegression()):
        with pytest.raises(ValueError, match="'detector' parameter"):
            DriftMonitor(detector=other).fit(X)

    class LookAlike(BaseEstimator):
        def fit(self, X, y=None):
            return self

        def detect(self, X):
            return None

    with pytest.raises(TypeError, match="drift detector"):
        DriftMonitor(detector=LookAlike()).fit(X)


def test_lists_come_back_as_arrays():
    rows = [[0.0, 1.0], [1.0, 2.0], [2.0, 0.5]]
    out = DriftMonitor(warn=False).fit(rows).transform(rows)
    np.testing.assert_array_equal(out, np.asarray(rows))
