"""Fixtures of the explain tests."""

import pytest

from tests.explain._data import credit


@pytest.fixture(scope="session", autouse=True)
def _agg_backend():
    import matplotlib

    matplotlib.use("Agg")


@pytest.fixture(scope="session")
def credit_data():
    """(X_train, y_train, X_new): 200 training rows and 40 new ones."""
    X, y = credit()
    return X.iloc[:200], y.iloc[:200], X.iloc[200:]
