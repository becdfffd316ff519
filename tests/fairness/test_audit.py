"""audit_fairness and FairnessReport: values against fairlearn, intervals
against the normal approximation, verdicts, warnings and printing."""

import warnings

import matplotlib
import numpy as np
import pandas as pd
import pytest
from fairlearn import metrics as fl
from numpy.testing import assert_allclose
from sklearn.metrics import accuracy_score, precision_score

from mlpipe.exceptions import FairnessWarning
from mlpipe.fairness import FairnessReport, audit_fairness

matplotlib.use("Agg")


def _data(n=600, seed=0):
    rng = np.random.default_rng(seed)
    sex = pd.Series(rng.choice(["female", "male"], size=n, p=[0.4, 0.6]), name="sex")
    age = pd.Series(rng.choice(["<25", "25+"], size=n, p=[0.3, 0.7]), name="age_band")
    y_true = rng.integers(0, 2, n)
    y_pred = (rng.random(n) < np.where(sex == "male", 0.7, 0.5)).astype(int)
    return y_true, y_pred, sex, age


@pytest.mark.parametrize("intersectional", [False, True])
def test_values_equal_fairlearn(intersectional):
    y_true, y_pred, sex, age = _data()
    sf = pd.DataFrame({"sex": sex, "age_band": age}) if intersectional else sex
    report = audit_fairness(y_true, y_pred, sensitive_features=sf, n_boot=50, random_state=0)
    frame = fl.MetricFrame(
        metrics={
            "size": fl.count,
            "base_rate": lambda yt, yp: fl.selection_rate(yp, yt),
            "selection_rate": fl.selection_rate,
            "true_positive_rate": fl.true_positive_rate,
            "false_positive_rate": fl.false_positive_rate,
            "precision": lambda yt, yp: precision_score(yt, yp, zero_division=0),
            "accuracy": accuracy_score,
        },
        y_true=y_true,
        y_pred=y_pred,
        sensitive_features=sf,
    )
    theirs = frame.by_group.dropna(how="all").astype(float)
    ours = report.by_group[theirs.columns].astype(float)
    assert_allclose(ours.to_numpy(), theirs.to_numpy(), rtol=1e-12)
    assert_allclose(report.by_group["share"].sum(), 1.0)
    expected = {
        name: getattr(fl, name)(y_true, y_pred, sensitive_features=sf)
        for name in (
            "demographic_parity_difference",
            "demographic_parity_ratio",
            "equal_opportunity_difference",
            "equal_opportunity_ratio",
            "equalized_odds_difference",
            "equalized_odds_ratio",
        )
    }
    expected["accuracy_difference"] = fl.MetricFrame(
        metrics=accuracy_score, y_true=y_true, y_pred=y_pred, sensitive_features=sf
    ).difference()
    for name, value in expected.items():
        assert_allclose(report.disparities.loc[name, "value"], value, rtol=1e-12, err_msg=name)
    assert_allclose(report.four_fifths_ratio, expected["demographic_parity_ratio"])


def test_bootstrap_intervals_match_the_normal_approximation():
    # Two large groups: the percentile bootstrap and the Wald interval of a
    # proportion (and of a difference of two) must agree closely.
    rng = np.random.default_rng(1)
    n = 2000
    group = np.repeat(["a", "b"], n)
    y_pred = (rng.random(2 * n) < np.where(group == "a", 0.5, 0.4)).astype(int)
    y_true = rng.integers(0, 2, 2 * n)
    report = audit_fairness(y_true, y_pred, sensitive_features=group, n_boot=2000, random_state=0)
    z = 1.959964
    p = np.array([y_pred[group == g].mean() for g in "ab"])
    se = np.sqrt(p * (1 - p) / n)
    ci = report.intervals[report.intervals["metric"] == "selection_rate"]
    assert_allclose(ci["ci_low"], p - z * se, atol=0.004)
    assert_allclose(ci["ci_high"], p + z * se, atol=0.004)
    diff_se = np.sqrt((se**2).sum())
    row = report.disparities.loc["demographic_parity_difference"]
    assert_allclose(row["ci_low"], abs(p[0] - p[1]) - z * diff_se, atol=0.004)
    assert_allclose(row["ci_high"], abs(p[0] - p[1]) + z * diff_se, atol=0.004)
    # The interval is not degenerate: it has the expected width.
    assert 0.05 < row["ci_high"] - row["ci_low"] < 0.07


def test_weights_scale_free_and_seeded():
    y_true, y_pred, sex, _ = _data()
    plain = audit_fairness(y_true, y_pred, sensitive_features=sex, n_boot=200, random_state=3)
    doubled = audit_fairness(
        y_true,
        y_pred,
        sensitive_features=sex,
        n_boot=200,
        random_state=3,
        sample_weight=np.full(len(y_true), 2.0),
    )
    pd.testing.assert_frame_equal(plain.disparities, doubled.disparities)
    pd.testing.assert_frame_equal(plain.intervals, doubled.intervals)
    other_seed = audit_fairness(y_true, y_pred, sensitive_features=sex, n_boot=200, random_state=4)
    assert not plain.disparities["ci_low"].equals(other_seed.disparities["ci_low"])


