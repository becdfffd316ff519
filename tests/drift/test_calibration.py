"""Calibration of the drift tests: on clean batches drawn from the reference
distribution, the share of batches flagged is at most alpha (plus three
standard errors of the simulated share) at every batch size, for each test
and for every detector at its defaults; a real shift is still found; and the
p-values agree with independent oracles (scipy).

The population has the columns that broke the old tests: an 80-category Zipf
column (``zipf``), sparse Poisson(0.3) counts (``pois``), a normal column 18%
missing (``miss``) and a tie-heavy one (``ties``, halves). Run this module
as a script to print the measured flag rates:

    PYTHONPATH=src python -m tests.drift.test_calibration
"""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from mlpipe.drift import ChiSquareDrift, DriftDetector, KSDrift, PSIDrift, _tables
from mlpipe.drift._chi2 import chi2_test
from mlpipe.drift._psi import psi_test, psi_value
from tests.drift._oracles import cochran_table

ALPHA = 0.05
N_REF = 5000
ZIPF = 1.0 / np.arange(1, 81)
ZIPF /= ZIPF.sum()
CATEGORIES = np.array([f"c{i:02d}" for i in range(80)], dtype=object)


def population(n, rng, zipf=ZIPF, miss_rate=0.18, shift=0.0):
    """``n`` rows of the population (or of a shifted one)."""
    miss = rng.normal(shift, 1.0, size=n)
    miss[rng.random(n) < miss_rate] = np.nan
    return pd.DataFrame(
        {
            "zipf": CATEGORIES[rng.choice(80, size=n, p=zipf)],
            "pois": rng.poisson(0.3, size=n).astype(np.float64),
            "miss": miss,
            "ties": np.round(2 * rng.normal(shift, 1.0, size=n)) / 2,
        }
    )


@pytest.fixture(scope="module")
def reference():
    return population(N_REF, np.random.default_rng(2024))


def bound(n_batches):
    """alpha + 3 standard errors of a share of n_batches batches at alpha."""
    return ALPHA + 3 * math.sqrt(ALPHA * (1 - ALPHA) / n_batches)


def flag_rates(detector, size, n_batches, seed):
    """Share of clean batches of ``size`` rows flagged (``report.drift``), and
    of each (feature, test) row flagged."""
    rng = np.random.default_rng(seed)
    flagged = 0
    rows = {}
    for _ in range(n_batches):
        report = detector.detect(population(size, rng))
        flagged += report.drift
        if report.drift:
            frame = report.results[report.results["drift"]]
            for key in zip(frame["feature"], frame["test"], strict=True):
                rows[key] = rows.get(key, 0) + 1
    return flagged / n_batches, {k: v / n_batches for k, v in rows.items()}


DETECTORS = {
    "DriftDetector": lambda: DriftDetector(),
    "KSDrift": lambda: KSDrift(columns=["miss", "ties"]),
    "PSIDrift": lambda: PSIDrift(),
    # (chi-square of a continuous column, every value its own category, is
    # valid too, through the Monte Carlo path, but slow: 30-200 ms a batch)
    "ChiSquareDrift": lambda: ChiSquareDrift(columns=["zipf", "pois"]),
}
SIZES = (1, 10, 100)
N_BATCHES = 400


# ------------------------------------------------------------------ flag rates


@pytest.mark.slow
@pytest.mark.parametrize("name", list(DETECTORS))
@pytest.mark.parametrize("size", SIZES)
def test_clean_batches_are_flagged_at_most_alpha(reference, name, size):
    detector = DETECTORS[name]().fit(reference)
    rate, rows = flag_rates(detector, size, N_BATCHES, seed=size)
    assert rate <= bound(N_BATCHES), (name, size, rate, rows)


def test_detector_tests_and_large_batches_at_alpha(reference):
    # the fast version of the above: DriftDetector at 1000 rows too
    det = DriftDetector().fit(reference)
    assert det.tests_ == {"zipf": "psi", "pois": "chi2", "miss": "ks", "ties": "ks"}
    for size, n in [(10, 150), (1000, 60)]:
        rate, rows = flag_rates(det, size, n, seed=7 + size)
        assert rate <= bound(n), (size, rate, rows)


