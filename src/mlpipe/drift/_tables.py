"""2 x k tables of counts (a reference row, a batch row): which p-value their
size allows, merging rare categories, the Monte Carlo p-value, and Fisher's
exact test of missing counts.

Shared by the statistics ``_chi2`` and ``_psi`` and by ``_report``'s
missing-rate rows; imports only the kernels.

The rule: an asymptotic (chi-square distributed) p-value is used only where
the table's expected counts, under the pooled proportions, are large enough
for it (``RULES``). Otherwise the rarest categories, by reference count, are
merged into one until the rule holds; when even two buckets do not pass,
the p-value is a Monte Carlo estimate of the permutation test on the full
table (:func:`monte_carlo`), which is valid at every size.
"""

import numpy as np
from scipy import special

from mlpipe.drift import _kernels

# {test: (every expected count >= a, at least num/den of them >= b)}.
# chi-square: Cochran's rule (all >= 1, 80% >= 5). PSI floors empty shares at
# eps, so one empty bin adds ~E ln(p / eps) to PSI * n m / (n + m): its null
# distribution has a heavy tail wherever a bin may be empty, and its
# asymptotic p-value needs every expected count >= 10 (P(empty) < 5e-5).
RULES = {"chi2": (1.0, 5.0, 4, 5), "psi": (10.0, 10.0, 1, 1)}
STATISTIC_CODES = {"chi2": 0, "psi": 1}

# Monte Carlo draws: the p-value is (1 + exceedances) / (N_DRAWS + 1), a
# multiple of 1/2000 (standard error 0.005 at p = 0.05); the generator is
# seeded, so a table always gets the same p-value.
N_DRAWS = 1999
SEED = 20240613


def nonempty(ref_counts, batch_counts):
    """The two rows as int64, categories empty on both sides dropped."""
    ref = np.asarray(ref_counts, dtype=np.int64)
    bat = np.asarray(batch_counts, dtype=np.int64)
    keep = (ref + bat) > 0
    return ref[keep], bat[keep]


def expected_counts(ref, bat):
    """Expected counts of the 2 x k table under the pooled proportions
    (``scipy.stats.contingency.expected_freq``)."""
    pooled = (ref + bat).astype(np.float64)
    rows = np.array([ref.sum(), bat.sum()], dtype=np.float64)
    return np.outer(rows, pooled) / pooled.sum()


def rule_holds(expected, test):
    """Whether the expected counts allow the asymptotic p-value of ``test``."""
    low, most, num, den = RULES[test]
    e = np.asarray(expected)
    return bool((e >= low).all() and den * int((e >= most).sum()) >= num * e.size)


def merge_rare(ref, bat, test):
    """Merge the categories with the smallest reference counts (ties: the
    smallest pooled counts first; categories unseen at fit, with reference
    count 0, come first) into one, until ``rule_holds``.

    Returns ``(ref, bat, n_merged)``: the table with the merged bucket last
    and how many categories it holds (0 when the full table passes), or None
    when no table of two or more buckets passes.
    """
    k = ref.shape[0]
    if k < 2:
        return None
    if rule_holds(expected_counts(ref, bat), test):
        return ref, bat, 0
    low, most, num, den = RULES[test]
    order = np.lexsort((ref + bat, ref))
    r, b = ref[order], bat[order]
    e = expected_counts(r, b)  # (2, k), in merge order
    bad = (e < low).sum(axis=0)
    good = (e >= most).sum(axis=0)
    # g = 2..k-1 categories merged: the rest are categories g..k-1
    g = np.arange(2, k)
    if g.size == 0:
        return None
    bad_rest = np.cumsum(bad[::-1])[::-1][g]
    good_rest = np.cumsum(good[::-1])[::-1][g]
    merged = np.cumsum(e, axis=1)[:, g - 1]  # expected counts of the merged bucket
    bad_all = bad_rest + (merged < low).sum(axis=0)
    good_all = good_rest + (merged >= most).sum(axis=0)
    cells = 2 * (k - g + 1)
    ok = (bad_all == 0) & (den * good_all >= num * cells)
    if not ok.any():
        return None
    n_merged = int(g[np.argmax(ok)])
    ref_m = np.append(r[n_merged:], r[:n_merged].sum())
    bat_m = np.append(b[n_merged:], b[:n_merged].sum())
    return ref_m, bat_m, n_merged


def split_unseen(ref_counts, batch_counts, unseen_counts):
    """The table with its "unseen" bucket (the last category: reference
    count 0, the batch's values of categories unseen at fit) split into one
    category per unseen value.

    For the permutation test: under the null hypothesis the pooled values are
    split at random, and a batch value of a category unseen at fit could have
    fallen in the reference. Lumped into one bucket whose reference count is
    0 by construction, they would look like a category missing from the
    reference; one category each, they are what they are (a column of row
    identifiers brings new values in every batch and is not drift).
    """
    unseen = np.asarray(list(unseen_counts), dtype=np.int64)
    ref = np.asarray(ref_counts, dtype=np.int64)
    bat = np.asarray(batch_counts, dtype=np.int64)
    if unseen.size == 0 or ref.size == 0 or ref[-1] != 0 or bat[-1] != unseen.sum():
        return ref, bat
    return (
        np.concatenate([ref[:-1], np.zeros(unseen.size, dtype=np.int64)]),
        np.concatenate([bat[:-1], unseen]),
    )


def monte_carlo(ref, bat, test, eps=1e-4, n_draws=N_DRAWS, seed=SEED):
    """Monte Carlo p-value of the permutation test of a 2 x k table (both
    sides non-empty, no empty category): the share of ``n_draws`` random
    splits of the pooled values into a reference and a batch of the same
    sizes whose statistic (``test``'s: Pearson's chi-square or PSI) reaches
    the observed one, counting the observed table: ``(1 + hits) / (n_draws
    + 1)``, which is a valid p-value whatever the number of draws (kernel
    ``table_exceedances``)."""
    _, hits = _kernels.table_exceedances(
        np.ascontiguousarray(ref, dtype=np.int64),
        np.ascontiguousarray(bat, dtype=np.int64),
        STATISTIC_CODES[test],
        float(eps),
        int(n_draws),
        int(seed),
    )
    return (1.0 + hits) / (n_draws + 1.0)


def fisher_pvalue(missing_ref, n_ref, missing_bat, n_bat):
    """Two-sided p-value of Fisher's exact test of the 2 x 2 table of missing
    and present counts of the reference and the batch: the hypergeometric
    probability, given the total missing count, of a batch missing count as
    likely as the observed one or less (within 1e-7 relative, as R's
    ``fisher.test``); 1.0 when either side or the total missing count is 0
    or full."""
    total, missing = n_ref + n_bat, missing_ref + missing_bat
    if n_ref == 0 or n_bat == 0 or missing == 0 or missing == total:
        return 1.0
    lo, hi = max(0, n_bat - (total - missing)), min(n_bat, missing)
    x = np.arange(lo, hi + 1, dtype=np.float64)
    # log of C(missing, x) C(total - missing, n_bat - x), the constant
    # C(total, n_bat) left out; gammaln is ~50x faster than hypergeom.pmf
    log_w = _log_choose(missing, x) + _log_choose(total - missing, n_bat - x)
    log_obs = log_w[missing_bat - lo]
    log_all = special.logsumexp(log_w)
    tail = log_w[log_w <= log_obs + 1e-7]
    return float(min(1.0, np.exp(special.logsumexp(tail) - log_all)))


def _log_choose(n, k):
    return special.gammaln(n + 1.0) - special.gammaln(k + 1.0) - special.gammaln(n - k + 1.0)
