"""One-off checks of a data set before it is trusted for training:
data quality (check_data_quality) and train/test leakage (check_leakage)."""

import warnings
from dataclasses import dataclass, field
from numbers import Integral, Real

import numpy as np
import pandas as pd
from pandas.api import types as ptypes
from sklearn.metrics import balanced_accuracy_score, r2_score
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from mlpipe._report import Report
from mlpipe.utils._dataframe import CATEGORICAL, NUMERIC, as_frame, column_kind
from mlpipe.utils._scalar import python_scalar
from mlpipe.utils._sklearn_compat import Interval, validate_params

ERROR = "error"
WARNING = "warning"
INFO = "info"
_SEVERITY_ORDER = {ERROR: 0, WARNING: 1, INFO: 2}
_N_EXAMPLES = 3
_FRAME_COLUMNS = ["check", "column", "severity", "n_rows", "share", "value", "message", "rows"]


@dataclass(frozen=True)
class Finding:
    """One finding of :func:`check_data_quality` or :func:`check_leakage`.

    A frozen dataclass: one check that found something, with its severity,
    how many rows it concerns and a readable message. A
    :class:`DataQualityReport` holds the findings, most severe first, and
    shows them as the rows of :meth:`DataQualityReport.to_frame`.

    Parameters
    ----------
    check : str
        What was checked, e.g. ``"constant"``.
    column : str, int or None
        The column concerned; None for findings about whole rows.
    severity : {"error", "warning", "info"}
        ``"error"``: the data is wrong for training as it is;
        ``"warning"``: likely a problem, look at it; ``"info"``: worth knowing.
    n_rows : int
        Rows concerned.
    share : float
        ``n_rows`` over the rows checked.
    value : float
        The statistic behind the finding (a share, a count, a score).
    message : str
        What was found.
    rows : list
        Up to three row labels concerned.

    See Also
    --------
    DataQualityReport : The report that holds the findings.
    Failure : A failed check of a batch against a :class:`Schema`.

    Examples
    --------
    >>> import pandas as pd
    >>> from mlpipe.validation import check_data_quality
    >>> df = pd.DataFrame({"x": [0.1, 0.5, 0.3, 0.7], "k": [7, 7, 7, 7]})
    >>> finding = check_data_quality(df).findings[0]
    >>> finding.check, finding.column, finding.severity, finding.n_rows
    ('constant', 'k', 'warning', 4)
    >>> finding.message
    'holds one value only (7)'
    """

    check: str
    column: object
    severity: str
    n_rows: int
    share: float
    value: float
    message: str
    rows: list = field(default_factory=list)


