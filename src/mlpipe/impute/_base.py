"""Statistics and filling shared by the imputers.

Missing means what :func:`pandas.isna` says: ``NaN``, ``None``, ``pd.NA`` and
``NaT``. Infinite values are not missing; they are rejected with an error.
"""

import contextlib
import math
import warnings
from fractions import Fraction
from numbers import Integral, Real

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from mlpipe.exceptions import DataQualityWarning
from mlpipe.impute._sketch import exact_mean, exact_sum, integer_sum
from mlpipe.utils._dataframe import (
    BOOLEAN,
    CATEGORICAL,
    DATETIME,
    NUMERIC,
    OTHER,
    categorical_codes,
    column_kind,
    describe_columns,
    series_array,
)

NUMERIC_STRATEGIES = ("median", "mean", "most_frequent", "constant")
CATEGORICAL_STRATEGIES = ("most_frequent", "constant")
DEFAULT_FILL = {NUMERIC: 0, DATETIME: pd.NaT, BOOLEAN: "missing", CATEGORICAL: "missing"}


def fit_kinds(estimator, frame, columns):
    """Return ``{column: kind}``; unsupported dtypes raise a TypeError."""
    kinds = {col: column_kind(frame[col]) for col in columns}
    bad = [c for c, k in kinds.items() if k == OTHER]
    if bad:
        dtypes = ", ".join(f"{c!r}: {frame[c].dtype}" for c in bad)
        raise TypeError(
            f"{type(estimator).__name__} cannot impute column(s) of dtype "
            f"{dtypes}; it imputes numeric, boolean, categorical, string and "
            "datetime columns. Drop or convert these columns first (for "
            "example with a ColumnTransformer)."
        )
    return kinds


def _safe_min(values):
    try:
        return min(values)
    except TypeError:  # mixed types that do not compare: first seen wins
        return values[0]


def most_frequent(series):
    """The most frequent non-missing value; ties go to the smallest, as in
    :class:`sklearn.impute.SimpleImputer` (first seen if values don't compare)."""
    counts = series.value_counts(dropna=True, sort=False)
    counts = counts[counts > 0]  # unused categories of a categorical
    return most_frequent_of_counts(counts.index.tolist(), counts.to_numpy())


def most_frequent_of_counts(values, counts):
    """:func:`most_frequent` from distinct ``values`` (in order first seen)
    and their ``counts``; None when there are none."""
    counts = np.asarray(counts)
    if not len(counts):
        return None
    top = np.flatnonzero(counts == counts.max()).tolist()
    return _safe_min([values[i] for i in top])


def statistic(series, kind, strategy, fill_value):
    """The value that fills ``series`` under ``strategy``, or None if the
    column has no observed value to learn it from."""
    if strategy == "constant":
        return fill_value
    observed = series.dropna()
    if observed.empty:
        return None
    if strategy == "most_frequent":
        return most_frequent(observed)
    if kind == DATETIME:
        if strategy == "median":
            return observed.median()
        ints, info = time_integers(observed)
        return time_mean(integer_sum(ints), len(ints), info)
    values = observed.to_numpy(dtype="float64")
    if strategy == "median":
        return _median(values)
    return _mean(values)


def _mean(values):
    """The correctly rounded mean of finite values: their exact sum (see
    :func:`~mlpipe.impute._sketch.exact_sum`), divided by their count and
    rounded once. Within one rounding of ``np.mean`` (so of
    ``SimpleImputer``'s), finite near the largest float, and the same bits
    whether the values come at once or in chunks."""
    if not np.isfinite(values).all():
        return float(np.mean(values))
    return exact_mean(exact_sum(values), len(values))


