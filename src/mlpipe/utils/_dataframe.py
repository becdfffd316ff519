"""DataFrame-first input handling shared by the components that must see
dtypes and column names (validation, imputation, drift, fairness).

scikit-learn's ``validate_data`` turns a frame into one array and loses the
dtypes; these helpers keep the frame, yet set and check ``n_features_in_`` and
``feature_names_in_`` exactly as ``validate_data`` does.
"""

import numpy as np
import pandas as pd
from pandas.api import types as ptypes
from scipy import sparse

from mlpipe.utils._sklearn_compat import validate_data

# Kinds of column, in the words used across mlpipe.
NUMERIC = "numeric"
BOOLEAN = "boolean"
CATEGORICAL = "categorical"
DATETIME = "datetime"
OTHER = "other"


def column_kind(series):
    """Classify a column by its dtype.

    Parameters
    ----------
    series : pandas.Series
        The column.

    Returns
    -------
    kind : {"numeric", "boolean", "categorical", "datetime", "other"}
        ``"boolean"`` for bool and pandas ``boolean`` columns (pandas calls
        them numeric); ``"categorical"`` for category, string and object
        columns (an object column holding only numbers, as ``to_numpy()``
        of a mixed frame makes, is ``"numeric"``); ``"datetime"`` for datetimes and
        timedeltas; ``"other"`` for what mlpipe has no statistics for
        (complex, interval, period, sparse).

    Examples
    --------
    >>> import pandas as pd
    >>> column_kind(pd.Series([1.0, None]))
    'numeric'
    >>> column_kind(pd.Series(["a", None]))
    'categorical'
    """
    dtype = series.dtype
    if ptypes.is_bool_dtype(dtype):
        return BOOLEAN
    if isinstance(dtype, pd.CategoricalDtype):
        return CATEGORICAL
    if ptypes.is_complex_dtype(dtype):
        return OTHER
    if ptypes.is_numeric_dtype(dtype):
        return NUMERIC
    if ptypes.is_datetime64_any_dtype(dtype) or ptypes.is_timedelta64_dtype(dtype):
        return DATETIME
    if ptypes.is_object_dtype(dtype) and _holds_only_numbers(series):
        return NUMERIC
    if ptypes.is_string_dtype(dtype) or ptypes.is_object_dtype(dtype):
        return CATEGORICAL
    return OTHER


def _holds_only_numbers(series):
    inferred = pd.api.types.infer_dtype(series, skipna=True)
    return inferred in ("integer", "floating", "mixed-integer-float", "decimal")


def check_frame(estimator, X, *, reset, min_samples=1):
    """Check ``X`` and return it as a DataFrame without copying its data.

    Sets (``reset=True``) or checks (``reset=False``) ``n_features_in_`` and
    ``feature_names_in_`` with scikit-learn's own rules and messages: missing,
    unseen and reordered column names are each named in the error.

    Parameters
    ----------
    estimator : estimator instance
        The estimator the data is for; named in error messages.

    X : {array-like, DataFrame} of shape (n_samples, n_features)
        The input. Arrays become a frame with integer column labels.

    reset : bool
        True in ``fit``, False afterwards.

    min_samples : int, default=1
        Fewest rows accepted.

    Returns
    -------
    frame : DataFrame
        ``X`` itself when it is a DataFrame; a new frame viewing the array
        otherwise. Callers must not modify it in place.
    """
    name = type(estimator).__name__
    if sparse.issparse(X):
        raise TypeError(
            f"{name} needs dense data with its columns' dtypes, but a sparse "
            "matrix was given. Convert it with X.toarray() or a DataFrame."
        )
    if not isinstance(X, pd.DataFrame):
        if hasattr(X, "to_pandas") and hasattr(X, "columns"):
            X = X.to_pandas()  # polars and other dataframe libraries
        else:
            X = np.asarray(X)
            if X.ndim == 0:
                raise ValueError(
                    f"Expected 2D array, got scalar array instead: X={X!r}. "
                    f"{name} takes a table of shape (n_samples, n_features)."
                )
            if X.ndim == 1:
                raise ValueError(
                    "Expected 2D array, got 1D array instead. Reshape your data "
                    "either using array.reshape(-1, 1) if your data has a single "
                    "feature or array.reshape(1, -1) if it contains a single sample."
                )
            if X.ndim > 2:
                raise ValueError(
                    f"Found array with dim {X.ndim}, while dim <= 2 is required by {name}."
                )
            if np.iscomplexobj(X):
                raise ValueError("Complex data not supported\n" + repr(X))
            X = pd.DataFrame(X, copy=False)
    if reset or not _same_names_as_fit(estimator, X):
        validate_data(estimator, X, reset=reset, skip_check_array=True)
    n_samples, n_features = X.shape
    if n_samples < min_samples:
        raise ValueError(
            f"Found array with {n_samples} sample(s) (shape={X.shape}) while a "
            f"minimum of {min_samples} is required by {name}."
        )
    if n_features == 0:
        raise ValueError(
            f"Found array with 0 feature(s) (shape={X.shape}) while a minimum of "
            f"1 is required by {name}."
        )
    complex_cols = [
        c
        for c, dtype in zip(X.columns, X.dtypes.tolist(), strict=True)
        if ptypes.is_complex_dtype(dtype)
    ]
    if complex_cols:
        raise ValueError(
            f"Complex data not supported: columns {complex_cols} of the input "
            f"to {name} are complex."
        )
    return X


