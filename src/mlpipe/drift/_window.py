"""The rows a windowed DriftMonitor holds until its window closes.

A service sends the monitor one row at a time; concatenating DataFrames on
every call, or even once per window over a thousand one-row frames
(``pd.concat`` spends ~0.1 ms per frame), would cost more than the model.
The buffer reads each call's column arrays (those pandas already holds) and
copies the rows of consecutive calls with one set of dtypes (a run) into
growing per-column arrays: an ndarray column into one of its dtype, a
categorical column's codes into one of theirs, other extension arrays as one
copied piece per call. When the window closes it builds one DataFrame from
them, column by column, with the dtype rules of ``pd.concat``: a column
whose runs share one dtype keeps it, one whose runs differ becomes what
``pd.concat`` makes of them.

For saving (skops, pickle) the buffered rows are written as the plain data
of :func:`mlpipe.utils._plain.frame_state`: numpy arrays and builtins.
"""

import operator

import numpy as np
import pandas as pd

from mlpipe.utils._dataframe import categorical_codes, column_arrays, series_array
from mlpipe.utils._plain import frame_from_state, frame_state


def same_dtype(a, b):
    """Whether chunks of dtypes ``a`` and ``b`` hold their values alike.

    ``==`` says unordered categorical dtypes with the same categories in
    another order are equal, but their codes then mean other categories: two
    categorical dtypes are the same only with the same categories in the
    same order.
    """
    if a is b:
        return True
    if isinstance(a, pd.CategoricalDtype) and isinstance(b, pd.CategoricalDtype):
        return (
            a.ordered == b.ordered
            and a.categories.equals(b.categories)
            and (a.categories.dtype == b.categories.dtype)
        )
    return a == b


def concat_arrays(arrays):
    """One column from its chunks, with ``pd.concat``'s dtype."""
    first = arrays[0]
    if len(arrays) == 1:
        return first
    dtype = first.dtype
    if all(same_dtype(a.dtype, dtype) for a in arrays):
        if isinstance(first, np.ndarray):
            return np.concatenate(arrays)
        if isinstance(first, pd.Categorical):
            return pd.Categorical.from_codes(np.concatenate([a.codes for a in arrays]), dtype=dtype)
        # the extension-array interface's own concatenation
        return type(first)._concat_same_type(arrays)
    series = [pd.Series(a, copy=False) for a in arrays]
    return series_array(pd.concat(series, ignore_index=True))


class _Run:
    """Consecutive buffered rows whose columns have one set of dtypes.

    An ndarray column is copied into a growing array of its dtype, a
    categorical one's codes into one of theirs (its dtype says what they
    mean); a column of any other extension dtype keeps one copied piece per
    call, joined when the window closes. A service's one-row calls then cost
    a slice assignment per column, and closing a window of a thousand rows
    joins nothing but those pieces.
    """

    def __init__(self, dtypes):
        self.dtypes = dtypes
        self.categorical = [isinstance(d, pd.CategoricalDtype) for d in dtypes]
        self.n_rows = 0
        self.values = [None] * len(dtypes)  # growing arrays, or lists of pieces

    def matches(self, dtypes):
        own = self.dtypes
        if len(dtypes) != len(own):
            return False
        if all(map(operator.is_, dtypes, own)):  # a service's rows share dtypes
            return True
        return all(map(same_dtype, dtypes, own))

    def add(self, arrays, start, stop, copy):
        """Keep the rows ``start:stop`` of ``arrays``; extension arrays that
        are not categorical are kept as they are unless ``copy``."""
        whole = start == 0 and stop == len(arrays[0])
        n, k = self.n_rows, stop - start
        values = self.values
        for j, array in enumerate(arrays):
            if self.categorical[j]:
                array = categorical_codes(array)  # copied below, never written to
            # slicing an extension array costs ~10 us
            piece = array if whole else array[start:stop]
            held = values[j]
            if isinstance(piece, np.ndarray):
                if held is None or len(held) < n + k:
                    grown = np.empty(max(2 * (n + k), 16), dtype=piece.dtype)
                    if held is not None:
                        grown[:n] = held[:n]
                    held = values[j] = grown
                held[n : n + k] = piece
            elif held is None:
                values[j] = [piece.copy() if copy else piece]
            else:
                held.append(piece.copy() if copy else piece)
        self.n_rows = n + k

    def columns(self):
        out = []
        n = self.n_rows
        for held, dtype, categorical in zip(
            self.values, self.dtypes, self.categorical, strict=True
        ):
            if categorical:
                out.append(pd.Categorical.from_codes(held[:n], dtype=dtype))
            elif isinstance(held, np.ndarray):
                out.append(held[:n])
            else:
                out.append(concat_arrays(held))
        return out


