"""map_merge: partitions summarized and merged in order, a wave at a time."""

import numpy as np
import pandas as pd
import pytest

from mlpipe.utils._dask import map_merge

dask = pytest.importorskip("dask")
dd = pytest.importorskip("dask.dataframe")


def _rows(part):
    return part["i"].tolist()


def _concat(summaries):
    return [v for s in summaries for v in s]


@pytest.mark.parametrize("wave", [None, 1, 2, 3, 100])
@pytest.mark.parametrize("split_every", [2, 8])
def test_every_wave_merges_in_partition_order(wave, split_every, monkeypatch):
    frame = pd.DataFrame({"i": np.arange(70)})
    ddf = dd.from_pandas(frame, npartitions=7)
    computes = []
    real = dask.compute

    def counted(*args, **kwargs):
        computes.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(dask, "compute", counted)
    with dask.config.set(scheduler="threads", num_workers=2):
        out = map_merge(ddf, _rows, _concat, split_every=split_every, wave=wave)
    assert out == list(range(70))
    expected_waves = -(-7 // (wave or 1))  # default on a local scheduler: one partition
    assert len(computes) == expected_waves


def test_shared_reaches_every_partition_on_the_threaded_scheduler():
    ddf = dd.from_pandas(pd.DataFrame({"i": np.arange(10)}), npartitions=5)
    with dask.config.set(scheduler="threads"):
        out = map_merge(ddf, lambda p, k: [len(p) * k], _concat, shared=3, wave=2)
    assert out == [6] * 5
