import datetime

import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

import mlpipe
from mlpipe.datasets import load_credit, make_credit_batch
from mlpipe.drift import DriftDetector
from mlpipe.monitor import RunStore
from mlpipe.validation import SchemaValidator

NUMERIC = ["age", "credit_amount", "duration"]
FITTED_AT = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)


@pytest.fixture(scope="session")
def credit():
    return load_credit(return_X_y=True)


@pytest.fixture(scope="session")
def saved_model(tmp_path_factory, credit):
    """A validator + logistic regression on the credit data, saved with its
    training data's fingerprint: ``(path, manifest, pipeline)``."""
    X, y = credit
    pipe = make_pipeline(SchemaValidator(), LogisticRegression(max_iter=1000))
    pipe.fit(X[NUMERIC], y)
    path = tmp_path_factory.mktemp("model") / "credit.skops"
    manifest = mlpipe.save(pipe, path, X=X[NUMERIC], y=y, fitted_at=FITTED_AT)
    return path, manifest, pipe


@pytest.fixture(scope="session")
def detector(credit):
    return DriftDetector().fit(credit[0])


@pytest.fixture(scope="session")
def drifted_batch():
    return make_credit_batch(300, random_state=1).X


@pytest.fixture(scope="session")
def clean_batch():
    return make_credit_batch(300, drift=False, defects=False, random_state=2).X


@pytest.fixture
def store(tmp_path):
    with RunStore(tmp_path / "monitor.db") as s:
        yield s
