"""The confidence intervals of audit_fairness (issue 15): kernels against their
scipy twins, the intervals against statsmodels' score intervals where the
two must agree, and their coverage by a small simulation (the full one is
benchmarks/bench_fairness_coverage.py)."""

import warnings

import numpy as np
import pytest
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

from mlpipe.fairness import _kernels, _reference, audit_fairness
from mlpipe.fairness._intervals import SpreadTest, _select_moments, wilson


def _random_case(rng, ratio):
    while True:
        k = int(rng.integers(2, 6))
        n = rng.integers(1, 60, size=k).astype(float)
        x = rng.binomial(n.astype(int), rng.uniform(0.02, 0.98, size=k)).astype(float)
        if rng.random() < 0.2:  # a group at 0 or 1
            g = int(rng.integers(k))
            x[g] = 0.0 if rng.random() < 0.5 else n[g]
        if not ratio or x.max() > 0:
            theta = rng.uniform(0.05, 1.0) if ratio else rng.uniform(0.0, 0.95)
            return x, n, theta


@pytest.mark.parametrize("ratio", [False, True], ids=["difference", "ratio"])
@pytest.mark.parametrize("exact", [True, False], ids=["exact", "within"])
def test_profile_matches_the_scipy_twin(ratio, exact):
    rng = np.random.default_rng(7 + 2 * ratio + exact)
    for _ in range(25):
        x, n, theta = _random_case(rng, ratio)
        out = np.empty(len(x))
        value = _kernels.profile(x, n, theta, ratio, exact, out)
        expected, _ = _reference.profile(x, n, theta, ratio, exact)
        # the kernel is exact to bisection; the twin's optimizers to ~1e-8
        assert value == pytest.approx(expected, abs=1e-6), (x, n, theta)
        assert value >= expected - 1e-7  # never a worse optimum than scipy's
        assert _kernels.full_loglik(x, n) >= value - 1e-12


@pytest.mark.parametrize("ratio", [False, True], ids=["difference", "ratio"])
def test_profiled_rates_have_the_spread_and_the_likelihood(ratio):
    rng = np.random.default_rng(3)
    for _ in range(40):
        x, n, theta = _random_case(rng, ratio)
        out = np.empty(len(x))
        value = _kernels.profile(x, n, theta, ratio, True, out)
        if not np.isfinite(value):
            continue
        spread = out.min() / out.max() if ratio else out.max() - out.min()
        assert spread == pytest.approx(theta, abs=1e-9)
        assert _reference.loglik(x, n, out) == pytest.approx(value, abs=1e-9)


def test_loglik_matches_scipy_binomial():
    rng = np.random.default_rng(0)
    n = rng.integers(1, 50, size=20)
    x = rng.binomial(n, 0.4)
    for p, q in rng.uniform(0.01, 0.99, size=(10, 2)):
        mine = sum(
            _kernels.loglik(a, b, p) - _kernels.loglik(a, b, q) for a, b in zip(x, n, strict=True)
        )
        assert mine == pytest.approx(_reference.binom_loglik_difference(x, n, p, q), rel=1e-12)


def test_deviance_is_zero_at_the_estimate_and_grows_away_from_it():
    x, n = np.array([3.0, 9.0, 6.0]), np.array([12.0, 12.0, 12.0])
    spread = 9 / 12 - 3 / 12
    assert _kernels.deviance(x, n, spread, False) == pytest.approx(0, abs=1e-12)
    values = [_kernels.deviance(x, n, t, False) for t in (0.0, 0.2, 0.4, spread, 0.6, 0.8)]
    assert values[:4] == sorted(values[:4], reverse=True)
    assert values[3:] == sorted(values[3:])
    # the deviance of "no disparity" is the likelihood-ratio (G) test statistic
    table = np.array([x, n - x])
    from scipy.stats import chi2_contingency

    g = chi2_contingency(table, lambda_="log-likelihood", correction=False).statistic
    assert values[0] == pytest.approx(g, rel=1e-9)


