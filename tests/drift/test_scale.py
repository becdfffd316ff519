"""References from chunks (partial_fit) and on dask, batches scored on dask:
equal to the in-memory answer, and to scipy/numpy on the concatenated data
(exactly, or within the stated bound where the KS reference is sketched)."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import mlpipe
from mlpipe.datasets import load_credit
from mlpipe.drift import ChiSquareDrift, DriftDetector, KSDrift, PSIDrift
from mlpipe.drift import _reference as naive
from mlpipe.drift._psi import bin_edges
from mlpipe.drift._sketch import stated_bound
from tests._dask import local_client

dask = pytest.importorskip("dask")
dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")

CATEGORICAL = ["sex", "job", "housing", "purpose"]
NUMERIC = ["credit_amount", "duration", "age"]


def frame(n, seed, shift=0.0):
    """Ties, NaN, heavy tails, a categorical dtype, strings, booleans, a
    discrete numeric column (chi-square in DriftDetector)."""
    rng = np.random.default_rng(seed)
    x = np.round(rng.normal(shift, 1, n), 1)  # ties
    x[rng.random(n) < 0.1] = np.nan
    colours = ["blue", "green", "red"] + (["violet"] if shift else [])
    return pd.DataFrame(
        {
            "x": x,
            "tail": rng.standard_cauchy(n) + shift,
            "colour": pd.Categorical(rng.choice(colours, n), categories=sorted(colours)),
            "city": pd.Series(rng.choice(["a", "b", "c", None], n), dtype="str"),
            "flag": rng.random(n) < 0.3 + 0.2 * bool(shift),
            "rating": rng.integers(1, 6, n),
        }
    )


@pytest.fixture(scope="module")
def credit():
    X, _ = load_credit(return_X_y=True)
    batch = X.sample(300, random_state=5).reset_index(drop=True)
    batch["age"] = batch["age"] + 4
    return X, batch


def detectors():
    return [
        DriftDetector(),
        KSDrift(columns=NUMERIC),
        ChiSquareDrift(columns=CATEGORICAL),
        PSIDrift(columns=CATEGORICAL),
    ]


def assert_same_reference(a, b):
    assert (a.columns, a.tests, a.kinds) == (b.columns, b.tests, b.kinds)
    assert (a.n_rows, a.n_missing, a.ks_columns) == (b.n_rows, b.n_missing, b.ks_columns)
    np.testing.assert_array_equal(a.ks_counts, b.ks_counts)
    np.testing.assert_array_equal(a.ks_sorted, b.ks_sorted)
    assert a.categories == b.categories
    for col in a.category_counts:
        np.testing.assert_array_equal(a.category_counts[col], b.category_counts[col])
    assert a.psi_numeric.keys() == b.psi_numeric.keys()
    for col, (edges, counts) in a.psi_numeric.items():
        np.testing.assert_array_equal(edges, b.psi_numeric[col][0])
        np.testing.assert_array_equal(counts, b.psi_numeric[col][1])


def assert_same_report(a, b):
    pd.testing.assert_frame_equal(a.to_frame(), b.to_frame(), check_exact=True)
    assert (a.drift, a.n_reference, a.n_batch) == (b.drift, b.n_reference, b.n_batch)


# --------------------------------------------------------------------------
# partial_fit
# --------------------------------------------------------------------------


@pytest.mark.parametrize("detector", detectors(), ids=lambda d: type(d).__name__)
def test_partial_fit_over_chunks_equals_fit_on_the_whole(detector, credit):
    X, batch = credit
    whole = mlpipe_clone(detector).fit(X)
    chunked = mlpipe_clone(detector)
    for start in range(0, len(X), 270):
        chunked.partial_fit(X.iloc[start : start + 270])
    assert_same_reference(whole.reference_, chunked.reference_)
    assert_same_report(whole.detect(batch), chunked.detect(batch))
    assert chunked.n_features_in_ == X.shape[1]


def test_partial_fit_generated_frame_against_scipy():
    X, batch = frame(900, 0), frame(400, 1, shift=0.4)
    chunked = DriftDetector()
    for start in range(0, len(X), 200):
        chunked.partial_fit(X.iloc[start : start + 200])
    whole = DriftDetector().fit(X)
    assert (
        chunked.tests_
        == whole.tests_
        == {
            "x": "ks",
            "tail": "ks",
            "colour": "chi2",
            "city": "chi2",
            "flag": "chi2",
            "rating": "chi2",
        }
    )
    assert_same_reference(whole.reference_, chunked.reference_)
    report = chunked.detect(batch)
    assert_same_report(whole.detect(batch), report)
    rows = report.to_frame().set_index(["feature", "test"])
    for col in ("x", "tail"):
        res = stats.ks_2samp(X[col].dropna(), batch[col].dropna())
        assert rows.loc[(col, "ks"), "statistic"] == res.statistic
        assert rows.loc[(col, "ks"), "p_value"] == pytest.approx(res.pvalue, rel=1e-10)
    table = pd.crosstab(
        np.r_[np.zeros(len(X)), np.ones(len(batch))], pd.concat([X["rating"], batch["rating"]])
    )
    res = stats.chi2_contingency(table.to_numpy())
    assert rows.loc[("rating", "chi2"), "statistic"] == pytest.approx(res.statistic, rel=1e-12)
    assert rows.loc[("rating", "chi2"), "p_value"] == pytest.approx(res.pvalue, rel=1e-10)
    assert rows.loc[("x", "missing_rate"), "statistic"] == batch["x"].isna().sum()
    assert report.error_bounds == {}


def test_partial_fit_psi_edges_from_the_first_chunk_counts_exact():
    X, batch = frame(900, 2), frame(300, 3, shift=0.5)
    detector = PSIDrift(columns=["x", "tail", "colour"])
    chunks = [X.iloc[i : i + 300] for i in range(0, 900, 300)]
    for chunk in chunks:
        detector.partial_fit(chunk)
    for col in ("x", "tail"):
        edges, counts = detector.reference_.psi_numeric[col]
        first = chunks[0][col].to_numpy()
        np.testing.assert_array_equal(edges, naive.quantile_edges(first, 10))
        expected = naive.bin_counts_one(X[col].to_numpy(), edges)[:-1]
        np.testing.assert_array_equal(counts, expected)
    rows = detector.detect(batch).to_frame().set_index(["feature", "test"])
    edges = detector.reference_.psi_numeric["x"][0]
    expected = naive.psi(X["x"], batch["x"], edges)
    assert rows.loc[("x", "psi"), "statistic"] == pytest.approx(expected, rel=1e-12)
    # one chunk is fit
    assert_same_reference(PSIDrift().fit(X).reference_, PSIDrift().partial_fit(X).reference_)


def test_partial_fit_refuses_other_columns_and_kinds(credit):
    X, _ = credit
    detector = DriftDetector().partial_fit(X.iloc[:100])
    with pytest.raises(ValueError, match="age"):
        detector.partial_fit(X.iloc[100:200].drop(columns="age"))
    other = X.iloc[100:200].assign(duration=lambda d: "d" + d["duration"].astype(str))
    with pytest.raises(TypeError, match="duration"):
        detector.partial_fit(other)
    assert detector.reference_.n_rows == 100  # refused chunks left no trace


# --------------------------------------------------------------------------
# the sketched KS reference
# --------------------------------------------------------------------------


def heavy_frame(n, seed, shift=0.0):
    rng = np.random.default_rng(seed)
    ties = rng.integers(0, 30, n).astype(float) + shift
    ties[rng.random(n) < 0.05] = np.nan
    return pd.DataFrame(
        {
            "ties": ties,
            "tail": rng.standard_cauchy(n) * 1e3 + shift,
            "constant": np.full(n, 7.0),
        }
    )


def check_sketched(detector, ref_frame, batch):
    report = detector.detect(batch)
    rows = report.to_frame().set_index(["feature", "test"])
    bounds = detector.reference_.ks_error_bounds
    assert set(report.error_bounds) == set(bounds) == {"ties", "tail", "constant"}
    n = int(ref_frame.notna().sum().min())
    for col, bound in bounds.items():
        assert report.error_bounds[col] == bound
        assert 0 < bound <= stated_bound(n, detector.sketch_size)
        ref_v, bat_v = ref_frame[col].dropna(), batch[col].dropna()
        exact = stats.ks_2samp(ref_v, bat_v, method="asymp")
        row = rows.loc[(col, "ks")]
        assert abs(row["statistic"] - exact.statistic) <= bound
        assert row["n_reference"] == len(ref_v)  # the true sizes
        # p-value of the true sizes at the sketch's statistic
        _, p = naive.ks_pvalue(len(ref_v), len(bat_v), row["statistic"], method="asymp")
        assert row["p_value"] == pytest.approx(p, rel=1e-9, abs=1e-300)
        assert "within" in row["note"]
    return report


def test_sketched_reference_within_its_bound_of_scipy(tmp_path):
    X, batch = heavy_frame(6000, 0), heavy_frame(800, 1, shift=0.5)
    detector = KSDrift(max_reference_rows=1000, sketch_size=64, method="asymp")
    for start in range(0, len(X), 700):
        detector.partial_fit(X.iloc[start : start + 700])
    ref = detector.reference_
    assert ref.ks_sorted is None and not ref.ks_exact
    assert ref.nbytes < 3 * 8 * 64 * 8  # a few levels of 64 values, not 6000 rows
    report = check_sketched(detector, X, batch)
    # saved and loaded with mlpipe.save: the same report
    mlpipe.save(detector, tmp_path / "ks.skops")
    loaded = mlpipe.load(tmp_path / "ks.skops")
    assert_same_report(loaded.detect(batch), report)
    # fit at once over the budget sketches too, and agrees within the bounds
    at_once = KSDrift(max_reference_rows=1000, sketch_size=64, method="asymp").fit(X)
    check_sketched(at_once, X, batch)


# --------------------------------------------------------------------------
# dask: threads and a LocalCluster of two processes
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cluster():
    with local_client() as client:
        yield client


def listening_hosts(client):
    def hosts(dask_worker=None, dask_scheduler=None):
        server = (dask_worker or dask_scheduler).http_server
        return sorted({s.getsockname()[0] for s in server._sockets.values()})

    found = set(client.run_on_scheduler(hosts))
    for value in client.run(hosts).values():
        found.update(value)
    return found


@pytest.fixture(params=["threads", "cluster"])
def scheduler(request):
    if request.param == "threads":
        with dask.config.set(scheduler="threads"):
            yield "threads"
        return
    client = request.getfixturevalue("cluster")
    with client.as_current(), dask.config.set(scheduler=client):
        yield client


def test_cluster_is_local_and_has_two_worker_processes(cluster):
    assert len(cluster.scheduler_info()["workers"]) == 2
    assert listening_hosts(cluster) == {"127.0.0.1"}


def test_dask_equals_pandas_on_credit(scheduler, credit):
    X, batch = credit
    dX, dbatch = dd.from_pandas(X, npartitions=4), dd.from_pandas(batch, npartitions=3)
    # DriftDetector's KS columns stand for KSDrift's; on the cluster, the
    # detector of every test and scipy's one-sided exact case
    every = [*detectors()[::2], detectors()[3], KSDrift(columns=NUMERIC, alternative="less")]
    for detector in every if scheduler == "threads" else every[::3]:
        memory = mlpipe_clone(detector).fit(X)
        on_dask = mlpipe_clone(detector).fit(dX)
        assert_same_reference(memory.reference_, on_dask.reference_)
        report = memory.detect(batch)
        assert_same_report(on_dask.detect(dbatch), report)
        assert memory.score(dbatch) == report.stable_share
    assert X.equals(load_credit(return_X_y=True)[0])  # the caller's data unchanged


def test_dask_equals_pandas_on_generated_frame(scheduler):
    X, batch = frame(900, 4), frame(500, 5, shift=0.4)
    dX, dbatch = dd.from_pandas(X, npartitions=3), dd.from_pandas(batch, npartitions=4)
    for detector in (DriftDetector(), PSIDrift(n_bins=8)):
        memory = mlpipe_clone(detector).fit(X)
        on_dask = mlpipe_clone(detector).fit(dX)
        assert_same_reference(memory.reference_, on_dask.reference_)
        report = on_dask.detect(dbatch)
        assert_same_report(memory.detect(batch), report)
    rows = report.to_frame().set_index(["feature", "test"])
    assert "1 unseen category ('violet'" in rows.loc[("colour", "psi"), "note"]
    edges = on_dask.reference_.psi_numeric["x"][0]
    np.testing.assert_array_equal(edges, bin_edges(X["x"].to_numpy(), 8, "quantile"))
    assert rows.loc[("x", "psi"), "statistic"] == pytest.approx(
        naive.psi(X["x"], batch["x"], edges), rel=1e-12
    )
    ks = DriftDetector().fit(dX).detect(dbatch).to_frame().set_index(["feature", "test"])
    res = stats.ks_2samp(X["tail"], batch["tail"])
    assert ks.loc[("tail", "ks"), "statistic"] == res.statistic
    assert ks.loc[("tail", "ks"), "p_value"] == pytest.approx(res.pvalue, rel=1e-10)


def test_dask_sketched_reference_and_partial_fit(scheduler):
    X, batch = heavy_frame(6000, 6), heavy_frame(900, 7, shift=0.5)
    params = dict(max_reference_rows=1000, sketch_size=64, method="asymp")
    dX = dd.from_pandas(X, npartitions=6)
    on_dask = KSDrift(**params).fit(dX)
    stream = KSDrift(**params)
    for i in range(dX.npartitions):
        stream.partial_fit(dX.get_partition(i).compute())
    for detector in (on_dask, stream):
        check_sketched(detector, X, batch)
    report = check_sketched(on_dask, X, dd.from_pandas(batch, npartitions=3))
    assert_same_report(report, on_dask.detect(batch))
    # partial_fit with dask chunks continues an exact reference exactly
    exact = KSDrift(method="asymp").partial_fit(dX.partitions[:2]).partial_fit(dX.partitions[2:])
    assert_same_reference(exact.reference_, KSDrift(method="asymp").fit(X).reference_)


def mlpipe_clone(detector):
    from sklearn.base import clone

    return clone(detector)


def split_choice_frame():
    """Columns whose first rows look discrete (or have few categories) but
    whose whole has more distinct values than DriftDetector's limits."""
    rng = np.random.default_rng(11)
    n = 1200
    level = rng.integers(0, 5, n).astype(float)
    level[400:] = rng.normal(0, 1, n - 400)  # discrete at first, continuous after
    names = np.array([f"c{i:02d}" for i in range(30)])
    code = rng.choice(names[:4], n).astype(object)
    code[400:] = rng.choice(names, n - 400)  # 4 categories first, 30 in all
    return pd.DataFrame({"level": level, "code": pd.Series(code, dtype="str")})


