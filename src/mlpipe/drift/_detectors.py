"""The drift detectors: one test for every column (KSDrift, PSIDrift,
ChiSquareDrift) or one picked per column (DriftDetector)."""

import contextlib
from numbers import Integral, Real

import numpy as np
import pandas as pd
from sklearn.base import clone

from mlpipe.drift._base import SORTED_TESTS, _BaseDrift, _unfit
from mlpipe.drift._ks import ALTERNATIVES, METHODS
from mlpipe.utils._dask import is_dask_dataframe
from mlpipe.utils._dataframe import BOOLEAN, CATEGORICAL
from mlpipe.utils._sklearn_compat import HasMethods, Interval, StrOptions, fit_context

# the values of DriftDetector's numeric_test, besides "auto"
NUMERIC_TESTS = ("ks", "cvm", "ad", "wasserstein", "js", "psi")


class KSDrift(_BaseDrift):
    """Two-sample Kolmogorov-Smirnov drift test of every numeric column.

    At fit the reference values of each column are sorted once and kept
    (``reference_.ks_sorted``). A batch is sorted and merged with them by a
    numba kernel that gallops through the longer side, in parallel over
    columns; the statistic is bit-equal to :func:`scipy.stats.ks_2samp`'s and
    the p-value agrees with scipy's to 1e-10 relative or better, for every
    ``alternative`` and ``method``.

    ``detect(X)`` returns the :class:`DriftReport` of a batch; ``score(X)``
    returns a float for scikit-learn's scorers: the share of the watched
    features that did not drift (1.0 when none did; higher is "more like the
    reference").

    Parameters
    ----------
    columns : list, default=None
        The columns to watch, by name (by position for arrays); the others
        are checked for presence at detect time but not tested. None watches
        every column.

    alpha : float, default=0.05
        Significance level, after the correction across columns.

    correction : {"bh", "bonferroni"} or None, default="bh"
        Multiple-testing correction across the p-value tests of one batch:
        Benjamini-Hochberg (false discovery rate) or Bonferroni (family-wise
        error rate).

    threshold : float, default=0.1
        Smallest KS statistic (the largest gap between the two empirical CDFs)
        reported as drift. At large sample sizes every p-value is tiny; this
        keeps a statistically significant but negligible shift quiet. 0 turns
        it off.

    alternative : {"two-sided", "less", "greater"}, default="two-sided"
        As in :func:`scipy.stats.ks_2samp` with the reference as ``data1``
        and the batch as ``data2``: "greater" looks for a reference CDF above
        the batch CDF (batch values larger).

    method : {"auto", "exact", "asymp"}, default="auto"
        How the p-value is computed, as in :func:`scipy.stats.ks_2samp`
        ("auto": exact when both sides have at most 10,000 values).

    max_reference_rows : int or None, default=1_000_000
        The KS columns keep their exact sorted values (8 bytes a value)
        while the reference has at most this many rows; beyond, each keeps a
        mergeable quantile sketch of ``sketch_size`` values a level, and its
        KS statistic is within the sketch's rank error of the exact one
        (see Notes). None keeps every value.

    sketch_size : int, default=65536
        Values a level of the quantile sketch holds (even); a larger one is
        more precise and bigger (see Notes).

    missing_threshold : float, default=0.05
        Smallest change in a column's missing-value rate reported as drift
        (and Fisher's exact test of the missing counts must be significant).

    drift_share : float or None, default=None
        The batch drifted when at least this share of the columns drifted;
        None means any drifted column.

    Attributes
    ----------
    reference_ : DriftReference
        The compact reference: sorted values per column.

    tests_ : dict
        ``{column: "ks"}``.

    kinds_ : dict
        The kind of each column at fit.

    n_features_in_ : int
        Number of features seen during fit.

    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when they are all strings.

    See Also
    --------
    DriftDetector : Picks the test of each column from its dtype.
    scipy.stats.ks_2samp : The same test on one pair of samples.

    Notes
    -----
    Missing values (NaN, None, NaT) are left out of the KS test, as
    ``ks_2samp(..., nan_policy="omit")`` does, and compared separately as a
    missing-rate test. Integers beyond 2**53 and datetimes are compared as
    float64 (nanoseconds for datetimes).

    A reference of more than ``max_reference_rows`` rows (fitted from
    chunks with :meth:`partial_fit`, on a dask DataFrame, or at once) keeps
    a deterministic mergeable quantile sketch of each KS column: its ECDF
    is within ``reference_.ks_error_bounds[column]`` of the exact one at
    every point, hence so is the KS statistic, and that bound is at most
    ``(floor(log2(n / sketch_size)) + 1) / (2 sketch_size)`` for ``n``
    values, whatever the data and the order of the chunks: below 1e-4 up to
    5.4e8 values at the default size, for about 2.5 MB a column at 5e7.
    p-values use the true sample sizes; reports name the bounded statistics
    in ``error_bounds``.

    Examples
    --------
    >>> import numpy as np
    >>> from mlpipe.drift import KSDrift
    >>> rng = np.random.default_rng(0)
    >>> ref = rng.normal(size=(1000, 2))
    >>> batch = np.column_stack([rng.normal(size=500), rng.normal(0.5, 1, size=500)])
    >>> detector = KSDrift().fit(ref)
    >>> report = detector.detect(batch)
    >>> report.to_frame()[["feature", "test", "drift"]]
       feature test  drift
    0        0   ks  False
    1        1   ks   True
    >>> detector.score(batch)  # one of the two features drifted
    0.5
    """

    _single_test = "ks"
    _parameter_constraints = {
        "columns": ["array-like", None],
        "alpha": [Interval(Real, 0, 1, closed="neither")],
        "correction": [StrOptions({"bh", "bonferroni"}), None],
        "threshold": [Interval(Real, 0, 1, closed="both")],
        "alternative": [StrOptions(set(ALTERNATIVES))],
        "method": [StrOptions(set(METHODS))],
        "max_reference_rows": [Interval(Integral, 1, None, closed="left"), None],
        "sketch_size": [Interval(Integral, 2, None, closed="left")],
        "missing_threshold": [Interval(Real, 0, 1, closed="both")],
        "drift_share": [Interval(Real, 0, 1, closed="right"), None],
    }

    def __init__(
        self,
        *,
        columns=None,
        alpha=0.05,
        correction="bh",
        threshold=0.1,
        alternative="two-sided",
        method="auto",
        max_reference_rows=1_000_000,
        sketch_size=65536,
        missing_threshold=0.05,
        drift_share=None,
    ):
        self.columns = columns
        self.alpha = alpha
        self.correction = correction
        self.threshold = threshold
        self.alternative = alternative
        self.method = method
        self.max_reference_rows = max_reference_rows
        self.sketch_size = sketch_size
        self.missing_threshold = missing_threshold
        self.drift_share = drift_share


