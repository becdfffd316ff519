"""Every public estimator against every case of the shared bad-input matrix."""

import re

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_array_equal
from pandas.testing import assert_frame_equal, assert_series_equal
from sklearn.base import BaseEstimator, clone

from mlpipe.automl import PipelineSearch, TabularEncoder
from mlpipe.impute import GroupImputer, TypedImputer
from tests._bad_input import (
    CASES,
    NEW_CASES,
    Handled,
    Raises,
    clean_frame,
    later_call,
    matches_by_position,
    same_as_booleans,
)
from tests._registry import all_estimators
from tests.drift._matrix import DRIFT_EXPECTATIONS


def _no_missing(est, X_later, out):
    assert not out.isna().any().any()
    assert out.shape == X_later.shape


def _fills_keeping_the_zone(est, X_later, out):
    _no_missing(est, X_later, out)
    assert out["applied"].dtype == X_later["applied"].dtype


def _fills_finite(est, X_later, out):
    _no_missing(est, X_later, out)
    amount = out["credit_amount"].to_numpy(dtype=float)
    assert np.isfinite(amount).all() and amount.max() <= X_later["credit_amount"].max()


def _passes_unseen_through(est, X_later, out):
    # An imputer fills gaps; an unseen category is not a gap and stays as is.
    assert (out["purpose"] == "crypto").sum() == 2


def _same_values_where_present(est, X_later, out):
    present = X_later.notna()
    assert out.where(present).astype(object).equals(X_later.where(present).astype(object))


_IMPUTER_MATRIX = {
    "nan": Handled(_no_missing, "missing values are what an imputer fills"),
    "inf_at_fit": Raises(ValueError, "fit", "infinity"),
    "inf_later": Raises(ValueError, "later", "infinity"),
    "empty": Raises(ValueError, "fit", "0 sample"),
    "one_row": Handled(_no_missing, "one row is enough to learn a fill value"),
    "constant_column": Handled(_same_values_where_present),
    "wrong_dtype": Raises(TypeError, "later", "dtype changed since fit"),
    "missing_column": Raises(ValueError, "later", "missing"),
    "extra_column": Raises(ValueError, "later", "unseen at fit"),
    "reordered_columns": Raises(ValueError, "later", "same order", names_column=False),
    "mixed_object_column": Handled(
        _no_missing, "an object column of mixed types is imputed as categorical"
    ),
    "unseen_category": Handled(_passes_unseen_through),
    "tz_datetime": Handled(_fills_keeping_the_zone, "NaT filled with the median instant"),
    "bool_as_01": Handled(same_as_booleans, "0/1 read as bool"),
    "duplicate_names": Raises(ValueError, "fit", "duplicate column names"),
    "frame_then_array": Handled(matches_by_position, warns="does not have valid feature"),
    "array_then_frame": Handled(matches_by_position, warns="fitted without feature names"),
    "near_max_float": Handled(_fills_finite, "mean/median without overflow"),
    "string_labels": Handled(_same_values_where_present, "y is ignored"),
}


# {estimator name: (factory, {case: expectation})}. New components add themselves here.
def _predicts_every_row(est, X_later, out):
    assert len(out) == len(X_later) and not pd.isna(out).any()


def _encodes_rows_keeping_numeric_gaps(est, X_later, out):
    assert out.shape[0] == len(X_later)
    names = list(est.get_feature_names_out())
    amount = out[:, names.index("credit_amount")]
    assert_array_equal(np.isnan(amount), X_later["credit_amount"].isna().to_numpy())
    assert not np.isnan(np.delete(out, names.index("credit_amount"), axis=1)).any()


def _scales_huge_values_finitely(est, X_later, out):
    _encodes_rows_keeping_numeric_gaps(est, X_later, out)
    amount = out[:, list(est.get_feature_names_out()).index("credit_amount")]
    present = amount[~np.isnan(amount)]
    # standardised: finite, mean 0 and unit variance over the rows it was fitted on
    assert np.isfinite(present).all()
    assert abs(present.mean()) < 1e-9 and abs(present.std() - 1) < 1e-9


def _encodes_every_row(est, X_later, out):
    assert out.shape[0] == len(X_later) and np.isfinite(out).all()


_SEARCH = {
    "task": "classification",
    "search_space": "light",
    "generations": 1,
    "population_size": 2,
    "cv": 2,
    "complexity_objective": False,
    "random_state": 0,
}

