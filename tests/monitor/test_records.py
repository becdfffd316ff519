"""What a record stores equals what the report, the manifest or an
independent computation says, value for value."""

import json

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import MetricFrame, selection_rate

import mlpipe
from mlpipe.monitor import RunStore, fingerprint
from mlpipe.monitor._records import DRIFT_COLUMNS
from mlpipe.utils._scalar import python_scalar
from mlpipe.validation import SchemaValidator

from .conftest import NUMERIC


def _same(stored, expected):
    """Equal values, NaN where NaN (exact floats, no tolerance)."""
    stored, expected = pd.Series(stored).tolist(), pd.Series(expected).tolist()
    assert len(stored) == len(expected)
    for a, b in zip(stored, expected, strict=True):
        if isinstance(b, float) and np.isnan(b):
            assert isinstance(a, float) and np.isnan(a)
        else:
            assert a == b, (a, b)


def test_drift_rows_equal_the_reports_frame_exactly(store, detector, drifted_batch, credit):
    report = detector.detect(drifted_batch)
    expected = report.to_frame()
    assert (expected["test"] == "missing_rate").any() and expected["drift"].any()
    run = store.record_drift(report, X=drifted_batch, reference=credit[0], window=3)
    stored = store.history()
    assert len(stored) == len(expected)
    for name in DRIFT_COLUMNS:
        _same(stored[name], expected[name])
    assert (stored["run_id"] == run).all() and (stored["window"] == 3).all()
    runs = store.runs()
    assert runs.loc[0, "status"] == "drift" and runs.loc[0, "n_rows"] == report.n_batch
    detail = json.loads(runs.loc[0, "detail"])
    assert detail["drifted_features"] == report.drifted_features
    assert detail["alpha"] == report.alpha and detail["correction"] == report.correction
    assert runs.loc[0, "input_sha256"] == fingerprint(drifted_batch)["sha256"]


def test_drift_rows_keep_nan_p_values_of_too_few_rows(store, detector, credit):
    batch = credit[0].iloc[:5].copy()
    batch["age"] = np.nan
    report = detector.detect(batch)
    expected = report.to_frame()
    assert expected["p_value"].isna().any()
    store.record_drift(report)
    stored = store.history()
    for name in DRIFT_COLUMNS:
        _same(stored[name], expected[name])


def test_validation_rows_equal_the_reports_frame(store, credit, drifted_batch):
    validator = SchemaValidator(on_error="warn").fit(credit[0])
    with pytest.warns(UserWarning):
        validator.transform(drifted_batch)
    report = validator.last_report_
    expected = report.to_frame()
    assert len(expected) >= 3
    store.record_validation(report, X=drifted_batch)
    stored = store.failures()
    assert len(stored) == len(expected)
    _same(stored["column"], expected["column"].astype("str"))
    for name in ("check", "severity", "level", "n_failed", "share", "p_value", "message"):
        _same(stored[name], expected[name])
    for name in ("examples", "rows"):
        assert [json.loads(v) for v in stored[name]] == [
            json.loads(json.dumps([python_scalar(x) for x in v], default=str))
            for v in expected[name]
        ]
    runs = store.runs()
    assert runs.loc[0, "status"] == ("ok" if report.passed else "failed")
    assert runs.loc[0, "summary"] == report.summary()
    nulls = store.null_rates()
    expected_nulls = drifted_batch.isna().sum()
    assert nulls["column"].tolist() == list(drifted_batch.columns)
    assert nulls["n_missing"].tolist() == expected_nulls.tolist()
    np.testing.assert_array_equal(nulls["null_rate"], expected_nulls / len(drifted_batch))
    assert store.null_rates(column="credit_amount")["n_missing"].tolist() == [5]


def test_model_fingerprints_equal_the_saved_manifest(store, saved_model):
    path, manifest, _ = saved_model
    read = mlpipe.read_manifest(path)
    model = store.add_model(path, version=3)
    assert store.add_model(read) == model  # the same manifest, the same id
    (info,) = [store._model_row(model)]
    training = read["training_data"]
    assert info["training_sha256"] == training["sha256"] == manifest["training_data"]["sha256"]
    assert info["training_n_rows"] == training["n_rows"] == 1000
    assert info["training_n_columns"] == len(NUMERIC)
    assert info["target_sha256"] == training["target"]["sha256"]
    assert info["name"] == "credit" and info["version"] == "3"
    assert info["manifest"] == read
    assert info["fitted_at"] == "2026-01-01T00:00:00.000000+00:00"
    models = store.models()
    assert models["model_id"].tolist() == [model]
    assert models.loc[0, "training_sha256"] == training["sha256"]
    assert models.loc[0, "fitted_at"] == pd.Timestamp("2026-01-01", tz="UTC")
    assert models.loc[0, "source"] == str(path)


def test_the_fingerprint_is_the_manifests_own(saved_model, credit):
    # One hash: the training data hashed by the store equals the manifest's.
    X = credit[0][NUMERIC]
    assert fingerprint(X)["sha256"] == saved_model[1]["training_data"]["sha256"]