class PSIDrift(_BaseDrift):
    """Population stability index of every column.

    Numeric columns are cut into ``n_bins`` bins at the reference quantiles
    (or equal widths), categorical ones count each reference category plus an
    "unseen" bucket. The reference keeps only the bin edges and counts. Each
    batch is binned by a numba kernel, in parallel over columns.

    ``PSI = sum_b (q_b - p_b) ln(q_b / p_b)`` with ``p`` and ``q`` the
    reference and batch shares of the non-missing values, each floored at
    ``eps``. Common reading: below 0.1 stable, 0.1-0.2 a moderate shift,
    above 0.2 a significant one. PSI is the effect size; a column drifts when
    PSI reaches ``threshold`` *and* PSI's test is significant: its p-value
    comes from PSI's null distribution at the two sample sizes
    (asymptotically ``PSI * n m / (n + m)`` is chi-square with bins - 1
    degrees of freedom; where the expected counts are below 10, after
    merging the rarest bins, a Monte Carlo permutation p-value), so that a
    small batch, whose PSI is large by chance, is not flagged for it.

    ``detect(X)`` returns the :class:`DriftReport` of a batch; ``score(X)``
    returns a float for scikit-learn's scorers: the share of the watched
    features that did not drift (1.0 when none did; higher is "more like the
    reference").

    Parameters
    ----------
    columns : list, default=None
        The columns to watch, by name (by position for arrays); the others
        are checked for presence at detect time but not tested. None watches
        every column.

    threshold : float, default=0.2
        PSI at or above which a column drifted.

    n_bins : int, default=10
        Bins of numeric columns (fewer when the reference quantiles repeat).

    binning : {"quantile", "uniform"}, default="quantile"
        Edges at reference quantiles, or equally spaced between the reference
        minimum and maximum.

    eps : float, default=1e-4
        Floor of the share of an empty bin, so that the logarithm stays
        finite.

    missing_threshold : float, default=0.05
        Smallest change in a column's missing-value rate reported as drift.

    alpha : float, default=0.05
        Significance level of the PSI and missing-rate tests, after the
        correction.

    correction : {"bh", "bonferroni"} or None, default="bh"
        Correction across the PSI and missing-rate tests of one batch.

    drift_share : float or None, default=None
        The batch drifted when at least this share of the columns drifted;
        None means any drifted column.

    Attributes
    ----------
    reference_ : DriftReference
        Bin edges and counts (numeric), categories and counts (categorical).

    tests_ : dict
        ``{column: "psi"}``.

    kinds_ : dict
        The kind of each column at fit.

    n_features_in_ : int
        Number of features seen during fit.

    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when they are all strings.

    See Also
    --------
    DriftDetector : Picks the test of each column from its dtype.

    Notes
    -----
    A value equal to an edge falls in the bin above it; infinite values fall
    in the outer bins. Missing values are left out of the shares and compared
    as a missing-rate test.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from mlpipe.drift import PSIDrift
    >>> rng = np.random.default_rng(0)
    >>> ref = pd.DataFrame({"x": rng.normal(size=2000)})
    >>> batch = pd.DataFrame({"x": rng.normal(1.0, 1.0, size=1000)})
    >>> report = PSIDrift().fit(ref).detect(batch)
    >>> bool(report.drift), round(float(report.to_frame()["statistic"][0]), 2)
    (True, 0.96)
    """

    _single_test = "psi"
    _parameter_constraints = {
        "columns": ["array-like", None],
        "threshold": [Interval(Real, 0, None, closed="left")],
        "n_bins": [Interval(Integral, 2, None, closed="left")],
        "binning": [StrOptions({"quantile", "uniform"})],
        "eps": [Interval(Real, 0, 1, closed="neither")],
        "missing_threshold": [Interval(Real, 0, 1, closed="both")],
        "alpha": [Interval(Real, 0, 1, closed="neither")],
        "correction": [StrOptions({"bh", "bonferroni"}), None],
        "drift_share": [Interval(Real, 0, 1, closed="right"), None],
    }

    def __init__(
        self,
        *,
        columns=None,
        threshold=0.2,
        n_bins=10,
        binning="quantile",
        eps=1e-4,
        missing_threshold=0.05,
        alpha=0.05,
        correction="bh",
        drift_share=None,
    ):
        self.columns = columns
        self.threshold = threshold
        self.n_bins = n_bins
        self.binning = binning
        self.eps = eps
        self.missing_threshold = missing_threshold
        self.alpha = alpha
        self.correction = correction
        self.drift_share = drift_share


