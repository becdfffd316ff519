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
)
from mlpipe.utils._scalar import python_scalar

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
    >>> report = schema.validate(pd.DataFrame({"age": [30, -1],
    ...                                        "city": ["Oslo", "Paris"]}))
    >>> report.to_frame()[["column", "check", "examples", "rows"]]
      column            check examples rows
    0    age     out_of_range     [-1]  [1]
    1   city  unseen_category  [Paris]  [1]
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
    def infer(cls, X, *, tolerance=0.25, null_tolerance=0.1, key=None):
        """Learn a schema from training data.

        Parameters
        ----------
        X : DataFrame of shape (n_samples, n_features)
            Training data.

        tolerance : float, default=0.25
            Range tolerance of every numeric and datetime column, as a share of
            its training range (see :class:`Column`). The default keeps range
            checks quiet on legitimate held-out data; see the user guide.

        null_tolerance : float, default=0.1
            How much a nullable column's missing share may grow over its
            training share before ``"null_rate"`` fails. A column with no
            missing value at training time gets ``nullable=False``.

        key : list, default=None
            Columns whose combined values must be unique. Uniqueness is never
            guessed from the data (a continuous column is unique by chance).

        Returns
        -------
        schema : Schema
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
            col, had_inf = _infer_column(name, s, n, tolerance, null_tolerance)
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

    def validate(self, X):
        """Check a DataFrame against the schema, all checks at once.

        Parameters
        ----------
        X : DataFrame of shape (n_samples, n_features)
            The batch.

        Returns
        -------
        report : ValidationReport
            Every failed check; ``report.passed`` is True when there is none.
        """
        from mlpipe.validation._checks import run_checks

        if not isinstance(X, pd.DataFrame):
            raise TypeError(f"Schema.validate takes a DataFrame, got {type(X).__name__}.")
        return run_checks(self, X)

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


def _infer_column(name, s, n, tolerance, null_tolerance):
    kind = column_kind(s)
    n_null = int(s.isna().sum())
    null_rate = n_null / n if n else 0.0
    nullable = n_null > 0
    col = Column(
        name=python_scalar(name),
        kind=kind,
        dtype=str(s.dtype),
        nullable=nullable,
        null_rate=null_rate,
        max_null_rate=min(1.0, null_rate + null_tolerance) if nullable else None,
        tolerance=float(tolerance),
    )
    had_inf = False
    observed = s.dropna()
    if kind == NUMERIC and len(observed):
        values = observed.to_numpy(dtype="float64")
        finite = np.isfinite(values)
        had_inf = not finite.all()
        col.allow_inf = had_inf
        if finite.any():
            values = values[finite]
            if ptypes.is_integer_dtype(s.dtype):
                raw = observed.to_numpy()
                col.min, col.max = int(raw.min()), int(raw.max())
            else:
                col.min, col.max = float(values.min()), float(values.max())
    elif kind == DATETIME and len(observed):
        col.min, col.max = observed.min(), observed.max()
    elif kind == CATEGORICAL:
        if isinstance(s.dtype, pd.CategoricalDtype):
            # The dtype declares the allowed values, seen in this split or not.
            col.categories = [python_scalar(v) for v in s.dtype.categories.tolist()]
        else:
            values = [python_scalar(v) for v in pd.unique(observed.to_numpy(dtype=object))]
            # Mixed types that do not compare keep the order first seen.
            with contextlib.suppress(TypeError):
                values = sorted(values)
            col.categories = values
    return col, had_inf


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
