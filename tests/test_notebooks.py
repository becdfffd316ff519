"""Every notebook in notebooks/ runs from top to bottom, and says what it shows.

The notebooks are for users: they hold no test-style ``assert``. The checks
live here instead: each is run in the notebook's own kernel, right after the
cell it checks (found by a line of its source), so it sees the variables as
the reader does at that point. ``quickstart.ipynb`` is stored with its
outputs (the docs session re-executes it); the others are stored without.
"""

import ast
import os
import textwrap
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

FOLDER = Path(__file__).parents[1] / "notebooks"
NOTEBOOKS = sorted(FOLDER.glob("*.ipynb"))
STORED_WITH_OUTPUTS = {"quickstart.ipynb"}

# notebook -> [(a line of the cell to check, the check run right after it)]
CHECKS = {
    "01_validation.ipynb": [
        (
            'quality = check_data_quality(X_train.assign(risk=y_train), target="risk")',
            textwrap.dedent(
                """\
            assert quality.passed and leakage.passed
            """
            ),
        ),
        (
            'print(f"holdout accuracy: {model.score(X_test, y_test):.3f}")',
            textwrap.dedent(
                """\
            assert validator.last_report_.passed
            """
            ),
        ),
        (
            "except DataValidationError as error:\n    report = error.report",
            textwrap.dedent(
                """\
            assert "report" in globals(), "the broken batch was scored without complaint"
            """
            ),
        ),
        (
            "reported = {column: set(report.rows_of(column))",
            textwrap.dedent(
                """\
            injected = set()
            for column, rows in zip(batch.defects["column"], batch.defects["rows"], strict=True):
                found = set(report.rows_of(column))
                assert set(rows) <= found, (column, sorted(set(rows) - found))
                injected |= set(rows)
            assert set(report.failing_rows) == injected
            """
            ),
        ),
        (
            'model.set_params(schemavalidator__on_error="drop_rows")',
            textwrap.dedent(
                """\
            assert dropped == len(report.failing_rows)
            assert len(predictions) == len(batch.X) - dropped
            assert any("dropped" in str(w.message) for w in caught)
            """
            ),
        ),
        (
            "quiet = validator_only.last_report_",
            textwrap.dedent(
                """\
            assert len(quiet.failing_rows) <= 0.01 * len(drifted.X)
            assert set(quiet.columns) <= {"credit_amount"}
            """
            ),
        ),
    ],
    "02_imputation.ipynb": [
        (
            "good_rate = y.groupby(",
            textwrap.dedent(
                """\
            assert good_rate[True] > good_rate[False] + 0.2
            """
            ),
        ),
        (
            'SimpleImputer(strategy="median").fit(X_train)',
            textwrap.dedent(
                """\
            try:
                SimpleImputer(strategy="median").fit(X_train)
            except ValueError:
                pass
            else:
                raise AssertionError("expected SimpleImputer to refuse the text columns")
            """
            ),
        ),
        (
            'filled.dtypes.to_frame("dtype").T',
            textwrap.dedent(
                """\
            assert filled.notna().all().all()
            assert (filled[X.columns].dtypes == X.dtypes).all()
            assert list(filled.columns[len(X.columns) :]) == [
                "missingindicator_saving_accounts",
                "missingindicator_checking_account",
            ]
            unknown = X_test["checking_account"].isna()
            assert (filled["missingindicator_checking_account"] == unknown).all()
            """
            ),
        ),
        (
            'model = credit_model("auto").fit(X_train, y_train)',
            textwrap.dedent(
                """\
            assert auc["auto"] > auc[False] + 0.03
            """
            ),
        ),
        (
            "batch = make_credit_batch(unknown_as_missing=True)",
            textwrap.dedent(
                """\
            assert X_train["credit_amount"].notna().all()
            assert batch.X.loc[gaps, "credit_amount"].isna().all()
            assert (filled_batch.loc[gaps, "credit_amount"] == median).all()
            """
            ),
        ),
        (
            'group_imputer = GroupImputer(by="job").fit(X_train)',
            textwrap.dedent(
                """\
            by_group = side_by_side["GroupImputer(by='job')"]
            assert (by_group == side_by_side["job"].map(job_medians)).all()
            """
            ),
        ),
        (
            "# The fix the message suggests:",
            textwrap.dedent(
                """\
            try:
                fitted.transform(broken)
            except ValueError as error:
                assert "credit_amount" in str(error)
            else:
                raise AssertionError("expected TypedImputer to refuse infinity")
            assert (repaired["credit_amount"].iloc[:2] == median).all()
            """
            ),
        ),
    ],
    "03_drift.ipynb": [
        (
            "holdout_report = monitor.last_report_",
            textwrap.dedent(
                """\
            assert not holdout_report.drift and not clean_report.drift
            assert alerts == []
            """
            ),
        ),
        (
            'table = report.to_frame().set_index(["feature", "test"])',
            textwrap.dedent(
                """\
            assert report.drift
            assert sorted(report.drifted_features) == sorted(batch.drifted)
            assert len(alerts) == 1 and alerts[0] is report
            assert monitor.history_[-1] is report and len(monitor.history_) == 3
            assert validator.last_report_.n_dropped == 16
            assert report.n_batch == len(batch.X) - 16 == len(predictions)
            assert table.loc[("age", "ks"), "drift"] and table.loc[("purpose", "chi2"), "drift"]
            assert ("job", "chi2") in table.index  # four skill levels: chi-square, not KS
            """
            ),
        ),
        (
            "valid_rows = batch.X.drop(index=validator.last_report_.failing_rows)",
            textwrap.dedent(
                """\
            assert sex["p_value"] < sex["threshold"]  # significant ...
            assert sex["effect_size"] < sex["effect_threshold"]  # ... but small
            assert set(p_values_only.drifted_features) == set(batch.drifted) | {"sex"}
            """
            ),
        ),
    ],
    "04_fairness.ipynb": [
        (
            "bias.groups",
            textwrap.dedent(
                """\
            from mlpipe.fairness import demographic_parity_difference
            assert not bias.findings["flagged"].any()
            """
            ),
        ),
        (
            'dp = audit.disparities.loc["demographic_parity_difference"]',
            textwrap.dedent(
                """\
            assert not audit.four_fifths_passed
            assert dp["value"] > 0.15 and dp["ci_low"] > 0.05
            rates = audit.by_group["selection_rate"]
            assert rates["female"] < rates["male"]
            """
            ),
        ),
        (
            'models["group thresholds"].thresholds_',
            textwrap.dedent(
                """\
            base_dp = comparison.loc["baseline", "DP difference"]
            base_accuracy = comparison.loc["baseline", "accuracy"]
            for name in ("reweighing", "group thresholds"):
                assert comparison.loc[name, "DP difference"] <= base_dp / 2, name
                assert comparison.loc[name, "impact ratio"] >= 0.8, name
                assert comparison.loc[name, "accuracy"] >= base_accuracy - 0.05, name
            assert (
                demographic_parity_difference(
                    y_test, models["reweighing"].predict(X_test), sensitive_features="sex", X=X_test
                )
                == comparison.loc["reweighing", "DP difference"]
            )
            """
            ),
        ),
        (
            'senior = by_age.by_group.loc["60+"]',
            textwrap.dedent(
                """\
            assert by_age.small_groups == ["60+"]
            assert any("60+" in str(w.message) for w in caught)
            assert not by_age.four_fifths_passed
            assert n_senior == selected == 14
            assert abs(ci["ci_low"] - wilson.low) < 1e-12 and ci["ci_high"] == wilson.high == 1.0
            assert wilson.low < 0.8
            assert rates["<25"] / rates["40-59"] < 0.8
            """
            ),
        ),
    ],
    "05_explain.ipynb": [
        (
            "proba = model.predict_proba(X_test)[:, 1]",
            textwrap.dedent(
                """\
            assert explainer.method_ == "tree" and explainer.output_ == "probability"
            assert explanation.feature_names == list(X.columns)
            assert explanation.values.shape == (len(X_test), X.shape[1])
            np.testing.assert_allclose(
                explanation.base_values + explanation.values.sum(axis=1), proba, atol=1e-6
            )
            """
            ),
        ),
        (
            'checking = explanation.values[:, explanation.feature_names.index("checking_account")]',
            textwrap.dedent(
                """\
            assert checking[unknown].mean() > 0 > checking[~unknown].mean()
            """
            ),
        ),
        (
            'reasons = explanation.reasons(worst, n=3, direction="down")',
            textwrap.dedent(
                """\
            assert (reasons["contribution"] < 0).all()
            assert reasons["contribution"].is_monotonic_increasing  # most negative first
            """
            ),
        ),
        (
            "class Collect(logging.Handler):",
            textwrap.dedent(
                """\
            assert (decisions == model.predict(X_test.iloc[:3])).all()
            assert len(collect.records) == 3
            """
            ),
        ),
        (
            "PCA(n_components=5, random_state=0),",
            textwrap.dedent(
                """\
            try:
                PipelineExplainer(mixed, background=X_train, method="tree")
            except FoldingError:
                pass
            else:
                raise AssertionError("PCA cannot be folded back into raw columns")
            fallback = PipelineExplainer(mixed, background=X_train, max_background=20)
            assert fallback.method_ == "kernel"
            """
            ),
        ),
    ],
    "06_automl.ipynb": [
        (
            "best = search.best_estimator_",
            textwrap.dedent(
                """\
            import numpy as np
            from sklearn.metrics import accuracy_score
            from sklearn.pipeline import Pipeline
            assert isinstance(best, Pipeline)
            packages = {type(step).__module__.split(".")[0] for _, step in best.steps}
            assert packages <= {"mlpipe", "sklearn"}
            assert search.best_score_ == search.results_[score].max()
            assert auc > 0.75
            """
            ),
        ),
        (
            'with_indicator = search.results_["pipeline"].str.contains("add_indicator=\'auto\'")',
            textwrap.dedent(
                """\
            assert with_indicator.any() and (~with_indicator).any()
            assert scores[with_indicator].min() > scores[~with_indicator].max()
            assert best.named_steps["typedimputer"].add_indicator == "auto"
            """
            ),
        ),
        (
            "script = search.export()",
            textwrap.dedent(
                """\
            expected = search.predict_proba(X_test)
            np.testing.assert_array_equal(rebuilt.predict_proba(X_test), expected)
            """
            ),
        ),
        (
            "holdout_score = search.score(X_test, y_test)",
            textwrap.dedent(
                """\
            assert holdout_score == accuracy_score(y_test, search.predict(X_test))
            assert holdout_score != auc
            """
            ),
        ),
    ],
    "quickstart.ipynb": [
        (
            "validator.transform(X_test)",
            textwrap.dedent(
                """\
                assert validator.last_report_.passed
                """
            ),
        ),
        (
            "    failures = error.report",
            textwrap.dedent(
                """\
                injected = {r for rows in batch.defects["rows"] for r in rows}
                assert set(failures.columns) == set(batch.defects["column"])
                assert set(failures.failing_rows) == injected
                """
            ),
        ),
        (
            'imputer = TypedImputer(add_indicator="auto").fit(X_train)',
            textwrap.dedent(
                """\
                filled = imputer.transform(X_test)
                assert filled.notna().all().all()
                assert (filled[X.columns].dtypes == X.dtypes).all()
                """
            ),
        ),
        (
            "y_pred = model.predict(X_test)",
            textwrap.dedent(
                """\
                assert model.score(X_test, y_test) > 0.65 and auc > 0.7
                """
            ),
        ),
        (
            "audit = audit_fairness(",
            textwrap.dedent(
                """\
                groups = set(audit.by_group.index)
                assert groups == {"female", "male"}
                assert "demographic_parity_difference" in audit.disparities.index
                """
            ),
        ),
        (
            "drift = detector.detect(later.X)",
            textwrap.dedent(
                """\
                assert sorted(drift.drifted_features) == sorted(later.drifted)
                """
            ),
        ),
        (
            "model.predict(later.X)",
            textwrap.dedent(
                """\
                assert [w.category.__name__ for w in caught] == ["DriftWarning"]
                """
            ),
        ),
        (
            "explanation = explainer.explain(applicant)",
            textwrap.dedent(
                """\
                import numpy as np

                total = explanation.base_values + explanation.values.sum(axis=1)
                np.testing.assert_allclose(total, model.predict_proba(applicant)[:, 1], atol=1e-6)
                assert explanation.feature_names == list(X.columns)
                """
            ),
        ),
    ],
}