class ChiSquareDrift(_BaseDrift):
    """Chi-square test of homogeneity of every categorical column.

    The reference keeps each column's categories and counts. A batch's counts
    over those categories, plus one bucket for categories never seen at fit,
    form a 2 x k table with the reference counts; its statistic and p-value
    equal :func:`scipy.stats.chi2_contingency`'s (Yates' correction for
    2 x 2) where the chi-square approximation holds (Cochran's rule: every
    expected count >= 1 and 80% of them >= 5). Where it does not, the
    categories with the smallest reference counts are merged into one until
    it holds (the note says how many), and when no table of two or more
    buckets passes (small batches), the p-value is a seeded Monte Carlo
    permutation p-value (1999 draws) of the full table's statistic. Numeric
    columns are compared by their distinct values.

    ``detect(X)`` returns the :class:`DriftReport` of a batch; ``score(X)``
    returns a float for scikit-learn's scorers: the share of the watched
    features that did not drift (1.0 when none did; higher is "more like the
    reference").

    Parameters
    ----------
    columns : list, default=None
        The columns to watch, by name (by position for arrays); the others
        are checked for presence at detect time but not tested. None watches
        every column.

    alpha : float, default=0.05
        Significance level, after the correction across columns.

    correction : {"bh", "bonferroni"} or None, default="bh"
        Multiple-testing correction across the p-value tests of one batch.

    threshold : float, default=0.1
        Smallest Cramér's V (``sqrt(chi2 / n)`` for a 2 x k table) reported
        as drift; 0.1 is Cohen's "small" effect. 0 turns it off.

    missing_threshold : float, default=0.05
        Smallest change in a column's missing-value rate reported as drift.

    drift_share : float or None, default=None
        The batch drifted when at least this share of the columns drifted;
        None means any drifted column.

    Attributes
    ----------
    reference_ : DriftReference
        Categories and their counts per column.

    tests_ : dict
        ``{column: "chi2"}``.

    kinds_ : dict
        The kind of each column at fit.

    n_features_in_ : int
        Number of features seen during fit.

    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when they are all strings.

    See Also
    --------
    DriftDetector : Picks the test of each column from its dtype.
    scipy.stats.chi2_contingency : The same test on one table.

    Notes
    -----
    Categories absent from both sides are dropped from the table. Unseen
    categories are named in the report's ``note``. Missing values are not a
    category here; they are compared as a missing-rate test.

    Examples
    --------
    >>> import pandas as pd
    >>> from mlpipe.drift import ChiSquareDrift
    >>> ref = pd.DataFrame({"colour": ["red"] * 60 + ["blue"] * 40})
    >>> batch = pd.DataFrame({"colour": ["red"] * 20 + ["blue"] * 70 + ["green"] * 10})
    >>> report = ChiSquareDrift().fit(ref).detect(batch)
    >>> row = report.to_frame().iloc[0]
    >>> row["test"], bool(row["drift"]), row["note"]
    ('chi2', True, "dof=2; 1 unseen category ('green': 10)")
    """

    _single_test = "chi2"
    _parameter_constraints = {
        "columns": ["array-like", None],
        "alpha": [Interval(Real, 0, 1, closed="neither")],
        "correction": [StrOptions({"bh", "bonferroni"}), None],
        "threshold": [Interval(Real, 0, 1, closed="both")],
        "missing_threshold": [Interval(Real, 0, 1, closed="both")],
        "drift_share": [Interval(Real, 0, 1, closed="right"), None],
    }

    def __init__(
        self,
        *,
        columns=None,
        alpha=0.05,
        correction="bh",
        threshold=0.1,
        missing_threshold=0.05,
        drift_share=None,
    ):
        self.columns = columns
        self.alpha = alpha
        self.correction = correction
        self.threshold = threshold
        self.missing_threshold = missing_threshold
        self.drift_share = drift_share


