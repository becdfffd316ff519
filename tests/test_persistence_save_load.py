"""mlpipe.save / mlpipe.load / mlpipe.read_manifest (issue 16, item 1).

Every public estimator (found by walking the package), fitted on the credit
data, and two whole pipelines are saved here and loaded in one fresh Python
process, where pickle is disabled; their outputs there must be bit-identical
to the originals'. Files naming an untrusted type are refused with its name,
the manifest is read without building the model, other versions warn, and a
missing, foreign, truncated or damaged file is an error naming its path.
"""

import io
import json
import os
import pickle
import subprocess
import sys
import textwrap
import warnings
import zipfile
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy
import sklearn
import skops
import skops.io as sio
from pandas.testing import assert_frame_equal
from sklearn.compose import make_column_selector, make_column_transformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder

import mlpipe
from mlpipe._persistence import MANIFEST_NAME, mlpipe_types
from mlpipe.cli import main
from mlpipe.datasets import load_credit
from mlpipe.drift import DriftMonitor
from mlpipe.exceptions import UntrustedTypesError, VersionMismatchWarning
from mlpipe.impute import TypedImputer
from mlpipe.utils._sklearn_compat import InvalidParameterError
from mlpipe.validation import Schema, SchemaValidator
from tests._fitted import TEXT_COLUMNS, fit, later_batch, outputs
from tests._registry import all_estimators

ROOT = Path(__file__).parents[1]
SRC = Path(mlpipe.__file__).parents[1]
# skops refuses these by default: their node arrays are indexed without bounds
# checks, so a crafted file can crash the process (skops.io.exceptions).
TREE_PREDICTOR = "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor"


def _credit():
    return load_credit(return_X_y=True, unknown_as_missing=True)


def _guarded(model):
    encode = make_column_transformer(
        (OneHotEncoder(handle_unknown="ignore"), TEXT_COLUMNS), remainder="passthrough"
    )
    return make_pipeline(SchemaValidator(), TypedImputer(), DriftMonitor(), encode, model)


def _fitted_pipeline(model=None):
    X, y = _credit()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _guarded(model or LogisticRegression(max_iter=2000)).fit(X, y), X, y


# -- bit-identical outputs in a fresh process ------------------------------------


def _assert_bit_identical(a, b, where):
    if isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), where
        for key in a:
            _assert_bit_identical(a[key], b[key], f"{where}/{key}")
    elif isinstance(a, pd.DataFrame):
        assert_frame_equal(a, b, check_exact=True, obj=where)
        for column in a:
            _assert_bit_identical(a[column].to_numpy(), b[column].to_numpy(), f"{where}[{column}]")
    elif isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray) and a.dtype == b.dtype and a.shape == b.shape, where
        if a.dtype.kind in "biufcmM":
            assert a.tobytes() == b.tobytes(), f"{where}: not bit-identical"
        else:  # object: same values of the same types (NaN is NaN)
            for x, z in zip(a.ravel(), b.ravel(), strict=True):
                assert type(x) is type(z) and (x == z or (x != x and z != z)), where
    elif isinstance(a, float | np.floating):
        assert np.float64(a).tobytes() == np.float64(b).tobytes(), where
    else:
        assert type(a) is type(b) and a == b, where


def test_the_comparison_is_bit_for_bit():
    # what assert_array_equal lets through, the round-trip check does not
    same = np.array([0.0, np.nan])
    _assert_bit_identical({"a": same}, {"a": same.copy()}, "same")
    for left, right in [
        (np.array([0.0]), np.array([-0.0])),
        (np.array([1.0]), np.array([1.0 + 2**-52])),
        (np.array([1], dtype=np.int64), np.array([1], dtype=np.int32)),
        (pd.DataFrame({"p": [0.0]}), pd.DataFrame({"p": [-0.0]})),
        (0.1 + 0.2, 0.3),
    ]:
        with pytest.raises(AssertionError):
            _assert_bit_identical(left, right, "differs")


