"""Map the columns a fitted preprocessing pipeline outputs back to the raw
input columns they were made from.

SHAP values are additive, so the value of a raw column is the sum of the
values of the transformed columns it produced (one-hot columns, a missing
indicator); summing keeps every row's total, and so the explanation's
additivity, exact.
"""

import numpy as np
from sklearn.base import OneToOneFeatureMixin
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import OneHotEncoder

from mlpipe.impute import TypedImputer
from mlpipe.utils._sklearn_compat import (
    column_transformer_input_indices,
    onehot_n_features_outs,
)

_INDICATOR_PREFIX = "missingindicator_"
_ONE_TO_ONE_NAMES = OneToOneFeatureMixin.get_feature_names_out


class FoldingError(ValueError):
    """A transformed column cannot be traced back to one raw column.

    The tree and linear explainers compute SHAP values of the transformed
    columns the final estimator sees, then sum them back ("fold" them) into
    the raw columns they came from. A step that mixes columns (a PCA,
    polynomial features) or that has no ``get_feature_names_out`` breaks that
    trace; asking for ``method="tree"`` or ``"linear"`` then raises this
    error, whereas ``method="auto"`` falls back to Kernel SHAP, which
    explains the raw columns directly. It is a ``ValueError``.

    See Also
    --------
    PipelineExplainer : Picks the method and folds the values.
    explain : The one-call form of :class:`PipelineExplainer`.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn.decomposition import PCA
    >>> from sklearn.linear_model import LinearRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from mlpipe.explain import FoldingError, explain
    >>> X = pd.DataFrame({"size": [50.0, 80.0, 120.0, 65.0, 95.0],
    ...                   "rooms": [2.0, 3.0, 5.0, 2.0, 4.0]})
    >>> model = make_pipeline(PCA(), LinearRegression()).fit(X, 3 * X["size"])
    >>> try:
    ...     explain(model, X, method="linear")
    ... except FoldingError as error:
    ...     print(str(error)[:45])
    method='linear' cannot explain this model: Ca
    >>> explain(model, X).method
    'kernel'
    """


def source_columns(preprocessor, n_features):
    """Return, for each output column of ``preprocessor``, the position of the
    raw input column it comes from.

    Parameters
    ----------
    preprocessor : fitted transformer, Pipeline or None
        Everything of a pipeline before its final estimator; None means no
        preprocessing.

    n_features : int
        Number of raw input columns.

    Returns
    -------
    sources : ndarray of int of shape (n_output_columns,)

    Raises
    ------
    FoldingError
        If a step mixes columns (a PCA, polynomial features) or has no
        ``get_feature_names_out`` to trace its output by.
    """
    sources = np.arange(n_features)
    if preprocessor is None:
        return sources
    return _trace(preprocessor, sources, "preprocessing")


def fold_values(values, sources, n_features):
    """Sum per-output-column values into the raw columns they come from.

    Parameters
    ----------
    values : ndarray of shape (n_samples, n_output_columns, ...)
        Values per transformed column (SHAP values, one more axis per class).

    sources : ndarray of int of shape (n_output_columns,)
        The raw column of each output column, from :func:`source_columns`.

    n_features : int
        Number of raw columns.

    Returns
    -------
    folded : ndarray of shape (n_samples, n_features, ...)
        ``folded[:, r]`` is the sum of ``values[:, k]`` over the output
        columns ``k`` with ``sources[k] == r``; 0 for a raw column that no
        output comes from (a dropped one).

    Notes
    -----
    Memory is that of ``values`` plus the result, linear in the number of
    columns (a dense 0/1 folding matrix would be quadratic: 19 GiB for
    50,000 columns). Outputs that each come from a raw column of their own
    are scattered into place; otherwise one ``np.bincount`` over the flat
    (row, class, raw column) index sums them.
    """
    sources = np.asarray(sources, dtype=np.intp)
    if values.shape[1] != len(sources):
        raise FoldingError(
            f"The preprocessing outputs {values.shape[1]} columns but "
            f"{len(sources)} were traced back to raw columns."
        )
    if len(sources) == n_features and np.array_equal(sources, np.arange(n_features)):
        return values.copy()
    n_samples, extra = values.shape[0], values.shape[2:]
    if not len(sources) or np.bincount(sources, minlength=n_features).max() == 1:
        folded = np.zeros((n_samples, n_features, *extra), dtype=values.dtype)
        folded[:, sources] = values
        return folded
    # (n, outputs, classes) -> (n, classes, outputs): the raw column varies fastest.
    moved = np.moveaxis(values.reshape(n_samples, len(sources), -1), 1, 2)
    n_blocks = moved.shape[0] * moved.shape[1]
    flat = (np.arange(n_blocks)[:, None] * n_features + sources[None, :]).ravel()
    sums = np.bincount(flat, weights=moved.reshape(-1), minlength=n_blocks * n_features)
    folded = np.moveaxis(sums.reshape(n_samples, -1, n_features), 2, 1)
    return np.ascontiguousarray(folded.reshape(n_samples, n_features, *extra))


