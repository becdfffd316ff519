"""Run store writes per second (issue 17, item 1), plain timing.

(a) One process: ``RunStore.record_drift`` (a credit-data DriftReport, one row
    per test), ``record_validation`` (a ValidationReport with its failures,
    and the null count of each column) and ``record_predictions`` (class
    rates and the selection rates of two groups), each record its own
    transaction; the input is passed as a fingerprint computed once, as a
    service hashing a batch once for all its records would. The peer: plain
    ``sqlite3`` executing the same INSERTs of the same rows (precomputed
    tuples), one transaction per record, on a file of the same schema
    (triggers and indexes included) with the same pragmas (WAL,
    synchronous=NORMAL). The ratio is what mlpipe's Python adds: turning
    the report into rows, the checks, the JSON.
(b) The same drift records inside one ``store.batch`` block (one transaction
    for the block).
(c) Two processes writing drift records to one file at once: records per
    second of the two together, mlpipe and the plain-sqlite3 peer.
(d) What hashing the input costs when records take the data itself
    (``fingerprint`` of 1 row and of 1,000 rows of the credit data).

Run (about a minute)::

    PYTHONPATH=src python benchmarks/bench_store.py [--out benchmarks/results/store.md]
"""

import argparse
import multiprocessing
import os
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from mlpipe.datasets import load_credit, make_credit_batch
from mlpipe.drift import DriftDetector
from mlpipe.monitor import RunStore, fingerprint, wait_for_writes
from mlpipe.validation import Schema, SchemaValidator

N = 2000  # records per measurement
REPEATS = 3


def _inputs():
    X, _ = load_credit(return_X_y=True)
    batch = make_credit_batch(500, random_state=3).X
    drift = DriftDetector().fit(X).detect(batch)
    validation = Schema.infer(X).validate(batch)
    y_pred = np.where(batch["age"].fillna(30) > 30, "good", "bad")
    return X, batch, drift, validation, y_pred


def _captured(store, record):
    """The ``(sql, rows)`` a record writes, captured for the plain peer."""
    captured = []
    original = store._commit
    store._commit = captured.extend
    try:
        record()
    finally:
        store._commit = original
    return captured[0]


def _plain(path, statements, n):
    """Plain sqlite3: the same statements and rows, one transaction each."""
    connection = sqlite3.connect(path, isolation_level=None, timeout=60)
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA synchronous = NORMAL")
    connection.execute("PRAGMA foreign_keys = ON")
    t0 = time.perf_counter()
    for i in range(n):
        connection.execute("BEGIN IMMEDIATE")
        for sql, rows in statements:
            if not sql.startswith("INSERT OR IGNORE"):  # the data rows keep their hash
                rows = [(f"{os.getpid()}-{i}", *r[1:]) for r in rows]
            connection.executemany(sql, rows)
        connection.execute("COMMIT")
    elapsed = time.perf_counter() - t0
    connection.close()
    return elapsed


def _best(times):
    return min(times), statistics.median(times)


def one_process(folder, drift, validation, batch, y_pred):
    seen = fingerprint(batch)
    out = []
    cases = {
        "record_drift": lambda s: s.record_drift(drift, X=seen, window=1),
        "record_validation": lambda s: s.record_validation(validation, X=seen),
        "record_predictions (2 groups)": lambda s: s.record_predictions(
            y_pred, X=seen, sensitive=batch["sex"].to_numpy()
        ),
    }
    for name, record in cases.items():
        ours, peer = [], []
        for r in range(REPEATS):
            path = folder / f"{name.split()[0]}-{r}.db"
            with RunStore(path) as store:
                record(store)  # warm-up
                t0 = time.perf_counter()
                for _ in range(N):
                    record(store)
                ours.append(time.perf_counter() - t0)
                statements = _captured(store, lambda s=store, r=record: r(s))
            plain = folder / f"plain-{name.split()[0]}-{r}.db"
            RunStore(plain).close()
            peer.append(_plain(plain, statements, N))
        n_rows = sum(len(rows) for _, rows in statements)
        out.append((name, n_rows, min(ours) / N, min(peer) / N))
    return out


def batched(folder, drift, batch):
    seen = fingerprint(batch)
    times = []
    for r in range(REPEATS):
        with RunStore(folder / f"batched-{r}.db") as store:
            t0 = time.perf_counter()
            with store.batch(f"b{r}"):
                for _ in range(N):
                    store.record_drift(drift, X=seen)
            times.append(time.perf_counter() - t0)
    return min(times) / N


