"""Every metric against fairlearn's on the same inputs (the oracle)."""

import numpy as np
import pandas as pd
import pytest
from fairlearn import metrics as fl
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from sklearn.metrics import accuracy_score, precision_score, recall_score

from mlpipe import fairness as mf
from mlpipe.utils._sklearn_compat import InvalidParameterError


def _binary_groups(seed=0, n=300):
    rng = np.random.default_rng(seed)
    sex = rng.choice(["female", "male"], size=n, p=[0.35, 0.65])
    y_true = rng.integers(0, 2, n)
    y_pred = (rng.random(n) < np.where(sex == "male", 0.7, 0.45)).astype(int)
    return y_true, y_pred, pd.Series(sex, name="sex"), rng.random(n) * 3


def _intersectional(seed=1, n=400):
    y_true, y_pred, sex, w = _binary_groups(seed, n)
    rng = np.random.default_rng(seed + 10)
    age = pd.Series(rng.choice(["<25", "25-60", ">60"], size=n, p=[0.2, 0.7, 0.1]), name="age_band")
    return y_true, y_pred, pd.DataFrame({"sex": sex, "age_band": age}), w


def _single_class_group():
    # Group "c" has only positive true labels (its FPR is undefined), group "d"
    # only negatives (its TPR is undefined).
    y_true, y_pred, sex, w = _binary_groups(2, 200)
    groups = sex.to_numpy().astype(object)
    groups[:20] = "c"
    groups[20:35] = "d"
    y_true = y_true.copy()
    y_true[:20] = 1
    y_true[20:35] = 0
    return y_true, y_pred, pd.Series(groups, name="g"), w


def _no_positive_predictions():
    y_true, _, sex, w = _binary_groups(3, 150)
    return y_true, np.zeros(150, dtype=int), sex, w


def _all_positive_predictions():
    y_true, _, sex, w = _binary_groups(4, 150)
    return y_true, np.ones(150, dtype=int), sex, w


def _no_positive_in_one_group():
    y_true, y_pred, sex, w = _binary_groups(5, 200)
    y_pred = y_pred.copy()
    y_pred[sex.to_numpy() == "female"] = 0
    return y_true, y_pred, sex, w


def _empty_combination():
    # No woman over 60 and no man under 25: two combinations without rows.
    y_true, y_pred, sf, w = _intersectional(6, 300)
    sf = sf.copy()
    sf.loc[(sf["sex"] == "female") & (sf["age_band"] == ">60"), "age_band"] = "25-60"
    sf.loc[(sf["sex"] == "male") & (sf["age_band"] == "<25"), "age_band"] = "25-60"
    return y_true, y_pred, sf, w


CASES = {
    "binary": _binary_groups,
    "intersectional": _intersectional,
    "empty_combination": _empty_combination,
    "single_class_group": _single_class_group,
    "no_positive_predictions": _no_positive_predictions,
    "all_positive_predictions": _all_positive_predictions,
    "one_group_never_selected": _no_positive_in_one_group,
}

FUNCTIONS = [
    "demographic_parity_difference",
    "demographic_parity_ratio",
    "equal_opportunity_difference",
    "equal_opportunity_ratio",
    "equalized_odds_difference",
    "equalized_odds_ratio",
]


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("method", ["between_groups", "to_overall"])
@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("name", FUNCTIONS)
def test_metric_equals_fairlearn(name, case, method, weighted):
    y_true, y_pred, sf, w = CASES[case]()
    sw = w if weighted else None
    ours = getattr(mf, name)(y_true, y_pred, sensitive_features=sf, method=method, sample_weight=sw)
    theirs = getattr(fl, name)(
        y_true, y_pred, sensitive_features=sf, method=method, sample_weight=sw
    )
    assert isinstance(ours, float)
    assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("name", ["equalized_odds_difference", "equalized_odds_ratio"])
