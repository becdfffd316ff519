"""Schema and Column: inference against direct computation, bounds, JSON."""

import json

import numpy as np
import pandas as pd
import pytest

from mlpipe.datasets import load_credit
from mlpipe.exceptions import DataQualityWarning
from mlpipe.validation import Column, Schema


def is_positive(values):
    """A module-level user check, so that it can travel as JSON."""
    return values > 0


def test_infer_matches_direct_computation():
    X, _ = load_credit(return_X_y=True, unknown_as_missing=True)
    learned = Schema.infer(X)
    schema = learned.as_rules(tolerance=0.1, null_tolerance=0.05)
    assert schema.names == list(X.columns)
    for name in X.columns:
        col, s = schema[name], X[name]
        n_null = sum(1 for v in s.tolist() if v is None or v != v)
        assert col.null_rate == n_null / len(s)
        assert learned[name].n_train == len(s) and learned[name].n_null_train == n_null
        assert learned[name].nullable and col.n_train is None
        assert col.nullable == (n_null > 0)
        assert col.max_null_rate == (n_null / len(s) + 0.05 if n_null else None)
        assert col.dtype == str(s.dtype)
        assert col.tolerance == 0.1
        if name in ("job", "credit_amount", "duration", "age"):
            values = s.tolist()
            assert (col.kind, col.min, col.max) == ("numeric", min(values), max(values))
            assert type(col.min) is int
            assert col.categories is None
        else:
            assert col.kind == "categorical"
            assert col.categories == list(s.cat.categories)
            assert col.min is None
    assert schema["checking_account"].nullable
    assert not schema["age"].nullable


def test_infer_text_and_mixed_columns():
    X = pd.DataFrame(
        {
            "city": pd.Series(["Rome", "Oslo", None, "Oslo"]),  # default text dtype: str or object
            "mixed": pd.Series(["a", 1, 2.5, None], dtype=object),
            "when": pd.to_datetime(["2024-01-01", "2024-03-01", None, "2024-02-01"]),
            "flag": [True, False, True, True],
            "x": [0.5, np.nan, 1.5, -2.0],
        }
    )
    schema = Schema.infer(X)
    assert schema["city"].categories == ["Oslo", "Rome"]
    assert schema["mixed"].categories == ["a", 1, 2.5]  # no order across types
    assert schema["when"].kind == "datetime"
    assert schema["when"].min == pd.Timestamp("2024-01-01")
    assert schema["when"].max == pd.Timestamp("2024-03-01")
    assert schema["flag"].kind == "boolean"
    assert (schema["x"].min, schema["x"].max) == (-2.0, 1.5)
    assert schema["x"].null_rate == 0.25


def test_infer_learns_inf_as_allowed_with_a_warning():
    X = pd.DataFrame({"x": [1.0, np.inf, 3.0], "y": [1.0, 2.0, 3.0]})
    with pytest.warns(DataQualityWarning, match="'x'"):
        schema = Schema.infer(X)
    assert schema["x"].allow_inf
    assert (schema["x"].min, schema["x"].max) == (1.0, 3.0)
    assert not schema["y"].allow_inf


def test_infer_takes_a_dataframe():
    with pytest.raises(TypeError, match="DataFrame"):
        Schema.infer(np.zeros((3, 2)))


@pytest.mark.parametrize(
    "low, high, tolerance, expected",
    [
        (10, 20, 0.0, (10.0, 20.0)),
        (10, 20, 0.5, (5.0, 25.0)),
        (2, 12, 0.5, (0.0, 17.0)),  # never widened below zero
        (0, 4, 1.0, (0.0, 8.0)),
        (-2, 2, 0.25, (-3.0, 3.0)),  # a column that had negatives keeps going
        (None, 5, 0.5, (None, 5.0)),
    ],
)
def test_bounds(low, high, tolerance, expected):
    assert Column("x", min=low, max=high, tolerance=tolerance).bounds() == expected


def test_datetime_bounds():
    col = Column(
        "t",
        kind="datetime",
        min=pd.Timestamp("2024-01-01"),
        max=pd.Timestamp("2024-01-11"),
        tolerance=0.1,
    )
    assert col.bounds() == (pd.Timestamp("2023-12-31"), pd.Timestamp("2024-01-12"))


def declared_schema():
    return Schema(
        columns=[
            Column("id", kind="numeric", dtype="int64", nullable=False, unique=True),
            Column(
                "amount",
                dtype="float64",
                min=0.1 + 0.2,
                max=1e300,
                tolerance=0.25,
                checks=(is_positive,),
                allow_inf=True,
            ),
            Column(
                "email",
                kind="categorical",
                regex=r"[^@]+@[^@]+",
                null_rate=0.125,
                max_null_rate=0.2,
            ),
            Column("tier", kind="categorical", categories=["a", 1, 2.5, True]),
            Column(
                "when",
                kind="datetime",
                min=pd.Timestamp("2024-01-01 10:00", tz="UTC"),
                max=pd.Timestamp("2024-06-01"),
            ),
            Column("wait", kind="datetime", min=pd.Timedelta("1h"), max=pd.Timedelta("3D")),
            Column(7, kind="numeric", min=-np.inf, max=np.inf),
        ],
        strict=False,
        ordered=False,
        key=["id", 7],
    )


def test_json_round_trip_is_exact():
    schema = declared_schema()
    text = schema.to_json()
    back = Schema.from_json(text)
    assert back == schema
    assert back.to_json() == text
    for a, b in zip(schema.columns, back.columns, strict=True):
        for name in ("name", "min", "max"):
            assert type(getattr(a, name)) is type(getattr(b, name))
        assert a.categories == b.categories
        if a.categories:
            assert [type(v) for v in a.categories] == [type(v) for v in b.categories]
    assert back["amount"].checks == (is_positive,)
    assert back["amount"].min == 0.30000000000000004
    assert back.key == ["id", 7]


def test_json_of_an_inferred_schema():
    X, _ = load_credit(return_X_y=True, unknown_as_missing=True)
    schema = Schema.infer(X, key=["age", "job"])
    assert Schema.from_json(schema.to_json(indent=2)) == schema
    assert json.loads(schema.to_json())["format"] == "mlpipe.validation.Schema/1"


def test_lambda_check_cannot_travel_as_json():
    schema = Schema([Column("x", checks=(lambda s: s > 0,))])
    with pytest.raises(ValueError, match=r"'x'.*module-level"):
        schema.to_json()


def test_from_json_rejects_other_documents():
    with pytest.raises(ValueError, match="Not an mlpipe schema"):
        Schema.from_json('{"columns": []}')


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"kind": "text"}, ValueError, "kind must be one of"),
        ({"tolerance": -1}, ValueError, "tolerance"),
        ({"checks": ("not callable",)}, TypeError, "callables"),
    ],
)
def test_column_rejects_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        Column("x", **kwargs)


def test_schema_rejects_bad_arguments():
    with pytest.raises(ValueError, match="duplicate column names"):
        Schema([Column("x"), Column("x")])
    with pytest.raises(ValueError, match=r"key names column\(s\) \['z'\]"):
        Schema([Column("x")], key="z")
    with pytest.raises(TypeError, match="Column objects"):
        Schema(["x"])
    with pytest.raises(KeyError, match="'nope'"):
        Schema([Column("x")])["nope"]


def test_copy_is_independent():
    schema = declared_schema()
    other = schema.copy()
    other["tier"].categories.append("new")
    assert "new" not in schema["tier"].categories
    assert other["amount"].checks[0] is is_positive
