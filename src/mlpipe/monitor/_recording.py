"""The records a RunStore writes: one method per kind of guarded event.

Each turns its input (a report, predictions, metrics) into the rows of
:mod:`mlpipe.monitor._records` and writes them as one run through
``RunStore._record``: at once in one transaction, or with the open batch.
"""

import datetime
from collections.abc import Mapping
from numbers import Integral, Real

import numpy as np
import pandas as pd

from mlpipe.drift import DriftReport, PerformanceReport
from mlpipe.monitor import _records
from mlpipe.utils._fingerprint import fingerprint as _fingerprint
from mlpipe.utils._scalar import python_scalar
from mlpipe.utils._sklearn_compat import Interval, StrOptions, validate_params
from mlpipe.validation import ValidationReport

# From the worst: a batch takes the worst status of its records.
STATUSES = ("error", "failed", "drift", "stale", "drop", "alarm", "ok")
_TIME = [datetime.datetime, str, None]
_POINTER = ["array-like", Mapping, None]
_COMMON = {
    "model": [str, None],
    "step": [str, None],
    "parent": [str, None],
    "started_at": _TIME,
    "duration": [Interval(Real, 0, None, closed="left"), datetime.timedelta, None],
    "window": [Interval(Integral, 0, None, closed="left"), None],
    "window_start": _TIME,
    "window_end": _TIME,
    "detail": [dict, None],
}


