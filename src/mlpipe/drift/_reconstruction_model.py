"""The pieces of ReconstructionDrift: the encoding of mixed columns, the
model (imputation, one-hot encoding, scaling, PCA) fitted on the training
rows and the permutation test of a batch's mean error (which can permute
within strata; ReconstructionDrift uses one)."""

import numpy as np
import pandas as pd

from mlpipe.utils._dataframe import BOOLEAN, CATEGORICAL, DATETIME, time_ns

# Standardised values are clipped here, so that squared residuals of a value
# far outside the reference (or one near the float maximum) stay finite.
_CLIP = 1e100
# Permuted sums are drawn in blocks of about this many random keys.
_BLOCK = 2_000_000


# --------------------------------------------------------------------------
# the encoding and the models
# --------------------------------------------------------------------------


def raw_values(frame, kinds, categories):
    """One array per column: float64 with NaN for the numbers (datetimes as
    nanoseconds, booleans as 0/1), the reference code for categories (-1: a
    category the reference lacks, -2: missing)."""
    out = []
    for col, kind in kinds.items():
        series = frame[col]
        if kind == CATEGORICAL:
            values = series.astype(object).to_numpy()
            codes = pd.Index(categories[col], dtype=object).get_indexer(values)
            codes[pd.isna(values)] = -2
            out.append(codes.astype(np.int64))
        elif kind == DATETIME:
            out.append(time_ns(series))
        else:
            out.append(series.to_numpy(dtype=np.float64, na_value=np.nan))
    return out


def take(values, rows):
    """The given rows of every column of :func:`raw_values`."""
    return [v[rows] for v in values]


def fit_model(values, kinds, rows, explained_variance, min_frequency):
    """Imputation, encoding, scaling and PCA learned from ``rows`` only."""
    n = len(rows)
    unit, fill, kept = [], [], []
    for v, kind in zip(values, kinds.values(), strict=True):
        v = v[rows]
        if kind == CATEGORICAL:
            counts = np.bincount(v[v >= 0], minlength=0)
            keep = np.flatnonzero(counts >= max(min_frequency * n, 1))
            kept.append(keep[np.argsort(-counts[keep], kind="stable")])
            # missing values are imputed with the most frequent category
            fill.append(int(np.argmax(counts)) if counts.size and counts.max() > 0 else -1)
            unit.append(1.0)
            continue
        present = v[~np.isnan(v)]
        # values are divided by their largest magnitude first, so that a
        # median or a variance of values near the float maximum cannot overflow
        scale = float(np.max(np.abs(present))) if present.size else 0.0
        scale = scale if scale > 0 else 1.0
        present = present / scale
        if kind == BOOLEAN:
            middle = float(present.mean() > 0.5) if present.size else 0.0
        else:
            middle = float(np.median(present)) if present.size else 0.0
        unit.append(scale)
        fill.append(middle)
        kept.append(np.empty(0, dtype=np.int64))
    model = {"unit": np.array(unit), "fill": fill, "kept": kept}
    model["starts"], model["width"] = _layout(kinds, kept)
    Z = _encode(model, take(values, rows), kinds)
    center = Z.mean(axis=0)
    var = Z.var(axis=0)
    # scikit-learn's StandardScaler rule for a constant column: scale 1
    eps = np.finfo(np.float64).eps
    constant = var <= n * eps * var + (n * center * eps) ** 2
    scale = np.where(constant, 1.0, np.sqrt(var))
    # a one-hot column's variance is floored at that of one occurrence in
    # the training rows, p (1 - p) with p = 1 / n: a category the training
    # rows never had (an "other" column they left at 0) is then at least as
    # surprising as the rarest one they had, and a batch flooded with it has
    # a large error. With the constant-column rule its standardised value
    # would be 1, less than a common category's.
    floor = (1 - 1 / n) / n
    # a categorical column's one-hot columns together weigh as one numeric
    # column: each is divided by the square root of their number
    for j, kind in enumerate(kinds.values()):
        if kind == CATEGORICAL:
            start, width = int(model["starts"][j]), len(kept[j]) + 1
            hot = slice(start, start + width)
            if floor > 0:
                scale[hot] = np.sqrt(np.maximum(var[hot], floor))
            scale[hot] *= np.sqrt(width)
    model["center"], model["scale"] = center, scale
    Z = (Z - center) / scale
    mean = Z.mean(axis=0)
    _, s, vt = np.linalg.svd(Z - mean, full_matrices=False)
    variance = s**2
    total = variance.sum()
    if total > 0:
        ratio = np.cumsum(variance / total)
        q = min(int(np.searchsorted(ratio, explained_variance, side="right")) + 1, len(s))
    else:
        q = 0
    model["mean"] = mean
    model["components"] = vt[:q].copy()
    return model


