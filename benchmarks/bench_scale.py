"""References larger than memory: chunk-wise and dask fitting (issue 18).

A generated reference of ``--rows`` rows x 20 columns (default 50 million:
8 GB as a float64 frame) is written as Parquet files, with a 5-million-row
batch from the same process except two shifted columns. Then, each phase in
a fresh process whose resident memory (summed over the process and its
children, so dask's worker processes count) is sampled every 20 ms:

* ``chunked``: ``partial_fit`` of ``DriftDetector``, ``SchemaValidator``
  and ``TypedImputer`` over the Parquet files' row groups (pyarrow,
  250,000 rows a chunk, read one at a time: :func:`record_batches`), then
  ``mlpipe.save`` of each;
* ``dask-threads``: the same on dask's threaded scheduler (one process, two
  threads);
* ``dask``: ``fit`` of the same three on ``dask.dataframe.read_parquet``
  of the files on a ``distributed.LocalCluster`` (2 worker processes, one
  thread each, 127.0.0.1), then scoring the 5-million-row dask batch
  against it (``DriftDetector.detect`` and ``SchemaValidator.transform``
  with its report computed);
* ``in-memory`` (the peer: what a user does today): the first
  ``--memory-rows`` rows (default 5 million) read into one pandas frame,
  ``fit`` of the three, and ``detect`` of the batch read into pandas;
* ``exact``: the oracle. Each numeric column of the whole reference and of
  the batch read alone, sorted, and the two-sample KS statistic computed
  exactly (numpy ``searchsorted``); the KS statistics of the chunk-wise and
  dask fits are compared with it, and with the bound the report states
  (``DriftReport.error_bounds``).

Run (the default size takes about 20 minutes and 16 GB of disk on 2 cores;
the files are kept in ``--dir`` for reruns)::

    python benchmarks/bench_scale.py --dir /tmp/mlpipe_scale \\
        --out benchmarks/results/scale.md

``--rows 2000000 --batch-rows 500000 --memory-rows 500000`` is a smoke run.
"""

import argparse
import json
import multiprocessing
import os
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd

FILE_ROWS = 1_000_000
ROW_GROUP = 250_000
CHUNK = ROW_GROUP  # one row group a chunk (iter_batches does not cross them)
NUMERIC = [f"x{i:02d}" for i in range(17)]
CATEGORICAL = ["segment", "region", "flag"]
REGIONS = [f"r{i:03d}" for i in range(200)]


def make_frame(rng, n, shift=False):
    """``n`` rows of the 20 columns: normal, heavy-tailed, tied, with NaN,
    integer counts, and categoricals with few, many and rare levels."""
    cols = {}
    cols["x00"] = rng.normal(0.05 if shift else 0.0, 1.0, n)  # shifted in the batch
    cols["x01"] = rng.normal(10.0, 3.0, n)
    cols["x02"] = rng.normal(-5.0, 0.1, n)
    cols["x03"] = rng.lognormal(0.0, 1.0, n)
    cols["x04"] = rng.lognormal(3.0, 2.0, n)  # heavy tail
    cols["x05"] = rng.standard_t(2, n)  # heavier still
    cols["x06"] = rng.standard_cauchy(n)
    cols["x07"] = np.round(rng.normal(0, 1, n), 1)  # ties
    cols["x08"] = np.round(rng.exponential(2.0, n))  # many ties
    x = rng.normal(0, 1, n)
    x[rng.random(n) < 0.05] = np.nan  # 5% missing
    cols["x09"] = x
    cols["x10"] = rng.uniform(0, 1, n)
    cols["x11"] = rng.exponential(1.0, n)
    cols["x12"] = rng.poisson(3.0, n).astype(np.int64)  # counts
    cols["x13"] = rng.negative_binomial(2, 0.1, n).astype(np.int64)
    cols["x14"] = rng.poisson(0.2, n).astype(np.int64)  # mostly zeros
    cols["x15"] = rng.gamma(0.5, 1.0, n)
    cols["x16"] = rng.beta(0.5, 0.5, n)
    p = [0.3, 0.25, 0.2, 0.15, 0.1] if not shift else [0.28, 0.25, 0.2, 0.15, 0.12]
    cols["segment"] = pd.Categorical.from_codes(
        rng.choice(5, n, p=p), categories=["a", "b", "c", "d", "e"]
    )
    zipf = 1.0 / np.arange(1, len(REGIONS) + 1)
    cols["region"] = pd.Categorical.from_codes(
        rng.choice(len(REGIONS), n, p=zipf / zipf.sum()), categories=REGIONS
    )
    cols["flag"] = pd.Categorical.from_codes(
        rng.choice(3, n, p=[0.899, 0.1, 0.001]), categories=["no", "yes", "rare"]
    )
    return pd.DataFrame(cols)


