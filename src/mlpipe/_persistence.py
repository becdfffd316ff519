"""``mlpipe.save`` / ``mlpipe.load``: a fitted pipeline in a file that loading
cannot turn into code, with a manifest that can be read without loading it.

The file is a skops archive (a zip: ``schema.json`` and numpy arrays, no
pickle) with one more member, ``mlpipe-manifest.json``, that skops ignores.
Loading trusts skops' defaults (scikit-learn's estimators, numpy's and
scipy's types, builtin containers) and mlpipe's own classes, found by parsing
the installed package's source: a type name is mlpipe's when a module of the
installed package defines a class of that name at its top level. Nothing of
the file is imported to decide that, so a crafted name such as
``mlpipe.__main__.X`` or ``mlpipe.drift._ks.os`` is refused, not imported.
"""

import ast
import datetime
import functools
import io
import json
import os
import tempfile
import warnings
import zipfile
import zlib
from pathlib import Path

import pandas as pd
import skops.io as sio
from sklearn.base import BaseEstimator
from sklearn.compose import ColumnTransformer
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import FeatureUnion, Pipeline
from skops.io.exceptions import UNTRUSTED_TYPE_REASONS, UntrustedTypesFoundException

import mlpipe
from mlpipe._show_versions import _get_deps_info
from mlpipe.exceptions import UntrustedTypesError, VersionMismatchWarning
from mlpipe.utils._fingerprint import fingerprint as _fingerprint
from mlpipe.utils._fingerprint import json_label as _json_label
from mlpipe.utils._sklearn_compat import check_is_fitted, validate_params
from mlpipe.validation import Schema

MANIFEST_NAME = "mlpipe-manifest.json"
FORMAT = "mlpipe-model"
FORMAT_VERSION = 1

# Packages whose versions the manifest records; a difference at load warns.
VERSIONED = ("mlpipe", "scikit-learn", "numpy", "scipy", "pandas", "skops")

# Modules of mlpipe whose classes a saved model never holds: the command line,
# the demo and the HTML pages, and this module. Trusting less is the safe
# side: a type left out is refused with its name, never loaded.
_NOT_MODEL_MODULES = frozenset(
    {"mlpipe.__main__", "mlpipe.cli", "mlpipe._demo", "mlpipe._html", "mlpipe._persistence"}
)

# A step's ``store`` may be a pathlib path; loading clears it (_attach_store), and
# building a path object from its parts runs no code of the file.
_PATH_TYPES = ("pathlib.PosixPath", "pathlib.WindowsPath", "pathlib.PurePosixPath")

_CORRUPT = (zipfile.BadZipFile, zlib.error, EOFError, KeyError, json.JSONDecodeError)


@functools.cache
def mlpipe_types():
    """The fully qualified names of the classes mlpipe trusts when loading.

    Every class defined at the top level of a module of the installed mlpipe
    package (found by parsing its source, so no module is imported), except
    those of the command line, demo and HTML modules and of the run store
    (:mod:`mlpipe.monitor`).

    Returns
    -------
    names : tuple of str
        Sorted ``"module.Class"`` names, as skops writes them.
    """
    root = Path(mlpipe.__file__).parent
    names = []
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        module = ".".join(parts)
        # The run store is never part of a model: loading a file must not
        # open a database at a path the file names.
        if module in _NOT_MODEL_MODULES or module.startswith(("mlpipe.monitor", "mlpipe.mlflow")):
            continue
        tree = ast.parse(path.read_bytes(), filename=str(path))
        names += [f"{module}.{n.name}" for n in tree.body if isinstance(n, ast.ClassDef)]
    return tuple(sorted(names))


def _versions():
    out = _get_deps_info(VERSIONED)
    out["mlpipe"] = mlpipe.__version__
    return out


def _qualname(obj):
    cls = obj if isinstance(obj, type) else type(obj)
    return f"{cls.__module__}.{cls.__qualname__}"


