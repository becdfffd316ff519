"""The rows a windowed DriftMonitor holds until its window closes.

A service sends the monitor one row at a time; concatenating DataFrames on
every call, or even once per window over a thousand one-row frames
(``pd.concat`` spends ~0.1 ms per frame), would cost more than the model.
The buffer keeps, per call, the column arrays pandas already holds (an
ndarray, or an extension array for categorical, string, nullable and
zone-aware datetime columns: whatever the batch's dtypes are), and builds
one DataFrame from them when the window closes, column by column, with the
dtype rules of ``pd.concat``: a column whose chunks share one dtype keeps it,
one whose chunks differ becomes what ``pd.concat`` makes of them.

For saving (skops, pickle) the buffered rows are written as the plain data
of :func:`mlpipe.utils._plain.frame_state`: numpy arrays and builtins.
"""

import numpy as np
import pandas as pd

from mlpipe.utils._plain import frame_from_state, frame_state


def column_arrays(frame):
    """The arrays holding the columns of ``frame``, in order, not copied.

    pandas keeps them and hands them out through ``_get_column_array``
    (~1 us a column); the public ``frame.iloc[:, j].array`` builds a Series
    first (~10 us a column, as long as the rest of a one-row call) and is the
    fallback where that method is missing.
    """
    get = getattr(frame, "_get_column_array", None)
    if get is not None:
        return [get(j) for j in range(frame.shape[1])]
    return [_array(frame.iloc[:, j]) for j in range(frame.shape[1])]


def _array(series):
    return series.to_numpy() if isinstance(series.dtype, np.dtype) else series.array


def concat_arrays(arrays):
    """One column from its chunks, with ``pd.concat``'s dtype."""
    first = arrays[0]
    if len(arrays) == 1:
        return first
    dtype = first.dtype
    if all(a.dtype is dtype or a.dtype == dtype for a in arrays):
        if isinstance(first, np.ndarray):
            return np.concatenate(arrays)
        if isinstance(first, pd.Categorical):
            # one dtype, so the codes mean the same categories; pandas' own
            # concatenation unions the categories of every chunk first
            # (~0.1 ms per 1-row chunk and column)
            codes = np.concatenate([a.codes for a in arrays])
            return pd.Categorical.from_codes(codes, dtype=dtype)
        # the extension-array interface's own concatenation
        return type(first)._concat_same_type(arrays)
    series = [pd.Series(a, copy=False) for a in arrays]
    return _array(pd.concat(series, ignore_index=True))


class WindowBuffer:
    """The rows of the open window, as the column arrays of each call.

    Parameters
    ----------
    columns : list
        The column labels of the rows (those of the monitor's fit).
    """

    def __init__(self, columns):
        self.columns = list(columns)
        self.chunks = []
        self.n_rows = 0
        # time of the window's first row: the clock's seconds, or the time
        # column's nanoseconds; None before the first row with a time
        self.start = None
        # dtypes of a chunk whose column kinds were checked (not saved: a
        # loaded buffer checks its first chunk again)
        self.checked_dtypes = None
        self.known_labels = None

    def labelled_as_fit(self, frame):
        """Whether the DataFrame ``frame`` has the columns of fit, in order:
        by identity with the labels last found equal (a service's frames
        often share one), else compared (and remembered)."""
        labels = frame.columns
        if labels is self.known_labels:
            return True
        if len(labels) != len(self.columns) or labels.tolist() != self.columns:
            return False
        self.known_labels = labels
        return True

    def append(self, arrays, start, stop, copy):
        """Keep the rows ``start:stop`` of the column ``arrays``; ``copy``
        unless the window closes before the caller can modify them."""
        if stop <= start:
            return
        if start == 0 and stop == len(arrays[0]):
            chunk = list(arrays)  # slicing an extension array costs ~10 us
        else:
            chunk = [a[start:stop] for a in arrays]
        if copy:
            chunk = [a.copy() for a in chunk]
        self.chunks.append(chunk)
        self.n_rows += stop - start

    def frame(self):
        """The buffered rows as one DataFrame (a RangeIndex)."""
        if not self.chunks:
            return None
        columns = [
            concat_arrays([chunk[j] for chunk in self.chunks]) for j in range(len(self.columns))
        ]
        frame = pd.DataFrame(dict(enumerate(columns)), copy=False)
        frame.columns = pd.Index(self.columns, dtype=object)
        # the rows are one chunk from now on: saving twice, or closing after
        # saving, does not concatenate again
        self.chunks = [columns]
        return frame

    def take(self):
        """The buffered rows as one DataFrame; the buffer is then empty."""
        frame = self.frame()
        self.chunks = []
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
        rows = state["rows"]
        self.chunks = [] if rows is None else [column_arrays(frame_from_state(rows))]
