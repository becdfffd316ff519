"""mlpipe and pandera, given the same declared constraints, over the same
corrupted credit batches: the same rows fail the same value checks, and every
other difference is listed below with its reason.

pandera's checks are rules, so mlpipe's side is the learned schema turned into
rules (``Schema.as_rules``, with a range tolerance of 0.25 and a missing-share
tolerance of 0.1), not its statistical checks."""

import pandas as pd
import pandera.pandas as pa
import pytest

from mlpipe.validation import SchemaValidator
from tests.validation._batches import ONE_DEFECT, credit_split, null_rate_jump, several

# mlpipe's value checks and pandera's built-in checks that state the same
# constraint; their failing (column, row) pairs must be equal on every batch.
VALUE_CHECKS = {"nulls", "out_of_range", "unseen_category", "inf"}
PANDERA_VALUE_CHECKS = ("not_nullable", "in_range", "isin")
# Structural checks, in mlpipe's names.
PANDERA_STRUCTURE = {
    "column_in_dataframe": "missing_column",
    "column_in_schema": "extra_column",
    "column_ordered": "column_order",
}

_INT_AS_FLOAT = (
    "pandera compares the exact dtype, so an int64 column that arrives as "
    "float64 (as any integer column with a gap or an inf does) fails its "
    "dtype check; mlpipe checks the kind of dtype and then the values, so it "
    "reports the gaps or infs themselves and accepts the whole-number floats"
)
_TEXT_AS_CATEGORY = (
    "pandera fails every row of a category column that arrives as text "
    "(dtype str); mlpipe treats category, str and object as one kind and "
    "reports only the two values outside the allowed categories"
)
# {batch: (column-level findings only mlpipe has, only pandera has, reason)}
DIFFERENCES = {
    "nulls": (set(), {("credit_amount", "dtype")}, _INT_AS_FLOAT),
    "infinite_amount": (set(), {("credit_amount", "dtype")}, _INT_AS_FLOAT),
    "upper_case_housing": (set(), {("housing", "dtype")}, _TEXT_AS_CATEGORY),
    "several": (
        set(),
        {("credit_amount", "dtype"), ("housing", "dtype")},
        _INT_AS_FLOAT + "; and " + _TEXT_AS_CATEGORY,
    ),
    "fractional_duration": (
        {("duration", "non_integer")},
        {("duration", "dtype")},
        "both flag the duration column: pandera as a dtype mismatch of the "
        "whole column (float64 for int64), mlpipe as the one row whose value "
        "is not a whole number, since float64 holding whole numbers passes",
    ),
    "amount_as_text": (
        set(),
        {("credit_amount", "check_error")},
        "both report the dtype change of credit_amount; pandera's range check "
        "then fails on text as a whole, while mlpipe range-checks the values "
        "that convert to numbers (none is out of range) and counts the two "
        "that do not in the dtype message",
    ),
    "null_rate_jump": (
        {("checking_account", "null_rate")},
        set(),
        "pandera's nullable is all or nothing and has no built-in check of the "
        "missing share; mlpipe's rules compare it with the training share plus "
        "null_tolerance",
    ),
}


def declared(X_train):
    return SchemaValidator().fit(X_train).schema_.as_rules(tolerance=0.25, null_tolerance=0.1)


def pandera_schema(schema):
    """The constraints of an mlpipe schema, declared in pandera."""
    columns = {}
    for col in schema.columns:
        checks = []
        low, high = col.bounds()
        if col.kind == "numeric" and low is not None:
            checks.append(pa.Check.in_range(low, high))
        if col.categories is not None:
            checks.append(pa.Check.isin(col.categories))
        columns[col.name] = pa.Column(col.dtype, checks=checks, nullable=col.nullable)
    return pa.DataFrameSchema(columns, strict=schema.strict, ordered=schema.ordered)


def pandera_findings(schema, batch):
    try:
        pandera_schema(schema).validate(batch, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
    else:
        return set(), set()
    rows, columns = set(), set()
    for case in cases.itertuples():
        check = str(case.check)
        if check.startswith(PANDERA_VALUE_CHECKS):
            if pd.isna(case.index):  # the check itself failed on the column
                columns.add((case.column, "check_error"))
            else:
                rows.add((case.column, case.index))
        elif check in PANDERA_STRUCTURE:
            name = PANDERA_STRUCTURE[check]
            columns.add((None if name == "column_order" else case.failure_case, name))
        elif check.startswith("dtype("):
            columns.add((case.column, "dtype"))
        else:
            raise AssertionError(f"unexpected pandera check {check!r}")
    return rows, columns


def mlpipe_findings(schema, batch):
    report = schema.validate(batch)
    rows, columns = set(), set()
    for f in report.failures:
        if f.check in VALUE_CHECKS:
            rows |= {(f.column, r) for r in report.rows_of(f.column, f.check)}
        else:
            columns.add((f.column, f.check))
    return rows, columns


BATCHES = {**ONE_DEFECT, "several": several, "null_rate_jump": null_rate_jump}


@pytest.mark.parametrize("name", sorted(BATCHES))
def test_same_failures_as_pandera(name):
    unknown_as_missing = name == "null_rate_jump"
    X_train, X_test = credit_split(random_state=0, unknown_as_missing=unknown_as_missing)
    schema = declared(X_train)
    batch, expected = BATCHES[name](X_test)

    ours_rows, ours_columns = mlpipe_findings(schema, batch)
    their_rows, their_columns = pandera_findings(schema, batch)

    assert ours_rows == their_rows
    only_ours, only_theirs, _reason = DIFFERENCES.get(name, (set(), set(), ""))
    assert ours_columns - their_columns == only_ours
    assert their_columns - ours_columns == only_theirs
    # The batch's defect is seen by at least one side, in its column.
    for column, _check in expected:
        assert any(c == column for c, _ in ours_rows | ours_columns)


def test_clean_held_out_rows_pass_both():
    X_train, X_test = credit_split(random_state=0)
    schema = declared(X_train)
    assert mlpipe_findings(schema, X_test) == (set(), set())
    assert pandera_findings(schema, X_test) == (set(), set())


@pytest.mark.parametrize("name", sorted(DIFFERENCES))
def test_every_difference_has_a_reason(name):
    only_ours, only_theirs, reason = DIFFERENCES[name]
    assert only_ours or only_theirs
    assert len(reason.split()) >= 15
    assert name in BATCHES
