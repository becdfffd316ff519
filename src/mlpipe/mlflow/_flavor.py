"""A guarded pipeline as an MLflow model: saved, logged, registered, loaded back.

The model is MLflow's ``python_function`` flavor, built from code (a file
logged with it that MLflow runs to make a
:class:`~mlpipe.mlflow.GuardedPyfunc`), so nothing is pickled: the pipeline
itself is the skops file written by :func:`mlpipe.save`, an artifact of the
model beside its manifest, the schema of every SchemaValidator and the
reference of every drift detector, as JSON.
"""

import datetime
import json
import os
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError

import mlpipe
from mlpipe._persistence import _walk
from mlpipe.drift import DriftReference
from mlpipe.utils._fingerprint import json_label
from mlpipe.utils._monitoring import suspended
from mlpipe.utils._optional import import_optional
from mlpipe.utils._sklearn_compat import check_is_fitted, validate_params
from mlpipe.validation import Schema

# What marks an MLflow model as mlpipe's: the ``mlpipe`` entry of its metadata.
FORMAT = "mlpipe-mlflow"
FORMAT_VERSION = 1
MANIFEST_ARTIFACT = "manifest"
CODE_FILE = "mlpipe_guarded_pyfunc.py"
_CODE = '''"""Written by mlpipe.mlflow.log_model: MLflow runs this file to build the model
(MLflow's models from code), so nothing of it is unpickled."""

from mlflow.models import set_model

from mlpipe.mlflow._pyfunc import GuardedPyfunc

set_model(GuardedPyfunc())
'''
# Rows of X the pipeline predicts on to learn the signature's output type.
_N_SAMPLE = 5


def _mlflow():
    return import_optional("mlflow", extra="mlflow", purpose="mlpipe.mlflow")


# -- the signature ------------------------------------------------------------


def _column_type(col):
    """The MLflow type of a schema column, as requests of a served model give it."""
    if col.kind == "numeric":
        # Not "double" for a nullable integer column, though a gap makes it
        # float64: MLflow refuses int64 values for "double" (a lossy cast).
        return "long" if col.is_integer else "double"
    if col.kind == "boolean":
        return "boolean"
    if col.kind == "datetime":
        return "datetime"
    return "string"  # categorical, object, text


def _signature_inputs(schema):
    """MLflow's input schema of a learned or declared :class:`~mlpipe.validation.Schema`.

    One column per schema column, in order: integer -> ``long``, float ->
    ``double``, boolean -> ``boolean``, datetime -> ``datetime``, categorical,
    object and text -> ``string``; a nullable column is not required.
    ``None`` when a column label is not a string (MLflow names columns by
    strings).
    """
    from mlflow.types import ColSpec
    from mlflow.types import Schema as MlflowSchema

    if not all(isinstance(c.name, str) for c in schema.columns):
        return None
    return MlflowSchema(
        [ColSpec(_column_type(c), c.name, required=not c.nullable) for c in schema.columns]
    )


def _input_schema(estimator):
    """The schema of the pipeline's input: that of its first SchemaValidator
    when it names exactly the columns the pipeline was fitted on."""
    names = getattr(estimator, "feature_names_in_", None)
    for _, est in _walk(estimator):
        schema = getattr(est, "schema_", None)
        if isinstance(schema, Schema):
            if names is None or list(schema.names) == list(names):
                return schema
            return None
    return None


def _signature(estimator, loaded, sample):
    _mlflow()
    from mlflow.models import ModelSignature, infer_signature
    from mlflow.types import ParamSchema, ParamSpec

    schema = _input_schema(estimator)
    if schema is None and isinstance(sample, pd.DataFrame):
        schema = Schema.infer(sample)
    inputs = None if schema is None else _signature_inputs(schema)
    if inputs is None:
        return None
    outputs = None
    if sample is not None:
        with suspended(), warnings.catch_warnings():
            # A trial run on a copy: its validation reports are not news.
            warnings.simplefilter("ignore")
            outputs = infer_signature(None, loaded.predict(sample)).outputs
    return ModelSignature(
        inputs=inputs,
        outputs=outputs,
        params=ParamSchema([ParamSpec("method", "string", "predict")]),
    )


