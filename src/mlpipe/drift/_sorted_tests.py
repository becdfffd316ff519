"""Cramér-von Mises, Anderson-Darling and Wasserstein tests of numeric
columns against the sorted reference values: statistics only.

Same signature as ``_ks`` (see its docstring), but the three are objects
of one class, :class:`SortedSampleTest`, rather than modules: they differ
only in the statistic and its effect size. They keep nothing of their own:
``_base`` puts their columns in the KS block (``ref.ks_columns``,
``ks_sorted``), after the KS-tested ones, so that chunked fitting, merging
and saving treat them as KS columns. Each batch column is sorted by the KS
kernel, which also gives the KS statistic (as ``ks_2samp`` reports it):
the effect size of Cramér-von Mises and Anderson-Darling (the largest gap
between the two empirical CDFs, on the scale of ``ks_threshold``).

- ``"cvm"``: :func:`~mlpipe.drift._twosample.cvm_2samp` (scipy's
  ``cramervonmises_2samp``; with ``cvm_ties="midrank"``, the default, only
  ties across the samples count, see below); effect: the KS statistic.
- ``"ad"``: :func:`~mlpipe.drift._twosample.anderson_2samp` (scipy's
  ``anderson_ksamp``, midrank); without ties its p-value is interpolated
  in Scholz and Stephens' table and so capped at 0.25 and floored at 0.001,
  with ties (where the table is liberal) it is the Monte Carlo permutation
  p-value (the note says which); effect: the KS statistic.
- ``"wasserstein"``: the statistic is
  :func:`~mlpipe.drift._twosample.wasserstein_1d` (scipy's
  ``wasserstein_distance``, in the units of the column); the effect is
  that distance divided by the reference's standard deviation (as
  evidently normalizes it: scale-free, 0.1 by default is a tenth of a
  standard deviation of mean shift). A distance has no distribution-free
  null: its limit law depends on the reference distribution, and a
  permutation test costs a pass over the pooled sample per draw. Its
  p-value is that of the KS test of the same column (``ks_2samp``, with
  the detector's ``method``; the statistic comes from the same kernel
  pass), a distribution-free test of the same ECDFs whose gap Wasserstein
  integrates: it keeps the false-alarm rate at or below ``alpha`` at every
  batch size, ties included (where it is conservative), and the
  normalized distance decides how large a shift must be. (Cramér-von
  Mises' p-value was the first choice; on tie-heavy columns its midrank
  p-value is so conservative that it rarely rejects, and scipy's nearly
  always does: see ``benchmarks/results/drift_choice.md``.)

Why midrank ties for Cramér-von Mises: scipy's statistic compares each
value's pooled midrank with its index in its own sample, so a sample's own
ties count as differences between the samples; on a column with many ties
that rejects a true null hypothesis nearly always (see
``_twosample.cvm_2samp``). ``cvm_ties="scipy"`` gives scipy's numbers.

The values must be finite: an infinite reference value is refused at fit
and an infinite batch value at detect (``ValueError``; KS ranks them).
The tests need the exact sorted values: ``_base`` refuses a reference of
more than ``max_reference_rows`` rows for them (the sketch that replaces
the sorted values bounds the ECDF, hence KS, but not these statistics).
"""

import numpy as np

from mlpipe.drift import _ks
from mlpipe.drift._columns import numeric_block
from mlpipe.drift._twosample import (
    AD_N_RESAMPLES,
    anderson_2samp,
    cvm_2samp,
    sorted_sample,
    wasserstein_1d,
)
from mlpipe.utils._dataframe import BOOLEAN, DATETIME, NUMERIC

TOO_FEW = "too_few_rows"
NAMES = {
    "cvm": "Cramér-von Mises",
    "ad": "Anderson-Darling",
    "wasserstein": "Wasserstein",
}


def reference_sample(ref, f):
    """``(SortedSample, std)`` of row ``f`` of the KS block of ``ref``,
    prepared on first use and kept on ``ref`` (not saved: ``DriftReference``
    drops it when pickled)."""
    cache = ref.__dict__.setdefault("_samples", {})
    found = cache.get(f)
    if found is None:
        n = int(ref.ks_counts[f])
        row = ref.ks_sorted[f, :n]
        found = (sorted_sample(row), float(np.std(row))) if n else (None, np.nan)
        cache[f] = found
    return found


def _infinite_error(col, where, values, test):
    n = int(np.isinf(values).sum())
    return ValueError(
        f"column {col!r}: the {where} has {n} infinite value(s); the {test!r} test "
        f"({NAMES[test]}) compares finite values. Replace them, or test the column "
        "with 'ks' (which ranks infinities as ordinary values) via tests={column: 'ks'}."
    )


