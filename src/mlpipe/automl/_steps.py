"""TabularEncoder: the encoding and scaling step of the pipelines PipelineSearch builds."""

from numbers import Real

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.preprocessing import (
    MinMaxScaler,
    OneHotEncoder,
    OrdinalEncoder,
    RobustScaler,
    StandardScaler,
)

from mlpipe.utils._dataframe import (
    BOOLEAN,
    CATEGORICAL,
    NUMERIC,
    check_frame,
    check_kinds,
    column_kind,
    reject_infinite,
)
from mlpipe.utils._estimator import MlpipeEstimatorMixin
from mlpipe.utils._sklearn_compat import (
    Interval,
    StrOptions,
    check_feature_names_in,
    check_is_fitted,
    fit_context,
)

_SCALERS = {"standard": StandardScaler, "robust": RobustScaler, "minmax": MinMaxScaler}

# The kinds of column TabularEncoder turns into numbers.
ENCODABLE_KINDS = (NUMERIC, BOOLEAN, CATEGORICAL)


def check_encodable(who, X, kinds):
    """Raise a TypeError naming the columns TabularEncoder cannot encode
    (datetimes, and what mlpipe has no statistics for)."""
    bad = [c for c, k in kinds.items() if k not in ENCODABLE_KINDS]
    if bad:
        dtypes = ", ".join(f"{c!r} ({X[c].dtype})" for c in bad[:5])
        more = f" and {len(bad) - 5} more" if len(bad) > 5 else ""
        raise TypeError(
            f"{who} cannot encode column(s) {dtypes}{more}: TabularEncoder encodes "
            "numeric, boolean and categorical columns. Convert them first: a "
            "datetime to numbers (e.g. X[col].astype('int64'), or features such as "
            "the year or the day of week), or drop them."
        )


