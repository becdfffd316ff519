"""The run store's queries: tidy DataFrames of runs, drift history, lineage
and staleness.

Every query returns the same columns with the same dtypes whatever matches,
an empty frame when nothing does: text as pandas' ``str``, counts as
``Int64`` (nullable) or ``int64``, times as ``datetime64[us, UTC]``.
"""

import datetime
import json
from numbers import Integral

import pandas as pd

from mlpipe.monitor._reports import Lineage, StalenessReport
from mlpipe.monitor._time import now_text, utc_text
from mlpipe.utils._sklearn_compat import Interval, validate_params

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

LINEAGE_COLUMNS = {
    "relation": "str",
    "depth": "int64",
    "run_id": "str",
    "kind": "str",
    "step": "str",
    "status": "str",
    "started_at": TIME,
    "model_id": "str",
    "role": "str",
    "sha256": "str",
    "n_rows": "Int64",
    "n_columns": "Int64",
}

RULE_COLUMNS = {
    "rule": "str",
    "fired": "bool",
    "value": "float64",
    "threshold": "float64",
    "detail": "str",
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
            ``"predictions"``, ``"performance"``, ``"staleness"``,
            ``"alarm"``, ``"retraining"``.

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

    def _run_row(self, run_id):
        rows = self._query(
            "SELECT run_id, parent_id, kind, step, status, started_at, model_id"
            " FROM runs WHERE run_id = ?",
            (run_id,),
        )
        return rows[0] if rows else None

    @validate_params({"run_id": [str]}, prefer_skip_nested_validation=True)
    def lineage(self, run_id):
        """Walk from a run back to its model, training data and reference.

        The run, then its parent runs up to the root (``relation="parent"``),
        then the runs that read the same input data by fingerprint
        (``"same_input"``: the validation and drift runs of the rows a
        prediction batch scored), then the model those runs name with the
        fingerprint of its training data (``"model"``, from its manifest).

        Parameters
        ----------
        run_id : str
            The run to start from.

        Returns
        -------
        lineage : Lineage
            The walk as a table (:meth:`Lineage.to_frame`), the model, its
            training data's fingerprint and the references compared with.

        Raises
        ------
        ValueError
            If there is no run ``run_id`` in the store.
        """
        row = self._run_row(run_id)
        if row is None:
            raise ValueError(f"No run {run_id!r} in {self._where}.")
        nodes = [("self", 0, row)]
        seen = {run_id}
        while row[1] is not None and row[1] not in seen:
            row = self._run_row(row[1])
            if row is None:
                break
            seen.add(row[0])
            nodes.append(("parent", len(nodes), row))
        chain_ids = [n[2][0] for n in nodes]
        marks = ", ".join("?" * len(chain_ids))
        related = self._query(
            "SELECT DISTINCT r.run_id, r.parent_id, r.kind, r.step, r.status, r.started_at,"
            " r.model_id FROM io a JOIN io b ON b.sha256 = a.sha256 AND b.role = 'input'"
            f" JOIN runs r ON r.run_id = b.run_id WHERE a.role = 'input' AND a.run_id IN ({marks})"
            " ORDER BY r.started_at, r.rowid",
            chain_ids,
        )
        for other in related:
            if other[0] not in seen:
                seen.add(other[0])
                nodes.append(("same_input", 1, other))
        ids = [n[2][0] for n in nodes]
        marks = ", ".join("?" * len(ids))
        pointers = {}
        for rid, role, sha, n_rows, n_columns in self._query(
            "SELECT io.run_id, io.role, io.sha256, d.n_rows, d.n_columns FROM io"
            f" JOIN data d ON d.sha256 = io.sha256 WHERE io.run_id IN ({marks})"
            " ORDER BY io.role",
            ids,
        ):
            pointers.setdefault(rid, []).append((role, sha, n_rows, n_columns))
        rows, references = [], []
        for relation, depth, (rid, _, kind, step, status, started, model_id) in nodes:
            head = (relation, depth, rid, kind, step, status, started, model_id)
            for role, sha, n_rows, n_columns in pointers.get(rid, [(None,) * 4]):
                rows.append((*head, role, sha, n_rows, n_columns))
                if role == "reference":
                    references.append(
                        {"run_id": rid, "sha256": sha, "n_rows": n_rows, "n_columns": n_columns}
                    )
        model_ids = list(dict.fromkeys(n[2][6] for n in nodes if n[2][6] is not None))
        model = training = None
        depth = max(n[1] for n in nodes) + 1
        for i, model_id in enumerate(model_ids):
            info = self._model_row(model_id)
            if i == 0:
                model = info
                if info["training_sha256"] is not None:
                    training = {
                        "sha256": info["training_sha256"],
                        "n_rows": info["training_n_rows"],
                        "n_columns": info["training_n_columns"],
                    }
            base = ("model", depth, None, "model", None, None, info["registered_at"], model_id)
            rows.append(
                (
                    *base,
                    "training",
                    info["training_sha256"],
                    info["training_n_rows"],
                    info["training_n_columns"],
                )
            )
            if info["target_sha256"] is not None:
                rows.append((*base, "target", info["target_sha256"], None, None))
        return Lineage(
            run_id=run_id,
            frame=frame(rows, LINEAGE_COLUMNS),
            model=model,
            training_data=training,
            references=references,
        )

    def _model_row(self, model_id):
        with self._lock:
            cursor = self._connection.execute(
                "SELECT * FROM models WHERE model_id = ?", (model_id,)
            )
            names = [d[0] for d in cursor.description]
            values = cursor.fetchone()
        info = dict(zip(names, values, strict=True))
        info["manifest"] = json.loads(info["manifest"])
        return info

    @validate_params(
        {
            "model": [str],
            "max_age": [datetime.timedelta, str, None],
            "k": [Interval(Integral, 1, None, closed="left"), None],
            "m": [Interval(Integral, 1, None, closed="left"), None],
            "now": [datetime.datetime, str, None],
            "record": ["boolean"],
        },
        prefer_skip_nested_validation=True,
    )
    def staleness(self, model, *, max_age=None, k=None, m=None, now=None, record=True):
        """Check whether a model is stale, and record the verdict as a run.

        Two rules, each checked when its parameters are given: the model's
        training data is older than ``max_age`` (the manifest's
        ``fitted_at``, or ``saved_at`` when the model was saved without it),
        or at least ``k`` of its last ``m`` drift runs (windows) drifted.
        With fewer than ``m`` drift runs recorded, the ones there are count.

        Parameters
        ----------
        model : str
            The model's id or name, from :meth:`add_model`.

        max_age : timedelta or str, default=None
            The age at which training data is too old (``"30D"``,
            ``datetime.timedelta(days=30)``).

        k : int, default=None
            How many drifted windows make a model stale; needs ``m``.

        m : int, default=None
            How many of the latest drift windows to look at; ``m >= k``.

        now : datetime or str, default=None
            The time of the check (naive: UTC); the clock's when None. Drift
            runs started after it are not counted.

        record : bool, default=True
            Record the verdict as a run of kind ``"staleness"`` (status
            ``"stale"`` or ``"ok"``) with one row per rule.

        Returns
        -------
        report : StalenessReport
            The verdict, the rules and which fired, and the recorded run.

        Raises
        ------
        ValueError
            If no rule is given, only one of ``k`` and ``m``, ``k > m``, or
            the model is not in the store.
        """
        if max_age is None and k is None and m is None:
            raise ValueError("Give a staleness rule: max_age, or k and m (or both).")
        if (k is None) != (m is None):
            raise ValueError(f"k and m go together (k of the last m windows); got k={k}, m={m}.")
        if k is not None and k > m:
            raise ValueError(f"k={k} drifted windows of the last m={m} can never happen: k <= m.")
        model_id = self._model_id(model)
        at = now_text() if now is None else utc_text(now, "now")
        when = pd.Timestamp(at)
        rules = []
        if max_age is not None:
            try:
                limit = pd.Timedelta(max_age)
            except ValueError as err:
                raise ValueError(
                    f"max_age must be a time span such as '30D'; got {max_age!r}."
                ) from err
            info = self._model_row(model_id)
            source = "fitted_at" if info["fitted_at"] is not None else "saved_at"
            trained = info[source]
            if trained is None:
                raise ValueError(
                    f"Model {model_id[:12]} has neither fitted_at nor saved_at in its "
                    "manifest: its training data's age is unknown."
                )
            age = when - pd.Timestamp(trained)
            fired = age > limit
            rules.append(
                (
                    "max_age",
                    fired,
                    age.total_seconds(),
                    limit.total_seconds(),
                    f"training data from {trained} ({source}) is {age.total_seconds() / 86400:.1f}"
                    f" day(s) old, max_age {limit.total_seconds() / 86400:g} day(s)",
                )
            )
        window_runs = []
        if k is not None:
            window_runs = self._query(
                "SELECT run_id, status FROM runs WHERE model_id = ? AND kind = 'drift'"
                " AND started_at <= ? ORDER BY started_at DESC, rowid DESC LIMIT ?",
                (model_id, at, int(m)),
            )
            n_drifted = sum(status == "drift" for _, status in window_runs)
            fewer = f" (only {len(window_runs)} recorded)" if len(window_runs) < m else ""
            rules.append(
                (
                    "drift_windows",
                    n_drifted >= k,
                    float(n_drifted),
                    float(k),
                    f"{n_drifted} of the last {m} drift window(s){fewer} drifted, k={k}",
                )
            )
        table = frame(rules, RULE_COLUMNS)
        stale = bool(table["fired"].any())
        run_id = None
        if record:
            run_id = self._record(
                "staleness",
                "stale" if stale else "ok",
                model=model_id,
                started_at=at,
                summary="; ".join(r[4] for r in rules),
                detail={
                    "fired": [r[0] for r in rules if r[1]],
                    "windows": [rid for rid, _ in window_runs],
                },
                children=[("staleness_rules", [(r[0], int(r[1]), *r[2:]) for r in rules])],
            )
        return StalenessReport(model_id=model_id, stale=stale, rules=table, run_id=run_id)
