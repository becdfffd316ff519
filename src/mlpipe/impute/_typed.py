"""TypedImputer: one step that imputes each column by a strategy picked from
its dtype."""

import math
from functools import partial
from numbers import Integral

import numpy as np
import pandas as pd
from pandas.api import types as ptypes
from sklearn.base import BaseEstimator, TransformerMixin

from mlpipe.impute._base import (
    CATEGORICAL_STRATEGIES,
    NUMERIC_STRATEGIES,
    _median,
    fill,
    fill_direct,
    fit_kinds,
    indicator_name,
    most_frequent_of_counts,
    resolve_constant,
    statistic,
    time_integers,
    time_mean,
    time_median,
    warn_empty,
)
from mlpipe.impute._sketch import (
    exact_mean,
    exact_sum,
    integer_sum,
    merge_summaries,
    middle_values,
    value_summary,
)
from mlpipe.utils._dask import is_dask_dataframe, map_merge
from mlpipe.utils._dataframe import (
    DATETIME,
    NUMERIC,
    check_frame,
    check_kinds,
    column_arrays,
    column_dtypes,
    describe_columns,
    dtype_kind,
    reject_infinite,
    row_values,
    shallow_copy,
    to_array,
)
from mlpipe.utils._estimator import MlpipeEstimatorMixin
from mlpipe.utils._plain import plain_scalar
from mlpipe.utils._sklearn_compat import (
    Interval,
    StrOptions,
    check_feature_names_in,
    check_is_fitted,
    fit_context,
)

# Largest batch that transform reads row by row (see _fill_small_batch).
MAX_SMALL_BATCH = 16
_PANDAS_3 = int(pd.__version__.split(".")[0]) >= 3


def _copy_on_write():
    """Whether pandas copies shared data before a write (always from pandas 3)."""
    return _PANDAS_3 or pd.get_option("mode.copy_on_write") is True


