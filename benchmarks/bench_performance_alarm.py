"""False-alarm rate of the monitoring loop's performance-drop test on unchanged data.

    python benchmarks/bench_performance_alarm.py --reps 300 \
        --out benchmarks/results/performance_alarm.md

``MonitoringLoop`` scores each labelled batch and tests its mean loss (the
error rate of a classifier, the absolute error of a regressor) against the
pooled first ``baseline_windows`` batches with a one-sided Welch test at
``performance_alpha`` (0.01). Here nothing changes: a model is fitted on half
of a data set, and every window is drawn with replacement from the other
half, so any alarm is a false one. For each data set and window size the
table gives the share of tested windows that alarm (10 tested windows after
3 baseline windows, ``--reps`` streams), which should be at most about 0.01,
and the detection rate when a tenth of the rows of the tested windows get a
wrong label (a drop of about 0.1 accuracy; for a regressor, a shift of the
target by one standard deviation on a tenth of the rows).

The data sets: every tabular one scikit-learn bundles (iris, wine, digits and
breast cancer as binary tasks; diabetes and linnerud as regressions), four of
statsmodels' (fair, spector as binary; grunfeld, randhie as regressions), the
credit data, and generated ones: a rare positive class (5%), heavy-tailed
noise (Student t, 2 degrees of freedom) and integer counts (Poisson).

The window's loss summary is what ``realized_metrics`` records (checked
against numpy on one window of each data set here), and the test is the
loop's own ``pool_losses`` and ``drop_p_value``.
"""

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn import datasets as skd
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from mlpipe.datasets import load_credit
from mlpipe.monitor._loop import drop_p_value, pool_losses, realized_metrics

ALPHA = 0.01
BASELINE, TESTED = 3, 10
SIZES = (30, 100, 500)


def _binary(X, y):
    return np.asarray(X, float), np.asarray(y).astype(int)


def _datasets():
    import statsmodels.api as sm

    rng = np.random.default_rng(0)
    out = {}
    iris = skd.load_iris()
    out["iris (versicolor)"] = ("cls", *_binary(iris.data, iris.target == 1))
    wine = skd.load_wine()
    out["wine (class 1)"] = ("cls", *_binary(wine.data, wine.target == 1))
    digits = skd.load_digits()
    out["digits (< 5)"] = ("cls", *_binary(digits.data, digits.target < 5))
    cancer = skd.load_breast_cancer()
    out["breast cancer"] = ("cls", *_binary(cancer.data, cancer.target))
    diabetes = skd.load_diabetes()
    out["diabetes"] = ("reg", diabetes.data, diabetes.target.astype(float))
    linnerud = skd.load_linnerud()
    out["linnerud (weight)"] = ("reg", linnerud.data, linnerud.target[:, 0].astype(float))
    fair = sm.datasets.fair.load_pandas().data
    out["fair (affairs > 0)"] = (
        "cls",
        *_binary(fair.drop(columns="affairs"), fair["affairs"] > 0),
    )
    spector = sm.datasets.spector.load_pandas().data
    out["spector"] = ("cls", *_binary(spector.drop(columns="GRADE"), spector["GRADE"]))
    grunfeld = sm.datasets.grunfeld.load_pandas().data
    out["grunfeld (invest)"] = (
        "reg",
        grunfeld[["value", "capital", "year"]].to_numpy(float),
        grunfeld["invest"].to_numpy(float),
    )
    randhie = sm.datasets.randhie.load_pandas().data
    out["randhie (visits)"] = (
        "reg",
        randhie.drop(columns="mdvis").to_numpy(float),
        randhie["mdvis"].to_numpy(float),
    )
    X, y = load_credit(return_X_y=True)
    numbers = X.select_dtypes("number").fillna(0)
    out["credit"] = ("cls", *_binary(numbers, y))
    Z = rng.normal(size=(4000, 5))
    logit = Z @ [1.0, -0.5, 0.3, 0, 0] - 3.6
    out["generated: rare class (5%)"] = (
        "cls",
        *_binary(Z, rng.random(4000) < 1 / (1 + np.exp(-logit))),
    )
    out["generated: heavy tails (t2)"] = ("reg", Z, Z @ [2, 1, 0, 0, 0] + rng.standard_t(2, 4000))
    out["generated: counts (Poisson)"] = (
        "reg",
        Z,
        rng.poisson(np.exp(0.5 * Z[:, 0] + 0.2 * Z[:, 1])).astype(float),
    )
    return out


