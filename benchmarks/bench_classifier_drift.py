"""False-alarm rate and power of ClassifierDrift (issue 19, item 1).

Clean batches: each data set's rows are split at random into a reference
and a batch (the two are exchangeable, so every alarm is a false one), many
seeds a cell. For every split the detector's out-of-fold scores are computed
once (``explain=False``) and both p-values are taken from them: the
default (one-sided Mann-Whitney U of the first held-out fold's scores) and
the pooled one (Mann-Whitney U of all the out-of-fold scores,
``p_value="mannwhitney"``). The table gives the share of splits with p <=
alpha (0.05) for each, with its 95% Wilson interval, the share the detector
flags (default p <= alpha and AUROC >= 0.55), the mean AUROC and the
Kolmogorov-Smirnov p-value of the default p-values against the uniform
distribution.

Shifted batches (power): a credit split whose batch has one column permuted
among the batch rows (every marginal unchanged, its dependence on the other
columns gone), with the share of splits DriftDetector flags beside it.

Data (all local): the credit data, scikit-learn's breast cancer features and
the generated families of ``_calibration_data.py`` (mixed numeric, counts,
many categories with singletons, so unseen categories in batches, missing
values, ties and a datetime column).

Run (about 10-15 minutes on 2 shared cores at the default 200 seeds)::

    PYTHONPATH=src python benchmarks/bench_classifier_drift.py \
        [--n-seeds 200] [--out benchmarks/results/classifier_drift.md]
"""

import argparse
import math
import platform
import time
from pathlib import Path

import numpy as np
import sklearn
from scipy import stats

from _calibration_data import load, stable_seed
from mlpipe.datasets import load_credit
from mlpipe.drift import ClassifierDrift, DriftDetector
from mlpipe.drift._classifier import _auroc_mannwhitney

ALPHA = 0.05

# (data set, reference rows, batch rows)
NULL_CELLS = [
    ("credit", 500, 500),
    ("credit", 800, 200),
    ("credit", 950, 50),
    ("credit", 990, 10),
    ("sklearn_breast_cancer", 400, 169),
    ("gen_missing_ties_2000", 1500, 500),
    ("gen_categories_2000", 1500, 500),
    ("gen_heavy_tails_2000", 1500, 500),
    ("gen_counts_2000", 1500, 500),
]

# (column permuted among the batch rows, reference rows, batch rows)
POWER_CELLS = [
    ("duration", 600, 400),
    ("duration", 800, 200),
    ("duration", 900, 100),
    ("credit_amount", 800, 200),
    ("age", 800, 200),
]


def _data(name):
    if name == "credit":
        return load_credit(return_X_y=True)[0]
    return load(name)[0]


def wilson(k, n, z=1.96):
    """95% Wilson interval of a proportion k / n."""
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def _one(X, n_ref, n_bat, seed, permute=None):
    rng = np.random.default_rng(seed)
    rows = rng.permutation(len(X))
    ref = X.iloc[rows[:n_ref]]
    batch = X.iloc[rows[n_ref : n_ref + n_bat]].copy()
    if permute is not None:
        batch[permute] = rng.permutation(batch[permute].to_numpy())
    detector = ClassifierDrift(explain=False, random_state=seed).fit(ref)
    report = detector.detect(batch)
    # the pooled Mann-Whitney p-value of the same scores
    scores = report.scores
    ranks = stats.rankdata(scores["score"].to_numpy())
    _, p_pooled = _auroc_mannwhitney(ranks, scores["batch"].to_numpy())
    univariate = None
    if permute is not None:
        univariate = DriftDetector().fit(ref).detect(batch).drift
    return report.auroc, report.p_value, p_pooled, report.drift, univariate