def test_dask_fit_picks_the_tests_of_the_whole_frame():
    X = split_choice_frame()
    detector = DriftDetector(max_categories=10)
    memory = mlpipe_clone(detector).fit(X)
    assert memory.tests_ == {"level": "ks", "code": "psi"}
    with dask.config.set(scheduler="threads"):
        on_dask = mlpipe_clone(detector).fit(dd.from_pandas(X, npartitions=3))
        assert on_dask.tests_ == memory.tests_
        assert_same_reference(memory.reference_, on_dask.reference_)
        batch = frame(300, 8).rename(columns={"x": "level", "city": "code"})[["level", "code"]]
        assert_same_report(on_dask.detect(batch), memory.detect(batch))


def test_partial_fit_warns_when_a_column_outgrows_its_first_chunk_test():
    X = split_choice_frame()
    detector = DriftDetector(max_categories=10).partial_fit(X.iloc[:400])
    assert detector.tests_ == {"level": "chi2", "code": "chi2"}
    with pytest.warns(UserWarning, match=r"'level' \(\d+ > 10\), 'code' \(30 > 10\)"):
        detector.partial_fit(X.iloc[400:800])
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # said once, not on every chunk
        detector.partial_fit(X.iloc[800:])
    # the test stays what the first chunk picked, and counts every value
    assert detector.tests_ == {"level": "chi2", "code": "chi2"}
    assert detector.reference_.n_rows == len(X)
    # an explicit choice is the user's: no warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        DriftDetector(tests={"level": "chi2", "code": "chi2"}).partial_fit(
            X.iloc[:400]
        ).partial_fit(X.iloc[400:])