class SortedSampleTest:
    """One two-sample test of the sorted reference values (``_base.STATISTICS``).

    Parameters
    ----------
    name : {"cvm", "ad", "wasserstein"}
        The test.
    """

    KINDS = (NUMERIC, DATETIME, BOOLEAN)

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"SortedSampleTest({self.name!r})"

    def fit_statistics(self, ref, X, columns, settings, threads):
        """Check the reference values of ``columns`` (``_base`` sorted them
        into the KS block).

        Parameters
        ----------
        ref : DriftReference
            The reference being fitted.
        X : DataFrame
            The reference data.
        columns : list
            The columns of this test.
        settings : dict
            The detector's settings.
        threads : int
            Threads available.
        """
        position = {c: f for f, c in enumerate(ref.ks_columns)}
        for col in columns:
            f = position[col]
            row = ref.ks_sorted[f, : int(ref.ks_counts[f])]
            if row.size and (np.isinf(row[0]) or np.isinf(row[-1])):
                raise _infinite_error(col, "reference", row, self.name)

    def score_statistics(self, ref, X, columns, settings, threads, distributions):
        """``{column: row}`` of the batch ``X`` for ``columns``.

        Parameters
        ----------
        ref : DriftReference
            The fitted reference.
        X : DataFrame
            The batch.
        columns : list
            The columns of this test.
        settings : dict
            The detector's settings.
        threads : int
            Threads available (one column at a time here).
        distributions : dict
            Filled with the plotted ECDF summary of each column.

        Returns
        -------
        dict
            One row of the report per column.
        """
        position = {c: f for f, c in enumerate(ref.ks_columns)}
        values = numeric_block(X, columns)
        rows = {}
        for j, col in enumerate(columns):
            f = position[col]
            bat_sorted, bat_counts, d, _ = _ks.ks_statistics(
                ref.ks_sorted[f : f + 1],
                ref.ks_counts[f : f + 1],
                ref.ks_index[f : f + 1],
                ref.ks_index_step,
                values[j : j + 1],
                len(X),
                _ks.ALTERNATIVES["two-sided"],
                1,
            )
            nb = int(bat_counts[0])
            batch = bat_sorted[0, :nb]
            if nb and (np.isinf(batch[0]) or np.isinf(batch[-1])):
                raise _infinite_error(col, "batch", batch, self.name)
            sample, std = reference_sample(ref, f)
            d_ks = p_ks = np.nan
            if int(ref.ks_counts[f]) and nb:
                # KS as ks_2samp reports it (D on the exact p-value's lattice)
                method = _ks.METHODS[settings["method"]]
                stat, p, _ = _ks.ks_pvalues(ref.ks_counts[f : f + 1], bat_counts, d, 0, method)
                d_ks, p_ks = float(stat[0]), float(p[0])
            rows[col] = self._row(col, sample, std, batch, d_ks, p_ks, settings)
            if sample is not None and nb:
                distributions[col] = {
                    "kind": "ecdf",
                    "levels": _ks._LEVELS,
                    "reference": ref.ks_quantiles[f],
                    "batch": _ks._quantiles(batch, _ks._LEVELS),
                }
        return rows

    def _row(self, col, sample, std, batch, d, p_ks, settings):
        nr = 0 if sample is None else sample.n
        nb = batch.size
        name = self.name
        row = {
            "feature": col,
            "test": name,
            "statistic": np.nan,
            "p_value": np.nan,
            "effect_size": np.nan,
            "effect_threshold": settings["ks_threshold"],
            "n_reference": nr,
            "n_batch": nb,
            "note": "no values to compare",
            "status": TOO_FEW,
        }
        if not (nr and nb):
            return row
        ties = settings["cvm_ties"]
        if name == "ad":
            res = anderson_2samp(sample, batch, batch_sorted=True)
            if np.isnan(res.statistic):
                value = sample.distinct[0]
                if sample.distinct.size == 1 and batch[0] == batch[-1] == value:
                    # one value on both sides: identical, nothing drifted
                    row.update(p_value=1.0, effect_size=0.0, status="ok")
                    row["note"] = "every value equal on both sides"
                else:
                    row["note"] = "fewer than 4 values in all"
                return row
            notes = {
                0: "interpolated p-value",
                1: "p-value capped at 0.25 (it is at least that)",
                -1: "p-value floored at 0.001 (it is at most that)",
            }
            note = notes[res.pvalue_bound]
            if res.method == "permutation":
                note = f"Monte Carlo permutation p-value ({AD_N_RESAMPLES} draws; ties)"
            elif res.method == "exact":
                note = "exact permutation p-value (ties)"
            row.update(statistic=res.statistic, p_value=res.pvalue, effect_size=d)
            row["note"] = note + "; effect: KS statistic"
        elif name == "cvm":
            res = cvm_2samp(sample, batch, batch_sorted=True, ties=ties)
            if np.isnan(res.statistic):
                row["note"] = "fewer than 2 values on a side"
                return row
            method = "exact" if max(nr, nb) <= 20 else "asymptotic"
            row.update(statistic=res.statistic, p_value=res.pvalue, effect_size=d)
            row["note"] = f"{method} p-value, {ties} ties; effect: KS statistic"
        else:
            w = wasserstein_1d(sample, batch, batch_sorted=True)
            # a constant reference: any distance is infinitely many of its std
            effect = w / std if std > 0 else (0.0 if w == 0 else np.inf)
            row.update(statistic=w, p_value=p_ks, effect_size=effect)
            row["effect_threshold"] = settings["wasserstein_threshold"]
            row["note"] = "KS p-value; effect: distance / reference std"
        row["status"] = "ok"
        return row


CVM = SortedSampleTest("cvm")
AD = SortedSampleTest("ad")
WASSERSTEIN = SortedSampleTest("wasserstein")
