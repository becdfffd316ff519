"""SchemaValidator: each check on small frames, the three on_error modes,
input forms, pipelines and the report."""

import pickle
import re
import warnings

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from mlpipe.exceptions import DataQualityWarning, DataValidationError
from mlpipe.validation import Column, Schema, SchemaValidator, ValidationReport


def train_frame():
    return pd.DataFrame(
        {
            "age": [25, 40, 31, 58, 33, 47, 29, 36],
            "income": [1.5, 2.0, np.nan, 3.5, 2.5, 1.0, 4.0, 3.0],
            "city": pd.array(
                ["Oslo", "Rome", "Oslo", "Lima", "Rome", "Oslo", "Lima", "Rome"], dtype="str"
            ),
            "member": [True, False, True, True, False, False, True, False],
        }
    )


def report_of(validator, batch):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        validator.set_params(on_error="warn").transform(batch)
    return validator.last_report_


def failures(report):
    return {(f.column, f.check): list(report.rows_of(f.column, f.check)) for f in report.failures}


@pytest.fixture
def fitted():
    # The learned schema as hard rules: each check on a frame too small for
    # the statistical checks to find anything (those are tested in
    # test_learned_checks.py).
    rules = Schema.infer(train_frame()).as_rules(null_tolerance=0.2)
    return SchemaValidator(schema=rules).fit(train_frame())


def test_training_data_passes(fitted):
    assert fitted.last_report_.passed
    out = fitted.set_params(on_error="raise").transform(train_frame())
    assert_frame_equal(out, train_frame())


def test_nulls_where_none_were_allowed(fitted):
    batch = train_frame()
    batch["age"] = batch["age"].astype("float64")
    batch.loc[[1, 4], "age"] = np.nan
    assert failures(report_of(fitted, batch)) == {("age", "nulls"): [1, 4]}


def test_null_rate_threshold(fitted):
    # income: 1 of 8 missing at fit (12.5%); the limit is 32.5%.
    batch = train_frame()
    batch.loc[[0, 1], "income"] = np.nan  # 3 of 8 = 37.5%
    report = report_of(fitted, batch)
    assert [(f.column, f.check, f.n_failed) for f in report.failures] == [
        ("income", "null_rate", 3)
    ]
    batch = train_frame()
    batch.loc[[0], "income"] = np.nan  # 2 of 8 = 25%: allowed
    assert report_of(fitted, batch).passed


def test_range_is_inclusive_and_tolerance_widens_it():
    X = train_frame()
    batch = X.copy()
    batch.loc[0, "age"] = 58  # the training max itself
    batch.loc[1, "age"] = 59
    batch.loc[2, "age"] = 24
    exact = SchemaValidator(schema=Schema.infer(X).as_rules()).fit(X)
    assert failures(report_of(exact, batch)) == {("age", "out_of_range"): [1, 2]}
    # range 25..58 is 33 wide; tolerance 0.1 allows 21.7..61.3.
    loose = SchemaValidator(schema=Schema.infer(X).as_rules(tolerance=0.1)).fit(X)
    assert report_of(loose, batch).passed
    batch.loc[3, "age"] = 62
    assert failures(report_of(loose, batch)) == {("age", "out_of_range"): [3]}


def test_inf_is_reported_once_not_as_out_of_range(fitted):
    batch = train_frame()
    batch.loc[[2, 5], "income"] = [np.inf, -np.inf]
    assert failures(report_of(fitted, batch)) == {("income", "inf"): [2, 5]}


def test_allowed_inf_passes():
    schema = Schema([Column("x", dtype="float64", min=0, max=1, allow_inf=True)])
    batch = pd.DataFrame({"x": [0.5, np.inf, 2.0]})
    report = schema.validate(batch)
    assert failures(report) == {("x", "out_of_range"): [2]}


def test_non_integer_in_an_integer_column(fitted):
    batch = train_frame()
    batch["age"] = batch["age"].astype("float64")
    assert report_of(fitted, batch).passed  # whole floats pass
    batch.loc[6, "age"] = 30.5
    assert failures(report_of(fitted, batch)) == {("age", "non_integer"): [6]}


