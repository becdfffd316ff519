"""The checks of a batch that is a dask DataFrame, on the workers.

A batch's report depends on statistics of the whole batch (its size, its
missing count, how far it goes beyond the training range, its counts of
unseen categories), and which rows fail depends on them. So each partition is
checked twice, both times on the workers: first to record those statistics
(:func:`~mlpipe.validation._checks.run_checks` with ``record``), merged over
the batch; then against the merged statistics (``context``), which gives the
partition's share of the whole batch's report: the same failures, messages
and p-values, with its own failing rows. Repeated keys (and values of a
``unique`` column) are found over the whole batch by a dask groupby of the
key with each row's place. The partitions' reports then merge into the
batch's, in the order the checks run.
"""

import numpy as np
import pandas as pd

from mlpipe.exceptions import DataValidationError
from mlpipe.utils._dask import require_dask, tree_merge
from mlpipe.validation._checks import merge_records, run_checks
from mlpipe.validation._report import COLUMN, ROW, Failure, ValidationReport

# A row's place in the batch: its partition's number in the high bits.
_PLACE_BITS = 40
_N_EXAMPLES = 3


class LazyValidationReport:
    """The :class:`ValidationReport` of a dask batch, computed when asked.

    ``SchemaValidator.transform`` of a dask DataFrame keeps one as its
    ``last_report_``: nothing is computed until :meth:`compute` is called or
    an attribute of the report is read (``passed``, ``to_frame()``, ...),
    which computes it once with the active dask scheduler. To compute it with
    the checked batch in one pass, use :meth:`to_delayed`:
    ``out, report = dask.compute(validator.transform(ddf),
    validator.last_report_.to_delayed())``.

    Saving the validator (``mlpipe.save``, pickle) computes the report and
    keeps the :class:`ValidationReport`.
    """

    def __init__(self, delayed):
        self._delayed = delayed
        self._report = None

    def to_delayed(self):
        """Return the report as a :class:`dask.delayed.Delayed`."""
        return self._delayed

    def compute(self, **kwargs):
        """Compute (once) and return the :class:`ValidationReport`.

        Parameters
        ----------
        **kwargs : dict
            Passed to ``dask.compute`` (e.g. ``scheduler="threads"``).

        Returns
        -------
        report : ValidationReport
        """
        if self._report is None:
            dask = require_dask("a dask batch's validation report")
            (self._report,) = dask.compute(self._delayed, **kwargs)
        return self._report

    def __getattr__(self, name):
        if name.startswith("__") or name in ("_delayed", "_report"):
            raise AttributeError(name)
        return getattr(self.compute(), name)

    def __reduce__(self):
        return _identity, (self.compute(),)

    def __repr__(self):
        state = "computed" if self._report is not None else "not computed"
        return f"<LazyValidationReport ({state})>"

    def _repr_html_(self):
        return self.compute()._repr_html_()


def _identity(report):
    return report


def batch_report(schema, X, alpha, warn_alpha):
    """The delayed :class:`ValidationReport` of the dask DataFrame ``X``, and
    the delayed statistics of the whole batch (``context``, the first pass)
    and repeated keys that a partition's checks depend on."""
    dask = require_dask("validating a dask DataFrame")
    records = each_partition(dask, X, _record, schema, alpha, warn_alpha)
    context = tree_merge(dask, records, merge_records)
    repeated = _repeated(dask, schema, X)
    checked = each_partition(dask, X, _check, schema, alpha, warn_alpha, context, repeated)
    report = dask.delayed(_finish)(tree_merge(dask, checked, _merge_reports), len(X.columns))
    return report, context, repeated


def each_partition(dask, X, func, *args):
    """Delayed ``func(partition, *args, number=i)`` of each partition ``i``
    of ``X``, each read in its own task.

    dask fuses the read of a partition (``read_parquet``, ``from_map``) into
    the task of the function mapped over it, so each pass reads its
    partitions again rather than sharing them with another pass: a shared
    partition waits in memory for every task that needs it, and the second
    pass needs the first pass merged over the whole batch, so the whole batch
    would be held at once (4.8 GB of 36M rows on the threaded scheduler).
    """
    boxed = X.map_partitions(
        _boxed, func, *args, meta=_BOX, enforce_metadata=False, align_dataframes=False
    )
    return [dask.delayed(_unboxed)(d) for d in boxed.to_delayed()]


