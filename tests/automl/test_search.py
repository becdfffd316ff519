import pickle
import runpy
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_array_equal
from sklearn.base import BaseEstimator, ClassifierMixin, clone, is_classifier, is_regressor
from sklearn.datasets import load_diabetes
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from threadpoolctl import threadpool_limits

from mlpipe.automl import PipelineSearch, Step
from mlpipe.datasets import load_credit
from mlpipe.fairness import demographic_parity_difference
from mlpipe.impute import TypedImputer

TINY = dict(
    task="classification",
    search_space="light",
    generations=1,
    population_size=4,
    cv=3,
    max_time_mins=3,
    random_state=0,
)


@pytest.fixture(scope="module")
def credit():
    X, y = load_credit(return_X_y=True, unknown_as_missing=True)
    # String labels, to check they come back as they went in.
    y = y.map({1: "good", 0: "bad"})
    return train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)


@pytest.fixture(scope="module")
def fitted(credit):
    X_train, _, y_train, _ = credit
    return PipelineSearch(**TINY).fit(X_train, y_train)


def test_params_survive_clone_and_task_decides_the_type():
    search = PipelineSearch(generations=7, population_size=11, task="classification")
    cloned = clone(search)
    assert cloned.get_params()["generations"] == 7
    assert cloned.get_params()["population_size"] == 11
    assert is_classifier(search) and not is_regressor(search)
    assert is_regressor(PipelineSearch(task="regression"))
    assert not is_classifier(PipelineSearch()) and not is_regressor(PipelineSearch())


