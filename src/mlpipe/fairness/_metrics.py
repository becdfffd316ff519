"""Group fairness metrics with fairlearn's signatures and values.

Every rate is computed for all groups at once from weighted counts
(``np.bincount``), instead of calling a metric once per group as
``fairlearn.metrics.MetricFrame`` does; the values are the same, including
fairlearn's conventions for groups where a rate is undefined.
"""

import textwrap
from dataclasses import dataclass
from numbers import Real

import numpy as np
import pandas as pd
from pandas.api import types as ptypes
from scipy import sparse

from mlpipe._report import Report
from mlpipe.fairness._groups import group_label, make_groups
from mlpipe.utils._scalar import python_scalar
from mlpipe.utils._sklearn_compat import StrOptions, validate_params

_METHODS = ("between_groups", "to_overall")

# Parameter constraints shared by the public functions of mlpipe.fairness
# (scikit-learn's validate_params): labels and weights are array-likes, the
# favourable label a scalar label, sensitive features arrays, a dict of them
# or column name(s) of X.
LABEL = [Real, str, "boolean"]
SENSITIVE_FEATURES = ["array-like", dict, str]
TARGET_CONSTRAINTS = {
    "y_true": ["array-like"],
    "y_pred": ["array-like"],
    "sensitive_features": SENSITIVE_FEATURES,
    "sample_weight": ["array-like", None],
    "pos_label": LABEL,
    "X": ["array-like", None],
}
_DISPARITY_CONSTRAINTS = {
    **TARGET_CONSTRAINTS,
    "method": [StrOptions(set(_METHODS))],
}
_ODDS_CONSTRAINTS = {
    **_DISPARITY_CONSTRAINTS,
    "agg": [StrOptions({"worst_case", "mean"})],
}

# Built-in metrics computed from weighted counts, in the table's column order.
BUILTIN_METRICS = (
    "count",
    "selection_rate",
    "base_rate",
    "true_positive_rate",
    "false_positive_rate",
    "true_negative_rate",
    "false_negative_rate",
    "precision",
    "accuracy",
)
# Those that need binary labels (a confusion matrix).
_BINARY_METRICS = {
    "true_positive_rate",
    "false_positive_rate",
    "true_negative_rate",
    "false_negative_rate",
    "precision",
}
# Those that depend on pos_label.
_POS_LABEL_METRICS = _BINARY_METRICS | {"selection_rate", "base_rate"}
DEFAULT_METRICS = (
    "count",
    "selection_rate",
    "true_positive_rate",
    "false_positive_rate",
    "accuracy",
)


def _as_1d(values, what):
    if sparse.issparse(values):
        raise TypeError(
            f"{what} is a sparse {type(values).__name__}; mlpipe.fairness needs dense "
            f"1-D values. Convert it first, e.g. np.asarray({what}.todense()).ravel()."
        )
    if hasattr(values, "to_numpy"):
        values = values.to_numpy()
    values = np.asarray(values)
    if values.ndim == 2 and values.shape[1] == 1:
        values = values.ravel()
    if values.ndim != 1:
        raise ValueError(f"{what} must be 1-D, got an array of shape {values.shape}.")
    return values


def check_weights(sample_weight, n_samples, *, of="y_true"):
    """``sample_weight`` as float64 weights, checked as scikit-learn's
    ``_check_sample_weight`` checks them: numeric, 1-D, one per sample,
    finite and non-negative. None gives ones.

    A NaN weight would drop its row from every sum (and a group whose weights
    are all NaN from the comparison), a negative one makes a rate such as 1.5:
    both are refused, with the count and the first position.
    """
    if sample_weight is None:
        return np.ones(n_samples)
    if isinstance(sample_weight, pd.Series) and ptypes.is_numeric_dtype(sample_weight.dtype):
        sample_weight = sample_weight.to_numpy(dtype="float64", na_value=np.nan)
    weights = _as_1d(sample_weight, "sample_weight")
    if weights.dtype.kind not in "biuf":
        try:
            weights = weights.astype("float64")
        except (TypeError, ValueError):
            raise TypeError(
                f"sample_weight must be numeric, got dtype {weights.dtype} "
                f"(e.g. {weights[:3].tolist()})."
            ) from None
    weights = weights.astype("float64")
    if len(weights) != n_samples:
        raise ValueError(f"sample_weight has {len(weights)} value(s) but {of} has {n_samples}.")
    for bad, what in ((~np.isfinite(weights), "NaN or infinite"), (weights < 0, "negative")):
        where = np.flatnonzero(bad)
        if len(where):
            raise ValueError(
                f"sample_weight must be finite and non-negative, but {len(where)} "
                f"value(s) are {what} (first at position {where[0]}: "
                f"{weights[where[0]]!r}). A weight is the importance of a row: fix or "
                "drop these rows, rates are not computed from such weights."
            )
    return weights


def _is_text(value):
    return isinstance(value, str | bytes)


