"""Turn sensitive features (arrays, frames, or column names of X) into group
codes shared by the metrics, the audit, the bias checks and the mitigators."""

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

from mlpipe.utils._dataframe import describe_columns


@dataclass
class Groups:
    """Sensitive groups of n samples.

    ``codes[i]`` is the group of row ``i`` (0 .. n_groups-1) and
    ``index[codes[i]]`` its label: a plain ``Index`` for one sensitive
    feature, a ``MultiIndex`` (one level per feature) for intersectional
    groups. Only combinations that occur are groups.
    """

    codes: np.ndarray
    index: pd.Index
    names: list

    @property
    def n_groups(self):
        return len(self.index)

    def counts(self):
        return np.bincount(self.codes, minlength=self.n_groups)


def _default_name(i):
    # fairlearn's naming, so tables line up with MetricFrame's.
    return f"sensitive_feature_{i}"


def _is_name_list(value, X):
    if X is None or not isinstance(value, (list, tuple)) or not value:
        return False
    if not isinstance(X, pd.DataFrame) or not all(isinstance(v, str) for v in value):
        return False
    # A list of strings as long as X could be group labels; otherwise it names
    # columns (and an unknown name is reported as such).
    return all(v in X.columns for v in value) or len(value) != len(X)


def sensitive_columns(sensitive_features, X=None):
    """Return ``[(name, 1-D values)]`` of the sensitive features.

    ``sensitive_features`` is a column name of ``X`` or a list of them, a
    1-D array-like (one feature), a 2-D array or DataFrame (one feature per
    column) or a dict ``{name: 1-D array-like}``.
    """
    if sensitive_features is None:
        raise ValueError(
            "sensitive_features is required: an array of group labels, a "
            "DataFrame of several sensitive columns, or column name(s) of X."
        )
    if isinstance(sensitive_features, str) or _is_name_list(sensitive_features, X):
        names = (
            [sensitive_features]
            if isinstance(sensitive_features, str)
            else list(sensitive_features)
        )
        if not isinstance(X, pd.DataFrame):
            raise ValueError(
                f"sensitive_features={sensitive_features!r} names column(s), so X "
                "must be a DataFrame holding them; pass X=... or give the group "
                "labels as an array."
            )
        missing = [c for c in names if c not in X.columns]
        if missing:
            raise ValueError(
                f"sensitive feature column(s) {missing} are not columns of X; its "
                f"columns are {describe_columns(X.columns, 10)}."
            )
        repeated = [c for c in names if (X.columns == c).sum() > 1]
        if repeated:
            raise ValueError(
                f"sensitive feature column(s) {describe_columns(repeated)} name several "
                "columns of X (duplicate column names), so the groups are ambiguous. "
                "Rename or drop the copies."
            )
        return [(c, X[c]) for c in names]
    if sparse.issparse(sensitive_features):
        raise TypeError(
            "sensitive_features is a sparse matrix; group labels must be dense: "
            "convert it first, e.g. sensitive_features.toarray()."
        )
    if isinstance(sensitive_features, pd.DataFrame):
        if sensitive_features.columns.has_duplicates:
            repeated = sensitive_features.columns[sensitive_features.columns.duplicated()]
            raise ValueError(
                f"sensitive_features has duplicate column names "
                f"{describe_columns(repeated.unique())}; each sensitive feature needs its "
                "own name. Rename or drop the copies."
            )
        return [(str(c), sensitive_features[c]) for c in sensitive_features.columns]
    if isinstance(sensitive_features, dict):
        return [(str(k), v) for k, v in sensitive_features.items()]
    if isinstance(sensitive_features, pd.Series):
        name = sensitive_features.name
        return [(_default_name(0) if name is None else str(name), sensitive_features)]
    if hasattr(sensitive_features, "to_pandas"):  # polars and friends
        return sensitive_columns(sensitive_features.to_pandas(), X)
    values = np.asarray(sensitive_features, dtype=object)
    if values.ndim == 1:
        return [(_default_name(0), values)]
    if values.ndim == 2:
        return [(_default_name(i), values[:, i]) for i in range(values.shape[1])]
    raise ValueError(
        f"sensitive_features must be 1-D or 2-D, got an array of shape {values.shape}."
    )


def make_groups(sensitive_features, n_samples, X=None):
    """Encode sensitive features as :class:`Groups` of ``n_samples`` rows.

    Raises a ``ValueError`` naming the feature if its length is wrong or it
    has missing values: a missing group label is never dropped or guessed.
    """
    columns = sensitive_columns(sensitive_features, X)
    codes_list, uniques_list, names = [], [], []
    for name, values in columns:
        if not isinstance(values, pd.Series):
            if not isinstance(values, np.ndarray):
                values = np.asarray(values, dtype=object)
            values = pd.Series(values)
        if values.ndim != 1 or len(values) != n_samples:
            raise ValueError(
                f"sensitive feature {name!r} has {len(values)} value(s) but y has "
                f"{n_samples}; they must describe the same rows."
            )
        missing = np.flatnonzero(pd.isna(values).to_numpy())
        if len(missing):
            raise ValueError(
                f"sensitive feature {name!r} has {len(missing)} missing value(s) "
                f"(row positions {missing[:5].tolist()}...). A missing group "
                "label is not a group: fill it with an explicit value such as "
                "'unknown', or drop those rows, before measuring fairness."
            )
        codes, uniques = pd.factorize(values, sort=True)
        codes_list.append(codes.astype(np.int64))
        uniques_list.append(pd.Index(uniques))
        names.append(name)
    if len(columns) == 1:
        index = uniques_list[0].copy()
        index.name = names[0]
        return Groups(codes_list[0], index, names)
    dims = tuple(len(u) for u in uniques_list)
    if n_samples == 0:
        index = pd.MultiIndex.from_arrays([u[:0] for u in uniques_list], names=names)
        return Groups(np.zeros(0, dtype=np.int64), index, names)
    flat = np.ravel_multi_index(codes_list, dims)
    present, codes = np.unique(flat, return_inverse=True)
    levels = np.unravel_index(present, dims)
    index = pd.MultiIndex.from_arrays(
        [u.take(level) for u, level in zip(uniques_list, levels, strict=True)], names=names
    )
    return Groups(codes.astype(np.int64).ravel(), index, names)


def group_label(index, i):
    """A readable label of group ``i``: ``"female"`` or ``"female, <25"``."""
    label = index[i]
    if isinstance(label, tuple):
        return ", ".join(str(v) for v in label)
    return str(label)
