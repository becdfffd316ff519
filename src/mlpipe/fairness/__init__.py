"""Fairness: group metrics equal to fairlearn's, an audit report, data bias
checks, and mitigation as scikit-learn meta-estimators."""

from mlpipe.fairness._audit import FairnessReport, audit_fairness
from mlpipe.fairness._bias import BiasReport, check_bias
from mlpipe.fairness._metrics import (
    GroupMetricTable,
    demographic_parity_difference,
    demographic_parity_ratio,
    disparate_impact_ratio,
    equal_opportunity_difference,
    equal_opportunity_ratio,
    equalized_odds_difference,
    equalized_odds_ratio,
    group_metrics,
    selection_rate,
)
from mlpipe.fairness._mitigation import GroupThresholdClassifier, ReweighingClassifier

__all__ = [
    "BiasReport",
    "FairnessReport",
    "GroupMetricTable",
    "GroupThresholdClassifier",
    "ReweighingClassifier",
    "audit_fairness",
    "check_bias",
    "demographic_parity_difference",
    "demographic_parity_ratio",
    "disparate_impact_ratio",
    "equal_opportunity_difference",
    "equal_opportunity_ratio",
    "equalized_odds_difference",
    "equalized_odds_ratio",
    "group_metrics",
    "selection_rate",
]