# -- the artifacts --------------------------------------------------------------


def _step_name(path):
    return ".".join(path) if path else "model"


def _json_array(values):
    array = np.asarray(values)
    if array.dtype.kind == "f":
        return [_json_array(v) for v in array] if array.ndim > 1 else _floats(array)
    return array.tolist()


def _float(v):
    """A float as JSON has it: NaN (a missing value) as ``null``, an infinite
    value as the string ``"Infinity"`` or ``"-Infinity"`` (strict JSON has
    no number for it; ``float()`` and JavaScript's ``Number()`` read it)."""
    v = float(v)
    if np.isnan(v):
        return None
    if np.isinf(v):
        return "Infinity" if v > 0 else "-Infinity"
    return v


def _floats(array):
    return [_float(v) for v in array]


def _json_value(value):
    if isinstance(value, np.ndarray):
        return _json_array(value)
    if isinstance(value, float | np.floating):
        return _float(value)
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(json_label(k)): _json_value(v) for k, v in value.items()}
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)  # a Timestamp category


def _sketch_to_dict(sketch):
    """A :class:`~mlpipe.drift._sketch.QuantileSketch` as JSON-ready objects:
    its whole state, from which its ECDF (``points()``) follows exactly.

    Level ``h`` holds values of weight ``weight = 2**h``; the estimated count
    of values ``<= x`` is the total weight of the level values ``<= x`` plus
    ``bias``, clipped to ``[0, n]``, and ``n`` from ``maximum`` on (0 below
    ``minimum``). It is within ``error_bound`` values of the true count, so
    the ECDF within ``rank_error = error_bound / n``: the bound on the KS
    statistic that ``DriftReference.ks_error_bounds`` states.
    """
    return {
        "k": int(sketch.k),
        "n": int(sketch.n),
        "minimum": _float(sketch.minimum),
        "maximum": _float(sketch.maximum),
        "bias": float(sketch.bias),
        "error_bound": float(sketch.error_bound),
        "rank_error": float(sketch.rank_error),
        "parity": [int(p) for p in sketch.parity],
        "levels": [
            {"weight": float(2.0**h), "values": _floats(level)}
            for h, level in enumerate(sketch.levels)
        ],
    }


def _reference_to_dict(reference):
    """A :class:`~mlpipe.drift.DriftReference` as JSON-ready objects.

    The reference is what a detector keeps of its training data, a summary
    rather than rows: each KS column's values sorted (missing last, as
    ``null``) and 201 quantiles, PSI bin edges and counts, and each
    categorical column's categories and counts. The sampled index of the
    sorted values (``ks_index``) is left out: it is a subset of them.

    A reference whose KS columns are sketched (more rows than the detector's
    ``max_reference_rows``) has ``ks_exact`` false, ``ks_sorted`` null and,
    in ``ks_sketches``, one sketch per KS column in the order of
    ``ks_columns`` (see :func:`_sketch_to_dict`); ``ks_error_bounds`` is the
    bound on each column's KS statistic (0.0 while exact). Infinite values
    are the strings ``"Infinity"`` and ``"-Infinity"``.
    """
    sketches = reference.ks_sketches
    out = {
        "columns": [json_label(c) for c in reference.columns],
        "tests": _json_value(reference.tests),
        "kinds": _json_value(reference.kinds),
        "n_rows": int(reference.n_rows),
        "n_missing": _json_value(reference.n_missing),
        "ks_columns": [json_label(c) for c in reference.ks_columns],
        "ks_exact": sketches is None,
        "ks_error_bounds": _json_value(reference.ks_error_bounds),
        "ks_sorted": None if reference.ks_sorted is None else _json_array(reference.ks_sorted),
        "ks_sketches": None if sketches is None else [_sketch_to_dict(s) for s in sketches],
        "ks_counts": None if reference.ks_counts is None else _json_array(reference.ks_counts),
        "ks_quantiles": _json_value(reference.ks_quantiles),
        "psi_numeric": {
            str(json_label(c)): {"inner_edges": _json_array(e), "counts": _json_array(n)}
            for c, (e, n) in reference.psi_numeric.items()
        },
        "categories": _json_value(reference.categories),
        "category_counts": _json_value(reference.category_counts),
    }
    return out


