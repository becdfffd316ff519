"""mlpipe.set_config / config_context behave as scikit-learn's, and the
settings reach the components that read them (issue 14, item 13)."""

import contextlib

import joblib
import numpy as np
import pytest
import sklearn

import mlpipe
from mlpipe import _config
from mlpipe.automl import PipelineSearch, _search
from mlpipe.automl._tpot import import_tpot
from mlpipe.datasets import load_credit

# (mlpipe setting, a value), (scikit-learn setting, a non-default value): the
# same experiment is run on both libraries, scikit-learn's being the model.
MLPIPE = [("n_jobs", 3), ("numba_threads", 1)]
SKLEARN = [("assume_finite", True), ("working_memory", 256)]


@pytest.fixture(autouse=True)
def _restore_config():
    before = mlpipe.get_config()
    yield
    # restored directly: the test must not depend on set_config working
    _config._get_threadlocal_config().update(before)


@pytest.mark.parametrize(
    "module, settings", [(mlpipe, MLPIPE), (sklearn, SKLEARN)], ids=["mlpipe", "sklearn"]
)
def test_set_config_leaves_the_settings_it_is_not_given_alone(module, settings):
    (first, a), (second, b) = settings
    before = module.get_config()
    with module.config_context():
        module.set_config(**{first: a})
        module.set_config(**{second: b})
        # scikit-learn keeps the first setting; mlpipe used to reset it to None
        assert module.get_config()[first] == a
        assert module.get_config()[second] == b
        module.set_config(**{first: None})  # None: unchanged
        assert module.get_config()[first] == a
    assert module.get_config() == before


@pytest.mark.parametrize(
    "module, settings", [(mlpipe, MLPIPE), (sklearn, SKLEARN)], ids=["mlpipe", "sklearn"]
)
def test_config_context_keeps_the_settings_it_is_not_given(module, settings):
    (first, a), (second, b) = settings
    before = module.get_config()
    with module.config_context(**{first: a}):
        with module.config_context(**{second: b}):
            # the outer block's setting holds in the inner one
            assert module.get_config()[first] == a
            assert module.get_config()[second] == b
        assert module.get_config()[second] == before[second]
        assert module.get_config()[first] == a
    assert module.get_config() == before


def test_default_resets_a_setting():
    mlpipe.set_config(n_jobs=2, numba_threads=1)
    mlpipe.set_config(n_jobs="default")
    assert mlpipe.get_config() == {"n_jobs": None, "numba_threads": 1, "store": None}
    with mlpipe.config_context(numba_threads="default"):
        assert mlpipe.get_config() == {"n_jobs": None, "numba_threads": None, "store": None}
    assert mlpipe.get_config()["numba_threads"] == 1
    with mlpipe.config_context(store="monitor.db"):
        assert mlpipe.get_config()["store"] == "monitor.db"
        mlpipe.set_config(store="default")
        assert mlpipe.get_config()["store"] is None
    assert mlpipe.get_config()["store"] is None


def test_set_config_still_refuses_bad_values():
    for bad in (0, "all", 1.5):
        with pytest.raises(ValueError, match=r"'n_jobs' parameter of set_config"):
            mlpipe.set_config(n_jobs=bad)
    assert mlpipe.get_config()["n_jobs"] is None


# -- PipelineSearch reads n_jobs from the configuration -------------------------


class _Stop(Exception):
    """Ends the search once its workers are known (no candidate is run)."""


@pytest.fixture
def seen(monkeypatch):
    """What the search hands to its dask cluster and to TPOT's evolver."""
    tpot = import_tpot()
    record = {}

    class Client:
        def scatter(self, data):
            return data

    @contextlib.contextmanager
    def local_client(n_jobs, processes):
        record["cluster"] = n_jobs
        yield Client()

    class Evolver:
        def __init__(self, **kwargs):
            record["evolver"] = kwargs["n_jobs"]
            raise _Stop

    monkeypatch.setattr(_search, "_local_client", local_client)
    monkeypatch.setattr(tpot.evolvers, "BaseEvolver", Evolver)
    return record


def _search_fit(**params):
    X, y = load_credit(return_X_y=True)
    search = PipelineSearch(search_space="light", cv=2, random_state=0, **params)
    with pytest.raises(_Stop):
        search.fit(X.iloc[:60], y.iloc[:60])


def test_search_takes_n_jobs_from_the_config(seen):
    assert PipelineSearch().n_jobs is None
    with mlpipe.config_context(n_jobs=2):
        _search_fit()
    assert seen == {"cluster": 2, "evolver": 2}


def test_search_runs_one_job_when_nothing_is_set(seen):
    _search_fit()
    assert seen == {"cluster": 1, "evolver": 1}


def test_search_n_jobs_wins_over_the_config(seen):
    with mlpipe.config_context(n_jobs=2):
        _search_fit(n_jobs=3)
    assert seen == {"cluster": 3, "evolver": 3}


def test_negative_n_jobs_counts_from_the_cores(seen):
    with mlpipe.config_context(n_jobs=-1):
        _search_fit()
    assert seen["cluster"] == seen["evolver"] == joblib.cpu_count()
    assert np.issubdtype(type(seen["cluster"]), np.integer)


def test_search_refuses_zero_jobs():
    X, y = load_credit(return_X_y=True)
    with pytest.raises(ValueError, match=r"'n_jobs' parameter of PipelineSearch"):
        PipelineSearch(n_jobs=0).fit(X.iloc[:20], y.iloc[:20])