def test_equalized_odds_mean_agg_equals_fairlearn(name, case):
    y_true, y_pred, sf, _ = CASES[case]()
    ours = getattr(mf, name)(y_true, y_pred, sensitive_features=sf, agg="mean")
    theirs = getattr(fl, name)(y_true, y_pred, sensitive_features=sf, agg="mean")
    assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)


def test_undefined_ratios_are_nan_like_fairlearn():
    # Nobody selected: every selection rate is 0, so 0/0 is undefined.
    y_true, y_pred, sf, _ = _no_positive_predictions()
    assert np.isnan(mf.demographic_parity_ratio(y_true, y_pred, sensitive_features=sf))
    assert mf.demographic_parity_difference(y_true, y_pred, sensitive_features=sf) == 0


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("case", sorted(CASES))
def test_selection_rate_equals_fairlearn(case, weighted):
    y_true, y_pred, _, w = CASES[case]()
    sw = w if weighted else None
    assert_allclose(
        mf.selection_rate(y_true, y_pred, sample_weight=sw),
        fl.selection_rate(y_true, y_pred, sample_weight=sw),
        rtol=1e-12,
    )
    assert_allclose(
        mf.selection_rate(y_true, y_pred, pos_label=0),
        fl.selection_rate(y_true, y_pred, pos_label=0),
    )


def test_selection_rate_of_nothing_raises():
    with pytest.raises(ValueError, match="Empty y_pred"):
        mf.selection_rate([], [])


ORACLE_METRICS = {
    "count": fl.count,
    "selection_rate": fl.selection_rate,
    "base_rate": lambda yt, yp, **kw: fl.selection_rate(yp, yt, **kw),
    "true_positive_rate": fl.true_positive_rate,
    "false_positive_rate": fl.false_positive_rate,
    "true_negative_rate": fl.true_negative_rate,
    "false_negative_rate": fl.false_negative_rate,
    "precision": lambda yt, yp, **kw: precision_score(yt, yp, zero_division=0, **kw),
    "accuracy": accuracy_score,
}


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("case", sorted(CASES))
def test_group_metrics_equals_metric_frame(case, weighted):
    y_true, y_pred, sf, w = CASES[case]()
    names = (
        list(ORACLE_METRICS)
        if weighted is False
        else [
            m
            for m in ORACLE_METRICS
            if m != "count"  # fl.count takes no weights
        ]
    )
    table = mf.group_metrics(
        y_true, y_pred, sensitive_features=sf, metrics=names, sample_weight=w if weighted else None
    )
    frame = fl.MetricFrame(
        metrics={m: ORACLE_METRICS[m] for m in names},
        y_true=y_true,
        y_pred=y_pred,
        sensitive_features=sf,
        sample_params=({m: {"sample_weight": w} for m in names} if weighted else None),
    )
    theirs = frame.by_group.astype("float64")
    ours = table.by_group.astype("float64")
    assert list(ours.index) == list(theirs.index)
    assert_allclose(ours.to_numpy(), theirs.to_numpy(), rtol=1e-12, atol=1e-12)
    assert_allclose(
        table.overall[names].astype(float).to_numpy(),
        frame.overall.astype(float).to_numpy(),
        rtol=1e-12,
        atol=1e-12,
    )
    for method in ("between_groups", "to_overall"):
        assert_allclose(
            table.difference(method)[names].to_numpy(),
            frame.difference(method=method).to_numpy(),
            rtol=1e-12,
            atol=1e-12,
        )
        assert_allclose(
            table.ratio(method)[names].to_numpy(),
            frame.ratio(method=method).to_numpy(),
            rtol=1e-12,
            atol=1e-12,
        )
    assert_allclose(table.group_min()[names].to_numpy(), frame.group_min().to_numpy())
    assert_allclose(table.group_max()[names].to_numpy(), frame.group_max().to_numpy())


