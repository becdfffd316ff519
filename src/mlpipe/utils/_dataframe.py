"""DataFrame-first input handling shared by the components that must see
dtypes and column names (validation, imputation, drift, fairness).

scikit-learn's ``validate_data`` turns a frame into one array and loses the
dtypes; these helpers keep the frame, yet set and check ``n_features_in_`` and
``feature_names_in_`` exactly as ``validate_data`` does.
"""

import warnings

import numpy as np
import pandas as pd
from pandas.api import types as ptypes
from scipy import sparse

from mlpipe.utils._sklearn_compat import validate_data

try:  # the manager shallow_copy builds a frame on (private, so looked up once)
    from pandas.core.internals import BlockManager as _BlockManager
except ImportError:  # pragma: no cover - a pandas without it copies the public way
    _BlockManager = type(None)

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
    kind = dtype_kind(series.dtype)
    if kind is not None:
        return kind
    return NUMERIC if _holds_only_numbers(series) else CATEGORICAL


# dtype_kind's answers: the checks of a one-row batch ask it for every
# column, and each answer costs several pandas dtype tests. Categorical dtypes
# are kept by identity (one without categories equals every other).
_KIND_OF_DTYPE = {}
_KIND_OF_CATEGORICAL = {}
_MAX_KEPT = 256


def dtype_kind(dtype):
    """The kind :func:`column_kind` gives every column of ``dtype``.

    Parameters
    ----------
    dtype : numpy or pandas dtype
        A column's dtype.

    Returns
    -------
    kind : {"numeric", "boolean", "categorical", "datetime", "other"} or None
        None for the object dtype, whose kind depends on the values.
    """
    if isinstance(dtype, pd.CategoricalDtype):
        known = _KIND_OF_CATEGORICAL.get(id(dtype))
        if known is not None and known[0] is dtype:
            return known[1]
        kind = BOOLEAN if ptypes.is_bool_dtype(dtype) else CATEGORICAL
        _keep(_KIND_OF_CATEGORICAL, id(dtype), (dtype, kind))
        return kind
    kind = _KIND_OF_DTYPE.get(dtype)
    if kind is None:
        kind = _dtype_kind(dtype)
        if kind is None:
            return None  # object: not kept, None is "not known" here
        _keep(_KIND_OF_DTYPE, dtype, kind)
    return kind


def _keep(cache, key, value):
    if len(cache) >= _MAX_KEPT:
        cache.clear()
    cache[key] = value


def _dtype_kind(dtype):
    if ptypes.is_bool_dtype(dtype):
        return BOOLEAN
    if ptypes.is_complex_dtype(dtype):
        return OTHER
    if ptypes.is_numeric_dtype(dtype):
        return NUMERIC
    if ptypes.is_datetime64_any_dtype(dtype) or ptypes.is_timedelta64_dtype(dtype):
        return DATETIME
    if ptypes.is_object_dtype(dtype):
        return None
    if ptypes.is_string_dtype(dtype):
        return CATEGORICAL
    return OTHER


def _holds_only_numbers(series):
    inferred = pd.api.types.infer_dtype(series, skipna=True)
    return inferred in ("integer", "floating", "mixed-integer-float", "decimal")


