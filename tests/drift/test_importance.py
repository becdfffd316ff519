"""DriftDetector(importance=...): drifted features ranked by the model's
reliance on them (issue 19, item 5).

The oracle of the ranking is the SHAP values themselves: mean |SHAP| of
each raw column computed here from ``Explanation.values`` with numpy,
independently of ``Explanation.importance``.
"""

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import make_column_transformer
from sklearn.ensemble import RandomForestClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder

import mlpipe
from mlpipe.datasets import CREDIT_CATEGORICAL, load_credit, make_credit_batch
from mlpipe.drift import DriftDetector, DriftMonitor
from mlpipe.explain import explain


@pytest.fixture(scope="module")
def credit():
    X, y = load_credit(return_X_y=True)
    pre = make_column_transformer(
        (OneHotEncoder(handle_unknown="ignore"), list(CREDIT_CATEGORICAL)),
        remainder="passthrough",
    )
    forest = RandomForestClassifier(n_estimators=30, max_depth=4, random_state=0)
    model = make_pipeline(pre, forest).fit(X, y)
    explanation = explain(model, X.sample(150, random_state=0))
    return X, explanation


def shares_from_shap(explanation):
    mean_abs = np.abs(np.asarray(explanation.values)).mean(axis=0)
    return dict(zip(explanation.feature_names, mean_abs / mean_abs.sum(), strict=True))


def test_ranking_and_share_equal_the_shap_oracle(credit):
    X, explanation = credit
    batch = make_credit_batch().X
    plain = DriftDetector().fit(X).detect(batch)
    weighted = DriftDetector(importance=explanation).fit(X).detect(batch)
    oracle = shares_from_shap(explanation)

    # the tests and the verdict are those of the plain detector
    pd.testing.assert_frame_equal(weighted.to_frame(), plain.to_frame())
    assert weighted.drift == plain.drift
    assert set(weighted.drifted_features) == set(plain.drifted_features)
    assert len(plain.drifted_features) >= 2

    expected = sorted(plain.drifted_features, key=lambda f: -oracle[f])
    assert weighted.drifted_features == expected
    assert weighted.drifted_importance == pytest.approx(sum(oracle[f] for f in expected), rel=1e-12)
    table = weighted.by_importance()
    assert list(table.index) == sorted(oracle, key=lambda f: -oracle[f])
    np.testing.assert_allclose(table["importance"], [oracle[f] for f in table.index], rtol=1e-12)
    assert table["importance"].sum() == pytest.approx(1.0)
    assert set(table.index[table["drift"]]) == set(expected)
    assert table.loc[expected[0], "tests"] != "" and table["tests"][~table["drift"]].eq("").all()
    summary = weighted.summary()
    assert "most relied-on by the model first" in summary
    assert f"{weighted.drifted_importance:.0%} of its reliance" in summary
    # a plain report has no importance to rank by
    assert np.isnan(plain.drifted_importance)
    with pytest.raises(ValueError, match="no model importance"):
        plain.by_importance()


def test_drift_in_a_column_the_model_ignores_matters_little(credit):
    """Shifting the least and the most relied-on numeric column: the report
    says which one matters to the model."""
    X, explanation = credit
    oracle = shares_from_shap(explanation)
    numeric = [c for c in X.columns if c not in CREDIT_CATEGORICAL]
    low = min(numeric, key=oracle.get)
    high = max(numeric, key=oracle.get)
    detector = DriftDetector(importance=explanation.importance()).fit(X)
    rng = np.random.default_rng(0)
    found = {}
    for column in (low, high):
        batch = X.sample(400, random_state=1).copy()  # reference rows: only `column` moves
        batch[column] = batch[column] * 2 + rng.normal(0, 1, len(batch)).round()
        report = detector.detect(batch)
        assert report.drifted_features == [column]
        found[column] = report.drifted_importance
        assert found[column] == pytest.approx(oracle[column], rel=1e-12)
    assert found[low] < found[high]


def test_columns_the_model_does_not_name_weigh_nothing(credit):
    X, _ = credit
    detector = DriftDetector(importance={"duration": 3.0, "age": 1.0}).fit(X)
    assert detector.importance_ == {"duration": 0.75, "age": 0.25}
    batch = make_credit_batch().X
    report = detector.detect(batch)
    drifted = report.drifted_features
    assert drifted[:2] == ["duration", "age"]
    # the others keep their effect-size order after them
    plain = DriftDetector().fit(X).detect(batch).drifted_features
    assert drifted[2:] == [f for f in plain if f not in ("duration", "age")]
    assert report.drifted_importance == pytest.approx(1.0)
    assert report.by_importance().loc["purpose", "importance"] == 0.0


