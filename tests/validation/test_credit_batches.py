"""Corrupted credit batches: every defect found in its column, on exactly its
rows, and no false alarm on clean held-out rows."""

import warnings

import pytest

from mlpipe.datasets import load_credit, make_credit_batch
from mlpipe.exceptions import DataQualityWarning, DataValidationError
from mlpipe.validation import Schema, SchemaValidator
from tests.validation._batches import (
    ONE_DEFECT,
    as_sets,
    credit_split,
    found,
    null_rate_jump,
    several,
)


@pytest.fixture(scope="module")
def split():
    return credit_split(random_state=0)


@pytest.fixture(scope="module")
def validator(split):
    X_train, _ = split
    return SchemaValidator().fit(X_train)


@pytest.mark.parametrize("random_state", range(5))
def test_no_false_alarm_on_held_out_rows(random_state):
    X_train, X_test = credit_split(random_state=random_state)
    validator = SchemaValidator().fit(X_train)
    out = validator.transform(X_test)  # would raise on any failure
    assert validator.last_report_.passed, validator.last_report_.message()
    assert out.equals(X_test)


def test_no_false_alarm_with_missing_values():
    X_train, X_test = credit_split(random_state=1, unknown_as_missing=True)
    validator = SchemaValidator().fit(X_train)
    assert validator.schema_["checking_account"].nullable
    validator.transform(X_test)
    assert validator.last_report_.passed


def test_exact_training_range_does_fire_on_held_out_rows():
    # Why learned ranges are not rules: the largest durations (72 months) sit
    # in one split only, so the exact training range rejects legitimate rows;
    # the learned tails do not.
    exact = learned = 0
    for random_state in range(5):
        X_train, X_test = credit_split(random_state=random_state)
        schema = Schema.infer(X_train)
        report = schema.as_rules().validate(X_test)
        exact += {f.check for f in report.failures} == {"out_of_range"}
        learned += not schema.validate(X_test).passed
    assert exact >= 1
    assert learned == 0


@pytest.mark.parametrize("defect", sorted(ONE_DEFECT))
def test_one_defect_is_found_in_its_column(defect, split, validator):
    _, X_test = split
    batch, expected = ONE_DEFECT[defect](X_test)
    with pytest.raises(DataValidationError) as info:
        validator.transform(batch)
    report = info.value.report
    assert report is validator.last_report_
    assert as_sets(found(report)) == as_sets(expected)
    for column, _check in expected:
        if column is not None:
            assert repr(column) in str(info.value)


def test_several_defects_at_once_are_all_reported(split, validator):
    _, X_test = split
    batch, expected = several(X_test)
    with pytest.raises(DataValidationError) as info:
        validator.transform(batch)
    report = info.value.report
    assert as_sets(found(report)) == as_sets(expected)
    assert len(report.failures) == 6
    # The summary names every failing column.
    message = str(info.value)
    for column, _check in expected:
        assert repr(column) in message
    rows = sorted(r for v in expected.values() if v for r in v)
    assert sorted(report.failing_rows) == rows


def test_null_rate_jump():
    X_train, X_test = credit_split(random_state=0, unknown_as_missing=True)
    validator = SchemaValidator(on_error="warn").fit(X_train)
    batch, expected = null_rate_jump(X_test)
    with pytest.warns(DataQualityWarning, match="checking_account"):
        validator.transform(batch)
    report = validator.last_report_
    assert as_sets(found(report)) == as_sets(expected)
    (failure,) = report.failures
    n_null = int(batch["checking_account"].isna().sum())
    assert failure.n_failed == n_null
    assert failure.share == pytest.approx(n_null / len(batch))


@pytest.mark.parametrize("drift", [False, True])
@pytest.mark.parametrize("random_state", [0, 1, 2])
def test_make_credit_batch_ground_truth(drift, random_state):
    X, _ = load_credit(return_X_y=True)
    validator = SchemaValidator(on_error="warn").fit(X)
    batch = make_credit_batch(500, drift=drift, random_state=random_state)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        out = validator.transform(batch.X)
    assert out.equals(batch.X)
    report = validator.last_report_
    for defect in batch.defects.itertuples():
        rows = set(report.rows_of(defect.column))
        assert set(defect.rows) <= rows, (defect.column, defect.defect)
    if not drift:
        # Rows drawn from the training data: only the injected defects fail.
        truth = {d.column: sorted(d.rows) for d in batch.defects.itertuples()}
        got = {c: sorted(report.rows_of(c)) for c in report.columns}
        assert got == truth
        assert {f.level for f in report.failures} == {"row"}


def test_drop_rows_removes_exactly_the_defective_rows(split, validator):
    _, X_test = split
    batch, expected = several(
        X_test, names=["nulls", "negative_duration", "impossible_age", "unseen_purpose"]
    )
    dropper = SchemaValidator(on_error="drop_rows").fit(split[0])
    with pytest.warns(DataQualityWarning, match="dropped 16 of 300"):
        out = dropper.transform(batch)
    bad = sorted(r for v in expected.values() for r in v)
    assert len(bad) == 16
    assert list(out.index) == [r for r in batch.index if r not in set(bad)]
    assert dropper.last_report_.n_dropped == 16
    # What is left passes.
    assert dropper.schema_.validate(out).passed