_BOX = pd.Series([], dtype=object)


class _Box:
    """A value pandas leaves alone (it unpacks a dict or list set in a Series)."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


def _boxed(part, func, *args, partition_info=None):
    """``func``'s result of one partition, boxed as the one value of a Series
    (what ``map_partitions`` carries)."""
    number = _number(partition_info)
    return pd.Series([_Box(func(part, *args, number=number))], dtype=object)


def _unboxed(series):
    return series.iloc[0].value


def _number(partition_info):
    """The partition's number, from what ``map_partitions`` passes."""
    return partition_info["number"] if partition_info else 0


def _record(part, schema, alpha, warn_alpha, number):
    record = {}
    run_checks(schema, part, alpha=alpha, warn_alpha=warn_alpha, record=record)
    return record


def _duplicate_labels(schema, columns):
    """``{label: key columns}`` of the duplicate checks of the schema."""
    out = {}
    present = set(columns)
    if schema.key and all(k in present for k in schema.key):
        out["key"] = list(schema.key)
    for col in schema.columns:
        if col.unique and col.name in present:
            out[("unique", col.name)] = [col.name]
    return out


def _with_place(part, key, partition_info=None):
    number = _number(partition_info)
    frame = part[key].copy()
    frame["__place__"] = (np.int64(number) << _PLACE_BITS) + np.arange(len(part), dtype=np.int64)
    return frame


def _repeated(dask, schema, X):
    """Delayed ``{label: Series}``: for each key repeated in the batch, the
    place of its first row."""
    labels = _duplicate_labels(schema, list(X.columns))
    if not labels:
        return None
    out = {}
    for label, key in labels.items():
        meta = X._meta[key].assign(__place__=np.int64(0))
        placed = X.map_partitions(_with_place, key, meta=meta)
        stats = placed.groupby(key, dropna=False)["__place__"].agg(["min", "count"])
        out[label] = stats.to_delayed()
    return dask.delayed(_repeated_keys)(out)


def _repeated_keys(parts):
    out = {}
    for label, frames in parts.items():
        stats = pd.concat(frames) if frames else pd.DataFrame({"min": [], "count": []})
        out[label] = stats.loc[stats["count"] > 1, "min"]
    return out


def _duplicate_masks(schema, part, repeated, number):
    if repeated is None:
        return None
    masks = {}
    place = (np.int64(number) << _PLACE_BITS) + np.arange(len(part), dtype=np.int64)
    for label, key in _duplicate_labels(schema, list(part.columns)).items():
        first = repeated[label]
        if first.empty:  # no key repeated in the batch
            masks[label] = np.zeros(len(part), dtype=bool)
            continue
        keys = part[key[0]] if len(key) == 1 else pd.MultiIndex.from_frame(part[key])
        at = first.index.get_indexer(keys)
        found = at >= 0
        first_place = np.where(found, first.to_numpy()[np.maximum(at, 0)], -1)
        masks[label] = found & (first_place != place)
    return masks


def _partition_report(part, schema, alpha, warn_alpha, context, repeated, number):
    """One partition checked against the whole batch's statistics."""
    duplicates = _duplicate_masks(schema, part, repeated, number)
    return run_checks(
        schema,
        part,
        alpha=alpha,
        warn_alpha=warn_alpha,
        context=context,
        duplicates=duplicates,
    )


def _check(part, schema, alpha, warn_alpha, context, repeated, number):
    report = _partition_report(part, schema, alpha, warn_alpha, context, repeated, number)
    return {
        "n": report.n_rows,
        "failures": list(zip(report._order, report.failures, strict=True)),
        "failing": report.failing_rows,
        "mask": report._row_mask,
    }


