"""Test-session set-up shared by tests/ and the doctests in src/."""

import os

# SCIPY_ARRAY_API is not set here: the scipy oracles run as users run them.
# The one check that needs scipy in array API mode (check_array_api_input)
# runs in a subprocess of its own, tests/test_array_api.py.
# Never let a test reach the network (TPOT's update check, MLflow's usage
# telemetry, dataset hubs).
os.environ.setdefault("TPOT_SKIP_UPDATE_CHECK", "1")
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
