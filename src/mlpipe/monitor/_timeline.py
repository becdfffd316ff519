"""The report over time: what a run store holds, window by window, as one page.

:meth:`RunStore.report` reads the store once (runs, drift tests, validation
failures, null counts, predictions, group rates, metrics) into a
:class:`MonitoringReport`: a tidy frame of one row per window or batch, a
one-line verdict, and an HTML page of a drift heatmap (features x windows) and
charts over time, drawn as HTML tables and inline SVG so that no plotting
library is needed.
"""

import datetime
import html
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

import mlpipe
from mlpipe._html import HtmlPage
from mlpipe._report import REPORT_CSS, Report, format_p_value
from mlpipe.monitor._queries import _FILTER, _TIME, TIME, _bound, frame
from mlpipe.monitor._recording import STATUSES
from mlpipe.utils._sklearn_compat import validate_params

WINDOW_COLUMNS = {
    "started_at": TIME,
    "model_id": "str",
    "model_name": "str",
    "window": "Int64",
    "batch_key": "str",
    "kinds": "str",
    "status": "str",
    "n_rows": "Int64",
    "drift": "boolean",
    "n_features": "Int64",
    "n_drifted": "Int64",
    "drifted_features": "str",
    "validation_failed": "boolean",
    "n_validation_errors": "Int64",
    "n_validation_warnings": "Int64",
    "max_null_rate": "float64",
    "prediction_stat": "str",
    "prediction_value": "float64",
    "metric": "str",
    "performance": "float64",
    "performance_drop": "boolean",
    "n_alarms": "int64",
    "n_retraining": "int64",
}
_KIND_ORDER = (
    "batch",
    "validation",
    "drift",
    "predictions",
    "performance",
    "estimate",
    "staleness",
    "alarm",
    "retraining",
)
EVENT_KINDS = ("alarm", "retraining")
_EVENT_LETTER = {"alarm": "A", "retraining": "R"}
_EVENT_COLOUR = {"alarm": "#b00020", "retraining": "#0b5cad"}
# A categorical palette (Okabe-Ito, then darker tones) readable on white.
_PALETTE = (
    "#0072b2",
    "#e69f00",
    "#009e73",
    "#cc79a7",
    "#56b4e9",
    "#d55e00",
    "#7f7f7f",
    "#332288",
    "#117733",
    "#882255",
    "#44aa99",
    "#999933",
)
# Null-rate lines drawn at most: the columns with the highest rates.
MAX_LINES = 10
# Heatmap bins by effect size / effect threshold: (upper bound, colour, text colour).
_CALM = ((0.5, "#ffffff", "#1f2328"), (1.0, "#eef1f4", "#1f2328"), (math.inf, "#ffd166", "#1f2328"))
_HOT = ((2.0, "#f4a7a7", "#1f2328"), (4.0, "#dc4c4c", "#ffffff"), (math.inf, "#8e0d1d", "#ffffff"))

MONITOR_CSS = """
.mlpipe-heat{border-collapse:collapse;font-size:.7rem;margin:.4rem 0}
.mlpipe-heat th,.mlpipe-heat td{border:1px solid #d0d7de;padding:.1rem .18rem;white-space:nowrap}
.mlpipe-heat thead th{background:#f6f8fa;font-weight:600;text-align:right;
  font-variant-numeric:tabular-nums}
.mlpipe-heat th.feature{text-align:left;position:sticky;left:0;background:#f6f8fa;z-index:1;
  max-width:16rem;overflow:hidden;text-overflow:ellipsis}
.mlpipe-heat td.num{text-align:right;font-variant-numeric:tabular-nums}
.mlpipe-heat td.drifted{font-weight:700;outline:2px solid #1f2328;outline-offset:-2px}
.mlpipe-heat td.untested{background:repeating-linear-gradient(45deg,#fff,#fff 3px,#eaeef2 3px,
  #eaeef2 5px)}
.mlpipe-heat tr.marks td{text-align:center;font-weight:700}
.mlpipe-heat tr.marks td.alarm{color:#b00020}
.mlpipe-heat tr.marks td.retraining{color:#0b5cad}
.mlpipe-heat tr.marks td.alarm.retraining{color:#6f42c1}
.mlpipe-heat tr.totals td{background:#f6f8fa}
.mlpipe-legend{display:flex;flex-wrap:wrap;gap:.3rem 1rem;font-size:.8rem;color:#57606a;
  margin:.3rem 0 0;padding:0;list-style:none}
.mlpipe-legend li{white-space:nowrap}
.mlpipe-swatch{display:inline-block;width:.9rem;height:.9rem;vertical-align:-.15rem;
  border:1px solid #8c959f;margin-right:.3rem}
.mlpipe-chart{display:block;width:100%;max-width:1000px;height:auto}
.mlpipe-chart text{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;fill:#1f2328}
"""
# The page's own layout (mlpipe._html) is for a whole document; in a notebook
# the same blocks get it scoped to the report's box.
_NOTEBOOK_CSS = """
.mlpipe-monitor{max-width:1200px;line-height:1.45}
.mlpipe-monitor h1{font-size:1.35rem;margin:.2rem 0}
.mlpipe-monitor h2{font-size:1.1rem;margin:1.6rem 0 .5rem;padding-bottom:.2rem;
  border-bottom:1px solid #d0d7de}
.mlpipe-monitor .lede{color:#57606a;margin:0 0 .8rem}
.mlpipe-monitor .summary{border:1px solid #d0d7de;border-radius:8px;background:#f6f8fa;
  padding:.6rem 1rem;margin:0 0 1rem}
.mlpipe-monitor .summary h2{margin:0 0 .3rem;border:0;padding:0;font-size:1rem}
.mlpipe-monitor .summary th{text-align:left;padding:.15rem 1rem .15rem 0;font-weight:600}
.mlpipe-monitor .summary a{color:inherit;text-decoration:none}
.mlpipe-monitor .summary a.tone-bad{color:#b00020}
.mlpipe-monitor .summary a.tone-good{color:#2e7d32}
.mlpipe-monitor figure{margin:.8rem 0 1.2rem}
.mlpipe-monitor figcaption{color:#57606a;font-size:.86rem;margin-top:.3rem;max-width:75ch}
.mlpipe-monitor footer{color:#656d76;font-size:.8rem}
"""


def _time_text(value):
    """A time as the page shows it: ``"2026-06-01 14:05"`` (UTC)."""
    return "" if value is None or pd.isna(value) else value.strftime("%Y-%m-%d %H:%M")


