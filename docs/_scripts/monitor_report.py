"""Record a month of monitoring of the credit model in a run store and write its report.

    python docs/_scripts/monitor_report.py STORE.db REPORT.html

24 daily windows: 12 quiet, then 12 where the applicants drift
(``make_credit_batch(drift=True)``), every third one with defects. Each window
is validated, drift-tested (the 9 credit columns and 11 bureau signals, two of
which shift with the drift: 20 features), predicted (with the selection rate
by sex) and scored once its labels arrive; an alarm and a retraining run
follow window 14. ``nox -s report`` runs it, then checks the page in headless
Chromium with check_report.py and keeps a screenshot.
"""

import datetime
import sys
import warnings

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder

from mlpipe.datasets import load_credit, make_credit_batch
from mlpipe.drift import DriftDetector
from mlpipe.monitor import RunStore
from mlpipe.validation import SchemaValidator

N_QUIET, N_DRIFTED, N_SIGNALS = 12, 12, 11
START = datetime.datetime(2026, 6, 1, 6, tzinfo=datetime.UTC)
NUMERIC = ["age", "credit_amount", "duration"]
# A drop: accuracy five points below the 0.77 of the quiet windows.
DROP_BELOW = 0.72


def _signals(X, rng, shift=0.0):
    """Bureau signals: noise, two of them moved by ``shift`` standard deviations."""
    extra = {}
    for i in range(N_SIGNALS):
        moved = shift if i in (3, 7) else 0.0
        extra[f"bureau_signal_{i:02d}"] = rng.normal(moved, 1.0, len(X))
    return X.assign(**extra)


def _binned(X):
    """The model's input: age, amount and duration in bins of ten, as categories."""
    return (X[NUMERIC].fillna(0).clip(lower=0) // 10).astype(int).astype(str)


def record(path):
    rng = np.random.default_rng(0)
    X, y = load_credit(return_X_y=True)
    X = _signals(X, rng)
    model = make_pipeline(OneHotEncoder(handle_unknown="ignore"), LogisticRegression(max_iter=2000))
    model.fit(_binned(X), y)
    detector = DriftDetector().fit(X)
    validator = SchemaValidator(on_error="warn").fit(X)
    store = RunStore(path)
    model_id = store.add_model(
        {"format": "mlpipe-model", "saved_at": "2026-05-30T12:00:00+00:00"},
        name="credit",
        version="3",
    )
    drift_runs = []
    for i in range(N_QUIET + N_DRIFTED):
        drifted = i >= N_QUIET
        batch = make_credit_batch(
            250, drift=drifted, defects=drifted and i % 3 == 0, random_state=100 + i
        )
        Xb = _signals(batch.X, rng, shift=0.5 if drifted else 0.0)
        at = START + datetime.timedelta(days=i)
        common = {"model": model_id, "window": i}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            validator.transform(Xb)
        store.record_validation(validator.last_report_, X=Xb, started_at=at, **common)
        report = detector.detect(Xb)
        drift_runs.append(
            store.record_drift(
                report, X=Xb, started_at=at + datetime.timedelta(minutes=5), **common
            )
        )
        y_pred = model.predict(_binned(Xb))
        store.record_predictions(
            y_pred,
            X=Xb,
            sensitive="sex",
            started_at=at + datetime.timedelta(minutes=6),
            **common,
        )
        accuracy = float(np.mean(y_pred == batch.y.to_numpy()))
        store.record_performance(
            {"accuracy": accuracy, "positive_rate": float(np.mean(y_pred == 1))},
            labels=batch.y.to_frame(),
            drop=accuracy < DROP_BELOW,
            started_at=at + datetime.timedelta(hours=12),
            **common,
        )
    alarm_window = N_QUIET + 2
    alarm = store.record_event(
        "alarm",
        status="alarm",
        summary=f"3 of the last 3 windows drifted (windows {alarm_window - 2}-{alarm_window})",
        model=model_id,
        parent=drift_runs[alarm_window],
        started_at=START + datetime.timedelta(days=alarm_window, hours=1),
        detail={"rule": "k=3 of m=3 drift windows"},
    )
    store.record_event(
        "retraining",
        status="ok",
        summary="python retrain.py --since 2026-06-13 exited 0",
        model=model_id,
        parent=alarm,
        started_at=START + datetime.timedelta(days=alarm_window, hours=3),
        duration=412.0,
        detail={"command": "python retrain.py --since 2026-06-13", "exit_code": 0},
    )
    return store


def main(store_path, report_path):
    with record(store_path) as store:
        report = store.report(model="credit")
        report.save(report_path)
    print(f"monitor_report: {report_path}: {report.summary()}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
