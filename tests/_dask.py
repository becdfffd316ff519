"""The one LocalCluster the scale-out tests start: two worker processes on
127.0.0.1, bounded waits, closed by the test module that asked for it."""

import contextlib


@contextlib.contextmanager
def local_client():
    """A ``distributed.Client`` of a 2-process LocalCluster, closed on exit.

    ``dashboard_address=None`` still starts each node's HTTP server
    (metrics, health) on the node's host, 127.0.0.1.
    """
    import dask
    import distributed

    with dask.config.set({"distributed.comm.timeouts.connect": "30s"}):
        cluster = distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            timeout=60,
            death_timeout=60,
        )
        client = distributed.Client(cluster, timeout=60)
    try:
        yield client
    finally:
        client.close(timeout=30)
        cluster.close(timeout=30)
