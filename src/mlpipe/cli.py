"""The ``mlpipe`` command: ``mlpipe demo`` and thin commands over the public API.

Exit codes: 0 when all is well, 1 when a check found something (drift, failed
validation), 2 for a usage error (bad arguments, unreadable files).
"""

import argparse
import sys
from pathlib import Path

import mlpipe

EXIT_OK, EXIT_FOUND, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """A problem with the command line or its files: exit code 2."""


def read_table(path):
    """Read a CSV or Parquet file into a DataFrame (by its suffix)."""
    import pandas as pd

    path = Path(path)
    if not path.exists():
        raise UsageError(f"no such file: {path}")
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        from mlpipe.utils._optional import import_optional

        import_optional("pyarrow", purpose="reading Parquet files")
        return pd.read_parquet(path)
    if suffix in (".csv", ".txt", ".gz", ".bz2", ".zip"):
        return pd.read_csv(path)
    raise UsageError(f"{path}: unknown file type {suffix!r}; use .csv or .parquet")


def _columns(text):
    return [c.strip() for c in text.split(",") if c.strip()] if text else None


def _write_frame(out, frame, fmt):
    if fmt == "csv":
        out.write(frame.to_csv(index=False))
    elif fmt == "json":
        out.write(frame.to_json(orient="records", indent=2) + "\n")
    else:
        out.write(frame.to_string(index=False, float_format="{:.4g}".format) + "\n")


def _demo(args, out):
    from mlpipe._demo import run_demo

    return run_demo(
        out,
        seed=args.seed,
        automl=args.automl,
        automl_minutes=args.automl_minutes,
        report=args.report,
    )


def _drift(args, out):
    from mlpipe.drift import DriftDetector

    reference = read_table(args.reference)
    current = read_table(args.current)
    columns = _columns(args.columns)
    missing = [c for c in columns or [] if c not in reference.columns]
    if missing:
        raise UsageError(f"--columns names {missing}, not columns of {args.reference}")
    detector = DriftDetector(columns=columns, alpha=args.alpha, correction=args.correction)
    report = detector.fit(reference).detect(
        current[list(reference.columns)]
        if set(reference.columns) <= set(current.columns)
        else current
    )
    frame = report.to_frame()
    if args.format == "table":
        out.write(report.summary() + "\n\n")
        frame = frame[
            ["feature", "test", "statistic", "p_value", "threshold", "effect_size", "drift", "note"]
        ]
    _write_frame(out, frame, args.format)
    return EXIT_FOUND if report.drift and args.fail_on_drift else EXIT_OK


def _validate(args, out):
    from mlpipe.validation import Schema

    current = read_table(args.current)
    if args.schema:
        schema = Schema.from_json(Path(args.schema).read_text())
    elif args.reference:
        schema = Schema.infer(read_table(args.reference))
    else:
        raise UsageError("give a REFERENCE file to learn the schema from, or --schema")
    if args.save_schema:
        Path(args.save_schema).write_text(schema.to_json())
    report = schema.validate(current, alpha=args.alpha, warn_alpha=args.warn_alpha)
    frame = report.to_frame()
    if args.format == "table":
        out.write(report.summary() + "\n")
        if len(frame):
            out.write("\n")
            frame = frame[
                ["column", "check", "severity", "n_failed", "share", "examples", "message"]
            ]
    if len(frame) or args.format != "table":
        _write_frame(out, frame, args.format)
    return EXIT_OK if report.passed else EXIT_FOUND


