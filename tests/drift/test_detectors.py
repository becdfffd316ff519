"""Behaviour of the detectors, the report and the credit-data story."""

import pickle

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from mlpipe.datasets import load_credit, make_credit_batch
from mlpipe.drift import (
    ChiSquareDrift,
    DriftDetector,
    DriftReference,
    DriftReport,
    KSDrift,
    PSIDrift,
)
from mlpipe.drift._reference import psi as psi_reference
from mlpipe.drift._reference import quantile_edges
from mlpipe.drift._report import correct
from tests.drift._oracles import cochran_table

REQUIRED = ["feature", "test", "statistic", "p_value", "threshold", "drift"]


@pytest.fixture(scope="module")
def credit():
    X, _ = load_credit(return_X_y=True)
    return X


@pytest.fixture(scope="module")
def detector(credit):
    return DriftDetector().fit(credit)


# ------------------------------------------------------------------ the story


def test_finds_the_drifted_credit_features(detector):
    batch = make_credit_batch()
    report = detector.detect(batch.X)
    assert report.drift
    assert sorted(report.drifted_features) == sorted(batch.drifted)
    frame = report.to_frame()
    used = dict(zip(frame["feature"], frame["test"], strict=False))
    assert used["age"] == "ks" and used["purpose"] == "chi2"


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_quiet_on_a_clean_batch(detector, seed):
    report = detector.detect(make_credit_batch(drift=False, defects=False, random_state=seed).X)
    assert not report.drift
    assert report.drifted_features == []


def test_defects_are_reported_not_fatal(detector):
    report = detector.detect(make_credit_batch(drift=False, defects=True).X)
    frame = report.to_frame()
    purpose = frame[(frame["feature"] == "purpose") & (frame["test"] == "chi2")]
    assert "'crypto': 4" in purpose["note"].iloc[0]
    housing = frame[(frame["feature"] == "housing")]
    assert "'OWN': 2" in housing["note"].iloc[0]
    missing = frame[(frame["feature"] == "credit_amount") & (frame["test"] == "missing_rate")]
    assert missing["note"].iloc[0] == "missing 0.0% -> 1.0%"
    ks = frame[(frame["feature"] == "credit_amount") & (frame["test"] == "ks")]
    assert ks["n_batch"].iloc[0] == 495  # NaN left out
    assert not report.drift  # a defect is not drift


def test_report_frame_and_views(detector):
    report = detector.detect(make_credit_batch().X)
    frame = report.to_frame()
    assert list(frame.columns[:6]) == REQUIRED
    assert frame["drift"].dtype == bool
    assert isinstance(report, DriftReport)
    html = report._repr_html_()
    assert "<table" in html and "DRIFT" in html
    assert "features drifted" in str(report)
    assert report.to_frame() is not report.results  # a copy


def test_report_builds_its_frame_on_first_read_and_pickles_before(detector):
    report = detector.detect(make_credit_batch().X)
    assert not isinstance(report._results, pd.DataFrame)  # nothing built yet
    clone = pickle.loads(pickle.dumps(report))
    assert report.results is report.results  # built once, then kept
    pd.testing.assert_frame_equal(clone.to_frame(), report.to_frame())
    assert clone.drift == report.drift and clone.drifted_features == report.drifted_features


def test_all_float_frames_take_the_array_path_with_the_same_results():
    # a frame of float64 columns only is read as one array; one int column
    # sends it through pandas column by column: same report either way
    rng = np.random.default_rng(3)
    ref = pd.DataFrame(rng.normal(size=(500, 4)), columns=list("abcd"))
    bat = pd.DataFrame(rng.normal(0.3, 1.0, size=(200, 4)), columns=list("abcd"))
    bat.iloc[::7, 2] = np.nan
    before = bat.copy()
    fast = KSDrift().fit(ref).detect(bat).to_frame()
    pd.testing.assert_frame_equal(bat, before)  # the caller's data is untouched
    ref_i, bat_i = ref.copy(), bat.copy()
    ref_i["e"] = np.arange(500)
    bat_i["e"] = np.arange(200)
    slow = KSDrift(columns=list("abcd")).fit(ref_i).detect(bat_i).to_frame()
    pd.testing.assert_frame_equal(fast, slow)
    for col in "abcd":
        row = fast[(fast.feature == col) & (fast.test == "ks")].iloc[0]
        res = stats.ks_2samp(ref[col], bat[col].dropna())
        assert row.statistic == res.statistic
        assert row.p_value == pytest.approx(res.pvalue, rel=1e-10)


