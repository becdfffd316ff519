"""check_leakage compares values, not their text (issue 14, items 1 and 10).

The oracle is a brute-force loop over every (test row, training row) pair
with Python's own ``==`` per value, and a missing value matching a missing
value, as ``DataFrame.duplicated`` counts them.
"""

import contextlib

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlpipe.validation import check_data_quality, check_leakage


def _same(a, b):
    missing_a, missing_b = pd.isna(a), pd.isna(b)
    if missing_a or missing_b:
        return bool(missing_a and missing_b)
    return bool(a == b)


def brute_force_shared(train, test):
    """Labels of the test rows equal, value by value, to some training row."""
    cols = list(train.columns)
    train_rows = [[train[c].astype(object).iloc[i] for c in cols] for i in range(len(train))]
    shared = []
    for i in range(len(test)):
        row = [test[c].astype(object).iloc[i] for c in cols]
        if any(all(_same(a, b) for a, b in zip(row, r, strict=True)) for r in train_rows):
            shared.append(test.index[i])
    return shared


def _shared_found(report):
    found = [f for f in report.findings if f.check == "shared_rows"]
    return found[0] if found else None


def test_issue_example_int_column_that_became_float():
    train = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]})
    as_int = _shared_found(check_leakage(train, train.iloc[:2]))
    as_float = _shared_found(check_leakage(train, train.iloc[:2].astype({"a": "float64"})))
    assert as_int is not None and as_int.n_rows == 2
    assert as_float is not None
    assert (as_float.n_rows, as_float.rows) == (as_int.n_rows, as_int.rows)


def test_one_nan_makes_the_column_float_and_the_other_rows_still_match():
    train = pd.DataFrame({"a": [1, 2, 3, 4], "b": ["x", "y", "z", "w"]})
    test = pd.DataFrame({"a": [2.0, np.nan, 4.0, 5.0], "b": ["y", "z", "w", "w"]})
    assert test["a"].dtype == np.float64
    found = _shared_found(check_leakage(train, test))
    assert found.rows == brute_force_shared(train, test) == [0, 2]


@pytest.mark.parametrize(
    ("train_col", "test_col"),
    [
        (pd.Series([1, 2, 3]), pd.Series([1.0, 2.0, 7.5])),  # int vs float
        (pd.Series([1, 2, 3]), pd.Series([1, 2, 7], dtype="Int64")),  # numpy vs masked
        (pd.Series([1, 2, 3], dtype="int32"), pd.Series([1, 2, 9], dtype="uint8")),
        (pd.Series([True, False, True]), pd.Series([1, 0, 5])),  # 0/1 for a bool
        (pd.Series([1.5, np.nan, 3.0]), pd.Series([1.5, None, 4.0], dtype=object)),
        (pd.Series(["x", "y", "z"]), pd.Categorical(["x", "y", "q"])),
        (pd.Categorical([1, 2, 3]), pd.Series([1.0, 2.0, 8.0])),
        (
            pd.Series(pd.to_datetime(["2020-01-01", "2020-01-02", "2020-01-03"])),
            pd.Series(pd.to_datetime(["2020-01-01", "2020-01-02", "2021-01-01"]), dtype=object),
        ),
    ],
)
def test_value_equal_rows_match_across_dtypes(train_col, test_col):
    train = pd.DataFrame({"v": train_col, "k": ["p", "q", "r"]})
    test = pd.DataFrame({"v": test_col, "k": ["p", "q", "r"]})
    expected = brute_force_shared(train, test)
    assert expected == [0, 1]
    assert _shared_found(check_leakage(train, test)).rows == expected


def test_text_is_not_a_number_and_aware_is_not_naive():
    train = pd.DataFrame({"v": [1, 2], "t": pd.to_datetime(["2020-01-01", "2020-01-02"])})
    test = pd.DataFrame(
        {"v": ["1", "2"], "t": pd.to_datetime(["2020-01-01", "2020-01-02"]).tz_localize("UTC")}
    )
    assert brute_force_shared(train, test) == []
    assert _shared_found(check_leakage(train, test)) is None
    assert _shared_found(check_leakage(train, test[["v"]].assign(t=train["t"]))) is None
    assert _shared_found(check_leakage(train, test[["t"]].assign(v=train["v"]))) is None


def test_large_integers_are_not_rounded_to_the_same_float():
    big = 2**53
    train = pd.DataFrame({"id": [big + 1, 5]})
    test = pd.DataFrame({"id": [float(big), 5.0]})
    assert brute_force_shared(train, test) == [1]
    assert _shared_found(check_leakage(train, test)).rows == [1]


