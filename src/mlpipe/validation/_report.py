"""ValidationReport: every failed check of one batch, as a tidy table."""

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from mlpipe._report import Report, html_table, report_html
from mlpipe.utils._plain import index_from_state, index_state, time_from_state, time_state
from mlpipe.utils._scalar import python_scalar

ROW = "row"
COLUMN = "column"

ERROR = "error"
WARNING = "warning"

_FRAME_COLUMNS = [
    "column",
    "check",
    "severity",
    "level",
    "n_failed",
    "share",
    "p_value",
    "examples",
    "rows",
    "message",
]


@dataclass(frozen=True)
class Failure:
    """One failed check.

    A frozen dataclass: which check failed on which column, how many rows
    fail it, whether dropping them repairs the batch (``level``), and a few
    failing values. A :class:`ValidationReport` holds the failures of a
    batch, in the order the checks ran, and shows them as the rows of
    :meth:`ValidationReport.to_frame`.

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

    severity : {"error", "warning"}, default="error"
        An error refuses the batch (``SchemaValidator`` raises, or drops the
        rows); a warning is reported and the batch passes. Rules (a missing
        column, a dtype change, a declared bound) are errors; a learned check
        gives an error or a warning by its p-value.

    p_value : float, default=None
        For a learned check, the probability of a batch at least this extreme
        under what was learned; None for a rule.

    reason : str, default=""
        For a row-level failure, what a failing row is told, without its
        value (e.g. ``"out of range [19, 75]"``); see
        :meth:`ValidationReport.row_reasons`.

    values : ndarray of object, default=None
        For a row-level failure, the failing values, in row order (one per
        row of ``mask``). Not kept when the report is saved.

    See Also
    --------
    ValidationReport : The report that holds the failures of a batch.
    Finding : One finding of the one-off data-quality checks.

    Examples
    --------
    >>> import pandas as pd
    >>> from mlpipe.validation import Schema
    >>> schema = Schema.infer(pd.DataFrame({"age": [25, 40, 31]}))
    >>> failure = schema.validate(pd.DataFrame({"age": [30, -1]})).failures[0]
    >>> failure.column, failure.check, failure.level, failure.n_failed
    ('age', 'out_of_range', 'row', 1)
    >>> failure.examples, failure.rows
    ([-1], [1])
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
    severity: str = ERROR
    p_value: float | None = None
    reason: str = ""
    values: object = field(default=None, compare=False, repr=False)

    def __getstate__(self):
        # Failing values and row labels may be pandas Timestamps, which skops
        # cannot save: a saved failure keeps them as numpy values. The values
        # of every failing row (an object array of anything) are not saved;
        # a loaded report's row reasons then omit the values.
        state = self.__dict__.copy()
        for name in ("examples", "rows"):
            state[name] = [time_state(v) for v in state[name]]
        state["values"] = None
        return state

    def __setstate__(self, state):
        state = {"reason": "", "values": None, **state}
        for name in ("examples", "rows"):
            state[name] = [time_from_state(v) for v in state[name]]
        self.__dict__.update(state)

    def row_reason(self, value=None):
        """Return what a row failing this check is told.

        Parameters
        ----------
        value : object, default=None
            The row's value; left out when None or missing.

        Returns
        -------
        reason : str
            ``"<column> <reason>: <value>"``, e.g.
            ``"age out of range [19, 75]: 999"``.
        """
        where = "(columns)" if self.column is None else str(self.column)
        text = f"{where} {self.reason or self.check}"
        if value is None or (np.ndim(value) == 0 and pd.isna(value)):
            return text
        shown = repr(value) if isinstance(value, str) else str(value)
        return f"{text}: {shown}"

    def line(self):
        """Return the failure as one readable line.

        Returns
        -------
        line : str
            ``"- <column>: <check>: <n> row(s) (<share>) <message>"``,
            followed by the example values and their rows when there are
            any; the lines of :meth:`ValidationReport.message`.
        """
        where = "(columns)" if self.column is None else repr(self.column)
        tag = "" if self.severity == ERROR else "[warning] "
        text = f"- {tag}{where}: {self.check}: {self.n_failed} row(s) ({self.share:.1%}) "
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

    See Also
    --------
    SchemaValidator : Checks every batch and keeps its report.
    Schema.validate : Checks one batch and returns its report.
    DataQualityReport : The findings of the one-off data-quality checks.

    Examples
    --------
    >>> import pandas as pd
    >>> from mlpipe.validation import Schema
    >>> schema = Schema.infer(pd.DataFrame({"age": [25, 40, 31]})).as_rules()
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

    # The row labels are pandas Indexes, which skops cannot persist: a saved
    # report (a SchemaValidator's last_report_) keeps them as plain data.
    _INDEXES = ("failing_rows", "_index")

    def __getstate__(self):
        state = self.__dict__.copy()
        for name in self._INDEXES:
            if isinstance(state.get(name), pd.Index):
                state[name] = index_state(state[name])
        return state

    def __setstate__(self, state):
        state = dict(state)
        for name in self._INDEXES:
            if isinstance(state.get(name), dict):
                state[name] = index_from_state(state[name])
        self.__dict__.update(state)

    def _require_row_masks(self, method):
        # The merged report of a dask batch keeps its failing rows' labels
        # (failing_rows) but no per-failure row masks: answering from it
        # would call every row fine.
        if getattr(self, "_dask_batch", False):
            raise ValueError(
                f"ValidationReport.{method}: this is the report of a dask batch, which "
                "keeps the failing rows' labels (failing_rows) but no row masks. Use "
                "SchemaValidator.row_reasons(dask_batch), a lazy dask DataFrame of "
                "every row's reasons, or validate a pandas batch."
            )

    @property
    def passed(self):
        """Whether no check gave an error (warnings may remain)."""
        return not self.errors

    @property
    def errors(self):
        """The failures of severity ``"error"``."""
        return [f for f in self.failures if f.severity == ERROR]

    @property
    def warnings(self):
        """The failures of severity ``"warning"``."""
        return [f for f in self.failures if f.severity == WARNING]

    @property
    def columns(self):
        """The columns with at least one failure, in report order."""
        seen = []
        for f in self.failures:
            if f.column is not None and f.column not in seen:
                seen.append(f.column)
        return seen

    def rows_of(self, column, check=None):
        """Return the labels of the rows failing the row-level checks of ``column``.

        Parameters
        ----------
        column : str, int or tuple
            The column (a tuple for a multi-column key).

        check : str, default=None
            Only this check; all row-level checks of the column when None.

        Returns
        -------
        rows : pandas.Index
            Labels from the batch's index; empty when nothing failed there.

        Examples
        --------
        >>> import pandas as pd
        >>> from mlpipe.validation import Schema
        >>> schema = Schema.infer(pd.DataFrame({"age": [25, 40, 31]})).as_rules()
        >>> report = schema.validate(pd.DataFrame({"age": [30, -1, None]}))
        >>> report.rows_of("age").tolist(), report.rows_of("age", "nulls").tolist()
        ([1, 2], [2])
        """
        self._require_row_masks("rows_of")
        index = getattr(self, "_index", None)
        if index is None:
            return pd.Index([])
        mask = np.zeros(len(index), dtype=bool)
        for f in self.failures:
            if f.column == column and f.mask is not None and check in (None, f.check):
                mask |= f.mask
        return index[mask]

    @property
    def batch_errors(self):
        """The errors that belong to no row, and so refuse every row.

        A missing column, a dtype change, a missing share too high for the
        batch's size: dropping rows cannot repair them.
        """
        return [f for f in self.errors if f.level != ROW or f.mask is None]

    def row_reasons(self):
        """Why each row of the batch is refused, aligned with its index.

        What a service answers one request at a time with: a row that passed
        can be predicted, a refused one gets its reasons. Only errors refuse
        (a warned row passes). An error that belongs to no row
        (:attr:`batch_errors`) refuses every row: ``batch_passed`` is False
        and its line, prefixed ``"batch: "``, ends every row's reasons.

        Returns
        -------
        reasons : DataFrame
            One row per row of the batch, with the batch's index (repeated
            labels and all), and the columns ``passed`` (bool), ``reasons``
            (str: the row's failures, ``"; "``-joined, ``""`` when it passed;
            each ``"<column> <reason>: <value>"``) and ``batch_passed``
            (bool, the same on every row).

        See Also
        --------
        SchemaValidator.row_reasons : Check a batch and return this frame.

        Examples
        --------
        >>> import pandas as pd
        >>> from mlpipe.validation import Schema
        >>> schema = Schema.infer(pd.DataFrame({"age": [25, 40, 31]})).as_rules()
        >>> report = schema.validate(pd.DataFrame({"age": [30, -1, None]}, index=[7, 8, 9]))
        >>> report.row_reasons()
           passed                                 reasons  batch_passed
        7    True                                                  True
        8   False         age out of range [25, 40]: -1.0          True
        9   False  age missing, where a value is required          True
        """
        self._require_row_masks("row_reasons")
        index = getattr(self, "_index", None)
        if index is None:
            index = pd.RangeIndex(self.n_rows)
        n = len(index)
        by_row = {}
        refused = np.zeros(n, dtype=bool)
        for f in self.errors:
            if f.level != ROW or f.mask is None:
                continue
            positions = np.flatnonzero(f.mask)
            refused[positions] = True
            values = f.values if f.values is not None else [None] * len(positions)
            for position, value in zip(positions.tolist(), values, strict=True):
                by_row.setdefault(position, []).append(f.row_reason(_plain(value)))
        batch = [f"batch: {f.line()[2:]}" for f in self.batch_errors]
        reasons = np.full(n, "; ".join(batch), dtype=object)
        for position, texts in by_row.items():
            reasons[position] = "; ".join(texts + batch)
        batch_passed = not batch
        return pd.DataFrame(
            {
                "passed": ~refused & batch_passed,
                "reasons": pd.Series(reasons, dtype="str"),
                "batch_passed": np.full(n, batch_passed),
            }
        ).set_axis(index, axis=0)

    def to_frame(self):
        """One row per failed check.

        Returns
        -------
        frame : DataFrame
            Columns ``column``, ``check``, ``severity``, ``level``,
            ``n_failed``, ``share``, ``p_value``, ``examples``, ``rows`` and
            ``message``; empty when nothing failed.
        """
        frame = pd.DataFrame(
            {
                name: pd.Series([getattr(f, name) for f in self.failures], dtype=object)
                for name in _FRAME_COLUMNS
            }
        )
        for name in ("check", "severity", "level", "message"):
            frame[name] = frame[name].astype("str")
        frame["n_failed"] = frame["n_failed"].astype("int64")
        frame["share"] = frame["share"].astype("float64")
        frame["p_value"] = pd.to_numeric(frame["p_value"]).astype("float64")
        return frame

    def summary(self):
        """Return the verdict in one line.

        Returns
        -------
        summary : str
            ``"passed: ..."`` with the batch's shape, or the numbers of failed
            checks, of failing columns and of rows failing a row check (and
            of rows dropped).
        """
        n_warn = len(self.warnings)
        if self.passed:
            text = f"passed: {self.n_rows} row(s) x {self.n_columns} column(s), "
            return text + (f"{n_warn} warning(s)" if n_warn else "no check failed")
        n_bad = 0 if self.failing_rows is None else len(self.failing_rows)
        share = n_bad / self.n_rows if self.n_rows else 0.0
        text = (
            f"{len(self.errors)} failed check(s) in "
            f"{len({f.column for f in self.errors if f.column is not None})} "
            f"column(s); {n_bad} of {self.n_rows} row(s) fail a row check "
            f"({share:.1%})"
        )
        if n_warn:
            text += f"; {n_warn} warning(s)"
        if self.n_dropped:
            text += f"; {self.n_dropped} row(s) dropped"
        return text

    def message(self):
        """Return the summary and one line per failure.

        This is the text of the errors and warnings of
        :class:`SchemaValidator`.

        Returns
        -------
        message : str
            :meth:`summary`, then :meth:`Failure.line` of every failure, one
            per line.
        """
        return "\n".join([self.summary()] + [f.line() for f in self.failures])

    def _repr_html_(self):
        frame = self.to_frame()
        frame["column"] = frame["column"].map(lambda c: "(columns)" if c is None else c)
        body = (
            html_table(frame, formats={"share": "{:.1%}"})
            if len(frame)
            else "<p><em>no check failed</em></p>"
        )
        return report_html(self.title, self.summary(), body, tone="good" if self.passed else "bad")

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


def _plain(value):
    """A failing value as a plain Python scalar (numpy values print as such)."""
    return python_scalar(value) if value is not None else None
