"""The checks a batch goes through, all of them before anything is raised.

Each column is read once as a numpy array where its dtype allows; the masks of
failing rows are built only for checks whose cheap summary (a count, a min, a
max) shows a failure, so a clean batch costs little more than one pass of
``isna``, ``min`` and ``max``.
"""

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from mlpipe.utils._dataframe import (
    BOOLEAN,
    CATEGORICAL,
    DATETIME,
    NUMERIC,
    column_kind,
    describe_columns,
    time_ns,
)
from mlpipe.utils._scalar import python_scalar
from mlpipe.validation._report import COLUMN, ERROR, ROW, WARNING, Failure, ValidationReport
from mlpipe.validation._small_batch import MAX_ROWS, small_batch_report
from mlpipe.validation._stats import (
    batch_tail_pvalue,
    exceedance_pvalue,
    null_pvalue,
    tail_bound,
    unseen_pvalue,
)

_N_EXAMPLES = 3

# What a failing row is told (ValidationReport.row_reasons), by check; the
# range checks say their range.
_REASONS = {
    "nulls": "missing, where a value is required",
    "inf": "infinite",
    "non_integer": "not a whole number",
    "unseen_category": "unseen category",
    "duplicate": "repeats the value of an earlier row",
    "duplicate_key": "repeats the key of an earlier row",
    "out_of_range": "out of range",
}


class _Collector:
    """Gathers failures and the union of failing rows of one batch."""

    def __init__(self, X, alpha_error, alpha_warning, context=None, record=None, duplicates=None):
        self.X = X
        self.n = len(X)
        self.failures = []
        # Where the next failure stands in the order the checks run, so that
        # the failures of the partitions of one batch merge in that order.
        self.where = (0, 0)
        self.stage = 0
        self.order = []
        # A batch checked partition by partition (a dask DataFrame): the
        # statistics the learned checks read are the batch's (``context``),
        # recorded from each partition first (``record``); repeated keys are
        # found over the whole batch (``duplicates``).
        self.context = context
        self.record = record
        self.duplicates = duplicates or {}
        self.n_batch = self.batch(None, "n", self.n, "sum")
        self.row_mask = np.zeros(self.n, dtype=bool)
        # per learned check (the batch-wide rates split over the checks)
        self.alpha_error = alpha_error
        self.alpha_warning = alpha_warning

    def share(self, k):
        return k / self.n if self.n else 0.0

    def batch(self, column, key, local, how):
        """The batch's value of a statistic of which ``local`` is this
        frame's; ``how`` ("sum", "min", "max", "counts") merges partitions."""
        if self.record is not None:
            self.record[(column, key)] = (how, local)
        if self.context is not None and (column, key) in self.context:
            return self.context[(column, key)][1]
        return local

    def duplicated(self, label, frame):
        """Rows repeating an earlier row's value of ``frame`` in the batch."""
        if label in self.duplicates:
            return self.duplicates[label]
        return frame.duplicated(keep="first").to_numpy()

    def _placed(self):
        at = (*self.where, self.stage)
        self.order.append((*at, sum(o[:3] == at for o in self.order)))

    def severity(self, p_value):
        """What a learned check's p-value makes of it: an error, a warning or
        nothing (None)."""
        if p_value < self.alpha_error:
            return ERROR
        if p_value < self.alpha_warning:
            return WARNING
        return None

    def column_level(
        self, column, check, n_failed, message, examples=(), rows=(), severity=ERROR, p_value=None
    ):
        self._placed()
        self.failures.append(
            Failure(
                column,
                check,
                int(n_failed),
                self.share(n_failed),
                COLUMN,
                message,
                list(examples),
                list(rows),
                severity=severity,
                p_value=p_value,
            )
        )

    def from_mask(
        self,
        column,
        check,
        mask,
        values,
        message,
        level=ROW,
        severity=ERROR,
        p_value=None,
        reason=None,
    ):
        idx = np.flatnonzero(mask)
        if not len(idx):
            return
        first = idx[:_N_EXAMPLES]
        examples = [python_scalar(v) for v in values.iloc[first].tolist()]
        if reason is None:
            reason = _REASONS.get(check, f"fails {check}")
        rows = [python_scalar(v) for v in self.X.index[first].tolist()]
        self._placed()
        self.failures.append(
            Failure(
                column,
                check,
                len(idx),
                self.share(len(idx)),
                level,
                message,
                examples,
                rows,
                mask if level == ROW else None,
                severity=severity,
                p_value=p_value,
                reason=reason,
                values=values.iloc[idx].to_numpy(dtype=object) if level == ROW else None,
            )
        )
        # Only errors refuse rows; a warned row passes.
        if level == ROW and severity == ERROR:
            self.row_mask |= mask


