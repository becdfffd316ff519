"""The run store's queries: tidy DataFrames of runs, drift history and the
other record tables.

Every query returns the same columns with the same dtypes whatever matches,
an empty frame when nothing does: text as pandas' ``str``, counts as
``Int64`` (nullable) or ``int64``, times as ``datetime64[us, UTC]``.
"""

import datetime

import pandas as pd

from mlpipe.monitor._time import utc_text
from mlpipe.utils._sklearn_compat import validate_params

TIME = "datetime64[us, UTC]"

RUN_COLUMNS = {
    "run_id": "str",
    "parent_id": "str",
    "model_id": "str",
    "model_name": "str",
    "model_version": "str",
    "kind": "str",
    "step": "str",
    "status": "str",
    "started_at": TIME,
    "duration_s": "float64",
    "batch_key": "str",
    "window": "Int64",
    "window_start": TIME,
    "window_end": TIME,
    "input_sha256": "str",
    "n_rows": "Int64",
    "n_columns": "Int64",
    "summary": "str",
    "detail": "str",
}
_RUN_SELECT = """
    SELECT r.run_id, r.parent_id, r.model_id, m.name, m.version, r.kind, r.step,
           r.status, r.started_at, r.duration_s, r.batch_key, r.window,
           r.window_start, r.window_end, i.sha256, r.n_rows, r.n_columns,
           r.summary, r.detail
    FROM runs r
    LEFT JOIN models m ON m.model_id = r.model_id
    LEFT JOIN io i ON i.run_id = r.run_id AND i.role = 'input'
"""

MODEL_COLUMNS = {
    "model_id": "str",
    "name": "str",
    "version": "str",
    "estimator": "str",
    "format_version": "Int64",
    "mlpipe_version": "str",
    "saved_at": TIME,
    "fitted_at": TIME,
    "training_sha256": "str",
    "training_n_rows": "Int64",
    "training_n_columns": "Int64",
    "target_sha256": "str",
    "source": "str",
    "registered_at": TIME,
}

HISTORY_COLUMNS = {
    "started_at": TIME,
    "run_id": "str",
    "model_id": "str",
    "step": "str",
    "window": "Int64",
    "window_start": TIME,
    "window_end": TIME,
    "feature": "str",
    "test": "str",
    "statistic": "float64",
    "p_value": "float64",
    "threshold": "float64",
    "drift": "bool",
    "status": "str",
    "effect_size": "float64",
    "effect_threshold": "float64",
    "n_reference": "int64",
    "n_batch": "int64",
    "note": "str",
}

# The columns of every child-table query start with its run's.
_RUN_HEAD = {
    "started_at": TIME,
    "run_id": "str",
    "model_id": "str",
    "step": "str",
    "window": "Int64",
}
_HEAD_SQL = "r.started_at, r.run_id, r.model_id, r.step, r.window"

FAILURE_COLUMNS = {
    **_RUN_HEAD,
    "column": "str",
    "check": "str",
    "severity": "str",
    "level": "str",
    "n_failed": "int64",
    "share": "float64",
    "p_value": "float64",
    "message": "str",
    "examples": "str",
    "rows": "str",
}
NULL_COLUMNS = {
    **_RUN_HEAD,
    "column": "str",
    "n_rows": "int64",
    "n_missing": "int64",
    "null_rate": "float64",
}
PREDICTION_COLUMNS = {
    **_RUN_HEAD,
    "statistic": "str",
    "label": "str",
    "level": "float64",
    "value": "float64",
    "n": "Int64",
}
GROUP_COLUMNS = {
    **_RUN_HEAD,
    "sensitive": "str",
    "group": "str",
    "label": "str",
    "n_group": "int64",
    "rate": "float64",
}
METRIC_COLUMNS = {**_RUN_HEAD, "metric": "str", "value": "float64"}
ESTIMATE_COLUMNS = {
    **_RUN_HEAD,
    "group_column": "str",
    "group": "str",
    "metric": "str",
    "estimate": "float64",
    "lower": "float64",
    "upper": "float64",
    "realized": "float64",
    "covered": "boolean",
    "n_rows": "int64",
    "n_calibration": "float64",
}