def present_labels(*arrays):
    """The distinct non-missing labels of the arrays together, sorted."""
    uniques = [pd.unique(a) for a in arrays]
    labels = pd.unique(np.concatenate([np.asarray(u, dtype=object) for u in uniques]))
    labels = [python_scalar(v) for v in labels if not pd.isna(v)]
    try:
        return sorted(labels)
    except TypeError:
        return sorted(labels, key=repr)


def check_pos_label(pos_label, *arrays):
    """Raise a ValueError when ``pos_label`` is not one of the labels.

    As scikit-learn's binary metrics do (``_check_set_wise_labels``): with two
    labels or more, ``pos_label`` must be one of them. With a single label,
    ``pos_label`` may be absent (a group without favourable outcome), but not
    of another kind: a number among text labels (the default ``pos_label=1``
    with ``"good"``/``"bad"``) would measure nothing.
    """
    labels = present_labels(*arrays)
    if not labels or pos_label in labels:
        return
    hint = "; pass the favourable label as pos_label."
    if len(labels) >= 2:
        raise ValueError(
            f"pos_label={pos_label!r} is not a valid label. It should be one of {labels}{hint}"
        )
    if _is_text(pos_label) != _is_text(labels[0]):
        kind = "text" if _is_text(labels[0]) else "not text"
        raise ValueError(
            f"pos_label={pos_label!r} is not a valid label: the only label, "
            f"{labels[0]!r}, is {kind}{hint}"
        )


def check_targets(y_true, y_pred, sample_weight=None, *, pos_label=1, binary=False, rates=True):
    """Return ``y_true, y_pred, weights`` as 1-D arrays of equal length.

    ``pos_label`` must be one of the labels of ``y_true`` and ``y_pred`` (see
    :func:`check_pos_label`) unless ``rates=False`` (no metric asked for
    depends on it). With ``binary=True`` the labels (of both together) must
    be at most two. The weights are checked by :func:`check_weights`.
    """
    y_true = _as_1d(y_true, "y_true")
    y_pred = _as_1d(y_pred, "y_pred")
    if len(y_true) != len(y_pred):
        raise ValueError(
            f"y_true and y_pred have different lengths: {len(y_true)} and {len(y_pred)}."
        )
    weights = check_weights(sample_weight, len(y_true))
    if binary:
        labels = present_labels(y_true, y_pred)
        if len(labels) > 2:
            raise ValueError(
                "true and false positive rates need binary labels, but y_true and "
                f"y_pred hold {len(labels)} distinct values: {labels[:5]}."
            )
    if rates or binary:
        check_pos_label(pos_label, y_true, y_pred)
    return y_true, y_pred, weights


def _one_sample_if_scalar(values):
    # fairlearn reads a scalar (or any size-1 input) as one sample.
    return np.reshape(values, 1) if np.ndim(values) == 0 else values


def _safe_divide(num, den):
    # fairlearn (through sklearn's normalized confusion matrix and
    # zero_division=0) reports 0 for a rate whose denominator is empty.
    num = np.asarray(num, dtype="float64")
    den = np.asarray(den, dtype="float64")
    out = np.zeros(np.broadcast(num, den).shape)
    np.divide(num, den, out=out, where=den != 0)
    return out


def weighted_cells(codes, n_groups, y_true, y_pred, weights, pos_label):
    """Weighted confusion-matrix cells per group, as a dict of arrays."""
    true = y_true == pos_label
    pred = y_pred == pos_label
    cells = {
        "count": np.bincount(codes, minlength=n_groups).astype("float64"),
        "n": np.bincount(codes, weights=weights, minlength=n_groups),
        "pos": np.bincount(codes, weights=weights * true, minlength=n_groups),
        "sel": np.bincount(codes, weights=weights * pred, minlength=n_groups),
        "tp": np.bincount(codes, weights=weights * (true & pred), minlength=n_groups),
        "correct": np.bincount(codes, weights=weights * (y_true == y_pred), minlength=n_groups),
    }
    return cells


def rates_from_cells(cells, metric):
    """One built-in metric from :func:`weighted_cells` (any leading shape)."""
    n, pos, sel, tp = cells["n"], cells["pos"], cells["sel"], cells["tp"]
    neg = n - pos
    fp = sel - tp
    if metric == "count":
        return cells["count"]
    if metric == "selection_rate":
        with np.errstate(invalid="ignore", divide="ignore"):
            return sel / n
    if metric == "base_rate":
        with np.errstate(invalid="ignore", divide="ignore"):
            return pos / n
    if metric == "true_positive_rate":
        return _safe_divide(tp, pos)
    if metric == "false_negative_rate":
        return _safe_divide(pos - tp, pos)
    if metric == "false_positive_rate":
        return _safe_divide(fp, neg)
    if metric == "true_negative_rate":
        return _safe_divide(neg - fp, neg)
    if metric == "precision":
        return _safe_divide(tp, sel)
    if metric == "accuracy":
        with np.errstate(invalid="ignore", divide="ignore"):
            return cells["correct"] / n
    raise ValueError(f"unknown metric {metric!r}")