def test_group_metrics_calls_any_sklearn_metric_per_group():
    y_true, y_pred, sf, w = _intersectional()
    table = mf.group_metrics(
        y_true, y_pred, sensitive_features=sf, metrics={"recall": recall_score}, sample_weight=w
    )
    frame = fl.MetricFrame(
        metrics={"recall": recall_score},
        y_true=y_true,
        y_pred=y_pred,
        sensitive_features=sf,
        sample_params={"recall": {"sample_weight": w}},
    )
    assert list(table.by_group.index) == list(frame.by_group.index)
    assert_allclose(
        table.by_group["recall"].to_numpy(dtype=float),
        frame.by_group["recall"].to_numpy(dtype=float),
    )
    assert_allclose(table.overall["recall"], frame.overall["recall"])


def test_column_names_of_X_give_the_same_groups_as_arrays():
    y_true, y_pred, sf, _ = _intersectional()
    X = sf.assign(income=np.arange(len(sf)))
    by_name = mf.equalized_odds_difference(
        y_true, y_pred, X=X, sensitive_features=["sex", "age_band"]
    )
    by_array = mf.equalized_odds_difference(y_true, y_pred, sensitive_features=sf)
    assert by_name == by_array
    one = mf.demographic_parity_ratio(y_true, y_pred, X=X, sensitive_features="sex")
    assert one == fl.demographic_parity_ratio(y_true, y_pred, sensitive_features=sf["sex"])


def test_dict_and_2d_array_sensitive_features():
    y_true, y_pred, sf, _ = _intersectional()
    expected = fl.demographic_parity_difference(y_true, y_pred, sensitive_features=sf)
    as_dict = {"sex": sf["sex"].to_numpy(), "age": sf["age_band"].to_numpy()}
    assert_allclose(
        mf.demographic_parity_difference(y_true, y_pred, sensitive_features=as_dict), expected
    )
    assert_allclose(
        mf.demographic_parity_difference(y_true, y_pred, sensitive_features=sf.to_numpy()), expected
    )


def test_string_labels_with_pos_label():
    y_true, y_pred, sf, _ = _binary_groups()
    names = np.array(["bad", "good"])
    ours = mf.equal_opportunity_difference(
        names[y_true], names[y_pred], sensitive_features=sf, pos_label="good"
    )
    assert_allclose(ours, fl.equal_opportunity_difference(y_true, y_pred, sensitive_features=sf))
    with pytest.raises(
        ValueError,
        match=r"pos_label=1 is not a valid label\. It should be one of \['bad', 'good'\]",
    ):
        mf.equal_opportunity_difference(names[y_true], names[y_pred], sensitive_features=sf)


def test_disparate_impact_ratio():
    y_true, y_pred, sf, w = _binary_groups()
    # Without a privileged group it is the four-fifths-rule ratio: min/max.
    assert_allclose(
        mf.disparate_impact_ratio(y_true, y_pred, sensitive_features=sf),
        fl.demographic_parity_ratio(y_true, y_pred, sensitive_features=sf),
    )
    male = sf.to_numpy() == "male"
    expected = fl.selection_rate(y_true[~male], y_pred[~male], sample_weight=w[~male]) / (
        fl.selection_rate(y_true[male], y_pred[male], sample_weight=w[male])
    )
    ours = mf.disparate_impact_ratio(
        y_true, y_pred, sensitive_features=sf, privileged_group="male", sample_weight=w
    )
    assert_allclose(ours, expected)
    with pytest.raises(ValueError, match="privileged_group='men' is not one of"):
        mf.disparate_impact_ratio(y_true, y_pred, sensitive_features=sf, privileged_group="men")


@pytest.mark.parametrize(
    "sensitive, match",
    [
        (pd.Series(["a", None, "b", "a"], name="sex"), r"'sex' has 1 missing value"),
        (["a", "b", "a"], "has 3 value\\(s\\) but y has 4"),
        ("sex", "must be a DataFrame"),
        (None, "The 'sensitive_features' parameter of demographic_parity_difference"),
        (np.zeros((4, 1, 2)), "must be 1-D or 2-D"),
    ],
)
def test_bad_sensitive_features_are_named(sensitive, match):
    with pytest.raises(ValueError, match=match):
        mf.demographic_parity_difference([0, 1, 1, 0], [0, 1, 0, 1], sensitive_features=sensitive)


