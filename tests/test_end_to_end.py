"""A fitted pipeline guards the whole path: a production batch with known
defects and known drift is refused with every defect named, its clean rows
reveal every drifted feature, and clean batches raise no alarm at all."""

import warnings

import pytest
from sklearn.model_selection import train_test_split

from mlpipe._demo import build_model, demo_schema
from mlpipe.datasets import load_credit, make_credit_batch
from mlpipe.exceptions import DataValidationError, DriftWarning


@pytest.fixture(scope="module")
def model():
    X, y = load_credit(return_X_y=True, unknown_as_missing=True)
    X_train, _, y_train, _ = train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)
    return build_model(seed=0, schema=demo_schema(X_train)).fit(X_train, y_train)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_defect_and_every_drifted_feature_is_reported(model, seed):
    batch = make_credit_batch(500, unknown_as_missing=True, random_state=seed)
    before = batch.X.copy(deep=True)
    with pytest.raises(DataValidationError) as info:
        model.predict(batch.X)
    report = info.value.report
    for _, defect in batch.defects.iterrows():
        flagged = set(report.rows_of(defect["column"]))
        assert set(defect["rows"]) <= flagged, (defect["column"], defect["defect"])

    # Rows that fail no check go through; the monitor sees the drift in them.
    bad = {r for col in report.columns for r in report.rows_of(col)}
    defect_rows = {r for rows in batch.defects["rows"] for r in rows}
    assert defect_rows <= bad
    clean_rows = batch.X.drop(index=sorted(bad))
    with pytest.warns(DriftWarning):
        predictions = model.predict(clean_rows)
    assert len(predictions) == len(clean_rows)
    drift = model.named_steps["monitor"].history_[-1]
    # Drawing young applicants and car loans more often can shift columns
    # correlated with them too (checking_account for some seeds): those are
    # real shifts, so only the ground truth's columns are required.
    assert set(batch.drifted) <= set(drift.drifted_features)
    assert batch.X.equals(before)  # the caller's batch is untouched


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_clean_batches_raise_no_alarm(model, seed):
    batch = make_credit_batch(
        500, drift=False, defects=False, unknown_as_missing=True, random_state=seed
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", DriftWarning)
        predictions = model.predict(batch.X)  # no DataValidationError, no DriftWarning
    assert len(predictions) == len(batch.X)
    report = model.named_steps["monitor"].history_[-1]
    assert not report.drift and report.drifted_features == []
    assert model.named_steps["validate"].last_report_.passed