class RecordingMixin:
    """The write side of :class:`RunStore`."""

    @validate_params(
        {"report": [ValidationReport], "X": _POINTER, **_COMMON},
        prefer_skip_nested_validation=True,
    )
    def record_validation(
        self,
        report,
        *,
        X=None,
        model=None,
        step=None,
        parent=None,
        started_at=None,
        duration=None,
        window=None,
        window_start=None,
        window_end=None,
        detail=None,
    ):
        """Record what a batch failed: one row per failed check and column.

        Parameters
        ----------
        report : ValidationReport
            The report of the batch (a SchemaValidator's ``last_report_``, or
            :meth:`~mlpipe.validation.Schema.validate`'s result).

        X : array-like or dict, default=None
            The batch (its fingerprint is recorded as the run's input, and
            for a DataFrame the null count of every column), or its
            :func:`fingerprint`.

        model : str, default=None
            The id (or name) of the model, from :meth:`add_model`.

        step : str, default=None
            The pipeline step's name; the kind (``"validation"``) when None.

        parent : str, default=None
            The run this one belongs to (inside :meth:`batch`: the batch).

        started_at : datetime or str, default=None
            When the step started (naive: UTC); now when None.

        duration : float or timedelta, default=None
            How long it took, in seconds.

        window : int, default=None
            The window's number, for a windowed step.

        window_start, window_end : datetime or str, default=None
            The window's first and last row times.

        detail : dict, default=None
            More to keep with the run, as JSON.

        Returns
        -------
        run_id : str
            The new run's id. Its status is ``"failed"`` when a check gave an
            error, else ``"ok"``.
        """
        pointer = self._pointer(X, "X")
        extra = {
            "n_errors": len(report.errors),
            "n_warnings": len(report.warnings),
            "n_dropped": int(report.n_dropped),
            **(detail or {}),
        }
        children = [("validation_failures", _records.validation_rows(report))]
        if isinstance(X, pd.DataFrame):
            children.append(("column_stats", _records.column_rows(X)))
        return self._record(
            "validation",
            "ok" if report.passed else "failed",
            model=model,
            step=step,
            parent=parent,
            started_at=started_at,
            duration=duration,
            window=window,
            window_start=window_start,
            window_end=window_end,
            n_rows=report.n_rows,
            n_columns=report.n_columns,
            summary=report.summary(),
            detail=extra,
            pointers=None if pointer is None else {"input": pointer},
            children=children,
        )

    def _record_clean_validations(self, frames, *, model=None, step=None, started_at=None):
        """One validation run for consecutive batches of one step that passed
        every check (the serving path's writer coalesces them): its input is
        the fingerprint of the batches together, its column stats their null
        counts, and no failure rows."""
        X = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
        return self._record(
            "validation",
            "ok",
            model=model,
            step=step,
            started_at=started_at,
            n_rows=len(X),
            n_columns=X.shape[1] if X.ndim == 2 else 1,
            summary=f"{len(frames)} batch(es) of {len(X)} row(s) passed every check",
            detail={"n_errors": 0, "n_warnings": 0, "n_dropped": 0, "n_batches": len(frames)},
            pointers={"input": _fingerprint(X, "X")},
            children=[("column_stats", _records.column_rows(X))],
        )

    @validate_params(
        {"report": [DriftReport], "X": _POINTER, "reference": _POINTER, **_COMMON},
        prefer_skip_nested_validation=True,
    )
    def record_drift(
        self,
        report,
        *,
        X=None,
        reference=None,
        model=None,
        step=None,
        parent=None,
        started_at=None,
        duration=None,
        window=None,
        window_start=None,
        window_end=None,
        detail=None,
    ):
        """Record a drift check: every test's statistic, p-value and effect size.

        Parameters
        ----------
        report : DriftReport
            The report of the batch or window (a detector's ``detect``, an
            entry of a DriftMonitor's ``history_``).

        X : array-like or dict, default=None
            The batch or window tested, or its :func:`fingerprint`.

        reference : array-like or dict, default=None
            The reference it was compared with, or its fingerprint: the
            lineage of a prediction batch reaches it.

        model : str, default=None
            The id (or name) of the model, from :meth:`add_model`.

        step : str, default=None
            The pipeline step's name; the kind (``"drift"``) when None.

        parent : str, default=None
            The run this one belongs to (inside :meth:`batch`: the batch).

        started_at : datetime or str, default=None
            When the check started (naive: UTC); now when None.

        duration : float or timedelta, default=None
            How long it took, in seconds.

        window : int, default=None
            The window's number (a DriftMonitor's position in ``history_``).

        window_start, window_end : datetime or str, default=None
            The window's first and last row times.

        detail : dict, default=None
            More to keep with the run, as JSON.

        Returns
        -------
        run_id : str
            The new run's id. Its status is ``"drift"`` when the report's
            verdict is drift, else ``"ok"``.
        """
        pointers = {}
        for role, value in (("input", X), ("reference", reference)):
            pointer = self._pointer(value, "X" if role == "input" else role)
            if pointer is not None:
                pointers[role] = pointer
        rows = _records.drift_rows(report)
        importance = getattr(report, "importance", None)
        drifted = _records.drifted_features(rows, importance)
        if importance:  # the share of the model's reliance that drifted
            detail = {"drifted_importance": report.drifted_importance, **(detail or {})}
        extra = {
            "alpha": report.alpha,
            "correction": report.correction,
            "drift_share": report.drift_share,
            "n_reference": int(report.n_reference),
            "drifted_features": drifted,
            **(detail or {}),
        }
        n_columns = pointers["input"].get("columns") if "input" in pointers else None
        return self._record(
            "drift",
            "drift" if report.drift else "ok",
            model=model,
            step=step,
            parent=parent,
            started_at=started_at,
            duration=duration,
            window=window,
            window_start=window_start,
            window_end=window_end,
            n_rows=report.n_batch,
            n_columns=None if n_columns is None else len(n_columns),
            summary=_records.drift_summary(report, rows, drifted),
            detail=extra,
            pointers=pointers,
            children=[("drift_tests", rows)],
        )

    @validate_params(
        {
            "y_pred": ["array-like"],
            "sensitive": ["array-like", str, None],
            "task": [StrOptions({"auto", "classification", "regression"})],
            "keys": ["array-like", str, None],
            "scores": ["array-like", None],
            **_COMMON,
            "X": _POINTER,
        },
        prefer_skip_nested_validation=True,
    )
    def record_predictions(
        self,
        y_pred,
        *,
        X=None,
        sensitive=None,
        task="auto",
        keys=None,
        scores=None,
        model=None,
        step=None,
        parent=None,
        started_at=None,
        duration=None,
        window=None,
        window_start=None,
        window_end=None,
        detail=None,
    ):
        """Record a prediction batch: the rate of each class, or quantiles.

        With ``keys``, each prediction is also kept by its row's key, so that
        ground truth arriving later, joined by the same key, scores this
        batch (what :class:`MonitoringLoop` does with its ``labels``).

        Parameters
        ----------
        y_pred : array-like of shape (n_samples,)
            The predictions. Their fingerprint is recorded as the run's
            output.

        X : array-like or dict, default=None
            The rows predicted (or their :func:`fingerprint`): the run's
            input, which links it to the validation and drift runs of the
            same rows.

        sensitive : array-like of shape (n_samples,) or str, default=None
            The sensitive group of each row, or the name of its column in
            ``X``. For a classification, the rate of each predicted class in
            each group is recorded (the selection rate of the positive
            class); a regression has none.

        task : {"auto", "classification", "regression"}, default="auto"
            A classification records the rate of each class, a regression
            the 5, 25, 50, 75 and 95% quantiles, the mean and the missing
            count. ``"auto"``: a regression when the predictions are floats
            not all whole numbers (scikit-learn's ``type_of_target`` calls
            them continuous).

        keys : array-like of shape (n_samples,) or str, default=None
            The key of each row (unique within the batch), or the name of its
            column in ``X``: each prediction is kept with it (as text, with
            the score) in the table ``scored_rows``.

        scores : array-like of shape (n_samples,), default=None
            With ``keys``: a score per row to keep with it, such as the
            probability of the positive class (for a later ROC AUC).

        model : str, default=None
            The id (or name) of the model, from :meth:`add_model`.

        step : str, default=None
            The step's name; the kind (``"predictions"``) when None.

        parent : str, default=None
            The run this one belongs to (inside :meth:`batch`: the batch).

        started_at : datetime or str, default=None
            When the prediction started (naive: UTC); now when None.

        duration : float or timedelta, default=None
            How long it took, in seconds.

        window : int, default=None
            The window's number.

        window_start, window_end : datetime or str, default=None
            The window's first and last row times.

        detail : dict, default=None
            More to keep with the run, as JSON.

        Returns
        -------
        run_id : str
            The new run's id.
        """
        y = np.asarray(y_pred)
        if y.ndim != 1 or len(y) == 0:
            raise ValueError(f"y_pred must be 1-dimensional and not empty, got shape {y.shape}.")
        task = _records.prediction_task(y, task)
        children = [("prediction_stats", _records.prediction_rows(y, task))]
        if sensitive is not None:
            if task != "classification":
                raise ValueError(
                    "Selection rates by group need class predictions; these are a "
                    "regression's (task='regression'): leave sensitive=None."
                )
            name, groups = "sensitive", sensitive
            if isinstance(sensitive, str):
                if not isinstance(X, pd.DataFrame) or sensitive not in X.columns:
                    raise ValueError(
                        f"sensitive={sensitive!r} names a column of X, but X is not a "
                        "DataFrame with that column; pass the groups as an array instead."
                    )
                name, groups = sensitive, X[sensitive]
            groups = np.asarray(groups)
            if groups.shape != y.shape:
                raise ValueError(
                    f"sensitive has {len(groups)} values and y_pred {len(y)}: give one "
                    "group per prediction."
                )
            children.append(("group_rates", _records.group_rows(y, groups, name)))
        if keys is not None:
            children.append(("scored_rows", _records.scored_rows(y, keys, scores, X)))
        elif scores is not None:
            raise ValueError("scores are kept with the rows' keys: give keys too.")
        pointers = {"output": _fingerprint(y, "y_pred")}
        pointer = self._pointer(X, "X")
        if pointer is not None:
            pointers["input"] = pointer
        return self._record(
            "predictions",
            "ok",
            model=model,
            step=step,
            parent=parent,
            started_at=started_at,
            duration=duration,
            window=window,
            window_start=window_start,
            window_end=window_end,
            n_rows=len(y),
            summary=f"{len(y)} prediction(s) ({task})",
            detail={"task": task, **(detail or {})},
            pointers=pointers,
            children=children,
        )

    @validate_params(
        {
            "metrics": [dict],
            "labels": _POINTER,
            "drop": ["boolean"],
            **_COMMON,
            "X": _POINTER,
        },
        prefer_skip_nested_validation=True,
    )
    def record_performance(
        self,
        metrics,
        *,
        X=None,
        labels=None,
        drop=False,
        model=None,
        step=None,
        parent=None,
        started_at=None,
        duration=None,
        window=None,
        window_start=None,
        window_end=None,
        detail=None,
    ):
        """Record realized performance, once the labels of a batch arrived.

        Parameters
        ----------
        metrics : dict of str to float
            The scores, by name (``{"accuracy": 0.81, "roc_auc": 0.77}``,
            ``{"r2": ..., "mae": ...}``, ``{"n_labeled": 180}``).

        X : array-like or dict, default=None
            The rows scored, or their :func:`fingerprint`.

        labels : array-like or dict, default=None
            The ground truth joined to them, or its fingerprint.

        drop : bool, default=False
            Whether the caller found a drop (the run's status is then
            ``"drop"``, else ``"ok"``).

        model : str, default=None
            The id (or name) of the model, from :meth:`add_model`.

        step : str, default=None
            The step's name; the kind (``"performance"``) when None.

        parent : str, default=None
            The run this one belongs to, such as the batch whose labels came.

        started_at : datetime or str, default=None
            When the scoring started (naive: UTC); now when None.

        duration : float or timedelta, default=None
            How long it took, in seconds.

        window : int, default=None
            The window's number.

        window_start, window_end : datetime or str, default=None
            The window's first and last row times.

        detail : dict, default=None
            More to keep with the run, as JSON.

        Returns
        -------
        run_id : str
            The new run's id.
        """
        rows = []
        for name, value in metrics.items():
            if not isinstance(name, str):
                raise TypeError(f"metrics must be keyed by name (str), got {name!r}.")
            value = python_scalar(value)
            if not isinstance(value, Real) or isinstance(value, bool):
                raise TypeError(f"metrics[{name!r}] must be a number, got {value!r}.")
            rows.append((name, None if value != value else float(value)))
        pointers = {}
        for role, value in (("input", X), ("labels", labels)):
            pointer = self._pointer(value, "X" if role == "input" else role)
            if pointer is not None:
                pointers[role] = pointer
        shown = ", ".join(f"{n}={v:.4g}" for n, v in rows if v is not None)
        return self._record(
            "performance",
            "drop" if drop else "ok",
            model=model,
            step=step,
            parent=parent,
            started_at=started_at,
            duration=duration,
            window=window,
            window_start=window_start,
            window_end=window_end,
            n_rows=pointers["input"].get("n_rows") if "input" in pointers else None,
            summary=shown or "no metric",
            detail=detail,
            pointers=pointers,
            children=[("metrics", rows)],
        )

    @validate_params(
        {"report": [PerformanceReport], **_COMMON, "X": _POINTER},
        prefer_skip_nested_validation=True,
    )
    def record_performance_estimate(
        self,
        report,
        *,
        X=None,
        model=None,
        step=None,
        parent=None,
        started_at=None,
        duration=None,
        window=None,
        window_start=None,
        window_end=None,
        detail=None,
    ):
        """Record a performance estimate made without labels.

        Every row of the :class:`~mlpipe.drift.PerformanceReport` (metric and
        group): the estimate, its interval, the calibration rows it rests on
        and, when the report was made with labels, the realized value and
        whether the interval held it.

        Parameters
        ----------
        report : PerformanceReport
            What :meth:`PerformanceEstimator.estimate
            <mlpipe.drift.PerformanceEstimator.estimate>` returned (or a
            DriftMonitor window's ``report.performance``).

        X : array-like or dict, default=None
            The window estimated, or its :func:`fingerprint`.

        model : str, default=None
            The id (or name) of the model, from :meth:`add_model`.

        step : str, default=None
            The step's name; the kind (``"estimate"``) when None.

        parent : str, default=None
            The run this one belongs to, such as the window's drift check.

        started_at : datetime or str, default=None
            When the estimate started (naive: UTC); now when None.

        duration : float or timedelta, default=None
            How long it took, in seconds.

        window : int, default=None
            The window's number.

        window_start, window_end : datetime or str, default=None
            The window's first and last row times.

        detail : dict, default=None
            More to keep with the run, as JSON.

        Returns
        -------
        run_id : str
            The new run's id. Its status is ``"ok"``: an estimate is not a
            verdict (a realized value outside its interval is in the rows'
            ``covered``).
        """
        pointers = {}
        pointer = self._pointer(X, "X")
        if pointer is not None:
            pointers["input"] = pointer
        rows = _records.estimate_rows(report)
        extra = {"confidence": report.confidence, **(detail or {})}
        return self._record(
            "estimate",
            "ok",
            model=model,
            step=step,
            parent=parent,
            started_at=started_at,
            duration=duration,
            window=window,
            window_start=window_start,
            window_end=window_end,
            n_rows=int(report.n_rows),
            summary=report.summary(),
            detail=extra,
            pointers=pointers,
            children=[("performance_estimates", rows)],
        )

    @validate_params(
        {
            "kind": [StrOptions({"alarm", "retraining"})],
            "status": [StrOptions(set(STATUSES))],
            "summary": [str, None],
            **_COMMON,
        },
        prefer_skip_nested_validation=True,
    )
    def record_event(
        self,
        kind,
        *,
        status="ok",
        summary=None,
        model=None,
        step=None,
        parent=None,
        started_at=None,
        duration=None,
        window=None,
        window_start=None,
        window_end=None,
        detail=None,
    ):
        """Record an alarm raised, or a retraining command run.

        Parameters
        ----------
        kind : {"alarm", "retraining"}
            What happened.

        status : str, default="ok"
            One of ``"error"``, ``"failed"``, ``"drift"``, ``"stale"``,
            ``"drop"``, ``"alarm"``, ``"ok"``: for an alarm, usually
            ``"alarm"``; for a retraining run, ``"ok"`` or ``"error"`` by its
            exit code.

        summary : str, default=None
            One line saying what happened.

        model : str, default=None
            The id (or name) of the model, from :meth:`add_model`.

        step : str, default=None
            The step's name; the kind when None.

        parent : str, default=None
            The run that caused it (the drifted window's run, the alarm of a
            retraining run).

        started_at : datetime or str, default=None
            When it started (naive: UTC); now when None.

        duration : float or timedelta, default=None
            How long it took, in seconds.

        window : int, default=None
            The window's number.

        window_start, window_end : datetime or str, default=None
            The window's first and last row times.

        detail : dict, default=None
            What to keep as JSON: the command, its exit code, the drifted
            features, the rule that fired.

        Returns
        -------
        run_id : str
            The new run's id.
        """
        return self._record(
            kind,
            status,
            model=model,
            step=step,
            parent=parent,
            started_at=started_at,
            duration=duration,
            window=window,
            window_start=window_start,
            window_end=window_end,
            summary=summary,
            detail=detail,
        )
