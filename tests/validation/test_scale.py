"""SchemaValidator on data larger than memory (issue 18): partial_fit over
chunks and fit/transform on a dask DataFrame give what fit and transform on
the concatenated pandas frame give (the oracle)."""

import warnings

import numpy as np
import pandas as pd
import pytest

from mlpipe.datasets import load_credit, make_credit_batch
from mlpipe.exceptions import DataValidationError
from mlpipe.validation import SchemaValidator
from tests._dask import local_client

dask = pytest.importorskip("dask")
dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client():
    with local_client() as client:
        yield client


def _frame(n=3000, seed=0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {
            "f": rng.normal(size=n),
            "ties": rng.integers(0, 4, n).astype(float),
            "i": rng.integers(-5, 50, n),
            "t": pd.date_range("2021-01-01", periods=n, freq="min"),
            "c": pd.Categorical(rng.choice(["a", "b", "c"], n)),
            "s": pd.Series(rng.choice(["x", "y", "z", "w"], n, p=[0.5, 0.3, 0.19, 0.01])),
        }
    )
    for col in ["f", "ties", "s"]:
        X.loc[rng.random(n) < 0.05, col] = None
    return X


def _batch(seed=1, column_level=True):
    B = _frame(1500, seed)
    B.loc[3, "f"] = 40.0
    B.loc[[5, 900], "i"] = -100
    B.loc[7, "s"] = "new"
    if column_level:
        B.loc[1200:, "ties"] = None
    return B


@pytest.fixture(scope="module")
def credit():
    return load_credit(return_X_y=True)[0]


def _chunked(X, size, **params):
    v = SchemaValidator(**params)
    for start in range(0, len(X), size):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            v.partial_fit(X.iloc[start : start + size])
    return v


@pytest.mark.parametrize("which", ["credit", "generated"])
def test_partial_fit_equals_fit_on_the_whole(which, credit):
    X = credit if which == "credit" else _frame()
    before = X.copy()
    whole = SchemaValidator().fit(X)
    chunked = _chunked(X, 317)
    assert chunked.schema_ == whole.schema_
    assert chunked.inexact_tails_ == {}
    # a sorted column (the datetimes) needs its extremes from the first and
    # last chunks only, and gets them
    assert (
        chunked.schema_["t"].tail_low == whole.schema_["t"].tail_low if which != "credit" else True
    )
    pd.testing.assert_frame_equal(X, before)


def test_partial_fit_chunk_with_other_columns_is_an_error():
    X = _frame(200)
    v = SchemaValidator().partial_fit(X.iloc[:100])
    with pytest.raises(ValueError, match="Feature names seen at fit time, yet now missing"):
        v.partial_fit(X.iloc[100:].drop(columns="i"))
    with pytest.raises(TypeError, match="Column 'i' is categorical in a chunk but numeric"):
        v.partial_fit(X.iloc[100:].assign(i="text"))


def test_a_tail_spread_too_unevenly_is_reported_not_hidden():
    # descending values: the first chunk holds the whole upper tail
    X = pd.DataFrame({"x": np.arange(20000, 0, -1, dtype=float)})
    chunked = _chunked(X, 50)
    whole = SchemaValidator().fit(X)
    used, wanted = chunked.inexact_tails_["x"]["high"]
    assert used < wanted == 283
    assert chunked.schema_["x"].tail_high["rate"] == used / 20000
    assert chunked.schema_["x"].tail_low == whole.schema_["x"].tail_low
    assert (chunked.schema_["x"].min, chunked.schema_["x"].max) == (1.0, 20000.0)


def _reports_equal(pandas_report, dask_report):
    pd.testing.assert_frame_equal(pandas_report.to_frame(), dask_report.to_frame())
    assert pandas_report.summary() == dask_report.summary()
    assert pandas_report.failing_rows.tolist() == dask_report.failing_rows.tolist()


def _check_dask(X, B, B_rows, scheduler_kwargs, npartitions=4):
    with dask.config.set(**scheduler_kwargs):
        ddf = dd.from_pandas(X, npartitions=npartitions)
        # dask gives text columns its own string dtype: the oracle sees the same frame
        X_d = ddf.compute()
        whole = SchemaValidator(on_error="warn").fit(X_d)
        fitted = SchemaValidator(on_error="warn").fit(ddf)
        assert fitted.schema_ == whole.schema_
        assert fitted.last_report_.compute().failures == whole.last_report_.failures
        bd = dd.from_pandas(B, npartitions=min(3, npartitions))
        B_d = bd.compute()
        with warnings.catch_warnings(record=True):
            whole.transform(B_d)
        out = fitted.transform(bd)
        assert isinstance(out, dd.DataFrame)
        result, report = dask.compute(out, fitted.last_report_.to_delayed())
        pd.testing.assert_frame_equal(result, B_d)
        _reports_equal(whole.last_report_, report)
        assert not report.passed
        # row by row, lazily: the reasons the in-memory report gives
        reasons = fitted.row_reasons(bd)
        assert isinstance(reasons, dd.DataFrame)
        expected = whole.row_reasons(B_d)
        pd.testing.assert_frame_equal(reasons.compute(), expected, check_dtype=False)
        assert (~expected["passed"]).any()
        # the merged report keeps no row masks: it refuses, not answers "all fine"
        for method in (report.row_reasons, lambda: report.rows_of("i")):
            with pytest.raises(ValueError, match="dask batch, which keeps"):
                method()

        drop = SchemaValidator(on_error="drop_rows").fit(X_d)
        br = dd.from_pandas(B_rows, npartitions=min(3, npartitions))
        with warnings.catch_warnings(record=True):
            kept = drop.transform(br.compute())
        lazy = drop.transform(br)
        got = lazy.compute()
        pd.testing.assert_frame_equal(got, kept)  # failing rows gone, labels kept
        assert drop.last_report_.n_dropped == len(B_rows) - len(got) > 0

        strict = SchemaValidator().fit(X_d)
        lazy = strict.transform(bd)  # lazy: nothing raised yet
        with pytest.raises(DataValidationError, match="out_of_range"):
            lazy.compute()