def as_frame(X, *, names=None, allow_duplicate_names=False, caller=None, what="X"):
    """Return ``X`` as a DataFrame that keeps each column's dtype and missing values.

    The one way mlpipe turns input into a frame (the imputers, the validator,
    the drift detectors, the fairness checks and the explainer all call it).

    - A DataFrame is returned as it is; another dataframe library's frame
      (polars) through its ``to_pandas()``.
    - A numeric or string ndarray becomes a frame viewing it (no copy).
    - A list, a tuple, and an ndarray of dtype object get per-column dtypes
      as :class:`pandas.DataFrame` infers them from a list of rows: ``None``
      and ``NaN`` stay missing, a column of numbers becomes numeric, a column
      of strings a string column, of datetimes a datetime column (time zone
      kept). ``np.asarray`` would instead turn ``[["a"], [np.nan]]`` into
      the strings ``"a"`` and ``"nan"``.
    - A column mixing values of different types (``[1, "x"]``) stays an
      object column, which mlpipe treats as categorical (see
      :func:`column_kind`). A column of datetimes in several time zones is
      an error: there is no one time axis to compare them on.

    Parameters
    ----------
    X : {array-like, DataFrame} of shape (n_samples, n_features)
        The input.

    names : sequence of str, default=None
        Column labels given to input that has none (arrays, lists); its length
        must be the number of columns. None labels such columns by position,
        ``0 .. n_features - 1``. A frame keeps its own labels.

    allow_duplicate_names : bool, default=False
        False raises a ValueError naming the repeated labels of a frame; True
        keeps them, for a caller that reports them itself (the validator).

    caller : str, default=None
        Who needs the frame, named in error messages.

    what : str, default="X"
        What ``X`` is called in error messages (``"background"``...).

    Returns
    -------
    frame : DataFrame
        ``X`` itself when it is a pandas DataFrame, else a new frame (which
        may view the array's memory). Callers must not modify it in place.

    Raises
    ------
    TypeError
        For a sparse matrix, or a column of datetimes in several time zones.
    ValueError
        For input that is not 2-D, rows of different lengths, complex
        numbers, ``names`` of the wrong length or repeated column labels.

    Examples
    --------
    >>> import numpy as np
    >>> frame = as_frame([["a", 1.0], [np.nan, None]])
    >>> frame.isna().sum().tolist()
    [1, 1]
    >>> as_frame(np.zeros((2, 2)), names=["x", "y"]).columns.tolist()
    ['x', 'y']
    """
    by = f" by {caller}" if caller else ""
    if sparse.issparse(X):
        raise TypeError(
            f"{caller or 'mlpipe'} needs dense data with its columns' dtypes, but a sparse "
            "matrix was given. Convert it with X.toarray() or a DataFrame."
        )
    if isinstance(X, pd.DataFrame):
        frame = X
    elif hasattr(X, "to_pandas") and hasattr(X, "columns"):
        frame = X.to_pandas()  # polars and other dataframe libraries
    else:
        frame = _array_frame(X, names, caller, what)
    labels = frame.columns
    if not allow_duplicate_names and _has_duplicates(labels):
        repeated = frame.columns[frame.columns.duplicated()].unique().tolist()
        raise ValueError(
            f"{what} has duplicate column names {describe_columns(repeated)}; every "
            f"column needs its own name to be checked{by}. Rename or drop the copies."
        )
    complex_cols = [
        c
        for c, dtype in zip(labels, column_dtypes(frame), strict=True)
        if (dtype.kind == "c" if isinstance(dtype, np.dtype) else ptypes.is_complex_dtype(dtype))
    ]
    if complex_cols:
        raise ValueError(
            f"Complex data not supported: column(s) {describe_columns(complex_cols)} of "
            f"{what} are complex{by}."
        )
    return frame


def _has_duplicates(labels):
    """``labels.has_duplicates``, from a set when they are strings:
    ``has_duplicates`` builds a hash table (~0.1 ms for each new frame's
    labels, as long as the drift tests of 1,000 rows); other labels (NaN
    among them) go to pandas."""
    values = labels.tolist()
    if all(isinstance(v, str) for v in values):
        return len(set(values)) != len(values)
    return labels.has_duplicates


def _array_frame(X, names, caller, what):
    """An array-like (not a frame) as a DataFrame; see :func:`as_frame`."""
    by = f" by {caller}" if caller else ""
    infer = isinstance(X, list | tuple)
    values = np.asarray(X, dtype=object) if infer else np.asarray(X)
    infer = infer or values.dtype == object
    if values.ndim == 0:
        raise ValueError(
            f"Expected 2D array, got scalar array instead: {what}={X!r}. "
            f"A table of shape (n_samples, n_features) is required{by}."
        )
    if values.ndim == 1:
        if infer and any(isinstance(v, list | tuple | np.ndarray) for v in values):
            lengths = sorted({len(v) for v in values if hasattr(v, "__len__")})
            raise ValueError(
                f"{what} is a list of rows of different lengths {lengths[:5]}; a table "
                f"of shape (n_samples, n_features) is required{by}."
            )
        raise ValueError(
            "Expected 2D array, got 1D array instead. Reshape your data "
            "either using array.reshape(-1, 1) if your data has a single "
            "feature or array.reshape(1, -1) if it contains a single sample."
        )
    if values.ndim > 2:
        raise ValueError(f"Found array with dim {values.ndim}, while dim <= 2 is required{by}.")
    if np.iscomplexobj(values):
        raise ValueError("Complex data not supported\n" + repr(values))
    if names is not None:
        names = list(names)
        if len(names) != values.shape[1]:
            raise ValueError(
                f"{what} has {values.shape[1]} columns but {caller or 'it'} was fitted "
                f"on {len(names)}: {describe_columns(names)}."
            )
    frame = pd.DataFrame(values, columns=names, copy=False)
    if infer:
        frame = frame.infer_objects()
        _reject_mixed_time_zones(frame, by, what)
    return frame


