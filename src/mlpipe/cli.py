"""The ``mlpipe`` command: ``mlpipe demo`` and thin commands over the public API."""

import argparse
import sys
import time

import mlpipe


def _demo(args, out):
    import numpy as np
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import f1_score, precision_score, recall_score, roc_auc_score
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline

    from mlpipe.datasets import load_credit
    from mlpipe.impute import TypedImputer

    start = time.perf_counter()
    X, y = load_credit(return_X_y=True, unknown_as_missing=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=args.seed
    )
    n_missing = int(X_train.isna().sum().sum())
    out.write(
        f"mlpipe {mlpipe.__version__} demo: German credit data, {len(X)} applicants, "
        f"{X.shape[1]} features, target 'risk' (1 = good)\n"
    )
    out.write(
        f"train {len(X_train)} rows ({n_missing} missing values), holdout {len(X_test)} rows\n\n"
    )
    model = make_pipeline(
        TypedImputer(add_indicator="auto"),
        HistGradientBoostingClassifier(
            categorical_features="from_dtype",
            max_iter=200,
            learning_rate=0.05,
            random_state=args.seed,
        ),
    )
    model.fit(X_train, y_train)
    imputer = model[0]
    out.write("1. Imputation (TypedImputer)\n")
    width = max(len(str(c)) for c in imputer.feature_names_in_)
    for col, strategy, value in zip(
        imputer.feature_names_in_,
        imputer.strategies_.values(),
        imputer.statistics_,
        strict=True,
    ):
        gaps = int(X_train[col].isna().sum())
        if gaps:
            out.write(f"   {col:<{width}}  {gaps:>4} missing  -> {strategy} = {value!r}\n")
    out.write(f"   indicators added: {list(imputer.get_feature_names_out()[X.shape[1] :])}\n\n")
    y_pred = model.predict(X_test)
    proba = model.predict_proba(X_test)[:, 1]
    out.write("2. Holdout evaluation (positive class: bad risk = 0)\n")
    metrics = {
        "precision": precision_score(y_test, y_pred, pos_label=0),
        "recall": recall_score(y_test, y_pred, pos_label=0),
        "F1": f1_score(y_test, y_pred, pos_label=0),
        "ROC AUC": roc_auc_score(y_test, proba),
        "accuracy": float(np.mean(y_pred == y_test)),
    }
    for name, value in metrics.items():
        out.write(f"   {name:<10} {value:.3f}\n")
    out.write(f"\ndone in {time.perf_counter() - start:.1f} s\n")
    return 0


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
        description="Fit imputation and a model on the German credit data and "
        "evaluate it on a holdout.",
    )
    demo.add_argument(
        "--seed", type=int, default=0, help="seed of the split and the model (default: 0)"
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