def _describe(est):
    """The steps of ``est``: its class and, for a composite, its parts."""
    if est is None or isinstance(est, str):  # "passthrough", "drop"
        return {"class": est}
    out = {"class": _qualname(est)}
    if isinstance(est, Pipeline):
        out["steps"] = [{"name": name, **_describe(step)} for name, step in est.steps]
    elif isinstance(est, ColumnTransformer | FeatureUnion):
        parts = est.transformers if isinstance(est, ColumnTransformer) else est.transformer_list
        out["transformers"] = [{"name": part[0], **_describe(part[1])} for part in parts]
        remainder = getattr(est, "remainder", None)
        if isinstance(est, ColumnTransformer):
            out["remainder"] = _describe(remainder)
    elif isinstance(getattr(est, "estimator", None), BaseEstimator):
        out["estimator"] = _describe(est.estimator)
    return out


def _walk(est, path=()):
    """``(step path, estimator)`` of ``est`` and of every estimator inside it,
    the fitted ones of a ColumnTransformer included."""
    yield path, est
    if isinstance(est, Pipeline):
        children = [(name, step) for name, step in est.steps]
    elif isinstance(est, ColumnTransformer):
        children = [(p[0], p[1]) for p in getattr(est, "transformers_", est.transformers)]
    elif isinstance(est, FeatureUnion):
        children = list(est.transformer_list)
    else:
        children = [
            (attr, getattr(est, attr))
            for attr in ("estimator_", "estimator")
            if isinstance(getattr(est, attr, None), BaseEstimator)
        ][:1]
    for name, child in children:
        if isinstance(child, BaseEstimator):
            yield from _walk(child, (*path, name))


def _training_data(estimator, X, y):
    names = getattr(estimator, "feature_names_in_", None)
    n_features = getattr(estimator, "n_features_in_", None)
    if X is None:
        data = {"n_rows": None, "columns": None, "sha256": None}
        if names is not None:
            data["columns"] = [{"name": _json_label(c), "dtype": None} for c in names]
    else:
        data = _fingerprint(X, "X")
        given = [c["name"] for c in data["columns"]]
        if (
            names is not None
            and isinstance(X, pd.DataFrame)
            and given != list(map(_json_label, names))
        ):
            raise ValueError(
                f"X is not the data the estimator was fitted on: its columns are {given}, "
                f"the estimator's feature_names_in_ are {list(names)}."
            )
        if n_features is not None and len(given) != n_features:
            raise ValueError(
                f"X is not the data the estimator was fitted on: it has {len(given)} "
                f"columns, the estimator was fitted on n_features_in_={n_features}."
            )
    data["n_features"] = None if n_features is None else int(n_features)
    if y is not None:
        target = _fingerprint(y, "y")
        if X is not None and target["n_rows"] != data["n_rows"]:
            raise ValueError(
                f"y has {target['n_rows']} rows and X {data['n_rows']}: they must be the "
                "training data and its target."
            )
        data["target"] = target
    else:
        data["target"] = None
    return data


def _schemas(estimator):
    out = []
    for path, est in _walk(estimator):
        schema = getattr(est, "schema_", None)
        if isinstance(schema, Schema):
            out.append({"step": "/".join(path) or None, "schema": schema.to_dict()})
    return out


def _is_fitted(estimator):
    try:
        check_is_fitted(estimator)
    except (NotFittedError, TypeError):
        return False
    return True


def _manifest(estimator, X, y, fitted_at):
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "estimator": _qualname(estimator),
        "fitted": _is_fitted(estimator),
        "saved_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "fitted_at": None if fitted_at is None else fitted_at.isoformat(),
        "versions": _versions(),
        "training_data": _training_data(estimator, X, y),
        "schemas": _schemas(estimator),
        "steps": _describe(estimator),
    }


