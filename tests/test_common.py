"""scikit-learn's own estimator checks over every public mlpipe estimator."""

import importlib

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from tests._registry import all_estimators, make_instance
from tests.drift._matrix import DRIFT_EXPECTED_FAILED_CHECKS

ESTIMATORS = all_estimators()

# {estimator name: {check name: why it is expected to fail}}. Every entry
# needs a reason a reviewer would accept.
EXPECTED_FAILED_CHECKS = {**DRIFT_EXPECTED_FAILED_CHECKS}


def _expected_failed_checks(estimator):
    return EXPECTED_FAILED_CHECKS.get(type(estimator).__name__, {})


def test_estimators_were_found():
    names = {name for name, _ in ESTIMATORS}
    assert {"TypedImputer", "GroupImputer"} <= names


@pytest.mark.parametrize("name, cls", ESTIMATORS)
def test_estimator_is_exported_publicly(name, cls):
    # A public estimator lives in a private module and is re-exported by its
    # subpackage, which lists it in __all__.
    package = cls.__module__.rsplit("._", 1)[0]
    module = importlib.import_module(package)
    assert name in module.__all__, f"{name} is not in {package}.__all__"
    assert getattr(module, name) is cls


@pytest.mark.parametrize("name, cls", ESTIMATORS)
def test_expected_failures_have_reasons(name, cls):
    for check, reason in EXPECTED_FAILED_CHECKS.get(name, {}).items():
        assert len(reason.split()) >= 5, f"{name}.{check} needs a written reason"


@parametrize_with_checks(
    [make_instance(cls) for _, cls in ESTIMATORS],
    expected_failed_checks=_expected_failed_checks,
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