def run_checks(
    schema,
    X,
    alpha=0.01,
    warn_alpha=0.1,
    small_batch=True,
    context=None,
    record=None,
    duplicates=None,
):
    """Run every check of ``schema`` on the DataFrame ``X``.

    ``alpha`` and ``warn_alpha`` are the batch-wide false-alarm rates of the
    errors and warnings of the learned checks, split evenly over them
    (Bonferroni). Returns a :class:`ValidationReport`; its ``failing_rows``
    holds the labels of rows failing a row-level error, and ``_row_mask`` the
    same as a boolean array (used to drop them).

    A batch of a few rows is first read row by row
    (:func:`~mlpipe.validation._small_batch.small_batch_report`); only one
    that may fail a check goes through the checks below; ``small_batch=False``
    skips that reading (for a caller that has just done it).

    A partition of a larger batch passes ``record`` (a dict the batch-wide
    statistics of this partition are written into) or ``context`` (those
    statistics merged over the batch, see :func:`merge_records`) and
    ``duplicates`` (``{label: mask}`` of rows repeating an earlier row of the
    batch): its failures are then those of the whole batch's report on its
    rows, with the batch's messages and p-values.
    """
    if context is not None or record is not None:
        small_batch = False
    if small_batch and len(X) <= MAX_ROWS:
        report = small_batch_report(schema, X, X.columns.tolist(), alpha, warn_alpha)
        if report is not None:
            return report
    n_learned = max(schema.n_learned_checks(), 1)
    out = _Collector(X, alpha / n_learned, warn_alpha / n_learned, context, record, duplicates)
    n = out.n
    names = schema.names
    present = list(X.columns)
    expected = set(names)
    seen = set(present)
    dupes = X.columns[X.columns.duplicated()].unique().tolist()
    for name in dupes:
        out.column_level(
            name,
            "duplicate_column",
            n,
            f"appears {present.count(name)} times in the batch; checks skipped",
        )
    missing = [c for c in names if c not in seen]
    for name in missing:
        out.column_level(name, "missing_column", n, "is missing from the batch")
    extra = [c for c in present if c not in expected and c not in dupes]
    if schema.strict:
        for name in extra:
            out.column_level(name, "extra_column", n, "is not in the schema")
    if schema.ordered and not missing and not extra and not dupes and present != names:
        moved = [c for c, e in zip(present, names, strict=True) if c != e]
        out.column_level(
            None,
            "column_order",
            n,
            f"columns come in another order than the schema's: {describe_columns(moved)} moved",
        )

    for position, col in enumerate(schema.columns):
        if col.name in seen and col.name not in dupes:
            out.where, out.stage = (1, position), 0
            _check_column(out, col, X[col.name])

    out.where, out.stage = (2, 0), 0
    if schema.key and all(k in seen and k not in dupes for k in schema.key):
        key = schema.key
        repeated = out.duplicated("key", X[key])
        if repeated.any():
            label = key[0] if len(key) == 1 else tuple(key)
            values = (
                X[key[0]]
                if len(key) == 1
                else pd.Series(list(X[key].itertuples(index=False, name=None)), index=X.index)
            )
            out.from_mask(
                label,
                "duplicate_key",
                repeated,
                values,
                f"repeats a key {describe_columns(key)} seen in an earlier row",
            )

    failing = X.index[out.row_mask]
    report = ValidationReport(
        failures=out.failures,
        n_rows=n,
        n_columns=X.shape[1],
        failing_rows=failing,
    )
    report._index = X.index
    report._row_mask = out.row_mask
    report._order = out.order
    return report