def _group_rates(metric, y_true, y_pred, sensitive_features, sample_weight, pos_label, X):
    y_true, y_pred, weights = check_targets(
        y_true,
        y_pred,
        sample_weight,
        pos_label=pos_label,
        binary=metric in _BINARY_METRICS,
    )
    groups = make_groups(sensitive_features, len(y_true), X)
    cells = weighted_cells(groups.codes, groups.n_groups, y_true, y_pred, weights, pos_label)
    overall = {k: v.sum() for k, v in cells.items()}
    return rates_from_cells(cells, metric), float(rates_from_cells(overall, metric))


def _check_method(method):
    if method not in _METHODS:
        raise ValueError(f"method must be one of {_METHODS}, got {method!r}.")


def difference(by_group, overall, method="between_groups"):
    """fairlearn's ``MetricFrame.difference`` of one metric: NaN groups are
    skipped, an all-NaN metric gives NaN."""
    _check_method(method)
    values = np.asarray(by_group, dtype="float64")
    values = values[~np.isnan(values)]
    if not len(values):
        return np.nan
    if method == "between_groups":
        return float(values.max() - values.min())
    return float(np.abs(values - overall).max())


def ratio(by_group, overall, method="between_groups"):
    """fairlearn's ``MetricFrame.ratio`` of one metric (always <= 1)."""
    _check_method(method)
    values = np.asarray(by_group, dtype="float64")
    values = values[~np.isnan(values)]
    if not len(values):
        return np.nan
    with np.errstate(invalid="ignore", divide="ignore"):
        if method == "between_groups":
            return float(values.min() / values.max())
        ratios = values / overall
        ratios = np.where(ratios > 1, 1 / ratios, ratios)
    ratios = ratios[~np.isnan(ratios)]
    return float(ratios.min()) if len(ratios) else np.nan


@validate_params(
    {
        "y_true": "no_validation",
        "y_pred": ["array-like", *LABEL],
        "pos_label": LABEL,
        "sample_weight": ["array-like", Real, None],
    },
    prefer_skip_nested_validation=True,
)
def selection_rate(y_true, y_pred, *, pos_label=1, sample_weight=None):
    """Fraction of predictions equal to the favourable label.

    Same signature and value as :func:`fairlearn.metrics.selection_rate`,
    scalar inputs included (a scalar is one sample).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or scalar
        True labels; ignored (not even their length is checked, as in
        fairlearn), kept for a uniform metric signature.

    y_pred : array-like of shape (n_samples,) or scalar
        Predicted labels.

    pos_label : int, float, bool or str, default=1
        The favourable label (a loan granted). With two labels or more in
        ``y_pred``, it must be one of them; it may be absent from a single
        label of its own kind (nothing selected). Otherwise a ValueError is
        raised, as scikit-learn's metrics do.

    sample_weight : array-like of shape (n_samples,) or float, default=None
        Sample weights: finite and non-negative (a ValueError otherwise).

    Returns
    -------
    rate : float
        The (weighted) share of ``y_pred`` equal to ``pos_label``, in [0, 1];
        NaN when the weights sum to 0.

    See Also
    --------
    demographic_parity_difference : Compare the selection rates of groups.
    fairlearn.metrics.selection_rate : The metric it equals.

    Examples
    --------
    >>> from mlpipe.fairness import selection_rate
    >>> selection_rate([0, 1, 1, 0], [1, 1, 0, 0])
    0.5
    >>> selection_rate(1, 1)
    1.0
    """
    y_pred = _as_1d(_one_sample_if_scalar(y_pred), "y_pred")
    if len(y_pred) == 0:
        raise ValueError("Empty y_pred passed to selection_rate: there is nothing to rate.")
    if sample_weight is not None:
        sample_weight = _one_sample_if_scalar(sample_weight)
    weights = check_weights(sample_weight, len(y_pred), of="y_pred")
    check_pos_label(pos_label, y_pred)
    with np.errstate(invalid="ignore", divide="ignore"):
        return float(np.dot(y_pred == pos_label, weights) / weights.sum())


_SIGNATURE_DOC = """
    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.

    y_pred : array-like of shape (n_samples,)
        Predicted labels.

    sensitive_features : array-like, DataFrame, dict, str or list of str
        Group membership of each sample: one 1-D array-like, several (a
        DataFrame, 2-D array or dict: intersectional groups), or column
        name(s) of ``X``. A scalar raises, as in fairlearn.

    method : {"between_groups", "to_overall"}, default="between_groups"
        Compare the groups with each other, or each group with the whole
        population (as :meth:`fairlearn.metrics.MetricFrame.difference`).

    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights: finite and non-negative (a ValueError otherwise).
"""

_SIGNATURE_DOC_END = """
    pos_label : int, float, bool or str, default=1
        The favourable label. It is an addition to fairlearn's signature,
        whose labels must be 0/1 or -1/1. As in scikit-learn's metrics, a
        ``pos_label`` that is not one of the labels raises a ValueError
        (text labels need e.g. ``pos_label="good"``).

    X : DataFrame, default=None
        Where column names in ``sensitive_features`` are looked up.
"""


