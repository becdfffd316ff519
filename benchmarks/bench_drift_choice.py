"""False-alarm rate and power of DriftDetector's numeric tests, per data
set and batch size (issue 19, item 4): which test ``numeric_test="auto"``
should pick.

For every numeric column routed to a numeric test (more than
``max_discrete=10`` distinct values; at most three columns a data set) and
every batch size, many random splits of the column's values (seeded):

- a pool of ``2 * n_batch`` values and a reference of the rest (at most
  20,000), the size skipped when the reference would be smaller than the
  batch;
- a clean batch: ``n_batch`` values drawn from the pool without
  replacement (exchangeable with the reference: every alarm is false);
- shifted batches, drawn from the same pool without replacement with
  weights that tilt the distribution (so the values stay those the column
  takes, ties and lattice included): ``location``, weights ``exp(0.2 z)``
  (about 0.2 standard deviations of mean shift); ``scale``, ``exp(0.1
  z**2)`` (about 12% more spread); ``tail``, three times the weight for
  values above the reference's 90th percentile. ``z`` is the value
  standardized by the reference median and IQR / 1.349, clipped to [-4, 4].

Each test is DriftDetector's row of the column (``tests={column: test}``,
``correction=None``, alpha 0.05): ``p<=a`` is the share of splits with a
p-value at most 0.05 (the test's own size or power), ``flag`` the share the
detector reports as drift (p-value and effect threshold). The splits of one
cell are the columns of one reference frame and one batch frame, so one
``fit`` and one ``detect`` score them all. PSI's flag is computed with its
functions directly (the p-value, a Monte Carlo test at these sizes, only
where the effect reaches its threshold: the flag needs both, so it is the
detector's); its own p-value rates are in ``calibration.md``.

False-alarm rates are given with a 95% Wilson interval. The credit data
also comes as bootstrap draws (``make_credit_batch(drift=False,
defects=False)``: reference 5,000 rows, every batch size; ties from the
draw with replacement) and with its built-in drift (``make_credit_batch()``,
the ``credit`` row of the power table).

Run (about 15-25 minutes on 2 shared cores at 150 splits)::

    PYTHONPATH=src:benchmarks python benchmarks/bench_drift_choice.py \
        [--n-splits 200] [--out benchmarks/results/drift_choice.md]
"""

import argparse
import math
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd
import scipy
import scipy.stats
import sklearn

from _calibration_data import load, stable_seed
from mlpipe.datasets import load_credit, make_credit_batch
from mlpipe.drift import DriftDetector, _psi

ALPHA = 0.05
TESTS = ("ks", "cvm", "ad", "wasserstein", "js", "psi", "auto")
SIZES = (50, 200, 1000, 5000)
CONDITIONS = ("clean", "location", "scale", "tail")
MAX_REFERENCE = 20_000
MAX_COLUMNS = 3

DATASETS = (
    "credit",
    "sklearn_diabetes",
    "sklearn_breast_cancer",
    "sklearn_wine",
    "sklearn_digits",
    "sm_fair",
    "sm_randhie",
    "sm_star98",
    "gen_heavy_tails_50000",
    "gen_counts_50000",
    "gen_missing_ties_50000",
    "ties",
)


def tie_heavy(n=50_000, seed=0):
    """Generated tie-heavy columns past ``max_discrete``: a normal rounded
    to halves (~25 levels), Poisson counts of mean 8 (~20 levels) and a
    zero-heavy amount (60% zeros, the rest lognormal rounded to whole
    units)."""
    rng = np.random.default_rng([seed, 4242])
    amount = np.round(rng.lognormal(3.0, 1.0, n))
    amount[rng.random(n) < 0.6] = 0.0
    return pd.DataFrame(
        {
            "round_half": np.round(rng.normal(0.0, 3.0, n) * 2) / 2,
            "poisson8": rng.poisson(8.0, n).astype("int64"),
            "zero_heavy": amount,
        }
    )


def numeric_columns(X):
    """Up to ``MAX_COLUMNS`` numeric (not boolean, not datetime) columns of
    ``X`` with more than 10 distinct values, as float arrays without NaN."""
    out = {}
    for col in X.columns:
        s = X[col]
        if not pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
            continue
        v = s.dropna().to_numpy(dtype=np.float64)
        v = v[np.isfinite(v)]
        if np.unique(v).size > 10:
            out[str(col)] = v
        if len(out) == MAX_COLUMNS:
            break
    return out


