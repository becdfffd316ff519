"""The learned checks are statistical: each holds its stated false-alarm rate
in simulation, equals an independent oracle, and still finds real defects.

Issue 13: the default validator refused 97% of clean held-out breast_cancer
batches (out_of_range), a 1-row batch with one missing value in an 18%-missing
column was refused, and cross_val_score with a SchemaValidator gave NaN folds.
"""

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn import datasets
from sklearn.linear_model import LogisticRegression, Ridge, RidgeClassifier
from sklearn.model_selection import KFold, cross_val_score, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from mlpipe.datasets import load_credit, make_credit_batch
from mlpipe.exceptions import DataQualityWarning, DataValidationError
from mlpipe.validation import Column, Schema, SchemaValidator
from mlpipe.validation._stats import (
    batch_tail_pvalue,
    exceedance_pvalue,
    fit_tail,
    null_pvalue,
    tail_bound,
    tail_sf,
    unseen_pvalue,
)


def upper_bound(rate, trials):
    """The simulated rate may exceed the stated one by 3 standard errors."""
    return rate + 3 * math.sqrt(rate * (1 - rate) / trials)


DISTRIBUTIONS = {
    "normal": lambda rng, n: rng.normal(size=n),
    "lognormal": lambda rng, n: rng.lognormal(sigma=1.0, size=n),
    "student_t3": lambda rng, n: rng.standard_t(3, size=n),
    "exponential": lambda rng, n: rng.exponential(size=n),
    "poisson_counts": lambda rng, n: rng.poisson(3, size=n).astype(float),
    "uniform": lambda rng, n: rng.uniform(size=n),
}


# -- ranges: the generalized Pareto tail -------------------------------------


@pytest.mark.parametrize("name", sorted(DISTRIBUTIONS))
@pytest.mark.parametrize("m", [1, 20, 200])
def test_tail_bound_holds_its_rate(name, m):
    # A batch of m rows from the training distribution passes the bound for
    # alpha = 0.05 in at least 95% of the draws (minus sampling error).
    rng = np.random.default_rng(0)
    draw, trials, alpha = DISTRIBUTIONS[name], 300, 0.05
    exceeded = 0
    for _ in range(trials):
        train, batch = draw(rng, 400), draw(rng, m)
        bound = max(tail_bound(fit_tail(train), m, alpha), train.max())
        exceeded += batch.max() > bound
    assert exceeded / trials <= upper_bound(alpha, trials)


def test_tail_sf_is_scipys_generalized_pareto():
    rng = np.random.default_rng(1)
    tail = fit_tail(rng.lognormal(size=2000))
    assert tail["shape"] > 0
    x = tail["threshold"] + np.array([0.0, 0.5, 3.0, 40.0])
    oracle = tail["rate"] * stats.genpareto.sf(
        x - tail["threshold"], c=tail["shape"], scale=tail["scale"]
    )
    np.testing.assert_allclose(tail_sf(tail, x), oracle, rtol=1e-12)
    light = fit_tail(rng.uniform(size=2000))  # shape clipped at 0: exponential
    assert light["shape"] >= 0
    if light["shape"] == 0:
        np.testing.assert_allclose(
            tail_sf(light, x),
            light["rate"] * stats.expon.sf(x - light["threshold"], scale=light["scale"]),
        )


@pytest.mark.parametrize("m", [1, 30, 5000])
@pytest.mark.parametrize("alpha", [1e-6, 1e-3, 0.05])
def test_tail_bound_inverts_the_batch_p_value(m, alpha):
    tail = fit_tail(np.random.default_rng(2).standard_t(4, size=700))
    bound = tail_bound(tail, m, alpha)
    if bound > tail["threshold"]:
        assert batch_tail_pvalue(tail, bound, m) == pytest.approx(alpha, rel=1e-9)