def _reject_mixed_time_zones(frame, by, what):
    for col, dtype in zip(frame.columns, frame.dtypes.tolist(), strict=True):
        if not ptypes.is_object_dtype(dtype):
            continue
        s = frame[col]
        if ptypes.infer_dtype(s, skipna=True) != "datetime":
            continue
        zones = {str(getattr(v, "tzinfo", None)) for v in s.dropna().head(10_000).tolist()}
        if len(zones) > 1:
            raise TypeError(
                f"Column {col!r} of {what} holds datetimes in several time zones "
                f"({', '.join(sorted(zones)[:5])}), which cannot be compared{by}. "
                "Convert them to one, e.g. pd.to_datetime(values, utc=True)."
            )


def time_ns(series):
    """Datetimes or timedeltas as float64 nanoseconds, NaN where missing.

    Datetimes count from the epoch, in UTC for a zone-aware column, whatever
    their unit, so that a column in microseconds and one in nanoseconds, or
    in another time zone, lie on one time axis.

    Parameters
    ----------
    series : Series of datetime64, DatetimeTZDtype or timedelta64 dtype
        The column.

    Returns
    -------
    values : ndarray of shape (n,), float64
    """
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        series = series.dt.tz_convert("UTC").dt.tz_localize(None)
    values = series.to_numpy()
    values = values.astype(f"{values.dtype.str[1:2]}8[ns]", copy=False)
    out = values.view("int64").astype(np.float64)
    out[pd.isna(values)] = np.nan
    return out


def to_array(frame):
    """``frame`` as an ndarray that the caller may write to.

    ``DataFrame.to_numpy()`` may return a read-only view (pandas'
    copy-on-write) or memory shared with the input; the result of a
    transformer must be neither, as scikit-learn's own are not.

    Parameters
    ----------
    frame : DataFrame
        The output to convert.

    Returns
    -------
    array : ndarray of shape frame.shape
        Writable; object dtype when the columns' dtypes differ.
    """
    array = frame.to_numpy()
    if not array.flags.writeable:
        array = array.copy()
    return array


def check_frame(estimator, X, *, reset, min_samples=1):
    """Check ``X`` and return it as a DataFrame without copying its data.

    Coerces ``X`` with :func:`as_frame`, then sets (``reset=True``) or checks
    (``reset=False``) ``n_features_in_`` and ``feature_names_in_`` with
    scikit-learn's own rules and messages: missing, unseen and reordered
    column names are each named in the error.

    Input given without names to an estimator fitted with them (an array after
    a DataFrame), or the reverse, is matched by position with scikit-learn's
    warning (see :func:`label_like_fit`).

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
        ``X`` itself when it is a DataFrame labelled as at fit; a new frame
        viewing its data otherwise. Callers must not modify it in place.
    """
    name = type(estimator).__name__
    X = as_frame(X, caller=name)
    if reset:
        validate_data(estimator, X, reset=True, skip_check_array=True)
    elif not _same_names_as_fit(estimator, X):
        if X.shape[1] == getattr(estimator, "n_features_in_", None):
            X = label_like_fit(estimator, X, stacklevel=3)
        # the names now match those seen at fit, or there are none: what is
        # left to check (and raise on) is the number and order of columns
        validate_data(estimator, X, reset=False, skip_check_array=True)
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
    return X


def has_feature_names(frame):
    """Whether the labels of ``frame`` are feature names in scikit-learn's
    sense: all of them strings."""
    return frame.shape[1] > 0 and all(isinstance(c, str) for c in frame.columns)


def _positional(frame):
    """``frame`` labelled by position (a view, when it is not already)."""
    k = frame.shape[1]
    if isinstance(frame.columns, pd.RangeIndex) and frame.columns.equals(pd.RangeIndex(k)):
        return frame
    return frame.set_axis(pd.RangeIndex(k), axis=1)


