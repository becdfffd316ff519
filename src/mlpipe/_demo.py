"""``mlpipe demo``: the whole story on the credit data, in one pipeline."""

import textwrap
import time
import warnings

import numpy as np
import pandas as pd

import mlpipe
from mlpipe.utils._optional import import_optional

_RULE = "-" * 78
# The terminal story fits in this many columns; longer prose is wrapped.
WIDTH = 100

# Label 1 of load_credit's ``risk`` is a good credit risk: the class the
# model's probability, the fairness audit's favourable outcome and the
# explanations all speak of, so the demo names it one way throughout.
POSITIVE = "good risk (risk = 1)"
P_POSITIVE = "probability of good risk"


class _Story:
    """Writes the demo to a text stream and, when asked, to an HTML page.

    The two are laid out each for its medium: the terminal gets wrapped prose
    and plain-text tables, the page gets paragraphs, the reports' own tables
    and captioned plots, each shown once.
    """

    def __init__(self, out, page=None):
        self.out = out
        self.page = page

    def write(self, text):
        """Terminal only: text already laid out (tables, lists)."""
        self.out.write(text)

    def say(self, text, indent=3, page=True):
        """A sentence: wrapped to ``WIDTH`` on the terminal, a paragraph on the
        page (``page``: False for none, a str for other words there)."""
        self.out.write(
            textwrap.fill(
                text,
                width=WIDTH,
                initial_indent=" " * indent,
                subsequent_indent=" " * (indent + 2),
                break_on_hyphens=False,
            )
            + "\n"
        )
        if page and self.page is not None:
            self.page.paragraph(text if page is True else page)

    def section(self, number, title, anchor):
        self.out.write(f"\n{number}. {title}\n{_RULE}\n")
        if self.page is not None:
            self.page.section(anchor, f"{number}. {title}")

    def html(self, method, *args, **kwargs):
        """Page only: ``page.<method>(*args, **kwargs)``."""
        if self.page is not None:
            getattr(self.page, method)(*args, **kwargs)

    def figure(self, draw, caption):
        """``draw()`` makes a matplotlib figure; only drawn for HTML."""
        if self.page is not None:
            self.page.figure(draw(), caption)

    def close(self, path, footer):
        if self.page is not None:
            self.page.save(path, footer)


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
    same story: a summary of the verdicts at the top, every report as a
    table and the plots embedded with captions.
    """
    from sklearn.metrics import f1_score, precision_score, recall_score, roc_auc_score
    from sklearn.model_selection import train_test_split

    from mlpipe.datasets import load_credit, make_credit_batch
    from mlpipe.exceptions import DataValidationError, DriftWarning
    from mlpipe.fairness import audit_fairness

    start = time.perf_counter()
    report_path, page = report, None
    X, y = load_credit(return_X_y=True, unknown_as_missing=True)
    title = f"mlpipe {mlpipe.__version__} demo: German credit data"
    lede = (
        f"{len(X)} applicants, {X.shape[1]} features; target 'risk': 1 = good risk, "
        "0 = bad risk. One scikit-learn pipeline validates, monitors, imputes and "
        "predicts; then its predictions are audited for fairness and explained."
    )
    if report_path is not None:
        matplotlib = import_optional("matplotlib", purpose="the demo's HTML report")
        matplotlib.use("Agg")
        from mlpipe._html import HtmlPage

        page = HtmlPage(title, lede)
    out = _Story(out, page)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=seed
    )
    out.write(f"{title}\n")
    out.say(f"{lede.split('.')[0]}.", page=False)

    # 1. fit ---------------------------------------------------------------
    out.section(1, "Fit one pipeline", "fit")
    steps = ["SchemaValidator", "DriftMonitor", "TypedImputer", "OneHotEncoder"]
    steps.append("HistGradientBoosting")
    out.say(" -> ".join(steps), page="Steps: " + " \u2192 ".join(steps))
    model = build_model(seed, schema=demo_schema(X_train)).fit(X_train, y_train)
    imputer = model.named_steps["impute"]
    out.say(
        f"Trained on {len(X_train)} rows; the validator learned a schema of "
        f"{len(model.named_steps['validate'].schema_.columns)} columns "
        "(credit_amount declared required)."
    )
    imputed = []
    for col, strategy, value in zip(
        imputer.feature_names_in_,
        imputer.strategies_.values(),
        imputer.statistics_,
        strict=True,
    ):
        gaps = int(X_train[col].isna().sum())
        if gaps:
            imputed.append((col, gaps, strategy, value))
            out.write(
                f"   {col:<17} {gaps:>4} missing -> {strategy} = {value!r} (+ indicator column)\n"
            )
    out.html(
        "table",
        pd.DataFrame(imputed, columns=["column", "missing", "strategy", "filled with"]).assign(
            indicator="added"
        ),
        caption=f"What the imputer learned from the {len(X_train)} training rows",
    )

    # 2. evaluation ----------------------------------------------------------
    out.section(
        2, f"Holdout evaluation of {len(X_test)} rows, positive class: {POSITIVE}", "evaluation"
    )
    y_pred = model.predict(X_test)
    proba = model.predict_proba(X_test)[:, list(model.classes_).index(1)]
    scores = {
        "precision": precision_score(y_test, y_pred, pos_label=1),
        "recall": recall_score(y_test, y_pred, pos_label=1),
        "F1": f1_score(y_test, y_pred, pos_label=1),
        "ROC AUC": roc_auc_score(y_test == 1, proba),
        "accuracy": float(np.mean(y_pred == y_test)),
    }
    out.write("   " + "   ".join(f"{k} {v:.3f}" for k, v in scores.items()) + "\n")
    out.html(
        "table",
        pd.DataFrame([scores]),
        caption="Precision, recall and F1 of the positive class; ROC AUC of its probability",
    )
    out.html(
        "verdict",
        "Model",
        f"ROC AUC {scores['ROC AUC']:.3f}, accuracy {scores['accuracy']:.3f}, "
        f"F1 {scores['F1']:.3f} on {len(X_test)} holdout rows",
        "evaluation",
    )

    # 3. fairness --------------------------------------------------------------
    out.section(3, "Fairness audit of the holdout predictions", "fairness")
    out.say(
        f"The favourable outcome is a prediction of {POSITIVE}: a group's selection rate "
        "is its share of applicants predicted good risk."
    )
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
    verdicts = []
    for name, anchor, audit in (
        ("sex", "fairness-sex", by_sex),
        ("age band", "fairness-age", by_age),
    ):
        out.say(f"by {name}: {audit.summary()}", page=False)
        groups = audit.to_frame("groups")
        table = groups[[groups.columns[0], *columns]]
        out.write(_indent(table.to_string(index=False, float_format="{:.3f}".format), "     "))
        out.html("report", audit, anchor=anchor)
        level = round(audit.confidence_level * 100)
        out.figure(
            lambda a=audit: a.plot().figure,
            f"Selection rate (share predicted {POSITIVE}) of each {name} group on the holdout, "
            f"with {level}% confidence intervals; the dashed line is 4/5 of the highest rate.",
        )
        passed = {True: "passes", False: "FAILS", None: "undefined"}[audit.four_fifths_passed]
        verdicts.append(
            (
                f"{name}: four-fifths rule {passed} (impact ratio {audit.four_fifths_ratio:.2f})",
                audit.four_fifths_passed,
            )
        )
    out.html(
        "verdict",
        "Fairness",
        "; ".join(text for text, _ in verdicts),
        "fairness",
        tone="good" if all(ok for _, ok in verdicts) else "bad",
    )

    # 4. a production batch --------------------------------------------------
    out.section(4, "A production batch goes through the fitted pipeline", "batch")
    batch = make_credit_batch(500, unknown_as_missing=True, random_state=seed + 1)
    out.say(
        f"make_credit_batch(500): seeded, with drift in {', '.join(batch.drifted)} "
        f"and {len(batch.defects)} kinds of defect."
    )
    try:
        model.predict(batch.X)
        out.say("No failures: the batch passed validation.")
        passed = batch.X
        out.html("verdict", "Validation", "the batch passed", "validation", tone="good")
    except DataValidationError as error:
        report = error.report
        out.say(f"model.predict(batch) refused it: {report.summary()}", page=False)
        table = report.to_frame()[["column", "check", "severity", "n_failed", "examples"]]
        table["examples"] = table["examples"].map(lambda v: ", ".join(map(str, v[:3])))
        out.write(_indent(table.to_string(index=False), "     "))
        out.html("paragraph", "model.predict(batch) refused it:")
        out.html("report", report, anchor="validation")
        bad_rows = sorted({r for col in report.columns for r in report.rows_of(col)})
        passed = batch.X.drop(index=bad_rows)
        out.say(f"{len(bad_rows)} row(s) quarantined; scoring the {len(passed)} that pass.")
        out.html(
            "verdict",
            "Validation",
            f"batch refused: {len(report.errors)} failed checks in {len(report.columns)} "
            f"columns; {len(bad_rows)} of {report.n_rows} rows quarantined",
            "validation",
            tone="bad",
        )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DriftWarning)
        share_good = float(np.mean(model.predict(passed) == 1))
    out.say(
        f"Share predicted {POSITIVE}: {share_good:.1%} of the batch "
        f"(holdout: {float(np.mean(y_pred == 1)):.1%})."
    )
    drift = model.named_steps["monitor"].history_[-1]
    alerts = [w for w in caught if issubclass(w.category, DriftWarning)]
    out.say(f"DriftMonitor ({len(alerts)} DriftWarning): {drift.summary()}", page=False)
    out.say(
        "A test drifts when p_value <= threshold (alpha after the correction) and "
        "effect_size >= effect_threshold; a small p-value with a small effect is not drift.",
        page=False,
    )
    table = drift.to_frame().sort_values("drift", ascending=False, kind="stable")
    table = table[
        [
            "feature",
            "test",
            "statistic",
            "p_value",
            "threshold",
            "effect_size",
            "effect_threshold",
            "drift",
        ]
    ]
    table["drift"] = table["drift"].map({True: "yes", False: "no"})
    formats = {
        "statistic": "{:.3g}".format,
        "p_value": "{:.3g}".format,
        "threshold": "{:.3g}".format,
        "effect_size": "{:.3f}".format,
        "effect_threshold": "{:.3f}".format,
    }
    out.write(_indent(table.to_string(index=False, formatters=formats), "     "))
    out.html("report", drift, anchor="drift")
    shown = drift.drifted_features
    out.figure(
        lambda: _figure_of(drift.plot()),
        f"Reference (training rows) against the batch for the {len(shown)} drifted features "
        f"({', '.join(shown)}): empirical CDFs of numeric features, shares of categories; "
        "each panel's title gives the test's effect size.",
    )
    out.html(
        "verdict",
        "Drift",
        (
            f"DRIFT in {len(shown)} of {drift.results['feature'].nunique()} features: "
            + ", ".join(shown)
            if drift.drift
            else "no drift"
        ),
        "drift",
        tone="bad" if drift.drift else "good",
    )

    # 5. explanations --------------------------------------------------------
    out.section(5, "Why: SHAP values of the whole pipeline, in the raw columns", "explain")
    from mlpipe.explain import PipelineExplainer

    explainer = PipelineExplainer(
        model, background=X_train, max_background=100, output="probability"
    )
    explanation = explainer.explain(X_test)
    importance = explanation.importance()
    out.say(
        f"{len(explanation)} holdout rows x {len(explanation.feature_names)} raw columns: "
        f"the {P_POSITIVE} explained by the {explanation.method} explainer (additivity error "
        f"{explanation.max_additivity_error:.1e} <= {explanation.tolerance:.0e})."
    )
    out.write(f"   global importance (mean |SHAP| on the {P_POSITIVE}):\n")
    width = max(len(str(f)) for f in importance.index)
    for feature, value in importance.items():
        out.write(f"     {feature:<{width}}  {value:.3f}  {'#' * round(value * 200)}\n")
    out.html(
        "table",
        importance.rename("mean |SHAP value|").reset_index(),
        caption=f"Global importance: mean |SHAP value| on the {P_POSITIVE}, per raw column",
    )
    out.figure(
        lambda: explanation.plot("beeswarm").figure,
        f"SHAP value of every raw column for each of the {len(explanation)} holdout applicants "
        f"(a dot per applicant; right of 0 raises the {P_POSITIVE}); colour is the column's value.",
    )
    for i in (0, 1):
        label = X_test.index[i]
        p_good = float(proba[i])
        out.write(f"   applicant {label}: {P_POSITIVE} {p_good:.2f}; top reasons:\n")
        out.html("paragraph", f"Applicant {label}: {P_POSITIVE} {p_good:.2f}; top reasons:")
        reasons = [
            _reason(feature, value, contribution)
            for feature, value, contribution in explanation.reasons(i, n=3)[
                ["feature", "value", "contribution"]
            ].itertuples(index=False)
        ]
        for reason in reasons:
            out.write(f"     - {reason}\n")
        out.html("items", reasons)
        out.figure(
            lambda i=i: _figure_of(explanation.plot("waterfall", row=i)),
            f"Why applicant {label} (holdout row {i}) gets a {P_POSITIVE} of {p_good:.2f}: from "
            "the average over the background, E[f(X)], each raw column's SHAP value moves it "
            "to f(x).",
        )

    if automl:
        out.section(
            6, f"AutoML: a {automl_minutes:g}-minute PipelineSearch on the raw frame", "automl"
        )
        from mlpipe.automl import PipelineSearch

        search = PipelineSearch(
            task="classification", max_time_mins=automl_minutes, random_state=seed, cv=3
        )
        search.fit(X_train, y_train)
        errors = int(search.results_["error"].notna().sum())
        out.say(
            f"{len(search.results_)} pipelines evaluated in "
            f"{search.search_seconds_:.0f} s ({errors} failed or timed out)."
        )
        out.say(f"Best (cross-validated ROC AUC {search.best_score_:.3f}):")
        for name, step in search.best_estimator_.steps:
            out.write(_indent(textwrap.fill(f"{name}: {step!r}", WIDTH - 5), "     "))
        auc = roc_auc_score(y_test, search.predict_proba(X_test)[:, 1])
        out.say(
            f"Holdout ROC AUC {auc:.3f} (hand-built pipeline above: "
            f"{roc_auc_score(y_test, proba):.3f})."
        )

    elapsed = time.perf_counter() - start
    out.write(f"\ndone in {elapsed:.1f} s\n")
    if report_path is not None:
        out.close(report_path, f"mlpipe {mlpipe.__version__}, seed {seed}, {elapsed:.1f} s")
        out.write(f"HTML report written to {report_path}\n")
    return 0


def _reason(feature, value, contribution):
    """One reason in the demo's words: ``"age = 66 raises the probability of
    good risk by 0.101"``."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        shown = "missing"
    else:
        shown = repr(value) if isinstance(value, str) else str(value)
    verb = "raises" if contribution > 0 else "lowers"
    return f"{feature} = {shown} {verb} the {P_POSITIVE} by {abs(contribution):.3f}"


def _figure_of(drawn):
    """The Figure of whatever a plot method returned (Axes, array of Axes)."""
    plt = import_optional("matplotlib.pyplot", purpose="the demo's HTML report")

    if hasattr(drawn, "figure"):
        return drawn.figure
    flat = np.ravel(drawn) if drawn is not None else []
    return flat[0].figure if len(flat) else plt.gcf()