def _merge_reports(parts):
    failures = {}
    for part in parts:
        for order, f in part["failures"]:
            if order not in failures:
                failures[order] = f
                continue
            old = failures[order]
            failures[order] = Failure(
                old.column,
                old.check,
                old.n_failed + f.n_failed,
                0.0,
                old.level,
                old.message,
                (old.examples + f.examples)[:_N_EXAMPLES],
                (old.rows + f.rows)[:_N_EXAMPLES],
                severity=old.severity,
                p_value=old.p_value,
                reason=old.reason,
            )
    failing = [p["failing"] for p in parts if len(p["failing"])]
    return {
        "n": sum(p["n"] for p in parts),
        "failures": list(failures.items()),
        "failing": failing[0].append(failing[1:]) if failing else parts[0]["failing"][:0],
        "mask": None,
    }


def _finish(merged, n_columns):
    n = merged["n"]
    failures = []
    for _, f in sorted(merged["failures"], key=lambda item: item[0]):
        failures.append(
            Failure(
                f.column,
                f.check,
                f.n_failed,
                f.n_failed / n if n else 0.0,
                f.level,
                f.message,
                f.examples,
                f.rows,
                severity=f.severity,
                p_value=f.p_value,
                reason=f.reason,
            )
        )
    report = ValidationReport(
        failures=failures, n_rows=n, n_columns=n_columns, failing_rows=merged["failing"]
    )
    report._dask_batch = True  # no row masks: rows_of / row_reasons refuse
    return report


def batch_row_reasons(schema, X, alpha, warn_alpha, meta):
    """:meth:`ValidationReport.row_reasons` of the dask DataFrame ``X``, a
    lazy dask DataFrame: each partition checked against the whole batch's
    statistics, so its rows get the reasons of the in-memory report."""
    whole, context, repeated = batch_report(schema, X, alpha, warn_alpha)
    return X.map_partitions(
        _reasons,
        schema,
        alpha,
        warn_alpha,
        context,
        repeated,
        whole,
        meta=meta,
        enforce_metadata=False,
        align_dataframes=False,
    )


def _reasons(part, schema, alpha, warn_alpha, context, repeated, whole, partition_info=None):
    """``row_reasons`` of one partition: its rows' own failures, and the
    lines of the errors of the whole batch that belong to no row (their
    counts are the batch's, not the partition's)."""
    number = _number(partition_info)
    # The partition's checks run again here, beside its rows, rather than
    # reusing the report's pass: a failure sent between workers drops its
    # failing values (Failure.__getstate__), which the reasons quote.
    report = _partition_report(part, schema, alpha, warn_alpha, context, repeated, number)
    own = [f for f in report.failures if f.level == ROW and f.mask is not None]
    rowless = {(f.column, f.check) for f in report.batch_errors}
    batch = [f for f in whole.errors if f.level != ROW or (f.column, f.check) in rowless]
    combined = ValidationReport(
        failures=own + batch, n_rows=report.n_rows, n_columns=report.n_columns
    )
    combined._index = report._index
    return combined.row_reasons()


def act_on_partition(
    part,
    schema,
    alpha,
    warn_alpha,
    context,
    repeated,
    report,
    on_error,
    message,
    partition_info=None,
):
    """What ``SchemaValidator.transform`` returns of one partition, once the
    batch's report is known: the partition, or its rows that passed (checked
    again against the batch's statistics, which gives the rows the report
    counted), or an error."""
    if not report.failures or report.passed or on_error == "warn":
        return part.copy(deep=False)
    column_level = [f for f in report.errors if f.level == COLUMN]
    if on_error == "raise" or column_level:
        raise DataValidationError(message(report), report)
    number = _number(partition_info)
    checked = _check(part, schema, alpha, warn_alpha, context, repeated, number)
    return part.loc[~checked["mask"]]


def dropped(report, on_error):
    """The report with ``n_dropped`` set as ``act_on_partition`` drops."""
    drops = report.failures and not report.passed and on_error == "drop_rows"
    if drops and not [f for f in report.errors if f.level == COLUMN]:
        report.n_dropped = len(report.failing_rows)
    return report
