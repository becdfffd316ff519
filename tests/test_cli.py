import subprocess
import sys

from mlpipe.cli import main


def test_demo_prints_imputation_and_holdout_metrics(capsys):
    assert main(["demo", "--seed", "1"]) == 0
    out = capsys.readouterr().out
    assert "TypedImputer" in out
    assert "checking_account" in out
    for metric in ("precision", "recall", "F1", "ROC AUC"):
        assert metric in out
    auc = float(next(line for line in out.splitlines() if "ROC AUC" in line).split()[-1])
    assert 0.6 < auc <= 1.0


def test_no_command_prints_help(capsys):
    assert main([]) == 2
    assert "demo" in capsys.readouterr().out


def test_python_dash_m_is_the_same_command():
    out = subprocess.run(
        [sys.executable, "-m", "mlpipe", "--help"], capture_output=True, text=True, check=True
    )
    assert "usage: mlpipe" in out.stdout