def _layout(kinds, kept):
    """Where each raw column's encoded columns start, and how many there are
    in all: a numeric column is a value and a missing indicator; a
    categorical one a column per kept category, an "other" column and a
    missing indicator."""
    widths = [
        2 if kind != CATEGORICAL else len(k) + 2
        for kind, k in zip(kinds.values(), kept, strict=True)
    ]
    return np.r_[0, np.cumsum(widths)[:-1]].astype(np.int64), int(np.sum(widths))


def _encode(model, values, kinds):
    """The encoded, not yet standardised, matrix of some rows."""
    n = len(values[0])
    starts = model["starts"]
    Z = np.zeros((n, model["width"]))
    for j, (v, kind) in enumerate(zip(values, kinds.values(), strict=True)):
        s = int(starts[j])
        if kind == CATEGORICAL:
            kept = model["kept"][j]
            missing = v == -2
            codes = np.where(missing, model["fill"][j], v)
            lookup = np.full(
                max(int(codes.max(initial=0)), int(kept.max(initial=0))) + 2, len(kept)
            )
            lookup[kept] = np.arange(len(kept))
            # unseen (-1) and rare categories go to "other", at position len(kept)
            column = np.where(codes >= 0, lookup[np.maximum(codes, 0)], len(kept))
            Z[np.arange(n), s + column] = 1.0
            Z[:, s + len(kept) + 1] = missing
        else:
            missing = np.isnan(v)
            Z[:, s] = np.where(missing, model["fill"][j], v / model["unit"][j])
            Z[:, s + 1] = missing
    return Z


def reconstruct(model, values, kinds):
    """Reconstruction error of each row and its squared residual per raw column."""
    Z = (_encode(model, values, kinds) - model["center"]) / model["scale"]
    np.clip(Z, -_CLIP, _CLIP, out=Z)
    Z -= model["mean"]
    C = model["components"]
    residual = Z - (Z @ C.T) @ C
    squared = residual**2
    return np.sqrt(squared.sum(axis=1)), np.add.reduceat(squared, model["starts"], axis=1)


# --------------------------------------------------------------------------
# the test
# --------------------------------------------------------------------------


def permutation_test(batch, reference, n_permutations, alpha, rng):
    """One-sided permutation test of the batch's mean, permuted within strata.

    Parameters
    ----------
    batch : list of ndarray
        The batch's values in each stratum (fold).

    reference : list of ndarray
        The reference's values in each stratum.

    n_permutations : int
        Random permutations; in each, every stratum's values are dealt anew
        to the batch and the reference, in the same numbers.

    alpha : float
        Level of the threshold.

    rng : numpy.random.Generator
        The random draws.

    Returns
    -------
    p_value : float
        ``(1 + #{permuted mean >= observed}) / (n_permutations + 1)``, with
        scipy's relative tolerance for ties.

    threshold : float
        The batch mean above which the p-value is at most ``alpha``: the
        ``floor(alpha * (n_permutations + 1))``-th largest permuted mean.
    """
    n = sum(len(b) for b in batch)
    permuted = np.zeros(n_permutations)
    observed = 0.0
    for b, r in zip(batch, reference, strict=True):
        if not len(b):
            continue
        pool = np.concatenate([b, r])
        observed += b.sum()
        permuted += _subset_sums(pool, len(b), n_permutations, rng)
    observed /= n
    permuted /= n
    # scipy.stats.permutation_test's tolerance: equal up to rounding counts as equal
    gamma = np.abs(np.finfo(np.float64).eps * 100 * observed)
    count = int(np.sum(permuted >= observed - gamma))
    p = (1 + count) / (n_permutations + 1)
    rank = int(np.floor(alpha * (n_permutations + 1)))
    threshold = float(np.sort(permuted)[::-1][rank - 1]) if rank >= 1 else np.inf
    return float(min(p, 1.0)), threshold


def _subset_sums(pool, size, n_draws, rng):
    """Sums of ``n_draws`` random subsets of ``size`` of the values in ``pool``.

    The smaller side is drawn (the other's sum is the total less it).
    """
    m = len(pool)
    small = min(size, m - size)
    out = np.empty(n_draws)
    if small == 0:
        out[:] = pool.sum() if size == m else 0.0
        return out
    block = max(1, _BLOCK // m)
    for start in range(0, n_draws, block):
        stop = min(n_draws, start + block)
        keys = rng.random((stop - start, m))
        chosen = np.argpartition(keys, small - 1, axis=1)[:, :small]
        out[start:stop] = pool[chosen].sum(axis=1)
    if small != size:
        out = pool.sum() - out
    return out