def _null_mask(s):
    """Boolean mask of missing values, or None when the dtype cannot hold any."""
    dtype = s.dtype
    if isinstance(dtype, np.dtype):
        if dtype.kind in "iub":
            return None  # numpy integers and booleans cannot be missing
        if dtype.kind == "f":
            return np.isnan(s.to_numpy())
    elif isinstance(dtype, pd.CategoricalDtype):
        return s.cat.codes.to_numpy() == -1
    return s.isna().to_numpy()


def _check_column(out, col, s):
    n = out.n
    name = col.name
    null = _null_mask(s)
    n_null = 0 if null is None else int(null.sum())
    # the batch's counts (this frame's, unless it is a partition of a batch)
    n_b, null_b = out.n_batch, out.batch(name, "n_null", n_null, "sum")

    if null_b and not col.nullable:  # declared, also on a learned column
        if null is not None:
            out.from_mask(name, "nulls", null, s, "missing value(s) where none are allowed")
    elif null_b and col.learned:
        _check_learned_nulls(out, col, s, null, n_null, null_b)
    elif null_b and col.max_null_rate is not None and null_b / n_b > col.max_null_rate + 1e-12:
        out.column_level(
            name,
            "null_rate",
            n_null,
            f"missing: {null_b / n_b:.1%} of the batch, above the allowed "
            f"{col.max_null_rate:.1%} (training {col.null_rate:.1%})",
        )
    if n_null == n:
        return

    valid = None if null is None else ~null
    kind = column_kind(s)
    out.stage = 1
    if kind != col.kind:
        s, bad = _coerce(s, col.kind)
        n_bad = out.batch(name, "n_bad", int(bad.sum()), "sum")
        n_values = n - n_null
        n_values_b = out.batch(name, "n_values", n_values, "sum")
        if n_bad:
            examples_at = np.flatnonzero(bad)[:_N_EXAMPLES]
            detail = f"{n_bad} of {n_values_b} value(s) cannot be converted"
        else:
            examples_at = np.flatnonzero(~null if null is not None else np.ones(n, bool))
            examples_at = examples_at[:_N_EXAMPLES]
            detail = f"all {n_values_b} value(s) can be converted"
        raw = out.X[name]
        out.column_level(
            name,
            "dtype",
            n_values,
            f"expected {col.kind} ({col.dtype}), got {raw.dtype} ({kind}); {detail}",
            [python_scalar(v) for v in raw.iloc[examples_at].tolist()],
            [python_scalar(v) for v in out.X.index[examples_at].tolist()],
        )
        # Values that failed conversion are reported once, here, and skipped below.
        valid = ~bad if valid is None else valid & ~bad

    out.stage = 2
    if col.kind == NUMERIC:
        _check_numeric(out, col, s, valid)
    elif col.kind == CATEGORICAL:
        out.stage = 7
        _check_categorical(out, col, s, valid)
    elif col.kind == DATETIME:
        out.stage = 5
        _check_datetime(out, col, s, valid)

    out.stage = 8
    if col.regex is not None:
        _check_regex(out, col, s, valid)
    out.stage = 9
    if col.unique:
        repeated = out.duplicated(("unique", name), s)
        if valid is not None:
            repeated = repeated & valid
        out.from_mask(name, "duplicate", repeated, s, "repeats a value of an earlier row")
    for i, check in enumerate(col.checks):
        out.stage = 10 + i
        _user_check(out, col, check, s, valid)