def generate(root, rows, batch_rows):
    """Write the reference and batch files (kept: a rerun reuses them)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    stamp = root / "manifest.json"
    wanted = {"rows": rows, "batch_rows": batch_rows, "file_rows": FILE_ROWS, "version": 1}
    if stamp.exists() and json.loads(stamp.read_text()) == wanted:
        return 0.0
    start = time.perf_counter()
    for name, n, shift, seed in (("reference", rows, False, 0), ("batch", batch_rows, True, 1)):
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*.parquet"):
            old.unlink()
        for i, first in enumerate(range(0, n, FILE_ROWS)):
            rng = np.random.default_rng([seed, i])
            frame = make_frame(rng, min(FILE_ROWS, n - first), shift)
            table = pa.Table.from_pandas(frame, preserve_index=False)
            pq.write_table(table, folder / f"part-{i:04d}.parquet", row_group_size=ROW_GROUP)
    stamp.write_text(json.dumps(wanted))
    return time.perf_counter() - start


def _steps():
    from mlpipe.drift import DriftDetector
    from mlpipe.impute import TypedImputer
    from mlpipe.validation import SchemaValidator

    return {
        "DriftDetector": DriftDetector(),
        "SchemaValidator": SchemaValidator(),
        "TypedImputer": TypedImputer(),
    }


def _ks_of(report):
    frame = report.to_frame()
    ks = frame[frame["test"] == "ks"].set_index("feature")
    return ks["statistic"].to_dict(), dict(report.error_bounds)


def record_batches(folder, rows):
    """pandas chunks of at most ``rows`` rows of the Parquet files in
    ``folder``, one row group at a time, with bounded memory: no read-ahead
    (``pyarrow.dataset``'s scanner reads several files ahead, 0.4 GB here),
    and Arrow's buffers released as the frame is built (``self_destruct``)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    for path in sorted(folder.glob("*.parquet")):
        for batch in pq.ParquetFile(path).iter_batches(batch_size=rows):
            table = pa.Table.from_batches([batch])
            del batch
            yield table.to_pandas(self_destruct=True, split_blocks=True)
            del table


def phase_chunked(root, out):
    import mlpipe

    steps = _steps()
    seconds = dict.fromkeys(steps, 0.0)
    read = 0.0
    t = time.perf_counter()
    for chunk in record_batches(root / "reference", CHUNK):
        read += time.perf_counter() - t
        for name, step in steps.items():
            t = time.perf_counter()
            step.partial_fit(chunk)
            seconds[name] += time.perf_counter() - t
        t = time.perf_counter()
    sizes = {}
    for name, step in steps.items():
        path = out / f"chunked-{name}.skops"
        mlpipe.save(step, path)
        sizes[name] = path.stat().st_size
    return {"read_s": read, "fit_s": seconds, "saved_bytes": sizes}


def _cluster():
    from distributed import LocalCluster

    return LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        memory_limit="2GiB",
    )


