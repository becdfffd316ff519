"""The population stability index, and PSIDrift."""

import itertools
from numbers import Integral, Real

import numpy as np

from mlpipe.drift import _kernels
from mlpipe.drift._base import (
    BOOLEAN,
    CATEGORICAL,
    _BaseDrift,
    encode,
    numeric_columns,
    reference_categories,
    run_threads,
)
from mlpipe.utils._sklearn_compat import Interval, StrOptions

_CATEGORICAL_KINDS = (BOOLEAN, CATEGORICAL)
# below this many values, one thread is faster than handing work out
_MIN_PARALLEL_VALUES = 200_000


def psi_value(ref_counts, batch_counts, eps):
    """PSI = sum (q - p) ln(q / p) over bins, p and q the reference and batch
    shares of non-missing values, each floored at ``eps``."""
    p = np.asarray(ref_counts, dtype=np.float64)
    q = np.asarray(batch_counts, dtype=np.float64)
    p = np.maximum(p / max(p.sum(), 1.0), eps)
    q = np.maximum(q / max(q.sum(), 1.0), eps)
    return float(np.sum((q - p) * np.log(q / p)))


def bin_edges(values, n_bins, binning):
    """Inner bin edges from the reference values (NaN and infinities left out
    of the edges; the outer bins are open, so they still hold them)."""
    v = values[~np.isnan(values)]
    v = v[np.isfinite(v)]
    if v.size == 0:
        return np.empty(0)
    if binning == "quantile":
        edges = np.quantile(v, np.linspace(0, 1, n_bins + 1)[1:-1])
    else:
        edges = np.linspace(v.min(), v.max(), n_bins + 1)[1:-1]
    return np.unique(edges[np.isfinite(edges)])


def edge_block(edge_list):
    width = max((len(e) for e in edge_list), default=0)
    block = np.zeros((len(edge_list), max(width, 1)))
    n_edges = np.zeros(len(edge_list), dtype=np.int64)
    for f, e in enumerate(edge_list):
        block[f, : len(e)] = e
        n_edges[f] = len(e)
    return block, n_edges


def value_block(columns, n_rows):
    block = np.empty((len(columns), n_rows))
    for f, col in enumerate(columns):
        block[f] = col
    return block


def count_bins(values_list, edge_list, n_rows, threads=1):
    """Counts per bin of each numeric column (kernel ``bin_counts_one``, one
    column at a time, the columns shared among ``threads`` threads); returns
    a list of (counts over the bins, missing count)."""
    k = len(values_list)
    if k == 0:
        return []
    # everything Python-side is prepared here, so that the workers only call
    # the kernel (which releases the GIL) and do not wait for each other
    values = [np.ascontiguousarray(v, dtype=np.float64) for v in values_list]
    edges = [np.ascontiguousarray(e, dtype=np.float64) for e in edge_list]
    sizes = [len(e) for e in edges]
    out = np.zeros((k, max(sizes) + 2), dtype=np.int64)
    rows = list(out)

    def work(t, workers):
        for f in range(t, k, workers):
            _kernels.bin_counts_one(values[f], edges[f], sizes[f], rows[f])

    big = k * n_rows >= _MIN_PARALLEL_VALUES
    run_threads(work, min(threads, k) if big else 1)
    return [(out[f, : sizes[f] + 1], int(out[f, -1])) for f in range(k)]


def fit(ref, X, settings, threads):
    numeric = [
        c for c in ref.columns if ref.tests[c] == "psi" and ref.kinds[c] not in _CATEGORICAL_KINDS
    ]
    values = numeric_columns(X, numeric)
    edges = [bin_edges(v, settings["n_bins"], settings["binning"]) for v in values]
    binned = count_bins(values, edges, len(X), threads)
    for col, e, (counts, _) in zip(numeric, edges, binned, strict=False):
        ref.psi_numeric[col] = (e, counts)
    for col in ref.columns:
        if ref.tests[col] == "psi" and ref.kinds[col] in _CATEGORICAL_KINDS:
            fit_categories(ref, col, X[col])


def fit_categories(ref, col, series):
    cats = reference_categories(series)
    codes, _ = encode(series, cats)
    ref.categories[col] = cats
    ref.category_counts[col] = np.bincount(codes[codes >= 0], minlength=len(cats)).astype(np.int64)


def count_categories(ref, col, series):
    """Batch counts over the reference categories plus an "unseen" bucket."""
    cats = ref.categories[col]
    codes, unseen = encode(series, cats)
    counts = _kernels.code_counts_one(np.ascontiguousarray(codes, dtype=np.int64), len(cats) + 1)
    return counts[: len(cats) + 1], unseen


def unseen_note(unseen):
    if not unseen:
        return ""
    shown = ", ".join(f"{k!r}: {v}" for k, v in list(unseen.items())[:5])
    more = f", ... ({len(unseen) - 5} more)" if len(unseen) > 5 else ""
    return f"{len(unseen)} unseen categor{'y' if len(unseen) == 1 else 'ies'} ({shown}{more})"


def score(ref, X, settings, distributions, threads=1):
    rows = {}
    numeric = list(ref.psi_numeric)
    values = numeric_columns(X, numeric)
    edges = [ref.psi_numeric[c][0] for c in numeric]
    binned = count_bins(values, edges, len(X), threads)
    for col, (counts, _), e in zip(numeric, binned, edges, strict=False):
        ref_counts = ref.psi_numeric[col][1]
        rows[col] = _row(col, ref_counts, counts, settings, "")
        distributions[col] = {
            "kind": "bars",
            "labels": _bin_labels(e),
            "reference": ref_counts / max(ref_counts.sum(), 1),
            "batch": counts / max(counts.sum(), 1),
        }
    for col in ref.columns:
        if ref.tests[col] != "psi" or col in ref.psi_numeric:
            continue
        counts, unseen = count_categories(ref, col, X[col])
        ref_counts = np.append(ref.category_counts[col], 0)
        rows[col] = _row(col, ref_counts, counts, settings, unseen_note(unseen))
        distributions[col] = categorical_distribution(ref, col, ref_counts, counts, unseen)
    return rows


