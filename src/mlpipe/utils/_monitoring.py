"""Whether the monitoring steps record what passes through them.

:class:`~mlpipe.drift.DriftMonitor` and
:class:`~mlpipe.validation.SchemaValidator` record every batch they see
(``history_``, callbacks, ``last_report_``). Some batches are not production
traffic: an explainer feeds the pipeline background rows and perturbed copies
of the explained rows, thousands of them. Inside :func:`suspended` the steps
still pass the data on (the validator still checks it, as the model's
``predict`` would), but record nothing and call no callback.

The flag belongs to the thread, like :func:`mlpipe.get_config`: a service
thread that predicts while another thread explains the same pipeline keeps
its monitoring.
"""

import threading
from contextlib import contextmanager

_state = threading.local()


def monitoring_suspended():
    """Whether the current thread is inside :func:`suspended`."""
    return getattr(_state, "suspended", False)


@contextmanager
def suspended():
    """Suspend the recording of the monitoring steps in this thread for a block."""
    before = monitoring_suspended()
    _state.suspended = True
    try:
        yield
    finally:
        _state.suspended = before
