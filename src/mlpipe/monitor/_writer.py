"""The public side of the serving path's store writers (:mod:`mlpipe.utils._store_writer`)."""

from numbers import Real

from mlpipe.utils import _store_writer
from mlpipe.utils._sklearn_compat import Interval, validate_params


@validate_params(
    {"timeout": [Interval(Real, 0, None, closed="left"), None]},
    prefer_skip_nested_validation=True,
)
def wait_for_writes(timeout=None):
    """Wait until every record the serving path queued in this process is written.

    A :class:`~mlpipe.validation.SchemaValidator` or
    :class:`~mlpipe.drift.DriftMonitor` with a ``store`` (or under
    ``mlpipe.set_config(store=...)``) queues its reports and returns; a
    thread per store file writes them. Call this before reading the store in
    the same process, at the end of a batch job, or in a service's shutdown
    (at exit the queues are drained for up to 10 seconds by themselves).

    Parameters
    ----------
    timeout : float, default=None
        Seconds to wait at most; None waits as long as it takes.

    Raises
    ------
    RuntimeError
        If a writer could not write a record since the last call (a file that
        is not a store, a full disk); chained to the error. Later records
        were still tried.
    TimeoutError
        If records are still queued after ``timeout`` seconds.

    See Also
    --------
    RunStore : Where the records go.
    mlpipe.set_config : ``store=`` sets the store of steps without one.

    Examples
    --------
    >>> import os, tempfile
    >>> from mlpipe.datasets import load_credit
    >>> from mlpipe.monitor import RunStore, wait_for_writes
    >>> from mlpipe.validation import SchemaValidator
    >>> X, _ = load_credit(return_X_y=True)
    >>> path = os.path.join(tempfile.mkdtemp(), "monitor.db")
    >>> validator = SchemaValidator(store=path).fit(X)
    >>> _ = validator.transform(X.iloc[:10])
    >>> wait_for_writes(timeout=30)
    >>> RunStore(path).runs()[["kind", "step", "n_rows"]]
             kind             step  n_rows
    0  validation  SchemaValidator      10
    """
    _store_writer.wait_for_writes(timeout)
