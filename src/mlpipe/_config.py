"""Global configuration of mlpipe, modelled on :func:`sklearn.set_config`."""

import threading
from contextlib import contextmanager
from numbers import Integral

from mlpipe.utils._sklearn_compat import Interval, validate_params

_global_config = {
    "n_jobs": None,
    "numba_threads": None,
}
_threadlocal = threading.local()


def _get_threadlocal_config():
    if not hasattr(_threadlocal, "global_config"):
        _threadlocal.global_config = _global_config.copy()
    return _threadlocal.global_config


def get_config():
    """Return the current mlpipe configuration.

    The configuration is kept per thread: a thread starts from the defaults
    and sees only the changes made in it by :func:`set_config` or
    :func:`config_context`. The returned dict is a copy, so changing it does
    not change the configuration.

    Returns
    -------
    config : dict
        Keys are the parameter names of :func:`set_config`.

    See Also
    --------
    set_config : Set the configuration.
    config_context : Set the configuration within a ``with`` block.

    Examples
    --------
    >>> import mlpipe
    >>> sorted(mlpipe.get_config())
    ['n_jobs', 'numba_threads']
    """
    return _get_threadlocal_config().copy()


# A number of jobs or threads: -1 (all cores), -2 (all but one) ... or a
# positive count; 0 means nothing and is refused.
_N_THREADS = [
    Interval(Integral, None, -1, closed="right"),
    Interval(Integral, 1, None, closed="left"),
    None,
]


@validate_params(
    {"n_jobs": _N_THREADS, "numba_threads": _N_THREADS},
    prefer_skip_nested_validation=True,
)
def set_config(*, n_jobs=None, numba_threads=None):
    """Set the mlpipe configuration for the current thread.

    The values stay in force in this thread until the next call; other
    threads keep their own configuration. Both parameters are always set, so
    a parameter left out is reset to its default. Use :func:`config_context`
    to change them only for a block of code.

    Parameters
    ----------
    n_jobs : int, default=None
        Default number of jobs for components that run in parallel (AutoML
        candidate evaluation). ``None`` means 1 unless a component is told
        otherwise; ``-1`` means all cores.

    numba_threads : int, default=None
        Number of threads the numba kernels of :mod:`mlpipe.drift` may use.
        ``None`` leaves numba's own default (all cores).

    See Also
    --------
    get_config : Retrieve the current configuration.
    config_context : Set the configuration within a ``with`` block.

    Examples
    --------
    >>> import mlpipe
    >>> mlpipe.set_config(n_jobs=2)
    >>> mlpipe.get_config()["n_jobs"]
    2
    >>> mlpipe.set_config(n_jobs=None)
    """
    config = _get_threadlocal_config()
    config["n_jobs"] = n_jobs
    config["numba_threads"] = numba_threads


@contextmanager
@validate_params(
    {"n_jobs": _N_THREADS, "numba_threads": _N_THREADS},
    prefer_skip_nested_validation=True,
)
def config_context(*, n_jobs=None, numba_threads=None):
    """Temporarily change the mlpipe configuration within a ``with`` block.

    On entry, both settings are set with :func:`set_config` (a parameter left
    out takes its default for the block); on exit, even through an exception,
    the configuration of the thread is restored to what it was before.

    Parameters
    ----------
    n_jobs : int, default=None
        See :func:`set_config`.

    numba_threads : int, default=None
        See :func:`set_config`.

    Yields
    ------
    None.

    See Also
    --------
    set_config : Set the configuration until it is changed again.
    get_config : Retrieve the current configuration.

    Examples
    --------
    >>> import mlpipe
    >>> with mlpipe.config_context(numba_threads=1):
    ...     mlpipe.get_config()["numba_threads"]
    1
    >>> mlpipe.get_config()["numba_threads"] is None
    True
    """
    old = get_config()
    set_config(n_jobs=n_jobs, numba_threads=numba_threads)
    try:
        yield
    finally:
        _get_threadlocal_config().update(old)