def test_dask_equals_pandas_threaded(credit):
    _check_dask(_frame(), _batch(), _batch(column_level=False), {"scheduler": "threads"})
    batch = make_credit_batch(1200, drift=True, random_state=0).X
    _check_dask(credit, batch, batch, {"scheduler": "threads"})


def test_dask_equals_pandas_on_a_local_cluster(client):
    # the threaded test covers the credit data too; here, that the checks
    # travel to worker processes and back
    _check_dask(_frame(), _batch(), _batch(column_level=False), {}, npartitions=2)


def test_keys_repeated_across_partitions():
    X = pd.DataFrame({"id": np.arange(400), "v": np.arange(400.0)})
    B = pd.DataFrame({"id": [1, 2, 3, 1, 4, 2, 2, 5], "v": np.arange(8.0)}, index=np.arange(8) * 10)
    whole = SchemaValidator(key="id", on_error="drop_rows").fit(X)
    with warnings.catch_warnings(record=True):
        expected = whole.transform(B)
    with dask.config.set(scheduler="threads"):
        ours = SchemaValidator(key="id", on_error="drop_rows")
        ours.fit(dd.from_pandas(X, npartitions=3))
        got = ours.transform(dd.from_pandas(B, npartitions=3)).compute()
        pd.testing.assert_frame_equal(got, expected)
        _reports_equal(whole.last_report_, ours.last_report_.compute())


def test_lazy_report_is_saved_as_a_report(tmp_path):
    import mlpipe

    X = _frame(300)
    with dask.config.set(scheduler="threads"):
        v = SchemaValidator(on_error="warn").fit(dd.from_pandas(X, npartitions=2))
        v.transform(dd.from_pandas(_batch(), npartitions=2))
        path = tmp_path / "v.skops"
        mlpipe.save(v, path)
    loaded = mlpipe.load(path)
    assert loaded.schema_ == v.schema_
    assert loaded.last_report_.to_frame().equals(v.last_report_.to_frame())


class _CountedPartitions:
    """``dd.from_map`` reader of a frame's partitions that counts how many
    of the partitions it made are alive at once (the memory a pass holds)."""

    def __init__(self, X, n_parts):
        import threading

        self.X, self.bounds = X, np.linspace(0, len(X), n_parts + 1).astype(int)
        self.lock, self.live, self.peak, self.reads = threading.Lock(), 0, 0, 0

    def __dask_tokenize__(self):
        return ("counted-partitions", id(self))

    def _gone(self):
        with self.lock:
            self.live -= 1

    def __call__(self, i):
        import weakref

        part = self.X.iloc[self.bounds[i] : self.bounds[i + 1]].copy()
        with self.lock:
            self.live += 1
            self.reads += 1
            self.peak = max(self.peak, self.live)
        weakref.finalize(part, self._gone)
        return part

    def frame(self):
        n = len(self.bounds) - 1
        return dd.from_map(self, range(n), meta=self.X.iloc[:0], enforce_metadata=False)

    def reset(self):
        self.peak, self.reads = self.live, 0


def test_the_passes_over_a_dask_batch_never_hold_it_whole():
    # Regression: the second pass (checks against the whole batch's
    # statistics) shared its partitions with the first, so every partition
    # waited in memory for the first pass to be merged: the whole batch was
    # held at once (4.8 GB of 36M rows). Each pass reads its partitions now.
    X, B = _frame(3200), _batch(column_level=False)
    B["id"], X["id"] = np.r_[np.arange(len(B) - 1), 7], np.arange(len(X))
    reader, batch_reader = _CountedPartitions(X, 16), _CountedPartitions(B, 16)
    # the threaded scheduler, whatever client an earlier test left current
    local = {"scheduler": "threads", "num_workers": 1, "dataframe.shuffle.method": "tasks"}
    with dask.config.set(local):
        fitted = SchemaValidator(key="id", on_error="drop_rows").fit(reader.frame())
        reader.reset()
        fitted.last_report_.compute()
        assert reader.peak <= 2, reader.peak
        assert reader.reads == 48  # two passes of 16 partitions, and the key's groupby
        out, report = dask.compute(
            fitted.transform(batch_reader.frame()), fitted.last_report_.to_delayed()
        )
        assert batch_reader.peak <= 2, batch_reader.peak
        batch_reader.reset()
        reasons = fitted.row_reasons(batch_reader.frame()).compute()
        assert batch_reader.peak <= 2, batch_reader.peak
        X_d, B_d = reader.frame().compute(), batch_reader.frame().compute()
    whole = SchemaValidator(key="id", on_error="drop_rows").fit(X_d)
    with warnings.catch_warnings(record=True):
        kept = whole.transform(B_d)
    assert 0 < len(out) < len(B)  # rows dropped: the repeated key, the bad values
    pd.testing.assert_frame_equal(out, kept)
    _reports_equal(whole.last_report_, report)
    pd.testing.assert_frame_equal(reasons, whole.row_reasons(B_d), check_dtype=False)
