"""Explanation: importance, tidy frame, reason codes, shap interop, plots."""

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.pipeline import make_pipeline

from mlpipe.explain import Explanation, explain
from tests.explain._data import CATEGORICAL, preprocessor


def _toy(multiclass=False):
    data = pd.DataFrame(
        {"city": ["Oslo", "Rome", None], "income": [10.0, np.nan, 30.0], "age": [20, 40, 60]},
        index=["a", "b", "c"],
    )
    values = np.array([[0.5, -0.2, 0.1], [-0.4, 0.3, 0.0], [0.1, 0.1, -0.6]])
    if multiclass:
        values = np.stack([values, -values, 2 * values], axis=-1)
        base = np.tile([0.2, 0.3, 0.5], (3, 1))
        names = ["x", "y", "z"]
    else:
        base = np.full(3, 0.25)
        names = [1]
    return Explanation(
        values=values,
        base_values=base,
        data=data,
        feature_names=["city", "income", "age"],
        output="probability",
        output_names=names,
        method="tree",
    )


def test_importance_is_mean_absolute_value():
    e = _toy()
    imp = e.importance()
    assert imp.index.tolist() == ["city", "age", "income"]
    np.testing.assert_allclose(imp.to_numpy(), [1.0 / 3, 0.7 / 3, 0.6 / 3])
    multi = _toy(multiclass=True)
    # summed over classes: 1 + 1 + 2 times the binary importance
    np.testing.assert_allclose(multi.importance().to_numpy(), 4 * imp.to_numpy())
    np.testing.assert_allclose(multi.importance(target="z").to_numpy(), 2 * imp.to_numpy())


def test_to_frame_is_tidy():
    frame = _toy().to_frame()
    assert list(frame.columns) == ["row", "feature", "value", "shap"]
    assert len(frame) == 9
    row_b = frame[frame["row"] == "b"].set_index("feature")
    assert row_b.loc["city", "value"] == "Rome"
    assert row_b.loc["income", "shap"] == 0.3
    multi = _toy(multiclass=True).to_frame()
    assert len(multi) == 27
    assert (
        multi.loc[
            (multi["row"] == "c") & (multi["feature"] == "age") & (multi["output"] == "z"), "shap"
        ].item()
        == -1.2
    )


def test_reasons_rank_by_size_and_filter_by_direction():
    e = _toy()
    r = e.reasons(1, n=2)
    assert r["feature"].tolist() == ["city", "income"]
    assert r["contribution"].tolist() == [-0.4, 0.3]
    assert r["reason"].iloc[0] == "city = 'Rome' lowers the probability of class 1 by 0.4"
    assert r["reason"].iloc[1] == "income = missing raises the probability of class 1 by 0.3"
    assert e.reasons(1, n=3, direction="down")["feature"].tolist() == ["city"]
    assert e.reasons(1, n=3, direction="up")["feature"].tolist() == ["income"]
    # a raw integer stays an integer beside a missing value
    assert e.reasons(2, n=3)["value"].tolist()[0] == 60


def test_reason_codes_per_row():
    codes = _toy().reason_codes(n=2)
    assert codes.index.tolist() == ["a", "b", "c"]
    assert codes.loc["a"].tolist() == ["city=Oslo (+0.5)", "income=10.0 (-0.2)"]
    down = _toy().reason_codes(n=2, direction="down")
    assert down.loc["a"].tolist() == ["income=10.0 (-0.2)", ""]


def test_multiclass_reasons_default_to_predicted_class():
    e = _toy(multiclass=True)
    # row "a": outputs 0.2+0.4, 0.3-0.4, 0.5+0.8 -> class "z" is predicted
    r = e.reasons(0, n=1)
    assert r["contribution"].tolist() == [1.0]
    assert "probability of 'z'" in r["reason"].iloc[0]
    assert e.reasons(0, n=1, target="y")["contribution"].tolist() == [-0.5]
    with pytest.raises(ValueError, match="not an explained class"):
        e.reasons(0, target="w")


def test_bad_arguments():
    e = _toy()
    with pytest.raises(ValueError, match="direction"):
        e.reasons(0, direction="sideways")
    with pytest.raises(IndexError, match="row=5"):
        e.reasons(5)
    with pytest.raises(ValueError, match="kind must be one of"):
        e.plot("pie")
    with pytest.raises(ValueError, match="target=<class>"):
        _toy(multiclass=True)._slice(None)


def test_summary_and_html():
    e = _toy()
    assert "3 row(s) x 3 raw column(s)" in e.summary()
    text = str(e)
    assert text.splitlines()[0].startswith("Explanation:")
    assert "city" in text
    assert "<table" in e._repr_html_()
    np.testing.assert_allclose(e.model_output(), [0.65, 0.15, -0.15])


def test_to_shap_keeps_values_and_raw_display():
    import shap

    e = _toy()
    s = e.to_shap()
    assert isinstance(s, shap.Explanation)
    np.testing.assert_array_equal(s.values, e.values)
    np.testing.assert_array_equal(s.base_values, e.base_values)
    assert s.feature_names == ["city", "income", "age"]
    assert s.display_data[1, 0] == "Rome"
    # text becomes codes (missing stays missing) so shap can colour by it
    assert s.data[0, 0] == 0 and s.data[1, 0] == 1 and np.isnan(s.data[2, 0])
    assert s.data[2, 2] == 60


@pytest.fixture(scope="module")
def forest_explanation(credit_data):
    X, y, X_new = credit_data
    model = make_pipeline(preprocessor(), RandomForestClassifier(10, max_depth=3, random_state=0))
    return explain(model.fit(X, y), X_new)


@pytest.mark.parametrize("kind", ["bar", "beeswarm", "waterfall"])
def test_plots_draw(forest_explanation, kind):
    import matplotlib.pyplot as plt

    ax = forest_explanation.plot(kind, row=2, max_display=5)
    try:
        labels = [t.get_text() for t in ax.get_yticklabels()]
        top = forest_explanation.importance().index[0]
        assert any(top in label for label in labels), labels
        assert len(ax.patches) + len(ax.collections) > 0
    finally:
        plt.close("all")


def test_multiclass_plots_pick_a_class():
    import matplotlib.pyplot as plt

    e = _toy(multiclass=True)
    try:
        ax = e.plot("bar")
        assert [t.get_text() for t in ax.get_yticklabels()] == ["income", "age", "city"]
        np.testing.assert_allclose(
            sorted(p.get_width() for p in ax.patches), sorted(e.importance().to_numpy())
        )
        e.plot("beeswarm", target="y")
        e.plot("waterfall", row=0)
    finally:
        plt.close("all")


def test_categorical_columns_show_raw_values_in_reasons(forest_explanation):
    r = forest_explanation.reasons(0, n=9)
    raw = forest_explanation.data.iloc[0]
    for feature, value in zip(r["feature"], r["value"], strict=True):
        if pd.isna(raw[feature]):
            assert pd.isna(value)
        else:
            assert value == raw[feature]
    assert set(r["feature"]) & set(CATEGORICAL)


def test_multiclass_to_shap_slices_into_shap_plots():
    import matplotlib.pyplot as plt
    import shap

    e = _toy(multiclass=True)
    s = e.to_shap()
    assert s.values.shape == (3, 3, 3)
    one = s[0, :, 2]
    np.testing.assert_array_equal(one.values, e.values[0, :, 2])
    assert one.base_values == 0.5
    try:
        shap.plots.waterfall(one, show=False)
        shap.plots.beeswarm(s[:, :, 1], show=False)
    finally:
        plt.close("all")
