"""False-alarm rate and power of ReconstructionDrift (issue 19, item 2).

Clean batches: each data set's rows are split at random into a reference
(the rest of the rows, subsampled to 10,000 by the detector) and a batch of
50, 200, 1,000 or 5,000 rows (the sizes the data set allows with at least
as many reference rows as batch rows), many seeds a cell. The two are
exchangeable, so every alarm is false. The table gives the share of splits
flagged at the default alpha (0.05) with its 95% Wilson interval, the mean
p-value and the Kolmogorov-Smirnov p-value of the p-values against the
uniform distribution (the permutation p-values are discrete, in steps of
1/1000).

Data (all local, from ``_calibration_data.py``): the credit data,
scikit-learn's bundled tabular sets, statsmodels' bundled sets and the
generated families (heavy tails, integer counts, many categories with
singletons, missing values with ties and a datetime column) at 200, 2,000
and 50,000 rows. Sets with fewer than 100 rows are left out (named in the
output); columns with no value at all are dropped (statsmodels' fertility
has two).

Power: batches with a joint shift that keeps every marginal: on credit, one
column permuted among the batch rows (the cells of
``bench_classifier_drift.py``); in generated gaussian data (two pairs of
columns correlated 0.8, two independent), the second column of a pair
permuted among the batch rows; and one correlated column permuted in four
numeric data sets (wine, diabetes, breast cancer, fair). DriftDetector's
verdict on the same splits beside it, and the power at several
``explained_variance`` values (the candidates for its default).

Run (about 15 minutes in one process at the defaults; ``--part 0/2`` and
``--part 1/2`` run halves of the clean cells in two processes, ``--merge``
joins their outputs)::

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 PYTHONPATH=src python \\
        benchmarks/bench_reconstruction_drift.py [--n-seeds 200] \\
        [--n-power-seeds 50] [--out benchmarks/results/reconstruction_drift.md]
"""

import argparse
import json
import math
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd
import sklearn
from scipy import stats

from _calibration_data import REGISTRY, load, stable_seed
from mlpipe.drift import DriftDetector, ReconstructionDrift

ALPHA = 0.05
BATCH_SIZES = (50, 200, 1_000, 5_000)
MIN_ROWS = 100

# (column permuted among the batch rows, reference rows, batch rows)
CREDIT_POWER = [
    ("duration", 600, 400),
    ("duration", 800, 200),
    ("duration", 900, 100),
    ("credit_amount", 800, 200),
    ("age", 800, 200),
]
# (reference rows, batch rows) of the generated gaussian
GAUSS_POWER = [(2_000, 50), (2_000, 200), (2_000, 1_000)]
# (data set, column permuted among the batch rows, reference rows, batch rows):
# numeric data sets with correlated columns, so that the choice of
# explained_variance is not made on credit alone
OTHER_POWER = [
    ("sklearn_wine", "flavanoids", 128, 50),
    ("sklearn_diabetes", "s4", 342, 100),
    ("sklearn_breast_cancer", "mean texture", 469, 100),
    ("sm_fair", "yrs_married", 1_000, 100),
]
SHARES = (0.4, 0.5, 0.6, 0.65, 0.8, 0.9)


def wilson(k, n, z=1.96):
    """95% Wilson interval of a proportion k / n."""
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def null_cells():
    cells, skipped = [], []
    for name in REGISTRY:
        n = len(_data(name))
        if n < MIN_ROWS:
            skipped.append(f"{name} ({n} rows)")
            continue
        cells += [(name, b) for b in BATCH_SIZES if 2 * b <= n]
    return cells, skipped


def _data(name):
    """The data set without its columns that hold no value at all (which
    the detector refuses at fit: there is nothing to learn of them)."""
    X = load(name)[0]
    return X.loc[:, X.notna().any()]


def _null_cell(name, n_batch, n_seeds):
    X = _data(name)
    p = []
    for s in range(n_seeds):
        seed = stable_seed("null", name, n_batch, s)
        rows = np.random.default_rng(seed).permutation(len(X))
        ref, batch = X.iloc[rows[n_batch:]], X.iloc[rows[:n_batch]]
        p.append(ReconstructionDrift(random_state=seed).fit(ref).detect(batch).p_value)
    return {"name": name, "n_ref": min(len(X) - n_batch, 10_000), "n_batch": n_batch, "p": p}


def _line(label, n_ref, n_batch, p):
    p = np.asarray(p)
    n, k = len(p), int((p <= ALPHA).sum())
    lo, hi = wilson(k, n)
    mark = " **!**" if lo > ALPHA else ""
    return (
        f"| {label} | {n_ref} / {n_batch} | {n} | {k / n:.3f} [{lo:.3f}, {hi:.3f}]{mark} | "
        f"{p.mean():.3f} | {stats.kstest(p, 'uniform').pvalue:.2g} |"
    )


def gaussian(n, seed):
    rng = np.random.default_rng(seed)
    cov = np.eye(6)
    cov[0, 1] = cov[1, 0] = cov[2, 3] = cov[3, 2] = 0.8
    data = rng.multivariate_normal(np.zeros(6), cov, size=n)
    return pd.DataFrame(data, columns=[f"x{j}" for j in range(6)])


def _power_split(X, n_ref, n_bat, seed, column):
    rng = np.random.default_rng(seed)
    rows = rng.permutation(len(X))
    ref = X.iloc[rows[:n_ref]]
    batch = X.iloc[rows[n_ref : n_ref + n_bat]].copy()
    batch[column] = rng.permutation(batch[column].to_numpy())
    return ref, batch


