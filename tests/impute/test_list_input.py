"""Regression tests: list input keeps its gaps, ndarray output is writable
(issue 12: list input went through np.asarray and its NaN became 'nan';
transform of an ndarray returned a read-only array)."""

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.impute import SimpleImputer

from mlpipe.impute import GroupImputer, TypedImputer


def test_list_with_nan_is_imputed_like_simple_imputer():
    X = [["a", "b"], ["c", np.nan], ["a", "b"]]
    ours = TypedImputer().fit_transform(X)
    oracle = SimpleImputer(strategy="most_frequent").fit_transform(np.array(X, dtype=object))
    assert_array_equal(np.asarray(ours, dtype=object), oracle)
    assert "nan" not in {str(v) for v in np.ravel(ours)}


def test_list_with_none_is_imputed():
    out = TypedImputer().fit_transform([["a", 1.0], [None, 3.0], ["a", None]])
    assert not any(v is None or v != v for v in np.ravel(np.asarray(out, dtype=object)))


@pytest.mark.parametrize("make", [TypedImputer, lambda: GroupImputer(by=0)])
def test_ndarray_output_is_writable(make):
    X = np.array([[0.0, 1.0], [0.0, np.nan], [1.0, 2.0], [1.0, 4.0]])
    out = make().fit(X).transform(X)
    assert isinstance(out, np.ndarray)
    assert out.flags.writeable
    out[0, 0] = 5.0  # a caller may edit what it got back, as with SimpleImputer
