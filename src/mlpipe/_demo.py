"""``mlpipe demo``: the whole story on the credit data, in one pipeline."""

import time
import warnings

import numpy as np
import pandas as pd

import mlpipe
from mlpipe.utils._optional import import_optional

_RULE = "-" * 78


class _Story:
    """Writes the demo to a text stream and, when asked, to an HTML page: each
    section's text, plus the rich tables and plots only HTML can show."""

    def __init__(self, out, page=None):
        self.out = out
        self.page = page
        self._buffer = []

    def write(self, text):
        self.out.write(text)
        self._buffer.append(text)

    def _flush(self):
        if self.page is not None:
            self.page.text("".join(self._buffer))
        self._buffer = []

    def section(self, number, title):
        self._flush()
        self.out.write(f"\n{number}. {title}\n{_RULE}\n")
        if self.page is not None:
            self.page.heading(f"{number}. {title}")

    def report(self, obj):
        if self.page is not None:
            self._flush()
            self.page.report(obj)

    def figure(self, draw, alt):
        """``draw()`` makes a matplotlib figure; only drawn for HTML."""
        if self.page is not None:
            self._flush()
            self.page.figure(draw(), alt)

    def close(self, path, footer):
        self._flush()
        if self.page is not None:
            self.page.save(path, footer)


def _section(out, number, title):
    out.section(number, title)


def _indent(text, prefix="   "):
    return "\n".join(prefix + line if line else line for line in str(text).splitlines()) + "\n"


def demo_schema(X_train):
    """The schema learned from ``X_train``, with what the lender knows declared.

    Learned checks are statistical: 5 missing amounts in 500 rows after none
    in 750 has p = 0.01, not improbable. But a credit application always has
    an amount, so that is declared as a rule.
    """
    from mlpipe.validation import Schema

    schema = Schema.infer(X_train)
    schema["credit_amount"].nullable = False
    return schema


def build_model(seed=0, schema=None):
    """The demo's pipeline: validation -> drift monitor -> imputation ->
    encoding -> model. ``schema``: the validator's (None learns one)."""
    from sklearn.compose import ColumnTransformer, make_column_selector
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    from mlpipe.drift import DriftMonitor
    from mlpipe.impute import TypedImputer
    from mlpipe.validation import SchemaValidator

    encode = ColumnTransformer(
        [
            (
                "categorical",
                OneHotEncoder(handle_unknown="ignore", sparse_output=False),
                make_column_selector(dtype_include=["category", "object", "string"]),
            )
        ],
        remainder="passthrough",
        verbose_feature_names_out=False,
    )
    return Pipeline(
        [
            ("validate", SchemaValidator(schema=schema)),
            ("monitor", DriftMonitor()),
            ("impute", TypedImputer(add_indicator="auto")),
            ("encode", encode),
            (
                "model",
                HistGradientBoostingClassifier(max_iter=200, learning_rate=0.05, random_state=seed),
            ),
        ]
    )