def weights(condition, pool, ref):
    """Sampling weights of the pool's values for a shifted batch."""
    med = np.median(ref)
    q25, q75 = np.percentile(ref, [25, 75])
    spread = (q75 - q25) / 1.349
    if spread <= 0:
        spread = ref.std() or 1.0
    z = np.clip((pool - med) / spread, -4, 4)
    if condition == "location":
        return np.exp(0.2 * z)
    if condition == "scale":
        return np.exp(0.1 * z * z)
    if condition == "tail":
        return np.where(pool > np.percentile(ref, 90), 3.0, 1.0)
    return np.ones_like(pool)


def split_cells(values, n_batch, n_splits, seed):
    """``(reference block, {condition: batch block})`` of ``n_splits``
    random splits (columns), or None when the column is too small."""
    n_pool = 2 * n_batch
    n_ref = min(values.size - n_pool, MAX_REFERENCE)
    if n_ref < n_batch:
        return None
    rng = np.random.default_rng(seed)
    refs = np.empty((n_ref, n_splits))
    batches = {c: np.empty((n_batch, n_splits)) for c in CONDITIONS}
    for s in range(n_splits):
        perm = rng.permutation(values.size)
        pool = values[perm[:n_pool]]
        ref = values[perm[n_pool : n_pool + n_ref]]
        refs[:, s] = ref
        for c in CONDITIONS:
            w = weights(c, pool, ref)
            idx = rng.choice(n_pool, size=n_batch, replace=False, p=w / w.sum())
            batches[c][:, s] = pool[idx]
    return refs, batches


def credit_cells(column, n_batch, n_splits, seed):
    """Bootstrap credit cells: reference and batches drawn from the credit
    data with replacement; the shifted batch is make_credit_batch's drift."""
    n_ref = 5000
    refs = np.empty((n_ref, n_splits))
    clean = np.empty((n_batch, n_splits))
    drifted = np.empty((n_batch, n_splits))
    for s in range(n_splits):
        r = make_credit_batch(n_ref, drift=False, defects=False, random_state=seed + 3 * s)
        b = make_credit_batch(n_batch, drift=False, defects=False, random_state=seed + 3 * s + 1)
        d = make_credit_batch(n_batch, drift=True, defects=False, random_state=seed + 3 * s + 2)
        refs[:, s] = r.X[column].to_numpy(np.float64)
        clean[:, s] = b.X[column].to_numpy(np.float64)
        drifted[:, s] = d.X[column].to_numpy(np.float64)
    return refs, {"clean": clean, "credit": drifted}


def frame(block):
    return pd.DataFrame(block, columns=[f"s{i}" for i in range(block.shape[1])])


def rates(refs, batches, tests=TESTS):
    """``{(test, condition): (p<=a share, flag share)}`` of one cell."""
    ref = frame(refs)
    out = {}
    for test in tests:
        if test == "psi":
            for cond, block in batches.items():
                out[(test, cond)] = _psi_rates(refs, block)
            continue
        if test == "auto":
            det = DriftDetector(numeric_test="auto", correction=None, alpha=ALPHA)
        else:
            det = DriftDetector(
                tests=dict.fromkeys(ref.columns, test), correction=None, alpha=ALPHA
            )
        det.fit(ref)
        for cond, block in batches.items():
            rows = det.detect(frame(block)).to_frame()
            rows = rows[rows["test"] != "missing_rate"]
            p = rows["p_value"].to_numpy()
            out[(test, cond)] = (float(np.mean(p <= ALPHA)), float(rows["drift"].mean()))
    return out


def _psi_rates(refs, block):
    flags = 0
    for s in range(refs.shape[1]):
        edges = _psi.bin_edges(refs[:, s], 10, "quantile")
        (r, _), (b, _) = _psi.count_bins([refs[:, s], block[:, s]], [edges, edges], len(refs))
        value = _psi.psi_value(r, b, 1e-4)
        if value >= 0.2:
            p, _ = _psi.psi_test(r, b, 1e-4)
            flags += p <= ALPHA
    return (math.nan, flags / refs.shape[1])


def wilson(k, n, z=1.959964):
    if n == 0:
        return math.nan, math.nan
    p = k / n
    den = 1 + z * z / n
    mid = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return max(0.0, mid - half), min(1.0, mid + half)