def test_tied_top_values_count_exceedances_without_a_tail():
    # A 0/1 column (or digits' pixels, 0 in every training row): the tail has
    # no width. One value beyond it is what exchangeability predicts for a
    # batch of m after n (p = m / (n + m)); many are not.
    tail = fit_tail(np.array([0.0] * 60 + [1.0] * 40))
    assert tail["scale"] == 0
    schema = Schema.infer(pd.DataFrame({"b": [0] * 60 + [1] * 40}))
    one = schema.validate(pd.DataFrame({"b": [0] * 9 + [2]}))
    assert not one.failures
    many = schema.validate(pd.DataFrame({"b": [2] * 10}))
    (failure,) = many.failures
    assert (failure.check, failure.severity) == ("out_of_range", "error")
    assert failure.p_value == pytest.approx(1 / math.comb(110, 10))
    assert exceedance_pvalue(100, 10, 1) == pytest.approx(10 / 110)


# -- missing values: Fisher's exact test --------------------------------------


@pytest.mark.parametrize(
    "n_train, null_train, m, null_batch",
    [(700, 0, 300, 3), (700, 0, 300, 8), (1000, 180, 1, 1), (50, 5, 40, 20), (10, 0, 1, 1)],
)
def test_null_pvalue_is_fishers_exact(n_train, null_train, m, null_batch):
    table = [[null_batch, m - null_batch], [null_train, n_train - null_train]]
    oracle = stats.fisher_exact(table, alternative="greater").pvalue
    assert null_pvalue(n_train, null_train, m, null_batch) == pytest.approx(oracle, rel=1e-9)


@pytest.mark.parametrize("rate", [0.002, 0.18, 0.5])
@pytest.mark.parametrize("m", [1, 10, 100, 1000])
def test_null_test_holds_its_rate(rate, m):
    rng = np.random.default_rng(3)
    trials, alpha, n = 400, 0.05, 500
    k = rng.binomial(n, rate, size=trials)
    j = rng.binomial(m, rate, size=trials)
    p = np.array([null_pvalue(n, a, m, b) for a, b in zip(k, j, strict=True)])
    assert (p < alpha).mean() <= upper_bound(alpha, trials)


# -- unseen categories: the exact conditional test ---------------------------


def zipf(n_labels, s):
    p = 1.0 / np.arange(1, n_labels + 1) ** s
    return p / p.sum()


def counts_of(train, batch, n_labels):
    cnt = np.bincount(train, minlength=n_labels)
    bc = np.bincount(batch, minlength=n_labels)
    seen = cnt > 0
    return cnt[seen], bc[seen], bc[~seen]


@pytest.mark.parametrize("n_labels, s", [(80, 1.1), (1000, 1.0), (20, 0.0)])
@pytest.mark.parametrize("m", [1, 10, 100, 500])
def test_unseen_test_holds_its_rate(n_labels, s, m):
    rng = np.random.default_rng(4)
    p, trials, alpha = zipf(n_labels, s), 200, 0.05
    rejections = 0
    for _ in range(trials):
        train, batch = rng.choice(n_labels, 500, p=p), rng.choice(n_labels, m, p=p)
        rejections += unseen_pvalue(*counts_of(train, batch, n_labels)) < alpha
    assert rejections / trials <= upper_bound(alpha, trials)


def test_unseen_pvalue_against_a_permutation_test():
    # The oracle splits the pooled values at random, many times, and counts
    # how often the batch part holds at least as many unseen values.
    rng = np.random.default_rng(5)
    pooled_train = rng.choice(30, 120, p=zipf(30, 1.2))
    batch = np.concatenate([rng.choice(30, 36, p=zipf(30, 1.2)), [40, 40, 41, 42]])
    observed = unseen_pvalue(*counts_of(pooled_train, batch, 43))
    pooled = np.concatenate([pooled_train, batch])
    n_perm, u_obs = 20000, int(np.isin(batch, pooled_train, invert=True).sum())
    hits = 0
    for _ in range(n_perm):
        order = rng.permutation(len(pooled))
        tr, bt = pooled[order[: len(pooled_train)]], pooled[order[len(pooled_train) :]]
        hits += np.isin(bt, tr, invert=True).sum() >= u_obs
    p_perm = hits / n_perm
    # Monte Carlo error, plus the independence approximation across categories
    assert abs(observed - p_perm) <= 4 * math.sqrt(p_perm * (1 - p_perm) / n_perm) + 0.01
    assert 0 < observed < 1


