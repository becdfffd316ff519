"""GroupImputer: fill with a statistic per group of another column."""

from numbers import Integral

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin

from mlpipe.impute._base import (
    fill,
    fit_kinds,
    resolve_constant,
    statistic,
    warn_empty,
)
from mlpipe.utils._dataframe import (
    DATETIME,
    NUMERIC,
    check_frame,
    check_kinds,
    reject_infinite,
    to_array,
)
from mlpipe.utils._estimator import MlpipeEstimatorMixin
from mlpipe.utils._plain import index_from_state, index_state, plain_scalar
from mlpipe.utils._sklearn_compat import (
    StrOptions,
    check_is_fitted,
    fit_context,
)


class GroupImputer(MlpipeEstimatorMixin, OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Impute each column with a statistic of its group in another column.

    The credit amount of a skilled worker is filled with the median credit
    amount of skilled workers, not of everyone. Rows whose group was not seen
    at fit, whose group had no observed value of the column, or whose group
    itself is missing fall back to the statistic of the whole column.

    Parameters
    ----------
    by : str or int
        The grouping column: a name of a DataFrame column, or a position for
        an array. It is passed through unchanged and never imputed.

    columns : list, default=None
        Columns to impute; None means every column except ``by``. The other
        columns are passed through unchanged.

    numeric_strategy : {"median", "mean", "most_frequent"}, default="median"
        Statistic for numeric and datetime columns.

    categorical_strategy : {"most_frequent"}, default="most_frequent"
        Statistic for categorical, string, object and boolean columns.

    Attributes
    ----------
    group_statistics_ : dict
        ``{column: Series}``, the statistic of each group (index: the groups
        that had at least one observed value). A view built on each access
        from the plain arrays the imputer keeps (so that it can be saved with
        skops); changing it changes nothing.

    statistics_ : ndarray of shape (n_features_in_,), dtype=object
        The fallback (whole-column) statistic of each column; None for
        columns that are not imputed.

    by_ : object
        The label of the grouping column in the input.

    columns_ : list
        The labels of the imputed columns.

    n_features_in_ : int
        Number of features seen during fit.

    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when they are all strings.

    See Also
    --------
    TypedImputer : One statistic per column.

    Notes
    -----
    Each group's statistic is computed exactly as :class:`TypedImputer`
    computes the whole column's, so a group's median equals
    ``SimpleImputer(strategy="median")`` fitted on that group's rows. Dtypes
    are kept as in :class:`TypedImputer`. A column with no observed value at
    all is filled with 0 (numeric) or ``"missing"`` and a
    :class:`~mlpipe.exceptions.DataQualityWarning` says so.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from mlpipe.impute import GroupImputer
    >>> X = pd.DataFrame({"job": [1, 1, 1, 2, 2, 3],
    ...                   "amount": [100.0, 200.0, np.nan, 900.0, np.nan, np.nan]})
    >>> GroupImputer(by="job").fit_transform(X)
       job  amount
    0    1   100.0
    1    1   200.0
    2    1   150.0
    3    2   900.0
    4    2   900.0
    5    3   200.0
    """

    _parameter_constraints = {
        "by": [str, Integral, None],
        "columns": [list, None],
        "numeric_strategy": [StrOptions({"median", "mean", "most_frequent"})],
        "categorical_strategy": [StrOptions({"most_frequent"})],
    }

    def __init__(
        self,
        *,
        by=None,
        columns=None,
        numeric_strategy="median",
        categorical_strategy="most_frequent",
    ):
        self.by = by
        self.columns = columns
        self.numeric_strategy = numeric_strategy
        self.categorical_strategy = categorical_strategy

    @fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Learn the statistic of every group and of every whole column.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            Training data, holding the ``by`` column.

        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted imputer.
        """
        if self.by is None:
            raise ValueError(
                "GroupImputer needs by=<column>: the column whose groups the "
                "statistics are computed in."
            )
        X = check_frame(self, X, reset=True)
        reject_infinite(self, X)
        labels = list(X.columns)
        if self.by not in labels:
            raise ValueError(f"by={self.by!r} is not a column of X; its columns are {labels[:10]}.")
        if self.columns is None:
            columns = [c for c in labels if c != self.by]
        else:
            columns = list(self.columns)
        missing = [c for c in columns if c not in labels]
        if missing or self.by in columns:
            raise ValueError(
                f"columns must be columns of X other than by={self.by!r}; "
                f"got {missing or [self.by]} that cannot be imputed."
            )
        self.by_ = self.by
        self.columns_ = columns
        self.kinds_ = fit_kinds(self, X, columns)
        groups = X[self.by].to_numpy()
        positions = pd.Series(groups).groupby(groups, dropna=True, sort=True).indices

        # Kept as plain data (skops cannot save pandas objects): the groups
        # as an index state, and per column the statistic of each group
        # (None where the group had no observed value).
        group_index = pd.Index(list(positions.keys()))
        self._group_labels = index_state(group_index)
        self._group_values = {}
        stats, empty, constants = [], [], {}
        for col in labels:
            if col not in self.kinds_:
                stats.append(None)
                continue
            kind = self.kinds_[col]
            strategy = (
                self.numeric_strategy if kind in (NUMERIC, DATETIME) else self.categorical_strategy
            )
            series = X[col]
            value = statistic(series, kind, strategy, None)
            if value is None:
                constants[col] = resolve_constant(kind, col, None)
                empty.append(col)
                value = constants[col]
            stats.append(value)
            values = np.empty(len(positions), dtype=object)
            values[:] = [
                statistic(series.iloc[rows], kind, strategy, None) for rows in positions.values()
            ]
            if kind == DATETIME:
                values[:] = [plain_scalar(v) for v in values]
            self._group_values[col] = values
        warn_empty(self, empty, constants)
        self.statistics_ = np.empty(len(stats), dtype=object)
        self.statistics_[:] = [
            plain_scalar(v) if self.kinds_.get(c) == DATETIME else v
            for c, v in zip(labels, stats, strict=True)
        ]
        return self

    @property
    def group_statistics_(self):
        """The statistic of each group, ``{column: Series}`` (a new view on each access)."""
        check_is_fitted(self, "statistics_")
        groups = index_from_state(self._group_labels)
        out = {}
        for col, values in self._group_values.items():
            seen = np.array([v is not None for v in values], dtype=bool)
            out[col] = pd.Series(values[seen], index=groups[seen], dtype=object)
        return out

    def transform(self, X):
        """Fill the missing values of ``X`` from its rows' groups.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            Data with the columns seen at fit, in the same order.

        Returns
        -------
        X_out : DataFrame or ndarray of shape (n_samples, n_features)
            A new DataFrame when ``X`` is one, an ndarray otherwise. ``X``
            itself is never modified.
        """
        check_is_fitted(self)
        was_frame = isinstance(X, pd.DataFrame)
        labels = X.columns if was_frame else None
        X = check_frame(self, X, reset=False)
        reject_infinite(self, X)
        X = check_kinds(self, X, self.kinds_)
        groups = pd.Series(X[self.by_].to_numpy(), index=X.index)
        data = {}
        tables = self.group_statistics_
        for col, fallback in zip(X.columns, self.statistics_, strict=True):
            series = X[col]
            mask = series.isna()
            if col not in self.kinds_ or not mask.any():
                data[col] = series
                continue
            table = tables[col]
            values = groups[mask].map(table.to_dict()) if len(table) else groups[mask].map({})
            values = values.astype(object).where(values.notna(), fallback)
            data[col] = fill(series, _infer(values), mask)
        out = pd.DataFrame(data, index=X.index)
        # a frame matched to fit's columns by position keeps its own labels
        out.columns = X.columns if labels is None else labels
        return out if was_frame else to_array(out)


def _infer(values):
    """Give an object Series of fill values its natural dtype, so that filling
    a float column with it keeps the column float."""
    return values.infer_objects()