class DriftDetector(_BaseDrift):
    """Detect drift in every column of a batch with a test suited to it.

    The test of each column is picked from its dtype and size, as evidently
    does, and can be set per column with ``tests``:

    - numeric and datetime columns with more than ``max_discrete`` distinct
      reference values: two-sample Kolmogorov-Smirnov (``"ks"``), or the
      test ``numeric_test`` names (``"auto"``: Anderson-Darling or KS by
      the column's ties and the reference's size, see Notes);
    - numeric columns with at most ``max_discrete`` distinct values (codes,
      counts, ratings): chi-square (``"chi2"``);
    - categorical, string, object and boolean columns with at most
      ``max_categories`` reference categories: chi-square (``"chi2"``);
      with more, the population stability index (``"psi"``), since a
      chi-square table of many sparse categories is unreliable.

    p-values are corrected across the columns of a batch (Benjamini-Hochberg
    by default), and a column drifts only when its test is significant *and*
    its effect size reaches the threshold of its test: at large sample sizes
    every p-value is tiny, so the effect size decides. Each column whose
    missing-value rate is not zero on both sides also gets a missing-rate
    test. Categories never seen at fit go to an "unseen" bucket of the
    chi-square and PSI tables and are named in the report.

    ``detect(X)`` returns the :class:`DriftReport` of a batch; ``score(X)``
    returns a float for scikit-learn's scorers: the share of the watched
    features that did not drift (1.0 when none did; higher is "more like the
    reference").

    Parameters
    ----------
    columns : list, default=None
        The columns to watch, by name (by position for arrays); the others
        are checked for presence at detect time but not tested. None watches
        every column.

    tests : dict, default=None
        ``{column: test}`` overrides of the automatic choice, a test one of
        ``"ks"`` (Kolmogorov-Smirnov), ``"cvm"`` (Cramér-von Mises),
        ``"ad"`` (Anderson-Darling), ``"wasserstein"``, ``"js"``
        (Jensen-Shannon distance over PSI's bins), ``"psi"`` and ``"chi2"``.
        ``"ks"``, ``"cvm"``, ``"ad"`` and ``"wasserstein"`` need a numeric,
        boolean or datetime column; see Notes for what each reports.

    numeric_test : {"ks", "cvm", "ad", "wasserstein", "js", "psi", "auto"}, default="ks"
        The test of numeric and datetime columns with more than
        ``max_discrete`` distinct reference values. ``"auto"``:
        Anderson-Darling when no reference value holds more than 5% of the
        values and the reference has at most ``max_reference_rows`` rows,
        else KS (see Notes). The default keeps KS (see the drift guide for
        the measured false-alarm rates and power of each choice).

    alpha : float, default=0.05
        Significance level of the p-value tests, after the correction.

    correction : {"bh", "bonferroni"} or None, default="bh"
        Multiple-testing correction across the p-value tests of one batch:
        Benjamini-Hochberg (false discovery rate) or Bonferroni (family-wise
        error rate); None compares each p-value with ``alpha``.

    ks_threshold : float, default=0.1
        Smallest KS statistic (largest gap between the two empirical CDFs)
        reported as drift.

    chi2_threshold : float, default=0.1
        Smallest Cramér's V reported as drift (0.1 is a "small" effect).

    psi_threshold : float, default=0.2
        PSI at or above which a column drifted, when PSI's test is also
        significant (see :class:`PSIDrift`).

    missing_threshold : float, default=0.05
        Smallest change in the missing-value rate reported as drift.

    n_bins : int, default=10
        Bins of numeric columns tested with PSI.

    binning : {"quantile", "uniform"}, default="quantile"
        PSI bin edges at reference quantiles or equally spaced.

    max_categories : int, default=50
        Categorical columns with more reference categories use PSI instead of
        chi-square.

    max_discrete : int, default=10
        Numeric columns with at most this many distinct reference values use
        chi-square instead of KS.

    alternative : {"two-sided", "less", "greater"}, default="two-sided"
        Alternative of the KS tests, as in :func:`scipy.stats.ks_2samp` with
        the reference as ``data1``.

    method : {"auto", "exact", "asymp"}, default="auto"
        p-value method of the KS tests, as in :func:`scipy.stats.ks_2samp`.

    max_reference_rows : int or None, default=1_000_000
        The KS columns keep their exact sorted values (8 bytes a value)
        while the reference has at most this many rows; beyond, each keeps a
        mergeable quantile sketch of ``sketch_size`` values a level, and its
        KS statistic is within the sketch's rank error of the exact one
        (see Notes). None keeps every value.

    sketch_size : int, default=65536
        Values a level of the quantile sketch holds (even); a larger one is
        more precise and bigger (see Notes).

    drift_share : float or None, default=None
        The batch drifted when at least this share of the columns drifted;
        None means any drifted column.

    wasserstein_threshold : float, default=0.1
        Smallest Wasserstein distance, in reference standard deviations,
        reported as drift (``"wasserstein"`` columns).

    js_threshold : float, default=0.1
        Smallest Jensen-Shannon distance (base 2, in [0, 1]) reported as
        drift (``"js"`` columns).

    cvm_ties : {"midrank", "scipy"}, default="midrank"
        How the Cramér-von Mises test counts ties within a sample:
        ``"scipy"`` as :func:`scipy.stats.cramervonmises_2samp` (which on a
        tie-heavy column rejects a true null hypothesis nearly always),
        ``"midrank"`` only ties across the samples (its p-value is then
        conservative under ties: measured, it rarely rejects even a shift
        KS finds). Without ties both equal scipy's.

    importance : dict, Series or Explanation, default=None
        The model's reliance on each column, for example
        ``mlpipe.explain.explain(model, X_sample).importance()`` (the mean
        absolute SHAP value of each raw column) or that
        :class:`~mlpipe.explain.Explanation` itself; keys are columns seen
        at fit (a column left out counts as unused by the model). Reports
        then rank the drifted features by the model's reliance on them
        (:attr:`DriftReport.drifted_features`,
        :meth:`DriftReport.by_importance`) and say which share of it
        drifted (:attr:`DriftReport.drifted_importance`). It changes no
        test and no verdict. None ranks by effect size. A saved detector
        keeps it as its ``{column: value}`` dict.

    joint : estimator or None, default=None
        A joint test run beside the per-column tests, for a shift in how
        the columns move together that leaves every column's own
        distribution unchanged: an unfitted :class:`ClassifierDrift` (a
        classifier that tells batch rows from reference rows, explained in
        the raw columns) or :class:`ReconstructionDrift`. A clone is fitted
        on the watched columns of the reference (``joint_``); each report
        gets its row, feature ``"(joint)"``, and its full report as
        ``report.joint``. The joint test keeps its own level (its
        ``alpha``), apart from the per-column correction, and the batch
        drifts when it does, whatever ``drift_share``: a clean batch then
        raises an alarm about as often as the two false-alarm rates added
        (measured in the drift guide). It needs the reference and the
        batch in memory: ``fit`` of a pandas or numpy reference only (not
        ``partial_fit`` or dask).

    Attributes
    ----------
    reference_ : DriftReference
        The compact, picklable reference: sorted values of KS columns, bin
        edges and counts of PSI columns, categories and counts of chi-square
        columns, missing counts of all.

    tests_ : dict
        The test used for each column.

    kinds_ : dict
        The kind of each column at fit.

    joint_ : estimator or None
        The fitted clone of ``joint`` (None without it).

    importance_ : dict or None
        ``{column: share}`` of the model's reliance, from ``importance``
        divided by its sum (None without ``importance``).

    n_features_in_ : int
        Number of features seen during fit.

    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when they are all strings.

    See Also
    --------
    KSDrift, PSIDrift, ChiSquareDrift : One test for all columns.
    DriftMonitor : A pipeline step that checks every batch it transforms.

    Notes
    -----
    Missing values (NaN, None, NaT) are left out of every distribution test
    (for KS this is ``ks_2samp(..., nan_policy="omit")``) and compared by
    the missing-rate test instead. A column that is entirely missing in the
    batch has nothing to compare: its distribution test reports NaN and no
    drift, while its missing-rate test fires.

    A reference of more than ``max_reference_rows`` rows (fitted from
    chunks with :meth:`partial_fit`, on a dask DataFrame, or at once) keeps
    a deterministic mergeable quantile sketch of each KS column: its ECDF
    is within ``reference_.ks_error_bounds[column]`` of the exact one at
    every point, hence so is the KS statistic, and that bound is at most
    ``(floor(log2(n / sketch_size)) + 1) / (2 sketch_size)`` for ``n``
    values, whatever the data and the order of the chunks: below 1e-4 up to
    5.4e8 values at the default size, for about 2.5 MB a column at 5e7.
    p-values use the true sample sizes; reports name the bounded statistics
    in ``error_bounds``.

    The tests of numeric columns, each equal to scipy's on the same values
    (missing values omitted):

    - ``"ks"``: statistic and effect size ``D``, :func:`scipy.stats.ks_2samp`;
    - ``"cvm"``: statistic and p-value of
      :func:`scipy.stats.cramervonmises_2samp` (with ``cvm_ties="scipy"``;
      the same without ties), effect size the KS ``D`` (``ks_threshold``);
    - ``"ad"``: :func:`scipy.stats.anderson_ksamp` (midrank) of the two
      samples; without ties its p-value is interpolated in scipy's table
      and so capped at 0.25 and floored at 0.001, with ties (where the
      table is liberal) it is the Monte Carlo permutation p-value of 1999
      seeded draws, as ``anderson_ksamp(..., method=PermutationMethod())``
      (so at least 1/2000); the note says which (with more than 50 p-value
      tests a Bonferroni cut-off is below the floor), effect size ``D``;
    - ``"wasserstein"``: statistic :func:`scipy.stats.wasserstein_distance`,
      effect size that distance over the reference's standard deviation
      (``wasserstein_threshold``); a distance has no distribution-free
      null, so its p-value is the KS test's of the same column;
    - ``"js"``: :func:`scipy.spatial.distance.jensenshannon` (base 2) of the
      PSI bins' counts, statistic and effect size (``js_threshold``); its
      p-value is the chi-square test of the same bins, to which it is
      asymptotically equivalent (its Monte Carlo permutation p-value where
      the smaller sample has at most 200 values). Categorical columns too.

    ``"cvm"``, ``"ad"`` and ``"wasserstein"`` read the exact sorted
    reference values (they share the KS block): a reference of more than
    ``max_reference_rows`` rows is refused for them at fit (``ValueError``;
    a sketch bounds the ECDF, not their statistics), except that
    ``numeric_test="auto"`` then picks KS; infinite values are refused
    (KS ranks them). A dask batch cannot be tested by them (its values stay
    on the workers): compute it first. ``"js"`` counts bins, exact at any
    size and on dask.

    Examples
    --------
    >>> from mlpipe.datasets import load_credit, make_credit_batch
    >>> from mlpipe.drift import DriftDetector
    >>> X_ref, _ = load_credit(return_X_y=True)
    >>> detector = DriftDetector().fit(X_ref)
    >>> detector.tests_["age"], detector.tests_["job"], detector.tests_["purpose"]
    ('ks', 'chi2', 'chi2')
    >>> report = detector.detect(make_credit_batch(drift=False, defects=False).X)
    >>> report.drift
    False
    >>> round(detector.score(make_credit_batch().X), 3)  # 4 of the 9 features drifted
    0.556
    >>> auto = DriftDetector(numeric_test="auto").fit(X_ref)
    >>> auto.tests_["credit_amount"], auto.tests_["age"]  # age: 5.1% of one value
    ('ad', 'ks')
    """

    _parameter_constraints = {
        "columns": ["array-like", None],
        "tests": [dict, None],
        "alpha": [Interval(Real, 0, 1, closed="neither")],
        "correction": [StrOptions({"bh", "bonferroni"}), None],
        "ks_threshold": [Interval(Real, 0, 1, closed="both")],
        "chi2_threshold": [Interval(Real, 0, 1, closed="both")],
        "psi_threshold": [Interval(Real, 0, None, closed="left")],
        "missing_threshold": [Interval(Real, 0, 1, closed="both")],
        "n_bins": [Interval(Integral, 2, None, closed="left")],
        "binning": [StrOptions({"quantile", "uniform"})],
        "max_categories": [Interval(Integral, 1, None, closed="left")],
        "max_discrete": [Interval(Integral, 0, None, closed="left")],
        "alternative": [StrOptions(set(ALTERNATIVES))],
        "method": [StrOptions(set(METHODS))],
        "max_reference_rows": [Interval(Integral, 1, None, closed="left"), None],
        "sketch_size": [Interval(Integral, 2, None, closed="left")],
        "drift_share": [Interval(Real, 0, 1, closed="right"), None],
        "numeric_test": [StrOptions({"auto", *NUMERIC_TESTS})],
        "wasserstein_threshold": [Interval(Real, 0, None, closed="left")],
        "js_threshold": [Interval(Real, 0, 1, closed="both")],
        "cvm_ties": [StrOptions({"midrank", "scipy"})],
        "importance": [dict, pd.Series, HasMethods(["importance"]), None],
        "joint": [HasMethods(["fit", "detect"]), None],
    }

    def __init__(
        self,
        *,
        columns=None,
        tests=None,
        numeric_test="ks",
        alpha=0.05,
        correction="bh",
        ks_threshold=0.1,
        chi2_threshold=0.1,
        psi_threshold=0.2,
        missing_threshold=0.05,
        n_bins=10,
        binning="quantile",
        max_categories=50,
        max_discrete=10,
        alternative="two-sided",
        method="auto",
        max_reference_rows=1_000_000,
        sketch_size=65536,
        drift_share=None,
        wasserstein_threshold=0.1,
        js_threshold=0.1,
        cvm_ties="midrank",
        importance=None,
        joint=None,
    ):
        self.columns = columns
        self.tests = tests
        self.numeric_test = numeric_test
        self.alpha = alpha
        self.correction = correction
        self.ks_threshold = ks_threshold
        self.chi2_threshold = chi2_threshold
        self.psi_threshold = psi_threshold
        self.missing_threshold = missing_threshold
        self.n_bins = n_bins
        self.binning = binning
        self.max_categories = max_categories
        self.max_discrete = max_discrete
        self.alternative = alternative
        self.method = method
        self.max_reference_rows = max_reference_rows
        self.sketch_size = sketch_size
        self.drift_share = drift_share
        self.wasserstein_threshold = wasserstein_threshold
        self.js_threshold = js_threshold
        self.cvm_ties = cvm_ties
        self.importance = importance
        self.joint = joint

    def __getstate__(self):
        state = super().__getstate__()
        if self.importance is not None and not isinstance(self.importance, dict):
            # an Explanation or a Series (which skops does not load) is saved
            # as its {column: value}: the same importance_ on a refit
            with contextlib.suppress(ValueError):  # a bad one is refused at fit
                state["importance"] = _importance_values(self.importance)
        return state

    @fit_context(prefer_skip_nested_validation=True)  # before importance and joint are read
    def fit(self, X, y=None):
        shares = _importance_values(self.importance)
        if self.joint is not None and is_dask_dataframe(X):
            raise TypeError(
                "DriftDetector(joint=...) fits its joint test on the reference rows in "
                "memory, which a dask DataFrame keeps on the workers. Fit on a computed "
                "sample (X.sample(frac=...).compute()), or fit the joint test apart."
            )
        super().fit(X, y)
        self._set_importance(shares)
        self.joint_ = None
        if self.joint is not None:
            try:
                self.joint_ = clone(self.joint).fit(self._watched(X))
            except Exception:
                _unfit(self)
                for name in ("importance_", "joint_"):
                    self.__dict__.pop(name, None)
                raise
        return self

    fit.__doc__ = _BaseDrift.fit.__doc__

    @fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None):
        shares = _importance_values(self.importance)
        if self.joint is not None:
            raise ValueError(
                "DriftDetector(joint=...) learns its joint test from the whole reference at "
                "once: use fit, or partial_fit a detector without joint and fit the joint "
                "test apart on a sample of the reference."
            )
        first = not hasattr(self, "reference_")
        if not first:  # refused before this chunk is added
            self._set_importance(shares, unfit=False)
        super().partial_fit(X, y)
        return self._set_importance(shares, unfit=first)

    partial_fit.__doc__ = _BaseDrift.partial_fit.__doc__

    def detect(self, X):
        if self.__dict__.get("joint_") is not None and is_dask_dataframe(X):
            raise TypeError(
                "DriftDetector(joint=...) runs its joint test on the batch rows in memory, "
                "which a dask DataFrame keeps on the workers: compute the batch first."
            )
        return super().detect(X)

    def _joint_report(self, X):
        joint = self.__dict__.get("joint_")
        return None if joint is None else joint.detect(self._watched(X))

    detect.__doc__ = _BaseDrift.detect.__doc__

    def _watched(self, X):
        # the joint test compares the watched columns (all by default)
        if self.columns is None:
            return X
        if hasattr(X, "iloc"):
            return X[self._selected_columns(X)]
        keep = set(self.reference_.columns)
        return np.asarray(X)[:, [j for j in range(np.shape(X)[1]) if j in keep]]

    def _set_importance(self, values, unfit=True):
        if values is None:
            self.importance_ = None
            return self
        if hasattr(self, "feature_names_in_"):
            seen = list(self.feature_names_in_)
        else:
            seen = list(range(self.n_features_in_))
        unknown = [key for key in values if key not in seen]
        if unknown:
            if unfit:
                _unfit(self)
                self.__dict__.pop("importance_", None)
            raise ValueError(
                f"importance names {len(unknown)} column(s) not seen at fit: "
                f"{unknown[:5]}; the columns are {seen[:10]}"
                f"{' ...' if len(seen) > 10 else ''}."
            )
        total = float(sum(values.values()))
        self.importance_ = {key: value / total for key, value in values.items()}
        return self

    def _choose_test(self, series, kind, settings, n_distinct=None):
        if kind in (CATEGORICAL, BOOLEAN):
            if n_distinct is None:
                n_distinct = series.nunique(dropna=True)
            return "chi2" if n_distinct <= settings["max_categories"] else "psi"
        if n_distinct is not None:
            if n_distinct <= settings["max_discrete"]:
                return "chi2"
        elif _at_most_distinct(series, settings["max_discrete"]):
            return "chi2"
        test = settings["numeric_test"]
        if test == "auto":
            test = auto_numeric_test(series, settings["max_reference_rows"])
        return test

    def _auto_sorted_columns(self, ref):
        if self.numeric_test != "auto":
            return []
        overrides = self.tests or {}
        return [c for c in ref.columns if c not in overrides and ref.tests[c] in SORTED_TESTS]

    def _distinct_limit(self, settings):
        return max(settings["max_categories"], settings["max_discrete"])

    def _outgrown(self, ref, settings):
        overrides = self.tests or {}
        out = {}
        for col in ref.columns:
            if col in overrides or ref.tests[col] != "chi2":
                continue
            categorical = ref.kinds[col] in (CATEGORICAL, BOOLEAN)
            limit = settings["max_categories" if categorical else "max_discrete"]
            n = len(ref.categories[col])
            if n > limit:
                out[col] = (n, limit)
        return out


