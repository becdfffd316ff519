"""``mlpipe drift`` and ``mlpipe validate`` over files, as cron or CI would run them."""

import json

import pytest

from mlpipe.cli import main
from mlpipe.datasets import load_credit, make_credit_batch


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("data")
    X, _ = load_credit(return_X_y=True)
    paths = {
        "reference": folder / "reference.csv",
        "drifted": folder / "drifted.csv",
        "clean": folder / "clean.csv",
        "broken": folder / "broken.csv",
        "parquet": folder / "drifted.parquet",
    }
    X.to_csv(paths["reference"], index=False)
    drifted = make_credit_batch(600, defects=False, random_state=2)
    drifted.X.to_csv(paths["drifted"], index=False)
    drifted.X.to_parquet(paths["parquet"], index=False)
    make_credit_batch(600, drift=False, defects=False, random_state=2).X.to_csv(
        paths["clean"], index=False
    )
    broken = make_credit_batch(600, drift=False, random_state=2)
    broken.X.to_csv(paths["broken"], index=False)
    return paths, drifted.drifted, broken.defects


def test_drift_exits_1_and_names_the_drifted_columns(files, capsys):
    paths, drifted, _ = files
    assert main(["drift", str(paths["reference"]), str(paths["drifted"])]) == 1
    out = capsys.readouterr().out
    assert out.startswith("DRIFT")
    for column in drifted:
        assert column in out.splitlines()[0]


def test_drift_exits_0_on_a_clean_batch(files, capsys):
    paths, _, _ = files
    assert main(["drift", str(paths["reference"]), str(paths["clean"])]) == 0
    assert "no drift" in capsys.readouterr().out.lower()


def test_drift_json_parquet_columns_and_no_fail(files, capsys):
    paths, _, _ = files
    code = main(
        [
            "drift",
            str(paths["reference"]),
            str(paths["parquet"]),
            "--format",
            "json",
            "--columns",
            "age,sex",
            "--no-fail-on-drift",
        ]
    )
    assert code == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["feature"] for r in rows} == {"age", "sex"}
    assert any(r["feature"] == "age" and r["drift"] for r in rows)


def test_validate_reports_every_defect_and_round_trips_the_schema(files, tmp_path, capsys):
    paths, _, defects = files
    schema = tmp_path / "schema.json"
    code = main(
        ["validate", str(paths["reference"]), str(paths["broken"]), "--save-schema", str(schema)]
    )
    assert code == 1
    out = capsys.readouterr().out
    # Learned from a CSV, purpose and housing are text: a new category seen
    # 4 (or 2) times in 600 rows after 1000 is not improbable, nor are 5
    # missing amounts. The impossible age and the negative durations are.
    assert "age" in out and "duration" in out
    assert main(["validate", "--schema", str(schema), str(paths["broken"])]) == 1
    assert capsys.readouterr().out == out
    # What the user knows, declared in the saved schema: closed categories
    # and a required amount. Then every defect is an error.
    data = json.loads(schema.read_text())
    for column in data["columns"]:
        if column["name"] in ("purpose", "housing"):
            column["category_counts"] = None
        if column["name"] == "credit_amount":
            column["nullable"] = False
    declared = tmp_path / "declared.json"
    declared.write_text(json.dumps(data))
    assert main(["validate", "--schema", str(declared), str(paths["broken"])]) == 1
    out = capsys.readouterr().out
    for column in defects["column"]:
        assert column in out
    assert main(["validate", "--schema", str(schema), str(paths["clean"])]) == 0
    assert "passed" in capsys.readouterr().out


def test_usage_errors_exit_2_and_say_what(files, capsys):
    paths, _, _ = files
    assert main(["drift", str(paths["reference"]), "nope.csv"]) == 2
    assert "no such file: nope.csv" in capsys.readouterr().err
    assert (
        main(["drift", str(paths["reference"]), str(paths["reference"]).replace(".csv", ".xlsx")])
        == 2
    )
    assert main(["drift", str(paths["reference"]), str(paths["clean"]), "--columns", "zzz"]) == 2
    assert "zzz" in capsys.readouterr().err
    assert main(["validate", str(paths["clean"])]) == 2
    assert "--schema" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main(["drift", "--help"])
    assert info.value.code == 0
    assert "exit with 1 when the batch drifted" in " ".join(capsys.readouterr().out.split())