def test_many_singletons_predict_new_categories_none_predict_few():
    ids = pd.DataFrame({"c": [f"id{i}" for i in range(500)]})  # every value new
    assert Schema.infer(ids).validate(pd.DataFrame({"c": ["id9999"] * 1})).passed
    closed = pd.DataFrame({"c": ["a", "b", "c"] * 300})
    report = Schema.infer(closed).validate(pd.DataFrame({"c": ["a", "b"] * 25 + ["OWN"] * 5}))
    (failure,) = report.failures
    assert (failure.check, failure.severity) == ("unseen_category", "error")
    assert failure.p_value < 1e-4


# -- the validator on clean and broken batches -------------------------------


def generated_frame(n, rng):
    labels = np.array([f"c{i}" for i in range(80)], dtype=object)
    frame = pd.DataFrame(
        {
            "heavy": rng.standard_t(2, size=n),
            "lognormal": rng.lognormal(sigma=1.5, size=n),
            "counts": rng.negative_binomial(1, 0.1, size=n),
            "rare_counts": rng.poisson(0.3, size=n),
            "ties": np.round(rng.normal(size=n), 1),
            "binary": rng.integers(0, 2, size=n),
            "many": labels[rng.choice(80, n, p=zipf(80, 1.1))],
            "few": rng.choice(np.array(["x", "y", "z"], dtype=object), n, p=[0.6, 0.3, 0.1]),
            "missing": np.where(rng.random(n) < 0.18, np.nan, rng.normal(size=n)),
            "when": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.exponential(30, n), "D"),
        }
    )
    frame.loc[rng.random(n) < 0.18, "few"] = None
    return frame


def refused(validator, batch):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        try:
            validator.transform(batch)
        except DataValidationError:
            return True
    return False


@pytest.mark.parametrize("m", [1, 10, 100, 600])
def test_clean_batches_are_refused_at_most_alpha(m):
    # Random splits of one generated frame: heavy tails, counts, ties, 80
    # categories, missing values, datetimes. alpha = 0.01 is the stated rate.
    rng = np.random.default_rng(6)
    trials = 100
    refusals = 0
    for _ in range(trials):
        frame = generated_frame(2000, rng)
        train, rest = frame.iloc[:1400], frame.iloc[1400:]
        batch = rest.iloc[rng.permutation(len(rest))[:m]]
        refusals += refused(SchemaValidator().fit(train), batch)
    assert refusals / trials <= upper_bound(0.01, trials)


def test_one_missing_value_in_a_column_often_missing_is_no_finding():
    rng = np.random.default_rng(7)
    frame = generated_frame(1000, rng)
    validator = SchemaValidator().fit(frame)
    row = frame[frame["missing"].isna()].iloc[:1]
    validator.transform(row)
    assert not validator.last_report_.failures


@pytest.mark.parametrize(
    "loader, model",
    [
        (datasets.load_breast_cancer, LogisticRegression(max_iter=2000)),
        (datasets.load_wine, LogisticRegression(max_iter=2000)),
        (datasets.load_iris, LogisticRegression(max_iter=2000)),
        (datasets.load_digits, RidgeClassifier()),
        (datasets.load_diabetes, Ridge()),
        (lambda: datasets.load_linnerud(return_X_y=False), Ridge()),
    ],
    ids=["breast_cancer", "wine", "iris", "digits", "diabetes", "linnerud"],
)
def test_cross_val_score_has_no_nan_fold(loader, model):
    # Issue 13: on breast_cancer this gave [nan nan 0.956 nan nan].
    data = loader()
    X, y = data.data, data.target
    if y.ndim > 1:
        y = y[:, 0]
    pipe = make_pipeline(SchemaValidator(), StandardScaler(), model)
    scores = cross_val_score(pipe, X, y, cv=KFold(5, shuffle=True, random_state=0))
    assert not np.isnan(scores).any(), scores