# Small pools of values, so that rows repeat, in every dtype a split can take.
_POOLS = {
    "int": [0, 1, 2],
    "float": [0.0, 1.0, 2.5, np.nan],
    "text": ["a", "b", None],
    "bool": [True, False],
}
_CASTS = {
    "int": [None, "float64", "Int64", object, "category"],
    "float": [None, object, "Float64"],
    "text": [None, "category", object],
    "bool": [None, "int64", "float64", "boolean"],
}


@st.composite
def splits(draw):
    kinds = draw(st.lists(st.sampled_from(sorted(_POOLS)), min_size=1, max_size=4))
    n_train = draw(st.integers(1, 12))
    n_new = draw(st.integers(0, 6))
    columns = {}
    for j, kind in enumerate(kinds):
        values = draw(st.lists(st.sampled_from(_POOLS[kind]), min_size=n_train + n_new))
        columns[f"c{j}"] = (kind, values[: n_train + n_new])
    train = pd.DataFrame({c: pd.Series(v[:n_train]) for c, (_, v) in columns.items()})
    copied = draw(st.lists(st.integers(0, n_train - 1), max_size=6))
    test = pd.DataFrame(
        {
            c: pd.Series([v[i] for i in copied] + v[n_train:], dtype=object)
            for c, (_, v) in columns.items()
        }
    ).infer_objects()
    for c, (kind, _) in columns.items():
        cast = draw(st.sampled_from(_CASTS[kind]))
        if cast is not None and len(test):
            # (NaN into an integer dtype fails: then the inferred dtype stays.)
            with contextlib.suppress(TypeError, ValueError):
                test[c] = test[c].astype(cast)
    return train, test


@settings(max_examples=150, deadline=None)
@given(splits())
def test_shared_rows_equal_the_brute_force_oracle(split):
    train, test = split
    expected = brute_force_shared(train, test)
    found = _shared_found(check_leakage(train, test)) if len(test) else None
    if not expected:
        assert found is None
    else:
        assert found.n_rows == len(expected)
        assert found.rows == expected[:3]


def test_input_is_not_modified():
    train = pd.DataFrame({"a": [1, 2, 3], "b": pd.Categorical(["x", "y", "z"])})
    test = train.iloc[:2].astype({"a": "float64"})
    before = train.copy(), test.copy()
    check_leakage(train, test)
    pd.testing.assert_frame_equal(train, before[0])
    pd.testing.assert_frame_equal(test, before[1])


# ---- item 10: unclear errors on duplicate names and no columns --------------


def _duplicated():
    return pd.DataFrame([[1, 2, 0], [1, 2, 1], [4, 5, 0]], columns=["a", "a", "y"])


def test_check_data_quality_names_duplicate_columns():
    with pytest.raises(ValueError, match=r"df has duplicate column names 'a'"):
        check_data_quality(_duplicated())
    with pytest.raises(ValueError, match=r"df has duplicate column names 'a'"):
        check_data_quality(_duplicated(), target="y")


def test_check_leakage_names_duplicate_columns():
    # Before: no finding at all, though every test row is a training row.
    with pytest.raises(ValueError, match=r"train has duplicate column names 'a'"):
        check_leakage(_duplicated(), _duplicated())
    clean = _duplicated().set_axis(["a", "b", "y"], axis=1)
    with pytest.raises(ValueError, match=r"test has duplicate column names 'a'"):
        check_leakage(clean, _duplicated(), target="y")


def test_check_leakage_without_feature_columns():
    with pytest.raises(ValueError, match="at least one feature column, but train has none"):
        check_leakage(pd.DataFrame(index=range(3)), pd.DataFrame(index=range(2)))
    only_target = pd.DataFrame({"y": [0, 1, 0]})
    with pytest.raises(ValueError, match="none besides the target 'y'"):
        check_leakage(only_target, only_target, target="y")


def test_complex_columns_are_refused_by_the_shared_input_layer():
    # A consequence of going through utils.as_frame, as every component does.
    df = pd.DataFrame({"z": [1j, 2j], "x": [1, 2]})
    with pytest.raises(ValueError, match=r"Complex data not supported: column\(s\) 'z' of df"):
        check_data_quality(df)
    with pytest.raises(ValueError, match=r"column\(s\) 'z' of train"):
        check_leakage(df, df)