@pytest.mark.parametrize("method", ["exact", "auto"])
def test_sketched_statistic_is_the_sketch_s_not_rounded_to_the_exact_lattice(method):
    # scipy's exact method rounds D to a multiple of 1/lcm(n1, n2); a sketch's
    # counts are not on that lattice, and rounding could take the statistic
    # past the stated bound: the report gives the sketch's own D
    from mlpipe.drift._ks import reference_points
    from mlpipe.drift._sketch import ks_from_points

    X, batch = heavy_frame(6000, 2), heavy_frame(35, 3, shift=0.3)
    detector = KSDrift(columns=["tail", "ties"], max_reference_rows=1000, sketch_size=64)
    detector.set_params(method=method).fit(X)
    rows = detector.detect(batch).to_frame()
    rows = rows[rows["test"] == "ks"].set_index("feature")
    ref = detector.reference_
    for f, col in enumerate(ref.ks_columns):
        u, lt, le = reference_points(ref, f)
        b = np.sort(batch[col].dropna().to_numpy())
        hi, lo, _, _ = ks_from_points(
            int(ref.ks_counts[f]),
            lt,
            le,
            b.size,
            np.searchsorted(b, u, "left"),
            np.searchsorted(b, u, "right"),
        )
        assert rows.loc[col, "statistic"] == max(hi, -lo)
        exact = stats.ks_2samp(X[col].dropna(), b).statistic
        assert abs(rows.loc[col, "statistic"] - exact) <= ref.ks_error_bounds[col]


