"""Bad input to ``mlpipe drift`` and ``mlpipe validate``, through the real command.

Every user error is one line on stderr naming the file and the problem, exit
code 2, never a traceback and never exit 1 (which means "found something").
Each case runs ``python -m mlpipe`` (the console script's entry point,
``mlpipe.cli:main``) in its own process with this checkout's ``src`` first:
forked from a process that has imported the command's modules once
(``tests/_cli.py``, which replays anything printed at import), except the
closed-pipe cases, which start the interpreter cold (what it does at exit
with a closed stdout is their subject).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mlpipe.datasets import load_credit, make_credit_batch
from tests import _cli

SRC = str(Path(__file__).resolve().parents[1] / "src")


def run(*args):
    return _cli.run(args, env={**os.environ, "PYTHONPATH": SRC}, timeout=300)


def assert_usage_error(result, *words):
    """Exit 2, nothing on stdout, one line on stderr containing ``words``."""
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    for word in words:
        assert word in lines[0], (word, lines[0])
    assert result.stdout == ""
    return lines[0]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bad")
    X, _ = load_credit(return_X_y=True)
    X.to_csv(folder / "ref.csv", index=False)
    (folder / "empty.csv").write_bytes(b"")
    X.iloc[:0].to_csv(folder / "header.csv", index=False)
    X[X.columns[::-1]].to_csv(folder / "reordered.csv", index=False)
    X.rename(columns={"age": "years"}).to_csv(folder / "renamed.csv", index=False)
    X.assign(extra=1).to_csv(folder / "extra.csv", index=False)
    X.drop(columns="age").to_csv(folder / "fewer.csv", index=False)
    X.assign(age="x" + X["age"].astype(str)).to_csv(folder / "dtype.csv", index=False)
    X.to_parquet(folder / "parquet.csv", index=False)
    (folder / "binary.csv").write_bytes(bytes(range(256)) * 8)
    (folder / "csv.parquet").write_bytes((folder / "ref.csv").read_bytes())
    X.iloc[:0].to_parquet(folder / "empty.parquet", index=False)
    (folder / "zero.parquet").write_bytes(b"")
    make_credit_batch(600, defects=False, random_state=2).X.to_csv(
        folder / "drifted.csv", index=False
    )
    (folder / "bad.json").write_text('{"columns": [')
    (folder / "other.json").write_text('{"hello": 1}')
    paths = {p.name: p for p in folder.iterdir()}
    paths["folder"] = folder
    return paths


BAD_FILES = [
    ("empty.csv", "the file is empty"),
    ("header.csv", "no rows"),
    ("parquet.csv", "Parquet file, not CSV"),
    ("binary.csv", "binary file"),
    ("csv.parquet", "not a Parquet file"),
    ("empty.parquet", "no rows"),
    ("zero.parquet", "the file is empty"),
    ("missing.csv", "no such file"),
]


@pytest.mark.parametrize("command", ["drift", "validate"])
@pytest.mark.parametrize(("name", "problem"), BAD_FILES)
def test_a_bad_current_file_is_a_usage_error_in_both_commands(data, command, name, problem):
    current = data["folder"] / name
    assert_usage_error(run(command, data["ref.csv"], current), name, problem)


@pytest.mark.parametrize("command", ["drift", "validate"])
def test_a_bad_reference_file_is_named_too(data, command):
    line = assert_usage_error(run(command, data["header.csv"], data["ref.csv"]), "header.csv")
    assert "no rows" in line


def test_a_csv_named_parquet_is_told_to_be_named_csv(data):
    line = assert_usage_error(run("drift", data["ref.csv"], data["csv.parquet"]))
    assert "looks like a CSV file" in line


def test_drift_names_columns_it_cannot_compare(data):
    line = assert_usage_error(
        run("drift", data["ref.csv"], data["renamed.csv"]), "renamed.csv", "'age'", "'years'"
    )
    assert "cannot be compared" in line
    assert_usage_error(run("drift", data["ref.csv"], data["extra.csv"]), "'extra'")
    assert_usage_error(run("drift", data["ref.csv"], data["fewer.csv"]), "lacks 'age'")
    # --columns compares only the columns both files have.
    result = run("drift", data["ref.csv"], data["renamed.csv"], "--columns", "sex,job")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def test_validate_reports_missing_and_extra_columns_as_findings(data):
    result = run("validate", data["ref.csv"], data["renamed.csv"])
    assert result.returncode == 1, result.stderr
    assert "missing_column" in result.stdout and "extra_column" in result.stdout
    assert "age" in result.stdout and "years" in result.stdout
    result = run("validate", data["ref.csv"], data["extra.csv"])
    assert result.returncode == 1 and "extra_column" in result.stdout


def test_a_changed_dtype(data):
    line = assert_usage_error(run("drift", data["ref.csv"], data["dtype.csv"]), "dtype.csv")
    assert "'age' was numeric" in line and "DriftDetector" not in line
    result = run("validate", data["ref.csv"], data["dtype.csv"])
    assert result.returncode == 1
    assert "dtype" in result.stdout and "age" in result.stdout


def test_a_reordered_file_is_matched_by_name_in_both_commands(data, tmp_path):
    result = run("drift", data["ref.csv"], data["reordered.csv"])
    assert result.returncode == 0, result.stderr
    schema = tmp_path / "schema.json"
    result = run("validate", data["ref.csv"], data["reordered.csv"], "--save-schema", schema)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("passed")
    assert run("validate", "--schema", schema, data["reordered.csv"]).returncode == 0
    # A schema that declares its order still checks it, as a whole-table
    # finding (not a failure "in column None").
    declared = json.loads(schema.read_text())
    declared["ordered"] = True
    schema.write_text(json.dumps(declared))
    result = run("validate", "--schema", schema, data["reordered.csv"])
    assert result.returncode == 1
    row = next(line for line in result.stdout.splitlines() if "column_order" in line)
    assert row.split()[0] == "(table)"


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["drift", "--alpha", "7"], ["--alpha", "7", "between 0 and 1"]),
        (["drift", "--alpha", "-3"], ["--alpha", "-3", "between 0 and 1"]),
        (["drift", "--alpha", "abc"], ["--alpha", "'abc' is not a number"]),
        (["validate", "--alpha", "7"], ["--alpha", "between 0 and 1"]),
        (["validate", "--warn-alpha", "2"], ["--warn-alpha", "2", "between 0 and 1"]),
        (["validate", "--alpha", "0.2"], ["--warn-alpha 0.1 is below --alpha 0.2"]),
        (["validate", "--tolerance", "3"], ["unrecognized arguments: --tolerance"]),
    ],
)
def test_bad_option_values(data, args, words):
    command, *options = args
    assert_usage_error(run(command, data["ref.csv"], data["ref.csv"], *options), *words)


def test_a_missing_or_invalid_schema_file(data):
    assert_usage_error(
        run("validate", "--schema", data["folder"] / "nope.json", data["ref.csv"]),
        "no such file",
        "nope.json",
    )
    assert_usage_error(
        run("validate", "--schema", data["bad.json"], data["ref.csv"]), "bad.json", "invalid JSON"
    )
    assert_usage_error(
        run("validate", "--schema", data["other.json"], data["ref.csv"]),
        "other.json",
        "not a valid mlpipe schema",
    )
    assert_usage_error(
        run("validate", "--schema", data["ref.csv"], data["ref.csv"]), "ref.csv", "not a schema"
    )


def test_an_unwritable_save_schema_path(data):
    target = data["folder"] / "no-such-folder" / "schema.json"
    assert_usage_error(
        run("validate", data["ref.csv"], data["ref.csv"], "--save-schema", target),
        "schema.json",
        "cannot write the schema",
    )
    assert_usage_error(
        run("validate", data["ref.csv"], data["ref.csv"], "--save-schema", data["folder"]),
        "cannot write the schema",
    )


@pytest.mark.parametrize(("current", "verdict"), [("drifted.csv", 1), ("ref.csv", 0)])
def test_a_closed_pipe_ends_quietly_with_the_verdict(data, current, verdict):
    # ``mlpipe drift ... | head -2`` where head has already gone: the read end
    # of the pipe is closed before the command writes anything.
    read, write = os.pipe()
    os.close(read)
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "mlpipe", "drift", str(data["ref.csv"]), str(data[current])],
            stdout=write,
            stderr=subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": SRC},
        )
    finally:
        os.close(write)
    _, err = process.communicate(timeout=300)
    assert err == b""
    assert process.returncode == verdict


def test_head_two_in_a_shell_pipeline(data):
    command = [
        sys.executable,
        "-m",
        "mlpipe",
        "drift",
        str(data["ref.csv"]),
        str(data["drifted.csv"]),
    ]
    result = subprocess.run(
        ["bash", "-c", 'set -o pipefail; "$@" | head -2', "sh", *command],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": SRC},
        timeout=300,
    )
    assert result.stderr == ""
    assert result.returncode == 1  # drift found, not a crash
    assert result.stdout.startswith("DRIFT") and len(result.stdout.splitlines()) == 2


def test_parquet_without_pyarrow_is_one_line_exit_2(data, monkeypatch, capsys):
    # In process: hiding an installed package from a subprocess is not simple.
    from mlpipe.cli import main

    monkeypatch.setitem(sys.modules, "pyarrow", None)
    assert main(["drift", str(data["empty.parquet"]), str(data["ref.csv"])]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "pyarrow" in err and "pip install" in err