def label_like_fit(estimator, frame, *, stacklevel=2):
    """``frame`` labelled the way ``estimator`` saw its columns at fit.

    What scikit-learn does when the input has feature names (string column
    labels) and fit's had none, or the reverse: it warns, and takes the
    columns by position.

    - Fitted without names (on an array) and given names: warns "X has
      feature names, but ... was fitted without feature names", and labels
      the columns ``0 .. n - 1``, as an array's are.
    - Fitted with names and given none (an array, or a frame of integer
      labels): warns "X does not have valid feature names, but ... was fitted
      with feature names", and gives the columns the names seen at fit, in
      order; columns beyond those keep their positions (so that a checker can
      report them as extra).
    - Otherwise the labels are left as they are.

    Parameters
    ----------
    estimator : estimator instance
        Fitted; its ``feature_names_in_`` (if any) are the names of fit.

    frame : DataFrame
        The input, as :func:`as_frame` returned it.

    stacklevel : int, default=2
        Of the warning, counted from the caller of this function.

    Returns
    -------
    frame : DataFrame
        ``frame`` itself, or a new frame sharing its data with new labels.
    """
    name = type(estimator).__name__
    names = getattr(estimator, "feature_names_in_", None)
    own = has_feature_names(frame)
    if names is None:
        if own:
            warnings.warn(
                f"X has feature names, but {name} was fitted without feature names",
                UserWarning,
                stacklevel=stacklevel + 1,
            )
            return _positional(frame)
        return frame
    if own:
        return frame
    warnings.warn(
        f"X does not have valid feature names, but {name} was fitted with feature names",
        UserWarning,
        stacklevel=stacklevel + 1,
    )
    k = frame.shape[1]
    labels = list(names[:k]) + list(range(len(names), k))
    return frame.set_axis(labels, axis=1)


