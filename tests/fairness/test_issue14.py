"""Issue 14: fairness answers that measured nothing (item 3), unclear errors
on duplicate names and sparse input (item 10), and GroupThresholdClassifier
scored with routed groups (item 12). fairlearn is the oracle where it
accepts the input; scikit-learn's own metrics otherwise."""

import functools

import numpy as np
import pandas as pd
import pytest
import sklearn
from fairlearn import metrics as fl
from numpy.testing import assert_allclose
from scipy import sparse
from sklearn.base import clone
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score

from mlpipe import fairness as mf
from mlpipe.fairness import GroupThresholdClassifier, ReweighingClassifier

DISPARITIES = [
    "demographic_parity_difference",
    "demographic_parity_ratio",
    "equal_opportunity_difference",
    "equal_opportunity_ratio",
    "equalized_odds_difference",
    "equalized_odds_ratio",
]
TEXT_LABELS = r"pos_label=1 is not a valid label\. It should be one of \['bad', 'good'\]"


def _binary(seed=0, n=300):
    rng = np.random.default_rng(seed)
    sex = rng.choice(["female", "male"], size=n, p=[0.35, 0.65])
    y_true = rng.integers(0, 2, n)
    y_pred = (rng.random(n) < np.where(sex == "male", 0.7, 0.45)).astype(int)
    return y_true, y_pred, pd.Series(sex, name="sex"), rng.random(n) * 3


def _text(codes):
    return np.array(["bad", "good"], dtype=object)[codes]


# ---- item 3: pos_label must be one of the labels ----------------------------


def _every_call_with_default_pos_label(y_true, y_pred, sex):
    calls = {
        name: functools.partial(getattr(mf, name), y_true, y_pred, sensitive_features=sex)
        for name in DISPARITIES
    }
    calls["disparate_impact_ratio"] = lambda: mf.disparate_impact_ratio(
        y_true, y_pred, sensitive_features=sex, privileged_group="male"
    )
    calls["selection_rate"] = lambda: mf.selection_rate(y_true, y_pred)
    calls["group_metrics"] = lambda: mf.group_metrics(y_true, y_pred, sensitive_features=sex)
    calls["audit_fairness"] = lambda: mf.audit_fairness(
        y_true, y_pred, sensitive_features=sex, n_boot=0
    )
    calls["check_bias"] = lambda: mf.check_bias(
        pd.DataFrame({"x": np.arange(len(sex))}), y_true, sensitive_features=sex
    )
    return calls


@pytest.mark.parametrize(
    "name",
    [
        *DISPARITIES,
        "disparate_impact_ratio",
        "selection_rate",
        "group_metrics",
        "audit_fairness",
        "check_bias",
    ],
)
def test_text_labels_with_the_default_pos_label_raise(name):
    # Before: 0.0 for the demographic parity difference, NaN for the ratios,
    # 0 for the selection rate; only the equalized odds raised.
    y_true, y_pred, sex, _ = _binary()
    call = _every_call_with_default_pos_label(_text(y_true), _text(y_pred), sex)[name]
    with pytest.raises(ValueError, match=TEXT_LABELS):
        call()


@pytest.mark.parametrize("name", DISPARITIES)
@pytest.mark.parametrize("weighted", [False, True])
def test_text_labels_with_their_pos_label_equal_fairlearn_on_0_1(name, weighted):
    y_true, y_pred, sex, w = _binary(1)
    kwargs = {"sample_weight": w} if weighted else {}
    ours = getattr(mf, name)(
        _text(y_true), _text(y_pred), sensitive_features=sex, pos_label="good", **kwargs
    )
    assert_allclose(ours, getattr(fl, name)(y_true, y_pred, sensitive_features=sex, **kwargs))


def test_selection_rate_and_group_metrics_of_text_labels_equal_fairlearn():
    y_true, y_pred, sex, w = _binary(2)
    assert mf.selection_rate(_text(y_true), _text(y_pred), pos_label="good") == pytest.approx(
        fl.selection_rate(y_true, y_pred)
    )
    table = mf.group_metrics(
        _text(y_true), _text(y_pred), sensitive_features=sex, pos_label="good", sample_weight=w
    )
    frame = fl.MetricFrame(
        metrics={"selection_rate": fl.selection_rate},
        y_true=y_true,
        y_pred=y_pred,
        sensitive_features=sex,
        sample_params={"selection_rate": {"sample_weight": w}},
    )
    assert_allclose(table.by_group["selection_rate"], frame.by_group["selection_rate"])