def _losses(task, X, y, seed=0):
    """Per-row losses on the held-out half, clean and with a drop."""
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.5, random_state=seed)
    if task == "cls":
        model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000))
    else:
        model = make_pipeline(StandardScaler(), LinearRegression())
    model.fit(X_train, y_train)
    pred = model.predict(X_test)
    if task == "cls":
        clean = (pred != y_test).astype(float)
        dropped = (pred != (1 - y_test)).astype(float)  # a wrong label
    else:
        clean = np.abs(pred - y_test)
        dropped = np.abs(pred - (y_test + np.std(y_train)))
    return model, X_test, y_test, pred, clean, dropped


def _check_metrics(task, model, X_test, y_test, pred, clean):
    """realized_metrics' loss summary of one window equals numpy's."""
    rows = []
    for i, p in enumerate(pred[:50]):
        value = float(p)
        rows.append((str(i), str(int(p)) if task == "cls" else str(p), value, None))
    labels = pd.Series(y_test[:50])
    got = realized_metrics("classification" if task == "cls" else "regression", rows, labels, {})
    assert np.isclose(got["loss_mean"], clean[:50].mean()), (got, clean[:50].mean())
    assert np.isclose(got["loss_sd"], clean[:50].std(ddof=1))


def _summary(losses):
    return (len(losses), float(losses.mean()), float(losses.std(ddof=1)))


def _rates(clean, dropped, size, reps, rng):
    false, detected = 0, 0
    for _ in range(reps):
        base = pool_losses(
            [_summary(clean[rng.integers(0, len(clean), size)]) for _ in range(BASELINE)]
        )
        for _ in range(TESTED):
            idx = rng.integers(0, len(clean), size)
            window = clean[idx]
            metrics = dict(
                zip(("n_labeled", "loss_mean", "loss_sd"), _summary(window), strict=True)
            )
            false += drop_p_value(base, metrics) < ALPHA
            bad = window.copy()
            hit = rng.random(size) < 0.1
            bad[hit] = dropped[idx][hit]
            metrics = dict(zip(("n_labeled", "loss_mean", "loss_sd"), _summary(bad), strict=True))
            detected += drop_p_value(base, metrics) < ALPHA
    n = reps * TESTED
    return false / n, detected / n


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=300)
    parser.add_argument("--out")
    args = parser.parse_args()
    t0 = time.perf_counter()
    rng = np.random.default_rng(1)
    lines = [
        "# False alarms of the performance-drop test (benchmarks/bench_performance_alarm.py)",
        "",
        f"alpha {ALPHA}; {BASELINE} baseline windows, {TESTED} tested windows a stream, "
        f"{args.reps} streams a cell (Monte Carlo standard error of a rate near 0.01: "
        f"{np.sqrt(0.01 * 0.99 / (args.reps * TESTED)):.4f}). Windows are drawn with "
        "replacement from the held-out half. 'detected': a tenth of the tested rows "
        "mislabelled (regression: target shifted by one sd).",
        "",
        "| data set | task | held-out rows | "
        + " | ".join(f"false, n={s}" for s in SIZES)
        + " | "
        + " | ".join(f"detected, n={s}" for s in SIZES)
        + " |",
        "|---|---|---:|" + "---:|" * (2 * len(SIZES)),
    ]
    worst = 0.0
    for name, (task, X, y) in _datasets().items():
        model, X_test, y_test, pred, clean, dropped = _losses(task, X, np.asarray(y))
        _check_metrics(task, model, X_test, y_test, pred, clean)
        false, detected = [], []
        for size in SIZES:
            f, d = _rates(clean, dropped, size, args.reps, rng)
            false.append(f)
            detected.append(d)
        worst = max(worst, *false)
        lines.append(
            f"| {name} | {'classification' if task == 'cls' else 'regression'} | {len(clean)} | "
            + " | ".join(f"{v:.4f}" for v in false)
            + " | "
            + " | ".join(f"{v:.3f}" for v in detected)
            + " |"
        )
    lines += ["", f"Highest false-alarm rate: {worst:.4f}. {time.perf_counter() - t0:.0f} s."]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        Path(args.out).write_text(text)


if __name__ == "__main__":
    main()
