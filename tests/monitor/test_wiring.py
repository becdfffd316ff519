"""SchemaValidator, DriftMonitor and a loaded pipeline write to a store, off the request thread."""

import json
import threading
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

import mlpipe
from mlpipe.drift import DriftMonitor
from mlpipe.exceptions import StoreWriteWarning
from mlpipe.monitor import RunStore, fingerprint, wait_for_writes
from mlpipe.validation import SchemaValidator

from .conftest import NUMERIC


@pytest.fixture
def X(credit):
    return credit[0][NUMERIC]


def _runs(path, kind):
    with RunStore(path, read_only=True) as store:
        return store.runs(kind=kind).sort_values("started_at", kind="stable")


def test_a_validator_records_every_transform_not_fit(tmp_path, X):
    path = tmp_path / "m.db"
    validator = SchemaValidator(on_error="warn", store=path).fit(X)
    bad = X.iloc[:50].copy()
    bad.loc[bad.index[:5], "age"] = -3
    reports = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for batch in (X.iloc[:100], bad, X.iloc[[7]]):
            validator.transform(batch)
            reports.append(validator.last_report_)
    wait_for_writes(timeout=30)
    runs = _runs(path, "validation")
    assert runs["n_rows"].tolist() == [100, 50, 1]
    assert runs["step"].tolist() == ["SchemaValidator"] * 3
    assert runs["status"].tolist() == ["ok" if r.passed else "failed" for r in reports]
    with RunStore(path, read_only=True) as store:
        failures = store.failures()
        expected = reports[1].to_frame()
        assert failures["check"].tolist() == expected["check"].tolist()
        assert failures["column"].tolist() == expected["column"].tolist()
        assert failures["n_failed"].tolist() == expected["n_failed"].tolist()
        inputs = runs["input_sha256"].tolist()
        assert inputs[1] == fingerprint(bad)["sha256"]


def test_a_raising_validator_records_the_batch_it_refused(tmp_path, X):
    path = tmp_path / "m.db"
    validator = SchemaValidator(store=path).fit(X)
    with pytest.raises(mlpipe.exceptions.DataValidationError):
        validator.transform(X.drop(columns="age"))
    wait_for_writes(timeout=30)
    runs = _runs(path, "validation")
    assert runs["status"].tolist() == ["failed"]
    with RunStore(path, read_only=True) as store:
        assert "age" in store.failures()["column"].tolist()


def test_the_record_keeps_the_batch_as_it_was_when_checked(tmp_path, X):
    path = tmp_path / "m.db"
    validator = SchemaValidator(store=path).fit(X)
    batch = X.iloc[:20].copy()
    expected = fingerprint(batch.copy())["sha256"]
    gate = threading.Event()
    # hold the writer so that the caller changes its frame before the record is written
    import mlpipe.utils._store_writer as writer_module

    writer = writer_module._writer(str(path))
    writer.queue.put(("record_event", (), {"kind": "alarm", "detail": None}, None, None))
    original = RunStore.record_event

    def slow(self, *args, **kwargs):
        gate.wait(10)
        return original(self, *args, **kwargs)

    RunStore.record_event = slow
    try:
        validator.transform(batch)
        batch.loc[batch.index[0], "age"] = 99  # the caller reuses its frame
        gate.set()
        wait_for_writes(timeout=30)
    finally:
        RunStore.record_event = original
    assert _runs(path, "validation")["input_sha256"].tolist() == [expected]


def test_a_windowed_monitor_records_each_window_with_its_number(tmp_path, X):
    path = tmp_path / "m.db"
    monitor = DriftMonitor(window=100, warn=False, store=path).fit(X)
    for i in range(250):
        monitor.transform(X.iloc[[i]])
    monitor.flush()
    wait_for_writes(timeout=30)
    runs = _runs(path, "drift")
    assert runs["window"].tolist() == [1, 2, 3]
    assert runs["n_rows"].tolist() == [100, 100, 50]
    with RunStore(path, read_only=True) as store:
        history = store.history().sort_values(["window", "feature"])
    for window, report in enumerate(monitor.history_, 1):
        expected = report.to_frame().sort_values("feature")
        got = history[history["window"] == window]
        np.testing.assert_allclose(got["p_value"], expected["p_value"], rtol=0, atol=0)
        assert got["drift"].tolist() == expected["drift"].tolist()
    runs = runs.set_index("window")
    for window in (1, 2):
        rows = X.iloc[(window - 1) * 100 : window * 100]
        assert runs.loc[window, "input_sha256"] == fingerprint(rows)["sha256"]


