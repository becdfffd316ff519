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
)
from mlpipe.utils._scalar import python_scalar
from mlpipe.validation._report import COLUMN, ROW, Failure, ValidationReport

_N_EXAMPLES = 3


class _Collector:
    """Gathers failures and the union of failing rows of one batch."""

    def __init__(self, X):
        self.X = X
        self.n = len(X)
        self.failures = []
        self.row_mask = np.zeros(self.n, dtype=bool)

    def share(self, k):
        return k / self.n if self.n else 0.0

    def column_level(self, column, check, n_failed, message, examples=(), rows=()):
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
            )
        )

    def from_mask(self, column, check, mask, values, message, level=ROW):
        idx = np.flatnonzero(mask)
        if not len(idx):
            return
        first = idx[:_N_EXAMPLES]
        examples = [python_scalar(v) for v in values.iloc[first].tolist()]
        rows = [python_scalar(v) for v in self.X.index[first].tolist()]
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
            )
        )
        if level == ROW:
            self.row_mask |= mask


def run_checks(schema, X):
    """Run every check of ``schema`` on the DataFrame ``X``.

    Returns a :class:`ValidationReport`; its ``failing_rows`` holds the labels
    of rows failing a row-level check, and ``_row_mask`` the same as a
    boolean array (used to drop them).
    """
    out = _Collector(X)
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

    for col in schema.columns:
        if col.name in seen and col.name not in dupes:
            _check_column(out, col, X[col.name])

    if schema.key and all(k in seen and k not in dupes for k in schema.key):
        key = schema.key
        repeated = X[key].duplicated(keep="first").to_numpy()
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

    if n_null and not col.nullable:
        out.from_mask(name, "nulls", null, s, "missing value(s) where none are allowed")
    elif n_null and col.max_null_rate is not None and n_null > col.max_null_rate * n:
        out.column_level(
            name,
            "null_rate",
            n_null,
            f"missing: {n_null / n:.1%} of the batch, above the allowed "
            f"{col.max_null_rate:.1%} (training {col.null_rate:.1%})",
        )
    if n_null == n:
        return

    valid = None if null is None else ~null
    kind = column_kind(s)
    if kind != col.kind:
        s, bad = _coerce(s, col.kind)
        n_bad = int(bad.sum())
        n_values = n - n_null
        if n_bad:
            examples_at = np.flatnonzero(bad)[:_N_EXAMPLES]
            detail = f"{n_bad} of {n_values} value(s) cannot be converted"
        else:
            examples_at = np.flatnonzero(~null if null is not None else np.ones(n, bool))
            examples_at = examples_at[:_N_EXAMPLES]
            detail = f"all {n_values} value(s) can be converted"
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

    if col.kind == NUMERIC:
        _check_numeric(out, col, s, valid)
    elif col.kind == CATEGORICAL:
        _check_categorical(out, col, s, valid)
    elif col.kind == DATETIME:
        _check_datetime(out, col, s, valid)

    if col.regex is not None:
        _check_regex(out, col, s, valid)
    if col.unique:
        repeated = s.duplicated(keep="first").to_numpy()
        if valid is not None:
            repeated = repeated & valid
        out.from_mask(name, "duplicate", repeated, s, "repeats a value of an earlier row")
    for check in col.checks:
        _user_check(out, col, check, s, valid)


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
        )


def _fmt(value):
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _check_categorical(out, col, s, valid):
    if col.categories is None:
        return
    name = col.name
    if isinstance(s.dtype, pd.CategoricalDtype):
        categories = s.cat.categories
        allowed = categories.isin(col.categories)
        if allowed.all():
            return
        codes = s.cat.codes.to_numpy()
        unseen = np.isin(codes, np.flatnonzero(~allowed))
    else:
        unseen = ~s.isin(col.categories).to_numpy()
        if valid is not None:
            unseen &= valid
    if unseen.any():
        values = pd.unique(s[unseen].to_numpy(dtype=object))
        shown = ", ".join(repr(python_scalar(v)) for v in values[:5])
        more = f", ... ({len(values) - 5} more)" if len(values) > 5 else ""
        out.from_mask(
            name,
            "unseen_category",
            unseen,
            s,
            f"value(s) not among the {len(col.categories)} allowed: {shown}{more}",
        )


def _check_datetime(out, col, s, valid):
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