def _worst(statuses):
    known = [s for s in statuses if s in STATUSES]
    return min(known, key=STATUSES.index) if known else None


def _positive_label(labels):
    """The class whose rate the report follows: ``1`` or ``True`` when
    predicted, else the last in sorted order."""
    labels = sorted({str(v) for v in labels if isinstance(v, str)})
    for name in ("1", "True", "true", "1.0"):
        if name in labels:
            return name
    return labels[-1] if labels else None


def _main_metric(performance):
    """The metric recorded in most runs (ties: the first by name), or None."""
    if not len(performance):
        return None
    counts = performance.groupby("metric")["run_id"].nunique()
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))[0][0]


def _number(value, spec):
    return "" if value is None or pd.isna(value) else format(value, spec)


def _by_run(table):
    """``{run_id: [row dict, ...]}`` of a child-table query, in its order."""
    out = {}
    for row in table.to_dict("records"):
        out.setdefault(row["run_id"], []).append(row)
    return out


def _present(value):
    return value is not None and not pd.isna(value)


def _window_row(runs, context):
    """One row of :meth:`MonitoringReport.to_frame` from the runs of a window."""
    of_kind = {}
    for run in runs:
        of_kind.setdefault(run["kind"], []).append(run)
    first = lambda name: next((r[name] for r in runs if _present(r[name])), None)  # noqa: E731
    drift_runs = of_kind.get("drift", [])
    validations = of_kind.get("validation", [])
    scored = of_kind.get("performance", [])
    features, drifted = {}, {}
    for run in drift_runs:
        for test in context["tests"].get(run["run_id"], []):
            features.setdefault(test["feature"], None)
            if test["drift"]:
                drifted.setdefault(test["feature"], None)
    severity = context["severity"]
    n_errors = sum(severity.get((r["run_id"], "error"), 0) for r in validations)
    n_warnings = sum(severity.get((r["run_id"], "warning"), 0) for r in validations)
    nulls = [context["nulls"][r["run_id"]] for r in validations if r["run_id"] in context["nulls"]]
    stat = value = None
    for run in of_kind.get("predictions", []):
        found = context["stats"].get(run["run_id"], [])
        rates = [f for f in found if f["statistic"] == "rate"]
        median = [f for f in found if f["statistic"] == "quantile" and f["level"] == 0.5]
        if rates:
            mine = [f["value"] for f in rates if f["label"] == context["positive"]]
            stat, value = f"rate of {context['positive']}", mine[0] if mine else 0.0
        elif median:
            stat, value = "median", median[0]["value"]
    scores = [context["scores"][r["run_id"]] for r in scored if r["run_id"] in context["scores"]]
    records = [r for r in runs if r["kind"] != "batch"] or runs
    n_rows = [int(r["n_rows"]) for r in runs if _present(r["n_rows"])]
    return (
        min(r["started_at"] for r in runs),
        first("model_id"),
        first("model_name"),
        first("window"),
        first("batch_key"),
        ", ".join(k for k in _KIND_ORDER if k in of_kind),
        _worst(r["status"] for r in records),
        max(n_rows, default=None),
        any(r["status"] == "drift" for r in drift_runs) if drift_runs else None,
        len(features) if drift_runs else None,
        len(drifted) if drift_runs else None,
        ", ".join(map(str, drifted)) if drift_runs else None,
        any(r["status"] == "failed" for r in validations) if validations else None,
        n_errors if validations else None,
        n_warnings if validations else None,
        max(nulls) if nulls else None,
        stat,
        value,
        context["metric"] if scores else None,
        scores[-1] if scores else None,
        any(r["status"] == "drop" for r in scored) if scored else None,
        len(of_kind.get("alarm", [])),
        len(of_kind.get("retraining", [])),
    )


