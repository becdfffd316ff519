"""Monitoring over time: a run store that keeps every guarded event.

:class:`RunStore` records each validated batch, drift window, prediction
batch, realized performance, staleness check, alarm and retraining run in
an embedded SQLite file, linked to the model that served it and, by
fingerprint, to the data it read; :meth:`RunStore.runs`,
:meth:`RunStore.history`, :meth:`RunStore.lineage` and
:meth:`RunStore.staleness` read it back, and :meth:`RunStore.report` makes
the report over time. :class:`MonitoringLoop` (``mlpipe monitor``) validates,
scores and monitors batch files into a store, joins late labels and runs a
retraining command on alarms; the validators and drift monitors of a served
model record into one through their ``store`` parameter, off the request
thread (:func:`wait_for_writes`).
"""

from mlpipe.monitor._loop import MonitoringLoop
from mlpipe.monitor._reports import Lineage, StalenessReport
from mlpipe.monitor._store import RunStore, batch_key, fingerprint
from mlpipe.monitor._timeline import MonitoringReport
from mlpipe.monitor._writer import wait_for_writes

__all__ = [
    "Lineage",
    "MonitoringLoop",
    "MonitoringReport",
    "RunStore",
    "StalenessReport",
    "batch_key",
    "fingerprint",
    "wait_for_writes",
]
