"""The drift-reference JSON of mlpipe.mlflow for a reference whose KS columns
are sketched (issue 18): the sketch is exported whole, not dropped.

No code of mlpipe reads the JSON back, so the oracles are the sketch itself
(its ``points()``, rebuilt here from the JSON by the rule the docstring
states), numpy's exact counts on the data it summarizes (within the
exported bound), scipy's KS statistic, and the detector's own report.
"""

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.dummy import DummyClassifier
from sklearn.pipeline import Pipeline

from mlpipe.drift import DriftMonitor, KSDrift
from mlpipe.drift._sketch import QuantileSketch
from mlpipe.mlflow import save_model
from mlpipe.mlflow._flavor import _reference_to_dict

mlflow = pytest.importorskip("mlflow")

COLUMNS = ["x", "tail", "count"]


def frame(n, seed, shift=0.0):
    """Ties and NaN, a heavy tail with infinite values, small counts."""
    rng = np.random.default_rng(seed)
    x = np.round(rng.normal(shift, 1, n), 1)
    x[rng.random(n) < 0.05] = np.nan
    tail = rng.standard_cauchy(n) * 1e3 + shift
    tail[rng.choice(n, 6, replace=False)] = [np.inf] * 3 + [-np.inf] * 3
    return pd.DataFrame({"x": x, "tail": tail, "count": rng.integers(0, 30, n).astype(float)})


@pytest.fixture(scope="module")
def sketched():
    X = frame(5000, 0)
    # asymp: the statistic as computed (in exact mode scipy, and so the
    # detector, rounds it to the lattice h / lcm(n1, n2))
    detector = KSDrift(max_reference_rows=1000, sketch_size=64, method="asymp").fit(X)
    assert not detector.reference_.ks_exact
    return X, detector


def exported(reference):
    """The reference as the artifact holds it: through strict JSON text."""
    return json.loads(json.dumps(_reference_to_dict(reference), allow_nan=False))


def number(v):
    return np.nan if v is None else float(v)  # float() reads "Infinity"


def points_from_json(sketch):
    """The ECDF points of an exported sketch, by the rule of its docstring:
    the level values with their weights (and the minimum and maximum with
    none), the weight at or below each distinct value plus ``bias``,
    clipped to [0, n], and n at the maximum."""
    values = [number(v) for level in sketch["levels"] for v in level["values"]]
    weights = [level["weight"] for level in sketch["levels"] for _ in level["values"]]
    values = np.array([*values, number(sketch["minimum"]), number(sketch["maximum"])])
    weights = np.array([*weights, 0.0, 0.0])
    order = np.argsort(values, kind="stable")
    u, start = np.unique(values[order], return_index=True)
    le = np.add.reduceat(weights[order], start).cumsum() + sketch["bias"]
    le = np.clip(le, 0.0, float(sketch["n"]))
    le[-1] = sketch["n"]
    return u, np.r_[0.0, le[:-1]], le


def test_sketch_exported_whole_and_its_points_reproduced(sketched):
    X, detector = sketched
    reference = detector.reference_
    data = exported(reference)
    assert data["ks_exact"] is False and data["ks_sorted"] is None
    assert data["ks_columns"] == COLUMNS and len(data["ks_sketches"]) == len(COLUMNS)
    for col, sketch, out in zip(COLUMNS, reference.ks_sketches, data["ks_sketches"], strict=True):
        assert (out["k"], out["n"]) == (64, int(X[col].notna().sum()))
        assert number(out["minimum"]) == X[col].min() and number(out["maximum"]) == X[col].max()
        assert len(out["levels"]) > 1  # compacted: several levels of weights 1, 2, 4...
        assert [lv["weight"] for lv in out["levels"]] == [2.0**h for h in range(len(out["levels"]))]
        for got, expected in zip(points_from_json(out), sketch.points(), strict=True):
            np.testing.assert_array_equal(got, expected)
        # the whole state: the sketch rebuilt from the JSON is the same sketch
        rebuilt = QuantileSketch(
            k=out["k"],
            n=out["n"],
            levels=[np.array([number(v) for v in lv["values"]]) for lv in out["levels"]],
            parity=out["parity"],
            bias=out["bias"],
            error_bound=out["error_bound"],
            minimum=number(out["minimum"]),
            maximum=number(out["maximum"]),
        )
        for got, expected in zip(rebuilt.points(), sketch.points(), strict=True):
            np.testing.assert_array_equal(got, expected)
        assert rebuilt.parity == sketch.parity and rebuilt.bias == sketch.bias
        # the stated bound, and that it holds against the data's exact counts
        assert out["rank_error"] == data["ks_error_bounds"][col] == reference.ks_error_bounds[col]
        assert out["rank_error"] == out["error_bound"] / out["n"] > 0
        u, _, le = points_from_json(out)
        values = np.sort(X[col].dropna().to_numpy())
        exact = np.searchsorted(values, u, side="right")
        assert np.abs(le - exact).max() <= out["error_bound"]


def test_ks_statistic_from_the_exported_points_is_the_reports(sketched):
    X, detector = sketched
    batch = frame(700, 1, shift=0.3)
    data = exported(detector.reference_)
    report = detector.detect(batch)
    rows = report.to_frame().set_index(["feature", "test"])
    assert report.error_bounds == data["ks_error_bounds"]
    for col, out in zip(COLUMNS, data["ks_sketches"], strict=True):
        u, lt, le = points_from_json(out)
        b = np.sort(batch[col].dropna().to_numpy())
        # every extreme of the ECDF difference lies at a reference point or
        # its left limit, where the reference ECDF steps
        diffs = (
            np.r_[lt, le] / out["n"]
            - np.r_[np.searchsorted(b, u, side="left"), np.searchsorted(b, u, side="right")]
            / b.size
        )
        statistic = max(diffs.max(), -diffs.min())
        assert rows.loc[(col, "ks"), "statistic"] == statistic
        exact = stats.ks_2samp(X[col].dropna(), b, method="asymp")
        assert abs(statistic - exact.statistic) <= out["rank_error"]


def test_exact_reference_says_so_and_keeps_infinities():
    X = frame(300, 2)
    reference = KSDrift().fit(X).reference_
    data = exported(reference)  # strict JSON: infinite values are strings
    assert data["ks_exact"] is True and data["ks_sketches"] is None
    assert data["ks_error_bounds"] == dict.fromkeys(COLUMNS, 0.0)
    tail = data["ks_sorted"][COLUMNS.index("tail")]
    assert tail.count("Infinity") == tail.count("-Infinity") == 3
    np.testing.assert_array_equal([number(v) for v in tail], np.sort(X["tail"].to_numpy()))


def test_saved_model_artifact_holds_the_sketch(sketched, tmp_path):
    X, _ = sketched
    y = (X["count"] > 14).to_numpy()
    monitor = DriftMonitor(detector=KSDrift(max_reference_rows=1000, sketch_size=64), warn=False)
    pipe = Pipeline([("monitor", monitor), ("model", DummyClassifier())]).fit(X, y)
    save_model(pipe, tmp_path / "model", pip_requirements=[])
    artifacts = mlflow.models.Model.load(str(tmp_path / "model")).flavors["python_function"]
    path = tmp_path / "model" / artifacts["artifacts"]["drift-reference-monitor"]["path"]
    saved = json.loads(path.read_text())
    reference = pipe.named_steps["monitor"].detector_.reference_
    assert saved["reference"] == exported(reference)
    assert saved["reference"]["ks_error_bounds"] == reference.ks_error_bounds
    assert [s["n"] for s in saved["reference"]["ks_sketches"]] == X.notna().sum().tolist()
