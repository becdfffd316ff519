"""Exceptions and warnings raised by mlpipe.

Each is a subclass of a builtin (``ValueError``, ``ImportError``,
``UserWarning``), so existing ``except`` clauses keep working.
"""

__all__ = [
    "CalibrationWarning",
    "DataQualityWarning",
    "DataValidationError",
    "DriftWarning",
    "FairnessWarning",
    "MissingExtraError",
    "StoreWriteWarning",
    "UntrustedTypesError",
    "VersionMismatchWarning",
]


class DataValidationError(ValueError):
    """A batch of data failed one or more checks.

    Raised by :meth:`mlpipe.validation.SchemaValidator.transform` (under
    ``on_error="raise"``, or ``"drop_rows"`` when dropping rows cannot repair
    the batch) once every check has run, so its message lists every problem of
    the batch and its ``report`` attribute holds them as data. It is a
    ``ValueError``, so existing ``except ValueError`` clauses keep working.

    Parameters
    ----------
    message : str
        A readable summary of every failed check.

    report : object, default=None
        The full report (a :class:`mlpipe.validation.ValidationReport`), kept
        so that code catching the error can inspect or log each failure.

    See Also
    --------
    mlpipe.validation.SchemaValidator : The pipeline step that raises it.
    mlpipe.validation.ValidationReport : The report carried as ``report``.
    DataQualityWarning : Issued instead under ``on_error="warn"``.

    Examples
    --------
    >>> import pandas as pd
    >>> from mlpipe.exceptions import DataValidationError
    >>> from mlpipe.validation import SchemaValidator
    >>> X = pd.DataFrame({"age": [25, 40, 33], "city": ["a", "b", "a"]})
    >>> validator = SchemaValidator().fit(X)
    >>> try:
    ...     validator.transform(pd.DataFrame({"age": [25, -4], "city": ["a", "z"]}))
    ... except DataValidationError as error:
    ...     print(error.report.to_frame()[["column", "check", "severity", "n_failed"]])
      column         check severity  n_failed
    0    age  out_of_range    error         1
    """

    def __init__(self, message, report=None):
        super().__init__(message)
        self.report = report


class MissingExtraError(ImportError):
    """An optional dependency is missing; the message names the extra to install.

    Raised when a feature needs a package of one of mlpipe's extras (``shap``
    and ``matplotlib`` for ``mlpipe[explain]``, ``tpot`` for
    ``mlpipe[automl]``) that cannot be imported, for example on
    ``import mlpipe.explain`` without the ``explain`` extra. It is an
    ``ImportError``, so existing ``except ImportError`` clauses keep working.

    See Also
    --------
    mlpipe.show_versions : Print which optional dependencies are installed.

    Examples
    --------
    >>> from mlpipe.exceptions import MissingExtraError
    >>> issubclass(MissingExtraError, ImportError)
    True
    """


class DriftWarning(UserWarning):
    """A batch drifted away from the reference distribution.

    Issued by :meth:`mlpipe.drift.DriftMonitor.transform` (unless
    ``warn=False``) for every batch whose :class:`~mlpipe.drift.DriftReport`
    found drift; the message is the report's summary. It is a ``UserWarning``,
    so it can be filtered, recorded or turned into an error with
    :mod:`warnings`.

    See Also
    --------
    mlpipe.drift.DriftMonitor : The pipeline step that issues it.
    mlpipe.drift.DriftReport : The report whose summary is the message.

    Examples
    --------
    >>> import warnings
    >>> import numpy as np
    >>> import pandas as pd
    >>> from mlpipe.drift import DriftMonitor
    >>> from mlpipe.exceptions import DriftWarning
    >>> rng = np.random.default_rng(0)
    >>> monitor = DriftMonitor().fit(pd.DataFrame({"x": rng.normal(0, 1, 500)}))
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always", DriftWarning)
    ...     _ = monitor.transform(pd.DataFrame({"x": rng.normal(3, 1, 500)}))
    >>> [w.category.__name__ for w in caught]
    ['DriftWarning']
    """


class FairnessWarning(UserWarning):
    """A fairness result rests on a group too small or too one-sided to judge.

    Issued by :func:`mlpipe.fairness.audit_fairness` when a group has fewer
    rows than ``min_group_size``, or no positive (or no negative) true label,
    so that its rates are noisy or undefined; and by
    :meth:`mlpipe.fairness.GroupThresholdClassifier.predict` for rows of a
    group not seen at fit, which get the population threshold. It is a
    ``UserWarning``.

    See Also
    --------
    mlpipe.fairness.audit_fairness : The audit that warns about small groups.
    mlpipe.fairness.GroupThresholdClassifier : Warns about unseen groups.

    Examples
    --------
    >>> import warnings
    >>> from mlpipe.exceptions import FairnessWarning
    >>> from mlpipe.fairness import audit_fairness
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always", FairnessWarning)
    ...     _ = audit_fairness([1, 0, 1, 1], [1, 0, 0, 1],
    ...                        sensitive_features=["a", "a", "b", "b"], n_boot=0)
    >>> [w.category.__name__ for w in caught]
    ['FairnessWarning']
    """


