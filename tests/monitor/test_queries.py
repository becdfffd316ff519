"""runs, history, lineage, staleness and batches: the store read back."""

import datetime
import json

import numpy as np
import pandas as pd
import pytest

import mlpipe
from mlpipe.drift import DriftDetector
from mlpipe.monitor import RunStore, _queries, batch_key, fingerprint
from mlpipe.monitor._queries import HISTORY_COLUMNS, RUN_COLUMNS
from mlpipe.utils._sklearn_compat import InvalidParameterError
from mlpipe.validation import Schema

from .conftest import FITTED_AT, NUMERIC

UTC = datetime.UTC


def _at(day, hour=0):
    return datetime.datetime(2026, 6, day, hour, tzinfo=UTC)


def _dtypes(frame):
    return {name: str(dtype) for name, dtype in frame.dtypes.items()}


def test_runs_filters_and_dtypes(store, saved_model, detector, drifted_batch, clean_batch):
    model = store.add_model(saved_model[0])
    other = store.add_model({"format": "mlpipe-model", "saved_at": "2026-02-01"}, name="other")
    store.record_drift(detector.detect(drifted_batch), model=model, started_at=_at(1))
    store.record_drift(detector.detect(clean_batch), model=model, started_at=_at(2), step="mon")
    store.record_event("alarm", status="alarm", model=other, started_at=_at(3))
    everything = store.runs()
    assert len(everything) == 3
    assert everything["started_at"].tolist() == [pd.Timestamp(_at(d)) for d in (1, 2, 3)]
    assert list(everything.columns) == list(RUN_COLUMNS)
    assert _dtypes(everything) == RUN_COLUMNS
    assert store.runs(model=model)["kind"].tolist() == ["drift", "drift"]
    assert store.runs(model="credit")["kind"].tolist() == ["drift", "drift"]  # by name
    assert store.runs(model=["credit", "other"]).shape[0] == 3
    assert store.runs(step="mon")["status"].tolist() == ["ok"]
    assert store.runs(status="drift")["started_at"].tolist() == [pd.Timestamp(_at(1))]
    assert store.runs(kind=["alarm"])["model_name"].tolist() == ["other"]
    assert store.runs(since=_at(2)).shape[0] == 2
    assert store.runs(until=_at(2)).shape[0] == 1
    assert store.runs(since="2026-06-01 12:00", until=_at(3)).shape[0] == 1
    assert store.runs(since=datetime.timedelta(days=1)).shape[0] == 0  # all in the past
    empty = store.runs(model="credit", kind="alarm")
    assert len(empty) == 0 and _dtypes(empty) == _dtypes(everything)


def test_history_per_feature_across_windows(store, detector, drifted_batch, clean_batch):
    reports = [detector.detect(b) for b in (clean_batch, drifted_batch, clean_batch)]
    for window, report in enumerate(reports):
        store.record_drift(report, window=window, started_at=_at(window + 1))
    age = store.history(feature="age")
    assert age["window"].tolist() == [0, 1, 2]
    expected = [r.to_frame().query("feature == 'age'") for r in reports]
    assert age["drift"].tolist() == [bool(e["drift"].item()) for e in expected]
    assert age["p_value"].tolist() == [e["p_value"].item() for e in expected]
    assert age["drift"].tolist() == [False, True, False]
    two = store.history(feature=["age", "duration"], since=_at(2))
    assert sorted(set(two["feature"])) == ["age", "duration"] and set(two["window"]) == {1, 2}
    never = store.history(feature="not a feature")
    assert list(never.columns) == list(HISTORY_COLUMNS) and len(never) == 0
    assert _dtypes(never) == _dtypes(age)
    assert str(age["started_at"].dtype) == "datetime64[us, UTC]"


