"""explain() and PipelineExplainer against independent oracles: the fitted
pipeline's own output (additivity), shap run by hand on the transformed
matrix, the LinearSHAP formula, and brute-force Shapley values."""

import itertools
import logging
import math

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal
from sklearn.compose import ColumnTransformer
from sklearn.decomposition import PCA
from sklearn.ensemble import (
    GradientBoostingClassifier,
    HistGradientBoostingClassifier,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.svm import SVC
from threadpoolctl import threadpool_limits

from mlpipe.explain import Explanation, FoldingError, PipelineExplainer, explain
from mlpipe.explain._explainer import AUDIT_LOGGER, TOLERANCE
from mlpipe.impute import TypedImputer
from tests.explain._data import CATEGORICAL, NUMERIC, model_output, preprocessor

RAW = [
    "sex",
    "job",
    "housing",
    "saving_accounts",
    "checking_account",
    "credit_amount",
    "duration",
    "purpose",
    "age",
]

# (id, model, output asked, method expected, output expected, rows explained)
BINARY_CASES = [
    (
        "forest",
        lambda: RandomForestClassifier(30, max_depth=5, random_state=0),
        "auto",
        "tree",
        "probability",
        40,
    ),
    (
        "boosting",
        lambda: GradientBoostingClassifier(n_estimators=30, random_state=0),
        "auto",
        "tree",
        "log_odds",
        40,
    ),
    (
        "boosting-proba",
        lambda: GradientBoostingClassifier(n_estimators=30, random_state=0),
        "probability",
        "tree",
        "probability",
        40,
    ),
    ("logistic", lambda: LogisticRegression(max_iter=1000), "auto", "linear", "log_odds", 40),
    (
        "logistic-proba",
        lambda: LogisticRegression(max_iter=1000),
        "probability",
        "kernel",
        "probability",
        3,
    ),
    ("svm", lambda: SVC(random_state=0), "auto", "kernel", "log_odds", 3),
]


def _fit(model, X, y, pre=None):
    return make_pipeline(pre if pre is not None else preprocessor(), model).fit(X, y)


def _assert_additive(explanation, expected):
    total = explanation.base_values + explanation.values.sum(axis=1)
    np.testing.assert_allclose(total, expected, rtol=0, atol=TOLERANCE)


@pytest.mark.parametrize(
    "make, output, method, resolved, n_rows",
    [case[1:] for case in BINARY_CASES],
    ids=[case[0] for case in BINARY_CASES],
)
def test_values_plus_base_equal_pipeline_output(
    credit_data, make, output, method, resolved, n_rows
):
    X, y, X_new = credit_data
    model = _fit(make(), X, y)
    rows = X_new.iloc[:n_rows]
    explanation = explain(model, rows, background=X.iloc[:25], output=output)
    assert explanation.method == method
    assert explanation.output == resolved
    assert explanation.feature_names == RAW
    assert explanation.values.shape == (n_rows, len(RAW))
    assert explanation.base_values.shape == (n_rows,)
    assert explanation.output_names == [1]
    _assert_additive(explanation, model_output(model, rows, resolved))
    assert explanation.max_additivity_error <= TOLERANCE
    assert_frame_equal(explanation.data, rows)


def _fold_by_names(values, names):
    """Sum shap values of transformed columns into raw columns by parsing the
    ColumnTransformer's output names (an oracle independent of _folding)."""
    out = np.zeros((*values.shape[:1], len(RAW), *values.shape[2:]))
    for k, name in enumerate(names):
        body = name.split("__", 1)[1].removeprefix("missingindicator_")
        owners = [j for j, raw in enumerate(RAW) if body == raw or body.startswith(raw + "_")]
        assert len(owners) == 1, name
        out[:, owners[0]] += values[:, k]
    return out


def test_tree_values_equal_shap_on_transformed_matrix_summed_by_hand(credit_data):
    import shap

    X, y, X_new = credit_data
    model = _fit(RandomForestClassifier(30, max_depth=5, random_state=0), X, y)
    Xt = model[:-1].transform(X_new)
    direct = shap.TreeExplainer(model[-1]).shap_values(Xt)[:, :, 1]
    expected = _fold_by_names(direct, model[:-1].get_feature_names_out())
    explanation = explain(model, X_new)
    np.testing.assert_allclose(explanation.values, expected, atol=1e-12)
    # one-hot columns and missing indicators really were summed in
    assert len(model[:-1].get_feature_names_out()) > len(RAW)


def test_linear_values_follow_the_linear_shap_formula(credit_data):
    X, y, X_new = credit_data
    model = _fit(LogisticRegression(max_iter=1000), X, y)
    background = X.iloc[:60]
    explanation = explain(model, X_new, background=background)
    Xt = model[:-1].transform(X_new)
    mean = model[:-1].transform(background).mean(axis=0)
    coef = model[-1].coef_[0]
    by_column = _fold_by_names(coef * (Xt - mean), model[:-1].get_feature_names_out())
    np.testing.assert_allclose(explanation.values, by_column, atol=1e-12)
    np.testing.assert_allclose(explanation.base_values, coef @ mean + model[-1].intercept_[0])


def _brute_force_shapley(f, x, background):
    """Interventional Shapley values by enumerating every coalition."""
    m = len(x.columns)

    def v(subset):
        rows = background.copy()
        for j in subset:
            rows[x.columns[j]] = [x.iloc[0, j]] * len(rows)
        return f(rows).mean()

    phi = np.zeros(m)
    for j in range(m):
        others = [i for i in range(m) if i != j]
        for size in range(m):
            weight = math.factorial(size) * math.factorial(m - size - 1) / math.factorial(m)
            for subset in itertools.combinations(others, size):
                phi[j] += weight * (v((*subset, j)) - v(subset))
    return phi, v(())


@pytest.mark.parametrize("text_dtype", ["str", object, "category"])
def test_kernel_on_string_columns_equals_brute_force_shapley(text_dtype):
    # shap's model-agnostic explainers fail on text columns by themselves
    # ("unsupported operand type(s) for -: 'str' and 'str'").
    rng = np.random.default_rng(0)
    n = 80
    X = pd.DataFrame(
        {
            "city": pd.Series(rng.choice(["Oslo", "Rome", "Lima"], n)).astype(text_dtype),
            "income": rng.normal(50, 10, n),
            "plan": pd.Series(rng.choice(["basic", "pro"], n)).astype(text_dtype),
        }
    )
    y = ((X["income"] > 50) ^ (X["city"].astype(str) == "Rome")).astype(int)
    pre = ColumnTransformer(
        [("cat", OneHotEncoder(), ["city", "plan"]), ("num", StandardScaler(), ["income"])]
    )
    model = make_pipeline(pre, SVC(random_state=0)).fit(X, y)
    background = X.iloc[:12]
    rows = X.iloc[40:43]
    explanation = explain(model, rows, background=background)
    assert explanation.method == "kernel"
    assert explanation.feature_names == ["city", "income", "plan"]
    for i in range(len(rows)):
        phi, base = _brute_force_shapley(model.decision_function, rows.iloc[[i]], background)
        np.testing.assert_allclose(explanation.values[i], phi, atol=1e-8)
        np.testing.assert_allclose(explanation.base_values[i], base, atol=1e-8)


def test_string_columns_work_through_the_tree_path(credit_data):
    X, y, X_new = credit_data
    X_str = X.astype({c: "str" for c in CATEGORICAL})
    model = _fit(GradientBoostingClassifier(n_estimators=20, random_state=0), X_str, y)
    rows = X_new.astype({c: "str" for c in CATEGORICAL})
    explanation = explain(model, rows)
    assert explanation.method == "tree"
    _assert_additive(explanation, model.decision_function(rows))


MULTICLASS_CASES = [
    ("forest", lambda: RandomForestClassifier(20, max_depth=4, random_state=0), "tree", 20),
    (
        "hist-boosting",
        lambda: HistGradientBoostingClassifier(max_iter=15, random_state=0),
        "tree",
        20,
    ),
    ("logistic", lambda: LogisticRegression(max_iter=1000), "linear", 20),
    # shap's TreeExplainer supports only binary GradientBoostingClassifier.
    ("boosting", lambda: GradientBoostingClassifier(n_estimators=10, random_state=0), "kernel", 2),
    ("svm", lambda: SVC(random_state=0), "kernel", 2),
]


@pytest.fixture
def one_openmp_thread():
    # HistGradientBoosting's many tiny OpenMP regions crawl when two busy
    # cores are shared; one thread keeps its fit and predict fast.
    with threadpool_limits(1, user_api="openmp"):
        yield


@pytest.mark.parametrize(
    "make, method, n_rows", [c[1:] for c in MULTICLASS_CASES], ids=[c[0] for c in MULTICLASS_CASES]
)
def test_multiclass_shapes_and_additivity(credit_data, make, method, n_rows, one_openmp_thread):
    X, _, X_new = credit_data
    target = X["housing"].astype(str).replace("nan", "unknown")
    features = X.drop(columns="housing")
    pre = preprocessor(categorical=[c for c in CATEGORICAL if c != "housing"])
    model = make_pipeline(pre, make()).fit(features, target)
    rows = X_new.drop(columns="housing").iloc[:n_rows]
    explanation = explain(model, rows, background=features.iloc[:15])
    n_classes = len(model.classes_)
    assert n_classes == 3
    assert explanation.method == method
    assert explanation.values.shape == (n_rows, features.shape[1], n_classes)
    assert explanation.base_values.shape == (n_rows, n_classes)
    assert explanation.output_names == list(model.classes_)
    _assert_additive(explanation, model_output(model, rows, explanation.output))


@pytest.mark.parametrize(
    "make, method",
    [
        (lambda: RandomForestRegressor(20, max_depth=4, random_state=0), "tree"),
        (lambda: Ridge(), "linear"),
    ],
)
def test_regression(credit_data, make, method):
    X, _, X_new = credit_data
    target = X["credit_amount"].fillna(X["credit_amount"].median())
    features = X.drop(columns="credit_amount")
    pre = preprocessor(numeric=["job", "duration", "age"])
    model = make_pipeline(pre, make()).fit(features, target)
    rows = X_new.drop(columns="credit_amount")
    explanation = explain(model, rows, background=features)
    assert (explanation.method, explanation.output) == (method, "predict")
    assert explanation.output_names == ["prediction"]
    total = explanation.base_values + explanation.values.sum(axis=1)
    expected = model.predict(rows)
    np.testing.assert_allclose(total, expected, rtol=TOLERANCE, atol=TOLERANCE)


def test_dropped_raw_column_gets_zero(credit_data):
    X, y, X_new = credit_data
    pre = preprocessor(numeric=["duration", "age"], categorical=["checking_account"])
    model = make_pipeline(pre, LogisticRegression(max_iter=1000)).fit(X, y)
    explanation = explain(model, X_new, background=X)
    dropped = [RAW.index(c) for c in ("sex", "job", "housing", "credit_amount", "purpose")]
    assert np.all(explanation.values[:, dropped] == 0)
    assert np.all(np.abs(explanation.values[:, RAW.index("duration")]) > 0)
    _assert_additive(explanation, model.decision_function(X_new))


def test_unfoldable_step_falls_back_to_kernel_or_raises(credit_data):
    X, y, X_new = credit_data
    numbers = X[["job", "duration", "age"]]
    model = make_pipeline(StandardScaler(), PCA(2), LogisticRegression()).fit(numbers, y)
    rows = X_new[["job", "duration", "age"]].iloc[:3]
    explanation = explain(model, rows, background=numbers.iloc[:10])
    assert explanation.method == "kernel"
    assert explanation.feature_names == ["job", "duration", "age"]
    _assert_additive(explanation, model.decision_function(rows))
    with pytest.raises(FoldingError, match=r"'pca0'.*PCA"):
        PipelineExplainer(model, method="linear")


def test_bare_estimator_and_numpy_input(credit_data):
    X, y, X_new = credit_data
    numbers = X[["job", "duration", "age"]]
    forest = RandomForestClassifier(10, max_depth=3, random_state=0)
    framed = forest.fit(numbers, y)
    explanation = explain(framed, X_new[["job", "duration", "age"]])
    assert explanation.feature_names == ["job", "duration", "age"]
    unnamed = RandomForestClassifier(10, max_depth=3, random_state=0).fit(numbers.to_numpy(), y)
    rows = X_new[["job", "duration", "age"]].to_numpy()
    explanation = explain(unnamed, rows)
    assert explanation.feature_names == ["x0", "x1", "x2"]
    _assert_additive(explanation, unnamed.predict_proba(rows)[:, 1])


def test_explainer_is_reusable_and_background_sets_base(credit_data):
    X, y, X_new = credit_data
    model = _fit(LogisticRegression(max_iter=1000), X, y)
    explainer = PipelineExplainer(model, background=X, max_background=50)
    first = explainer.explain(X_new.iloc[:5])
    again = explainer(X_new.iloc[:5])
    np.testing.assert_array_equal(first.values, again.values)
    # the base value is the output at the background's mean, whatever the batch
    other = explainer.explain(X_new.iloc[20:22])
    assert other.base_values[0] == first.base_values[0]


def test_gradient_boosting_probability_base_is_background_mean(credit_data):
    X, y, X_new = credit_data
    model = _fit(GradientBoostingClassifier(n_estimators=20, random_state=0), X, y)
    background = X.iloc[:30]
    explanation = explain(model, X_new, background=background, output="probability")
    np.testing.assert_allclose(
        explanation.base_values, model.predict_proba(background)[:, 1].mean(), atol=1e-6
    )


def test_caller_data_is_not_modified(credit_data):
    X, y, X_new = credit_data
    model = _fit(LogisticRegression(max_iter=1000), X, y)
    rows, background = X_new.iloc[:3].copy(), X.iloc[:10].copy()
    before = rows.copy(deep=True), background.copy(deep=True)
    explanation = explain(model, rows, background=background, method="kernel")
    assert_frame_equal(rows, before[0])
    assert_frame_equal(background, before[1])
    explanation.data.iloc[0, 0] = "female"  # the explanation holds its own copy
    assert_frame_equal(rows, before[0])


def test_kernel_restores_numpy_global_random_state(credit_data):
    X, y, X_new = credit_data
    model = _fit(LogisticRegression(max_iter=1000), X, y)
    np.random.seed(123)  # noqa: NPY002
    expected = np.random.rand()  # noqa: NPY002
    np.random.seed(123)  # noqa: NPY002
    explain(model, X_new.iloc[:1], background=X.iloc[:5], output="probability")
    assert np.random.rand() == expected  # noqa: NPY002


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"method": "tree"}, ValueError, "method='tree' cannot explain.*LogisticRegression"),
        ({"method": "shapley"}, ValueError, "method must be one of"),
        ({"output": "odds"}, ValueError, "output must be one of"),
        ({"output": "predict"}, ValueError, "'probability' or 'log_odds'"),
        ({"max_background": 0}, ValueError, "max_background"),
        ({"n_reasons": 0}, ValueError, "n_reasons"),
        ({"audit_log": "yes"}, TypeError, "audit_log"),
    ],
)
def test_bad_parameters(credit_data, kwargs, error, match):
    X, y, _ = credit_data
    model = _fit(LogisticRegression(max_iter=1000), X, y)
    with pytest.raises(error, match=match):
        PipelineExplainer(model, **kwargs)