def _doc(summary, returns, see_also, extra_params="", notes="", examples=""):
    """Write the docstring of a disparity metric: the shared parameters
    (``extra_params`` go after ``sample_weight``, in signature order), a
    ``value : float`` return described by ``returns``, and ``see_also``."""

    def decorate(func):
        func.__doc__ = (
            f"{summary}\n{_SIGNATURE_DOC}{extra_params}{_SIGNATURE_DOC_END}\n"
            "    Returns\n    -------\n    value : float\n"
            + textwrap.fill(returns, 79, initial_indent=" " * 8, subsequent_indent=" " * 8)
            + "\n\n"
            "    See Also\n    --------\n"
            + "".join(f"    {line}\n" for line in see_also)
            + f"{notes}{examples}"
        )
        return func

    return decorate


_NOTES_RATE = """
    Notes
    -----
    The value equals fairlearn's on the same inputs. Like fairlearn, a group
    with no positive (negative) true label has a true (false) positive rate
    of 0, not undefined; :func:`audit_fairness` flags such groups.
"""


@_doc(
    "Largest minus smallest selection rate across groups.\n\n"
    "    0 means every group is selected at the same rate (demographic parity).",
    returns="Between 0 and 1; NaN when no group has a selection rate.",
    see_also=[
        "demographic_parity_ratio : The same comparison as a ratio.",
        "selection_rate : The rate compared across groups.",
        "fairlearn.metrics.demographic_parity_difference : The metric it equals.",
    ],
    examples="""
    Examples
    --------
    >>> from mlpipe.fairness import demographic_parity_difference
    >>> demographic_parity_difference(
    ...     [1, 0, 1, 0], [1, 1, 1, 0], sensitive_features=["a", "a", "b", "b"])
    0.5
""",
)
@validate_params(_DISPARITY_CONSTRAINTS, prefer_skip_nested_validation=True)
def demographic_parity_difference(
    y_true,
    y_pred,
    *,
    sensitive_features,
    method="between_groups",
    sample_weight=None,
    pos_label=1,
    X=None,
):
    by_group, overall = _group_rates(
        "selection_rate", y_true, y_pred, sensitive_features, sample_weight, pos_label, X
    )
    return difference(by_group, overall, method)


@_doc(
    "Smallest over largest selection rate across groups.\n\n"
    "    1 means demographic parity; below 0.8 fails the four-fifths rule.",
    returns="Between 0 and 1; NaN when no group is selected at all (0/0).",
    see_also=[
        "demographic_parity_difference : The same comparison as a difference.",
        "disparate_impact_ratio : The ratio to a chosen privileged group.",
        "fairlearn.metrics.demographic_parity_ratio : The metric it equals.",
    ],
    examples="""
    Examples
    --------
    >>> from mlpipe.fairness import demographic_parity_ratio
    >>> demographic_parity_ratio(
    ...     [1, 0, 1, 0], [1, 1, 1, 0], sensitive_features=["a", "a", "b", "b"])
    0.5
""",
)
@validate_params(_DISPARITY_CONSTRAINTS, prefer_skip_nested_validation=True)
def demographic_parity_ratio(
    y_true,
    y_pred,
    *,
    sensitive_features,
    method="between_groups",
    sample_weight=None,
    pos_label=1,
    X=None,
):
    by_group, overall = _group_rates(
        "selection_rate", y_true, y_pred, sensitive_features, sample_weight, pos_label, X
    )
    return ratio(by_group, overall, method)


@_doc(
    "Largest minus smallest true positive rate across groups.\n\n"
    "    The true positive rate of a group is the share of its rows with the\n"
    "    favourable true label that are predicted favourable; 0 means every\n"
    "    group's qualified rows are selected at the same rate (equal opportunity).",
    returns="Between 0 and 1; NaN when no group has a true positive rate.",
    see_also=[
        "equal_opportunity_ratio : The same comparison as a ratio.",
        "equalized_odds_difference : Also compares the false positive rates.",
        "fairlearn.metrics.equal_opportunity_difference : The metric it equals.",
    ],
    notes=_NOTES_RATE,
    examples="""
    Examples
    --------
    >>> from mlpipe.fairness import equal_opportunity_difference
    >>> equal_opportunity_difference(
    ...     [1, 0, 1, 0, 1, 1], [1, 1, 1, 0, 0, 1],
    ...     sensitive_features=["a", "a", "a", "b", "b", "b"])
    0.5
""",
)
@validate_params(_DISPARITY_CONSTRAINTS, prefer_skip_nested_validation=True)
def equal_opportunity_difference(
    y_true,
    y_pred,
    *,
    sensitive_features,
    method="between_groups",
    sample_weight=None,
    pos_label=1,
    X=None,
):
    by_group, overall = _group_rates(
        "true_positive_rate",
        y_true,
        y_pred,
        sensitive_features,
        sample_weight,
        pos_label,
        X,
    )
    return difference(by_group, overall, method)


