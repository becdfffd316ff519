"""Coverage of audit_fairness's 95% intervals, by simulation.

Each scenario fixes the groups' sizes and their true base rate, true and
false positive rates; each simulated data set draws every row's label and
decision from them and is audited by :func:`mlpipe.fairness.audit_fairness`
with its defaults (``n_boot=500``, ``confidence_level=0.95``). An interval
covers when it holds the true disparity (computed from the true rates the
way fairlearn computes it from observed ones). A metric that is undefined
in a data set (a group without a true favourable label has no true positive
rate) counts as a miss.

The same data sets are also given the percentile bootstrap that
audit_fairness used before (rows resampled within groups, percentiles of
the disparity), as the baseline.

Run (15 to 50 minutes on 2 cores, depending on load)::

    python benchmarks/bench_fairness_coverage.py \\
        --out benchmarks/results/fairness_coverage.csv \\
        --markdown benchmarks/results/fairness_coverage.md

``--quick`` runs 200 data sets a scenario. To look at a few cells with
more data sets, or with data sets independent of the published table's::

    python benchmarks/bench_fairness_coverage.py \\
        --scenarios "small groups;near tie" --n-sets 4000 --seed-offset 200000

Every metric of a scenario is computed on the same data sets, so one
scenario's cells move together from one seed set to another.
"""

import argparse
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd

from mlpipe.fairness import audit_fairness
from mlpipe.fairness._audit import _DISPARITIES

LEVEL = 0.95
DISPARITIES = tuple(name for name, _, _ in _DISPARITIES)  # what audit_fairness reports
GROUP_RATES = ("selection_rate", "true_positive_rate", "false_positive_rate")


@dataclass
class Scenario:
    name: str
    sizes: list
    base: list
    tpr: list
    fpr: list

    def rates(self):
        b, t, f = (
            np.broadcast_to(np.asarray(v, float), len(self.sizes))
            for v in (self.base, self.tpr, self.fpr)
        )
        return {
            "selection_rate": b * t + (1 - b) * f,
            "true_positive_rate": t,
            "false_positive_rate": f,
            "accuracy": b * t + (1 - b) * (1 - f),
        }

    def truth(self):
        r = self.rates()
        diff = {k: v.max() - v.min() for k, v in r.items()}
        ratio = {k: v.min() / v.max() for k, v in r.items()}
        return {
            "demographic_parity_difference": diff["selection_rate"],
            "demographic_parity_ratio": ratio["selection_rate"],
            "equal_opportunity_difference": diff["true_positive_rate"],
            "equal_opportunity_ratio": ratio["true_positive_rate"],
            "equalized_odds_difference": max(
                diff["true_positive_rate"], diff["false_positive_rate"]
            ),
            "equalized_odds_ratio": min(ratio["true_positive_rate"], ratio["false_positive_rate"]),
            "accuracy_difference": diff["accuracy"],
        }

    def draw(self, rng):
        sizes = np.asarray(self.sizes)
        groups = np.repeat(np.arange(len(sizes)), sizes)
        b, t, f = (
            np.broadcast_to(np.asarray(v, float), len(sizes))[groups]
            for v in (self.base, self.tpr, self.fpr)
        )
        y_true = rng.random(len(groups)) < b
        y_pred = np.where(y_true, rng.random(len(groups)) < t, rng.random(len(groups)) < f)
        return y_true.astype(int), y_pred.astype(int), groups


SCENARIOS = [
    Scenario("none, 2 x 100", [100, 100], 0.5, 0.7, 0.3),
    Scenario("none, 2 x 12", [12, 12], 0.5, 0.7, 0.3),
    Scenario("none, 6 x 12", [12] * 6, 0.5, 0.7, 0.3),
    Scenario("none, 12/50/200/1000", [12, 50, 200, 1000], 0.4, 0.8, 0.2),
    Scenario("none, rare outcome 3 x 300", [300] * 3, 0.1, 0.6, 0.05),
    Scenario("slight, 2 x 500", [500, 500], 0.5, [0.70, 0.75], [0.30, 0.33]),
    Scenario(
        "small groups 12/12/40", [12, 12, 40], [0.5, 0.4, 0.6], [0.5, 0.7, 0.8], [0.2, 0.3, 0.4]
    ),
    Scenario(
        "spread, 5 x 100", [100] * 5, 0.5, [0.5, 0.6, 0.7, 0.8, 0.9], [0.1, 0.15, 0.2, 0.25, 0.3]
    ),
    Scenario("large, 2 x 200", [200, 200], [0.3, 0.5], [0.5, 0.9], [0.1, 0.4]),
    Scenario(
        "near tie, 6 groups 12-400",
        [12, 25, 50, 100, 200, 400],
        0.5,
        [0.8, 0.78, 0.6, 0.6, 0.6, 0.6],
        [0.3, 0.3, 0.3, 0.28, 0.2, 0.22],
    ),
    Scenario("imbalanced, 30 vs 3000", [30, 3000], [0.6, 0.5], [0.6, 0.75], [0.25, 0.2]),
    # added later (appended, so the seeds of the ones above are unchanged):
    # both rate families equally spread, and many groups on both edges
    Scenario("tied families, 3 x 40", [40] * 3, 0.5, [0.6, 0.8, 0.7], [0.2, 0.4, 0.3]),
    Scenario("tied small, 4 x 16", [16] * 4, 0.5, [0.5, 0.7, 0.6, 0.6], [0.3, 0.5, 0.4, 0.4]),
    Scenario(
        "two clusters, 6 x 30",
        [30] * 6,
        0.5,
        [0.6, 0.6, 0.6, 0.8, 0.8, 0.8],
        [0.2, 0.2, 0.2, 0.3, 0.3, 0.3],
    ),
]


