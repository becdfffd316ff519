"""Several processes write to one store file at once and lose nothing."""

import json
import multiprocessing
import sqlite3
import threading

import pytest

from mlpipe.monitor import RunStore

N_RECORDS = 60
N_WRITERS = 3


def _write(path, writer, report, start, results):
    with RunStore(path, timeout=60) as store:
        start.wait(timeout=60)
        for i in range(N_RECORDS):
            store.record_drift(
                report, X={"sha256": f"w{writer}-{i}", "n_rows": 5}, detail={"w": writer, "i": i}
            )
        try:
            with store.batch("shared-batch.csv:0"):
                store.record_event("alarm", status="alarm", detail={"w": writer})
            results.put((writer, "won"))
        except ValueError as err:
            results.put((writer, str(err)))


@pytest.mark.slow
def test_concurrent_writers_lose_no_record(tmp_path, detector, drifted_batch):
    path = tmp_path / "shared.db"
    RunStore(path).close()
    report = detector.detect(drifted_batch)
    expected = report.to_frame()
    context = multiprocessing.get_context("spawn")
    start, results = context.Barrier(N_WRITERS), context.Queue()
    workers = [
        context.Process(target=_write, args=(path, w, report, start, results))
        for w in range(N_WRITERS)
    ]
    for worker in workers:
        worker.start()
    outcomes = [results.get(timeout=240) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
        if worker.is_alive():
            worker.terminate()
    assert [w.exitcode for w in workers] == [0] * N_WRITERS

    with RunStore(path, read_only=True) as store:
        drift = store.runs(kind="drift")
        assert len(drift) == N_WRITERS * N_RECORDS
        assert drift["run_id"].is_unique
        assert sorted(drift["input_sha256"]) == sorted(
            f"w{w}-{i}" for w in range(N_WRITERS) for i in range(N_RECORDS)
        )
        history = store.history()
        assert len(history) == N_WRITERS * N_RECORDS * len(expected)
        # Every record's child rows are whole and in order.
        for _, rows in history.groupby("run_id", sort=False):
            assert rows["feature"].tolist() == expected["feature"].tolist()
            assert rows["statistic"].tolist() == expected["statistic"].tolist()
        # One writer recorded the shared batch; the others were told it exists.
        won = [w for w, outcome in outcomes if outcome == "won"]
        assert len(won) == 1, outcomes
        assert all("shared-batch.csv:0" in o for _, o in outcomes if o != "won")
        batches = store.runs(kind="batch")
        assert batches["batch_key"].tolist() == ["shared-batch.csv:0"]
        assert len(store.runs(kind="alarm")) == 1
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_threads_sharing_one_store_lose_nothing_and_keep_their_own_batch(tmp_path):
    # A service's request threads (or a background writer) share one RunStore.
    store = RunStore(tmp_path / "threads.db")
    n_threads, n_records = 4, 40
    errors = []

    def write(t):
        try:
            if t == 0:
                with store.batch("batch-of-thread-0") as run:
                    for i in range(n_records):
                        store.record_event("alarm", status="alarm", detail={"t": t, "i": i})
                results["batch"] = run
            else:
                for i in range(n_records):
                    store.record_event("alarm", status="alarm", detail={"t": t, "i": i})
        except Exception as err:  # reported by the assertion below
            errors.append(err)

    results = {}
    threads = [threading.Thread(target=write, args=(t,)) for t in range(n_threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    runs = store.runs(kind="alarm")
    assert len(runs) == n_threads * n_records and runs["run_id"].is_unique
    thread_of = runs["detail"].map(lambda d: json.loads(d)["t"])
    # Only thread 0's records belong to its batch.
    assert (runs.loc[thread_of == 0, "parent_id"] == results["batch"]).all()
    assert runs.loc[thread_of != 0, "parent_id"].isna().all()
    store.close()