def _references(estimator):
    """``(step name, detector class, DriftReference)`` of every fitted drift
    detector in the pipeline, a DriftMonitor's included."""
    for path, est in _walk(estimator):
        detector = getattr(est, "detector_", est)
        reference = getattr(detector, "reference_", None)
        if isinstance(reference, DriftReference):
            yield _step_name(path), type(detector).__name__, reference


def _write_json(path, data):
    path.write_text(json.dumps(data, indent=2, allow_nan=False, default=str), encoding="utf-8")
    return str(path)


def _type_names(trusted):
    names = []
    for item in trusted or ():
        if not isinstance(item, str | type):
            raise TypeError(
                f"trusted must hold type names (str) or types, got {item!r} of type "
                f"{type(item).__name__}."
            )
        names.append(item if isinstance(item, str) else f"{item.__module__}.{item.__name__}")
    return names


def _default_requirements(manifest):
    mlflow = _mlflow()
    versions = dict(manifest["versions"])
    versions["mlflow"] = mlflow.__version__
    return [f"{name}=={version}" for name, version in sorted(versions.items()) if version]


def _prepare(model, directory, *, X, y, fitted_at, input_example, trusted, pip_requirements):
    """Write the model's files into ``directory``; the keyword arguments of
    ``mlflow.pyfunc.save_model`` / ``log_model`` that log them."""
    _mlflow()
    try:
        check_is_fitted(model)
    except NotFittedError:
        raise NotFittedError(
            f"This {type(model).__name__} is not fitted: fit it before logging it to MLflow "
            "(mlpipe.mlflow saves the fitted pipeline, its schema and drift reference)."
        ) from None
    if not hasattr(model, "predict"):
        raise TypeError(
            f"{type(model).__name__} has no predict method: an MLflow python_function model "
            "answers predict, so log a pipeline that ends in a model (a validator or "
            "monitor alone is saved with mlpipe.save)."
        )
    directory = Path(directory)
    trusted = _type_names(trusted)
    skops = directory / "model.skops"
    mlpipe.save(model, skops, X=X, y=y, fitted_at=fitted_at)
    # A copy: the trial prediction below must not reach the caller's monitors.
    loaded = mlpipe.load(skops, trusted=trusted or None)
    manifest = mlpipe.read_manifest(skops)
    artifacts = {
        "model": str(skops),
        MANIFEST_ARTIFACT: _write_json(directory / "mlpipe-manifest.json", manifest),
    }
    for entry in manifest["schemas"]:
        key = f"schema-{(entry['step'] or 'model').replace('/', '.')}"
        artifacts[key] = _write_json(directory / f"{key}.json", entry["schema"])
    for step, detector, reference in _references(model):
        key = f"drift-reference-{step}"
        artifacts[key] = _write_json(
            directory / f"{key}.json",
            {
                "format": "mlpipe-drift-reference",
                "step": step,
                "detector": detector,
                "reference": _reference_to_dict(reference),
            },
        )
    sample = input_example
    if sample is None and isinstance(X, pd.DataFrame):
        sample = X.iloc[:_N_SAMPLE]
    code = directory / CODE_FILE
    code.write_text(_CODE, encoding="utf-8")
    return {
        "python_model": str(code),
        "artifacts": artifacts,
        "signature": _signature(model, loaded, sample),
        "input_example": input_example,
        "pip_requirements": (
            _default_requirements(manifest) if pip_requirements is None else pip_requirements
        ),
        "model_config": {"trusted": trusted} if trusted else None,
        "metadata": {
            "mlpipe": {
                "format": FORMAT,
                "format_version": FORMAT_VERSION,
                "estimator": manifest["estimator"],
                "artifacts": sorted(artifacts),
            }
        },
    }


_SAVE_CONSTRAINTS = {
    "model": [BaseEstimator],
    "X": ["array-like", None],
    "y": ["array-like", None],
    "fitted_at": [datetime.datetime, None],
    "input_example": [pd.DataFrame, None],
    "trusted": [list, tuple, None],
    "pip_requirements": [list, None],
    "extra_pip_requirements": [list, None],
}


