"""References built from chunks (``partial_fit``) and on dask, and batches
scored on dask: per-chunk summaries and their exact merge.

- :func:`chunk_reference`: the reference of one chunk, with the columns,
  tests and PSI bin edges of an existing reference (the template);
- :func:`merge_references`: the reference of the concatenated chunks. Row
  and missing counts, category tables and PSI bin counts add up; the KS
  columns' sorted values merge as sorted runs while the reference has at
  most ``max_reference_rows`` rows, and as quantile sketches beyond
  (``_sketch``);
- :func:`fit_dask` and :func:`detect_dask`: the same as a map over the
  partitions of a dask DataFrame and a tree of merges, on the workers.

Sits above the statistics modules and below the estimators (``_base``
calls it with the estimator, whose settings and checks it uses, and the
references it builds are of the class of the ones it is given).
"""

import functools

import numpy as np
import pandas as pd
from sklearn.base import clone

from mlpipe.drift import _chi2, _js, _ks, _psi
from mlpipe.drift._columns import (
    category_values,
    count_categories,
    fit_categories,
    numeric_columns,
    sorted_block,
)
from mlpipe.drift._report import build_report, missing_rows
from mlpipe.drift._sketch import (
    QuantileSketch,
    add_cells,
    counts_at_points,
    point_cells,
)
from mlpipe.utils._dask import map_merge, require_dask
from mlpipe.utils._dataframe import check_kinds

# --------------------------------------------------------------------------
# chunks of a reference
# --------------------------------------------------------------------------


def stripped(ref):
    """``ref`` without its KS values: what a worker needs to summarize a
    chunk or a batch partition (columns, tests, bin edges, categories)."""
    return type(ref)(
        columns=list(ref.columns),
        tests=dict(ref.tests),
        kinds=dict(ref.kinds),
        n_rows=ref.n_rows,
        n_missing=dict(ref.n_missing),
        ks_columns=list(ref.ks_columns),
        psi_numeric=dict(ref.psi_numeric),
        categories=dict(ref.categories),
        category_counts=dict(ref.category_counts),
        # a reference saved before chunked fitting has no category_order
        category_order=dict(getattr(ref, "category_order", {})),
    )


def chunk_reference(X, template, threads=1):
    """The reference of frame ``X`` (checked, with the kinds of fit) with the
    columns, tests and PSI bin edges of ``template``; its KS rows sorted,
    not indexed (:func:`merge_references` finishes them)."""
    tests = template.tests
    ref = type(template)(
        columns=list(template.columns),
        tests=dict(tests),
        kinds=dict(template.kinds),
        n_rows=len(X),
        n_missing={col: int(X[col].isna().sum()) for col in template.columns},
    )
    ref.ks_columns = list(template.ks_columns)
    ref.ks_sorted, ref.ks_counts = sorted_block(numeric_columns(X, ref.ks_columns), len(X), threads)
    numeric = list(template.psi_numeric)
    if numeric:
        edges = [template.psi_numeric[c][0] for c in numeric]
        binned = _psi.count_bins(numeric_columns(X, numeric), edges, len(X), threads)
        for col, e, (counts, _) in zip(numeric, edges, binned, strict=True):
            ref.psi_numeric[col] = (e, counts)
    for col in template.columns:
        bins = tests[col] in ("psi", "js")  # numeric columns: over bins
        if tests[col] == "chi2" or (bins and col not in template.psi_numeric):
            fit_categories(ref, col, X[col])
    return ref


def merge_references(refs, settings, in_place=False):
    """The reference of the concatenation of the chunks summarized by
    ``refs`` (same columns, tests and PSI bin edges), in their order.

    ``in_place`` (``partial_fit``: the first is the detector's reference,
    which the result replaces) lets the first reference's sorted KS block
    grow into the result's, without a second copy of it at the peak; the
    first reference is then left without its KS values.
    """
    first = refs[0]
    out = type(first)(
        columns=list(first.columns),
        tests=dict(first.tests),
        kinds=dict(first.kinds),
        n_rows=sum(r.n_rows for r in refs),
        n_missing={c: sum(r.n_missing[c] for r in refs) for c in first.columns},
    )
    out.ks_columns = list(first.ks_columns)
    # before the KS merge, which may take the first reference's values
    for col in first.psi_numeric:
        edges = first.psi_numeric[col][0]
        if not all(np.array_equal(r.psi_numeric[col][0], edges) for r in refs):
            raise ValueError(
                f"PSI bin edges of column {col!r} differ between the chunks: chunks "
                "merge only over the edges the first one fixed."
            )
        out.psi_numeric[col] = (edges, sum(r.psi_numeric[col][1] for r in refs))
    _merge_ks(out, refs, settings, in_place)
    for col in first.categories:
        _merge_categories(out, refs, col)
    return out


