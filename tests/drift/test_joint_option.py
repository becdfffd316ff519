"""DriftDetector(joint=...): a joint test beside the per-column tests
(issue 19, item 1's option).

The oracle of the joint row is the joint detector run alone on the same
rows (same seed), and of the columns' cut-offs scipy's Benjamini-Hochberg
(``scipy.stats.false_discovery_control``) over the columns' p-values: the
joint test keeps its own level.
"""

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import mlpipe
from mlpipe.datasets import load_credit, make_credit_batch
from mlpipe.drift import (
    ClassifierDrift,
    ClassifierDriftReport,
    DriftDetector,
    DriftMonitor,
    ReconstructionDrift,
)


@pytest.fixture(scope="module")
def credit():
    return load_credit(return_X_y=True)[0]


@pytest.fixture(scope="module")
def permuted(credit):
    """Durations shuffled among the batch's own rows: every column's
    distribution is a clean split's, the link of duration to amount is gone."""
    rows = np.random.default_rng(0).permutation(len(credit))
    ref, batch = credit.iloc[rows[:600]], credit.iloc[rows[600:]].copy()
    batch["duration"] = np.random.default_rng(1).permutation(batch["duration"].to_numpy())
    return ref, batch


def test_joint_row_is_the_joint_detector_at_its_own_level(permuted):
    ref, batch = permuted
    detector = DriftDetector(joint=ClassifierDrift(random_state=0)).fit(ref)
    report = detector.detect(batch)
    alone = ClassifierDrift(random_state=0).fit(ref).detect(batch)
    plain = DriftDetector().fit(ref).detect(batch)

    frame = report.to_frame()
    joint_row = frame[frame["feature"] == "(joint)"]
    assert joint_row["test"].tolist() == ["classifier"]
    for name in ("statistic", "p_value", "threshold", "drift", "effect_size", "note"):
        assert joint_row[name].iloc[0] == alone.to_frame()[name].iloc[0]
    assert joint_row["threshold"].iloc[0] == 0.05  # ClassifierDrift's alpha, uncorrected
    # the per-column rows are the plain detector's
    columns = frame[frame["feature"] != "(joint)"].reset_index(drop=True)
    pd.testing.assert_frame_equal(columns, plain.to_frame())
    p = columns["p_value"].to_numpy()
    testable = ~np.isnan(p)
    adjusted = stats.false_discovery_control(p[testable], method="bh")
    np.testing.assert_array_equal(
        adjusted <= 0.05, (p <= columns["threshold"].to_numpy())[testable]
    )

    # the joint shift: missed by every column, found by the joint test
    assert not plain.drift and not columns["drift"].any()
    assert report.drift and report.drifted_features == ["(joint)"]
    assert report.stable_share == 1.0  # no column drifted
    assert isinstance(report.joint, ClassifierDriftReport)
    assert report.joint.explanation["feature"].iloc[0] in ("duration", "credit_amount")
    assert "joint test (classifier): drifted" in report.summary()
    assert "telling columns: " in report.summary()


def test_a_clean_batch_stays_quiet_and_reconstruction_fits_too(credit):
    rows = np.random.default_rng(3).permutation(len(credit))
    ref, batch = credit.iloc[rows[:600]], credit.iloc[rows[600:]]
    for joint in (ClassifierDrift(random_state=0), ReconstructionDrift(random_state=0)):
        report = DriftDetector(joint=joint).fit(ref).detect(batch)
        assert not report.drift, report.summary()
        assert "joint test" in report.summary() and ": no drift" in report.summary()


def test_columns_drifted_and_joint_listed_after_them(credit):
    detector = DriftDetector(joint=ClassifierDrift(random_state=0)).fit(credit)
    report = detector.detect(make_credit_batch().X)
    plain = DriftDetector().fit(credit).detect(make_credit_batch().X)
    assert report.drifted_features == [*plain.drifted_features, "(joint)"]
    assert report.stable_share == plain.stable_share
    ranked = DriftDetector(joint=ClassifierDrift(random_state=0), importance={"age": 1.0})
    ranked_report = ranked.fit(credit).detect(make_credit_batch().X)
    assert ranked_report.drifted_features[0] == "age"
    assert ranked_report.drifted_features[-1] == "(joint)"
    assert "(joint)" not in ranked_report.by_importance().index