@dataclass
class MonitoringReport(Report):
    """What a run store recorded over time, window by window.

    Drift, validation, predictions, performance, alarms and retraining runs.
    Returned by :meth:`RunStore.report`, which reads the store once: the
    report is a snapshot of the records matching its filters. Its views are
    :meth:`to_frame` (one row per window or batch), :meth:`summary` (one
    line), ``str()``, the notebook view and :meth:`save`, a standalone HTML
    page: verdicts on top, then a heatmap of every feature's drift test
    across the drift windows, validation failures and null rates, prediction
    class rates (or quantiles) and group selection rates, realized
    performance over time, and the alarms and retraining runs marked on the
    same time axis in each. The page needs no plotting library (tables and
    inline SVG).

    Parameters
    ----------
    path : str
        The store's file.

    runs : DataFrame
        :meth:`RunStore.runs` of the filters.

    history : DataFrame
        :meth:`RunStore.history` of the filters: every drift test.

    failures : DataFrame
        :meth:`RunStore.failures` of the filters.

    null_rates : DataFrame
        :meth:`RunStore.null_rates` of the filters.

    predictions : DataFrame
        :meth:`RunStore.predictions` of the filters.

    selection_rates : DataFrame
        :meth:`RunStore.selection_rates` of the filters.

    performance : DataFrame
        :meth:`RunStore.performance` of the filters.

    model : str or list of str, default=None
        The model filter (ids or names); None for every model.

    since, until : str, default=None
        The time filter ``[since, until)`` as the store writes times (UTC).

    See Also
    --------
    RunStore.report : Builds it from a store.
    RunStore.history : The drift tests the heatmap shows.

    Examples
    --------
    >>> import datetime
    >>> from mlpipe.datasets import load_credit, make_credit_batch
    >>> from mlpipe.drift import DriftDetector
    >>> from mlpipe.monitor import RunStore
    >>> X, _ = load_credit(return_X_y=True)
    >>> detector = DriftDetector().fit(X)
    >>> store = RunStore(":memory:")
    >>> start = datetime.datetime(2026, 6, 1, tzinfo=datetime.UTC)
    >>> for window in range(4):
    ...     batch = make_credit_batch(300, drift=window >= 2, random_state=window).X
    ...     _ = store.record_drift(
    ...         detector.detect(batch),
    ...         window=window,
    ...         started_at=start + datetime.timedelta(days=window),
    ...     )
    >>> report = store.report()
    >>> for part in report.summary().split(": ", 1):
    ...     print(part)
    4 windows (2026-06-01 00:00 to 2026-06-04 00:00 UTC)
    drift in 2 of 4 windows (first: window 2, 2026-06-03 00:00)
    >>> report.to_frame()[["window", "status", "n_drifted"]]
       window status  n_drifted
    0       0     ok          0
    1       1     ok          0
    2       2  drift          4
    3       3  drift          4
    """

    title = "Monitoring report"

    path: str
    runs: pd.DataFrame = field(repr=False)
    history: pd.DataFrame = field(repr=False)
    failures: pd.DataFrame = field(repr=False)
    null_rates: pd.DataFrame = field(repr=False)
    predictions: pd.DataFrame = field(repr=False)
    selection_rates: pd.DataFrame = field(repr=False)
    performance: pd.DataFrame = field(repr=False)
    model: str | list | None = None
    since: str | None = None
    until: str | None = None

    # -- the tidy frame -------------------------------------------------------

    def _groups(self):
        """``{run_id: key}``: the window or batch each run belongs to.

        A batch's records belong to the batch, a run whose parent is in the
        report to its parent's, a run with a window number to the window of
        its model; any other run stands alone.
        """
        keys = {}
        for run in self.runs.itertuples(index=False):
            if run.kind == "batch":
                keys[run.run_id] = run.run_id
            elif not pd.isna(run.parent_id) and run.parent_id in keys:
                keys[run.run_id] = keys[run.parent_id]
            elif not pd.isna(run.window):
                keys[run.run_id] = ("window", run.model_id, int(run.window))
            else:
                keys[run.run_id] = run.run_id
        return keys

    def to_frame(self):
        """Return one row per window or batch, oldest first.

        The runs of a :meth:`RunStore.batch` block make one row, as do the
        runs of one model with the same window number, and an alarm or
        retraining run whose parent is among them joins them; any other run
        (a staleness check, an alarm of no window) is a row of its own.

        Returns
        -------
        frame : DataFrame
            Columns ``started_at`` (the earliest run's, UTC), ``model_id``,
            ``model_name``, ``window``, ``batch_key``, ``kinds`` (the kinds
            of its runs, comma-separated), ``status`` (the worst of its
            runs'), ``n_rows``, ``drift`` (a drift run's verdict was drift;
            missing without a drift run), ``n_features`` (tested),
            ``n_drifted`` and ``drifted_features`` (features of which a test
            drifted), ``validation_failed``, ``n_validation_errors`` and
            ``n_validation_warnings`` (failed checks by severity),
            ``max_null_rate`` (the highest share of missing values of a
            column), ``prediction_stat`` (``"rate of <class>"`` for the
            followed class, or ``"median"`` of a regression's predictions)
            and ``prediction_value``, ``metric`` (the metric recorded in most
            runs), ``performance`` (its value), ``performance_drop``,
            ``n_alarms`` and ``n_retraining``.
        """
        keys = self._groups()
        positive = _positive_label(self.predictions.query("statistic == 'rate'")["label"])
        metric = _main_metric(self.performance)
        context = {
            "tests": _by_run(self.history),
            "severity": self.failures.groupby(["run_id", "severity"]).size().to_dict(),
            "nulls": self.null_rates.groupby("run_id")["null_rate"].max().to_dict(),
            "stats": _by_run(self.predictions),
            "metric": metric,
            "scores": self.performance.loc[self.performance["metric"] == metric]
            .set_index("run_id")["value"]
            .to_dict(),
            "positive": positive,
        }
        groups = {}
        for run in self.runs.to_dict("records"):
            groups.setdefault(keys[run["run_id"]], []).append(run)
        rows = [_window_row(runs, context) for runs in groups.values()]
        return frame(rows, WINDOW_COLUMNS)

    # -- verdicts ---------------------------------------------------------------

    def _verdicts(self):
        """``(label, text, anchor, tone)`` of the summary at the top."""
        runs = self.runs
        out = []
        drift = runs[runs["kind"] == "drift"]
        if len(drift):
            drifted = drift[drift["status"] == "drift"]
            if len(drifted):
                first = _name(drifted.iloc[0])
                text = f"drift in {len(drifted)} of {len(drift)} windows (first: {first})"
            else:
                text = f"no drift in {len(drift)} windows"
            out.append(("Drift", text, "monitor-drift", "bad" if len(drifted) else "good"))
        else:
            out.append(("Drift", "no drift window recorded", "monitor-drift", None))
        validation = runs[runs["kind"] == "validation"]
        if len(validation):
            failed = validation[validation["status"] == "failed"]
            errors = int((self.failures["severity"] == "error").sum())
            text = (
                f"{len(failed)} of {len(validation)} batches failed ({errors} failed checks of "
                "severity error)"
                if len(failed)
                else f"all {len(validation)} batches passed"
            )
            out.append(("Validation", text, "monitor-validation", "bad" if len(failed) else "good"))
        else:
            out.append(("Validation", "no validation run recorded", "monitor-validation", None))
        predicted = runs[runs["kind"] == "predictions"]
        text = (
            f"{len(predicted)} prediction batches, {int(predicted['n_rows'].fillna(0).sum())} rows"
            if len(predicted)
            else "no prediction batch recorded"
        )
        out.append(("Predictions", text, "monitor-predictions", None))
        scored = runs[runs["kind"] == "performance"]
        if len(scored):
            drops = scored[scored["status"] == "drop"]
            text = (
                f"drop in {len(drops)} of {len(scored)} windows (first: {_name(drops.iloc[0])})"
                if len(drops)
                else f"no drop in {len(scored)} windows"
            )
            metric = _main_metric(self.performance)
            values = self.performance.loc[self.performance["metric"] == metric, "value"]
            if len(values):
                text += f"; {metric} {values.iloc[0]:.3f} first, {values.iloc[-1]:.3f} last"
            out.append(
                ("Performance", text, "monitor-performance", "bad" if len(drops) else "good")
            )
        else:
            out.append(("Performance", "no realized performance recorded", "monitor-events", None))
        checks = runs[runs["kind"] == "staleness"]
        if len(checks):
            last = checks.iloc[-1]
            stale = last["status"] == "stale"
            text = (
                f"stale at the last of {len(checks)} check(s), {_time_text(last['started_at'])}: "
                f"{last['summary']}"
                if stale
                else f"not stale at the last of {len(checks)} check(s), "
                f"{_time_text(last['started_at'])}"
            )
            out.append(("Staleness", text, "monitor-events", "bad" if stale else "good"))
        alarms = runs[runs["kind"] == "alarm"]
        retraining = runs[runs["kind"] == "retraining"]
        text = f"{len(alarms)} alarm(s), {len(retraining)} retraining run(s)"
        failed = retraining["status"].isin(["error", "failed"]).sum()
        if failed:
            text += f" ({failed} failed)"
        out.append(
            ("Alarms and retraining", text, "monitor-events", "bad" if len(alarms) else None)
        )
        return out

    def summary(self):
        """Return the verdict in one line.

        Returns
        -------
        summary : str
            The windows and their time span, then the drifted windows, the
            failed validation batches, the performance drops and the alarms
            and retraining runs, each when recorded; ``"no runs recorded"``
            (with the filters) when nothing matches.
        """
        runs = self.runs
        if not len(runs):
            return f"no runs recorded{self._filters_text()}"
        kinds = self.to_frame()["kinds"].str.split(", ")
        n = int(kinds.map(lambda k: not set(k) <= {*EVENT_KINDS, "staleness"}).sum())
        span = f"{_time_text(runs['started_at'].min())} to {_time_text(runs['started_at'].max())}"
        parts = [f"{n} windows ({span} UTC)"]
        for label, text, _, _ in self._verdicts():
            if "recorded" in text or label == "Predictions":
                continue
            if label == "Alarms and retraining" and text.startswith("0 alarm(s), 0 retraining"):
                continue
            text = text.split("; ")[0]
            parts.append(text if label != "Validation" else f"validation: {text}")
        return ": ".join(parts[:2]) + "".join(f"; {p}" for p in parts[2:])

    def _filters_text(self):
        shown = [
            f"{name}={value!r}"
            for name, value in (("model", self.model), ("since", self.since), ("until", self.until))
            if value is not None
        ]
        return f" (filters: {', '.join(shown)})" if shown else ""

    def __str__(self):
        frame = self.to_frame()
        head = f"{self.title}: {self.summary()}"
        if not len(frame):
            return head
        columns = [
            "started_at",
            "window",
            "status",
            "n_drifted",
            "n_validation_errors",
            "prediction_value",
            "performance",
            "n_alarms",
            "n_retraining",
        ]
        shown = frame[columns].assign(started_at=frame["started_at"].map(_time_text))
        return f"{head}\n{shown.to_string(index=False, na_rep='')}"

    # -- HTML ----------------------------------------------------------------

    def _page(self):
        runs = self.runs
        name = Path(self.path).name if self.path != ":memory:" else "in-memory store"
        if len(runs):
            models = sorted(set(runs["model_name"].dropna()))
            lede = (
                f"{len(runs)} runs in {name} from {_time_text(runs['started_at'].min())} to "
                f"{_time_text(runs['started_at'].max())} (UTC)"
                + (f", model {', '.join(models)}" if models else "")
                + f"{self._filters_text()}. Times are UTC."
            )
        else:
            lede = f"{name}{self._filters_text()}."
        page = HtmlPage(f"Monitoring report: {name}", lede)
        if not len(runs):
            page.verdict("Runs", f"no runs recorded{self._filters_text()}", "monitor-empty")
            page.section("monitor-empty", "Nothing recorded")
            page.paragraph(
                "The store holds no run matching the filters: nothing to show yet. Record "
                "validation, drift, prediction and performance runs (RunStore.record_*), "
                "or widen the filters."
            )
            return page
        for verdict in self._verdicts():
            page.verdict(*verdict)
        axis = _Axis(runs["started_at"])
        events = runs[runs["kind"].isin(EVENT_KINDS)]
        self._drift_section(page, events)
        self._validation_section(page, axis, events)
        self._prediction_section(page, axis, events)
        if len(runs[runs["kind"] == "performance"]):
            self._performance_section(page, axis, events)
        self._event_section(page, events)
        self._window_section(page)
        return page

    def _footer(self):
        now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M")
        return f"mlpipe {mlpipe.__version__}; run store {self.path}; written {now} UTC"

    def _render(self):
        document = self._page().render(self._footer())
        return document.replace("</style></head>", f"{MONITOR_CSS}</style></head>", 1)

    def _repr_html_(self):
        body = self._render().partition("<body>")[2].rpartition("</body>")[0]
        return (
            f'<div class="mlpipe-monitor"><style>{REPORT_CSS}{MONITOR_CSS}{_NOTEBOOK_CSS}'
            f"</style>{body}</div>"
        )

    def save(self, path):
        """Write the report as one standalone HTML file.

        Parameters
        ----------
        path : str or os.PathLike
            The file to write (UTF-8), replaced if it exists.

        Returns
        -------
        path : str or os.PathLike
            ``path``, as given.
        """
        Path(path).write_text(self._render(), encoding="utf-8")
        return path

    # -- sections ---------------------------------------------------------------

    def _model_names(self):
        names = self.runs.drop_duplicates("model_id")
        return {
            row.model_id: (
                row.model_name if not pd.isna(row.model_name) else str(row.model_id)[:12]
            )
            for row in names.itertuples(index=False)
            if not pd.isna(row.model_id)
        }

    def _drift_section(self, page, events):
        page.section("monitor-drift", "Drift per feature across windows")
        drift = self.runs[self.runs["kind"] == "drift"]
        if not len(drift):
            page.paragraph("No drift window recorded.")
            return
        page.paragraph(
            "Each column is a drift window (one drift run, oldest on the left), each row a "
            "feature. A cell shows the effect size of the feature's test in that window and is "
            "coloured by the effect size over its threshold; a drifted cell (p-value at or "
            "below the threshold and effect at or above its threshold) is red, bold and "
            "framed, with a \u25b2. Hover a cell for the test, statistic and p-value."
        )
        names = self._model_names()
        models = list(dict.fromkeys(drift["model_id"].tolist()))
        for model in models:
            runs = (
                drift[drift["model_id"].isna()]
                if pd.isna(model)
                else drift[drift["model_id"] == model]
            )
            label = "" if len(models) == 1 else f" of model {names.get(model, 'none')}"
            mine = (
                events
                if pd.isna(model)
                else events[events["model_id"].isna() | (events["model_id"] == model)]
            )
            page.parts.append(_heatmap(runs, self.history, mine, label))

    def _validation_section(self, page, axis, events):
        page.section("monitor-validation", "Validation failures and null rates over time")
        validation = self.runs[self.runs["kind"] == "validation"]
        if not len(validation):
            page.paragraph("No validation run recorded.")
            return
        failures = self.failures
        counted = []
        for severity in ("error", "warning"):
            mine = failures[failures["severity"] == severity].groupby("run_id").size()
            points = [(r.started_at, int(mine.get(r.run_id, 0))) for r in validation.itertuples()]
            counted.append((f"checks failed ({severity})", points))
        page.parts.append(
            _figure(
                _chart(counted, axis, events, integer=True, y_label="failed checks"),
                f"Failed checks of each of the {len(validation)} validation runs, by severity "
                "(a check of a column is counted once per run). " + _marks_text(events),
            )
        )
        nulls = self.null_rates
        if len(nulls):
            peak = nulls.groupby("column", sort=False)["null_rate"].max()
            shown = peak[peak > 0].sort_values(ascending=False, kind="stable").index[:MAX_LINES]
            if len(shown):
                series = [
                    (str(col), list(zip(part["started_at"], part["null_rate"], strict=True)))
                    for col, part in nulls[nulls["column"].isin(shown)].groupby(
                        "column", sort=False
                    )
                ]
                more = (peak > 0).sum() - len(shown)
                page.parts.append(
                    _figure(
                        _chart(series, axis, events, percent=True, y_label="share missing"),
                        "Share of missing values of each column with any, per validation run"
                        + (
                            f" (the {len(shown)} highest; {more} more columns have some)"
                            if more
                            else ""
                        )
                        + ". "
                        + _marks_text(events),
                    )
                )
            else:
                page.paragraph(
                    f"No missing value in any of the {nulls['column'].nunique()} columns of the "
                    "validated batches."
                )
        if len(failures):
            table = (
                failures.groupby(["column", "check", "severity"], dropna=False, sort=False)
                .agg(
                    runs=("run_id", "nunique"),
                    first_seen=("started_at", "min"),
                    last_seen=("started_at", "max"),
                    rows_failed=("n_failed", "sum"),
                    max_share=("share", "max"),
                )
                .reset_index()
            )
            table["first_seen"] = table["first_seen"].map(_time_text)
            table["last_seen"] = table["last_seen"].map(_time_text)
            table["column"] = table["column"].fillna("(column order)")
            page.table(
                table,
                formats={"max_share": lambda v: _number(v, ".1%")},
                caption=f"Checks that failed, over the {len(validation)} validation runs",
            )
        else:
            page.paragraph(f"No check failed in the {len(validation)} validation runs.")

    def _prediction_section(self, page, axis, events):
        page.section("monitor-predictions", "Predictions and group selection rates over time")
        predicted = self.predictions
        if not len(predicted):
            page.paragraph("No prediction batch recorded.")
            return
        names = self._model_names()
        many = predicted["model_id"].nunique(dropna=False) > 1
        prefix = lambda m: f"{names.get(m, 'no model')}: " if many else ""  # noqa: E731
        rates = predicted[predicted["statistic"] == "rate"]
        if len(rates):
            series = [
                (
                    f"{prefix(m)}class {label}",
                    list(zip(part["started_at"], part["value"], strict=True)),
                )
                for (m, label), part in rates.groupby(
                    ["model_id", "label"], dropna=False, sort=False
                )
            ]
            n_runs = rates["run_id"].nunique()
            page.parts.append(
                _figure(
                    _chart(
                        series, axis, events, scale="full", percent=True, y_label="share predicted"
                    ),
                    f"Share of each predicted class in each of the {n_runs} prediction batches. "
                    + _marks_text(events),
                )
            )
        quantiles = predicted[predicted["statistic"].isin(["quantile", "mean"])]
        if len(quantiles):
            label = quantiles["level"].map(lambda v: "mean" if pd.isna(v) else f"{v:.0%} quantile")
            series = [
                (f"{prefix(m)}{name}", list(zip(part["started_at"], part["value"], strict=True)))
                for (m, name), part in quantiles.assign(name=label).groupby(
                    ["model_id", "name"], dropna=False, sort=False
                )
            ]
            page.parts.append(
                _figure(
                    _chart(series, axis, events, scale="fit", y_label="prediction"),
                    "Quantiles (5, 25, 50, 75, 95%) and mean of a regression's predictions, per "
                    "batch. " + _marks_text(events),
                )
            )
        groups = self.selection_rates
        positive = _positive_label(groups["label"])
        chosen = groups[groups["label"] == positive]
        if len(chosen):
            series = [
                (
                    f"{prefix(m)}{sensitive} = {group}",
                    list(zip(part["started_at"], part["rate"], strict=True)),
                )
                for (m, sensitive, group), part in chosen.groupby(
                    ["model_id", "sensitive", "group"], dropna=False, sort=False
                )
            ]
            page.parts.append(
                _figure(
                    _chart(
                        series, axis, events, scale="full", percent=True, y_label="selection rate"
                    ),
                    f"Selection rate of each group: its share of rows predicted class {positive}, "
                    "per prediction batch. " + _marks_text(events),
                )
            )
        else:
            page.paragraph(
                "No selection rate by group recorded (record_predictions(sensitive=...))."
            )

    def _performance_section(self, page, axis, events):
        page.section("monitor-performance", "Realized performance over time")
        performance = self.performance
        scored = self.runs[self.runs["kind"] == "performance"]
        drops = set(scored.loc[scored["status"] == "drop", "run_id"])
        if not len(performance):
            page.paragraph(f"{len(scored)} performance runs recorded, without a metric.")
            return
        names = self._model_names()
        many = performance["model_id"].nunique(dropna=False) > 1
        prefix = lambda m: f"{names.get(m, 'no model')}: " if many else ""  # noqa: E731
        unit = performance.groupby("metric")["value"].agg(lambda v: bool(v.between(0, 1).all()))
        groups = [[m for m in unit.index if unit[m]]] + [[m] for m in unit.index if not unit[m]]
        for metrics in (g for g in groups if g):
            part = performance[performance["metric"].isin(metrics)]
            series = [
                (f"{prefix(m)}{name}", list(zip(rows["started_at"], rows["value"], strict=True)))
                for (m, name), rows in part.groupby(
                    ["model_id", "metric"], dropna=False, sort=False
                )
            ]
            whole = bool(part["value"].dropna().map(float.is_integer).all())
            flagged = [(r.started_at, r.value) for r in part.itertuples() if r.run_id in drops]
            page.parts.append(
                _figure(
                    _chart(
                        series,
                        axis,
                        events,
                        scale="fit",
                        unit=bool(unit[metrics[0]]),
                        integer=whole,
                        y_label=metrics[0] if len(metrics) == 1 else "score",
                        flagged=flagged,
                    ),
                    f"Realized {', '.join(metrics)} of each scored window, once its labels came"
                    + ("; a ringed point is a run flagged as a drop" if flagged else "")
                    + ". "
                    + _marks_text(events),
                )
            )
        wide = performance.pivot_table(
            index="run_id", columns="metric", values="value", aggfunc="first", sort=False
        )
        table = scored.set_index("run_id")[["started_at", "window", "status"]].join(wide)
        table["started_at"] = table["started_at"].map(_time_text)
        specs = {m: _metric_format(wide[m]) for m in wide.columns}
        page.table(
            table.reset_index(drop=True),
            formats={m: lambda v, spec=spec: _number(v, spec) for m, spec in specs.items()},
            caption=f"Realized performance of the {len(scored)} scored windows",
        )

    def _event_section(self, page, events):
        page.section("monitor-events", "Alarms and retraining runs")
        if not len(events):
            page.paragraph("No alarm raised and no retraining run recorded.")
            return
        page.paragraph(
            "Marked in the heatmap (a row of A for an alarm, R for a retraining run, in the "
            "column of the last window started at or before it) and as vertical lines in each "
            "chart (red dashed: alarm; blue: retraining run)."
        )
        table = events[["started_at", "kind", "status", "window", "model_name", "summary"]].copy()
        table["started_at"] = table["started_at"].map(_time_text)
        page.table(table, caption=f"The {len(events)} alarms and retraining runs, oldest first")

    def _window_section(self, page):
        page.section("monitor-windows", "Window by window")
        frame = self.to_frame()
        columns = [
            "started_at",
            "window",
            "status",
            "n_drifted",
            "n_validation_errors",
            "max_null_rate",
            "prediction_value",
            "performance",
            "n_alarms",
            "n_retraining",
        ]
        table = frame[columns].assign(started_at=frame["started_at"].map(_time_text))
        stat = frame["prediction_stat"].dropna()
        metric = frame["metric"].dropna()
        page.table(
            table,
            formats={
                "max_null_rate": lambda v: _number(v, ".1%"),
                "prediction_value": lambda v: _number(v, ".3f"),
                "performance": lambda v: _number(v, ".3f"),
            },
            caption=(
                f"One row per window or batch ({len(frame)}), as MonitoringReport.to_frame(): "
                + (f"prediction value is the {stat.iloc[0]}" if len(stat) else "no prediction")
                + (f", performance the {metric.iloc[0]}" if len(metric) else "")
            ),
        )


