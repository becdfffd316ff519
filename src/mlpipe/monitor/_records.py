"""The rows a record writes: what a report, a prediction batch or a set of
metrics becomes in the store's child tables.

Pure functions of their input (no database here), so what is stored can be
tested against the reports' own ``to_frame`` without a store.
"""

import json
import math

import numpy as np
import pandas as pd

from mlpipe.drift._report import JOINT, rank_drifted
from mlpipe.utils._scalar import python_scalar

# Quantile levels recorded for a regression's predictions.
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


def label_text(label):
    """A column, class or group label as the store's TEXT (None stays NULL)."""
    label = python_scalar(label)
    if label is None or isinstance(label, str):
        return label
    if isinstance(label, float) and math.isnan(label):
        return None
    return str(label)


def _json(values):
    return json.dumps([python_scalar(v) for v in values], default=str)


def _real(value):
    value = python_scalar(value)
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value


def validation_rows(report):
    """``validation_failures`` rows of a ValidationReport, in report order."""
    return [
        (
            position,
            label_text(f.column),
            str(f.check),
            str(f.severity),
            str(f.level),
            int(f.n_failed),
            _real(f.share),
            _real(f.p_value),
            str(f.message),
            _json(f.examples),
            _json(f.rows),
        )
        for position, f in enumerate(report.failures)
    ]


def column_rows(X):
    """``column_stats`` rows (the null count of every column) of a DataFrame."""
    if not isinstance(X, pd.DataFrame):
        return []
    missing = X.isna().sum().to_numpy().tolist()
    return [
        (position, label_text(name), len(X), int(n))
        for position, (name, n) in enumerate(zip(X.columns, missing, strict=True))
    ]


DRIFT_COLUMNS = (
    "feature",
    "test",
    "statistic",
    "p_value",
    "threshold",
    "drift",
    "status",
    "effect_size",
    "effect_threshold",
    "n_reference",
    "n_batch",
    "note",
)
_DRIFT_REALS = ("statistic", "p_value", "threshold", "effect_size", "effect_threshold")


def drift_rows(report):
    """``drift_tests`` rows of a DriftReport, one per test, in report order."""
    frame = report.results
    columns = {name: frame[name].tolist() for name in DRIFT_COLUMNS}
    for name in _DRIFT_REALS:
        columns[name] = [None if v != v else float(v) for v in columns[name]]
    columns["feature"] = [label_text(v) for v in columns["feature"]]
    columns["drift"] = [int(bool(v)) for v in columns["drift"]]
    columns["n_reference"] = [int(v) for v in columns["n_reference"]]
    columns["n_batch"] = [int(v) for v in columns["n_batch"]]
    columns["note"] = [None if v is None or v != v else str(v) for v in columns["note"]]
    return [(i, *row) for i, row in enumerate(zip(*columns.values(), strict=True))]


def drifted_features(rows, importance=None):
    """The drifted features of ``drift_rows``, in the order of
    ``DriftReport.drifted_features``: by effect size (stable), by a model's
    ``importance`` first when the report has one, a joint test's row last."""
    drifted = [(r[1], r[8]) for r in rows if r[6]]
    drifted.sort(key=lambda item: -item[1])
    features = dict.fromkeys(feature for feature, _ in drifted)
    shares = {label_text(k): v for k, v in (importance or {}).items()}
    return rank_drifted(features, shares)


def drift_summary(report, rows, drifted):
    """A one-line verdict of a drift record (``DriftReport.summary`` builds
    frames per feature, which costs more than writing the record)."""
    n_features = len({r[1] for r in rows} - {JOINT})
    columns = [f for f in drifted if f != JOINT]
    head = "DRIFT" if report.drift else "no drift"
    text = f"{head}: {len(columns)} of {n_features} features drifted"
    if columns:
        text += ": " + ", ".join(map(str, columns))
    if JOINT in drifted:
        text += "; joint test drifted"
    return f"{text}; {report.n_batch} batch rows vs {report.n_reference} reference rows"


def estimate_rows(report):
    """``performance_estimates`` rows of a PerformanceReport, in its order."""
    frame = report.to_frame()
    rows = []
    for i, r in enumerate(frame.itertuples(index=False)):
        covered = None if r.covered is pd.NA else int(bool(r.covered))
        rows.append(
            (
                i,
                label_text(r.group_column),
                label_text(r.group),
                str(r.metric),
                _real(r.estimate),
                _real(r.lower),
                _real(r.upper),
                _real(r.realized),
                covered,
                int(r.n_rows),
                _real(getattr(r, "n_calibration", None)),
            )
        )
    return rows


