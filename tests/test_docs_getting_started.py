"""The getting-started example runs as written and shows only the real defects.

Issue 15: it loaded the training data with ``unknown_as_missing=True`` and
the batch without, so 218 of 500 rows failed on spurious unseen
categories ``'not_known'`` and the five real defects drowned in them.
"""

import re
from pathlib import Path

import pytest

from mlpipe.exceptions import DataValidationError

PAGE = Path(__file__).parents[1] / "docs" / "getting-started.md"


def code_block():
    text = PAGE.read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    (block,) = [b for b in blocks if "model.predict(batch.X)" in b]
    return block


def test_getting_started_names_exactly_the_injected_defects():
    namespace = {}
    with pytest.raises(DataValidationError) as info:
        exec(compile(code_block(), str(PAGE), "exec"), namespace)
    report = info.value.report
    batch = namespace["batch"]
    assert set(report.columns) == set(batch.defects["column"])
    injected = {r for rows in batch.defects["rows"] for r in rows}
    assert set(report.failing_rows) == injected
    assert all(f.severity == "error" for f in report.failures)