def test_output_the_model_lacks(credit_data):
    X, y, _ = credit_data
    forest = _fit(RandomForestClassifier(5, random_state=0), X, y)
    with pytest.raises(ValueError, match="decision_function"):
        PipelineExplainer(forest, output="log_odds")
    with pytest.raises(ValueError, match=r"method='linear'.*not a linear model"):
        PipelineExplainer(forest, method="linear")
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        PipelineExplainer(make_pipeline(preprocessor(), LogisticRegression()))


@pytest.mark.parametrize(
    "change, match",
    [
        (lambda X: X.drop(columns="duration"), r"lacks column\(s\) \['duration'\]"),
        (lambda X: X.assign(surprise=1.0), r"column\(s\) \['surprise'\] unseen at fit"),
        (lambda X: X.iloc[:0], "0 rows"),
        (lambda X: X[X.columns[::-1]], r"another order.*\['sex', 'job'"),
        (lambda X: X.to_numpy()[:, :3], "3 columns but the model was fitted on 9"),
    ],
)
def test_bad_input_names_the_problem(credit_data, change, match):
    X, y, X_new = credit_data
    model = _fit(LogisticRegression(max_iter=1000), X, y)
    with pytest.raises(ValueError, match=match):
        explain(model, change(X_new), background=X)