def _power_row(label, splits, seed_of, shares=(0.65,)):
    flagged = {share: [] for share in shares}
    univariate = []
    for i, (ref, batch) in enumerate(splits):
        for share in shares:
            detector = ReconstructionDrift(explained_variance=share, random_state=seed_of(i))
            flagged[share].append(detector.fit(ref).detect(batch).drift)
        univariate.append(DriftDetector().fit(ref).detect(batch).drift)
    cells = " | ".join(f"{np.mean(flagged[s]):.2f}" for s in shares)
    return f"| {label} | {len(splits)} | {cells} | {np.mean(univariate):.2f} |"


def power_lines(n_seeds):
    from mlpipe.datasets import load_credit

    credit = load_credit(return_X_y=True)[0]
    head = " | ".join(f"explained_variance={s}" for s in SHARES)
    lines = [
        "| shift (reference / batch rows) | splits | " + head + " | DriftDetector |",
        "|---|---:|" + "---:|" * len(SHARES) + "---:|",
    ]
    for column, n_ref, n_bat in CREDIT_POWER:
        seeds = [stable_seed("power", column, n_ref, n_bat, s) for s in range(n_seeds)]
        splits = [_power_split(credit, n_ref, n_bat, seed, column) for seed in seeds]
        label = f"credit, {column} permuted ({n_ref} / {n_bat})"
        lines.append(_power_row(label, splits, seeds.__getitem__, SHARES))
        print(lines[-1], flush=True)
    for n_ref, n_bat in GAUSS_POWER:
        seeds = [stable_seed("gauss", n_ref, n_bat, s) for s in range(n_seeds)]
        splits = [
            _power_split(gaussian(n_ref + n_bat, seed), n_ref, n_bat, seed, "x1") for seed in seeds
        ]
        label = f"gaussian, x1 permuted (corr 0.8 with x0 broken) ({n_ref} / {n_bat})"
        lines.append(_power_row(label, splits, seeds.__getitem__, SHARES))
        print(lines[-1], flush=True)
    for name, column, n_ref, n_bat in OTHER_POWER:
        X = _data(name)
        seeds = [stable_seed("extra", name, column, n_ref, n_bat, s) for s in range(n_seeds)]
        splits = [_power_split(X, n_ref, n_bat, seed, column) for seed in seeds]
        label = f"{name}, {column} permuted ({n_ref} / {n_bat})"
        lines.append(_power_row(label, splits, seeds.__getitem__, SHARES))
        print(lines[-1], flush=True)
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-seeds", type=int, default=200)
    parser.add_argument("--n-power-seeds", type=int, default=50)
    parser.add_argument(
        "--part", default=None, help="k/m: run the k-th of m parts of the clean cells"
    )
    parser.add_argument("--raw", default=None, help="write the clean cells' p-values here (json)")
    parser.add_argument("--merge", nargs="*", default=None, help="raw files to join, no run")
    parser.add_argument("--power-only", action="store_true")
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    cells, skipped = null_cells()
    results = []
    if args.merge is not None:
        for path in args.merge:
            results += json.loads(Path(path).read_text())
    elif not args.power_only:
        if args.part:
            k, m = map(int, args.part.split("/"))
            cells = cells[k::m]
        for name, n_batch in cells:
            results.append(_null_cell(name, n_batch, args.n_seeds))
            r = results[-1]
            print(
                _line(r["name"], r["n_ref"], r["n_batch"], r["p"]),
                f"{time.perf_counter() - start:.0f} s",
                flush=True,
            )
        if args.raw:
            Path(args.raw).write_text(json.dumps(results))
            if args.part:
                return
    lines = [
        "# ReconstructionDrift: false-alarm rate and power",
        "",
        "Made by `OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 PYTHONPATH=src python "
        f"benchmarks/bench_reconstruction_drift.py --n-seeds {args.n_seeds} "
        f"--n-power-seeds {args.n_power_seeds}` (Python {platform.python_version()}, "
        f"scikit-learn {sklearn.__version__}). Default detector (explained_variance=0.6, "
        f"holdout=0.5, 999 permutations, alpha={ALPHA}), one seed a split.",
        "",
    ]
    if results:
        lines += [
            "## Clean batches (random splits: every alarm is false)",
            "",
            "Share of splits flagged (p <= 0.05) with its 95% Wilson interval (**!**: the "
            "interval lies above 0.05); `KS p`: Kolmogorov-Smirnov test of the p-values "
            "against the uniform distribution. Reference rows: the rest of the data set, "
            "subsampled to 10,000.",
            "",
            "| data | reference / batch rows | splits | flagged | mean p | KS p |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        lines += [_line(r["name"], r["n_ref"], r["n_batch"], r["p"]) for r in results]
        for b in BATCH_SIZES:
            p = [x for r in results if r["n_batch"] == b for x in r["p"]]
            if p:
                lines.append(_line(f"**all data sets, batch {b}**", "-", b, p))
        lines.append(_line("**all cells pooled**", "-", "-", [x for r in results for x in r["p"]]))
        lines += ["", "Left out (fewer than 100 rows): " + ", ".join(skipped) + ".", ""]
    if not args.merge or args.power_only:
        lines += [
            "## Power: a joint shift that keeps every marginal",
            "",
            "Share of splits flagged. Every column's distribution in the batch is a clean "
            "split's; only the permuted column's dependence on the others is gone. "
            "`DriftDetector`: the per-column detector with its defaults on the same splits.",
            "",
        ]
        lines += power_lines(args.n_power_seeds)
    lines += ["", f"Wall time: {time.perf_counter() - start:.0f} s.", ""]
    text = "\n".join(lines)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
