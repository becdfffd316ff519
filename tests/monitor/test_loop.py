"""The monitoring loop (MonitoringLoop, ``mlpipe monitor``) end to end on the credit data."""

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import mlpipe
from mlpipe.datasets import load_credit, make_credit_batch
from mlpipe.drift import DriftMonitor
from mlpipe.impute import TypedImputer
from mlpipe.monitor import MonitoringLoop, RunStore, batch_key
from mlpipe.validation import SchemaValidator
from tests import _cli

N_FILES, FIRST_DRIFTED, ROWS = 20, 12, 200
CATEGORICAL = ["sex", "housing", "saving_accounts", "checking_account", "purpose"]


def _pipeline():
    encode = ColumnTransformer(
        [
            (
                "categorical",
                OneHotEncoder(handle_unknown="ignore", sparse_output=False),
                CATEGORICAL,
            )
        ],
        remainder="passthrough",
        verbose_feature_names_out=False,
    )
    return Pipeline(
        [
            ("validate", SchemaValidator()),
            ("monitor", DriftMonitor()),
            ("impute", TypedImputer()),
            ("encode", encode),
            ("scale", StandardScaler()),
            ("model", LogisticRegression(max_iter=1000)),
        ]
    )


@pytest.fixture(scope="module")
def stream(tmp_path_factory):
    """A saved credit pipeline and 20 batch files, clean then drifted from
    file 12, with ids; the labels of the drifted files are 40% flipped
    (the model is wrong more often there): ``(folder, model, labels)``."""
    folder = tmp_path_factory.mktemp("stream")
    X, y = load_credit(return_X_y=True)
    pipe = _pipeline().fit(X, y)
    model = folder / "credit.skops"
    mlpipe.save(pipe, model, X=X, y=y)
    batches = folder / "batches"
    batches.mkdir()
    rng = np.random.default_rng(0)
    labels = []
    for i in range(1, N_FILES + 1):
        drifted = i >= FIRST_DRIFTED
        batch = make_credit_batch(n_samples=ROWS, drift=drifted, defects=False, random_state=i)
        ids = [f"{i:02d}-{j:03d}" for j in range(ROWS)]
        frame = batch.X.reset_index(drop=True).assign(id=ids)
        frame.to_csv(batches / f"batch-{i:02d}.csv", index=False)
        truth = batch.y.to_numpy().copy()
        if drifted:
            flip = rng.random(ROWS) < 0.4
            truth[flip] = 1 - truth[flip]
        labels.append(pd.DataFrame({"id": ids, "risk": truth, "file": i}))
    return folder, model, pd.concat(labels, ignore_index=True)


def _monitor(*args, cwd):
    # python -m mlpipe monitor, in a process forked from one that has
    # imported mlpipe (tests/_cli.py)
    return _cli.run(["monitor", *args], cwd=cwd, timeout=300, preload=_cli.MONITOR)