@_doc(
    "Smallest over largest true positive rate across groups.\n\n"
    "    The true positive rate of a group is the share of its rows with the\n"
    "    favourable true label that are predicted favourable; 1 means equal\n"
    "    opportunity.",
    returns="Between 0 and 1; NaN when no group has a positive true positive rate.",
    see_also=[
        "equal_opportunity_difference : The same comparison as a difference.",
        "equalized_odds_ratio : Also compares the false positive rates.",
        "fairlearn.metrics.equal_opportunity_ratio : The metric it equals.",
    ],
    notes=_NOTES_RATE,
    examples="""
    Examples
    --------
    >>> from mlpipe.fairness import equal_opportunity_ratio
    >>> equal_opportunity_ratio(
    ...     [1, 0, 1, 0, 1, 1], [1, 1, 1, 0, 0, 1],
    ...     sensitive_features=["a", "a", "a", "b", "b", "b"])
    0.5
""",
)
@validate_params(_DISPARITY_CONSTRAINTS, prefer_skip_nested_validation=True)
def equal_opportunity_ratio(
    y_true,
    y_pred,
    *,
    sensitive_features,
    method="between_groups",
    sample_weight=None,
    pos_label=1,
    X=None,
):
    by_group, overall = _group_rates(
        "true_positive_rate",
        y_true,
        y_pred,
        sensitive_features,
        sample_weight,
        pos_label,
        X,
    )
    return ratio(by_group, overall, method)


_AGG_DOC = """
    agg : {"worst_case", "mean"}, default="worst_case"
        Combine the true and false positive rate disparities by the worse of
        the two or by their mean.
"""


def _equalized_odds(
    kind, y_true, y_pred, sensitive_features, method, sample_weight, pos_label, X, agg
):
    y_true, y_pred, weights = check_targets(
        y_true, y_pred, sample_weight, pos_label=pos_label, binary=True
    )
    groups = make_groups(sensitive_features, len(y_true), X)
    cells = weighted_cells(groups.codes, groups.n_groups, y_true, y_pred, weights, pos_label)
    overall = {k: v.sum() for k, v in cells.items()}
    combine = difference if kind == "difference" else ratio
    values = [
        combine(rates_from_cells(cells, m), float(rates_from_cells(overall, m)), method)
        for m in ("true_positive_rate", "false_positive_rate")
    ]
    if agg == "mean":
        finite = [v for v in values if not np.isnan(v)]
        return float(np.mean(finite)) if finite else np.nan
    # Python's max/min over (tpr, fpr) in this order is what fairlearn does,
    # which decides the value when one of the two is undefined (NaN).
    return float(max(values) if kind == "difference" else min(values))


@_doc(
    "The larger of the true and false positive rate differences across groups.\n\n"
    "    0 means equalized odds: every group has the same true positive rate\n"
    '    and the same false positive rate. With ``agg="mean"`` the two\n'
    "    differences are averaged instead.",
    returns=(
        "Between 0 and 1; NaN when the true positive rate difference is undefined "
        '(with ``agg="mean"``, when both are).'
    ),
    see_also=[
        "equalized_odds_ratio : The same comparison as a ratio.",
        "equal_opportunity_difference : The true positive rate part alone.",
        "fairlearn.metrics.equalized_odds_difference : The metric it equals.",
    ],
    extra_params=_AGG_DOC,
    notes=_NOTES_RATE,
    examples="""
    Examples
    --------
    >>> from mlpipe.fairness import equalized_odds_difference
    >>> equalized_odds_difference(
    ...     [1, 0, 1, 0], [1, 1, 1, 0], sensitive_features=["a", "a", "b", "b"])
    1.0
""",
)
@validate_params(_ODDS_CONSTRAINTS, prefer_skip_nested_validation=True)
def equalized_odds_difference(
    y_true,
    y_pred,
    *,
    sensitive_features,
    method="between_groups",
    sample_weight=None,
    agg="worst_case",
    pos_label=1,
    X=None,
):
    return _equalized_odds(
        "difference",
        y_true,
        y_pred,
        sensitive_features,
        method,
        sample_weight,
        pos_label,
        X,
        agg,
    )


