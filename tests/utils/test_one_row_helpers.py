"""The one-row helpers of mlpipe.utils._dataframe against pandas' own ways."""

import numpy as np
import pandas as pd
import pytest

from mlpipe.datasets import load_credit
from mlpipe.utils._dataframe import column_dtypes, row_values, shallow_copy


def _frames():
    X, _ = load_credit(return_X_y=True, unknown_as_missing=True)
    mixed = pd.DataFrame(
        {
            "f": [1.5, np.nan],
            "i": [1, 2],
            "b": [True, False],
            "c": pd.Categorical(["a", None], categories=["a", "b"]),
            "n": pd.array([1, None], dtype="Int64"),
            "t": pd.to_datetime(["2024-01-01", None]),
            "o": ["x", 3],
            "s": pd.array(["u", None], dtype="string"),
        }
    )
    consolidated = pd.DataFrame(np.arange(12.0).reshape(3, 4), columns=list("abcd"))
    return {
        "credit row": X.iloc[[3]],
        "credit rows": X.iloc[5:9],
        "mixed": mixed,
        "one block": consolidated,
        "no columns": pd.DataFrame(index=[0, 1]),
    }


FRAMES = _frames()


@pytest.mark.parametrize("name", list(FRAMES))
def test_column_dtypes_are_frame_dtypes(name):
    frame = FRAMES[name]
    assert column_dtypes(frame) == frame.dtypes.tolist()


@pytest.mark.parametrize("name", ["credit row", "credit rows", "mixed", "one block"])
def test_row_values_are_iloc_values(name):
    frame = FRAMES[name]
    expected = frame.iloc[0].tolist()
    got = row_values(frame)
    assert len(got) == len(expected)
    for a, b in zip(got, expected, strict=True):
        if pd.isna(b):
            assert pd.isna(a) and type(a) is type(b)
        else:  # the same value, as a numpy or a Python scalar of one dtype
            assert a == b and np.asarray(a).dtype == np.asarray(b).dtype


def test_row_values_of_every_credit_row():
    X, _ = load_credit(return_X_y=True, unknown_as_missing=True)
    for i in range(len(X)):
        row = X.iloc[[i]]
        got, expected = row_values(row), row.iloc[0].tolist()
        assert [str(v) for v in got] == [str(v) for v in expected]


def test_row_values_of_a_missing_category_is_nan():
    frame = FRAMES["mixed"].iloc[[1]]
    assert np.isnan(row_values(frame[["c"]])[0])


@pytest.mark.parametrize("name", list(FRAMES))
def test_shallow_copy_is_copy_deep_false(name):
    frame = FRAMES[name]
    out = shallow_copy(frame)
    expected = frame.copy(deep=False)
    assert out is not frame
    assert type(out) is type(expected)
    pd.testing.assert_frame_equal(out, expected)
    assert out.columns is not frame.columns
    assert out.index is not frame.index


def test_shallow_copy_keeps_writes_apart():
    frame = FRAMES["credit rows"].copy()
    before = frame.copy()
    out = shallow_copy(frame)
    out.iloc[0, 1] = -1  # a write to the copy
    out["age"] = 0
    out.columns = [f"x{i}" for i in range(out.shape[1])]
    out.index.name = "renamed"
    pd.testing.assert_frame_equal(frame, before)
    # and a write to the original does not reach the copy
    out = shallow_copy(frame)
    frame.iloc[0, 1] = -2
    frame.iloc[0, 0] = "female" if before.iloc[0, 0] == "male" else "male"
    pd.testing.assert_frame_equal(out, before)


def test_shallow_copy_shares_the_data():
    frame = FRAMES["one block"]
    out = shallow_copy(frame)
    assert np.shares_memory(out.to_numpy(), frame.to_numpy())


def test_shallow_copy_carries_attrs_flags_and_subclasses():
    class Sub(pd.DataFrame):
        @property
        def _constructor(self):
            return Sub

    frame = pd.DataFrame({"a": [1, 2]})
    frame.attrs["source"] = "service"
    assert shallow_copy(frame).attrs == {"source": "service"}
    flagged = pd.DataFrame({"a": [1, 2]}).set_flags(allows_duplicate_labels=False)
    assert not shallow_copy(flagged).flags.allows_duplicate_labels
    sub = Sub({"a": [1, 2]})
    assert type(shallow_copy(sub)) is Sub