_FRESH = textwrap.dedent(
    """
    import json, pickle, sys, warnings
    from pathlib import Path

    import mlpipe
    from mlpipe._persistence import _fingerprint
    from mlpipe.datasets import load_credit
    from mlpipe.exceptions import VersionMismatchWarning
    from tests._fitted import later_batch, outputs

    # Unpickling a global raises the "pickle.find_class" audit event (in the C
    # unpickler too): it is refused while a file loads. Numba's cache, which
    # unpickles, runs later, outside.
    LOADING = []

    def _no_unpickling(event, args):
        if event == "pickle.find_class" and LOADING:
            raise AssertionError(f"mlpipe.load unpickled {args}")

    sys.addaudithook(_no_unpickling)
    warnings.simplefilter("error", VersionMismatchWarning)

    folder = Path(sys.argv[1])
    trusted = json.loads(sys.argv[2])
    X, y = load_credit(return_X_y=True, unknown_as_missing=True)
    batch = later_batch(X)
    results = {}
    for path in sorted(folder.glob("*.skops")):
        manifest = mlpipe.read_manifest(path)
        # the data regenerated here is the data the model was trained on
        assert manifest["training_data"]["sha256"] == _fingerprint(X, "X")["sha256"]
        LOADING.append(path)
        try:
            est = mlpipe.load(path, trusted=trusted.get(path.stem))
        finally:
            LOADING.clear()
        result = {"class": f"{type(est).__module__}.{type(est).__qualname__}"}
        result["X"] = outputs(est, X)
        try:
            result["batch"] = outputs(est, batch)
        except ValueError as error:
            result["batch"] = ("refused", type(error).__name__)
        results[path.stem] = result
    (folder / "results.pkl").write_bytes(pickle.dumps(results))
    """
)