@_doc(
    "The smaller of the true and false positive rate ratios across groups.\n\n"
    "    1 means equalized odds: every group has the same true positive rate\n"
    '    and the same false positive rate. With ``agg="mean"`` the two\n'
    "    ratios are averaged instead.",
    returns=(
        "Between 0 and 1; NaN when the true positive rate ratio is undefined "
        '(with ``agg="mean"``, when both are).'
    ),
    see_also=[
        "equalized_odds_difference : The same comparison as a difference.",
        "equal_opportunity_ratio : The true positive rate part alone.",
        "fairlearn.metrics.equalized_odds_ratio : The metric it equals.",
    ],
    extra_params=_AGG_DOC,
    notes=_NOTES_RATE,
    examples="""
    Examples
    --------
    >>> from mlpipe.fairness import equalized_odds_ratio
    >>> y_true, y_pred = [1, 0, 1, 0, 1, 1], [1, 1, 1, 0, 0, 1]
    >>> groups = ["a", "a", "a", "b", "b", "b"]
    >>> equalized_odds_ratio(y_true, y_pred, sensitive_features=groups)
    0.0
    >>> equalized_odds_ratio(y_true, y_pred, sensitive_features=groups, agg="mean")
    0.25
""",
)
@validate_params(_ODDS_CONSTRAINTS, prefer_skip_nested_validation=True)
def equalized_odds_ratio(
    y_true,
    y_pred,
    *,
    sensitive_features,
    method="between_groups",
    sample_weight=None,
    agg="worst_case",
    pos_label=1,
    X=None,
):
    return _equalized_odds(
        "ratio",
        y_true,
        y_pred,
        sensitive_features,
        method,
        sample_weight,
        pos_label,
        X,
        agg,
    )


@validate_params(
    {**TARGET_CONSTRAINTS, "privileged_group": "no_validation"},
    prefer_skip_nested_validation=True,
)
def disparate_impact_ratio(
    y_true,
    y_pred,
    *,
    sensitive_features,
    privileged_group=None,
    sample_weight=None,
    pos_label=1,
    X=None,
):
    """Selection rate of the unprivileged over that of the privileged.

    Not in fairlearn; this is the measure behind the US "four-fifths rule"
    (a ratio below 0.8 is evidence of adverse impact) and aif360's
    ``disparate_impact``.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels; ignored, kept for a uniform metric signature.

    y_pred : array-like of shape (n_samples,)
        Predicted labels.

    sensitive_features : array-like, DataFrame, dict, str or list of str
        Group membership, as for :func:`demographic_parity_difference`.

    privileged_group : scalar or tuple, default=None
        The reference group (a tuple for intersectional groups). ``None``
        compares the least selected group with the most selected one, which
        equals :func:`demographic_parity_ratio`. Otherwise the selection rate
        of all other rows pooled is divided by the privileged group's, as
        aif360 does; the value may exceed 1.

    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights: finite and non-negative (a ValueError otherwise).

    pos_label : int, float, bool or str, default=1
        The favourable label; it must be one of the labels (a ValueError
        otherwise, as in scikit-learn's metrics).

    X : DataFrame, default=None
        Where column names in ``sensitive_features`` are looked up.

    Returns
    -------
    value : float
        The ratio of the selection rates; NaN when the reference rate is 0.

    See Also
    --------
    demographic_parity_ratio : The least over the most selected group.
    audit_fairness : Reports the four-fifths rule verdict with intervals.

    Examples
    --------
    >>> from mlpipe.fairness import disparate_impact_ratio
    >>> sex = ["f", "f", "f", "f", "m", "m", "m", "m"]
    >>> disparate_impact_ratio([0] * 8, [1, 0, 0, 0, 1, 1, 0, 0],
    ...                        sensitive_features=sex, privileged_group="m")
    0.5
    """
    y_true, y_pred, weights = check_targets(y_true, y_pred, sample_weight, pos_label=pos_label)
    groups = make_groups(sensitive_features, len(y_true), X)
    cells = weighted_cells(groups.codes, groups.n_groups, y_true, y_pred, weights, pos_label)
    if privileged_group is None:
        return ratio(rates_from_cells(cells, "selection_rate"), np.nan)
    if privileged_group not in groups.index:
        raise ValueError(
            f"privileged_group={privileged_group!r} is not one of the groups "
            f"{[group_label(groups.index, i) for i in range(groups.n_groups)][:10]}."
        )
    where = groups.index.get_loc(privileged_group)
    inside = np.zeros(groups.n_groups, dtype=bool)
    inside[where] = True
    with np.errstate(invalid="ignore", divide="ignore"):
        privileged = cells["sel"][inside].sum() / cells["n"][inside].sum()
        others = cells["sel"][~inside].sum() / cells["n"][~inside].sum()
        return float(others / privileged) if privileged > 0 else np.nan


def _resolve_metrics(metrics):
    if metrics is None:
        metrics = DEFAULT_METRICS
    if isinstance(metrics, str) or callable(metrics):
        metrics = [metrics]
    if isinstance(metrics, dict):
        items = list(metrics.items())
    else:
        items = []
        for m in metrics:
            name = m if isinstance(m, str) else getattr(m, "__name__", None)
            if name is None:
                raise ValueError(
                    f"metric {m!r} has no __name__; pass metrics as a dict {{name: callable}}."
                )
            items.append((name, m))
    for name, m in items:
        if isinstance(m, str) and m not in BUILTIN_METRICS:
            raise ValueError(
                f"unknown metric {m!r}; built-in metrics are {list(BUILTIN_METRICS)}, "
                "or pass any callable metric(y_true, y_pred) such as "
                "sklearn.metrics.recall_score."
            )
        if not isinstance(m, str) and not callable(m):
            raise TypeError(f"metric {name!r} must be a name or a callable, got {m!r}.")
    names = [n for n, _ in items]
    if len(set(names)) != len(names):
        raise ValueError(f"metric names must be unique, got {names}.")
    return items


