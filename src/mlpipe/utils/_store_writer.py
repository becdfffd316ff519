"""Writing the records of the serving path to a run store, off the request thread.

A :class:`~mlpipe.validation.SchemaValidator` or
:class:`~mlpipe.drift.DriftMonitor` given a store (``store=``, or
``mlpipe.set_config(store=...)``) hands each report to :func:`record_later`,
which puts it on the queue of the store file's writer and returns: the
request thread only takes a snapshot of the batch. One daemon thread per
store file and process opens the store and writes the records in the order
they came, each in its own transaction, hashing the batches (the
fingerprint, about 1 ms) there. Consecutive batches of one step that passed
every check are coalesced into one validation run (up to
:data:`COALESCE_ROWS` rows, or what arrived within
:data:`COALESCE_SECONDS`): a service validating one row a request then costs
the writer one record per thousand rows, not per request, and holds the
GIL far less; a batch with any failure is recorded alone, in order.
:func:`wait_for_writes` writes what is held at once, waits until every
queued record is written and raises the first error a writer met; a writer's
error is also warned about, once, on the request thread.

The queue is bounded (:data:`MAX_QUEUED` records): a writer that falls
behind slows the steps that feed it, rather than losing records or memory.
At exit, the queues are drained (for at most :data:`EXIT_TIMEOUT` seconds).
A forked child (a pre-forking web server's worker) starts its own writers.
"""

import atexit
import datetime
import importlib
import os
import queue
import threading
import time
import warnings

import numpy as np
import pandas as pd

from mlpipe._config import get_config
from mlpipe.exceptions import StoreWriteWarning

MAX_QUEUED = 10_000
EXIT_TIMEOUT = 10.0
COALESCE_ROWS = 1000
COALESCE_SECONDS = 5.0
# The writer looks at its queue this often rather than being woken by every
# record: a wake-up per one-row request cost the request thread a GIL
# hand-over each time (+7.8% on the guarded one-row pipeline).
POLL_SECONDS = 0.25
# pandas 3 copies on write: a shallow copy keeps the batch as it was, even if
# the caller changes its frame later, at no cost now.
_COPY_ON_WRITE = int(pd.__version__.split(".")[0]) >= 3

_lock = threading.Lock()
_writers = {}
_FLUSH = object()  # queued by wait_for_writes: write what is held now


def resolve_store(step):
    """The store file a step writes to: its ``store``, else the configured one."""
    store = getattr(step, "store", None)
    if store is None:
        store = get_config()["store"]
    return None if store is None else os.fspath(store)


def snapshot(X):
    """``X`` as it is now, safe from the caller's later changes."""
    if isinstance(X, pd.DataFrame):
        return X.copy(deep=not _COPY_ON_WRITE)
    if isinstance(X, np.ndarray):
        return X.copy()
    if hasattr(X, "to_pandas"):  # other dataframe types are immutable or converted
        return X
    return np.asarray(X).copy()


def record_later(path, method, *args, step=None, **kwargs):
    """Queue ``RunStore(path).<method>(*args, **kwargs)`` for the writer.

    ``step`` is the recording estimator: the model id comes from the manifest
    :func:`mlpipe.load` gave it, and the step's name from its place in the
    loaded pipeline.
    """
    writer = _writer(path)
    if writer.error is not None and not writer.warned:
        writer.warned = True
        warnings.warn(
            f"The run store {path!r} could not record: {writer.error!r}; later records "
            "are still tried. mlpipe.monitor.wait_for_writes() raises it.",
            StoreWriteWarning,
            stacklevel=3,
        )
    context = getattr(step, "_mlpipe_store_context", None) or {}
    if step is not None:
        kwargs.setdefault("step", context.get("step") or type(step).__name__)
    writer.queue.put((method, args, kwargs, context.get("manifest"), context.get("name")))
    if writer.queue.qsize() > MAX_QUEUED // 2:
        writer.wake.set()  # falling behind: do not wait for the next look


def wait_for_writes(timeout=None):
    """Wait until every record queued in this process is written.

    Raises the first error a writer met since the last call (a
    ``RuntimeError`` chained to it), or ``TimeoutError`` when ``timeout``
    seconds pass first.
    """
    with _lock:
        writers = [w for (pid, _), w in _writers.items() if pid == os.getpid()]
    for writer in writers:
        if not writer.drained(timeout):
            raise TimeoutError(
                f"The run store {writer.path!r} still has {writer.queue.qsize()} record(s) "
                f"to write after {timeout} s."
            )
    for writer in writers:
        error, writer.error, writer.warned = writer.error, None, False
        if error is not None:
            raise RuntimeError(
                f"The run store {writer.path!r} could not record: {error}"
            ) from error