@dataclass
class DataQualityReport(Report):
    """Findings about a data set, most severe first.

    Returned by :func:`check_data_quality` and :func:`check_leakage`.

    Parameters
    ----------
    findings : list of Finding
        Every finding.
    n_rows : int
        Rows checked.
    title : str, default="Data quality report"
        Shown above the table.

    See Also
    --------
    check_data_quality : Builds the report of a training frame.
    check_leakage : Builds the report of a train/test split.
    ValidationReport : The failures of a batch checked against a schema.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from mlpipe.validation import check_data_quality
    >>> df = pd.DataFrame({"id": [1, 2, 3, 4, 5, 5], "k": [1] * 6,
    ...                    "x": [0.1, 0.5, np.nan, 0.3, 0.9, 0.9]})
    >>> report = check_data_quality(df)
    >>> report.passed
    False
    >>> report.summary()
    '2 warning(s) in 6 row(s)'
    >>> report.to_frame()[["check", "column", "severity", "n_rows"]]
                check column severity  n_rows
    0  duplicate_rows   None  warning       1
    1        constant      k  warning       6
    """

    findings: list = field(default_factory=list)
    n_rows: int = 0
    title: str = "Data quality report"

    def __post_init__(self):
        self.findings = sorted(self.findings, key=lambda f: _SEVERITY_ORDER[f.severity])

    @property
    def passed(self):
        """Whether there is no finding of severity ``"error"`` or ``"warning"``."""
        return all(f.severity == INFO for f in self.findings)

    def to_frame(self):
        """One row per finding, most severe first.

        Returns
        -------
        frame : DataFrame
            Columns ``check``, ``column``, ``severity``, ``n_rows``,
            ``share``, ``value``, ``message`` and ``rows``.
        """
        frame = pd.DataFrame(
            {
                c: pd.Series([getattr(f, c) for f in self.findings], dtype=object)
                for c in _FRAME_COLUMNS
            }
        )
        frame["check"] = frame["check"].astype("str")
        frame["severity"] = frame["severity"].astype("str")
        frame["message"] = frame["message"].astype("str")
        frame["n_rows"] = frame["n_rows"].astype("int64")
        frame["share"] = frame["share"].astype("float64")
        frame["value"] = frame["value"].astype("float64")
        return frame

    def summary(self):
        """Return the counts of findings by severity in one line.

        Returns
        -------
        summary : str
            Such as ``"1 error(s), 2 warning(s) in 100 row(s)"``, or
            ``"no finding in 100 row(s)"``.
        """
        if not self.findings:
            return f"no finding in {self.n_rows} row(s)"
        counts = pd.Series([f.severity for f in self.findings]).value_counts()
        parts = [f"{counts[s]} {s}(s)" for s in (ERROR, WARNING, INFO) if s in counts]
        return ", ".join(parts) + f" in {self.n_rows} row(s)"

    def _plot(self, ax, **kwargs):
        labels = [
            f"{f.check} ({f.column})" if f.column is not None else f.check for f in self.findings
        ]
        ax.barh(np.arange(len(labels)), [f.share for f in self.findings], **kwargs)
        ax.set_yticks(np.arange(len(labels)), labels)
        ax.invert_yaxis()
        ax.set_xlabel("share of rows")
        ax.set_title(self.title)
        return ax


def _split_target(df, target, where="df", caller="check_data_quality"):
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"{where} must be a pandas DataFrame, got {type(df).__name__}.")
    # The shared input layer names repeated column labels (which would make
    # df[name] a frame) and complex columns before any check runs.
    df = as_frame(df, caller=caller, what=where)
    if target is None:
        return df, None
    if isinstance(target, str | int) and not isinstance(target, bool):
        if target not in df.columns:
            raise ValueError(
                f"target {target!r} is not a column of {where}; its columns are "
                f"{list(df.columns)[:10]}."
            )
        return df.drop(columns=target), df[target]
    values = target.to_numpy() if isinstance(target, pd.Series) else np.asarray(target)
    if values.ndim != 1 or len(values) != len(df):
        raise ValueError(
            f"target has {len(values)} value(s) but {where} has {len(df)} row(s); "
            "give a column name or one value per row."
        )
    y = pd.Series(values, index=df.index, name=getattr(target, "name", None) or "target")
    return df, y


def _rows(index, mask):
    return [python_scalar(v) for v in index[np.asarray(mask, dtype=bool)][:_N_EXAMPLES].tolist()]


def _is_classification(y):
    if not ptypes.is_numeric_dtype(y.dtype) or ptypes.is_bool_dtype(y.dtype):
        return True
    values = y.dropna()
    if ptypes.is_float_dtype(y.dtype) and not np.all(np.mod(values, 1) == 0):
        return False
    return values.nunique() <= 20