_CHILD_SQL = {
    "validation_failures": (
        "c.column_name, c.check_name, c.severity, c.level, c.n_failed, c.share, c.p_value,"
        " c.message, c.examples, c.rows",
        "c.position",
    ),
    "column_stats": (
        "c.column_name, c.n_rows, c.n_missing, CAST(c.n_missing AS REAL) / NULLIF(c.n_rows, 0)",
        "c.position",
    ),
    "prediction_stats": ("c.statistic, c.label, c.level, c.value, c.n", "c.position"),
    "group_rates": ("c.sensitive, c.grp, c.label, c.n_group, c.rate", "c.position"),
    "metrics": ("c.name, c.value", "c.name"),
    "performance_estimates": (
        "c.group_column, c.group_value, c.metric, c.estimate, c.lower, c.upper, c.realized,"
        " c.covered, c.n_rows, c.n_calibration",
        "c.position",
    ),
}

_FILTER = [str, list, tuple, None]
_TIME = [datetime.datetime, datetime.timedelta, str, None]


def frame(rows, spec):
    """A DataFrame of ``rows`` with the columns and dtypes of ``spec``."""
    out = pd.DataFrame.from_records(list(rows), columns=list(spec))
    for name, dtype in spec.items():
        column = out[name]
        if dtype == TIME:
            out[name] = pd.to_datetime(column, utc=True, format="ISO8601").astype(TIME)
        elif dtype == "bool":
            out[name] = column.astype("int64").astype("bool")
        else:
            out[name] = column.astype(dtype)
    return out


def _bound(value, name):
    """A ``since``/``until`` bound as stored text; a timedelta is back from now."""
    if isinstance(value, datetime.timedelta):
        value = datetime.datetime.now(datetime.UTC) - value
    return utc_text(value, name)


def _where(clauses, params, column, value):
    if value is None:
        return
    values = [value] if isinstance(value, str) else list(value)
    for v in values:
        if not isinstance(v, str):
            raise TypeError(f"Filter values of {column} must be str, got {v!r}.")
    clauses.append(f"{column} IN ({', '.join('?' * len(values))})")
    params.extend(values)


def _times(clauses, params, column, since, until):
    if since is not None:
        clauses.append(f"{column} >= ?")
        params.append(_bound(since, "since"))
    if until is not None:
        clauses.append(f"{column} < ?")
        params.append(_bound(until, "until"))


def _sql_where(clauses):
    return f" WHERE {' AND '.join(clauses)}" if clauses else ""


