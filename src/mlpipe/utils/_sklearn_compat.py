"""The one module that touches scikit-learn's private API.

Everything private that mlpipe needs from scikit-learn is imported here, so an
upgrade that moves it breaks one file, not the whole tree.
"""

from sklearn.base import _fit_context
from sklearn.linear_model._base import LinearClassifierMixin, LinearModel
from sklearn.utils._metadata_requests import _routing_enabled
from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    InvalidParameterError,
    Options,
    StrOptions,
    generate_invalid_param_val,
    generate_valid_param,
    make_constraint,
    validate_params,
)
from sklearn.utils._set_output import _get_output_config
from sklearn.utils.validation import (
    _check_feature_names_in,
    _get_feature_names,
    _num_samples,
    check_is_fitted,
    validate_data,
)

fit_context = _fit_context
check_feature_names_in = _check_feature_names_in
get_feature_names = _get_feature_names
get_output_config = _get_output_config
num_samples = _num_samples
routing_enabled = _routing_enabled


def column_transformer_input_indices(column_transformer):
    """``{transformer name: [input column positions]}`` of a fitted
    ColumnTransformer, the remainder included (used by mlpipe.explain)."""
    return column_transformer._transformer_to_input_indices


def onehot_n_features_outs(encoder):
    """Number of output columns of a fitted OneHotEncoder per input column,
    after dropped and infrequent categories (used by mlpipe.explain)."""
    return list(encoder._n_features_outs)


__all__ = [
    "HasMethods",
    "Interval",
    "InvalidParameterError",
    "LinearClassifierMixin",
    "LinearModel",
    "Options",
    "StrOptions",
    "check_feature_names_in",
    "check_is_fitted",
    "column_transformer_input_indices",
    "fit_context",
    "generate_invalid_param_val",
    "generate_valid_param",
    "get_feature_names",
    "get_output_config",
    "make_constraint",
    "num_samples",
    "onehot_n_features_outs",
    "routing_enabled",
    "validate_data",
    "validate_params",
]
