"""The windowed DriftMonitor's one-row path (issue 16: <= 0.05 ms a row)
gives what the general path gives.

Rows of one set of dtypes are copied into growing per-column arrays
(categorical columns as their codes) and joined once per window; the
oracle is the monitor's own detector on the same rows concatenated by
pandas, ``detector_.detect(pd.concat(rows))``, and the same rows sent as one
batch per window. Bad rows are refused at their call, as in a batch, and
leave the open window as it was.
"""

import warnings

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from pandas.testing import assert_frame_equal

from mlpipe.datasets import load_credit
from mlpipe.drift import DriftMonitor

WINDOW = 40
TRUSTED = ("mlpipe.", "numpy.", "sklearn.")


@pytest.fixture(scope="module")
def credit():
    X, _ = load_credit(return_X_y=True, unknown_as_missing=True)
    return X


def _same_report(a, b):
    assert_frame_equal(a.to_frame(), b.to_frame())
    assert a.drift == b.drift and a.n_batch == b.n_batch


def _fed(X, rows, window=WINDOW):
    monitor = DriftMonitor(window=window, warn=False).fit(X)
    for row in rows:
        monitor.transform(row)
    return monitor


def test_one_row_calls_equal_one_batch_per_window(credit):
    X = credit
    rows = [X.iloc[[i]] for i in range(3 * WINDOW + 7)]  # labels shared by iloc
    per_row = _fed(X, rows)
    per_batch = _fed(X, [X.iloc[i : i + WINDOW] for i in range(0, 3 * WINDOW, WINDOW)])
    per_batch.transform(X.iloc[3 * WINDOW : 3 * WINDOW + 7])
    assert len(per_row.history_) == len(per_batch.history_) == 3
    for a, b in zip(per_row.history_, per_batch.history_, strict=True):
        _same_report(a, b)
    for k, report in enumerate(per_row.history_):
        _same_report(report, per_row.detector_.detect(X.iloc[k * WINDOW : (k + 1) * WINDOW]))
    assert_frame_equal(per_row._buffer.frame(), per_batch._buffer.frame())
    assert per_row.n_buffered_ == 7


def test_rows_built_apart_equal_rows_cut_from_one_frame(credit):
    # a service builds each request's frame itself: new labels, new dtypes
    X = credit
    built = [
        pd.DataFrame({c: X[c].iloc[[i]].to_numpy() for c in X.columns}).astype(X.dtypes.to_dict())
        for i in range(WINDOW)
    ]
    monitor = _fed(X, built)
    _same_report(monitor.history_[0], monitor.detector_.detect(X.iloc[:WINDOW]))


def test_categories_in_another_order_keep_their_values(credit):
    # CategoricalDtype(["a", "b"]) == CategoricalDtype(["b", "a"]) for
    # unordered categories, but the codes mean other values: a window
    # mixing both orders must not read one's codes with the other's
    X = credit
    col = "housing"
    rows = [X.iloc[[i]] for i in range(WINDOW)]
    flipped = X[col].cat.reorder_categories(X[col].cat.categories[::-1])
    for i in range(0, WINDOW, 2):
        row = rows[i].copy()
        row[col] = flipped.iloc[[i]].to_numpy()
        row[col] = row[col].astype(flipped.dtype)
        rows[i] = row
    assert rows[0][col].dtype == rows[1][col].dtype  # == says the same
    monitor = _fed(X, rows)
    window = monitor.detector_.detect(X.iloc[:WINDOW])
    _same_report(monitor.history_[0], window)
    _same_report(monitor.history_[0], monitor.detector_.detect(pd.concat(rows)))


def test_a_dtype_change_mid_window_concatenates_as_pandas_does(credit):
    X = credit
    rows = [X.iloc[[i]] for i in range(WINDOW)]
    for i in range(10, 20):
        rows[i] = rows[i].astype({"age": "float64", "purpose": "str", "sex": object})
    monitor = _fed(X, rows)
    _same_report(monitor.history_[0], monitor.detector_.detect(pd.concat(rows)))


