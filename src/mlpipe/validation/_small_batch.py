"""The checks of a small batch (a service's one row), on its values read once.

The general checks (:mod:`mlpipe.validation._checks`) read each column as a
pandas Series and run a few pandas operations on it: about 0.2 ms a column,
whatever the batch size, so 2 ms for one row of ten columns. A batch of a few
rows is instead read once, row by row, as Python values, and each value is
held against a plan of its column made once per schema: its kind, its range,
its allowed categories as a frozenset.

This path only certifies a clean batch. At the first value that a check
could fail or warn about, and for any input it does not handle (columns other
than the schema's, object or datetime columns, user checks, regular
expressions, keys over several rows), it gives up and the general checks run:
a batch with a failure gets the report it always got.
"""

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from mlpipe.utils._dataframe import (
    BOOLEAN,
    CATEGORICAL,
    NUMERIC,
    column_dtypes,
    dtype_kind,
    row_values,
)
from mlpipe.validation._report import ValidationReport
from mlpipe.validation._stats import null_pvalue

# Largest batch read row by row; beyond it, the general checks' per-column
# cost is shared by enough rows.
MAX_ROWS = 16

# The plans of the schemas checked lately, {id(schema): (state, plan)}; a
# plan is used only while the schema's state is unchanged (the schema may be
# edited in place, or its id reused).
_PLANS = {}
_MAX_PLANS = 64


@dataclass(frozen=True)
class _ColumnPlan:
    name: object
    kind: str
    nullable: bool
    # (n_train, missing at training) of a learned column, else None
    learned_nulls: tuple | None
    max_null_rate: float | None
    low: float | None
    high: float | None
    is_integer: bool
    allowed: frozenset | None
    unique: bool


def small_batch_report(schema, X, labels, alpha, warn_alpha):
    """The report of ``X`` when it passes every check of ``schema``, or None.

    ``X`` is a DataFrame of at most :data:`MAX_ROWS` rows, ``labels`` its
    column labels as a list. The report equals
    what :func:`mlpipe.validation._checks.run_checks` gives a clean batch
    (no failure, no warning). None means that a check may fail, or that the
    batch is outside what this path reads: then run the general checks.
    """
    n = len(X)
    if not 0 < n <= MAX_ROWS:
        return None
    plan = _plan(schema, alpha, warn_alpha)
    if plan is None:
        return None
    columns, quiet_below, keyed = plan
    if keyed and n > 1:
        return None
    if labels != [c.name for c in columns]:
        return None
    dtypes = column_dtypes(X)
    by_column = [(v,) for v in row_values(X)] if n == 1 else X.to_numpy(dtype=object).T.tolist()
    for col, dtype, values in zip(columns, dtypes, by_column, strict=True):
        if not _passes(col, dtype, values, n, quiet_below):
            return None
    mask = np.zeros(n, dtype=bool)
    report = ValidationReport(
        failures=[], n_rows=n, n_columns=len(columns), failing_rows=X.index[mask]
    )
    report._index = X.index
    report._row_mask = mask
    return report


def _passes(col, dtype, values, n, quiet_below):
    """Whether no check of ``col`` can fail or warn on ``values``; a learned
    check's p-value below ``quiet_below`` gives an error or a warning."""
    kind = dtype_kind(dtype)
    if kind is None:
        return False  # an object column's kind is in its values
    present = [v for v in values if not pd.isna(v)]
    n_null = n - len(present)
    if n_null:
        if not col.nullable:
            return False
        if col.learned_nulls is not None:
            n_train, k = col.learned_nulls
            if null_pvalue(n_train, k, n, n_null) < quiet_below:
                return False
        elif col.max_null_rate is not None and n_null / n > col.max_null_rate + 1e-12:
            return False
        if not present:
            return True  # an all-missing column is not checked further
    if kind != col.kind:
        return False
    if col.unique and n > 1:
        return False
    if col.kind == NUMERIC:
        for v in present:
            x = float(v)
            if math.isinf(x):
                return False
            if col.is_integer and not x.is_integer():
                return False
            if (col.low is not None and x < col.low) or (col.high is not None and x > col.high):
                return False
    elif col.kind == CATEGORICAL and col.allowed is not None:
        for v in present:
            if not (isinstance(v, str) and v in col.allowed):
                return False
    return True


def _plan(schema, alpha, warn_alpha):
    """``(column plans, p-value below which a learned check reports, has a
    key)`` of ``schema``, or None for a schema with checks this path does not
    make."""
    state = _state(schema, alpha, warn_alpha)
    cached = _PLANS.get(id(schema))
    if cached is not None and _same(cached[0], state):
        return cached[1]
    plan = _make_plan(schema, alpha, warn_alpha)
    if len(_PLANS) >= _MAX_PLANS:
        _PLANS.clear()
    _PLANS[id(schema)] = (state, plan)
    return plan


def _state(schema, alpha, warn_alpha):
    """Everything a plan is made from, compared by value (a schema edited in
    place gets a new plan)."""
    columns = tuple(
        (
            tuple(vars(col).values()),
            None if col.categories is None else tuple(col.categories),
        )
        for col in schema.columns
    )
    key = None if schema.key is None else tuple(schema.key)
    return (schema.strict, schema.ordered, key, alpha, warn_alpha, columns)


def _same(a, b):
    try:
        return bool(a == b)
    except (TypeError, ValueError):  # values without a truth value of ==
        return False


def _make_plan(schema, alpha, warn_alpha):
    columns = []
    for col in schema.columns:
        if col.kind not in (NUMERIC, CATEGORICAL, BOOLEAN) or col.regex is not None or col.checks:
            return None
        low = high = None
        if col.kind == NUMERIC:
            if col.learned:
                if col.min is not None:
                    low, high = float(col.min), float(col.max)
            else:
                low, high = col.bounds()
        allowed = None
        if col.kind == CATEGORICAL and col.categories is not None:
            allowed = frozenset(c for c in col.categories if isinstance(c, str))
        columns.append(
            _ColumnPlan(
                name=col.name,
                kind=col.kind,
                nullable=col.nullable,
                learned_nulls=(col.n_train, col.n_null_train) if col.learned else None,
                max_null_rate=col.max_null_rate,
                low=low,
                high=high,
                is_integer=col.is_integer,
                allowed=allowed,
                unique=col.unique,
            )
        )
    # the per-check rates of run_checks: errors below alpha's share, warnings
    # below warn_alpha's
    n_learned = max(schema.n_learned_checks(), 1)
    return columns, max(alpha / n_learned, warn_alpha / n_learned), bool(schema.key)