def test_lineage_walks_from_a_prediction_batch_to_the_training_data(
    store, saved_model, credit, drifted_batch
):
    path, _, pipe = saved_model
    X_train = credit[0][NUMERIC]
    batch = drifted_batch[NUMERIC]
    monitor_reference = fingerprint(X_train)
    model = store.add_model(path)
    validation_report = Schema.infer(X_train).validate(batch)
    drift = DriftDetector().fit(X_train).detect(batch)
    seen = fingerprint(batch)
    with store.batch("batch-012.csv:abc", model=model, X=seen) as batch_run:
        validation = store.record_validation(validation_report, X=seen, model=model)
        drift_run = store.record_drift(drift, X=seen, reference=monitor_reference, model=model)
        prediction = store.record_predictions(
            pipe[-1].predict(batch.fillna(0)), X=seen, model=model
        )
    lineage = store.lineage(prediction)
    frame = lineage.to_frame()
    by_run = frame.groupby("run_id")["relation"].first()
    assert by_run[prediction] == "self"
    assert by_run[batch_run] == "parent"
    assert by_run[validation] == by_run[drift_run] == "same_input"
    read = mlpipe.read_manifest(path)
    assert lineage.model["model_id"] == model
    assert lineage.training_data["sha256"] == read["training_data"]["sha256"]
    assert lineage.training_data["n_rows"] == 1000
    assert [r["sha256"] for r in lineage.references] == [monitor_reference["sha256"]]
    assert lineage.references[0]["run_id"] == drift_run
    training = frame[frame["role"] == "training"]
    assert training["sha256"].tolist() == [read["training_data"]["sha256"]]
    assert frame.loc[frame["role"] == "target", "sha256"].tolist() == [
        read["training_data"]["target"]["sha256"]
    ]
    outputs = frame[(frame["run_id"] == prediction) & (frame["role"] == "output")]
    assert outputs["n_rows"].tolist() == [len(batch)]
    assert "training data" in lineage.summary()
    with pytest.raises(ValueError, match="No run 'nope'"):
        store.lineage("nope")


def test_staleness_by_age(store):
    model = store.add_model(
        {"format": "mlpipe-model", "saved_at": "2026-03-01", "fitted_at": FITTED_AT.isoformat()}
    )
    old = store.staleness(model, max_age="30D", now=_at(1))
    assert old.stale and old.fired == ["max_age"]
    age = (pd.Timestamp(_at(1)) - pd.Timestamp(FITTED_AT)).total_seconds()
    assert old.rules.loc[0, "value"] == age and old.rules.loc[0, "threshold"] == 30 * 86400
    assert "fitted_at" in old.rules.loc[0, "detail"]
    fresh = store.staleness(model, max_age=datetime.timedelta(days=365), now=_at(1))
    assert not fresh.stale and fresh.fired == []
    runs = store.runs(kind="staleness")
    assert runs["status"].tolist() == ["stale", "ok"]
    assert runs["run_id"].tolist() == [old.run_id, fresh.run_id]
    assert json.loads(runs.loc[0, "detail"])["fired"] == ["max_age"]
    unrecorded = store.staleness(model, max_age="30D", now=_at(1), record=False)
    assert unrecorded.run_id is None and len(store.runs(kind="staleness")) == 2


def test_staleness_by_k_of_the_last_m_windows(store, detector, drifted_batch, clean_batch):
    model = store.add_model({"format": "mlpipe-model", "saved_at": "2026-05-30"})
    drifted, clean = detector.detect(drifted_batch), detector.detect(clean_batch)
    pattern = [drifted, drifted, clean, drifted, clean, clean]
    for day, report in enumerate(pattern, start=1):
        store.record_drift(report, model=model, started_at=_at(day))
    # The last 4 windows (days 3 to 6): one drifted.
    assert not store.staleness(model, k=2, m=4, now=_at(20)).stale
    # The last 5 (days 2 to 6): two drifted.
    report = store.staleness(model, k=2, m=5, now=_at(20))
    assert report.stale and report.fired == ["drift_windows"]
    assert report.rules.loc[0, "value"] == 2 and report.rules.loc[0, "threshold"] == 2
    # At day 2 only two windows exist, both drifted.
    early = store.staleness(model, k=2, m=5, now=_at(2, 12))
    assert early.stale and "only 2 recorded" in early.rules.loc[0, "detail"]
    both = store.staleness(model, max_age="365D", k=4, m=6, now=_at(20))
    assert both.rules["rule"].tolist() == ["max_age", "drift_windows"]
    assert not both.stale and "not stale" in both.summary()
    rules = store._query(
        "SELECT rule, fired, value FROM staleness_rules WHERE run_id = ?", (report.run_id,)
    )
    assert rules == [("drift_windows", 1, 2.0)]