def _metric_format(values):
    """Whole numbers (counts of labels) without decimals, scores with three."""
    present = values.dropna()
    return ".0f" if len(present) and present.map(float.is_integer).all() else ".3f"


def _name(run):
    """A run as the summary names it: ``"window 10, 2026-06-11 00:00"``."""
    when = _time_text(run["started_at"])
    return f"window {int(run['window'])}, {when}" if not pd.isna(run["window"]) else when


def _marks_text(events):
    if not len(events):
        return "No alarm or retraining run in this span."
    return "Vertical lines: alarms (red, dashed, A) and retraining runs (blue, R)."


def _figure(svg, caption):
    return f"<figure>{svg}<figcaption>{html.escape(caption)}</figcaption></figure>"


# -- the heatmap ------------------------------------------------------------------


def _ratio(test):
    """A test's effect size over its threshold (0 when either is missing)."""
    effect, threshold = test["effect_size"], test["effect_threshold"]
    if not (_present(effect) and _present(threshold)) or threshold <= 0:
        return 0.0
    return effect / threshold


def _cell_test(tests):
    """The test a cell shows: a drifted one (the strongest), else the
    strongest by effect over its threshold."""
    return max(tests, key=lambda t: (bool(t["drift"]), _ratio(t)))


def _colours(test):
    bins = _HOT if test["drift"] else _CALM
    ratio = _ratio(test)
    return next((bg, fg) for bound, bg, fg in bins if ratio < bound)