def test_audit_log_records_every_prediction_with_reasons(credit_data, caplog):
    X, y, X_new = credit_data
    model = _fit(GradientBoostingClassifier(n_estimators=20, random_state=0), X, y)
    rows = X_new.iloc[:4]
    explainer = PipelineExplainer(model, background=X, audit_log=True, n_reasons=2)
    with caplog.at_level(logging.INFO, logger=AUDIT_LOGGER):
        y_pred = explainer.predict(rows)
    np.testing.assert_array_equal(y_pred, model.predict(rows))
    records = [r for r in caplog.records if r.name == AUDIT_LOGGER]
    assert len(records) == len(rows)
    explanation = explainer.explain(rows)
    for i, record in enumerate(records):
        audit = record.mlpipe_audit
        assert audit["row"] == rows.index[i]
        assert audit["prediction"] == y_pred[i]
        top = explanation.reasons(i, 2)
        assert [r["feature"] for r in audit["reasons"]] == top["feature"].tolist()
        assert top["feature"].iloc[0] in record.getMessage()
        np.testing.assert_allclose(audit["value"], model.decision_function(rows)[i])


def test_audit_log_off_or_to_own_logger(credit_data, caplog):
    X, y, X_new = credit_data
    model = _fit(LogisticRegression(max_iter=1000), X, y)
    with caplog.at_level(logging.INFO):
        PipelineExplainer(model, background=X).predict(X_new)
    assert not [r for r in caplog.records if hasattr(r, "mlpipe_audit")]
    mine = logging.getLogger("tests.explain.audit")
    with caplog.at_level(logging.INFO, logger="tests.explain.audit"):
        PipelineExplainer(model, background=X, audit_log=mine).predict(X_new.iloc[:3])
    assert [r.name for r in caplog.records] == ["tests.explain.audit"] * 3


