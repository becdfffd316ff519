"""``fill_direct`` (the fill a one-row call takes) against pandas' own
``fillna`` on the same column: same values, dtype, index and name, the input
untouched; the cases it does not take are left to ``fillna``."""

import numpy as np
import pandas as pd
import pytest

from mlpipe.impute._base import fill, fill_direct
from mlpipe.utils._dataframe import series_array


def _oracle(series, value):
    return series.fillna(value)


CASES = {
    "categorical, value among categories": (
        pd.Series(pd.Categorical(["a", None, "b", None], categories=["b", "a", "c"]), name="s"),
        "c",
    ),
    "ordered categorical": (
        pd.Series(pd.Categorical([None, "lo", "hi"], categories=["lo", "hi"], ordered=True)),
        "hi",
    ),
    "integer categories": (pd.Series(pd.Categorical([1, None, 3]), index=[7, 3, 9]), 3),
    "float64": (pd.Series([1.5, np.nan, -2.0, np.nan], name=("a", 1)), 0.25),
    "float64, integer value": (pd.Series([np.nan, 2.0]), 4),
    "float64, numpy value": (pd.Series([np.nan, 2.0]), np.float32(0.1)),
    "float64, infinite value": (pd.Series([np.nan, 2.0]), np.inf),
    "one row": (pd.Series([np.nan], index=["r"]), 1e300),
    "datetime categories, a string value": (
        pd.Series(pd.Categorical([pd.Timestamp("2020-01-01"), None])),
        "2020-01-01",
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_fill_direct_matches_fillna(case):
    series, value = CASES[case]
    before = series.copy(deep=True)
    array = series_array(series)
    out = fill_direct(array, value, series.isna().to_numpy())
    assert out is not None
    got = pd.Series(out, index=series.index, name=series.name)
    pd.testing.assert_series_equal(got, _oracle(series, value), check_exact=True)
    pd.testing.assert_series_equal(series, before)  # the input is not written to
    # fill (which takes fill_direct) gives pandas' result too
    pd.testing.assert_series_equal(fill(series, value), _oracle(series, value), check_exact=True)


_INTERVALS = pd.IntervalIndex.from_tuples([(0, 1), (2, 3)])

DECLINED = {
    "value not among the categories": (pd.Series(pd.Categorical(["a", None])), "z"),
    "unhashable value": (pd.Series(pd.Categorical(["a", None])), ["a"]),
    "boolean into float": (pd.Series([np.nan, 1.0]), True),
    "string into float": (pd.Series([np.nan, 1.0]), "x"),
    "float32": (pd.Series([np.nan, 1.0], dtype="float32"), 0.5),
    "nullable Float64": (pd.Series([None, 1.0], dtype="Float64"), 0.5),
    "object": (pd.Series(["a", None], dtype=object), "b"),
    "Series value": (pd.Series([np.nan, 1.0]), pd.Series([3.0, 4.0])),
    # get_loc finds 0.5 in (0, 1]; fillna refuses it as a new category
    "a point inside an interval category": (
        pd.Series(pd.Categorical([pd.Interval(0, 1), None], categories=_INTERVALS)),
        0.5,
    ),
}


@pytest.mark.parametrize("case", DECLINED)
def test_fill_direct_leaves_other_cases_to_fillna(case):
    series, value = DECLINED[case]
    assert fill_direct(series_array(series), value, series.isna().to_numpy()) is None


def test_a_point_in_an_interval_category_is_added_as_a_new_category():
    # 0.5 is not among the categories: fill adds it, as for any new value,
    # instead of writing the code of the interval holding it
    series, value = DECLINED["a point inside an interval category"]
    expected = series.cat.add_categories([value]).fillna(value)
    pd.testing.assert_series_equal(fill(series, value), expected, check_exact=True)
    assert fill(series, value).tolist() == [pd.Interval(0, 1), 0.5]