@validate_params(
    {
        "df": [pd.DataFrame],
        "target": [str, Integral, "array-like", None],
        "near_constant": [Interval(Real, 0, 1, closed="right")],
        "max_missing": [Interval(Real, 0, 1, closed="right")],
        "max_cardinality": [Interval(Real, 0, 1, closed="right")],
        "min_class_share": [Interval(Real, 0, 1, closed="both")],
    },
    prefer_skip_nested_validation=True,
)
def check_data_quality(
    df,
    target=None,
    *,
    near_constant=0.99,
    max_missing=0.5,
    max_cardinality=0.5,
    min_class_share=0.1,
):
    """Look for the problems that spoil a training set.

    ========================  ======================================  =========
    check                     finds                                   severity
    ========================  ======================================  =========
    ``duplicate_rows``        rows repeating an earlier row (target   warning
                              included)
    ``constant``              columns with one value only             warning
    ``near_constant``         columns whose top value covers at       info
                              least ``near_constant`` of the rows
    ``missing``               columns missing at least                warning
                              ``max_missing`` (all missing: error)
    ``high_cardinality``      text/categorical columns with more      warning
                              distinct values than
                              ``max_cardinality`` x rows (an ID?)
    ``mixed_types``           object columns mixing value types,      warning
                              e.g. text and numbers
    ``class_imbalance``       a class below ``min_class_share``       warning
                              (below a tenth of it: error)
    ``conflicting_labels``    identical feature rows with different   error
                              targets
    ========================  ======================================  =========

    Parameters
    ----------
    df : DataFrame of shape (n_samples, n_columns)
        The data, with or without the target column.

    target : str, int or array-like of shape (n_samples,), default=None
        The target: a column of ``df`` (excluded from the feature checks) or
        the values themselves. The last two checks need it; class imbalance
        applies to a classification target (text, boolean, or at most 20
        distinct whole numbers).

    near_constant : float, default=0.99
        Share of the top value (missing counts as a value) that makes a
        column near-constant.

    max_missing : float, default=0.5
        Share of missing values that makes a column worth a warning.

    max_cardinality : float, default=0.5
        Distinct values over non-missing rows that makes a categorical
        column high-cardinality.

    min_class_share : float, default=0.1
        Share below which a class is reported as rare.

    Returns
    -------
    report : DataQualityReport
        The findings, most severe first.

    Raises
    ------
    ValueError
        When ``df`` has repeated column names (each column is checked by
        name) or complex columns.

    See Also
    --------
    check_leakage : Look for ways a test split could flatter a model.
    SchemaValidator : Check every later batch against the training data.

    Examples
    --------
    >>> import pandas as pd
    >>> from mlpipe.validation import check_data_quality
    >>> df = pd.DataFrame({"x": [1, 1, 2, 2], "k": [7, 7, 7, 7], "y": [0, 1, 1, 1]})
    >>> check_data_quality(df, target="y").to_frame()[["check", "column", "severity"]]
                    check column severity
    0  conflicting_labels   None    error
    1      duplicate_rows   None  warning
    2            constant      k  warning
    """
    X, y = _split_target(df, target)
    n = len(X)
    findings = []

    if n:
        whole = X if y is None else X.assign(**{"__target__": y.to_numpy()})
        repeated = whole.duplicated(keep="first").to_numpy()
        if repeated.any():
            k = int(repeated.sum())
            findings.append(
                Finding(
                    "duplicate_rows",
                    None,
                    WARNING,
                    k,
                    k / n,
                    float(k),
                    f"{k} row(s) repeat an earlier row exactly",
                    _rows(X.index, repeated),
                )
            )

    for name in X.columns:
        s = X[name]
        findings.extend(_column_findings(name, s, n, near_constant, max_missing, max_cardinality))

    if y is not None and n:
        findings.extend(_target_findings(X, y, min_class_share))
    return DataQualityReport(findings=findings, n_rows=n)


def _column_findings(name, s, n, near_constant, max_missing, max_cardinality):
    if not n:
        return []
    out = []
    null = s.isna().to_numpy()
    n_null = int(null.sum())
    if n_null == n:
        return [
            Finding(
                "missing", name, ERROR, n, 1.0, 1.0, "every value is missing", _rows(s.index, null)
            )
        ]
    if n_null / n >= max_missing:
        out.append(
            Finding(
                "missing",
                name,
                WARNING,
                n_null,
                n_null / n,
                n_null / n,
                f"{n_null / n:.1%} of the values are missing",
                _rows(s.index, null),
            )
        )
    counts = s.value_counts(dropna=False, sort=True)
    counts = counts[counts > 0]
    if len(counts) == 1:
        out.append(
            Finding(
                "constant",
                name,
                WARNING,
                n,
                1.0,
                1.0,
                f"holds one value only ({python_scalar(counts.index[0])!r})",
            )
        )
    else:
        top = int(counts.iloc[0])
        if top / n >= near_constant:
            out.append(
                Finding(
                    "near_constant",
                    name,
                    INFO,
                    top,
                    top / n,
                    top / n,
                    f"{top / n:.1%} of the rows hold {python_scalar(counts.index[0])!r}",
                )
            )
    kind = column_kind(s)
    n_values = n - n_null
    if kind == CATEGORICAL:
        n_distinct = int(s.nunique(dropna=True))
        if n_distinct > 1 and n_distinct / n_values >= max_cardinality:
            out.append(
                Finding(
                    "high_cardinality",
                    name,
                    WARNING,
                    n_values,
                    n_values / n,
                    float(n_distinct),
                    f"{n_distinct} distinct values in {n_values} row(s): an identifier "
                    "or free text, not a category?",
                )
            )
    if ptypes.is_object_dtype(s.dtype):
        types = s[~null].map(_type_family)
        families = types.value_counts()
        if len(families) > 1:
            minority = ~types.eq(families.index[0]).to_numpy()
            mask = np.zeros(n, dtype=bool)
            mask[~null] = minority
            detail = ", ".join(f"{t}: {c}" for t, c in families.items())
            out.append(
                Finding(
                    "mixed_types",
                    name,
                    WARNING,
                    int(minority.sum()),
                    minority.sum() / n,
                    float(len(families)),
                    f"values of {len(families)} types in one column ({detail})",
                    _rows(s.index, mask),
                )
            )
    return out