def build_parser():
    """The argument parser of the ``mlpipe`` command."""
    parser = argparse.ArgumentParser(
        prog="mlpipe",
        description="Guard rails for scikit-learn models: validation, imputation, "
        "drift, fairness, explanations, AutoML. Exit codes: 0 all well, 1 a check "
        "found something, 2 usage error.",
    )
    parser.add_argument("--version", action="version", version=f"mlpipe {mlpipe.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = sub.add_parser(
        "demo",
        help="run the whole story on the credit data that ships with mlpipe",
        description="Fit one pipeline (validation, drift monitor, imputation, model) on "
        "the German credit data that ships with mlpipe, evaluate and audit it for "
        "fairness, send a production batch with known defects and drift through it, and "
        "explain its predictions.",
    )
    demo.add_argument(
        "--seed", type=int, default=0, help="seed of the split, batch and model (default: 0)"
    )
    demo.add_argument(
        "--automl",
        action="store_true",
        help="also run a short PipelineSearch (AutoML) and show the best pipeline",
    )
    demo.add_argument(
        "--automl-minutes",
        type=float,
        default=1.0,
        metavar="M",
        help="wall-clock budget of the --automl search in minutes (default: 1)",
    )
    demo.add_argument(
        "--report",
        metavar="FILE.html",
        help="also write one self-contained HTML page with every table and plot",
    )
    demo.set_defaults(func=_demo)

    drift = sub.add_parser(
        "drift",
        help="compare two data files column by column; exit 1 on drift",
        description="Test every column of CURRENT against REFERENCE (KS for numbers, "
        "chi-square for categories, PSI for many categories), print one row per test, "
        "and exit with 1 when the batch drifted: usable in cron or CI.",
    )
    drift.add_argument("reference", metavar="REFERENCE", help="reference data (.csv or .parquet)")
    drift.add_argument("current", metavar="CURRENT", help="data to check (.csv or .parquet)")
    drift.add_argument("--columns", metavar="A,B", help="only these columns (default: all)")
    drift.add_argument(
        "--alpha", type=float, default=0.05, help="significance level (default: 0.05)"
    )
    drift.add_argument(
        "--correction",
        choices=["bh", "bonferroni"],
        default="bh",
        help="multiple-testing correction across columns: Benjamini-Hochberg (default) "
        "or Bonferroni",
    )
    drift.add_argument(
        "--format", choices=["table", "csv", "json"], default="table", help="output format"
    )
    drift.add_argument(
        "--no-fail-on-drift",
        dest="fail_on_drift",
        action="store_false",
        help="exit 0 even when the batch drifted",
    )
    drift.set_defaults(func=_drift)

    validate = sub.add_parser(
        "validate",
        help="check a data file against a schema learned from another, or a saved one",
        description="Learn a schema (dtypes, ranges, categories, null rates) from "
        "REFERENCE, or load one saved with --save-schema, check every row and column of "
        "CURRENT against it, report every failure at once, and exit with 1 if any check "
        "failed.",
    )
    validate.add_argument(
        "reference", metavar="REFERENCE", nargs="?", help="data to learn the schema from"
    )
    validate.add_argument("current", metavar="CURRENT", help="data to check")
    validate.add_argument("--schema", metavar="FILE.json", help="use this saved schema")
    validate.add_argument(
        "--save-schema", metavar="FILE.json", help="write the schema used, as JSON"
    )
    validate.add_argument(
        "--alpha",
        type=float,
        default=0.01,
        help="false-alarm rate of the errors of the learned checks on a batch like the "
        "reference (default: 0.01)",
    )
    validate.add_argument(
        "--warn-alpha",
        type=float,
        default=0.1,
        help="the same rate for warnings (default: 0.1)",
    )
    validate.add_argument(
        "--format", choices=["table", "csv", "json"], default="table", help="output format"
    )
    validate.set_defaults(func=_validate)

    versions = sub.add_parser("versions", help="print the versions of mlpipe and its dependencies")
    versions.set_defaults(func=lambda args, out: mlpipe.show_versions() or EXIT_OK)
    return parser


def main(argv=None):
    """Run the ``mlpipe`` command; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    if args.command == "validate" and args.schema and args.current and args.reference:
        parser.error("give either REFERENCE or --schema, not both")
    if args.command == "validate" and args.reference and not args.current:
        args.current, args.reference = args.reference, None
    try:
        return args.func(args, sys.stdout)
    except UsageError as exc:
        sys.stderr.write(f"mlpipe {args.command}: error: {exc}\n")
        return EXIT_USAGE