def test_explanation_type(credit_data):
    X, y, X_new = credit_data
    model = _fit(LogisticRegression(max_iter=1000), X, y)
    assert isinstance(explain(model, X_new.iloc[:2], background=X), Explanation)


@pytest.mark.slow
def test_exact_method_equals_kernel_values(credit_data):
    # Both are exact Shapley values for 9 columns; shap's Exact explainer
    # compiles numba code on first use (about 10 s).
    X, y, X_new = credit_data
    model = _fit(SVC(random_state=0), X, y)
    rows = X_new.iloc[:2]
    kernel = explain(model, rows, background=X.iloc[:10], method="kernel")
    exact = explain(model, rows, background=X.iloc[:10], method="exact")
    assert exact.method == "exact"
    np.testing.assert_allclose(exact.values, kernel.values, atol=1e-8)
    np.testing.assert_allclose(exact.base_values, kernel.base_values, atol=1e-10)


def test_model_taking_text_falls_back_to_kernel(credit_data, one_openmp_thread):
    # The demo's model: a HistGradientBoostingClassifier splitting natively on
    # the category columns that TypedImputer passes through as text.
    X, y, X_new = credit_data
    model = make_pipeline(
        TypedImputer(add_indicator="auto"),
        HistGradientBoostingClassifier(
            categorical_features="from_dtype", max_iter=10, random_state=0
        ),
    ).fit(X, y)
    rows = X_new.iloc[:2]
    explainer = PipelineExplainer(model, background=X.iloc[:10])
    assert explainer.method_ == "kernel"  # native categorical splits are no TreeSHAP
    explanation = explainer.explain(rows)
    _assert_additive(explanation, model.decision_function(rows))
    with pytest.raises(ValueError, match=r"method='tree'.*natively on categorical"):
        PipelineExplainer(model, method="tree")