EXPECTATIONS = {
    "TypedImputer": (lambda: TypedImputer(), _IMPUTER_MATRIX),
    "GroupImputer": (
        lambda: GroupImputer(by="job"),
        {
            **_IMPUTER_MATRIX,
            # by="job" is the grouping column: a constant one makes one group.
            "constant_column": Handled(_same_values_where_present, "one group"),
            # An array has no column "job": by= names a column of a frame.
            "array_then_frame": Raises(ValueError, "fit", "by='job' is not a column"),
        },
    ),
    "PipelineSearch": (
        lambda: PipelineSearch(**_SEARCH),
        {
            "nan": Handled(_predicts_every_row, "every candidate imputes"),
            "inf_at_fit": Raises(ValueError, "fit", "infinity"),
            "inf_later": Raises(ValueError, "later", "infinity"),
            "empty": Raises(ValueError, "fit", "0 sample"),
            # Cross-validation needs rows to split.
            "one_row": Raises(ValueError, "fit", "1 sample", names_column=False),
            "constant_column": Handled(_predicts_every_row),
            "wrong_dtype": Raises(TypeError, "later", "dtype changed since fit"),
            "missing_column": Raises(ValueError, "later", "missing"),
            "extra_column": Raises(ValueError, "later", "unseen at fit"),
            "reordered_columns": Raises(ValueError, "later", "same order", names_column=False),
            "mixed_object_column": Handled(_predicts_every_row, "mixed -> categorical"),
            "unseen_category": Handled(_predicts_every_row, "encoders ignore unseen"),
            # Refused before the search, by name, rather than in every candidate.
            "tz_datetime": Raises(TypeError, "fit", "cannot encode"),
            "bool_as_01": Handled(same_as_booleans),
            "duplicate_names": Raises(ValueError, "fit", "duplicate column names"),
            "frame_then_array": Handled(
                matches_by_position,
                warns="does not have valid feature",
            ),
            "array_then_frame": Handled(
                matches_by_position,
                warns="fitted without feature names",
            ),
            "near_max_float": Handled(_predicts_every_row, "the encoder scales without overflow"),
            "string_labels": Handled(_predicts_every_row, "predicts the labels it was given"),
        },
    ),
    "TabularEncoder": (
        lambda: TabularEncoder(),
        {
            # Numeric gaps pass through for a later matrix imputer; categorical
            # gaps become their own category.
            "nan": Handled(_encodes_rows_keeping_numeric_gaps),
            "inf_at_fit": Raises(ValueError, "fit", "infinity"),
            "inf_later": Raises(ValueError, "later", "infinity"),
            "empty": Raises(ValueError, "fit", "0 sample"),
            "one_row": Handled(_encodes_every_row),
            "constant_column": Handled(_encodes_every_row),
            "wrong_dtype": Raises(TypeError, "later", "dtype changed since fit"),
            "missing_column": Raises(ValueError, "later", "missing"),
            "extra_column": Raises(ValueError, "later", "unseen at fit"),
            "reordered_columns": Raises(ValueError, "later", "same order", names_column=False),
            "mixed_object_column": Handled(_encodes_every_row, "mixed -> categorical"),
            "unseen_category": Handled(_encodes_every_row, "unseen -> all-zero one-hot"),
            "tz_datetime": Raises(TypeError, "fit", "cannot encode"),
            "bool_as_01": Handled(same_as_booleans),
            "duplicate_names": Raises(ValueError, "fit", "duplicate column names"),
            "frame_then_array": Handled(
                matches_by_position,
                warns="does not have valid feature",
            ),
            "array_then_frame": Handled(
                matches_by_position,
                warns="fitted without feature names",
            ),
            "near_max_float": Handled(
                _scales_huge_values_finitely, "scaled after a power-of-two prescale"
            ),
            "string_labels": Handled(_encodes_every_row, "y is ignored"),
        },
    ),
}


# --- mlpipe.fairness: meta-estimators around a realistic inner pipeline. Input
# checks of the columns they do not read are the inner pipeline's (TypedImputer
# names inf and dtype changes); the wrappers check the column set themselves.
def _fair_inner():
    from sklearn.compose import make_column_selector, make_column_transformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    encode = make_column_transformer(
        (OneHotEncoder(handle_unknown="ignore"), make_column_selector(dtype_exclude="number")),
        remainder=StandardScaler(),
    )
    return make_pipeline(TypedImputer(), encode, LogisticRegression(max_iter=1000))


def _predicts_every_row(est, X_later, out):
    assert out.shape == (len(X_later),)
    assert set(out) <= set(est.classes_)