@validate_params(
    {**_SAVE_CONSTRAINTS, "path": [str, os.PathLike]}, prefer_skip_nested_validation=True
)
def save_model(
    model,
    path,
    *,
    X=None,
    y=None,
    fitted_at=None,
    input_example=None,
    trusted=None,
    pip_requirements=None,
    extra_pip_requirements=None,
):
    """Save a fitted pipeline as an MLflow model in a local directory.

    The directory is what :func:`log_model` logs: an MLflow
    ``python_function`` model, built from code (nothing pickled), whose
    artifacts are the skops file of :func:`mlpipe.save`, its manifest, the
    schema of every :class:`~mlpipe.validation.SchemaValidator` and the
    reference of every drift detector as JSON, with a signature from the
    pipeline's schema. ``mlflow models serve -m path`` serves it;
    :func:`load_model` reads the pipeline back.

    Parameters
    ----------
    model : estimator instance
        The fitted pipeline (or any fitted estimator :func:`mlpipe.save`
        can write).

    path : str or os.PathLike
        The directory to create; it must not exist.

    X : DataFrame of shape (n_samples, n_features), default=None
        The training data. Only its fingerprint goes into the manifest (see
        :func:`mlpipe.save`); a few of its rows are predicted on (by a copy
        of the model, with monitoring suspended) to learn the type of the
        signature's output. Its rows are not logged.

    y : array-like of shape (n_samples,), default=None
        The training target, fingerprinted beside ``X``.

    fitted_at : datetime.datetime, default=None
        When the pipeline was fitted, recorded in the manifest.

    input_example : DataFrame, default=None
        A few rows in the form requests take, logged as MLflow's input
        example (MLflow checks that the model answers it). Used instead of
        ``X`` to learn the output type.

    trusted : list of str or type, default=None
        Types to trust beyond mlpipe's and skops' defaults when the model is
        loaded, as for :func:`mlpipe.load`. They are recorded in the model's
        ``model_config``, which the ``python_function`` model reads;
        :func:`load_model` trusts only what its own caller passes.

    pip_requirements : list of str, default=None
        The model's requirements; by default the running versions of mlpipe,
        MLflow and of the packages the manifest records (scikit-learn, numpy,
        scipy, pandas, skops), so MLflow need not infer them by loading the
        model in a subprocess.

    extra_pip_requirements : list of str, default=None
        Requirements added to the default ones.

    Raises
    ------
    NotFittedError
        If the model is not fitted.
    TypeError
        If the model has no ``predict`` method.
    UntrustedTypesError
        If the saved model holds a type that is neither trusted by default
        nor in ``trusted``.

    See Also
    --------
    log_model : The same, logged to the tracking server and registered.
    load_model : The pipeline back from the directory or any model URI.

    Examples
    --------
    >>> import os, tempfile
    >>> import mlflow
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from mlpipe.datasets import load_credit
    >>> from mlpipe.mlflow import load_model, save_model
    >>> from mlpipe.validation import SchemaValidator
    >>> X, y = load_credit(return_X_y=True)
    >>> X = X[["age", "credit_amount", "duration"]]
    >>> pipe = make_pipeline(SchemaValidator(), LogisticRegression()).fit(X, y)
    >>> path = os.path.join(tempfile.mkdtemp(), "credit")
    >>> save_model(pipe, path, X=X, y=y)
    >>> mlflow.models.Model.load(path).signature.inputs.input_names()
    ['age', 'credit_amount', 'duration']
    >>> (load_model(path).predict(X) == pipe.predict(X)).all()
    np.True_
    """
    mlflow = _mlflow()
    with tempfile.TemporaryDirectory() as directory:
        kwargs = _prepare(
            model,
            directory,
            X=X,
            y=y,
            fitted_at=fitted_at,
            input_example=input_example,
            trusted=trusted,
            pip_requirements=pip_requirements,
        )
        mlflow.pyfunc.save_model(
            os.fspath(path), extra_pip_requirements=extra_pip_requirements, **kwargs
        )


