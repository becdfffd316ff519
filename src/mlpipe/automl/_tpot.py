"""Importing TPOT without its network update check, and small adapters to its
search-space API."""

import sys

from mlpipe.utils._optional import import_optional
from mlpipe.utils._scalar import python_scalar


def import_tpot():
    """Import :mod:`tpot` without letting it reach the network.

    ``import tpot`` calls ``update_checker.update_check("tpot", version)``,
    an HTTP request on every import. mlpipe never touches the network, so the
    check is replaced by a no-op for the duration of the first import.
    """
    if sys.modules.get("tpot") is not None:  # None: an import already failed
        return sys.modules["tpot"]
    update_checker = import_optional("update_checker", extra="automl", purpose="AutoML")
    original = update_checker.update_check
    update_checker.update_check = _no_update_check
    try:
        return import_optional("tpot", extra="automl", purpose="AutoML")
    finally:
        update_checker.update_check = original


def _no_update_check(*args, **kwargs):
    return None


def python_scalars(params):
    """ConfigSpace samples numpy scalars (``np.True_``, ``np.str_``); estimators
    and exported scripts should see plain Python values, and ``"<NONE>"`` is
    ConfigSpace's spelling of None."""
    out = {}
    for key, value in params.items():
        value = python_scalar(value)
        if value == "<NONE>":
            value = None
        out[key] = value
    return out