def phase_dask(root, out, threads=False):
    import contextlib

    import dask
    import dask.dataframe as dd
    from distributed import Client

    import mlpipe

    steps = _steps()
    result = {"fit_s": {}, "saved_bytes": {}}
    if threads:  # dask's threaded scheduler: one process, two threads
        context = dask.config.set(scheduler="threads", num_workers=2)
    else:
        context = contextlib.ExitStack()
        cluster = context.enter_context(_cluster())
        context.enter_context(Client(cluster, timeout=60))
    prefix = "dask-threads" if threads else "dask"
    with context:
        ref = dd.read_parquet(str(root / "reference"), split_row_groups=True)
        result["partitions"] = ref.npartitions
        for name, step in steps.items():
            t = time.perf_counter()
            step.fit(ref)
            result["fit_s"][name] = time.perf_counter() - t
            path = out / f"{prefix}-{name}.skops"
            mlpipe.save(step, path)
            result["saved_bytes"][name] = path.stat().st_size
    return result


def phase_score(root, out):
    """The 5-million-row dask batch against the chunk-wise and the dask
    references (loaded from their files, as a service would)."""
    import dask
    import dask.dataframe as dd
    from distributed import Client

    import mlpipe

    result = {}
    with _cluster() as cluster, Client(cluster, timeout=60):
        batch = dd.read_parquet(str(root / "batch"), split_row_groups=True)
        for source in ("chunked", "dask"):
            detector = mlpipe.load(out / f"{source}-DriftDetector.skops")
            t = time.perf_counter()
            report = detector.detect(batch)
            seconds = time.perf_counter() - t
            ks, bounds = _ks_of(report)
            result[source] = {
                "detect_s": seconds,
                "ks": ks,
                "bounds": bounds,
                "drifted": report.drifted_features,
            }
        validator = mlpipe.load(out / "dask-SchemaValidator.skops")
        t = time.perf_counter()
        checked = validator.transform(batch)
        rows, validation = dask.compute(
            checked.map_partitions(len).sum(), validator.last_report_.to_delayed()
        )
        result["validate_s"] = time.perf_counter() - t
        result["validation_passed"] = bool(validation.passed)
        result["validated_rows"] = int(rows)
        imputer = mlpipe.load(out / "dask-TypedImputer.skops")
        t = time.perf_counter()
        missing = int(imputer.transform(batch).isna().sum().sum().compute())
        result["impute_s"] = time.perf_counter() - t
        result["missing_after_impute"] = missing
    return result


def phase_memory(root, out, memory_rows):
    import pyarrow.dataset as ds

    t = time.perf_counter()
    parts, n = [], 0
    for record_batch in ds.dataset(root / "reference").to_batches(batch_size=CHUNK):
        parts.append(record_batch.to_pandas())
        n += len(parts[-1])
        if n >= memory_rows:
            break
    ref = pd.concat(parts, ignore_index=True).iloc[:memory_rows]
    del parts
    read = time.perf_counter() - t
    steps = _steps()
    seconds = {}
    for name, step in steps.items():
        t = time.perf_counter()
        step.fit(ref)
        seconds[name] = time.perf_counter() - t
    batch = pd.concat(
        [f.to_pandas() for f in ds.dataset(root / "batch").to_batches(batch_size=CHUNK)],
        ignore_index=True,
    )
    t = time.perf_counter()
    steps["DriftDetector"].detect(batch)
    detect = time.perf_counter() - t
    return {"rows": len(ref), "read_s": read, "fit_s": seconds, "detect_pandas_batch_s": detect}