def prediction_task(y_pred, task):
    """``"classification"`` or ``"regression"``: with ``task="auto"``, floats
    that are not all whole numbers are a regression (what scikit-learn's
    ``type_of_target`` calls continuous), anything else a classification."""
    if task != "auto":
        return task
    values = np.asarray(y_pred)
    if values.dtype.kind != "f":
        return "classification"
    present = values[~np.isnan(values)]
    return (
        "regression"
        if present.size == 0 or np.any(present != np.round(present))
        else "classification"
    )


def _codes(values):
    """Integer codes of ``values`` and their labels, sorted where they can be
    (missing values last, as a label of their own)."""
    try:
        codes, labels = pd.factorize(values, sort=True, use_na_sentinel=False)
    except TypeError:  # labels of types that do not compare
        codes, labels = pd.factorize(values, use_na_sentinel=False)
    return codes, list(labels)


def prediction_rows(y_pred, task, quantiles=QUANTILES):
    """``prediction_stats`` rows: the rate of each class, or the quantiles,
    mean and missing count of a regression's predictions."""
    values = np.asarray(y_pred).ravel()
    n = len(values)
    rows = []
    if task == "classification":
        codes, labels = _codes(values)
        counts = np.bincount(codes, minlength=len(labels)).tolist()
        for label, count in zip(labels, counts, strict=True):
            rows.append(("rate", label_text(label), None, count / n, count))
    else:
        floats = pd.to_numeric(pd.Series(values), errors="raise").to_numpy(dtype=np.float64)
        present = floats[~np.isnan(floats)]
        for level in quantiles:
            value = float(np.quantile(present, level)) if present.size else None
            rows.append(("quantile", None, float(level), value, int(present.size)))
        mean = float(present.mean()) if present.size else None
        rows.append(("mean", None, None, mean, int(present.size)))
        rows.append(("missing", None, None, float(n - present.size), n))
    return [(i, *row) for i, row in enumerate(rows)]


def group_rows(y_pred, groups, sensitive):
    """``group_rates`` rows: in each group, the rate of each predicted class
    (the selection rate of the positive class among them)."""
    y_codes, classes = _codes(np.asarray(y_pred).ravel())
    g_codes, names = _codes(np.asarray(groups).ravel())
    n_classes = len(classes)
    table = np.bincount(g_codes * n_classes + y_codes, minlength=len(names) * n_classes)
    table = table.reshape(len(names), n_classes)
    sizes = table.sum(axis=1).tolist()
    rows = []
    for g, group in enumerate(names):
        for c, label in enumerate(classes):
            rate = table[g, c] / sizes[g]
            rows.append((sensitive, label_text(group), label_text(label), sizes[g], float(rate)))
    return [(i, *row) for i, row in enumerate(rows)]


def scored_rows(y_pred, keys, scores, X):
    """``scored_rows`` rows: ``(position, key, prediction, value, score)``.

    ``keys`` is an array of one key per prediction or the name of a column of
    ``X``; keys are kept as text (``str`` of the value: ``7`` and ``"7"`` are
    the same key) and must be unique and not missing. ``value`` is the
    prediction as a number when it is one.
    """
    y = np.asarray(y_pred).ravel()
    if isinstance(keys, str):
        if not isinstance(X, pd.DataFrame) or keys not in X.columns:
            raise ValueError(
                f"keys={keys!r} names a column of X, but X is not a DataFrame with that "
                "column; pass the keys as an array instead."
            )
        keys = X[keys]
    keys = pd.Series(np.asarray(keys, dtype=object).ravel())
    if len(keys) != len(y):
        raise ValueError(f"keys has {len(keys)} values and y_pred {len(y)}: give one per row.")
    if keys.isna().any():
        raise ValueError(
            f"keys has {int(keys.isna().sum())} missing value(s) (first at position "
            f"{int(np.flatnonzero(keys.isna())[0])}): every row needs a key."
        )
    text = keys.map(key_text)
    duplicated = text.duplicated(keep=False)
    if duplicated.any():
        raise ValueError(
            f"keys are not unique: {sorted(set(text[duplicated]))[:5]} appear more than "
            "once; a later label could not tell their rows apart."
        )
    if scores is None:
        score = [None] * len(y)
    else:
        score = np.asarray(scores, dtype=float).ravel()
        if len(score) != len(y):
            raise ValueError(f"scores has {len(score)} values and y_pred {len(y)}.")
        score = [None if np.isnan(v) else float(v) for v in score]
    rows = []
    for i, (k, p, s) in enumerate(zip(text, y.tolist(), score, strict=True)):
        value = float(p) if isinstance(p, int | float) and not isinstance(p, bool) else None
        rows.append((i, k, None if p is None else str(p), value, s))
    return rows


def key_text(value):
    """A row key as the store keeps it: whole floats as integers (a CSV
    column of ids with a gap reads as floats), anything else by ``str``."""
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, np.generic):
        value = value.item()
    return str(value)
