"""Coverage of PerformanceEstimator's intervals (issue 19, item 3).

Covariate shift without concept drift: each data set's rows are split at
random into a training part (40%), a calibration part (30%) and a pool
(30%). A model is fitted on the first, ``PerformanceEstimator`` on the
second; windows are then cut from the pool by a feature (its terciles, or
its categories), so each window's features are shifted while ``P(y | x)``
stays that of the data. For every window and metric the realized value (the
window's true labels against the model's predictions, scikit-learn's
metrics) is compared with the 95% interval; coverage is the share of
windows whose interval holds it, with a 95% Wilson interval over the
windows (windows of one seed share a calibrator, so the binomial interval
is an approximation; seeds are independent). A random window of the pool
(no shift) is the control. Each split is estimated three times: with the
defaults (``covariate_shift="reweight"``: the calibration reweighted to each
window, ``n_bootstrap=200``), without reweighting
(``covariate_shift="ignore"``), and without reweighting or the bootstrap of
the calibrator (``n_bootstrap=0``, the labels' chance alone). On the credit
data the groups of ``sex`` get their own estimates and coverage.

Data (all local): the credit data (HistGradientBoosting on its native
categories; windows by age band, housing and credit_amount terciles);
scikit-learn's breast cancer; statsmodels' fair (affairs > 0), anes96
(vote) and randhie (any doctor visit, 6,000 rows drawn once); and generated
data (make_classification). Outside the credit data the windows are the
terciles of the two features most and least correlated with the model's
score; the models are a logistic regression on standardized features
(breast cancer, generated data) and HistGradientBoosting (the others).

Concept drift: a credit window in which the label relation changed (the
labels of older applicants flipped with probability 0.5 toward bad risk),
and a generated window whose labels follow another coefficient vector: the
features, the scores and so the estimates are those of a clean window, the
realized metrics are not.

Run (about 25 minutes on 2 cores at 50 seeds; the reweighted estimate fits
a domain classifier per window)::

    PYTHONPATH=src python benchmarks/bench_performance_estimation.py \
        [--n-seeds 50] [--out benchmarks/results/performance_estimation.md]

or in two processes, then merged::

    PYTHONPATH=src python benchmarks/bench_performance_estimation.py --n-seeds 50 \
        --data credit fair randhie --raw p1.pkl &
    PYTHONPATH=src python benchmarks/bench_performance_estimation.py --n-seeds 50 \
        --data generated breast_cancer anes96 --raw p2.pkl; wait
    PYTHONPATH=src python benchmarks/bench_performance_estimation.py --n-seeds 50 \
        --merge p1.pkl p2.pkl
"""

import argparse
import platform
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import sklearn
from scipy import stats
from sklearn.datasets import load_breast_cancer, make_classification
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score, roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from mlpipe.datasets import load_credit
from mlpipe.drift import PerformanceEstimator
from mlpipe.drift._performance import METRICS
from mlpipe.exceptions import CalibrationWarning

LEVEL = 0.95


def _statsmodels(name):
    import statsmodels.datasets as sm

    data = getattr(sm, name).load_pandas().data
    if name == "fair":
        y = (data.pop("affairs") > 0).astype(int)
    elif name == "anes96":
        y = data.pop("vote").astype(int)
    else:  # randhie
        data = data.sample(6000, random_state=0).reset_index(drop=True)
        y = (data.pop("mdvis") > 0).astype(int)
    return data.astype(float), y


def load(name):
    """(X, y, model factory)"""
    if name == "credit":
        X, y = load_credit(return_X_y=True)
        return (
            X,
            y,
            lambda seed: HistGradientBoostingClassifier(
                categorical_features="from_dtype",
                max_iter=100,
                learning_rate=0.05,
                random_state=seed,
            ),
        )
    if name == "breast_cancer":
        X, y = load_breast_cancer(return_X_y=True, as_frame=True)
        return X, y, lambda seed: make_pipeline(StandardScaler(), LogisticRegression(C=0.1))
    if name == "generated":
        X, y = make_classification(
            n_samples=6000, n_features=10, n_informative=5, flip_y=0.05, random_state=0
        )
        X = pd.DataFrame(X, columns=[f"x{j}" for j in range(10)])
        return X, pd.Series(y), lambda seed: make_pipeline(StandardScaler(), LogisticRegression())
    X, y = _statsmodels(name)
    return (
        X,
        y,
        lambda seed: HistGradientBoostingClassifier(
            max_iter=100, learning_rate=0.05, random_state=seed
        ),
    )


