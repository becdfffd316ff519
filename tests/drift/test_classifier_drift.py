"""ClassifierDrift: the joint shift the per-column tests miss, its oracles
(roc_auc_score, mannwhitneyu, SHAP additivity), clean batches, mixed frames
and bad input."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from mlpipe.datasets import load_credit
from mlpipe.drift import ClassifierDrift, ClassifierDriftReport, DriftDetector
from mlpipe.drift._classifier import _auroc_mannwhitney


@pytest.fixture(scope="module")
def credit():
    return load_credit(return_X_y=True)[0]


def _split(X, n_ref, seed):
    rows = np.random.default_rng(seed).permutation(len(X))
    return X.iloc[rows[:n_ref]], X.iloc[rows[n_ref:]].copy()


@pytest.fixture(scope="module")
def joint(credit):
    """A credit batch whose durations are shuffled among its own rows: every
    column's distribution is a clean split's, the amount-duration link is gone."""
    ref, batch = _split(credit, 600, 0)
    rng = np.random.default_rng(1)
    batch["duration"] = rng.permutation(batch["duration"].to_numpy())
    report = ClassifierDrift().fit(ref).detect(batch)
    return ref, batch, report


def _mixed(n, seed, new_share=0.0):
    rng = np.random.default_rng(seed)
    colour = rng.choice(["red", "green", "blue"], size=n).astype(object)
    colour[rng.random(n) < new_share] = "violet"
    amount = rng.lognormal(3, 1, n)
    amount[rng.random(n) < 0.2] = np.nan
    return pd.DataFrame(
        {
            "colour": pd.Series(colour, dtype="str"),
            "size": pd.Categorical(rng.choice(["S", "M", "L"], size=n)),
            "amount": amount,
            "flag": rng.random(n) < 0.3,
            "when": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 365, n), "D"),
            "count": rng.poisson(2, n),
        }
    )


# ------------------------------------------------------------------ the story


def test_joint_shift_is_found(joint):
    _, _, report = joint
    assert isinstance(report, ClassifierDriftReport)
    assert report.drift
    assert report.auroc >= 0.55 and report.p_value <= 0.05
    frame = report.to_frame()
    assert frame[["feature", "test"]].values.tolist() == [["(joint)", "classifier"]]
    assert report.drifted_features == ["(joint)"]
    assert report.stable_share == 0.0
    assert report.summary().startswith("DRIFT: held-out AUROC")


def test_joint_shift_is_missed_by_every_univariate_test(joint):
    ref, batch, _ = joint
    frame = DriftDetector().fit(ref).detect(batch).to_frame()
    assert set(frame["feature"]) == set(ref.columns)
    assert not frame["drift"].any()


def test_explanation_names_the_columns_involved(joint):
    _, _, report = joint
    explanation = report.explanation
    assert set(explanation["feature"][:2]) == {"duration", "credit_amount"}
    assert list(explanation["importance"]) == sorted(explanation["importance"], reverse=True)
    assert explanation["share"].sum() == pytest.approx(1.0)
    # it names them in the summary too
    assert "credit_amount" in report.summary() and "duration" in report.summary()


def test_shap_values_add_up_to_the_out_of_fold_scores(joint):
    # every row is explained by the fold model that scored it
    _, _, report = joint
    shap = report.shap
    assert shap.method == "tree"
    assert shap.feature_names == list(joint[0].columns)
    total = shap.values.sum(axis=1) + shap.base_values
    np.testing.assert_allclose(total, report.scores["score"].to_numpy(), rtol=0, atol=1e-8)
    # raw values, reference rows first
    assert shap.data["purpose"].iloc[0] == joint[0]["purpose"].iloc[0]
    assert shap.data["purpose"].iloc[-1] == joint[1]["purpose"].iloc[-1]


def test_explanation_values_average_the_shap_values(joint):
    _, _, report = joint
    table = report.explanation_values
    shap, batch = report.shap, report.scores["batch"].to_numpy()
    rows = (shap.data["housing"] == "rent").to_numpy()
    line = table[(table["feature"] == "housing") & (table["value"] == "rent")].iloc[0]
    j = shap.feature_names.index("housing")
    assert line["mean_shap"] == pytest.approx(shap.values[rows, j].mean())
    assert (line["n_reference"], line["n_batch"]) == ((rows & ~batch).sum(), (rows & batch).sum())
    # the batch value of a column is its value of largest mean SHAP value
    top = report.explanation.set_index("feature").loc["housing"]
    best = table[table["feature"] == "housing"].sort_values("mean_shap").iloc[-1]
    assert top["batch_value"] == best["value"]


# ------------------------------------------------------------------ oracles


def test_auroc_and_p_value_equal_sklearn_and_scipy(joint):
    # the AUROC of all the out-of-fold scores; the default p-value of the
    # first held-out fold's
    _, _, report = joint
    scores = report.scores
    s, batch = scores["score"].to_numpy(), scores["batch"].to_numpy()
    assert report.auroc == pytest.approx(roc_auc_score(batch, s), rel=1e-12)
    first = scores["fold"].to_numpy() == 0
    assert 0.15 < first.mean() < 0.25
    s, batch = s[first], batch[first]
    expected = stats.mannwhitneyu(s[batch], s[~batch], alternative="greater", method="asymptotic")
    assert report.p_value == pytest.approx(expected.pvalue, rel=1e-9)
    fold_auroc = roc_auc_score(batch, s)
    assert f"(AUROC {fold_auroc:.3f})" in report.to_frame()["note"].iloc[0]


def test_pooled_mannwhitney_option(joint):
    ref, batch, _ = joint
    report = ClassifierDrift(p_value="mannwhitney", explain=False).fit(ref).detect(batch)
    s, is_batch = report.scores["score"].to_numpy(), report.scores["batch"].to_numpy()
    expected = stats.mannwhitneyu(
        s[is_batch], s[~is_batch], alternative="greater", method="asymptotic"
    )
    assert report.p_value == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-300)
    assert report.auroc == pytest.approx(joint[2].auroc)  # same folds, same scores


@pytest.mark.parametrize(
    "n0, n1, levels, seed",
    [(50, 30, None, 0), (40, 40, 4, 1), (9, 6, 3, 2), (5, 5, None, 3), (200, 20, 2, 4)],
)
def test_mannwhitney_on_ties_and_tiny_samples(n0, n1, levels, seed):
    rng = np.random.default_rng(seed)
    s = rng.normal(size=n0 + n1) + np.r_[np.zeros(n0), np.full(n1, 0.3)]
    if levels is not None:
        s = np.round(s * levels / 3)  # few distinct values: heavy ties
    batch = np.r_[np.zeros(n0, bool), np.ones(n1, bool)]
    auroc, p = _auroc_mannwhitney(stats.rankdata(s), batch)
    assert auroc == pytest.approx(roc_auc_score(batch, s), rel=1e-12)
    expected = stats.mannwhitneyu(s[batch], s[~batch], alternative="greater", method="asymptotic")
    assert p == pytest.approx(expected.pvalue, rel=1e-9)


# ------------------------------------------------------------------ clean batches


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_quiet_on_clean_credit_splits(credit, seed):
    # in-sample scores would give an AUROC near 1 here; held-out ones near 0.5
    ref, batch = _split(credit, 700, 100 + seed)
    report = ClassifierDrift(explain=False, random_state=seed).fit(ref).detect(batch)
    assert not report.drift
    assert abs(report.auroc - 0.5) < 0.06
    assert report.p_value > 0.01


def test_many_valued_categories_are_not_drift_by_themselves():
    # 30% of the rows hold an identifier of their own: a clean batch brings
    # values the reference lacks; coded as "not in the reference" they told
    # the batch apart (AUROC 0.81)
    rng = np.random.default_rng(0)
    n = 1200
    ident = np.where(
        rng.random(n) < 0.3,
        [f"id{k}" for k in range(n)],
        rng.choice([f"common{k}" for k in range(8)], n),
    )
    X = pd.DataFrame({"ident": ident.astype(object), "x": rng.normal(size=n)})
    report = ClassifierDrift(explain=False).fit(X.iloc[:800]).detect(X.iloc[800:])
    assert not report.drift
    assert report.auroc < 0.55


# ------------------------------------------------------------------ mixed frames


def test_mixed_frame_with_missing_values_and_a_new_category():
    ref, batch = _mixed(400, 0), _mixed(300, 1, new_share=0.3)
    report = ClassifierDrift().fit(ref).detect(batch)
    assert report.drift
    assert report.explanation["feature"].iloc[0] == "colour"
    values = report.explanation_values
    new = values[values["value"] == "violet (not in the reference)"].iloc[0]
    assert new["n_reference"] == 0 and new["n_batch"] == (batch["colour"] == "violet").sum()
    assert new["mean_shap"] > 0
    assert report.explanation.set_index("feature").loc["colour", "batch_value"] == (
        "violet (not in the reference)"
    )
    assert "missing" in set(values.loc[values["feature"] == "amount", "value"])


def test_mixed_frame_clean_batch_is_quiet():
    report = ClassifierDrift(explain=False).fit(_mixed(400, 2)).detect(_mixed(300, 3))
    assert not report.drift


def test_a_batch_column_with_no_values_is_drift():
    ref, batch = _mixed(300, 0), _mixed(200, 1)
    batch["amount"] = np.nan
    report = ClassifierDrift().fit(ref).detect(batch)
    assert report.drift
    assert report.explanation["feature"].iloc[0] == "amount"


def test_arrays_and_other_classifiers():
    rng = np.random.default_rng(0)
    ref = rng.normal(size=(300, 3))
    batch = rng.normal(size=(200, 3))
    batch[:, 2] += 0.8
    linear = ClassifierDrift(estimator=LogisticRegression()).fit(ref).detect(batch)
    assert linear.drift and linear.shap.method == "linear"
    assert linear.explanation["feature"].iloc[0] == 2
    forest = RandomForestClassifier(n_estimators=20, max_depth=4, random_state=0)
    proba = ClassifierDrift(estimator=forest, explain=False).fit(ref).detect(batch)
    assert proba.drift
    assert ((proba.scores["score"] >= 0) & (proba.scores["score"] <= 1)).all()


def test_same_seed_same_report_and_reproducible_subsample(credit):
    ref, batch = _split(credit, 800, 5)
    a = ClassifierDrift(max_reference_rows=300, random_state=3, explain=False).fit(ref)
    b = ClassifierDrift(max_reference_rows=300, random_state=3, explain=False).fit(ref)
    assert a.reference_rows_.shape == (300, credit.shape[1])
    np.testing.assert_array_equal(a.reference_rows_, b.reference_rows_)
    ra, rb = a.detect(batch), b.detect(batch)
    pd.testing.assert_frame_equal(ra.to_frame(), rb.to_frame())
    pd.testing.assert_frame_equal(ra.scores, rb.scores)
    assert ra.n_reference == 300


def test_the_callers_data_is_not_modified():
    ref, batch = _mixed(200, 0), _mixed(100, 1, new_share=0.2)
    ref_copy, batch_copy = ref.copy(deep=True), batch.copy(deep=True)
    ClassifierDrift().fit(ref).detect(batch)
    pd.testing.assert_frame_equal(ref, ref_copy)
    pd.testing.assert_frame_equal(batch, batch_copy)


# ------------------------------------------------------------------ bad input


@pytest.fixture(scope="module")
def fitted():
    return ClassifierDrift(explain=False).fit(_mixed(100, 0))


@pytest.mark.parametrize("n", [0, 1, 4])
def test_too_small_a_batch(fitted, n):
    with pytest.raises(ValueError, match=rf"batch has {n} row\(s\).*n_splits=5"):
        fitted.detect(_mixed(10, 1).iloc[:n])


def test_too_small_a_reference():
    with pytest.raises(ValueError, match=r"3 sample\(s\).*minimum of 5"):
        ClassifierDrift().fit(_mixed(3, 0))


def test_missing_and_extra_columns(fitted):
    batch = _mixed(50, 1)
    with pytest.raises(ValueError, match="amount"):
        fitted.detect(batch.drop(columns="amount"))
    with pytest.raises(ValueError, match="extra"):
        fitted.detect(batch.assign(extra=1.0))


def test_a_reference_column_with_no_values():
    ref = _mixed(50, 0).assign(amount=np.nan)
    with pytest.raises(ValueError, match=r"'amount' of the reference hold only missing"):
        ClassifierDrift().fit(ref)


def test_a_numeric_column_arriving_as_text(fitted):
    batch = _mixed(50, 1)
    batch["count"] = batch["count"].astype(str)
    with pytest.raises(TypeError, match="'count' was numeric at fit"):
        fitted.detect(batch)


def test_unfitted():
    with pytest.raises(ValueError, match="not fitted"):
        ClassifierDrift().detect(_mixed(10, 0))