class QueryMixin:
    """The read side of :class:`RunStore`."""

    def _model_clause(self, clauses, params, model):
        if model is None:
            return
        models = [model] if isinstance(model, str) else list(model)
        marks = ", ".join("?" * len(models))
        clauses.append(f"(r.model_id IN ({marks}) OR m.name IN ({marks}))")
        params.extend(models + models)

    def models(self):
        """Return the registered models, in the order they were added.

        Returns
        -------
        models : DataFrame
            Columns ``model_id`` (the manifest's SHA-256), ``name``,
            ``version``, ``estimator``, ``format_version``,
            ``mlpipe_version``, ``saved_at``, ``fitted_at``,
            ``training_sha256``, ``training_n_rows``,
            ``training_n_columns``, ``target_sha256``, ``source`` (the file
            the manifest was read from) and ``registered_at``.
        """
        sql = f"SELECT {', '.join(MODEL_COLUMNS)} FROM models ORDER BY registered_at, rowid"
        return frame(self._query(sql), MODEL_COLUMNS)

    @validate_params(
        {
            "model": _FILTER,
            "step": _FILTER,
            "kind": _FILTER,
            "status": _FILTER,
            "since": _TIME,
            "until": _TIME,
        },
        prefer_skip_nested_validation=True,
    )
    def runs(self, *, model=None, step=None, kind=None, status=None, since=None, until=None):
        """Return the runs recorded, oldest first, one row per run.

        Every filter left None matches everything; a list matches any of
        its values. A filter that matches nothing gives an empty frame with
        the same columns.

        Parameters
        ----------
        model : str or list of str, default=None
            Model ids or names (as given to :meth:`add_model`).

        step : str or list of str, default=None
            Step names.

        kind : str or list of str, default=None
            Kinds: ``"batch"``, ``"validation"``, ``"drift"``,
            ``"predictions"``, ``"performance"``, ``"estimate"``,
            ``"staleness"``, ``"alarm"``, ``"retraining"``.

        status : str or list of str, default=None
            Statuses: ``"ok"``, ``"failed"``, ``"drift"``, ``"stale"``,
            ``"drop"``, ``"alarm"``, ``"error"``.

        since : datetime, timedelta or str, default=None
            Runs started at or after this time (naive: UTC); a timedelta
            counts back from now (``datetime.timedelta(days=7)``).

        until : datetime, timedelta or str, default=None
            Runs started before this time.

        Returns
        -------
        runs : DataFrame
            Columns ``run_id``, ``parent_id``, ``model_id``, ``model_name``,
            ``model_version``, ``kind``, ``step``, ``status``, ``started_at``
            (``datetime64[us, UTC]``), ``duration_s``, ``batch_key``,
            ``window``, ``window_start``, ``window_end``, ``input_sha256``
            (the fingerprint of the data it read), ``n_rows``,
            ``n_columns``, ``summary`` and ``detail`` (JSON).
        """
        clauses, params = [], []
        self._model_clause(clauses, params, model)
        _where(clauses, params, "r.step", step)
        _where(clauses, params, "r.kind", kind)
        _where(clauses, params, "r.status", status)
        _times(clauses, params, "r.started_at", since, until)
        sql = _RUN_SELECT + _sql_where(clauses) + " ORDER BY r.started_at, r.rowid"
        return frame(self._query(sql, params), RUN_COLUMNS)

    @validate_params(
        {"feature": _FILTER, "model": _FILTER, "since": _TIME, "until": _TIME},
        prefer_skip_nested_validation=True,
    )
    def history(self, *, feature=None, model=None, since=None, until=None):
        """Return the drift tests of each feature across windows, oldest first.

        One row per test of every recorded drift run (a feature has one row
        per test per window: its distribution test and, when it has missing
        values, a ``"missing_rate"`` test), with the values of
        :meth:`DriftReport.to_frame <mlpipe.drift.DriftReport.to_frame>`
        exactly as reported. A feature never recorded gives an empty frame
        (not an error) with the same columns.

        Parameters
        ----------
        feature : str or list of str, default=None
            The features; all when None. A non-str column label is recorded
            as its ``str``.

        model : str or list of str, default=None
            Model ids or names.

        since : datetime, timedelta or str, default=None
            Windows whose run started at or after this time (naive: UTC; a
            timedelta counts back from now).

        until : datetime, timedelta or str, default=None
            Windows whose run started before this time.

        Returns
        -------
        history : DataFrame
            Columns ``started_at``, ``run_id``, ``model_id``, ``step``,
            ``window``, ``window_start``, ``window_end``, then the report's
            ``feature``, ``test``, ``statistic``, ``p_value``,
            ``threshold``, ``drift`` (bool), ``status``, ``effect_size``,
            ``effect_threshold``, ``n_reference``, ``n_batch`` and
            ``note``.
        """
        clauses, params = [], []
        _where(clauses, params, "d.feature", feature)
        self._model_clause(clauses, params, model)
        _times(clauses, params, "r.started_at", since, until)
        sql = (
            "SELECT r.started_at, r.run_id, r.model_id, r.step, r.window, r.window_start,"
            " r.window_end, d.feature, d.test, d.statistic, d.p_value, d.threshold, d.drift,"
            " d.status, d.effect_size, d.effect_threshold, d.n_reference, d.n_batch, d.note"
            " FROM drift_tests d JOIN runs r ON r.run_id = d.run_id"
            " LEFT JOIN models m ON m.model_id = r.model_id"
            + _sql_where(clauses)
            + " ORDER BY r.started_at, r.rowid, d.position"
        )
        return frame(self._query(sql, params), HISTORY_COLUMNS)

    def _child(self, table, spec, model, since, until, column=None, value=None):
        columns, order = _CHILD_SQL[table]
        clauses, params = [], []
        self._model_clause(clauses, params, model)
        _times(clauses, params, "r.started_at", since, until)
        if column is not None:
            _where(clauses, params, column, value)
        sql = (
            f"SELECT {_HEAD_SQL}, {columns} FROM {table} c JOIN runs r ON r.run_id = c.run_id"
            " LEFT JOIN models m ON m.model_id = r.model_id"
            + _sql_where(clauses)
            + f" ORDER BY r.started_at, r.rowid, {order}"
        )
        return frame(self._query(sql, params), spec)

    @validate_params(
        {"column": _FILTER, "model": _FILTER, "since": _TIME, "until": _TIME},
        prefer_skip_nested_validation=True,
    )
    def failures(self, *, column=None, model=None, since=None, until=None):
        """Return the validation failures recorded, one row per failed check.

        The rows of :meth:`ValidationReport.to_frame
        <mlpipe.validation.ValidationReport.to_frame>` of every recorded
        validation run, oldest first; an empty frame when none matches.

        Parameters
        ----------
        column : str or list of str, default=None
            The columns (as ``str``); all when None.

        model : str or list of str, default=None
            Model ids or names.

        since, until : datetime, timedelta or str, default=None
            Runs started in ``[since, until)`` (naive: UTC; a timedelta
            counts back from now).

        Returns
        -------
        failures : DataFrame
            Columns ``started_at``, ``run_id``, ``model_id``, ``step``,
            ``window``, then ``column`` (missing for a failure of the
            column order), ``check``, ``severity``, ``level``,
            ``n_failed``, ``share``, ``p_value``, ``message``, ``examples``
            and ``rows`` (both JSON lists).
        """
        return self._child(
            "validation_failures", FAILURE_COLUMNS, model, since, until, "c.column_name", column
        )

    @validate_params(
        {"column": _FILTER, "model": _FILTER, "since": _TIME, "until": _TIME},
        prefer_skip_nested_validation=True,
    )
    def null_rates(self, *, column=None, model=None, since=None, until=None):
        """Return the missing values of every column of each validated batch.

        Recorded by :meth:`record_validation` when ``X`` is a DataFrame.

        Parameters
        ----------
        column : str or list of str, default=None
            The columns (as ``str``); all when None.

        model : str or list of str, default=None
            Model ids or names.

        since, until : datetime, timedelta or str, default=None
            Runs started in ``[since, until)``.

        Returns
        -------
        null_rates : DataFrame
            Columns ``started_at``, ``run_id``, ``model_id``, ``step``,
            ``window``, ``column``, ``n_rows``, ``n_missing`` and
            ``null_rate``.
        """
        return self._child(
            "column_stats", NULL_COLUMNS, model, since, until, "c.column_name", column
        )

    @validate_params(
        {"model": _FILTER, "since": _TIME, "until": _TIME},
        prefer_skip_nested_validation=True,
    )
    def predictions(self, *, model=None, since=None, until=None):
        """Return the prediction summaries recorded, one row per statistic.

        Parameters
        ----------
        model : str or list of str, default=None
            Model ids or names.

        since, until : datetime, timedelta or str, default=None
            Runs started in ``[since, until)``.

        Returns
        -------
        predictions : DataFrame
            Columns ``started_at``, ``run_id``, ``model_id``, ``step``,
            ``window``, ``statistic`` (``"rate"`` of a class, or
            ``"quantile"``, ``"mean"``, ``"missing"`` for a regression),
            ``label`` (the class, as ``str``), ``level`` (the quantile's),
            ``value`` (the rate, quantile, mean or missing count) and ``n``
            (the rows it counts).
        """
        return self._child("prediction_stats", PREDICTION_COLUMNS, model, since, until)

    @validate_params(
        {"sensitive": _FILTER, "model": _FILTER, "since": _TIME, "until": _TIME},
        prefer_skip_nested_validation=True,
    )
    def selection_rates(self, *, sensitive=None, model=None, since=None, until=None):
        """Return the rate of each predicted class in each sensitive group.

        For the positive class, the rate is the group's selection rate
        (fairlearn's ``selection_rate`` on the group's rows).

        Parameters
        ----------
        sensitive : str or list of str, default=None
            The sensitive columns' names (``"sensitive"`` when the groups
            were given as an array); all when None.

        model : str or list of str, default=None
            Model ids or names.

        since, until : datetime, timedelta or str, default=None
            Runs started in ``[since, until)``.

        Returns
        -------
        selection_rates : DataFrame
            Columns ``started_at``, ``run_id``, ``model_id``, ``step``,
            ``window``, ``sensitive``, ``group`` and ``label`` (as ``str``),
            ``n_group`` (the group's rows) and ``rate``.
        """
        return self._child(
            "group_rates", GROUP_COLUMNS, model, since, until, "c.sensitive", sensitive
        )

    @validate_params(
        {"metric": _FILTER, "model": _FILTER, "since": _TIME, "until": _TIME},
        prefer_skip_nested_validation=True,
    )
    def performance(self, *, metric=None, model=None, since=None, until=None):
        """Return the realized performance recorded, one row per metric and run.

        Parameters
        ----------
        metric : str or list of str, default=None
            The metrics' names; all when None.

        model : str or list of str, default=None
            Model ids or names.

        since, until : datetime, timedelta or str, default=None
            Runs started in ``[since, until)``.

        Returns
        -------
        performance : DataFrame
            Columns ``started_at``, ``run_id``, ``model_id``, ``step``,
            ``window``, ``metric`` and ``value``.
        """
        return self._child("metrics", METRIC_COLUMNS, model, since, until, "c.name", metric)

    @validate_params(
        {"metric": _FILTER, "model": _FILTER, "since": _TIME, "until": _TIME},
        prefer_skip_nested_validation=True,
    )
    def estimates(self, *, metric=None, model=None, since=None, until=None):
        """Return the performance estimates recorded, one row per metric, group and run.

        The rows of each :class:`~mlpipe.drift.PerformanceReport` recorded
        (by :meth:`record_performance_estimate`, or by a
        :class:`~mlpipe.drift.DriftMonitor` with a ``performance``
        estimator), exactly as reported.

        Parameters
        ----------
        metric : str or list of str, default=None
            The metrics' names (``"accuracy"``, ``"roc_auc"``...); all when None.

        model : str or list of str, default=None
            Model ids or names.

        since, until : datetime, timedelta or str, default=None
            Runs started in ``[since, until)``.

        Returns
        -------
        estimates : DataFrame
            Columns ``started_at``, ``run_id``, ``model_id``, ``step``,
            ``window``, ``group_column``, ``group``, ``metric``, ``estimate``,
            ``lower``, ``upper``, ``realized``, ``covered`` (missing without
            labels), ``n_rows`` and ``n_calibration``.
        """
        return self._child(
            "performance_estimates", ESTIMATE_COLUMNS, model, since, until, "c.metric", metric
        )

    @validate_params({"key": [str]}, prefer_skip_nested_validation=True)
    def has_batch(self, key):
        """Return whether a batch of this key is recorded.

        Parameters
        ----------
        key : str
            The batch's key, such as :func:`batch_key` of its file.

        Returns
        -------
        recorded : bool
            True once a :meth:`batch` block of that key has been written
            (by any process); a block that raised wrote nothing.
        """
        rows = self._query(
            "SELECT 1 FROM runs WHERE kind = 'batch' AND batch_key = ? LIMIT 1", (key,)
        )
        return bool(rows)