def test_a_numeric_pos_label_absent_from_two_labels_raises_as_sklearn_does():
    from sklearn.metrics import recall_score

    y_true, y_pred = np.array([0, 2, 2, 0]), np.array([2, 2, 0, 0])
    with pytest.raises(ValueError, match=r"pos_label=1 is not a valid label") as sk:
        recall_score(y_true, y_pred)
    with pytest.raises(
        ValueError, match=r"pos_label=1 is not a valid label\. It should be one of \[0, 2\]"
    ) as ours:
        mf.equal_opportunity_difference(y_true, y_pred, sensitive_features=["a", "a", "b", "b"])
    assert str(sk.value).split(".")[0] == str(ours.value).split(".")[0]
    with pytest.raises(ValueError, match=r"It should be one of \[0, 2\]"):
        mf.demographic_parity_difference(y_true, y_pred, sensitive_features=["a", "a", "b", "b"])
    with pytest.raises(ValueError, match=r"It should be one of \[0, 2\]"):
        mf.selection_rate(None, y_pred)


def test_a_single_label_of_the_same_kind_is_a_valid_input():
    # No favourable prediction at all: pos_label=1 is absent but measurable
    # (every selection rate is 0), as fairlearn and scikit-learn accept it.
    y_true, _, sex, _ = _binary(3)
    y_pred = np.zeros(len(y_true), dtype=int)
    assert mf.selection_rate(y_true, y_pred) == fl.selection_rate(y_true, y_pred) == 0.0
    assert mf.demographic_parity_difference(
        y_true, y_pred, sensitive_features=sex
    ) == fl.demographic_parity_difference(y_true, y_pred, sensitive_features=sex)
    # ... but a number against one text label measures nothing: refused.
    with pytest.raises(
        ValueError, match=r"pos_label=1 is not a valid label: the only label, 'bad', is text"
    ):
        mf.selection_rate(None, ["bad", "bad"])
    with pytest.raises(ValueError, match="is not text"):
        mf.selection_rate(None, [0, 0], pos_label="good")


# ---- item 3: sample_weight is validated --------------------------------------


def test_one_nan_weight_raises_instead_of_dropping_its_group():
    y_true, y_pred, sex, w = _binary(4)
    w = w.copy()
    w[7] = np.nan
    for name in DISPARITIES:
        with pytest.raises(
            ValueError, match=r"1 value\(s\) are NaN or infinite \(first at position 7"
        ):
            getattr(mf, name)(y_true, y_pred, sensitive_features=sex, sample_weight=w)
    female = sex.to_numpy() == "female"
    w_group = np.where(female, np.nan, 1.0)  # before: female dropped, 0.0 returned
    with pytest.raises(ValueError, match="NaN or infinite"):
        mf.demographic_parity_difference(
            y_true, y_pred, sensitive_features=sex, sample_weight=w_group
        )
    with pytest.raises(ValueError, match="NaN or infinite"):
        mf.selection_rate(y_true, y_pred, sample_weight=w_group)
    masked = pd.Series(w_group, dtype="Float64")
    with pytest.raises(ValueError, match="NaN or infinite"):
        mf.audit_fairness(y_true, y_pred, sensitive_features=sex, sample_weight=masked, n_boot=0)


@pytest.mark.parametrize("bad", [-1.0, np.inf])
def test_negative_or_infinite_weights_raise(bad):
    # Before: a negative weight gave a selection rate of 1.5.
    y_true, y_pred = np.array([1, 0, 1, 0]), np.array([1, 0, 1, 1])
    w = np.array([1.0, 1.0, 1.0, bad])
    what = "negative" if bad < 0 else "NaN or infinite"
    with pytest.raises(ValueError, match=rf"1 value\(s\) are {what} \(first at position 3"):
        mf.selection_rate(y_true, y_pred, sample_weight=w)
    with pytest.raises(ValueError, match=what):
        mf.group_metrics(y_true, y_pred, sensitive_features=["a", "a", "b", "b"], sample_weight=w)
    with pytest.raises(ValueError, match=what):
        mf.disparate_impact_ratio(
            y_true, y_pred, sensitive_features=["a", "a", "b", "b"], sample_weight=w
        )


