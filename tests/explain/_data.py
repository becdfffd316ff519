"""Small credit data, pipelines and the output oracle shared by the explain tests."""

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from mlpipe.datasets import load_credit
from mlpipe.impute import TypedImputer

NUMERIC = ["job", "credit_amount", "duration", "age"]
CATEGORICAL = ["sex", "housing", "saving_accounts", "checking_account", "purpose"]


def credit(n=240):
    """Credit rows with real gaps: unknown accounts as missing categories
    and a few missing credit amounts."""
    X, y = load_credit(return_X_y=True, unknown_as_missing=True)
    X = X.iloc[:n].copy()
    y = y.iloc[:n].copy()
    X["credit_amount"] = X["credit_amount"].astype("float64")
    X.loc[X.index[::13], "credit_amount"] = np.nan
    return X, y


def preprocessor(numeric=NUMERIC, categorical=CATEGORICAL):
    """ColumnTransformer: impute (with indicators) + scale the numbers,
    impute (with indicators) + one-hot encode the categories."""
    return ColumnTransformer(
        [
            ("num", make_pipeline(TypedImputer(add_indicator=True), StandardScaler()), numeric),
            (
                "cat",
                make_pipeline(
                    TypedImputer(add_indicator=True), OneHotEncoder(handle_unknown="ignore")
                ),
                categorical,
            ),
        ]
    )


def model_output(model, X, output):
    """The independent oracle: what the fitted pipeline itself returns."""
    if output == "probability":
        proba = model.predict_proba(X)
        return proba[:, 1] if proba.shape[1] == 2 else proba
    if output == "log_odds":
        return model.decision_function(X)
    return model.predict(X)
