"""mlpipe.mlflow (issue 17, item 6): a guarded pipeline as an MLflow model.

Every test has its own tracking store, MLflow's embedded default (a SQLite
file under the test's tmp_path, no server), and its own experiment whose
artifacts go under tmp_path; the previous tracking URI is restored after.
The oracle of every prediction is the in-memory pipeline's own method.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow.exceptions import MlflowException
from sklearn.compose import ColumnTransformer
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import mlpipe
from mlpipe.datasets import load_credit
from mlpipe.drift import DriftMonitor
from mlpipe.exceptions import DataValidationError, MissingExtraError
from mlpipe.impute import TypedImputer
from mlpipe.mlflow import download_model, load_model, log_model, save_model
from mlpipe.validation import Schema, SchemaValidator

WINDOW = 50


def _json_types(X):
    """Categories as text, missing as None: the types a JSON request has."""
    X = X.copy()
    for c in X.columns:
        if isinstance(X[c].dtype, pd.CategoricalDtype):
            X[c] = X[c].astype(object).where(X[c].notna(), None)
    return X


def _pipeline(X, y, C):
    schema = Schema.infer(X)
    schema["credit_amount"].nullable = False  # a declared rule: always given
    text = [c for c in X.columns if X[c].dtype == object]
    return Pipeline(
        [
            ("validate", SchemaValidator(schema=schema)),
            ("impute", TypedImputer()),
            ("monitor", DriftMonitor(window=WINDOW, warn=False)),
            (
                "encode",
                ColumnTransformer(
                    [("text", OneHotEncoder(handle_unknown="ignore"), text)],
                    remainder=StandardScaler(),
                ),
            ),
            ("model", LogisticRegression(C=C, max_iter=1000)),
        ]
    ).fit(X, y)


@pytest.fixture(scope="module")
def credit():
    X, y = load_credit(return_X_y=True, unknown_as_missing=True)
    X = _json_types(X)
    train, rest = X.iloc[:800], X.iloc[800:]
    # Two fits that disagree somewhere: versions 1 and 2 of the model.
    v1 = _pipeline(train, y[:800], C=1.0)
    v2 = _pipeline(train.iloc[:300], y[:300], C=0.01)
    assert (v1.predict(rest) != v2.predict(rest)).any()
    return {"X": train, "y": y[:800], "rest": rest, "v1": v1, "v2": v2}


@pytest.fixture(scope="module")
def empty_store(tmp_path_factory):
    """A migrated, empty tracking database, copied by each test (creating one
    runs MLflow's migrations, about 2 s)."""
    path = tmp_path_factory.mktemp("template") / "mlflow.db"
    previous = mlflow.get_tracking_uri() if mlflow.is_tracking_uri_set() else None
    try:
        mlflow.set_tracking_uri(f"sqlite:///{path}")
        mlflow.search_experiments()
    finally:
        mlflow.set_tracking_uri(previous)
    return path


@pytest.fixture
def experiment(tmp_path, empty_store):
    """This test's tracking store and experiment, under tmp_path."""
    shutil.copy(empty_store, tmp_path / "mlflow.db")
    previous = mlflow.get_tracking_uri() if mlflow.is_tracking_uri_set() else None
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflow.db'}")
    try:
        yield mlflow.create_experiment("credit", artifact_location=str(tmp_path / "artifacts"))
    finally:
        mlflow.set_tracking_uri(previous)


def _log(experiment, pipe, credit, **kwargs):
    with mlflow.start_run(experiment_id=experiment) as run:
        info = log_model(pipe, "model", X=credit["X"], y=credit["y"], **kwargs)
    return run.info.run_id, info


def test_telemetry_is_off_in_the_tests():
    from mlflow.telemetry.client import get_telemetry_client
    from mlflow.telemetry.utils import is_telemetry_disabled

    assert is_telemetry_disabled()
    assert get_telemetry_client() is None


def test_two_registered_versions_and_an_alias_load_back(experiment, credit):
    rest = credit["rest"]
    run1, info1 = _log(experiment, credit["v1"], credit, registered_model_name="credit")
    _, info2 = _log(experiment, credit["v2"], credit, registered_model_name="credit")
    assert (info1.registered_model_version, info2.registered_model_version) == (1, 2)
    mlflow.MlflowClient().set_registered_model_alias("credit", "champion", 2)
    for uri, oracle in [
        ("models:/credit/1", credit["v1"]),
        ("models:/credit/2", credit["v2"]),
        ("models:/credit@champion", credit["v2"]),
        (f"runs:/{run1}/model", credit["v1"]),
        (info1.model_uri, credit["v1"]),
    ]:
        loaded = load_model(uri)
        assert isinstance(loaded, Pipeline), uri
        np.testing.assert_array_equal(loaded.predict(rest), oracle.predict(rest), err_msg=uri)
        np.testing.assert_array_equal(loaded.predict_proba(rest), oracle.predict_proba(rest))


def test_pyfunc_predicts_validates_and_monitors(experiment, credit):
    pipe, rest = credit["v1"], credit["rest"]
    caller = pipe.named_steps["monitor"]
    before = (len(caller.history_), caller.n_buffered_)
    _log(experiment, pipe, credit, registered_model_name="credit")
    assert (len(caller.history_), caller.n_buffered_) == before  # logging predicts on a copy
    logged = len(load_model("models:/credit/1").named_steps["monitor"].history_)
    assert logged == before[0]
    served = mlflow.pyfunc.load_model("models:/credit/1")
    np.testing.assert_array_equal(served.predict(rest), pipe.predict(rest))
    proba = served.predict(rest, params={"method": "predict_proba"})
    np.testing.assert_array_equal(proba, pipe.predict_proba(rest))
    # The served copy's monitor saw both calls: 2 x 200 rows, 8 windows of 50.
    monitor = served.unwrap_python_model().model.named_steps["monitor"]
    assert monitor.n_buffered_ == 0
    assert [r.n_batch for r in monitor.history_[logged:]] == [WINDOW] * (2 * len(rest) // WINDOW)
    with pytest.raises(ValueError, match=r"'transform'.*answers \['predict', 'predict_proba'"):
        served.predict(rest, params={"method": "transform"})


def test_bad_batches_are_refused_by_the_validator_or_the_signature(experiment, credit):
    pipe, rest = credit["v1"], credit["rest"].iloc[:20]
    _, info = _log(experiment, pipe, credit)
    served = mlflow.pyfunc.load_model(info.model_uri)
    # A missing optional column and a negative amount pass MLflow's types:
    # the validator refuses them, with the error the pipeline itself raises.
    for bad, check in [(rest.drop(columns=["age"]), "missing_column"), (None, "negative")]:
        if bad is None:
            bad = rest.copy()
            bad.loc[bad.index[0], "credit_amount"] = -500
        with pytest.raises(DataValidationError) as direct:
            pipe.predict(bad)
        with pytest.raises(DataValidationError) as through:
            served.predict(bad)
        assert check in str(through.value)
        assert str(through.value) == str(direct.value)
    # A missing required column and a wrong dtype: MLflow's signature refuses
    # them first, naming the column.
    with pytest.raises(MlflowException, match=r"credit_amount"):
        served.predict(rest.drop(columns=["credit_amount"]))
    wrong = rest.assign(age=rest["age"].astype(str) + " years")
    with pytest.raises(MlflowException, match=r"Incompatible input types for column age"):
        served.predict(wrong)


def test_signature_columns_and_types_follow_the_schema(experiment, credit):
    _, info = _log(experiment, credit["v1"], credit)
    signature = mlflow.models.Model.load(info.model_uri).signature
    X = credit["X"]
    # The oracle reads the training frame's own dtypes, not mlpipe's schema.
    expected = {
        c: {"int64": "long", "float64": "double", "object": "string"}[str(X[c].dtype)]
        for c in X.columns
    }
    got = {spec.name: spec.type.name for spec in signature.inputs.inputs}
    assert list(got) == list(X.columns)
    assert got == expected
    assert signature.inputs.required_input_names() == ["credit_amount"]
    assert [s.to_dict() for s in signature.outputs.inputs] == [
        {
            "type": "tensor",
            "tensor-spec": {"dtype": str(credit["v1"].predict(X).dtype), "shape": (-1,)},
        }
    ]
    assert signature.params.to_dict() == [
        {"name": "method", "type": "string", "default": "predict", "shape": None}
    ]


def test_artifacts_hold_the_model_its_manifest_schema_and_reference(experiment, credit, tmp_path):
    pipe, X = credit["v1"], credit["X"]
    _, info = _log(experiment, pipe, credit)
    skops = download_model(info.model_uri, tmp_path / "download")
    model_dir = tmp_path / "download"
    config = mlflow.models.Model.load(str(model_dir)).flavors["python_function"]
    paths = {key: model_dir / entry["path"] for key, entry in config["artifacts"].items()}
    assert set(paths) == {
        "model",
        "manifest",
        "schema-validate",
        "drift-reference-monitor",
    }
    assert all(p.is_file() for p in paths.values())
    assert skops == str(paths["model"])
    assert not list(model_dir.rglob("*.pkl"))  # built from code: nothing pickled
    manifest = json.loads(paths["manifest"].read_text())
    assert manifest == mlpipe.read_manifest(skops)
    direct = mlpipe.save(pipe, tmp_path / "direct.skops", X=X, y=credit["y"])
    assert manifest["training_data"] == direct["training_data"]
    assert manifest["training_data"]["n_rows"] == len(X)
    schema = Schema.from_dict(json.loads(paths["schema-validate"].read_text()))
    assert schema.to_dict() == pipe.named_steps["validate"].schema_.to_dict()
    drift = json.loads(paths["drift-reference-monitor"].read_text())
    reference = drift["reference"]
    assert (drift["detector"], reference["n_rows"]) == ("DriftDetector", len(X))
    # The monitor sees the imputer's output; the oracle recomputes it.
    seen = pipe.named_steps["impute"].transform(X)
    for row, column in zip(reference["ks_sorted"], reference["ks_columns"], strict=True):
        np.testing.assert_array_equal(row, np.sort(seen[column].to_numpy(dtype=float)))
    for column, categories in reference["categories"].items():
        counts = seen[column].value_counts()
        assert reference["category_counts"][column] == [int(counts[c]) for c in categories]


def test_errors_say_what_is_wrong(experiment, credit, tmp_path, monkeypatch):
    unfitted = Pipeline([("validate", SchemaValidator()), ("model", LogisticRegression())])
    with pytest.raises(NotFittedError, match="not fitted: fit it before logging"):
        log_model(unfitted, "model")
    with pytest.raises(TypeError, match="has no predict method"):
        save_model(SchemaValidator().fit(credit["X"]), tmp_path / "validator")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="is not an MLflow model"):
        download_model(str(tmp_path / "empty"))
    # An MLflow model that mlpipe did not log (here scikit-learn's flavor).
    plain = LogisticRegression().fit([[0], [1]], [0, 1])
    # pip_requirements given: MLflow infers none (by loading the model in a subprocess).
    mlflow.sklearn.save_model(plain, tmp_path / "plain", pip_requirements=[])
    with pytest.raises(ValueError, match=r"flavors \[.*'sklearn'\], not one logged by mlpipe"):
        load_model(str(tmp_path / "plain"))
    monkeypatch.setitem(sys.modules, "mlflow", None)
    with pytest.raises(MissingExtraError, match=r'pip install "mlpipe\[mlflow\]"'):
        log_model(credit["v1"], "model")


def test_mlpipe_imports_without_mlflow():
    code = (
        "import sys; sys.modules['mlflow'] = None\n"
        "import mlpipe, mlpipe.mlflow\n"
        "try:\n"
        "    mlpipe.mlflow.GuardedPyfunc\n"
        "except ImportError as e:\n"
        "    print(e)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert 'pip install "mlpipe[mlflow]"' in result.stdout


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _http(url, body=None, timeout=10):
    # Straight to 127.0.0.1: no proxy from the environment.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with opener.open(request, timeout=timeout) as response:
        return response.status, response.read()


@pytest.mark.slow
def test_mlflow_models_serve_answers_on_localhost(experiment, credit, tmp_path):
    pipe, rows = credit["v1"], credit["rest"].iloc[:5]
    _log(experiment, pipe, credit, registered_model_name="credit")
    port = _free_port()
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": mlflow.get_tracking_uri(),
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "DO_NOT_TRACK": "true",
    }
    command = [sys.executable, "-m", "mlflow", "models", "serve", "-m", "models:/credit/1"]
    command += ["--env-manager", "local", "-h", "127.0.0.1", "-p", str(port), "-w", "1"]
    log = (tmp_path / "serve.log").open("w")
    proc = subprocess.Popen(
        command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, (tmp_path / "serve.log").read_text()[-3000:]
            try:
                if _http(url + "/ping", timeout=2)[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "no /ping answer within 120 s"
            time.sleep(0.5)
        split = json.loads(rows.to_json(orient="split", index=False))
        status, body = _http(url + "/invocations", {"dataframe_split": split}, timeout=60)
        assert status == 200
        assert json.loads(body)["predictions"] == pipe.predict(rows).tolist()
        bad = rows.copy()
        bad.loc[bad.index[0], "credit_amount"] = -500
        split = json.loads(bad.to_json(orient="split", index=False))
        with pytest.raises(urllib.error.HTTPError) as refused:
            _http(url + "/invocations", {"dataframe_split": split}, timeout=60)
        assert refused.value.code >= 400
        assert "negative" in refused.value.read().decode()
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        log.close()


def test_mlpipe_monitor_takes_a_registered_version_or_alias(experiment, credit, tmp_path):
    import subprocess
    import sys

    from mlpipe.monitor import MonitoringLoop, RunStore

    _log(experiment, credit["v1"], credit, registered_model_name="credit")
    _log(experiment, credit["v2"], credit, registered_model_name="credit")
    mlflow.MlflowClient().set_registered_model_alias("credit", "champion", 2)
    batches = tmp_path / "batches"
    batches.mkdir()
    credit["rest"].iloc[:100].to_csv(batches / "b1.csv", index=False)
    credit["rest"].iloc[100:].to_csv(batches / "b2.csv", index=False)
    store = tmp_path / "monitor.db"
    results = MonitoringLoop("models:/credit/1", store).run([batches])
    assert results["status"].tolist() == ["ok", "ok"]
    # a batch is done once per store: the champion gets a store of its own
    champion = tmp_path / "champion.db"
    env = {**os.environ, "MLFLOW_TRACKING_URI": mlflow.get_tracking_uri()}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "mlpipe",
            "monitor",
            "models:/credit@champion",
            str(batches),
            "--store",
            str(champion),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    for path, version, pipe in ((store, "1", credit["v1"]), (champion, "champion", credit["v2"])):
        with RunStore(path, read_only=True) as runs:
            models = runs.models()
            assert models[["name", "version"]].values.tolist() == [["credit", version]]
            assert len(runs.runs(kind="predictions")) == 2
            rates = runs.predictions().query("statistic == 'rate' and window == 1")
        # the recorded class rates are those of the in-memory version
        got = rates.set_index("label")["value"]
        expected = pd.Series(pipe.predict(credit["rest"].iloc[:100])).value_counts(normalize=True)
        assert len(got) == len(expected)
        for label, share in expected.items():
            assert got[str(label)] == pytest.approx(share)