def _table_rates(test, probs, size, n_batches, seed):
    """Flag rate of the chi-square or PSI test alone (p <= alpha and effect >=
    its default threshold) over pairs of a reference of N_REF values and a
    batch of ``size`` drawn from ``probs``. (A new reference each time: the
    tests' level is over both samples; with one fixed reference the rate
    wanders by +-1.5% with that reference's luck at 400 rows.)"""
    rng = np.random.default_rng(seed)
    batches = rng.multinomial(size, probs, size=n_batches)
    references = rng.multinomial(N_REF, probs, size=n_batches)
    flagged = 0
    methods = {}
    for ref_counts, counts in zip(references, batches, strict=True):
        ref = np.append(ref_counts, 0)
        bat = np.append(counts, 0)
        if test == "chi2":
            stat, p, _, method = chi2_test(ref, bat)
            flag = p <= ALPHA and math.sqrt(stat / (N_REF + size)) >= 0.1
        elif psi_value(ref, bat, 1e-4) >= 0.2:
            p, method = psi_test(ref, bat, 1e-4)
            flag = p <= ALPHA
        else:
            # The flag needs both; below the effect threshold the p-value
            # (a Monte Carlo one up to 1000 values, 0.1 s at 1000) cannot
            # change it, so it is not computed. psi_test draws from its own
            # generator: skipping it leaves every other batch as it was.
            method, flag = "effect below the threshold, p not needed", False
        kind = "merged" if "merged" in method else "monte carlo" if "Monte" in method else "full"
        kind = "no p-value" if "not needed" in method else kind
        methods[kind] = methods.get(kind, 0) + 1
        flagged += flag
    return flagged / n_batches, methods


@pytest.mark.parametrize("test", ["chi2", "psi"])
@pytest.mark.parametrize("column", ["zipf", "pois"])
@pytest.mark.parametrize("size", [1, 10, 100, pytest.param(1000, marks=pytest.mark.slow)])
def test_table_tests_alone_at_alpha(test, column, size):
    # the chi-square and PSI tests on their own, 600 batches per size, on
    # the 80-category Zipf column and on Poisson(0.3) counts (values 0..6)
    if column == "zipf":
        probs = ZIPF
    else:
        probs = stats.poisson(0.3).pmf(np.arange(8))
        probs /= probs.sum()
    n_batches = 600 if size <= 100 else 300
    rate, methods = _table_rates(test, probs, size, n_batches, size)
    assert rate <= bound(n_batches), (rate, methods)


@pytest.mark.parametrize("size", [1, 10, 100, 1000])
def test_missing_rate_test_alone_at_alpha(size):
    # Fisher's exact test of an 18%-missing column: 2000 batches per size,
    # and the flag rule (p <= alpha and a change >= missing_threshold)
    rng = np.random.default_rng(size)
    m_ref = int(rng.binomial(N_REF, 0.18))
    m_bat = rng.binomial(size, 0.18, size=2000)
    flagged = 0
    for k in np.unique(m_bat):
        p = _tables.fisher_pvalue(m_ref, N_REF, int(k), size)
        if p <= ALPHA and abs(k / size - m_ref / N_REF) >= 0.05:
            flagged += int((m_bat == k).sum())
    assert flagged / 2000 <= bound(2000)


# ------------------------------------------------------------------ the reported defects


def test_eighty_categories_are_not_flagged_by_chance(reference):
    # before: 40 of 40 batches of 50 rows flagged (PSI 3.0, p-value NaN)
    det = DriftDetector(columns=["zipf"]).fit(reference)
    assert det.tests_ == {"zipf": "psi"}
    rng = np.random.default_rng(3)
    reports = [det.detect(population(50, rng)) for _ in range(40)]
    flagged = sum(r.drift for r in reports)
    assert flagged <= 40 * bound(40), flagged
    p = reports[0].to_frame()["p_value"].iloc[0]
    assert 0 < p <= 1


