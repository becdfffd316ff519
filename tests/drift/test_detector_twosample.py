"""DriftDetector with the Cramér-von Mises, Anderson-Darling, Wasserstein and
Jensen-Shannon tests (issue 19, item 4): each report row against scipy on the
same column, the automatic choice, bad input, saving, and a small
false-alarm measurement (the full one: benchmarks/bench_drift_choice.py)."""

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import spatial, stats

import mlpipe
from mlpipe.datasets import load_credit, make_credit_batch
from mlpipe.drift import DriftDetector, DriftMonitor, KSDrift
from mlpipe.drift._twosample import anderson_2samp
from tests.drift.test_twosample import cvm_within_midranks

CVM_P_RTOL = 1e-13


def _column(kind, n, rng, shift=0.0):
    if kind == "random":
        v = rng.normal(shift, 1.0, n)
    elif kind == "ties":  # 25 levels: past max_discrete, every value tied
        v = np.round(rng.normal(shift, 3.0, n) * 2) / 2
    else:
        raise ValueError(kind)
    v[rng.random(n) < 0.1] = np.nan
    return v


def _pair(kind, n_ref, n_bat, seed):
    rng = np.random.default_rng(seed)
    ref = pd.DataFrame({"x": _column(kind, n_ref, rng), "y": rng.normal(size=n_ref)})
    bat = pd.DataFrame({"x": _column(kind, n_bat, rng, 0.3), "y": rng.normal(size=n_bat)})
    return ref, bat


def _row(detector, bat, col="x"):
    frame = detector.detect(bat).to_frame()
    rows = frame[(frame["feature"] == col) & (frame["test"] != "missing_rate")]
    assert len(rows) == 1
    return rows.iloc[0]


def _values(frame, col="x"):
    v = frame[col].to_numpy(dtype=np.float64)
    return v[~np.isnan(v)]


CASES = [("random", 400, 150), ("ties", 400, 150), ("random", 9, 6), ("ties", 12, 7)]


@pytest.mark.parametrize("kind, n_ref, n_bat", CASES)
def test_cvm_equals_scipy(kind, n_ref, n_bat):
    ref, bat = _pair(kind, n_ref, n_bat, seed=n_ref + n_bat)
    a, b = _values(ref), _values(bat)
    row = _row(DriftDetector(tests={"x": "cvm"}, cvm_ties="scipy").fit(ref), bat)
    oracle = stats.cramervonmises_2samp(a, b)
    assert row["test"] == "cvm"
    assert row["statistic"] == oracle.statistic
    assert row["p_value"] == pytest.approx(oracle.pvalue, rel=CVM_P_RTOL, abs=1e-300)
    assert (row["n_reference"], row["n_batch"]) == (a.size, b.size)
    assert row["effect_size"] == stats.ks_2samp(a, b).statistic
    # the default counts ties across the samples only (scipy's within-sample
    # midranks formula, from rankdata): the same without ties
    row = _row(DriftDetector(tests={"x": "cvm"}).fit(ref), bat)
    s_ref, p_ref = cvm_within_midranks(a, b)
    assert row["statistic"] == s_ref
    assert row["p_value"] == pytest.approx(p_ref, rel=CVM_P_RTOL, abs=1e-300)
    if kind == "random":
        assert row["statistic"] == oracle.statistic


@pytest.mark.parametrize("kind, n_ref, n_bat", CASES)
def test_ad_equals_scipy(kind, n_ref, n_bat):
    ref, bat = _pair(kind, n_ref, n_bat, seed=3 * n_ref + n_bat)
    a, b = _values(ref), _values(bat)
    row = _row(DriftDetector(tests={"x": "ad"}).fit(ref), bat)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scipy warns where it caps or floors p
        oracle = stats.anderson_ksamp([a, b], variant="midrank")
    assert row["test"] == "ad"
    assert row["statistic"] == oracle.statistic
    assert row["effect_size"] == stats.ks_2samp(a, b).statistic
    if kind == "ties":
        # the table is liberal on ties: the permutation p-value, seeded
        assert row["p_value"] == anderson_2samp(a, b, method="permutation").pvalue
        assert "permutation p-value" in row["note"]  # Monte Carlo, or exact (few splits)
        return
    assert row["p_value"] == oracle.pvalue
    if oracle.pvalue in (0.25, 0.001):
        assert "capped" in row["note"] or "floored" in row["note"]
    else:
        assert "interpolated" in row["note"]


