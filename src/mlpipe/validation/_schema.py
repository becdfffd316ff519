"""Schema and Column: what a batch of data is expected to look like.

A schema is learned from training data (:meth:`Schema.infer`) or declared in
code, and travels to production as JSON (:meth:`Schema.to_json`,
:meth:`Schema.from_json`), which round-trips exactly.
"""

import contextlib
import copy
import importlib
import json
import math
import warnings
from dataclasses import dataclass, field, fields

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from mlpipe.exceptions import DataQualityWarning
from mlpipe.utils._dataframe import (
    BOOLEAN,
    CATEGORICAL,
    DATETIME,
    NUMERIC,
    OTHER,
    column_kind,
    describe_columns,
    time_ns,
)
from mlpipe.utils._plain import time_from_state, time_state
from mlpipe.utils._scalar import python_scalar
from mlpipe.validation._stats import fit_tail_top, tail_size, top_values

KINDS = (NUMERIC, BOOLEAN, CATEGORICAL, DATETIME, OTHER)
_FORMAT = "mlpipe.validation.Schema/1"


@dataclass
class Column:
    """What one column of a batch must look like.

    Every constraint is optional; ``None`` means "not checked".

    Parameters
    ----------
    name : str or int
        The column label.

    kind : {"numeric", "boolean", "categorical", "datetime", "other"}, \
            default="numeric"
        The kind of values (see :func:`mlpipe.utils._dataframe.column_kind`):
        a batch whose column is of another kind fails the ``"dtype"`` check,
        which also says whether its values could be converted.

    dtype : str, default=None
        The training dtype, e.g. ``"int64"``. Only whether it is an integer
        dtype is checked: float values that are not whole numbers in an
        integer column fail ``"non_integer"``. A float column with whole
        values (as an integer column with gaps becomes) passes.

    nullable : bool, default=True
        Whether missing values (:func:`pandas.isna`) are allowed at all.
        False is a rule, also on a learned column (whose missing values are
        otherwise tested against the training share): set it where a value
        is required.

    null_rate : float, default=0.0
        Share of missing values at training time (informational).

    max_null_rate : float, default=None
        Highest share of missing values a batch may have in a nullable
        column; more fails ``"null_rate"``.

    min, max : number or Timestamp, default=None
        The range of the values at training time (or the declared range).

    tolerance : float, default=0.0
        How far beyond ``[min, max]`` a value may go, as a share of
        ``max - min``. The widening never crosses zero: a column whose ``min``
        is non-negative stays non-negative, so a negative value is always out
        of range. See :meth:`bounds`.

    categories : list, default=None
        The allowed values of a categorical column; others fail
        ``"unseen_category"``.

    unique : bool, default=False
        Whether values must be unique within a batch; repeats fail
        ``"duplicate"``.

    allow_inf : bool, default=False
        Whether +/-inf may appear in a numeric column; otherwise they fail
        ``"inf"`` (and are not range-checked).

    regex : str, default=None
        A regular expression every non-missing value must match in full
        (for text columns); others fail ``"regex"``.

    checks : tuple of callables, default=()
        User checks, each ``f(series) -> bool array or bool`` with True where
        a value is valid. A failure is reported as ``"check:<f.__name__>"``.
        Missing values are not passed to the check. To travel as JSON, a check
        must be a module-level function (found again by its import path).

    n_train : int, default=None
        For a column learned by :meth:`Schema.infer`: the training rows its
        range, missing share and categories were estimated from. Such a
        column's checks of those three are statistical (a batch fails only
        when it is improbable under the estimate, given both sample sizes;
        see the user guide). None (a declared column) makes every check hard:
        ``min``/``max`` widened by ``tolerance``, ``nullable``,
        ``max_null_rate`` and ``categories`` are rules.

    tail_low, tail_high : dict, default=None
        For a learned numeric or datetime column: the generalized Pareto tails
        fitted to its smallest and largest training values (see
        ``mlpipe.validation._stats.fit_tail``), in the column's numeric scale
        (nanoseconds for datetimes).

    category_counts : list of int, default=None
        For a learned categorical column: how often each of ``categories``
        was seen in training. Unseen categories are then tested against what
        these counts predict (many categories seen once predict new ones);
        None keeps the categories closed (declared, or set by a categorical
        dtype).

    See Also
    --------
    Schema : The columns of a batch, each described by a Column.
    Schema.infer : Learn the columns from training data.

    Examples
    --------
    >>> from mlpipe.validation import Column
    >>> Column("age", min=18, max=100, nullable=False).bounds()
    (18.0, 100.0)
    >>> Column("amount", min=250, max=1250, tolerance=0.25).bounds()
    (0.0, 1500.0)
    """

    name: object
    kind: str = NUMERIC
    dtype: str | None = None
    nullable: bool = True
    null_rate: float = 0.0
    max_null_rate: float | None = None
    min: object = None
    max: object = None
    tolerance: float = 0.0
    categories: list | None = None
    unique: bool = False
    allow_inf: bool = False
    regex: str | None = None
    checks: tuple = field(default_factory=tuple)
    n_train: int | None = None
    tail_low: dict | None = None
    tail_high: dict | None = None
    category_counts: list | None = None

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(
                f"Column {self.name!r}: kind must be one of {list(KINDS)}, got {self.kind!r}."
            )
        if not (isinstance(self.tolerance, int | float) and self.tolerance >= 0):
            raise ValueError(
                f"Column {self.name!r}: tolerance must be a number >= 0, got {self.tolerance!r}."
            )
        self.checks = tuple(self.checks)
        for check in self.checks:
            if not callable(check):
                raise TypeError(f"Column {self.name!r}: checks must be callables, got {check!r}.")
        if self.categories is not None:
            self.categories = list(self.categories)
        if self.category_counts is not None:
            self.category_counts = [int(c) for c in self.category_counts]
            if self.categories is None or len(self.category_counts) != len(self.categories):
                raise ValueError(
                    f"Column {self.name!r}: category_counts needs one count per category."
                )

    def __getstate__(self):
        # The bounds of a datetime column are pandas Timestamps, which skops
        # cannot save: a saved column keeps them as numpy values.
        state = self.__dict__.copy()
        state["min"], state["max"] = time_state(self.min), time_state(self.max)
        if self.categories is not None:
            state["categories"] = [time_state(v) for v in self.categories]
        return state

    def __setstate__(self, state):
        state = dict(state)
        state["min"], state["max"] = time_from_state(state["min"]), time_from_state(state["max"])
        if state.get("categories") is not None:
            state["categories"] = [time_from_state(v) for v in state["categories"]]
        self.__dict__.update(state)

    def bounds(self):
        """The allowed range ``(low, high)`` after the tolerance.

        Returns
        -------
        low, high : float, Timestamp or None
            ``None`` where the column has no ``min`` (or ``max``).
        """
        low, high = self.min, self.max
        if low is None and high is None:
            return None, None
        if self.kind == DATETIME:
            if low is not None and high is not None and self.tolerance:
                pad = (high - low) * self.tolerance
                return low - pad, high + pad
            return low, high
        low = None if low is None else float(low)
        high = None if high is None else float(high)
        if low is not None and high is not None and self.tolerance:
            pad = (high - low) * self.tolerance
            widened = low - pad
            low = max(widened, 0.0) if low >= 0 else widened
            high = high + pad
        return low, high

    @property
    def learned(self):
        """Whether the column's checks are statistical (learned), not rules.

        True when ``n_train`` is set: the range, the missing share and the
        categories are estimates from the training rows.
        """
        return self.n_train is not None

    @property
    def n_null_train(self):
        """Missing values among the training rows of a learned column."""
        return round(self.null_rate * self.n_train) if self.learned else None

    @property
    def is_integer(self):
        """Whether the training dtype was an integer dtype."""
        if self.dtype is None:
            return False
        try:
            return ptypes.is_integer_dtype(pd.api.types.pandas_dtype(self.dtype))
        except TypeError:
            return False