def test_plot_draws_the_drifted_features(detector):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    report = detector.detect(make_credit_batch().X)
    axes = report.plot()
    titles = [a.get_title() for a in np.atleast_1d(axes)]
    assert len(titles) == 4 and all("(drift)" in t for t in titles)
    _, ax = plt.subplots()
    assert report.plot(ax=ax, features=["age"]) is ax
    plt.close("all")


# ------------------------------------------------------------------ choices


def test_tests_by_dtype_and_override(credit):
    det = DriftDetector(tests={"age": "psi", "job": "ks"}).fit(credit)
    assert det.tests_["age"] == "psi"
    assert det.tests_["job"] == "ks"
    assert det.tests_["credit_amount"] == "ks"
    assert det.tests_["sex"] == "chi2"
    with pytest.raises(TypeError, match="'sex'"):
        DriftDetector(tests={"sex": "ks"}).fit(credit)
    with pytest.raises(ValueError, match="nope"):
        DriftDetector(tests={"nope": "ks"}).fit(credit)
    with pytest.raises(ValueError, match="not a test"):
        DriftDetector(tests={"age": "t"}).fit(credit)


def test_many_categories_use_psi():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"zip": rng.integers(0, 500, 3000).astype(str)})
    assert DriftDetector().fit(X).tests_ == {"zip": "psi"}


def test_columns_by_name(credit):
    det = KSDrift(columns=["age", "duration"]).fit(credit)
    frame = det.detect(make_credit_batch().X).to_frame()
    assert list(frame["feature"]) == ["duration", "age"]  # in the data's order
    with pytest.raises(TypeError, match="'sex'"):
        KSDrift().fit(credit)
    with pytest.raises(ValueError, match="height"):
        KSDrift(columns=["height"]).fit(credit)


def test_arrays_get_positions_as_names():
    rng = np.random.default_rng(1)
    report = KSDrift().fit(rng.normal(size=(300, 3))).detect(rng.normal(size=(200, 3)))
    assert list(report.to_frame()["feature"]) == [0, 1, 2]


# ------------------------------------------------------------------ corrections


def test_bonferroni_and_bh_thresholds():
    p = np.array([0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205, np.nan])
    bonf = correct(p, 0.05, "bonferroni")
    assert np.allclose(bonf[:-1], 0.05 / 8) and np.isnan(bonf[-1])
    bh = correct(p, 0.05, "bh")
    # BH at 0.05 rejects the two smallest: 0.008 <= 0.05 * 2 / 8
    assert np.allclose(bh[:-1], 0.05 * 2 / 8)
    assert (p[:-1] <= bh[:-1]).sum() == 2
    assert np.allclose(correct(p, 0.05, None)[:-1], 0.05)
    assert np.allclose(correct([0.9, 0.8], 0.05, "bh"), 0.025)


def test_bh_matches_scipy_false_discovery_control():
    rng = np.random.default_rng(2)
    p = rng.random(50) ** 3
    adjusted = stats.false_discovery_control(p)
    thresholds = correct(p, 0.1, "bh")
    np.testing.assert_array_equal(p <= thresholds, adjusted <= 0.1)