def _load(name):
    if name == "ties":
        return tie_heavy()
    if name == "credit":
        return load_credit(return_X_y=True)[0]
    return load(name)[0]


def _cell_rates(cells_fn, n_splits, chunk, tests, conditions):
    """``{(test, condition): (p<=a share, flag share)}`` of ``n_splits``
    splits scored ``chunk`` at a time (the rates of equal-sized chunks
    averaged: the same as one block, in bounded memory)."""
    total = {}
    done = 0
    while done < n_splits:
        size = min(chunk, n_splits - done)
        cells = cells_fn(size, done)
        if cells is None:
            return None
        refs, batches = cells
        batches = {c: b for c, b in batches.items() if conditions is None or c in conditions}
        for key, (p_rate, flag) in rates(refs, batches, tests).items():
            p0, f0 = total.get(key, (0.0, 0.0))
            total[key] = (p0 + p_rate * size, f0 + flag * size)
        done += size
    return {k: (p / n_splits, f / n_splits) for k, (p, f) in total.items()}


def run(n_splits, only=None, tests=TESTS, conditions=None, chunk=None):
    """Every cell's rates; ``only``: a set of ``(data, n_batch)`` to run
    (None: all), ``tests`` and ``conditions`` the ones to score. A cell of
    more than ``chunk`` splits is split into seeds ``seed + 7919 * i``
    (chunk ``i``); ``chunk`` None: one block, the seeds of the full run."""
    records = []
    chunk = chunk or n_splits

    def wanted(name, n_batch):
        return only is None or (name, n_batch) in only

    for name in DATASETS:
        if only is not None and not any(d == name for d, _ in only):
            continue
        try:
            X = _load(name)
        except Exception as exc:  # a data set that does not load is named, not dropped
            print(f"{name}: not loaded ({type(exc).__name__}: {exc})", flush=True)
            continue
        for col, values in numeric_columns(X).items():
            for n_batch in SIZES:
                if not wanted(name, n_batch):
                    continue
                seed = stable_seed(name, col, n_batch)

                def cells_fn(size, done, values=values, n_batch=n_batch, seed=seed):
                    s = seed if done == 0 else seed + 7919 * (done // chunk)
                    return split_cells(values, n_batch, size, s)

                t0 = time.perf_counter()
                got = _cell_rates(cells_fn, n_splits, chunk, tests, conditions)
                if got is None:
                    continue
                for (test, cond), (p_rate, flag) in got.items():
                    records.append((name, col, n_batch, test, cond, p_rate, flag, n_splits))
                print(f"{name} {col} {n_batch}: {time.perf_counter() - t0:.1f} s", flush=True)
    for col in ("age", "credit_amount", "duration"):
        for n_batch in SIZES:
            if not wanted("credit_boot", n_batch):
                continue
            seed = stable_seed("credit_boot", col, n_batch)

            def cells_fn(size, done, col=col, n_batch=n_batch, seed=seed):
                s = seed if done == 0 else seed + 7919 * (done // chunk)
                return credit_cells(col, n_batch, size, s)

            t0 = time.perf_counter()
            got = _cell_rates(cells_fn, n_splits, chunk, tests, conditions)
            for (test, cond), (p_rate, flag) in got.items():
                records.append(("credit_boot", col, n_batch, test, cond, p_rate, flag, n_splits))
            print(f"credit_boot {col} {n_batch}: {time.perf_counter() - t0:.1f} s", flush=True)
    return pd.DataFrame(
        records,
        columns=["data", "column", "n_batch", "test", "condition", "p_rate", "flag", "n"],
    )


def _fmt(x):
    return "" if x != x else f"{100 * x:.1f}"


def tables(df):
    """Markdown: false alarms per data set and size, the worst column; power
    per condition and size, averaged over the data sets' columns."""
    lines = []
    clean = df[df["condition"] == "clean"]
    lines.append("### False alarms on clean splits (% of splits with p <= 0.05, worst column)\n")
    n_rates = int(clean.groupby("test").size().max())
    # P(one of three columns at a true 5% reaches 12 of 150 splits)
    third = round(100 * (1 - scipy.stats.binom.cdf(11, 150, ALPHA) ** 3))
    lines.append(
        "Each cell: the largest rate over the data set's columns with the 95% Wilson "
        "interval of that column's rate, then (after `/`) the mean rate over the columns. "
        "The largest of c rates is biased upwards (of three columns at a true 5%, one "
        f"reaches 8% = 12 of 150 splits in ~{third}% of cells), and a test's column of "
        f"this table holds K = {n_rates} column rates, so `*` marks a worst column whose Wilson "
        "interval at confidence 1 - 0.05 / K (Bonferroni over the test's column rates) "
        "lies entirely above 5%: a rate above 5% that is not chance. PSI: the flag rate "
        "(p-value and PSI >= 0.2) instead (its p-values: calibration.md).\n"
    )
    header = "| data | rows/batch | " + " | ".join(TESTS) + " |"
    lines += [header, "|" + "---|" * (len(TESTS) + 2)]
    worst_any = {}
    for (name, n_batch), g in clean.groupby(["data", "n_batch"], sort=False):
        cells = []
        for test in TESTS:
            t = g[g["test"] == test]
            key = "flag" if test == "psi" else "p_rate"
            i = int(t[key].to_numpy().argmax())
            rate, n = float(t[key].iloc[i]), int(t["n"].iloc[i])
            lo, hi = wilson(round(rate * n), n)
            z = float(scipy.stats.norm.isf(0.025 / n_rates))
            mark = "*" if wilson(round(rate * n), n, z)[0] > ALPHA else ""
            worst_any[test] = max(worst_any.get(test, 0.0), lo)
            mean = float(t[key].mean())
            cells.append(f"{_fmt(rate)} [{_fmt(lo)}, {_fmt(hi)}]{mark} / {_fmt(mean)}")
        lines.append(f"| {name} | {n_batch} | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append("### False alarms pooled over every data set and column (p <= 0.05; flag)\n")
    lines += ["| rows/batch | " + " | ".join(TESTS) + " |", "|" + "---|" * (len(TESTS) + 1)]
    for n_batch, g in clean.groupby("n_batch"):
        cells = []
        for test in TESTS:
            t = g[g["test"] == test]
            n = int(t["n"].sum())
            k = float((t["p_rate"] * t["n"]).sum()) if test != "psi" else math.nan
            f = float((t["flag"] * t["n"]).sum())
            p_part = ""
            if k == k:
                lo, hi = wilson(round(k), n)
                p_part = f"{100 * k / n:.2f}% [{_fmt(lo)}, {_fmt(hi)}]; "
            cells.append(f"{p_part}flag {100 * f / n:.2f}%")
        lines.append(f"| {n_batch} | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append("### Power (% of shifted batches flagged; mean over data sets and columns)\n")
    lines.append("In brackets: % with p <= 0.05 (the test alone, without the effect threshold).\n")
    lines += [
        "| shift | rows/batch | " + " | ".join(TESTS) + " |",
        "|" + "---|" * (len(TESTS) + 2),
    ]
    shifted = df[df["condition"] != "clean"]
    for (cond, n_batch), g in shifted.groupby(["condition", "n_batch"]):
        cells = []
        for test in TESTS:
            t = g[g["test"] == test]
            p_part = "" if test == "psi" else f" ({_fmt(t['p_rate'].mean())})"
            cells.append(f"{_fmt(t['flag'].mean())}{p_part}")
        lines.append(f"| {cond} | {n_batch} | " + " | ".join(cells) + " |")
    lines.append("")
    return "\n".join(lines), worst_any


def clean_pvalues(name, n_batch, test, n_splits, chunk):
    """``{column: p-values}`` of ``test`` on ``n_splits`` clean splits of each
    of a data set's columns (seeds as :func:`run`'s)."""
    X = tie_heavy() if name == "ties" else _load(name)
    out = {}
    for col, values in numeric_columns(X).items():
        seed = stable_seed(name, col, n_batch)
        ps = []
        for i, done in enumerate(range(0, n_splits, chunk)):
            size = min(chunk, n_splits - done)
            cells = split_cells(values, n_batch, size, seed if i == 0 else seed + 7919 * i)
            if cells is None:
                break
            refs, batches = cells
            ref = frame(refs)
            kwargs = (
                {"numeric_test": "auto"}
                if test == "auto"
                else {"tests": dict.fromkeys(ref.columns, test)}
            )
            det = DriftDetector(correction=None, alpha=ALPHA, **kwargs).fit(ref)
            rows = det.detect(frame(batches["clean"])).to_frame()
            rows = rows[rows["test"] != "missing_rate"]
            ps.append(rows["p_value"].to_numpy())
            if i == 0:
                chosen = sorted(set(rows["test"]))
        if ps:
            out[col] = (np.concatenate(ps), chosen)
    return out


def uniformity(cells, tests, n_splits, chunk):
    """Markdown: per column of each cell, the rate of p <= 0.05 and p <= 0.01
    (Wilson intervals), and how uniform the p-values are below 0.25 (the
    table's cap): the share below 0.25 and a KS test of those against
    U(0, 0.25)."""
    from scipy import stats

    lines = [
        "| data | rows/batch | test (chosen) | column | splits | p<=0.05 | p<=0.01 | "
        "p<0.25 | KS vs U(0, 0.25) p |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, n_batch in cells:
        for test in tests:
            for col, (p, chosen) in clean_pvalues(name, n_batch, test, n_splits, chunk).items():
                n = p.size
                parts = []
                for level in (0.05, 0.01):
                    k = int((p <= level).sum())
                    lo, hi = wilson(k, n)
                    parts.append(f"{100 * k / n:.2f}% [{_fmt(lo)}, {_fmt(hi)}]")
                below = p[p < 0.25]
                ks_p = stats.kstest(below / 0.25, "uniform").pvalue if below.size else math.nan
                lines.append(
                    f"| {name} | {n_batch} | {test} ({'/'.join(chosen)}) | {col} | {n} | "
                    f"{parts[0]} | {parts[1]} | {100 * below.size / n:.1f}% | {ks_p:.3f} |"
                )
    return "\n".join(lines)


def _parse_cells(text):
    out = set()
    for item in text.split(","):
        name, _, size = item.strip().rpartition(":")
        out.add((name, int(size)))
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-splits", type=int, default=150)
    parser.add_argument("--out", default="benchmarks/results/drift_choice.md")
    parser.add_argument("--csv", default="benchmarks/results/drift_choice.csv")
    parser.add_argument(
        "--cells",
        default=None,
        help="only these cells, 'data:rows,...' (e.g. 'sm_star98:50,gen_heavy_tails_50000:5000'); "
        "with --uniformity, print per-column rates and uniformity instead of the tables",
    )
    parser.add_argument("--tests", default=",".join(TESTS), help="comma-separated subset")
    parser.add_argument(
        "--chunk", type=int, default=None, help="score splits this many at a time (memory)"
    )
    parser.add_argument("--uniformity", action="store_true")
    parser.add_argument(
        "--from-csv",
        default=None,
        help="rebuild --out's tables from this CSV of a finished run (no new splits)",
    )
    parser.add_argument("--minutes", type=float, default=None, help="with --from-csv: run time")
    args = parser.parse_args()
    tests = tuple(t for t in args.tests.split(",") if t)
    if args.uniformity:
        if not args.cells:
            parser.error("--uniformity needs --cells")
        t0 = time.perf_counter()
        text = uniformity(
            sorted(_parse_cells(args.cells)), tests, args.n_splits, args.chunk or args.n_splits
        )
        elapsed = time.perf_counter() - t0
        head = (
            f"Generated by `bench_drift_choice.py --uniformity --cells {args.cells} --tests "
            f"{args.tests} --n-splits {args.n_splits} --chunk {args.chunk}` in "
            f"{elapsed / 60:.1f} min.\n\n"
        )
        if args.out:
            Path(args.out).write_text(head + text + "\n")
        print(head + text)
        return
    only = _parse_cells(args.cells) if args.cells else None
    t0 = time.perf_counter()
    if args.from_csv:
        df = pd.read_csv(args.from_csv)
        elapsed = 60 * args.minutes if args.minutes else math.nan
    else:
        df = run(args.n_splits, only=only, tests=tests, chunk=args.chunk)
        elapsed = time.perf_counter() - t0
        df.to_csv(args.csv, index=False)
    text, _ = tables(df)
    head = [
        "# DriftDetector's numeric tests: false alarms and power",
        "",
        "Generated by `PYTHONPATH=src:benchmarks python benchmarks/bench_drift_choice.py "
        f"--n-splits {args.n_splits}` in {elapsed / 60:.1f} min (Python "
        f"{platform.python_version()}, numpy {np.__version__}, scipy {scipy.__version__}, "
        f"scikit-learn {sklearn.__version__}); per-cell rates in `drift_choice.csv`. "
        "Method: the module docstring.",
        "",
    ]
    Path(args.out).write_text("\n".join(head) + text)
    print(text)


if __name__ == "__main__":
    main()