@pytest.mark.slow
def test_every_estimator_and_pipeline_round_trips_bit_identical_in_a_fresh_process(tmp_path):
    X, y = _credit()
    models = {name: fit(name, cls, X, y) for name, cls in all_estimators()}
    models["guarded-logistic"] = _fitted_pipeline()[0]
    models["guarded-hist-gradient-boosting"] = _fitted_pipeline(
        HistGradientBoostingClassifier(max_iter=20, random_state=0)
    )[0]
    # Only the HistGradientBoosting model needs a type trusted beyond the
    # defaults (and an AutoML search if it picked a tree): named, by hand.
    trusted = {"guarded-hist-gradient-boosting": [TREE_PREDICTOR]}
    if {"sklearn.tree._tree.Tree", TREE_PREDICTOR} & set(
        sio.get_untrusted_types(data=sio.dumps(models["PipelineSearch"]))
    ):
        trusted["PipelineSearch"] = ["sklearn.tree._tree.Tree", TREE_PREDICTOR]
    batch = later_batch(X)
    expected = {}
    for name, est in models.items():
        mlpipe.save(est, tmp_path / f"{name}.skops", X=X, y=y)
        # the same calls, in the same order, as in the fresh process
        result = {"class": f"{type(est).__module__}.{type(est).__qualname__}"}
        result["X"] = outputs(est, X)
        try:
            result["batch"] = outputs(est, batch)
        except ValueError as error:
            result["batch"] = ("refused", type(error).__name__)
        expected[name] = result
    env = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{ROOT}"}
    run = subprocess.run(
        [sys.executable, "-c", _FRESH, str(tmp_path), json.dumps(trusted)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    got = pickle.loads((tmp_path / "results.pkl").read_bytes())
    assert set(got) == set(expected) and {n for n, _ in all_estimators()} <= set(got)
    for name in expected:
        _assert_bit_identical(expected[name], got[name], name)
    # the pipelines were checked on real outputs, not only on refusals
    assert expected["guarded-logistic"]["batch"] == ("refused", "DataValidationError")
    assert expected["guarded-logistic"]["X"]["predict_proba"].shape == (len(X), 2)


def test_a_tree_model_needs_its_tree_type_trusted_by_name(tmp_path):
    pipe, X, y = _fitted_pipeline(HistGradientBoostingClassifier(max_iter=5, random_state=0))
    path = tmp_path / "hgb.skops"
    mlpipe.save(pipe, path, X=X, y=y)
    with pytest.raises(UntrustedTypesError, match=TREE_PREDICTOR.replace(".", r"\.")) as info:
        mlpipe.load(path)
    assert info.value.types == [TREE_PREDICTOR]
    assert "out-of-range" in str(info.value)  # skops' reason is passed on
    loaded = mlpipe.load(path, trusted=[TREE_PREDICTOR])
    assert loaded.predict_proba(X).tobytes() == pipe.predict_proba(X).tobytes()


# -- untrusted types are refused, by name, before anything is built ----------------


class Payload:
    """A class of the test module: not mlpipe's, not in skops' defaults."""

    def __init__(self, value=1):
        self.value = value


def _saved(tmp_path, est=None, name="model.skops", **kwargs):
    if est is None:
        X, _ = _credit()
        est = TypedImputer().fit(X)
        kwargs.setdefault("X", X)
    path = tmp_path / name
    mlpipe.save(est, path, **kwargs)
    return path


def _rewrite(path, member, edit):
    """Rewrite one member of the archive at ``path`` with ``edit(bytes)``."""
    with zipfile.ZipFile(path) as archive:
        members = {info.filename: archive.read(info) for info in archive.infolist()}
    members[member] = edit(members[member])
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for filename, data in members.items():
            archive.writestr(filename, data)


def _inject(path, attribute, node):
    """Replace the fitted attribute ``attribute`` of the saved object by ``node``."""

    def edit(data):
        schema = json.loads(data)
        schema["content"]["content"][attribute] = node
        return json.dumps(schema).encode()

    _rewrite(path, "schema.json", edit)


CRAFTED = {
    "os.system": {"__class__": "system", "__module__": "os", "__loader__": "FunctionNode"},
    "builtins.eval": {"__class__": "eval", "__module__": "builtins", "__loader__": "TypeNode"},
    "subprocess.Popen": {
        "__class__": "Popen",
        "__module__": "subprocess",
        "__loader__": "ObjectNode",
        "content": {
            "__class__": "dict",
            "__module__": "builtins",
            "__loader__": "DictNode",
            "content": {},
            "key_types": {
                "__class__": "list",
                "__module__": "builtins",
                "__loader__": "ListNode",
                "content": [],
            },
        },
    },
    # Names under mlpipe that are no class of the installed package: a prefix
    # check would trust them; the parse of the source does not (and nothing
    # of them is imported).
    "mlpipe.evil.Payload": {
        "__class__": "Payload",
        "__module__": "mlpipe.evil",
        "__loader__": "ObjectNode",
    },
    "mlpipe.drift._ks.np": {
        "__class__": "np",
        "__module__": "mlpipe.drift._ks",
        "__loader__": "ObjectNode",
    },
    "mlpipe.__main__.main": {
        "__class__": "main",
        "__module__": "mlpipe.__main__",
        "__loader__": "FunctionNode",
    },
}


@pytest.mark.parametrize("name", sorted(CRAFTED))
def test_a_crafted_file_with_an_untrusted_type_is_refused_naming_it(tmp_path, name):
    path = _saved(tmp_path)
    _inject(path, "statistics_", CRAFTED[name])
    before = set(sys.modules)
    with pytest.raises(
        UntrustedTypesError, match=rf"holds types that are not trusted: \['{name}'\]"
    ):
        mlpipe.load(path)
    assert not {"mlpipe.evil", "mlpipe.__main__"} & (set(sys.modules) - before)
    # the manifest of a refused file can still be read, safely
    assert mlpipe.read_manifest(path)["estimator"] == "mlpipe.impute._typed.TypedImputer"


def test_every_untrusted_type_is_named_and_trusted_adds_types(tmp_path):
    X, _ = _credit()
    est = TypedImputer().fit(X)
    est.extra_ = [Payload(3), {"when": Counter(a=1)}]
    path = _saved(tmp_path, est, X=X)
    payload = f"{__name__}.Payload"
    with pytest.raises(UntrustedTypesError) as info:
        mlpipe.load(path)
    assert info.value.types == ["collections.Counter", payload]
    assert str(path) in str(info.value) and "trusted=[" in str(info.value)
    # by name or as the type itself, as skops takes them; one missing still fails
    with pytest.raises(UntrustedTypesError, match=r"\['collections\.Counter'\]"):
        mlpipe.load(path, trusted=[payload])
    loaded = mlpipe.load(path, trusted=(Payload, "collections.Counter"))
    assert loaded.extra_[0].value == 3 and loaded.extra_[1]["when"]["a"] == 1


def test_mlpipe_types_are_the_classes_the_package_defines():
    names = set(mlpipe_types())
    for _, cls in all_estimators():
        assert f"{cls.__module__}.{cls.__qualname__}" in names
    for qualified in ("mlpipe.validation._schema.Schema", "mlpipe.drift._report.DriftReport"):
        assert qualified in names
    assert all(n.startswith("mlpipe.") for n in names)
    # not re-exports, not functions, not the command line
    assert "mlpipe.validation.SchemaValidator" not in names
    assert "mlpipe.datasets._credit.load_credit" not in names
    assert not any(n.startswith(("mlpipe.cli.", "mlpipe._persistence.")) for n in names)
    # nor the run store: loading a model must not open a database it names
    assert not any(n.startswith("mlpipe.monitor.") for n in names)


def test_load_refuses_trusted_true_and_items_that_are_not_types(tmp_path):
    path = _saved(tmp_path)
    with pytest.raises(InvalidParameterError, match="'trusted' parameter of load"):
        mlpipe.load(path, trusted=True)
    with pytest.raises(TypeError, match="trusted must hold type names"):
        mlpipe.load(path, trusted=[3])


# -- the manifest -----------------------------------------------------------------


def test_manifest_is_read_without_loading_and_describes_the_model(tmp_path, monkeypatch):
    pipe, X, y = _fitted_pipeline()
    fitted_at = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    written = mlpipe.save(pipe, tmp_path / "pipe.skops", X=X, y=y, fitted_at=fitted_at)

    def refuse(*args, **kwargs):
        raise AssertionError("read_manifest loaded the model")

    monkeypatch.setattr(sio, "load", refuse)
    monkeypatch.setattr(sio, "loads", refuse)
    manifest = mlpipe.read_manifest(tmp_path / "pipe.skops")
    assert manifest == json.loads(json.dumps(written))
    # a plain zip member, readable by any tool
    with zipfile.ZipFile(tmp_path / "pipe.skops") as archive:
        assert json.loads(archive.read(MANIFEST_NAME)) == manifest

    assert manifest["versions"] == {
        "mlpipe": mlpipe.__version__,
        "scikit-learn": sklearn.__version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "pandas": pd.__version__,
        "skops": skops.__version__,
    }
    assert manifest["estimator"] == "sklearn.pipeline.Pipeline" and manifest["fitted"] is True
    assert manifest["fitted_at"] == "2026-12-01T09:30:00+00:00"
    datetime.fromisoformat(manifest["saved_at"])
    data = manifest["training_data"]
    assert data["n_rows"] == 1000 and data["n_features"] == 9
    assert data["columns"] == [{"name": c, "dtype": str(t)} for c, t in X.dtypes.items()]
    assert data["target"]["n_rows"] == 1000
    assert data["target"]["columns"] == [{"name": "risk", "dtype": str(y.dtype)}]
    steps = manifest["steps"]["steps"]
    assert [s["name"] for s in steps] == list(pipe.named_steps)
    assert [s["class"] for s in steps] == [
        f"{type(s).__module__}.{type(s).__qualname__}" for s in pipe.named_steps.values()
    ]
    assert [t["name"] for t in steps[3]["transformers"]] == ["onehotencoder"]
    ((entry,),) = [manifest["schemas"]]
    assert entry["step"] == "schemavalidator"
    assert Schema.from_dict(entry["schema"]) == pipe.named_steps["schemavalidator"].schema_


def test_the_fingerprint_hash_changes_with_the_data_and_only_with_it(tmp_path):
    X, _ = _credit()
    est = TypedImputer().fit(X)

    def sha(frame):
        return mlpipe.save(est, tmp_path / "f.skops", X=frame)["training_data"]["sha256"]

    reference = sha(X)
    assert sha(X.copy()) == reference
    assert sha(X.set_axis(X.index + 7)) == reference  # row labels are not content
    one_value = X.copy()
    one_value.loc[one_value.index[500], "age"] += 1
    reordered = X.iloc[::-1]
    as_float = X.astype({"age": "float64"})
    assert len({reference, sha(one_value), sha(reordered), sha(as_float)}) == 4


def test_without_x_the_manifest_keeps_what_the_estimator_knows(tmp_path):
    X, _ = _credit()
    manifest = mlpipe.save(TypedImputer().fit(X), tmp_path / "f.skops")
    data = manifest["training_data"]
    assert data["n_rows"] is None and data["sha256"] is None and data["target"] is None
    assert [c["name"] for c in data["columns"]] == list(X.columns)
    assert manifest["schemas"] == []


def test_save_refuses_data_that_is_not_the_training_data(tmp_path):
    X, y = _credit()
    est = TypedImputer().fit(X)
    with pytest.raises(ValueError, match=r"X is not the data the estimator was fitted on.*age"):
        mlpipe.save(est, tmp_path / "f.skops", X=X.drop(columns="age"))
    with pytest.raises(ValueError, match="y has 10 rows and X 1000"):
        mlpipe.save(est, tmp_path / "f.skops", X=X, y=y.iloc[:10])
    assert not list(tmp_path.iterdir())  # nothing written


def test_save_replaces_a_file_whole_and_leaves_no_temporary(tmp_path):
    path = _saved(tmp_path)
    path.write_bytes(b"an older model")
    _saved(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["model.skops"]
    assert mlpipe.read_manifest(path)["format"] == "mlpipe-model"


# -- other versions warn ------------------------------------------------------------


def _set_versions(path, **versions):
    def edit(data):
        manifest = json.loads(data)
        manifest["versions"].update(versions)
        return json.dumps(manifest).encode()

    _rewrite(path, MANIFEST_NAME, edit)


def test_loading_under_other_versions_warns_naming_each(tmp_path):
    path = _saved(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mlpipe.load(path)  # the same versions: silent
    _set_versions(path, **{"scikit-learn": "1.0.0", "numpy": "1.26.4"})
    with pytest.warns(VersionMismatchWarning) as caught:
        loaded = mlpipe.load(path)
    (warning,) = [w.message for w in caught if isinstance(w.message, VersionMismatchWarning)]
    text = str(warning)
    assert f"scikit-learn 1.0.0 (running {sklearn.__version__})" in text
    assert f"numpy 1.26.4 (running {np.__version__})" in text
    assert str(path) in text and "pandas" not in text
    assert warning.versions == {
        "scikit-learn": ("1.0.0", sklearn.__version__),
        "numpy": ("1.26.4", np.__version__),
    }
    assert isinstance(loaded, TypedImputer)  # it still loads


# -- bad files: an error that names the path -----------------------------------------


def _truncated(path):
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])


def _text(path):
    path.write_text("age,credit_amount\n30,1000\n")


def _plain_skops(path):
    X, _ = _credit()
    sio.dump(TypedImputer().fit(X), path)


def _damaged_member(path):
    # flip bytes inside the compressed schema, keeping the archive's layout
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        info = archive.getinfo("schema.json")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for i in range(start + 10, start + 40):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))


