"""The base of every result people read: drift, fairness and validation reports.

A report is a small dataclass with three views: ``to_frame()`` (a tidy
DataFrame), ``_repr_html_()`` (rendered by notebooks) and, where a picture says
more, ``plot(ax=None)`` (matplotlib, imported only when called).

The HTML views share one table layout (:func:`html_table`): text columns
left-aligned, numbers right-aligned in one format per column, never wrapped,
and a wide table scrolls inside its own box instead of past the page.
"""

import html
import math
import numbers

import numpy as np
import pandas as pd

from mlpipe.utils._optional import import_optional

# The layout of a report's HTML, scoped to its block; a notebook gets it with
# each report, the demo's page once (see mlpipe._html).
REPORT_CSS = (
    ".mlpipe-report{margin:.8rem 0}"
    ".mlpipe-report .mlpipe-title{font-size:1.05rem;margin:.9rem 0 .2rem}"
    ".mlpipe-report .mlpipe-summary{margin:.2rem 0 .5rem}"
    ".mlpipe-report .mlpipe-summary.bad{color:#b00020}"
    ".mlpipe-report .mlpipe-summary.good{color:#2e7d32}"
    ".mlpipe-scroll{overflow-x:auto;max-width:100%}"
    ".mlpipe-table{border-collapse:collapse;font-size:.82rem;margin:.4rem 0}"
    ".mlpipe-table th,.mlpipe-table td{border:1px solid #d0d7de;padding:.2rem .45rem;"
    "text-align:left;vertical-align:top}"
    ".mlpipe-table th{background:#f6f8fa;font-weight:600}"
    ".mlpipe-table td.num,.mlpipe-table th.num{text-align:right}"
    ".mlpipe-table td.num{white-space:nowrap;font-variant-numeric:tabular-nums}"
    ".mlpipe-table td.short{white-space:nowrap}"
    ".mlpipe-table td.long{min-width:16rem}"
    ".mlpipe-caption{font-weight:600;font-size:.88rem;margin:.7rem 0 .1rem}"
)
REPORT_STYLE = f"<style>{REPORT_CSS}</style>"

# Columns holding p-values (or p-value cut-offs): shown as p-values.
P_VALUE_COLUMNS = frozenset({"p_value", "threshold", "pvalue"})
_NUM = ' class="num"'
# Text columns whose values are all at most this long are not wrapped.
SHORT_TEXT = 30


def format_p_value(value):
    """A p-value in a fixed width: three decimals, or two significant digits
    in scientific notation below 0.001 (``"0.412"``, ``"3.25e-07"``)."""
    if _missing(value):
        return ""
    if value == 0 or value >= 1e-3:
        return f"{value:.3f}"
    return f"{value:.2e}"


def _missing(value):
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, (float, np.floating)) and math.isnan(value)


def _is_number(value):
    return isinstance(value, numbers.Number) and not isinstance(value, bool)


def _text(value):
    if _missing(value):
        return ""
    if isinstance(value, (list, tuple, np.ndarray, pd.Index)):
        return ", ".join("missing" if _missing(v) else _text(v) for v in value)
    return str(value)


def column_format(name, series, decimals=3):
    """The format of one column: a callable from a value to its text, and
    whether the column is numeric (right-aligned).

    Integers as they are, p-values by :func:`format_p_value`, other floats
    with ``decimals`` decimals; booleans and everything else as text.
    """
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return (lambda v: "" if _missing(v) else ("yes" if v else "no")), False
    if pd.api.types.is_integer_dtype(dtype):
        return (lambda v: "" if _missing(v) else f"{int(v):d}"), True
    if pd.api.types.is_float_dtype(dtype):
        if name in P_VALUE_COLUMNS:
            return format_p_value, True
        return (lambda v: "" if _missing(v) else f"{v:.{decimals}f}"), True
    values = [v for v in series if not _missing(v)]
    if values and all(_is_number(v) for v in values):  # an object column of numbers
        if all(float(v).is_integer() for v in values):
            return (lambda v: "" if _missing(v) else f"{int(v):d}"), True
        return (lambda v: "" if _missing(v) else f"{float(v):.{decimals}f}"), True
    return _text, False


