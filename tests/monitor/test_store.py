"""The run store's file: schema versions, migrations, append-only records,
read-only opening and bad paths."""

import copy
import io
import pickle
import sqlite3

import pandas as pd
import pytest
from sklearn.base import clone

from mlpipe.drift import DriftMonitor
from mlpipe.monitor import RunStore, _schema
from mlpipe.validation import Schema


def _tables(path):
    with sqlite3.connect(path) as c:
        return {r[0] for r in c.execute("SELECT name FROM sqlite_schema WHERE type='table'")}


def test_a_new_file_gets_every_table_and_the_current_version(tmp_path):
    path = tmp_path / "m.db"
    RunStore(path).close()
    assert set(_schema.RECORD_TABLES) <= _tables(path)
    with sqlite3.connect(path) as c:
        assert c.execute("PRAGMA user_version").fetchone()[0] == _schema.SCHEMA_VERSION
        assert c.execute("PRAGMA application_id").fetchone()[0] == _schema.APPLICATION_ID
        assert c.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    # Opening again applies nothing and keeps the version.
    with RunStore(path) as store:
        assert store.schema_version == _schema.SCHEMA_VERSION


def test_a_file_of_a_newer_schema_is_refused_naming_both_versions(tmp_path):
    path = tmp_path / "m.db"
    RunStore(path).close()
    newer = _schema.SCHEMA_VERSION + 1
    with sqlite3.connect(path) as c:
        c.execute(f"PRAGMA user_version = {newer}")
    for read_only in (False, True):
        with pytest.raises(
            ValueError, match=rf"schema version {newer}.*up to {_schema.SCHEMA_VERSION}"
        ):
            RunStore(path, read_only=read_only)


def test_migrations_bring_an_older_file_forward_and_keep_its_records(tmp_path):
    path = tmp_path / "m.db"
    with RunStore(path) as store:
        run = store.record_event("alarm", status="alarm", summary="before the migration")
    known = _schema.SCHEMA_VERSION
    newer = (*_schema.MIGRATIONS, ("ALTER TABLE runs ADD COLUMN note TEXT",))
    connection = sqlite3.connect(path, isolation_level=None)
    assert _schema.migrate(connection, "test", migrations=newer) == known
    assert connection.execute("PRAGMA user_version").fetchone()[0] == known + 1
    assert connection.execute(
        "SELECT summary, note FROM runs WHERE run_id = ?", (run,)
    ).fetchall() == [("before the migration", None)]
    # Applying again is a no-op at the same version.
    assert _schema.migrate(connection, "test", migrations=newer) == known + 1
    connection.close()
    # This mlpipe knows versions up to `known` only: the migrated file is refused.
    with pytest.raises(ValueError, match=f"schema version {known + 1}"):
        RunStore(path)


def test_a_version_1_file_gets_the_scored_rows_table_and_keeps_its_runs(tmp_path):
    path = tmp_path / "m.db"
    connection = sqlite3.connect(path, isolation_level=None)
    assert _schema.migrate(connection, "test", migrations=_schema.MIGRATIONS[:1]) == 0
    connection.execute(
        "INSERT INTO runs (run_id, kind, step, status, started_at) "
        "VALUES ('r1', 'alarm', 'alarm', 'alarm', '2026-01-01T00:00:00.000000+00:00')"
    )
    connection.close()
    with RunStore(path) as store:
        assert store.schema_version == _schema.SCHEMA_VERSION == 3
        assert store.runs()["run_id"].tolist() == ["r1"]
        tables = {r[0] for r in store._query("SELECT name FROM sqlite_schema WHERE type='table'")}
        assert {"scored_rows", "performance_estimates"} <= tables


def test_a_version_2_file_gets_the_performance_estimates_table_and_keeps_its_runs(tmp_path):
    path = tmp_path / "m.db"
    connection = sqlite3.connect(path, isolation_level=None)
    assert _schema.migrate(connection, "test", migrations=_schema.MIGRATIONS[:2]) == 0
    connection.execute(
        "INSERT INTO runs (run_id, kind, step, status, started_at) "
        "VALUES ('r1', 'alarm', 'alarm', 'alarm', '2026-01-01T00:00:00.000000+00:00')"
    )
    connection.close()
    with RunStore(path) as store:
        assert store.schema_version == 3
        run = store.record_performance_estimate(_estimate_report(), window=2)
        assert store.runs()["run_id"].tolist() == ["r1", run]
        stored = store.estimates()
    assert stored["estimate"].tolist() == [0.8] and stored["covered"].isna().all()
    assert stored["n_calibration"].tolist() == [120.0]


def test_a_failed_migration_leaves_the_file_at_its_version(tmp_path):
    path = tmp_path / "m.db"
    RunStore(path).close()
    broken = (
        *_schema.MIGRATIONS,
        ("ALTER TABLE runs ADD COLUMN note TEXT", "SELECT nope FROM runs"),
    )
    connection = sqlite3.connect(path, isolation_level=None)
    with pytest.raises(sqlite3.OperationalError):
        _schema.migrate(connection, "test", migrations=broken)
    assert connection.execute("PRAGMA user_version").fetchone()[0] == _schema.SCHEMA_VERSION
    columns = [r[1] for r in connection.execute("PRAGMA table_info(runs)")]
    assert "note" not in columns
    connection.close()