def _type_family(value):
    """Numbers of any width are one type; so are text types."""
    if isinstance(value, bool | np.bool_):
        return "bool"
    if isinstance(value, int | float | np.integer | np.floating):
        return "number"
    if isinstance(value, str | bytes):
        return "text"
    return type(value).__name__


def _target_findings(X, y, min_class_share):
    n = len(X)
    out = []
    if _is_classification(y):
        counts = y.value_counts(dropna=True)
        counts = counts[counts > 0]
        if len(counts) > 1:
            for label, count in counts.items():
                share = count / n
                if share < min_class_share:
                    severity = ERROR if share < min_class_share / 10 else WARNING
                    out.append(
                        Finding(
                            "class_imbalance",
                            y.name,
                            severity,
                            int(count),
                            share,
                            share,
                            f"class {label!r} has {count} row(s) ({share:.1%})",
                            _rows(y.index, (y == label).to_numpy()),
                        )
                    )
    if X.shape[1]:
        keys = list(X.columns)
        frame = X.assign(__target__=y.to_numpy())
        n_labels = frame.groupby(keys, dropna=False, observed=True, sort=False)[
            "__target__"
        ].transform(lambda t: t.nunique(dropna=False))
        conflict = (n_labels > 1).to_numpy()
        if conflict.any():
            k = int(conflict.sum())
            out.append(
                Finding(
                    "conflicting_labels",
                    None,
                    ERROR,
                    k,
                    k / n,
                    float(k),
                    f"{k} row(s) share their feature values with a row of another target value",
                    _rows(X.index, conflict),
                )
            )
    return out