@validate_params(
    {**_SAVE_CONSTRAINTS, "name": [str], "registered_model_name": [str, None]},
    prefer_skip_nested_validation=True,
)
def log_model(
    model,
    name,
    *,
    X=None,
    y=None,
    fitted_at=None,
    registered_model_name=None,
    input_example=None,
    trusted=None,
    pip_requirements=None,
    extra_pip_requirements=None,
):
    """Log a fitted pipeline as an MLflow model, and register it if asked.

    The model is MLflow's ``python_function`` flavor, built from code
    (nothing is pickled). Its ``predict`` runs the pipeline itself, so its
    :class:`~mlpipe.validation.SchemaValidator` validates every batch and its
    :class:`~mlpipe.drift.DriftMonitor` monitors it
    (:class:`GuardedPyfunc`); ``params={"method": "predict_proba"}`` asks
    for probabilities. Its artifacts:

    - ``model``: the skops file written by :func:`mlpipe.save` (with the
      training data's fingerprint when ``X`` is given), the model itself;
    - ``manifest``: that file's manifest (:func:`mlpipe.read_manifest`);
    - ``schema-<step>``: the schema of each SchemaValidator
      (:meth:`~mlpipe.validation.Schema.to_dict`);
    - ``drift-reference-<step>``: what each drift detector keeps of its
      training data. That is a summary, not rows: each KS column's values
      sorted (or, past the detector's ``max_reference_rows``, its quantile
      sketch with the bound on the KS statistic), quantiles, PSI bins and
      category counts.

    The signature's inputs come from the schema of the pipeline's first
    SchemaValidator (from ``X`` when it has none): integer -> ``long``,
    float -> ``double``, boolean -> ``boolean``, datetime -> ``datetime``,
    categorical and text -> ``string``; a nullable column is optional. Its
    output is the type of the predictions on a few rows of ``X`` (or
    ``input_example``); its one parameter, ``method``.

    Parameters
    ----------
    model : estimator instance
        The fitted pipeline (or any fitted estimator :func:`mlpipe.save`
        can write).

    name : str
        The model's name in the run (MLflow's ``name``).

    X : DataFrame of shape (n_samples, n_features), default=None
        The training data. Only its fingerprint goes into the manifest (see
        :func:`mlpipe.save`); a few of its rows are predicted on (by a copy
        of the model, with monitoring suspended) to learn the type of the
        signature's output. Its rows are not logged.

    y : array-like of shape (n_samples,), default=None
        The training target, fingerprinted beside ``X``.

    fitted_at : datetime.datetime, default=None
        When the pipeline was fitted, recorded in the manifest.

    registered_model_name : str, default=None
        Register the logged model under this name, as a new version (the
        registered model is created if there is none).

    input_example : DataFrame, default=None
        A few rows in the form requests take, logged as MLflow's input
        example (MLflow checks that the model answers it). Used instead of
        ``X`` to learn the output type.

    trusted : list of str or type, default=None
        Types to trust beyond mlpipe's and skops' defaults when the model is
        loaded, as for :func:`mlpipe.load`. They are recorded in the model's
        ``model_config``, which the ``python_function`` model reads;
        :func:`load_model` trusts only what its own caller passes.

    pip_requirements : list of str, default=None
        The model's requirements; by default the running versions of mlpipe,
        MLflow and of the packages the manifest records (scikit-learn, numpy,
        scipy, pandas, skops), so MLflow need not infer them by loading the
        model in a subprocess.

    extra_pip_requirements : list of str, default=None
        Requirements added to the default ones.

    Returns
    -------
    model_info : mlflow.models.model.ModelInfo
        MLflow's description of the logged model: ``model_uri``,
        ``registered_model_version``, ``signature``, ...

    Raises
    ------
    NotFittedError
        If the model is not fitted.
    TypeError
        If the model has no ``predict`` method.
    UntrustedTypesError
        If the saved model holds a type that is neither trusted by default
        nor in ``trusted``.

    See Also
    --------
    load_model : The pipeline back from ``runs:/``, ``models:/name/version``
        or ``models:/name@alias``.
    download_model : The local path of the skops file of a logged model.
    save_model : The same model in a local directory.

    Notes
    -----
    MLflow checks every batch against the signature before the pipeline sees
    it: a missing required column or a value of the wrong type is refused by
    MLflow (an ``MlflowException`` naming the column), columns the signature
    does not name are dropped, and a ``category`` column is refused (send
    text, as a JSON request does). A missing value in an integer column is
    refused too (pandas holds the column as floats, which MLflow does not
    cast to ``long``), so it never reaches an imputer; train on such a
    column as float to let gaps through (a ``double`` column then takes
    floats). What passes MLflow's types is the validator's to judge: missing
    optional columns, values out of range, unseen categories, missing values
    of the other columns.

    Examples
    --------
    >>> import os, tempfile
    >>> import mlflow
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from mlpipe.datasets import load_credit
    >>> from mlpipe.mlflow import load_model, log_model
    >>> from mlpipe.validation import SchemaValidator
    >>> X, y = load_credit(return_X_y=True)
    >>> X = X[["age", "credit_amount", "duration"]]
    >>> pipe = make_pipeline(SchemaValidator(), LogisticRegression()).fit(X, y)
    >>> store = tempfile.mkdtemp()
    >>> previous = mlflow.get_tracking_uri() if mlflow.is_tracking_uri_set() else None
    >>> mlflow.set_tracking_uri(f"sqlite:///{store}/mlflow.db")
    >>> experiment = mlflow.create_experiment("credit", artifact_location=f"{store}/artifacts")
    >>> with mlflow.start_run(experiment_id=experiment):
    ...     info = log_model(pipe, "model", X=X, y=y, registered_model_name="credit")
    >>> info.registered_model_version
    1
    >>> (load_model("models:/credit/1").predict(X) == pipe.predict(X)).all()
    np.True_
    >>> mlflow.set_tracking_uri(previous)
    """
    mlflow = _mlflow()
    with tempfile.TemporaryDirectory() as directory:
        kwargs = _prepare(
            model,
            directory,
            X=X,
            y=y,
            fitted_at=fitted_at,
            input_example=input_example,
            trusted=trusted,
            pip_requirements=pip_requirements,
        )
        return mlflow.pyfunc.log_model(
            name=name,
            registered_model_name=registered_model_name,
            extra_pip_requirements=extra_pip_requirements,
            **kwargs,
        )


