"""Per-row reasons (issue 16, item 4): a service answering a batch of requests
predicts the rows that pass and tells each refused applicant why, so the
report says, row by row and aligned with the input's index, what failed; an
error that belongs to no row refuses the whole batch, visibly."""

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import train_test_split

import mlpipe
from mlpipe._demo import demo_schema
from mlpipe.datasets import load_credit
from mlpipe.exceptions import DataQualityWarning, DataValidationError
from mlpipe.validation import Column, Schema, SchemaValidator

COLUMNS = ["passed", "reasons", "batch_passed"]


@pytest.fixture(scope="module")
def credit():
    X, _ = load_credit(return_X_y=True)
    return X, SchemaValidator().fit(X)


def _requests(X, index):
    """Five credit rows under ``index``: row 1 too old, row 3 too old and of an
    unseen housing (a categorical dtype), the others clean."""
    frame = X.iloc[:5].copy()
    frame["housing"] = frame["housing"].cat.add_categories(["castle"])
    frame.iloc[1, frame.columns.get_loc("age")] = 999
    frame.iloc[3, frame.columns.get_loc("age")] = 120
    frame.iloc[3, frame.columns.get_loc("housing")] = "castle"
    return frame.set_axis(pd.Index(index), axis=0)


@pytest.mark.parametrize(
    "index",
    [
        [0, 1, 2, 3, 4],
        ["a", "b", "c", "d", "e"],  # a non-default index
        [7, 7, 3, 3, 7],  # repeated labels
        pd.date_range("2026-01-01", periods=5, freq="h"),
    ],
    ids=["range", "str", "duplicate_labels", "datetime"],
)
def test_row_reasons_aligned_with_the_index(credit, index):
    X, validator = credit
    requests = _requests(X, index)
    snapshot = requests.copy()
    reasons = validator.row_reasons(requests)

    assert list(reasons.columns) == COLUMNS
    assert reasons.index.equals(requests.index)
    assert reasons["passed"].dtype == bool and reasons["batch_passed"].all()
    assert reasons["passed"].tolist() == [True, False, True, False, True]
    texts = reasons["reasons"].tolist()
    assert texts[0] == texts[2] == texts[4] == ""
    assert texts[1] == "age out of range [19, 75]: 999"
    # both failures of row 3, in the order the checks ran, "; "-joined
    assert texts[3] == "housing unseen category: 'castle'; age out of range [19, 75]: 120"
    pd.testing.assert_frame_equal(requests, snapshot)


def test_row_reasons_agree_with_the_report_and_with_drop_rows(credit):
    # Oracle: the rows drop_rows keeps are exactly the rows that passed.
    X, _ = credit
    validator = SchemaValidator(on_error="drop_rows").fit(X)
    requests = _requests(X, [10, 10, 11, 12, 10])
    with pytest.warns(DataQualityWarning, match="dropped 2 of 5"):
        kept = validator.transform(requests)
    reasons = validator.last_report_.row_reasons()
    assert reasons.index.equals(requests.index)
    pd.testing.assert_frame_equal(kept, requests[reasons["passed"].to_numpy()])
    assert (~reasons["passed"]).sum() == len(validator.last_report_.failing_rows)


def test_a_batch_without_failures(credit):
    X, validator = credit
    batch = X.iloc[100:140].set_axis(np.arange(40) * 3 + 1000, axis=0)
    reasons = validator.row_reasons(batch)
    assert reasons.index.equals(batch.index)
    assert reasons["passed"].all() and reasons["batch_passed"].all()
    assert (reasons["reasons"] == "").all()
    assert reasons["reasons"].map(type).eq(str).all()