def _cell_line(label, results):
    n = len(results)
    auroc = np.array([r[0] for r in results])
    p_default = np.array([r[1] for r in results])
    p_pooled = np.array([r[2] for r in results])
    flagged = np.array([r[3] for r in results])
    k_def, k_pool, k_flag = (
        int((p_default <= ALPHA).sum()),
        int((p_pooled <= ALPHA).sum()),
        int(flagged.sum()),
    )
    lo_mw, hi_mw = wilson(k_def, n)
    lo_p, hi_p = wilson(k_pool, n)
    uniform = stats.kstest(p_default, "uniform").pvalue
    return (
        f"| {label} | {n} | {k_def / n:.3f} [{lo_mw:.3f}, {hi_mw:.3f}] | "
        f"{k_pool / n:.3f} [{lo_p:.3f}, {hi_p:.3f}] | {k_flag / n:.3f} | "
        f"{auroc.mean():.3f} | {uniform:.2g} |"
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-seeds", type=int, default=200)
    parser.add_argument("--n-power-seeds", type=int, default=50)
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)

    lines = [
        "# ClassifierDrift: false-alarm rate and power",
        "",
        "Made by `PYTHONPATH=src python benchmarks/bench_classifier_drift.py "
        f"--n-seeds {args.n_seeds} --n-power-seeds {args.n_power_seeds}` "
        f"(Python {platform.python_version()}, scikit-learn {sklearn.__version__}). "
        "Default detector (5 folds, HistGradientBoostingClassifier, "
        f"alpha={ALPHA}, auc_threshold=0.55), one seed a split.",
        "",
        "## Clean batches (random splits: every alarm is false)",
        "",
        "Rates of p <= 0.05 with their 95% Wilson interval; `flagged`: p <= 0.05 "
        "and AUROC >= 0.55 (the detector's verdict); `KS p`: Kolmogorov-Smirnov "
        "test of the default p-values against the uniform distribution.",
        "",
        "| data (reference / batch rows) | splits | default (one fold) p <= 0.05 | "
        "pooled Mann-Whitney p <= 0.05 | flagged | mean AUROC | KS p |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    pooled = []
    start = time.perf_counter()
    for name, n_ref, n_bat in NULL_CELLS:
        X = _data(name)
        results = [
            _one(X, n_ref, n_bat, stable_seed("null", name, n_ref, n_bat, s))
            for s in range(args.n_seeds)
        ]
        pooled += results
        lines.append(_cell_line(f"{name} ({n_ref} / {n_bat})", results))
        print(lines[-1], f"{time.perf_counter() - start:.0f} s", flush=True)
    lines.append(_cell_line("**all cells pooled**", pooled))
    lines += [
        "",
        "## Power: one column permuted among the batch rows (credit data)",
        "",
        "Every column's distribution in the batch is that of a clean split; only "
        "the permuted column's dependence on the others is gone. `DriftDetector` "
        "is the per-column detector with its defaults on the same splits.",
        "",
        "| permuted column (reference / batch rows) | splits | flagged | "
        "default p <= 0.05 | pooled p <= 0.05 | mean AUROC | "
        "DriftDetector flagged |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    X = _data("credit")
    for column, n_ref, n_bat in POWER_CELLS:
        results = [
            _one(X, n_ref, n_bat, stable_seed("power", column, n_ref, n_bat, s), column)
            for s in range(args.n_power_seeds)
        ]
        n = len(results)
        lines.append(
            f"| {column} ({n_ref} / {n_bat}) | {n} | "
            f"{np.mean([r[3] for r in results]):.2f} | "
            f"{np.mean([r[1] <= ALPHA for r in results]):.2f} | "
            f"{np.mean([r[2] <= ALPHA for r in results]):.2f} | "
            f"{np.mean([r[0] for r in results]):.3f} | "
            f"{np.mean([r[4] for r in results]):.2f} |"
        )
        print(lines[-1], f"{time.perf_counter() - start:.0f} s", flush=True)
    lines += ["", f"Wall time: {time.perf_counter() - start:.0f} s.", ""]
    text = "\n".join(lines)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