def test_staleness_bad_input(store):
    model = store.add_model({"format": "mlpipe-model", "saved_at": "2026-05-30"})
    with pytest.raises(ValueError, match="Give a staleness rule"):
        store.staleness(model)
    with pytest.raises(ValueError, match="k and m go together"):
        store.staleness(model, k=2)
    with pytest.raises(ValueError, match="k <= m"):
        store.staleness(model, k=3, m=2)
    with pytest.raises(ValueError, match="No model 'missing'"):
        store.staleness("missing", max_age="1D")
    with pytest.raises(ValueError, match="max_age must be a time span"):
        store.staleness(model, max_age="soon")
    with pytest.raises(InvalidParameterError, match=r"'k' parameter of RunStore.staleness"):
        store.staleness(model, k=0, m=2)


def test_a_batch_is_written_whole_once_or_not_at_all(store, tmp_path, detector, drifted_batch):
    file = tmp_path / "batch-001.csv"
    drifted_batch.to_csv(file, index=False)
    key = batch_key(file)
    assert key.startswith("batch-001.csv:") and len(key.split(":")[1]) == 64
    assert not store.has_batch(key)
    with pytest.raises(RuntimeError, match="crash"), store.batch(key):
        store.record_drift(detector.detect(drifted_batch))
        raise RuntimeError("crash mid-batch")
    assert not store.has_batch(key) and len(store.runs()) == 0
    with store.batch(key, X=drifted_batch) as run:
        assert not store.has_batch(key)
        child = store.record_drift(detector.detect(drifted_batch))
        store.record_predictions(np.zeros(len(drifted_batch), dtype=int))
    assert store.has_batch(key)
    runs = store.runs().set_index("run_id")
    assert runs.loc[run, "kind"] == "batch" and runs.loc[run, "batch_key"] == key
    assert runs.loc[run, "status"] == "drift"  # the worst of its records
    assert runs.loc[run, "n_rows"] == len(drifted_batch)
    assert (runs.drop(index=run)["parent_id"] == run).all()
    assert store.lineage(child).to_frame()["relation"].tolist()[:2] == ["self", "parent"]
    with pytest.raises(ValueError, match="already in"), store.batch(key):
        pass
    drifted_batch.iloc[:10].to_csv(file, index=False)
    assert not store.has_batch(batch_key(file))  # same name, new content


def test_batches_do_not_nest_and_read_only_stores_refuse_them(store, tmp_path):
    with store.batch("a"), pytest.raises(ValueError, match="do not nest"), store.batch("b"):
        pass
    with RunStore(tmp_path / "monitor.db", read_only=True) as reader:
        with pytest.raises(OSError, match="read-only"), reader.batch("c"):
            pass
        assert reader.has_batch("a")
    with pytest.raises(FileNotFoundError, match="No batch file"):
        batch_key(tmp_path / "absent.csv")


def test_query_parameters_are_validated(store):
    with pytest.raises(InvalidParameterError, match=r"'model' parameter of RunStore.runs"):
        store.runs(model=3)
    with pytest.raises(InvalidParameterError, match=r"'since' parameter of RunStore.history"):
        store.history(since=3.5)
    with pytest.raises(TypeError, match="must be str"):
        store.runs(kind=["drift", 3])
    with pytest.raises(ValueError, match="since must be a datetime"):
        store.runs(since="not a time")


def test_every_query_of_an_empty_store_gives_its_columns_with_no_rows(store):
    specs = {
        "runs": RUN_COLUMNS,
        "history": HISTORY_COLUMNS,
        "models": _queries.MODEL_COLUMNS,
        "failures": _queries.FAILURE_COLUMNS,
        "null_rates": _queries.NULL_COLUMNS,
        "predictions": _queries.PREDICTION_COLUMNS,
        "selection_rates": _queries.GROUP_COLUMNS,
        "performance": _queries.METRIC_COLUMNS,
    }
    for name, spec in specs.items():
        empty = getattr(store, name)()
        assert list(empty.columns) == list(spec) and len(empty) == 0, name
        assert _dtypes(empty) == spec, name