def _estimate_report():
    from mlpipe.drift import PerformanceReport

    results = {
        "group_column": ["(all)"],
        "group": ["(all)"],
        "metric": ["accuracy"],
        "estimate": [0.8],
        "lower": [0.7],
        "upper": [0.9],
        "realized": [float("nan")],
        "covered": [None],
        "n_rows": [40],
        "n_calibration": [120.0],
    }
    return PerformanceReport(results, 0.95, 40, n_calibration_rows=300)


@pytest.mark.parametrize("table", _schema.RECORD_TABLES)
def test_every_record_table_refuses_update_and_delete(
    tmp_path, table, saved_model, detector, drifted_batch
):
    path = tmp_path / "m.db"
    with RunStore(path) as store:
        model = store.add_model(saved_model[0])
        run = store.record_drift(detector.detect(drifted_batch), model=model, X=drifted_batch)
        store.record_predictions(
            [0, 1, 1], sensitive=["a", "b", "a"], keys=[7, 8, 9], parent=run, model=model
        )
        store.record_performance({"accuracy": 0.5}, parent=run)
        store.record_performance_estimate(_estimate_report(), parent=run)
        store.staleness(model, max_age="1D", k=1, m=1)
        report = (
            Schema.infer(pd.DataFrame({"a": [1, 2, 3]}))
            .as_rules()
            .validate(pd.DataFrame({"a": [1, 9, None]}))
        )
        store.record_validation(report, X=pd.DataFrame({"a": [1, 9, None]}))
    connection = sqlite3.connect(path)
    n = connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    assert n > 0, f"the test wrote no row into {table}"
    column = next(r[1] for r in connection.execute(f"PRAGMA table_info({table})"))
    with pytest.raises(sqlite3.IntegrityError, match="append-only: UPDATE of " + table):
        connection.execute(f"UPDATE {table} SET {column} = {column}")
    with pytest.raises(sqlite3.IntegrityError, match="append-only: DELETE of " + table):
        connection.execute(f"DELETE FROM {table}")
    assert connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == n
    connection.close()


def test_read_only_store_reads_and_refuses_writes(tmp_path):
    path = tmp_path / "m.db"
    with RunStore(path) as store:
        store.record_event("alarm", status="alarm")
    with RunStore(path, read_only=True) as store:
        assert len(store.runs()) == 1
        with pytest.raises(io.UnsupportedOperation, match="opened read-only"):
            store.record_event("alarm", status="alarm")
        with pytest.raises(io.UnsupportedOperation, match="opened read-only"):
            store.add_model({"format": "mlpipe-model"})
    with RunStore(path) as store:
        assert len(store.runs()) == 1


def test_a_file_sqlite_cannot_write_gives_a_permission_error(tmp_path):
    # The file's permissions do not stop root (who runs the tests here):
    # SQLite's query_only mode gives the same "readonly database" refusal.
    with RunStore(tmp_path / "m.db") as store:
        store._connection.execute("PRAGMA query_only = ON")
        with pytest.raises(PermissionError, match="cannot be written: attempt to write a readonly"):
            store.record_event("alarm", status="alarm")


def test_bad_paths_get_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"directory .*missing.* does not exist"):
        RunStore(tmp_path / "missing" / "m.db")
    with pytest.raises(FileNotFoundError, match=r"does not exist \(read_only=True"):
        RunStore(tmp_path / "absent.db", read_only=True)
    with pytest.raises(IsADirectoryError, match="is a directory"):
        RunStore(tmp_path)
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all, just some bytes" * 100)
    with pytest.raises(ValueError, match="not an SQLite database"):
        RunStore(junk)
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as c:
        c.execute("CREATE TABLE t (x)")
    with pytest.raises(ValueError, match="not an mlpipe run store"):
        RunStore(other)
    with pytest.raises(TypeError, match="path must be"):
        RunStore(3)


def test_memory_store_works_and_is_private(tmp_path):
    with RunStore(":memory:") as a, RunStore(":memory:") as b:
        a.record_event("alarm", status="alarm")
        assert len(a.runs()) == 1 and len(b.runs()) == 0


def test_a_store_is_copied_as_itself_and_pickled_as_its_path(tmp_path):
    with RunStore(tmp_path / "m.db") as store:
        run = store.record_event("alarm", status="alarm")
        assert copy.deepcopy(store) is store
        # A step holding a store (as item 3's store= parameter will) clones.
        assert clone(DriftMonitor(callbacks=[store])).callbacks[0] is store
        with pickle.loads(pickle.dumps(store)) as reopened:
            assert reopened is not store and reopened.path == store.path
            assert reopened.runs()["run_id"].tolist() == [run]
            reopened.record_event("alarm", status="alarm")
        assert len(store.runs()) == 2
    with RunStore(":memory:") as memory, pytest.raises(TypeError, match="in-memory RunStore"):
        pickle.dumps(memory)


def test_a_writer_locked_out_past_its_timeout_gets_a_timeout_error(tmp_path):
    path = tmp_path / "m.db"
    with RunStore(path, timeout=0.05) as store:
        blocker = sqlite3.connect(path, isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")  # another process holding the write lock
        try:
            with pytest.raises(TimeoutError, match=r"stayed locked .* timeout=0.05 s"):
                store.record_event("alarm", status="alarm")
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        store.record_event("alarm", status="alarm")
        assert len(store.runs()) == 1