def _tip(test):
    return (
        f"{test['test']}: statistic {test['statistic']:.4g}, p-value "
        f"{format_p_value(test['p_value'])} (threshold {format_p_value(test['threshold'])}), "
        f"effect {test['effect_size']:.3f} (threshold {test['effect_threshold']:.3f})"
        + (" DRIFT" if test["drift"] else "")
    )


def _heatmap(runs, history, events, label):
    runs = runs.reset_index(drop=True)
    cells, features, drifted = {}, {}, {}
    for test in history[history["run_id"].isin(set(runs["run_id"]))].to_dict("records"):
        cells.setdefault((test["feature"], test["run_id"]), []).append(test)
        features.setdefault(test["feature"], None)
        if test["drift"]:
            drifted.setdefault(test["run_id"], set()).add(test["feature"])
    columns = runs.to_dict("records")
    span = runs["started_at"].max() - runs["started_at"].min()
    stamp = "%m-%d" if span >= pd.Timedelta(days=2) else "%H:%M"
    head = ['<th class="feature" scope="col">window</th>']
    dates = [f'<th class="feature" scope="row">{"day" if "d" in stamp else "time"} (UTC)</th>']
    for run in columns:
        number = "" if pd.isna(run["window"]) else str(int(run["window"]))
        title = html.escape(f"{_time_text(run['started_at'])} UTC; {run['summary']}")
        head.append(f'<th class="num" scope="col" title="{title}">{number}</th>')
        dates.append(f'<th class="num">{run["started_at"].strftime(stamp)}</th>')
    body = []
    for feature in features:
        name = html.escape(str(feature))
        cells_html = [f'<th class="feature" scope="row" title="{name}">{name}</th>']
        for run in columns:
            tests = cells.get((feature, run["run_id"]))
            attrs = f'data-feature="{name}" data-run="{run["run_id"]}"'
            if tests is None:
                cells_html.append(f'<td class="untested" {attrs} title="not tested"></td>')
                continue
            test = _cell_test(tests)
            bg, fg = _colours(test)
            window = "" if pd.isna(run["window"]) else f", window {int(run['window'])}"
            tip = html.escape(f"{feature}{window}: " + "; ".join(map(_tip, tests)))
            text = "" if not _present(test["effect_size"]) else f"{test['effect_size']:.2f}"
            css = "num drifted" if test["drift"] else "num"
            mark = "\u25b2" if test["drift"] else ""
            cells_html.append(
                f'<td class="{css}" {attrs} style="background:{bg};color:{fg}" title="{tip}">'
                f"{mark}{text}</td>"
            )
        body.append(f"<tr>{''.join(cells_html)}</tr>")
    totals = ['<th class="feature" scope="row">drifted</th>']
    for run in columns:
        totals.append(f'<td class="num">{len(drifted.get(run["run_id"], ()))}</td>')
    body.append(f'<tr class="totals">{"".join(totals)}</tr>')
    marks = _event_columns(runs, events)
    if marks:
        row = ['<th class="feature" scope="row" title="alarm (A), retraining run (R)">events</th>']
        for i in range(len(columns)):
            found = marks.get(i, [])
            kinds = sorted({e.kind for e in found})
            tip = html.escape(
                "; ".join(f"{e.kind} {_time_text(e.started_at)}: {e.summary}" for e in found)
            )
            letters = " ".join(_EVENT_LETTER[e.kind] for e in found)
            row.append(f'<td class="{" ".join(kinds)}" title="{tip}">{letters}</td>')
        body.append(f'<tr class="marks">{"".join(row)}</tr>')
    n_drifted = int(runs["status"].eq("drift").sum())
    caption = (
        f"Drift of {len(features)} features across {len(columns)} windows{label} (drift verdict "
        f"in {n_drifted}); cell: effect size of the feature's test, \u25b2 and a frame where it "
        "drifted; colour: effect size over its threshold. "
        + (
            "The row 'drifted' counts the drifted features of each window; the row 'events' marks "
            "alarms (A) and retraining runs (R)."
            if marks
            else "No alarm or retraining run."
        )
    )
    return (
        '<figure class="mlpipe-heatmap"><div class="mlpipe-scroll"><table class="mlpipe-heat">'
        f"<thead><tr>{''.join(head)}</tr><tr>{''.join(dates)}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table></div>{_heat_legend()}"
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
    )


