"""``set_output(transform="pandas")`` never renames the caller's frame
(issue 14, item 5).

scikit-learn's set_output wrapper sets ``.columns`` on what ``transform``
returns. A pass-through step that returned the caller's own DataFrame had it
renamed ``x0, x1, ...`` when its labels were not strings, and the next
``predict(X)`` failed with ``KeyError: 0``. Every public transformer of mlpipe
is run here (found by walking the package), the pass-through ones
(DriftMonitor, SchemaValidator) being those that failed.
"""

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_array_equal
from pandas.testing import assert_frame_equal
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from mlpipe.drift import DriftMonitor
from mlpipe.validation import SchemaValidator
from tests._registry import all_estimators, make_instance

TRANSFORMERS = [
    (name, cls)
    for name, cls in all_estimators()
    if hasattr(cls, "transform") and hasattr(cls, "set_output")
]


def test_the_pass_through_steps_are_among_the_transformers():
    names = {name for name, _ in TRANSFORMERS}
    assert {"DriftMonitor", "SchemaValidator"} <= names


def _integer_labelled(n=200, seed=0):
    """``pd.DataFrame(array)``: columns labelled 0, 1, 2. Column 0 holds a few
    whole numbers, so GroupImputer(by=0) of the registry has real groups."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(n, 3)))
    X[0] = rng.integers(0, 3, n).astype("float64")
    y = (X[1] + rng.normal(scale=0.5, size=n) > 0).astype(int).to_numpy()
    return X, y


@pytest.mark.parametrize("name, cls", TRANSFORMERS)
def test_set_output_pandas_leaves_the_callers_frame_alone(name, cls):
    X, y = _integer_labelled()
    original = X.copy(deep=True)
    step = clone(make_instance(cls)).set_output(transform="pandas")

    out = step.fit_transform(X, y)
    assert_frame_equal(X, original)  # labels, values and dtypes
    assert list(out.columns) == list(step.get_feature_names_out())

    out = step.transform(X)
    assert_frame_equal(X, original)
    assert list(X.columns) == [0, 1, 2]
    assert list(out.columns) == list(step.get_feature_names_out())


@pytest.mark.parametrize("name, cls", TRANSFORMERS)
def test_a_pipeline_with_pandas_output_predicts_twice(name, cls):
    X, y = _integer_labelled()
    original = X.copy(deep=True)
    step = clone(make_instance(cls)).set_output(transform="pandas")
    model = make_pipeline(step, LogisticRegression()).fit(X, y)
    first = model.predict(X)
    second = model.predict(X)  # was KeyError: 0 after the first renamed X
    assert_array_equal(first, second)
    assert_frame_equal(X, original)
    # the same predictions as without the step's pandas output
    plain = make_pipeline(clone(make_instance(cls)), LogisticRegression()).fit(X, y)
    assert_array_equal(first, plain.predict(X))


@pytest.mark.parametrize("step", [DriftMonitor(warn=False), SchemaValidator(on_error="warn")])
def test_pass_through_still_shares_the_data(step):
    # The output is a new frame object, not a copy of the data.
    X, _ = _integer_labelled()
    step = clone(step).fit(X)
    out = step.transform(X)
    assert out is not X
    assert_frame_equal(out, X)
    assert np.shares_memory(out[1].to_numpy(), X[1].to_numpy())