def _merge_ks(out, refs, settings, in_place=False):
    nf = len(out.ks_columns)
    out.ks_counts = np.sum([r.ks_counts for r in refs], axis=0).astype(np.int64).reshape(nf)
    budget = settings["max_reference_rows"]
    exact = all(r.ks_sketches is None for r in refs) and (budget is None or out.n_rows <= budget)
    if exact:
        block = _grown(refs, out.n_rows) if in_place and len(refs) == 2 else None
        if block is None:
            block = np.full((nf, out.n_rows), np.nan)
            for f in range(nf):
                runs = [r.ks_sorted[f, : int(r.ks_counts[f])] for r in refs]
                values = np.concatenate(runs)
                values.sort(kind="stable")  # timsort: merges the sorted runs
                block[f, : values.size] = values
        out.ks_sorted = block
    else:
        k = next((r.ks_sketches[0].k for r in refs if r.ks_sketches), settings["sketch_size"])
        sketches = []
        for f in range(nf):
            sketch = QuantileSketch(k=k)
            for r in refs:
                if r.ks_sketches is not None:
                    sketch.merge(r.ks_sketches[f])
                else:
                    sketch.merge(QuantileSketch.from_values(r.ks_sorted[f, : r.ks_counts[f]], k))
            sketches.append(sketch)
        out.ks_sketches = sketches
    _ks.finish_reference(out, settings)


def _grown(refs, n_rows):
    """The sorted block of ``refs[0]`` grown in place (``ndarray.resize``:
    a ``realloc``, no second copy) to ``n_rows`` columns holding the merge
    of each row with the run of ``refs[1]``; None, and ``refs[0]`` as it
    was, when its block is shared (a view, or referenced elsewhere)."""
    first, chunk = refs
    block, n_old = first.ks_sorted, first.ks_sorted.shape[1]
    nf = block.shape[0]
    if not block.flags.owndata or not block.flags.c_contiguous or nf == 0:
        return None
    first.ks_sorted, index = None, first.ks_index
    first.ks_index = None  # a sample of the block, rebuilt for the result
    try:
        block.resize(nf * n_rows, refcheck=True)
    except ValueError:  # referenced elsewhere: leave it as it was
        first.ks_sorted, first.ks_index = block, index
        return None
    del index
    # Rows move towards the end of the grown buffer, the last row first, so
    # that no row is overwritten before it has moved.
    for f in range(nf - 1, -1, -1):
        c_old, c_new = int(first.ks_counts[f]), int(chunk.ks_counts[f])
        start = f * n_rows
        values = np.concatenate([block[f * n_old : f * n_old + c_old], chunk.ks_sorted[f, :c_new]])
        values.sort(kind="stable")  # timsort: merges the two sorted runs
        block[start : start + values.size] = values
        block[start + values.size : start + n_rows] = np.nan
    block.shape = (nf, n_rows)  # not reshape: a view would not own the data
    return block


def _merge_categories(out, refs, col):
    """Categories in the order fit gives those of the concatenated column:
    the dtype's order when every chunk had the same categorical dtype, else
    sorted when they compare, else first seen."""
    union = dict.fromkeys(c for r in refs for c in r.categories[col])
    orders = [getattr(r, "category_order", {}).get(col) for r in refs]
    order = orders[0]
    if order is not None and all(o == order for o in orders):
        position = {c: i for i, c in enumerate(order)}
        cats = sorted(union, key=position.__getitem__)
        out.category_order[col] = list(order)
    else:
        try:
            cats = sorted(union)
        except TypeError:
            cats = list(union)
    index = {c: i for i, c in enumerate(cats)}
    counts = np.zeros(len(cats), dtype=np.int64)
    for r in refs:
        where = np.array([index[c] for c in r.categories[col]], dtype=np.intp)
        np.add.at(counts, where, r.category_counts[col])
    out.categories[col] = cats
    out.category_counts[col] = counts


# --------------------------------------------------------------------------
# dask
# --------------------------------------------------------------------------


def meta_of(ddf):
    """The empty pandas frame with the columns and dtypes of ``ddf``."""
    return ddf._meta


def _checked(part, checker, kinds):
    return check_kinds(checker, part, kinds)


def _partition_reference(part, template, checker, kinds):
    return chunk_reference(_checked(part, checker, kinds), template)


def reference_of_partitions(est, ddf, template):
    """The merged reference of the partitions of ``ddf`` (map_merge), with
    the columns, tests and bin edges of ``template``."""
    settings = est._settings()
    func = functools.partial(
        _partition_reference,
        template=stripped(template),
        checker=_checker(est),
        kinds=est._kinds_to_check(template),
    )
    return map_merge(ddf, func, functools.partial(merge_references, settings=settings))


def _checker(est):
    return clone(est)  # unfitted: names the detector in errors, weighs nothing


def fit_dask(est, ddf):
    """``fit`` on a dask DataFrame: columns, kinds and tests from its first
    partition, PSI bin edges from all of it (one pass over the partitions
    for the values of PSI's numeric columns), then the reference as a map
    over the partitions and a merge."""
    require_dask("fitting a drift detector on a dask DataFrame")
    if ddf.npartitions == 0:
        raise ValueError("the dask DataFrame has no partitions")
    head = ddf.get_partition(0).compute()
    est._fit_frame(head, distinct=_distinct_counts(est, ddf, head))
    template = est.reference_
    if template.psi_numeric:
        template = stripped(template)
        _all_data_edges(est, ddf, template)
    est.reference_ = reference_of_partitions(est, ddf, template)
    return est


def _distinct_counts(est, ddf, head):
    """Distinct non-missing values of each column of ``ddf`` (all its
    partitions, so the tests are those a fit of the whole frame in memory
    picks), counted up to one more than the limit the detector's choice
    of test depends on; None when the choice does not depend on them."""
    limit = est._distinct_limit(est._settings())
    if limit is None:
        return None
    cap = limit + 1
    columns = est._selected_columns(head)
    # past the limit in the first partition: settled
    counts = {c: len(v) for c, v in zip(columns, _distinct_values(head, columns, cap), strict=True)}
    open_columns = [c for c in columns if counts[c] < cap]
    if open_columns and ddf.npartitions > 1:
        func = functools.partial(_distinct_values, columns=open_columns, cap=cap)
        merge = functools.partial(_merge_distinct, cap=cap)
        values = map_merge(ddf[open_columns], func, merge)
        counts.update({c: len(v) for c, v in zip(open_columns, values, strict=True)})
    return counts


def _distinct_values(part, columns, cap):
    out = []
    for col in columns:
        v = pd.unique(pd.Series(category_values(part[col])).dropna())
        out.append(set(v[:cap].tolist()))
    return out


def _merge_distinct(parts, cap):
    out = []
    for sets in zip(*parts, strict=True):
        merged = set()
        for s in sets:
            merged |= s
            if len(merged) > cap:
                break
        out.append(merged if len(merged) <= cap else set(list(merged)[:cap]))
    return out


def _finite_values(part, checker, kinds, columns):
    X = _checked(part, checker, kinds)
    out = []
    for v in numeric_columns(X, columns):
        v = np.sort(v[np.isfinite(v)])
        out.append(v)
    return out


def _merge_values(parts, budget, k):
    merged = []
    for f in range(len(parts[0])):
        runs = [p[f] for p in parts]
        n = sum(r.n if isinstance(r, QuantileSketch) else r.size for r in runs)
        if budget is None or (n <= budget and not any(isinstance(r, QuantileSketch) for r in runs)):
            values = np.concatenate(runs)
            values.sort(kind="stable")
            merged.append(values)
            continue
        sketch = QuantileSketch(k=k)
        for r in runs:
            sketch.merge(r if isinstance(r, QuantileSketch) else QuantileSketch.from_values(r, k))
        merged.append(sketch)
    return merged


def _all_data_edges(est, ddf, template):
    settings = est._settings()
    columns = list(template.psi_numeric)
    func = functools.partial(
        _finite_values,
        checker=_checker(est),
        kinds=est._kinds_to_check(template),
        columns=columns,
    )
    merge = functools.partial(
        _merge_values, budget=settings["max_reference_rows"], k=settings["sketch_size"]
    )
    values = map_merge(ddf, func, merge)
    for col, v in zip(columns, values, strict=True):
        if isinstance(v, QuantileSketch):
            edges = _sketch_edges(v, settings["n_bins"], settings["binning"])
        else:
            edges = _psi.bin_edges(v, settings["n_bins"], settings["binning"])
        template.psi_numeric[col] = (edges, None)


def _sketch_edges(sketch, n_bins, binning):
    """Bin edges from a sketch: its quantiles (within its rank error of the
    exact ones) or equal widths between its exact minimum and maximum."""
    if sketch.n == 0:
        return np.empty(0)
    if binning == "quantile":
        edges = sketch.quantiles(np.linspace(0, 1, n_bins + 1)[1:-1])
    else:
        edges = np.linspace(sketch.minimum, sketch.maximum, n_bins + 1)[1:-1]
    return np.unique(edges[np.isfinite(edges)])