@pytest.mark.parametrize("kind, n_ref, n_bat", CASES)
def test_wasserstein_equals_scipy(kind, n_ref, n_bat):
    ref, bat = _pair(kind, n_ref, n_bat, seed=5 * n_ref + n_bat)
    a, b = _values(ref), _values(bat)
    det = DriftDetector(tests={"x": "wasserstein"}).fit(ref)
    row = _row(det, bat)
    w = stats.wasserstein_distance(a, b)
    assert row["test"] == "wasserstein"
    assert row["statistic"] == pytest.approx(w, rel=1e-13)
    assert row["effect_size"] == pytest.approx(w / np.std(a), rel=1e-13)
    assert row["effect_threshold"] == det.wasserstein_threshold
    assert row["p_value"] == pytest.approx(stats.ks_2samp(a, b).pvalue, rel=1e-10)


def _psi_bins(a, b, n_bins=10):
    """The PSI bins by numpy: inner edges at the reference quantiles,
    bins closed on the left."""
    edges = np.unique(np.quantile(a, np.linspace(0, 1, n_bins + 1)[1:-1]))
    size = edges.size + 1
    count = [np.bincount(np.searchsorted(edges, v, side="right"), minlength=size) for v in (a, b)]
    return count[0], count[1]


@pytest.mark.parametrize("kind, n_ref, n_bat", [("random", 2000, 800), ("ties", 2000, 800)])
def test_js_equals_scipy(kind, n_ref, n_bat):
    ref, bat = _pair(kind, n_ref, n_bat, seed=7 * n_ref + n_bat)
    a, b = _values(ref), _values(bat)
    row = _row(DriftDetector(tests={"x": "js"}).fit(ref), bat)
    p, q = _psi_bins(a, b)
    assert row["test"] == "js"
    assert row["statistic"] == pytest.approx(
        spatial.distance.jensenshannon(p / p.sum(), q / q.sum(), base=2), rel=1e-12
    )
    table = np.array([p, q])
    table = table[:, table.sum(axis=0) > 0]
    chi2 = stats.chi2_contingency(table)
    assert row["p_value"] == pytest.approx(chi2.pvalue, rel=1e-10)
    assert f"dof={chi2.dof}" in row["note"]


def test_js_of_categories_and_small_counts():
    rng = np.random.default_rng(11)
    cats = np.array(["a", "b", "c", "d"], dtype=object)
    ref = pd.DataFrame({"c": cats[rng.choice(4, 500, p=[0.4, 0.3, 0.2, 0.1])]})
    bat = pd.DataFrame({"c": np.r_[cats[rng.choice(4, 200)], ["new"] * 5]})
    row = _row(DriftDetector(tests={"c": "js"}).fit(ref), bat, "c")
    p = ref["c"].value_counts().reindex(cats).to_numpy()
    q = bat["c"].value_counts().reindex([*cats, "new"]).to_numpy()
    expected = spatial.distance.jensenshannon(np.r_[p, 0] / p.sum(), q / q.sum(), base=2)
    assert row["statistic"] == pytest.approx(expected, rel=1e-12)
    assert "unseen" in row["note"]
    # tiny batch: Cochran's rule fails, the chi-square test's Monte Carlo p-value
    row = _row(DriftDetector(tests={"c": "js"}).fit(ref), bat.iloc[:6], "c")
    assert "Monte Carlo" in row["note"] or "merged" in row["note"]
    assert 0 < row["p_value"] <= 1


def test_report_rows_and_mixed_tests():
    ref, bat = _pair("random", 600, 300, seed=1)
    ref["z"] = np.random.default_rng(2).normal(size=600)
    bat["z"] = np.random.default_rng(3).normal(0.5, size=300)
    tests = {"x": "cvm", "y": "ks", "z": "wasserstein"}
    det = DriftDetector(tests=tests).fit(ref)
    # the sorted-value tests share the KS block, after the KS columns
    assert det.reference_.ks_columns == ["y", "x", "z"]
    frame = det.detect(bat).to_frame()
    tested = frame[frame["test"] != "missing_rate"]
    got = dict(zip(tested["feature"], tested["test"], strict=True))
    assert {c: got[c] for c in tests} == tests
    # KS rows are those of a KS-only detector
    ks = KSDrift(columns=["y"]).fit(ref).detect(bat).to_frame()
    mixed = frame[frame["test"] == "ks"]
    assert mixed["statistic"].tolist() == ks["statistic"].tolist()
    assert mixed["p_value"].tolist() == ks["p_value"].tolist()
    assert bool(frame.loc[frame["feature"] == "z", "drift"].iloc[0])
    assert "x" in det.detect(bat).distributions


