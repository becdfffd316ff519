"""ReweighingClassifier and GroupThresholdClassifier."""

import itertools
import pickle

import numpy as np
import pandas as pd
import pytest
import sklearn
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.compose import make_column_transformer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

from mlpipe.exceptions import FairnessWarning
from mlpipe.fairness import GroupThresholdClassifier, ReweighingClassifier


def _data(n=300, seed=0):
    rng = np.random.default_rng(seed)
    group = rng.choice(["a", "b"], size=n, p=[0.4, 0.6])
    x1 = rng.normal(size=n) + (group == "b") * 0.8
    x2 = rng.normal(size=n)
    y = (x1 + 0.5 * x2 + rng.normal(scale=0.7, size=n) > 0.6).astype(int)
    X = pd.DataFrame({"group": group, "x1": x1, "x2": x2})
    return X, y


class _WeightSpy(ClassifierMixin, BaseEstimator):
    """Records the sample_weight it was fitted with."""

    def fit(self, X, y, sample_weight=None):
        self.sample_weight_ = sample_weight
        self.classes_ = np.unique(y)
        return self

    def predict(self, X):
        return np.full(len(X), self.classes_[0])


def _model():
    # The inner model sees the numeric columns only.
    return make_pipeline(
        make_column_transformer((StandardScaler(), ["x1", "x2"])), LogisticRegression()
    )


# ----- ReweighingClassifier ---------------------------------------------------


def test_reweighing_weights_are_kamiran_calders():
    X, y = _data()
    clf = ReweighingClassifier(estimator=_WeightSpy(), sensitive_feature="group").fit(X, y)
    # Independent oracle: P(s) P(c) / P(s, c) from a pandas crosstab.
    joint = pd.crosstab(X["group"], y, normalize=True)
    expected = np.outer(joint.sum(axis=1), joint.sum(axis=0)) / joint
    assert_allclose(clf.weights_.to_numpy(), expected.to_numpy())
    per_row = expected.to_numpy()[pd.factorize(X["group"], sort=True)[0], y]
    assert_allclose(clf.estimator_.sample_weight_, per_row)


def test_reweighing_makes_label_independent_of_group():
    X, y = _data()
    clf = ReweighingClassifier(estimator=_WeightSpy(), sensitive_feature="group").fit(X, y)
    w = clf.estimator_.sample_weight_
    rates = [np.average(y[X["group"] == g], weights=w[X["group"] == g]) for g in "ab"]
    assert abs(rates[0] - rates[1]) < 1e-12
    # Before reweighing they differ: the check above can fail.
    assert abs(y[X["group"] == "a"].mean() - y[X["group"] == "b"].mean()) > 0.1
    # Total weight is preserved.
    assert_allclose(w.sum(), len(y))


def test_reweighing_multiplies_user_weights():
    X, y = _data()
    user = np.linspace(0.5, 2.0, len(y))
    clf = ReweighingClassifier(estimator=_WeightSpy(), sensitive_feature="group")
    clf.fit(X, y, sample_weight=user)
    joint = pd.crosstab(X["group"], y, values=user, aggfunc="sum", normalize=True)
    expected = np.outer(joint.sum(axis=1), joint.sum(axis=0)) / joint
    per_row = expected.to_numpy()[pd.factorize(X["group"], sort=True)[0], y]
    assert_allclose(clf.estimator_.sample_weight_, user * per_row)


def test_reweighing_pipeline_gets_weights_on_its_last_step():
    X, y = _data()
    pipe = make_pipeline(
        make_column_transformer(("passthrough", ["x1", "x2"])),
        _WeightSpy(),
    )
    clf = ReweighingClassifier(estimator=pipe, sensitive_feature="group").fit(X, y)
    spy = clf.estimator_.steps[-1][1]
    assert spy.sample_weight_ is not None and len(spy.sample_weight_) == len(y)


def test_reweighing_refuses_estimator_without_sample_weight():
    class NoWeights(ClassifierMixin, BaseEstimator):
        def fit(self, X, y):
            return self

        def predict(self, X):
            return np.zeros(len(X))

    X, y = _data()
    with pytest.raises(TypeError, match=r"NoWeights\.fit does not accept sample_weight"):
        ReweighingClassifier(estimator=NoWeights(), sensitive_feature="group").fit(X, y)


def test_reweighing_predictions_are_the_inner_models():
    X, y = _data()
    clf = ReweighingClassifier(estimator=_model(), sensitive_feature="group").fit(X, y)
    assert_array_equal(clf.predict(X), clf.estimator_.predict(X))
    assert_allclose(clf.predict_proba(X), clf.estimator_.predict_proba(X))
    assert_allclose(clf.decision_function(X), clf.estimator_.decision_function(X))