def windows(name, pool, score, rng):
    """{(family, label): row mask} of the pool: shifted windows and a random one."""
    out = {("random", "half"): rng.random(len(pool)) < 0.5}
    if name == "credit":
        age = pool["age"].to_numpy()
        for label, lo, hi in (("<=30", 0, 30), ("31-45", 31, 45), (">45", 46, 200)):
            out[("age", label)] = (age >= lo) & (age <= hi)
        housing = pool["housing"].astype(str).to_numpy()
        for value in ("own", "rent", "free"):
            out[("housing", value)] = housing == value
        columns = ["credit_amount"]
    else:
        corr = [abs(np.corrcoef(pool[c], score)[0, 1]) for c in pool.columns]
        corr = np.nan_to_num(corr)
        columns = [pool.columns[int(np.argmax(corr))], pool.columns[int(np.argmin(corr))]]
    for column in columns:
        values = pool[column].to_numpy(dtype=float)
        cuts = np.quantile(values, [1 / 3, 2 / 3])
        part = np.digitize(values, cuts, right=True)
        for k, label in enumerate(("low", "mid", "high")):
            out[(f"{column} tercile", label)] = part == k
    return {k: v for k, v in out.items() if v.sum() >= 30}


def sklearn_metrics(y, predicted, score):
    """The oracle: scikit-learn's metrics of the window's labels."""
    auc = np.nan if len(np.unique(y)) < 2 else roc_auc_score(y, score)
    return {
        "accuracy": accuracy_score(y, predicted),
        "precision": precision_score(y, predicted, zero_division=np.nan),
        "recall": recall_score(y, predicted, zero_division=np.nan),
        "f1": f1_score(y, predicted, zero_division=np.nan),
        "roc_auc": auc,
    }


# (covariate_shift, n_bootstrap): the default first
VARIANTS = (("reweight", 200), ("ignore", 200), ("ignore", 0))
# the sensitive column whose groups get estimates of their own
SENSITIVE = {"credit": "sex"}


def one_split(name, X, y, factory, seed, records, warned, variants=VARIANTS):
    rng = np.random.default_rng(seed)
    rows = rng.permutation(len(X))
    n1, n2 = int(0.4 * len(X)), int(0.7 * len(X))
    tr, ca, po = rows[:n1], rows[n1:n2], rows[n2:]
    model = factory(seed).fit(X.iloc[tr], y.iloc[tr])
    pool, y_pool = X.iloc[po].reset_index(drop=True), y.iloc[po].to_numpy()
    score = model.predict_proba(pool)[:, 1]
    predicted = model.predict(pool)
    cut = windows(name, pool, score, rng)
    sensitive = SENSITIVE.get(name)
    for shift, n_boot in variants:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", CalibrationWarning)
            est = PerformanceEstimator(
                estimator=model,
                n_bootstrap=n_boot,
                covariate_shift=shift,
                sensitive=sensitive,
                random_state=seed,
            )
            est.fit(X.iloc[ca], y.iloc[ca])
        if (shift, n_boot) == variants[0]:
            warned.append((name, any(w.category is CalibrationWarning for w in caught)))
        for (family, label), mask in cut.items():
            t0 = time.perf_counter()
            frame = est.estimate(pool[mask]).to_frame()
            seconds = time.perf_counter() - t0
            groups = {("(all)", "(all)"): np.ones(int(mask.sum()), dtype=bool)}
            if sensitive is not None:
                values = pool.loc[mask, sensitive].astype(object).to_numpy()
                for value in pd.unique(values):
                    groups[(sensitive, value)] = values == value
            truths = {
                key: sklearn_metrics(y_pool[mask][g], predicted[mask][g], score[mask][g])
                for key, g in groups.items()
                if g.sum() >= 30
            }
            for row in frame.itertuples():
                key = (row.group_column, row.group)
                if key not in truths:
                    continue
                real = truths[key][row.metric]
                if np.isnan(real) or np.isnan(row.lower):
                    continue
                records.append(
                    {
                        "data": name,
                        "family": family,
                        "window": label,
                        "variant": f"{shift}, n_bootstrap={n_boot}",
                        "group": "window" if key[0] == "(all)" else f"{key[0]}={key[1]}",
                        "metric": row.metric,
                        "n_rows": int(row.n_rows),
                        "n_calibration": row.n_calibration,
                        "covered": bool(row.lower <= real <= row.upper),
                        "width": row.upper - row.lower,
                        "error": row.estimate - real,
                        "seconds": seconds,
                    }
                )


def wilson(k, n):
    ci = stats.binomtest(int(k), int(n)).proportion_ci(0.95, method="wilson")
    return ci.low, ci.high


