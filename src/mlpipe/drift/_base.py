"""What every drift detector shares: column handling, the compact reference,
multiple-testing correction and the assembly of the report."""

import os
import threading
from collections.abc import Hashable
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field

import numba
import numpy as np
import pandas as pd
from pandas.api import types as ptypes
from sklearn.base import BaseEstimator

from mlpipe._config import get_config
from mlpipe.drift._report import DriftReport
from mlpipe.utils._dataframe import (
    BOOLEAN,
    CATEGORICAL,
    DATETIME,
    NUMERIC,
    OTHER,
    check_frame,
    check_kinds,
    column_kind,
)
from mlpipe.utils._sklearn_compat import check_is_fitted

TESTS = ("ks", "psi", "chi2")
# Which kinds each test can compare.
TEST_KINDS = {
    "ks": (NUMERIC, DATETIME, BOOLEAN),
    "psi": (NUMERIC, DATETIME, BOOLEAN, CATEGORICAL),
    "chi2": (NUMERIC, DATETIME, BOOLEAN, CATEGORICAL),
}
_ECDF_POINTS = 201


# --------------------------------------------------------------------------
# threads
# --------------------------------------------------------------------------


def n_threads():
    """Threads the kernels may use: mlpipe's ``numba_threads`` or numba's."""
    wanted = get_config()["numba_threads"]
    most = numba.config.NUMBA_NUM_THREADS
    if wanted is None:
        return most
    if wanted < 0:
        return max(most + 1 + wanted, 1)
    return min(wanted, most)


@contextmanager
def kernel_threads():
    """The number of threads the kernels of one fit or score may use
    (mlpipe's ``numba_threads`` setting).

    The library's paths run their kernels in a small pool of Python threads
    (see :func:`run_threads`), not in numba's ``prange`` pool, so numba's
    thread count is left alone: changing it would start numba's OpenMP
    workers, which busy-wait between parallel regions and slow down whatever
    else runs on the machine.
    """
    yield n_threads()


_POOL = {"pool": None, "size": 0, "pid": None}
_POOL_LOCK = threading.Lock()


def _pool(size):
    with _POOL_LOCK:
        pool = _POOL["pool"]
        if pool is None or _POOL["size"] < size or _POOL["pid"] != os.getpid():
            # a pool inherited through fork has no threads behind it
            pool = ThreadPoolExecutor(size, thread_name_prefix="mlpipe-drift")
            _POOL.update(pool=pool, size=size, pid=os.getpid())
        return pool


def run_threads(work, workers):
    """Call ``work(t, workers)`` for t in range(workers): t = 0 in the calling
    thread, the others in a persistent pool of threads. The kernels are
    compiled with ``nogil`` and ``ndarray.sort`` releases the GIL, so the
    workers run in parallel; ``work`` usually takes the items t, t +
    workers, ... of a list."""
    if workers <= 1:
        work(0, 1)
        return
    pool = _pool(workers - 1)
    futures = [pool.submit(work, t, workers) for t in range(1, workers)]
    try:
        work(0, workers)
    finally:
        for fut in futures:
            fut.result()


def sorted_block(columns, n_rows, threads):
    """Copy 1-D float64 arrays into the rows of one (k, n) array and sort each
    row (NaN last), in ``threads`` threads: ``ndarray.sort`` releases the GIL.

    Returns the block and the number of non-NaN values of each row.
    """
    k = len(columns)
    block = np.empty((k, n_rows), dtype=np.float64)

    def work(f):
        row = block[f]
        row[:] = columns[f]
        row.sort()
        # NaN sort last; find the first one by bisection.
        return int(np.searchsorted(row, np.nan)) if n_rows else 0

    counts = [0] * k

    def chunk(t, workers):
        for f in range(t, k, workers):
            counts[f] = work(f)

    run_threads(chunk, min(threads, k) if n_rows >= 20000 else 1)
    return block, np.asarray(counts, dtype=np.int64)


# --------------------------------------------------------------------------
# columns
# --------------------------------------------------------------------------