def test_sparse_counts_are_not_flagged_by_chance(reference):
    # before: 39 of 200 ten-row batches flagged at alpha 0.05 (chi-square
    # with expected counts far below 5)
    det = ChiSquareDrift(columns=["pois"]).fit(reference)
    rng = np.random.default_rng(4)
    flagged = sum(det.detect(population(10, rng)).drift for _ in range(200))
    assert flagged <= 200 * bound(200), flagged
    note = det.detect(population(10, rng)).to_frame()["note"].iloc[0]
    assert "Monte Carlo p-value (1999 draws)" in note


def test_one_missing_row_is_not_drift(reference):
    # before: a single row whose value is missing, in a column 18% missing
    # at fit, was a drifted feature (its missing rate 18% -> 100%)
    det = DriftDetector().fit(reference)
    row = population(1, np.random.default_rng(0))
    row["miss"] = np.nan
    report = det.detect(row)
    assert "miss" not in report.drifted_features
    m_ref = int(reference["miss"].isna().sum())
    frame = report.to_frame().set_index(["feature", "test"])
    missing = frame.loc[("miss", "missing_rate")]
    want = stats.fisher_exact([[m_ref, N_REF - m_ref], [1, 0]])
    assert missing["p_value"] == pytest.approx(want.pvalue, rel=1e-9)
    assert missing["status"] == "ok" and not missing["drift"]
    ks = frame.loc[("miss", "ks")]
    assert ks["status"] == "too_few_rows" and not ks["drift"] and np.isnan(ks["p_value"])
    assert report.too_few_rows == ["miss"]
    assert "1 with too few rows to test (miss)" in repr(report)
    assert "too few rows" in report._repr_html_()


# ------------------------------------------------------------------ power


def test_a_category_that_doubles_its_share_is_found(reference):
    rng = np.random.default_rng(5)
    zipf = ZIPF.copy()
    zipf[0] *= 2  # c00: 20% -> 40% of the rows
    zipf[1:] *= (1 - zipf[0]) / zipf[1:].sum()
    batch = population(1000, rng, zipf=zipf)
    report = ChiSquareDrift(columns=["zipf"]).fit(reference).detect(batch)
    row = report.to_frame().iloc[0]
    assert row["drift"] and row["p_value"] < 1e-10
    assert "rarest categories merged" in row["note"]  # 1000 rows: merged, asymptotic
    # PSI of that change is 0.15 (below its 0.2 threshold); 20% -> 50% is 0.42
    zipf = ZIPF.copy()
    zipf[0] = 0.5
    zipf[1:] *= 0.5 / zipf[1:].sum()
    report = DriftDetector(columns=["zipf"]).fit(reference).detect(population(1000, rng, zipf))
    assert report.drifted_features == ["zipf"]


def test_shifts_are_found_at_moderate_sizes(reference):
    rng = np.random.default_rng(6)
    det = DriftDetector().fit(reference)
    shifted = population(200, rng, miss_rate=0.4, shift=0.8)
    shifted["pois"] = rng.poisson(0.9, size=200).astype(np.float64)
    report = det.detect(shifted)
    assert set(report.drifted_features) == {"pois", "miss", "ties"}
    frame = report.to_frame()
    assert frame[(frame["feature"] == "miss") & (frame["test"] == "missing_rate")]["drift"].all()
    psi = PSIDrift(columns=["ties"]).fit(reference).detect(shifted)
    assert psi.drift and psi.to_frame()["p_value"].iloc[0] == 1 / 2000  # Monte Carlo


def test_small_batches_can_still_drift(reference):
    # ten rows that all hold a value of share 0.3% at fit: the Monte Carlo
    # p-value is its smallest, 1/2000
    det = ChiSquareDrift(columns=["pois"]).fit(reference)
    batch = population(10, np.random.default_rng(7))
    batch["pois"] = 3.0
    row = det.detect(batch).to_frame().iloc[0]
    assert row["drift"] and row["p_value"] == 1 / 2000