def rate(frame):
    k, n = int(frame["covered"].sum()), len(frame)
    lo, hi = wilson(k, n)
    return f"{k / n:.3f} [{lo:.3f}, {hi:.3f}]"


def coverage_table(records, by):
    lines = [
        "| " + " | ".join(by) + " | windows | " + " | ".join(METRICS) + " |",
        "|" + "---|" * len(by) + "---:|" + "---:|" * len(METRICS),
    ]
    for key, part in records.groupby(by, sort=False):
        key = key if isinstance(key, tuple) else (key,)
        cells = []
        for metric in METRICS:
            m = part[part["metric"] == metric]
            cells.append(rate(m) if len(m) else "")
        n = len(part[part["metric"] == "accuracy"])
        lines.append("| " + " | ".join(map(str, key)) + f" | {n} | " + " | ".join(cells) + " |")
    return lines


def _all_row(part):
    n = len(part[part["metric"] == "accuracy"])
    cells = " | ".join(rate(part[part["metric"] == m]) for m in METRICS)
    return f"| **all shifted windows** | {n} | {cells} |"


def concept_drift(seed):
    """Estimates vs realized values on windows whose label relation changed."""
    out = []
    X, y, factory = load("credit")
    rng = np.random.default_rng(seed)
    rows = rng.permutation(len(X))
    tr, ca, po = rows[:400], rows[400:700], rows[700:]
    model = factory(seed).fit(X.iloc[tr], y.iloc[tr])
    est = PerformanceEstimator(estimator=model, random_state=seed).fit(X.iloc[ca], y.iloc[ca])
    pool, y_pool = X.iloc[po], y.iloc[po].to_numpy().copy()
    old = pool["age"].to_numpy() > 35
    drifted = y_pool.copy()
    flip = old & (rng.random(len(pool)) < 0.5)
    drifted[flip] = 0
    for label, labels in (("credit, no drift", y_pool), ("credit, drift", drifted)):
        report = est.estimate(pool[old], y=labels[old]).to_frame()
        out.append((label, int(old.sum()), report))
    X, y = make_classification(n_samples=3000, n_features=6, n_informative=4, random_state=seed)
    model = LogisticRegression().fit(X[:1000], y[:1000])
    est = PerformanceEstimator(estimator=model, random_state=seed).fit(X[1000:2000], y[1000:2000])
    window = X[2000:]
    coef = rng.normal(size=X.shape[1]) * 2
    new_y = (rng.random(len(window)) < 1 / (1 + np.exp(-(window @ coef)))).astype(int)
    for label, labels in (("generated, no drift", y[2000:]), ("generated, new concept", new_y)):
        out.append((label, len(window), est.estimate(window, y=labels).to_frame()))
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--n-seeds", type=int, default=100)
    parser.add_argument("--data", nargs="*", default=None)
    parser.add_argument("--out", default="benchmarks/results/performance_estimation.md")
    parser.add_argument(
        "--raw", default=None, help="save the records here (a pickle) and write no report"
    )
    parser.add_argument(
        "--merge", nargs="*", default=None, help="write the report from these --raw files"
    )
    args = parser.parse_args()
    names = args.data or ["credit", "breast_cancer", "fair", "anes96", "randhie", "generated"]
    start = time.perf_counter()
    if args.merge:
        parts = [pd.read_pickle(path) for path in args.merge]
        records = pd.concat([r for r, _, _ in parts], ignore_index=True)
        warned = pd.concat([w for _, w, _ in parts], ignore_index=True)
        elapsed = sum(t for _, _, t in parts)
    else:
        records, warned = [], []
        for name in names:
            X, y, factory = load(name)
            t0 = time.perf_counter()
            for seed in range(args.n_seeds):
                one_split(name, X, y, factory, seed, records, warned)
            print(f"{name}: {time.perf_counter() - t0:.0f} s", flush=True)
        records = pd.DataFrame(records)
        warned = pd.DataFrame(warned, columns=["data", "warned"])
        if args.raw:
            pd.to_pickle((records, warned, time.perf_counter() - start), args.raw)
            return
        elapsed = 0.0
    default, old, plain = (f"{shift}, n_bootstrap={n}" for shift, n in VARIANTS)
    windows_only = records[records["group"] == "window"]
    boot = windows_only[windows_only["variant"] == default]
    shifted = boot[boot["family"] != "random"]

    def shifted_of(variant):
        part = windows_only[windows_only["variant"] == variant]
        return part[part["family"] != "random"]

    lines = [
        "# PerformanceEstimator: coverage of the intervals",
        "",
        f"Made by `PYTHONPATH=src python benchmarks/bench_performance_estimation.py "
        f"--n-seeds {args.n_seeds}`"
        + (
            f" (in parts: each part with `--data ... --raw part.pkl`, then `--merge` of "
            f"{len(args.merge)} parts)"
            if args.merge
            else ""
        )
        + f" (Python {platform.python_version()}, scikit-learn "
        f"{sklearn.__version__}). Defaults (isotonic calibration reweighted to each window "
        "(`covariate_shift='reweight'`), 5-fold reliability test, 1,000 label draws from "
        "200 bootstrap recalibrations, 95% intervals). Each seed: "
        "40% training, 30% calibration, 30% pool cut into windows by a feature. "
        "Coverage: share of windows whose interval holds the realized value "
        "(scikit-learn's metric of the window's labels), with its 95% Wilson interval.",
        "",
        "## Shifted windows (covariate shift without concept drift), by data set",
        "",
        *coverage_table(shifted, ["data"]),
        _all_row(shifted),
        "",
        "## The same windows without reweighting (`covariate_shift='ignore'`, the "
        "calibrator's bootstrap)",
        "",
        *coverage_table(shifted_of(old), ["data"]),
        _all_row(shifted_of(old)),
        "",
        "## Without reweighting or bootstrap (`covariate_shift='ignore', n_bootstrap=0`: "
        "the labels' chance alone)",
        "",
        *coverage_table(shifted_of(plain), ["data"]),
        _all_row(shifted_of(plain)),
        "",
        "## By window family (default)",
        "",
        *coverage_table(boot, ["data", "family"]),
        "",
        "## Credit windows, one by one (default)",
        "",
        *coverage_table(boot[boot["data"] == "credit"], ["family", "window"]),
        "",
        "## Per group of a sensitive column (credit, `sensitive='sex'`; groups of at "
        "least 30 rows)",
        "",
    ]
    groups = records[records["group"] != "window"]
    for variant in (default, old):
        part = groups[(groups["variant"] == variant) & (groups["family"] != "random")]
        if len(part):
            lines += [f"{variant}, shifted windows:", "", *coverage_table(part, ["group"]), ""]
    lines += [
        "## Width, error and cost (shifted windows)",
        "",
        "| variant | metric | mean rows | mean effective calibration rows | mean width | "
        "mean estimate - realized | mean abs error |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for variant in (default, old):
        part = shifted_of(variant)
        for metric in METRICS:
            m = part[part["metric"] == metric]
            lines.append(
                f"| {variant} | {metric} | {m['n_rows'].mean():.0f} | "
                f"{m['n_calibration'].mean():.0f} | {m['width'].mean():.3f} | "
                f"{m['error'].mean():+.3f} | {m['error'].abs().mean():.3f} |"
            )
    lines += ["", "Mean seconds per `estimate` call (whole window, groups included):", ""]
    per_call = windows_only[windows_only["metric"] == "accuracy"]  # a row per call
    for variant, part in per_call.groupby("variant", sort=False):
        lines.append(f"- {variant}: {part['seconds'].mean():.3f} s")
    lines += [
        "",
        "## Calibration warnings on these (clean) calibration sets",
        "",
        "| data | fits | warned |",
        "|---|---:|---:|",
    ]
    for name, part in warned.groupby("data", sort=False):
        lines.append(f"| {name} | {len(part)} | {part['warned'].mean():.3f} |")
    lines += [
        "",
        "## Concept drift: the documented failure",
        "",
        "The features and so the scores of each pair of rows below are the same; only the "
        "labels differ. Credit: applicants over 35 of a pool, their labels flipped to bad "
        "risk with probability 0.5 in the drifted window. Generated: labels from another "
        "coefficient vector. Seed 0.",
        "",
        "| window | rows | metric | estimate | interval | realized | covered |",
        "|---|---:|---|---:|---|---:|---|",
    ]
    for label, n, frame in concept_drift(0):
        for r in frame[frame["group_column"] == "(all)"].itertuples():
            lines.append(
                f"| {label} | {n} | {r.metric} | {r.estimate:.3f} | "
                f"[{r.lower:.3f}, {r.upper:.3f}] | {r.realized:.3f} | {r.covered} |"
            )
    lines += ["", f"Wall time: {elapsed + time.perf_counter() - start:.0f} s (summed over parts)."]
    Path(args.out).write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    # one thread: the models are small, and OpenMP threads waiting for a
    # shared core slow every fit down many times over
    with threadpool_limits(limits=1):
        main()