def _call(metric, y_true, y_pred, weights, weighted, rows):
    kwargs = {"sample_weight": weights[rows]} if weighted else {}
    return metric(y_true[rows], y_pred[rows], **kwargs)


@dataclass
class GroupMetricTable(Report):
    """Metrics per sensitive group, returned by :func:`group_metrics`.

    A dataclass like :class:`fairlearn.metrics.MetricFrame`: the value of
    every metric in every group and on the whole population, with the
    per-metric extremes (:meth:`group_min`, :meth:`group_max`) and
    disparities (:meth:`difference`, :meth:`ratio`) computed as fairlearn
    computes them.

    Parameters
    ----------
    by_group : DataFrame
        One row per group (index: the group labels, a MultiIndex for
        intersectional groups), one column per metric. As in
        :class:`fairlearn.metrics.MetricFrame`, every combination of the
        sensitive features' values has a row; combinations with no sample
        hold NaN.

    overall : Series
        Each metric on the whole population.

    See Also
    --------
    group_metrics : Builds the table.
    FairnessReport : The audit with intervals and the four-fifths verdict.

    Examples
    --------
    >>> from mlpipe.fairness import group_metrics
    >>> table = group_metrics([1, 0, 1, 1], [1, 1, 0, 1],
    ...                       sensitive_features=["a", "a", "b", "b"],
    ...                       metrics=["selection_rate", "accuracy"])
    >>> table.to_frame()
      sensitive_feature_0  selection_rate  accuracy
    0                   a             1.0       0.5
    1                   b             0.5       0.5
    >>> table.overall.to_dict()
    {'selection_rate': 0.75, 'accuracy': 0.5}
    >>> table.difference().to_dict()
    {'selection_rate': 0.5, 'accuracy': 0.0}
    >>> table.summary()
    '2 group(s) of sensitive_feature_0; largest gap: selection_rate 0.500'
    """

    by_group: pd.DataFrame
    overall: pd.Series
    title = "Group metrics"

    def group_min(self):
        """Return the smallest value of each metric over the groups.

        Returns
        -------
        group_min : Series
            Indexed by metric name (numeric metrics only); groups with NaN
            are skipped.
        """
        return self.by_group.min(numeric_only=True)

    def group_max(self):
        """Return the largest value of each metric over the groups.

        Returns
        -------
        group_max : Series
            Indexed by metric name (numeric metrics only); groups with NaN
            are skipped.
        """
        return self.by_group.max(numeric_only=True)

    def difference(self, method="between_groups"):
        """Return the largest difference of each metric, as fairlearn computes it.

        Parameters
        ----------
        method : {"between_groups", "to_overall"}, default="between_groups"
            Compare the groups with each other (largest minus smallest), or
            each group with the whole population (largest absolute gap to
            ``overall``).

        Returns
        -------
        difference : Series
            Indexed by metric name (numeric metrics only), named
            ``"difference"``; NaN groups are skipped, and a metric NaN in
            every group gives NaN.
        """
        return pd.Series(
            {
                c: difference(self.by_group[c], self.overall[c], method)
                for c in self._numeric_columns()
            },
            name="difference",
        )

    def ratio(self, method="between_groups"):
        """Return the smallest ratio of each metric, as fairlearn computes it.

        Parameters
        ----------
        method : {"between_groups", "to_overall"}, default="between_groups"
            Compare the groups with each other (smallest over largest), or
            each group with the whole population (each group's value over
            ``overall``, inverted when above 1).

        Returns
        -------
        ratio : Series
            Indexed by metric name (numeric metrics only), named ``"ratio"``;
            every value is at most 1, NaN when undefined (0/0).
        """
        return pd.Series(
            {c: ratio(self.by_group[c], self.overall[c], method) for c in self._numeric_columns()},
            name="ratio",
        )

    def _numeric_columns(self):
        return [
            c
            for c in self.by_group.columns
            if pd.api.types.is_numeric_dtype(self.by_group[c].dtype)
        ]

    def to_frame(self):
        """Return the table as a tidy DataFrame.

        Returns
        -------
        frame : DataFrame
            One row per group: the group columns, then one column per
            metric.
        """
        return self.by_group.reset_index()

    def summary(self):
        """Return the groups and the largest gap in one line.

        Returns
        -------
        summary : str
            The number of groups (and of combinations without rows), and the
            metric with the largest between-group difference (``count``
            aside).
        """
        diffs = self.difference().drop(labels=["count"], errors="ignore").dropna()
        names = ", ".join(n for n in self.by_group.index.names if n is not None)
        n_groups = len(self.by_group.dropna(how="all"))
        text = f"{n_groups} group(s) of {names}"
        if n_groups < len(self.by_group):
            text += f" ({len(self.by_group) - n_groups} combination(s) without rows)"
        if len(diffs):
            worst = diffs.idxmax()
            text += f"; largest gap: {worst} {diffs[worst]:.3f}"
        return text


