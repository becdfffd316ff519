"""DriftDetector: one test per column, picked from its dtype and size."""

from numbers import Integral, Real

from mlpipe.drift._base import BOOLEAN, CATEGORICAL, _BaseDrift
from mlpipe.drift._ks import ALTERNATIVES, METHODS
from mlpipe.utils._sklearn_compat import Interval, StrOptions


class DriftDetector(_BaseDrift):
    """Detect drift in every column of a batch with a test suited to it.

    The test of each column is picked from its dtype and size, as evidently
    does, and can be set per column with ``tests``:

    - numeric and datetime columns with more than ``max_discrete`` distinct
      reference values: two-sample Kolmogorov-Smirnov (``"ks"``);
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

    Parameters
    ----------
    columns : list, default=None
        The columns to watch, by name (by position for arrays); the others
        are checked for presence at score time but not tested. None watches
        every column.

    tests : dict, default=None
        ``{column: "ks" | "psi" | "chi2"}`` overrides of the automatic choice.
        KS needs a numeric, boolean or datetime column.

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
        PSI at or above which a column drifted (PSI has no p-value).

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

    drift_share : float or None, default=None
        The batch drifted when at least this share of the columns drifted;
        None means any drifted column.

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

    Examples
    --------
    >>> from mlpipe.datasets import load_credit, make_credit_batch
    >>> from mlpipe.drift import DriftDetector
    >>> X_ref, _ = load_credit(return_X_y=True)
    >>> detector = DriftDetector().fit(X_ref)
    >>> detector.tests_["age"], detector.tests_["job"], detector.tests_["purpose"]
    ('ks', 'chi2', 'chi2')
    >>> report = detector.score(make_credit_batch(drift=False, defects=False).X)
    >>> report.drift
    False
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
        "drift_share": [Interval(Real, 0, 1, closed="right"), None],
    }

    def __init__(
        self,
        *,
        columns=None,
        tests=None,
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
        drift_share=None,
    ):
        self.columns = columns
        self.tests = tests
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
        self.drift_share = drift_share

    def _choose_test(self, series, kind, settings):
        if kind in (CATEGORICAL, BOOLEAN):
            n_categories = series.nunique(dropna=True)
            return "chi2" if n_categories <= settings["max_categories"] else "psi"
        if _at_most_distinct(series, settings["max_discrete"]):
            return "chi2"
        return "ks"


def _at_most_distinct(series, k):
    """Whether a column has at most k distinct non-missing values; a look at
    the first rows settles it for continuous columns without hashing a
    million values."""
    head = series.iloc[:4096].dropna()
    if head.nunique() > k:
        return False
    return series.nunique(dropna=True) <= k