def _fairness_matrix(one_row):
    return {
        "nan": Handled(_predicts_every_row, "the inner pipeline imputes"),
        "inf_at_fit": Raises(ValueError, "fit", "infinity"),
        "inf_later": Raises(ValueError, "later", "infinity"),
        "empty": Raises(ValueError, "fit", "0 sample"),
        "one_row": one_row,
        "constant_column": Handled(_predicts_every_row, "a constant feature is legal"),
        "wrong_dtype": Raises(TypeError, "later", "dtype changed since fit"),
        "missing_column": Raises(ValueError, "later", "missing"),
        "extra_column": Raises(ValueError, "later", "unseen at fit"),
        "reordered_columns": Raises(ValueError, "later", "same order", names_column=False),
        "mixed_object_column": Raises(TypeError, "fit", "mix numbers and text"),
        "unseen_category": Handled(_predicts_every_row, "OneHotEncoder ignores it"),
        "tz_datetime": Handled(_predicts_every_row, "the inner pipeline encodes the instants"),
        # The inner TypedImputer reads 0/1 as the booleans of fit.
        "bool_as_01": Handled(same_as_booleans),
        "duplicate_names": Raises(ValueError, "fit", "duplicate column names"),
        "frame_then_array": Handled(matches_by_position, warns="does not have valid feature"),
        # An array has no column "sex": sensitive_feature names a column of a frame.
        "array_then_frame": Raises(ValueError, "fit", "sensitive_feature='sex' is not a column"),
        # The inner pipeline's StandardScaler (scikit-learn) overflows to NaN
        # on values near 1.8e308, and LogisticRegression refuses the NaN.
        "near_max_float": Raises(ValueError, "fit", "contains NaN", names_column=False),
        "string_labels": Handled(_predicts_every_row, "predicts the labels it was given"),
    }


def _reweighing():
    from mlpipe.fairness import ReweighingClassifier

    return ReweighingClassifier(estimator=_fair_inner(), sensitive_feature="sex")


def _group_threshold():
    from mlpipe.fairness import GroupThresholdClassifier

    return GroupThresholdClassifier(estimator=_fair_inner(), sensitive_feature="sex")


EXPECTATIONS.update(
    {
        # One row has one class: the inner LogisticRegression refuses it.
        "ReweighingClassifier": (
            _reweighing,
            _fairness_matrix(Raises(ValueError, "fit", "class")),
        ),
        "GroupThresholdClassifier": (
            _group_threshold,
            _fairness_matrix(Raises(ValueError, "fit", "needs two classes")),
        ),
    }
)


# --- mlpipe.validation: a validator's job is to flag bad input, so most cases
# raise DataValidationError (a ValueError) naming the column; what it learned
# at fit (gaps, inf, one row, mixed types) is the schema and passes later.
def _validator_passes(est, X_later, out):
    assert_frame_equal(out, X_later)
    assert est.last_report_.passed


def _validator_allows_learned_inf(est, X_later, out):
    _validator_passes(est, X_later, out)
    assert est.schema_["credit_amount"].allow_inf


def _schema_validator():
    from mlpipe.validation import SchemaValidator

    return SchemaValidator()


def _validator_matrix():
    from mlpipe.exceptions import DataValidationError

    return {
        "nan": Handled(_validator_passes, "gaps seen at fit are allowed later"),
        "inf_at_fit": Handled(
            _validator_allows_learned_inf, "inf in training is learned, with a warning"
        ),
        "inf_later": Raises(DataValidationError, "later", "inf"),
        "empty": Raises(ValueError, "fit", "0 sample"),
        "one_row": Handled(_validator_passes, "a one-row schema accepts that row"),
        "constant_column": Handled(_validator_passes, "a constant column is legal"),
        "wrong_dtype": Raises(DataValidationError, "later", "dtype.*cannot be converted"),
        "missing_column": Raises(DataValidationError, "later", "missing_column"),
        "extra_column": Raises(DataValidationError, "later", "extra_column"),
        "reordered_columns": Raises(
            DataValidationError, "later", "column_order", names_column=False
        ),
        "mixed_object_column": Handled(
            _validator_passes, "mixed values seen at fit are allowed categories"
        ),
        "unseen_category": Raises(DataValidationError, "later", "unseen_category"),
        "tz_datetime": Handled(_validator_passes, "a zone-aware column is a datetime column"),
        # The validator checks dtypes exactly: an int column where bool was learned is flagged.
        "bool_as_01": Raises(DataValidationError, "later", "dtype"),
        "duplicate_names": Raises(ValueError, "fit", "duplicate column names"),
        "frame_then_array": Handled(matches_by_position, warns="does not have valid feature"),
        "array_then_frame": Handled(matches_by_position, warns="fitted without feature names"),
        "near_max_float": Handled(_validator_passes, "learned bounds near the float maximum"),
        "string_labels": Handled(_validator_passes, "y is ignored"),
    }