def numeric_values(series):
    """A column as float64 with NaN for missing (datetimes as int64 ns)."""
    dtype = series.dtype
    if ptypes.is_datetime64_any_dtype(dtype) or ptypes.is_timedelta64_dtype(dtype):
        values = series.to_numpy()
        out = values.view("int64").astype(np.float64)
        out[pd.isna(values)] = np.nan
        return out
    if ptypes.is_bool_dtype(dtype) and not isinstance(dtype, np.dtype):
        return series.astype("Float64").to_numpy(dtype=np.float64, na_value=np.nan)
    if dtype == np.float64:
        return series.to_numpy()
    return series.to_numpy(dtype=np.float64, na_value=np.nan)


def numeric_columns(X, cols):
    """``numeric_values`` of the columns ``cols`` of frame ``X``.

    When every column of ``X`` is float64 the frame is read once as an array
    (a view for a frame of one block) and its columns are sliced from it:
    reading 20 columns one by one through pandas took ~0.27 ms, longer than
    the KS tests of a 1,000-row batch.
    """
    if not cols:
        return []
    if all(dtype == np.float64 for dtype in X.dtypes.tolist()):
        block = X.to_numpy()
        position = {c: i for i, c in enumerate(X.columns)}
        return [block[:, position[c]] for c in cols]
    return [numeric_values(X[c]) for c in cols]


def _hashable(series):
    """Object values that pandas can hash (dicts and lists become their repr)."""
    values = series.to_numpy(dtype=object)
    bad = [i for i, v in enumerate(values) if not isinstance(v, Hashable)]
    if bad:
        values = values.copy()
        for i in bad:
            values[i] = repr(values[i])
    return values


