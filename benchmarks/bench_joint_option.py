"""False-alarm rate and power of ``DriftDetector(joint=ClassifierDrift())``
(issue 19, item 1's option).

The joint test keeps its own level, apart from the per-column correction,
so a clean batch raises an alarm when either family does. This measures
how often, beside each family alone, on the same splits.

Clean batches: each data set's rows split at random into a reference and a
batch (exchangeable: every alarm is false). Shifted batches: a credit split
whose batch has one column permuted among its own rows (every marginal
unchanged). One detector per split gives the three verdicts: any column
drifted, the joint row drifted, the report's ``drift``.

Data (all local): the credit data, scikit-learn's breast cancer features,
statsmodels' star98 and the generated families of ``_calibration_data.py``.

Run (about 10 minutes on 2 cores at the default 100 seeds)::

    cd benchmarks && PYTHONPATH=../src:. python bench_joint_option.py \\
        [--n-seeds 100] [--out results/joint_option.md]
"""

import argparse
import time
from pathlib import Path

import numpy as np

from bench_classifier_drift import _data, wilson
from mlpipe.datasets import load_credit
from mlpipe.drift import ClassifierDrift, DriftDetector

NULL_CELLS = [
    ("credit", 500, 500),
    ("credit", 800, 200),
    ("credit", 950, 50),
    ("sklearn_breast_cancer", 400, 169),
    ("sm_star98", 250, 53),
    ("gen_missing_ties_2000", 1500, 500),
    ("gen_categories_2000", 1500, 500),
    ("gen_heavy_tails_2000", 1500, 500),
    ("gen_counts_2000", 1500, 500),
]
POWER_CELLS = [("duration", 600, 400), ("duration", 800, 200), ("credit_amount", 800, 200)]


def _one(X, n_ref, n_bat, seed, permute=None):
    rng = np.random.default_rng(seed)
    rows = rng.permutation(len(X))
    ref = X.iloc[rows[:n_ref]]
    batch = X.iloc[rows[n_ref : n_ref + n_bat]].copy()
    if permute is not None:
        batch[permute] = rng.permutation(batch[permute].to_numpy())
    joint = ClassifierDrift(explain=False, random_state=seed)
    report = DriftDetector(joint=joint).fit(ref).detect(batch)
    frame = report.to_frame()
    is_joint = frame["feature"] == "(joint)"
    return bool(frame["drift"][~is_joint].any()), bool(frame["drift"][is_joint].any()), report.drift


def _rate(flags):
    k, n = int(np.sum(flags)), len(flags)
    lo, hi = wilson(k, n)
    return f"{k / n:.3f} [{lo:.3f}, {hi:.3f}]"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-seeds", type=int, default=100)
    parser.add_argument("--n-power-seeds", type=int, default=30)
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    lines = [
        "| data set, reference / batch rows | splits | any column | joint test | report.drift |",
        "|---|---:|---:|---:|---:|",
    ]
    pooled = []
    for name, n_ref, n_bat in NULL_CELLS:
        X = _data(name)
        results = [_one(X, n_ref, n_bat, 1000 + s) for s in range(args.n_seeds)]
        pooled += results
        cols, joint, report = (np.array(r) for r in zip(*results, strict=True))
        lines.append(
            f"| {name}, {n_ref} / {n_bat} | {len(results)} | {_rate(cols)} | "
            f"{_rate(joint)} | {_rate(report)} |"
        )
        print(lines[-1], flush=True)
    cols, joint, report = (np.array(r) for r in zip(*pooled, strict=True))
    lines.append(
        f"| **all clean splits** | {len(pooled)} | {_rate(cols)} | {_rate(joint)} | "
        f"{_rate(report)} |"
    )
    power = [
        "| column permuted, reference / batch rows | splits | any column | joint test "
        "| report.drift |",
        "|---|---:|---:|---:|---:|",
    ]
    X = load_credit(return_X_y=True)[0]
    for column, n_ref, n_bat in POWER_CELLS:
        results = [_one(X, n_ref, n_bat, 5000 + s, column) for s in range(args.n_power_seeds)]
        cols, joint, report = (np.array(r) for r in zip(*results, strict=True))
        power.append(
            f"| {column}, {n_ref} / {n_bat} | {len(results)} | {_rate(cols)} | "
            f"{_rate(joint)} | {_rate(report)} |"
        )
        print(power[-1], flush=True)
    seconds = time.perf_counter() - start
    text = "\n".join(
        [
            "# `DriftDetector(joint=ClassifierDrift())`: false alarms and power",
            "",
            f"Alpha 0.05 for both families (Benjamini-Hochberg over the columns). "
            f"{seconds:.0f} s. Rates with 95% Wilson intervals.",
            "",
            "Clean splits (every alarm is false):",
            "",
            *lines,
            "",
            "Credit batches with one column permuted among their rows (every marginal unchanged):",
            "",
            *power,
            "",
            "Rerun: `cd benchmarks && PYTHONPATH=../src:. python bench_joint_option.py "
            f"--n-seeds {args.n_seeds} --n-power-seeds {args.n_power_seeds} "
            "--out results/joint_option.md`",
            "",
        ]
    )
    print(text)
    if args.out:
        Path(args.out).write_text(text)


if __name__ == "__main__":
    main()