def test_unseen_category_in_text(fitted):
    batch = train_frame()
    batch.loc[[3, 7], "city"] = ["Paris", "oslo"]
    report = report_of(fitted, batch)
    assert failures(report) == {("city", "unseen_category"): [3, 7]}
    assert "'Paris', 'oslo'" in report.failures[0].message


def test_dtype_change_says_whether_values_convert(fitted):
    batch = train_frame()
    batch["age"] = batch["age"].astype("str")
    report = report_of(fitted, batch)
    assert [(f.column, f.check, f.level) for f in report.failures] == [("age", "dtype", "column")]
    assert "all 8 value(s) can be converted" in report.failures[0].message
    batch.loc[[2, 5], "age"] = ["n/a", "999"]
    report = report_of(fitted, batch)
    checks = failures(report)
    assert set(checks) == {("age", "dtype"), ("age", "out_of_range")}
    assert checks[("age", "out_of_range")] == [5]  # converted, then range-checked
    dtype = report.failures[0]
    assert "1 of 8 value(s) cannot be converted" in dtype.message
    assert dtype.examples == ["n/a"] and dtype.rows == [2]


def test_numbers_in_a_boolean_column(fitted):
    batch = train_frame()
    batch["member"] = [1, 0, 1, 1, 0, 0, 1, 2]
    report = report_of(fitted, batch)
    (failure,) = report.failures
    assert (failure.column, failure.check) == ("member", "dtype")
    assert "1 of 8 value(s) cannot be converted" in failure.message
    assert failure.examples == [2]


def test_missing_extra_and_reordered_columns(fitted):
    batch = train_frame().drop(columns="income").assign(extra=1)
    report = report_of(fitted, batch)
    assert [(f.column, f.check, f.level) for f in report.failures] == [
        ("income", "missing_column", "column"),
        ("extra", "extra_column", "column"),
    ]
    reordered = train_frame()[["city", "age", "income", "member"]]
    report = report_of(fitted, reordered)
    assert [(f.column, f.check) for f in report.failures] == [(None, "column_order")]
    assert "'city', 'age'" in report.failures[0].message


def test_lazy_error_lists_everything_with_sklearn_wording(fitted):
    batch = train_frame().drop(columns="income")
    batch.loc[0, "city"] = "Paris"
    batch.loc[1, "age"] = 99
    fitted.set_params(on_error="raise")
    with pytest.raises(DataValidationError) as info:
        fitted.transform(batch)
    message = str(info.value)
    assert isinstance(info.value, ValueError)
    for needle in (
        "3 failed check(s)",
        "- 'income': missing_column",
        "- 'city': unseen_category: 1 row(s) (12.5%)",
        "- 'age': out_of_range: 1 row(s)",
        "e.g. 99 at row(s) 1",
        "X has 3 features, but SchemaValidator is expecting 4 features as input.",
        "The feature names should match those that were passed during fit.\n"
        "Feature names seen at fit time, yet now missing:\n- income\n",
    ):
        assert needle in message, (needle, message)
    assert [f.check for f in info.value.report.failures] == [
        "missing_column",
        "out_of_range",
        "unseen_category",
    ]


def test_regex_duplicate_and_user_checks():
    def even(values):
        return values % 2 == 0

    def broken(values):
        raise RuntimeError("boom")

    def all_small(values):
        return bool((values < 10).all())

    schema = Schema(
        [
            Column("code", kind="categorical", regex=r"[A-Z]{2}\d", unique=True),
            Column("n", dtype="int64", checks=(even, broken, all_small)),
        ],
        key=["code", "n"],
    )
    batch = pd.DataFrame(
        {"code": ["AB1", "ab2", "AB1", None, "CD3"], "n": [2, 3, 2, 4, 12]},
        index=list("vwxyz"),
    )
    report = schema.validate(batch)
    got = {
        (f.column, f.check): (f.level, list(report.rows_of(f.column, f.check)))
        for f in report.failures
    }
    assert got == {
        ("code", "regex"): ("row", ["w"]),
        ("code", "duplicate"): ("row", ["x"]),
        ("n", "check:even"): ("row", ["w"]),
        ("n", "check:broken"): ("column", []),
        ("n", "check:all_small"): ("column", []),
        (("code", "n"), "duplicate_key"): ("row", ["x"]),
    }
    assert "RuntimeError: boom" in next(
        f.message for f in report.failures if f.check == "check:broken"
    )