def _event_columns(runs, events):
    """``{column: [event, ...]}``: each event in the column of the last window
    started at or before it (the first for an earlier one)."""
    if not len(events) or not len(runs):
        return {}
    starts = runs["started_at"]
    marks = {}
    for event in events.itertuples():
        i = int(starts.searchsorted(event.started_at, side="right")) - 1
        marks.setdefault(max(i, 0), []).append(event)
    return marks


def _heat_legend():
    items = [
        ("#ffffff", "#1f2328", "", "effect < half its threshold"),
        ("#eef1f4", "#1f2328", "", "up to the threshold"),
        ("#ffd166", "#1f2328", "", "past it, p-value not significant"),
        ("#f4a7a7", "#1f2328", "\u25b2", "drift, effect 1-2x its threshold"),
        ("#dc4c4c", "#ffffff", "\u25b2", "2-4x"),
        ("#8e0d1d", "#ffffff", "\u25b2", "over 4x"),
    ]
    shown = "".join(
        f'<li><span class="mlpipe-swatch" style="background:{bg}"></span>{html.escape(text)}</li>'
        for bg, _, _, text in items
    )
    return f'<ul class="mlpipe-legend">{shown}</ul>'


# -- charts over time -----------------------------------------------------------

_STEPS = [
    s * unit
    for unit, counts in ((1, (1, 5, 15, 30)), (60, (1, 5, 15, 30)), (3600, (1, 3, 6, 12)))
    for s in counts
] + [86400 * d for d in (1, 2, 7, 14, 30, 91, 182, 365)]