def _check_learned_nulls(out, col, s, null, n_null, null_b):
    """Fisher's exact test of the batch's missing count against training's."""
    n, k, n_train = out.n_batch, col.n_null_train, col.n_train
    p = null_pvalue(n_train, k, n, null_b)
    severity = out.severity(p)
    if severity is None:
        return
    message = (
        f"missing: {null_b} of {n} ({null_b / n:.1%}) where {k} of {n_train} training "
        f"rows were ({k / n_train:.1%}); p = {p:.2g} (Fisher's exact test)"
    )
    if k == 0:
        if null is None:
            return
        out.from_mask(
            col.name,
            "nulls",
            null,
            s,
            message,
            severity=severity,
            p_value=p,
            reason="missing, where no training row was",
        )
    else:
        out.column_level(col.name, "null_rate", n_null, message, severity=severity, p_value=p)


def _coerce(s, kind):
    """``s`` converted to ``kind``, and the mask of values that would not convert."""
    present = s.notna().to_numpy()
    if kind == NUMERIC:
        if ptypes.is_bool_dtype(s.dtype):
            converted = s.astype("float64")
        else:
            converted = pd.to_numeric(s.astype(object), errors="coerce").astype("float64")
    elif kind == BOOLEAN:
        obj = s.astype(object)
        ok = obj.isin([True, False, 0, 1])
        converted = obj.where(ok).map(lambda v: bool(v) if v == v and v is not None else v)
    elif kind == DATETIME:
        converted = pd.to_datetime(s.astype(object), errors="coerce")
    elif kind == CATEGORICAL:
        converted = s.astype(object)
    else:
        return s, present
    bad = present & converted.isna().to_numpy()
    return converted, bad


def _float_values(s):
    values = s.to_numpy()
    if values.dtype.kind in "iuf":
        return values
    return s.to_numpy(dtype="float64", na_value=np.nan)


def _check_numeric(out, col, s, valid):
    name = col.name
    if ptypes.is_bool_dtype(s.dtype):
        return
    values = _float_values(s)
    if valid is not None and not valid.any():
        return
    if valid is not None and not valid.all():
        if values.dtype.kind == "f":
            lo_seen, hi_seen = np.fmin.reduce(values), np.fmax.reduce(values)
        else:
            lo_seen, hi_seen = values[valid].min(), values[valid].max()
    else:
        lo_seen, hi_seen = values.min(), values.max()
    is_float = values.dtype.kind == "f"

    inf = None
    if is_float and (lo_seen == -np.inf or hi_seen == np.inf):
        inf = np.isinf(values)
        if not col.allow_inf:
            out.from_mask(name, "inf", inf, s, "infinite value(s)")

    out.stage = 3
    if is_float and col.is_integer:
        with np.errstate(invalid="ignore"):
            fractional = np.floor(values) != values
        fractional &= np.isfinite(values)
        out.from_mask(
            name,
            "non_integer",
            fractional,
            s,
            f"not whole numbers in a column of integers ({col.dtype} at fit)",
        )

    if col.learned:
        _check_learned_range(out, col, s, values, valid, inf, lo_seen, hi_seen)
        return
    out.stage = 5
    low, high = col.bounds()
    below = low is not None and lo_seen < low
    above = high is not None and hi_seen > high
    if below or above:
        outside = np.zeros(len(values), dtype=bool)
        if below:
            outside |= values < low
        if above:
            outside |= values > high
        if inf is not None:
            outside &= ~inf
        if valid is not None:
            outside &= valid
        out.from_mask(
            name,
            "out_of_range",
            outside,
            s,
            f"outside the allowed range [{_fmt(low)}, {_fmt(high)}] "
            f"(training range [{_fmt(col.min)}, {_fmt(col.max)}], "
            f"tolerance {col.tolerance:g})",
            reason=f"out of range [{_fmt(low)}, {_fmt(high)}]",
        )


