"""RunStore: an embedded, append-only SQLite record of every guarded event.

One record per event (a validated batch, a drift window, a prediction batch,
realized performance, a staleness check, an alarm, a retraining run), each
linked to the model that served it and, by fingerprint, to the data it read.
Writing a record is one transaction; the file is in WAL mode with a busy
timeout, so several processes serving the same model append to one file
without losing a record. The records are written by the methods of
:mod:`mlpipe.monitor._recording`, read by those of :mod:`mlpipe.monitor._queries` and
:mod:`mlpipe.monitor._lineage`.
"""

import contextlib
import datetime
import hashlib
import io
import json
import os
import socket
import sqlite3
import threading
import time
import uuid
from collections.abc import Mapping
from numbers import Integral, Real
from pathlib import Path

import mlpipe
from mlpipe.monitor import _schema
from mlpipe.monitor._lineage import LineageMixin
from mlpipe.monitor._queries import QueryMixin
from mlpipe.monitor._recording import STATUSES, RecordingMixin
from mlpipe.monitor._time import now_text, utc_text
from mlpipe.monitor._timeline import TimelineMixin
from mlpipe.utils._fingerprint import fingerprint as _fingerprint
from mlpipe.utils._sklearn_compat import validate_params

_INSERT = {
    "runs": 18,
    "io": 4,
    "validation_failures": 12,
    "column_stats": 5,
    "drift_tests": 14,
    "prediction_stats": 7,
    "group_rates": 7,
    "metrics": 3,
    "staleness_rules": 6,
    "scored_rows": 6,
    "performance_estimates": 12,
}
_SQL = {t: f"INSERT INTO {t} VALUES ({', '.join('?' * n)})" for t, n in _INSERT.items()}
_HOST = socket.gethostname()
_DATA_SQL = "INSERT OR IGNORE INTO data VALUES (?, ?, ?, ?, ?)"

_POINTER = ["array-like", Mapping, None]


def _seconds(duration):
    if duration is None:
        return None
    if isinstance(duration, datetime.timedelta):
        return duration.total_seconds()
    return float(duration)


@validate_params({"X": ["array-like"]}, prefer_skip_nested_validation=True)
def fingerprint(X):
    """Return the fingerprint of a table: its rows, columns and content hash.

    The same fingerprint :func:`mlpipe.save` records of the training data, so
    a batch in the store and a model's training data compare by one hash.
    Records take ``X`` as data (hashed then) or as this dict, to hash a batch
    once for several records.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features) or (n_samples,)
        The table: a DataFrame, a Series or a 1- or 2-dimensional array.

    Returns
    -------
    fingerprint : dict
        ``n_rows``, ``columns`` (a list of ``{"name", "dtype"}``), ``sha256``
        (of the column names and dtypes and of
        ``pandas.util.hash_pandas_object(X, index=False)``: the index is not
        part of the content) and ``hash`` (that description).

    See Also
    --------
    RunStore : Records runs with the fingerprints of what they read.
    mlpipe.read_manifest : The training data's fingerprint of a saved model.

    Examples
    --------
    >>> import pandas as pd
    >>> from mlpipe.monitor import fingerprint
    >>> X = pd.DataFrame({"age": [25, 40], "city": ["a", "b"]})
    >>> fp = fingerprint(X)
    >>> fp["n_rows"], [c["name"] for c in fp["columns"]]
    (2, ['age', 'city'])
    >>> fp["sha256"] == fingerprint(X.set_axis([7, 8]))["sha256"]
    True
    """
    return _fingerprint(X, "X")