def phase_exact(root, out):
    import pyarrow.dataset as ds

    ref_set, bat_set = ds.dataset(root / "reference"), ds.dataset(root / "batch")
    ks = {}
    for col in NUMERIC:
        a = ref_set.to_table(columns=[col]).column(0).to_numpy().astype(float)
        b = bat_set.to_table(columns=[col]).column(0).to_numpy().astype(float)
        a, b = np.sort(a[~np.isnan(a)]), np.sort(b[~np.isnan(b)])
        points = np.concatenate([a, b])
        d = np.abs(
            np.searchsorted(a, points, side="right") / len(a)
            - np.searchsorted(b, points, side="right") / len(b)
        ).max()
        ks[col] = float(d)
        del a, b, points
    return {"ks": ks}


def _run(phase, args, queue):
    root, out = Path(args["dir"]), Path(args["dir"]) / "fitted"
    out.mkdir(parents=True, exist_ok=True)
    if phase == "chunked":
        queue.put(phase_chunked(root, out))
    elif phase == "dask":
        queue.put(phase_dask(root, out))
    elif phase == "dask-threads":
        queue.put(phase_dask(root, out, threads=True))
    elif phase == "score":
        queue.put(phase_score(root, out))
    elif phase == "in-memory":
        queue.put(phase_memory(root, out, args["memory_rows"]))
    else:
        queue.put(phase_exact(root, out))


def measured(phase, args):
    """Run a phase in a fresh process; its result, wall time and peak RSS
    of the process tree (sampled every 20 ms)."""
    import psutil

    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    start = time.perf_counter()
    proc = ctx.Process(target=_run, args=(phase, args, queue))
    proc.start()
    peak, largest, done = [0], [0], threading.Event()

    def sample():
        me = psutil.Process(proc.pid)
        while not done.is_set():
            try:
                each = [me.memory_info().rss]
                each += [c.memory_info().rss for c in me.children(recursive=True)]
                peak[0] = max(peak[0], sum(each))
                largest[0] = max(largest[0], max(each))
            except psutil.Error:
                pass
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    result = queue.get()
    proc.join()
    done.set()
    sampler.join()
    if proc.exitcode:
        raise SystemExit(f"phase {phase} failed with exit code {proc.exitcode}")
    result["wall_s"] = time.perf_counter() - start
    result["peak_rss_bytes"] = peak[0]
    result["largest_process_rss_bytes"] = largest[0]
    return result


