"""scikit-learn's own estimator checks over every public mlpipe estimator."""

import importlib
import time

import pytest
from sklearn.utils.estimator_checks import check_estimator, parametrize_with_checks

from tests._registry import all_estimators, make_instance

ESTIMATORS = all_estimators()

# {estimator name: {check name: why it is expected to fail}}. Every entry
# needs a reason a reviewer would accept; the aim is that there is none.
EXPECTED_FAILED_CHECKS = {
    "PerformanceEstimator": {
        "check_estimators_dtypes": (
            "fits on labels [1, 2] whatever the estimator; PerformanceEstimator takes a "
            "classifier fitted beforehand, whose classes are fixed (0 and 1 here, the "
            "labels of every other check), and refuses labels it does not predict"
        ),
    },
}
# The entries above that a reviewer accepted; test_no_expected_failures keeps
# any other from creeping in.
ACCEPTED_FAILED_CHECKS = {"PerformanceEstimator": {"check_estimators_dtypes"}}

# plain check_estimator of these takes minutes (a real search per check), and
# is the same list of checks on the same instance as their cases of
# test_sklearn_compatible_estimator (both come from
# estimator_checks_generator(legacy=True), with no expected failure) plus
# check_array_api_input, which tests/test_array_api.py runs: those cases
# run each check of it, spread over the workers, instead of twice.
SLOW = {"PipelineSearch"}


def _expected_failed_checks(estimator):
    return EXPECTED_FAILED_CHECKS.get(type(estimator).__name__, {})


def test_estimators_were_found():
    names = {name for name, _ in ESTIMATORS}
    assert {"TypedImputer", "GroupImputer"} <= names
    assert {"KSDrift", "PSIDrift", "ChiSquareDrift", "DriftDetector", "DriftMonitor"} <= names


def test_no_expected_failures():
    # every public estimator passes every check of scikit-learn
    found = {name: set(checks) for name, checks in EXPECTED_FAILED_CHECKS.items() if checks}
    assert found == ACCEPTED_FAILED_CHECKS


@pytest.mark.parametrize("name, cls", ESTIMATORS)
def test_estimator_is_exported_publicly(name, cls):
    # A public estimator lives in a private module and is re-exported by its
    # subpackage, which lists it in __all__.
    package = cls.__module__.rsplit("._", 1)[0]
    module = importlib.import_module(package)
    assert name in module.__all__, f"{name} is not in {package}.__all__"
    assert getattr(module, name) is cls


def _check_name(param):
    check = param.values[1] if hasattr(param, "values") else param[1]
    return getattr(check, "func", check).__name__


# check_array_api_input needs scipy in array API mode, set before scipy is
# first imported: tests/test_array_api.py runs it in a subprocess.
_CHECKS = parametrize_with_checks(
    [make_instance(cls) for _, cls in ESTIMATORS],
    expected_failed_checks=_expected_failed_checks,
).mark


@pytest.mark.parametrize(
    _CHECKS.args[0],
    [p for p in _CHECKS.args[1] if _check_name(p) != "check_array_api_input"],
    **_CHECKS.kwargs,
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


@pytest.mark.parametrize("name, cls", [(name, cls) for name, cls in ESTIMATORS if name not in SLOW])
def test_plain_check_estimator(name, cls, record_property):
    # check_estimator as a user runs it: every check, no expected failure
    # but the accepted ones (SLOW: see above)
    start = time.perf_counter()
    instance = make_instance(cls)
    check_estimator(instance, expected_failed_checks=_expected_failed_checks(instance))
    record_property("seconds", round(time.perf_counter() - start, 2))