def test_arrays_take_positions(credit):
    X, _ = credit
    values = X[["duration", "age", "credit_amount"]].to_numpy(dtype=float)
    detector = DriftDetector(importance={2: 1.0, 0: 1.0}).fit(values)
    assert detector.importance_ == {2: 0.5, 0: 0.5}
    with pytest.raises(ValueError, match=r"not seen at fit: \[3\]"):
        DriftDetector(importance={3: 1.0}).fit(values)


@pytest.mark.parametrize(
    "importance, match",
    [
        ({"no_such_column": 1.0}, r"not seen at fit: \['no_such_column'\]"),
        ({"age": -1.0}, "'age' must be finite and >= 0"),
        ({"age": np.nan}, "'age' must be finite and >= 0"),
        ({"age": np.inf}, "'age' must be finite and >= 0"),
        ({"age": "high"}, "'age' must be a number"),
        ({"age": 0.0, "duration": 0.0}, "some column a positive value"),
        ({}, "some column a positive value"),
        (pd.Series([1.0, 2.0], index=["age", "age"]), r"\['age'\] more than once"),
    ],
)
def test_bad_importance_is_refused_at_fit(credit, importance, match):
    X, _ = credit
    detector = DriftDetector(importance=importance)
    with pytest.raises(ValueError, match=match):
        detector.fit(X)
    assert not hasattr(detector, "reference_") and not hasattr(detector, "importance_")
    with pytest.raises(ValueError, match=match):
        DriftDetector(importance=importance).partial_fit(X.iloc[:300])


def test_caller_importance_is_not_modified(credit):
    X, explanation = credit
    series = explanation.importance()
    before = series.copy()
    DriftDetector(importance=series).fit(X)
    pd.testing.assert_series_equal(series, before)


def test_chunks_and_saved_monitor_history_keep_the_ranking(credit, tmp_path):
    X, explanation = credit
    batch = make_credit_batch().X
    whole = DriftDetector(importance=explanation).fit(X).detect(batch)
    chunked = DriftDetector(importance=explanation)
    for start in range(0, len(X), 250):
        chunked.partial_fit(X.iloc[start : start + 250])
    assert chunked.detect(batch).drifted_features == whole.drifted_features

    monitor = DriftMonitor(detector=DriftDetector(importance=explanation), warn=False).fit(X)
    monitor.transform(batch)
    mlpipe.save(monitor, tmp_path / "monitor.skops")
    loaded = mlpipe.load(tmp_path / "monitor.skops")
    report = loaded.history_[-1]
    assert report.drifted_features == whole.drifted_features
    assert report.drifted_importance == pytest.approx(whole.drifted_importance, rel=1e-12)
    pd.testing.assert_frame_equal(report.by_importance(), whole.by_importance())


def test_dask_reference_and_batch_keep_the_ranking(credit):
    dd = pytest.importorskip("dask.dataframe")
    import dask

    X, explanation = credit
    batch = make_credit_batch().X
    whole = DriftDetector(importance=explanation).fit(X).detect(batch)
    with dask.config.set(scheduler="threads"):
        on_dask = DriftDetector(importance=explanation).fit(dd.from_pandas(X, npartitions=3))
        report = on_dask.detect(dd.from_pandas(batch, npartitions=2))
    assert report.drifted_features == whole.drifted_features
    assert report.drifted_importance == pytest.approx(whole.drifted_importance, rel=1e-12)


def test_a_bad_importance_set_between_chunks_adds_nothing(credit):
    X, _ = credit
    detector = DriftDetector(importance={"age": 1.0}).partial_fit(X.iloc[:500])
    n_rows = detector.reference_.n_rows
    detector.set_params(importance={"no_such_column": 1.0})
    with pytest.raises(ValueError, match="not seen at fit"):
        detector.partial_fit(X.iloc[500:])
    assert detector.reference_.n_rows == n_rows  # the refused chunk was not added


def test_a_wrong_type_is_scikit_learns_parameter_error(credit):
    X, _ = credit
    with pytest.raises(ValueError, match="'importance' parameter of DriftDetector"):
        DriftDetector(importance="age").fit(X)
    with pytest.raises(ValueError, match="'importance' parameter of DriftDetector"):
        DriftDetector(importance=[1.0, 2.0]).partial_fit(X)
