"""check_bias: data-level fairness checks before any model is trained."""

from dataclasses import dataclass, field
from numbers import Integral, Real

import numpy as np
import pandas as pd
from scipy.stats import chi2_contingency
from sklearn.utils import check_random_state

from mlpipe._report import Report
from mlpipe.fairness._groups import group_label, make_groups, sensitive_columns
from mlpipe.fairness._metrics import LABEL, SENSITIVE_FEATURES, _as_1d, check_pos_label
from mlpipe.utils._dataframe import BOOLEAN, CATEGORICAL, NUMERIC, as_frame, column_kind
from mlpipe.utils._sklearn_compat import Interval, validate_params


def _discretize(series, n_bins):
    """Integer codes of a column: quantile bins for numbers, the values for
    the rest; missing values are a code of their own (never dropped)."""
    kind = column_kind(series)
    if kind == NUMERIC and series.nunique(dropna=True) > n_bins:
        values = series.astype("float64")
        binned = pd.qcut(values, q=n_bins, duplicates="drop", labels=False)
        codes = binned.to_numpy(dtype="float64", na_value=np.nan)
    else:
        codes, _ = pd.factorize(series.astype(object), use_na_sentinel=True)
        codes = np.where(codes < 0, np.nan, codes).astype("float64")
    missing = np.isnan(codes)
    codes = np.where(missing, np.nanmax(codes, initial=-1) + 1, codes)
    return codes.astype(np.int64), kind


def _entropy(counts):
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log(p)).sum())


def _mutual_information(a, b, n_a, n_b):
    """Mutual information (nats) of two code arrays, from their contingency table."""
    table = np.bincount(a * n_b + b, minlength=n_a * n_b).reshape(n_a, n_b).astype(float)
    return _entropy(table.sum(1)) + _entropy(table.sum(0)) - _entropy(table.ravel())


@dataclass
class BiasReport(Report):
    """The result of :func:`check_bias`.

    A dataclass holding the representation and base rate of every sensitive
    group, the class balance, and how much each other column reveals of the
    groups (a proxy). ``findings`` lists every check with its value,
    threshold and flag; read it with :meth:`to_frame` and :meth:`summary`.

    Parameters
    ----------
    groups : DataFrame
        One row per sensitive group: ``size``, ``share`` and (with ``y``)
        ``base_rate``, the share of the favourable label, and
        ``base_rate_ratio``, that over the highest group's.

    proxies : DataFrame
        One row per other column: its ``kind``, ``mutual_information``
        with the sensitive groups (nats), ``uncertainty_coefficient`` (the
        share of the groups' entropy it explains, 0 to 1), the same under
        shuffled groups (``chance_level``), and ``is_proxy``.

    class_balance : Series
        Share of each class of ``y`` (empty without ``y``).

    base_rate_pvalue : float
        The p-value of the chi-square test that the label is independent of the
        group (NaN without ``y``).

    findings : DataFrame
        Every check with ``value``, ``threshold`` and ``flagged``.

    See Also
    --------
    check_bias : Builds the report.
    FairnessReport : The audit of a model's decisions, once there is one.

    Examples
    --------
    >>> from mlpipe.datasets import load_credit
    >>> from mlpipe.fairness import check_bias
    >>> X, y = load_credit(return_X_y=True)
    >>> report = check_bias(X, y, sensitive_features="sex")
    >>> report.class_balance.round(3).to_dict()
    {0: 0.3, 1: 0.7}
    >>> round(report.base_rate_pvalue, 3)
    0.017
    >>> report.to_frame()[["check", "subject", "flagged"]].head(3)
                check subject  flagged
    0  representation  female    False
    1  representation    male    False
    2       base_rate  female    False
    >>> report.summary()
    'no issue found'
    """

    groups: pd.DataFrame
    proxies: pd.DataFrame
    class_balance: pd.Series
    base_rate_pvalue: float
    findings: pd.DataFrame = field(default_factory=pd.DataFrame)
    title = "Data bias checks"

    def to_frame(self, kind="findings"):
        """Return the report as a tidy DataFrame.

        Parameters
        ----------
        kind : {"findings", "groups", "proxies"}, default="findings"
            Every check with its value, threshold and flag; the per-group
            table; or the proxy table.

        Returns
        -------
        frame : DataFrame
            A new frame: a copy of ``findings``, or ``groups`` or ``proxies``
            with their index (the groups, or the column) as columns.

        Raises
        ------
        ValueError
            If ``kind`` is not one of the three.
        """
        if kind == "findings":
            return self.findings.copy()
        if kind == "groups":
            return self.groups.reset_index()
        if kind == "proxies":
            return self.proxies.reset_index()
        raise ValueError(f"kind must be 'findings', 'groups' or 'proxies', got {kind!r}.")

    def summary(self):
        """Return the flagged checks in one line.

        Returns
        -------
        summary : str
            ``"no issue found"``, or the number of flagged checks followed by
            each one's check and subject (``"proxy age"``).
        """
        flagged = self.findings[self.findings["flagged"]]
        if not len(flagged):
            return "no issue found"
        parts = [f"{c} {s}" for c, s in zip(flagged["check"], flagged["subject"], strict=True)]
        return f"{len(flagged)} issue(s): " + "; ".join(parts)

    def __str__(self):
        with pd.option_context("display.width", 200, "display.max_columns", 30):
            return "\n".join(
                [
                    f"{self.title}: {self.summary()}",
                    "",
                    self.findings.to_string(index=False, float_format="{:.3f}".format),
                ]
            )


