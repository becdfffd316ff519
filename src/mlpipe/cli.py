"""The ``mlpipe`` command: ``mlpipe demo`` and thin commands over the public API.

Exit codes: 0 when all is well, 1 when a check found something (drift, failed
validation), 2 for a usage error (bad arguments; a missing, unreadable, empty,
header-only or wrongly named file; a schema that cannot be read or written;
for ``drift``, columns that cannot be compared with the reference). A usage
error is one line on stderr that names the file and the problem, never a
traceback, so a cron job or CI step cannot mistake it for a finding.

Both ``drift`` and ``validate`` match columns by name: a file whose columns
come in another order is the same file. Extra or missing columns cannot be
tested for drift (exit 2, naming them; ``--columns`` selects a subset) and
are findings of ``validate`` (exit 1, in its table). A file with no rows is a
usage error for both. When the reader of the output goes away
(``mlpipe drift ... | head -2``) the command ends quietly with its verdict.
"""

import argparse
import io
import json
import os
import sys
from pathlib import Path

import mlpipe
from mlpipe.exceptions import MissingExtraError
from mlpipe.utils._files import DataFileError, one_line, read_table

EXIT_OK, EXIT_FOUND, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """A problem with the command line or its files: exit code 2."""


def _probability(text):
    """``type=`` of a rate option: a number strictly between 0 and 1."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not strictly between 0 and 1")
    return value


def _k_of_m(text):
    """``type=`` of ``--stale K/M``."""
    k, _, m = text.partition("/")
    try:
        k, m = int(k), int(m)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not K/M, such as 3/5") from None
    if not 1 <= k <= m:
        raise argparse.ArgumentTypeError(f"{text}: K/M needs 1 <= K <= M")
    return (k, m)


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line on stderr, exit code 2."""

    def error(self, message):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


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
    from mlpipe.utils._dataframe import describe_columns

    reference = read_table(args.reference)
    current = read_table(args.current)
    columns = _columns(args.columns)
    missing = [c for c in columns or [] if c not in reference.columns]
    if missing:
        raise UsageError(f"--columns names {missing}, not columns of {args.reference}")
    wanted = columns or list(reference.columns)
    absent = [c for c in wanted if c not in current.columns]
    extra = [] if columns else [c for c in current.columns if c not in reference.columns]
    if absent or extra:
        problems = []
        if absent:
            problems.append(f"lacks {describe_columns(absent)}")
        if extra:
            problems.append(f"has {describe_columns(extra)}, not in {args.reference}")
        raise UsageError(
            f"{args.current}: columns cannot be compared with the reference: "
            f"{'; '.join(problems)} (--columns A,B compares only some)"
        )
    detector = DriftDetector(alpha=args.alpha, correction=args.correction)
    try:
        detector.fit(reference[wanted])
    except (TypeError, ValueError) as exc:
        raise UsageError(f"{args.reference}: {one_line(exc)}") from None
    try:
        report = detector.detect(current[wanted])
    except (TypeError, ValueError) as exc:
        reason = one_line(exc).removeprefix("DriftDetector: ")
        raise UsageError(f"{args.current}: {reason}") from None
    frame = report.to_frame()
    if args.format == "table":
        out.write(report.summary() + "\n\n")
        frame = frame[
            ["feature", "test", "statistic", "p_value", "threshold", "effect_size", "drift", "note"]
        ]
    _write_frame(out, frame, args.format)
    return EXIT_FOUND if report.drift and args.fail_on_drift else EXIT_OK


