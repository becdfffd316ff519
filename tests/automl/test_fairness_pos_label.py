"""Issue 14, item 3: a PipelineSearch fairness objective that cannot measure
the labels fails at fit, by name, instead of scoring 0 for every candidate."""

import pytest
from sklearn.model_selection import train_test_split

from mlpipe.automl import PipelineSearch
from mlpipe.datasets import load_credit

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
def text_labels():
    X, y = load_credit(return_X_y=True)
    y = y.map({1: "good", 0: "bad"})
    X_train, _, y_train, _ = train_test_split(X, y, train_size=300, stratify=y, random_state=0)
    return X_train, y_train


@pytest.mark.parametrize(
    "metric", ["demographic_parity_difference", "equal_opportunity_difference"]
)
def test_text_labels_without_pos_label_fail_at_fit(text_labels, metric):
    # Before: demographic_parity_difference was 0.0 for every candidate (the
    # selection rate of label 1, which no prediction is), so the objective
    # chose nothing.
    X, y = text_labels
    search = PipelineSearch(**TINY, fairness={"metric": metric, "sensitive_feature": "sex"})
    with pytest.raises(
        ValueError,
        match=r"fairness objective cannot be computed on y: pos_label=1 is not a valid "
        r"label\. It should be one of \['bad', 'good'\].*'pos_label': <label>",
    ):
        search.fit(X, y)
    assert not hasattr(search, "results_")


def test_a_pos_label_not_among_the_labels_fails_at_fit(text_labels):
    X, y = text_labels
    spec = {"metric": "equal_opportunity_difference", "sensitive_feature": "sex"}
    with pytest.raises(ValueError, match=r"pos_label='yes' is not a valid label"):
        PipelineSearch(**TINY, fairness={**spec, "pos_label": "yes"}).fit(X, y)
    with pytest.raises(ValueError, match=r"fairness takes .*got keys \['label', 'metric'"):
        PipelineSearch(**TINY, fairness={**spec, "label": "good"}).fit(X, y)


def test_the_favourable_label_is_measured(text_labels):
    X, y = text_labels
    search = PipelineSearch(
        **TINY,
        fairness={
            "metric": "equal_opportunity_difference",
            "sensitive_feature": "sex",
            "pos_label": "good",
        },
    ).fit(X, y)
    values = search.results_["equal_opportunity_difference"].dropna()
    # Cross-validated gaps in true positive rates of "good" between the sexes:
    # measured, so not the 0.0 of every candidate that label 1 gave.
    assert len(values) and values.between(0, 1).all() and (values > 0).any()
