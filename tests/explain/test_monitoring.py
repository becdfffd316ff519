"""Explaining a model never touches its production monitoring (issue 14, item 6).

An explainer runs the pipeline on background rows and on perturbed copies of
the explained rows. Before the fix, one model-agnostic explanation of 10 rows
added 22 reports to a DriftMonitor's ``history_`` and fired its callbacks 11
times, and every batch replaced a SchemaValidator's ``last_report_``.
"""

import logging
import threading
import warnings

import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from mlpipe.drift import DriftDetector, DriftMonitor
from mlpipe.explain import PipelineExplainer, explain
from mlpipe.utils._monitoring import monitoring_suspended, suspended
from mlpipe.validation import SchemaValidator
from tests.explain._data import preprocessor

# method -> (final estimator, what explain(method=...) is asked for)
METHODS = {
    "tree": lambda: RandomForestClassifier(n_estimators=10, max_depth=3, random_state=0),
    "linear": lambda: LogisticRegression(max_iter=1000),
    "kernel": lambda: LogisticRegression(max_iter=1000),
    "exact": lambda: LogisticRegression(max_iter=1000),
}


def _drifted(X):
    """Rows that drift from the training data (the monitor alerts on them)."""
    X = X.copy()
    X["credit_amount"] = X["credit_amount"] * 3
    X["age"] = X["age"] + 25
    return X


def _monitored(credit_data, final):
    X, y, X_new = credit_data
    alerts = []
    validator = SchemaValidator(on_error="warn")
    monitor = DriftMonitor(
        detector=DriftDetector(columns=["credit_amount", "age", "duration"]),
        callbacks=[alerts.append],
        warn=False,
    )
    model = make_pipeline(validator, monitor, preprocessor(), final).fit(X, y)
    batch = _drifted(X_new)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.predict(batch)  # production traffic: recorded
    assert len(monitor.history_) == 1 and len(alerts) == 1  # the setting works
    return model, validator, monitor, alerts, batch


def _snapshot(validator, monitor, alerts):
    return {
        "history": list(monitor.history_),
        "n_drifted": monitor.n_drifted_,
        "alerts": list(alerts),
        "report": validator.last_report_,
    }


def _assert_untouched(before, validator, monitor, alerts):
    assert len(monitor.history_) == len(before["history"])
    assert all(a is b for a, b in zip(monitor.history_, before["history"], strict=True))
    assert monitor.n_drifted_ == before["n_drifted"]
    assert len(alerts) == len(before["alerts"])
    assert all(a is b for a, b in zip(alerts, before["alerts"], strict=True))
    assert validator.last_report_ is before["report"]
    assert validator.last_report_ == before["report"]


@pytest.mark.parametrize(
    "method",
    [
        "tree",
        "linear",
        "kernel",
        # shap compiles its Exact explainer with numba on first use (~10 s)
        pytest.param("exact", marks=pytest.mark.slow),
    ],
)
def test_explain_records_nothing_in_the_monitors(credit_data, method):
    X, _, _ = credit_data
    model, validator, monitor, alerts, batch = _monitored(credit_data, METHODS[method]())
    before = _snapshot(validator, monitor, alerts)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        explanation = explain(model, batch.iloc[:10], background=X.iloc[:20], method=method)
    assert explanation.method == method
    _assert_untouched(before, validator, monitor, alerts)
    assert not monitoring_suspended()

    # Monitoring is back for the next production batch.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.predict(batch)
    assert len(monitor.history_) == len(before["history"]) + 1
    assert len(alerts) == len(before["alerts"]) + 1
    assert validator.last_report_ is not before["report"]


def test_the_audited_prediction_is_recorded_once_and_its_explanation_not(credit_data, caplog):
    model, validator, monitor, alerts, batch = _monitored(credit_data, METHODS["linear"]())
    X, _, _ = credit_data
    explainer = PipelineExplainer(model, background=X.iloc[:20], audit_log=True)
    with caplog.at_level(logging.INFO, logger="mlpipe.explain.audit"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        explainer.predict(batch.iloc[:5])
    assert len(caplog.records) == 5  # the explanation ran
    # predict is production traffic: one batch, one report, one alert
    assert len(monitor.history_) == 2 and len(alerts) == 2
    assert monitor.history_[-1].n_batch == 5
    assert validator.last_report_.n_rows == 5


def test_an_explanation_that_raises_restores_monitoring(credit_data):
    model, *_ = _monitored(credit_data, METHODS["linear"]())
    X, _, _ = credit_data
    with pytest.raises(ValueError, match="lacks column"):
        explain(model, X.drop(columns="age").iloc[:3])
    assert not monitoring_suspended()
    explainer = PipelineExplainer(model)
    explainer._explain = lambda frame: 1 / 0
    with pytest.raises(ZeroDivisionError):
        explainer.explain(X.iloc[:3])
    assert not monitoring_suspended()


def test_suspension_belongs_to_the_thread(credit_data):
    # A service thread predicting while another thread explains keeps its
    # monitoring.
    model, _, monitor, alerts, batch = _monitored(credit_data, METHODS["linear"]())
    seen = {}

    def serve():
        seen["suspended"] = monitoring_suspended()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.predict(batch)

    with suspended():
        assert monitoring_suspended()
        worker = threading.Thread(target=serve)
        worker.start()
        worker.join()
        with suspended():  # nested: still suspended after the inner block
            pass
        assert monitoring_suspended()
    assert not monitoring_suspended()
    assert seen == {"suspended": False}
    assert len(monitor.history_) == 2 and len(alerts) == 2


def test_a_suspended_validator_still_checks(credit_data):
    # The rows are checked as the model's predict would check them; only the
    # report is not kept.
    X, _, _ = credit_data
    validator = SchemaValidator().fit(X)
    report = validator.last_report_
    with suspended(), pytest.raises(ValueError, match="missing_column"):
        validator.transform(X.drop(columns="age"))
    assert validator.last_report_ is report
