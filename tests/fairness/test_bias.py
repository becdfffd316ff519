"""check_bias against pandas, scipy and scikit-learn on the same inputs."""

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from scipy.stats import chi2_contingency, entropy
from sklearn.metrics import mutual_info_score

from mlpipe.datasets import load_credit
from mlpipe.fairness import BiasReport, check_bias


@pytest.fixture(scope="module")
def credit():
    return load_credit(return_X_y=True)


def test_groups_and_base_rates(credit):
    X, y = credit
    report = check_bias(X, y, sensitive_features="sex")
    assert isinstance(report, BiasReport)
    expected = y.groupby(X["sex"], observed=True).agg(["size", "mean"])
    assert_allclose(report.groups["size"], expected["size"])
    assert_allclose(report.groups["share"], expected["size"] / len(y))
    assert_allclose(report.groups["base_rate"], expected["mean"])
    assert_allclose(report.groups["base_rate_ratio"], expected["mean"] / expected["mean"].max())
    table = pd.crosstab(X["sex"], y)
    assert_allclose(report.base_rate_pvalue, chi2_contingency(table, correction=False).pvalue)
    assert_allclose(report.class_balance.loc[1], 0.7)


def test_mutual_information_equals_sklearn(credit):
    X, y = credit
    report = check_bias(X, y, sensitive_features="sex", n_permutations=0)
    sex = X["sex"].astype(str)
    h = entropy(sex.value_counts())
    for col in ("housing", "purpose", "job"):  # categorical or few values
        mi = mutual_info_score(sex, X[col].astype(str))
        assert_allclose(report.proxies.loc[col, "mutual_information"], mi, rtol=1e-10)
        assert_allclose(report.proxies.loc[col, "uncertainty_coefficient"], mi / h, rtol=1e-10)
    binned = pd.qcut(X["age"], 10, duplicates="drop")
    assert_allclose(
        report.proxies.loc["age", "mutual_information"],
        mutual_info_score(sex, binned.astype(str)),
        rtol=1e-10,
    )
    assert "sex" not in report.proxies.index


def test_planted_proxy_is_flagged_and_an_id_column_is_not(credit):
    X, y = credit
    rng = np.random.default_rng(0)
    X = X.copy()
    noisy = X["sex"].astype(str).to_numpy().copy()
    flip = rng.random(len(X)) < 0.05
    noisy[flip] = np.where(noisy[flip] == "male", "female", "male")
    X["title"] = noisy
    X["applicant_id"] = [f"id{i}" for i in range(len(X))]
    report = check_bias(X, y, sensitive_features="sex")
    assert report.proxies.loc["title", "is_proxy"]
    # An ID determines every row, so its raw coefficient is 1, but shuffled
    # groups explain it just as well: it is no proxy.
    assert report.proxies.loc["applicant_id", "uncertainty_coefficient"] > 0.99
    assert not report.proxies.loc["applicant_id", "is_proxy"]
    flagged = report.to_frame().query("flagged")
    assert list(flagged["subject"]) == ["title"]
    assert report.summary() == "1 issue(s): proxy title"


def test_representation_imbalance_and_base_rate_flags():
    rng = np.random.default_rng(1)
    n = 400
    group = np.where(np.arange(n) < 12, "tiny", np.where(np.arange(n) < 200, "a", "b"))
    y = np.where(group == "a", rng.random(n) < 0.05, rng.random(n) < 0.3).astype(int)
    X = pd.DataFrame({"group": group, "x": rng.normal(size=n)})
    report = check_bias(X, y, sensitive_features="group")
    findings = report.to_frame().set_index(["check", "subject"])
    assert findings.loc[("representation", "tiny"), "flagged"]
    assert not findings.loc[("representation", "a"), "flagged"]
    assert findings.loc[("base_rate", "a"), "flagged"]
    assert findings.loc[("class_balance", "1"), "flagged"]
    assert "representation tiny" in str(report)


def test_without_labels_and_with_array_groups():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(100, 3))
    groups = rng.choice(["a", "b"], size=100)
    report = check_bias(X, sensitive_features=groups)
    assert "base_rate" not in report.groups.columns
    assert np.isnan(report.base_rate_pvalue)
    assert list(report.proxies.index) == [0, 1, 2]
    assert set(report.to_frame()["check"]) == {"representation", "proxy"}


def test_missing_values_are_a_category_of_their_own(credit):
    X, y = credit
    X = X.copy()
    X["credit_amount"] = X["credit_amount"].astype(float)
    X.loc[X["sex"] == "female", "credit_amount"] = np.nan  # missingness reveals sex
    report = check_bias(X, y, sensitive_features="sex")
    assert report.proxies.loc["credit_amount", "is_proxy"]


def test_bad_input(credit):
    X, y = credit
    with pytest.raises(ValueError, match="y has 10 value"):
        check_bias(X, y[:10], sensitive_features="sex")
    with pytest.raises(ValueError, match="0 samples"):
        check_bias(X.iloc[:0], sensitive_features="sex")
    with pytest.raises(ValueError, match=r"\['gender'\] are not columns of X"):
        check_bias(X, y, sensitive_features=["gender"])
    with pytest.raises(
        ValueError, match=r"pos_label='good' is not a valid label\. It should be one of \[0, 1\]"
    ):
        check_bias(X, y, sensitive_features="sex", pos_label="good")
    with pytest.raises(ValueError, match="kind must be"):
        check_bias(X, y, sensitive_features="sex").to_frame("all")