EXPECTATIONS["SchemaValidator"] = (_schema_validator, _validator_matrix())


EXPECTATIONS.update(DRIFT_EXPECTATIONS)


def test_every_public_estimator_is_in_the_matrix():
    names = {name for name, _ in all_estimators()}
    assert names <= set(EXPECTATIONS), sorted(names - set(EXPECTATIONS))
    for name, (_, expectations) in EXPECTATIONS.items():
        assert set(expectations) == set(CASES), f"{name} must declare every case"


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("name", sorted(EXPECTATIONS))
def test_bad_input(name, case):
    factory, expectations = EXPECTATIONS[name]
    expected = expectations[case]
    X, y = clean_frame()
    X_fit, y_fit, X_later, column = CASES[case](X, y)
    originals = [_copy(X_fit), _copy(X_later), _copy(y_fit)]
    est = clone(factory())

    if isinstance(expected, Raises) and expected.at == "fit":
        with pytest.raises(expected.exc) as info:
            est.fit(X_fit, y_fit)
    elif isinstance(expected, Raises):
        # The problem is in the later batch: fit must succeed, and only the
        # later call may raise.
        est.fit(X_fit, y_fit)
        with pytest.raises(expected.exc) as info:
            later_call(est, X_later)
    else:
        est.fit(X_fit, y_fit)
        if expected.warns:
            with pytest.warns(UserWarning, match=expected.warns):
                out = later_call(est, X_later)
        else:
            out = later_call(est, X_later)
        expected.check(est, X_later, out)

    if isinstance(expected, Raises):
        message = str(info.value)
        assert re.search(expected.match, message), message
        if expected.names_column and column is not None:
            assert repr(column) in message or f"- {column}" in message, message

    for given, original in zip([X_fit, X_later, y_fit], originals, strict=True):
        _assert_unchanged(given, original)


def _copy(data):
    return (
        data.copy(deep=True) if hasattr(data, "columns") or hasattr(data, "index") else data.copy()
    )


def _assert_unchanged(given, original):
    if isinstance(given, pd.DataFrame):
        assert_frame_equal(given, original)
    elif isinstance(given, pd.Series):
        assert_series_equal(given, original)
    else:
        assert_frame_equal(pd.DataFrame(given), pd.DataFrame(original))


class _FitRaises(BaseEstimator):
    """Raises at fit the very error a "later" expectation waits for."""

    def fit(self, X, y=None):
        raise ValueError("column 'duration' is missing")

    def transform(self, X):
        return X


class _LaterRaises(BaseEstimator):
    def fit(self, X, y=None):
        self.columns_ = list(X.columns)
        return self

    def transform(self, X):
        missing = sorted(set(self.columns_) - set(X.columns))
        if missing:
            raise ValueError(f"column {missing[0]!r} is missing")
        return X


def test_a_later_expectation_needs_fit_to_succeed(monkeypatch):
    # The matrix itself: an error at fit must not satisfy Raises(at="later").
    later = {"missing_column": Raises(ValueError, "later", "missing")}
    monkeypatch.setitem(EXPECTATIONS, "_FitRaises", (_FitRaises, later))
    monkeypatch.setitem(EXPECTATIONS, "_LaterRaises", (_LaterRaises, later))
    with pytest.raises(ValueError, match="'duration' is missing"):
        test_bad_input("_FitRaises", "missing_column")
    test_bad_input("_LaterRaises", "missing_column")


def test_drift_detectors_are_checked_through_detect():
    from mlpipe.drift import KSDrift

    seen = []

    class Spy(KSDrift):
        def detect(self, X):
            seen.append(len(X))
            return super().detect(X)

    X, _ = clean_frame()
    out = later_call(Spy(columns=["age"]).fit(X), X.iloc[:50])
    assert seen == [50] and set(out.to_frame()["feature"]) == {"age"}


# --- public functions: each takes (X_fit, y_fit, X_later) of a case and calls
# the function as a user would; the cases of issue 14 are declared for each.
def _sex(X):
    return "sex" if isinstance(X, pd.DataFrame) else X[:, 0]


def _frame(X):
    return X if isinstance(X, pd.DataFrame) else None


def _metric(name):
    def call(X_fit, y_fit, X_later):
        import mlpipe.fairness as fairness

        metric = getattr(fairness, name)
        if name == "selection_rate":
            return metric(y_fit, y_fit)
        kwargs = {"n_boot": 20} if name == "audit_fairness" else {}
        return metric(y_fit, y_fit, sensitive_features=_sex(X_fit), X=_frame(X_fit), **kwargs)

    return call