def test_fit_gives_a_plain_pipeline_on_raw_frames(fitted, credit):
    _, X_test, _, y_test = credit
    assert isinstance(fitted.best_estimator_, Pipeline)
    assert fitted.task_ == "classification"
    assert_array_equal(fitted.classes_, ["bad", "good"])
    pred = fitted.predict(X_test)
    assert set(pred) <= {"bad", "good"}
    proba = fitted.predict_proba(X_test)
    assert proba.shape == (len(X_test), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert fitted.score(X_test, y_test) == pytest.approx(np.mean(pred == y_test.to_numpy()))
    assert fitted.score(X_test, y_test) > 0.65
    assert 0.5 < fitted.best_score_ <= 1.0


def test_results_and_pareto_front(fitted):
    results = fitted.results_
    assert {
        "pipeline",
        "generation",
        "roc_auc_score",
        "complexity_scorer",
        "eval_seconds",
        "error",
    } <= set(results.columns)
    assert len(results) >= TINY["population_size"]
    assert results["pipeline"].str.contains("TypedImputer|TabularEncoder").all()
    assert len(fitted.pareto_front_) >= 1
    assert set(fitted.pareto_front_.index) <= set(results.index)
    # The best score is the best scored row of the search.
    assert fitted.best_score_ == pytest.approx(results["roc_auc_score"].max())


def test_best_pipeline_needs_neither_tpot_nor_dask(fitted, credit, tmp_path):
    _, X_test, _, _ = credit
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps(fitted.best_estimator_))
    X_test.to_pickle(tmp_path / "X.pkl")
    code = (
        "import sys, pickle, pandas as pd\n"
        "for name in ('tpot', 'dask', 'distributed'):\n"
        "    sys.modules[name] = None  # importing them now fails\n"
        f"model = pickle.loads(open({str(path)!r}, 'rb').read())\n"
        f"print(','.join(model.predict(pd.read_pickle({str(tmp_path / 'X.pkl')!r}))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().split(",") == list(fitted.predict(X_test))


def test_same_seed_same_best_pipeline(fitted, credit):
    X_train, X_test, y_train, _ = credit
    again = PipelineSearch(**TINY).fit(X_train, y_train)
    assert list(again.results_["pipeline"]) == list(fitted.results_["pipeline"])
    assert str(again.best_estimator_) == str(fitted.best_estimator_)
    assert_array_equal(again.predict_proba(X_test), fitted.predict_proba(X_test))


def test_export_script_rebuilds_the_same_pipeline(fitted, credit, tmp_path):
    X_train, X_test, y_train, _ = credit
    path = tmp_path / "best.py"
    code = fitted.export(path)
    assert "tpot" not in code.lower().replace("not tpot", "")
    namespace = runpy.run_path(str(path))
    with threadpool_limits(limits=1):  # as the search refits: BLAS threads move the last bits
        rebuilt = namespace["make_pipeline"]().fit(X_train, y_train)
    assert_array_equal(rebuilt.predict_proba(X_test), fitted.predict_proba(X_test))


class _FailingClassifier(ClassifierMixin, BaseEstimator):
    def fit(self, X, y):
        raise RuntimeError("this candidate always fails")


class _SlowClassifier(LogisticRegression):
    """A working classifier, only too slow for the evaluation budget."""

    def fit(self, X, y, sample_weight=None):
        time.sleep(8)
        return super().fit(X, y, sample_weight)


def test_failing_and_slow_candidates_are_recorded_and_skipped(credit):
    X_train, X_test, y_train, _ = credit
    learners = [
        Step(_FailingClassifier),
        Step(_SlowClassifier),
        Step(LogisticRegression, {"C": (0.01, 10.0, "log"), "max_iter": 2000}),
    ]
    # Learners and imputation overridden (no KNN path keeps the working
    # candidates fast); the other stages keep the default steps.
    space = {"imputation": [Step(TypedImputer, stage="imputation")], "learner": learners}
    # No default pipelines: the seeded _SlowClassifier would come first, and a
    # timed-out candidate keeps its dask thread busy until its fits end (3 x 8 s),
    # so every later candidate would wait behind it.
    search = (
        PipelineSearch(
            **{**TINY, "population_size": 6, "max_eval_time_mins": 0.05},
            start_with_defaults=False,
        )
        .set_params(search_space=space)
        .fit(X_train, y_train)
    )
    results = search.results_
    failing = results[results["pipeline"].str.endswith("_FailingClassifier")]
    slow = results[results["pipeline"].str.endswith("_SlowClassifier")]
    # Under a loaded machine a failing candidate may also run out of time
    # before it reaches the learner; it must never count as a success.
    assert len(failing) and failing["error"].isin(["INVALID", "TIMEOUT"]).all()
    assert (failing["error"] == "INVALID").any()
    assert len(slow) and (slow["error"] == "TIMEOUT").all()
    assert results["roc_auc_score"][results["error"].notna()].isna().all()
    assert isinstance(search.best_estimator_[-1], LogisticRegression)
    assert len(search.predict(X_test)) == len(X_test)


def test_fairness_objective(credit):
    X_train, _, y_train, _ = credit
    search = PipelineSearch(
        **TINY,
        fairness={
            "metric": "demographic_parity_difference",
            "sensitive_feature": "sex",
            "pos_label": "good",
        },
    ).fit(X_train, y_train)
    assert "demographic_parity_difference" in search.objective_names_
    values = search.results_["demographic_parity_difference"].dropna()
    assert len(values) and values.between(0, 1).all()
    # The objective is the metric of cross-validated predictions: recompute it
    # for the refitted best pipeline on its training data as a sanity bound.
    dpd = demographic_parity_difference(
        y_train, search.predict(X_train), sensitive_features=X_train["sex"], pos_label="good"
    )
    assert 0 <= dpd <= 1
    with pytest.raises(ValueError, match="must be a column"):
        PipelineSearch(**TINY, fairness={"sensitive_feature": "gender"}).fit(X_train, y_train)
    with pytest.raises(ValueError, match="not a difference metric"):
        PipelineSearch(
            **TINY, fairness={"metric": "selection_rate", "sensitive_feature": "sex"}
        ).fit(X_train, y_train)


def test_regression_is_detected_and_scored_by_r2():
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    X, y = X.iloc[:200], y.iloc[:200]
    assert y.dtype == np.float64  # integral values, but a float target
    search = PipelineSearch(**{**TINY, "task": "auto"}).fit(X, y)
    assert search.task_ == "regression" and is_regressor(search)
    assert not hasattr(search, "classes_")
    from sklearn.metrics import r2_score

    assert search.score(X, y) == pytest.approx(r2_score(y, search.predict(X)))
    assert not hasattr(search, "predict_proba")


def test_time_budget_reaches_the_evolver(credit, monkeypatch):
    # How close a search ends to its budget is a wall-clock claim, measured in
    # benchmarks/bench_automl.py::test_pipeline_search; here, that the budget
    # rules reach TPOT's evolver: new candidates until 80% of it, one candidate
    # at most a tenth of it, no generation limit unless asked.
    from mlpipe.automl._tpot import import_tpot

    evolvers = import_tpot().evolvers
    seen = []

    class Recording(evolvers.BaseEvolver):
        def __init__(self, **kwargs):
            seen.append(kwargs)
            super().__init__(**kwargs)

    monkeypatch.setattr(evolvers, "BaseEvolver", Recording)
    X_train, _, y_train, _ = credit
    params = {**TINY, "population_size": 2, "max_time_mins": 0.5, "max_eval_time_mins": 1}
    PipelineSearch(**params).fit(X_train.iloc[:200], y_train.iloc[:200])
    assert seen[0]["max_time_mins"] == pytest.approx(0.4)
    assert seen[0]["max_eval_time_mins"] == pytest.approx(0.05)
    assert seen[0]["generations"] == 1
    assert clone(PipelineSearch()).generations is None  # no limit by default


@pytest.mark.slow
def test_dask_client_with_two_workers(credit):
    import distributed

    X_train, X_test, y_train, _ = credit
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        search = PipelineSearch(**TINY, client=client).fit(X_train, y_train)
        workers = {w.get("id") for w in client.scheduler_info()["workers"].values()}
    assert len(workers) == 2
    assert len(search.results_) >= TINY["population_size"]
    assert len(search.predict(X_test)) == len(X_test)


def test_progress_bar_when_verbose(credit, capfd):
    X_train, _, y_train, _ = credit
    PipelineSearch(**{**TINY, "population_size": 2, "verbose": 1}).fit(X_train, y_train)
    err = capfd.readouterr().err
    assert "Generation" in err and "%" in err


def test_tpot_import_never_touches_the_network():
    code = (
        "import socket\n"
        "calls = []\n"
        "def refuse(self, *a, **k):\n"
        "    calls.append(a)\n"
        "    raise OSError('network is off in this test')\n"
        "socket.socket.connect = refuse\n"
        "socket.socket.connect_ex = refuse\n"
        "from mlpipe.automl._tpot import import_tpot\n"
        "import_tpot()\n"
        "print(len(calls))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "0"


def test_bad_parameters_are_named(credit):
    X_train, _, y_train, _ = credit
    with pytest.raises(TypeError, match="Step objects"):
        PipelineSearch(**{**TINY, "extra_steps": [LogisticRegression()]}).fit(X_train, y_train)
    with pytest.raises(ValueError, match="search_space must be one of"):
        PipelineSearch(**{**TINY, "search_space": {"preset": "tiny"}}).fit(X_train, y_train)
    with pytest.raises(ValueError, match="stage 'model'"):
        PipelineSearch(**{**TINY, "search_space": {"model": []}}).fit(X_train, y_train)
    with pytest.raises(ValueError, match="2 classes"):
        PipelineSearch(**TINY).fit(X_train, pd.Series("good", index=y_train.index))


def test_step_spec_becomes_a_configuration_space():
    from ConfigSpace.hyperparameters import (
        CategoricalHyperparameter,
        Constant,
        UniformFloatHyperparameter,
        UniformIntegerHyperparameter,
    )

    space = Step(
        LogisticRegression,
        {"C": (1e-3, 1e2, "log"), "max_iter": (100, 500), "penalty": ["l2", None], "tol": 1e-4},
    ).configuration_space(random_state=3)
    assert isinstance(space["C"], UniformFloatHyperparameter) and space["C"].log
    assert isinstance(space["max_iter"], UniformIntegerHyperparameter)
    assert isinstance(space["penalty"], CategoricalHyperparameter)
    assert list(space["penalty"].choices) == ["l2", "<NONE>"]
    assert isinstance(space["tol"], Constant) and space["random_state"].value == 3
    with pytest.raises(ValueError, match="must end in 'log'"):
        Step(LogisticRegression, {"C": (1, 2, "lin")}).configuration_space()
    with pytest.raises(ValueError, match="stage"):
        Step(LogisticRegression, stage="model")
    with pytest.raises(TypeError, match="class"):
        Step(LogisticRegression())


# -- the first generation: default pipelines before random ones ------------------


def _learner(ind):
    """The learner of an individual of the search space, as an estimator."""
    return ind.export_pipeline()[-1]


def test_search_space_generates_default_pipelines_first():
    from sklearn.ensemble import (
        ExtraTreesClassifier,
        HistGradientBoostingClassifier,
        RandomForestClassifier,
    )

    from mlpipe.automl._spaces import build_space, preset_steps

    space = build_space(preset_steps("default", classification=True), random_state=0)
    rng = np.random.default_rng(0)
    seeds = [space.generate(rng) for _ in range(4)]
    pipes = [ind.export_pipeline() for ind in seeds]
    learners = [pipe[-1] for pipe in pipes]
    assert [type(est) for est in learners] == [
        HistGradientBoostingClassifier,
        LogisticRegression,
        RandomForestClassifier,
        ExtraTreesClassifier,
    ]
    # scikit-learn's defaults where they lie in the ranges, else the nearest end.
    hgb = learners[0].get_params()
    assert (hgb["learning_rate"], hgb["max_leaf_nodes"], hgb["min_samples_leaf"]) == (0.1, 31, 20)
    assert hgb["l2_regularization"] == 1e-6  # default 0.0, range (1e-6, 1)
    assert learners[1].C == 1.0 and learners[1].max_iter == 2000
    assert learners[2].min_samples_leaf == 1 and 0.1 <= learners[2].max_features <= 1.0
    for pipe, learner in zip(pipes, learners, strict=True):
        imputer, encoder = pipe[0][0], pipe[0][1]
        assert isinstance(imputer, TypedImputer) and imputer.numeric_strategy == "median"
        assert not imputer.add_indicator and encoder.scaler == "standard"
        assert encoder.categorical == ("onehot" if learner is learners[1] else "ordinal")
        assert pipe[1].func is None  # no feature selection
        assert learner.random_state == 0
    # The seeds keep their steps' whole ConfigSpace: mutation explores it.
    node = seeds[0].pipeline[-1].node
    assert not isinstance(node.space, dict) and "learning_rate" in node.space
    before = dict(node.hyperparameters)
    assert node.mutate(np.random.default_rng(1)) and node.hyperparameters != before
    # Then random candidates, as before.
    assert space.generate(rng).unique_id() not in {ind.unique_id() for ind in seeds}
    assert not hasattr(
        build_space(preset_steps("light", classification=True), 0, seed_defaults=False), "seeds"
    )


def test_default_pipelines_follow_the_users_search_space():
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.feature_selection import SelectPercentile
    from sklearn.impute import KNNImputer
    from sklearn.svm import SVC

    from mlpipe.automl._spaces import build_space

    svc = Step(SVC, {"C": (1e-2, 1e2, "log"), "kernel": ["linear", "rbf"], "probability": True})
    search = PipelineSearch(task="classification", search_space={"learner": [svc]})
    seeds = build_space(search._steps(True), 0).seeds
    assert len(seeds) == 1
    learner = _learner(seeds[0])
    # The estimator's defaults (C=1, kernel="rbf"), not the first choice.
    assert isinstance(learner, SVC) and learner.C == 1.0 and learner.kernel == "rbf"

    # Extra learners are seeded too; a user's selection stage and numeric-only
    # imputation (encoder first) are used as they are.
    hgb = Step(HistGradientBoostingClassifier, {"learning_rate": (0.2, 0.3)})
    search = PipelineSearch(
        task="classification",
        search_space={
            "imputation": [Step(KNNImputer, {"n_neighbors": (3, 9)}, stage="imputation")],
            "selection": [Step(SelectPercentile, {"percentile": (20, 80)}, stage="selection")],
            "learner": [svc],
        },
        extra_steps=[hgb],
    )
    seeds = build_space(search._steps(True), 0).seeds
    pipes = [ind.export_pipeline() for ind in seeds]
    assert [type(p[-1]) for p in pipes] == [HistGradientBoostingClassifier, SVC]
    assert pipes[0][-1].learning_rate == 0.2  # default 0.1 clipped into (0.2, 0.3)
    encoder, imputer = pipes[0][0]
    assert isinstance(imputer, KNNImputer) and imputer.n_neighbors == 5
    assert encoder.categorical == "ordinal" and pipes[1][0][0].categorical == "onehot"
    assert pipes[0][1].percentile == 20  # default 10 clipped into (20, 80)


def test_first_generation_smaller_than_the_default_pipelines(credit):
    X_train, X_test, y_train, _ = credit
    search = PipelineSearch(
        task="classification",
        population_size=2,
        generations=1,
        cv=2,
        complexity_objective=False,
        random_state=0,
    ).fit(X_train.iloc[:300], y_train.iloc[:300])
    assert list(search.results_["pipeline"]) == [
        "TypedImputer -> TabularEncoder(categorical='ordinal') -> "
        "HistGradientBoostingClassifier(l2_regularization=1e-06)",
        "TypedImputer -> TabularEncoder -> LogisticRegression(max_iter=2000)",
    ]
    assert search.results_["error"].isna().all()
    assert len(search.predict(X_test)) == len(X_test)
    # Without defaults the first generation is random.
    random_start = PipelineSearch(**{**search.get_params(), "start_with_defaults": False})
    random_start.fit(X_train.iloc[:300], y_train.iloc[:300])
    assert list(random_start.results_["pipeline"]) != list(search.results_["pipeline"])


@pytest.mark.parametrize("processes", [False, True])
def test_own_cluster_runs_candidates_with_one_openmp_thread(processes):
    # OpenMP limits are per thread: the workers of the search's own cluster
    # must set theirs (a new thread otherwise starts with one per core)
    from mlpipe.automl._search import _local_client

    def openmp_threads():
        import sklearn.ensemble  # noqa: F401  (loads scikit-learn's OpenMP runtime)
        from threadpoolctl import threadpool_info

        return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "openmp"]

    with _local_client(2, processes) as client:
        workers = list(client.scheduler_info()["workers"])
        for _ in range(2):  # and it stays set for later tasks
            seen = client.gather(
                [client.submit(openmp_threads, pure=False, workers=[w]) for w in workers]
            )
            # one entry per OpenMP runtime loaded (scikit-learn's, and others
            # that earlier tests may have loaded)
            assert all(threads and set(threads) == {1} for threads in seen), seen