@validate_params(
    {
        "train": [pd.DataFrame],
        "test": [pd.DataFrame],
        "target": [str, Integral, "array-like", None],
        "threshold": [Interval(Real, 0, 1, closed="both")],
    },
    prefer_skip_nested_validation=True,
)
def check_leakage(train, test, target=None, *, threshold=0.95):
    """Look for ways the test split could flatter a model.

    - ``shared_rows`` (error): test rows whose feature values all equal those
      of a training row; a model scored on them is scored on what it has
      seen. Values are compared, not their dtypes or text: ``1`` equals
      ``1.0`` (an integer column that became float in one split), a
      category equals the same string, and a missing value matches a
      missing value, as :meth:`pandas.DataFrame.duplicated` counts them.
    - ``target_leak`` (error): a feature that alone predicts the target on
      the test split almost perfectly (a score of at least ``threshold``),
      as a feature computed from the target or recorded after it would. Each
      feature gets a small model fitted on the training split: a depth-4
      decision tree for a numeric feature, the majority class (or mean) per
      category for the others. The score is the balanced accuracy for a
      classification target and R^2 for a numeric one.

    Parameters
    ----------
    train, test : DataFrame
        The two splits, with the same feature columns.

    target : str or int, default=None
        The target column, present in both splits. Without it only shared
        rows are looked for.

    threshold : float, default=0.95
        The score from which a single feature counts as leaking.

    Returns
    -------
    report : DataQualityReport
        The findings; ``n_rows`` is the size of the test split.

    Raises
    ------
    ValueError
        When a split has repeated column names or complex columns, when the
        two splits have different feature columns, or when there is no
        feature column at all.

    See Also
    --------
    check_data_quality : Checks of one frame before training.
    sklearn.model_selection.train_test_split : Make the two splits.

    Examples
    --------
    >>> import pandas as pd
    >>> from mlpipe.validation import check_leakage
    >>> train = pd.DataFrame({"x": [1, 2, 3, 4], "y": [0, 1, 0, 1]})
    >>> test = pd.DataFrame({"x": [2, 5], "y": [1, 0]})
    >>> check_leakage(train, test).to_frame()[["check", "n_rows", "rows"]]
             check  n_rows rows
    0  shared_rows       1  [0]
    """
    if target is not None:
        for frame, where in ((train, "train"), (test, "test")):
            if target not in frame.columns:
                raise ValueError(
                    f"target {target!r} is not a column of {where}; its columns "
                    f"are {list(frame.columns)[:10]}."
                )
    X_train, y_train = _split_target(train, target, "train", "check_leakage")
    X_test, y_test = _split_target(test, target, "test", "check_leakage")
    if X_train.shape[1] == 0:
        raise ValueError(
            f"check_leakage needs at least one feature column, but train has none"
            f"{' besides the target ' + repr(target) if target is not None else ''} "
            f"(shape={train.shape}): there are no feature values to compare."
        )
    missing = [c for c in X_train.columns if c not in X_test.columns]
    extra = [c for c in X_test.columns if c not in X_train.columns]
    if missing or extra:
        raise ValueError(
            f"train and test must have the same feature columns; missing from "
            f"test: {missing[:5]}, not in train: {extra[:5]}."
        )
    X_test = X_test[list(X_train.columns)]
    n = len(X_test)
    findings = []
    if n and len(X_train):
        shared = _shared_rows(X_train, X_test)
        if shared.any():
            k = int(shared.sum())
            findings.append(
                Finding(
                    "shared_rows",
                    None,
                    ERROR,
                    k,
                    k / n,
                    float(k),
                    f"{k} test row(s) ({k / n:.1%}) also appear in the training split",
                    _rows(X_test.index, shared),
                )
            )
    if target is not None and n and len(X_train):
        findings.extend(_leaking_features(X_train, y_train, X_test, y_test, threshold))
    return DataQualityReport(findings=findings, n_rows=n, title="Leakage report")


def _shared_rows(X_train, X_test):
    """Whether each test row equals a training row, value by value.

    Values compare as Python's ``==`` does: ``1 == 1.0 == True``, the category
    ``"a"`` equals the string ``"a"``, the text ``"1"`` is not the number
    ``1``; a missing value (None, NaN, NaT, NA) matches a missing value, as
    :meth:`pandas.DataFrame.duplicated` counts them. Each column's values of
    both splits are coded together, then the codes of a row are folded into
    one row code: exact, no hash that could collide.
    """
    n_train = len(X_train)
    rows = np.zeros(n_train + len(X_test), dtype=np.int64)
    for col in X_train.columns:
        codes, n_codes = _value_codes(X_train[col], X_test[col])
        # rows < n and n_codes <= n, so this stays far from int64 overflow.
        rows, _ = pd.factorize(rows * (n_codes + 1) + (codes + 1))
    return np.isin(rows[n_train:], rows[:n_train])


def _value_codes(a, b):
    """Codes of the values of ``a`` then ``b`` (-1 for missing), equal codes
    for equal values whatever the two columns' dtypes."""
    if a.dtype == b.dtype and not isinstance(a.dtype, pd.CategoricalDtype):
        values = pd.concat([a, b], ignore_index=True)
    else:
        num_a, num_b = _as_float(a), _as_float(b)
        if num_a is not None and num_b is not None:
            values = np.concatenate([num_a, num_b])
        else:
            values = np.concatenate([a.astype(object).to_numpy(), b.astype(object).to_numpy()])
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    return np.asarray(codes, dtype=np.int64), len(uniques)


_EXACT_IN_FLOAT = 2**53