def through_writer(folder, X):
    """The serving path's writer thread: a validator with ``store=`` checks
    one row a call; the time until every record is written, per record, and
    what the calls cost on the request thread meanwhile."""
    rows = [X.iloc[[i % len(X)]] for i in range(N)]
    out = []
    for r in range(REPEATS):
        path = folder / f"writer-{r}.db"
        validator = SchemaValidator(store=path).fit(X)
        plain = SchemaValidator().fit(X)
        t0 = time.perf_counter()
        for row in rows:
            plain.transform(row)
        bare = time.perf_counter() - t0
        t0 = time.perf_counter()
        for row in rows:
            validator.transform(row)
        queued = time.perf_counter() - t0
        wait_for_writes(timeout=600)
        written = time.perf_counter() - t0
        out.append((written / N, queued / N, bare / N))
    return min(out)


def _ours_writer(path, drift, seen, n, start, done):
    with RunStore(path, timeout=60) as store:
        start.wait()
        for _ in range(n):
            store.record_drift(drift, X=seen)
    done.put(time.perf_counter())


def _peer_writer(path, statements, n, start, done):
    start.wait()
    _plain(path, statements, n)
    done.put(time.perf_counter())


def two_processes(folder, drift, batch):
    seen = fingerprint(batch)
    context = multiprocessing.get_context("spawn")
    with RunStore(folder / "capture.db") as store:
        statements = _captured(store, lambda: store.record_drift(drift, X=seen))
    out = {}
    for role, target, args in (
        ("mlpipe", _ours_writer, (drift, seen)),
        ("plain sqlite3", _peer_writer, (statements,)),
    ):
        rates = []
        for r in range(REPEATS):
            path = folder / f"two-{role.split()[0]}-{r}.db"
            RunStore(path).close()
            start, done = context.Barrier(3), context.Queue()
            workers = [
                context.Process(target=target, args=(path, *args, N, start, done)) for _ in range(2)
            ]
            for w in workers:
                w.start()
            start.wait()
            t0 = time.perf_counter()
            ends = [done.get(timeout=600) for _ in workers]
            for w in workers:
                w.join()
            rates.append(2 * N / (max(ends) - t0))
            with sqlite3.connect(path) as c:
                assert c.execute("SELECT count(*) FROM runs").fetchone()[0] == 2 * N
        out[role] = max(rates)
    return out


def hashing(X):
    out = []
    for n in (1, 1000):
        frame = X.iloc[:n]
        fingerprint(frame)
        t0 = time.perf_counter()
        for _ in range(500):
            fingerprint(frame)
        out.append((n, (time.perf_counter() - t0) / 500))
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    X, batch, drift, validation, y_pred = _inputs()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        single = one_process(folder, drift, validation, batch, y_pred)
        per_batch = batched(folder, drift, batch)
        two = two_processes(folder, drift, batch)
        written, queued, bare = through_writer(folder, X)
    hashes = hashing(X)
    lines = [
        "# Run store writes (benchmarks/bench_store.py)",
        "",
        f"sqlite {sqlite3.sqlite_version}; load average at the end: "
        f"{', '.join(f'{v:.2f}' for v in os.getloadavg())} (2 cores); "
        f"best of {REPEATS} runs of {N} records each.",
        "",
        "| one process, a transaction per record | rows/record | mlpipe ms/record | "
        "records/s | plain sqlite3 ms/record | records/s | mlpipe / plain |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, n_rows, ours, peer in single:
        lines.append(
            f"| {name} | {n_rows} | {ours * 1e3:.3f} | {1 / ours:,.0f} | {peer * 1e3:.3f} | "
            f"{1 / peer:,.0f} | {ours / peer:.2f}x |"
        )
    lines += [
        "",
        f"record_drift inside one `store.batch` block: {per_batch * 1e3:.3f} ms/record "
        f"({1 / per_batch:,.0f} records/s).",
        "",
        "| two processes, one file | records/s (both together) |",
        "|---|---:|",
        *(f"| {role} | {rate:,.0f} |" for role, rate in two.items()),
        "",
        "| through the serving path's writer thread (SchemaValidator(store=...), 1-row "
        "calls) | ms/record | records/s |",
        "|---|---:|---:|",
        f"| written (first call to last record) | {written * 1e3:.3f} | {1 / written:,.0f} |",
        f"| the call with a store, on the request thread | {queued * 1e3:.3f} | |",
        f"| the same call without a store | {bare * 1e3:.3f} | |",
        "",
        "| fingerprint of the input (credit data, 9 columns) | ms |",
        "|---|---:|",
        *(f"| {n} row(s) | {t * 1e3:.3f} |" for n, t in hashes),
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        Path(args.out).write_text(text)


if __name__ == "__main__":
    main()