class _LogisticOnText(LogisticRegression):
    """A linear model that one-hot encodes text itself: its input is not
    numeric, which is only seen when explaining."""

    def _encode(self, X):
        return pd.get_dummies(X, dtype=float).reindex(columns=self.columns_, fill_value=0.0)

    def fit(self, X, y):
        self.columns_ = pd.get_dummies(X, dtype=float).columns
        return super().fit(self._encode(X).to_numpy(), y)

    def decision_function(self, X):
        return super().decision_function(self._encode(X).to_numpy())


# Whether the fit converged does not matter to what is tested.
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_text_reaching_the_model_is_found_at_explain_time(credit_data):
    X, y, X_new = credit_data
    model = make_pipeline(TypedImputer(), _LogisticOnText(max_iter=50)).fit(X, y)
    rows = X_new.iloc[:2]
    explainer = PipelineExplainer(model, background=X.iloc[:8])
    assert explainer.method_ == "linear"
    explanation = explainer.explain(rows)
    assert explainer.method_ == explanation.method == "kernel"
    _assert_additive(explanation, model.decision_function(rows))
    strict = PipelineExplainer(model, background=X.iloc[:8], method="linear")
    with pytest.raises(ValueError, match=r"method='linear'.*not numeric"):
        strict.explain(rows)


