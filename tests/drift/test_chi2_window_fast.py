"""Chi-square columns of a window in the training dtype (issue 16): the codes
of a categorical whose categories are the reference's, in order, are used
as they are, and the missing counts come from the test's own count. The
oracle is the general path: the same values as plain objects, matched to
the reference categories by ``Index.get_indexer``, and ``isna().sum()``.
"""

import numpy as np
import pandas as pd
from pandas.testing import assert_frame_equal

from mlpipe.datasets import load_credit
from mlpipe.drift import DriftDetector
from mlpipe.drift._columns import encode


def _window():
    X, _ = load_credit(return_X_y=True, unknown_as_missing=True)
    window = X.iloc[100:400].copy()
    window.loc[window.index[::7], "housing"] = np.nan
    window.loc[window.index[::5], "job"] = np.nan  # a numeric chi-square column
    return X, window


def test_training_dtype_window_equals_the_object_path():
    X, window = _window()
    detector = DriftDetector().fit(X)
    categorical = [c for c in X.columns if isinstance(X[c].dtype, pd.CategoricalDtype)]
    as_objects = window.astype({c: object for c in categorical})
    fast = detector.detect(window).to_frame()
    general = detector.detect(as_objects).to_frame()
    assert_frame_equal(fast, general)
    missing = fast[fast["test"] == "missing_rate"].set_index("feature")["statistic"]
    expected = window.isna().sum()
    for col in missing.index:
        assert missing[col] == expected[col], col
    assert {"housing", "job"} <= set(missing.index)


def test_codes_of_the_reference_categories_equal_get_indexer():
    series = pd.Series(["b", None, "a", "c", "a"], dtype=pd.CategoricalDtype(["a", "b", "c"]))
    for categories in (["a", "b", "c"], ["b", "a", "c"], ["a", "b"], [1, 2, 3]):
        codes, unseen = encode(series, categories)
        ref_codes, ref_unseen = encode(series.astype(object), categories)
        np.testing.assert_array_equal(codes, ref_codes)
        assert unseen == ref_unseen
