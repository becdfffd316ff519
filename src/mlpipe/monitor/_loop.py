"""The monitoring loop: validate, score and monitor batch files into a run store.

:class:`MonitoringLoop` is what ``mlpipe monitor`` runs, and what a scheduler
(cron, Airflow) calls from Python. Each batch file is one unit: it is read,
validated by the model's :class:`~mlpipe.validation.SchemaValidator` steps,
tested for drift by its :class:`~mlpipe.drift.DriftMonitor` steps (the whole
file as one window), scored, and recorded in one transaction under the key
of its name and bytes (:func:`~mlpipe.monitor.batch_key`). A file already in
the store is skipped, so a rerun after a crash does the rest and nothing
twice. Ground truth that arrives later is joined to the scored rows by a key
column and scores each batch once it covers enough of its rows; a drop
against the first scored batches is an alarm, as is a drifted batch. An
alarm runs the retraining command once, then not again until a cool-down
has passed.
"""

import datetime
import json
import os
import subprocess
import time
from numbers import Integral, Real
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.pipeline import Pipeline

import mlpipe
from mlpipe.drift import DriftMonitor
from mlpipe.exceptions import DataValidationError
from mlpipe.monitor._records import key_text
from mlpipe.monitor._store import RunStore, batch_key
from mlpipe.utils._files import DataFileError, one_line, read_table
from mlpipe.utils._fingerprint import fingerprint as _fingerprint
from mlpipe.validation import SchemaValidator

# Suffixes of the files a batch directory is read for, in name order.
TABLE_SUFFIXES = (".csv", ".parquet", ".pq")

RESULT_COLUMNS = [
    "file",
    "status",
    "n_rows",
    "n_errors",
    "drifted_features",
    "alarm",
    "retraining",
    "run_id",
    "message",
]


def batch_files(batches):
    """The batch files of ``batches`` (files and directories), in order.

    A directory stands for its CSV and Parquet files (not hidden, not in
    subdirectories), in name order; files are taken as given. A file named
    twice is taken once.
    """
    if isinstance(batches, str | os.PathLike):
        batches = [batches]
    files = []
    for entry in batches:
        path = Path(entry)
        if path.is_dir():
            found = sorted(
                p
                for p in path.iterdir()
                if p.is_file() and p.suffix.lower() in TABLE_SUFFIXES and not p.name.startswith(".")
            )
            if not found:
                raise DataFileError(f"{path}: a directory without .csv or .parquet files")
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            raise DataFileError(f"no such file or directory: {path}")
    seen, unique = set(), []
    for path in files:
        resolved = path.resolve()
        if resolved not in seen:
            seen.add(resolved)
            unique.append(path)
    return unique


def _cooldown(value):
    """A cool-down: a number of batches (int) or a time span (Timedelta)."""
    if isinstance(value, Integral) and not isinstance(value, bool):
        if value < 0:
            raise ValueError(f"cooldown must be >= 0 batches, got {value}.")
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    try:
        span = pd.Timedelta(value)
    except (TypeError, ValueError):
        raise ValueError(
            f"cooldown must be a number of batches (10) or a time span ('24h'); got {value!r}."
        ) from None
    if span is pd.NaT or span < pd.Timedelta(0):
        raise ValueError(f"cooldown must not be negative; got {value!r}.")
    return span


