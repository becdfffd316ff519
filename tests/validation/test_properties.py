"""Properties over random frames: a learned schema accepts the data it was
learned from, travels through JSON exactly, and finds every injected defect."""

import warnings

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import pandas as hpd

from mlpipe.exceptions import DataQualityWarning
from mlpipe.validation import Schema

frames = hpd.data_frames(
    [
        hpd.column("f", dtype=float, elements=st.floats(-1e6, 1e6) | st.just(np.nan)),
        hpd.column("i", dtype=np.int64, elements=st.integers(-1000, 1000)),
        hpd.column("s", elements=st.sampled_from(["a", "b", "c", None])),
        hpd.column("b", dtype=bool),
    ],
    index=hpd.range_indexes(min_size=1, max_size=30),
)


@settings(max_examples=60, deadline=None)
@given(frames, st.floats(0, 1))
def test_learned_schema_accepts_its_training_data(df, tolerance):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        schema = Schema.infer(df)
    report = schema.validate(df)
    assert not report.failures, report.message()  # not even a warning
    assert Schema.from_json(schema.to_json()) == schema
    rules = schema.as_rules(tolerance=tolerance)
    assert rules.validate(df).passed
    assert Schema.from_json(rules.to_json()) == rules


@settings(max_examples=60, deadline=None)
@given(frames, st.data())
def test_an_out_of_range_value_is_always_found(df, data):
    schema = Schema.infer(df).as_rules(tolerance=0.25)
    row = data.draw(st.integers(0, len(df) - 1))
    _, high = schema["i"].bounds()
    batch = df.copy()
    batch.loc[row, "i"] = int(np.floor(high)) + 1
    report = schema.validate(batch)
    assert list(report.rows_of("i", "out_of_range")) == [row]
    assert [f.check for f in report.failures] == ["out_of_range"]