def test_intersectional_and_positional_and_callable_groups():
    X, y = _data()
    X = X.assign(band=np.where(X["x2"] > 0, "hi", "lo"))
    by_names = ReweighingClassifier(
        estimator=_WeightSpy(), sensitive_feature=["group", "band"]
    ).fit(X, y)
    assert by_names.weights_.index.names == ["group", "band"]
    assert len(by_names.weights_) == 4
    by_position = ReweighingClassifier(estimator=_WeightSpy(), sensitive_feature=0).fit(X, y)
    by_name = ReweighingClassifier(estimator=_WeightSpy(), sensitive_feature="group").fit(X, y)
    assert_allclose(by_position.estimator_.sample_weight_, by_name.estimator_.sample_weight_)
    by_array = ReweighingClassifier(estimator=_WeightSpy()).fit(
        X, y, sensitive_features=X["group"].to_numpy()
    )
    assert_allclose(by_array.estimator_.sample_weight_, by_name.estimator_.sample_weight_)


@pytest.mark.parametrize("cls", [ReweighingClassifier, GroupThresholdClassifier])
def test_sensitive_feature_errors(cls):
    X, y = _data()
    with pytest.raises(ValueError, match="needs the sensitive groups"):
        cls(estimator=_model()).fit(X, y)
    with pytest.raises(ValueError, match="give the groups one way only"):
        cls(estimator=_model(), sensitive_feature="group").fit(X, y, sensitive_features=X["group"])
    with pytest.raises(ValueError, match="'sex' is not a column of X"):
        cls(estimator=_model(), sensitive_feature="sex").fit(X, y)
    with pytest.raises(ValueError, match="out of range"):
        cls(estimator=_model(), sensitive_feature=7).fit(X, y)
    X_gap = X.copy()
    X_gap.loc[3, "group"] = None
    with pytest.raises(ValueError, match="'group' has 1 missing value"):
        cls(estimator=_model(), sensitive_feature="group").fit(X_gap, y)
    assert X.loc[3, "group"] is not None  # the caller's frame is untouched


@pytest.mark.parametrize("cls", [ReweighingClassifier, GroupThresholdClassifier])
def test_metadata_routing_in_pipeline_and_grid_search(cls):
    X, y = _data()
    reference = cls(estimator=_model(), sensitive_feature="group").fit(X, y)
    with sklearn.config_context(enable_metadata_routing=True):
        step = cls(estimator=_model()).set_fit_request(sensitive_features=True)
        if cls is GroupThresholdClassifier:
            # It needs the groups at predict and score too (score routes them).
            step = step.set_predict_request(sensitive_features=True)
            step = step.set_score_request(sensitive_features=True)
        pipe = Pipeline([("fair", step)]).fit(X, y, sensitive_features=X["group"])
        kwargs = {"sensitive_features": X["group"]} if cls is GroupThresholdClassifier else {}
        assert_array_equal(pipe.predict(X, **kwargs), reference.predict(X))
        search = GridSearchCV(step, {"estimator__logisticregression__C": [0.1, 1.0]}, cv=3)
        search.fit(X, y, sensitive_features=X["group"])
        assert np.isfinite(search.cv_results_["mean_test_score"]).all()
        assert search.best_params_["estimator__logisticregression__C"] in (0.1, 1.0)
    # By column name, no routing is needed at all.
    search = GridSearchCV(
        cls(estimator=_model(), sensitive_feature="group"),
        {"estimator__logisticregression__C": [0.1, 1.0]},
        cv=3,
    )
    search.fit(X, y)
    assert search.best_estimator_.predict(X).shape == (len(y),)


# ----- GroupThresholdClassifier -----------------------------------------------


def _rates(pred, y, groups, kind):
    out = []
    for g in np.unique(groups):
        rows = groups == g
        out.append(pred[rows].mean() if kind == "dp" else pred[rows & (y == 1)].mean())
    return np.array(out)


@pytest.mark.parametrize(
    "constraint, kind", [("demographic_parity", "dp"), ("equal_opportunity", "eo")]
)
def test_thresholds_meet_the_constraint_on_training_data(constraint, kind):
    X, y = _data(400)
    clf = GroupThresholdClassifier(
        estimator=_model(), sensitive_feature="group", constraint=constraint
    ).fit(X, y)
    pred = clf.predict(X)
    groups = X["group"].to_numpy()
    rates = _rates(pred, y, groups, kind)
    # Rates move in steps of one row of the smaller group (or its positives).
    rows = [(groups == g) & ((y == 1) if kind == "eo" else True) for g in "ab"]
    step = 1 / min(r.sum() for r in rows)
    assert abs(rates[0] - rates[1]) <= step
    base = clf.estimator_.predict(X)
    assert abs(np.ptp(_rates(base, y, groups, kind))) > 3 * step  # it had work to do


