"""What PipelineSearch does with the input of issue 14, item 9: a frame of
another dataframe library keeps its column names, and a datetime column is
refused before the search, by name."""

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_array_equal

from mlpipe.automl import PipelineSearch
from mlpipe.datasets import load_credit

TINY = dict(
    task="classification",
    search_space="light",
    generations=1,
    population_size=2,
    cv=2,
    complexity_objective=False,
    max_time_mins=2,
    random_state=0,
)


class OtherFrame:
    """What mlpipe asks of another dataframe library's frame (polars is not
    installed here): ``columns`` and ``to_pandas()``."""

    def __init__(self, frame):
        self._frame = frame

    @property
    def columns(self):
        return list(self._frame.columns)

    @property
    def shape(self):
        return self._frame.shape

    def __len__(self):
        return len(self._frame)

    def to_pandas(self):
        return self._frame.copy()


@pytest.fixture(scope="module")
def credit():
    X, y = load_credit(return_X_y=True)
    return X.iloc[:300], y.iloc[:300]


@pytest.fixture(scope="module")
def fitted_on_pandas(credit):
    X, y = credit
    return PipelineSearch(**TINY).fit(X, y)


def test_fitted_on_pandas_predicts_another_librarys_frame_by_name(fitted_on_pandas, credit):
    X, _ = credit
    assert_array_equal(fitted_on_pandas.predict(OtherFrame(X)), fitted_on_pandas.predict(X))


def test_fitted_on_another_librarys_frame_keeps_its_names(credit):
    X, y = credit
    search = PipelineSearch(**TINY).fit(OtherFrame(X), y)
    assert list(search.feature_names_in_) == list(X.columns)
    # the best pipeline is a plain scikit-learn pipeline over the user's names
    assert list(search.best_estimator_.feature_names_in_) == list(X.columns)
    assert_array_equal(search.best_estimator_.predict(X), search.predict(OtherFrame(X)))


def test_a_datetime_column_is_refused_before_the_search_by_name(credit):
    X, y = credit
    X = X.assign(applied=pd.date_range("2024-01-01", periods=len(X), freq="D"))
    with pytest.raises(TypeError, match=r"PipelineSearch cannot encode column\(s\) 'applied'"):
        PipelineSearch(**TINY).fit(X, y)


def test_a_zone_aware_datetime_column_is_refused_by_name(credit):
    X, y = credit
    when = pd.date_range("2024-01-01", periods=len(X), freq="D", tz="UTC")
    with pytest.raises(TypeError, match=r"'applied' \(datetime64\[.*UTC\]\)"):
        PipelineSearch(**TINY).fit(X.assign(applied=when), y)


def test_an_array_is_still_named_x0_x1(credit):
    X, y = credit
    numbers = X.select_dtypes("number").to_numpy(dtype=float)
    search = PipelineSearch(**TINY).fit(numbers, y)
    assert not hasattr(search, "feature_names_in_")
    names = list(search.best_estimator_.feature_names_in_)
    assert names == [f"x{i}" for i in range(numbers.shape[1])]
    assert np.isin(search.predict(numbers), search.classes_).all()