@validate_params(
    {"model_uri": [str, os.PathLike], "dst_path": [str, os.PathLike, None]},
    prefer_skip_nested_validation=True,
)
def download_model(model_uri, dst_path=None):
    """Download a model logged by :func:`log_model`; the path of its skops file.

    The model's files (its MLmodel, the skops file and the JSON artifacts)
    are downloaded, the MLmodel is checked to be one that mlpipe logged, and
    the path of the skops file is returned: what ``mlpipe monitor`` reads
    for a ``models:/`` argument. Nothing is loaded.

    Parameters
    ----------
    model_uri : str or os.PathLike
        Any MLflow model URI: ``runs:/<run_id>/<name>``,
        ``models:/<name>/<version>``, ``models:/<name>@<alias>``,
        ``models:/<model_id>``, or a local directory.

    dst_path : str or os.PathLike, default=None
        Where to download the model's files. None: a new temporary directory,
        or, for a model already on the local file system (a local artifact
        store), the files where they are.

    Returns
    -------
    path : str
        The local path of the skops file, which :func:`mlpipe.load` and
        :func:`mlpipe.read_manifest` read.

    Raises
    ------
    ValueError
        If the URI is not a model logged by mlpipe (not an MLflow model, or
        an MLflow model of another flavor).

    See Also
    --------
    load_model : Load the pipeline itself.

    Examples
    --------
    >>> import os, tempfile
    >>> import mlpipe
    >>> from sklearn.dummy import DummyClassifier
    >>> from sklearn.pipeline import make_pipeline
    >>> from mlpipe.datasets import load_credit
    >>> from mlpipe.mlflow import download_model, save_model
    >>> from mlpipe.validation import SchemaValidator
    >>> X, y = load_credit(return_X_y=True)
    >>> pipe = make_pipeline(SchemaValidator(), DummyClassifier()).fit(X, y)
    >>> path = os.path.join(tempfile.mkdtemp(), "credit")
    >>> save_model(pipe, path, X=X)
    >>> skops = download_model(path)
    >>> os.path.basename(skops), mlpipe.read_manifest(skops)["training_data"]["n_rows"]
    ('model.skops', 1000)
    """
    mlflow = _mlflow()
    from mlflow.models import Model

    uri = os.fspath(model_uri)
    local = Path(
        mlflow.artifacts.download_artifacts(
            artifact_uri=uri, dst_path=None if dst_path is None else os.fspath(dst_path)
        )
    )
    if not (local / "MLmodel").is_file():
        raise ValueError(
            f"{uri!r} is not an MLflow model (it has no MLmodel file); log the pipeline "
            "with mlpipe.mlflow.log_model and pass the model's URI."
        )
    meta = Model.load(str(local))
    info = (meta.metadata or {}).get("mlpipe")
    pyfunc = meta.flavors.get("python_function", {})
    artifacts = pyfunc.get("artifacts") or {}
    if not isinstance(info, dict) or info.get("format") != FORMAT or "model" not in artifacts:
        raise ValueError(
            f"{uri!r} is an MLflow model with flavors {sorted(meta.flavors)}, not one logged "
            "by mlpipe.mlflow.log_model (its MLmodel has no mlpipe metadata); load it with "
            "mlflow.pyfunc.load_model."
        )
    if info.get("format_version", 0) > FORMAT_VERSION:
        raise ValueError(
            f"{uri!r} was logged by a newer mlpipe (format version "
            f"{info['format_version']}; this one reads up to {FORMAT_VERSION}): upgrade mlpipe."
        )
    path = local / artifacts["model"]["path"]
    if not path.is_file():
        raise ValueError(f"{uri!r} is an mlpipe model without its skops file ({path}).")
    return str(path)