class TabularEncoder(MlpipeEstimatorMixin, TransformerMixin, BaseEstimator):
    """Encode the categorical columns and scale the numeric ones of a frame.

    The step between imputation and a learner: categorical, string, object and
    boolean columns are one-hot or ordinal encoded, numeric columns scaled (or
    passed through), and the result is one float matrix. Missing values pass
    through numeric columns untouched (for a later ``KNNImputer``), and become
    their own category in categorical ones.

    Parameters
    ----------
    categorical : {"onehot", "ordinal"}, default="onehot"
        How to encode categorical columns. Unseen categories at transform are
        all-zero rows (one-hot) or ``-1`` (ordinal), never an error.

    scaler : {"standard", "robust", "minmax", "none"}, default="standard"
        How to scale numeric columns.

    min_frequency : float, default=0.0
        One-hot only: categories rarer than this share of the rows are grouped
        into one infrequent column.

    Attributes
    ----------
    column_transformer_ : ColumnTransformer
        The fitted transformer doing the work.

    categorical_columns_ : list
        Columns encoded as categories.

    numeric_columns_ : list
        Columns scaled as numbers.

    kinds_ : dict
        The kind of each column at fit; a batch whose column changed kind is
        refused with a TypeError.

    n_features_in_ : int
        Number of features seen during fit.

    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when they are all strings.

    See Also
    --------
    sklearn.preprocessing.OneHotEncoder : The one-hot encoding it applies.
    sklearn.compose.ColumnTransformer : The transformer doing the work.
    mlpipe.impute.TypedImputer : The imputation step that usually precedes it.

    Notes
    -----
    A boolean column that arrives as 0/1 numbers is encoded as the False/True
    it stands for; other numbers in it are an error (see
    ``kinds_``). A numeric column with values beyond ``2**400`` (near the
    float64 maximum, where a scaler's sums of squares overflow to inf) is
    divided by a power of two before it is scaled: every scaler's output is
    the same for it, and stays finite.

    Examples
    --------
    >>> import pandas as pd
    >>> from mlpipe.automl import TabularEncoder
    >>> X = pd.DataFrame({"age": [20.0, 30.0, 40.0], "city": ["Oslo", "Rome", "Oslo"]})
    >>> TabularEncoder().fit(X).get_feature_names_out().tolist()
    ['city_Oslo', 'city_Rome', 'age']
    """

    _parameter_constraints = {
        "categorical": [StrOptions({"onehot", "ordinal"})],
        "scaler": [StrOptions({"standard", "robust", "minmax", "none"})],
        "min_frequency": [Interval(Real, 0.0, 1.0, closed="left")],
    }

    def __init__(self, *, categorical="onehot", scaler="standard", min_frequency=0.0):
        self.categorical = categorical
        self.scaler = scaler
        self.min_frequency = min_frequency

    @fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Learn the categories and the scaling of every column.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            Training data.

        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted encoder.
        """
        X = check_frame(self, X, reset=True)
        reject_infinite(self, X)
        kinds = {col: column_kind(X[col]) for col in X.columns}
        check_encodable("TabularEncoder", X, kinds)
        self.kinds_ = kinds
        self.categorical_columns_ = [c for c, k in kinds.items() if k != NUMERIC]
        self.numeric_columns_ = [c for c, k in kinds.items() if k == NUMERIC]
        if self.categorical == "onehot":
            encoder = OneHotEncoder(
                handle_unknown="infrequent_if_exist" if self.min_frequency else "ignore",
                min_frequency=self.min_frequency or None,
                sparse_output=False,
            )
        else:
            encoder = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1)
        scaler = "passthrough" if self.scaler == "none" else _SCALERS[self.scaler]()
        self.column_transformer_ = ColumnTransformer(
            [
                ("categorical", encoder, _positions(X, self.categorical_columns_)),
                ("numeric", scaler, _positions(X, self.numeric_columns_)),
            ],
            verbose_feature_names_out=False,
        )
        self._exponents = self._huge_columns(X)
        self.column_transformer_.fit(self._encodable(X))
        return self

    def _huge_columns(self, X):
        """``{position: exponent}`` of the numeric columns whose values are so
        large (beyond 2**400) that the scaler's sums of squares overflow;
        they are scaled by 2**-exponent first. Every scaler's output is
        invariant to that (a power of two: no rounding), so the result is the
        same numbers, finite. Unscaled (``scaler="none"``) columns pass as
        they are."""
        if self.scaler == "none":
            return {}
        exponents = {}
        for position in _positions(X, self.numeric_columns_):
            values = X.iloc[:, position].to_numpy(dtype="float64", na_value=np.nan)
            top = np.nanmax(np.abs(values), initial=0.0)
            if top > 2.0**400:
                exponents[position] = int(np.frexp(top)[1])
        return exponents

    def _encodable(self, X):
        """A shallow copy of ``X`` with string column names (x0, x1, ... for an
        array) and categorical columns as strings with one missing marker, so
        the encoders see one kind of missing value whatever the dtype."""
        positions = _positions(X, self.categorical_columns_)
        X = X.copy(deep=False)
        X.columns = check_feature_names_in(self, None)
        for position in positions:
            s = X.iloc[:, position].astype(object)
            X[X.columns[position]] = s.where(s.notna(), "__missing__").map(str)
        for position, exponent in getattr(self, "_exponents", {}).items():
            values = X.iloc[:, position].to_numpy(dtype="float64", na_value=np.nan)
            X[X.columns[position]] = np.ldexp(values, -exponent)
        return X

    def transform(self, X):
        """Encode and scale ``X``.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            Data with the columns seen at fit.

        Returns
        -------
        X_out : ndarray of shape (n_samples, n_features_out)
            Float matrix; ``X`` itself is never modified.
        """
        check_is_fitted(self)
        X = check_frame(self, X, reset=False)
        reject_infinite(self, X)
        X = check_kinds(self, X, self.kinds_)
        out = self.column_transformer_.transform(self._encodable(X))
        return np.asarray(out, dtype=np.float64)

    def get_feature_names_out(self, input_features=None):
        """Get the names of the output columns.

        Parameters
        ----------
        input_features : array-like of str, default=None
            Ignored beyond the consistency check of scikit-learn.

        Returns
        -------
        feature_names_out : ndarray of str
            The encoded categorical columns first (``<column>_<category>``
            for one-hot, the column's name for ordinal), then the numeric
            columns under their own names.
        """
        check_is_fitted(self)
        check_feature_names_in(self, input_features)
        return np.asarray(self.column_transformer_.get_feature_names_out(), dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64"]  # it encodes to float64
        return tags


def _positions(X, columns):
    labels = list(X.columns)
    return [labels.index(c) for c in columns]
