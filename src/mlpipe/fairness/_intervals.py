"""Confidence intervals of the disparities and of the group rates.

A disparity is the spread of one rate over the groups (highest minus
lowest, or lowest over highest): a maximum over groups, whose estimate is
biased away from "no disparity" and whose percentile bootstrap interval
therefore misses the truth most often exactly where it matters, when the
groups are alike. The interval here is the set of spreads that a
likelihood-ratio test does not reject (a Neyman construction with the
likelihood-ratio ordering of Feldman and Cousins, 1998), with the nuisance
rates profiled out and the test's null distribution taken from a
parametric bootstrap at the profiled rates, moment-selected:

1. for a candidate spread ``theta``, the profile likelihood is the highest
   binomial likelihood of the groups' rates whose spread is ``theta``
   (:mod:`mlpipe.fairness._kernels`);
2. its deviance from the unconstrained likelihood is compared with the
   deviances of ``n_boot`` data sets drawn from the profiled rates, with
   every group within one standard error of an edge of the band moved
   onto the nearer edge (generalized moment selection, Andrews and Soares
   2010): with a few dozen rows a group the data cannot tell a group on an
   edge from one a standard error inside, and drawing such groups inside
   made the intervals too narrow where several groups tie at the extremes
   ("two clusters" of ``benchmarks/bench_fairness_coverage.py``: 0.914 to
   0.951 coverage without the selection, 0.934 to 0.961 with it; see also
   ``benchmarks/bench_fairness_ties.py``);
3. ``theta`` is in the interval when its p-value exceeds ``1 - level``;
   the interval's ends are found by bisection.

At "no disparity" the test is the likelihood-ratio test of equal rates at
the full level (so the interval starts at 0 as often as it should), far
from it a two-sided test of the spread: the interval goes from one-sided
to two-sided by itself, with no rule to switch. The same random numbers
serve every candidate, so the p-value is a smooth function of ``theta``.

Equalized odds spreads two families (true and false positive rates), and
"the worse spread is ``theta``" leaves the other family's spread anywhere up
to ``theta``. Its constrained maximum likelihood rates would sit on that
bound whenever its observed spread is larger, as it mostly is with small
groups, and a null drawn there is too extreme (intervals too wide: 97.4%
coverage at a near tie). Its null point bounds the spread by a
median-unbiased estimate instead (``SpreadTest._median_unbiased_spread``).

Each group's own rate gets a Wilson score interval.

Weighted rows enter with Kish's effective counts, ``(sum w)^2 / sum w^2``
rows per group, keeping the weighted rate: an approximation.
"""

import numpy as np
from scipy import stats

from mlpipe.fairness import _kernels
from mlpipe.fairness._metrics import rates_from_cells

# The rate families a disparity spreads, each with the cell counting its trials.
FAMILY_OF = {
    "selection_rate": "n",
    "true_positive_rate": "pos",
    "false_positive_rate": "neg",
    "accuracy": "n",
}
_TOLERANCE = 2e-4  # bisection stops when the bracket is this narrow
_FLOOR = 1e-6  # smallest ratio tried (a ratio of 0 needs a rate of 0)


def family_counts(cells, weights_sq, family):
    """Successes and trials of one rate family per group, as effective counts.

    ``cells`` are the weighted cells of ``weighted_cells``; ``weights_sq``
    the same cells summed over squared weights (equal to ``cells`` when
    every weight is 1). Returns ``(x, n)``, effective counts: Kish's
    ``(sum w)^2 / sum w^2`` trials at the weighted rate.
    """
    total = _trials(cells, FAMILY_OF[family])
    square = _trials(weights_sq, FAMILY_OF[family])
    with np.errstate(invalid="ignore", divide="ignore"):
        n_eff = np.where(square > 0, total**2 / square, 0.0)
    return rates_from_cells(cells, family) * n_eff, n_eff


def _trials(cells, name):
    if name == "neg":
        return cells["n"] - cells["pos"]
    return cells[name]