def _writer(path):
    key = (os.getpid(), os.path.abspath(path))
    writer = _writers.get(key)
    if writer is None:
        with _lock:
            writer = _writers.get(key)
            if writer is None:
                writer = _writers[key] = _Writer(path)
    return writer


class _Writer:
    def __init__(self, path):
        self.path = path
        self.queue = queue.Queue(MAX_QUEUED)
        self.error = None
        self.warned = False
        self.wake = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"mlpipe-store-writer:{path}", daemon=True
        )
        self._thread.start()

    def drained(self, timeout):
        self.queue.put(_FLUSH)
        self.wake.set()
        # queue.join() cannot time out; unfinished_tasks under its own lock can
        with self.queue.all_tasks_done:
            if timeout is None:
                while self.queue.unfinished_tasks:
                    self.queue.all_tasks_done.wait()
                return True
            return self.queue.all_tasks_done.wait_for(
                lambda: not self.queue.unfinished_tasks, timeout
            )

    def _run(self):
        # RunStore is imported here, not at the top: mlpipe.monitor imports the
        # validation and drift steps that import this module.
        store_class = importlib.import_module("mlpipe.monitor").RunStore
        self._store, self._models = None, {}
        held = None  # [key, frames, started, n_rows, n_items, manifest, name]
        while True:
            self.wake.wait(POLL_SECONDS)
            self.wake.clear()
            while True:
                try:
                    item = self.queue.get_nowait()
                except queue.Empty:
                    break
                held = self._take(store_class, item, held)
            if held is not None and time.time() - held[2] >= COALESCE_SECONDS:
                held = self._write_held(store_class, held)

    def _take(self, store_class, item, held):
        """Write one queued item, or hold a clean validation; returns what is held."""
        if item is _FLUSH:
            if held is not None:
                held = self._write_held(store_class, held)
            self.queue.task_done()
            return held
        method, args, kwargs, manifest, name = item
        clean = (
            method == "record_validation"
            and not args[0].failures
            and isinstance(kwargs.get("X"), pd.DataFrame)
        )
        key = (kwargs.get("step"), id(manifest))
        if held is not None and (not clean or held[0] != key):
            held = self._write_held(store_class, held)
        if clean:
            X = kwargs["X"]
            if held is None:
                held = [key, [], time.time(), 0, 0, manifest, name]
            held[1].append(X)
            held[3] += len(X)
            held[4] += 1
            if held[3] >= COALESCE_ROWS:
                held = self._write_held(store_class, held)
            return held
        self._write(store_class, manifest, name, method, args, kwargs)
        self.queue.task_done()
        return held

    def _write(self, store_class, manifest, name, method, args, kwargs):
        try:
            if self._store is None:
                self._store = store_class(self.path)
            if manifest is not None:
                key = id(manifest)
                if key not in self._models:
                    self._models[key] = (self._store.add_model(manifest, name=name), manifest)
                kwargs["model"] = self._models[key][0]
            getattr(self._store, method)(*args, **kwargs)
        except Exception as exc:  # kept for wait_for_writes and warned about
            if self.error is None:
                self.error = exc

    def _write_held(self, store_class, held):
        """Write the coalesced clean validations; returns None (nothing held)."""
        key, frames, started, _, n_items, manifest, name = held
        when = datetime.datetime.fromtimestamp(started, datetime.UTC)
        kwargs = {"step": key[0], "started_at": when}
        self._write(store_class, manifest, name, "_record_clean_validations", (frames,), kwargs)
        for _ in range(n_items):
            self.queue.task_done()
        return None


def _drain_at_exit():
    try:
        wait_for_writes(EXIT_TIMEOUT)
    except (RuntimeError, TimeoutError) as exc:
        warnings.warn(str(exc), StoreWriteWarning, stacklevel=1)


def _forget_in_child():
    # the parent's writer threads (and the state of its lock) do not exist in
    # a forked child
    global _lock
    _lock = threading.Lock()
    _writers.clear()


atexit.register(_drain_at_exit)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_in_child)
