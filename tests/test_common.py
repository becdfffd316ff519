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
