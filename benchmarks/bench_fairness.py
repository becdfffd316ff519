"""group_metrics against fairlearn's MetricFrame on the same inputs.

1,000,000 rows, 50 sensitive groups (string labels), binary labels and
predictions; five metrics per group: count, selection rate, true and false
positive rate, accuracy. One run each (MetricFrame takes seconds), the same
values checked after timing. Run with::

    pytest benchmarks/bench_fairness.py --benchmark-only
"""

import numpy as np
import pytest
from fairlearn import metrics as fl
from numpy.testing import assert_allclose
from sklearn.metrics import accuracy_score

from mlpipe.fairness import group_metrics

N_ROWS = 1_000_000
N_GROUPS = 50
GROUP = "fairness: per-group metrics, 1M rows x 50 groups"
METRICS = ["count", "selection_rate", "true_positive_rate", "false_positive_rate", "accuracy"]
PEER = {
    "count": fl.count,
    "selection_rate": fl.selection_rate,
    "true_positive_rate": fl.true_positive_rate,
    "false_positive_rate": fl.false_positive_rate,
    "accuracy": accuracy_score,
}


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    groups = np.array([f"group_{k:02d}" for k in range(N_GROUPS)], dtype=object)
    sf = groups[rng.integers(0, N_GROUPS, N_ROWS)]
    y_true = rng.integers(0, 2, N_ROWS)
    y_pred = (rng.random(N_ROWS) < 0.3 + 0.4 * y_true).astype(int)
    return y_true, y_pred, sf


@pytest.mark.benchmark(group=GROUP)
def test_group_metrics(benchmark, data):
    y_true, y_pred, sf = data
    benchmark.extra_info["role"] = "mlpipe"
    table = benchmark.pedantic(
        lambda: group_metrics(y_true, y_pred, sensitive_features=sf, metrics=METRICS),
        rounds=1,
        iterations=1,
    )
    assert table.by_group.shape == (N_GROUPS, len(METRICS))
    data_check = fl.MetricFrame(
        metrics=PEER,
        y_true=y_true[:100_000],
        y_pred=y_pred[:100_000],
        sensitive_features=sf[:100_000],
    )
    small = group_metrics(
        y_true[:100_000], y_pred[:100_000], sensitive_features=sf[:100_000], metrics=METRICS
    )
    assert_allclose(small.by_group.to_numpy(float), data_check.by_group.to_numpy(float))


@pytest.mark.benchmark(group=GROUP)
def test_fairlearn_metric_frame(benchmark, data):
    y_true, y_pred, sf = data
    benchmark.extra_info["role"] = "peer"
    frame = benchmark.pedantic(
        lambda: fl.MetricFrame(metrics=PEER, y_true=y_true, y_pred=y_pred, sensitive_features=sf),
        rounds=1,
        iterations=1,
    )
    assert frame.by_group.shape == (N_GROUPS, len(METRICS))
    ours = group_metrics(y_true, y_pred, sensitive_features=sf, metrics=METRICS)
    assert_allclose(ours.by_group.to_numpy(float), frame.by_group.to_numpy(float), rtol=1e-12)
