"""PipelineSearch.fit(X, y, **params): metadata reaches the candidates, the
scorer and the splitter as in GridSearchCV; methods that only some fitted
pipelines have are hidden with available_if. scikit-learn is the oracle:
``cross_validate`` of the chosen pipeline on the same folds with the same
metadata gives the search's score."""

import numpy as np
import pytest
import sklearn
from sklearn.base import clone
from sklearn.datasets import load_diabetes
from sklearn.ensemble import RandomForestClassifier
from sklearn.exceptions import UnsetMetadataPassedError
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import get_scorer
from sklearn.model_selection import GroupKFold, cross_validate

from mlpipe.automl import PipelineSearch, Step
from mlpipe.datasets import load_credit

N = 240
# Two candidates of one learner on the light preset's steps (imputation,
# one-hot and standard scaling): the fastest real search, and the chosen
# pipeline is a weight-sensitive linear model.
LINEAR = {
    "preset": "light",
    "learner": [Step(LogisticRegression, {"C": (0.01, 1.0, "log"), "max_iter": 2000})],
}
SMALL = dict(
    task="classification",
    search_space=LINEAR,
    generations=1,
    population_size=2,
    complexity_objective=False,
    max_time_mins=2,
    random_state=0,
)


@pytest.fixture(scope="module")
def data():
    X, y = load_credit(return_X_y=True, unknown_as_missing=True)
    X, y = X.iloc[:N], y.iloc[:N].to_numpy()
    rng = np.random.default_rng(0)
    # Weights that matter: the bad risks count three times more in half the rows.
    w = np.where((y == 0) & (np.arange(N) % 2 == 0), 3.0, rng.uniform(0.5, 1.5, N))
    groups = np.arange(N) // 8  # 30 groups of 8 consecutive rows
    return X, y, w, groups


@pytest.fixture(params=[False, True], ids=["no-routing", "routing"])
def routing(request):
    with sklearn.config_context(enable_metadata_routing=request.param):
        yield request.param


def _oracle_score(search, X, y, cv, sample_weight=None, groups=None, weighted_scorer=True):
    """scikit-learn's cross_validate of the chosen pipeline on the same folds:
    sample_weight to the learner's fit and, if asked, to the scorer."""
    pipe = clone(search.best_estimator_)
    scorer = get_scorer("roc_auc")
    params = {}
    with sklearn.config_context(enable_metadata_routing=True):
        if sample_weight is not None:
            pipe[-1].set_fit_request(sample_weight=True)
            scorer = scorer.set_score_request(sample_weight=weighted_scorer)
            params["sample_weight"] = sample_weight
        if groups is not None:
            params["groups"] = groups
        scores = cross_validate(pipe, X, y, cv=cv, scoring=scorer, params=params)
    return scores["test_score"].mean()


def test_sample_weight_reaches_learner_and_scorer(data, routing):
    X, y, w, groups = data
    scoring = "roc_auc"
    if routing:  # with routing, the scorer gets the weights when it asks for them
        scoring = get_scorer("roc_auc").set_score_request(sample_weight=True)
    search = PipelineSearch(**SMALL, cv=GroupKFold(3), scoring=scoring)
    search.fit(X, y, sample_weight=w, groups=groups)

    weighted = _oracle_score(search, X, y, GroupKFold(3), sample_weight=w, groups=groups)
    unweighted = _oracle_score(search, X, y, GroupKFold(3), groups=groups)
    assert search.best_score_ == pytest.approx(weighted, rel=1e-9)
    assert abs(weighted - unweighted) > 1e-3  # the weights do change the score

    # The final refit is weighted too: the learner equals one fitted by hand
    # with the weights, and differs from an unweighted one.
    by_hand = clone(search.best_estimator_)
    Xt = by_hand[:-1].fit_transform(X, y)
    by_hand[-1].fit(Xt, y, sample_weight=w)
    np.testing.assert_allclose(search.best_estimator_[-1].coef_, by_hand[-1].coef_)
    plain = clone(search.best_estimator_).fit(X, y)
    assert not np.allclose(search.best_estimator_[-1].coef_, plain[-1].coef_)


def test_routing_scorer_that_does_not_request_weights(data):
    X, y, w, groups = data
    with sklearn.config_context(enable_metadata_routing=True):
        scoring = get_scorer("roc_auc").set_score_request(sample_weight=False)
        search = PipelineSearch(**SMALL, cv=GroupKFold(3), scoring=scoring)
        search.fit(X, y, sample_weight=w, groups=groups)
    # Candidates are fitted with the weights, scored without them.
    expected = _oracle_score(
        search, X, y, GroupKFold(3), sample_weight=w, groups=groups, weighted_scorer=False
    )
    assert search.best_score_ == pytest.approx(expected, rel=1e-9)


