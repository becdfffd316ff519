"""Every public estimator of mlpipe, found by walking the package.

A new estimator is picked up by the common tests without anyone listing it.
The only thing to add here is constructor arguments for estimators that have
no usable default (``CHECK_PARAMS``).
"""

import importlib
import inspect
import pkgutil

from sklearn.base import BaseEstimator

import mlpipe

# Estimators that cannot be built with no argument get these for the checks.
CHECK_PARAMS = {
    "GroupImputer": {"by": 0},
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