@validate_params(
    {
        "estimator": [BaseEstimator],
        "path": [str, os.PathLike],
        "X": ["array-like", None],
        "y": ["array-like", None],
        "fitted_at": [datetime.datetime, None],
    },
    prefer_skip_nested_validation=True,
)
def save(estimator, path, *, X=None, y=None, fitted_at=None):
    """Save a fitted estimator or pipeline to a file that loads without pickle.

    The file is a skops archive (numpy arrays and a JSON description of the
    objects, never a pickle) with a manifest, ``mlpipe-manifest.json``, that
    :func:`read_manifest` reads without loading the model: the versions of
    mlpipe, scikit-learn, numpy, scipy, pandas and skops, a fingerprint of the
    training data, when the model was saved (and fitted, if given), the
    schema of every :class:`~mlpipe.validation.SchemaValidator` in it as JSON,
    and its steps. The file is written to a temporary name beside ``path``
    and renamed, so a reader never sees half a file.

    Parameters
    ----------
    estimator : estimator instance
        What to save: an mlpipe step, a scikit-learn estimator, or a
        ``Pipeline`` of them.

    path : str or os.PathLike
        Where to write; an existing file is replaced. ``.skops`` is the
        conventional extension.

    X : array-like of shape (n_samples, n_features), default=None
        The training data the estimator was fitted on. Only its fingerprint
        is stored (row count, column names and dtypes, a SHA-256 hash of its
        content), never the data. Without it the manifest records only what
        the estimator knows (``feature_names_in_``, ``n_features_in_``).

    y : array-like of shape (n_samples,), default=None
        The training target; its fingerprint is stored beside that of ``X``.

    fitted_at : datetime.datetime, default=None
        When the estimator was fitted, recorded as ``fitted_at``. Estimators
        do not record it themselves; ``saved_at`` is always recorded.

    Returns
    -------
    manifest : dict
        The manifest written into the file.

    Raises
    ------
    ValueError
        If ``X`` (or ``y``) is not shaped like the data the estimator was
        fitted on.
    skops.io.exceptions.UnsupportedTypeException
        If the estimator holds an object skops cannot write.

    See Also
    --------
    load : Load the file back, trusting only known types.
    read_manifest : Read the manifest without loading the model.

    Examples
    --------
    >>> import tempfile, os
    >>> import mlpipe
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from mlpipe.datasets import load_credit
    >>> from mlpipe.validation import SchemaValidator
    >>> X, y = load_credit(return_X_y=True)
    >>> X = X[["age", "credit_amount", "duration"]]
    >>> pipe = make_pipeline(SchemaValidator(), LogisticRegression()).fit(X, y)
    >>> path = os.path.join(tempfile.mkdtemp(), "credit.skops")
    >>> manifest = mlpipe.save(pipe, path, X=X, y=y)
    >>> manifest["training_data"]["n_rows"], [s["name"] for s in manifest["steps"]["steps"]]
    (1000, ['schemavalidator', 'logisticregression'])
    >>> loaded = mlpipe.load(path)
    >>> (loaded.predict(X) == pipe.predict(X)).all()
    np.True_
    """
    manifest = _manifest(estimator, X, y, fitted_at)
    buffer = io.BytesIO(sio.dumps(estimator, compression=zipfile.ZIP_DEFLATED))
    with zipfile.ZipFile(buffer, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(MANIFEST_NAME, json.dumps(manifest, indent=2, default=str))
    path = Path(path)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(buffer.getbuffer())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return manifest


def _open(path):
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"No model file at {str(path)!r}" + (" (it is a directory)." if path.is_dir() else ".")
        )
    try:
        return zipfile.ZipFile(path)
    except zipfile.BadZipFile as err:
        raise ValueError(
            f"{str(path)!r} is not a model file written by mlpipe.save: it is not a zip "
            f"archive, or it is truncated ({err})."
        ) from err