@pytest.mark.parametrize("ratio", [False, True], ids=["difference", "ratio"])
def test_exceedances_match_the_twin(ratio):
    rng = np.random.default_rng(11)
    n = np.array([12.0, 30.0, 20.0])
    draws = rng.binomial(n.astype(int), [0.3, 0.5, 0.4], size=(24, 3)).astype(float)
    draws[:, 0] = np.maximum(draws[:, 0], 1)  # ratios need a rate above 0
    theta = 0.7 if ratio else 0.15
    observed = 1.3
    tie = 1e-9
    full = _kernels.exceedances(draws, n, theta, ratio, observed, tie, np.inf)
    assert full == _reference.exceedances(draws, n, theta, ratio, observed, tie)
    # stopped early, the count tells the same verdict
    for needed in (0.5, 3.0, 10.5, full, full + 0.5):
        stopped = _kernels.exceedances(draws, n, theta, ratio, observed, tie, needed)
        assert (stopped >= needed) == (full >= needed)
    # a draw equal to the data counts half
    same = np.repeat(draws[:1], 4, axis=0)
    value = _kernels.deviance(draws[0], n, theta, ratio)
    assert _kernels.exceedances(same, n, theta, ratio, value, tie, np.inf) == 2.0


@pytest.mark.parametrize("ratio", [False, True], ids=["difference", "ratio"])
def test_joint_deviance_matches_the_twin(ratio):
    rng = np.random.default_rng(5)
    na, nb = np.array([20.0, 14.0, 9.0]), np.array([15.0, 30.0, 11.0])
    draws_a = rng.binomial(na.astype(int), [0.7, 0.6, 0.8], size=(10, 3)).astype(float)
    draws_b = rng.binomial(nb.astype(int), [0.2, 0.3, 0.25], size=(10, 3)).astype(float)
    draws_a[:, 0] = np.maximum(draws_a[:, 0], 1)
    draws_b[:, 0] = np.maximum(draws_b[:, 0], 1)
    for theta in (0.5, 0.8) if ratio else (0.05, 0.2):
        for xa, xb in zip(draws_a[:4], draws_b[:4], strict=True):
            assert _kernels.joint_deviance(xa, na, xb, nb, theta, ratio) == pytest.approx(
                _reference.joint_deviance(xa, na, xb, nb, theta, ratio), abs=1e-6
            )
        kernel = _kernels.joint_exceedances(
            draws_a, na, draws_b, nb, theta, ratio, 2.0, 1e-9, np.inf
        )
        twin = _reference.joint_exceedances(draws_a, na, draws_b, nb, theta, ratio, 2.0, 1e-9)
        assert kernel == twin


def test_wilson_matches_statsmodels():
    x = np.array([0, 1, 5, 11, 12, 40, 0])
    n = np.array([12, 12, 12, 12, 12, 400, 3])
    low, high = wilson(x, n, 0.95)
    sm_low, sm_high = proportion_confint(x, n, alpha=0.05, method="wilson")
    np.testing.assert_allclose(low, sm_low, atol=1e-12)
    np.testing.assert_allclose(high, sm_high, atol=1e-12)
    assert np.isnan(wilson([0], [0], 0.95)[0]).all()


@pytest.mark.parametrize("compare", ["diff", "ratio"])
def test_two_large_groups_agree_with_the_score_interval(compare):
    """Far from "no disparity", with two large groups, the spread is one
    signed difference (or ratio): the interval must be the two-sample
    score interval of statsmodels up to Monte Carlo error."""
    count = np.array([1500.0, 1100.0])
    nobs = np.array([3000.0, 3000.0])
    ratio = compare == "ratio"
    test = SpreadTest([(count, nobs)], ratio, n_boot=2000, seed=0)
    low, high = test.interval(0.95)
    if ratio:  # lowest over highest: group 1 over group 0
        ref = confint_proportions_2indep(1100, 3000, 1500, 3000, compare="ratio", method="score")
    else:
        ref = confint_proportions_2indep(1500, 3000, 1100, 3000, compare="diff", method="score")
    # The Monte Carlo quantile moves an end by about 0.1 standard error.
    se = np.sqrt((0.5 * 0.5 + 0.367 * 0.633) / 3000) * (1 / 0.5 if ratio else 1)
    assert low == pytest.approx(ref[0], abs=0.15 * se)
    assert high == pytest.approx(ref[1], abs=0.15 * se)


