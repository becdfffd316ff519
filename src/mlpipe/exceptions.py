"""Exceptions and warnings raised by mlpipe.

Each is a subclass of a builtin (``ValueError``, ``ImportError``,
``UserWarning``), so existing ``except`` clauses keep working.
"""

__all__ = [
    "DataQualityWarning",
    "DataValidationError",
    "DriftWarning",
    "FairnessWarning",
    "MissingExtraError",
]


class DataValidationError(ValueError):
    """A batch of data failed one or more checks.

    Parameters
    ----------
    message : str
        A readable summary of every failed check.

    report : object, default=None
        The full report (a :class:`mlpipe.validation.ValidationReport`), kept
        so that code catching the error can inspect or log each failure.
    """

    def __init__(self, message, report=None):
        super().__init__(message)
        self.report = report


class MissingExtraError(ImportError):
    """An optional dependency is missing; the message names the extra to install."""


class DriftWarning(UserWarning):
    """A batch drifted away from the reference distribution."""


class FairnessWarning(UserWarning):
    """A fairness audit found a disparity or a group too small to judge."""


class DataQualityWarning(UserWarning):
    """Data was handled in a way the user should know about (an all-missing
    column, a fallback statistic)."""