def _as_float(s):
    """A bool, integer or float column as float64 values (NaN for missing),
    or None when that would not keep every value exactly (large integers,
    object columns, non-numbers)."""
    dtype = s.dtype
    if not (ptypes.is_bool_dtype(dtype) or ptypes.is_numeric_dtype(dtype)):
        return None
    if ptypes.is_object_dtype(dtype) or ptypes.is_complex_dtype(dtype):
        return None
    if ptypes.is_integer_dtype(dtype) and len(s):
        present = s.dropna()
        if len(present) and max(abs(int(present.min())), abs(int(present.max()))) > _EXACT_IN_FLOAT:
            return None
    return s.to_numpy(dtype="float64", na_value=np.nan)


def _leaking_features(X_train, y_train, X_test, y_test, threshold):
    keep_train = y_train.notna().to_numpy()
    keep_test = y_test.notna().to_numpy()
    y_tr, y_te = y_train[keep_train], y_test[keep_test]
    if not len(y_tr) or not len(y_te):
        return []
    classification = _is_classification(y_tr)
    out = []
    for name in X_train.columns:
        x_tr = X_train[name][keep_train]
        x_te = X_test[name][keep_test]
        predicted = _single_feature_predictions(x_tr, y_tr, x_te, classification)
        if predicted is None:
            continue
        if classification:
            score = _balanced_accuracy(y_te.to_numpy(dtype=object), predicted)
            metric = "balanced accuracy"
        else:
            if len(y_te) < 2:
                continue
            score = r2_score(y_te.to_numpy(dtype=float), predicted.astype(float))
            metric = "R^2"
        if score >= threshold:
            out.append(
                Finding(
                    "target_leak",
                    name,
                    ERROR,
                    len(y_te),
                    1.0,
                    float(score),
                    f"alone predicts the target on the test split with {metric} "
                    f"{score:.3f}: is it computed from the target, or recorded after it?",
                )
            )
    return out


def _balanced_accuracy(y_true, y_pred):
    # Labels of any type (numbers in an object array included) as codes.
    codes, _ = pd.factorize(np.concatenate([y_true, np.asarray(y_pred, dtype=object)]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # a label only predicted
        return balanced_accuracy_score(codes[: len(y_true)], codes[len(y_true) :])


def _single_feature_predictions(x_tr, y_tr, x_te, classification):
    kind = column_kind(x_tr)
    if kind == NUMERIC or kind == "boolean":
        values_tr = x_tr.to_numpy(dtype="float64", na_value=np.nan).reshape(-1, 1)
        try:
            values_te = (
                pd.to_numeric(x_te.astype(object), errors="coerce")
                .to_numpy(dtype="float64")
                .reshape(-1, 1)
            )
        except (TypeError, ValueError):
            return None
        if not np.isfinite(values_tr[~np.isnan(values_tr)]).all():
            return None
        model = (DecisionTreeClassifier if classification else DecisionTreeRegressor)(
            max_depth=4, random_state=0
        )
        if classification:
            codes, labels = pd.factorize(y_tr.to_numpy(dtype=object))
            model.fit(values_tr, codes)
        else:
            model.fit(values_tr, y_tr.to_numpy(dtype=float))
        values_te = np.where(np.isinf(values_te), np.nan, values_te)
        predicted = model.predict(values_te)
        if classification:
            return np.asarray(labels, dtype=object)[predicted.astype(int)]
        return predicted
    if kind == CATEGORICAL or kind == "datetime":
        keys_tr = x_tr.astype(object).where(x_tr.notna(), "__missing__")
        keys_te = x_te.astype(object).where(x_te.notna(), "__missing__")
        if classification:
            frame = pd.DataFrame({"k": keys_tr.to_numpy(), "y": y_tr.astype(object).to_numpy()})
            counts = frame.groupby(["k", "y"], sort=True).size()
            best = counts.groupby(level=0).idxmax().map(lambda kv: kv[1])
            fallback = y_tr.astype(object).mode().iloc[0]
        else:
            frame = pd.DataFrame({"k": keys_tr.to_numpy(), "y": y_tr.to_numpy(dtype=float)})
            best = frame.groupby("k")["y"].mean()
            fallback = float(y_tr.mean())
        mapping = dict(zip(best.index, best.to_numpy(), strict=True))
        return np.array([mapping.get(k, fallback) for k in keys_te], dtype=object)
    return None