def _check_learned_range(out, col, s, values, valid, inf, lo_seen, hi_seen, fmt=None):
    """Range checks of a learned column: a value beyond the training range is
    expected (a batch of m rows holds a new maximum with probability about
    m / (n + m)), so the fitted tails say how far a batch of this size may
    go; below zero in a column without negative values is a rule."""
    fmt = fmt or _fmt
    name = col.name
    if col.min is None:
        return
    lo_edge, hi_edge = _as_float(col.min, col), _as_float(col.max, col)
    here = lo_seen < lo_edge or hi_seen > hi_edge
    recording = out.record is not None
    if not (here or recording):
        return
    usable = np.isfinite(values) if values.dtype.kind == "f" else np.ones(len(values), bool)
    if valid is not None:
        usable &= valid
    if inf is not None:
        usable &= ~inf
    m = out.batch(name, "m", int(usable.sum()), "sum")
    lo_seen = out.batch(name, "lo_seen", lo_seen, "min")
    hi_seen = out.batch(name, "hi_seen", hi_seen, "max")
    tied = {}
    for side, tail, edge in (("high", col.tail_high, hi_edge), ("low", col.tail_low, lo_edge)):
        if tail is not None and tail["scale"] <= 0:
            sign = 1.0 if side == "high" else -1.0
            with np.errstate(invalid="ignore"):
                beyond = usable & (sign * values > sign * edge)
            tied[side] = beyond, out.batch(name, f"beyond_{side}", int(beyond.sum()), "sum")
    if not here or not m:
        return
    error = np.zeros(len(values), dtype=bool)
    warn = np.zeros(len(values), dtype=bool)
    p_values, parts = [], []
    for side, tail, seen, edge in (
        ("high", col.tail_high, hi_seen, hi_edge),
        ("low", col.tail_low, lo_seen, lo_edge),
    ):
        sign = 1.0 if side == "high" else -1.0
        if tail is None or not sign * seen > sign * edge:
            continue
        word = "above" if side == "high" else "below"
        if tail["scale"] <= 0:
            # The training values at this end are all tied (a 0/1 or mostly
            # constant column): no tail to extrapolate, so only how many
            # batch values go beyond counts (exchangeability: all j of them
            # among the top of the pooled values with probability
            # C(m, j) / C(N, j)).
            beyond, j = tied[side]
            p = exceedance_pvalue(col.n_train - col.n_null_train, m, j)
            p_values.append(p)
            severity = out.severity(p)
            if severity == ERROR:
                error |= beyond
            elif severity == WARNING:
                warn |= beyond
            parts.append(
                f"{j} of {m} {word} {fmt(edge, col)}, where the training values at that "
                f"end were tied: as improbable as p = {p:.2g} (exceedance count)"
            )
            continue
        p = batch_tail_pvalue(tail, sign * float(seen), m)
        p_values.append(p)
        at_error = sign * max(tail_bound(tail, m, out.alpha_error), sign * edge)
        at_warn = sign * max(tail_bound(tail, m, out.alpha_warning), sign * edge)
        with np.errstate(invalid="ignore"):
            beyond_error = usable & (sign * values > sign * at_error)
            beyond_warn = usable & (sign * values > sign * at_warn) & ~beyond_error
        error |= beyond_error
        warn |= beyond_warn
        parts.append(
            f"{word} {fmt(at_error, col)} (error) or {fmt(at_warn, col)} (warning), the values "
            f"a batch of {m} reaches with probability {out.alpha_error:.2g} and "
            f"{out.alpha_warning:.2g} under the tail learned from {col.n_train} rows"
        )
    law = None
    if col.kind == NUMERIC and lo_edge >= 0:
        with np.errstate(invalid="ignore"):
            law = usable & (values < 0)
        if law.any():
            out.stage = 4
            out.from_mask(
                name,
                "out_of_range",
                law,
                s,
                "negative, where every training value was >= 0 (a rule: learned bounds "
                "never cross zero)",
                p_value=0.0,
                reason=f"negative, out of range [{fmt(col.min, col)}, {fmt(col.max, col)}]",
            )
        error &= ~law
        warn &= ~law
    p = min(p_values) if p_values else None
    where = "; ".join(parts)
    training = f"training range [{fmt(col.min, col)}, {fmt(col.max, col)}]"
    reason = f"out of range [{fmt(col.min, col)}, {fmt(col.max, col)}]"
    if error.any():
        out.stage = 5
        out.from_mask(
            name,
            "out_of_range",
            error,
            s,
            f"{where} ({training}); p = {p:.2g}",
            p_value=p,
            reason=reason,
        )
    if warn.any():
        out.stage = 6
        out.from_mask(
            name,
            "out_of_range",
            warn,
            s,
            f"{where} ({training}); p = {p:.2g}",
            severity=WARNING,
            p_value=p,
            reason=reason,
        )