def test_auto_choice():
    X, _ = load_credit(return_X_y=True)
    det = DriftDetector(numeric_test="auto").fit(X)
    # credit_amount: 0.3% of its values at the most frequent one; age 5.1%,
    # duration 18.4%: tie-heavy, KS; categories and few-valued columns as before
    assert det.tests_["credit_amount"] == "ad"
    assert det.tests_["age"] == "ks"
    assert det.tests_["duration"] == "ks"
    assert det.tests_ == {**DriftDetector().fit(X).tests_, "credit_amount": "ad"}
    # a reference past max_reference_rows keeps a sketch: KS
    small = DriftDetector(numeric_test="auto", max_reference_rows=500).fit(X)
    assert small.tests_["credit_amount"] == "ks"
    for name in ("cvm", "wasserstein", "js", "psi"):
        assert DriftDetector(numeric_test=name).fit(X).tests_["credit_amount"] == name
    report = det.detect(make_credit_batch().X)
    assert "credit_amount" in report.drifted_features


def test_auto_choice_switches_to_ks_when_chunks_outgrow_the_budget():
    X, _ = load_credit(return_X_y=True)
    det = DriftDetector(numeric_test="auto", max_reference_rows=1500)
    det.partial_fit(X)
    assert det.tests_["credit_amount"] == "ad"
    det.partial_fit(X)  # 2,000 rows: sketched
    assert det.tests_["credit_amount"] == det.reference_.tests["credit_amount"] == "ks"
    assert not det.reference_.ks_exact
    frame = det.detect(make_credit_batch().X).to_frame()
    assert frame.loc[frame["feature"] == "credit_amount", "test"].iloc[0] == "ks"


def test_partial_fit_equals_fit():
    ref, bat = _pair("ties", 900, 200, seed=4)
    tests = {"x": "ad", "y": "wasserstein"}
    whole = DriftDetector(tests=tests).fit(ref).detect(bat).to_frame()
    det = DriftDetector(tests=tests).partial_fit(ref.iloc[:300])
    det.detect(bat)  # prepared samples of the first chunk must not survive
    det.partial_fit(ref.iloc[300:])
    chunked = det.detect(bat).to_frame()
    pd.testing.assert_frame_equal(whole, chunked)


def test_bad_input():
    X, _ = load_credit(return_X_y=True)
    with pytest.raises(TypeError, match="'cvm' test cannot compare the categorical column"):
        DriftDetector(tests={"housing": "cvm"}).fit(X)
    with pytest.raises(ValueError, match="is not a test"):
        DriftDetector(tests={"age": "cramer"}).fit(X)
    with pytest.raises(ValueError, match="numeric_test"):
        DriftDetector(numeric_test="kolmogorov").fit(X)
    # the sorted-value tests refuse a sketched reference, at fit
    with pytest.raises(ValueError, match="max_reference_rows=500"):
        DriftDetector(tests={"age": "ad"}, max_reference_rows=500).fit(X)
    det = DriftDetector(tests={"age": "wasserstein"}, max_reference_rows=1500).fit(X)
    before = det.reference_
    with pytest.raises(ValueError, match="'age': 'wasserstein'"):
        det.partial_fit(X)
    assert det.reference_ is before and det.reference_.n_rows == 1000
    assert det.reference_.ks_sorted is not None
    # JS counts bins: any size
    DriftDetector(tests={"age": "js"}, max_reference_rows=500).fit(X)
    # infinities: at fit (reference) and at detect (batch)
    ref = pd.DataFrame({"x": np.r_[np.arange(30.0), np.inf]})
    with pytest.raises(ValueError, match="reference has 1 infinite"):
        DriftDetector(tests={"x": "cvm"}).fit(ref)
    det = DriftDetector(tests={"x": "cvm"}).fit(ref.iloc[:30])
    with pytest.raises(ValueError, match="batch has 1 infinite"):
        det.detect(ref)


def test_too_few_values():
    ref = pd.DataFrame({"x": [1.0, 2.0, 3.0, np.nan]})
    for test in ("cvm", "ad", "wasserstein", "js"):
        det = DriftDetector(tests={"x": test}).fit(ref)
        row = _row(det, pd.DataFrame({"x": [np.nan, np.nan]}))
        assert row["status"] == "too_few_rows" and not row["drift"]
    row = _row(DriftDetector(tests={"x": "ad"}).fit(ref), pd.DataFrame({"x": [5.0]}))
    assert row["status"] == "ok" and row["p_value"] > 0  # N = 4
    row = _row(DriftDetector(tests={"x": "cvm"}).fit(ref), pd.DataFrame({"x": [5.0]}))
    assert row["status"] == "too_few_rows"  # scipy's statistic needs 2 a side
    const = pd.DataFrame({"x": [2.0] * 5})
    row = _row(DriftDetector(tests={"x": "ad"}).fit(const), const)
    assert row["p_value"] == 1.0 and not row["drift"]


def test_save_load_round_trip(tmp_path):
    ref, bat = _pair("random", 500, 200, seed=9)
    ref["z"] = pd.Categorical(np.random.default_rng(0).choice(["a", "b"], 500))
    bat["z"] = pd.Categorical(np.random.default_rng(1).choice(["a", "b"], 200))
    det = DriftDetector(tests={"x": "ad", "y": "wasserstein", "z": "js"}).fit(ref)
    before = det.detect(bat).to_frame()
    path = tmp_path / "detector.skops"
    mlpipe.save(det, path)
    loaded = mlpipe.load(path)
    assert loaded.tests_ == det.tests_
    pd.testing.assert_frame_equal(loaded.detect(bat).to_frame(), before)