def test_a_failure_of_no_row_refuses_every_row_visibly(credit):
    X, validator = credit
    requests = _requests(X, list("vwxyz"))
    requests["duration"] = requests["duration"].astype(str) + " months"  # a dtype change
    reasons = validator.row_reasons(requests)
    assert not reasons["batch_passed"].any() and not reasons["passed"].any()
    batch = "batch: 'duration': dtype: "
    assert reasons["reasons"].str.contains(batch, regex=False).all()
    # a row's own reasons come first, the batch's after them
    assert reasons.loc["w", "reasons"].startswith("age out of range [19, 75]: 999; " + batch)
    assert reasons.loc["v", "reasons"].startswith(batch)
    # the same through the error drop_rows raises, which carries the report
    strict = SchemaValidator(on_error="drop_rows").fit(X)
    with pytest.raises(DataValidationError) as info:
        strict.transform(requests)
    pd.testing.assert_frame_equal(info.value.report.row_reasons(), reasons)
    assert [f.check for f in info.value.report.batch_errors] == ["dtype"]


def test_a_missing_column_refuses_the_batch(credit):
    X, validator = credit
    reasons = validator.row_reasons(X.iloc[:3].drop(columns="age"))
    assert not reasons["passed"].any()
    assert (
        reasons["reasons"]
        == "batch: 'age': missing_column: 3 row(s) (100.0%) is missing from the batch"
    ).all()


def test_declared_non_null_and_warnings(credit):
    X, _ = credit
    validator = SchemaValidator(schema=demo_schema(X)).fit(X)
    requests = X.iloc[:3].copy()
    requests["credit_amount"] = requests["credit_amount"].astype("float64")
    requests.iloc[2, requests.columns.get_loc("credit_amount")] = np.nan
    reasons = validator.row_reasons(requests)
    assert reasons["passed"].tolist() == [True, True, False]
    assert reasons["reasons"].iloc[2] == "credit_amount missing, where a value is required"

    # A warned row passes: only errors refuse.
    y = load_credit(return_X_y=True)[1]
    X_train, X_test = train_test_split(X, test_size=0.25, random_state=0, stratify=y)
    learned = SchemaValidator(on_error="warn").fit(X_train)
    requests = X_test[X_test["credit_amount"] == X_test["credit_amount"].max()]
    with pytest.warns(DataQualityWarning, match="credit_amount"):
        learned.transform(requests)
    report = learned.last_report_
    assert report.passed and report.warnings  # a warning, not an error
    reasons = report.row_reasons()
    assert reasons["passed"].all() and reasons.index.equals(requests.index)


def test_array_input_and_declared_range():
    schema = Schema([Column(0, dtype="float64", min=0, max=1), Column(1, dtype="float64")])
    validator = SchemaValidator(schema=schema).fit(np.array([[0.5, 1.0], [0.2, 3.0]]))
    X = np.array([[0.5, 1.0], [1.5, 2.0], [np.inf, 0.0]])
    before = X.copy()
    reasons = validator.row_reasons(X)
    assert reasons.index.equals(pd.RangeIndex(3))
    assert reasons["passed"].tolist() == [True, False, False]
    assert reasons["reasons"].tolist() == ["", "0 out of range [0, 1]: 1.5", "0 infinite: inf"]
    np.testing.assert_array_equal(X, before)


def test_a_saved_report_still_gives_row_reasons(credit, tmp_path):
    # The failing values are not saved: a loaded report names the failures
    # without them.
    X, _ = credit
    validator = SchemaValidator(on_error="drop_rows").fit(X)
    requests = _requests(X, list("abcde"))
    with pytest.warns(DataQualityWarning):
        validator.transform(requests)
    mlpipe.save(validator, tmp_path / "validator.skops")
    loaded = mlpipe.load(tmp_path / "validator.skops")
    reasons = loaded.last_report_.row_reasons()
    assert reasons.index.equals(requests.index)
    assert reasons["passed"].tolist() == [True, False, True, False, True]
    assert reasons.loc["b", "reasons"] == "age out of range [19, 75]"


def test_row_reasons_needs_a_fitted_validator():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        SchemaValidator().row_reasons(pd.DataFrame({"a": [1]}))