@validate_params({"path": [str, os.PathLike]}, prefer_skip_nested_validation=True)
def read_manifest(path):
    """Read the manifest of a file written by :func:`save`, without loading the model.

    Only the JSON member ``mlpipe-manifest.json`` of the archive is read:
    nothing of the model is built or imported, so an untrusted file can be
    inspected safely.

    Parameters
    ----------
    path : str or os.PathLike
        A file written by :func:`save`.

    Returns
    -------
    manifest : dict
        ``format``, ``format_version``, ``estimator`` (its class), ``fitted``,
        ``saved_at`` and ``fitted_at`` (ISO 8601), ``versions`` (package:
        version at save), ``training_data`` (``n_rows``, ``columns`` with
        their ``name`` and ``dtype``, ``sha256``, ``n_features`` and the same
        for the ``target``), ``schemas`` (the step and
        :meth:`~mlpipe.validation.Schema.to_dict` of each fitted
        SchemaValidator) and ``steps`` (the class of each step, nested).

    Raises
    ------
    FileNotFoundError
        If there is no file at ``path``.
    ValueError
        If the file is not a zip archive, is truncated, or has no valid
        mlpipe manifest; the message names the path.

    See Also
    --------
    save : Write the file and its manifest.
    load : Load the model, trusting only known types.

    Examples
    --------
    >>> import tempfile, os
    >>> import mlpipe
    >>> from mlpipe.datasets import load_credit
    >>> from mlpipe.validation import SchemaValidator
    >>> X, _ = load_credit(return_X_y=True)
    >>> path = os.path.join(tempfile.mkdtemp(), "validator.skops")
    >>> _ = mlpipe.save(SchemaValidator().fit(X), path, X=X)
    >>> manifest = mlpipe.read_manifest(path)
    >>> manifest["estimator"], manifest["training_data"]["n_rows"]
    ('mlpipe.validation._validator.SchemaValidator', 1000)
    >>> [c["name"] for c in manifest["schemas"][0]["schema"]["columns"]][:3]
    ['sex', 'job', 'housing']
    """
    with _open(path) as archive:
        try:
            text = archive.read(MANIFEST_NAME)
        except KeyError:
            raise ValueError(
                f"{str(path)!r} has no {MANIFEST_NAME}: it was not written by mlpipe.save "
                "(a plain skops file loads with skops.io.load)."
            ) from None
        except _CORRUPT as err:
            raise ValueError(f"{str(path)!r} is damaged: {err}.") from err
    try:
        manifest = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"{str(path)!r}: {MANIFEST_NAME} is not valid JSON ({err}).") from err
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ValueError(f"{str(path)!r}: {MANIFEST_NAME} is not an mlpipe model manifest.")
    if not isinstance(manifest.get("format_version"), int) or (
        manifest["format_version"] > FORMAT_VERSION
    ):
        raise ValueError(
            f"{str(path)!r} was written in model format version "
            f"{manifest.get('format_version')!r}; this mlpipe reads versions up to "
            f"{FORMAT_VERSION}. Upgrade mlpipe to load it."
        )
    return manifest


def _type_name(t):
    return t if isinstance(t, str) else f"{t.__module__}.{t.__name__}"


def _check_versions(path, manifest):
    saved = manifest.get("versions") or {}
    running = _versions()
    differ = {
        name: (saved.get(name), running[name])
        for name in VERSIONED
        if name in saved and saved[name] != running[name]
    }
    if differ:
        listed = "; ".join(f"{n} {s} (running {r})" for n, (s, r) in differ.items())
        warnings.warn(
            VersionMismatchWarning(
                f"{str(path)!r} was saved under other versions: {listed}. Its outputs may "
                "differ from those it gave when saved; refit it under the running "
                "versions, or run it under the saved ones.",
                differ,
            ),
            stacklevel=3,
        )


def _attach_store(estimator, path, manifest, store):
    """Tell the recording steps of a loaded model which model they serve (the
    manifest, for their records' model id, and their step's name), and give
    them ``store`` (None clears one the file held)."""
    for steps, est in _walk(estimator):
        if "store" not in est.get_params(deep=False):
            continue
        est._mlpipe_store_context = {
            "manifest": manifest,
            "name": Path(path).stem,
            "step": "/".join(map(str, steps)) or type(est).__name__,
        }
        # a store saved in the file is not kept: the caller names one, or none
        est.set_params(store=store)