def percentile_bootstrap(y_true, y_pred, groups, rng, n_boot=500):
    """The intervals audit_fairness gave before: percentiles of the
    disparities over a bootstrap that resamples rows within each group."""
    n_groups = groups.max() + 1
    reps = {k: np.zeros((n_boot, n_groups)) for k in ("n", "pos", "sel", "tp", "correct")}
    for g in range(n_groups):
        rows = np.flatnonzero(groups == g)
        pick = rows[rng.integers(0, len(rows), size=(n_boot, len(rows)))]
        t, p = y_true[pick] == 1, y_pred[pick] == 1
        reps["n"][:, g] = len(rows)
        reps["pos"][:, g] = t.sum(1)
        reps["sel"][:, g] = p.sum(1)
        reps["tp"][:, g] = (t & p).sum(1)
        reps["correct"][:, g] = (t == p).sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = {
            "selection_rate": reps["sel"] / reps["n"],
            "true_positive_rate": np.where(reps["pos"] > 0, reps["tp"] / reps["pos"], 0),
            "false_positive_rate": np.where(
                reps["n"] > reps["pos"],
                (reps["sel"] - reps["tp"]) / (reps["n"] - reps["pos"]),
                0,
            ),
            "accuracy": reps["correct"] / reps["n"],
        }
        diff = {k: v.max(1) - v.min(1) for k, v in rate.items()}
        ratio = {k: v.min(1) / v.max(1) for k, v in rate.items()}
    stat = {
        "demographic_parity_difference": diff["selection_rate"],
        "demographic_parity_ratio": ratio["selection_rate"],
        "equal_opportunity_difference": diff["true_positive_rate"],
        "equal_opportunity_ratio": ratio["true_positive_rate"],
        "equalized_odds_difference": np.fmax(
            diff["true_positive_rate"], diff["false_positive_rate"]
        ),
        "equalized_odds_ratio": np.fmin(ratio["true_positive_rate"], ratio["false_positive_rate"]),
        "accuracy_difference": diff["accuracy"],
    }
    a = (1 - LEVEL) / 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return {k: np.nanquantile(v, [a, 1 - a]) for k, v in stat.items()}