def _same_names_as_fit(estimator, X):
    """True when X has exactly the column labels seen at fit, in order: then
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
    """Raise a TypeError for columns whose kind changed since fit; return the
    frame with boolean and numeric columns given back the kind of fit.

    ``kinds`` is ``{column: kind}`` recorded at fit with :func:`column_kind`. A
    numeric column that arrives as text would otherwise be filled with a number
    among strings, or scaled as garbage. All-missing columns pass.

    A boolean column that arrives as numbers (0/1 integers or floats, as a
    CSV or a database gives it back) is read by value, as Python's ``==``
    does: 0 is False and 1 is True; any other number is an error naming the
    column. A numeric column that arrives as booleans is read as 0 and 1.
    Without this, an encoder would see the categories "0" and "1" where it
    learned "False" and "True", and a drift test unseen categories.

    Parameters
    ----------
    estimator : estimator instance
        Named in the error message.

    frame : DataFrame
        The batch, labelled as at fit.

    kinds : dict
        ``{column: kind}`` of fit.

    Returns
    -------
    frame : DataFrame
        ``frame`` itself when no column needed converting, else a new frame
        (sharing the other columns' data) with the converted columns;
        ``frame`` is never modified.
    """
    changed = []
    converted = {}
    dtypes = dict(zip(frame.columns, column_dtypes(frame), strict=True))
    for col, kind in kinds.items():
        if kind == NUMERIC and dtypes[col] == np.float64:
            continue  # the common case, without column_kind's dtype checks
        s = frame[col]
        now = column_kind(s)
        if now == kind or s.isna().all():
            continue
        if kind == BOOLEAN and now == NUMERIC:
            values = _as_boolean(estimator, col, s)
            converted[col] = values
            continue
        if kind == NUMERIC and now == BOOLEAN:
            converted[col] = s.astype("Float64").astype("float64")
            continue
        examples = s[s.notna()].head(3).tolist()
        changed.append(f"{col!r} was {kind} at fit but is {s.dtype} now (e.g. {examples})")
    if changed:
        raise TypeError(
            f"{type(estimator).__name__}: column dtype changed since fit: "
            + "; ".join(changed)
            + ". Cast these columns back to their training dtype."
        )
    if converted:
        frame = frame.copy(deep=False)
        for col, values in converted.items():
            frame[col] = values
    return frame


def _as_boolean(estimator, col, series):
    """A numeric column of 0s and 1s as booleans (``boolean`` when it has
    missing values); other numbers raise a TypeError naming the column."""
    missing = series.isna().to_numpy()
    values = series.to_numpy(dtype="float64", na_value=np.nan)
    bad = ~missing & (values != 0) & (values != 1)
    if bad.any():
        shown = pd.unique(series[bad]).tolist()[:3]
        raise TypeError(
            f"{type(estimator).__name__}: column {col!r} was boolean at fit but "
            f"holds numbers other than 0 and 1 now (e.g. {shown}); only 0/1 are "
            "read as False/True. Cast the column back to bool."
        )
    flags = values == 1
    if missing.any():
        out = pd.array(flags, dtype="boolean")
        out[missing] = pd.NA
        return pd.Series(out, index=series.index, name=series.name)
    return pd.Series(flags, index=series.index, name=series.name)


def describe_columns(columns, limit=5):
    """A short, readable list of column labels for error messages."""
    columns = list(columns)
    shown = ", ".join(repr(c) for c in columns[:limit])
    if len(columns) > limit:
        shown += f", ... ({len(columns) - limit} more)"
    return shown


# -- small frames ------------------------------------------------------------
#
# A service sends one row per call, and every pandas call a step makes on it
# costs about as much on one row as on a thousand. These helpers read what a
# one-row call needs through pandas' block manager (the arrays, dtypes and
# blocks pandas already holds), each with the public way as its fallback.


def column_dtypes(frame):
    """The dtypes of the columns of ``frame``, in order, as a list.

    ``frame.dtypes.tolist()`` builds a Series first (~20 us); the block
    manager hands out the dtypes it holds (~1 us).
    """
    get = getattr(getattr(frame, "_mgr", None), "get_dtypes", None)
    if get is not None:
        return get().tolist()
    return frame.dtypes.tolist()


def shallow_copy(frame):
    """A new DataFrame sharing the data of ``frame``: ``frame.copy(deep=False)``.

    Built as pandas builds it (every block copied shallowly, so that
    copy-on-write keeps a write to either frame from reaching the other, and
    the axes as views, so that renaming one does not rename the other) in
    half its time (~12 us instead of ~28 us for 9 columns): pandas also
    copies the manager's axes twice and runs its generic block loop. A
    subclass, or a frame with ``attrs`` or flags to carry, takes
    ``frame.copy(deep=False)`` itself.
    """
    mgr = getattr(frame, "_mgr", None)
    if (
        type(frame) is not pd.DataFrame
        or frame.attrs
        or not frame.flags.allows_duplicate_labels
        or not isinstance(mgr, _BlockManager)
    ):
        return frame.copy(deep=False)
    blocks = tuple([block.copy(deep=False) for block in mgr.blocks])
    new = _BlockManager(blocks, [axis.view() for axis in mgr.axes], verify_integrity=False)
    blknos = mgr._blknos
    if blknos is not None:  # saves rebuilding the column-to-block map
        new._blknos = blknos.copy()
        new._blklocs = mgr._blklocs.copy()
    return pd.DataFrame._from_mgr(new, axes=new.axes)


def row_values(frame):
    """The values of the first row of ``frame``, as ``frame.iloc[0].tolist()``
    gives them (a category as its value, a missing category as NaN), a
    number as a numpy scalar (``iloc`` gives a Python one when every column
    has one numpy dtype).

    ``iloc[0]`` builds a Series of the row (~45 us for 9 columns); reading
    each column's array where it is a numeric ndarray or a Categorical costs
    a third of it. Other columns take ``iloc[0]``.
    """
    out = []
    for array in column_arrays(frame):
        if isinstance(array, np.ndarray) and array.dtype.kind in "biuf":
            out.append(array[0])
        elif isinstance(array, pd.Categorical):
            code = categorical_codes(array)[0]
            out.append(np.nan if code < 0 else array.categories[code])
        else:
            return frame.iloc[0].tolist()
    return out


def column_arrays(frame):
    """The arrays holding the columns of ``frame``, in order, not copied.

    pandas keeps them and hands them out through ``_get_column_array``
    (~1 us a column); the public ``frame.iloc[:, j].array`` builds a Series
    first (~10 us a column, as long as the rest of a one-row call) and is the
    fallback where that method is missing.
    """
    get = getattr(frame, "_get_column_array", None)
    if get is not None:
        return [get(j) for j in range(frame.shape[1])]
    return [series_array(frame.iloc[:, j]) for j in range(frame.shape[1])]


def series_array(series):
    return series.to_numpy() if isinstance(series.dtype, np.dtype) else series.array


def categorical_codes(categorical):
    """The codes of a Categorical: its own array (``.codes`` makes a
    read-only view of it, ~1.5 us); the caller must not write to it."""
    codes = getattr(categorical, "_codes", None)
    return categorical.codes if codes is None else codes
