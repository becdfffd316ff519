"""Settings of the whole test run.

Under pytest-xdist, each worker's OpenMP thread pools (scikit-learn's
HistGradientBoosting, KMeans...) get the worker's share of the cores, as in
scikit-learn's own conftest.py. With two workers on two cores, two OpenMP
threads per worker busy-wait for each other: the README's 750-row
HistGradientBoosting fit took 6.8 s with two such processes side by side,
0.35 s with one thread each.

Only the OpenMP pools, only in the test process's main thread (where the
tests run; OpenMP limits are per thread, so threads and processes a test
starts keep their defaults, and the tests of those defaults still see them).
BLAS keeps its threads: tests compare this process's results bit for bit
with a fresh interpreter's.
"""

import os

from threadpoolctl import threadpool_limits


def pytest_collection_finish(session):
    # after collection: threadpoolctl limits the libraries loaded so far, and
    # collecting has imported every module (the OpenMP runtime with them)
    workers = os.environ.get("PYTEST_XDIST_WORKER_COUNT")
    if workers is not None:
        threadpool_limits(max(os.cpu_count() // int(workers), 1), user_api="openmp")