def run_demo(out, *, seed=0, automl=False, automl_minutes=1.0, report=None):
    """Print the demo to the text stream ``out``; returns the exit code.

    With ``report`` (a path), also write one self-contained HTML page with the
    same story, every report as a table and the plots embedded.
    """
    from sklearn.metrics import f1_score, precision_score, recall_score, roc_auc_score
    from sklearn.model_selection import train_test_split

    from mlpipe.datasets import load_credit, make_credit_batch
    from mlpipe.exceptions import DataValidationError
    from mlpipe.fairness import audit_fairness

    start = time.perf_counter()
    report_path, page = report, None
    if report_path is not None:
        matplotlib = import_optional("matplotlib", purpose="the demo's HTML report")
        matplotlib.use("Agg")
        from mlpipe._html import HtmlPage

        page = HtmlPage(f"mlpipe {mlpipe.__version__} demo: German credit data")
    out = _Story(out, page)
    X, y = load_credit(return_X_y=True, unknown_as_missing=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=seed
    )
    out.write(
        f"mlpipe {mlpipe.__version__} demo: German credit data, {len(X)} applicants, "
        f"{X.shape[1]} features, target 'risk' (1 = good, 0 = bad)\n"
    )

    _section(
        out,
        1,
        "Fit one pipeline: SchemaValidator -> DriftMonitor -> TypedImputer -> OneHotEncoder "
        "-> HistGradientBoosting",
    )
    model = build_model(seed, schema=demo_schema(X_train)).fit(X_train, y_train)
    imputer = model.named_steps["impute"]
    out.write(
        f"   trained on {len(X_train)} rows; the validator learned a schema of "
        f"{len(model.named_steps['validate'].schema_.columns)} columns "
        "(credit_amount declared required)\n"
    )
    for col, strategy, value in zip(
        imputer.feature_names_in_,
        imputer.strategies_.values(),
        imputer.statistics_,
        strict=True,
    ):
        gaps = int(X_train[col].isna().sum())
        if gaps:
            out.write(
                f"   {col:<17} {gaps:>4} missing -> {strategy} = {value!r} (+ indicator column)\n"
            )

    _section(out, 2, f"Holdout evaluation ({len(X_test)} rows; positive class: bad risk)")
    y_pred = model.predict(X_test)
    proba_bad = model.predict_proba(X_test)[:, 0]
    scores = {
        "precision": precision_score(y_test, y_pred, pos_label=0),
        "recall": recall_score(y_test, y_pred, pos_label=0),
        "F1": f1_score(y_test, y_pred, pos_label=0),
        "ROC AUC": roc_auc_score(y_test == 0, proba_bad),
        "accuracy": float(np.mean(y_pred == y_test)),
    }
    out.write("   " + "   ".join(f"{k} {v:.3f}" for k, v in scores.items()) + "\n")

    _section(out, 3, "Fairness audit of the holdout predictions")
    age_band = pd.cut(
        X_test["age"],
        [0, 25, 40, 60, 200],
        right=False,
        labels=["<25", "25-39", "40-59", "60+"],
    ).rename("age_band")
    with warnings.catch_warnings():
        # Small groups are flagged inside the report itself.
        warnings.simplefilter("ignore")
        by_sex = audit_fairness(
            y_test, y_pred, sensitive_features="sex", X=X_test, random_state=seed
        )
        by_age = audit_fairness(y_test, y_pred, sensitive_features=age_band, random_state=seed)
    columns = [
        "size",
        "base_rate",
        "selection_rate",
        "true_positive_rate",
        "false_positive_rate",
        "accuracy",
    ]
    for name, report in (("sex", by_sex), ("age band", by_age)):
        out.write(f"   by {name}: {report.summary()}\n")
        groups = report.to_frame("groups")
        table = groups[[groups.columns[0], *columns]]
        out.write(_indent(table.to_string(index=False, float_format="{:.3f}".format), "     "))
        out.report(report)
        out.figure(lambda r=report: r.plot().figure, f"selection rate by {name}")

    _section(out, 4, "A production batch goes through the fitted pipeline")
    batch = make_credit_batch(500, unknown_as_missing=True, random_state=seed + 1)
    out.write(
        f"   make_credit_batch(500): seeded, with drift in {batch.drifted} "
        f"and {len(batch.defects)} kinds of defect\n"
    )
    try:
        model.predict(batch.X)
        out.write("   (no failures: the batch passed validation)\n")
        passed = batch.X
    except DataValidationError as error:
        report = error.report
        out.write(f"   model.predict(batch) refused it: {report.summary()}\n")
        table = report.to_frame()[["column", "check", "severity", "n_failed", "examples"]]
        table["examples"] = table["examples"].map(lambda v: ", ".join(map(str, v[:3])))
        out.write(_indent(table.to_string(index=False), "     "))
        out.report(report)
        bad_rows = sorted({r for col in report.columns for r in report.rows_of(col)})
        passed = batch.X.drop(index=bad_rows)
        out.write(f"   quarantined {len(bad_rows)} row(s); scoring the {len(passed)} that pass:\n")
    from mlpipe.exceptions import DriftWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DriftWarning)
        share_bad = float(np.mean(model.predict(passed) == 0))
    out.write(
        f"   predicted bad-risk share {share_bad:.1%} "
        f"(holdout: {float(np.mean(y_pred == 0)):.1%})\n"
    )
    drift = model.named_steps["monitor"].history_[-1]
    alerts = [w for w in caught if issubclass(w.category, DriftWarning)]
    out.write(f"   DriftMonitor ({len(alerts)} DriftWarning): {drift.summary()}\n")
    table = drift.to_frame()
    table = table[table["drift"]][
        ["feature", "test", "statistic", "p_value", "effect_size", "note"]
    ]
    out.write(_indent(table.to_string(index=False, float_format="{:.3g}".format), "     "))
    out.report(drift)
    out.figure(lambda: _figure_of(drift.plot()), "reference vs batch of the drifted features")

    _section(out, 5, "Why: SHAP values of the whole pipeline, in the raw columns")
    from mlpipe.explain import PipelineExplainer

    explainer = PipelineExplainer(
        model, background=X_train, max_background=100, output="probability"
    )
    explanation = explainer.explain(X_test)
    importance = explanation.importance()
    out.write(f"   {explanation.summary()}\n")
    out.write("   global importance (mean |SHAP| on the probability of good risk):\n")
    width = max(len(str(f)) for f in importance.index)
    for feature, value in importance.items():
        out.write(f"     {feature:<{width}}  {value:.3f}  {'#' * round(value * 200)}\n")
    for i in (0, 1):
        label = X_test.index[i]
        p_good = float(model.predict_proba(X_test.iloc[[i]])[0, 1])
        out.write(f"   applicant {label}: probability of good risk {p_good:.2f}; top reasons:\n")
        for reason in explanation.reasons(i, n=3)["reason"]:
            out.write(f"     - {reason}\n")
    out.figure(lambda: explanation.plot("bar").figure, "global importance")
    out.figure(lambda: explanation.plot("beeswarm").figure, "SHAP values of every applicant")
    for i in (0, 1):
        out.figure(
            lambda i=i: _figure_of(explanation.plot("waterfall", row=i)),
            f"why applicant {X_test.index[i]}",
        )

    if automl:
        _section(out, 6, f"AutoML: a {automl_minutes:g}-minute PipelineSearch on the raw frame")
        from mlpipe.automl import PipelineSearch

        search = PipelineSearch(
            task="classification", max_time_mins=automl_minutes, random_state=seed, cv=3
        )
        search.fit(X_train, y_train)
        errors = int(search.results_["error"].notna().sum())
        out.write(
            f"   {len(search.results_)} pipelines evaluated in "
            f"{search.search_seconds_:.0f} s ({errors} failed or timed out)\n"
        )
        out.write(f"   best (cross-validated ROC AUC {search.best_score_:.3f}):\n")
        for name, step in search.best_estimator_.steps:
            out.write(f"     {name}: {step!r}\n")
        auc = roc_auc_score(y_test, search.predict_proba(X_test)[:, 1])
        out.write(
            f"   holdout ROC AUC {auc:.3f} (hand-built pipeline above: "
            f"{roc_auc_score(y_test, 1 - proba_bad):.3f})\n"
        )

    elapsed = time.perf_counter() - start
    out.write(f"\ndone in {elapsed:.1f} s\n")
    if report_path is not None:
        out.close(report_path, f"mlpipe {mlpipe.__version__}, seed {seed}, {elapsed:.1f} s")
        out.out.write(f"HTML report written to {report_path}\n")
    return 0


def _figure_of(drawn):
    """The Figure of whatever a plot method returned (Axes, array of Axes)."""
    plt = import_optional("matplotlib.pyplot", purpose="the demo's HTML report")

    if hasattr(drawn, "figure"):
        return drawn.figure
    flat = np.ravel(drawn) if drawn is not None else []
    return flat[0].figure if len(flat) else plt.gcf()