def test_watched_columns_only(credit):
    detector = DriftDetector(columns=["age", "duration"], joint=ClassifierDrift(random_state=0))
    detector.fit(credit)
    assert list(detector.joint_.feature_names_in_) == ["duration", "age"]  # X's order
    assert detector.detect(make_credit_batch().X).joint.n_batch == 500


def test_the_joint_estimator_is_cloned_not_fitted(credit):
    joint = ClassifierDrift(random_state=0)
    detector = DriftDetector(joint=joint).fit(credit)
    assert not hasattr(joint, "reference_rows_") and detector.joint_ is not joint


def test_saved_monitor_history_keeps_the_joint_report(permuted, tmp_path):
    ref, batch = permuted
    monitor = DriftMonitor(detector=DriftDetector(joint=ClassifierDrift(random_state=0)))
    monitor.set_params(warn=False).fit(ref)
    monitor.transform(batch)
    before = monitor.history_[-1]
    assert before.joint.shap is not None
    mlpipe.save(monitor, tmp_path / "monitor.skops")
    after = mlpipe.load(tmp_path / "monitor.skops").history_[-1]
    assert after.drift and after.drifted_features == before.drifted_features
    assert after.summary() == before.summary()
    pd.testing.assert_frame_equal(after.joint.explanation, before.joint.explanation)
    assert after.joint.shap is None  # the per-row SHAP values are not saved
    assert before.joint.shap is not None  # saving did not touch the live report


def test_refused_where_the_rows_are_not_in_memory(credit):
    dd = pytest.importorskip("dask.dataframe")
    detector = DriftDetector(joint=ClassifierDrift())
    with pytest.raises(TypeError, match="fits its joint test on the reference rows in memory"):
        detector.fit(dd.from_pandas(credit, npartitions=2))
    assert not hasattr(detector, "reference_")
    with pytest.raises(ValueError, match="learns its joint test from the whole reference"):
        DriftDetector(joint=ClassifierDrift()).partial_fit(credit)
    fitted = DriftDetector(joint=ClassifierDrift(random_state=0)).fit(credit)
    with pytest.raises(TypeError, match="compute the batch first"):
        fitted.detect(dd.from_pandas(make_credit_batch().X, npartitions=2))


def test_a_failing_joint_fit_leaves_the_detector_unfitted(credit):
    detector = DriftDetector(joint=ClassifierDrift(n_splits=5))
    with pytest.raises(ValueError):
        detector.fit(credit.iloc[:3])  # fewer rows than the joint test's folds
    assert not hasattr(detector, "reference_") and not hasattr(detector, "joint_")


def test_not_a_detector_is_refused(credit):
    with pytest.raises(ValueError, match="joint"):
        DriftDetector(joint="classifier").fit(credit)


def test_the_run_store_records_the_ranking_and_the_joint_row(permuted, tmp_path):
    from mlpipe.monitor import RunStore, wait_for_writes

    ref, batch = permuted
    batch = batch.copy()
    batch["age"] = batch["age"] + 15  # a column drifts too
    detector = DriftDetector(joint=ClassifierDrift(random_state=0), importance={"age": 1.0})
    path = tmp_path / "runs.db"
    monitor = DriftMonitor(detector=detector, warn=False, store=path).fit(ref)
    monitor.transform(batch)
    report = monitor.history_[-1]
    assert report.drifted_features == ["age", "(joint)"]
    wait_for_writes(timeout=30)
    with RunStore(path, read_only=True) as store:
        runs = store.runs(kind="drift")
        stored = store.history()
    detail = json.loads(runs["detail"].iloc[-1])
    assert detail["drifted_features"] == report.drifted_features
    assert detail["drifted_importance"] == report.drifted_importance == 1.0
    assert runs["summary"].iloc[-1].startswith("DRIFT: 1 of 9 features drifted: age; joint test")
    joint = stored[stored["feature"] == "(joint)"]
    assert joint["test"].tolist() == ["classifier"] and bool(joint["drift"].iloc[0])
