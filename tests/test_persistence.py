"""Every fitted public estimator can be saved with skops and loaded back
(issue 14, item 14).

skops writes numpy arrays, builtin containers and the types it is told to
trust, and refuses pandas objects ("no default __reduce__"). A fitted
SchemaValidator (its last_report_), GroupImputer, ReweighingClassifier,
GroupThresholdClassifier, PipelineSearch (its results tables) and a
DriftMonitor whose report table had been read could not be written. Each
public estimator (found by walking the package) is fitted here, written with
``skops.io.dumps``, and loaded trusting only the types ``get_untrusted_types``
names, which must be mlpipe's own, numpy's or scikit-learn's; the loaded
estimator must give the same outputs as the original.
"""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from numpy.testing import assert_array_equal
from pandas.testing import assert_frame_equal, assert_series_equal
from sklearn.base import clone

from mlpipe.impute import GroupImputer, TypedImputer
from mlpipe.validation import SchemaValidator
from tests._bad_input import clean_frame
from tests._fitted import PARAMS, fit, later_batch, outputs
from tests._registry import all_estimators

# Modules whose types a test may trust when loading: mlpipe's own classes and
# those of numpy and scikit-learn. Never pandas, never an arbitrary object.
TRUSTED_MODULES = ("mlpipe.", "numpy.", "sklearn.")
ESTIMATORS = all_estimators()
_batch = later_batch
_outputs = outputs


def _data():
    X, y = clean_frame()
    X.loc[X.index[[1, 5, 9]], "credit_amount"] = np.nan  # gaps for the imputers
    return X, y


def _fit(name, cls):
    X, y = _data()
    return fit(name, cls, X, y), X


def _assert_same(a, b):
    assert a.keys() == b.keys()
    for method, left in a.items():
        right = b[method]
        if isinstance(left, pd.DataFrame):
            assert_frame_equal(left, right)
        else:
            assert_array_equal(left, right)


def _load(data):
    untrusted = sio.get_untrusted_types(data=data)
    foreign = [t for t in untrusted if not t.startswith(TRUSTED_MODULES)]
    assert foreign == [], f"types that are not mlpipe's, numpy's or sklearn's: {foreign}"
    return sio.loads(data, trusted=untrusted)


def test_every_public_estimator_is_covered():
    names = {name for name, _ in ESTIMATORS}
    assert {
        "SchemaValidator",
        "GroupImputer",
        "ReweighingClassifier",
        "GroupThresholdClassifier",
        "DriftMonitor",
        "PipelineSearch",
    } <= names
    assert set(PARAMS) <= names


@pytest.mark.parametrize("name, cls", ESTIMATORS)
def test_skops_round_trip(name, cls):
    est, X = _fit(name, cls)
    before = {k: type(v) for k, v in vars(est).items()}
    data = sio.dumps(est)
    # Writing does not change the estimator (its tables stay tables).
    assert {k: type(v) for k, v in vars(est).items()} == before
    loaded = _load(data)
    assert type(loaded) is cls
    _assert_same(_outputs(est, X), _outputs(loaded, X))
    batch = _batch(X)
    try:
        expected = _outputs(est, batch)
    except ValueError:  # a validator refusing the batch refuses it loaded too
        with pytest.raises(ValueError):
            _outputs(loaded, batch)
    else:
        _assert_same(expected, _outputs(loaded, batch))


@pytest.mark.parametrize("name, cls", ESTIMATORS)
def test_pickle_round_trip_still_works(name, cls):
    est, X = _fit(name, cls)
    loaded = pickle.loads(pickle.dumps(est))
    _assert_same(_outputs(est, X), _outputs(loaded, X))


# -- what the loaded estimators hold, beyond their outputs ---------------------


def _round_trip(est):
    return _load(sio.dumps(est))