class TypedImputer(MlpipeEstimatorMixin, TransformerMixin, BaseEstimator):
    """Impute each column with a strategy picked from its dtype.

    Numeric columns get ``numeric_strategy`` (the median by default),
    categorical, string, object and boolean columns get
    ``categorical_strategy`` (the most frequent value by default), and any
    column can be told otherwise through ``strategies``. A DataFrame comes out
    as a DataFrame with the same index, column order and, wherever the fill
    value fits, the same dtypes; an array comes out as an array.

    Missing means what :func:`pandas.isna` says: ``NaN``, ``None``, ``pd.NA``
    and ``NaT``.

    Parameters
    ----------
    numeric_strategy : {"median", "mean", "most_frequent", "constant"}, \
            default="median"
        Strategy for numeric and datetime columns.

    categorical_strategy : {"most_frequent", "constant"}, default="most_frequent"
        Strategy for categorical, string, object and boolean columns.

    strategies : dict, default=None
        Per-column overrides, ``{column: strategy}``. Numeric columns accept
        every strategy, the others ``"most_frequent"`` and ``"constant"``.

    fill_value : scalar or dict, default=None
        The value used by ``"constant"``: one scalar for all such columns or a
        ``{column: value}`` dict. ``None`` (or a column absent from the dict)
        means 0 for numeric columns and ``"missing"`` for the others. A dict
        naming a column that is not in ``X`` is an error at fit, as in
        ``strategies``.

    add_indicator : bool or {"auto", "all"}, default=False
        Append boolean columns ``missingindicator_<column>`` that mark where
        a value was imputed. ``"auto"`` (or True) adds them for the columns
        that had missing values at fit, ``"all"`` for every column, False for
        none. The set is fixed at fit, so the output always has the same
        columns.

    max_exact_values : int, default=262144
        For :meth:`partial_fit` and ``fit`` on a dask DataFrame: the most
        distinct values of a column whose median is kept exactly (16 bytes
        each). A column with more is summarized by a mergeable quantile
        summary of levels of at most ``max_exact_values // 8`` values, and
        its median then has a rank within ``n_rank_error_[column]`` of
        ``n / 2`` (at most ``n (log2(n / k) + 1) / k`` for ``n`` values and
        ``k = max_exact_values // 8``: 3.4e-4 n for 50 million values at the
        default). The mean, the most frequent value and the constant are
        always exact. ``fit`` on a pandas frame is always exact.

    Attributes
    ----------
    statistics_ : ndarray of shape (n_features_in_,), dtype=object
        The fill value of each column.

    strategies_ : dict
        The strategy used for each column, after dtype rules, overrides and
        the fallback for columns that were all missing at fit.

    kinds_ : dict
        The kind of each column at fit: ``"numeric"``, ``"boolean"``,
        ``"categorical"`` or ``"datetime"``.

    indicator_features_ : ndarray of int
        Positions of the columns that get a missing indicator.

    n_rank_error_ : dict
        ``{column: e}`` for the columns whose median was read from a quantile
        summary (see ``max_exact_values``): the median's rank among the
        column's ``n`` observed values is within ``e`` of ``n / 2``. Empty when
        every statistic is exact (always after ``fit`` on a pandas frame).

    summary_ : dict
        After :meth:`partial_fit` only: the mergeable summary of the chunks
        seen so far (counts, exact sums, the values a median is read from),
        which the next call extends. Its size is bounded by
        ``max_exact_values`` per median column, whatever the number of rows.

    n_features_in_ : int
        Number of features seen during fit.

    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when they are all strings.

    See Also
    --------
    GroupImputer : Fill with a statistic per group of another column.
    sklearn.impute.SimpleImputer : One strategy for all columns of one array.

    Notes
    -----
    - A column with no observed value at fit is filled with the constant of
      its kind (see ``fill_value``) and a
      :class:`~mlpipe.exceptions.DataQualityWarning` says so; it is never
      dropped, unlike in ``SimpleImputer``.
    - A column with no missing values at fit is still learned, so missing
      values that appear in it later are filled too.
    - An integer column stays integer when its fill value is integral;
      otherwise it becomes float, as in pandas (a median of 2.5 is never
      rounded). A boolean column filled with ``"missing"`` becomes object.
    - Infinite values are an error, not missing values. So is a column whose
      kind changed since fit (text arriving in a numeric column).
    - The numbers equal ``SimpleImputer``'s for the strategies both have;
      ties in ``"most_frequent"`` go to the smallest value as there. The mean
      is the correctly rounded mean of the values (their exact sum divided
      by their count, rounded once), within one rounding of ``np.mean``.
    - Data larger than memory: :meth:`partial_fit` learns from a stream of
      chunks, and ``fit`` and ``transform`` accept a dask DataFrame (``fit``
      maps over its partitions and merges, ``transform`` returns a lazy dask
      DataFrame). Both learn what ``fit`` on the concatenated frame learns:
      the same bits for the mean, the most frequent value, the constant, the
      indicators, and the median while a column has at most
      ``max_exact_values`` distinct values; beyond, the median is within the
      rank error reported in ``n_rank_error_``.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from mlpipe.impute import TypedImputer
    >>> X = pd.DataFrame({"age": [25.0, np.nan, 40.0, 31.0],
    ...                   "city": ["Oslo", None, "Oslo", "Rome"]})
    >>> TypedImputer(add_indicator="auto").fit_transform(X)
        age  city  missingindicator_age  missingindicator_city
    0  25.0  Oslo                 False                  False
    1  31.0  Oslo                  True                   True
    2  40.0  Oslo                 False                  False
    3  31.0  Rome                 False                  False
    """

    _parameter_constraints = {
        "numeric_strategy": [StrOptions(set(NUMERIC_STRATEGIES))],
        "categorical_strategy": [StrOptions(set(CATEGORICAL_STRATEGIES))],
        "strategies": [dict, None],
        "fill_value": "no_validation",
        "add_indicator": ["boolean", StrOptions({"auto", "all"})],
        "max_exact_values": [Interval(Integral, 16, None, closed="left")],
    }

    def __init__(
        self,
        *,
        numeric_strategy="median",
        categorical_strategy="most_frequent",
        strategies=None,
        fill_value=None,
        add_indicator=False,
        max_exact_values=262144,
    ):
        self.numeric_strategy = numeric_strategy
        self.categorical_strategy = categorical_strategy
        self.strategies = strategies
        self.fill_value = fill_value
        self.add_indicator = add_indicator
        self.max_exact_values = max_exact_values

    def _strategy_for(self, column, kind):
        overrides = self.strategies or {}
        if column in overrides:
            strategy = overrides[column]
            allowed = NUMERIC_STRATEGIES if kind in (NUMERIC, DATETIME) else CATEGORICAL_STRATEGIES
            if strategy not in allowed:
                raise ValueError(
                    f"strategies[{column!r}]={strategy!r} does not fit the {kind} "
                    f"column {column!r}; use one of {list(allowed)}."
                )
            return strategy
        if kind in (NUMERIC, DATETIME):
            return self.numeric_strategy
        return self.categorical_strategy

    @fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Learn the fill value of every column.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            Training data; missing values are allowed, infinite ones not.

        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted imputer.
        """
        if is_dask_dataframe(X):
            self._check_columns(self._dask_meta(X))
            summary = map_merge(X, partial(_summarize_chunk, self), _merge_chunk_summaries)
            self._learn_from_summary(summary)
            if hasattr(self, "summary_"):
                del self.summary_
            return self
        X = check_frame(self, X, reset=True)
        reject_infinite(self, X)
        columns = self._check_columns(X)
        self.kinds_ = fit_kinds(self, X, columns)
        self.strategies_ = {}
        stats, empty, constants = [], [], {}
        for col in columns:
            kind = self.kinds_[col]
            strategy = self._strategy_for(col, kind)
            constant = resolve_constant(kind, col, self.fill_value)
            value = statistic(X[col], kind, strategy, constant)
            if value is None:
                empty.append(col)
                constants[col] = constant
                strategy, value = "constant", constant
            self.strategies_[col] = strategy
            stats.append(value)
        warn_empty(self, empty, constants)
        self._set_statistics(columns, stats)
        self._set_indicators(X.isna().any(axis=0).to_numpy())
        self.n_rank_error_ = {}
        if hasattr(self, "summary_"):
            del self.summary_
        return self

    @fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None):
        """Learn the fill values from one more chunk of the training data.

        The first call (or the first after ``fit``, whose in-memory fit keeps
        no summary to extend) learns as ``fit`` would; each later call adds
        its chunk, which must have the same columns. After any number of
        calls the imputer holds what ``fit`` on the concatenated chunks
        learns (see ``max_exact_values`` for the median of a column with very
        many distinct values).

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            A chunk of the training data (for example one record batch of a
            Parquet dataset).

        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted imputer.
        """
        first = not hasattr(self, "summary_")
        frame = check_frame(self, X, reset=first)
        if first:
            self._check_columns(frame)
        summary = _summarize_chunk(self, frame, None if first else self.summary_)
        self._learn_from_summary(summary)
        self.summary_ = summary
        return self

    def _check_columns(self, X):
        columns = list(X.columns)
        for param in ("strategies", "fill_value"):
            given = getattr(self, param)
            unknown = [c for c in given if c not in columns] if isinstance(given, dict) else []
            if unknown:
                raise ValueError(
                    f"{param} names column(s) {describe_columns(unknown)} that are "
                    f"not in X; its columns are {describe_columns(columns, limit=10)}."
                )
        return columns

    def _dask_meta(self, X):
        """Set the feature names from a dask DataFrame's columns; return an
        empty frame of its dtypes."""
        meta = X._meta
        check_frame(self, X._meta_nonempty, reset=True)
        fit_kinds(self, X._meta_nonempty, list(meta.columns))
        return meta

    def _learn_from_summary(self, summary):
        columns = summary["columns"]
        self.kinds_, self.strategies_, self.n_rank_error_ = {}, {}, {}
        stats, empty, constants = [], [], {}
        for col, part in zip(columns, summary["parts"], strict=True):
            kind = part["kind"]
            self.kinds_[col] = kind
            strategy = self._strategy_for(col, kind)
            constant = resolve_constant(kind, col, self.fill_value)
            value = _statistic_from_summary(part, strategy, constant)
            if value is None:
                empty.append(col)
                constants[col] = constant
                strategy, value = "constant", constant
            elif part.get("median") is not None and part["median"]["levels"] is not None:
                self.n_rank_error_[col] = int(part["median"]["error"])
            self.strategies_[col] = strategy
            stats.append(value)
        warn_empty(self, empty, constants)
        self._set_statistics(columns, stats)
        self._set_indicators(np.array([p["n_missing"] > 0 for p in summary["parts"]], dtype=bool))

    def _set_statistics(self, columns, stats):
        self.statistics_ = np.empty(len(stats), dtype=object)
        # A datetime statistic is kept as numpy's datetime64, which skops can save.
        self.statistics_[:] = [
            plain_scalar(v) if self.kinds_[c] == DATETIME else v
            for c, v in zip(columns, stats, strict=True)
        ]

    def _set_indicators(self, had_missing):
        if self.add_indicator == "all":
            self.indicator_features_ = np.arange(len(had_missing))
        elif self.add_indicator:  # True or "auto"
            self.indicator_features_ = np.flatnonzero(had_missing)
        else:
            self.indicator_features_ = np.array([], dtype=np.intp)

    def transform(self, X):
        """Fill the missing values of ``X``.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            Data with the columns seen at fit, in the same order.

        Returns
        -------
        X_out : DataFrame, dask DataFrame or ndarray of shape (n_samples, n_features_out)
            A new DataFrame when ``X`` is one (index and dtypes kept where the
            fill value fits), an ndarray otherwise; indicator columns last.
            A dask DataFrame gives a lazy dask DataFrame, each partition
            filled on the workers with the learned values (a column that
            widens when filled, an integer column given a fractional median,
            is of the widened dtype in every partition). ``X`` itself is never
            modified.
        """
        if not hasattr(self, "statistics_"):  # check_is_fitted takes ~5 us
            check_is_fitted(self)
        if is_dask_dataframe(X):
            return self._transform_dask(X)
        small = self._fill_small_batch(X)
        if small is not None:
            return small
        was_frame = isinstance(X, pd.DataFrame)
        labels = X.columns if was_frame else None
        X = check_frame(self, X, reset=False)
        reject_infinite(self, X)
        X = check_kinds(self, X, self.kinds_)
        data = {
            col: fill(X[col], value) for col, value in zip(X.columns, self.statistics_, strict=True)
        }
        out = pd.DataFrame(data, index=X.index)
        # a frame matched to fit's columns by position keeps its own labels
        out.columns = X.columns if labels is None else labels
        if len(self.indicator_features_):
            names = check_feature_names_in(self, None)
            mask = X.iloc[:, self.indicator_features_].isna().to_numpy()
            indicators = pd.DataFrame(
                mask,
                index=X.index,
                columns=[indicator_name(names[i]) for i in self.indicator_features_],
            )
            if not was_frame:
                indicators.columns = range(X.shape[1], X.shape[1] + mask.shape[1])
            out = pd.concat([out, indicators], axis=1)
        return out if was_frame else to_array(out)

    def _transform_dask(self, X):
        sample = X._meta_nonempty
        out_meta = self.transform(sample).iloc[:0]
        # A column that widens when filled (an integer column given a
        # fractional median, a categorical given a new category) is of the
        # widened dtype in every partition, gaps or not, so that they agree.
        for j, (col, value) in enumerate(zip(sample.columns, self.statistics_, strict=True)):
            dtype = sample[col].dtype
            if _can_be_missing(dtype):
                filled = fill(pd.Series([None], dtype=dtype), value)
                out_meta.isetitem(j, out_meta.iloc[:, j].astype(filled.dtype))
        return X.map_partitions(_transform_partition, self, out_meta, meta=out_meta)

    def _fill_small_batch(self, X):
        """``transform`` of a DataFrame of a few rows labelled as at fit, in
        columns of their kind of fit and without infinity (a service's one
        row), read once row by row instead of column by column; None for any
        other input, which ``transform`` takes the general way. The result is
        the general way's: the columns without a missing value copied, the
        others filled by the same :func:`~mlpipe.impute._base.fill`."""
        n = len(X) if isinstance(X, pd.DataFrame) else 0
        if not 0 < n <= MAX_SMALL_BATCH or len(self.indicator_features_) or X.attrs:
            return None
        names = getattr(self, "feature_names_in_", None)
        if names is None or X.columns.tolist() != names.tolist():
            return None
        kinds = [self.kinds_[name] for name in names]
        dtypes = column_dtypes(X)
        if [dtype_kind(dtype) for dtype in dtypes] != kinds:
            return None  # object columns, kinds to convert or to refuse
        values = np.array([row_values(X)], dtype=object) if n == 1 else X.to_numpy(object)
        gaps = pd.isna(values)
        for j, dtype in enumerate(dtypes):
            if kinds[j] == NUMERIC and ptypes.is_float_dtype(dtype):
                present = values[~gaps[:, j], j].tolist()
                if any(math.isinf(v) for v in present):
                    return None  # refused by the general way
        missing = {j: gaps[:, j] for j in np.flatnonzero(gaps.any(axis=0)).tolist()}
        # The general way builds a new frame; under copy-on-write a shallow
        # copy is as independent of X (a write to either copies first).
        out = shallow_copy(X) if _copy_on_write() else X.copy()
        arrays = column_arrays(X)
        for j, mask in missing.items():
            direct = fill_direct(arrays[j], self.statistics_[j], mask)
            if direct is None:
                direct = fill(X[names[j]], self.statistics_[j], mask=mask)
            out.isetitem(j, direct)
        return out

    def get_feature_names_out(self, input_features=None):
        """Get the names of the output columns: the inputs, then the indicators.

        Parameters
        ----------
        input_features : array-like of str, default=None
            Input feature names; ``feature_names_in_`` (or ``x0, x1, ...``)
            when None.

        Returns
        -------
        feature_names_out : ndarray of str
            The input names, followed by the name of the missing-value
            indicator of each column in ``indicator_features_``.
        """
        check_is_fitted(self)
        names = check_feature_names_in(self, input_features)
        indicators = [indicator_name(names[i]) for i in self.indicator_features_]
        return np.asarray(list(names) + indicators, dtype=object)


def _can_be_missing(dtype):
    return not (isinstance(dtype, np.dtype) and dtype.kind in "iub")


def _transform_partition(part, imputer, meta):
    """``imputer.transform`` of one pandas partition, in the dtypes of ``meta``."""
    if not len(part):
        return meta.copy()
    out = imputer.transform(part)
    for j, dtype in enumerate(meta.dtypes):
        if out.dtypes.iloc[j] != dtype:
            out.isetitem(j, out.iloc[:, j].astype(dtype))
    return out


def _summarize_chunk(imputer, X, before=None):
    """The mergeable summary of one chunk (a pandas frame) for ``imputer``:
    per column its kind, rows, missing values and what its strategy needs.

    With ``before`` (the summary of the chunks before), the summary of them
    all: each column's part is merged as soon as it is made, so a chunk's
    exact values are held one column at a time.
    """
    reject_infinite(imputer, X)
    columns = list(X.columns)
    if before is not None:
        _check_same_columns(before["columns"], columns)
    kinds = fit_kinds(imputer, X, columns)
    budget = imputer.max_exact_values
    parts = []
    for j, col in enumerate(columns):
        s = X[col]
        kind = kinds[col]
        strategy = imputer._strategy_for(col, kind)
        observed = s.dropna()
        part = {"kind": kind, "n": len(s), "n_missing": int(len(s) - len(observed))}
        part["n_observed"] = len(observed)
        if strategy == "most_frequent" and len(observed):
            counts = observed.value_counts(dropna=True, sort=False)
            counts = counts[counts > 0]
            values = np.empty(len(counts), dtype=object)
            values[:] = counts.index.tolist()
            part["most_frequent"] = {"values": values, "counts": counts.to_numpy(np.int64)}
        elif strategy in ("mean", "median") and len(observed):
            if kind == DATETIME:
                values, part["time"] = time_integers(observed)
            else:
                values = observed.to_numpy(dtype="float64")
            if strategy == "mean":
                total = integer_sum(values) if kind == DATETIME else exact_sum(values)
                part["sum"] = str(total)  # a Python int of any size, saved as text
            else:
                part["median"] = value_summary(values, budget, budget // 8)
        if before is not None:
            part = _merge_column(col, [before["parts"][j], part])
        parts.append(part)
    n = len(X) + (before["n"] if before is not None else 0)
    return {"columns": columns, "n": n, "parts": parts}


def _check_same_columns(columns, other):
    if other != columns:
        missing = [c for c in columns if c not in other]
        extra = [c for c in other if c not in columns]
        raise ValueError(
            "TypedImputer: a chunk has other columns than the chunks before it "
            f"(missing: {describe_columns(missing)}, not seen before: "
            f"{describe_columns(extra)}, or another order); every chunk must "
            f"have the columns {describe_columns(columns, limit=10)}."
        )


def _merge_chunk_summaries(summaries):
    """One summary of the chunks of ``summaries``, in order; their columns
    must be the same."""
    summaries = [s for s in summaries if s is not None]
    first = summaries[0]
    columns = first["columns"]
    for other in summaries[1:]:
        _check_same_columns(columns, other["columns"])
    parts = []
    for j, col in enumerate(columns):
        pieces = [s["parts"][j] for s in summaries]
        parts.append(_merge_column(col, pieces))
    return {"columns": columns, "n": sum(s["n"] for s in summaries), "parts": parts}


def _merge_column(col, pieces):
    # A chunk where the column is all missing says nothing of its kind.
    seen = [p for p in pieces if p["n_observed"]] or pieces[:1]
    kinds = {p["kind"] for p in seen}
    if len(kinds) > 1:
        order = [p["kind"] for p in seen]
        raise TypeError(
            f"TypedImputer: column {col!r} is {order[-1]} in a chunk but "
            f"{order[0]} in an earlier one; every chunk must give a column the "
            "same kind (convert it before fitting)."
        )
    out = {
        "kind": seen[0]["kind"],
        "n": sum(p["n"] for p in pieces),
        "n_missing": sum(p["n_missing"] for p in pieces),
        "n_observed": sum(p["n_observed"] for p in pieces),
    }
    if any("most_frequent" in p for p in seen):
        counts = {}
        for p in seen:
            if "most_frequent" in p:
                mf = p["most_frequent"]
                for value, count in zip(mf["values"].tolist(), mf["counts"].tolist(), strict=True):
                    counts[value] = counts.get(value, 0) + count
        values = np.empty(len(counts), dtype=object)
        values[:] = list(counts)
        out["most_frequent"] = {
            "values": values,
            "counts": np.fromiter(counts.values(), dtype=np.int64, count=len(counts)),
        }
    if any("sum" in p for p in seen):
        out["sum"] = str(sum(int(p["sum"]) for p in seen if "sum" in p))
    medians = [p["median"] for p in seen if "median" in p]
    if medians:
        out["median"] = merge_summaries(medians)
    times = [p["time"] for p in seen if "time" in p]
    if times:
        if any(t != times[0] for t in times):
            raise TypeError(
                f"TypedImputer: column {col!r} has another datetime unit or time "
                f"zone in a chunk than in an earlier one ({times[0]} and "
                f"{next(t for t in times if t != times[0])})."
            )
        out["time"] = times[0]
    return out


def _statistic_from_summary(part, strategy, constant):
    """What :func:`~mlpipe.impute._base.statistic` gives on the concatenated
    chunks, from their merged summary."""
    if strategy == "constant":
        return constant
    if not part["n_observed"]:
        return None
    if strategy == "most_frequent":
        mf = part["most_frequent"]
        return most_frequent_of_counts(mf["values"].tolist(), mf["counts"])
    n = part["n_observed"]
    if strategy == "mean":
        total = int(part["sum"])
        if part["kind"] == DATETIME:
            return time_mean(total, n, part["time"])
        return exact_mean(total, n)
    low, high = middle_values(part["median"])
    if part["kind"] == DATETIME:
        return time_median(int(low), int(high), part["time"])
    return _median(np.array([low, high], dtype=np.float64))