def test_weights_of_the_wrong_length_or_type_raise():
    y_true, y_pred = np.array([1, 0, 1, 0]), np.array([1, 0, 1, 1])
    groups = ["a", "a", "b", "b"]
    with pytest.raises(ValueError, match=r"sample_weight has 3 value\(s\) but y_true has 4"):
        mf.demographic_parity_difference(
            y_true, y_pred, sensitive_features=groups, sample_weight=[1, 2, 3]
        )
    with pytest.raises(TypeError, match="sample_weight must be numeric"):
        mf.demographic_parity_difference(
            y_true, y_pred, sensitive_features=groups, sample_weight=["x", "y", "z", "w"]
        )


def test_valid_weights_still_equal_fairlearn():
    y_true, y_pred, sex, w = _binary(5)
    w = w.copy()
    w[:10] = 0.0  # zero weights are valid, as in scikit-learn
    for name in DISPARITIES:
        assert_allclose(
            getattr(mf, name)(y_true, y_pred, sensitive_features=sex, sample_weight=w),
            getattr(fl, name)(y_true, y_pred, sensitive_features=sex, sample_weight=w),
        )


def test_the_mitigators_share_the_weight_checks():
    X = pd.DataFrame({"g": list("aabbaabb"), "x": np.arange(8.0)})
    y = np.array([0, 1, 0, 1, 1, 0, 1, 0])
    w = np.ones(8)
    w[2] = np.nan
    for cls in (ReweighingClassifier, GroupThresholdClassifier):
        with pytest.raises(ValueError, match=r"NaN or infinite \(first at position 2"):
            cls(sensitive_feature="g").fit(X, y, sample_weight=w)


# ---- item 10: duplicate names and sparse input --------------------------------


def test_sensitive_features_with_duplicate_names_are_named():
    y = [0, 1, 1]
    frame = pd.DataFrame([[1, 2, 3], [1, 2, 3], [4, 5, 6]], columns=["a", "a", "b"])
    # Before: "Buffer has wrong number of dimensions (expected 1, got 2)".
    with pytest.raises(ValueError, match="sensitive_features has duplicate column names 'a'"):
        mf.demographic_parity_difference(y, y, sensitive_features=frame)
    with pytest.raises(ValueError, match=r"column\(s\) 'a' name several columns of X"):
        mf.demographic_parity_difference(y, y, sensitive_features="a", X=frame)
    with pytest.raises(ValueError, match=r"column\(s\) 'a' name several columns of X"):
        mf.audit_fairness(y, y, sensitive_features=["a", "b"], X=frame, n_boot=0)
    with pytest.raises(ValueError, match="X has duplicate column names 'a'"):
        mf.check_bias(frame, y, sensitive_features="b")
    with pytest.raises(ValueError, match="sensitive_features has duplicate column names 'a'"):
        mf.check_bias(frame[["b"]], y, sensitive_features=frame[["a", "a"]])


def test_check_bias_of_a_sparse_matrix_says_to_densify():
    X = sparse.csr_matrix(np.eye(4))
    with pytest.raises(TypeError, match=r"needs dense data .* Convert it with X\.toarray\(\)"):
        mf.check_bias(X, sensitive_features=[0, 1, 0, 1])


def test_sparse_labels_and_groups_say_sparse_even_unvalidated():
    # Parameter validation refuses sparse labels; with it skipped (a caller's
    # choice) the old message was "y must be 1-D, got an array of shape ()".
    X = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0]})
    y = sparse.csr_matrix(np.array([[0, 1, 1, 0]])).T
    with sklearn.config_context(skip_parameter_validation=True):
        with pytest.raises(TypeError, match="y is a sparse csc_matrix"):
            mf.check_bias(X, y, sensitive_features=["a", "a", "b", "b"])
        with pytest.raises(TypeError, match="y_true is a sparse"):
            mf.demographic_parity_difference(y, [0, 1, 1, 0], sensitive_features=[0, 0, 1, 1])
        with pytest.raises(TypeError, match="sensitive_features is a sparse matrix"):
            mf.demographic_parity_difference([0, 1, 1, 0], [0, 1, 1, 0], sensitive_features=y)


# ---- item 12: GroupThresholdClassifier.score takes routed groups -----------


def _threshold_data(n=400, seed=0):
    rng = np.random.default_rng(seed)
    group = rng.choice(["a", "b"], size=n, p=[0.4, 0.6])
    x1 = rng.normal(size=n) + (group == "b") * 0.8
    x2 = rng.normal(size=n)
    y = (x1 + 0.5 * x2 + rng.normal(scale=0.7, size=n) > 0.6).astype(int)
    return pd.DataFrame({"x1": x1, "x2": x2}), y, group


