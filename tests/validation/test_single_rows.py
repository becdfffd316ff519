"""One row at a time (issue 16, item 2): a service asks about one applicant per
call, so every guard of the demo's pipeline must pass a clean 1-row batch, and
a rule must refuse a bad row alone exactly as it refuses it among 100,000
clean rows.

The learned checks are size-aware (issue 13): a 1-row batch is 0% or 100%
missing, so a raw-rate check refused it. Rules (a declared non-null, a bound
beyond any plausible tail, a category outside a categorical dtype, a dtype
change) do not depend on the batch size.
"""

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.model_selection import train_test_split

from mlpipe._demo import demo_schema
from mlpipe.datasets import load_credit
from mlpipe.drift import DriftMonitor
from mlpipe.exceptions import DataQualityWarning
from mlpipe.impute import TypedImputer
from mlpipe.validation import SchemaValidator

WINDOW = 100
BATCH = 100_000
BAD_AT = 4242  # where the bad row sits in the large batch


@pytest.fixture(scope="module", params=[False, True], ids=["not_known", "unknown_as_missing"])
def credit(request):
    """The credit features and the guards fitted on them, once per module."""
    X, _ = load_credit(return_X_y=True, unknown_as_missing=request.param)
    return {
        "X": X,
        "learned": SchemaValidator().fit(X),
        "demo": SchemaValidator(schema=demo_schema(X)).fit(X),
        "impute": TypedImputer(add_indicator="auto").fit(X),
        "monitor": DriftMonitor(window=WINDOW).fit(X),
    }