def _importance_values(importance):
    """``{column: float}`` of the ``importance`` parameter, checked: finite,
    non-negative, not all zero; None when it is None."""
    if importance is None:
        return None
    if hasattr(importance, "importance") and not isinstance(importance, (dict, pd.Series)):
        importance = importance.importance()
    if isinstance(importance, pd.Series):
        if importance.index.has_duplicates:
            dup = importance.index[importance.index.duplicated()].unique().tolist()
            raise ValueError(f"importance names column(s) {dup[:5]} more than once.")
        importance = dict(importance.items())
    values = {}
    for key, value in importance.items():
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ValueError(
                f"importance of column {key!r} must be a number, got {value!r}."
            ) from None
        if not np.isfinite(number) or number < 0:
            raise ValueError(
                f"importance of column {key!r} must be finite and >= 0, got {number!r}."
            )
        values[key.item() if isinstance(key, np.generic) else key] = number
    if not values or sum(values.values()) <= 0:
        raise ValueError(
            "importance must give some column a positive value (it is a model's reliance "
            "on the columns, e.g. explain(model, X).importance())."
        )
    return values


# numeric_test="auto" picks Anderson-Darling for columns whose most frequent
# reference value holds at most this share of the values, KS for the others
# (see auto_numeric_test)
AUTO_AD_MAX_TIE_SHARE = 0.05