def _as_float(value, col):
    if col.kind == DATETIME:
        return float(time_ns(pd.Series([value]))[0])
    return float(value)


def _fmt_datetime(value, col):
    tz = getattr(col.min, "tzinfo", None)
    stamp = pd.Timestamp(int(value), tz="UTC") if not isinstance(value, pd.Timestamp) else value
    return str(stamp.tz_convert(tz) if tz is not None else stamp.tz_localize(None))


def _fmt(value, col=None):
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _check_categorical(out, col, s, valid):
    if col.categories is None:
        return
    name = col.name
    learned = col.learned and col.category_counts is not None
    recording = out.record is not None
    if isinstance(s.dtype, pd.CategoricalDtype):
        categories = s.cat.categories
        allowed = categories.isin(col.categories)
        if allowed.all() and not (recording and learned):
            return
        codes = s.cat.codes.to_numpy()
        unseen = np.isin(codes, np.flatnonzero(~allowed))
    else:
        unseen = ~s.isin(col.categories).to_numpy()
        if valid is not None:
            unseen &= valid
    here = bool(unseen.any())
    if not (here or recording):
        return
    # the batch's values of unseen categories, with their counts, first seen first
    counts = pd.Series(s[unseen].to_numpy(dtype=object)).value_counts(sort=False)
    counts = dict(zip(counts.index, counts.tolist(), strict=True))
    counts = out.batch(name, "unseen", counts, "counts")
    if learned:
        present = s.to_numpy(dtype=object) if valid is None else s[valid].to_numpy(dtype=object)
        codes = pd.Index(col.categories, dtype=object).get_indexer(present)
        batch_counts = out.batch(
            name,
            "seen",
            np.bincount(codes[codes >= 0], minlength=len(col.categories)),
            "sum",
        )
        n_present = out.batch(name, "n_present", len(present), "sum")
    if not here:
        return
    values = list(counts)
    shown = ", ".join(repr(python_scalar(v)) for v in values[:5])
    more = f", ... ({len(values) - 5} more)" if len(values) > 5 else ""
    message = f"value(s) not among the {len(col.categories)} allowed: {shown}{more}"
    if not learned:
        out.from_mask(name, "unseen_category", unseen, s, message)
        return
    # Exchangeable with training? A sample with many categories seen once
    # predicts new ones in a batch; one with none predicts few.
    unseen_counts = np.array(list(counts.values()), dtype=np.int64)
    p = unseen_pvalue(col.category_counts, batch_counts, unseen_counts)
    severity = out.severity(p)
    if severity is None:
        return
    n_values = sum(col.category_counts)
    singletons = sum(c == 1 for c in col.category_counts)
    message += (
        f"; {int(unseen_counts.sum())} of {n_present} values, where {singletons} of "
        f"{n_values} training values were of a category seen once; p = {p:.2g} "
        "(exact conditional test)"
    )
    out.from_mask(name, "unseen_category", unseen, s, message, severity=severity, p_value=p)