def to_markdown(args, gen_s, results):
    gib = 2.0**30
    lines = [
        f"Reference {args['rows']:,} rows x 20 columns "
        f"({args['rows'] * 20 * 8 / gib:.1f} GiB as float64), batch {args['batch_rows']:,} rows; "
        f"in-memory peer on the first {args['memory_rows']:,} rows. "
        f"{os.cpu_count()} cores. Files written in {gen_s:.0f} s (0 = reused). Peak RSS: "
        "the phase's process and its children (dask's scheduler and workers), sampled every 20 ms.",
        "",
        "| fitting | fit (s): drift / schema / imputer | phase wall (s) | peak RSS (GiB) "
        "| largest process (GiB) | saved (MB): drift / schema / imputer |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name in ("chunked", "dask-threads", "dask", "in-memory"):
        if name not in results:
            continue
        r = results[name]
        fit = " / ".join(f"{r['fit_s'][k]:.1f}" for k in r["fit_s"])
        saved = r.get("saved_bytes")
        saved = " / ".join(f"{v / 1e6:.2f}" for v in saved.values()) if saved else "-"
        if name == "chunked":
            label = f"partial_fit over {CHUNK:,}-row Parquet record batches"
        elif name == "dask":
            label = f"fit(dask DataFrame), LocalCluster 2 x 1 ({r['partitions']} partitions)"
        elif name == "dask-threads":
            label = (
                f"fit(dask DataFrame), threaded scheduler, 2 threads ({r['partitions']} partitions)"
            )
        else:
            label = f"pandas fit of the first {r['rows']:,} rows (one frame in memory)"
        peak, largest = r["peak_rss_bytes"] / gib, r["largest_process_rss_bytes"] / gib
        lines.append(
            f"| {label} | {fit} | {r['wall_s']:.0f} | {peak:.2f} | {largest:.2f} | {saved} |"
        )
    score, memory = results["score"], results["in-memory"]
    lines += [
        "",
        "| scoring the batch | seconds |",
        "|---|---:|",
        f"| dask batch, drift report against the chunk-wise reference | "
        f"{score['chunked']['detect_s']:.1f} |",
        f"| dask batch, drift report against the dask reference | "
        f"{score['dask']['detect_s']:.1f} |",
        f"| dask batch, `SchemaValidator.transform` + its report ({score['validated_rows']:,} rows,"
        f" passed: {score['validation_passed']}) | {score['validate_s']:.1f} |",
        f"| dask batch, `TypedImputer.transform` (missing after: "
        f"{score['missing_after_impute']}) | {score['impute_s']:.1f} |",
        f"| pandas batch, drift report against the in-memory reference | "
        f"{memory['detect_pandas_batch_s']:.1f} |",
        "",
        f"Scoring phase: {score['wall_s']:.0f} s wall, peak RSS "
        f"{score['peak_rss_bytes'] / gib:.2f} GiB (cluster start and file loading included).",
        "",
        "KS statistic against the exact computation on all rows, per numeric column:",
        "",
        "| column | exact D | chunk-wise: abs(D - exact) | stated bound | dask: abs(D - exact) "
        "| stated bound |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    exact = results["exact"]["ks"]
    worst = {"chunked": 0.0, "dask": 0.0}
    within = True
    tested = [c for c in NUMERIC if all(c in score[n]["ks"] for n in ("chunked", "dask"))]
    for col in tested:
        row = [col, f"{exact[col]:.6f}"]
        for name in ("chunked", "dask"):
            err = abs(score[name]["ks"][col] - exact[col])
            worst[name] = max(worst[name], err)
            bound = score[name]["bounds"].get(col, 0.0)
            within &= err <= bound + 1e-12
            row += [f"{err:.2e}", f"{bound:.2e}"]
        lines.append("| " + " | ".join(row) + " |")
    lines += [
        "",
        f"Largest error: chunk-wise {worst['chunked']:.2e}, dask {worst['dask']:.2e}; "
        f"every error within its stated bound: {within}. Numeric columns with at most "
        f"max_discrete distinct values get chi-square, not KS: "
        f"{[c for c in NUMERIC if c not in tested]}. "
        f"Drifted: chunk-wise reference {score['chunked']['drifted']}, "
        f"dask reference {score['dask']['drifted']}.",
    ]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", default="/tmp/mlpipe_scale")
    parser.add_argument("--rows", type=int, default=50_000_000)
    parser.add_argument("--batch-rows", type=int, default=5_000_000)
    parser.add_argument("--memory-rows", type=int, default=5_000_000)
    parser.add_argument("--phases", default="chunked,dask-threads,dask,score,in-memory,exact")
    parser.add_argument("--out", default=None)
    parser.add_argument("--json", default=None, help="also write the raw results here")
    ns = parser.parse_args()
    args = vars(ns)
    root = Path(ns.dir)
    root.mkdir(parents=True, exist_ok=True)
    gen_s = generate(root, ns.rows, ns.batch_rows)
    print(f"files ready ({gen_s:.0f} s)", flush=True)
    results = {}
    for phase in ns.phases.split(","):
        results[phase] = measured(phase, args)
        r = results[phase]
        peak = r["peak_rss_bytes"] / 2**30
        print(f"{phase}: {r['wall_s']:.0f} s, peak {peak:.2f} GiB", flush=True)
    if ns.json:
        Path(ns.json).write_text(json.dumps(results, indent=1, default=str))
    if set(results) >= {"chunked", "dask", "score", "in-memory", "exact"}:
        markdown = to_markdown(args, gen_s, results)
        print(markdown)
        if ns.out:
            Path(ns.out).write_text(markdown + "\n")


if __name__ == "__main__":
    main()