@dataclass
class Schema:
    """The columns a batch must have, in order, and what each must hold.

    Learn one from training data with :meth:`infer`, or declare it column by
    column with :class:`Column`; check a batch with :meth:`validate` (or put
    a :class:`SchemaValidator` in a pipeline). It round-trips through JSON
    (:meth:`to_json`, :meth:`from_json`), so the schema of a model can be
    stored and reviewed beside it.

    Parameters
    ----------
    columns : list of Column
        One entry per expected column, in the expected order.

    strict : bool, default=True
        Whether columns not in the schema fail (``"extra_column"``).

    ordered : bool, default=True
        Whether the columns must come in the schema's order
        (``"column_order"``).

    key : list, default=None
        Columns whose combined values must be unique in a batch; repeats
        fail ``"duplicate_key"``.

    See Also
    --------
    SchemaValidator : A pipeline step that checks batches against a schema.

    Examples
    --------
    >>> import pandas as pd
    >>> from mlpipe.validation import Schema
    >>> X = pd.DataFrame({"age": [25, 40, 31], "city": ["Oslo", "Rome", "Oslo"]})
    >>> schema = Schema.infer(X)
    >>> schema["age"].kind, schema["age"].min, schema["age"].max
    ('numeric', 25, 40)
    >>> schema["city"].categories
    ['Oslo', 'Rome']
    >>> Schema.from_json(schema.to_json()) == schema
    True
    >>> batch = pd.DataFrame({"age": [30, -1], "city": ["Oslo", "Paris"]})
    >>> schema.validate(batch).to_frame()[["column", "check", "examples", "rows"]]
      column         check examples rows
    0    age  out_of_range     [-1]  [1]

    Learned from three rows, one of them the only "Rome", the schema expects
    a new city in a third of new rows (Good-Turing), so "Paris" is no
    surprise; the age of -1 breaks a rule (no negative age was seen). As
    rules, the categories are closed:

    >>> schema.as_rules().validate(batch).to_frame()[["column", "check", "examples"]]
      column            check examples
    0    age     out_of_range     [-1]
    1   city  unseen_category  [Paris]
    """

    columns: list
    strict: bool = True
    ordered: bool = True
    key: list | None = None

    def __post_init__(self):
        self.columns = list(self.columns)
        for col in self.columns:
            if not isinstance(col, Column):
                raise TypeError(f"Schema columns must be Column objects, got {col!r}.")
        names = [c.name for c in self.columns]
        dupes = sorted({str(n) for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"Schema has duplicate column names: {dupes}.")
        if self.key is not None:
            self.key = [self.key] if isinstance(self.key, str | int) else list(self.key)
            unknown = [k for k in self.key if k not in names]
            if unknown:
                raise ValueError(
                    f"Schema key names column(s) {unknown} that are not in the "
                    f"schema; its columns are {describe_columns(names, 10)}."
                )

    @property
    def names(self):
        """The column labels, in order."""
        return [c.name for c in self.columns]

    def __getitem__(self, name):
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(f"No column {name!r} in the schema.")

    def __contains__(self, name):
        return any(c.name == name for c in self.columns)

    @classmethod
    def infer(cls, X, *, key=None):
        """Learn a schema from training data.

        What is learned from ``n`` rows is an estimate, and the learned
        checks treat it as one: a batch fails a range, missing-value or
        category check only when it is improbable under the estimate, given
        the training and the batch sizes (see :class:`Column` and the user
        guide). What the data implies as a rule stays hard: the kind and dtype
        of each column, whole numbers in an integer column, no negative value
        in a column without any, no +/-inf where there was none, and the
        categories of a categorical dtype.

        Parameters
        ----------
        X : DataFrame of shape (n_samples, n_features)
            Training data.

        key : list, default=None
            Columns whose combined values must be unique. Uniqueness is never
            guessed from the data (a continuous column is unique by chance).

        Returns
        -------
        schema : Schema
            The learned columns, each with ``n_train`` set.
        """
        if not isinstance(X, pd.DataFrame):
            raise TypeError(
                f"Schema.infer takes a DataFrame, got {type(X).__name__}; "
                "SchemaValidator accepts arrays too."
            )
        n = len(X)
        columns, inf_columns = [], []
        for name in X.columns:
            s = X[name]
            col, had_inf = _infer_column(name, s, n)
            columns.append(col)
            if had_inf:
                inf_columns.append(name)
        if inf_columns:
            warnings.warn(
                f"Column(s) {describe_columns(inf_columns)} hold +/-inf in the "
                "training data; the schema allows inf there (allow_inf=True). "
                "Set allow_inf=False on the column to reject them.",
                DataQualityWarning,
                stacklevel=2,
            )
        return cls(columns=columns, key=key)

    def validate(self, X, *, alpha=0.01, warn_alpha=0.1):
        """Check a DataFrame against the schema, all checks at once.

        Parameters
        ----------
        X : DataFrame of shape (n_samples, n_features)
            The batch.

        alpha : float, default=0.01
            False-alarm rate of the errors of the learned checks: a batch
            drawn like the training data gets an error from one of them with
            at most this probability (Bonferroni over the learned checks).

        warn_alpha : float, default=0.1
            The same for warnings: a learned check whose p-value is below
            ``warn_alpha`` (split the same way) but not below ``alpha`` gives a
            warning.

        Returns
        -------
        report : ValidationReport
            Every failed check, each an error or a warning;
            ``report.passed`` is True when there is no error.
        """
        from mlpipe.validation._checks import run_checks

        if not isinstance(X, pd.DataFrame):
            raise TypeError(f"Schema.validate takes a DataFrame, got {type(X).__name__}.")
        return run_checks(self, X, alpha=alpha, warn_alpha=warn_alpha)

    def as_rules(self, *, tolerance=0.0, null_tolerance=0.0):
        """The schema with every learned estimate turned into a hard rule.

        A learned column checks its range, missing share and categories
        statistically (see :meth:`infer`); the copy checks them exactly, as a
        declared column does: values within ``[min, max]`` widened by
        ``tolerance`` (a share of the range), a missing share up to the
        training share plus ``null_tolerance`` (no missing value at all where
        training had none), and only the training categories.

        Parameters
        ----------
        tolerance : float, default=0.0
            Range tolerance of every numeric and datetime column (see
            :class:`Column`).

        null_tolerance : float, default=0.0
            How much the missing share may grow over the training share.

        Returns
        -------
        schema : Schema
            A new schema; this one is unchanged.

        Examples
        --------
        >>> import pandas as pd
        >>> from mlpipe.validation import Schema
        >>> schema = Schema.infer(pd.DataFrame({"age": [25, 40, 31]}))
        >>> schema["age"].learned, schema.as_rules()["age"].learned
        (True, False)
        >>> schema.as_rules().validate(pd.DataFrame({"age": [41]})).passed
        False
        """
        out = self.copy()
        for col in out.columns:
            if not col.learned:
                continue
            col.nullable = col.null_rate > 0
            col.max_null_rate = min(1.0, col.null_rate + null_tolerance) if col.nullable else None
            col.tolerance = float(tolerance)
            col.n_train = col.tail_low = col.tail_high = col.category_counts = None
        return out

    def n_learned_checks(self):
        """How many statistical checks the learned columns make per batch.

        A learned column tests its missing values, and its range on each
        side (numeric and datetime) or its unseen categories (categorical);
        ``alpha`` and ``warn_alpha`` of :meth:`validate` are split over them.

        Returns
        -------
        n : int
            The number of learned checks; 0 for a declared schema.
        """
        n = 0
        for col in self.columns:
            if not col.learned:
                continue
            n += 1 + (col.tail_low is not None) + (col.tail_high is not None)
            n += col.category_counts is not None
        return n

    def to_dict(self):
        """Return the schema as plain JSON-ready Python objects.

        Returns
        -------
        data : dict
            ``format``, ``strict``, ``ordered``, ``key`` and ``columns``, a
            list with one dict of :class:`Column` fields per column; user
            checks are given by their import path. :meth:`from_dict` reads it
            back.

        Raises
        ------
        ValueError
            If a user check is not a module-level function (a lambda or a
            closure cannot be found again by name).
        """
        out = []
        for col in self.columns:
            entry = {}
            for f in fields(Column):
                value = getattr(col, f.name)
                if f.name == "checks":
                    value = [_check_path(col.name, c) for c in value]
                elif f.name in ("min", "max"):
                    value = _encode_value(value)
                elif f.name == "categories" and value is not None:
                    value = [_encode_value(v) for v in value]
                entry[f.name] = value
            out.append(entry)
        return {
            "format": _FORMAT,
            "strict": self.strict,
            "ordered": self.ordered,
            "key": self.key,
            "columns": out,
        }

    def to_json(self, **kwargs):
        """Serialize the schema as JSON; :meth:`from_json` gives it back exactly.

        Parameters
        ----------
        **kwargs : dict
            Passed to :func:`json.dumps` (e.g. ``indent=2``).

        Returns
        -------
        text : str
            The JSON text of :meth:`to_dict`.

        Raises
        ------
        ValueError
            If a user check is not a module-level function (a lambda or a
            closure cannot be found again by name).
        """
        return json.dumps(self.to_dict(), **kwargs)

    @classmethod
    def from_dict(cls, data):
        """Build a schema from :meth:`to_dict` output.

        Parameters
        ----------
        data : dict
            What :meth:`to_dict` returned (or the same read from JSON).

        Returns
        -------
        schema : Schema
            A schema equal to the one that was written; user checks are
            imported again by their path.

        Raises
        ------
        ValueError
            If ``data`` is not of mlpipe's schema format.
        """
        if data.get("format") != _FORMAT:
            raise ValueError(
                f"Not an mlpipe schema (format {data.get('format')!r}, expected {_FORMAT!r})."
            )
        columns = []
        for entry in data["columns"]:
            entry = dict(entry)
            entry["checks"] = tuple(_load_check(p) for p in entry.get("checks", []))
            for name in ("min", "max"):
                entry[name] = _decode_value(entry.get(name))
            if entry.get("categories") is not None:
                entry["categories"] = [_decode_value(v) for v in entry["categories"]]
            columns.append(Column(**entry))
        return cls(
            columns=columns,
            strict=data["strict"],
            ordered=data["ordered"],
            key=data["key"],
        )

    @classmethod
    def from_json(cls, text):
        """Read a schema written by :meth:`to_json`.

        Parameters
        ----------
        text : str
            The JSON text.

        Returns
        -------
        schema : Schema
            A schema equal to the one that was written.
        """
        return cls.from_dict(json.loads(text))

    def copy(self):
        """Return a deep copy of the schema.

        Returns
        -------
        schema : Schema
            An independent copy: changing its columns leaves this schema
            unchanged. User checks are shared, not copied.
        """
        return copy.deepcopy(self)


def _infer_column(name, s, n):
    col, had_inf, _ = column_from_summary(column_summary(name, s))
    return col, had_inf


def column_summary(name, s, keep=None):
    """What :meth:`Schema.infer` learns of one column, as a mergeable summary.

    Counts, the range, the categories and their counts merge exactly
    (:func:`merge_column_summaries`); the tails need the largest (and
    smallest) values, of which ``keep`` are kept (all that ``len(s)`` values
    need when None). Plain data only: a summary can be saved by skops.
    """
    kind = column_kind(s)
    observed = s.dropna()
    out = {
        "name": python_scalar(name),
        "kind": kind,
        "dtype": str(s.dtype),
        "categories": None,
        "n": len(s),
        "n_null": int(s.isna().sum()),
        "n_observed": len(observed),
    }
    if isinstance(s.dtype, pd.CategoricalDtype):
        out["categories"] = [python_scalar(v) for v in s.dtype.categories.tolist()]
    if kind == NUMERIC and len(observed):
        values = observed.to_numpy(dtype="float64")
        finite = np.isfinite(values)
        out["had_inf"] = bool(not finite.all())
        values = values[finite]
        out["n_values"] = len(values)
        if len(values):
            out["min"], out["max"] = float(values.min()), float(values.max())
            if ptypes.is_integer_dtype(s.dtype):
                raw = observed.to_numpy()
                out["int_min"], out["int_max"] = int(raw.min()), int(raw.max())
            _keep_tails(out, values, keep)
    elif kind == DATETIME and len(observed):
        out["min"], out["max"] = time_state(observed.min()), time_state(observed.max())
        values = time_ns(observed)
        out["n_values"] = len(values)
        _keep_tails(out, values, keep)
    elif kind == CATEGORICAL:
        values = [python_scalar(v) for v in pd.unique(observed.to_numpy(dtype=object))]
        codes = pd.Index(values, dtype=object).get_indexer(observed.to_numpy(dtype=object))
        out["values"] = _object_array(values)
        out["counts"] = np.bincount(codes, minlength=len(values)).astype(np.int64)
    return out


def _object_array(values):
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array


def _keep_tails(out, values, keep):
    n = len(values)
    count = tail_size(n) + 1 if keep is None else keep
    out["high"] = top_values(values, count)
    out["low"] = top_values(-values, count)


def tail_keep(n):
    """How many of the largest (and smallest) values a chunk summary keeps
    once ``n`` rows are known: those of a column 16 times longer, so that
    later chunks rarely push the tail beyond what was kept."""
    return tail_size(16 * max(n, 1)) + 1


def merge_column_summaries(pieces, keep):
    """One summary of a column from the summaries of its chunks, in order.

    Raises a TypeError naming the column when the chunks give it different
    kinds (a chunk where it is all missing gives none).
    """
    name = pieces[0]["name"]
    seen = [p for p in pieces if p["n_observed"]] or pieces[:1]
    kinds = [p["kind"] for p in seen]
    if len(set(kinds)) > 1:
        other = next(k for k in kinds if k != kinds[0])
        raise TypeError(
            f"Column {name!r} is {other} in a chunk but {kinds[0]} in an earlier "
            "one; every chunk must give a column the same kind (convert it "
            "before fitting)."
        )
    dtype = _merged_dtype(pieces)
    out = {
        "name": name,
        "kind": kinds[0],
        "dtype": str(dtype),
        "categories": (
            [python_scalar(v) for v in dtype.categories.tolist()]
            if isinstance(dtype, pd.CategoricalDtype)
            else None
        ),
        "n": sum(p["n"] for p in pieces),
        "n_null": sum(p["n_null"] for p in pieces),
        "n_observed": sum(p["n_observed"] for p in pieces),
    }
    kind = out["kind"]
    if kind in (NUMERIC, DATETIME) and out["n_observed"]:
        if kind == NUMERIC:
            out["had_inf"] = any(p.get("had_inf", False) for p in seen)
        with_values = [p for p in seen if p.get("n_values")]
        out["n_values"] = sum(p.get("n_values", 0) for p in seen)
        if with_values:
            if kind == NUMERIC:
                out["min"] = min(p["min"] for p in with_values)
                out["max"] = max(p["max"] for p in with_values)
                if all("int_min" in p for p in with_values):
                    out["int_min"] = min(p["int_min"] for p in with_values)
                    out["int_max"] = max(p["int_max"] for p in with_values)
            else:
                out["min"] = time_state(min(time_from_state(p["min"]) for p in with_values))
                out["max"] = time_state(max(time_from_state(p["max"]) for p in with_values))
            for side in ("high", "low"):
                out[side] = _merge_top([(p[side], p["n_values"]) for p in with_values], keep)
    elif kind == CATEGORICAL:
        counts = {}
        for p in seen:
            if "values" in p:
                for v, c in zip(p["values"].tolist(), p["counts"].tolist(), strict=True):
                    counts[v] = counts.get(v, 0) + c
        out["values"] = _object_array(list(counts))
        out["counts"] = np.fromiter(counts.values(), dtype=np.int64, count=len(counts))
    return out


def _merged_dtype(pieces):
    """The dtype pandas gives the column of the concatenated chunks."""
    dtypes = []
    for p in pieces:
        if p["categories"] is not None:
            dtypes.append(pd.CategoricalDtype(p["categories"]))
        else:
            dtypes.append(pd.api.types.pandas_dtype(p["dtype"]))
    if all(d == dtypes[0] for d in dtypes):
        return dtypes[0]
    return pd.concat([pd.Series([], dtype=d) for d in dtypes]).dtype


def _merge_top(parts, keep):
    """The largest values of several chunks, from the largest each kept.

    Each part is ``(top, n)``: its ``len(top)`` largest of ``n`` values, sorted
    ascending. The result holds only values known to be the largest of the
    union: below the smallest value kept by a part that did not keep all of
    its values, that part may have had more.
    """
    merged = np.sort(np.concatenate([top for top, _ in parts]))
    known = len(merged)
    for top, n in parts:
        if len(top) < n:
            known = min(known, len(merged) - int(np.searchsorted(merged, top[0], side="left")))
    return merged[len(merged) - min(known, keep) :]


def column_from_summary(summary):
    """The learned :class:`Column` of a column summary, whether it had inf,
    and, for each tail fitted to fewer values than the whole column's
    ``tail_size(n)`` (a chunked fit whose chunks kept too few), ``{side:
    (values used, values wanted)}``."""
    kind, n = summary["kind"], summary["n"]
    col = Column(
        name=summary["name"],
        kind=kind,
        dtype=summary["dtype"],
        nullable=True,
        null_rate=summary["n_null"] / n if n else 0.0,
        n_train=int(n),
    )
    had_inf, short = False, {}
    if kind == NUMERIC and summary["n_observed"]:
        had_inf = summary["had_inf"]
        col.allow_inf = had_inf
        if summary["n_values"]:
            if "int_min" in summary and col.is_integer:
                col.min, col.max = summary["int_min"], summary["int_max"]
            else:
                col.min, col.max = summary["min"], summary["max"]
            col.tail_low = _tail(summary, "low", short)
            col.tail_high = _tail(summary, "high", short)
    elif kind == DATETIME and summary["n_observed"]:
        col.min, col.max = time_from_state(summary["min"]), time_from_state(summary["max"])
        col.tail_low = _tail(summary, "low", short)
        col.tail_high = _tail(summary, "high", short)
    elif kind == CATEGORICAL:
        if summary["categories"] is not None:
            # The dtype declares the allowed values, seen in this split or not.
            col.categories = list(summary["categories"])
        else:
            values = summary["values"].tolist()
            # Mixed types that do not compare keep the order first seen.
            with contextlib.suppress(TypeError):
                values = sorted(values)
            col.categories = values
            counts = dict(zip(summary["values"].tolist(), summary["counts"].tolist(), strict=True))
            col.category_counts = [counts[v] for v in values]
    return col, had_inf, short


def _tail(summary, side, short):
    top, n = summary[side], summary["n_values"]
    if n < 3:
        return None
    wanted = tail_size(n)
    if len(top) >= wanted + 1 or len(top) == n:
        return fit_tail_top(top, n)
    used = len(top) - 1
    short[side] = (used, wanted)
    return fit_tail_top(top, n, used) if used >= 1 else None


def _encode_value(value):
    if isinstance(value, pd.Timestamp):
        return {"$timestamp": value.isoformat()}
    if isinstance(value, pd.Timedelta):
        return {"$timedelta": int(value.value)}
    if isinstance(value, float) and not math.isfinite(value):
        return {"$float": repr(value)}
    value = python_scalar(value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    raise ValueError(
        f"Cannot write {value!r} ({type(value).__name__}) to JSON; schema values "
        "must be numbers, strings, booleans, Timestamps or Timedeltas."
    )


def _decode_value(value):
    if isinstance(value, dict):
        if "$timestamp" in value:
            return pd.Timestamp(value["$timestamp"])
        if "$timedelta" in value:
            return pd.Timedelta(value["$timedelta"], unit="ns")
        if "$float" in value:
            return float(value["$float"])
    return value


def _check_path(column, check):
    module = getattr(check, "__module__", None)
    qualname = getattr(check, "__qualname__", None)
    if module and qualname and "<" not in qualname:
        try:
            if _load_check(f"{module}:{qualname}") is check:
                return f"{module}:{qualname}"
        except (ImportError, AttributeError):
            pass
    raise ValueError(
        f"Column {column!r}: the check {check!r} cannot be written to JSON; "
        "only module-level functions can (they are found again by import "
        "path). Define it with `def` at the top of a module."
    )


def _load_check(path):
    module, _, qualname = path.partition(":")
    obj = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj
