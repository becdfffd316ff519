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


def map_merge(ddf, func, merge, *, shared=None, split_every=8):
    """``merge`` of ``func(partition)`` over the partitions of ``ddf``.

    ``func`` runs on the workers, one pandas partition at a time, and
    returns a small summary; ``merge(list_of_summaries)`` combines at most
    ``split_every`` summaries at once (a tree, so no single task holds
    them all) and must be associative. Returns the merged summary,
    computed with the active scheduler (a ``distributed.Client`` if one is
    current, else dask's default).

    With ``shared`` (an object every partition needs, which may be large,
    such as a reference's points), ``func(partition, shared)`` is called
    instead, and ``shared`` is sent to each worker once, as one key of the
    graph, not inside every task.
    """
    dask = require_dask("a dask DataFrame")
    if shared is None:
        parts = [dask.delayed(func)(p) for p in ddf.to_delayed()]
    else:
        shared = dask.delayed(shared, traverse=False)
        parts = [dask.delayed(func)(p, shared) for p in ddf.to_delayed()]
    if not parts:
        raise ValueError("the dask DataFrame has no partitions")
    while len(parts) > 1:
        parts = [
            dask.delayed(merge)(parts[i : i + split_every])
            for i in range(0, len(parts), split_every)
        ]
    (merged,) = dask.compute(parts[0])
    return merged
