import subprocess
import sys

import pytest

from mlpipe.cli import main
from mlpipe.datasets import make_credit_batch
from tests import _shared


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    """One demo run, with its HTML report, shared by the tests below (and
    by tests/test_demo_report.py)."""
    return _shared.demo(tmp_path_factory)


@pytest.fixture(scope="module")
def demo_output(demo_run):
    return demo_run[0]


def test_demo_evaluates_the_pipeline(demo_output):
    assert "SchemaValidator -> DriftMonitor -> TypedImputer" in demo_output
    assert "checking_account" in demo_output
    line = next(line for line in demo_output.splitlines() if "ROC AUC" in line)
    for metric in ("precision", "recall", "F1", "ROC AUC"):
        assert metric in line
    auc = float(line.split("ROC AUC")[1].split()[0])
    assert 0.6 < auc <= 1.0


def test_demo_audits_fairness_by_sex_and_age_band(demo_output):
    assert "by sex: four-fifths rule" in demo_output
    assert "by age band:" in demo_output
    for group in ("female", "male", "<25", "60+"):
        assert group in demo_output


def test_demo_validation_names_every_injected_defect(demo_output):
    section = demo_output.split("4. A production batch")[1].split("5. Why")[0]
    assert "refused it" in section
    truth = make_credit_batch(500, unknown_as_missing=True, random_state=1).defects
    for column in truth["column"]:
        assert column in section, column
    for check in ("unseen_category", "nulls", "out_of_range"):
        assert check in section
    assert "quarantined" in section


def test_demo_explains_globally_and_for_two_applicants(demo_output):
    section = demo_output.split("5. Why")[1]
    assert "additivity error" in section
    assert section.count("top reasons:") == 2
    assert section.count("     - ") == 6


def test_no_command_prints_help(capsys):
    assert main([]) == 2
    assert "demo" in capsys.readouterr().out


def test_python_dash_m_is_the_same_command():
    out = subprocess.run(
        [sys.executable, "-m", "mlpipe", "demo", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "usage: mlpipe demo" in out.stdout and "--automl" in out.stdout


def test_demo_reports_every_drifted_feature_with_its_test(demo_output):
    section = demo_output.split("4. A production batch")[1].split("5. Why")[0]
    drift = section.split("DriftMonitor")[1]
    assert "DriftWarning" in drift
    truth = make_credit_batch(500, unknown_as_missing=True, random_state=1).drifted
    # The table lists every test; its last column says which drifted.
    lines = drift.splitlines()
    head = next(i for i, line in enumerate(lines) if line.split()[:2] == ["feature", "test"])
    rows = [line.split() for line in lines[head + 1 :] if line.strip()]
    table = {row[0]: row[1] for row in rows if row[-1] == "yes"}
    assert set(table) == set(truth)
    assert table["purpose"] == "chi2" and table["age"] == "ks"


def test_demo_html_report_is_self_contained(demo_run):
    text, page = demo_run
    assert page.startswith("<!DOCTYPE html>")
    for heading in ("1. Fit one pipeline", "3. Fairness audit", "4. A production batch", "5. Why"):
        assert heading in page
    assert page.count('src="data:image/png;base64,') >= 6
    assert "http://" not in page and "https://" not in page  # nothing to fetch
    assert "<table" in page  # the reports' own HTML tables
    assert "HTML report written to" in text