def test_unknown_column_is_named():
    X = pd.DataFrame({"age": [1, 2, 3, 4]})
    with pytest.raises(ValueError, match=r"\['sex'\] are not columns of X"):
        mf.demographic_parity_difference(
            [0, 1, 1, 0], [0, 1, 0, 1], X=X, sensitive_features=["sex"]
        )


def test_bad_arguments():
    y, sf = [0, 1, 1, 0], ["a", "a", "b", "b"]
    with pytest.raises(InvalidParameterError, match=r"'method' parameter .* Got 'max'"):
        mf.demographic_parity_difference(y, y, sensitive_features=sf, method="max")
    with pytest.raises(InvalidParameterError, match=r"'agg' parameter .* Got 'best'"):
        mf.equalized_odds_ratio(y, y, sensitive_features=sf, agg="best")
    with pytest.raises(ValueError, match="need binary labels"):
        mf.equal_opportunity_ratio([0, 1, 2, 0], y, sensitive_features=sf)
    with pytest.raises(ValueError, match="different lengths"):
        mf.demographic_parity_ratio(y, y[:3], sensitive_features=sf)
    with pytest.raises(ValueError, match="unknown metric 'f1'"):
        mf.group_metrics(y, y, sensitive_features=sf, metrics=["f1"])


def test_inputs_are_not_modified():
    y_true, y_pred, sf, w = _intersectional()
    copies = [y_true.copy(), y_pred.copy(), sf.copy(), w.copy()]
    mf.group_metrics(
        y_true, y_pred, sensitive_features=sf, sample_weight=w, metrics=list(ORACLE_METRICS)
    )
    for before, after in zip(copies, [y_true, y_pred, sf, w], strict=True):
        if isinstance(before, pd.DataFrame):
            pd.testing.assert_frame_equal(before, after)
        else:
            np.testing.assert_array_equal(before, after)


@settings(max_examples=40, deadline=None)
@given(
    data=st.lists(
        st.tuples(st.integers(0, 1), st.integers(0, 1), st.sampled_from("abc")),
        min_size=2,
        max_size=40,
    )
)
def test_property_equal_to_fairlearn_on_any_small_input(data):
    y_true, y_pred, groups = (np.array(v) for v in zip(*data, strict=True))
    for name in FUNCTIONS:
        ours = getattr(mf, name)(y_true, y_pred, sensitive_features=groups)
        theirs = getattr(fl, name)(y_true, y_pred, sensitive_features=groups)
        assert_allclose(ours, theirs, rtol=1e-12, err_msg=name)


# -- scalar inputs and empty combinations, as fairlearn treats them ----------

# fairlearn's own test_selection_rate_single_element cases, and more scalars.
SCALAR_SELECTION = [
    ([1], [1]),
    ([0], [1]),
    ([1], [0]),
    ([0], [0]),
    (1, 1),
    (0, 0),
    (0, 1),
    (1, 0),
    ([False], [False]),
    ([True], [True]),
    (False, False),
    (True, True),
    (np.int64(1), np.int64(1)),
    (np.array(0), np.array(1)),
    # y_true is ignored, its length too
    (1, [1, 0]),
    ([1, 0, 1], 1),
    (None, [1, 0, 0]),
]


@pytest.mark.parametrize(("y_true", "y_pred"), SCALAR_SELECTION)
def test_selection_rate_of_scalars_equals_fairlearn(y_true, y_pred):
    ours = mf.selection_rate(y_true, y_pred)
    assert isinstance(ours, float)
    assert ours == fl.selection_rate(y_true, y_pred)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"y_true": 1, "y_pred": 1, "sample_weight": 2},
        {"y_true": [1], "y_pred": [0], "sample_weight": [2]},
        {"y_true": "a", "y_pred": "a", "pos_label": "a"},
        {"y_true": 0, "y_pred": [[1], [0], [1]]},
    ],
)
def test_selection_rate_scalar_weight_and_labels_equal_fairlearn(kwargs):
    assert mf.selection_rate(**kwargs) == fl.selection_rate(**kwargs)


