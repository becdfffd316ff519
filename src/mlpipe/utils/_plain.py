"""Plain forms of the pandas objects that fitted estimators and their reports keep.

A fitted mlpipe estimator is saved with skops, which writes numpy arrays,
builtin scalars and containers, and refuses pandas objects ("no default
__reduce__"). What an estimator learns is therefore kept as plain data: an
index of group or row labels as :func:`index_state`, a timestamp as a
``numpy.datetime64`` (:func:`plain_scalar`). The pandas views users read are
rebuilt from them (:func:`index_from_state`).
"""

import numpy as np
import pandas as pd


def plain_scalar(value):
    """``value`` with pandas' scalar types replaced by numpy's.

    A ``Timestamp`` becomes a ``numpy.datetime64`` (of the same instant, in
    UTC for a time-zone-aware one: the column it fills gives the zone back),
    a ``Timedelta`` a ``numpy.timedelta64``, ``NaT`` ``numpy.datetime64("NaT")``
    and ``pd.NA`` None. Anything else is returned as it is.
    """
    if value is pd.NaT:
        return np.datetime64("NaT", "ns")
    if value is pd.NA:
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_datetime64()
    if isinstance(value, pd.Timedelta):
        return value.to_timedelta64()
    return value


def time_state(value):
    """A ``Timestamp`` or ``Timedelta`` as a dict of numpy values (with the
    time zone's name), exactly; any other value as it is.

    The inverse is :func:`time_from_state`.
    """
    if isinstance(value, pd.Timestamp):
        return {
            "$timestamp": value.to_datetime64(),
            "tz": None if value.tz is None else str(value.tz),
        }
    if isinstance(value, pd.Timedelta):
        return {"$timedelta": value.to_timedelta64()}
    return value


def time_from_state(value):
    """The value :func:`time_state` described."""
    if isinstance(value, dict) and "$timestamp" in value:
        stamp = pd.Timestamp(value["$timestamp"])
        return stamp if value["tz"] is None else stamp.tz_localize("UTC").tz_convert(value["tz"])
    if isinstance(value, dict) and "$timedelta" in value:
        return pd.Timedelta(value["$timedelta"])
    return value


def index_state(index):
    """A pandas Index (a MultiIndex too) as a dict of plain data.

    The inverse is :func:`index_from_state`; labels, their dtype, the time
    zone and the names survive the round trip.
    """
    if isinstance(index, pd.MultiIndex):
        return {
            "levels": [index_state(index.get_level_values(i)) for i in range(index.nlevels)],
            "names": list(index.names),
        }
    if isinstance(index, pd.RangeIndex):
        return {"range": [index.start, index.stop, index.step], "name": index.name}
    state = {"name": index.name}
    if isinstance(index.dtype, pd.DatetimeTZDtype):
        state["tz"] = str(index.dtype.tz)
        index = index.tz_convert("UTC").tz_localize(None)
    if isinstance(index.dtype, pd.CategoricalDtype):
        state["categories"] = index_state(index.categories)
        state["ordered"] = bool(index.dtype.ordered)
        state["codes"] = np.asarray(index.codes, dtype=np.int64)
        return state
    values = index.to_numpy()
    if values.dtype == object:
        values = np.array([plain_scalar(v) for v in values] or [], dtype=object)
    state["values"] = values
    state["dtype"] = str(index.dtype)
    return state


def index_from_state(state):
    """The pandas Index that :func:`index_state` described."""
    if "levels" in state:
        return pd.MultiIndex.from_arrays(
            [index_from_state(level) for level in state["levels"]], names=state["names"]
        )
    if "range" in state:
        return pd.RangeIndex(*state["range"], name=state["name"])
    if "codes" in state:
        categories = index_from_state(state["categories"])
        dtype = pd.CategoricalDtype(categories, ordered=state["ordered"])
        index = pd.CategoricalIndex(
            pd.Categorical.from_codes(state["codes"], dtype=dtype), name=state["name"]
        )
    else:
        values = state["values"]
        index = pd.Index(values, dtype=values.dtype, name=state["name"])
        if state["dtype"] != str(index.dtype):
            index = index.astype(state["dtype"])
    if "tz" in state:
        index = index.tz_localize("UTC").tz_convert(state["tz"])
    return index


def frame_state(frame):
    """A DataFrame as a dict of plain data: its index, its column labels and
    each column's values as :func:`index_state`. The inverse is
    :func:`frame_from_state`."""
    return {
        "index": index_state(frame.index),
        "columns": index_state(frame.columns),
        "data": [index_state(pd.Index(frame.iloc[:, j])) for j in range(frame.shape[1])],
    }


def frame_from_state(state):
    """The DataFrame that :func:`frame_state` described."""
    index = index_from_state(state["index"])
    data = {
        j: pd.Series(index_from_state(column).rename(None), index=index)
        for j, column in enumerate(state["data"])
    }
    frame = pd.DataFrame(data, index=index)
    frame.columns = index_from_state(state["columns"])
    return frame
