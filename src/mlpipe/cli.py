"""The ``mlpipe`` command: ``mlpipe demo`` and thin commands over the public API."""

import argparse
import sys

import mlpipe


def _demo(args, out):
    from mlpipe._demo import run_demo

    return run_demo(out, seed=args.seed, automl=args.automl, automl_minutes=args.automl_minutes)


def build_parser():
    """The argument parser of the ``mlpipe`` command."""
    parser = argparse.ArgumentParser(
        prog="mlpipe",
        description="Guard rails for scikit-learn models: validation, imputation, "
        "drift, fairness, explanations, AutoML.",
    )
    parser.add_argument("--version", action="version", version=f"mlpipe {mlpipe.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = sub.add_parser(
        "demo",
        help="run the whole story on the credit data that ships with mlpipe",
        description="Fit one pipeline (validation, imputation, model) on the German "
        "credit data that ships with mlpipe, evaluate and audit it for fairness, send a "
        "production batch with known defects through it, and explain its predictions.",
    )
    demo.add_argument(
        "--seed", type=int, default=0, help="seed of the split and the model (default: 0)"
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
    demo.set_defaults(func=_demo)
    versions = sub.add_parser("versions", help="print the versions of mlpipe and its dependencies")
    versions.set_defaults(func=lambda args, out: mlpipe.show_versions() or 0)
    return parser


def main(argv=None):
    """Run the ``mlpipe`` command; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    return args.func(args, sys.stdout)