def _simulate(sizes, base, tpr, fpr, rng):
    groups = np.repeat(np.arange(len(sizes)), sizes)
    b, t, f = (np.broadcast_to(np.asarray(v, float), len(sizes))[groups] for v in (base, tpr, fpr))
    y_true = rng.random(len(groups)) < b
    y_pred = np.where(y_true, rng.random(len(groups)) < t, rng.random(len(groups)) < f)
    return y_true.astype(int), y_pred.astype(int), groups


def _truth(base, tpr, fpr, k):
    b, t, f = (np.broadcast_to(np.asarray(v, float), k) for v in (base, tpr, fpr))
    sel, acc = b * t + (1 - b) * f, b * t + (1 - b) * (1 - f)

    def diff(v):
        return v.max() - v.min()

    def ratio(v):
        return v.min() / v.max()

    return {
        "demographic_parity_difference": diff(sel),
        "demographic_parity_ratio": ratio(sel),
        "equal_opportunity_difference": diff(t),
        "equal_opportunity_ratio": ratio(t),
        "equalized_odds_difference": max(diff(t), diff(f)),
        "equalized_odds_ratio": min(ratio(t), ratio(f)),
        "accuracy_difference": diff(acc),
    }


SCENARIOS = {
    # no disparity at all, six groups of 12 rows: the percentile bootstrap
    # covered 0 of these (issue 15)
    "none, 6 x 12": ([12] * 6, 0.5, 0.7, 0.3),
    "small groups 12/12/40": ([12, 12, 40], [0.5, 0.4, 0.6], [0.5, 0.7, 0.8], [0.2, 0.3, 0.4]),
}


@pytest.mark.slow
@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_simulated_coverage_is_near_95_percent(scenario):
    """300 data sets: every metric's coverage within 3.5 standard errors of
    0.95 (the benchmark shows 1,000 a scenario over 14 scenarios)."""
    sizes, base, tpr, fpr = SCENARIOS[scenario]
    truth = _truth(base, tpr, fpr, len(sizes))
    rng = np.random.default_rng(2026)
    n_sets = 300
    covered = dict.fromkeys(truth, 0)
    for seed in range(n_sets):
        y_true, y_pred, groups = _simulate(sizes, base, tpr, fpr, rng)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            table = audit_fairness(
                y_true, y_pred, sensitive_features=groups, n_boot=100, random_state=seed
            ).disparities
        for metric, value in truth.items():
            covered[metric] += table.loc[metric, "ci_low"] <= value <= table.loc[metric, "ci_high"]
    band = 3.5 * np.sqrt(0.95 * 0.05 / n_sets)
    coverage = {m: c / n_sets for m, c in covered.items()}
    assert all(abs(c - 0.95) <= band for c in coverage.values()), coverage


def test_no_disparity_interval_starts_at_zero():
    """The issue's symptom: with equal groups the old interval excluded the
    truth (0.003 [0.002, 0.121]). Identical groups now give a lower end of
    0 for every difference and an upper end of 1 for every ratio."""
    y_true = np.tile([1, 1, 0, 1, 0, 0, 1, 0], 50)
    y_pred = np.tile([1, 0, 0, 1, 1, 0, 1, 0], 50)
    sex = np.repeat(["f", "m"], 200)
    report = audit_fairness(y_true, y_pred, sensitive_features=sex, random_state=0)
    table = report.disparities
    assert (table["value"].filter(like="difference") == 0).all()
    assert (table["ci_low"].filter(like="difference") == 0).all()
    assert (table["ci_high"].filter(like="ratio") == 1).all()
    assert (table["ci_high"].filter(like="difference") > 0.02).all()