@validate_params(
    {
        "model_uri": [str, os.PathLike],
        "dst_path": [str, os.PathLike, None],
        "trusted": [list, tuple, None],
    },
    prefer_skip_nested_validation=True,
)
def load_model(model_uri, *, dst_path=None, trusted=None):
    """Load the fitted pipeline of a model logged by :func:`log_model`.

    The pipeline itself (a scikit-learn object, its monitors' state as it
    was logged), read from the model's skops file by :func:`mlpipe.load`:
    nothing is unpickled and no code of the model runs.

    Parameters
    ----------
    model_uri : str or os.PathLike
        Any MLflow model URI: ``runs:/<run_id>/<name>``,
        ``models:/<name>/<version>``, ``models:/<name>@<alias>``,
        ``models:/<model_id>``, or a local directory.

    dst_path : str or os.PathLike, default=None
        Where to download the model's files; None downloads them to a
        temporary directory removed after loading.

    trusted : list of str or type, default=None
        More types to trust, as for :func:`mlpipe.load`. The ``trusted``
        recorded at logging is not used here: whoever loads decides.

    Returns
    -------
    estimator : estimator instance
        The fitted pipeline.

    Raises
    ------
    ValueError
        If the URI is not a model logged by mlpipe.
    UntrustedTypesError
        If the model holds a type that is not trusted.

    See Also
    --------
    download_model : Only download, and give the skops file's path.
    mlpipe.load : What reads the skops file.

    Examples
    --------
    >>> import os, tempfile
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from mlpipe.datasets import load_credit
    >>> from mlpipe.mlflow import load_model, save_model
    >>> from mlpipe.validation import SchemaValidator
    >>> X, y = load_credit(return_X_y=True)
    >>> X = X[["age", "duration"]]
    >>> pipe = make_pipeline(SchemaValidator(), LogisticRegression()).fit(X, y)
    >>> path = os.path.join(tempfile.mkdtemp(), "credit")
    >>> save_model(pipe, path, X=X)
    >>> loaded = load_model(path)
    >>> type(loaded).__name__, (loaded.predict(X) == pipe.predict(X)).all()
    ('Pipeline', np.True_)
    """
    if dst_path is not None:
        return mlpipe.load(download_model(model_uri, dst_path), trusted=trusted)
    with tempfile.TemporaryDirectory() as directory:
        return mlpipe.load(download_model(model_uri, directory), trusted=trusted)
