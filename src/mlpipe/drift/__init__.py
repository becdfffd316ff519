"""Drift detection: is production data still like the training data?

Detectors are fitted on a reference (the training data, or a known-good
period); ``detect(batch)`` returns a :class:`DriftReport`, and
``score(batch)`` the float scikit-learn's scorers expect: the share of the
watched features that did not drift (higher is "more like the reference").

- :class:`KSDrift`: two-sample Kolmogorov-Smirnov test of numeric columns,
  with numba kernels that keep the reference sorted; statistics bit-equal to
  :func:`scipy.stats.ks_2samp` and p-values equal to scipy's.
- :class:`PSIDrift`: population stability index over reference-quantile bins
  (numeric) or categories, with a p-value from its null distribution.
- :class:`ChiSquareDrift`: chi-square test of categorical counts, equal to
  :func:`scipy.stats.chi2_contingency` where Cochran's rule holds (rare
  categories merged, or a Monte Carlo permutation p-value, where not).
- :class:`DriftDetector`: one of the above per column, picked from its dtype
  and size, with multiple-testing correction, effect-size thresholds,
  missing-rate tests and unseen categories.
- :class:`ClassifierDrift`: a domain classifier cross-fitted to tell the
  batch from the reference (held-out AUROC): finds joint shifts that leave
  every column's distribution unchanged, and names the columns behind them.
- :class:`ReconstructionDrift`: PCA reconstruction error of the batch against
  the reference's held-out errors (a permutation test within folds): finds
  broken correlations, and names the columns behind the error.
- :class:`PerformanceEstimator`: a fitted classifier's accuracy, precision,
  recall, F1 and ROC AUC on a window without labels (confidence-based, from
  calibrated probabilities), with intervals for the realized values.
- :class:`DriftMonitor`: a pass-through pipeline step that checks every
  batch, keeps the reports and calls you back on drift.

Examples
--------
>>> from mlpipe.datasets import load_credit, make_credit_batch
>>> from mlpipe.drift import DriftDetector
>>> X_ref, _ = load_credit(return_X_y=True)
>>> report = DriftDetector().fit(X_ref).detect(make_credit_batch().X)
>>> sorted(report.drifted_features)
['age', 'credit_amount', 'duration', 'purpose']
"""

from mlpipe.drift._base import DriftReference
from mlpipe.drift._classifier import ClassifierDrift, ClassifierDriftReport
from mlpipe.drift._detectors import ChiSquareDrift, DriftDetector, KSDrift, PSIDrift
from mlpipe.drift._monitor import DriftMonitor
from mlpipe.drift._performance import PerformanceEstimator, PerformanceReport
from mlpipe.drift._reconstruction import ReconstructionDrift, ReconstructionDriftReport
from mlpipe.drift._report import DriftReport

__all__ = [
    "ChiSquareDrift",
    "ClassifierDrift",
    "ClassifierDriftReport",
    "DriftDetector",
    "DriftMonitor",
    "DriftReference",
    "DriftReport",
    "KSDrift",
    "PSIDrift",
    "PerformanceEstimator",
    "PerformanceReport",
    "ReconstructionDrift",
    "ReconstructionDriftReport",
]