def test_effect_threshold_silences_tiny_shifts():
    rng = np.random.default_rng(3)
    ref = pd.DataFrame({"x": rng.normal(size=200_000)})
    batch = pd.DataFrame({"x": rng.normal(0.05, 1, size=100_000)})
    row = KSDrift().fit(ref).detect(batch).to_frame().iloc[0]
    assert row["p_value"] < 1e-10  # significant ...
    assert row["statistic"] < 0.1 and not row["drift"]  # ... but negligible
    assert KSDrift(threshold=0.0).fit(ref).detect(batch).drift


def test_missing_rate_drift():
    ref = pd.DataFrame({"x": np.arange(1000.0)})
    batch = pd.DataFrame({"x": np.where(np.arange(500) % 4 == 0, np.nan, 1.0 * np.arange(500))})
    frame = KSDrift(threshold=1.0).fit(ref).detect(batch).to_frame()
    row = frame[frame["test"] == "missing_rate"].iloc[0]
    assert row["drift"] and row["effect_size"] == pytest.approx(0.25)
    assert row["note"] == "missing 0.0% -> 25.0%"


def test_all_missing_batch_column():
    ref = pd.DataFrame({"x": np.arange(100.0), "c": ["a", "b"] * 50})
    batch = pd.DataFrame({"x": np.full(50, np.nan), "c": [None] * 50})
    frame = DriftDetector().fit(ref).detect(batch).to_frame()
    dist = frame[frame["test"] != "missing_rate"]
    assert dist["p_value"].iloc[0] != dist["p_value"].iloc[0]  # NaN: nothing to compare
    assert not dist["drift"].any()
    assert frame[frame["test"] == "missing_rate"]["drift"].all()


# ------------------------------------------------------------------ PSI / chi2


def test_psi_equals_numpy_reference(credit):
    batch = make_credit_batch().X
    det = PSIDrift().fit(credit)
    frame = det.detect(batch).to_frame()
    frame = frame[frame["test"] == "psi"].set_index("feature")
    for col in ["credit_amount", "duration", "age"]:
        edges = det.reference_.psi_numeric[col][0]
        np.testing.assert_array_equal(edges, quantile_edges(credit[col].to_numpy(float), 10))
        expected = psi_reference(credit[col].to_numpy(float), batch[col].to_numpy(float), edges)
        assert frame.loc[col, "statistic"] == pytest.approx(expected, rel=1e-12)
    assert frame.loc["credit_amount", "drift"]


def test_psi_uniform_bins_and_categories():
    rng = np.random.default_rng(4)
    ref = pd.DataFrame({"x": rng.random(1000), "c": rng.choice(list("abc"), 1000)})
    bat = pd.DataFrame({"x": rng.random(500) ** 3, "c": rng.choice(list("abd"), 500)})
    det = PSIDrift(binning="uniform", n_bins=5).fit(ref)
    np.testing.assert_allclose(
        det.reference_.psi_numeric["x"][0], np.linspace(ref.x.min(), ref.x.max(), 6)[1:-1]
    )
    frame = det.detect(bat).to_frame()
    assert frame["drift"].all()
    assert "'d'" in frame.loc[1, "note"]


def test_chi2_equals_scipy(credit):
    batch = make_credit_batch().X
    frame = ChiSquareDrift().fit(credit).detect(batch).to_frame().set_index("feature")
    for col in ["sex", "housing", "purpose", "job"]:
        cats = sorted(set(credit[col].dropna()) | set(batch[col].dropna()), key=str)
        table = np.array(
            [
                [int((credit[col] == c).sum()) for c in cats],
                [int((batch[col] == c).sum()) for c in cats],
            ]
        )
        table = cochran_table(table[:, table.sum(axis=0) > 0])
        assert table is not None  # 500 rows: the asymptotic test holds, merged or not
        res = stats.chi2_contingency(table)
        assert frame.loc[col, "statistic"] == pytest.approx(res.statistic, rel=1e-12)
        assert frame.loc[col, "p_value"] == pytest.approx(res.pvalue, rel=1e-10)


# ------------------------------------------------------------------ reference