def test_drop_rows(fitted):
    X = train_frame()
    batch = X.copy()
    batch.loc[[1, 6], "city"] = "Paris"
    batch.loc[6, "age"] = 99
    fitted.set_params(on_error="drop_rows")
    with pytest.warns(DataQualityWarning, match=r"dropped 2 of 8 row\(s\)"):
        out = fitted.transform(batch)
    assert_frame_equal(out, batch.drop(index=[1, 6]))
    assert fitted.last_report_.n_dropped == 2
    assert "2 row(s) dropped" in fitted.last_report_.summary()


def test_drop_rows_cannot_repair_a_missing_column(fitted):
    batch = train_frame().drop(columns="city")
    batch.loc[0, "age"] = 99
    fitted.set_params(on_error="drop_rows")
    with pytest.raises(DataValidationError, match="cannot repair"):
        fitted.transform(batch)


def test_warn_passes_the_batch_unchanged(fitted):
    batch = train_frame()
    batch.loc[0, "city"] = "Paris"
    before = batch.copy()
    fitted.set_params(on_error="warn")
    with pytest.warns(DataQualityWarning, match="'city': unseen_category"):
        out = fitted.transform(batch)
    assert_frame_equal(out, before)
    assert_frame_equal(batch, before)
    assert out is not batch  # a shallow copy: renaming it cannot touch batch


def test_arrays_are_matched_by_position():
    X = train_frame()[["age", "income"]]
    validator = SchemaValidator().fit(X.to_numpy())
    assert not hasattr(validator, "feature_names_in_")
    assert validator.schema_.names == [0, 1]
    bad = X.to_numpy().copy()
    bad[2, 0] = -1  # ages were all positive: a negative one is an error
    with pytest.raises(DataValidationError, match=r"- 0: out_of_range"):
        validator.transform(bad)
    with pytest.warns(UserWarning, match="X has feature names"):
        validator.transform(X)

    named = SchemaValidator().fit(X)
    with (
        pytest.warns(UserWarning, match="X does not have valid feature names"),
        pytest.raises(DataValidationError, match="- 'age': out_of_range"),
    ):
        named.transform(bad)


def test_declared_schema():
    schema = Schema(
        [
            Column("age", min=18, max=65, nullable=False),
            Column("city", kind="categorical", categories=["Oslo", "Rome"]),
        ],
        strict=False,
    )
    validator = SchemaValidator(schema=schema)
    X = train_frame()
    with pytest.warns(DataQualityWarning, match="training data itself fails"):
        validator.fit(X)
    assert validator.schema_ == schema and validator.schema_ is not schema
    assert validator.n_features_in_ == 2
    assert list(validator.feature_names_in_) == ["age", "city"]
    report = validator.last_report_
    assert failures(report) == {("city", "unseen_category"): [3, 6]}
    with pytest.raises(ValueError, match="declare the key in the Schema"):
        SchemaValidator(schema=schema, key="age").fit(X)


def test_key_parameter():
    X = train_frame()
    validator = SchemaValidator(key=["city", "member"]).fit(X.drop_duplicates(["city", "member"]))
    assert validator.schema_.key == ["city", "member"]
    with pytest.raises(ValueError, match=r"key names column\(s\) \['nope'\]"):
        SchemaValidator(key="nope").fit(X)