def category_values(series):
    """A column's values as something pd.Categorical accepts."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        return series
    if ptypes.is_object_dtype(series.dtype):
        return _hashable(series)
    return series


def reference_categories(series):
    """Observed categories of the reference, in a stable order: sorted when
    they compare, else first seen."""
    values = category_values(series)
    observed = pd.unique(pd.Series(values).dropna())
    if isinstance(series.dtype, pd.CategoricalDtype):
        order = [c for c in series.cat.categories if c in set(observed)]
        return order
    try:
        return sorted(observed.tolist())
    except TypeError:
        return list(observed)


def encode(series, categories):
    """Codes of ``series`` over ``categories``: missing -> -1, values not among
    the categories -> len(categories) (the "unseen" bucket).

    Returns the codes and ``{unseen value: count}``.
    """
    values = category_values(series)
    index = pd.Index(categories) if len(categories) else pd.Index([], dtype=object)
    if isinstance(series.dtype, pd.CategoricalDtype):
        # map the column's own categories once, then its codes
        own = series.cat.codes.to_numpy()
        mapping = np.append(index.get_indexer(series.cat.categories), -1)
        codes = mapping[own].astype(np.int64)  # own == -1 picks the last entry
    else:
        codes = index.get_indexer(pd.Index(values)).astype(np.int64)
    missing = pd.isna(series).to_numpy()
    unseen_mask = (codes < 0) & ~missing
    unseen = {}
    if unseen_mask.any():
        codes[unseen_mask] = len(categories)
        counts = pd.Series(np.asarray(values, dtype=object)[unseen_mask]).value_counts()
        unseen = {k: int(v) for k, v in counts.items()}
    return codes, unseen


# --------------------------------------------------------------------------
# the compact reference
# --------------------------------------------------------------------------


@dataclass
class DriftReference:
    """Everything a detector keeps of the reference data.

    Attributes
    ----------
    columns : list
        Column labels, in the order of the data.

    tests : dict
        ``{column: "ks" | "psi" | "chi2"}``.

    kinds : dict
        ``{column: kind}`` at fit.

    n_rows : int
        Rows of the reference.

    n_missing : dict
        ``{column: missing values in the reference}``.

    ks_columns : list
        Columns tested with KS, the rows of ``ks_sorted``.

    ks_sorted : ndarray of shape (len(ks_columns), n_rows)
        Each KS column's values sorted, missing values (NaN) last.

    ks_counts : ndarray of int64
        Non-missing values of each KS column.

    ks_index : ndarray or None
        Every ``ks_index_step``-th value of each row of ``ks_sorted`` (a
        sample that lets the KS kernel skip most of the reference; rebuilt
        on first use when None, e.g. for references pickled before it
        existed).

    ks_index_step : int
        The step of ``ks_index``.

    ks_quantiles : ndarray, list or None
        201 evenly spaced quantiles of each KS column (the reference curve
        of ``DriftReport.plot``), one row per column; a list, with None for
        a column with no values, when the columns' counts differ. None for a
        reference pickled before it was kept (computed on first score).

    psi_numeric : dict
        ``{column: (inner_edges, counts)}``: PSI bins of numeric columns;
        ``counts`` has one entry per bin.

    categories : dict
        ``{column: list}``: reference categories of categorical columns (PSI
        and chi-square) and of numeric columns tested by chi-square.

    category_counts : dict
        ``{column: ndarray}``: reference count of each category.
    """

    columns: list
    tests: dict
    kinds: dict
    n_rows: int
    n_missing: dict
    ks_columns: list = field(default_factory=list)
    ks_sorted: np.ndarray = None
    ks_counts: np.ndarray = None
    ks_index: np.ndarray = None
    ks_index_step: int = 0
    ks_quantiles: object = None
    psi_numeric: dict = field(default_factory=dict)
    categories: dict = field(default_factory=dict)
    category_counts: dict = field(default_factory=dict)

    @property
    def nbytes(self):
        """Bytes held by the arrays of the reference."""
        total = 0 if self.ks_sorted is None else self.ks_sorted.nbytes
        if getattr(self, "ks_index", None) is not None:
            total += self.ks_index.nbytes
        for edges, counts in self.psi_numeric.values():
            total += edges.nbytes + counts.nbytes
        for counts in self.category_counts.values():
            total += counts.nbytes
        return total


# --------------------------------------------------------------------------
# corrections
# --------------------------------------------------------------------------


def correct(pvalues, alpha, correction):
    """Per-test p-value cut-offs under a multiple-testing correction.

    Parameters
    ----------
    pvalues : array of float
        NaN for tests that have none (they take no part).

    alpha : float
        The level.

    correction : {"bh", "bonferroni"} or None

    Returns
    -------
    thresholds : ndarray
        The cut-off each p-value is compared with (``p <= threshold`` is
        significant); NaN where the p-value is NaN. Bonferroni: ``alpha/m``.
        Benjamini-Hochberg: ``alpha*k/m`` with ``k`` the largest rank whose
        sorted p-value is at most ``alpha*k/m`` (``alpha/m`` when there is
        none), so that exactly the BH discoveries pass.
    """
    p = np.asarray(pvalues, dtype=np.float64)
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    m = int(ok.sum())
    if m == 0:
        return out
    if correction is None:
        out[ok] = alpha
    elif correction == "bonferroni":
        out[ok] = alpha / m
    elif correction == "bh":
        ps = np.sort(p[ok])
        ranks = np.arange(1, m + 1)
        passing = np.nonzero(ps <= alpha * ranks / m)[0]
        k = passing[-1] + 1 if passing.size else 1
        out[ok] = alpha * k / m
    else:
        raise ValueError(f"Unknown correction {correction!r}.")
    return out


# --------------------------------------------------------------------------
# the base estimator
# --------------------------------------------------------------------------

_DEFAULTS = {
    "alpha": 0.05,
    "correction": "bh",
    "ks_threshold": 0.1,
    "chi2_threshold": 0.1,
    "psi_threshold": 0.2,
    "missing_threshold": 0.05,
    "n_bins": 10,
    "binning": "quantile",
    "eps": 1e-4,
    "alternative": "two-sided",
    "method": "auto",
    "drift_share": None,
    "max_categories": 50,
    "max_discrete": 10,
}


_PARAM_NAMES = {}


class _BaseDrift(BaseEstimator):
    """Fit on a reference, score batches. Subclasses decide the test of each
    column (``_choose_test``) and name their parameters."""

    _doc_link_module = "mlpipe"

    def _settings(self):
        # get_params reads the signature of __init__ on every call (~50 us,
        # a sizeable part of scoring a small batch); the names are fixed
        # per class.
        cls = type(self)
        names = _PARAM_NAMES.get(cls)
        if names is None:
            names = _PARAM_NAMES[cls] = sorted(self.get_params(deep=False))
        params = {name: getattr(self, name) for name in names}
        out = dict(_DEFAULTS)
        for key, value in params.items():
            if key in out:
                out[key] = value
        # The single-test detectors call their effect threshold "threshold".
        if "threshold" in params:
            out[f"{self._single_test}_threshold"] = params["threshold"]
        return out

    # -- fit ---------------------------------------------------------------

    def fit(self, X, y=None):
        """Learn the reference distribution of every column.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            The reference data (training data, or a known-good period).
            Missing values are allowed; infinite values are ordinary values
            to KS and fall in the outer PSI bins.

        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted detector.
        """
        self._validate_params()
        settings = self._settings()
        X = check_frame(self, X, reset=True)
        columns = self._selected_columns(X)
        kinds = {}
        for col in columns:
            kind = column_kind(X[col])
            if kind == OTHER:
                raise TypeError(
                    f"{type(self).__name__} cannot compare column {col!r} of dtype "
                    f"{X[col].dtype}; it compares numeric, boolean, categorical, "
                    "string and datetime columns. Drop or convert it first."
                )
            kinds[col] = kind
        tests = self._resolve_tests(X, columns, kinds, settings)

        n_missing = {col: int(X[col].isna().sum()) for col in columns}
        ref = DriftReference(
            columns=columns, tests=tests, kinds=kinds, n_rows=len(X), n_missing=n_missing
        )
        from mlpipe.drift import _chi2, _ks, _psi

        with kernel_threads() as threads:
            _ks.fit(ref, X, threads)
            _psi.fit(ref, X, settings, threads)
            _chi2.fit(ref, X)
        self.reference_ = ref
        self.kinds_ = kinds
        self.tests_ = tests
        return self

    def _selected_columns(self, X):
        all_columns = list(X.columns)
        wanted = getattr(self, "columns", None)
        if wanted is None:
            return all_columns
        if isinstance(wanted, (str, int)) or not hasattr(wanted, "__iter__"):
            wanted = [wanted]
        wanted = list(wanted)
        unknown = [c for c in wanted if c not in set(all_columns)]
        if unknown:
            raise ValueError(
                f"columns names {unknown} that are not in X; its columns are {all_columns[:10]}."
            )
        if not wanted:
            raise ValueError("columns is empty: name at least one column to watch.")
        keep = set(wanted)
        return [c for c in all_columns if c in keep]

    def _resolve_tests(self, X, columns, kinds, settings):
        overrides = getattr(self, "tests", None) or {}
        if not isinstance(overrides, dict):
            raise TypeError(f"tests must be a dict {{column: test}}, got {overrides!r}.")
        unknown = [c for c in overrides if c not in columns]
        if unknown:
            raise ValueError(
                f"tests names column(s) {unknown} that are not in X; its columns "
                f"are {columns[:10]}."
            )
        tests = {}
        for col in columns:
            kind = kinds[col]
            if col in overrides:
                test = overrides[col]
                if test not in TESTS:
                    raise ValueError(
                        f"tests[{col!r}]={test!r} is not a test; use one of {list(TESTS)}."
                    )
            else:
                test = self._choose_test(X[col], kind, settings)
            if kind not in TEST_KINDS[test]:
                raise TypeError(
                    f"{type(self).__name__}: the {test!r} test cannot compare the "
                    f"{kind} column {col!r} (dtype {X[col].dtype}). Choose the "
                    "columns to test with columns=[...], or use DriftDetector, "
                    "which picks chi-square or PSI for such columns."
                )
            tests[col] = test
        return tests

    def _choose_test(self, series, kind, settings):
        return self._single_test

    # -- score -------------------------------------------------------------

    def score(self, X, y=None):
        """Compare a batch with the reference.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            The batch, with the columns seen at fit in the same order.

        y : None
            Ignored.

        Returns
        -------
        report : DriftReport
            One row per test (see :meth:`DriftReport.to_frame`) and the
            batch-level verdict ``report.drift``.
        """
        check_is_fitted(self, "reference_")
        X = check_frame(self, X, reset=False)
        self._check_kinds(X)
        settings = self._settings()
        ref = self.reference_
        from mlpipe.drift import _chi2, _ks, _psi

        rows = {}
        distributions = {}
        with kernel_threads() as threads:
            rows.update(_ks.score(ref, X, settings, threads, distributions))
            rows.update(_psi.score(ref, X, settings, distributions, threads))
            rows.update(_chi2.score(ref, X, settings, distributions))
        ordered = [rows[col] for col in ref.columns]
        # KS and numeric PSI columns counted their non-missing values already
        counted = set(ref.ks_columns) | set(ref.psi_numeric)
        known = {col: len(X) - rows[col]["n_batch"] for col in counted}
        ordered += missing_rows(ref, X, settings, known)
        return build_report(ordered, settings, ref.n_rows, len(X), distributions)

    def detect(self, X):
        """Same as :meth:`score`: the drift report of batch ``X``."""
        return self.score(X)

    def _check_kinds(self, X):
        ref = self.reference_
        # categories of chi-square and PSI columns compare by value, whatever
        # the dtype they arrive in
        kinds = {
            col: kind
            for col, kind in ref.kinds.items()
            if not (kind == CATEGORICAL and ref.tests[col] in ("chi2", "psi"))
        }
        check_kinds(self, X, kinds)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.string = True
        tags.input_tags.categorical = True
        tags.requires_fit = True
        return tags


# --------------------------------------------------------------------------
# missing-rate rows and the report
# --------------------------------------------------------------------------


def missing_rows(ref, X, settings, known=None):
    """A "missing_rate" row for every column with missing values on either
    side: chi-square test of the 2 x 2 table, effect = change in the rate.
    ``known`` maps columns to their batch missing counts when the tests
    counted them already."""
    from mlpipe.drift._chi2 import chi2_table

    known = known or {}
    rows = []
    n_ref, n_bat = ref.n_rows, len(X)
    for col in ref.columns:
        m_ref = ref.n_missing[col]
        m_bat = int(known[col]) if col in known else int(X[col].isna().sum())
        if m_ref == 0 and m_bat == 0:
            continue
        stat, p, _ = chi2_table(
            np.array([m_ref, n_ref - m_ref], dtype=np.float64),
            np.array([m_bat, n_bat - m_bat], dtype=np.float64),
        )
        r_ref = m_ref / n_ref if n_ref else np.nan
        r_bat = m_bat / n_bat if n_bat else np.nan
        rows.append(
            {
                "feature": col,
                "test": "missing_rate",
                "statistic": stat,
                "p_value": p,
                "effect_size": abs(r_bat - r_ref),
                "effect_threshold": settings["missing_threshold"],
                "n_reference": n_ref,
                "n_batch": n_bat,
                "note": f"missing {r_ref:.1%} -> {r_bat:.1%}",
            }
        )
    return rows


def build_report(rows, settings, n_reference, n_batch, distributions):
    # Columns are computed as arrays; the report builds its frame from them
    # when it is first read (building it row by row took ~7 ms for 20
    # features, and even at once it costs more than a small batch's tests).
    def floats(name):
        return np.array(
            [np.nan if r.get(name) is None else r[name] for r in rows], dtype=np.float64
        )

    statistic = floats("statistic")
    p = floats("p_value")
    effect = floats("effect_size")
    effect_threshold = floats("effect_threshold")
    tests = [r["test"] for r in rows]
    alpha, correction = settings["alpha"], settings["correction"]
    thresholds = correct(p, alpha, correction)
    is_psi = np.array([t == "psi" for t in tests], dtype=bool)
    thresholds[is_psi] = effect_threshold[is_psi]
    with np.errstate(invalid="ignore"):
        significant = np.where(is_psi, True, p <= thresholds)
        large = effect >= effect_threshold
    notes = []
    for r in rows:
        note = r.get("note")
        notes.append(
            "" if note is None or (isinstance(note, float) and np.isnan(note)) else str(note)
        )
    columns = {
        "feature": [r["feature"] for r in rows],
        "test": tests,
        "statistic": statistic,
        "p_value": p,
        "threshold": thresholds,
        "drift": (significant & large).astype(bool),
        "effect_size": effect,
        "effect_threshold": effect_threshold,
        "n_reference": np.array([r["n_reference"] for r in rows], dtype=np.int64),
        "n_batch": np.array([r["n_batch"] for r in rows], dtype=np.int64),
        "note": notes,
    }
    features = columns["feature"]
    n_features = len(set(features))
    n_drifted = len({f for f, d in zip(features, columns["drift"], strict=True) if d})
    share = settings["drift_share"]
    verdict = n_drifted > 0 if share is None else n_features > 0 and n_drifted / n_features >= share
    return DriftReport(
        results=columns,  # the frame is built when first read
        drift=bool(verdict),
        alpha=alpha,
        correction=correction,
        n_reference=n_reference,
        n_batch=n_batch,
        drift_share=share,
        distributions=distributions,
    )