def test_weighted_values_equal_fairlearn():
    y_true, y_pred, sex, _ = _data()
    w = np.random.default_rng(5).random(len(y_true)) * 3
    report = audit_fairness(
        y_true, y_pred, sensitive_features=sex, sample_weight=w, n_boot=20, random_state=0
    )
    assert_allclose(
        report.disparities.loc["demographic_parity_difference", "value"],
        fl.demographic_parity_difference(y_true, y_pred, sensitive_features=sex, sample_weight=w),
    )
    low, high = report.disparities.loc["demographic_parity_difference", ["ci_low", "ci_high"]]
    assert low < report.disparities.loc["demographic_parity_difference", "value"] < high


def _rates(a, b, n=100):
    # Group a selected at rate a, group b at rate b.
    pred = np.r_[np.arange(n) < a * n, np.arange(n) < b * n].astype(int)
    return np.tile([0, 1], n), pred, np.repeat(["a", "b"], n)


@pytest.mark.parametrize("low, passed", [(0.39, False), (0.40, True), (0.41, True)])
def test_four_fifths_rule(low, passed):
    y_true, y_pred, groups = _rates(0.5, low)
    report = audit_fairness(y_true, y_pred, sensitive_features=groups, n_boot=0)
    assert_allclose(report.four_fifths_ratio, low / 0.5)
    assert report.four_fifths_passed is passed
    assert ("passes" if passed else "FAILS") in report.summary()
    assert_allclose(report.by_group["impact_ratio"], [1.0, low / 0.5])


def test_nobody_selected_leaves_the_rule_undefined():
    y_true, y_pred, groups = _rates(0.0, 0.0)
    report = audit_fairness(y_true, y_pred, sensitive_features=groups, n_boot=10, random_state=0)
    assert report.four_fifths_passed is None
    assert "undefined" in report.summary()
    assert report.disparities.loc["demographic_parity_difference", "value"] == 0


def test_small_groups_and_undefined_rates_warn():
    y_true, y_pred, sex, _ = _data(200)
    groups = sex.to_numpy().astype(object)
    groups[:10] = "other"
    y_true = y_true.copy()
    y_true[:10] = 1
    with pytest.warns(FairnessWarning) as record:
        report = audit_fairness(
            y_true, y_pred, sensitive_features=groups, n_boot=20, random_state=0
        )
    message = str(record[0].message)
    assert "group 'other' has 10 row(s), fewer than min_group_size=30" in message
    assert "group 'other' has only true label 1" in message
    assert report.small_groups == ["other"]
    assert len(report.notes) == 2
    assert "1 small group(s)" in report.summary()


def test_no_warning_for_healthy_groups():
    y_true, y_pred, sex, _ = _data()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        report = audit_fairness(y_true, y_pred, sensitive_features=sex, n_boot=20, random_state=0)
    assert report.notes == [] and report.small_groups == []


def test_report_prints_and_renders():
    y_true, y_pred, sex, age = _data()
    X = pd.DataFrame({"sex": sex, "age_band": age})
    report = audit_fairness(
        y_true, y_pred, sensitive_features=["sex", "age_band"], X=X, n_boot=50, random_state=0
    )
    assert isinstance(report, FairnessReport)
    text = str(report)
    assert text.startswith("Fairness audit: four-fifths rule")
    assert "demographic_parity_difference" in text and "female" in text
    groups = report.to_frame()
    assert list(groups.columns[:3]) == ["sex", "age_band", "size"]
    assert len(groups) == 4
    assert list(report.to_frame("disparities").columns) == ["metric", "value", "ci_low", "ci_high"]
    assert set(report.to_frame("intervals")["metric"]) == {
        "selection_rate",
        "true_positive_rate",
        "false_positive_rate",
    }
    html = report._repr_html_()
    assert html.count("<table") == 2 and "equalized_odds_ratio" in html
    ax = report.plot()
    assert len(ax.patches) == 4
    with pytest.raises(ValueError, match="kind must be"):
        report.to_frame("everything")


def test_bad_arguments_and_inputs_untouched():
    y_true, y_pred, sex, _ = _data()
    before = sex.copy()
    with pytest.raises(ValueError, match="confidence_level"):
        audit_fairness(y_true, y_pred, sensitive_features=sex, confidence_level=95)
    with pytest.raises(ValueError, match="n_boot"):
        audit_fairness(y_true, y_pred, sensitive_features=sex, n_boot=-1)
    with pytest.raises(ValueError, match="0 samples"):
        audit_fairness([], [], sensitive_features=[])
    with pytest.raises(ValueError, match="need binary labels"):
        audit_fairness(y_true + 1, y_pred, sensitive_features=sex)
    audit_fairness(y_true, y_pred, sensitive_features=sex, n_boot=10, random_state=0)
    pd.testing.assert_series_equal(sex, before)