class SpreadTest:
    """Likelihood-ratio test of "the spread is theta" for one disparity.

    Parameters
    ----------
    counts : list of (x, n)
        One pair of arrays per rate family: one family for most
        disparities, two (true and false positive rates) for equalized
        odds, whose spread is the larger of the two.
    ratio : bool
        A ratio (lowest over highest) rather than a difference.
    n_boot : int
        Parametric bootstrap draws per candidate spread.
    seed : int
        Seed of the draws, the same for every candidate.
    """

    def __init__(self, counts, ratio, n_boot, seed):
        self.counts = [(np.asarray(x, float), np.asarray(n, float)) for x, n in counts]
        self.ratio = ratio
        self.n_boot = n_boot
        self.seed = seed
        # Draws are binomial in whole rows; weighted families are rescaled.
        self.rows = [np.maximum(np.rint(n), 1).astype(np.int64) for _, n in self.counts]
        self._median_spread = {}

    def estimate(self):
        spreads = [_kernels._spread(x / n, self.ratio) for x, n in self.counts]
        return min(spreads) if self.ratio else max(spreads)

    def _profiles(self, theta):
        """Deviance of the data at ``theta`` and the null point: the
        profiled rates, every group within one standard error of an edge of
        the band moved onto it (moment selection)."""
        deviance, rates, at_theta = self._profiles_plain(theta)
        rates[at_theta] = _select_moments(rates[at_theta], self.counts[at_theta][1])
        return deviance, rates

    def _profiles_plain(self, theta):
        """Deviance of the data at ``theta``, the profiled rates, and which
        family's spread is ``theta`` (the other, for equalized odds, is
        within it)."""
        if len(self.counts) == 1:
            x, n = self.counts[0]
            rates = np.empty(len(x))
            exact = _kernels.profile(x, n, theta, self.ratio, True, rates)
            return 2 * (_kernels.full_loglik(x, n) - exact), [rates], 0
        parts = []
        for x, n in self.counts:
            exact, within = np.empty(len(x)), np.empty(len(x))
            parts.append(
                (
                    _kernels.profile(x, n, theta, self.ratio, True, exact),
                    exact,
                    _kernels.profile(x, n, theta, self.ratio, False, within),
                    within,
                    _kernels.full_loglik(x, n),
                )
            )
        full = sum(p[4] for p in parts)
        (ea, ra, wa, _, _), (eb, rb, wb, _, _) = parts
        if ea + wb >= wa + eb:
            return 2 * (full - ea - wb), [ra, self._within_rates(1, theta)], 0
        return 2 * (full - wa - eb), [self._within_rates(0, theta), rb], 1

    def _within_rates(self, k, theta):
        """The null point of the family that is not at spread ``theta``.

        The hypothesis only bounds its spread by ``theta``; its constrained
        maximum likelihood rates sit on that bound whenever the observed
        spread exceeds it, which a spread (a maximum over groups, biased
        away from 0) does most of the time with small groups, although the
        true spread may be well inside. The null point is therefore its
        most likely rates with the spread at most its median-unbiased
        estimate (and at most ``theta``).
        """
        x, n = self.counts[k]
        if k not in self._median_spread:
            self._median_spread[k] = self._median_unbiased_spread(k)
        bound = self._median_spread[k]
        bound = max(theta, bound) if self.ratio else min(theta, bound)
        rates = np.empty(len(x))
        _kernels.profile(x, n, bound, self.ratio, False, rates)
        return rates

    def _median_unbiased_spread(self, k, draws=400, steps=16):
        """The spread ``t`` at which the observed spread of family ``k`` is
        the median of spreads drawn at its profiled rates with spread
        ``t`` (``t`` with ``P_t(spread* >= observed) = 1/2``; for a ratio,
        ``spread* <= observed``), by bisection on common random numbers:
        the draws are binomial quantiles of one set of uniforms, so they
        grow with the rates and the probability is monotone in ``t``."""
        x, n = self.counts[k]
        rows = self.rows[k]
        observed = _kernels._spread(x / n, self.ratio)
        if not np.isfinite(observed):
            return _FLOOR if self.ratio else 1.0  # fall back to the bound theta
        uniforms = np.random.default_rng(self.seed + 1 + k).random((draws, len(rows)))
        rates = np.empty(len(x))

        def at_least_as_wide(t):
            _kernels.profile(x, n, t, self.ratio, True, rates)
            drawn = np.empty(uniforms.shape)
            for g, (size, rate) in enumerate(zip(rows, np.clip(rates, 0, 1), strict=True)):
                if size > 2000:  # a table of the CDF would outgrow the draws
                    drawn[:, g] = stats.binom.ppf(uniforms[:, g], size, rate) / size
                    continue
                # the binomial quantile: the first count whose CDF reaches u
                cdf = stats.binom.cdf(np.arange(size + 1), size, rate)
                cdf[-1] = 1.0
                drawn[:, g] = np.searchsorted(cdf, uniforms[:, g]) / size
            low, top = drawn.min(axis=1), drawn.max(axis=1)
            if self.ratio:
                with np.errstate(invalid="ignore", divide="ignore"):
                    spread = np.where(top > 0, low / top, 1.0)
                return np.mean(spread <= observed) >= 0.5
            return np.mean(top - low >= observed) >= 0.5

        # "no disparity" (difference 0, ratio 1) to the far end (1, _FLOOR)
        near, far = (1.0, _FLOOR) if self.ratio else (0.0, 1.0)
        if at_least_as_wide(near):
            return near
        for _ in range(steps):
            mid = 0.5 * (near + far)
            if at_least_as_wide(mid):
                far = mid
            else:
                near = mid
        return 0.5 * (near + far)

    def accepts(self, theta, alpha):
        """Whether the test keeps ``theta`` at level ``alpha``: its Monte
        Carlo p-value ``(1 + exceedances) / (n_boot + 1)`` exceeds alpha."""
        observed, rates = self._profiles(theta)
        if not np.isfinite(observed):
            return False  # the data are impossible under theta
        # p > alpha once this many draws reach the observed deviance (the
        # least half-integer above alpha * (n_boot + 1) - 1)
        needed = np.floor(2 * (alpha * (self.n_boot + 1) - 1)) / 2 + 0.5
        if needed <= 0:
            return True
        rng = np.random.default_rng(self.seed)
        draws = [
            rng.binomial(rows, np.clip(rate, 0, 1), size=(self.n_boot, len(rows))) * (n / rows)
            for rows, rate, (_, n) in zip(self.rows, rates, self.counts, strict=True)
        ]
        # a draw that ties the observed deviance (discrete data) counts half
        tie = 1e-9 * max(1.0, observed)
        if len(draws) == 1:
            count = _kernels.exceedances(
                draws[0], self.counts[0][1], theta, self.ratio, observed, tie, needed
            )
        else:
            count = _kernels.joint_exceedances(
                draws[0],
                self.counts[0][1],
                draws[1],
                self.counts[1][1],
                theta,
                self.ratio,
                observed,
                tie,
                needed,
            )
        return count >= needed

    def interval(self, level):
        """The spreads not rejected at ``1 - level``: ``(low, high)``."""
        alpha = 1 - level
        point = self.estimate()
        if not np.isfinite(point):
            return np.nan, np.nan
        if self.ratio:
            # "no disparity" is a ratio of 1, the far end a ratio of 0
            high = 1.0 if self.accepts(1.0, alpha) else self._edge(point, 1.0, alpha)
            if point <= _FLOOR or self.accepts(_FLOOR, alpha):
                low = 0.0
            else:
                low = self._edge(point, _FLOOR, alpha)
            return low, high
        low = 0.0 if self.accepts(0.0, alpha) else self._edge(point, 0.0, alpha)
        high = 1.0 if self.accepts(1.0, alpha) else self._edge(point, 1.0, alpha)
        return low, high

    def _edge(self, inside, outside, alpha):
        """Bisection between an accepted and a rejected spread."""
        while abs(outside - inside) > _TOLERANCE:
            mid = 0.5 * (inside + outside)
            if self.accepts(mid, alpha):
                inside = mid
            else:
                outside = mid
        return 0.5 * (inside + outside)


def _select_moments(rates, n, kappa=1.0):
    """Every rate within ``kappa`` standard errors of the band's lower or
    upper edge moved onto it (generalized moment selection)."""
    rates = np.asarray(rates, float)
    low, top = rates.min(), rates.max()
    se = np.sqrt(np.clip(rates * (1 - rates), 0.25 / n, None) / n)
    to_low, to_top = rates - low, top - rates
    out = np.where(
        (to_low <= to_top) & (to_low < kappa * se),
        low,
        np.where((to_top < to_low) & (to_top < kappa * se), top, rates),
    )
    out[np.argmin(rates)], out[np.argmax(rates)] = low, top  # the band keeps both edges
    return out


def wilson(x, n, level):
    """Wilson score interval of each rate ``x / n`` (NaN where ``n == 0``)."""
    x = np.asarray(x, float)
    n = np.asarray(n, float)
    z = stats.norm.isf((1 - level) / 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = x / n
        centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
        half = z / (1 + z**2 / n) * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
        low = np.where(n > 0, np.clip(centre - half, 0, 1), np.nan)
        high = np.where(n > 0, np.clip(centre + half, 0, 1), np.nan)
    return low, high