@validate_params({"path": [str, os.PathLike]}, prefer_skip_nested_validation=True)
def batch_key(path):
    """Return the key of a batch file: its name and the SHA-256 of its bytes.

    A monitoring loop asks :meth:`RunStore.has_batch` with it and skips what
    the store already holds: the same file under the same name is done; a
    file of that name with other content is a new batch.

    Parameters
    ----------
    path : str or os.PathLike
        The batch file (CSV, Parquet, anything).

    Returns
    -------
    key : str
        ``"<file name>:<sha256 of the file's bytes>"``.

    Raises
    ------
    FileNotFoundError
        If there is no file at ``path``.

    See Also
    --------
    RunStore.batch : Record a batch's runs at once, under its key.
    RunStore.has_batch : Whether a key is recorded.

    Examples
    --------
    >>> import os, tempfile
    >>> from mlpipe.monitor import batch_key
    >>> path = os.path.join(tempfile.mkdtemp(), "batch-001.csv")
    >>> with open(path, "w") as f:
    ...     _ = f.write("age\\n25\\n")
    >>> batch_key(path)[:14]
    'batch-001.csv:'
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No batch file at {str(path)!r}.")
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return f"{path.name}:{digest.hexdigest()}"


def _reopen(path, read_only, timeout):
    return RunStore(path, read_only=read_only, timeout=timeout)


def _manifest_id(manifest):
    text = json.dumps(manifest, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


class RunStore(RecordingMixin, QueryMixin, LineageMixin, TimelineMixin):
    """An append-only record of every guarded event, in one SQLite file.

    Each record is a *run* (MLTRACE's "component run"): which model (the
    SHA-256 of its :func:`mlpipe.save` manifest), which step, when (UTC), how
    long, the fingerprint of the data it read (rows, columns, content hash:
    MLTRACE's "IO pointer"), its parent run, and what it found: the failures
    of a :class:`~mlpipe.validation.ValidationReport`, the tests of a
    :class:`~mlpipe.drift.DriftReport`, the class rates or quantiles of a
    prediction batch and its selection rate per group, realized performance,
    a staleness verdict, an alarm or a retraining run. Records are never
    changed or deleted (triggers refuse it); each is written in one
    transaction, so two processes serving the same model can share a file.

    Parameters
    ----------
    path : str or os.PathLike
        The store's file, created (with its directory's permission) if it
        does not exist; ``":memory:"`` keeps a store in memory, for one
        process. A file of an older schema is migrated on open; one of a
        newer schema is refused.

    read_only : bool, default=False
        Open for queries only: the file must exist, nothing is migrated and
        every ``record_*`` method raises ``io.UnsupportedOperation``.

    timeout : float, default=30.0
        Seconds a write waits for another process's transaction to end before
        it fails with a ``TimeoutError`` (SQLite's busy timeout).

    Attributes
    ----------
    path : str
        The file, as given.

    read_only : bool
        Whether the store was opened read-only.

    schema_version : int
        The schema version of the file (after migration).

    See Also
    --------
    fingerprint : The fingerprint of a table, as records store it.
    batch_key : The key under which a batch file is recorded once.
    mlpipe.save : Writes the manifest a model is registered by.

    Notes
    -----
    The file is in SQLite's WAL mode with ``synchronous=NORMAL``: readers
    never block writers, and a committed record survives a crash of the
    process (a power loss may drop the last records; SQLite's own trade-off
    for WAL). Times are stored as UTC ISO 8601 text with microseconds and
    read back as ``datetime64[us, UTC]``; a naive time given to the store is
    taken as UTC. The schema, table by table, is in the module
    ``mlpipe.monitor._schema``.

    Examples
    --------
    >>> import os, tempfile
    >>> import mlpipe
    >>> from mlpipe.datasets import load_credit, make_credit_batch
    >>> from mlpipe.drift import DriftDetector
    >>> from mlpipe.monitor import RunStore
    >>> X, y = load_credit(return_X_y=True)
    >>> folder = tempfile.mkdtemp()
    >>> detector = DriftDetector().fit(X)
    >>> manifest = mlpipe.save(detector, os.path.join(folder, "drift.skops"), X=X)
    >>> store = RunStore(os.path.join(folder, "monitor.db"))
    >>> model = store.add_model(manifest, name="credit")
    >>> batch = make_credit_batch().X
    >>> run = store.record_drift(detector.detect(batch), model=model, X=batch, reference=X)
    >>> store.runs()[["kind", "status", "n_rows"]]
        kind status  n_rows
    0  drift  drift     500
    >>> store.history(feature="age")[["feature", "test", "drift"]]
      feature test  drift
    0     age   ks   True
    >>> store.lineage(run).training_data["sha256"] == manifest["training_data"]["sha256"]
    True
    >>> store.close()
    """

    def __init__(self, path, *, read_only=False, timeout=30.0):
        if not isinstance(path, str | os.PathLike):
            raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}.")
        if not isinstance(timeout, Real) or isinstance(timeout, bool) or not timeout >= 0:
            raise ValueError(f"timeout must be a number of seconds >= 0, got {timeout!r}.")
        self.path = os.fspath(path)
        self.read_only = bool(read_only)
        self._where = f"The run store {self.path!r}"
        self._lock = threading.RLock()
        self._local = threading.local()
        self._models = set()
        self._timeout = float(timeout)
        self._connection = self._connect(self._timeout)
        self.schema_version = self._open_schema()

    # -- opening --------------------------------------------------------------

    def _connect(self, timeout):
        memory = self.path == ":memory:"
        if not memory:
            file = Path(self.path)
            if file.is_dir():
                raise IsADirectoryError(f"{self._where} is a directory; give a file path.")
            if not file.parent.is_dir():
                raise FileNotFoundError(
                    f"{self._where} cannot be created: its directory "
                    f"{str(file.parent)!r} does not exist."
                )
            if self.read_only and not file.is_file():
                raise FileNotFoundError(f"{self._where} does not exist (read_only=True).")
        target = self.path
        uri = False
        if self.read_only and not memory:
            target, uri = f"{Path(self.path).resolve().as_uri()}?mode=ro", True
        connection = sqlite3.connect(
            target,
            timeout=timeout,
            isolation_level=None,
            check_same_thread=False,
            uri=uri,
        )
        try:
            connection.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
            connection.execute("PRAGMA foreign_keys = ON")
            if not self.read_only:
                connection.execute("PRAGMA journal_mode = WAL")
                connection.execute("PRAGMA synchronous = NORMAL")
        except sqlite3.DatabaseError as err:
            connection.close()
            raise ValueError(f"{self._where} is not an SQLite database ({err}).") from err
        return connection

    def _open_schema(self):
        try:
            if self.read_only:
                version, app = _schema.read_version(self._connection)
                if app != _schema.APPLICATION_ID:
                    raise ValueError(f"{self._where} is not an mlpipe run store.")
                if version > _schema.SCHEMA_VERSION:
                    raise ValueError(
                        _schema.newer_message(self._where, version, _schema.SCHEMA_VERSION)
                    )
                if version < _schema.SCHEMA_VERSION:
                    raise ValueError(
                        f"{self._where} has schema version {version}; this mlpipe writes "
                        f"version {_schema.SCHEMA_VERSION}. Open it once with "
                        "read_only=False to migrate it."
                    )
                return version
            _schema.migrate(self._connection, self._where)
            return _schema.SCHEMA_VERSION
        except BaseException:
            self._connection.close()
            raise

    def close(self):
        """Close the file; the store cannot be used afterwards."""
        with self._lock:
            self._connection.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        mode = ", read_only=True" if self.read_only else ""
        return f"RunStore({self.path!r}{mode})"

    def __deepcopy__(self, memo):
        # A store is a handle on one file, like a logger: a step holding one
        # (cloned by scikit-learn's clone, copied by a search) keeps writing
        # to the same records.
        return self

    def __reduce__(self):
        # Pickled (to a joblib or multiprocessing worker), a store is its
        # path: the worker opens its own connection to the same file.
        if self.path == ":memory:":
            raise TypeError(
                "An in-memory RunStore cannot be sent to another process: its records "
                "live in this one. Give RunStore a file path to share it."
            )
        return (_reopen, (self.path, self.read_only, self._timeout))

    # -- writing --------------------------------------------------------------

    def _check_writable(self):
        if self.read_only:
            raise io.UnsupportedOperation(
                f"{self._where} was opened read-only: open it with read_only=False to record runs."
            )

    def _commit(self, records):
        """Write records, each a list of ``(sql, rows)``, in one transaction."""
        self._check_writable()
        with self._lock:
            connection = self._connection
            try:
                connection.execute("BEGIN IMMEDIATE")
                try:
                    for statements in records:
                        for sql, rows in statements:
                            connection.executemany(sql, rows)
                    connection.execute("COMMIT")
                except BaseException:
                    connection.execute("ROLLBACK")
                    raise
            except sqlite3.OperationalError as err:
                if "readonly" in str(err):
                    raise PermissionError(
                        f"{self._where} cannot be written: {err}. Check the permissions "
                        "of the file and its directory."
                    ) from err
                if "locked" in str(err) or "busy" in str(err):
                    raise TimeoutError(
                        f"{self._where} stayed locked by another writer for more than "
                        f"timeout={self._timeout:g} s ({err}); the record was not written. "
                        "A longer timeout waits longer."
                    ) from err
                raise

    def _query(self, sql, params=()):
        with self._lock:
            return self._connection.execute(sql, params).fetchall()

    def _model_id(self, model):
        """``model`` as a registered model id (or None)."""
        if model is None or model in self._models:
            return model
        if self._query("SELECT 1 FROM models WHERE model_id = ?", (model,)):
            self._models.add(model)
            return model
        rows = self._query(
            "SELECT model_id FROM models WHERE name = ? ORDER BY registered_at DESC, rowid DESC",
            (model,),
        )
        if rows:
            return rows[0][0]
        raise ValueError(
            f"No model {model!r} in {self._where}: register it first with "
            "store.add_model(path_or_manifest) and pass the id it returns (or its name)."
        )

    def _pending(self):
        return getattr(self._local, "batch", None)

    def _check_parent(self, parent):
        pending = self._pending()
        if pending is not None and parent in pending["ids"]:
            return
        if not self._query("SELECT 1 FROM runs WHERE run_id = ?", (parent,)):
            raise ValueError(f"No run {parent!r} in {self._where} to be the parent run.")

    def _pointer(self, value, role):
        if value is None:
            return None
        if isinstance(value, Mapping):
            if not isinstance(value.get("sha256"), str):
                raise ValueError(
                    f"The {role} fingerprint must be a dict with a 'sha256' (as "
                    f"mlpipe.monitor.fingerprint returns); got keys {sorted(value)}."
                )
            return value
        return _fingerprint(value, role)

    def _statements(
        self,
        kind,
        status,
        *,
        model=None,
        step=None,
        parent=None,
        started_at=None,
        duration=None,
        window=None,
        window_start=None,
        window_end=None,
        n_rows=None,
        n_columns=None,
        summary=None,
        detail=None,
        pointers=None,
        children=(),
        batch_key=None,
        run_id=None,
    ):
        """The run's id and the ``(sql, rows)`` that write it."""
        run_id = run_id or uuid.uuid4().hex
        stamp = now_text()
        run = (
            run_id,
            parent,
            self._model_id(model),
            kind,
            step or kind,
            status,
            stamp if started_at is None else utc_text(started_at, "started_at"),
            _seconds(duration),
            batch_key,
            None if window is None else int(window),
            None if window_start is None else utc_text(window_start, "window_start"),
            None if window_end is None else utc_text(window_end, "window_end"),
            None if n_rows is None else int(n_rows),
            None if n_columns is None else int(n_columns),
            summary,
            None if detail is None else json.dumps(detail, default=str, sort_keys=True),
            _HOST,
            os.getpid(),
        )
        data, links = [], []
        for role, pointer in (pointers or {}).items():
            columns = pointer.get("columns")
            data.append(
                (
                    pointer["sha256"],
                    pointer.get("n_rows"),
                    None if columns is None else len(columns),
                    None if columns is None else json.dumps(columns, default=str),
                    stamp,
                )
            )
            links.append((run_id, role, pointer["sha256"], pointer.get("name")))
        statements = [(_DATA_SQL, data), (_SQL["runs"], [run]), (_SQL["io"], links)]
        for table, rows in children:
            statements.append((_SQL[table], [(run_id, *row) for row in rows]))
        return run_id, statements

    def _record(self, kind, status, *, parent=None, **fields):
        """Write a run now, or keep it for the open :meth:`batch`."""
        pending = self._pending()
        if parent is None and pending is not None:
            parent = pending["run_id"]
        elif parent is not None:
            self._check_parent(parent)
        run_id, statements = self._statements(kind, status, parent=parent, **fields)
        if pending is None:
            self._commit([statements])
        else:
            pending["records"].append(statements)
            pending["ids"].add(run_id)
            pending["statuses"].append(status)
        return run_id

    @validate_params(
        {
            "model": [str, os.PathLike, dict],
            "name": [str, None],
            "version": [str, Integral, None],
        },
        prefer_skip_nested_validation=True,
    )
    def add_model(self, model, *, name=None, version=None):
        """Register a saved model; return its id, the SHA-256 of its manifest.

        Registering the same manifest again returns the same id and changes
        nothing (the first name and version stay).

        Parameters
        ----------
        model : str, os.PathLike or dict
            A file written by :func:`mlpipe.save` (its manifest is read with
            :func:`mlpipe.read_manifest`, the model is not loaded), or the
            manifest ``mlpipe.save`` returned.

        name : str, default=None
            A name to find the model by (``runs(model=name)``); the file's
            stem when ``model`` is a path.

        version : str or int, default=None
            A version label (a registry's version, a release).

        Returns
        -------
        model_id : str
            The manifest's SHA-256 (hex), which records take as ``model``.
        """
        self._check_writable()
        source = None
        if isinstance(model, dict):
            manifest = model
            if manifest.get("format") != "mlpipe-model":
                raise ValueError(
                    "model must be a manifest returned by mlpipe.save (its 'format' is "
                    f"'mlpipe-model'); got a dict with keys {sorted(manifest)[:8]}."
                )
        else:
            source = os.fspath(model)
            manifest = mlpipe.read_manifest(model)
            name = Path(source).stem if name is None else name
        model_id = _manifest_id(manifest)
        training = manifest.get("training_data") or {}
        target = training.get("target") or {}
        columns = training.get("columns")
        row = (
            model_id,
            name,
            None if version is None else str(version),
            manifest.get("estimator"),
            manifest.get("format_version"),
            (manifest.get("versions") or {}).get("mlpipe"),
            None if manifest.get("saved_at") is None else utc_text(manifest["saved_at"]),
            None if manifest.get("fitted_at") is None else utc_text(manifest["fitted_at"]),
            training.get("sha256"),
            training.get("n_rows"),
            None if columns is None else len(columns),
            target.get("sha256"),
            source,
            json.dumps(manifest, default=str, sort_keys=True),
            now_text(),
        )
        sql = f"INSERT OR IGNORE INTO models VALUES ({', '.join('?' * len(row))})"
        self._commit([[(sql, [row])]])
        self._models.add(model_id)
        return model_id

    @validate_params(
        {"key": [str], "model": [str, None], "X": _POINTER, "step": [str, None]},
        prefer_skip_nested_validation=True,
    )
    @contextlib.contextmanager
    def batch(self, key, *, model=None, X=None, step=None):
        """Record the runs of one batch at once, under its key, or none of them.

        Inside the block, records are kept in memory and their parent is the
        batch's run; when the block ends they are written with the batch's
        run (status: the worst of its records', duration: the block's) in one
        transaction. If the block raises, nothing is written, so a batch cut
        off by a crash is not :meth:`has_batch` and is redone on a rerun.

        Parameters
        ----------
        key : str
            The batch's key, such as :func:`batch_key` of its file; recorded
            once in the store.

        model : str, default=None
            The id (or name) of the model, from :meth:`add_model`.

        X : array-like or dict, default=None
            The batch, or its :func:`fingerprint`: the batch run's input.

        step : str, default=None
            The step's name; ``"batch"`` when None.

        Yields
        ------
        run_id : str
            The batch run's id.

        Raises
        ------
        ValueError
            If the key is already recorded (by this or another process), or
            inside another batch block of the same thread.
        """
        self._check_writable()
        if self._pending() is not None:
            raise ValueError("A batch block is already open in this thread; batches do not nest.")
        if self.has_batch(key):
            raise ValueError(f"Batch {key!r} is already in {self._where}; skip it.")
        pointer = self._pointer(X, "X")
        run_id = uuid.uuid4().hex
        pending = {"run_id": run_id, "records": [], "ids": {run_id}, "statuses": []}
        started, clock = now_text(), time.perf_counter()
        self._local.batch = pending
        try:
            yield run_id
        finally:
            self._local.batch = None
        status = min(pending["statuses"], key=STATUSES.index, default="ok")
        _, head = self._statements(
            "batch",
            status,
            run_id=run_id,
            model=model,
            step=step,
            started_at=started,
            duration=time.perf_counter() - clock,
            n_rows=None if pointer is None else pointer.get("n_rows"),
            n_columns=None if pointer is None else len(pointer.get("columns") or []),
            summary=f"{len(pending['records'])} record(s), status {status}",
            batch_key=key,
            pointers=None if pointer is None else {"input": pointer},
        )
        try:
            self._commit([head, *pending["records"]])
        except sqlite3.IntegrityError as err:
            if self.has_batch(key):
                raise ValueError(
                    f"Batch {key!r} was recorded by another writer meanwhile; this "
                    "run of it is not kept."
                ) from err
            raise


# The records and queries RunStore inherits are its own methods: name them so, for the
# errors of validate_params ("The 'model' parameter of RunStore.runs ...").
for _base in (RecordingMixin, QueryMixin, LineageMixin):
    for _name, _member in vars(_base).items():
        if callable(_member) and not _name.startswith("__"):
            for _func in (_member, getattr(_member, "__wrapped__", None)):
                if _func is not None:
                    _func.__qualname__ = f"RunStore.{_name}"