def test_a_refused_first_chunk_leaves_nothing_behind():
    good = frame(200, 1)[["x", "tail"]]
    bad = good.assign(when=pd.period_range("2020-01", periods=len(good), freq="D"))
    detector = KSDrift()
    with pytest.raises(TypeError, match="cannot compare column 'when'"):
        detector.partial_fit(bad)
    assert not hasattr(detector, "n_features_in_")
    # the parameters are still validated on the next first chunk
    with pytest.raises(ValueError, match="alpha"):
        detector.set_params(alpha=5.0).partial_fit(good)


def test_partial_fit_grows_the_sorted_block_in_place_unless_it_is_held(monkeypatch):
    from mlpipe.drift import _scale

    grown_in_place = []
    real = _scale._grown

    def spy(refs, n_rows):
        out = real(refs, n_rows)
        grown_in_place.append(out is not None)
        return out

    monkeypatch.setattr(_scale, "_grown", spy)
    X = heavy_frame(3000, 9)
    whole = KSDrift().fit(X).reference_
    grown = KSDrift().partial_fit(X.iloc[:1000]).partial_fit(X.iloc[1000:2000])
    held = grown.reference_.ks_sorted  # a caller keeps it: copied, not touched
    before = held.copy()
    grown.partial_fit(X.iloc[2000:])
    assert grown_in_place == [True, False]
    np.testing.assert_array_equal(held, before)
    assert_same_reference(grown.reference_, whole)


def test_drift_monitor_tests_a_dask_batch_on_the_workers(credit):
    from mlpipe.drift import DriftMonitor

    X, batch = credit
    with dask.config.set(scheduler="threads"):
        dbatch = dd.from_pandas(batch, npartitions=3)
        monitor = DriftMonitor(warn=False).fit(X)
        out = monitor.transform(dbatch)
        assert out is dbatch  # still lazy, untouched
        assert_same_report(
            monitor.history_[-1], DriftMonitor(warn=False).fit(X).detector_.detect(batch)
        )
        with pytest.raises(TypeError, match=r"window=100.*cannot take a dask DataFrame"):
            DriftMonitor(window=100).fit(X).transform(dbatch)
