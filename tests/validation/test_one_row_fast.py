"""The small-batch path of the validator (issue 16: <= 0.3 ms per 1-row call).

A batch of at most ``MAX_ROWS`` rows is read row by row and certified clean
without the general, per-column checks; anything a check could fail on falls
back to them. The oracle is the general path itself, forced by switching the
small-batch path off: every outcome (the output, the report and its table,
the row reasons, the error and its message, the warnings) must be the same.
"""

import warnings

import numpy as np
import pandas as pd
import pytest

from mlpipe.datasets import load_credit
from mlpipe.exceptions import DataValidationError
from mlpipe.validation import Schema, SchemaValidator, _checks, _validator
from mlpipe.validation._small_batch import MAX_ROWS


@pytest.fixture(scope="module")
def X():
    return load_credit(return_X_y=True, unknown_as_missing=True)[0]


@pytest.fixture(scope="module")
def validators(X):
    declared = Schema.infer(X)
    declared["credit_amount"].nullable = False
    declared["age"].nullable = False
    rules = Schema.infer(X).as_rules(tolerance=0.1)
    return {
        "learned": SchemaValidator().fit(X),
        "declared": SchemaValidator(schema=declared).fit(X),
        "rules": SchemaValidator(schema=rules).fit(X),
        "warn": SchemaValidator(on_error="warn").fit(X),
        "drop_rows": SchemaValidator(on_error="drop_rows").fit(X),
        # an error rate above the warning rate: errors are the quieter bound
        "alpha_above_warn": SchemaValidator(alpha=0.9, warn_alpha=0.2).fit(X),
    }


def _general_only(monkeypatch):
    """Switch the small-batch path off, leaving the general checks."""
    monkeypatch.setattr(_checks, "small_batch_report", lambda *args: None)
    monkeypatch.setattr(_validator, "small_batch_report", lambda *args: None)


def _report_state(report):
    return {
        "frame": report.to_frame(),
        "message": report.message(),
        "passed": report.passed,
        "n_rows": report.n_rows,
        "n_columns": report.n_columns,
        "n_dropped": report.n_dropped,
        "failing_rows": report.failing_rows,
        "row_mask": report._row_mask,
        "index": report._index,
        "row_reasons": report.row_reasons(),
    }


