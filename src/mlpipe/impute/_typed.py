"""TypedImputer: one step that imputes each column by a strategy picked from
its dtype."""

import math

import numpy as np
import pandas as pd
from pandas.api import types as ptypes
from sklearn.base import BaseEstimator, TransformerMixin

from mlpipe.impute._base import (
    CATEGORICAL_STRATEGIES,
    NUMERIC_STRATEGIES,
    fill,
    fill_direct,
    fit_kinds,
    indicator_name,
    resolve_constant,
    statistic,
    warn_empty,
)
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
      ties in ``"most_frequent"`` go to the smallest value as there.

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
    }

    def __init__(
        self,
        *,
        numeric_strategy="median",
        categorical_strategy="most_frequent",
        strategies=None,
        fill_value=None,
        add_indicator=False,
    ):
        self.numeric_strategy = numeric_strategy
        self.categorical_strategy = categorical_strategy
        self.strategies = strategies
        self.fill_value = fill_value
        self.add_indicator = add_indicator

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
        X = check_frame(self, X, reset=True)
        reject_infinite(self, X)
        columns = list(X.columns)
        for param in ("strategies", "fill_value"):
            given = getattr(self, param)
            unknown = [c for c in given if c not in columns] if isinstance(given, dict) else []
            if unknown:
                raise ValueError(
                    f"{param} names column(s) {describe_columns(unknown)} that are "
                    f"not in X; its columns are {describe_columns(columns, limit=10)}."
                )
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
        self.statistics_ = np.empty(len(stats), dtype=object)
        # A datetime statistic is kept as numpy's datetime64, which skops can save.
        self.statistics_[:] = [
            plain_scalar(v) if self.kinds_[c] == DATETIME else v
            for c, v in zip(columns, stats, strict=True)
        ]

        had_missing = X.isna().any(axis=0).to_numpy()
        if self.add_indicator == "all":
            self.indicator_features_ = np.arange(len(columns))
        elif self.add_indicator:  # True or "auto"
            self.indicator_features_ = np.flatnonzero(had_missing)
        else:
            self.indicator_features_ = np.array([], dtype=np.intp)
        return self

    def transform(self, X):
        """Fill the missing values of ``X``.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            Data with the columns seen at fit, in the same order.

        Returns
        -------
        X_out : DataFrame or ndarray of shape (n_samples, n_features_out)
            A new DataFrame when ``X`` is one (index and dtypes kept where the
            fill value fits), an ndarray otherwise; indicator columns last.
            ``X`` itself is never modified.
        """
        if not hasattr(self, "statistics_"):  # check_is_fitted takes ~5 us
            check_is_fitted(self)
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