# -- batches ---------------------------------------------------------------


def _batch_summary(part, shared):
    ref, points, checker, kinds = shared
    X = _checked(part, checker, kinds)
    summary = {
        "n": len(X),
        "missing": {col: int(X[col].isna().sum()) for col in ref.columns},
        "ks": [],
        "bins": {},
        "categories": {},
    }
    for u, v in zip(points, numeric_columns(X, ref.ks_columns), strict=True):
        summary["ks"].append(point_cells(u, v))
    numeric = list(ref.psi_numeric)
    if numeric:
        edges = [ref.psi_numeric[c][0] for c in numeric]
        binned = _psi.count_bins(numeric_columns(X, numeric), edges, len(X))
        summary["bins"] = {c: counts for c, (counts, _) in zip(numeric, binned, strict=True)}
    for col in ref.categories:
        summary["categories"][col] = count_categories(ref, col, X[col])
    return summary


def _merge_batch(parts):
    first = parts[0]
    out = {
        "n": sum(p["n"] for p in parts),
        "missing": {c: sum(p["missing"][c] for p in parts) for c in first["missing"]},
        "ks": [add_cells([p["ks"][f] for p in parts]) for f in range(len(first["ks"]))],
        "bins": {c: sum(p["bins"][c] for p in parts) for c in first["bins"]},
        "categories": {},
    }
    for col in first["categories"]:
        counts = sum(p["categories"][col][0] for p in parts)
        unseen = {}
        for p in parts:
            for value, n in p["categories"][col][1].items():
                unseen[value] = unseen.get(value, 0) + n
        # value_counts' order: most frequent first
        unseen = dict(sorted(unseen.items(), key=lambda item: -item[1]))
        out["categories"][col] = (counts, unseen)
    return out


def detect_dask(est, ddf):
    """``detect`` of a dask DataFrame batch: each partition counted against
    the reference (missing values, KS counts at the reference points, PSI
    bins, categories) on the workers, the counts summed, the report built
    from them as for a pandas batch."""
    ref = est.reference_
    settings = est._settings()
    points = [_ks.reference_points(ref, f) for f in range(len(ref.ks_columns))]
    shared = (stripped(ref), [p[0] for p in points], _checker(est), est._kinds_to_check(ref))
    summary = map_merge(ddf, _batch_summary, _merge_batch, shared=shared)
    n = summary["n"]
    rows, distributions = {}, {}
    if ref.ks_columns:
        batch, bat_counts, quantiles = [], [], []
        for (u, _, _), (cells, counts) in zip(points, summary["ks"], strict=True):
            lt, le = counts_at_points(u.size, cells, counts)
            nb = int(counts.sum())
            batch.append((lt, le))
            bat_counts.append(nb)
            quantiles.append(_point_quantiles(u, le, nb))
        bat_counts = np.array(bat_counts, dtype=np.int64)
        rows.update(
            _ks.rows_from_counts(ref, settings, bat_counts, batch, quantiles, 1, distributions)
        )
    psi_columns = [c for c in ref.columns if ref.tests[c] == "psi"]
    if psi_columns:
        categorical = {c: summary["categories"][c] for c in psi_columns if c in ref.categories}
        rows.update(
            _psi.rows_from_counts(
                ref, psi_columns, summary["bins"], categorical, settings, distributions
            )
        )
    js_columns = [c for c in ref.columns if ref.tests[c] == "js"]
    if js_columns:
        categorical = {c: summary["categories"][c] for c in js_columns if c in ref.categories}
        rows.update(
            _js.rows_from_counts(
                ref, js_columns, summary["bins"], categorical, settings, distributions
            )
        )
    for col in ref.columns:
        if ref.tests[col] == "chi2":
            counts, unseen = summary["categories"][col]
            rows[col] = _chi2.category_row(ref, col, counts, unseen, settings, distributions)
    ordered = [rows[col] for col in ref.columns]
    ordered += missing_rows(ref, None, settings, summary["missing"], n_batch=n)
    return build_report(ordered, settings, ref.n_rows, n, distributions)


def _point_quantiles(u, le, n):
    """Batch quantiles for the plot, to the reference points' resolution
    (the batch's own values never leave the workers)."""
    if n == 0 or u.size == 0:
        return None
    idx = np.searchsorted(le, _ks._LEVELS * n, side="left")
    return u[np.minimum(idx, u.size - 1)]