# ------------------------------------------------------------------ oracles


def test_asymptotic_chi2_equals_scipy_on_the_rule_table():
    rng = np.random.default_rng(8)
    checked = {"full": 0, "merged": 0}
    for _ in range(300):
        k = int(rng.integers(2, 12))
        probs = rng.dirichlet(np.full(k, 0.7))
        ref = rng.multinomial(int(rng.integers(50, 3000)), probs)
        bat = rng.multinomial(int(rng.integers(5, 400)), probs)
        table = np.array([ref, bat])
        table = table[:, table.sum(axis=0) > 0]
        if table.shape[1] < 2:
            continue
        expected = cochran_table(table)
        stat, p, dof, method = chi2_test(ref, bat)
        if expected is None:
            assert method == "Monte Carlo p-value (1999 draws)"
            continue
        res = stats.chi2_contingency(expected)
        assert stat == pytest.approx(res.statistic, rel=1e-10)
        assert p == pytest.approx(res.pvalue, rel=1e-9, abs=1e-300)
        assert dof == res.dof
        checked["merged" if method else "full"] += 1
    assert min(checked.values()) >= 20, checked


def test_psi_asymptotic_p_value():
    # more than 1000 values a side, every expected count >= 10: PSI * n m /
    # (n + m) against chi2(bins - 1)
    rng = np.random.default_rng(9)
    probs = np.array([0.1, 0.2, 0.3, 0.4])
    ref, bat = rng.multinomial(6000, probs), rng.multinomial(1500, probs * [1.2, 1, 1, 0.95])
    p, method = psi_test(ref, bat, 1e-4)
    r, b = ref / 6000, bat / 1500
    psi = np.sum((b - r) * np.log(b / r))
    assert method == "asymptotic"
    assert p == pytest.approx(stats.chi2.sf(psi * 6000 * 1500 / 7500, 3), rel=1e-10)
    # up to 1000 values: the Monte Carlo p-value (the asymptotic one is a
    # little liberal there)
    _, method = psi_test(ref, bat // 2, 1e-4)
    assert method == "Monte Carlo p-value (1999 draws)"


def _permutation_pvalue(ref, bat, statistic, n_resamples, seed):
    """scipy.stats.permutation_test of the labels of the two samples."""
    k = len(ref)
    x = np.repeat(np.arange(k), ref)
    y = np.repeat(np.arange(k), bat)

    def counts(sample, axis):
        return (sample[..., None] == np.arange(k)).sum(axis=axis - 1 if axis < 0 else axis)

    def stat(x, y, axis):
        cx, cy = counts(x, axis), counts(y, axis)
        if statistic == "chi2":
            pooled = cx + cy
            n, m = x.shape[axis], y.shape[axis]
            keep = pooled > 0
            e_x = n * pooled / (n + m)
            e_y = m * pooled / (n + m)
            with np.errstate(invalid="ignore", divide="ignore"):
                terms = np.where(keep, (cx - e_x) ** 2 / e_x + (cy - e_y) ** 2 / e_y, 0.0)
            return terms.sum(axis=-1)
        p = np.maximum(cx / x.shape[axis], 1e-4)
        q = np.maximum(cy / y.shape[axis], 1e-4)
        return ((q - p) * np.log(q / p)).sum(axis=-1)

    res = stats.permutation_test(
        (x, y),
        stat,
        permutation_type="independent",
        vectorized=True,
        n_resamples=n_resamples,
        alternative="greater",
        random_state=seed,
    )
    return res.pvalue


@pytest.mark.parametrize("statistic", ["chi2", "psi"])
def test_monte_carlo_p_value_is_a_permutation_test(statistic):
    # the same null distribution as scipy's permutation test, within the
    # Monte Carlo error of both
    ref = np.array([120, 50, 20, 6, 3, 1])
    cases = [
        np.array([4, 1, 1, 1, 0, 1]),
        np.array([3, 2, 1, 0, 1, 0]),
        np.array([1, 0, 0, 0, 2, 0]),
    ]
    for bat in cases:
        ours = _tables.monte_carlo(ref, bat, statistic)
        theirs = _permutation_pvalue(ref, bat, statistic, 9999, 0)
        err = math.sqrt(theirs * (1 - theirs) * (1 / 2000 + 1 / 10000))
        assert abs(ours - theirs) <= 4 * err + 1e-4, (bat, ours, theirs)


def test_monte_carlo_is_deterministic_and_valid_at_one_row():
    ref = np.array([900, 90, 9, 1])
    p = [_tables.monte_carlo(ref, np.eye(4, dtype=np.int64)[j], "chi2") for j in range(4)]
    assert p == [_tables.monte_carlo(ref, np.eye(4, dtype=np.int64)[j], "chi2") for j in range(4)]
    # one row: the p-value is the pooled share of values at least as rare
    want = [1.0, 0.1, 0.011, 0.002]
    for got, w in zip(p, want, strict=True):
        assert got == pytest.approx(w, abs=0.01)


def test_fisher_missing_test_equals_scipy(reference):
    det = KSDrift(columns=["miss"]).fit(reference)
    rng = np.random.default_rng(10)
    m_ref = int(reference["miss"].isna().sum())
    for size, rate in [(1, 0.0), (7, 0.5), (60, 0.18), (500, 0.3), (3000, 0.2)]:
        batch = population(size, rng, miss_rate=rate)
        frame = det.detect(batch).to_frame()
        row = frame[frame["test"] == "missing_rate"].iloc[0]
        m_bat = int(batch["miss"].isna().sum())
        want = stats.fisher_exact([[m_ref, N_REF - m_ref], [m_bat, size - m_bat]]).pvalue
        assert row["p_value"] == pytest.approx(want, rel=1e-9), size
        assert row["statistic"] == m_bat


def test_too_few_rows_in_every_test():
    ref = pd.DataFrame({"x": np.arange(100.0), "c": ["a", "b"] * 50, "z": np.arange(100.0) % 3})
    batch = pd.DataFrame({"x": [np.nan] * 3, "c": [None] * 3, "z": [np.nan] * 3})
    for det in (DriftDetector(), PSIDrift(), ChiSquareDrift()):
        report = det.fit(ref).detect(batch)
        frame = report.to_frame()
        dist = frame[frame["test"] != "missing_rate"]
        assert (dist["status"] == "too_few_rows").all() and not dist["drift"].any()
        assert dist["p_value"].isna().all()
        missing = frame[frame["test"] == "missing_rate"]
        assert (missing["status"] == "ok").all() and missing["drift"].all()
        assert sorted(report.too_few_rows) == ["c", "x", "z"]
        assert list(frame.columns[:7]) == [
            "feature",
            "test",
            "statistic",
            "p_value",
            "threshold",
            "drift",
            "status",
        ]


def main():  # pragma: no cover - the measurement behind the docs
    ref = population(N_REF, np.random.default_rng(2024))
    print(f"share of clean batches flagged, {N_BATCHES} batches per size, alpha={ALPHA}")
    print(f"(bound alpha + 3 SE = {bound(N_BATCHES):.3f})")
    for name, make in DETECTORS.items():
        det = make().fit(ref)
        rates = []
        for size in (*SIZES, 1000):
            n = N_BATCHES if size < 1000 else 100
            rates.append(f"{size}: {flag_rates(det, size, n, seed=size)[0]:.3f}")
        print(f"{name:15s}", "  ".join(rates))
    for test in ("chi2", "psi"):
        for column in ("zipf", "pois"):
            probs = ZIPF if column == "zipf" else stats.poisson(0.3).pmf(np.arange(8))
            probs = probs / probs.sum()
            rates = []
            for size in (1, 10, 60, 100, 400, 1000):
                rate, methods = _table_rates(test, probs, size, 2000, size)
                rates.append(f"{size}: {rate:.3f} {methods}")
            print(f"{test} alone on {column}:", "  ".join(rates))


if __name__ == "__main__":
    main()