class _Axis:
    """The time axis every chart of a page shares: the span of its runs."""

    def __init__(self, times):
        start, end = times.min(), times.max()
        if end - start < pd.Timedelta(minutes=1):
            start, end = start - pd.Timedelta(minutes=30), end + pd.Timedelta(minutes=30)
        pad = (end - start) * 0.02
        self.start, self.end = start - pad, end + pad
        self.span = (self.end - self.start).total_seconds()

    def ticks(self):
        step = next((s for s in _STEPS if self.span / s <= 7), _STEPS[-1])
        first = math.ceil(self.start.timestamp() / step) * step
        times = [
            pd.Timestamp(t, unit="s", tz="UTC")
            for t in np.arange(first, self.end.timestamp(), step)
        ]
        if step >= 86400 * 30:
            fmt = "%Y-%m-%d"
        elif step >= 86400:
            fmt = "%m-%d"
        elif self.span > 86400:
            fmt = "%m-%d %H:%M"
        elif step >= 60:
            fmt = "%H:%M"
        else:
            fmt = "%H:%M:%S"
        return [(t, t.strftime(fmt)) for t in times]

    def x(self, time, left, width):
        return left + (time - self.start).total_seconds() / self.span * width


def _nice_step(raw):
    """The nice step (1, 2, 2.5 or 5 times a power of ten) at or above ``raw``."""
    if not raw > 0:
        return 1.0
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw * (1 - 1e-9))


def _y_axis(values, scale, integer, unit):
    """``(low, high, step)`` of a chart's value axis.

    ``scale``: ``"full"`` is 0 to 1 (shares); ``"zero"`` starts at 0 and
    ends at a nice value past the highest; ``"fit"`` spans the values with a
    margin (clipped to [0, 1] for a ``unit`` score).
    """
    if scale == "full":
        return 0.0, 1.0, 0.2
    vmin, vmax = min(values, default=0.0), max(values, default=1.0)
    if scale == "zero":
        vmin = min(0.0, vmin)
    span = vmax - vmin
    if scale == "fit":
        pad = span * 0.15 if span > 0 else max(abs(vmax) * 0.05, 0.01)
        vmin, vmax = vmin - pad, vmax + pad
        if unit:
            vmin, vmax = max(0.0, vmin), min(1.0, vmax)
    step = _nice_step((vmax - vmin) / 5)
    if integer:
        step = max(1.0, math.ceil(step))
    low = math.floor(vmin / step + 1e-9) * step
    high = max(math.ceil(vmax / step - 1e-9) * step, low + step)
    return low, high, step


def _tick_text(value, step, percent, integer):
    if integer:
        return f"{value:.0f}"
    shift = 2 if percent else 0
    decimals = max(0, -math.floor(math.log10(step) + shift + 1e-9))
    return f"{value * 100:.{decimals}f}%" if percent else f"{value:.{decimals}f}"