class DataQualityWarning(UserWarning):
    """Data was handled in a way the user should know about.

    For example, a column with no observed value at fit that an imputer fills
    with a constant instead of a learned statistic, or a batch that
    :class:`~mlpipe.validation.SchemaValidator` lets through under
    ``on_error="warn"`` (or trims under ``"drop_rows"``). It is a
    ``UserWarning``.

    See Also
    --------
    DataValidationError : Raised instead of warning under ``on_error="raise"``.
    mlpipe.impute.TypedImputer : Warns about columns with no observed value.

    Examples
    --------
    >>> import warnings
    >>> import numpy as np
    >>> import pandas as pd
    >>> from mlpipe.exceptions import DataQualityWarning
    >>> from mlpipe.impute import TypedImputer
    >>> X = pd.DataFrame({"a": [1.0, 2.0], "b": [np.nan, np.nan]})
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always", DataQualityWarning)
    ...     _ = TypedImputer().fit(X)
    >>> [w.category.__name__ for w in caught]
    ['DataQualityWarning']
    """


class UntrustedTypesError(TypeError):
    """A model file names types that loading does not trust.

    Raised by :func:`mlpipe.load` before any object of the file is built:
    the file would create a type that is neither mlpipe's own nor in skops'
    default trusted set (scikit-learn's estimators, numpy's and scipy's
    types), nor passed as ``trusted``. It is a ``TypeError``, like skops'
    ``UntrustedTypesFoundException``.

    Parameters
    ----------
    message : str
        Names the file and every untrusted type, and how to trust one.

    types : list of str, default=None
        The full names of the untrusted types, also kept as ``types``.

    See Also
    --------
    mlpipe.load : Loads a model file, trusting only known types.

    Examples
    --------
    >>> from mlpipe.exceptions import UntrustedTypesError
    >>> error = UntrustedTypesError("model.skops holds ['os.system']", ["os.system"])
    >>> isinstance(error, TypeError), error.types
    (True, ['os.system'])
    """

    def __init__(self, message, types=None):
        super().__init__(message)
        self.types = list(types or [])


class VersionMismatchWarning(UserWarning):
    """A model file was saved under other package versions than the running ones.

    Issued by :func:`mlpipe.load` when mlpipe, scikit-learn, numpy, scipy,
    pandas or skops run at another version than the file's manifest records.
    The model still loads; its outputs may differ from those it gave when
    saved. It is a ``UserWarning``.

    Parameters
    ----------
    message : str
        Names each package, its saved version and its running version.

    versions : dict, default=None
        ``{package: (saved version, running version)}`` of the packages that
        differ, also kept as ``versions``.

    See Also
    --------
    mlpipe.load : Issues it.
    mlpipe.read_manifest : The versions a file was saved under.

    Examples
    --------
    >>> from mlpipe.exceptions import VersionMismatchWarning
    >>> warning = VersionMismatchWarning("saved under numpy 1.26.4", {"numpy": ("1.26.4", "2.4.1")})
    >>> warning.versions["numpy"]
    ('1.26.4', '2.4.1')
    """

    def __init__(self, message, versions=None):
        super().__init__(message)
        self.versions = dict(versions or {})


class StoreWriteWarning(UserWarning):
    """A record of the serving path could not be written to its run store.

    Issued, once until :func:`mlpipe.monitor.wait_for_writes` is called, on
    the thread of a :class:`~mlpipe.validation.SchemaValidator` or
    :class:`~mlpipe.drift.DriftMonitor` whose store's writer failed (a full
    disk, a file that is not a store); the step goes on serving and later
    records are still tried. It is a ``UserWarning``.

    See Also
    --------
    mlpipe.monitor.wait_for_writes : Waits for the records and raises the error.
    mlpipe.monitor.RunStore : The store the records go to.

    Examples
    --------
    >>> import warnings
    >>> from mlpipe.exceptions import StoreWriteWarning
    >>> issubclass(StoreWriteWarning, UserWarning)
    True
    """


class CalibrationWarning(UserWarning):
    """Calibrated probabilities failed their reliability test on held-out data.

    Issued by :meth:`mlpipe.drift.PerformanceEstimator.fit` when the
    probabilities it calibrated, checked on folds of the calibration data the
    calibrator did not see, are not calibrated (for all rows, or for a group
    of a ``sensitive`` column): the performance it estimates from them may be
    wrong. It is a ``UserWarning``.

    See Also
    --------
    mlpipe.drift.PerformanceEstimator : Issues it.

    Examples
    --------
    >>> from mlpipe.exceptions import CalibrationWarning
    >>> issubclass(CalibrationWarning, UserWarning)
    True
    """