def _trace(step, sources, where):
    if step is None or (isinstance(step, str) and step == "passthrough"):
        return sources
    if isinstance(step, Pipeline):
        for name, sub in step.steps:
            sources = _trace(sub, sources, f"{where} > {name}")
        return sources
    if isinstance(step, ColumnTransformer):
        return _trace_column_transformer(step, sources, where)
    if isinstance(step, FeatureUnion):
        parts = [
            _trace(sub, sources, f"{where} > {name}")
            for name, sub in step.transformer_list
            if not (isinstance(sub, str) and sub == "drop")
        ]
        return np.concatenate(parts) if parts else sources[:0]
    if isinstance(step, OneHotEncoder):
        return np.repeat(sources, onehot_n_features_outs(step))
    if isinstance(step, TypedImputer):
        return np.concatenate([sources, sources[step.indicator_features_]])
    if getattr(type(step), "get_feature_names_out", None) is _ONE_TO_ONE_NAMES:
        # Scalers and friends: output k is input k (their feature names say
        # so too, at the cost of building them for every column).
        return sources
    return _trace_by_names(step, sources, where)


def _trace_column_transformer(ct, sources, where):
    n_out = max((s.stop for s in ct.output_indices_.values()), default=0)
    out = np.full(n_out, -1)
    inputs = column_transformer_input_indices(ct)
    for name, trans, _ in ct.transformers_:
        part = ct.output_indices_[name]
        if part.stop == part.start:
            continue  # dropped, or selected no column
        traced = _trace(trans, sources[np.asarray(inputs[name], dtype=int)], f"{where} > {name}")
        if len(traced) != part.stop - part.start:
            raise FoldingError(
                f"{where} > {name} outputs {part.stop - part.start} columns but "
                f"{len(traced)} were traced back to raw columns."
            )
        out[part] = traced
    return out


def _trace_by_names(step, sources, where):
    """Trace a step by its feature names: an output named like an input, or
    ``<input>_<suffix>`` (encoders, discretisers, splines), or
    ``missingindicator_<input>`` comes from that input."""
    label = f"{where} ({type(step).__name__})"
    if not hasattr(step, "get_feature_names_out"):
        raise FoldingError(
            f"Cannot tell which raw columns the output of step {label} comes "
            "from: it has no get_feature_names_out."
        )
    names_in = getattr(step, "feature_names_in_", None)
    if names_in is None:
        names_in = np.asarray([f"x{i}" for i in range(len(sources))], dtype=object)
    names_in = [str(n) for n in names_in]
    if len(names_in) != len(sources):
        raise FoldingError(
            f"Step {label} saw {len(names_in)} input columns, but {len(sources)} arrive at it."
        )
    names_out = [str(n) for n in step.get_feature_names_out()]
    if names_out == names_in:
        return sources
    position = {name: i for i, name in enumerate(names_in)}
    traced = []
    for name in names_out:
        if name in position:
            traced.append(sources[position[name]])
            continue
        if name.startswith(_INDICATOR_PREFIX) and name[len(_INDICATOR_PREFIX) :] in position:
            traced.append(sources[position[name[len(_INDICATOR_PREFIX) :]]])
            continue
        candidates = [n for n in names_in if name.startswith(n + "_")]
        if len(candidates) != 1:
            why = "no input column" if not candidates else f"several input columns {candidates}"
            raise FoldingError(
                f"Cannot tell which raw column the output {name!r} of step {label} "
                f"comes from ({why} match its name). Steps that mix columns (PCA, "
                "polynomial features) cannot be folded; method='kernel' explains the "
                "raw columns directly."
            )
        traced.append(sources[position[candidates[0]]])
    return np.asarray(traced, dtype=int)
