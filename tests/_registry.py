"""Every public estimator of mlpipe, found by walking the package.

A new estimator is picked up by the common tests without anyone listing it.
The only thing to add here is constructor arguments for estimators that have
no usable default (``CHECK_PARAMS``).
"""

import importlib
import inspect
import pkgutil

import numpy as np
from sklearn.base import BaseEstimator

import mlpipe
from tests.drift._performance_matrix import AnyTableClassifier


class _FairnessCheckGroups:
    """Sensitive groups for the fairness meta-estimators in the common checks.

    The checks feed plain numeric arrays with no group column, so the groups
    are computed from X: the parity of the first column's thousandths. That is
    deterministic per row (fit and predict agree) and unrelated to the class,
    so a fairness constraint does not fight the checks' accuracy thresholds.
    An instance of a module-level class, so the estimator still pickles, with
    a repr that is the same in every process: the common checks' test ids
    hold the estimator's repr, and pytest-xdist's workers must collect the
    same ids (a function's repr holds its memory address).
    """

    def __call__(self, X):
        # NaN and inf are left for the inner estimator to reject, with its message.
        first = np.nan_to_num(np.asarray(X, dtype="float64")[:, 0], nan=0, posinf=0, neginf=0)
        return (np.floor(np.abs(first) * 1000) % 2).astype("int64")

    def __repr__(self):
        return "fairness_check_groups"


fairness_check_groups = _FairnessCheckGroups()


# Estimators that cannot be built with no argument get these for the checks.
CHECK_PARAMS = {
    # a fitted binary classifier (classes 0 and 1) of any table
    "PerformanceEstimator": {
        "estimator": AnyTableClassifier(),
        "n_splits": 2,
        "n_draws": 50,
        "n_bootstrap": 5,
    },
    "GroupThresholdClassifier": {"sensitive_feature": fairness_check_groups},
    "ReweighingClassifier": {"sensitive_feature": fairness_check_groups},
    "GroupImputer": {"by": 0},
    # The smallest search that is still a real one: 2 candidates, 1 generation.
    "PipelineSearch": {
        "task": "classification",
        "search_space": "light",
        "generations": 1,
        "population_size": 2,
        "cv": 2,
        "complexity_objective": False,
        "max_time_mins": 2,
        "random_state": 0,
    },
}


def all_estimators():
    """Return sorted ``(name, class)`` of every public estimator in mlpipe."""
    found = {}
    for info in pkgutil.walk_packages(mlpipe.__path__, prefix="mlpipe."):
        module = importlib.import_module(info.name)
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if (
                issubclass(cls, BaseEstimator)
                and cls.__module__.startswith("mlpipe.")
                and not name.startswith("_")
                and not inspect.isabstract(cls)
            ):
                found[name] = cls
    return sorted(found.items())


def make_instance(cls):
    return cls(**CHECK_PARAMS.get(cls.__name__, {}))