def auto_numeric_test(series, max_reference_rows):
    """The test ``numeric_test="auto"`` gives a numeric or datetime column
    of more than ``max_discrete`` distinct values, from its reference
    values: Anderson-Darling while no value holds more than
    ``AUTO_AD_MAX_TIE_SHARE`` of them and the reference keeps its sorted
    values (at most ``max_reference_rows`` rows); KS for a tie-heavy column
    and for a sketched reference (whose KS statistic is bounded). On a
    tie-heavy column Anderson-Darling's p-value is a permutation p-value
    (scipy's table is liberal there), which costs 2-200 ms a column where
    KS's costs microseconds, and KS holds its level there too. Measured
    over every data set of ``benchmarks/results/drift_choice.md``: 2.8-3.8%
    of clean batches below 0.05 pooled at 50 to 5,000 rows (``"ad"`` on
    every column: 4.8-5.9%)."""
    if max_reference_rows is not None and len(series) > max_reference_rows:
        return "ks"
    counts = series.value_counts(dropna=True)
    if counts.empty or counts.iloc[0] > AUTO_AD_MAX_TIE_SHARE * counts.sum():
        return "ks"
    return "ad"


def _at_most_distinct(series, k):
    """Whether a column has at most k distinct non-missing values; a look at
    the first rows settles it for continuous columns without hashing a
    million values."""
    head = series.iloc[:4096].dropna()
    if head.nunique() > k:
        return False
    return series.nunique(dropna=True) <= k
