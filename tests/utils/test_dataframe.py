"""mlpipe.utils.as_frame, the one frame coercion, and every component that
coerces through it: list input keeps its missing values."""

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_array_equal
from pandas.testing import assert_frame_equal
from sklearn.compose import make_column_transformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder

from mlpipe.fairness import check_bias
from mlpipe.impute import GroupImputer, TypedImputer
from mlpipe.utils._dataframe import CATEGORICAL, as_frame, column_kind, to_array
from mlpipe.validation import SchemaValidator

ROWS = [["a", 1.0], ["b", None], [np.nan, 3.0], ["a", 4.0]]


# -- as_frame ---------------------------------------------------------------


def test_list_keeps_missing_values_and_gets_pandas_dtypes():
    frame = as_frame(ROWS)
    # The oracle: pandas' own constructor from a list of rows.
    assert_frame_equal(frame, pd.DataFrame(ROWS))
    assert frame.isna().to_numpy().tolist() == [
        [False, False],
        [False, True],
        [True, False],
        [False, False],
    ]
    assert frame[1].dtype == np.float64
    # np.asarray, the old path, turns that NaN into the string "nan".
    assert "nan" in np.asarray([["a"], [np.nan]]).ravel().tolist()
    assert "nan" not in frame[0].tolist()


def test_object_array_is_typed_like_a_list_and_a_tuple_like_a_list():
    assert_frame_equal(as_frame(np.array(ROWS, dtype=object)), pd.DataFrame(ROWS))
    assert_frame_equal(as_frame(tuple(map(tuple, ROWS))), pd.DataFrame(ROWS))


def test_numeric_array_is_viewed_not_copied():
    X = np.arange(6.0).reshape(3, 2)
    frame = as_frame(X)
    assert np.shares_memory(frame.to_numpy(), X)
    assert frame.columns.tolist() == [0, 1]


def test_frame_is_returned_as_it_is():
    X = pd.DataFrame({"a": [1, 2]})
    assert as_frame(X) is X


def test_names_label_arrays_and_must_fit_the_column_count():
    assert as_frame([[1, 2]], names=["x", "y"]).columns.tolist() == ["x", "y"]
    with pytest.raises(ValueError, match="has 2 columns but the model was fitted on 3"):
        as_frame([[1, 2]], names=["x", "y", "z"], caller="the model")


def test_mixed_types_in_one_column_stay_object_and_count_as_categorical():
    frame = as_frame([[1, "x"], ["y", None], ["y", "z"]])
    assert frame[0].dtype == object
    assert frame[0].tolist() == [1, "y", "y"]
    assert column_kind(frame[0]) == CATEGORICAL
    # And the imputer fills such a column like any categorical one.
    out = TypedImputer().fit_transform([[1, 2.0], ["y", np.nan], ["y", 4.0], [None, 5.0]])
    assert out[:, 0].tolist() == [1, "y", "y", "y"]
    assert out[:, 1].tolist() == [2.0, 4.0, 4.0, 5.0]


def test_tz_aware_datetimes_keep_their_zone_and_are_imputed():
    t = pd.Timestamp("2024-01-01", tz="Europe/Oslo")
    rows = [[t], [None], [t + pd.Timedelta(days=2)]]
    frame = as_frame(rows)
    assert isinstance(frame[0].dtype, pd.DatetimeTZDtype)
    assert str(frame[0].dtype.tz) == "Europe/Oslo"
    assert frame[0].isna().tolist() == [False, True, False]
    out = TypedImputer().fit_transform(rows)
    assert out[1, 0] == t + pd.Timedelta(days=1)  # the median, in its zone


def test_datetimes_in_several_time_zones_are_an_error():
    rows = [[pd.Timestamp("2024-01-01", tz="UTC")], [pd.Timestamp("2024-01-01", tz="Asia/Tokyo")]]
    with pytest.raises(TypeError, match=r"several time zones \(Asia/Tokyo, UTC\)"):
        as_frame(rows)
    with pytest.raises(TypeError, match="several time zones"):
        TypedImputer().fit(rows)


def test_duplicate_names_are_an_error_unless_allowed():
    X = pd.DataFrame([[1, 2, 3]], columns=["a", "b", "a"])
    with pytest.raises(ValueError, match=r"duplicate column names 'a'.*by TypedImputer"):
        as_frame(X, caller="TypedImputer")
    with pytest.raises(ValueError, match="duplicate column names 'a'"):
        TypedImputer().fit(X)
    assert as_frame(X, allow_duplicate_names=True) is X


@pytest.mark.parametrize(
    ("X", "message"),
    [
        (5, "Expected 2D array, got scalar array"),
        ([1.0, np.nan], "Expected 2D array, got 1D array"),
        ([[1, 2], [3]], r"rows of different lengths \[1, 2\]"),
        (np.zeros((2, 2, 2)), "Found array with dim 3"),
        ([[1 + 2j]], "Complex data not supported"),
    ],
)
def test_bad_shapes_and_values(X, message):
    with pytest.raises(ValueError, match=message):
        as_frame(X)


def test_sparse_is_a_type_error():
    from scipy import sparse

    with pytest.raises(TypeError, match="sparse matrix"):
        as_frame(sparse.csr_matrix(np.eye(2)))


def test_to_array_is_writable_and_never_the_input_memory():
    X = np.arange(6.0).reshape(3, 2)
    out = to_array(as_frame(X))
    assert out.flags.writeable
    assert not np.shares_memory(out, X)


# -- every component that coerces through it --------------------------------