def test_pipeline_clone_pickle_and_set_output():
    X = train_frame()[["age", "income"]].fillna(2.0)
    y = np.array([0, 1, 0, 1, 0, 1, 1, 0])
    pipe = make_pipeline(SchemaValidator(), LogisticRegression()).fit(X, y)
    assert pipe.predict(X).shape == (8,)
    bad = X.assign(age=X["age"] * 100)
    with pytest.raises(DataValidationError, match="'age': out_of_range"):
        pipe.predict(bad)
    validator = pickle.loads(pickle.dumps(pipe[0]))
    assert validator.schema_ == pipe[0].schema_
    assert clone(pipe[0]).get_params() == pipe[0].get_params()
    out = SchemaValidator().set_output(transform="pandas").fit(X.to_numpy()).transform(X.to_numpy())
    assert list(out.columns) == ["x0", "x1"]
    assert list(SchemaValidator().fit(X).get_feature_names_out()) == ["age", "income"]


def test_report_views(fitted):
    batch = train_frame()
    batch.loc[0, "city"] = "Paris"
    batch.loc[1, "age"] = 99
    report = report_of(fitted, batch)
    frame = report.to_frame()
    assert list(frame.columns) == [
        "column",
        "check",
        "severity",
        "level",
        "n_failed",
        "share",
        "p_value",
        "examples",
        "rows",
        "message",
    ]
    assert frame[["column", "check", "n_failed"]].values.tolist() == [
        ["age", "out_of_range", 1],
        ["city", "unseen_category", 1],
    ]
    assert frame["share"].tolist() == [1 / 8, 1 / 8]
    assert report.summary() == (
        "2 failed check(s) in 2 column(s); 2 of 8 row(s) fail a row check (25.0%)"
    )
    html = report._repr_html_()
    assert "Validation report" in html and "unseen_category" in html
    assert re.search(r"out_of_range.*\n.*unseen_category", str(report))
    empty = ValidationReport(n_rows=3, n_columns=2)
    assert empty.passed and len(empty.to_frame()) == 0
    assert empty.summary() == "passed: 3 row(s) x 2 column(s), no check failed"


def test_report_plot(fitted):
    import matplotlib

    matplotlib.use("Agg")
    batch = train_frame()
    batch.loc[[0, 1], "city"] = "Paris"
    batch.loc[1, "age"] = 99
    ax = report_of(fitted, batch).plot()
    assert [p.get_width() for p in ax.patches] == [1, 2]
    assert [t.get_text() for t in ax.get_yticklabels()] == [
        "age: out_of_range",
        "city: unseen_category",
    ]


def test_duplicate_column_labels_and_empty_batch(fitted):
    batch = train_frame()
    batch.columns = ["age", "age", "city", "member"]
    report = report_of(fitted, batch)
    assert [(f.column, f.check) for f in report.failures] == [
        ("age", "duplicate_column"),
        ("income", "missing_column"),
    ]
    empty = report_of(fitted, train_frame().iloc[:0])
    assert empty.passed and empty.n_rows == 0


def test_datetime_range_and_conversion():
    X = pd.DataFrame({"t": pd.to_datetime(["2024-01-01", "2024-02-01"])})
    validator = SchemaValidator(schema=Schema.infer(X).as_rules()).fit(X)
    late = pd.DataFrame({"t": pd.to_datetime(["2024-01-15", "2024-03-01"])})
    assert failures(report_of(validator, late)) == {("t", "out_of_range"): [1]}
    text = pd.DataFrame({"t": ["2024-01-15", "soon"]})
    report = report_of(validator, text)
    assert [(f.column, f.check) for f in report.failures] == [("t", "dtype")]
    assert "1 of 2 value(s) cannot be converted" in report.failures[0].message


def test_drop_rows_on_an_array():
    X = train_frame()[["age", "income"]].fillna(2.0).to_numpy()
    validator = SchemaValidator(on_error="drop_rows").fit(X)
    batch = X.copy()
    batch[[0, 3], 1] = -99.0
    with pytest.warns(DataQualityWarning, match="dropped 2 of 8"):
        out = validator.transform(batch)
    np.testing.assert_array_equal(out, np.delete(batch, [0, 3], axis=0))
    assert validator.transform(X) is X