def _check_data_quality(X_fit, y_fit, X_later):
    from mlpipe.validation import check_data_quality

    return check_data_quality(X_later)


def _check_leakage(X_fit, y_fit, X_later):
    from mlpipe.validation import check_leakage

    return check_leakage(X_fit, X_later)


def _check_bias(X_fit, y_fit, X_later):
    from mlpipe.fairness import check_bias

    sensitive = "sex" if isinstance(X_fit, pd.DataFrame) else X_fit[:, 0]
    return check_bias(X_fit, y_fit, sensitive_features=sensitive)


def _a_report(out):
    assert isinstance(out.to_frame(), pd.DataFrame)


def _a_finite_number(out):
    assert np.isfinite(out)


def _a_table(out):
    assert len(out.to_frame()) > 0


_POS_LABEL = Raises(ValueError, "fit", r"pos_label=1 is not a valid label.*'bad', 'good'")
_NEEDS_FRAME = Raises(ValueError, "fit", "must be an instance of 'pandas.DataFrame'")
_DUPLICATES = Raises(ValueError, "fit", "duplicate column names")


def _metric_matrix(check):
    # A metric reads y and the sensitive column only: the other columns'
    # troubles are not its own; string labels need pos_label.
    return {
        "tz_datetime": Handled(check),
        "bool_as_01": Handled(check),
        "duplicate_names": Handled(check, "the sensitive column 'sex' is not repeated"),
        "frame_then_array": Handled(check),
        "array_then_frame": Handled(check, "the sensitive feature given as an array"),
        "near_max_float": Handled(check),
        "string_labels": _POS_LABEL,
    }


FUNCTION_EXPECTATIONS = {
    "check_data_quality": (
        _check_data_quality,
        {
            "tz_datetime": Handled(_a_report),
            "bool_as_01": Handled(_a_report),
            "duplicate_names": _DUPLICATES,
            "frame_then_array": _NEEDS_FRAME,
            "array_then_frame": Handled(_a_report),
            "near_max_float": Handled(_a_report),
            "string_labels": Handled(_a_report, "y is not given"),
        },
    ),
    "check_leakage": (
        _check_leakage,
        {
            "tz_datetime": Handled(_a_report),
            "bool_as_01": Handled(_a_report, "0 == False: the shared rows are found"),
            "duplicate_names": _DUPLICATES,
            "frame_then_array": _NEEDS_FRAME,
            "array_then_frame": _NEEDS_FRAME,
            "near_max_float": Handled(_a_report),
            "string_labels": Handled(_a_report, "no target given"),
        },
    ),
    "check_bias": (
        _check_bias,
        {
            "tz_datetime": Handled(_a_report),
            "bool_as_01": Handled(_a_report),
            "duplicate_names": _DUPLICATES,
            "frame_then_array": Handled(_a_report),
            "array_then_frame": Handled(_a_report, "sensitive feature given as an array"),
            "near_max_float": Handled(_a_report),
            "string_labels": _POS_LABEL,
        },
    ),
    **{
        name: (_metric(name), _metric_matrix(_a_finite_number))
        for name in (
            "selection_rate",
            "demographic_parity_difference",
            "demographic_parity_ratio",
            "equalized_odds_difference",
            "equal_opportunity_difference",
        )
    },
    "group_metrics": (_metric("group_metrics"), _metric_matrix(_a_table)),
    "audit_fairness": (_metric("audit_fairness"), _metric_matrix(_a_report)),
}


def test_every_function_declares_the_new_cases():
    for name, (_, expectations) in FUNCTION_EXPECTATIONS.items():
        assert set(expectations) == set(NEW_CASES), f"{name} must declare every new case"


@pytest.mark.parametrize("case", NEW_CASES)
@pytest.mark.parametrize("name", sorted(FUNCTION_EXPECTATIONS))
def test_bad_input_of_public_functions(name, case):
    call, expectations = FUNCTION_EXPECTATIONS[name]
    expected = expectations[case]
    X, y = clean_frame()
    X_fit, y_fit, X_later, column = CASES[case](X, y)
    originals = [_copy(X_fit), _copy(X_later), _copy(y_fit)]
    if isinstance(expected, Raises):
        with pytest.raises(expected.exc) as info:
            call(X_fit, y_fit, X_later)
        message = str(info.value)
        assert re.search(expected.match, message), message
        if expected.names_column and column is not None and "column" in expected.match:
            assert repr(column) in message, message
    else:
        expected.check(call(X_fit, y_fit, X_later))
    for given, original in zip([X_fit, X_later, y_fit], originals, strict=True):
        _assert_unchanged(given, original)
