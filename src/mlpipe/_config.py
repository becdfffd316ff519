"""Global configuration of mlpipe, modelled on :func:`sklearn.set_config`."""

import os
import threading
from contextlib import contextmanager
from numbers import Integral

from mlpipe.utils._sklearn_compat import Interval, StrOptions, validate_params

_DEFAULTS = {
    "n_jobs": None,
    "numba_threads": None,
    "store": None,
}
_global_config = _DEFAULTS.copy()
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
    ['n_jobs', 'numba_threads', 'store']
    """
    return _get_threadlocal_config().copy()


# A number of jobs or threads: -1 (all cores), -2 (all but one) ... or a
# positive count; 0 means nothing and is refused. None leaves the setting as
# it is (as in sklearn.set_config) and "default" resets it, the way
# sklearn.set_config(transform_output="default") does.
_N_THREADS = [
    Interval(Integral, None, -1, closed="right"),
    Interval(Integral, 1, None, closed="left"),
    StrOptions({"default"}),
    None,
]


def _update(config, **settings):
    """Set the settings given (not None) in ``config``; "default" resets one."""
    for name, value in settings.items():
        if value is not None:
            config[name] = _DEFAULTS[name] if value == "default" else value


_STORE = [str, os.PathLike, None]


@validate_params(
    {"n_jobs": _N_THREADS, "numba_threads": _N_THREADS, "store": _STORE},
    prefer_skip_nested_validation=True,
)
def set_config(*, n_jobs=None, numba_threads=None, store=None):
    """Set the mlpipe configuration for the current thread.

    The values stay in force in this thread until the next call; other
    threads keep their own configuration. As in :func:`sklearn.set_config`,
    a parameter left out (``None``) leaves its setting unchanged; ``"default"``
    resets it to its default. Use :func:`config_context` to change settings
    only for a block of code.

    Parameters
    ----------
    n_jobs : int or "default", default=None
        Number of jobs of the components that run in parallel when they are
        not given one themselves (AutoML candidate evaluation:
        ``PipelineSearch(n_jobs=None)``); ``-1`` means all cores. Its
        default (``"default"``) is 1 job. ``None`` leaves it unchanged.

    numba_threads : int or "default", default=None
        Number of threads the numba kernels of :mod:`mlpipe.drift` may use.
        Its default (``"default"``) is numba's own (all cores). ``None``
        leaves it unchanged.

    store : str, os.PathLike or "default", default=None
        The run store file (:class:`mlpipe.monitor.RunStore`) that the
        validators and drift monitors given no ``store`` of their own record
        to, off the request thread. Its default (``"default"``) is none: they
        record nothing. Like every setting it holds in this thread only; a
        server's worker threads take a step's ``store`` parameter or
        ``mlpipe.load(path, store=...)``. ``None`` leaves it unchanged.

    See Also
    --------
    get_config : Retrieve the current configuration.
    config_context : Set the configuration within a ``with`` block.

    Examples
    --------
    >>> import mlpipe
    >>> mlpipe.set_config(n_jobs=2)
    >>> mlpipe.set_config(numba_threads=1)  # n_jobs stays 2
    >>> mlpipe.get_config()
    {'n_jobs': 2, 'numba_threads': 1, 'store': None}
    >>> mlpipe.set_config(n_jobs="default", numba_threads="default")
    >>> mlpipe.get_config()
    {'n_jobs': None, 'numba_threads': None, 'store': None}
    """
    _update(_get_threadlocal_config(), n_jobs=n_jobs, numba_threads=numba_threads, store=store)


@contextmanager
@validate_params(
    {"n_jobs": _N_THREADS, "numba_threads": _N_THREADS, "store": _STORE},
    prefer_skip_nested_validation=True,
)
def config_context(*, n_jobs=None, numba_threads=None, store=None):
    """Temporarily change the mlpipe configuration within a ``with`` block.

    On entry, the settings given are set with :func:`set_config` (a
    parameter left out, ``None``, keeps its current value in the block, as in
    :func:`sklearn.config_context`); on exit, even through an exception, the
    configuration of the thread is restored to what it was before.

    Parameters
    ----------
    n_jobs : int or "default", default=None
        See :func:`set_config`.

    numba_threads : int or "default", default=None
        See :func:`set_config`.

    store : str, os.PathLike or "default", default=None
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
    _update(_get_threadlocal_config(), n_jobs=n_jobs, numba_threads=numba_threads, store=store)
    try:
        yield
    finally:
        _get_threadlocal_config().update(old)