def test_a_loaded_pipeline_records_under_its_model_and_step_names(tmp_path, credit):
    X, y = credit
    pipe = Pipeline(
        [
            ("validate", SchemaValidator()),
            ("watch", DriftMonitor(warn=False)),
            ("model", LogisticRegression(max_iter=1000)),
        ]
    ).fit(X[NUMERIC], y)
    model_path = tmp_path / "credit.skops"
    manifest = mlpipe.save(pipe, model_path, X=X[NUMERIC], y=y)
    db = tmp_path / "m.db"
    served = mlpipe.load(model_path, store=db)
    served.predict(X[NUMERIC].iloc[:200])
    wait_for_writes(timeout=30)
    with RunStore(db, read_only=True) as store:
        runs = store.runs()
        assert sorted(runs["kind"]) == ["drift", "validation"]
        assert set(runs["step"]) == {"validate", "watch"}
        models = store.models()
        assert models["name"].tolist() == ["credit"]
        assert set(runs["model_id"]) == set(models["model_id"])
        lineage = store.lineage(runs["run_id"].iloc[0])
        assert lineage.training_data["sha256"] == manifest["training_data"]["sha256"]
    # Loading without a store records nothing, even if the saved steps had one.
    pipe.set_params(validate__store=tmp_path / "named-by-the-file.db")
    mlpipe.save(pipe, model_path, X=X[NUMERIC], y=y)
    quiet = mlpipe.load(model_path)
    assert quiet.named_steps["validate"].store is None
    quiet.predict(X[NUMERIC].iloc[:10])
    wait_for_writes(timeout=30)
    assert not (tmp_path / "named-by-the-file.db").exists()


def test_set_config_store_is_the_default_of_steps_without_one(tmp_path, X):
    path = tmp_path / "m.db"
    validator = SchemaValidator().fit(X)
    with mlpipe.config_context(store=path):
        validator.transform(X.iloc[:10])
    validator.transform(X.iloc[:10])  # outside the block: not recorded
    wait_for_writes(timeout=30)
    assert len(_runs(path, "validation")) == 1
    assert clone(SchemaValidator(store=path)).store == path


def test_explaining_records_nothing(tmp_path, X):
    from mlpipe.utils._monitoring import suspended

    path = tmp_path / "m.db"
    validator = SchemaValidator(store=path).fit(X)
    monitor = DriftMonitor(store=path, warn=False).fit(X)
    with suspended():
        monitor.transform(validator.transform(X.iloc[:50]))
    wait_for_writes(timeout=30)
    assert not path.exists() or len(_runs(path, "validation")) == 0


def test_a_store_that_cannot_be_written_warns_and_serving_goes_on(tmp_path, X):
    not_a_store = tmp_path / "data.db"
    not_a_store.write_bytes(b"this is not an SQLite file" * 100)
    validator = SchemaValidator(store=not_a_store).fit(X)
    out = validator.transform(X.iloc[:5])
    assert out.equals(X.iloc[:5])
    with pytest.raises(RuntimeError, match="could not record") as info:
        wait_for_writes(timeout=30)
    assert isinstance(info.value.__cause__, ValueError)
    validator.transform(X.iloc[:5])
    import mlpipe.utils._store_writer as writer_module

    writer_module._writer(str(not_a_store)).drained(30)
    with pytest.warns(StoreWriteWarning, match="could not record"):
        validator.transform(X.iloc[:5])
    with pytest.raises(RuntimeError):
        wait_for_writes(timeout=30)


def test_records_of_several_threads_all_arrive(tmp_path, X):
    path = tmp_path / "m.db"
    validator = SchemaValidator(store=path).fit(X)

    def serve(offset):
        for i in range(25):
            validator.transform(X.iloc[[offset + i]])

    threads = [threading.Thread(target=serve, args=(100 * k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wait_for_writes(timeout=60)
    runs = _runs(path, "validation")
    # clean one-row batches are coalesced by the writer: every row is there
    assert runs["n_rows"].sum() == 100
    assert sum(json.loads(d)["n_batches"] for d in runs["detail"]) == 100
    assert all(json.loads(d)["n_errors"] == 0 for d in runs["detail"])


def test_clean_batches_are_coalesced_and_a_failing_one_keeps_its_place(tmp_path, X):
    path = tmp_path / "m.db"
    validator = SchemaValidator(on_error="warn", store=path).fit(X)
    bad = X.iloc[[3]].copy()
    bad["age"] = -1
    rows = [X.iloc[[i]] for i in range(10)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for row in rows[:4]:
            validator.transform(row)
        validator.transform(bad)
        for row in rows[4:]:
            validator.transform(row)
    wait_for_writes(timeout=30)
    runs = _runs(path, "validation")
    assert runs["n_rows"].tolist() == [4, 1, 6]
    assert runs["status"].tolist() == ["ok", "failed", "ok"]
    # the coalesced run's input is the fingerprint of its rows together
    together = pd.concat(rows[4:], ignore_index=True)
    assert runs["input_sha256"].iloc[2] == fingerprint(together)["sha256"]
    with RunStore(path, read_only=True) as store:
        nulls = store.null_rates()
        last = nulls[nulls["run_id"] == runs["run_id"].iloc[2]].set_index("column")
        assert last["n_missing"].to_dict() == together.isna().sum().to_dict()
