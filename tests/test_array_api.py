"""scikit-learn's array API check over every public estimator, with scipy in
array API mode.

``check_array_api_input`` skips itself unless ``SCIPY_ARRAY_API=1``, and scipy
reads the variable once, when it is first imported. Setting it for the whole
test run would run every scipy oracle in a mode users do not run, so the
check runs here, in one subprocess started with the variable set (it is
excluded from the in-process checks of ``tests/test_common.py``), and each
estimator's outcome is asserted: the check ran (never skipped) and passed,
or failed where ``tests/test_common.py`` lists it as an expected failure.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests._registry import all_estimators

ROOT = Path(__file__).resolve().parents[1]
ESTIMATORS = [name for name, _ in all_estimators()]

_RUN_CHECKS = r"""
import json, sys, traceback
from unittest import SkipTest

import scipy._lib._array_api as scipy_array_api
from sklearn.utils.estimator_checks import estimator_checks_generator

from tests._registry import all_estimators, make_instance

out = {"scipy_array_api": bool(scipy_array_api.SCIPY_ARRAY_API), "checks": {}}
for name, cls in all_estimators():
    runs = out["checks"][name] = []
    for estimator, check in estimator_checks_generator(make_instance(cls), legacy=True):
        if getattr(check, "func", check).__name__ != "check_array_api_input":
            continue
        label = ", ".join(f"{k}={v}" for k, v in getattr(check, "keywords", {}).items())
        try:
            check(estimator)
        except SkipTest as exc:
            runs.append([label, "skipped", str(exc)])
        except Exception as exc:
            runs.append([label, "failed", f"{type(exc).__name__}: {exc}"])
        else:
            runs.append([label, "passed", ""])
json.dump(out, sys.stdout)
"""


@pytest.fixture(scope="module")
def array_api_runs():
    env = {**os.environ, "SCIPY_ARRAY_API": "1", "PYTHONWARNINGS": "ignore"}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    proc = subprocess.run(
        [sys.executable, "-c", _RUN_CHECKS],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)


def _expected_failure(name):
    # The in-process checks' list of expected failures, if any is left.
    import tests.test_common as common

    return getattr(common, "EXPECTED_FAILED_CHECKS", {}).get(name, {}).get("check_array_api_input")


def test_scipy_runs_as_users_run_it_here():
    # Only the subprocess above puts scipy in array API mode.
    assert "SCIPY_ARRAY_API" not in os.environ, (
        "SCIPY_ARRAY_API is set in the test process: the scipy oracles would "
        "not run as users run them"
    )
    import scipy._lib._array_api as scipy_array_api

    assert not scipy_array_api.SCIPY_ARRAY_API


@pytest.mark.parametrize("name", ESTIMATORS)
def test_array_api_input(array_api_runs, name):
    assert array_api_runs["scipy_array_api"]
    runs = array_api_runs["checks"][name]
    assert runs, f"no check_array_api_input was generated for {name}"
    skipped = [run for run in runs if run[1] == "skipped"]
    assert not skipped, skipped
    reason = _expected_failure(name)
    for label, status, message in runs:
        if reason is None:
            assert status == "passed", f"{name} ({label}): {message}"
        else:  # strict: a listed failure that passes must be unlisted
            assert status == "failed", f"{name} ({label}) passes; unlist it: {reason}"