@pytest.mark.parametrize("random_state", range(10))
def test_sklearn_held_out_splits_pass(random_state):
    # The measurement of the issue: a validator fitted on 70% of each data
    # set refuses none of the clean 30% here (it refused 97% of breast_cancer).
    for loader in (datasets.load_breast_cancer, datasets.load_wine, datasets.load_diabetes):
        X = loader(as_frame=True).data
        train, test = train_test_split(X, test_size=0.3, random_state=random_state)
        assert not refused(SchemaValidator().fit(train), test), loader.__name__


def test_credit_demo_defects_are_still_found():
    X, _ = load_credit(return_X_y=True)
    batch = make_credit_batch()
    validator = SchemaValidator().fit(X)
    with pytest.raises(DataValidationError) as info:
        validator.transform(batch.X)
    report = info.value.report
    severity = {(f.column, f.check): f.severity for f in report.failures}
    assert severity == {
        ("housing", "unseen_category"): "error",  # a categorical dtype: closed
        ("purpose", "unseen_category"): "error",
        ("duration", "out_of_range"): "error",  # negative: a rule
        ("age", "out_of_range"): "error",  # 999, far beyond any plausible tail
        # 5 missing in 500 where none were in 1000: p = 0.004, a warning
        ("credit_amount", "nulls"): "warning",
    }
    for defect in batch.defects.itertuples():
        assert set(defect.rows) <= set(report.rows_of(defect.column))


def test_declared_columns_keep_hard_checks():
    schema = Schema(
        [
            Column("x", min=0, max=10, nullable=False),
            Column("c", kind="categorical", categories=["a"]),
        ]
    )
    report = schema.validate(pd.DataFrame({"x": [10.5, np.nan], "c": ["a", "b"]}))
    assert {(f.check, f.severity, f.p_value) for f in report.failures} == {
        ("out_of_range", "error", None),
        ("nulls", "error", None),
        ("unseen_category", "error", None),
    }


def test_warnings_pass_the_batch_and_errors_refuse_it():
    X = pd.DataFrame({"c": ["a", "b"] * 20})
    validator = SchemaValidator().fit(X)
    # one new value after 40: p = 1 / 41, between alpha and warn_alpha (each
    # split over the schema's two learned checks)
    with pytest.warns(DataQualityWarning, match=r"\[warning\] 'c': unseen_category"):
        out = validator.transform(pd.DataFrame({"c": ["new"]}))
    assert validator.last_report_.passed and len(validator.last_report_.warnings) == 1
    assert validator.last_report_.warnings[0].p_value == pytest.approx(1 / 41)
    assert len(out) == 1
    with pytest.raises(DataValidationError, match="unseen_category"):
        validator.transform(pd.DataFrame({"c": ["new"] * 10}))


def test_tails_near_the_float64_limit_do_not_overflow():
    # Issue 14 (values near 1e308): the moments of the excesses overflowed
    # to inf and the tail's shape became NaN, so the range check was lost.
    values = np.linspace(1e308, 1.7e308, 50)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        tail = fit_tail(values)
        schema = Schema.infer(pd.DataFrame({"a": values}))
        clean = schema.validate(pd.DataFrame({"a": values[:5]}))
        negative = schema.validate(pd.DataFrame({"a": [-1.0]}))
    assert all(np.isfinite(v) for v in tail.values())
    assert tail["scale"] > 0
    assert not clean.failures
    assert [f.check for f in negative.errors] == ["out_of_range"]
    # the same tail as for the values scaled down, scaled back up
    small = fit_tail(values / 1e300)
    assert tail["shape"] == pytest.approx(small["shape"], rel=1e-12)
    assert tail["scale"] == pytest.approx(small["scale"] * 1e300, rel=1e-12)
