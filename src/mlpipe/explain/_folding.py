"""Map the columns a fitted preprocessing pipeline outputs back to the raw
input columns they were made from.

SHAP values are additive, so the value of a raw column is the sum of the
values of the transformed columns it produced (one-hot columns, a missing
indicator); summing keeps every row's total, and so the explanation's
additivity, exact.
"""

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import OneHotEncoder

from mlpipe.impute import TypedImputer
from mlpipe.utils._sklearn_compat import (
    column_transformer_input_indices,
    onehot_n_features_outs,
)

_INDICATOR_PREFIX = "missingindicator_"


class FoldingError(ValueError):
    """A transformed column cannot be traced back to one raw column."""


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


def fold_matrix(sources, n_features):
    """0/1 matrix of shape (n_output_columns, n_features): row ``k`` marks the
    raw column that output column ``k`` comes from."""
    matrix = np.zeros((len(sources), n_features))
    matrix[np.arange(len(sources)), sources] = 1.0
    return matrix


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