def categorical_distribution(ref, col, ref_counts, counts, unseen):
    labels = list(ref.categories[col])
    r = ref_counts[: len(labels)]
    b = counts[: len(labels)]
    if unseen:
        labels.append("(unseen)")
        r = np.append(r, 0)
        b = np.append(b, counts[len(ref.categories[col])])
    return {
        "kind": "bars",
        "labels": labels,
        "reference": r / max(r.sum(), 1),
        "batch": b / max(b.sum(), 1),
    }


def _bin_labels(edges):
    if len(edges) == 0:
        return ["all"]
    fmt = "{:.3g}".format
    labels = [f"<{fmt(edges[0])}"]
    labels += [f"{fmt(a)}-{fmt(b)}" for a, b in itertools.pairwise(edges)]
    labels.append(f">={fmt(edges[-1])}")
    return labels


def _row(col, ref_counts, counts, settings, note):
    nr, nb = int(ref_counts.sum()), int(counts.sum())
    value = psi_value(ref_counts, counts, settings["eps"]) if nr and nb else np.nan
    return {
        "feature": col,
        "test": "psi",
        "statistic": value,
        "p_value": np.nan,
        "effect_size": value,
        "effect_threshold": settings["psi_threshold"],
        "n_reference": nr,
        "n_batch": nb,
        "note": note,
    }


class PSIDrift(_BaseDrift):
    """Population stability index of every column.

    Numeric columns are cut into ``n_bins`` bins at the reference quantiles
    (or equal widths), categorical ones count each reference category plus an
    "unseen" bucket. The reference keeps only the bin edges and counts. Each
    batch is binned by a numba kernel, in parallel over columns.

    ``PSI = sum_b (q_b - p_b) ln(q_b / p_b)`` with ``p`` and ``q`` the
    reference and batch shares of the non-missing values, each floored at
    ``eps``. Common reading: below 0.1 stable, 0.1-0.2 a moderate shift,
    above 0.2 a significant one. PSI has no p-value.

    Parameters
    ----------
    columns : list, default=None
        The columns to watch, by name (by position for arrays); the others
        are checked for presence at score time but not tested. None watches
        every column.

    threshold : float, default=0.2
        PSI at or above which a column drifted.

    n_bins : int, default=10
        Bins of numeric columns (fewer when the reference quantiles repeat).

    binning : {"quantile", "uniform"}, default="quantile"
        Edges at reference quantiles, or equally spaced between the reference
        minimum and maximum.

    eps : float, default=1e-4
        Floor of the share of an empty bin, so that the logarithm stays
        finite.

    missing_threshold : float, default=0.05
        Smallest change in a column's missing-value rate reported as drift.

    alpha : float, default=0.05
        Significance level of the missing-rate tests.

    correction : {"bh", "bonferroni"} or None, default="bh"
        Correction across the missing-rate tests.

    drift_share : float or None, default=None
        The batch drifted when at least this share of the columns drifted;
        None means any drifted column.

    Attributes
    ----------
    reference_ : DriftReference
        Bin edges and counts (numeric), categories and counts (categorical).

    tests_ : dict
        ``{column: "psi"}``.

    kinds_ : dict
        The kind of each column at fit.

    n_features_in_ : int
        Number of features seen during fit.

    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when they are all strings.

    See Also
    --------
    DriftDetector : Picks the test of each column from its dtype.

    Notes
    -----
    A value equal to an edge falls in the bin above it; infinite values fall
    in the outer bins. Missing values are left out of the shares and compared
    as a missing-rate test.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from mlpipe.drift import PSIDrift
    >>> rng = np.random.default_rng(0)
    >>> ref = pd.DataFrame({"x": rng.normal(size=2000)})
    >>> batch = pd.DataFrame({"x": rng.normal(1.0, 1.0, size=1000)})
    >>> report = PSIDrift().fit(ref).score(batch)
    >>> bool(report.drift), round(float(report.to_frame()["statistic"][0]), 2)
    (True, 0.96)
    """

    _single_test = "psi"
    _parameter_constraints = {
        "columns": ["array-like", None],
        "threshold": [Interval(Real, 0, None, closed="left")],
        "n_bins": [Interval(Integral, 2, None, closed="left")],
        "binning": [StrOptions({"quantile", "uniform"})],
        "eps": [Interval(Real, 0, 1, closed="neither")],
        "missing_threshold": [Interval(Real, 0, 1, closed="both")],
        "alpha": [Interval(Real, 0, 1, closed="neither")],
        "correction": [StrOptions({"bh", "bonferroni"}), None],
        "drift_share": [Interval(Real, 0, 1, closed="right"), None],
    }

    def __init__(
        self,
        *,
        columns=None,
        threshold=0.2,
        n_bins=10,
        binning="quantile",
        eps=1e-4,
        missing_threshold=0.05,
        alpha=0.05,
        correction="bh",
        drift_share=None,
    ):
        self.columns = columns
        self.threshold = threshold
        self.n_bins = n_bins
        self.binning = binning
        self.eps = eps
        self.missing_threshold = missing_threshold
        self.alpha = alpha
        self.correction = correction
        self.drift_share = drift_share
