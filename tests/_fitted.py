"""Every public estimator, built and fitted as a saved model would be: what
the skops and the mlpipe.save round-trip tests share.

The registry's arguments are used, except where the credit frame needs
others: the fairness wrappers take their groups from the "sex" column (the
registry's callable lives in tests/, a module a saved model must not depend
on); KS compares the numeric columns only; the validator warns, so that its
report of the defective batch is kept.
"""

import warnings

from sklearn.base import clone
from sklearn.compose import make_column_transformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from mlpipe.datasets import make_credit_batch
from mlpipe.impute import TypedImputer
from tests._registry import make_instance

PARAMS = {
    "SchemaValidator": {"on_error": "warn"},
    "GroupImputer": {"by": "job"},
    "KSDrift": {"columns": ["credit_amount", "duration", "age"]},
    "ReweighingClassifier": {"sensitive_feature": "sex"},
    "GroupThresholdClassifier": {"sensitive_feature": "sex"},
}
NEEDS_ESTIMATOR = {"ReweighingClassifier", "GroupThresholdClassifier"}
# The text columns of the credit frame, named (a make_column_selector is not
# in skops' default trusted set).
TEXT_COLUMNS = ["sex", "housing", "saving_accounts", "checking_account", "purpose"]


def fair_inner():
    encode = make_column_transformer(
        (OneHotEncoder(handle_unknown="ignore"), TEXT_COLUMNS),
        remainder=StandardScaler(),
    )
    return make_pipeline(TypedImputer(), encode, LogisticRegression(max_iter=1000))


def instance(name, cls):
    if name not in PARAMS:
        return clone(make_instance(cls))
    params = dict(PARAMS[name])
    if name in NEEDS_ESTIMATOR:
        params["estimator"] = fair_inner()
    return cls(**params)


def later_batch(X):
    """A later batch, drifted and with a few defects, labelled like the caller's."""
    return make_credit_batch(len(X), drift=True, random_state=0).X[X.columns]


def fit(name, cls, X, y):
    """``cls`` fitted on ``(X, y)``, with what serving leaves in it too."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if name == "PerformanceEstimator":
            # a real classifier fitted beforehand (the common checks' test
            # double is a tests type, which a saved file must not hold)
            est = cls(estimator=fair_inner().fit(X, y), n_splits=2, n_draws=50, n_bootstrap=5).fit(
                X, y
            )
        else:
            est = instance(name, cls).fit(X, y)
        # What fit leaves plus what serving leaves: reports of a batch, and
        # the report tables read (a DriftReport builds its frame on first use).
        if hasattr(est, "transform") and not hasattr(est, "detect"):
            try:
                est.transform(later_batch(X))
            except ValueError:  # a validator refusing the drifted batch
                est.transform(X)
        for report in getattr(est, "history_", []):
            report.to_frame()
        if getattr(est, "last_report_", None) is not None:
            est.last_report_.to_frame()
    return est


def outputs(est, X):
    """What the estimator gives on ``X``, by method."""
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if hasattr(est, "detect"):
            out["detect"] = est.detect(X).to_frame()
            out["score"] = est.score(X)
        elif hasattr(est, "transform"):
            out["transform"] = est.transform(X)
        for method in ("predict", "predict_proba", "decision_function"):
            if hasattr(est, method):
                out[method] = getattr(est, method)(X)
    return out