def merge_records(records):
    """The batch's statistics from those :func:`run_checks` recorded of its
    partitions (in order), as ``context`` for checking each of them."""
    merged = {}
    for record in records:
        for key, (how, value) in record.items():
            if key not in merged:
                merged[key] = (how, dict(value) if how == "counts" else value)
                continue
            _, old = merged[key]
            if how == "sum":
                new = old + value
            elif how == "min":
                new = min(old, value)
            elif how == "max":
                new = max(old, value)
            else:
                new = old
                for k, c in value.items():
                    new[k] = new.get(k, 0) + c
            merged[key] = (how, new)
    return merged


def _check_datetime(out, col, s, valid):
    if col.learned:
        if col.min is None:
            return
        aware = getattr(col.min, "tzinfo", None) is not None
        if aware != (getattr(s.dt, "tz", None) is not None):
            out.column_level(
                col.name,
                "out_of_range",
                int(s.notna().sum()),
                "cannot be compared with the training range: one is time zone-aware, the other not",
            )
            return
        values = time_ns(s)
        present = ~np.isnan(values)
        if not present.any():
            return
        lo_seen, hi_seen = values[present].min(), values[present].max()
        _check_learned_range(out, col, s, values, valid, None, lo_seen, hi_seen, fmt=_fmt_datetime)
        return
    low, high = col.bounds()
    if low is None and high is None:
        return
    outside = np.zeros(len(s), dtype=bool)
    try:
        if low is not None:
            outside |= (s < low).to_numpy(dtype=bool, na_value=False)
        if high is not None:
            outside |= (s > high).to_numpy(dtype=bool, na_value=False)
    except TypeError as exc:  # time zone-aware against naive
        out.column_level(
            col.name,
            "out_of_range",
            int(s.notna().sum()),
            f"cannot be compared with the allowed range ({exc})",
        )
        return
    if valid is not None:
        outside &= valid
    out.from_mask(
        col.name,
        "out_of_range",
        outside,
        s,
        f"outside the allowed range [{low}, {high}]",
        reason=f"out of range [{low}, {high}]",
    )


def _valid_values(s, valid):
    return s if valid is None else s[valid]


def _scatter(n, valid, flags):
    """Row mask of length ``n`` from per-valid-value ``flags``."""
    if valid is None:
        return np.asarray(flags, dtype=bool)
    mask = np.zeros(n, dtype=bool)
    mask[valid] = flags
    return mask


def _check_regex(out, col, s, valid):
    values = _valid_values(s, valid).astype(object).astype(str)
    matched = values.str.fullmatch(col.regex).to_numpy(dtype=bool, na_value=False)
    out.from_mask(
        col.name,
        "regex",
        _scatter(out.n, valid, ~matched),
        s,
        f"do not match the pattern {col.regex!r}",
        reason=f"does not match the pattern {col.regex!r}",
    )


def _user_check(out, col, check, s, valid):
    label = f"check:{getattr(check, '__name__', type(check).__name__)}"
    values = _valid_values(s, valid)
    try:
        result = check(values)
    except Exception as exc:  # a broken check is a finding, not a crash
        out.column_level(
            col.name,
            label,
            len(values),
            f"the check raised {type(exc).__name__}: {exc}",
        )
        return
    if np.ndim(result) == 0:
        if not bool(result):
            out.column_level(col.name, label, len(values), "fails the user check")
        return
    flags = np.asarray(result, dtype=bool)
    if flags.shape != (len(values),):
        out.column_level(
            col.name,
            label,
            len(values),
            f"the check returned shape {flags.shape}, expected ({len(values)},) or one bool",
        )
        return
    out.from_mask(col.name, label, _scatter(out.n, valid, ~flags), s, "fails the user check")