def _by_hand(base, params, X, y, groups, cv):
    scores = []
    for train, test in cv.split(X, y):
        model = clone(base).set_params(**params)
        model.fit(X.iloc[train], y[train], sensitive_features=groups[train])
        predicted = model.predict(X.iloc[test], sensitive_features=groups[test])
        scores.append(accuracy_score(y[test], predicted))
    return np.mean(scores)


def test_score_takes_the_groups_and_weights():
    X, y, groups = _threshold_data()
    model = GroupThresholdClassifier().fit(X, y, sensitive_features=groups)
    predicted = model.predict(X, sensitive_features=groups)
    w = np.random.default_rng(1).random(len(y))
    assert model.score(X, y, sensitive_features=groups) == accuracy_score(y, predicted)
    assert model.score(X, y, sensitive_features=groups, sample_weight=w) == pytest.approx(
        accuracy_score(y, predicted, sample_weight=w)
    )


def test_grid_search_scores_with_routed_groups_and_picks_the_best():
    X, y, groups = _threshold_data()
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    grid = {"estimator": [DummyClassifier(), LogisticRegression()]}  # the first is worse
    with sklearn.config_context(enable_metadata_routing=True):
        base = (
            GroupThresholdClassifier()
            .set_fit_request(sensitive_features=True)
            .set_score_request(sensitive_features=True)
        )
        search = GridSearchCV(base, grid, cv=cv).fit(X, y, sensitive_features=groups)
        expected = [_by_hand(base, p, X, y, groups, cv) for p in search.cv_results_["params"]]
    scores = search.cv_results_["mean_test_score"]
    assert np.isfinite(scores).all()  # before: NaN, and the first candidate kept
    assert_allclose(scores, expected)
    assert expected[1] > expected[0]
    assert search.best_index_ == int(np.argmax(expected)) == 1
    assert isinstance(search.best_estimator_.estimator_, LogisticRegression)


def test_cross_val_score_with_routed_groups():
    X, y, groups = _threshold_data(seed=2)
    cv = StratifiedKFold(4, shuffle=True, random_state=0)
    base = GroupThresholdClassifier(constraint="equal_opportunity")
    with sklearn.config_context(enable_metadata_routing=True):
        routed = clone(base).set_fit_request(sensitive_features=True)
        routed = routed.set_score_request(sensitive_features=True)
        scores = cross_val_score(routed, X, y, cv=cv, params={"sensitive_features": groups})
    expected = []
    for train, test in cv.split(X, y):
        model = clone(base).fit(X.iloc[train], y[train], sensitive_features=groups[train])
        expected.append(model.score(X.iloc[test], y[test], sensitive_features=groups[test]))
    assert np.isfinite(scores).all()
    assert_allclose(scores, expected)


def test_set_score_request_is_built_from_the_signature():
    import inspect

    params = inspect.signature(GroupThresholdClassifier.set_score_request).parameters
    assert {"sensitive_features", "sample_weight"} <= set(params)
    with sklearn.config_context(enable_metadata_routing=True):
        model = GroupThresholdClassifier().set_score_request(sensitive_features=True)
        request = model.get_metadata_routing().consumes(
            "score", ["sensitive_features", "sample_weight"]
        )
    assert request == {"sensitive_features"}


def test_grid_search_without_a_score_request_says_so_instead_of_nan():
    # Before: the groups reached fit only, every score was NaN (predict had no
    # groups) and the first candidate was kept. Now score consumes them, so
    # scikit-learn asks for the request.
    from sklearn.exceptions import UnsetMetadataPassedError

    X, y, groups = _threshold_data()
    grid = {"estimator": [DummyClassifier(), LogisticRegression()]}
    with sklearn.config_context(enable_metadata_routing=True):
        base = GroupThresholdClassifier().set_fit_request(sensitive_features=True)
        with pytest.raises(UnsetMetadataPassedError, match="set_score_request"):
            GridSearchCV(base, grid, cv=3, error_score="raise").fit(X, y, sensitive_features=groups)
        with pytest.raises(UnsetMetadataPassedError, match="set_score_request"):
            GridSearchCV(base, grid, cv=3).fit(X, y, sensitive_features=groups)
