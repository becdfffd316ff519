"""The few dask primitives every scale-out path shares.

mlpipe never imports dask unless it is handed a dask collection: a step
that learns from chunks asks :func:`is_dask_dataframe` (which looks at the
object's type, not at dask), then maps a function over the partitions on
the workers and merges the partial results (:func:`map_merge`).
"""

from mlpipe.utils._optional import import_optional


def is_dask_dataframe(X):
    """Whether ``X`` is a dask DataFrame (or Series), without importing dask."""
    module = type(X).__module__ or ""
    return module.split(".", 1)[0] == "dask" and hasattr(X, "npartitions")


def require_dask(purpose):
    """Import ``dask`` (and ``dask.dataframe``) or fail naming the extra."""
    import_optional("dask.dataframe", extra="dask", purpose=purpose)
    return import_optional("dask", extra="dask", purpose=purpose)


def map_merge(ddf, func, merge, *, shared=None, split_every=8, wave=None):
    """``merge`` of ``func(partition)`` over the partitions of ``ddf``.

    ``func`` runs on the workers, one pandas partition at a time, and
    returns a small summary; ``merge(list_of_summaries)`` combines at most
    ``split_every`` summaries at once (a tree, so no single task holds
    them all) and must be associative. Returns the merged summary,
    computed with the active scheduler (a ``distributed.Client`` if one is
    current, else dask's default).

    The partitions are computed in waves of ``wave``, each merged into the
    result before the next starts, so that at most a wave of summaries is
    held at once whatever the number of partitions (a scheduler may
    otherwise run every partition's task before the merges: 7.7 GB for 200
    partitions of exact KS values on dask's threaded scheduler). The
    default is twice the workers' threads on a ``distributed.Client``
    (each worker process holds only its own partitions), and 1 on a local
    scheduler, whose threads share one process: there a partition's own
    kernels use the cores, and a wave of 4 partitions (twice 2 threads)
    held 0.3 GiB more at the same speed (fitting a DriftDetector,
    SchemaValidator and TypedImputer on 2 million rows: 1.10 GiB peak
    against 0.81 GiB, 10.2 s against 11.2 s).

    With ``shared`` (an object every partition needs, which may be large,
    such as a reference's points), ``func(partition, shared)`` is called
    instead, and ``shared`` is sent to each worker once, as one key of the
    graph, not inside every task.
    """
    dask = require_dask("a dask DataFrame")
    partitions = ddf.to_delayed()
    if not partitions:
        raise ValueError("the dask DataFrame has no partitions")
    client = _current_client()
    if wave is None:
        wave = 2 * (sum(client.nthreads().values()) or 1) if client is not None else 1
    if shared is not None:
        # sent once: to every worker of a cluster, as one graph key otherwise
        if client is not None:
            shared = client.scatter(shared, broadcast=True, hash=False)
        else:
            shared = dask.delayed(shared, traverse=False)
    wave = max(int(wave), 1)
    merged = None
    for start in range(0, len(partitions), wave):
        group = partitions[start : start + wave]
        if shared is None:
            parts = [dask.delayed(func)(p) for p in group]
        else:
            parts = [dask.delayed(func)(p, shared) for p in group]
        (result,) = dask.compute(tree_merge(dask, parts, merge, split_every))
        merged = result if merged is None else merge([merged, result])
    return merged


def tree_merge(dask, items, merge, split_every=8):
    """The delayed ``merge`` of the delayed ``items``, as a tree: each task
    merges at most ``split_every`` of the level below (so no single task
    holds them all)."""
    while len(items) > 1:
        items = [
            dask.delayed(merge)(items[i : i + split_every])
            for i in range(0, len(items), split_every)
        ]
    return items[0]


def _current_client():
    """The ``distributed.Client`` that ``dask.compute`` would use now, or
    None (dask's local schedulers: none exists, or another scheduler is
    set, e.g. ``dask.config.set(scheduler="threads")``)."""
    try:
        from distributed import default_client
    except ImportError:
        return None
    try:
        client = default_client()
    except ValueError:
        return None
    import dask.base

    scheduler = dask.base.get_scheduler()
    return client if getattr(scheduler, "__self__", None) is client else None
