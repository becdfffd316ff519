"""The plain forms of pandas objects (mlpipe.utils._plain) round-trip exactly,
and skops writes them trusting nothing beyond its defaults."""

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from pandas.testing import assert_frame_equal, assert_index_equal

from mlpipe.utils._plain import (
    frame_from_state,
    frame_state,
    index_from_state,
    index_state,
    plain_scalar,
    time_from_state,
    time_state,
)

INDEXES = {
    "range": pd.RangeIndex(3, 10, 2, name="row"),
    "int": pd.Index([1, 5, 7]),
    "str": pd.Index(["a", "b"], name="g"),
    "object-str": pd.Index(["a", "b"], dtype=object),
    "object-mixed": pd.Index([1, "a", 2.5, None], dtype=object),
    "float-nan": pd.Index([1.5, np.nan]),
    "bool": pd.Index([True, False]),
    "nullable-int": pd.Index([1, None], dtype="Int64"),
    "datetime": pd.DatetimeIndex(["2024-01-01", "2024-03-01 12:00"]),
    "datetime-tz": pd.DatetimeIndex(["2024-01-01", "2024-07-01"]).tz_localize("Europe/Oslo"),
    "timedelta": pd.TimedeltaIndex(["1 day", "2 hours"]),
    "categorical": pd.CategoricalIndex(["x", "y", "x"], categories=["y", "x"], ordered=True),
    "multi": pd.MultiIndex.from_arrays([["f", "m", "m"], [1, 1, 2]], names=["sex", "band"]),
    "empty-int": pd.Index([], dtype="int64"),
    "empty-str": pd.Index([], dtype="str"),
}


def _through_skops(state):
    data = sio.dumps(state)
    assert sio.get_untrusted_types(data=data) == []  # plain data only
    return sio.loads(data)


@pytest.mark.parametrize("name", sorted(INDEXES))
def test_index_round_trips(name):
    index = INDEXES[name]
    back = index_from_state(_through_skops(index_state(index)))
    assert_index_equal(back, index, exact=True, check_names=True, check_categorical=True)


def test_frame_round_trips():
    frame = pd.DataFrame(
        {
            "pipeline": pd.Series(["a -> b", "c"], dtype="str"),
            "score": [0.5, np.nan],
            "n": np.array([1, 2], dtype=np.int8),
            "ok": [True, False],
            "error": [None, "boom"],
            "when": pd.to_datetime(["2024-01-01", None]).tz_localize("UTC"),
            "kind": pd.Categorical(["x", "y"]),
        },
        index=pd.Index([10, 20], name="id"),
    )
    assert_frame_equal(frame_from_state(_through_skops(frame_state(frame))), frame)


@pytest.mark.parametrize(
    "value",
    [
        pd.Timestamp("2024-01-01 05:00"),
        pd.Timestamp("2024-01-01 05:00", tz="US/Eastern"),
        pd.Timedelta("3h"),
        1.5,
        "text",
        None,
    ],
)
def test_time_values_round_trip(value):
    back = time_from_state(_through_skops({"v": time_state(value)})["v"])
    assert back == value or (back is None and value is None)
    assert type(back) is type(value)
    if isinstance(value, pd.Timestamp):
        assert back.tz == value.tz


def test_plain_scalar_keeps_the_instant():
    aware = pd.Timestamp("2024-01-01 05:00", tz="US/Eastern")
    assert plain_scalar(aware) == np.datetime64("2024-01-01T10:00")
    assert np.isnat(plain_scalar(pd.NaT))
    assert plain_scalar(pd.NA) is None
    assert plain_scalar(pd.Timedelta("1s")) == np.timedelta64(1, "s")
    assert plain_scalar("x") == "x"