def _same_names_as_fit(estimator, X):
    """True when X has exactly the column names seen at fit, in order: then
    scikit-learn's checks (~0.13 ms, as long as a small batch's drift
    tests) have nothing to say and are skipped."""
    names = getattr(estimator, "feature_names_in_", None)
    if names is None or X.shape[1] != len(names):
        return False
    return X.columns.tolist() == names.tolist()


def find_infinite(frame, columns=None):
    """Return ``{column: count}`` of +/-inf values in the numeric columns."""
    found = {}
    for col in frame.columns if columns is None else columns:
        s = frame[col]
        if column_kind(s) == NUMERIC and ptypes.is_float_dtype(s.dtype):
            n = int(np.isinf(s.to_numpy(dtype="float64", na_value=np.nan)).sum())
            if n:
                found[col] = n
    return found


def reject_infinite(estimator, frame):
    """Raise a ValueError naming the columns that hold +/-inf."""
    found = find_infinite(frame)
    if found:
        detail = ", ".join(f"{c!r} ({n} value(s))" for c, n in found.items())
        raise ValueError(
            f"Input X contains infinity in column(s) {detail}. "
            f"{type(estimator).__name__} treats infinity as an error, not as a missing "
            "value; replace it first, e.g. X.replace([np.inf, -np.inf], np.nan)."
        )


def check_kinds(estimator, frame, kinds):
    """Raise a TypeError for columns whose kind changed since fit.

    ``kinds`` is ``{column: kind}`` recorded at fit with :func:`column_kind`. A
    numeric column that arrives as text would otherwise be filled with a number
    among strings, or scaled as garbage. All-missing columns and numeric <->
    boolean changes pass.
    """
    changed = []
    dtypes = dict(zip(frame.columns, frame.dtypes.tolist(), strict=True))
    for col, kind in kinds.items():
        if kind == NUMERIC and dtypes[col] == np.float64:
            continue  # the common case, without column_kind's dtype checks
        s = frame[col]
        now = column_kind(s)
        if now == kind or s.isna().all():
            continue
        if {now, kind} <= {NUMERIC, BOOLEAN}:
            continue
        examples = s[s.notna()].head(3).tolist()
        changed.append(f"{col!r} was {kind} at fit but is {s.dtype} now (e.g. {examples})")
    if changed:
        raise TypeError(
            f"{type(estimator).__name__}: column dtype changed since fit: "
            + "; ".join(changed)
            + ". Cast these columns back to their training dtype."
        )


def describe_columns(columns, limit=5):
    """A short, readable list of column labels for error messages."""
    columns = list(columns)
    shown = ", ".join(repr(c) for c in columns[:limit])
    if len(columns) > limit:
        shown += f", ... ({len(columns) - limit} more)"
    return shown