def _bad_manifest(path):
    _rewrite(path, MANIFEST_NAME, lambda data: b"{not json")


def _future_format(path):
    _rewrite(
        path, MANIFEST_NAME, lambda d: json.dumps({**json.loads(d), "format_version": 99}).encode()
    )


BAD_FILES = {
    "truncated": (_truncated, ValueError, "not a zip archive, or it is truncated"),
    "text": (_text, ValueError, "not a zip archive"),
    "plain-skops": (_plain_skops, ValueError, "not written by mlpipe.save"),
    "damaged": (_damaged_member, ValueError, "damaged"),
    "bad-manifest": (_bad_manifest, ValueError, "is not valid JSON"),
    "future-format": (_future_format, ValueError, "format version 99"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_a_bad_file_is_an_error_naming_its_path(tmp_path, case):
    spoil, error, message = BAD_FILES[case]
    path = _saved(tmp_path)
    spoil(path)
    functions = [mlpipe.load] + ([] if case == "damaged" else [mlpipe.read_manifest])
    for function in functions:
        with pytest.raises(error, match=message) as info:
            function(path)
        assert str(path) in str(info.value)


@pytest.mark.parametrize("function", ["load", "read_manifest"])
def test_a_missing_file_or_a_folder_is_an_error_naming_it(tmp_path, function):
    function = getattr(mlpipe, function)
    with pytest.raises(FileNotFoundError, match=r"No model file at .*nowhere\.skops"):
        function(tmp_path / "nowhere.skops")
    with pytest.raises(FileNotFoundError, match="it is a directory"):
        function(tmp_path)


def test_import_mlpipe_does_not_import_skops():
    code = (
        "import sys, mlpipe; print('skops' in sys.modules); "
        "mlpipe.save; print('skops' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True"]
    assert {"save", "load", "read_manifest"} <= set(dir(mlpipe))
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        mlpipe.nothing


def test_column_selectors_are_not_trusted_by_default(tmp_path):
    # skops' default set holds scikit-learn's estimators, not every class of
    # scikit-learn: a make_column_selector is refused unless trusted.
    X, y = _credit()
    encode = make_column_transformer(
        (OneHotEncoder(handle_unknown="ignore"), make_column_selector(dtype_exclude="number")),
        remainder="passthrough",
    )
    pipe = make_pipeline(TypedImputer(), encode, LogisticRegression(max_iter=2000)).fit(X, y)
    path = _saved(tmp_path, pipe, X=X)
    selector = "sklearn.compose._column_transformer.make_column_selector"
    with pytest.raises(UntrustedTypesError, match=selector):
        mlpipe.load(path)
    assert mlpipe.load(path, trusted=[selector]).predict(X).tobytes() == pipe.predict(X).tobytes()


def test_mlpipe_inspect_prints_the_manifest_and_names_a_bad_file(tmp_path, capsys):
    path = _saved(tmp_path)
    assert main(["inspect", str(path)]) == 0
    assert json.loads(capsys.readouterr().out) == mlpipe.read_manifest(path)
    _text(path)
    assert main(["inspect", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("mlpipe inspect: error: ") and str(path) in err
    assert main(["inspect", str(tmp_path / "nowhere.skops")]) == 2
    assert "No model file at" in capsys.readouterr().err