def _chart(
    series,
    axis,
    events,
    *,
    scale="zero",
    percent=False,
    integer=False,
    unit=False,
    y_label="",
    flagged=(),
):
    """An inline SVG line chart of ``series`` (``[(name, [(time, value)])]``)
    on the page's time axis, with the events as vertical lines."""
    width, left, right, top, bottom = 1000, 60, 230, 14, 34
    legend = [(name, _PALETTE[i % len(_PALETTE)], "line") for i, (name, _) in enumerate(series)]
    kinds = [k for k in EVENT_KINDS if (events["kind"] == k).any()]
    legend += [(k if k == "alarm" else "retraining run", _EVENT_COLOUR[k], k) for k in kinds]
    if flagged:
        legend.append(("flagged drop", "#b00020", "ring"))
    height = max(220, top + bottom + 18 * len(legend) + 8)
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [v for _, points in series for _, v in points if not pd.isna(v)]
    low, high, step = _y_axis(values, scale, integer, unit)
    y = lambda v: top + plot_h - (v - low) / (high - low) * plot_h  # noqa: E731
    parts = [
        f'<svg class="mlpipe-chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{html.escape(y_label)} over time" xmlns="http://www.w3.org/2000/svg">',
        f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="#fff" '
        'stroke="#d0d7de"/>',
    ]
    for value in np.arange(low, high + step / 2, step):
        text = _tick_text(value, step, percent, integer)
        parts.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y(value):.1f}" y2="{y(value):.1f}" '
            f'stroke="#eaeef2"/><text x="{left - 6}" y="{y(value) + 4:.1f}" font-size="12" '
            f'text-anchor="end">{text}</text>'
        )
    for time, text in axis.ticks():
        x = axis.x(time, left, plot_w)
        parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top + plot_h}" y2="{top + plot_h + 4}" '
            f'stroke="#57606a"/><text x="{x:.1f}" y="{top + plot_h + 18}" font-size="12" '
            f'text-anchor="middle">{text}</text>'
        )
    parts.append(
        f'<text x="14" y="{top + plot_h / 2:.1f}" font-size="12" text-anchor="middle" '
        f'transform="rotate(-90 14 {top + plot_h / 2:.1f})">{html.escape(y_label)}</text>'
    )
    last, row = -math.inf, 0
    for event in events.sort_values("started_at", kind="stable").itertuples():
        x = axis.x(event.started_at, left, plot_w)
        # Labels of events a few pixels apart go one under the other.
        row = row + 1 if x - last < 12 else 0
        last = x
        dash = ' stroke-dasharray="5 3"' if event.kind == "alarm" else ""
        colour = _EVENT_COLOUR[event.kind]
        tip = html.escape(f"{event.kind} {_time_text(event.started_at)}: {event.summary}")
        parts.append(
            f'<g class="event {event.kind}"><title>{tip}</title><line x1="{x:.1f}" x2="{x:.1f}" '
            f'y1="{top}" y2="{top + plot_h}" stroke="{colour}" stroke-width="1.5"{dash}/>'
            f'<text x="{x + 3:.1f}" y="{top + 12 + 12 * (row % 4)}" font-size="11" fill="{colour}" '
            f'style="fill:{colour}">{_EVENT_LETTER[event.kind]}</text></g>'
        )
    for (name, points), (_, colour, _) in zip(series, legend, strict=False):
        points = sorted((t, v) for t, v in points if not pd.isna(v))
        coords = [(axis.x(t, left, plot_w), y(v)) for t, v in points]
        if len(coords) > 1:
            path = " ".join(f"{x:.1f},{yy:.1f}" for x, yy in coords)
            parts.append(
                f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="1.8"/>'
            )
        for (x, yy), (t, v) in zip(coords, points, strict=True):
            tip = html.escape(f"{name}, {_time_text(t)}: {v:.4g}")
            parts.append(
                f'<circle cx="{x:.1f}" cy="{yy:.1f}" r="2.6" fill="{colour}"><title>{tip}</title>'
                "</circle>"
            )
    for t, v in flagged:
        parts.append(
            f'<circle cx="{axis.x(t, left, plot_w):.1f}" cy="{y(v):.1f}" r="6" fill="none" '
            'stroke="#b00020" stroke-width="1.8"/>'
        )
    lx = left + plot_w + 16
    for i, (name, colour, kind) in enumerate(legend):
        ly = top + 10 + 18 * i
        if kind == "line":
            mark = (
                f'<line x1="{lx}" x2="{lx + 18}" y1="{ly}" y2="{ly}" stroke="{colour}" '
                'stroke-width="2.5"/>'
            )
        elif kind == "ring":
            mark = (
                f'<circle cx="{lx + 9}" cy="{ly}" r="5" fill="none" stroke="{colour}" '
                'stroke-width="1.8"/>'
            )
        else:
            dash = ' stroke-dasharray="5 3"' if kind == "alarm" else ""
            mark = (
                f'<line x1="{lx + 9}" x2="{lx + 9}" y1="{ly - 7}" y2="{ly + 7}" '
                f'stroke="{colour}" stroke-width="1.5"{dash}/>'
            )
        shown = name if len(name) <= 28 else name[:27] + "\u2026"
        parts.append(
            f'<g><title>{html.escape(name)}</title>{mark}<text x="{lx + 24}" y="{ly + 4}" '
            f'font-size="12">{html.escape(shown)}</text></g>'
        )
    parts.append("</svg>")
    return "".join(parts)


class TimelineMixin:
    """The report over time of :class:`RunStore`."""

    @validate_params(
        {"model": _FILTER, "since": _TIME, "until": _TIME},
        prefer_skip_nested_validation=True,
    )
    def report(self, *, model=None, since=None, until=None):
        """Return the report over time of the runs recorded.

        Reads the store once (a snapshot): the runs, drift tests, validation
        failures, null counts, predictions, group rates and metrics matching
        the filters. Nothing matching gives a report that says so.

        Parameters
        ----------
        model : str or list of str, default=None
            Model ids or names; every model when None.

        since : datetime, timedelta or str, default=None
            Runs started at or after this time (naive: UTC); a timedelta
            counts back from now.

        until : datetime, timedelta or str, default=None
            Runs started before this time.

        Returns
        -------
        report : MonitoringReport
            ``to_frame()`` (one row per window or batch), ``summary()``,
            the notebook view and ``save(path)`` (a standalone HTML page).
        """
        # A timedelta is read once, so every query has the same bounds.
        since = None if since is None else _bound(since, "since")
        until = None if until is None else _bound(until, "until")
        scope = {"model": model, "since": since, "until": until}
        return MonitoringReport(
            path=self.path,
            runs=self.runs(**scope),
            history=self.history(**scope),
            failures=self.failures(**scope),
            null_rates=self.null_rates(**scope),
            predictions=self.predictions(**scope),
            selection_rates=self.selection_rates(**scope),
            performance=self.performance(**scope),
            model=model,
            since=since,
            until=until,
        )


# Named as RunStore's own method, for the errors of validate_params.
for _func in (TimelineMixin.report, TimelineMixin.report.__wrapped__):
    _func.__qualname__ = "RunStore.report"