def run_one(args):
    _, scenario, seed, n_boot = args
    rng = np.random.default_rng(seed)
    y_true, y_pred, groups = scenario.draw(rng)
    truth = scenario.truth()
    rates = scenario.rates()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = audit_fairness(
            y_true,
            y_pred,
            sensitive_features=groups,
            n_boot=n_boot,
            min_group_size=0,
            random_state=seed,
        )
    rows = []
    table = report.disparities
    old = percentile_bootstrap(y_true, y_pred, groups, rng)
    for metric in DISPARITIES:
        low, high = table.loc[metric, "ci_low"], table.loc[metric, "ci_high"]
        value = truth[metric]
        for method, (lo, hi) in (
            ("profile likelihood", (low, high)),
            ("percentile bootstrap", old[metric]),
        ):
            rows.append(
                {
                    "scenario": scenario.name,
                    "metric": metric,
                    "method": method,
                    "covered": bool(lo <= value <= hi),
                    "below": bool(value < lo),
                    "above": bool(value > hi),
                    "undefined": bool(np.isnan(lo) or np.isnan(hi)),
                    "width": hi - lo,
                }
            )
    ci = report.intervals
    for metric in GROUP_RATES:
        part = ci[ci["metric"] == metric]
        value = rates[metric]
        lo, hi = part["ci_low"].to_numpy(), part["ci_high"].to_numpy()
        rows.append(
            {
                "scenario": scenario.name,
                "metric": f"{metric} (each group)",
                "method": "Wilson score",
                "covered": float(np.mean((lo <= value) & (value <= hi))),
                "below": float(np.mean(value < lo)),
                "above": float(np.mean(value > hi)),
                "undefined": float(np.mean(np.isnan(lo))),
                "width": float(np.nanmean(hi - lo)),
            }
        )
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sets", "--n-sets", dest="sets", type=int, default=1000, help="data sets a scenario"
    )
    parser.add_argument(
        "--scenarios",
        default=None,
        help="scenario names separated by commas, or by semicolons (names hold commas), "
        "a name matches when it starts the scenario's name",
    )
    parser.add_argument("--quick", action="store_true", help="200 data sets a scenario")
    parser.add_argument(
        "--seed-offset",
        type=int,
        default=0,
        help="added to every data set's seed: a fresh, independent set of data sets "
        "(the default 0 gives the published table)",
    )
    parser.add_argument("--n-boot", type=int, default=500)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--out", default=None)
    parser.add_argument("--markdown", default=None)
    parser.add_argument(
        "--from-csv",
        default=None,
        help="only print the tables of a saved --out file (its sets and seconds as given)",
    )
    parser.add_argument("--seconds", type=float, default=0.0, help="with --from-csv")
    args = parser.parse_args()
    if args.from_csv:
        summary = pd.read_csv(args.from_csv)
        markdown = to_markdown(summary, int(summary["sets"].iloc[0]), args.n_boot, args.seconds)
        print(markdown)
        if args.markdown:
            with open(args.markdown, "w") as f:
                f.write(markdown)
        return
    sets = 200 if args.quick else args.sets
    chosen = _chosen(args.scenarios)
    # a scenario's seeds depend on its place in SCENARIOS, not on the filter
    tasks = [
        (i, s, 10_000 * k + i + args.seed_offset, args.n_boot)
        for k, s in enumerate(SCENARIOS)
        if s.name in chosen
        for i in range(sets)
    ]
    start = time.perf_counter()
    rows = []
    with ProcessPoolExecutor(args.jobs) as pool:
        for part in pool.map(run_one, tasks, chunksize=20):
            rows.extend(part)
    seconds = time.perf_counter() - start
    frame = pd.DataFrame(rows)
    summary = (
        frame.groupby(["method", "metric", "scenario"], sort=False)
        .agg(
            coverage=("covered", "mean"),
            below=("below", "mean"),
            above=("above", "mean"),
            undefined=("undefined", "mean"),
            width=("width", "mean"),
            sets=("covered", "size"),
        )
        .reset_index()
    )
    if args.out:
        summary.to_csv(args.out, index=False)
    markdown = to_markdown(summary, sets, args.n_boot, seconds)
    print(markdown)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(markdown)


def _chosen(names):
    if names is None:
        return [s.name for s in SCENARIOS]
    wanted = [w.strip() for w in names.split(";" if ";" in names else ",")]
    chosen = [s.name for s in SCENARIOS if any(s.name.startswith(w) for w in wanted if w)]
    if not chosen:
        raise SystemExit(f"no scenario matches {names!r}; names: {[s.name for s in SCENARIOS]}")
    return chosen


SHORT = {
    "demographic_parity_difference": "DP diff",
    "demographic_parity_ratio": "DP ratio",
    "equal_opportunity_difference": "EOpp diff",
    "equal_opportunity_ratio": "EOpp ratio",
    "equalized_odds_difference": "EOdds diff",
    "equalized_odds_ratio": "EOdds ratio",
    "accuracy_difference": "acc diff",
    "selection_rate (each group)": "selection rate",
    "true_positive_rate (each group)": "TPR",
    "false_positive_rate (each group)": "FPR",
}


def to_markdown(summary, sets, n_boot, seconds):
    """One table per method: a row per scenario, a column per metric (so
    the table fits a page)."""
    names = [s.name for s in SCENARIOS]
    lines = [
        f"Simulated coverage of the 95% intervals: {sets} data sets a scenario, "
        f"n_boot={n_boot}, {seconds:.0f} s. Monte Carlo standard error of a coverage "
        f"near 0.95: {np.sqrt(0.95 * 0.05 / sets):.3f}. DP: demographic parity, EOpp: "
        "equal opportunity, EOdds: equalized odds, acc: accuracy; TPR and FPR: true and "
        "false positive rate of each group.",
        "",
    ]
    for method in summary["method"].unique():
        part = summary[summary["method"] == method]
        metrics = list(part["metric"].unique())
        table = part.pivot(index="scenario", columns="metric", values="coverage")
        table = table.reindex(
            index=[n for n in names if n in set(part["scenario"])], columns=metrics
        )
        lines += [
            f"**{method}**",
            "",
            "| scenario | " + " | ".join(SHORT.get(m, m) for m in metrics) + " |",
            "|---|" + "---:|" * len(metrics),
        ]
        for scenario, row in table.iterrows():
            lines.append(f"| {scenario} | " + " | ".join(f"{v:.3f}" for v in row) + " |")
        lines += [
            "",
            f"range {part['coverage'].min():.3f} to {part['coverage'].max():.3f}",
            "",
        ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