def _load_schema(path):
    from mlpipe.validation import Schema

    path = Path(path)
    if not path.exists():
        raise UsageError(f"no such file: {path}")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot read the schema: {one_line(exc)}") from None
    try:
        return Schema.from_json(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{path}: not a schema: invalid JSON ({exc})") from None
    except KeyError as exc:
        raise UsageError(f"{path}: not a valid mlpipe schema: no {exc} entry") from None
    except (TypeError, ValueError, AttributeError) as exc:
        raise UsageError(f"{path}: not a valid mlpipe schema: {one_line(exc)}") from None


def _validate(args, out):
    from mlpipe.validation import Schema

    if args.warn_alpha < args.alpha:
        raise UsageError(
            f"--warn-alpha {args.warn_alpha:g} is below --alpha {args.alpha:g}: "
            "a warning threshold must be at least the error threshold"
        )
    current = read_table(args.current)
    if args.schema:
        schema = _load_schema(args.schema)
    elif args.reference:
        # Columns are matched by name, as drift does: a reordered file is
        # the same file. A saved schema keeps the ``ordered`` it declares.
        schema = Schema.infer(read_table(args.reference))
        schema.ordered = False
    else:
        raise UsageError("give a REFERENCE file to learn the schema from, or --schema")
    if args.save_schema:
        try:
            Path(args.save_schema).write_text(schema.to_json())
        except OSError as exc:
            reason = exc.strerror or one_line(exc)
            raise UsageError(f"{args.save_schema}: cannot write the schema: {reason}") from None
    report = schema.validate(current, alpha=args.alpha, warn_alpha=args.warn_alpha)
    frame = report.to_frame()
    if args.format == "table":
        out.write(report.summary() + "\n")
        if len(frame):
            out.write("\n")
            frame = frame[
                ["column", "check", "severity", "n_failed", "share", "examples", "message"]
            ].copy()
            # A check of the whole table (such as column order) has no column.
            frame["column"] = frame["column"].map(lambda c: "(table)" if c is None else c)
    if len(frame) or args.format != "table":
        _write_frame(out, frame, args.format)
    return EXIT_OK if report.passed else EXIT_FOUND


def _monitor(args, out):
    from mlpipe.monitor import MonitoringLoop, RunStore

    if args.model is None:
        if not args.report:
            raise UsageError("give a MODEL and BATCH files, or --report FILE.html")
        if not Path(args.store).is_file():
            raise UsageError(f"no such store: {args.store}")
    elif not args.batches:
        raise UsageError(f"give the BATCH files or directories to monitor with {args.model}")
    code = EXIT_OK
    model_id = None
    if args.model is not None:
        loop = MonitoringLoop(
            args.model,
            args.store,
            name=args.name,
            version=args.model_version,
            trusted=args.trust,
            key=args.key,
            labels=args.labels,
            target=args.target,
            sensitive=args.sensitive,
            label_coverage=args.label_coverage,
            baseline_windows=args.baseline_windows,
            performance_alpha=args.performance_alpha,
            on_drift=args.on_drift,
            cooldown=args.cooldown,
            max_age=args.max_age,
            stale_windows=args.stale,
        )

        def echo(line):
            out.write(line + "\n")
            out.flush()

        try:
            loop._check_params()
            RunStore(args.store).close()
        except (TypeError, ValueError, OSError) as exc:
            raise UsageError(one_line(exc)) from None
        results = loop.run(args.batches, echo=echo)
        model_id = loop.model_id_
        found = results["status"].isin(["failed", "drift", "error", "unreadable", "drop", "stale"])
        scored = results["status"].isin(["scored", "drop", "stale", "fresh"])
        counts = results.loc[~scored, "status"].value_counts()
        line = f"{int((~scored).sum())} batch(es): " + ", ".join(
            f"{n} {status}" for status, n in counts.items()
        )
        labelled = results["status"].isin(["scored", "drop"])
        if labelled.any():
            drops = int((results["status"] == "drop").sum())
            line += f"; {int(labelled.sum())} scored by labels ({drops} drop)"
        out.write(line + "\n")
        code = EXIT_FOUND if found.any() else EXIT_OK
    if args.report:
        with RunStore(args.store, read_only=True) as store:
            try:
                path = store.report(model=model_id).save(args.report)
            except OSError as exc:
                raise UsageError(
                    f"{args.report}: cannot write the report: {one_line(exc)}"
                ) from None
        out.write(f"report: {path}\n")
    return code


def _inspect(args, out):
    try:
        manifest = mlpipe.read_manifest(args.file)
    except (OSError, ValueError) as exc:
        raise UsageError(str(exc)) from exc
    out.write(json.dumps(manifest, indent=2) + "\n")
    return EXIT_OK


def build_parser():
    """The argument parser of the ``mlpipe`` command."""
    parser = _Parser(
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
        "--alpha", type=_probability, default=0.05, help="significance level (default: 0.05)"
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
        type=_probability,
        default=0.01,
        help="false-alarm rate of the errors of the learned checks on a batch like the "
        "reference (default: 0.01)",
    )
    validate.add_argument(
        "--warn-alpha",
        type=_probability,
        default=0.1,
        help="the same rate for warnings (default: 0.1)",
    )
    validate.add_argument(
        "--format", choices=["table", "csv", "json"], default="table", help="output format"
    )
    validate.set_defaults(func=_validate)

    monitor = sub.add_parser(
        "monitor",
        help="validate, score and monitor batch files into a run store; exit 1 on an alarm",
        description="Read each BATCH file (CSV or Parquet; a directory stands for its files "
        "in name order) that the store does not hold yet, validate it with the model's "
        "validators, test it for drift with its drift monitors (the file as one window), "
        "score it, and record it all in the run store in one transaction; print a line per "
        "batch. A rerun skips the batches done. With --labels, ground truth joined by --key "
        "scores each batch and a drop is an alarm. Exit 1 when a batch drifted, failed, "
        "could not be read or scored, or performance dropped; 2 on usage errors.",
    )
    monitor.add_argument(
        "model",
        metavar="MODEL",
        nargs="?",
        help="a model file written by mlpipe.save, or an MLflow URI (models:/name/1)",
    )
    monitor.add_argument("batches", metavar="BATCH", nargs="*", help="batch files or directories")
    monitor.add_argument(
        "--store", default="monitor.db", help="the run store file (default: monitor.db)"
    )
    monitor.add_argument("--name", help="the model's name in the store (default: file stem)")
    monitor.add_argument("--model-version", help="the model's version label in the store")
    monitor.add_argument(
        "--trust",
        metavar="TYPE",
        action="append",
        help="a type name to trust when loading MODEL (as mlpipe.load(trusted=)); repeatable",
    )
    monitor.add_argument("--key", metavar="COLUMN", help="row key column, to join --labels")
    monitor.add_argument(
        "--labels",
        metavar="FILE",
        action="append",
        help="ground truth (key and label columns); repeatable",
    )
    monitor.add_argument("--target", metavar="COLUMN", help="the label column of --labels")
    monitor.add_argument(
        "--sensitive", metavar="COLUMN", help="record selection rates by this column's groups"
    )
    monitor.add_argument(
        "--label-coverage",
        type=float,
        default=0.9,
        metavar="SHARE",
        help="share of a batch's rows labelled before it is scored (default: 0.9)",
    )
    monitor.add_argument(
        "--baseline-windows",
        type=int,
        default=3,
        metavar="N",
        help="the first N scored batches are the performance baseline (default: 3)",
    )
    monitor.add_argument(
        "--performance-alpha",
        type=_probability,
        default=0.01,
        help="false-alarm rate of the performance drop test per batch (default: 0.01)",
    )
    monitor.add_argument(
        "--on-drift",
        metavar="CMD",
        help="shell command run on a drift or performance alarm (MLPIPE_RUN_ID, "
        "MLPIPE_DRIFTED_FEATURES... in its environment)",
    )
    monitor.add_argument(
        "--cooldown",
        default="24h",
        help="after a retraining run, no other until N batches or a time span passed "
        "(default: 24h)",
    )
    monitor.add_argument(
        "--max-age",
        metavar="SPAN",
        help="after the batches, the model is stale when its training data is older (90D)",
    )
    monitor.add_argument(
        "--stale",
        metavar="K/M",
        type=_k_of_m,
        help="the model is also stale when K of its last M drift windows drifted",
    )
    monitor.add_argument(
        "--report", metavar="FILE.html", help="write the report over time of the store"
    )
    monitor.set_defaults(func=_monitor)

    inspect = sub.add_parser(
        "inspect",
        help="print the manifest of a model file written by mlpipe.save, without loading it",
        description="Print, as JSON, the manifest of FILE (a model written by "
        "mlpipe.save): package versions, training-data fingerprint, schemas and steps. "
        "Nothing of the model is loaded, so an untrusted file can be inspected.",
    )
    inspect.add_argument("file", metavar="FILE", help="a model file (.skops)")
    inspect.set_defaults(func=_inspect)

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
    # drift and validate write their (short) output at the end, so that a
    # closed pipe cannot hide the verdict; the demo and monitor write as they go.
    out = sys.stdout if args.command in ("demo", "monitor") else io.StringIO()
    code = EXIT_OK
    try:
        code = args.func(args, out)
        if out is not sys.stdout:
            sys.stdout.write(out.getvalue())
        sys.stdout.flush()
    except (UsageError, DataFileError, MissingExtraError) as exc:
        sys.stderr.write(f"mlpipe {args.command}: error: {one_line(exc)}\n")
        return EXIT_USAGE
    except BrokenPipeError:
        # The reader went away (``| head``): end quietly, as the Python docs
        # recommend, pointing stdout at devnull so that the flush at exit
        # does not fail again.
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError, io.UnsupportedOperation):
            pass
    return code