def test_class_rates_and_group_selection_rates_match_numpy_and_fairlearn(store, credit):
    X, _ = credit
    rng = np.random.default_rng(0)
    y_pred = rng.choice(["bad", "good"], size=len(X), p=[0.3, 0.7])
    store.record_predictions(y_pred, X=X, sensitive="sex")
    rates = store.predictions()
    labels, counts = np.unique(y_pred, return_counts=True)
    assert rates["statistic"].tolist() == ["rate", "rate"]
    assert rates["label"].tolist() == labels.tolist()
    assert rates["n"].tolist() == counts.tolist()
    np.testing.assert_array_equal(rates["value"], counts / len(y_pred))
    groups = store.selection_rates()
    good = groups[groups["label"] == "good"].set_index("group")
    oracle = MetricFrame(
        metrics=lambda t, p: selection_rate(t, p, pos_label="good"),
        y_true=y_pred,
        y_pred=y_pred,
        sensitive_features=X["sex"],
    ).by_group
    assert sorted(good.index) == sorted(oracle.index.astype(str))
    for group, value in oracle.items():
        assert good.loc[str(group), "rate"] == pytest.approx(value, rel=0, abs=1e-15)
        assert good.loc[str(group), "n_group"] == (X["sex"] == group).sum()
    assert (groups["sensitive"] == "sex").all()


def test_regression_quantiles_match_numpy(store):
    y_pred = np.random.default_rng(1).normal(size=401)
    y_pred[[3, 7]] = np.nan
    store.record_predictions(y_pred)
    stats = store.predictions()
    present = y_pred[~np.isnan(y_pred)]
    q = stats[stats["statistic"] == "quantile"]
    np.testing.assert_array_equal(q["level"], [0.05, 0.25, 0.5, 0.75, 0.95])
    np.testing.assert_array_equal(q["value"], np.quantile(present, q["level"].to_numpy()))
    assert stats.loc[stats["statistic"] == "mean", "value"].item() == present.mean()
    assert stats.loc[stats["statistic"] == "missing", "value"].item() == 2


def test_performance_metrics_and_events(store):
    run = store.record_performance({"accuracy": np.float64(0.75), "n_labeled": 180}, drop=True)
    perf = store.performance()
    assert perf["metric"].tolist() == ["accuracy", "n_labeled"]
    assert perf["value"].tolist() == [0.75, 180.0]
    alarm = store.record_event(
        "alarm", status="alarm", parent=run, detail={"features": ["age"]}, summary="drift"
    )
    retrain = store.record_event("retraining", status="error", parent=alarm, duration=2.5)
    runs = store.runs().set_index("run_id")
    assert runs.loc[run, "status"] == "drop"
    assert runs.loc[alarm, "parent_id"] == run and runs.loc[retrain, "parent_id"] == alarm
    assert json.loads(runs.loc[alarm, "detail"]) == {"features": ["age"]}
    assert runs.loc[retrain, "duration_s"] == 2.5


def test_bad_input_to_records_gets_clear_errors(store, detector, drifted_batch):
    report = detector.detect(drifted_batch)
    with pytest.raises(ValueError, match=r"No model 'nope' in .*add_model"):
        store.record_drift(report, model="nope")
    with pytest.raises(ValueError, match=r"No run 'nope' .* parent run"):
        store.record_drift(report, parent="nope")
    with pytest.raises(ValueError, match="must be a dict with a 'sha256'"):
        store.record_drift(report, X={"rows": 3})
    with pytest.raises(ValueError, match="names a column of X"):
        store.record_predictions([0, 1], sensitive="sex")
    with pytest.raises(ValueError, match="sensitive has 3 values and y_pred 2"):
        store.record_predictions([0, 1], sensitive=["a", "b", "c"])
    with pytest.raises(ValueError, match="need class predictions"):
        store.record_predictions([0.5, 1.5], sensitive=["a", "b"])
    with pytest.raises(ValueError, match="1-dimensional and not empty"):
        store.record_predictions([])
    with pytest.raises(TypeError, match=r"metrics\['auc'\] must be a number"):
        store.record_performance({"auc": "high"})
    with pytest.raises(ValueError, match="started_at must be a datetime"):
        store.record_drift(report, started_at="yesterday-ish")
    with pytest.raises(ValueError, match=r"a manifest returned by mlpipe.save"):
        store.add_model({"estimator": "x"})
    with pytest.raises(FileNotFoundError):
        store.add_model("/nonexistent/model.skops")
    # Nothing of the refused records was written.
    assert len(store.runs()) == 0


def test_a_naive_time_is_utc_and_an_aware_one_is_converted(store):
    store.record_event("alarm", status="alarm", started_at="2026-05-01 12:00")
    store.record_event(
        "alarm", status="alarm", started_at=pd.Timestamp("2026-05-01 14:00", tz="Europe/Paris")
    )
    times = store.runs()["started_at"]
    assert str(times.dtype) == "datetime64[us, UTC]"
    assert times.tolist() == [pd.Timestamp("2026-05-01 12:00", tz="UTC")] * 2


def test_memory_store_with_the_same_api():
    with RunStore(":memory:") as store:
        run = store.record_predictions([1, 0, 1])
        assert store.runs()["run_id"].tolist() == [run]
