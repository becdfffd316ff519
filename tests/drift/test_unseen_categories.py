"""Categories unseen at fit in the permutation tests of chi-square and PSI.

Regression (issue 13, found by benchmarks/bench_calibration.py): the Monte
Carlo permutation test lumped a batch's unseen categories into one bucket
with reference count 0, so a column of row identifiers (statsmodels'
fertility "Country Name") or one with 30% singletons was flagged on every
clean batch, p = 0.0005.
"""

import math

import numpy as np
import pandas as pd
import pytest

from mlpipe.drift import ChiSquareDrift, DriftDetector, PSIDrift
from mlpipe.drift._tables import split_unseen


def identifiers(n, start=0):
    return pd.DataFrame({"id": [f"row{i:05d}" for i in range(start, start + n)]})


@pytest.mark.parametrize("detector", [ChiSquareDrift, PSIDrift, DriftDetector])
@pytest.mark.parametrize("m", [1, 10, 66])
def test_row_identifiers_are_not_drift(detector, m):
    # Every value is new in every batch, as it was in the reference.
    report = detector().fit(identifiers(153)).detect(identifiers(m, start=1000))
    assert not report.drift, report.to_frame()[["feature", "p_value", "note"]]


def test_many_singletons_hold_alpha():
    rng = np.random.default_rng(0)
    common = np.array([f"c{i}" for i in range(20)], dtype=object)
    trials, flagged = 60, 0
    for t in range(trials):
        n = 700
        values = np.where(
            rng.random(n) < 0.3,
            np.array([f"s{t}_{i}" for i in range(n)], dtype=object),
            common[rng.integers(0, 20, n)],
        )
        frame = pd.DataFrame({"c": values})
        ref, batch = frame.iloc[:490], frame.iloc[490:]
        flagged += PSIDrift().fit(ref).detect(batch).drift
    alpha = 0.05
    assert flagged / trials <= alpha + 3 * math.sqrt(alpha * (1 - alpha) / trials)


def test_a_real_shift_among_identifiers_is_still_found():
    ref = identifiers(153)
    batch = pd.DataFrame({"id": [ref["id"].iloc[0]] * 60})  # one category, 60 times
    assert ChiSquareDrift().fit(ref).detect(batch).drift


def test_split_unseen():
    ref, bat = split_unseen([5, 3, 0], [2, 1, 4], [3, 1])
    assert ref.tolist() == [5, 3, 0, 0] and bat.tolist() == [2, 1, 3, 1]
    # nothing unseen, or a table without the bucket: unchanged
    ref, bat = split_unseen([5, 3], [2, 1], [])
    assert ref.tolist() == [5, 3] and bat.tolist() == [2, 1]