class WindowBuffer:
    """The rows of the open window, as runs of column pieces.

    Parameters
    ----------
    columns : list
        The column labels of the rows (those of the monitor's fit).
    """

    def __init__(self, columns):
        self.columns = list(columns)
        self.runs = []
        self.n_rows = 0
        # time of the window's first row: the clock's seconds, or the time
        # column's nanoseconds; None before the first row with a time
        self.start = None
        # dtypes of a chunk whose column kinds were checked (not saved: a
        # loaded buffer checks its first chunk again)
        self.checked_dtypes = None
        self.known_labels = None
        self.known_array = None

    def labelled_as_fit(self, frame):
        """Whether the DataFrame ``frame`` has the columns of fit, in order:
        by identity with the labels last found equal, or with the array
        holding them (one-row frames cut from one frame, ``X.iloc[[i]]``,
        have labels of their own over one shared array), else compared (and
        remembered)."""
        labels = frame.columns
        if labels is self.known_labels:
            return True
        array = labels.array
        if array is self.known_array:
            return True
        if len(labels) != len(self.columns) or labels.tolist() != self.columns:
            return False
        self.known_labels = labels
        self.known_array = array
        return True

    def append(self, arrays, dtypes, start, stop, copy):
        """Keep the rows ``start:stop`` of the column ``arrays`` (of
        ``dtypes``); ``copy`` unless the window closes before the caller can
        modify them."""
        if stop <= start:
            return
        runs = self.runs
        if not runs or not runs[-1].matches(dtypes):
            runs.append(_Run(dtypes))
        runs[-1].add(arrays, start, stop, copy)
        self.n_rows += stop - start

    def frame(self):
        """The buffered rows as one DataFrame (a RangeIndex)."""
        columns = self._joined()
        if columns is None:
            return None
        # the rows are one run from now on: saving twice, or closing after
        # saving, does not join them again
        self._keep(columns)
        return self._as_frame(columns)

    def _joined(self):
        if not self.runs:
            return None
        runs = [run.columns() for run in self.runs]
        return [concat_arrays([run[j] for run in runs]) for j in range(len(self.columns))]

    def _as_frame(self, columns):
        frame = pd.DataFrame(dict(enumerate(columns)), copy=False)
        frame.columns = pd.Index(self.columns, dtype=object)
        return frame

    def _keep(self, columns):
        run = _Run([a.dtype for a in columns])
        run.add(columns, 0, len(columns[0]), copy=False)
        self.runs = [run]

    def take(self):
        """The buffered rows as one DataFrame; the buffer is then empty."""
        columns = self._joined()
        frame = None if columns is None else self._as_frame(columns)
        self.runs = []
        self.n_rows = 0
        self.start = None
        return frame

    def __getstate__(self):
        frame = self.frame()
        return {
            "columns": self.columns,
            "rows": None if frame is None else frame_state(frame),
            "n_rows": self.n_rows,
            "start": self.start,
        }

    def __setstate__(self, state):
        self.columns = list(state["columns"])
        self.n_rows = int(state["n_rows"])
        self.start = state["start"]
        self.checked_dtypes = None
        self.known_labels = None
        self.known_array = None
        self.runs = []
        rows = state["rows"]
        if rows is not None:
            self._keep(column_arrays(frame_from_state(rows)))
