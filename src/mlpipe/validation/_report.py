"""ValidationReport: every failed check of one batch, as a tidy table."""

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from mlpipe._report import Report

ROW = "row"
COLUMN = "column"

_FRAME_COLUMNS = [
    "column",
    "check",
    "level",
    "n_failed",
    "share",
    "examples",
    "rows",
    "message",
]


@dataclass(frozen=True)
class Failure:
    """One failed check.

    Parameters
    ----------
    column : str, int, tuple or None
        The column that failed (a tuple for a multi-column key, None for the
        column order).

    check : str
        The check's name, e.g. ``"out_of_range"``.

    n_failed : int
        Number of rows that fail it (all rows for a missing column).

    share : float
        ``n_failed`` over the number of rows in the batch.

    level : {"row", "column"}
        ``"row"`` when dropping the failing rows repairs the batch,
        ``"column"`` when it cannot (missing column, dtype change, ...).

    message : str
        What was expected and what was found.

    examples : list
        Up to three failing values.

    rows : list
        Row labels of those values.

    mask : ndarray of bool, default=None
        For a row-level failure, which rows of the batch fail (by position);
        see :meth:`ValidationReport.rows_of`.
    """

    column: object
    check: str
    n_failed: int
    share: float
    level: str
    message: str
    examples: list = field(default_factory=list)
    rows: list = field(default_factory=list)
    mask: object = field(default=None, compare=False, repr=False)

    def line(self):
        """The failure as one readable line."""
        where = "(columns)" if self.column is None else repr(self.column)
        text = f"- {where}: {self.check}: {self.n_failed} row(s) ({self.share:.1%}) "
        text += self.message
        if self.examples:
            shown = ", ".join(repr(v) for v in self.examples)
            text += f"; e.g. {shown} at row(s) {', '.join(map(repr, self.rows))}"
        return text


@dataclass
class ValidationReport(Report):
    """What a batch failed, one row per failed check.

    Produced by :class:`SchemaValidator` (kept as its ``last_report_``) and
    :meth:`Schema.validate`, and carried by
    :class:`~mlpipe.exceptions.DataValidationError`.

    Parameters
    ----------
    failures : list of Failure
        Every failed check, in the order they were run.

    n_rows : int
        Rows in the batch.

    n_columns : int
        Columns in the batch.

    n_dropped : int, default=0
        Rows removed by ``SchemaValidator(on_error="drop_rows")``.

    failing_rows : pandas.Index, default=None
        Labels of the rows that fail at least one row-level check.

    Examples
    --------
    >>> import pandas as pd
    >>> from mlpipe.validation import Schema
    >>> schema = Schema.infer(pd.DataFrame({"age": [25, 40, 31]}))
    >>> report = schema.validate(pd.DataFrame({"age": [30, -1, None]}))
    >>> report.passed
    False
    >>> report.to_frame()[["column", "check", "n_failed", "rows"]]
      column         check  n_failed rows
    0    age         nulls         1  [2]
    1    age  out_of_range         1  [1]
    """

    title = "Validation report"

    failures: list = field(default_factory=list)
    n_rows: int = 0
    n_columns: int = 0
    n_dropped: int = 0
    failing_rows: object = field(default=None, compare=False, repr=False)

    @property
    def passed(self):
        """Whether no check failed."""
        return not self.failures

    @property
    def columns(self):
        """The columns with at least one failure, in report order."""
        seen = []
        for f in self.failures:
            if f.column is not None and f.column not in seen:
                seen.append(f.column)
        return seen

    def rows_of(self, column, check=None):
        """Labels of the rows failing the row-level checks of ``column``.

        Parameters
        ----------
        column : str, int or tuple
            The column (a tuple for a multi-column key).

        check : str, default=None
            Only this check; all row-level checks of the column when None.

        Returns
        -------
        rows : pandas.Index
            Empty when nothing failed there.
        """
        index = getattr(self, "_index", None)
        if index is None:
            return pd.Index([])
        mask = np.zeros(len(index), dtype=bool)
        for f in self.failures:
            if f.column == column and f.mask is not None and check in (None, f.check):
                mask |= f.mask
        return index[mask]

    def to_frame(self):
        """One row per failed check.

        Returns
        -------
        frame : DataFrame
            Columns ``column``, ``check``, ``level``, ``n_failed``, ``share``,
            ``examples``, ``rows`` and ``message``; empty when the batch
            passed.
        """
        frame = pd.DataFrame(
            {
                name: pd.Series([getattr(f, name) for f in self.failures], dtype=object)
                for name in _FRAME_COLUMNS
            }
        )
        for name in ("check", "level", "message"):
            frame[name] = frame[name].astype("str")
        frame["n_failed"] = frame["n_failed"].astype("int64")
        frame["share"] = frame["share"].astype("float64")
        return frame

    def summary(self):
        """The verdict in one line."""
        if self.passed:
            return f"passed: {self.n_rows} row(s) x {self.n_columns} column(s), no check failed"
        n_bad = 0 if self.failing_rows is None else len(self.failing_rows)
        share = n_bad / self.n_rows if self.n_rows else 0.0
        text = (
            f"{len(self.failures)} failed check(s) in {len(self.columns)} "
            f"column(s); {n_bad} of {self.n_rows} row(s) fail a row check "
            f"({share:.1%})"
        )
        if self.n_dropped:
            text += f"; {self.n_dropped} row(s) dropped"
        return text

    def message(self):
        """The summary and one line per failure, as used in errors and warnings."""
        return "\n".join([self.summary()] + [f.line() for f in self.failures])

    def _plot(self, ax, **kwargs):
        labels = [
            f"{'(columns)' if f.column is None else f.column}: {f.check}" for f in self.failures
        ]
        counts = [f.n_failed for f in self.failures]
        ax.barh(np.arange(len(counts)), counts, **kwargs)
        ax.set_yticks(np.arange(len(counts)), labels)
        ax.invert_yaxis()
        ax.set_xlabel("failing rows")
        ax.set_title(self.title)
        return ax