def test_typed_imputer_imputes_nan_in_list_input_as_simple_imputer():
    # Regression (issue 12): the list went through np.asarray, so the NaN
    # became the string "nan" and was never imputed.
    rows = [["a", "b"], ["c", np.nan]]
    out = TypedImputer().fit_transform(rows)
    expected = SimpleImputer(strategy="most_frequent").fit_transform(np.array(rows, dtype=object))
    assert_array_equal(out, expected)
    assert out[1, 1] == "b"


def test_typed_imputer_list_with_none_and_numbers_matches_simple_imputer():
    # None in the numbers, NaN in the words: SimpleImputer's defaults read both
    # as missing there (mlpipe reads either anywhere).
    rows = [[1.0, "x"], [None, "y"], [5.0, np.nan], [2.0, "y"]]
    out = TypedImputer().fit_transform(rows)
    numbers = SimpleImputer(strategy="median").fit_transform([[r[0]] for r in rows])
    words = SimpleImputer(strategy="most_frequent").fit_transform(
        np.array([[r[1]] for r in rows], dtype=object)
    )
    assert out[:, 0].astype(float).tolist() == numbers.ravel().tolist()
    assert out[:, 1].tolist() == words.ravel().tolist()


@pytest.mark.parametrize("imputer", [TypedImputer(), GroupImputer(by=0)])
def test_imputer_transform_of_an_array_is_writable(imputer):
    # Regression (issue 12): the output was a read-only view (pandas
    # copy-on-write); SimpleImputer's is writable.
    X = np.array([[1.0, np.nan], [1.0, 3.0], [2.0, 5.0]])
    out = imputer.fit(X).transform(X)
    assert SimpleImputer().fit(X).transform(X).flags.writeable
    assert out.flags.writeable
    out[0, 0] = -1.0  # no error, and the input is untouched
    assert X[0, 0] == 1.0


def test_group_imputer_imputes_nan_in_list_input():
    # Regression: np.asarray made every value a string, "nan" and "1" alike.
    rows = [[1, "a"], [1, np.nan], [1, "a"], [2, "b"], [2, "b"]]
    out = GroupImputer(by=0).fit_transform(rows)
    assert out.tolist() == [[1, "a"], [1, "a"], [1, "a"], [2, "b"], [2, "b"]]
    rows[4][1] = None
    assert GroupImputer(by=0).fit_transform(rows)[4, 1] == "b"


def test_validator_sees_nan_in_list_input_as_missing():
    # Regression: a NaN among strings was the unseen category "nan".
    # (Declared non-nullable: learned from three rows, one missing value in
    # two rows would be no surprise.)
    rows = [["a", 1.0], ["b", 2.0], ["a", 3.0]]
    schema = SchemaValidator().fit(rows).schema_
    for column in schema.columns:
        column.nullable = False
    validator = SchemaValidator(schema=schema, on_error="warn").fit(rows)
    batch = [["a", 1.0], [np.nan, None]]
    with pytest.warns(UserWarning, match="nulls"):
        out = validator.transform(batch)
    checks = {(f.column, f.check) for f in validator.last_report_.failures}
    assert checks == {(0, "nulls"), (1, "nulls")}
    # The batch passes through as an array that keeps the missing values.
    assert pd.isna(out[1, 0]) and pd.isna(out[1, 1])
    assert out.flags.writeable


def test_validator_learns_the_same_schema_from_a_list_as_from_its_frame():
    rows = [["a", 1.0], ["b", None], ["a", 3.0]]
    from_list = SchemaValidator().fit(rows).schema_.to_dict()
    from_frame = SchemaValidator().fit(pd.DataFrame(rows)).schema_.to_dict()
    assert from_list == from_frame
    assert from_list["columns"][1]["dtype"] == "float64"


def test_check_bias_of_a_list_equals_check_bias_of_its_frame():
    rows = [["f", 1.0, None], ["m", np.nan, "x"], ["f", 3.0, "y"], ["m", 4.0, "x"]] * 5
    y = [0, 1, 1, 0] * 5
    groups = [r[0] for r in rows]
    from_list = check_bias(rows, y, sensitive_features=groups, n_permutations=2)
    from_frame = check_bias(pd.DataFrame(rows), y, sensitive_features=groups, n_permutations=2)
    assert_frame_equal(from_list.to_frame(), from_frame.to_frame())
    assert_frame_equal(from_list.proxies, from_frame.proxies)


def test_explain_keeps_nan_of_list_input():
    pytest.importorskip("shap")
    from mlpipe.explain import explain

    X = np.array([["a", 1.0], ["b", 2.0], ["a", 3.0], ["b", 0.0]] * 10, dtype=object)
    y = np.array([0, 1, 0, 1] * 10)
    model = make_pipeline(
        make_column_transformer(
            (
                make_pipeline(
                    SimpleImputer(strategy="most_frequent"), OneHotEncoder(handle_unknown="ignore")
                ),
                [0],
            ),
            (SimpleImputer(), [1]),
        ),
        LogisticRegression(),
    ).fit(X, y)
    # Regression: np.asarray made these all strings ("nan", "2.0").
    rows = [["a", 1.0], [np.nan, 2.0], ["b", np.nan]]
    explanation = explain(model, rows, background=X, output="log_odds")
    assert explanation.data.isna().to_numpy().tolist() == [
        [False, False],
        [True, False],
        [False, True],
    ]
    assert explanation.data[1].dtype == np.float64
    # The explanation is of what the model says for those missing values.
    expected = model.decision_function(np.array(rows, dtype=object))
    total = explanation.base_values.ravel() + explanation.values.sum(axis=1).ravel()
    np.testing.assert_allclose(total, expected, rtol=1e-6)