def test_routing_needs_the_scorer_to_say_whether_it_takes_weights(data):
    # As LogisticRegressionCV and GridSearchCV: an unset request is an error.
    X, y, w, _ = data
    with sklearn.config_context(enable_metadata_routing=True):
        with pytest.raises(UnsetMetadataPassedError, match="sample_weight"):
            PipelineSearch(**SMALL, cv=3).fit(X, y, sample_weight=w)
        with pytest.raises(TypeError, match="not routed to any object"):
            PipelineSearch(**SMALL, cv=3).fit(X, y, colour=w)


def test_without_routing_only_sample_weight_and_groups(data):
    X, y, w, _ = data
    with pytest.raises(ValueError, match="enable_metadata_routing"):
        PipelineSearch(**SMALL).fit(X, y, colour=w)
    with pytest.raises(ValueError, match="sample_weight has 3 entries"):
        PipelineSearch(**SMALL).fit(X, y, sample_weight=[1, 2, 3])
    with pytest.raises(ValueError, match="non-negative"):
        PipelineSearch(**SMALL).fit(X, y, sample_weight=-w)
    with pytest.raises(ValueError, match="fewer than 2 classes with positive weight"):
        PipelineSearch(**SMALL).fit(X, y, sample_weight=(y == 1).astype(float))
    # A learner that cannot take weights is named before any search runs.
    from sklearn.neighbors import KNeighborsClassifier

    knn = PipelineSearch(**{**SMALL, "search_space": {"learner": [Step(KNeighborsClassifier)]}})
    with pytest.raises(ValueError, match="KNeighborsClassifier"):
        knn.fit(X, y, sample_weight=w)


_SEEN_TEST_ROWS = []


def _recording_roc_auc(estimator, X, y):
    """A scorer that records which rows each test fold held (X keeps the
    caller's index through the search; the workers are threads)."""
    _SEEN_TEST_ROWS.append(np.asarray(X.index))
    return get_scorer("roc_auc")(estimator, X, y)


def test_groups_reach_the_splitter_and_never_straddle_a_fold(data, routing):
    X, y, _, groups = data
    _SEEN_TEST_ROWS.clear()
    search = PipelineSearch(**SMALL, cv=GroupKFold(4), scoring=_recording_roc_auc)
    search.fit(X, y, groups=groups)
    expected = [np.sort(test) for _, test in GroupKFold(4).split(X, y, groups)]
    seen = [np.sort(rows) for rows in _SEEN_TEST_ROWS]
    # Every candidate was scored on exactly GroupKFold's folds.
    assert len(seen) == 4 * len(search.results_)
    for i, rows in enumerate(seen):
        np.testing.assert_array_equal(rows, expected[i % 4])
        train = np.setdiff1d(np.arange(N), rows)
        assert not set(groups[rows]) & set(groups[train])


def test_predict_proba_only_where_the_best_pipeline_has_it(data):
    X, y, _, _ = data
    Xr, yr = load_diabetes(return_X_y=True, as_frame=True)
    regression = PipelineSearch(**{**SMALL, "task": "regression", "search_space": "light"})
    assert not hasattr(regression, "predict_proba")  # known before fit
    regression.fit(Xr.iloc[:150], yr.iloc[:150])
    for method in ("predict_proba", "predict_log_proba", "decision_function"):
        assert not hasattr(regression, method), method

    linear = PipelineSearch(**SMALL).fit(X, y)
    assert hasattr(linear, "predict_proba") and hasattr(linear, "decision_function")
    np.testing.assert_allclose(
        linear.decision_function(X), linear.best_estimator_.decision_function(X)
    )
    np.testing.assert_allclose(
        np.exp(linear.predict_log_proba(X)), linear.predict_proba(X), rtol=1e-12
    )

    forest_space = {"preset": "light", "learner": [Step(RandomForestClassifier, {})]}
    forest = PipelineSearch(**{**SMALL, "search_space": forest_space}).fit(X, y)
    assert hasattr(forest, "predict_proba")
    assert not hasattr(forest, "decision_function")  # a forest has none


def test_search_can_be_asked_for_weights_when_nested():
    # It consumes sample_weight itself (it builds its candidates), so a
    # parent router needs its request, as for LogisticRegressionCV.
    with sklearn.config_context(enable_metadata_routing=True):
        search = PipelineSearch(cv=GroupKFold(3)).set_fit_request(sample_weight=True)
        routing = search.get_metadata_routing()
        assert routing.consumes("fit", ["sample_weight", "groups"]) == {
            "sample_weight",
            "groups",
        }