@validate_params(
    {
        # A sparse X passes validation to be refused by as_frame, which
        # says what to do with it.
        "X": ["array-like", "sparse matrix"],
        "y": ["array-like", None],
        "sensitive_features": SENSITIVE_FEATURES,
        "pos_label": LABEL,
        "min_group_size": [Interval(Integral, 0, None, closed="left")],
        "min_group_share": [Interval(Real, 0, 1, closed="both")],
        "min_class_share": [Interval(Real, 0, 1, closed="both")],
        "base_rate_ratio": [Interval(Real, 0, 1, closed="both")],
        "proxy_threshold": [Interval(Real, 0, 1, closed="both")],
        "n_bins": [Interval(Integral, 2, None, closed="left")],
        "n_permutations": [Interval(Integral, 0, None, closed="left")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def check_bias(
    X,
    y=None,
    *,
    sensitive_features,
    pos_label=1,
    min_group_size=30,
    min_group_share=0.05,
    min_class_share=0.2,
    base_rate_ratio=0.8,
    proxy_threshold=0.1,
    n_bins=10,
    n_permutations=20,
    random_state=0,
):
    """Check training data for bias before a model is fitted.

    Four checks: group representation (is every group large enough), the
    label's base rate per group (is the favourable outcome already unequal
    in the data), class imbalance, and proxy features (columns that carry
    information about the sensitive groups, so dropping the sensitive
    column does not remove it from the model).

    Parameters
    ----------
    X : {array-like, DataFrame} of shape (n_samples, n_features)
        The features; every column other than the sensitive ones is checked
        as a proxy. Column names must be unique; a sparse matrix raises a
        TypeError (the checks need each column's dtype: densify it first).

    y : array-like of shape (n_samples,), default=None
        The labels; without them the base rate and class checks are skipped.

    sensitive_features : array-like, DataFrame, dict, str or list of str
        Group membership: column name(s) of ``X`` (then excluded from the
        proxy check) or arrays.

    pos_label : int, float, bool or str, default=1
        The favourable label; it must be one of the labels of ``y`` (a
        ValueError otherwise, as in scikit-learn's metrics).

    min_group_size : int, default=30
        A group with fewer rows is flagged as under-represented.

    min_group_share : float, default=0.05
        A group with a smaller share of the rows is flagged too.

    min_class_share : float, default=0.2
        A class with a smaller share of ``y`` is flagged as imbalanced.

    base_rate_ratio : float, default=0.8
        A group whose base rate is below this fraction of the highest
        group's is flagged (the four-fifths rule, applied to the labels).

    proxy_threshold : float, default=0.1
        A column whose uncertainty coefficient exceeds its chance level by
        more than this is flagged as a proxy.

    n_bins : int, default=10
        Numeric columns with more distinct values are cut into this many
        (at least 2) quantile bins for the mutual information.

    n_permutations : int, default=20
        Shuffles of the groups that measure each column's chance level
        (mutual information is biased upwards for columns with many values);
        0 takes the chance level as 0.

    random_state : int, RandomState instance or None, default=0
        Seed of the shuffles.

    Returns
    -------
    report : BiasReport
        ``to_frame()`` lists every check with its value, threshold and
        flag; ``groups`` and ``proxies`` hold the details.

    See Also
    --------
    audit_fairness : Audit a trained model's decisions instead of the data.
    ReweighingClassifier : Mitigate a base rate gap by reweighing the rows.

    Notes
    -----
    The uncertainty coefficient of a column C for the groups S is
    ``I(S; C) / H(S)``: 0 when C says nothing about S, 1 when it
    determines S. Missing values are a category of their own.

    Examples
    --------
    >>> from mlpipe.datasets import load_credit
    >>> from mlpipe.fairness import check_bias
    >>> X, y = load_credit(return_X_y=True)
    >>> report = check_bias(X, y, sensitive_features="sex")
    >>> report.groups["base_rate"].round(3).to_dict()
    {'female': 0.648, 'male': 0.723}
    >>> bool(report.proxies["is_proxy"].any())
    False
    """
    frame = as_frame(X, caller="check_bias")
    n = len(frame)
    if n == 0:
        raise ValueError("check_bias got 0 samples: there is nothing to check.")
    groups = make_groups(sensitive_features, n, frame)
    by_name = isinstance(sensitive_features, str) or (
        isinstance(sensitive_features, (list, tuple))
        and all(isinstance(s, str) and s in frame.columns for s in sensitive_features)
    )
    sensitive_names = {name for name, _ in sensitive_columns(sensitive_features, frame)}
    size = groups.counts()
    table = pd.DataFrame({"size": size, "share": size / n}, index=groups.index)
    findings = []

    def add(check, subject, value, threshold, flagged):
        findings.append(
            {
                "check": check,
                "subject": subject,
                "value": float(value),
                "threshold": float(threshold),
                "flagged": bool(flagged),
            }
        )

    for g in range(groups.n_groups):
        label = group_label(groups.index, g)
        small = size[g] < min_group_size or size[g] / n < min_group_share
        add("representation", label, size[g] / n, min_group_share, small)

    pvalue = np.nan
    balance = pd.Series(dtype="float64", name="share")
    if y is not None:
        y = _as_1d(y, "y")
        if len(y) != n:
            raise ValueError(f"y has {len(y)} value(s) but X has {n} rows.")
        if pd.isna(pd.Series(y)).any():
            raise ValueError("y has missing values; a label is needed for every row.")
        check_pos_label(pos_label, y)
        positive = y == pos_label
        rates = np.bincount(groups.codes, weights=positive, minlength=groups.n_groups) / size
        table["base_rate"] = rates
        with np.errstate(invalid="ignore", divide="ignore"):
            table["base_rate_ratio"] = rates / rates.max()
        for g in range(groups.n_groups):
            ratio = table["base_rate_ratio"].iloc[g]
            add(
                "base_rate",
                group_label(groups.index, g),
                ratio,
                base_rate_ratio,
                ratio < base_rate_ratio,
            )
        contingency = np.column_stack(
            [
                np.bincount(groups.codes, weights=~positive, minlength=groups.n_groups),
                np.bincount(groups.codes, weights=positive, minlength=groups.n_groups),
            ]
        )
        contingency = contingency[:, contingency.sum(0) > 0]
        if groups.n_groups > 1 and contingency.shape[1] == 2:
            pvalue = float(chi2_contingency(contingency, correction=False).pvalue)
        labels, counts = np.unique(y, return_counts=True)
        balance = pd.Series(counts / n, index=labels, name="share")
        for label, share in balance.items():
            add("class_balance", str(label), share, min_class_share, share < min_class_share)

    rng = check_random_state(random_state)
    h_groups = _entropy(size.astype(float))
    shuffles = [rng.permutation(groups.codes) for _ in range(n_permutations)]
    rows = []
    for col in frame.columns:
        if by_name and col in sensitive_names:
            continue
        codes, kind = _discretize(frame[col], n_bins)
        n_codes = int(codes.max()) + 1
        mi = _mutual_information(groups.codes, codes, groups.n_groups, n_codes)
        chance = (
            np.mean([_mutual_information(s, codes, groups.n_groups, n_codes) for s in shuffles])
            if shuffles
            else 0.0
        )
        u = mi / h_groups if h_groups > 0 else 0.0
        u_chance = chance / h_groups if h_groups > 0 else 0.0
        is_proxy = u - u_chance > proxy_threshold
        rows.append(
            {
                "column": col,
                "kind": kind if kind in (NUMERIC, CATEGORICAL, BOOLEAN) else "other",
                "mutual_information": mi,
                "uncertainty_coefficient": u,
                "chance_level": u_chance,
                "is_proxy": bool(is_proxy),
            }
        )
        add("proxy", str(col), u - u_chance, proxy_threshold, is_proxy)
    proxies = pd.DataFrame(
        rows,
        columns=[
            "column",
            "kind",
            "mutual_information",
            "uncertainty_coefficient",
            "chance_level",
            "is_proxy",
        ],
    ).set_index("column")
    return BiasReport(
        groups=table,
        proxies=proxies,
        class_balance=balance,
        base_rate_pvalue=pvalue,
        findings=pd.DataFrame(
            findings, columns=["check", "subject", "value", "threshold", "flagged"]
        ),
    )