@pytest.mark.parametrize(
    ("y_true", "y_pred", "sensitive"),
    [
        (1, 1, 1),
        (1, 0, "a"),
        ([1], [1], 1),
        (1, [1], [1]),
        ([1], 1, ["a"]),
    ],
)
@pytest.mark.parametrize("name", FUNCTIONS)
def test_scalar_inputs_to_group_metrics_raise_like_fairlearn(name, y_true, y_pred, sensitive):
    # fairlearn's disparity metrics need sequences; scalars raise there (a
    # TypeError or ValueError); here they raise an InvalidParameterError,
    # which is both, naming the parameter.
    with pytest.raises((TypeError, ValueError)) as theirs:
        getattr(fl, name)(y_true, y_pred, sensitive_features=sensitive)
    with pytest.raises(type(theirs.value), match="parameter of " + name):
        getattr(mf, name)(y_true, y_pred, sensitive_features=sensitive)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("n_features", [2, 3])
def test_empty_combinations_are_nan_rows_like_metric_frame(n_features, weighted):
    y_true, y_pred, sf, w = _empty_combination()
    if n_features == 3:
        rng = np.random.default_rng(7)
        sf = sf.assign(region=rng.choice(["north", "south"], size=len(sf)))
    metrics = {
        "count": fl.count,
        "selection_rate": fl.selection_rate,
        "true_positive_rate": fl.true_positive_rate,
        "recall": recall_score,
    }
    names = [m for m in metrics if not (weighted and m == "count")]
    table = mf.group_metrics(
        y_true,
        y_pred,
        sensitive_features=sf,
        sample_weight=w if weighted else None,
        metrics={m: (recall_score if m == "recall" else m) for m in names},
    )
    frame = fl.MetricFrame(
        metrics={m: metrics[m] for m in names},
        y_true=y_true,
        y_pred=y_pred,
        sensitive_features=sf,
        sample_params={m: {"sample_weight": w} for m in names} if weighted else None,
    )
    empty = frame.by_group.isna().all(axis=1)
    assert empty.sum() >= 2  # the case has combinations without rows
    assert list(table.by_group.index) == list(frame.by_group.index)
    assert table.by_group.index.names == frame.by_group.index.names
    ours = table.by_group.astype("float64")
    assert ours[empty.to_numpy()].isna().all(axis=None)
    assert_allclose(
        ours.to_numpy(), frame.by_group.astype("float64").to_numpy(), rtol=1e-12, atol=1e-12
    )
    for method in ("between_groups", "to_overall"):
        assert_allclose(
            table.difference(method)[names].to_numpy(),
            frame.difference(method=method).to_numpy(),
            rtol=1e-12,
        )
        assert_allclose(
            table.ratio(method)[names].to_numpy(), frame.ratio(method=method).to_numpy(), rtol=1e-12
        )
    assert_allclose(
        table.group_min()[names].to_numpy(dtype=float), frame.group_min().to_numpy(dtype=float)
    )
    assert_allclose(
        table.group_max()[names].to_numpy(dtype=float), frame.group_max().to_numpy(dtype=float)
    )
    n_empty = int(empty.sum())
    assert f"({n_empty} combination(s) without rows)" in table.summary()


def test_one_sensitive_feature_has_no_empty_rows():
    y_true, y_pred, sex, _ = _binary_groups()
    table = mf.group_metrics(y_true, y_pred, sensitive_features=sex)
    frame = fl.MetricFrame(
        metrics=fl.selection_rate, y_true=y_true, y_pred=y_pred, sensitive_features=sex
    )
    assert list(table.by_group.index) == list(frame.by_group.index)
    assert table.by_group["count"].dtype == np.int64