def _with_checks(nb, name):
    """The notebook with each check inserted as a cell after the cell it checks."""
    cells = list(nb.cells)
    for anchor, check in CHECKS.get(name, []):
        hits = [i for i, c in enumerate(cells) if c.cell_type == "code" and anchor in c.source]
        assert len(hits) == 1, f"{name}: {anchor!r} is in {len(hits)} cells, not one"
        cell = nbformat.v4.new_code_cell(check)
        cell.metadata["mlpipe_check"] = True
        cells.insert(hits[0] + 1, cell)
    nb.cells = cells
    return nb


def _errors(nb):
    return [
        (cell.source, out.get("ename"), out.get("evalue"))
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.outputs
        if out.output_type == "error"
    ]


def test_there_are_notebooks_and_checks_for_each():
    assert NOTEBOOKS
    assert {p.name for p in NOTEBOOKS} == set(CHECKS)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_user_notebooks_hold_no_test_asserts(path):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        tree = ast.parse(cell.source)
        found = [
            ast.unparse(node)
            for node in ast.walk(tree)
            if isinstance(node, ast.Assert)
            or (isinstance(node, ast.Attribute) and node.attr.startswith("assert_"))
            or (isinstance(node, ast.Name) and node.id == "AssertionError")
        ]
        assert not found, f"{path.name}: move these checks to tests/test_notebooks.py: {found}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_stored_outputs(path):
    nb = nbformat.read(path, as_version=4)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    if path.name in STORED_WITH_OUTPUTS:
        # Executed top to bottom in one run, every cell, without an error.
        assert [cell.execution_count for cell in code] == list(range(1, len(code) + 1)), (
            f"{path.name}: execute it in order and store it (nox -s notebooks)"
        )
        assert not _errors(nb)
    else:
        assert all(not cell.get("outputs") for cell in code), f"{path.name}: strip its outputs"


def _kernel_env():
    """The kernel's environment: this process's; under pytest-xdist, with
    OpenMP threads of the worker's share of the cores (unless set), as
    tests/conftest.py gives the workers: two workers' two OpenMP threads on
    two cores busy-wait for each other (06_automl.ipynb sets one thread for
    its readers for that reason)."""
    env = dict(os.environ)
    workers = env.get("PYTEST_XDIST_WORKER_COUNT")
    if workers is not None:
        env.setdefault("OMP_NUM_THREADS", str(max(os.cpu_count() // int(workers), 1)))
    return env


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_and_its_checks_pass(path):
    nb = _with_checks(nbformat.read(path, as_version=4), path.name)
    client = NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    client.execute(env=_kernel_env())
    assert not _errors(nb)
    # Every check ran (a failed assert stops the kernel's run with an error).
    ran = [c for c in nb.cells if c.metadata.get("mlpipe_check") and c.execution_count]
    assert len(ran) == len(CHECKS[path.name])
