"""Drift of datetime columns: zone-aware ones compare as UTC nanoseconds, and
any resolution as nanoseconds (issue 14, item 7)."""

import numpy as np
import pandas as pd
import pytest
from scipy.stats import ks_2samp

from mlpipe.drift import DriftDetector, DriftMonitor, KSDrift, PSIDrift


def _times(n, shift_hours=0.0, tz="Europe/Oslo", seed=0):
    rng = np.random.default_rng(seed)
    offsets = pd.to_timedelta(rng.normal(shift_hours, 24.0, size=n), unit="h")
    return pd.Series(pd.Timestamp("2024-03-30", tz=tz) + offsets, name="when")


def _utc_ns(series):
    """The oracle's own conversion: nanoseconds since the epoch, from the
    timestamps' UTC values one by one."""
    return np.array([ts.tz_convert("UTC").value for ts in series], dtype=np.float64)


@pytest.mark.parametrize("shift", [0.0, 12.0])
def test_ks_of_a_zone_aware_column_equals_scipy_on_utc_nanoseconds(shift):
    ref = pd.DataFrame({"when": _times(400)})
    batch = pd.DataFrame({"when": _times(150, shift, seed=1)})
    row = KSDrift().fit(ref).detect(batch).to_frame().iloc[0]
    expected = ks_2samp(_utc_ns(ref["when"]), _utc_ns(batch["when"]))
    assert row["statistic"] == expected.statistic
    assert row["p_value"] == pytest.approx(expected.pvalue, rel=1e-10)


def test_a_batch_in_another_zone_is_the_same_instants():
    ref = pd.DataFrame({"when": _times(400)})
    same = pd.DataFrame({"when": ref["when"].dt.tz_convert("America/New_York")})
    row = KSDrift().fit(ref).detect(same).to_frame().iloc[0]
    assert row["statistic"] == 0.0 and not row["drift"]


def test_a_batch_in_another_resolution_is_the_same_instants():
    ref = pd.DataFrame({"when": _times(400).dt.tz_localize(None).astype("datetime64[us]")})
    same = pd.DataFrame({"when": ref["when"].astype("datetime64[ns]")})
    row = KSDrift().fit(ref).detect(same).to_frame().iloc[0]
    assert row["statistic"] == 0.0 and not row["drift"]


@pytest.mark.parametrize(
    "est",
    [KSDrift(), PSIDrift(), DriftDetector(), DriftMonitor(warn=False)],
    ids=lambda e: type(e).__name__,
)
def test_every_detector_fits_and_scores_zone_aware_columns(est):
    ref = pd.DataFrame({"when": _times(400), "x": np.arange(400.0)})
    ref.loc[[3, 9], "when"] = pd.NaT
    moved = pd.DataFrame({"when": _times(200, 72.0, seed=2), "x": np.arange(200.0) * 2})
    est.fit(ref)
    if isinstance(est, DriftMonitor):
        est.transform(moved)
        report = est.last_report_
    else:
        report = est.detect(moved)
    frame = report.to_frame()
    when = frame[(frame["feature"] == "when") & (frame["test"] != "missing_rate")].iloc[0]
    assert when["drift"]  # three days later is drift
    assert "when" in report.drifted_features
