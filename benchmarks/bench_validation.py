"""SchemaValidator against pandera and against one plain pandas pass.

1,000,000 rows x 20 mixed columns: 10 float (5% missing), 4 int, 3 category,
2 text (pandas' default string dtype, 5% missing) and 1 bool. The validator is
fitted on the frame (schema inferred, outside the timing); the three sides
then check the same frame:

- mlpipe: ``SchemaValidator.transform`` (every check: columns, dtypes, nulls,
  ranges, categories, inf);
- pandera: the same constraints declared as a ``DataFrameSchema`` (dtype,
  nullable, ``in_range``, ``isin``), ``validate(lazy=True)``;
- pandas: ``isna().sum()``, ``min()`` and ``max()`` of the numeric columns,
  the floor of what any validator must read, as the issue asks;
- numpy: the same counts and extremes column by column on the underlying
  arrays, shown because pandas 3's frame-wide ``min``/``max`` over mixed
  dtypes is itself slow, so the pandas pass is a generous bar.

Goal: at most 2x the pandas pass and faster than pandera. Run with::

    pytest benchmarks/bench_validation.py --benchmark-only

and read the "medians and ratios" table at the end (ratio = median over
mlpipe's median).
"""

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pytest

from mlpipe.validation import SchemaValidator

N_ROWS = 1_000_000
GROUP = "validation: check 1M x 20 mixed"


@pytest.fixture(scope="module")
def frame():
    rng = np.random.default_rng(0)
    data = {}
    for i in range(10):
        values = rng.normal(50, 10, N_ROWS)
        values[rng.random(N_ROWS) < 0.05] = np.nan
        data[f"float{i}"] = values
    for i in range(4):
        data[f"int{i}"] = rng.integers(0, 1000, N_ROWS)
    for i in range(3):
        levels = [f"level_{k}" for k in range(10)]
        data[f"cat{i}"] = pd.Categorical.from_codes(rng.integers(0, 10, N_ROWS), levels)
    for i in range(2):
        levels = np.array([f"city_{k}" for k in range(50)], dtype=object)
        values = levels[rng.integers(0, 50, N_ROWS)]
        values[rng.random(N_ROWS) < 0.05] = None
        data[f"text{i}"] = pd.array(values, dtype="str")
    data["flag"] = rng.random(N_ROWS) < 0.5
    return pd.DataFrame(data)


@pytest.fixture(scope="module")
def validator(frame):
    return SchemaValidator().fit(frame)


def pandera_schema(schema):
    """The constraints of an mlpipe schema, declared in pandera."""
    columns = {}
    for col in schema.columns:
        checks = []
        low, high = col.bounds()
        if col.kind == "numeric" and low is not None:
            checks.append(pa.Check.in_range(low, high))
        if col.categories is not None:
            checks.append(pa.Check.isin(col.categories))
        dtype = "category" if col.dtype == "category" else col.dtype
        columns[col.name] = pa.Column(dtype, checks=checks, nullable=col.nullable)
    return pa.DataFrameSchema(columns, strict=True, ordered=True)


def plain_pandas_pass(frame):
    return (
        frame.isna().sum(),
        frame.min(numeric_only=True),
        frame.max(numeric_only=True),
    )


@pytest.mark.benchmark(group=GROUP)
def test_schema_validator(benchmark, frame, validator):
    benchmark.extra_info["role"] = "mlpipe"
    out = benchmark.pedantic(validator.transform, args=(frame,), rounds=5, iterations=1)
    assert validator.last_report_.passed
    assert out.shape == frame.shape


@pytest.mark.benchmark(group=GROUP)
def test_pandera(benchmark, frame, validator):
    benchmark.extra_info["role"] = "peer"
    schema = pandera_schema(validator.schema_)
    out = benchmark.pedantic(
        schema.validate, args=(frame,), kwargs={"lazy": True}, rounds=2, iterations=1
    )
    assert out.shape == frame.shape


@pytest.mark.benchmark(group=GROUP)
def test_plain_pandas_pass(benchmark, frame):
    benchmark.extra_info["role"] = "peer"
    nulls, low, high = benchmark.pedantic(plain_pandas_pass, args=(frame,), rounds=5, iterations=1)
    assert len(nulls) == frame.shape[1]
    assert (low <= high).all()


def numpy_pass(frame):
    out = {}
    for name in frame.columns:
        s = frame[name]
        if isinstance(s.dtype, np.dtype) and s.dtype.kind in "iuf":
            values = s.to_numpy()
            out[name] = (
                int(np.isnan(values).sum()) if values.dtype.kind == "f" else 0,
                np.fmin.reduce(values),
                np.fmax.reduce(values),
            )
        else:
            out[name] = (int(s.isna().sum()),)
    return out


@pytest.mark.benchmark(group=GROUP)
def test_numpy_pass(benchmark, frame):
    benchmark.extra_info["role"] = "peer"
    out = benchmark.pedantic(numpy_pass, args=(frame,), rounds=5, iterations=1)
    assert len(out) == frame.shape[1]


def test_same_verdict_on_a_broken_batch(frame, validator):
    """Both validators find the same rows when the batch is broken."""
    broken = frame.iloc[:50_000].copy()
    broken.loc[broken.index[[3, 70]], "int0"] = 5000
    broken.loc[broken.index[[11]], "cat1"] = np.nan
    broken["cat1"] = broken["cat1"].cat.add_categories(["new"])
    broken.loc[broken.index[[12, 13]], "cat1"] = "new"
    report = validator.schema_.validate(broken)
    ours = {(f.column, r) for f in report.failures for r in f.rows}
    with pytest.raises(pa.errors.SchemaErrors) as info:
        pandera_schema(validator.schema_).validate(broken, lazy=True)
    cases = info.value.failure_cases
    theirs = {(c, int(i)) for c, i in zip(cases["column"], cases["index"], strict=True)}
    assert ours == theirs == {("int0", 3), ("int0", 70), ("cat1", 11), ("cat1", 12), ("cat1", 13)}