def test_monitor_window():
    ref, bat = _pair("random", 500, 200, seed=10)
    det = DriftDetector(tests={"x": "cvm", "y": "ad"})
    monitor = DriftMonitor(detector=det, window=100).fit(ref)
    for i in range(0, 200, 20):
        monitor.transform(bat.iloc[i : i + 20])
    assert len(monitor.history_) == 2
    frame = monitor.history_[-1].to_frame()
    assert set(frame["test"]) >= {"cvm", "ad"}
    row = frame[frame["feature"] == "x"].iloc[0]
    oracle = cvm_within_midranks(_values(ref), _values(bat.iloc[100:]))
    assert row["statistic"] == oracle[0]


def test_dask_batch_refused():
    dd = pytest.importorskip("dask.dataframe")
    ref, bat = _pair("random", 300, 100, seed=12)
    det = DriftDetector(tests={"x": "cvm", "y": "js"}).fit(ref)
    with pytest.raises(TypeError, match="Compute the batch first"):
        det.detect(dd.from_pandas(bat, npartitions=2))
    ref["c"] = pd.Categorical(np.random.default_rng(0).choice(["a", "b", "c"], 300))
    bat["c"] = pd.Categorical(np.random.default_rng(1).choice(["a", "b", "d"], 100))
    det = DriftDetector(tests={"y": "js", "c": "js"}).fit(ref)
    lazy = det.detect(dd.from_pandas(bat, npartitions=2)).to_frame()
    pd.testing.assert_frame_equal(lazy, det.detect(bat).to_frame())
    # chunks: JS's bins and categories add up
    chunked = DriftDetector(tests={"y": "js", "c": "js"}).fit(dd.from_pandas(ref, npartitions=3))
    assert chunked.reference_.category_counts["c"].tolist() == (
        det.reference_.category_counts["c"].tolist()
    )


def _false_alarms(values, test, n_ref, n_bat, n_splits, rng):
    """Alarms of one detector over ``n_splits`` clean splits of ``values``,
    each split a column of one reference and one batch frame."""
    refs, bats = np.empty((n_ref, n_splits)), np.empty((n_bat, n_splits))
    for s in range(n_splits):
        perm = rng.permutation(values.size)
        refs[:, s], bats[:, s] = values[perm[:n_ref]], values[perm[n_ref : n_ref + n_bat]]
    names = [f"s{i}" for i in range(n_splits)]
    kwargs = {"numeric_test": "auto"} if test == "auto" else {"tests": dict.fromkeys(names, test)}
    det = DriftDetector(correction=None, **kwargs).fit(pd.DataFrame(refs, columns=names))
    frame = det.detect(pd.DataFrame(bats, columns=names)).to_frame()
    return int((frame["p_value"] <= 0.05).sum())


@pytest.mark.parametrize("test", ["cvm", "ad", "wasserstein", "js", "auto"])
def test_false_alarm_rate(test):
    """Clean splits of a continuous and a tie-heavy column: the p-values are
    at most 0.05 in no more of them than the 99.9% quantile of a 5% binomial
    (a liberal test, such as scipy's Cramér-von Mises on ties, fails)."""
    rng = np.random.default_rng(2024)
    n_splits = 120 if test == "js" else 300  # js: Monte Carlo p-values at 100 rows
    limit = stats.binom.ppf(0.999, n_splits, 0.05)
    continuous = rng.lognormal(0.0, 1.0, 5000)
    ties = np.round(rng.poisson(8.0, 5000).astype(float))
    for values in (continuous, ties):
        assert _false_alarms(values, test, 400, 100, n_splits, rng) <= limit


def test_scipy_ties_are_liberal():
    """The measurement above can fail: scipy's Cramér-von Mises on ties."""
    rng = np.random.default_rng(7)
    values = rng.poisson(8.0, 5000).astype(float)
    n = 100
    refs = [values[rng.permutation(5000)[:500]] for _ in range(n)]
    names = [f"s{i}" for i in range(n)]
    ref = pd.DataFrame(np.array(refs).T, columns=names)
    bat = pd.DataFrame(np.array([rng.choice(values, 100) for _ in range(n)]).T, columns=names)
    det = DriftDetector(tests=dict.fromkeys(names, "cvm"), cvm_ties="scipy", correction=None)
    frame = det.fit(ref).detect(bat).to_frame()
    assert (frame["p_value"] <= 0.05).sum() > stats.binom.ppf(0.999, n, 0.05)