def test_reference_is_compact_and_pickles(credit):
    det = DriftDetector(tests={"age": "psi"}).fit(credit)
    ref = det.reference_
    assert isinstance(ref, DriftReference)
    assert ref.ks_columns == ["credit_amount", "duration"]
    assert ref.ks_sorted.shape == (2, 1000)
    assert (np.diff(ref.ks_sorted, axis=1) >= 0).all()
    edges, counts = ref.psi_numeric["age"]
    assert len(edges) <= 9 and counts.sum() == 1000
    assert ref.categories["purpose"][:2] == ["business", "car"]
    held = [ref.ks_sorted, ref.ks_index, edges, counts, *ref.category_counts.values()]
    assert ref.nbytes == sum(a.nbytes for a in held)
    clone = pickle.loads(pickle.dumps(det))
    batch = make_credit_batch().X
    pd.testing.assert_frame_equal(clone.detect(batch).to_frame(), det.detect(batch).to_frame())


def test_score_is_the_share_of_features_that_did_not_drift(credit, detector):
    batch = make_credit_batch().X
    report = detector.detect(batch)
    n_features = report.to_frame()["feature"].nunique()
    assert n_features == credit.shape[1]
    expected = 1 - len(report.drifted_features) / n_features
    score = detector.score(batch)
    assert isinstance(score, float) and score == expected == report.stable_share
    assert 0.0 < score < 1.0
    assert detector.score(make_credit_batch(drift=False, defects=False).X) == 1.0
    # a feature that drifts only in its missing rate counts as drifted
    ref = pd.DataFrame({"x": np.arange(1000.0), "y": np.arange(1000.0)})
    bat = pd.DataFrame(
        {
            "x": np.where(np.arange(500) % 4 == 0, np.nan, np.arange(500.0)),
            "y": np.arange(500.0) * 2,
        }
    )
    det = KSDrift(threshold=1.0).fit(ref)
    assert det.detect(bat).drifted_features == ["x"]
    assert det.score(bat) == 0.5


@pytest.mark.parametrize("cls", [KSDrift, PSIDrift, ChiSquareDrift, DriftDetector])
def test_every_detector_scores_a_float_and_detects_a_report(cls):
    rng = np.random.default_rng(7)
    ref = pd.DataFrame(
        {"a": rng.integers(0, 5, 2000).astype(float), "b": rng.integers(0, 5, 2000).astype(float)}
    )
    bat = pd.DataFrame(
        {"a": rng.integers(0, 5, 800).astype(float), "b": rng.integers(2, 7, 800).astype(float)}
    )
    det = cls().fit(ref)
    assert isinstance(det.detect(bat), DriftReport)
    assert det.detect(bat).drifted_features == ["b"]
    assert det.score(bat) == 0.5
    assert det.score(ref) == 1.0


def test_cross_val_score_uses_the_float_score(credit):
    from sklearn.base import clone
    from sklearn.model_selection import KFold, cross_val_score

    # the reference followed by a drifted batch: the folds that hold the
    # batch are scored against references that do not
    X = pd.concat([credit, make_credit_batch(500, defects=False).X], ignore_index=True)
    X["purpose"] = X["purpose"].astype(str)
    cv = KFold(3)
    scores = cross_val_score(DriftDetector(), X, cv=cv)
    expected = [
        clone(DriftDetector()).fit(X.iloc[train]).score(X.iloc[test]) for train, test in cv.split(X)
    ]
    np.testing.assert_array_equal(scores, expected)
    assert scores.dtype == np.float64 and scores.min() < 1.0