def test_validator_report_survives():
    est, _ = _fit("SchemaValidator", SchemaValidator)
    assert est.last_report_.failures and len(est.last_report_.failing_rows)
    loaded = _round_trip(est)
    assert loaded.last_report_ == est.last_report_
    assert loaded.schema_ == est.schema_
    pd.testing.assert_index_equal(loaded.last_report_.failing_rows, est.last_report_.failing_rows)
    assert_frame_equal(loaded.last_report_.to_frame(), est.last_report_.to_frame())
    for column in est.last_report_.columns:
        pd.testing.assert_index_equal(
            loaded.last_report_.rows_of(column), est.last_report_.rows_of(column)
        )


def test_monitor_history_survives():
    from mlpipe.drift import DriftMonitor

    est, _ = _fit("DriftMonitor", DriftMonitor)
    assert est.history_ and est.history_[-1].drift  # a report table exists
    loaded = _round_trip(est)
    assert len(loaded.history_) == len(est.history_)
    for a, b in zip(loaded.history_, est.history_, strict=True):
        assert_frame_equal(a.to_frame(), b.to_frame())
        assert a.summary() == b.summary()
    assert loaded.n_drifted_ == est.n_drifted_


def test_fairness_tables_survive():
    from mlpipe.fairness import GroupThresholdClassifier, ReweighingClassifier

    reweigh, _ = _fit("ReweighingClassifier", ReweighingClassifier)
    assert_frame_equal(_round_trip(reweigh).weights_, reweigh.weights_)
    thresholds, _ = _fit("GroupThresholdClassifier", GroupThresholdClassifier)
    assert_series_equal(_round_trip(thresholds).thresholds_, thresholds.thresholds_)


def test_group_statistics_survive():
    est, _ = _fit("GroupImputer", GroupImputer)
    loaded = _round_trip(est)
    assert loaded.group_statistics_.keys() == est.group_statistics_.keys()
    for column, table in est.group_statistics_.items():
        assert_series_equal(loaded.group_statistics_[column], table)


def _rich_frame(n=80, seed=0):
    """Datetime (naive and zone-aware), categorical and boolean columns, a
    zone-aware row index, with gaps."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {
            "group": rng.choice(["a", "b", "c"], n),
            "flag": rng.choice([True, False], n),
            "kind": pd.Categorical(rng.choice(["x", "y"], n)),
            "when": pd.date_range("2024-01-01", periods=n, freq="D"),
            "when_tz": pd.date_range("2024-01-01", periods=n, freq="7h", tz="US/Eastern"),
            "value": rng.normal(size=n),
        },
        index=pd.date_range("2020-01-01", periods=n, freq="h", tz="Europe/Oslo"),
    )
    gaps = X.index[[1, 3, 7, 11]]
    X.loc[gaps, ["kind", "when", "when_tz", "value"]] = np.nan
    X.loc[X["group"] == "c", "when_tz"] = pd.NaT
    return X


@pytest.mark.parametrize(
    "est",
    [
        TypedImputer(),
        TypedImputer(numeric_strategy="mean"),
        GroupImputer(by="group"),
        GroupImputer(by="flag", numeric_strategy="mean"),
        SchemaValidator(on_error="warn"),
    ],
    ids=["typed-median", "typed-mean", "group-str", "group-bool", "validator"],
)
def test_datetime_and_categorical_columns_round_trip(est):
    X = _rich_frame()
    later = X.copy()
    later["when"] = later["when"] + pd.Timedelta(days=3650)  # out of range
    later["when_tz"] = later["when_tz"] - pd.Timedelta(days=3650)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = clone(est).fit(X)
        expected = est.transform(later)
        loaded = _round_trip(est)
        assert_frame_equal(loaded.transform(later), expected)
    if isinstance(est, SchemaValidator):
        assert loaded.last_report_ == est.last_report_
        assert loaded.schema_ == est.schema_
        pd.testing.assert_index_equal(
            loaded.last_report_.failing_rows, est.last_report_.failing_rows
        )