def _outcome(validator, batch, method="transform"):
    """Everything a caller sees of one call."""
    before = batch.copy(deep=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            out, error = getattr(validator, method)(batch), None
        except (ValueError, TypeError) as exc:
            out, error = None, exc
    pd.testing.assert_frame_equal(batch, before)  # the caller's data is untouched
    result = {
        "out": out,
        "error": None if error is None else (type(error), str(error)),
        "warnings": [(w.category, str(w.message)) for w in caught],
    }
    if isinstance(error, DataValidationError):
        result["error_report"] = _report_state(error.report)
    if method == "transform" and hasattr(validator, "last_report_"):
        result["last_report"] = _report_state(validator.last_report_)
    return result


def _assert_same(fast, general):
    assert fast.keys() == general.keys()
    for key in fast:
        a, b = fast[key], general[key]
        if isinstance(a, pd.DataFrame):
            pd.testing.assert_frame_equal(a, b)
        elif isinstance(a, dict):
            _assert_same(a, b)
        elif isinstance(a, pd.Index):
            pd.testing.assert_index_equal(a, b, exact=True)
        elif isinstance(a, np.ndarray):
            np.testing.assert_array_equal(a, b)
            assert a.dtype == b.dtype
        else:
            assert a == b, key


def _compare(monkeypatch, validator, batch, method="transform"):
    fast = _outcome(validator, batch, method)
    with monkeypatch.context() as m:
        _general_only(m)
        general = _outcome(validator, batch, method)
    _assert_same(fast, general)
    return fast


def test_every_clean_credit_row_is_certified_without_the_column_checks(monkeypatch, X, validators):
    """Each clean credit row, alone, passes by the small-batch path: the
    general per-column checks never run (they did on every row before)."""

    def column_checks_ran(*args, **kwargs):
        raise AssertionError("the general column checks ran on a clean row")

    monkeypatch.setattr(_checks, "_check_column", column_checks_ran)
    complete = ~X.isna().any(axis=1).to_numpy()
    for name in ("learned", "declared", "rules", "warn", "drop_rows"):
        validator = validators[name]
        for i in range(0, len(X), 1 if name == "learned" else 5):
            if name == "rules" and not complete[i]:
                continue  # as a rule, a 1-row batch may not be 100% missing
            row = X.iloc[[i]]
            out = validator.transform(row)
            pd.testing.assert_frame_equal(out, row)
            assert out is not row
            assert validator.last_report_.failures == []


@pytest.mark.parametrize(
    ("name", "step"), [("learned", 2), ("declared", 9), ("rules", 9), ("alpha_above_warn", 9)]
)
def test_credit_rows_alone_match_the_general_path(monkeypatch, X, validators, name, step):
    for i in range(0, len(X), step):
        _compare(monkeypatch, validators[name], X.iloc[[i]])


def _with(row, column, value, dtype=None):
    row = row.copy()
    if dtype is not None:
        row[column] = row[column].astype(dtype)
    elif isinstance(row[column].dtype, pd.CategoricalDtype):
        row[column] = row[column].astype(object)
    row[column] = pd.Series([value], index=row.index, dtype=dtype or row[column].dtype)
    return row


def _bad_rows(X):
    """One-row batches, each broken in one way (or, last, a clean one made of
    other dtypes), from a row with no missing value."""
    row = X.iloc[[1]]
    assert not row.isna().any(axis=None)
    aware = pd.Timestamp("2024-05-01 12:00", tz="Europe/Oslo")
    return {
        "out_of_range": _with(row, "age", 999),
        "far_below": _with(row, "age", -1),
        "just_beyond_max": _with(row, "age", int(X["age"].max()) + 1),
        "unseen_category_text": _with(row, "purpose", "crypto"),
        "unseen_category_dtype": row.assign(
            purpose=pd.Categorical(
                ["crypto"], categories=[*row["purpose"].cat.categories, "crypto"]
            )
        ),
        "unused_unseen_category_in_dtype": row.assign(
            purpose=row["purpose"].cat.add_categories(["crypto"])
        ),
        "category_as_text": row.assign(housing=row["housing"].astype("str")),
        "category_as_object": row.assign(housing=row["housing"].astype(object)),
        "declared_non_null_missing": _with(row, "credit_amount", np.nan, "float64"),
        "missing_category": row.assign(
            checking_account=row["checking_account"].where(np.zeros(1, bool))
        ),
        "missing_category_as_object": _with(row, "checking_account", np.nan),
        "amount_as_text": _with(row, "credit_amount", "n/a", "str"),
        "number_as_text": _with(row, "credit_amount", "1200", "str"),
        "fractional_integer": _with(row, "duration", 12.5, "float64"),
        "whole_float": _with(row, "duration", 12.0, "float64"),
        "nan": _with(row, "age", np.nan, "float64"),
        "inf": _with(row, "credit_amount", np.inf, "float64"),
        "minus_inf": _with(row, "credit_amount", -np.inf, "float64"),
        "nullable_integer_missing": _with(row, "age", pd.NA, "Int64"),
        "nullable_integer": _with(row, "age", 40, "Int64"),
        "boolean_for_number": _with(row, "job", True, "bool"),
        "missing_column": row.drop(columns="duration"),
        "extra_column": row.assign(customer_id=7),
        "reordered_columns": row[list(row.columns[::-1])],
        "duplicate_column": pd.concat([row, row[["age"]]], axis=1),
        "tz_aware_datetime": _with(row, "age", aware, "datetime64[ns, Europe/Oslo]"),
        "naive_datetime": _with(row, "age", pd.Timestamp("2024-05-01"), "datetime64[ns]"),
        "mixed_types": _with(row, "purpose", 5, object),
        "complex": _with(row, "age", 1 + 2j, "complex128"),
        "integer_labels": row.set_axis(range(row.shape[1]), axis=1),
        "other_index": row.set_axis(pd.Index(["applicant-7"], name="id")),
    }


@pytest.mark.parametrize(
    "case", list(_bad_rows(load_credit(return_X_y=True, unknown_as_missing=True)[0]))
)
@pytest.mark.parametrize("name", ["learned", "declared", "rules", "warn", "drop_rows"])
def test_bad_rows_match_the_general_path(monkeypatch, X, validators, case, name):
    batch = _bad_rows(X)[case]
    _compare(monkeypatch, validators[name], batch)
    _compare(monkeypatch, validators[name], batch, method="row_reasons")


def test_rules_refuse_a_bad_row_alone(monkeypatch, X, validators):
    """The comparison above is not of two silent paths: the rows break rules."""
    rows = _bad_rows(X)
    for case, check in [
        ("out_of_range", "out_of_range"),
        ("far_below", "out_of_range"),
        ("declared_non_null_missing", "nulls"),
        ("amount_as_text", "dtype"),
        ("inf", "inf"),
        ("fractional_integer", "non_integer"),
        ("missing_column", "missing_column"),
        ("reordered_columns", "column_order"),
    ]:
        outcome = _compare(monkeypatch, validators["declared"], rows[case])
        assert outcome["error"] is not None and outcome["error"][0] is DataValidationError
        assert check in set(outcome["error_report"]["frame"]["check"]), case


@pytest.mark.parametrize("n", [2, 5, MAX_ROWS, MAX_ROWS + 1])
def test_small_batches_match_the_general_path(monkeypatch, X, validators, n):
    rng = np.random.default_rng(n)
    bad = _bad_rows(X)
    for _ in range(10):
        batch = X.iloc[rng.choice(len(X), size=n, replace=False)]
        for name in ("learned", "declared", "drop_rows"):
            _compare(monkeypatch, validators[name], batch)
        # one bad value among clean rows
        broken = batch.copy()
        broken["age"] = broken["age"].astype("float64")
        broken.iloc[rng.integers(n), broken.columns.get_loc("age")] = rng.choice(
            [999.0, -1.0, np.nan, np.inf, 30.5]
        )
        for name in ("learned", "declared", "drop_rows"):
            _compare(monkeypatch, validators[name], broken)
    # a batch whose rows repeat, against a key and a unique column
    unique = Schema.infer(X)
    unique["credit_amount"].unique = True
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the training data repeats both
        keyed = SchemaValidator(key=["age", "credit_amount"]).fit(X)
        unique = SchemaValidator(schema=unique).fit(X)
    repeated = pd.concat([bad["whole_float"].astype({"duration": "int64"})] * n)
    for validator in (keyed, unique):
        _compare(monkeypatch, validator, repeated)
        _compare(monkeypatch, validator, X.iloc[:n])


def test_schema_validate_takes_the_same_path(monkeypatch, X):
    schema = Schema.infer(X)
    for i in range(0, len(X), 7):
        row = X.iloc[[i]]
        fast = _report_state(schema.validate(row))
        with monkeypatch.context() as m:
            _general_only(m)
            general = _report_state(schema.validate(row))
        _assert_same(fast, general)


def test_a_schema_edited_in_place_is_checked_as_edited(monkeypatch, X):
    """The plan made from a schema is not used once the schema has changed."""
    row = X.iloc[[1]]
    validator = SchemaValidator().fit(X)
    validator.transform(row)
    validator.schema_["purpose"].categories.remove(row["purpose"].iloc[0])
    validator.schema_["purpose"].category_counts = None
    with pytest.raises(DataValidationError, match="unseen_category"):
        validator.transform(row)

    missing = X.iloc[[int(np.flatnonzero(X["saving_accounts"].isna().to_numpy())[0])]]
    validator = SchemaValidator().fit(X)
    validator.transform(missing)
    validator.schema_["saving_accounts"].nullable = False
    with pytest.raises(DataValidationError, match="nulls"):
        validator.transform(missing)

    validator = SchemaValidator().fit(X)
    validator.transform(row)
    validator.schema_["age"].max = 30
    validator.schema_["age"].n_train = None
    validator.set_params(alpha=0.5)
    for i in range(40):
        _compare(monkeypatch, validator, X.iloc[[i]])


def test_user_checks_and_patterns_run_on_small_batches(monkeypatch, X):
    def adult(values):
        return values >= 21

    schema = Schema.infer(X)
    schema["age"].checks = (adult,)
    schema["housing"].regex = "own|rent"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the training data has both
        validator = SchemaValidator(schema=schema, on_error="warn").fit(X)
    for i in range(30):
        outcome = _compare(monkeypatch, validator, X.iloc[[i]])
        if X["age"].iloc[i] < 21 or X["housing"].iloc[i] == "free":
            assert outcome["warnings"], i


def test_a_saved_validator_keeps_no_plan_and_checks_alike(tmp_path, X):
    import mlpipe

    validator = SchemaValidator().fit(X)
    validator.transform(X.iloc[[0]])
    path = tmp_path / "validator.skops"
    mlpipe.save(validator, path)
    loaded = mlpipe.load(path)
    # loading adds only what the store records name the model by
    assert set(vars(loaded)) - {"_mlpipe_store_context"} == set(vars(validator))
    for i in range(20):
        _assert_same(
            _outcome(loaded, X.iloc[[i]]),
            _outcome(validator, X.iloc[[i]]),
        )


def test_dtype_kind_is_the_kind_of_every_column_of_the_dtype():
    """The small-batch paths read a column's kind from its dtype (kept per
    dtype); it is column_kind's for every dtype but object, asked twice."""
    import decimal

    from mlpipe.utils._dataframe import column_kind, dtype_kind

    columns = [
        pd.Series([True, False], dtype="category"),
        pd.Series(pd.Categorical(["x"])),
        pd.Series(pd.Categorical([1, 2])),
        pd.Series(["a"]),
        pd.Series(["a"], dtype="string"),
        pd.Series([1]),
        pd.Series([1], dtype="uint8"),
        pd.Series([1.0], dtype="float32"),
        pd.Series([1], dtype="Int64"),
        pd.Series([1.5], dtype="Float64"),
        pd.Series([True]),
        pd.Series([True], dtype="boolean"),
        pd.Series([1 + 1j]),
        pd.Series(pd.to_datetime(["2020"])),
        pd.Series(pd.to_datetime(["2020"]).tz_localize("UTC")),
        pd.Series(pd.to_timedelta(["1D"])),
        pd.Series(pd.period_range("2020", periods=1, freq="M")),
        pd.Series(pd.interval_range(0, 1)),
        pd.Series(pd.arrays.SparseArray([0, 1])),
    ]
    for s in columns:
        assert dtype_kind(s.dtype) == column_kind(s) == dtype_kind(s.dtype), s.dtype
    for s in [pd.Series(["a"], dtype=object), pd.Series([decimal.Decimal(1)])]:
        assert dtype_kind(s.dtype) is None
        assert column_kind(s) in ("categorical", "numeric")
