"""Why the disparity intervals miss the 93%-97% band at ties: the null point.

audit_fairness's interval of a disparity keeps every value that its
likelihood-ratio test does not reject, the test's null distribution drawn
at the groups' most likely rates under the value tested (the profiled
rates). This script measures, for one rate family (a difference of
selection rates), how often that test keeps the true disparity, which is
the interval's coverage, when its null is drawn at:

- ``true rates``: the groups' true rates (an oracle, not available in an
  audit): how good the test is when the nuisance rates are known;
- ``profiled``: the profiled rates;
- ``inward 0.5`` / ``inward 1``: the profiled rates with every group the
  profile puts on an edge of the band, but the most extreme at each edge,
  moved that many of its standard errors inside (a milder null);
- ``moment sel. 0.5`` / ``moment sel. 1``: the profiled rates with every
  group within that many standard errors of an edge moved onto the nearer
  edge (at 1, what audit_fairness does)
  (generalized moment selection, Andrews and Soares 2010: a more extreme
  null).

The configurations hold the true disparity fixed and move the groups that
set no extreme: six groups, one at each edge of a band and four "inner"
groups at ``d`` standard errors inside its edges (two near each edge;
``d = 0``: three groups tied at each edge); three groups with the middle
one ``d`` standard errors below the top; and two configurations of
bench_fairness_coverage.py. The true disparity is the same for every
``d`` of a family, yet the coverage is not: with a few dozen rows a group
the data cannot tell ``d = 0`` from ``d = 1``, and the null distribution
of the statistic depends on it. Every choice of null point trades
coverage at ties (``d = 0``) against coverage at near ties (``d`` = 0.5 to
1): the table shows no choice that keeps both within 93%-97%.

Run (about 2 minutes on 2 cores)::

    python benchmarks/bench_fairness_ties.py \\
        --markdown benchmarks/results/fairness_ties.md
"""

import argparse
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from mlpipe.fairness._intervals import SpreadTest, _select_moments

ALPHA = 0.05
N_BOOT = 500  # audit_fairness's default
RULES = (
    "true rates",
    "inward 1",
    "inward 0.5",
    "profiled",
    "moment sel. 0.5",
    "moment sel. 1",
)
SHIFT = {"inward 1": -1.0, "inward 0.5": -0.5, "profiled": 0.0}
SHIFT |= {"moment sel. 0.5": 0.5, "moment sel. 1": 1.0}


def configurations():
    out = []
    for n, low, top in ((15, 0.6, 0.8), (30, 0.4, 0.6), (100, 0.7, 0.8)):
        se = np.sqrt(0.25 / n)
        for d in (0.0, 0.25, 0.5, 1.0):
            rates = [low, low + d * se, low + d * se, top - d * se, top - d * se, top]
            out.append((f"6 x {n}, {low}-{top}, inner groups {d} se inside", [n] * 6, rates))
    for n in (12, 40):
        se = np.sqrt(0.25 / n)
        for d in (0.0, 0.5, 1.0):
            out.append(
                (f"3 x {n}, middle group {d} se below the top", [n] * 3, [0.4, 0.7 - d * se, 0.7])
            )
    # bench_fairness_coverage.py's "small groups" true positive rates and
    # "spread, 5 x 100" accuracies
    out.append(("small groups: 6/5/24 trials", [6, 5, 24], [0.5, 0.7, 0.8]))
    out.append(("spread: 5 x 100, 0.025 apart", [100] * 5, [0.7, 0.725, 0.75, 0.775, 0.8]))
    return out


def null_point(rule, test, theta, profiled, truth):
    """The rates the test's null draws come from, under ``rule``."""
    if rule == "true rates":
        return truth.copy()
    shift = SHIFT[rule]
    x, n = test.counts[0]
    if shift > 0:  # audit_fairness's rule, at kappa = 1
        return _select_moments(profiled, n, kappa=shift)
    rates = profiled.copy()
    low = rates.min()
    top = low + theta
    se = np.sqrt(np.clip(rates * (1 - rates), 0.25 / n, None) / n)
    if shift < 0:
        observed = x / n
        keep = {int(np.argmin(observed)), int(np.argmax(observed))}
        for g in range(len(rates)):
            if g in keep:
                continue
            if rates[g] <= low + 1e-12:
                rates[g] = min(low - shift * se[g], top)
            elif rates[g] >= top - 1e-12:
                rates[g] = max(top + shift * se[g], low)
    return rates


def run_one(args):
    """Whether each rule's test keeps the true disparity of one data set."""
    sizes, truth, seed = args
    sizes = np.asarray(sizes, float)
    truth = np.asarray(truth, float)
    theta = truth.max() - truth.min()
    rng = np.random.default_rng(seed)
    x = rng.binomial(sizes.astype(int), truth).astype(float)
    kept = {}
    for rule in RULES:
        test = SpreadTest([(x, sizes)], False, N_BOOT, seed)

        def profiles_at(t, rule=rule, test=test):
            deviance, (rates,), _ = test._profiles_plain(t)
            return deviance, [null_point(rule, test, t, rates, truth)]

        test._profiles = profiles_at
        kept[rule] = test.accepts(theta, ALPHA)
    return kept


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-sets", type=int, default=2000, help="data sets a configuration")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--seed-offset", type=int, default=0)
    parser.add_argument("--markdown", default=None)
    args = parser.parse_args()
    start = time.perf_counter()
    rows = []
    with ProcessPoolExecutor(args.jobs) as pool:
        for k, (name, sizes, truth) in enumerate(configurations()):
            tasks = [(sizes, truth, 100_000 * k + i + args.seed_offset) for i in range(args.n_sets)]
            kept = list(pool.map(run_one, tasks, chunksize=50))
            rows.append((name, {r: np.mean([s[r] for s in kept]) for r in RULES}))
            print(name, " ".join(f"{rows[-1][1][r]:.3f}" for r in RULES), flush=True)
    seconds = time.perf_counter() - start
    se = np.sqrt(ALPHA * (1 - ALPHA) / args.n_sets)
    lines = [
        f"Share of {args.n_sets} simulated data sets a configuration whose 95% test keeps "
        f"the true difference of rates (the interval's coverage), by the point its null "
        f"is drawn at; n_boot={N_BOOT}, {seconds:.0f} s. Monte Carlo standard error near "
        f"0.95: {se:.3f}.",
        "",
        "| configuration | " + " | ".join(RULES) + " |",
        "|---|" + "---:|" * len(RULES),
    ]
    for name, cover in rows:
        lines.append(f"| {name} | " + " | ".join(f"{cover[r]:.3f}" for r in RULES) + " |")
    lines.append("")
    for rule in RULES:
        values = [cover[rule] for _, cover in rows]
        lines.append(f"- {rule}: {min(values):.3f} to {max(values):.3f}")
    markdown = "\n".join(lines) + "\n"
    print(markdown)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(markdown)


if __name__ == "__main__":
    main()