def test_intervals_hold_their_estimate_and_stay_in_range():
    rng = np.random.default_rng(1)
    for _ in range(15):
        k = int(rng.integers(2, 5))
        y_true, y_pred, groups = _simulate(
            rng.integers(8, 80, size=k),
            0.5,
            rng.uniform(0.3, 0.9, k),
            rng.uniform(0.1, 0.5, k),
            rng,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            table = audit_fairness(
                y_true, y_pred, sensitive_features=groups, n_boot=100, random_state=0
            ).disparities.dropna()
        assert (table["ci_low"] <= table["value"] + 1e-9).all()
        assert (table["value"] <= table["ci_high"] + 1e-9).all()
        assert ((table["ci_low"] >= 0) & (table["ci_high"] <= 1)).all()


def test_intervals_are_reproducible_and_scale_free_in_the_weights():
    rng = np.random.default_rng(4)
    y_true, y_pred, groups = _simulate([40, 60, 30], 0.5, [0.6, 0.7, 0.8], 0.3, rng)
    weights = rng.uniform(0.5, 2.0, len(groups))

    def table(w):
        return audit_fairness(
            y_true, y_pred, sensitive_features=groups, sample_weight=w, random_state=3
        ).disparities

    plain = audit_fairness(y_true, y_pred, sensitive_features=groups, random_state=3)
    ones = table(np.ones(len(groups)))
    assert plain.disparities.equals(ones)
    assert table(weights).equals(table(weights))
    np.testing.assert_allclose(table(3 * weights).to_numpy(), table(weights).to_numpy())
    assert plain.disparities.equals(table(np.full(len(groups), 2.5)))
    assert not table(weights).equals(ones)


def test_undefined_rates_give_no_interval():
    y_true = [1, 1, 0, 1, 0, 0, 0, 0]  # group "b" has no true favourable label
    y_pred = [1, 0, 0, 1, 1, 0, 1, 0]
    groups = ["a", "a", "a", "a", "b", "b", "b", "b"]
    with pytest.warns(Warning, match="no true label"):
        table = audit_fairness(
            y_true, y_pred, sensitive_features=groups, random_state=0
        ).disparities
    for metric in ("equal_opportunity", "equalized_odds"):
        assert table.filter(like=metric, axis=0)[["ci_low", "ci_high"]].isna().all().all()
    assert table.loc["demographic_parity_difference", ["ci_low", "ci_high"]].notna().all()


def test_one_group_has_no_disparity_and_a_point_interval():
    with pytest.warns(Warning):
        table = audit_fairness(
            [1, 0, 1, 1], [1, 0, 0, 1], sensitive_features=["a"] * 4, random_state=0
        ).disparities
    assert (table["ci_low"] == table["value"]).all()
    assert (table["ci_high"] == table["value"]).all()


def test_two_groups_hold_zero_exactly_when_the_g_test_does_not_reject():
    """With two groups, "no disparity" is in the 95% interval of the
    demographic parity difference when the likelihood-ratio test of equal
    rates (scipy's G-test) keeps it at 5%, up to Monte Carlo error near
    p = 0.05."""
    from scipy.stats import chi2_contingency

    n = 200
    checked = 0
    for selected in range(80, 131, 5):
        table = np.array([[100, selected], [n - 100, n - selected]])
        pvalue = chi2_contingency(table, lambda_="log-likelihood", correction=False).pvalue
        if abs(pvalue - 0.05) < 0.015:
            continue
        test = SpreadTest([(np.array([100.0, selected]), np.array([n, n], float))], False, 1000, 0)
        low, _ = test.interval(0.95)
        assert (low == 0) == (pvalue > 0.05), (selected, pvalue, low)
        checked += 1
    assert checked >= 8


@pytest.mark.parametrize(
    ("rates", "sizes", "ratio"),
    [
        ([0.3, 0.35, 0.4], [8, 8, 30], False),
        ([0.2, 0.3, 0.3, 0.28, 0.2, 0.22], [6, 12, 25, 50, 100, 200], False),
        ([0.5, 0.7, 0.8], [6, 6, 20], True),
    ],
    ids=["3 groups", "6 groups", "ratio"],
)
def test_median_unbiased_spread_is_near_median_unbiased(rates, sizes, ratio):
    """The null point of equalized odds' second family bounds its spread by a
    median-unbiased estimate: over 300 data sets it is at least as disparate
    as the truth 30% to 60% of the time, where the plain estimate (a maximum
    over groups) is at least as disparate most of the time."""
    rates, sizes = np.array(rates), np.array(sizes, float)
    truth = rates.min() / rates.max() if ratio else rates.max() - rates.min()
    rng = np.random.default_rng(11)
    unbiased = plain = total = 0
    for seed in range(300):
        x = rng.binomial(sizes.astype(int), rates).astype(float)
        if ratio and x.max() == 0:
            continue
        test = SpreadTest([(x, sizes)], ratio, 10, seed)
        median = test._median_unbiased_spread(0)
        if ratio:
            unbiased += median <= truth
            plain += test.estimate() <= truth
        else:
            unbiased += median >= truth
            plain += test.estimate() >= truth
        total += 1
    assert 0.3 <= unbiased / total <= 0.6, unbiased / total
    assert plain / total >= unbiased / total + 0.2, (plain / total, unbiased / total)


@pytest.mark.parametrize("ratio", [False, True], ids=["difference", "ratio"])
def test_equalized_odds_null_point_keeps_the_second_family_within_theta(ratio):
    """The family not at spread theta is drawn at rates whose spread is within
    both theta and its median-unbiased estimate, and at its observed rates
    when they are already inside both."""
    rng = np.random.default_rng(5)
    checked = 0
    for _ in range(60):
        xa, na, theta = _random_case(rng, ratio)
        nb = rng.integers(1, 60, size=len(xa)).astype(float)
        xb = rng.binomial(nb.astype(int), rng.uniform(0.05, 0.95, size=len(xa))).astype(float)
        if ratio and xb.max() == 0:
            continue
        test = SpreadTest([(xa, na), (xb, nb)], ratio, 10, 0)
        for k, (x, n) in enumerate(test.counts):
            q = test._within_rates(k, theta)
            bound = test._median_spread[k]
            spread = _kernels._spread(q, ratio)
            observed = _kernels._spread(x / n, ratio)
            if ratio:
                assert spread >= min(1.0, max(theta, bound)) - 1e-9
                inside = observed >= max(theta, bound)
            else:
                assert spread <= max(0.0, min(theta, bound)) + 1e-9
                inside = observed <= min(theta, bound)
            if inside:
                np.testing.assert_allclose(q, x / n)
            checked += 1
    assert checked > 50


def test_moment_selection_moves_groups_near_an_edge_onto_the_nearer_one():
    """Groups within one standard error of an edge go onto the nearer edge,
    the others stay, and the band keeps both edges (a band narrower than a
    standard error does not collapse)."""
    n = np.full(5, 100.0)  # standard errors about 0.046
    rates = np.array([0.50, 0.52, 0.60, 0.68, 0.70])
    np.testing.assert_allclose(_select_moments(rates, n), [0.5, 0.5, 0.6, 0.7, 0.7])
    narrow = np.array([0.50, 0.51, 0.52])  # the whole band within a standard error
    np.testing.assert_allclose(_select_moments(narrow, n[:3]), [0.50, 0.50, 0.52])
    rng = np.random.default_rng(11)
    for ratio in (False, True):
        for _ in range(40):
            x, sizes, theta = _random_case(rng, ratio)
            test = SpreadTest([(x, sizes)], ratio, 10, 0)
            _, (rates,) = test._profiles(theta)
            assert _kernels._spread(rates, ratio) == pytest.approx(theta, abs=1e-9)


def test_ties_at_both_extremes_are_covered():
    """Three groups tied at each of two rates (100 trials each). Drawn at
    the plain profiled rates, the test kept the true spread in 0.905 of
    these 1,500 data sets (0.912 of the 2,000 of
    benchmarks/bench_fairness_ties.py); with the groups near an edge moved
    onto it, in 0.933 (0.936 there). The bound lies between the two."""
    sizes = np.full(6, 100.0)
    truth = np.array([0.7, 0.7, 0.7, 0.8, 0.8, 0.8])
    rng = np.random.default_rng(77)
    n_sets = 1500
    kept = 0
    for seed in range(n_sets):
        x = rng.binomial(100, truth).astype(float)
        kept += SpreadTest([(x, sizes)], False, 500, seed).accepts(0.1, 0.05)
    assert kept / n_sets >= 0.92, kept / n_sets