@validate_params(
    {"path": [str, os.PathLike], "trusted": [list, tuple, None], "store": [str, os.PathLike, None]},
    prefer_skip_nested_validation=True,
)
def load(path, *, trusted=None, store=None):
    """Load a file written by :func:`save`, refusing any type not trusted.

    Nothing is unpickled. The file's objects are built only if every type it
    names is trusted: skops' defaults (scikit-learn's estimators, numpy's and
    scipy's types, builtin containers), mlpipe's own classes, and
    ``trusted``. Under other package versions than the saved ones it loads
    and warns.

    Parameters
    ----------
    path : str or os.PathLike
        A file written by :func:`save`.

    trusted : list of str or type, default=None
        More types to trust, by their full name as given in the error (for
        instance ``"sklearn.tree._tree.Tree"``, which skops does not trust by
        default) or as the type itself. Review a type before trusting it:
        loading builds it from the file's content.

    store : str or os.PathLike, default=None
        A run store file (:class:`mlpipe.monitor.RunStore`) for the model's
        validators and drift monitors to record every batch in, off the
        request thread (it is set as their ``store``). Their records name the
        model by its manifest, registered in the store on the first record,
        and each step by its path in the pipeline. None records nothing
        (unless ``mlpipe.set_config(store=...)``): a ``store`` a step had
        when it was saved is cleared, so a file never chooses the database a
        loaded model writes to.

    Returns
    -------
    estimator : estimator instance
        The estimator, as it was saved.

    Raises
    ------
    UntrustedTypesError
        If the file names a type that is not trusted; the message and its
        ``types`` attribute name every one of them.
    FileNotFoundError
        If there is no file at ``path``.
    ValueError
        If the file is not a model file written by :func:`save`, is
        truncated or damaged; the message names the path.

    Warns
    -----
    VersionMismatchWarning
        If mlpipe, scikit-learn, numpy, scipy, pandas or skops run at another
        version than the file was saved with; it names each.

    See Also
    --------
    save : Write the file.
    read_manifest : Read what the file holds without loading it.

    Examples
    --------
    >>> import tempfile, os
    >>> import mlpipe
    >>> from mlpipe.datasets import load_credit
    >>> from mlpipe.impute import TypedImputer
    >>> X, _ = load_credit(return_X_y=True, unknown_as_missing=True)
    >>> path = os.path.join(tempfile.mkdtemp(), "imputer.skops")
    >>> _ = mlpipe.save(TypedImputer().fit(X), path, X=X)
    >>> mlpipe.load(path).transform(X).isna().sum().sum()
    np.int64(0)
    """
    for item in trusted or ():
        if not isinstance(item, str | type):
            raise TypeError(
                f"trusted must hold type names (str) or types, got {item!r} of type "
                f"{type(item).__name__}."
            )
    manifest = read_manifest(path)
    _check_versions(path, manifest)
    allowed = [*mlpipe_types(), *_PATH_TYPES, *map(_type_name, trusted or ())]
    try:
        estimator = sio.load(path, trusted=allowed)
    except UntrustedTypesFoundException:
        untrusted = sorted(set(sio.get_untrusted_types(file=path)) - set(allowed))
        notes = "".join(
            f"\n- {UNTRUSTED_TYPE_REASONS[t]}" for t in untrusted if t in UNTRUSTED_TYPE_REASONS
        )
        raise UntrustedTypesError(
            f"{str(path)!r} holds types that are not trusted: {untrusted}. mlpipe trusts "
            "its own classes and skops' defaults (scikit-learn's estimators, numpy's and "
            "scipy's types); review these and pass the ones you trust as "
            f"mlpipe.load(path, trusted=[...]).{notes}",
            untrusted,
        ) from None
    except _CORRUPT as err:
        raise ValueError(f"{str(path)!r} is damaged and cannot be loaded: {err!r}.") from err
    _attach_store(estimator, path, manifest, store)
    return estimator