def test_skip_parameter_validation_is_honoured(credit):
    # fit_context: scikit-learn's switch turns parameter validation off
    import sklearn
    from sklearn.utils._param_validation import InvalidParameterError

    from mlpipe.drift import DriftMonitor

    for est in (
        KSDrift(columns=["age"], alpha=2.0),
        DriftDetector(n_bins=1),
        PSIDrift(eps=5.0),
        ChiSquareDrift(threshold=-1.0),
        DriftMonitor(max_history=0),
    ):
        with pytest.raises(InvalidParameterError):
            sklearn.clone(est).fit(credit)
        with sklearn.config_context(skip_parameter_validation=True):
            fitted = sklearn.clone(est).fit(credit)
        assert hasattr(fitted, "n_features_in_")


@pytest.mark.parametrize("alternative, shift", [("less", 3.0), ("greater", -3.0)])
def test_signed_zero_ks_statistic_is_scipys(alternative, shift):
    # a reference longer than twice the batch, a batch entirely on one side:
    # the one-sided statistic is zero, and scipy's zero is -0.0 for "less"
    # (clip(-0.0, 0, 1)) and 0.0 for "greater"; asymptotic p-values keep it
    rng = np.random.default_rng(0)
    ref = pd.DataFrame({"x": rng.normal(size=20000)})
    bat = pd.DataFrame({"x": rng.normal(shift, 1.0, size=700)})
    det = KSDrift(alternative=alternative).fit(ref)
    got = det.detect(bat).to_frame()["statistic"].iloc[0]
    want = stats.ks_2samp(ref["x"], bat["x"], alternative=alternative).statistic
    assert got == want == 0.0
    assert np.signbit(got) == np.signbit(want)


def test_drift_share(credit):
    batch = make_credit_batch().X
    assert DriftDetector(drift_share=0.4).fit(credit).detect(batch).drift
    assert not DriftDetector(drift_share=0.5).fit(credit).detect(batch).drift


def test_datetime_and_boolean_columns():
    rng = np.random.default_rng(5)
    ref = pd.DataFrame(
        {
            "when": pd.to_datetime("2024-01-01") + pd.to_timedelta(rng.integers(0, 365, 800), "D"),
            "flag": rng.random(800) < 0.3,
        }
    )
    bat = pd.DataFrame(
        {
            "when": pd.to_datetime("2024-06-01") + pd.to_timedelta(rng.integers(0, 365, 400), "D"),
            "flag": rng.random(400) < 0.6,
        }
    )
    det = DriftDetector().fit(ref)
    assert det.tests_ == {"when": "ks", "flag": "chi2"}
    assert det.detect(bat).to_frame()["drift"].all()


def test_numba_threads_setting_is_honoured(monkeypatch):
    # A batch big enough for the thread pool (20 columns x 20,000 rows is
    # above the 200,000 values where one thread stops being faster): count
    # the distinct threads that ran the KS and PSI kernels.
    import threading

    import numba

    import mlpipe
    from mlpipe.drift import _kernels

    ran = {"ks_statistics_range": set(), "bin_counts_one": set()}
    for name in ran:
        kernel = getattr(_kernels, name)

        def recording(*args, _kernel=kernel, _seen=ran[name]):
            _seen.add(threading.get_ident())
            return _kernel(*args)

        monkeypatch.setattr(_kernels, name, recording)
    rng = np.random.default_rng(8)
    ref = pd.DataFrame(rng.normal(size=(20000, 20)))
    bat = pd.DataFrame(rng.normal(0.05, 1.0, size=(20000, 20)))
    frames = {}
    most = min(2, numba.config.NUMBA_NUM_THREADS)
    for threads in (1, 2):
        for seen in ran.values():
            seen.clear()
        with mlpipe.config_context(numba_threads=threads):
            ks = KSDrift().fit(ref).detect(bat).to_frame()
            psi = PSIDrift().fit(ref).detect(bat).to_frame()
        for name, seen in ran.items():
            assert len(seen) == min(threads, most), (name, threads, len(seen))
        assert threading.get_ident() in ran["ks_statistics_range"]  # the caller works too
        frames[threads] = (ks, psi)
    for one, two in zip(frames[1], frames[2], strict=True):
        pd.testing.assert_frame_equal(one, two)