def test_every_clean_row_passes_every_guard_alone(credit):
    X = credit["X"]
    snapshot = X.copy()
    refused, n_warnings, n_quality_warnings = [], 0, 0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for i in range(len(X)):
            row = X.iloc[[i]]
            for name in ("learned", "demo"):
                validator = credit[name]
                out = validator.transform(row)  # on_error="raise": an error raises
                report = validator.last_report_
                if not report.passed:
                    refused.append((name, i, report.message()))
                n_warnings += len(report.warnings)
                assert out.shape == (1, X.shape[1])
            imputed = credit["impute"].transform(row)
            assert not imputed.isna().to_numpy().any(), f"row {i} left missing"
            credit["monitor"].transform(row)
    n_quality_warnings = sum(issubclass(w.category, DataQualityWarning) for w in caught)
    assert refused == []
    # Warnings pass; on the training rows themselves none is expected, and
    # each one would be a DataQualityWarning.
    assert n_quality_warnings == n_warnings == 0
    monitor = credit["monitor"]
    assert len(monitor.history_) == len(X) // WINDOW
    assert [r.n_batch for r in monitor.history_] == [WINDOW] * (len(X) // WINDOW)
    assert monitor.n_buffered_ == len(X) % WINDOW
    pd.testing.assert_frame_equal(X, snapshot)


@pytest.mark.parametrize("unknown_as_missing", [False, True])
def test_held_out_rows_alone_are_refused_at_most_at_the_stated_rate(unknown_as_missing):
    # Fit on the demo's training split: a held-out row may lie beyond the
    # training range, so a refusal is a false alarm of rate <= alpha per
    # 1-row batch (each row is its own batch).
    X, y = load_credit(return_X_y=True, unknown_as_missing=unknown_as_missing)
    X_train, X_test = train_test_split(X, test_size=0.25, random_state=0, stratify=y)
    validator = SchemaValidator(schema=demo_schema(X_train), on_error="warn").fit(X_train)
    n_refused = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        for i in range(len(X_test)):
            validator.transform(X_test.iloc[[i]])
            n_refused += not validator.last_report_.passed
    limit = stats.binom.ppf(0.999, len(X_test), validator.alpha)
    assert n_refused <= limit, (n_refused, limit)


# -- a bad row alone and among 100,000 clean rows ------------------------------


def _with_value(frame, label, column, value):
    """A copy of ``frame`` with ``value`` at (``label``, ``column``), the column's
    dtype widened just as far as the value needs."""
    frame = frame.copy()
    s = frame[column]
    if isinstance(s.dtype, pd.CategoricalDtype):
        if not (isinstance(value, float) and np.isnan(value)) and value not in s.cat.categories:
            s = s.cat.add_categories([value])
    elif isinstance(value, str):
        s = s.astype(object)
    elif isinstance(value, float) and s.dtype.kind in "iu":
        s = s.astype("float64")
    s = s.copy()
    s.loc[label] = value
    frame[column] = s
    return frame


# (column, value, validator, the checks expected to refuse it)
BAD_ROWS = {
    "age_out_of_range": ("age", 999, "learned", {("age", "out_of_range")}),
    "age_out_of_range_demo": ("age", 999, "demo", {("age", "out_of_range")}),
    "age_negative": ("age", -3, "learned", {("age", "out_of_range")}),
    "housing_unseen_category": ("housing", "castle", "learned", {("housing", "unseen_category")}),
    "purpose_unseen_category_demo": ("purpose", "yacht", "demo", {("purpose", "unseen_category")}),
    "credit_amount_declared_non_null": (
        "credit_amount",
        np.nan,
        "demo",
        {("credit_amount", "nulls")},
    ),
    "age_wrong_dtype": ("age", "forty", "learned", {("age", "dtype")}),
    "duration_wrong_dtype_demo": ("duration", "long", "demo", {("duration", "dtype")}),
}


@pytest.fixture(scope="module")
def clean_batch(credit):
    """100,000 clean rows: the credit rows drawn with replacement."""
    X = credit["X"]
    batch = X.sample(BATCH, replace=True, random_state=0).reset_index(drop=True)
    report = credit["learned"]._run_checks(batch)
    assert report.passed, report.message()
    return batch


def _errors(report):
    return {(f.column, f.check) for f in report.errors}


@pytest.mark.parametrize("case", sorted(BAD_ROWS))
def test_bad_row_is_refused_alone_as_in_a_large_batch(credit, clean_batch, case):
    column, value, which, expected = BAD_ROWS[case]
    validator = credit[which]
    X = credit["X"]
    i = 17
    alone = _with_value(X.iloc[[i]], X.index[i], column, value)
    within = _with_value(clean_batch, BAD_AT, column, value)

    alone_report = validator._run_checks(alone)
    within_report = validator._run_checks(within)

    assert _errors(alone_report) == expected, alone_report.message()
    assert _errors(within_report) == expected, within_report.message()
    for f in within_report.errors:
        if f.level == "row":
            # the one bad row, not the 99,999 others
            assert f.n_failed == 1 and f.rows == [BAD_AT], f.line()
            assert within_report.failing_rows.tolist() == [BAD_AT]
            assert alone_report.failing_rows.tolist() == [X.index[i]]
    # the same level (row or column) either way
    level = {(f.column, f.check): f.level for f in alone_report.errors}
    assert level == {(f.column, f.check): f.level for f in within_report.errors}


@pytest.mark.parametrize("case", ["age_out_of_range", "housing_unseen_category"])
def test_drop_rows_drops_the_bad_row_alone_as_in_a_large_batch(credit, clean_batch, case):
    column, value, _, _ = BAD_ROWS[case]
    X = credit["X"]
    validator = SchemaValidator(on_error="drop_rows").fit(X)
    alone = _with_value(X.iloc[[17]], X.index[17], column, value)
    within = _with_value(clean_batch, BAD_AT, column, value)
    with pytest.warns(DataQualityWarning, match="dropped 1 of 1 row"):
        assert len(validator.transform(alone)) == 0
    with pytest.warns(DataQualityWarning, match=f"dropped 1 of {BATCH} row"):
        kept = validator.transform(within)
    assert BAD_AT not in kept.index and len(kept) == BATCH - 1