def test_prediction_is_deterministic_thresholding():
    X, y = _data()
    clf = GroupThresholdClassifier(estimator=_model(), sensitive_feature="group").fit(X, y)
    scores = clf.estimator_.predict_proba(X)[:, 1]
    thresholds = X["group"].map(clf.thresholds_.to_dict()).to_numpy()
    expected = np.where(scores >= thresholds, 1, 0)
    assert_array_equal(clf.predict(X), expected)
    assert_array_equal(clf.predict(X), clf.predict(X))


def test_thresholds_maximise_accuracy_among_equal_rate_pairs():
    # Oracle: brute force over every pair of per-group thresholds. With two
    # groups of 20 rows and distinct scores, every rate k/20 is reachable in
    # both, so the best exactly-equal pair is what the search must find.
    rng = np.random.default_rng(3)
    groups = np.repeat(["a", "b"], 20)
    scores = rng.random(40)
    y = (scores + rng.normal(0, 0.3, 40) + (groups == "b") * 0.3 > 0.7).astype(int)
    X = pd.DataFrame({"group": groups, "score": scores})

    class Scores(ClassifierMixin, BaseEstimator):
        def fit(self, X, y):
            self.classes_ = np.array([0, 1])
            return self

        def predict_proba(self, X):
            s = X["score"].to_numpy()
            return np.column_stack([1 - s, s])

    clf = GroupThresholdClassifier(estimator=Scores(), sensitive_feature="group").fit(X, y)
    ours = (clf.predict(X) == y).sum()
    best = 0
    cuts = {g: np.r_[np.inf, np.sort(scores[groups == g])[::-1]] for g in "ab"}
    for ta, tb in itertools.product(cuts["a"], cuts["b"]):
        pred = np.where(groups == "a", scores >= ta, scores >= tb).astype(int)
        if pred[groups == "a"].sum() == pred[groups == "b"].sum():
            best = max(best, (pred == y).sum())
    assert ours == best


def test_prefit_keeps_the_fitted_model():
    X, y = _data()
    model = _model().fit(X, y)
    coef = model[-1].coef_.copy()
    clf = GroupThresholdClassifier(estimator=model, sensitive_feature="group", prefit=True).fit(
        X.iloc[:150], y[:150]
    )
    assert clf.estimator_ is model
    assert_array_equal(model[-1].coef_, coef)
    with pytest.raises(sklearn.exceptions.NotFittedError):
        GroupThresholdClassifier(estimator=_model(), sensitive_feature="group", prefit=True).fit(
            X, y
        )


def test_unseen_group_warns_and_uses_population_threshold():
    X, y = _data()
    clf = GroupThresholdClassifier(estimator=_model(), sensitive_feature="group").fit(X, y)
    X_new = X.copy()
    X_new.loc[:4, "group"] = "c"
    with pytest.warns(FairnessWarning, match=r"5 row\(s\) belong to group\(s\) not seen"):
        pred = clf.predict(X_new)
    scores = clf.estimator_.predict_proba(X_new)[:, 1]
    assert_array_equal(pred[:5], (scores[:5] >= clf.default_threshold_).astype(int))


def test_equal_opportunity_needs_positives_in_every_group():
    X, y = _data()
    y = y.copy()
    y[X["group"].to_numpy() == "a"] = 0
    with pytest.raises(ValueError, match="group 'a' has no positive examples"):
        GroupThresholdClassifier(
            estimator=_model(), sensitive_feature="group", constraint="equal_opportunity"
        ).fit(X, y)


def test_string_labels_and_decision_function_scores():
    X, y = _data()
    labels = np.array(["bad", "good"])[y]
    clf = GroupThresholdClassifier(
        estimator=make_pipeline(
            make_column_transformer((StandardScaler(), ["x1", "x2"])),
            LinearSVC(),
        ),
        sensitive_feature="group",
    ).fit(X, labels)
    pred = clf.predict(X)
    assert set(pred) <= {"bad", "good"}
    rates = _rates((pred == "good").astype(int), y, X["group"].to_numpy(), "dp")
    assert abs(rates[0] - rates[1]) <= 1 / (X["group"] == "a").sum()


def test_fitted_meta_estimators_pickle_and_clone():
    X, y = _data()
    for clf in (
        ReweighingClassifier(estimator=_model(), sensitive_feature="group"),
        GroupThresholdClassifier(estimator=_model(), sensitive_feature="group"),
    ):
        clf.fit(X, y)
        again = pickle.loads(pickle.dumps(clf))
        assert_array_equal(again.predict(X), clf.predict(X))
        assert clone(clf).get_params()["sensitive_feature"] == "group"