def html_table(frame, formats=None, caption=None, decimals=3):
    """A DataFrame as an HTML table laid out for reading.

    Parameters
    ----------
    frame : DataFrame
        The rows to show; the index is not shown.

    formats : dict, default=None
        ``{column: format}``, a format string (``"{:.1%}"``) or a callable,
        for the columns whose default (:func:`column_format`) does not fit.
        A column given a format is numeric (right-aligned).

    caption : str, default=None
        The table's caption.

    decimals : int, default=3
        Decimals of the float columns without a format.

    Returns
    -------
    html : str
        A ``<table class="mlpipe-table">`` in a ``<div class="mlpipe-scroll">``
        (after a ``<p class="mlpipe-caption">`` when there is a caption);
        numeric cells (and their headers) have the class ``num``.
    """
    formats = {} if formats is None else formats
    columns = []
    for name in frame.columns:
        if name in formats:
            fmt = formats[name]
            show = fmt if callable(fmt) else (lambda v, f=fmt: "" if _missing(v) else f.format(v))
            columns.append((show, True))
        else:
            columns.append(column_format(name, frame[name], decimals))
    head = "".join(
        f'<th{_NUM if numeric else ""} title="{html.escape(str(name))}">'
        f"{html.escape(str(name).replace('_', ' '))}</th>"
        for name, (_, numeric) in zip(frame.columns, columns, strict=True)
    )
    # A text column of short values (names, checks, lists of a few numbers)
    # stays on one line; long text (messages) wraps.
    classes = []
    for name, (show, numeric) in zip(frame.columns, columns, strict=True):
        if numeric:
            classes.append(_NUM)
        else:
            longest = max((len(show(v)) for v in frame[name]), default=0)
            classes.append(' class="short"' if longest <= SHORT_TEXT else ' class="long"')
    rows = []
    for values in frame.itertuples(index=False, name=None):
        cells = "".join(
            f"<td{css}>{html.escape(show(v))}</td>"
            for v, (show, _), css in zip(values, columns, classes, strict=True)
        )
        rows.append(f"<tr>{cells}</tr>")
    cap = f'<p class="mlpipe-caption">{html.escape(caption)}</p>' if caption else ""
    return (
        f'{cap}<div class="mlpipe-scroll"><table class="mlpipe-table">'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


def report_html(title, summary, body, tone=None):
    """The HTML block of a report: its title, its one-line verdict and its
    body (tables, notes), with the shared style.

    ``tone`` colours the verdict: ``"bad"`` (red), ``"good"`` (green) or None.
    """
    tone_class = f" {tone}" if tone else ""
    return (
        f'<div class="mlpipe-report">{REPORT_STYLE}'
        f'<h3 class="mlpipe-title">{html.escape(title)}</h3>'
        f'<p class="mlpipe-summary{tone_class}">{html.escape(summary)}</p>{body}</div>'
    )


class Report:
    """Base class of mlpipe's result objects.

    Subclasses are dataclasses that implement :meth:`to_frame` and may
    override :meth:`summary` and :meth:`_plot`.
    """

    title = "Report"

    def to_frame(self):
        """Return the report as a tidy :class:`pandas.DataFrame`."""
        raise NotImplementedError

    def summary(self):
        """Return a one-line verdict shown above the table."""
        return f"{len(self.to_frame())} row(s)"

    def __str__(self):
        frame = self.to_frame()
        body = frame.to_string(index=False) if len(frame) else "(empty)"
        return f"{self.title}: {self.summary()}\n{body}"

    def _repr_html_(self):
        frame = self.to_frame()
        table = html_table(frame) if len(frame) else "<p><em>(empty)</em></p>"
        return report_html(self.title, self.summary(), table)

    def plot(self, ax=None, **kwargs):
        """Plot the report with matplotlib.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Where to draw; a new figure is made when ``None``.

        **kwargs : dict
            Passed to the report's own drawing code.

        Returns
        -------
        ax : matplotlib Axes
            The Axes drawn on: ``ax`` itself, or the Axes of the new figure.
        """
        plt = import_optional("matplotlib.pyplot", purpose="plotting reports")
        if ax is None:
            _, ax = plt.subplots()
        self._plot(ax, **kwargs)
        return ax

    def _plot(self, ax, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} has no plot.")
