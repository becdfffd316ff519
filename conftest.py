"""Test-session set-up shared by tests/ and the doctests in src/."""

import os

# scikit-learn's check_array_api_input skips itself unless scipy runs in array
# API mode; it must be set before scipy is first imported.
os.environ.setdefault("SCIPY_ARRAY_API", "1")
# Never let a test reach the network (TPOT's update check, dataset hubs).
os.environ.setdefault("TPOT_SKIP_UPDATE_CHECK", "1")
