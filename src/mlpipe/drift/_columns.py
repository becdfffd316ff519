"""The bottom of mlpipe.drift: threads, columns as arrays, categories as codes.

Everything the statistics modules (``_ks``, ``_psi``, ``_chi2``) share and
nothing that knows about estimators or reports: this module imports only
the kernels, mlpipe's configuration and its input helpers (mlpipe.utils).
"""

import os
import threading
from collections.abc import Hashable
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from mlpipe._config import get_config
from mlpipe.drift import _kernels
from mlpipe.utils._dataframe import column_dtypes, time_ns

# below this many values, one thread is faster than handing work out
MIN_PARALLEL_VALUES = 200_000

# --------------------------------------------------------------------------
# threads
# --------------------------------------------------------------------------


def n_threads():
    """Threads the kernels of one fit or score may use: mlpipe's
    ``numba_threads`` setting, else numba's thread count.

    The kernels run in a small pool of Python threads (see
    :func:`run_threads`), not in numba's ``prange`` pool, so numba's thread
    count is left alone: changing it would start numba's OpenMP workers,
    which busy-wait between parallel regions and slow down whatever else
    runs on the machine.
    """
    wanted = get_config()["numba_threads"]
    most = numba.config.NUMBA_NUM_THREADS
    if wanted is None:
        return most
    if wanted < 0:
        return max(most + 1 + wanted, 1)
    return min(wanted, most)


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
    counts = np.zeros(k, dtype=np.int64)

    def work(t, workers):
        for f in range(t, k, workers):
            row = block[f]
            row[:] = columns[f]
            row.sort()
            # NaN sort last; find the first one by bisection.
            counts[f] = int(np.searchsorted(row, np.nan)) if n_rows else 0

    run_threads(work, min(threads, k) if n_rows >= 20000 else 1)
    return block, counts


# --------------------------------------------------------------------------
# columns
# --------------------------------------------------------------------------


def numeric_values(series):
    """A column as float64 with NaN for missing; datetimes and timedeltas as
    nanoseconds (since the epoch, in UTC for a zone-aware column), whatever
    their unit, so that a reference in microseconds and a batch in
    nanoseconds, or in another time zone, are compared on one time axis."""
    dtype = series.dtype
    if ptypes.is_datetime64_any_dtype(dtype) or ptypes.is_timedelta64_dtype(dtype):
        return time_ns(series)
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
    if all(dtype == np.float64 for dtype in column_dtypes(X)):
        block = X.to_numpy()
        position = {c: i for i, c in enumerate(X.columns)}
        return [block[:, position[c]] for c in cols]
    return [numeric_values(X[c]) for c in cols]


def numeric_block(X, cols):
    """``numeric_values`` of the columns ``cols`` of frame ``X`` as the rows
    of a new C-contiguous (len(cols), len(X)) float64 array, which its
    caller may sort in place: one copy, from the frame's array when every
    column is float64."""
    if cols and all(dtype == np.float64 for dtype in column_dtypes(X)):
        position = {c: i for i, c in enumerate(X.columns.tolist())}
        rows = np.array([position[c] for c in cols], dtype=np.intp)
        return np.ascontiguousarray(X.to_numpy().T[rows])
    block = np.empty((len(cols), len(X)))
    for f, c in enumerate(cols):
        block[f] = numeric_values(X[c])
    return block


# --------------------------------------------------------------------------
# categories (shared by chi-square and PSI)
# --------------------------------------------------------------------------


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
        seen = set(observed)
        return [c for c in series.cat.categories if c in seen]
    try:
        return sorted(observed.tolist())
    except TypeError:
        return list(observed)


def _same_labels(index, labels):
    """Whether ``index`` holds ``labels`` in order, each of the same type
    (``Index.get_indexer`` would then map each to its own position)."""
    if len(index) != len(labels):
        return False
    return all(type(a) is type(b) and a == b for a, b in zip(index.tolist(), labels, strict=True))


def _index(categories):
    return pd.Index(categories) if len(categories) else pd.Index([], dtype=object)


def encode(series, categories):
    """Codes of ``series`` over ``categories``: missing -> -1, values not among
    the categories -> len(categories) (the "unseen" bucket).

    Returns the codes and ``{unseen value: count}``.
    """
    values = category_values(series)
    if isinstance(series.dtype, pd.CategoricalDtype):
        own = series.cat.codes.to_numpy()
        if _same_labels(series.cat.categories, categories):
            # the reference's categories in their order (a window of rows
            # of the training dtype): the codes are already the answer
            codes = own.astype(np.int64)
        else:
            # map the column's own categories once, then its codes
            mapping = np.append(_index(categories).get_indexer(series.cat.categories), -1)
            codes = mapping[own].astype(np.int64)  # own == -1 picks the last entry
    else:
        codes = _index(categories).get_indexer(pd.Index(values)).astype(np.int64)
    missing = pd.isna(series).to_numpy()
    unseen_mask = (codes < 0) & ~missing
    unseen = {}
    if unseen_mask.any():
        codes[unseen_mask] = len(categories)
        counts = pd.Series(np.asarray(values, dtype=object)[unseen_mask]).value_counts()
        unseen = {k: int(v) for k, v in counts.items()}
    return codes, unseen


def fit_categories(ref, col, series):
    """Keep the reference categories of ``col`` and their counts in ``ref``."""
    cats = reference_categories(series)
    codes, _ = encode(series, cats)
    ref.categories[col] = cats
    if isinstance(series.dtype, pd.CategoricalDtype):
        ref.category_order[col] = series.cat.categories.tolist()
    ref.category_counts[col] = np.bincount(codes[codes >= 0], minlength=len(cats)).astype(np.int64)


def count_categories(ref, col, series):
    """Batch counts over the reference categories plus an "unseen" bucket,
    and ``{unseen value: count}``."""
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


def categorical_distribution(ref, col, ref_counts, counts, unseen):
    """The bars of ``DriftReport.plot`` for a categorical column."""
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