def _monitor_cold(*args, cwd):
    return subprocess.run(
        [sys.executable, "-m", "mlpipe", "monitor", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _retrain_command(log):
    # The command appends the environment it was given to a log, one JSON line a run.
    code = (
        "import json, os; "
        f"open({str(log)!r}, 'a').write(json.dumps("
        "{k: v for k, v in os.environ.items() if k.startswith('MLPIPE_')}) + '\\n')"
    )
    return f'{sys.executable} -c "{code}"'


def _batch_runs(store):
    runs = store.runs(kind="batch")
    return runs.sort_values("started_at")


@pytest.mark.slow
def test_the_stream_through_mlpipe_monitor(stream, tmp_path):
    folder, model, labels = stream
    store_path = tmp_path / "monitor.db"
    log = tmp_path / "retrain.log"
    # Labels arrive late: at the first run, those of files 1-8 only.
    labels_path = tmp_path / "labels.csv"
    labels[labels["file"] <= 8][["id", "risk"]].to_csv(labels_path, index=False)
    common = [
        "--store",
        store_path,
        "--key",
        "id",
        "--labels",
        labels_path,
        "--sensitive",
        "sex",
        "--on-drift",
        _retrain_command(log),
    ]
    first = _monitor(model, folder / "batches", *common, cwd=tmp_path)
    assert first.returncode == 1, first.stderr
    lines = first.stdout.splitlines()
    assert len([line for line in lines if "/20 batch-" in line]) == N_FILES
    assert all(len(line) <= 100 for line in lines)

    with RunStore(store_path, read_only=True) as store:
        batches = _batch_runs(store)
        assert len(batches) == N_FILES
        assert batches["batch_key"].is_unique
        expected = {batch_key(p) for p in (folder / "batches").iterdir()}
        assert set(batches["batch_key"]) == expected
        # Drift is first alarmed at file 12, and every drifted file alarms.
        alarms = store.runs(kind="alarm")
        detail = alarms["detail"].map(json.loads)
        drift_alarms = alarms[detail.map(lambda d: "drift" in d["reasons"])]
        files = sorted(int(json.loads(d)["batch_file"][-6:-4]) for d in drift_alarms["detail"])
        assert files[0] == FIRST_DRIFTED
        assert files == list(range(FIRST_DRIFTED, N_FILES + 1))
        # Files 1-8 were scored at once; none of them is a drop.
        performance = store.performance(metric="accuracy")
        assert len(performance) == 8
        assert (store.runs(kind="performance")["status"] == "ok").all()
        # The lineage of a prediction batch reaches the training data's fingerprint.
        run = store.runs(kind="predictions")["run_id"].iloc[-1]
        lineage = store.lineage(run)
        manifest = mlpipe.read_manifest(model)
        assert lineage.training_data["sha256"] == manifest["training_data"]["sha256"]
        # Selection rates by group were recorded for every scored batch.
        assert store.selection_rates()["run_id"].nunique() == N_FILES

    # The retraining command ran once, for the alarm of file 12.
    runs = [json.loads(line) for line in log.read_text().splitlines()]
    assert len(runs) == 1
    assert runs[0]["MLPIPE_BATCH_FILE"].endswith(f"batch-{FIRST_DRIFTED}.csv")
    assert runs[0]["MLPIPE_DRIFTED_FEATURES"]

    # The rest of the labels arrive; a rerun skips every batch and scores the rest.
    labels[["id", "risk"]].to_csv(labels_path, index=False)
    second = _monitor(model, folder / "batches", *common, cwd=tmp_path)
    assert second.returncode == 1, second.stderr  # performance dropped
    assert second.stdout.count(" skipped ") == N_FILES
    with RunStore(store_path, read_only=True) as store:
        assert len(_batch_runs(store)) == N_FILES
        perf = store.runs(kind="performance").sort_values("window")
        assert perf["window"].tolist() == list(range(1, N_FILES + 1))
        dropped = perf.loc[perf["status"] == "drop", "window"].tolist()
        # Realized performance drops where the labels say, and only there.
        assert dropped == list(range(FIRST_DRIFTED, N_FILES + 1))
        accuracy = store.performance(metric="accuracy").set_index("window")["value"]
        assert accuracy.loc[FIRST_DRIFTED:].max() < accuracy.loc[: FIRST_DRIFTED - 1].min()
    # Still one retraining run: the drop alarms came within the cool-down.
    assert len(log.read_text().splitlines()) == 1

    # A third run with nothing new: every batch skipped, nothing found, exit 0.
    third = _monitor(
        model, folder / "batches", "--store", store_path, "--report", "r.html", cwd=tmp_path
    )
    assert third.returncode == 0, third.stderr
    assert third.stdout.count(" skipped ") == N_FILES
    # The report over time: drift first in window 12, the retraining run marked.
    page = (tmp_path / "r.html").read_text()
    assert f"first: window {FIRST_DRIFTED}," in page
    assert "1 retraining run(s)" in page
    # The report alone, from the store, without a model.
    alone = _monitor("--report", "alone.html", "--store", store_path, cwd=tmp_path)
    assert alone.returncode == 0, alone.stderr
    assert f"first: window {FIRST_DRIFTED}," in (tmp_path / "alone.html").read_text()


def _oracle_accuracy(labels, store, window):
    """Accuracy of one batch from its scored rows and the labels, by pandas."""
    run = store.runs(kind="predictions").set_index("window").loc[window, "run_id"]
    rows = store._query("SELECT row_key, prediction FROM scored_rows WHERE run_id = ?", (run,))
    scored = pd.DataFrame(rows, columns=["id", "prediction"]).merge(labels, on="id")
    return (scored["prediction"].astype(int) == scored["risk"]).mean()


def test_realized_accuracy_and_auc_equal_sklearn_on_the_joined_rows(stream, tmp_path):
    from sklearn.metrics import roc_auc_score

    folder, model, labels = stream
    files = sorted((folder / "batches").iterdir())[:4]
    labels_path = tmp_path / "labels.csv"
    labels[["id", "risk"]].to_csv(labels_path, index=False)
    loop = MonitoringLoop(model, tmp_path / "m.db", key="id", labels=labels_path)
    results = loop.run(files)
    assert results["status"].tolist()[:4] == ["ok"] * 4
    pipe = mlpipe.load(model)
    with RunStore(tmp_path / "m.db", read_only=True) as store:
        for window, path in enumerate(files, 1):
            frame = pd.read_csv(path)
            truth = labels.set_index("id").loc[frame["id"], "risk"].to_numpy()
            X = frame.drop(columns="id")
            expected_acc = (pipe.predict(X) == truth).mean()
            expected_auc = roc_auc_score(truth == pipe.classes_[1], pipe.predict_proba(X)[:, 1])
            got = store.performance().query("window == @window").set_index("metric")["value"]
            assert got["accuracy"] == pytest.approx(expected_acc, abs=1e-12)
            assert got["accuracy"] == pytest.approx(_oracle_accuracy(labels, store, window))
            assert got["roc_auc"] == pytest.approx(expected_auc, abs=1e-12)
            assert got["n_labeled"] == ROWS


def test_a_crash_mid_batch_leaves_no_trace_and_a_rerun_does_the_rest(stream, tmp_path, monkeypatch):
    folder, model, _ = stream
    store_path = tmp_path / "m.db"
    guard = MonitoringLoop._guard
    calls = []

    def crash_at_seventh(self, store, frame, window, row):
        calls.append(window)
        if len(calls) == 7:
            guard(self, store, frame, window, row)  # records written, then ...
            raise KeyboardInterrupt  # ... the process is stopped mid-batch
        return guard(self, store, frame, window, row)

    monkeypatch.setattr(MonitoringLoop, "_guard", crash_at_seventh)
    files = sorted((folder / "batches").iterdir())[:10]
    with pytest.raises(KeyboardInterrupt):
        MonitoringLoop(model, store_path, key="id").run(files)
    with RunStore(store_path, read_only=True) as store:
        assert len(store.runs(kind="batch")) == 6
        # the seventh batch's validation and drift records went with it
        assert store.runs(kind="validation")["parent_id"].nunique() == 6
    monkeypatch.setattr(MonitoringLoop, "_guard", guard)
    results = MonitoringLoop(model, store_path, key="id").run(files)
    assert results["status"].tolist()[:6] == ["skipped"] * 6
    assert "skipped" not in results["status"].tolist()[6:]
    with RunStore(store_path, read_only=True) as store:
        batches = store.runs(kind="batch")
        assert len(batches) == 10 and batches["batch_key"].is_unique
        for kind in ("validation", "drift", "predictions"):
            assert store.runs(kind=kind)["parent_id"].value_counts().eq(1).all()
            assert len(store.runs(kind=kind)) == 10


@pytest.mark.slow
def test_a_killed_process_retrains_once_on_the_rerun(stream, tmp_path):
    """The retraining command kills the monitor (SIGKILL) right after the alarm
    of file 12 was committed; the rerun runs the retraining that never ran,
    once, and goes on."""
    folder, model, _ = stream
    store_path = tmp_path / "m.db"
    log = tmp_path / "retrain.log"
    # a real interpreter, started cold: the command kills its parent process
    killed = _monitor_cold(
        model,
        folder / "batches",
        "--store",
        store_path,
        "--key",
        "id",
        "--on-drift",
        "kill -9 $PPID",
        cwd=tmp_path,
    )
    assert killed.returncode == -9
    with RunStore(store_path, read_only=True) as store:
        assert len(store.runs(kind="batch")) == FIRST_DRIFTED
        assert len(store.runs(kind="retraining")) == 0
    rerun = _monitor_cold(
        model,
        folder / "batches",
        "--store",
        store_path,
        "--key",
        "id",
        "--on-drift",
        _retrain_command(log),
        cwd=tmp_path,
    )
    assert rerun.returncode == 1, rerun.stderr
    assert len(log.read_text().splitlines()) == 1
    with RunStore(store_path, read_only=True) as store:
        batches = store.runs(kind="batch")
        assert len(batches) == N_FILES and batches["batch_key"].is_unique
        retraining = store.runs(kind="retraining")
        assert len(retraining) == 1
        alarm = store.runs(kind="alarm").set_index("run_id").loc[retraining["parent_id"].iloc[0]]
        assert json.loads(alarm["detail"])["batch_file"].endswith(f"batch-{FIRST_DRIFTED}.csv")


def test_a_cooldown_in_batches_lets_a_later_alarm_retrain(stream, tmp_path):
    folder, model, _ = stream
    runs = []
    loop = MonitoringLoop(model, tmp_path / "m.db", key="id", on_drift=runs.append, cooldown=3)
    loop.run(sorted((folder / "batches").iterdir()))
    # drifted files 12..20: retraining at 12, then the first alarm 3 batches after: 16, 20
    assert [r["MLPIPE_BATCH_FILE"][-6:-4] for r in runs] == ["12", "16", "20"]
    with RunStore(tmp_path / "m.db", read_only=True) as store:
        assert len(store.runs(kind="retraining")) == 3
        assert (store.runs(kind="retraining")["status"] == "ok").all()


def test_a_failed_and_an_unreadable_batch_are_findings_and_recorded_as_such(stream, tmp_path):
    folder, model, _ = stream
    batches = tmp_path / "batches"
    batches.mkdir()
    good = pd.read_csv(folder / "batches" / "batch-01.csv")
    good.to_csv(batches / "a.csv", index=False)
    good.drop(columns=["age"]).to_csv(batches / "b.csv", index=False)
    (batches / "c.csv").write_text("")
    results = MonitoringLoop(model, tmp_path / "m.db", key="id").run([batches])
    assert results["status"].tolist() == ["ok", "failed", "unreadable"]
    assert "age" in results["message"][1]
    assert "empty" in results["message"][2]
    with RunStore(tmp_path / "m.db", read_only=True) as store:
        # the unreadable file is not recorded: a rerun tries it again
        assert len(store.runs(kind="batch")) == 2
        failures = store.failures()
        assert "age" in failures["column"].tolist()
        assert store.runs(kind="batch").set_index("step").loc["b.csv", "status"] == "failed"
    proc = _monitor(model, batches, "--store", tmp_path / "m.db", "--key", "id", cwd=tmp_path)
    assert proc.returncode == 1
    assert "unreadable" in proc.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope.skops", "x.csv"], "no such file or directory: x.csv"),
        (["MODEL"], "give the BATCH files"),
        (["MODEL", "BATCHES", "--labels", "l.csv"], "labels are joined to the predictions by key"),
        (["MODEL", "BATCHES", "--cooldown", "soon"], "cooldown must be"),
        (["MODEL", "BATCHES", "--label-coverage", "2"], "label_coverage must be"),
        (["MODEL", "BATCHES", "--store", "."], "is a directory"),
        (["--report", "r.html", "--store", "none.db"], "no such store"),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(stream, tmp_path, args, message):
    folder, model, _ = stream
    args = [
        {"MODEL": model, "BATCHES": folder / "batches"}.get(a, a) if isinstance(a, str) else a
        for a in args
    ]
    proc = _monitor(*args, cwd=tmp_path)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert message in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "Traceback" not in proc.stderr


def test_staleness_is_checked_after_the_batches_and_shown_in_the_report(stream, tmp_path):
    folder, model, _ = stream
    files = sorted((folder / "batches").iterdir())
    path = tmp_path / "m.db"
    loop = MonitoringLoop(model, path, key="id", stale_windows=(3, 5), max_age="3650D")
    first = loop.run(files[:11])
    assert first["status"].iloc[-1] == "fresh"
    second = loop.run(files[:14])  # windows 12-14 drifted: 3 of the last 5
    assert second["status"].iloc[-1] == "stale"
    assert second["message"].iloc[-1] == "drift_windows"
    with RunStore(path, read_only=True) as store:
        checks = store.runs(kind="staleness")
        assert checks["status"].tolist() == ["ok", "stale"]
        page = store.report()._repr_html_()
    assert "stale at the last of 2 check(s)" in page
    proc = _monitor(model, folder / "batches", "--store", path, "--stale", "5/4", cwd=tmp_path)
    assert proc.returncode == 2 and "K/M needs 1 <= K <= M" in proc.stderr


def test_a_prediction_batch_shares_its_input_with_the_checks_of_its_rows(stream, tmp_path):
    """The prediction run's input is the rows scored, as read (not the model's
    encoded matrix), so lineage finds the validation and drift runs of the
    same rows by fingerprint."""
    from mlpipe.monitor import fingerprint

    folder, model, _ = stream
    path = sorted((folder / "batches").iterdir())[0]
    MonitoringLoop(model, tmp_path / "m.db", key="id").run([path])
    rows = pd.read_csv(path).drop(columns="id")
    with RunStore(tmp_path / "m.db", read_only=True) as store:
        runs = store.runs().set_index("kind")
        expected = fingerprint(rows)["sha256"]
        for kind in ("validation", "drift", "predictions"):
            assert runs.loc[kind, "input_sha256"] == expected, kind
        walk = store.lineage(runs.loc["predictions", "run_id"]).to_frame()
        same = set(walk.loc[walk["relation"] == "same_input", "kind"])
        assert {"validation", "drift"} <= same