class MonitoringLoop:
    """Validate, score and monitor batch files, and record it all in a run store.

    Each batch file is read, checked by the model's validators, tested for
    drift by its drift monitors (the whole file as one window), scored, and
    written to the store in one transaction, keyed by its name and content
    (:func:`batch_key`): a file already in the store is skipped, so a rerun
    (after new files arrived, or after a crash) processes each batch once.
    A drifted batch, a failed one and a drop of realized performance are
    alarms; an alarm of drift or of a drop runs ``on_drift`` once, and a
    later one only after ``cooldown``. ``mlpipe monitor`` is this class on
    the command line.

    Parameters
    ----------
    model : str or os.PathLike
        A file written by :func:`mlpipe.save` (loaded with :func:`mlpipe.load`),
        or an MLflow model URI (``models:/name/1``, ``models:/name@alias``,
        ``runs:/...``) of a model logged by :func:`mlpipe.mlflow.log_model`.

    store : str or os.PathLike
        The :class:`RunStore` file (created if it does not exist).

    name : str, default=None
        The model's name in the store (the file's stem, or the registered
        name of an MLflow URI, when None).

    version : str or int, default=None
        The model's version label in the store (the version of an MLflow
        URI when None).

    trusted : list of str, default=None
        Type names to trust when loading the model, beyond mlpipe's and
        skops' defaults, as :func:`mlpipe.load` takes them.

    key : str, default=None
        A column of the batches that identifies each row (unique within a
        batch): the predictions are kept by it so that ``labels`` can be
        joined later. Not passed to the model unless the model was fitted
        with it. Needed for ``labels``.

    labels : str, os.PathLike or list of them, default=None
        CSV or Parquet files of ground truth: ``key`` and ``target`` columns,
        read on every :meth:`run` (they may grow between runs). A scored
        batch gets its realized performance once labels cover
        ``label_coverage`` of its rows.

    target : str, default=None
        The label column of ``labels``; when None, the one column besides
        ``key``.

    sensitive : str, default=None
        A column of the batches naming each row's group: the selection rate
        of each predicted class in each group is recorded. Not passed to the
        model unless the model was fitted with it.

    label_coverage : float, default=0.9
        Share of a batch's rows that must have a label before it is scored
        (each batch is scored once).

    baseline_windows : int, default=3
        The first scored batches form the baseline of the realized
        performance; each later one is tested against them.

    performance_alpha : float, default=0.01
        False-alarm rate of the drop test per scored batch: a one-sided Welch
        test that the batch's mean loss (the error rate of a classifier, the
        absolute error of a regressor) exceeds the baseline's.

    on_drift : str or callable, default=None
        Run on an alarm of drift or of a performance drop: a shell command
        (its environment has ``MLPIPE_RUN_ID``, the alarm's run id,
        ``MLPIPE_BATCH_RUN_ID``, ``MLPIPE_DRIFTED_FEATURES``, comma
        separated, ``MLPIPE_ALARM_REASONS``, ``MLPIPE_BATCH_FILE``,
        ``MLPIPE_STORE`` and ``MLPIPE_MODEL``) or a callable taking a dict of
        the same information and returning an exit code (None counts as 0).
        Its run is recorded (kind ``"retraining"``, with the exit code).

    cooldown : int, str or timedelta, default="24h"
        After a retraining run, further alarms do not run ``on_drift`` again
        until this many batches were processed (an int) or this much time
        passed (a time span such as ``"6h"``).

    max_age : str or timedelta, default=None
        After the batches, the model is stale when its training data is older
        than this (:meth:`RunStore.staleness`; the check is recorded).

    stale_windows : tuple of (int, int), default=None
        ``(k, m)``: the model is also stale when ``k`` of its last ``m``
        drift windows drifted.

    Attributes
    ----------
    model_ : estimator
        The loaded model (after the first :meth:`run`).

    model_id_ : str
        Its id in the store (the SHA-256 of its manifest).

    See Also
    --------
    RunStore : Where the loop records every batch.
    mlpipe.save : Writes the model file the loop reads.

    Examples
    --------
    >>> import os, tempfile
    >>> import mlpipe
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from mlpipe.datasets import load_credit
    >>> from mlpipe.drift import DriftMonitor
    >>> from mlpipe.monitor import MonitoringLoop
    >>> from mlpipe.validation import SchemaValidator
    >>> X, y = load_credit(return_X_y=True)
    >>> numbers = X.select_dtypes("number").columns
    >>> X = X[numbers].fillna(0)
    >>> model = make_pipeline(SchemaValidator(), DriftMonitor(), LogisticRegression(max_iter=1000))
    >>> folder = tempfile.mkdtemp()
    >>> _ = mlpipe.save(model.fit(X, y), os.path.join(folder, "model.skops"), X=X, y=y)
    >>> X.iloc[:200].to_csv(os.path.join(folder, "batch-1.csv"), index=False)
    >>> loop = MonitoringLoop(os.path.join(folder, "model.skops"), os.path.join(folder, "m.db"))
    >>> loop.run([os.path.join(folder, "batch-1.csv")])[["file", "status", "n_rows"]]
              file status  n_rows
    0  batch-1.csv     ok     200
    >>> loop.run([os.path.join(folder, "batch-1.csv")])["status"].tolist()
    ['skipped']
    """

    def __init__(
        self,
        model,
        store,
        *,
        name=None,
        version=None,
        trusted=None,
        key=None,
        labels=None,
        target=None,
        sensitive=None,
        label_coverage=0.9,
        baseline_windows=3,
        performance_alpha=0.01,
        on_drift=None,
        cooldown="24h",
        max_age=None,
        stale_windows=None,
    ):
        self.model = model
        self.store = store
        self.name = name
        self.version = version
        self.trusted = trusted
        self.key = key
        self.labels = labels
        self.target = target
        self.sensitive = sensitive
        self.label_coverage = label_coverage
        self.baseline_windows = baseline_windows
        self.performance_alpha = performance_alpha
        self.on_drift = on_drift
        self.cooldown = cooldown
        self.max_age = max_age
        self.stale_windows = stale_windows

    # -- set-up ------------------------------------------------------------

    def _check_params(self):
        for name in ("key", "target", "sensitive"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                raise TypeError(f"{name} must be a column name (str), got {value!r}.")
        if self.labels is not None and self.key is None:
            raise ValueError("labels are joined to the predictions by key: give key too.")
        if not (isinstance(self.label_coverage, Real) and 0 < self.label_coverage <= 1):
            raise ValueError(f"label_coverage must be in (0, 1], got {self.label_coverage!r}.")
        if not (isinstance(self.baseline_windows, Integral) and self.baseline_windows >= 1):
            raise ValueError(
                f"baseline_windows must be an int >= 1, got {self.baseline_windows!r}."
            )
        if not (isinstance(self.performance_alpha, Real) and 0 < self.performance_alpha < 1):
            raise ValueError(
                f"performance_alpha must be in (0, 1), got {self.performance_alpha!r}."
            )
        if self.on_drift is not None and not (
            callable(self.on_drift) or isinstance(self.on_drift, str)
        ):
            raise TypeError(
                f"on_drift must be a shell command or a callable, got {self.on_drift!r}."
            )
        self._cooldown = _cooldown(self.cooldown)
        if self.stale_windows is not None:
            k_m = self.stale_windows
            if not (
                isinstance(k_m, tuple | list)
                and len(k_m) == 2
                and all(isinstance(v, Integral) and v >= 1 for v in k_m)
                and k_m[0] <= k_m[1]
            ):
                raise ValueError(
                    f"stale_windows must be (k, m) with 1 <= k <= m, got {self.stale_windows!r}."
                )
        if self.max_age is not None:
            try:
                pd.Timedelta(self.max_age)
            except (TypeError, ValueError):
                raise ValueError(
                    f"max_age must be a time span such as '90D'; got {self.max_age!r}."
                ) from None

    def _load(self, store):
        """Load the model and register it in the store."""
        source, name, version = os.fspath(self.model), self.name, self.version
        if "://" in source or source.startswith(("models:/", "runs:/")):
            from mlpipe.mlflow import download_model

            uri = source
            source = os.fspath(download_model(uri))
            if uri.startswith("models:/"):
                registered, _, label = uri.removeprefix("models:/").replace("@", "/").partition("/")
                name = registered if name is None else name
                version = (label or None) if version is None else version
        if not Path(source).is_file():
            raise DataFileError(f"no such model file: {source}")
        try:
            manifest = mlpipe.read_manifest(source)
        except (OSError, ValueError) as exc:
            raise DataFileError(
                f"{source}: not a model written by mlpipe.save: {one_line(exc)}"
            ) from None
        self.model_ = mlpipe.load(source, trusted=self.trusted)
        self.model_path_ = source
        self.manifest_ = manifest
        self.model_id_ = store.add_model(source, name=name, version=version)

    # -- the loop ------------------------------------------------------------

    def run(self, batches, *, echo=None):
        """Process every batch not yet in the store, then score what labels allow.

        Parameters
        ----------
        batches : str, os.PathLike or list of them
            Batch files (CSV or Parquet) and directories of them (their
            files in name order).

        echo : callable, default=None
            Called with one line of text per batch, label join and
            retraining run, as they happen (``print`` on the command line).

        Returns
        -------
        results : DataFrame
            One row per batch file, in order: ``file``, ``status`` (``"ok"``,
            ``"failed"``, ``"drift"``, ``"error"``, ``"skipped"`` when the
            store had it, ``"unreadable"`` when it cannot be read; an
            unreadable file is not recorded, so a rerun tries it again),
            ``n_rows``, ``n_errors`` (validation errors), ``drifted_features``,
            ``alarm`` and ``retraining`` (run ids or None), ``run_id`` (the
            batch's run), ``message``. After them, one row per batch scored by
            the labels in this run (a batch of this run or of an earlier one),
            with ``file`` the batch's and status ``"scored"`` or ``"drop"``;
            with ``max_age`` or ``stale_windows``, a last row of the
            staleness check (status ``"stale"`` or ``"fresh"``).
        """
        self._check_params()
        files = batch_files(batches)
        echo = echo or (lambda line: None)
        rows, scored = [], []
        with RunStore(self.store) as store:
            self._load(store)
            self._labels = self._read_labels()
            self._retrain_pending(store, echo)
            self._score_labels(store, echo, scored)
            for i, path in enumerate(files, 1):
                row, due = self._batch(store, path)
                echo(_line(i, len(files), row))
                if due:
                    row["retraining"] = self._retrain(
                        store,
                        row["alarm"],
                        row["run_id"],
                        row["drifted_features"],
                        ["drift"],
                        path,
                        echo,
                    )
                rows.append(row)
                if row["run_id"] is not None:
                    self._score_labels(store, echo, scored, of_batch=row["run_id"])
            if self.max_age is not None or self.stale_windows is not None:
                scored.append(self._staleness(store, echo))
        return pd.DataFrame(rows + scored, columns=RESULT_COLUMNS)

    def _staleness(self, store, echo):
        k, m = self.stale_windows or (None, None)
        report = store.staleness(self.model_id_, max_age=self.max_age, k=k, m=m)
        message = "; ".join(report.fired) if report.stale else "no rule fired"
        echo(f"staleness: {'stale' if report.stale else 'not stale'} ({message})")
        row = dict.fromkeys(RESULT_COLUMNS)
        row.update(
            file=None,
            status="stale" if report.stale else "fresh",
            drifted_features=[],
            n_errors=0,
            run_id=report.run_id,
            message=message,
        )
        return row

    def _batch(self, store, path):
        """Process one batch file: ``(row, whether its alarm's retraining is due)``."""
        row = dict.fromkeys(RESULT_COLUMNS)
        row.update(file=path.name, drifted_features=[], n_errors=0)
        try:
            key = batch_key(path)
        except OSError as exc:
            row.update(status="unreadable", message=one_line(exc))
            return row, False
        if store.has_batch(key):
            row.update(status="skipped", message="in the store already")
            return row, False
        try:
            frame = read_table(path)
        except DataFileError as exc:
            row.update(status="unreadable", message=str(exc))
            return row, False
        row["n_rows"] = len(frame)
        due = None
        with store.batch(key, model=self.model_id_, X=frame, step=path.name) as batch_run:
            row["run_id"] = batch_run
            window = self._n_batches(store) + 1
            row["status"] = self._guard(store, frame, window, row)
            reasons = []
            if row["drifted_features"]:
                reasons.append("drift")
            if row["status"] in ("failed", "error"):
                reasons.append(row["status"])
            if reasons:
                due = self._retraining_due(store) if "drift" in reasons else "not run"
                row["alarm"] = store.record_event(
                    "alarm",
                    status="error" if row["status"] == "error" else "alarm",
                    summary=_alarm_summary(path.name, reasons, row),
                    model=self.model_id_,
                    window=window,
                    detail={
                        "reasons": reasons,
                        "drifted_features": row["drifted_features"],
                        "batch_file": str(path),
                        "retraining": due,
                    },
                )
        return row, due == "due"

    def _n_batches(self, store):
        return store._query(
            "SELECT count(*) FROM runs WHERE kind = 'batch' AND model_id = ?", (self.model_id_,)
        )[0][0]

    def _model_columns(self):
        names = getattr(self.model_, "feature_names_in_", None)
        return None if names is None else [str(c) for c in names]

    def _guard(self, store, frame, window, row):
        """Validate, test for drift and score one batch; returns its status."""
        fitted = self._model_columns()
        drop = [
            c
            for c in (self.key, self.sensitive)
            if c is not None and c in frame.columns and (fitted is None or c not in fitted)
        ]
        for column, what in ((self.key, "key"), (self.sensitive, "sensitive")):
            if column is not None and column not in frame.columns:
                row["message"] = f"no {what} column {column!r} in the batch"
                return "error"
        X = rows = frame.drop(columns=drop) if drop else frame
        # hashed once: the drift and prediction runs read these same rows
        seen = _fingerprint(rows, "X")
        steps = list(self.model_.steps) if isinstance(self.model_, Pipeline) else []
        final = self.model_.steps[-1][1] if steps else self.model_
        status = "ok"
        raw = True  # no step has changed the rows' values yet
        try:
            for name, step in steps[:-1]:
                if step == "passthrough" or step is None:
                    continue
                if isinstance(step, SchemaValidator):
                    started, clock = _now(), time.perf_counter()
                    try:
                        out = step.transform(X)
                        report = step.last_report_
                    except DataValidationError as exc:
                        report, out = exc.report, None
                    store.record_validation(
                        report,
                        X=X,
                        model=self.model_id_,
                        step=name,
                        started_at=started,
                        duration=time.perf_counter() - clock,
                        window=window,
                    )
                    row["n_errors"] += len(report.errors)
                    if out is None:
                        shown = ", ".join(
                            f"{f.check} ({'table' if f.column is None else f.column})"
                            for f in report.errors[:3]
                        )
                        more = len(report.errors) - 3
                        row["message"] = shown + (f" (+{more})" if more > 0 else "")
                        return "failed"
                    X = out
                elif isinstance(step, DriftMonitor):
                    started, clock = _now(), time.perf_counter()
                    report = step._detect_batch(X)
                    training = (self.manifest_.get("training_data") or {}) if raw else {}
                    store.record_drift(
                        report,
                        X=seen if raw and len(X) == len(rows) else X,
                        reference=training if training.get("sha256") else None,
                        model=self.model_id_,
                        step=name,
                        started_at=started,
                        duration=time.perf_counter() - clock,
                        window=window,
                    )
                    if report.drift:
                        row["drifted_features"] += [
                            f for f in report.drifted_features if f not in row["drifted_features"]
                        ]
                        status = "drift"
                else:
                    X = step.transform(X)
                    raw = False
            started, clock = _now(), time.perf_counter()
            y_pred = np.asarray(final.predict(X))
            scores, positive = None, None
            classes = getattr(final, "classes_", None)
            if classes is not None and len(classes) == 2 and hasattr(final, "predict_proba"):
                scores = np.asarray(final.predict_proba(X))[:, 1]
                positive = key_text(classes[1])
            kept = X.index if isinstance(X, pd.DataFrame) else frame.index
            store.record_predictions(
                y_pred,
                X=seen if len(kept) == len(rows) else _fingerprint(rows.loc[kept], "X"),
                sensitive=None
                if self.sensitive is None
                else frame.loc[kept, self.sensitive].to_numpy(),
                keys=None if self.key is None else frame.loc[kept, self.key].to_numpy(),
                scores=scores if self.key is not None else None,
                model=self.model_id_,
                step=steps[-1][0] if steps else "predict",
                started_at=started,
                duration=time.perf_counter() - clock,
                window=window,
                detail={"positive": positive, "n_batch_rows": len(frame)},
            )
        except Exception as exc:  # a model that cannot score the batch: recorded, not fatal
            row["message"] = f"{type(exc).__name__}: {one_line(exc)}"
            return "error"
        return status

    # -- retraining ------------------------------------------------------------

    def _last_retraining(self, store):
        rows = store._query(
            "SELECT started_at FROM runs WHERE kind = 'retraining' AND model_id = ? "
            "ORDER BY started_at DESC LIMIT 1",
            (self.model_id_,),
        )
        return None if not rows else rows[0][0]

    def _retraining_due(self, store):
        """``"due"``, ``"cooling down"`` or ``"no command"``, for an alarm now."""
        if self.on_drift is None:
            return "no command"
        last = self._last_retraining(store)
        if last is None:
            return "due"
        if isinstance(self._cooldown, int):
            after = store._query(
                "SELECT count(*) FROM runs WHERE kind = 'batch' AND model_id = ? "
                "AND started_at > ?",
                (self.model_id_, last),
            )[0][0]
            return "due" if after >= self._cooldown else "cooling down"
        elapsed = pd.Timestamp.now(tz="UTC") - pd.Timestamp(last)
        return "due" if elapsed >= self._cooldown else "cooling down"

    def _retrain_pending(self, store, echo):
        """Run the retraining of an alarm found due whose run was never recorded
        (the process ended between the batch and the command)."""
        if self.on_drift is None:
            return
        last = self._last_retraining(store) or ""
        rows = store._query(
            "SELECT a.run_id, a.parent_id, a.detail FROM runs a WHERE a.kind = 'alarm' "
            "AND a.model_id = ? AND a.started_at > ? "
            "AND json_extract(a.detail, '$.retraining') = 'due' "
            "AND NOT EXISTS (SELECT 1 FROM runs r WHERE r.kind = 'retraining' "
            "AND r.parent_id = a.run_id) ORDER BY a.started_at DESC LIMIT 1",
            (self.model_id_, last),
        )
        if rows:
            alarm, parent, detail = rows[0]
            detail = json.loads(detail)
            self._retrain(
                store,
                alarm,
                parent,
                detail.get("drifted_features", []),
                detail.get("reasons", []),
                Path(detail.get("batch_file", "")),
                echo,
            )

    def _retrain(self, store, alarm, batch_run, drifted, reasons, path, echo):
        info = {
            "MLPIPE_RUN_ID": alarm,
            "MLPIPE_BATCH_RUN_ID": batch_run or "",
            "MLPIPE_DRIFTED_FEATURES": ",".join(map(str, drifted)),
            "MLPIPE_ALARM_REASONS": ",".join(reasons),
            "MLPIPE_BATCH_FILE": str(path),
            "MLPIPE_STORE": os.fspath(self.store),
            "MLPIPE_MODEL": os.fspath(self.model_path_),
        }
        started, clock = _now(), time.perf_counter()
        if callable(self.on_drift):
            try:
                code = self.on_drift(dict(info))
                code = 0 if code is None else int(code)
                error = None
            except Exception as exc:  # recorded as a failed retraining, then raised
                code, error = 1, exc
            command = getattr(self.on_drift, "__qualname__", repr(self.on_drift))
        else:
            error = None
            code = subprocess.run(
                self.on_drift, shell=True, env={**os.environ, **info}, check=False
            ).returncode
            command = self.on_drift
        duration = time.perf_counter() - clock
        run = store.record_event(
            "retraining",
            status="ok" if code == 0 else "error",
            summary=f"{command} exited with {code}",
            model=self.model_id_,
            parent=alarm,
            started_at=started,
            duration=duration,
            detail={"command": command, "exit_code": code, **info},
        )
        shown = command if len(command) <= 50 else command[:47] + "..."
        echo(f"retraining: {shown} -> exit {code} ({duration:.1f} s)")
        if error is not None:
            raise error
        return run

    # -- labels ----------------------------------------------------------------

    def _read_labels(self):
        if self.labels is None:
            return None
        files = [self.labels] if isinstance(self.labels, str | os.PathLike) else list(self.labels)
        frames = []
        for path in files:
            frame = read_table(path)
            if self.key not in frame.columns:
                raise DataFileError(
                    f"{path}: no key column {self.key!r} (columns {list(frame.columns)[:8]})"
                )
            target = self.target
            if target is None:
                others = [c for c in frame.columns if c != self.key]
                if len(others) != 1:
                    raise DataFileError(
                        f"{path}: give target, the label column: it has {len(others)} "
                        f"columns besides the key {self.key!r}"
                    )
                target = others[0]
            if target not in frame.columns:
                raise DataFileError(f"{path}: no target column {target!r}")
            frames.append(
                pd.DataFrame({"key": frame[self.key].map(key_text), "label": frame[target]})
            )
        labels = pd.concat(frames, ignore_index=True).dropna(subset=["label"])
        labels = labels.drop_duplicates("key", keep="last")
        return labels.set_index("key")["label"]

    def _unscored(self, store, batch_run=None):
        """Prediction runs with kept rows and no performance yet (of one batch
        run, when given)."""
        of_batch = "" if batch_run is None else "AND r.parent_id = ? "
        return store._query(
            "SELECT r.run_id, r.parent_id, r.window, r.detail, b.step FROM runs r "
            "LEFT JOIN runs b ON b.run_id = r.parent_id "
            "WHERE r.kind = 'predictions' AND r.model_id = ? "
            + of_batch
            + "AND EXISTS (SELECT 1 FROM scored_rows s WHERE s.run_id = r.run_id) "
            "AND NOT EXISTS (SELECT 1 FROM runs p WHERE p.kind = 'performance' "
            "AND p.parent_id = r.run_id) ORDER BY r.started_at",
            (self.model_id_,) if batch_run is None else (self.model_id_, batch_run),
        )

    def _baseline(self, store):
        """Pooled (n, mean loss, variance) of the first scored batches, and
        how many there are."""
        rows = store._query(
            "SELECT r.run_id, "
            "(SELECT value FROM metrics m WHERE m.run_id = r.run_id AND m.name = 'n_labeled'), "
            "(SELECT value FROM metrics m WHERE m.run_id = r.run_id AND m.name = 'loss_mean'), "
            "(SELECT value FROM metrics m WHERE m.run_id = r.run_id AND m.name = 'loss_sd') "
            "FROM runs r WHERE r.kind = 'performance' AND r.model_id = ? "
            "ORDER BY r.started_at LIMIT ?",
            (self.model_id_, int(self.baseline_windows)),
        )
        rows = [r[1:] for r in rows if None not in r[1:]]
        return (pool_losses(rows) if rows else None), len(rows)

    def _score_labels(self, store, echo, results, of_batch=None):
        """Score the unscored prediction runs the labels cover enough; with
        ``of_batch`` (a batch run), only that batch's (the labels are read once a run, so
        an older batch not covered at the start is not covered later)."""
        if self._labels is None:
            return
        for run_id, batch_run, window, detail, file in self._unscored(store, of_batch):
            detail = json.loads(detail) if detail else {}
            scored = store._query(
                "SELECT row_key, prediction, value, score FROM scored_rows WHERE run_id = ? "
                "ORDER BY position",
                (run_id,),
            )
            keys = pd.Index([r[0] for r in scored])
            found = keys.isin(self._labels.index)
            if found.mean() < self.label_coverage:
                continue
            labels = self._labels.reindex(keys[found])
            metrics = realized_metrics(
                detail.get("task"),
                [r for r, f in zip(scored, found, strict=True) if f],
                labels,
                detail,
            )
            metrics["coverage"] = float(found.mean())
            baseline, n_base = self._baseline(store)
            p_value, drop = None, False
            if baseline is not None and n_base >= self.baseline_windows:
                p_value = drop_p_value(baseline, metrics)
                drop = bool(p_value < self.performance_alpha)
                metrics["p_value_drop"] = p_value
                metrics["baseline_loss"] = baseline[1]
            performance = store.record_performance(
                metrics,
                labels=labels.to_frame(),
                drop=drop,
                model=self.model_id_,
                parent=run_id,
                window=window,
                detail={"baseline_windows": n_base, "batch": file},
            )
            shown = ", ".join(
                f"{k} {metrics[k]:.3f}"
                for k in ("accuracy", "roc_auc", "r2", "mae")
                if k in metrics
            )
            status = "drop" if drop else "scored"
            echo(f"labels: {file}: {shown}" + (f", drop p={p_value:.2g}" if drop else ""))
            row = dict.fromkeys(RESULT_COLUMNS)
            row.update(
                file=file,
                status=status,
                n_rows=int(metrics["n_labeled"]),
                run_id=performance,
                drifted_features=[],
                n_errors=0,
                message=shown,
            )
            if drop:
                due = self._retraining_due(store)
                row["alarm"] = store.record_event(
                    "alarm",
                    status="alarm",
                    summary=f"{file}: realized performance dropped ({shown}, p={p_value:.2g})",
                    model=self.model_id_,
                    parent=performance,
                    window=window,
                    detail={
                        "reasons": ["performance"],
                        "drifted_features": [],
                        "batch_file": file,
                        "retraining": due,
                    },
                )
                if due == "due":
                    row["retraining"] = self._retrain(
                        store, row["alarm"], batch_run, [], ["performance"], Path(file), echo
                    )
            results.append(row)


def realized_metrics(task, scored, labels, detail):
    """Realized metrics of the scored rows with a label, and the loss
    summary the drop test uses."""
    from sklearn import metrics as skm

    n = len(scored)
    if task == "regression":
        y_true = labels.to_numpy(dtype=float)
        y_pred = np.array([r[2] for r in scored], dtype=float)
        loss = np.abs(y_true - y_pred)
        out = {
            "r2": float(skm.r2_score(y_true, y_pred)) if n > 1 else float("nan"),
            "mae": float(loss.mean()),
        }
    else:
        y_true = np.array([key_text(v) for v in labels.to_numpy()], dtype=object)
        # a prediction kept as a number compares as a key does (1.0 is "1")
        y_pred = np.array([r[1] if r[2] is None else key_text(r[2]) for r in scored], dtype=object)
        correct = y_true == y_pred
        loss = (~correct).astype(float)
        out = {"accuracy": float(correct.mean())}
        positive = detail.get("positive")
        scores = np.array([np.nan if r[3] is None else r[3] for r in scored], dtype=float)
        truth = y_true == positive
        if positive is not None and 0 < truth.sum() < n and not np.isnan(scores).any():
            out["roc_auc"] = float(skm.roc_auc_score(truth, scores))
    out.update(
        n_labeled=float(n),
        loss_mean=float(loss.mean()),
        loss_sd=float(loss.std(ddof=1)) if n > 1 else 0.0,
    )
    return out


def pool_losses(windows):
    """``(n, mean, variance)`` of the losses of several windows pooled, from
    each window's ``(n, mean, standard deviation)``."""
    n = np.array([w[0] for w in windows], dtype=float)
    mean = np.array([w[1] for w in windows], dtype=float)
    sd = np.array([w[2] for w in windows], dtype=float)
    total = n.sum()
    pooled = float((n * mean).sum() / total)
    ss = ((n - 1) * sd**2).sum() + (n * (mean - pooled) ** 2).sum()
    return float(total), pooled, float(ss / max(total - 1, 1))


def drop_p_value(baseline, metrics):
    """One-sided Welch test that the batch's mean loss exceeds the baseline's."""
    n_b, mean_b, var_b = baseline
    n_w, mean_w, var_w = metrics["n_labeled"], metrics["loss_mean"], metrics["loss_sd"] ** 2
    se2 = var_b / n_b + var_w / n_w
    if se2 <= 0:
        return 0.0 if mean_w > mean_b else 1.0
    t = (mean_w - mean_b) / np.sqrt(se2)
    df = se2**2 / ((var_b / n_b) ** 2 / max(n_b - 1, 1) + (var_w / n_w) ** 2 / max(n_w - 1, 1))
    return float(stats.t.sf(t, df))


def _now():
    return datetime.datetime.now(datetime.UTC)


def _alarm_summary(name, reasons, row):
    parts = []
    if "drift" in reasons:
        parts.append(f"drift in {', '.join(map(str, row['drifted_features'][:5]))}")
    if "failed" in reasons:
        parts.append(f"{row['n_errors']} validation error(s)")
    if "error" in reasons:
        parts.append(f"not scored: {row['message']}")
    return f"{name}: " + "; ".join(parts)


def _line(i, n, row):
    """One line of the command's output for a batch (at most ~100 columns)."""
    width = len(str(n))
    head = f"{i:>{width}}/{n} {row['file']:<20} {row['status']:<10}"
    if row["status"] in ("skipped", "unreadable", "error", "failed"):
        text = f"{head} {row['message'] or ''}"
    else:
        text = f"{head} {row['n_rows']:>6} rows"
        if row["drifted_features"]:
            names = ", ".join(map(str, row["drifted_features"][:3]))
            more = len(row["drifted_features"]) - 3
            text += f"  drifted: {names}" + (f" (+{more})" if more > 0 else "")
    if row.get("retraining"):
        text += "  retraining run"
    return text if len(text) <= 100 else text[:97] + "..."
