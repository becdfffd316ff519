"""Mitigation on the German credit data, sex as the sensitive feature, on a
held-out split, compared with fairlearn's ThresholdOptimizer.

These are measured properties of one fixed split (seed 0), not guarantees:
across ten random splits the demographic parity difference on held-out data
was halved in 9/10 (reweighing), 6/10 (group thresholds) and 7/10
(ThresholdOptimizer) of them; see docs/guide/fairness.md for the table.
"""

import numpy as np
import pytest
from fairlearn.postprocessing import ThresholdOptimizer
from sklearn.compose import make_column_selector, make_column_transformer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from mlpipe.datasets import load_credit
from mlpipe.fairness import (
    GroupThresholdClassifier,
    ReweighingClassifier,
    audit_fairness,
    demographic_parity_difference,
)


def _model():
    encode = make_column_transformer(
        (OneHotEncoder(handle_unknown="ignore"), make_column_selector(dtype_include="category")),
        remainder=StandardScaler(),
    )
    return make_pipeline(encode, LogisticRegression(max_iter=1000))


@pytest.fixture(scope="module")
def results():
    X, y = load_credit(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, stratify=y, random_state=0
    )
    models = {
        "baseline": _model(),
        "reweighing": ReweighingClassifier(estimator=_model(), sensitive_feature="sex"),
        "group_threshold": GroupThresholdClassifier(estimator=_model(), sensitive_feature="sex"),
    }
    predictions = {name: m.fit(X_train, y_train).predict(X_test) for name, m in models.items()}
    optimizer = ThresholdOptimizer(
        estimator=_model(), constraints="demographic_parity", predict_method="predict_proba"
    )
    optimizer.fit(X_train, y_train, sensitive_features=X_train["sex"])
    predictions["fairlearn"] = optimizer.predict(
        X_test, sensitive_features=X_test["sex"], random_state=0
    )
    out = {}
    for name, pred in predictions.items():
        report = audit_fairness(
            y_test, pred, sensitive_features="sex", X=X_test, n_boot=200, random_state=0
        )
        out[name] = {
            "accuracy": accuracy_score(y_test, pred),
            "dp": report.disparities.loc["demographic_parity_difference", "value"],
            "report": report,
        }
        assert out[name]["dp"] == demographic_parity_difference(
            y_test, pred, sensitive_features=X_test["sex"]
        )
    return out


def test_baseline_is_unfair_enough_to_measure(results):
    # Measured 0.210: women are selected at 0.67, men at 0.88.
    assert results["baseline"]["dp"] > 0.15
    assert not results["baseline"]["report"].four_fifths_passed


@pytest.mark.parametrize("name", ["reweighing", "group_threshold"])
def test_mitigation_halves_demographic_parity_difference(results, name):
    base, after = results["baseline"], results[name]
    # Measured: 0.210 -> 0.054 (reweighing), 0.062 (group thresholds).
    assert after["dp"] <= base["dp"] / 2
    # The stated cost: at most 5 accuracy points (measured 2.3 and 3.7).
    assert base["accuracy"] - after["accuracy"] <= 0.05
    assert after["report"].four_fifths_passed


def test_group_thresholds_are_on_par_with_fairlearn(results):
    ours, theirs = results["group_threshold"], results["fairlearn"]
    # Measured: ours 0.062 at 0.733 accuracy; ThresholdOptimizer 0.058 at 0.727.
    assert abs(ours["dp"] - theirs["dp"]) <= 0.03
    assert ours["accuracy"] >= theirs["accuracy"] - 0.01
    assert np.isfinite(theirs["dp"])