@validate_params(
    {**TARGET_CONSTRAINTS, "metrics": [str, callable, list, tuple, dict, None]},
    prefer_skip_nested_validation=True,
)
def group_metrics(
    y_true,
    y_pred,
    *,
    sensitive_features,
    metrics=None,
    X=None,
    sample_weight=None,
    pos_label=1,
):
    """Compute metrics for every sensitive group, with differences and ratios.

    The fast, array-in counterpart of :class:`fairlearn.metrics.MetricFrame`:
    built-in rates are computed for all groups at once from weighted counts;
    any other callable is called once per group.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.

    y_pred : array-like of shape (n_samples,)
        Predicted labels (or scores, for a callable metric that takes them).

    sensitive_features : array-like, DataFrame, dict, str or list of str
        Group membership: one 1-D array-like, several (a DataFrame, 2-D
        array or dict: intersectional groups), or column name(s) of ``X``.

    metrics : str, callable, list or dict, default=None
        Built-in names ({names}) or callables ``metric(y_true, y_pred)``,
        such as any function of :mod:`sklearn.metrics`; a dict names them.
        ``None`` means ``{default}``.

    X : DataFrame, default=None
        Where column names in ``sensitive_features`` are looked up.

    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights, finite and non-negative, passed to callables as
        ``sample_weight=``.

    pos_label : scalar, default=1
        The favourable label, for the built-in rates; when one of them
        depends on it, it must be one of the labels (a ValueError otherwise).

    Returns
    -------
    table : GroupMetricTable
        ``by_group`` and ``overall`` values, ``difference()``, ``ratio()``,
        ``to_frame()``.

    See Also
    --------
    fairlearn.metrics.MetricFrame : The fairlearn object it mirrors.
    audit_fairness : The standard rates with intervals and a verdict.

    Examples
    --------
    >>> from sklearn.metrics import recall_score
    >>> from mlpipe.fairness import group_metrics
    >>> table = group_metrics([1, 0, 1, 1], [1, 1, 0, 1],
    ...                       sensitive_features=["a", "a", "b", "b"],
    ...                       metrics=["selection_rate", recall_score])
    >>> table.to_frame()
      sensitive_feature_0  selection_rate  recall_score
    0                   a             1.0           1.0
    1                   b             0.5           0.5
    >>> float(table.difference()["selection_rate"])
    0.5
    """
    items = _resolve_metrics(metrics)
    builtin = {m for _, m in items if isinstance(m, str)}
    y_true, y_pred, weights = check_targets(
        y_true,
        y_pred,
        sample_weight,
        pos_label=pos_label,
        binary=bool(builtin & _BINARY_METRICS),
        rates=bool(builtin & _POS_LABEL_METRICS),
    )
    groups = make_groups(sensitive_features, len(y_true), X)
    by_group, overall = {}, {}
    cells = totals = None
    order = bounds = None
    for name, m in items:
        if isinstance(m, str):
            if cells is None:
                cells = weighted_cells(
                    groups.codes, groups.n_groups, y_true, y_pred, weights, pos_label
                )
                totals = {k: v.sum() for k, v in cells.items()}
            by_group[name] = rates_from_cells(cells, m)
            overall[name] = float(rates_from_cells(totals, m))
            if m == "count":
                by_group[name] = by_group[name].astype("int64")
                overall[name] = int(overall[name])
            continue
        if order is None:
            # One sort, then each group is a contiguous slice of it.
            order = np.argsort(groups.codes, kind="stable")
            bounds = np.concatenate([[0], np.cumsum(groups.counts())])
        by_group[name] = [
            _call(
                m,
                y_true,
                y_pred,
                weights,
                sample_weight is not None,
                order[bounds[g] : bounds[g + 1]],
            )
            for g in range(groups.n_groups)
        ]
        overall[name] = _call(m, y_true, y_pred, weights, sample_weight is not None, slice(None))
    frame = pd.DataFrame(by_group, index=groups.index)
    if isinstance(frame.index, pd.MultiIndex):
        # MetricFrame lists every combination of the sensitive features'
        # values, those without rows as NaN: so do we.
        frame = frame.reindex(
            pd.MultiIndex.from_product(frame.index.levels, names=frame.index.names)
        )
    return GroupMetricTable(by_group=frame, overall=pd.Series(overall))


group_metrics.__doc__ = group_metrics.__doc__.format(
    names=", ".join(f'``"{m}"``' for m in BUILTIN_METRICS),
    default=list(DEFAULT_METRICS),
)

__all__ = [
    "GroupMetricTable",
    "demographic_parity_difference",
    "demographic_parity_ratio",
    "disparate_impact_ratio",
    "equal_opportunity_difference",
    "equal_opportunity_ratio",
    "equalized_odds_difference",
    "equalized_odds_ratio",
    "group_metrics",
    "selection_rate",
]
