"""Every public estimator against every case of the shared bad-input matrix."""

import re

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_array_equal
from pandas.testing import assert_frame_equal, assert_series_equal
from sklearn.base import clone

from mlpipe.automl import PipelineSearch, TabularEncoder
from mlpipe.impute import GroupImputer, TypedImputer
from tests._bad_input import CASES, Handled, Raises, clean_frame
from tests._registry import all_estimators
from tests.drift._matrix import DRIFT_EXPECTATIONS


def _no_missing(est, X_later, out):
    assert not out.isna().any().any()
    assert out.shape == X_later.shape


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
    }


EXPECTATIONS["SchemaValidator"] = (_schema_validator, _validator_matrix())


EXPECTATIONS.update(DRIFT_EXPECTATIONS)


def test_every_public_estimator_is_in_the_matrix():
    names = {name for name, _ in all_estimators()}
    assert names <= set(EXPECTATIONS), sorted(names - set(EXPECTATIONS))
    for name, (_, expectations) in EXPECTATIONS.items():
        assert set(expectations) == set(CASES), f"{name} must declare every case"


def _later(est, X):
    if hasattr(est, "transform"):
        return est.transform(X)
    if hasattr(est, "predict"):
        return est.predict(X)
    return est.score(X)


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("name", sorted(EXPECTATIONS))
def test_bad_input(name, case):
    factory, expectations = EXPECTATIONS[name]
    expected = expectations[case]
    X, y = clean_frame()
    X_fit, y_fit, X_later, column = CASES[case](X, y)
    originals = [X_fit.copy(deep=True), X_later.copy(deep=True), y_fit.copy(deep=True)]
    est = clone(factory())

    if isinstance(expected, Raises):
        with pytest.raises(expected.exc) as info:
            est.fit(X_fit, y_fit)
            if expected.at == "later":
                _later(est, X_later)
        message = str(info.value)
        assert re.search(expected.match, message), message
        if expected.names_column and column is not None:
            assert repr(column) in message or f"- {column}" in message, message
    else:
        est.fit(X_fit, y_fit)
        out = _later(est, X_later)
        expected.check(est, X_later, out)

    assert_frame_equal(X_fit, originals[0])
    assert_frame_equal(X_later, originals[1])
    assert_series_equal(y_fit, originals[2])
