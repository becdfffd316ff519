"""Lineage and staleness: the run store's walks over runs, data and models.

MLTRACE's ideas on SQLite: a run's lineage follows its parent runs and the
runs that read the same data (by fingerprint) to the model and its training
data; a model is stale when its training data is too old or its recent drift
windows drifted too often.
"""

import datetime
import json
from numbers import Integral

import pandas as pd

from mlpipe.monitor._queries import TIME, frame
from mlpipe.monitor._reports import Lineage, StalenessReport
from mlpipe.monitor._time import now_text, utc_text
from mlpipe.utils._sklearn_compat import Interval, validate_params

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


class LineageMixin:
    """The lineage and staleness queries of :class:`RunStore`."""

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