def test_nan_in_a_row_is_kept_as_missing(credit):
    X = credit
    rows = [X.iloc[[i]].astype({"age": "float64"}) for i in range(WINDOW)]
    rows[3].loc[rows[3].index[0], "age"] = np.nan
    rows[4].loc[rows[4].index[0], "housing"] = np.nan
    monitor = _fed(X, rows)
    report = monitor.history_[0]
    _same_report(report, monitor.detector_.detect(pd.concat(rows)))
    assert report.to_frame().set_index("feature").loc["age", "n_batch"].min() == WINDOW - 1


def _bad_rows(X):
    row = X.iloc[[5]]
    wrong_dtype = row.astype({"age": object})
    wrong_dtype.loc[wrong_dtype.index[0], "age"] = "forty"
    return {
        "missing column": row.drop(columns=["age"]),
        "extra column": row.assign(extra=1),
        "wrong dtype": wrong_dtype,
    }


@pytest.mark.parametrize("case", ["missing column", "extra column", "wrong dtype"])
def test_a_bad_row_is_refused_as_in_a_batch_and_the_window_goes_on(credit, case):
    X = credit
    bad = _bad_rows(X)[case]
    batch_monitor = DriftMonitor(warn=False).fit(X)
    with pytest.raises((ValueError, TypeError)) as batch_error:
        batch_monitor.transform(bad)
    monitor = _fed(X, [X.iloc[[i]] for i in range(10)])
    with pytest.raises(type(batch_error.value)) as row_error:
        monitor.transform(bad)
    assert str(row_error.value) == str(batch_error.value)
    assert monitor.n_buffered_ == 10  # the refused row was not kept
    for i in range(10, WINDOW):
        monitor.transform(X.iloc[[i]])
    _same_report(monitor.history_[0], monitor.detector_.detect(X.iloc[:WINDOW]))


def test_reordered_columns_are_handled_as_in_a_batch(credit):
    X = credit
    reordered = X.iloc[[5]][list(X.columns[::-1])]
    outcomes = []
    for monitor in (DriftMonitor(warn=False).fit(X), _fed(X, [X.iloc[[i]] for i in range(5)])):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                monitor.transform(reordered)
                error = None
            except (ValueError, TypeError) as exc:
                error = (type(exc), str(exc))
        outcomes.append((error, [str(w.message) for w in caught if "Drift" not in str(w.message)]))
    assert outcomes[0] == outcomes[1]


def test_the_caller_may_reuse_its_row_frame(credit):
    X = credit
    monitor = DriftMonitor(window=WINDOW, warn=False).fit(X)
    row = X.iloc[[0]].copy()
    for i in range(WINDOW):
        row.iloc[0] = X.iloc[i]  # one frame, refilled in place for each request
        monitor.transform(row)
    _same_report(monitor.history_[0], monitor.detector_.detect(X.iloc[:WINDOW]))


def test_an_open_fast_window_survives_skops(credit, tmp_path):
    X = credit
    rows = [X.iloc[[i]] for i in range(WINDOW + 25)]
    uninterrupted = _fed(X, rows)
    half = _fed(X, rows[: WINDOW + 10])
    path = tmp_path / "monitor.skops"
    sio.dump(half, path)
    trusted = [t for t in sio.get_untrusted_types(file=path) if t.startswith(TRUSTED)]
    loaded = sio.load(path, trusted=trusted)
    for row in rows[WINDOW + 10 :]:
        loaded.transform(row)
    assert loaded.n_buffered_ == uninterrupted.n_buffered_ == 25
    assert_frame_equal(loaded._buffer.frame(), uninterrupted._buffer.frame())
    for row in [X.iloc[[i]] for i in range(WINDOW + 25, 2 * WINDOW)]:
        loaded.transform(row)
        uninterrupted.transform(row)
    _same_report(loaded.history_[-1], uninterrupted.history_[-1])