def test_validator_and_top_level_imputer_in_the_pipeline(credit_data):
    # SchemaValidator passes the frame through; TypedImputer before the
    # ColumnTransformer adds missingindicator_<col> columns that travel
    # through its remainder and must fold into <col>.
    import shap

    from mlpipe.validation import SchemaValidator

    X, y, X_new = credit_data
    pre = ColumnTransformer(
        [
            ("cat", OneHotEncoder(handle_unknown="ignore"), CATEGORICAL),
            ("num", StandardScaler(), NUMERIC),
        ],
        remainder="passthrough",
    )
    # the 40 new rows miss more account data than the training rows did: a
    # warning, not an error, for the validator
    validator = SchemaValidator(on_error="warn")
    model = make_pipeline(
        validator,
        TypedImputer(add_indicator=True),
        pre,
        GradientBoostingClassifier(n_estimators=20, random_state=0),
    )
    model.fit(X, y)
    names = model[:-1].get_feature_names_out()
    assert "remainder__missingindicator_credit_amount" in names
    explanation = explain(model, X_new)
    assert explanation.method == "tree"
    assert explanation.feature_names == RAW
    direct = shap.TreeExplainer(model[-1]).shap_values(model[:-1].transform(X_new))
    np.testing.assert_allclose(explanation.values, _fold_by_names(direct, names), atol=1e-12)
    _assert_additive(explanation, model.decision_function(X_new))