def _median(values):
    """``np.median``; when the two middle values of an even count overflow as
    a sum, their midpoint as ``a/2 + b/2``."""
    with np.errstate(over="ignore"):
        median = float(np.median(values))
    if math.isfinite(median) or not np.isfinite(values).all():
        return median
    n = len(values)
    middle = np.partition(values, [(n - 1) // 2, n // 2])
    a, b = float(middle[(n - 1) // 2]), float(middle[n // 2])
    return a / 2 + b / 2


def time_integers(observed):
    """The datetimes (or timedeltas) of ``observed`` as int64 in their unit
    (UTC for a zone-aware column), and what :func:`time_values` needs to
    give them back."""
    dtype = observed.dtype
    char = "m" if ptypes.is_timedelta64_dtype(dtype) else "M"
    tz = getattr(dtype, "tz", None)
    info = {"dtype": f"{char}8[{observed.array.unit}]", "tz": None if tz is None else str(tz)}
    return observed.array.asi8, info


def time_values(ints, info):
    """The Series of datetimes ``time_integers`` read as ``ints``."""
    series = pd.Series(np.asarray(ints, dtype=np.int64).view(info["dtype"]))
    if info["tz"] is not None:
        series = series.dt.tz_localize("UTC").dt.tz_convert(info["tz"])
    return series


def time_mean(total, n, info):
    """The mean of datetimes whose integers sum to ``total``: exact, rounded
    half to even to the column's unit."""
    return time_values([round(Fraction(total, n))], info).iloc[0]


def time_median(low, high, info):
    """pandas' median of datetimes from the two middle values (pandas takes
    the midpoint of the two, as floats, as here)."""
    return time_values([low, high], info).median()


def resolve_constant(kind, column, fill_value):
    """The constant for ``column``: from a per-column dict, a scalar, or the
    default of its kind (0 for numeric, ``"missing"`` for the rest)."""
    if isinstance(fill_value, dict):
        if column in fill_value:
            return fill_value[column]
        return DEFAULT_FILL[kind]
    if fill_value is None:
        return DEFAULT_FILL[kind]
    return fill_value


def warn_empty(estimator, columns, constants):
    if columns:
        warnings.warn(
            f"{type(estimator).__name__}: column(s) {describe_columns(columns)} "
            "had no observed value at fit; they will be filled with the constant "
            f"{[constants[c] for c in columns][:5]} instead of a learned statistic.",
            DataQualityWarning,
            stacklevel=3,
        )


def fill(series, value, mask=None):
    """Return ``series`` with its missing values replaced by ``value``.

    ``value`` is a scalar or a Series aligned on the index. The dtype is kept
    whenever the value fits it: a new category is added to a categorical, an
    integer column stays integer when the value is integral; otherwise the
    column widens the way pandas does (integer to float, anything to object),
    never by rounding or truncating the value.
    """
    if mask is None:
        mask = series.isna()
    if not mask.any():
        return series
    dtype = series.dtype
    value = _in_zone_of(value, dtype)
    direct = fill_direct(series_array(series), value, np.asarray(mask))
    if direct is not None:
        return pd.Series(direct, index=series.index, name=series.name, copy=False)
    if isinstance(dtype, pd.CategoricalDtype):
        needed = pd.unique(pd.Series(value).dropna()) if isinstance(value, pd.Series) else [value]
        new = [v for v in needed if v not in dtype.categories]
        if new:
            try:
                series = series.cat.add_categories(new)
            except (TypeError, ValueError):
                series = series.astype(object)
    elif ptypes.is_integer_dtype(dtype) and not _all_integral(value):
        extension = isinstance(dtype, pd.api.extensions.ExtensionDtype)
        series = series.astype("Float64" if extension else "float64")
    try:
        with _no_silent_downcasting():
            return series.fillna(value)
    except (TypeError, ValueError):
        with _no_silent_downcasting():
            return series.astype(object).fillna(value)


def fill_direct(array, value, mask):
    """The array of ``Series(array).fillna(value)`` written into a copy of
    ``array``, for the two cases a service meets on every row with a gap: a
    scalar already among a Categorical's categories (its code is written)
    and a real number into a float64 ndarray. Same values and dtype as
    ``fillna`` without building a Series (~60 us of a one-row call); None
    for any other case, which ``fillna`` takes. ``mask`` is a boolean
    ndarray; ``array`` is not modified."""
    if isinstance(value, (pd.Series, bool, np.bool_)):
        return None
    if isinstance(array, pd.Categorical):
        # pandas' own rule for a fill value: among the categories by ``in``
        # (``get_loc`` alone would also find 0.5 in an interval category)
        try:
            if value not in array.categories:
                return None
            code = array.categories.get_loc(value)
        except (KeyError, TypeError, pd.errors.InvalidIndexError):
            return None
        if not isinstance(code, (int, np.integer)):
            return None  # a value matching several categories: fillna decides
        codes = categorical_codes(array).copy()
        codes[mask] = code
        return pd.Categorical.from_codes(codes, dtype=array.dtype, validate=False)
    if (
        isinstance(array, np.ndarray)
        and array.dtype == np.float64
        and isinstance(value, (int, float, np.integer, np.floating))
    ):
        array = array.copy()
        array[mask] = value
        return array
    return None


def _in_zone_of(value, dtype):
    """A datetime fill value, kept as a numpy datetime64 in UTC (see
    :func:`mlpipe.utils._plain.plain_scalar`), in the zone of a zone-aware
    column."""
    if not isinstance(dtype, pd.DatetimeTZDtype):
        return value
    if isinstance(value, np.datetime64):
        return pd.Timestamp(value).tz_localize("UTC").tz_convert(dtype.tz)
    if (
        isinstance(value, pd.Series)
        and isinstance(value.dtype, np.dtype)
        and value.dtype.kind == "M"
    ):
        return value.dt.tz_localize("UTC").dt.tz_convert(dtype.tz)
    return value


def _no_silent_downcasting():
    # pandas 2.2 and 2.3 warn (FutureWarning) when fillna downcasts an object
    # column; opt in to pandas 3's behaviour (object stays object). pandas 3
    # deprecates the option itself, so it is only set before 3.
    if int(pd.__version__.split(".")[0]) >= 3:
        return contextlib.nullcontext()
    return pd.option_context("future.no_silent_downcasting", True)


def _all_integral(value):
    values = value.dropna().to_numpy() if isinstance(value, pd.Series) else [value]
    for v in values:
        if isinstance(v, Integral | np.integer):
            continue
        if isinstance(v, Real | np.floating) and math.isfinite(v) and float(v).is_integer():
            continue
        return False
    return True


def indicator_name(column):
    return f"missingindicator_{column}"
